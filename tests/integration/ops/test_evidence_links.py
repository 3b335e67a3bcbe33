# SPDX-License-Identifier: GPL-2.0-or-later
"""Signed, expiring evidence links (gateway/evidence/evidence_url.c, docs/case-message.md "Signed
links") on the real daemon over HTTPS, with a bearer token configured: GET /evidence/<case>/<n>
with ?exp=<unix>&sig=<HMAC-SHA256 over "<path>\\n<exp>" keyed by evidence_url_key_file>, computed
here with Python's hmac as a platform would:

- a valid link serves the picture without the token;
- an expired one, one with a changed signature, one for another picture, one without sig, get 403
  with the reason, each counted by reason (agw_http_errors_total{reason="link_..."});
- without a link the token is still required (401), and with it the picture is served;
- signed links are for /evidence only: /api/status with a valid-looking sig still needs the token;
- a key file shorter than 32 bytes stops the start, naming the file.
"""
import hashlib
import hmac
import os
import sqlite3
import ssl
import subprocess
import time
import urllib.error
import urllib.request

from agwtest import ALARMGW, Gateway, check, finish, free_port, tempdir

work = tempdir("agw-links-")
state = os.path.join(work, "state")
os.makedirs(state)
replay = os.path.join(work, "alerts.jsonl")
with open(replay, "w") as f:
    f.write('{"camera": "cam-1", "kind": "motion", "active": true}\n')
TOKEN = "7a1c5e9f3b2d4c6e8a0f1b3d5c7e9a1f"
KEY = os.urandom(32).hex().encode()
for name, data, mode in (("http.token", TOKEN.encode() + b"\n", 0o640), ("url.key", KEY + b"\n", 0o640),
                         ("short.key", b"too short\n", 0o640)):
    with open(os.path.join(work, name), "wb") as f:
        f.write(data)
    os.chmod(os.path.join(work, name), mode)


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True, cwd=work, timeout=60)


sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "gw.key", "-out", "gw.pem", "-days", "2",
   "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
port = free_port()


def write_config(key_file):
    path = os.path.join(work, "alarmgw.conf")
    with open(path, "w") as f:
        f.write(f'gateway: {{ id = "links-gw"; state_dir = "{state}"; http_listen = "127.0.0.1:{port}"; '
                f'http_token_file = "http.token"; http_tls_cert = "gw.pem"; http_tls_key = "gw.key"; '
                f'evidence_url_key_file = "{key_file}"; }};\n'
                f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
                f'adapters: {{ replay: {{ file = "{replay}"; }}; }};\n')
    return path


p = subprocess.run([ALARMGW, "run", "-c", write_config("short.key")], capture_output=True, text=True, timeout=60)
check(p.returncode != 0 and "short.key" in p.stderr and "at least 32" in p.stderr,
      "a short key stops the start, naming the file (rc %d)" % p.returncode)

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"
ctx = ssl.create_default_context(cafile=os.path.join(work, "gw.pem"))


def get(path, token=None):
    req = urllib.request.Request(f"https://127.0.0.1:{port}{path}",
                                 headers={"Authorization": "Bearer " + token} if token else {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def link(path, exp):
    sig = hmac.new(KEY, f"{path}\n{exp}".encode(), hashlib.sha256).hexdigest()
    return f"{path}?exp={exp}&sig={sig}"


def errors(reason):
    _, body = get("/metrics", TOKEN)
    for line in body.decode().splitlines():
        if line.startswith('agw_http_errors_total{reason="%s"}' % reason):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


gw = Gateway(write_config("url.key")).start()
try:
    gw.wait_log(r"running: gateway links-gw")
    day = time.strftime("%Y-%m-%d", time.gmtime())
    os.makedirs(os.path.join(state, "evidence-cases", day), exist_ok=True)
    rel = f"evidence-cases/{day}/links-1.jpg"
    with open(os.path.join(state, rel), "wb") as f:
        f.write(JPEG)
    now_ms = int(time.time() * 1000)
    con = sqlite3.connect(os.path.join(state, "alarmgw.db"), timeout=10)
    with con:
        for n in (1, 2):
            con.execute("INSERT INTO evidence(case_id, n, camera_id, status, path, bytes, sha256, captured_gateway_time,"
                        " requested_at) VALUES(?,?,?,?,?,?,?,?,?)",
                        ("agw-links", n, "cam-1", "stored", rel, len(JPEG), "ab" * 32, now_ms, now_ms))
    con.close()
    exp = int(time.time()) + 300
    code, body = get(link("/evidence/agw-links/1", exp))
    check(code == 200 and body == JPEG, "a valid link serves the picture without the token (%d, %d bytes)" % (code, len(body)))
    code, _ = get("/evidence/agw-links/1")
    check(code == 401, "without a link the token is required: %d" % code)
    code, body = get("/evidence/agw-links/1", TOKEN)
    check(code == 200 and body == JPEG, "with the token: served (%d)" % code)
    bad = [
        (link("/evidence/agw-links/1", int(time.time()) - 60), "link_expired", b"expired"),
        (link("/evidence/agw-links/1", exp)[:-1] + "0" if not link("/evidence/agw-links/1", exp).endswith("0")
         else link("/evidence/agw-links/1", exp)[:-1] + "1", "link_signature", b"signature"),
        (link("/evidence/agw-links/2", exp).replace("/2?", "/1?"), "link_signature", b"signature"),
        ("/evidence/agw-links/1?exp=%d&sig=xyz" % exp, "link_malformed", b"needs exp"),
    ]
    before = {r: errors(r) for _, r, _ in bad}
    for path, reason, text in bad:
        code, body = get(path)
        check(code == 403 and text in body, "%s -> 403 %s: %r" % (reason, text.decode(), body.strip()[:80]))
    for reason in before:
        want = before[reason] + sum(1 for _, r, _ in bad if r == reason)
        check(errors(reason) == want, "counted as %s: %s" % (reason, errors(reason)))
    code, _ = get(link("/api/status", exp))
    check(code == 401, "a signature does not open /api/status: %d" % code)
    code, _ = gw.stop(timeout=20)
    check(code == 0, "the gateway stopped cleanly (%s)" % code)
finally:
    gw.kill()
finish()
