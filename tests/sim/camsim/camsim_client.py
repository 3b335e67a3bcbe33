# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers to run alarmgw-camsim and talk to it with hand-built SOAP (no ONVIF library).

Used by tests/integration/onvif/test_camsim_*.py; usable by any test that needs simulated cameras:

    with Camsim(cameras=3, auth="wsse", rate=1.0) as sim:
        cam = sim.client(0)
        sub = cam.create_subscription("PT60S")
        msgs = cam.pull(sub, timeout="PT5S", limit=10)
"""
import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import sys
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from simproc import HttpError, SimProcess  # noqa: E402,F401 (HttpError: for the tests)

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
PW_DIGEST = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
             "#PasswordDigest")


def binary():
    build = os.environ.get("AGW_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../../build"))
    return os.path.join(build, "tests/sim/camsim/alarmgw-camsim")


def rfc3339(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def wsse_digest(nonce, created, password):
    """PasswordDigest = Base64(SHA1(nonce + Created + password)), nonce as raw bytes."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def wsse_header(user, password, created_time=None, nonce=None):
    nonce = nonce if nonce is not None else os.urandom(16)
    created = rfc3339(created_time if created_time is not None else time.time())
    return ('<wsse:Security xmlns:wsse="%s" xmlns:wsu="%s" env:mustUnderstand="true"><wsse:UsernameToken>'
            '<wsse:Username>%s</wsse:Username><wsse:Password Type="%s">%s</wsse:Password>'
            '<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-'
            'security-1.0#Base64Binary">%s</wsse:Nonce><wsu:Created>%s</wsu:Created></wsse:UsernameToken>'
            '</wsse:Security>' % (NS["wsse"], NS["wsu"], user, PW_DIGEST, wsse_digest(nonce, created, password),
                                  base64.b64encode(nonce).decode(), created))


def envelope(body, header=""):
    return ('<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="%s" xmlns:wsa="%s" xmlns:tds="%s" '
            'xmlns:trt="%s" xmlns:tev="%s" xmlns:wsnt="%s"><env:Header>%s</env:Header><env:Body>%s</env:Body>'
            '</env:Envelope>' % (NS["env"], NS["wsa"], NS["tds"], NS["trt"], NS["tev"], NS["wsnt"], header, body))


def digest_authorization(challenge, method, uri, user, password, nc=1):
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.split(" ", 1)[1]))
    cnonce = uuid.uuid4().hex
    ha1 = hashlib.md5(("%s:%s:%s" % (user, fields["realm"], password)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    ncs = "%08x" % nc
    resp = hashlib.md5(("%s:%s:%s:%s:auth:%s" % (ha1, fields["nonce"], ncs, cnonce, ha2)).encode()).hexdigest()
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", qop=auth, nc=%s, cnonce="%s", '
            'response="%s", algorithm=MD5' % (user, fields["realm"], fields["nonce"], uri, ncs, cnonce, resp))


class Fault(Exception):
    def __init__(self, status, subcode, reason, text):
        super().__init__("HTTP %d fault %s: %s" % (status, subcode, reason))
        self.status, self.subcode, self.reason, self.text = status, subcode, reason, text


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status, self.headers, self.body, self.elapsed = status, headers, body, elapsed

    def xml(self):
        return ET.fromstring(self.body)


class CameraClient:
    """One keep-alive HTTP connection to one simulated camera."""

    def __init__(self, host, port, user="admin", password="admin", wsse=True, digest=False, timeout=60):
        self.host, self.port, self.user, self.password = host, port, user, password
        self.wsse, self.digest, self.timeout = wsse, digest, timeout
        self.clock_offset = 0.0  # camera clock minus ours, from GetSystemDateAndTime
        self.challenge = None
        self.nc = 0
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def raw(self, path, body, headers=None):
        """POSTs body; returns a Response whatever the status. Reconnects once if the connection went away."""
        data = body.encode() if isinstance(body, str) else body
        hdrs = {"Content-Type": "application/soap+xml; charset=utf-8"}
        hdrs.update(headers or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            t0 = time.monotonic()
            try:
                self.conn.request("POST", path, data, hdrs)
                r = self.conn.getresponse()
                payload = r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt:
                    raise
                continue
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return Response(r.status, r.headers, payload, time.monotonic() - t0)

    def call(self, path, body_xml, auth=True, extra_header=""):
        """A SOAP call with the configured auth; returns the parsed envelope or raises Fault/HttpError."""
        for _ in range(3):
            header = extra_header
            if auth and self.wsse:
                header += wsse_header(self.user, self.password, time.time() + self.clock_offset)
            headers = {}
            if auth and self.digest and self.challenge:
                self.nc += 1
                headers["Authorization"] = digest_authorization(self.challenge, "POST", path, self.user,
                                                                self.password, self.nc)
            r = self.raw(path, envelope(body_xml, header), headers)
            if r.status == 401 and auth and self.digest and "WWW-Authenticate" in r.headers:
                fresh = self.challenge is None or "stale=true" in r.headers["WWW-Authenticate"]
                self.challenge = r.headers["WWW-Authenticate"]
                self.nc = 0
                if fresh:
                    continue
            return self.check(r)
        return self.check(r)

    @staticmethod
    def check(r):
        text = r.body.decode("utf-8", "replace")
        if r.status == 200:
            return r.xml()
        if r.headers.get("Content-Type", "").startswith("application/soap+xml"):
            doc = ET.fromstring(r.body)
            sub = doc.find(".//env:Fault/env:Code/env:Subcode/env:Value", NS)
            reason = doc.find(".//env:Fault/env:Reason/env:Text", NS)
            raise Fault(r.status, sub.text if sub is not None else None,
                        reason.text if reason is not None else None, text)
        raise HttpError(r.status, text)

    # device service
    def system_time(self):
        doc = self.call("/onvif/device_service", "<tds:GetSystemDateAndTime/>", auth=False)
        d = doc.find(".//tt:UTCDateTime", NS)
        g = lambda p: int(d.find(p, NS).text)
        t = datetime.datetime(g("tt:Date/tt:Year"), g("tt:Date/tt:Month"), g("tt:Date/tt:Day"), g("tt:Time/tt:Hour"),
                              g("tt:Time/tt:Minute"), g("tt:Time/tt:Second"), tzinfo=datetime.timezone.utc)
        return t.timestamp()

    def sync_clock(self):
        self.clock_offset = self.system_time() - time.time()
        return self.clock_offset

    def device_information(self):
        doc = self.call("/onvif/device_service", "<tds:GetDeviceInformation/>")
        return {c.tag.split("}")[1]: c.text for c in doc.find(".//tds:GetDeviceInformationResponse", NS)}

    # events
    def create_subscription(self, itt="PT60S"):
        body = "<tev:CreatePullPointSubscription>%s</tev:CreatePullPointSubscription>" % (
            "<tev:InitialTerminationTime>%s</tev:InitialTerminationTime>" % itt if itt else "")
        doc = self.call("/onvif/event_service", body)
        return doc.find(".//tev:SubscriptionReference/wsa:Address", NS).text

    def _sub_call(self, address, action, body):
        u = urllib.parse.urlsplit(address)
        path = u.path + ("?" + u.query if u.query else "")
        header = "<wsa:Action>%s</wsa:Action><wsa:To>%s</wsa:To><wsa:MessageID>urn:uuid:%s</wsa:MessageID>" % (
            action, address.replace("&", "&amp;"), uuid.uuid4())
        return self.call(path, body, extra_header=header)

    def pull(self, address, timeout="PT5S", limit=100):
        doc = self._sub_call(address, "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest",
                             "<tev:PullMessages><tev:Timeout>%s</tev:Timeout><tev:MessageLimit>%d</tev:MessageLimit>"
                             "</tev:PullMessages>" % (timeout, limit))
        return [parse_notification(n) for n in doc.findall(".//wsnt:NotificationMessage", NS)]

    def renew(self, address, tt="PT60S"):
        doc = self._sub_call(address, "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest",
                             "<wsnt:Renew><wsnt:TerminationTime>%s</wsnt:TerminationTime></wsnt:Renew>" % tt)
        return doc.find(".//wsnt:TerminationTime", NS).text

    def unsubscribe(self, address):
        self._sub_call(address, "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeRequest",
                       "<wsnt:Unsubscribe/>")


def parse_notification(n):
    msg = n.find(".//tt:Message", NS)
    data = {i.get("Name"): i.get("Value") for i in msg.findall("tt:Data/tt:SimpleItem", NS)}
    return {"topic": n.find("wsnt:Topic", NS).text.strip(), "time": msg.get("UtcTime"),
            "operation": msg.get("PropertyOperation"), "data": data, "id": data.get("EventId")}


class Camsim(SimProcess):
    """Runs alarmgw-camsim on free loopback ports; stops it on exit (also on failure)."""

    name, noun = "camsim", "cameras"

    def __init__(self, cameras=1, auth="wsse", rate=0.0, extra=(), workdir="/tmp", user="admin", password="admin"):
        super().__init__(cameras)
        self.cameras, self.auth, self.rate, self.extra = cameras, auth, rate, list(extra)
        self.user, self.password = user, password
        self.dir = workdir
        self.events_log = os.path.join(workdir, "camsim-events-%d.jsonl" % os.getpid())
        self.ledger = os.path.join(workdir, "camsim-ledger-%d.csv" % os.getpid())

    def args(self):
        return [binary(), "-n", str(self.cameras), "-p", str(self.base_port), "--auth", self.auth,
                "--user", self.user, "--password", self.password, "--rate", str(self.rate),
                "--events-log", self.events_log, "--ledger", self.ledger,
                "--control-port", str(self.control_port)] + self.extra

    def client(self, i, **kw):
        kw.setdefault("user", self.user)
        kw.setdefault("password", self.password)
        kw.setdefault("wsse", self.auth in ("wsse", "both"))
        kw.setdefault("digest", self.auth in ("digest", "both"))
        return CameraClient("127.0.0.1", self.port(i), **kw)

    def control(self, cam, action, **args):
        q = urllib.parse.urlencode(args)
        return self.call("POST", "/cam/%s/%s%s" % (cam, action, "?" + q if q else ""))

    def stats(self, cam=None):
        return self.call("GET", "/stats" + ("?camera=%d" % cam if cam is not None else ""), check=False)

    def read_events_log(self):
        queued, dropped = {}, {}
        with open(self.events_log) as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # camsim is still writing it: the next read has it whole
                rec = json.loads(line)
                if "dropped" in rec:
                    dropped[rec["id"]] = rec["dropped"]
                elif "sent" not in rec:
                    queued[rec["id"]] = rec
        return queued, dropped

    def read_events_sent(self):
        """{id: record} of the events that left a queue in a PullMessages answer: record["sent"] is
        the kind of answer (ok, fault, malformed, oversized), record["written"] whether it reached
        the kernel (False: the client went away first), record["answer"] numbers the answer."""
        sent = {}
        with open(self.events_log) as f:
            for line in f:
                rec = json.loads(line)
                if "sent" in rec:
                    sent[rec["id"]] = rec
        return sent
