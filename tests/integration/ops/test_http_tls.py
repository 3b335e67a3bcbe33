# SPDX-License-Identifier: GPL-2.0-or-later
"""HTTPS on the status server (gateway.http_tls_cert, http_tls_key; gateway/http/http_tls.c), with a
throw-away CA made here by `openssl req`:

- curl and Python's ssl module verify the gateway's certificate against that CA and get /healthz,
  /metrics and /api/status over TLS 1.2 and 1.3; a client that does not know the CA refuses it;
- what cannot complete a handshake is counted (agw_http_errors_total{reason="tls_handshake"}) and
  closed: a plain HTTP request, a TLS 1.1 client, a client that sends nothing (closed at the
  request timeout, not held);
- a key that does not match the certificate, or a missing file, stops `alarmgw run` with the file
  named.
"""
import os
import socket
import ssl
import subprocess
import time
import urllib.request

from agwtest import ALARMGW, Gateway, check, finish, free_port, tempdir

work = tempdir("agw-https-")
state = os.path.join(work, "state")
os.makedirs(state)
replay = os.path.join(work, "alerts.jsonl")
with open(replay, "w") as f:
    f.write('{"camera": "cam-1", "kind": "motion", "active": true}\n')


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True, cwd=work, timeout=60)


# the CA, and a server certificate for 127.0.0.1 signed by it
sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
   "-subj", "/CN=alarmgw test CA")
sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "gw.key", "-out", "gw.csr", "-subj", "/CN=127.0.0.1")
with open(os.path.join(work, "san.ext"), "w") as f:
    f.write("subjectAltName = IP:127.0.0.1\n")
sh("openssl", "x509", "-req", "-in", "gw.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
   "gw.pem", "-days", "2", "-extfile", "san.ext")
sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.csr", "-subj", "/CN=x")
port = free_port()


def write_config(cert, key):
    path = os.path.join(work, "alarmgw.conf")
    with open(path, "w") as f:
        f.write(f'gateway: {{ id = "tls-gw"; state_dir = "{state}"; http_listen = "127.0.0.1:{port}"; '
                f'http_tls_cert = "{cert}"; http_tls_key = "{key}"; }};\n'
                f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
                f'adapters: {{ replay: {{ file = "{replay}"; }}; }};\n')
    return path


for cert, key, named in (("gw.pem", "other.key", "http_tls_key"), ("missing.pem", "gw.key", "missing.pem")):
    p = subprocess.run([ALARMGW, "run", "-c", write_config(cert, key)], capture_output=True, text=True, timeout=60)
    check(p.returncode != 0 and named in p.stderr, "%s/%s refused, naming %s (rc %d): %s"
          % (cert, key, named, p.returncode, [l for l in p.stderr.splitlines() if named in l][:1]))

gw = Gateway(write_config("gw.pem", "gw.key")).start()
try:
    gw.wait_log(r"running: gateway tls-gw")
    base = f"https://127.0.0.1:{port}"
    r = subprocess.run(["curl", "-sS", "--cacert", os.path.join(work, "ca.pem"), "-o", "/dev/null", "-w", "%{http_code}",
                        base + "/healthz"], capture_output=True, text=True, timeout=30)
    check(r.stdout == "200", "curl verifies the certificate against the CA: /healthz %s %s" % (r.stdout, r.stderr))
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", base + "/healthz"], capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "certificate" in r.stderr, "without the CA curl refuses it: %s" % r.stderr.strip())
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = ssl.create_default_context(cafile=os.path.join(work, "ca.pem"))
        ctx.minimum_version = ctx.maximum_version = version
        with urllib.request.urlopen(base + "/api/status", context=ctx, timeout=10) as resp:
            body = resp.read()
            check(resp.status == 200 and body.startswith(b"{"), "%s: /api/status over HTTPS (%d bytes)"
                  % (version.name, len(body)))

    def handshake_failures():
        ctx = ssl.create_default_context(cafile=os.path.join(work, "ca.pem"))
        with urllib.request.urlopen(base + "/metrics", context=ctx, timeout=10) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith('agw_http_errors_total{reason="tls_handshake"}'):
                    return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = handshake_failures()
    check(before >= 1, "curl's refusal was a failed handshake, counted: %s" % before)
    # plain HTTP on the TLS port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            answer = s.recv(100)
        except OSError:
            answer = b""
        check(not answer.startswith(b"HTTP/"), "plain HTTP gets no answer in the clear: %r" % answer[:20])
    # TLS 1.1
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(work, "ca.pem"))
    try:
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
                check(False, "a TLS 1.1 handshake succeeded")
    except (ssl.SSLError, OSError) as e:
        check(True, "TLS 1.1 refused: %s" % e)
    # a client that says nothing: closed at the request timeout (10 s), counted
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        try:
            closed = s.recv(10) == b""
        except OSError:
            closed = True
    took = time.monotonic() - t0
    check(closed and 9 <= took <= 15, "a silent client is closed after the handshake deadline (%.1f s)" % took)
    after = handshake_failures()
    check(after >= before + 3, "plain HTTP, TLS 1.1 and the silent client: failed handshakes counted (%s -> %s)"
          % (before, after))
    code, _ = gw.stop(timeout=20)
    check(code == 0, "the gateway stopped cleanly (%s)" % code)
finally:
    gw.kill()
finish()
