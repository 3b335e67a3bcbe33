#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Ready signed links in evidence entries (evidence.url_base, docs/case-message.md "Signed links")
with the real daemon, camsim (ONVIF snapshots with Digest), a real mosquitto speaking MQTT 5 and
the real status server, fetched with urllib as a platform would:

- every entry of every case message that has or will have a picture carries url and url_expires;
  the url serves camsim's JPEG without the bearer token (a pending one once it is stored);
- every picture's MQTT 5 user properties carry url and url_expires, and the url serves its payload;
- the expiry is the message's writing plus evidence.url_lifetime;
- a tampered link and an expired one (signed by the platform with the shared key, exp past) get
  403 with the reason; the same link re-signed by the platform with a fresh exp is served;
- the reference consumer (examples/consumer, --pictures links, Debian's python3-paho-mqtt) takes
  every case's picture by its link, without subscribing to the evidence topics.
"""
import hashlib
import hmac
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime

from agwtest import SOURCE, Gateway, Mosquitto, check, finish, free_port, spawn, tempdir, wait_for
from test_evidence import FREE, JPEG, Subscriber

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
from camsim_client import Camsim  # noqa: E402

LIFETIME_S = 600
PY = "/usr/bin/python3"  # Debian's python, where python3-paho-mqtt installs
CONSUMER = os.path.join(SOURCE, "examples", "consumer", "consumer.py")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def fetch_stored(url):
    """A pending picture's link answers 404 until the picture is stored: poll a little."""
    return wait_for(lambda: (lambda r: r if r[0] != 404 else None)(get(url)), "picture behind " + url, timeout=10)


def rfc3339_s(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=None).timestamp() - time.timezone


def main():
    for tool in ("mosquitto", "mosquitto_sub"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            print("skipped: %s is not installed" % tool)
            sys.exit(77)
    work = tempdir("agw-evlinks-")
    key = os.urandom(32).hex().encode()
    with open(os.path.join(work, "url.key"), "wb") as f:
        f.write(key + b"\n")
    state = os.path.join(work, "state")
    os.makedirs(state)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    with Camsim(cameras=3, auth="both", rate=0.4, extra=["--mix", "intrusion=1"], workdir=work) as sim:
        broker = Mosquitto(work).start()
        sub = Subscriber(work, broker)
        conf = os.path.join(work, "alarmgw.conf")
        with open(conf, "w") as f:
            f.write('gateway: { id = "gw-links"; state_dir = "%s"; http_listen = "127.0.0.1:%d";'
                    ' evidence_url_key_file = "url.key"; };\n' % (state, port))
            f.write('cameras: { ledger = "%s"; };\nmqtt: { uri = "%s"; version = "5"; };\n' % (sim.ledger, broker.uri))
            f.write('evidence: { min_interval = "0s"; url_base = "%s/"; url_lifetime = "%ds"; %s };\n'
                    % (base, LIFETIME_S, FREE))
            f.write('adapters: { onvif: { request_timeout = "3s"; pull_timeout = "1s"; backoff_min = "200ms"; }; };\n')
        gw = Gateway(conf).start()
        gw.wait_log(r"running: gateway gw-links")
        consumer = None
        if subprocess.run([PY, "-c", "import paho.mqtt.client"], capture_output=True).returncode == 0:
            consumer = spawn([PY, "-u", CONSUMER, "--broker", "127.0.0.1:%d" % broker.port, "--gateway", "gw-links",
                              "--store", os.path.join(work, "platform"), "--pictures", "links", "--link-key",
                              os.path.join(work, "url.key")], stdout=open(os.path.join(work, "consumer.log"), "w"),
                             stderr=subprocess.STDOUT)
        time.sleep(10)
        msgs = sub.messages()
        cases = [m for m in msgs if "/cases/" in m["topic"]]
        pics = [m for m in msgs if "/evidence/" in m["topic"]]
        check(len(cases) >= 3 and len(pics) >= 3, "the run made case messages (%d) and pictures (%d)"
              % (len(cases), len(pics)))
        entries, bad = [], []
        for m in cases:
            at = time.time()
            for e in __import__("json").loads(m["payload"])["evidence"]:
                if e["status"] in ("stored", "pending"):
                    entries.append(e)
                elif e.get("url") is not None:
                    bad.append(e)
        check(entries and not bad, "entries with a picture (%d) carry a link, the others none (%s)"
              % (len(entries), bad[:1]))
        wrong = [e for e in entries if not re.fullmatch(re.escape(base) + r"/evidence/[^/?]+/\d+\?exp=\d+&sig=[0-9a-f]{64}",
                                                        e.get("url") or "")]
        check(not wrong, "each link is <url_base>/evidence/<case>/<n>?exp=&sig= (wrong: %s)" % wrong[:1])
        exp_ok = [e for e in entries if abs(int(re.search(r"exp=(\d+)", e["url"]).group(1)) - rfc3339_s(e["url_expires"])) < 1
                  and 0 < rfc3339_s(e["url_expires"]) - at + 30 <= LIFETIME_S + 60]
        check(len(exp_ok) == len(entries), "url_expires is the link's exp, about url_lifetime ahead (%d of %d)"
              % (len(exp_ok), len(entries)))
        served = [fetch_stored(e["url"]) for e in entries[:12]]
        check(all(s == (200, JPEG) for s in served), "case message links serve camsim's JPEG without the token: %s"
              % [(c, len(b)) for c, b in served if (c, b) != (200, JPEG)][:2])
        served = [(get(m["user"].get("url", "")), m) for m in pics[:12]]
        check(all(r == (200, m["payload"]) for r, m in served) and
              all(m["user"].get("url_expires") for m in pics),
              "every picture's user properties carry a link to its payload and the expiry (%d)" % len(pics))
        link = entries[0]["url"]
        path = link[len(base):link.index("?")]
        tampered = link[:-1] + ("0" if link[-1] != "0" else "1")
        code, body = get(tampered)
        check(code == 403 and b"signature" in body, "a tampered link gets 403 (%d %s)" % (code, body[:60]))

        def sign(exp):
            sig = hmac.new(key, ("%s\n%d" % (path, exp)).encode(), hashlib.sha256).hexdigest()
            return "%s%s?exp=%d&sig=%s" % (base, path, exp, sig)
        code, body = get(sign(int(time.time()) - 5))
        check(code == 403 and b"expired" in body, "an expired link gets 403 saying so (%d %s)" % (code, body[:60]))
        code, body = get(sign(int(time.time()) + 300))
        check(code == 200 and body == JPEG, "the platform re-signs an expired link with the shared key: served (%d)" % code)
        if consumer:
            want = {(m_case, e["n"]) for m_case, e in
                    ((__import__("json").loads(m["payload"])["case_id"], e) for m in cases
                     for e in __import__("json").loads(m["payload"])["evidence"]) if e["status"] in ("stored", "pending")}

            def have():
                got = {(c, int(n)) for c in os.listdir(os.path.join(work, "platform", "evidence"))
                       for n in os.listdir(os.path.join(work, "platform", "evidence", c)) if n.isdigit()}
                return got if want <= got else None
            got = wait_for(have, "the consumer's pictures by link", timeout=15)
            same = all(open(os.path.join(work, "platform", "evidence", c, str(n)), "rb").read() == JPEG for c, n in got)
            consumer.terminate()
            consumer.wait(timeout=20)
            last = open(os.path.join(work, "consumer.log")).read().strip().splitlines()[-1]
            check(same and '"pictures_by_link": %d' % len(got) in last,
                  "the reference consumer took every picture by its link (%d), without the evidence topics: %s"
                  % (len(got), last))
        else:
            print("consumer part skipped: python3-paho-mqtt is not installed")
        code, _ = gw.stop(timeout=30)
        check(code == 0, "the gateway stopped cleanly (%s)" % code)
        sub.stop()
        broker.stop()
    finish()


if __name__ == "__main__":
    main()
