# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers to run alarmgw-vendorsim, read a device's stream without any alarmgw code, and reconcile
a gateway's journal against the simulator's events log.

    with Vendorsim("isapi", devices=3, rate=1.0, workdir=tmp) as sim:
        s = sim.stream(0)                    # Digest handshake, then the multipart body
        parts = s.read_parts(5, timeout=10)  # [(headers dict, body bytes), ...]
        log = sim.read_log()
        rec = log.reconcile({"hik-00001-1", ...})
"""
import hashlib
import json
import os
import re
import socket
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from simproc import HttpError, SimProcess  # noqa: E402,F401 (HttpError: for the tests)

ISAPI_PATH = "/ISAPI/Event/notification/alertStream"
DAHUA_PATH = "/cgi-bin/eventManager.cgi?action=attach&codes=[All]&heartbeat=%d"


def binary():
    build = os.environ.get("AGW_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../../build"))
    return os.path.join(build, "tests/sim/vendorsim/alarmgw-vendorsim")


def digest_authorization(challenge, method, uri, user, password, nc=1):
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.split(" ", 1)[1]))
    cnonce = uuid.uuid4().hex
    ha1 = hashlib.md5(("%s:%s:%s" % (user, fields["realm"], password)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    ncs = "%08x" % nc
    resp = hashlib.md5(("%s:%s:%s:%s:auth:%s" % (ha1, fields["nonce"], ncs, cnonce, ha2)).encode()).hexdigest()
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", qop=auth, nc=%s, cnonce="%s", '
            'response="%s", algorithm=MD5' % (user, fields["realm"], fields["nonce"], uri, ncs, cnonce, resp))


class Stream:
    """A raw socket on one device: the request, the answer's head, then the body as it comes."""

    def __init__(self, port, target, user="admin", password="admin", authorization=None, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.target = target
        req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (target, port)
        if authorization:
            req += "Authorization: %s\r\n" % authorization
        self.sock.sendall((req + "\r\n").encode())
        self.status, self.headers, self.body_prefix = self._head()
        self.user, self.password = user, password

    def _fill(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.time()))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        return data

    def _head(self, timeout=10):
        deadline = time.time() + timeout
        while b"\r\n\r\n" not in self.buf:
            data = self._fill(deadline)
            if not data:
                raise HttpError(0, "no complete answer head: %r" % self.buf[:200])
            self.buf += data
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return status, headers, None

    def read_body(self, n):
        """The answer's body of Content-Length n (a 401, 404, 503)."""
        deadline = time.time() + 10
        while len(self.buf) < n:
            data = self._fill(deadline)
            if not data:
                break
            self.buf += data
        body, self.buf = self.buf[:n], self.buf[n:]
        return body

    def read_for(self, seconds):
        """Everything the stream delivers within seconds; also returns whether the device closed it."""
        deadline = time.time() + seconds
        closed = False
        while time.time() < deadline:
            data = self._fill(deadline)
            if data is None:
                continue
            if data == b"":
                closed = True
                break
            self.buf += data
        out, self.buf = self.buf, b""
        return out, closed

    def close(self):
        self.sock.close()


def open_stream(port, target, user="admin", password="admin"):
    """A stream with the Digest handshake done (a new connection for the second request)."""
    s = Stream(port, target)
    if s.status != 401:
        return s
    challenge = s.headers["www-authenticate"]
    s.close()
    return Stream(port, target, user, password, digest_authorization(challenge, "GET", target, user, password))


def split_parts(body, boundary, lf=False):
    """The parts of a multipart body read the strict way: (headers, content) by Content-Length."""
    parts = []
    delim = ("--" + boundary).encode()
    i = 0
    while True:
        j = body.find(delim, i)
        if j < 0:
            break
        k = j + len(delim)
        end = body.find(b"\n\n" if lf else b"\r\n\r\n", k)
        if end < 0:
            break
        head = body[k:end].decode("latin-1").strip().replace("\r", "").split("\n")
        headers = {}
        for line in head:
            if ":" in line:
                a, b = line.split(":", 1)
                headers[a.strip().lower()] = b.strip()
        start = end + (2 if lf else 4)
        n = int(headers.get("content-length", "-1"))
        if n < 0 or start + n > len(body):
            break
        parts.append((headers, body[start:start + n]))
        i = start + n
    return parts


class Log:
    """The events log read back: edges (id -> record), parts (id -> [records]), streams."""

    def __init__(self, path):
        self.edges, self.parts, self.streams = {}, {}, []
        if not os.path.exists(path):
            return
        with open(path) as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # still being written
                rec = json.loads(line)
                if "stream" in rec:
                    self.streams.append(rec)
                elif "fate" in rec:
                    self.parts.setdefault(rec["id"], []).append(rec)
                else:
                    self.edges[rec["id"]] = rec

    def written(self):
        """Ids with at least one part completely handed to a stream: what a gateway must journal."""
        return {i for i, ps in self.parts.items() if any(p["fate"] == "written" for p in ps)}

    def fate(self, i):
        """Why an id is not among written(): its parts' fates, or that no stream was there."""
        ps = self.parts.get(i)
        if not ps:
            return "no stream was open when it happened"
        return ", ".join("%s in answer %d (post %d%s)" % (p["fate"], p["answer"], p["post"],
                                                            ": " + p["reason"] if "reason" in p else "")
                         for p in ps)

    def reconcile(self, journaled, among=None):
        """Compares journaled ids with written(): returns (missing, phantom, lines) where lines name every
        missing id with what the log says about it. among limits both sides to a set of ids."""
        expected = self.written()
        if among is not None:
            expected &= among
            journaled = journaled & among
        missing = sorted(expected - journaled)
        phantom = sorted(journaled - expected)
        lines = ["missing %s (%s): written to %s" % (i, self.edges.get(i, {}).get("type", "?"),
                                                       self.fate(i)) for i in missing]
        lines += ["journaled but never completely written %s: %s" % (i, self.fate(i)) for i in phantom]
        return missing, phantom, lines


class Vendorsim(SimProcess):
    """Runs alarmgw-vendorsim on free loopback ports; stops it on exit (also on failure)."""

    name, noun = "vendorsim", "devices"

    def __init__(self, protocol, devices=1, rate=0.0, extra=(), workdir="/tmp", user="admin", password="admin",
                 id_prefix=None):
        super().__init__(devices)
        self.protocol, self.devices, self.rate, self.extra = protocol, devices, rate, list(extra)
        self.user, self.password = user, password
        self.prefix = id_prefix or ("hik" if protocol == "isapi" else "dh")
        self.dir = workdir
        self.events_log = os.path.join(workdir, "vendorsim-%s-events-%d.jsonl" % (self.prefix, os.getpid()))
        self.ledger = os.path.join(workdir, "vendorsim-%s-ledger-%d.csv" % (self.prefix, os.getpid()))

    def args(self):
        return [binary(), "--protocol", self.protocol, "-n", str(self.devices), "-p", str(self.base_port),
                "--user", self.user, "--password", self.password, "--rate", str(self.rate),
                "--events-log", self.events_log, "--ledger", self.ledger,
                "--control-port", str(self.control_port), "--id-prefix", self.prefix] + self.extra

    def device_id(self, i):
        return "%s-%05d" % (self.prefix, i + 1)

    def target(self, heartbeat=1):
        return ISAPI_PATH if self.protocol == "isapi" else DAHUA_PATH % heartbeat

    def stream(self, i, heartbeat=1):
        return open_stream(self.port(i), self.target(heartbeat), self.user, self.password)

    def control(self, dev, action, **args):
        q = urllib.parse.urlencode(args)
        return self.call("POST", "/dev/%s/%s%s" % (dev, action, "?" + q if q else ""))

    def stats(self, dev=None):
        return self.call("GET", "/stats" + ("?device=%d" % dev if dev is not None else ""))

    def read_log(self):
        self.call("GET", "/flush") if self.proc else None
        return Log(self.events_log)
