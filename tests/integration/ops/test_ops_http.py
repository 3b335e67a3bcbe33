#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The operations HTTP server (gateway/http/http.c) through agw-ops-httpd on a seeded store:
/metrics content and values, /healthz 200/503, /api/status, bad and oversized requests (400, 405,
408, 413) while the server keeps serving, the connection limit, and a clean stop.
The helpers here are also used by test_ops_page.py."""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import agwtest
from agwtest import BUILD

DRIVER = os.path.join(BUILD, "tests", "unit", "ops", "agw-ops-httpd")
T0 = int(time.time() * 1000)


def check(cond, what):
    """The ops tests stop at the first failed check: later steps build on earlier ones."""
    if not agwtest.check(cond, what):
        raise AssertionError(what)


def run_main(main):
    """The ops tests' entry point: main returns None or 0 (passed) or 77 (skipped, said why);
    a failed check ends the test with exit code 1."""
    try:
        rc = main()
    except AssertionError as e:
        print(f"FAILED: {e}")
        sys.exit(1)
    if not rc:
        print("PASS")
    sys.exit(rc or 0)


class Server:
    """agw-ops-httpd on db; stopped (and reaped) by stop() whatever happens."""

    def __init__(self, db, *extra, listen="127.0.0.1:0"):
        if not os.access(DRIVER, os.X_OK):
            raise AssertionError(f"{DRIVER} is missing: build the target agw-ops-httpd first")
        self.proc = subprocess.Popen([DRIVER, db, listen, *extra], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # the driver prints its port once it listens
        if not line.startswith("port "):
            self.stop()
            raise AssertionError(f"agw-ops-httpd did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.split()[1])

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read()
        return self.proc.returncode, err


def request(port, raw, timeout=15.0):
    """Sends raw bytes, returns (status code, headers dict, body bytes) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/1.1 "):
        return None, {}, data
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def held_open(sock):
    """True while the server keeps the connection open (nothing to read, no EOF, no reset)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)
        sock.settimeout(5)


def get(port, path, method="GET"):
    return request(port, f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n".encode())


def wait_for(fn, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if fn():
                return True
        except OSError:
            pass  # a server at its connection limit resets new connections: not yet
        time.sleep(0.05)
    check(False, what)


CAMERAS = [
    # id, name, protocol
    ("cam-gate", "Gate north", "onvif"),
    ("cam-yard", "Yard east", "onvif"),
    ("cam-lobby", "Lobby", "rtsp"),
    ("cam-roof", "Roof <b>west</b>", "onvif"),
    ("cam-silent", "Storage room", "rtsp"),
]
# camera, kind, active (None: a pulse), ms after T0, topic
ALERTS = [
    ("cam-gate", "motion", 1, 1000, "tns1:VideoSource/MotionAlarm"),
    ("cam-gate", "intrusion", 1, 4000, "tns1:RuleEngine/FieldDetector/ObjectsInside"),
    ("cam-yard", "camera_offline", 1, 2000, None),
    ("cam-lobby", "camera_offline", 1, 1000, None),
    ("cam-lobby", "camera_offline", 0, 2500, None),
    ("cam-lobby", "event_channel_lost", 1, 3000, None),
    ("cam-roof", "tamper", None, 5000, "tns1:VideoSource/GlobalSceneChange/ImagingService"),
]
CASES = [
    # id, camera, kind, cell, status, ms after T0
    ("gw1-0001", "cam-gate", "intrusion", "310104-011-003", "open", 4000),
    ("gw1-0002", "cam-roof", "tamper", "310104-011-007", "open", 5000),
    ("gw1-0003", "cam-gate", "motion", "310104-011-003", "closed", 1000),
]


def seed(db, outbox_age_ms=30000):
    """Writes cameras, alerts, cases and two outbox rows straight into a store the driver created."""
    con = sqlite3.connect(db, timeout=10)
    with con:
        for cid, name, proto in CAMERAS:
            con.execute("INSERT INTO cameras(id, name, vendor, protocol, address, updated_at) VALUES(?,?,?,?,?,?)",
                        (cid, name, "acme", proto, "192.0.2.10", T0))
        for cam, kind, active, dt, topic in ALERTS:
            con.execute("INSERT INTO alerts(camera_id, adapter, kind, active, gateway_time, topic, json) "
                        "VALUES(?,?,?,?,?,?,?)", (cam, "replay", kind, active, T0 + dt, topic, "{}"))
        for cid, cam, kind, cell, status, dt in CASES:
            con.execute("INSERT INTO cases(id, incident_key, camera_id, kind, cell_code, status, priority, count,"
                        " opened_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?)",
                        (cid, cid, cam, kind, cell, status, 2, 1, T0 + dt, T0 + dt))
        now = int(time.time() * 1000)
        con.execute("INSERT INTO outbox(topic, payload, case_id, created_at) VALUES(?,?,?,?)",
                    ("agw/cases/a", b"{}", "gw1-0001", now - outbox_age_ms))
        con.execute("INSERT INTO outbox(topic, payload, case_id, created_at) VALUES(?,?,?,?)",
                    ("agw/cases/b", b"{}", "gw1-0002", now - 1000))
    con.close()


def parse_metrics(text):
    values, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            check(name not in types, f"one TYPE line for {name}")
            types[name] = kind
        elif line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            values[key] = float(value)
    return values, types


def main():
    tmp = tempfile.mkdtemp(prefix="agw-ops-http-")
    db = os.path.join(tmp, "alarmgw.db")
    srv = Server(db, "--metric", 'agw_parse_errors_total{adapter="onvif",reason="xml"}=7',
                 "--metric", "agw_mqtt_connected=1")
    idle = []
    try:
        port = srv.port
        print(f"agw-ops-httpd on 127.0.0.1:{port}, store {db}")
        seed(db)

        code, hdr, body = get(port, "/healthz")
        check(code == 200 and body == b"ok\n", f"/healthz healthy -> 200 ok (got {code} {body!r})")
        srv.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: get(port, "/healthz")[0] == 503, "/healthz unhealthy -> 503")
        srv.proc.send_signal(signal.SIGUSR2)
        wait_for(lambda: get(port, "/healthz")[0] == 200, "/healthz healthy again -> 200")

        code, hdr, body = get(port, "/metrics")
        check(code == 200, "/metrics -> 200")
        check(hdr.get("content-type", "").startswith("text/plain; version=0.0.4"), "Prometheus content type")
        check(int(hdr.get("content-length", -1)) == len(body), "Content-Length matches the body")
        values, types = parse_metrics(body.decode())
        for state, n in (("offline", 1), ("channel_lost", 1), ("online", 2), ("unknown", 1)):
            key = f'agw_cameras{{state="{state}"}}'
            check(values.get(key) == n, f"{key} == {n} (got {values.get(key)})")
        check(values.get('agw_cases{status="open"}') == 2, "agw_cases{status=open} == 2")
        check(values.get('agw_cases{status="closed"}') == 1, "agw_cases{status=closed} == 1")
        check(values.get("agw_outbox_depth") == 2, "agw_outbox_depth == 2")
        age = values.get("agw_outbox_oldest_age_seconds", -1)
        check(29 <= age < 120, f"agw_outbox_oldest_age_seconds ~30 (got {age})")
        check(values.get("agw_journal_last_seq") == len(ALERTS), "agw_journal_last_seq == alerts seeded")
        check(values.get('agw_parse_errors_total{adapter="onvif",reason="xml"}') == 7,
              "process counters from agw_metrics_foreach are served")
        check(types.get("agw_parse_errors_total") == "counter" and types.get("agw_mqtt_connected") == "gauge",
              "TYPE counter for *_total, gauge otherwise")
        check(values.get('agw_http_responses_total{code="503"}', 0) >= 1, "HTTP responses are counted by code")

        code, hdr, body = get(port, "/api/status")
        check(code == 200 and hdr.get("content-type") == "application/json", "/api/status -> 200 JSON")
        st = json.loads(body)
        states = {c["id"]: c["state"] for c in st["cameras"]}
        check(states == {"cam-gate": "online", "cam-yard": "offline", "cam-lobby": "channel_lost",
                         "cam-roof": "online", "cam-silent": "unknown"}, f"camera states {states}")
        check([c["id"] for c in st["recent_cases"]] == ["gw1-0002", "gw1-0001", "gw1-0003"], "recent cases, newest first")
        check(len(st["recent_alerts"]) == len(ALERTS) and st["recent_alerts"][0]["camera"] == "cam-roof",
              "recent alerts, newest first")
        check(st["outbox"]["depth"] == 2, "outbox depth in JSON")
        check(st["cameras_matched"] == 5, "no filter: every camera matches")
        # The page's filters and paging on /api/status, computed by the server.
        for query, want in (("state=offline", ["cam-yard"]), ("q=LOBBY", ["cam-lobby"]),
                            ("state=problem", ["cam-yard", "cam-lobby", "cam-silent"]),
                            ("state=online&limit=1&offset=1", ["cam-roof"]), ("q=nothing-like-it", [])):
            code, _, body = get(port, "/api/status?" + query)
            got = [c["id"] for c in json.loads(body)["cameras"]] if code == 200 else code
            check(got == want, f"/api/status?{query} -> {want} ({got})")
        code, _, body = get(port, "/api/status?state=online&limit=1")
        check(code == 200 and json.loads(body)["cameras_matched"] == 2, "cameras_matched counts past the page")
        for query in ("limit=0", "limit=501", "offset=-1", "q=%zz", "q=%00", "q=" + "x" * 200):
            code, _, body = get(port, "/api/status?" + query)
            check(code == 400, f"/api/status?{query[:20]} -> 400 ({code} {body[:80]!r})")

        code, hdr, body = get(port, "/", method="HEAD")
        check(code == 200 and body == b"" and int(hdr["content-length"]) > 1000, "HEAD / -> headers only")
        code, hdr, body = get(port, "/nothing-here")
        check(code == 404, "unknown path -> 404")
        code, hdr, body = get(port, "/metrics", method="DELETE")
        check(code == 405 and hdr.get("allow") == "GET, HEAD", "DELETE -> 405 with Allow")

        bad = [
            (b"GARBAGE\r\n\r\n", 400, "request line without target"),
            (b"GET / HTTP/9.9\r\n\r\n", 400, "unknown HTTP version"),
            (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400, "header without a colon"),
            (b"GET /\x00 HTTP/1.1\r\n\r\n", 400, "NUL byte"),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400, "malformed Content-Length"),
            (b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413, "a request body"),
            (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 413, "a chunked body"),
            (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 413, "a 9 KB request head"),
            (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", 413, "a 20 KB request line"),
        ]
        for raw, want, what in bad:
            code, hdr, body = request(port, raw)
            check(code == want, f"{what} -> {want} (got {code})")
            code, _, _ = get(port, "/healthz")
            check(code == 200, f"... and the server still serves /healthz")

        # A request that never completes gets 408 after the request timeout; others are served meanwhile.
        slow = socket.create_connection(("127.0.0.1", port), timeout=30)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        t = time.monotonic()
        code, _, _ = get(port, "/healthz")
        check(code == 200 and time.monotonic() - t < 5, "a slow client does not hold up other requests")
        data = b""
        while True:
            chunk = slow.recv(4096)
            if not chunk:
                break
            data += chunk
        slow.close()
        check(data.startswith(b"HTTP/1.1 408"), f"an incomplete request gets 408 (got {data[:20]!r})")

        # The connection limit: 64 idle connections fill it, the next is closed at once. A connection
        # the server is still lingering on (the 408 above) holds a slot for up to 2 s, so fill the
        # limit until all 64 idle ones are held open by the server, then try one more.
        for attempt in range(5):
            for _ in range(64):
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            time.sleep(0.3)
            if all(held_open(s) for s in idle):
                break
            for s in idle:
                s.close()
            idle.clear()
            time.sleep(1.0)
        check(len(idle) == 64, "64 idle connections held open by the server")
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            got = extra.recv(100)
        except ConnectionResetError:
            got = b""
        extra.close()
        check(got == b"", "the 65th connection is closed without an answer")
        for s in idle:
            s.close()
        idle.clear()
        wait_for(lambda: get(port, "/healthz")[0] == 200, "served again once the idle connections are gone")

        code, _, body = get(port, "/metrics")
        values, _ = parse_metrics(body.decode())
        check(values.get('agw_http_errors_total{reason="bad_request"}', 0) >= 5, "bad requests are counted")
        check(values.get('agw_http_errors_total{reason="too_large"}', 0) >= 4, "oversized requests are counted")
        check(values.get('agw_http_errors_total{reason="busy"}', 0) >= 1, "connections over the limit are counted")
        check(values.get('agw_http_errors_total{reason="timeout"}', 0) >= 1, "timeouts are counted")

        # Listen addresses: IPv6 loopback, and addresses that are refused with a reason.
        if socket.has_ipv6:
            try:
                with socket.socket(socket.AF_INET6) as probe:
                    probe.bind(("::1", 0))
                have_v6 = True
            except OSError:
                have_v6 = False
            if have_v6:
                v6 = Server(db, listen="[::1]:0")
                try:
                    with socket.create_connection(("::1", v6.port), timeout=10) as c6:
                        c6.sendall(f"GET /healthz HTTP/1.1\r\nHost: [::1]:{v6.port}\r\n\r\n".encode())
                        data = c6.recv(4096)
                    check(data.startswith(b"HTTP/1.1 200"), "[::1]:0 serves over IPv6")
                finally:
                    v6.stop()
            else:
                print("note: no IPv6 loopback here; [::1] not tried")
        for bad in ("127.0.0.1", "nohost:80", "127.0.0.1:99999", "[::1:80"):
            r = subprocess.run([DRIVER, db, bad], capture_output=True, text=True, timeout=20)
            check(r.returncode == 1 and "http_listen" in r.stderr, f"listen address {bad!r} refused with a reason")
        r = subprocess.run([DRIVER, db, f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=20)
        check(r.returncode == 1 and "cannot listen" in r.stderr, "a port in use is refused with a reason")

        # The network surface: security headers, the Host check (DNS rebinding), the bearer token.
        code, hdr, body = get(port, "/table")
        csp = hdr.get("content-security-policy", "")
        check(code == 200 and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
              and "script-src" not in csp and "unsafe-eval" not in csp, f"the table's CSP runs no script, no framing ({csp})")
        code, hdr, body = get(port, "/")
        csp = hdr.get("content-security-policy", "")
        check(code == 200 and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
              and "script-src 'self';" in csp and "unsafe" not in csp and "http" not in csp,
              f"the page's CSP runs its own script only, loads nothing from elsewhere, no framing ({csp})")
        for path in ("/", "/table", "/api/status", "/api/summary", "/static/app.js", "/metrics", "/nothing-here"):
            code, hdr, _ = get(port, path)
            check(hdr.get("x-frame-options") == "DENY" and hdr.get("x-content-type-options") == "nosniff"
                  and hdr.get("referrer-policy") == "no-referrer" and "frame-ancestors 'none'" in
                  hdr.get("content-security-policy", ""), f"{path}: X-Frame-Options, nosniff, no-referrer, CSP")
        code, _, body = request(port, f"GET /api/status HTTP/1.1\r\nHost: rebound.example:{port}\r\n"
                                f"Origin: http://rebound.example:{port}\r\n\r\n".encode())
        check(code == 421 and b"cases" not in body, f"a rebound Host name gets 421, no data (got {code})")
        code, _, _ = request(port, f"GET /api/status HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
        check(code == 200, "Host localhost:<port> is served")
        code, _, body = get(port, "/metrics")
        values, _ = parse_metrics(body.decode())
        check(values.get('agw_http_errors_total{reason="host"}', 0) >= 1, "foreign Host names are counted")

        token_file = os.path.join(tmp, "http.token")
        token = "4f1c9a0e5b7d2c3a8e6f1b0d9c7a5e3f"
        with open(token_file, "w") as f:
            f.write(token + "\n")
        os.chmod(token_file, 0o600)
        r = subprocess.run([DRIVER, db, "0.0.0.0:0"], capture_output=True, text=True, timeout=20)
        check(r.returncode == 1 and "http_token_file" in r.stderr, "off loopback without a token: refused to start")
        r = subprocess.run([DRIVER, db, "0.0.0.0:0", "--token-file", token_file], capture_output=True, text=True,
                           timeout=20)
        check(r.returncode == 1 and "http_hosts" in r.stderr, "off loopback without Host names: refused to start")
        short = os.path.join(tmp, "short.token")
        with open(short, "w") as f:
            f.write("secret\n")
        r = subprocess.run([DRIVER, db, "127.0.0.1:0", "--token-file", short], capture_output=True, text=True,
                           timeout=20)
        check(r.returncode == 1 and "16" in r.stderr, "a short token is refused")
        remote = Server(db, "--token-file", token_file, "--hosts", "status.example, 127.0.0.1", listen="0.0.0.0:0")
        try:
            rp = remote.port
            auth = f"Authorization: Bearer {token}\r\n"
            code, hdr, _ = request(rp, f"GET /api/status HTTP/1.1\r\nHost: status.example:{rp}\r\n\r\n".encode())
            check(code == 401 and hdr.get("www-authenticate", "").startswith("Bearer"), f"no token -> 401 (got {code})")
            code, _, _ = request(rp, f"GET /api/status HTTP/1.1\r\nHost: status.example\r\n"
                                 f"Authorization: Bearer {token[:-1]}0\r\n\r\n".encode())
            check(code == 401, f"a wrong token -> 401 (got {code})")
            code, _, body = request(rp, f"GET /api/status HTTP/1.1\r\nHost: status.example:{rp}\r\n{auth}\r\n".encode())
            check(code == 200 and json.loads(body)["outbox"]["depth"] == 2, f"the token -> 200 (got {code})")
            code, _, _ = request(rp, f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{rp}\r\n{auth}\r\n".encode())
            check(code == 200, "a configured name with any port is served")
            code, _, _ = request(rp, f"GET /metrics HTTP/1.1\r\nHost: localhost:{rp}\r\n{auth}\r\n".encode())
            check(code == 421, "configured names replace the loopback ones")
            code, _, _ = request(rp, b"GET /healthz HTTP/1.1\r\nHost: status.example\r\n\r\n")
            check(code == 200, "/healthz needs no token (load balancers probe it)")
            for path in ("/", "/static/app.js", "/api/summary", "/api/cameras", "/api/events"):
                code, _, _ = request(rp, f"GET {path} HTTP/1.1\r\nHost: status.example\r\n\r\n".encode())
                check(code == 401, f"{path} needs the token too ({code})")
            sse = socket.create_connection(("127.0.0.1", rp), timeout=5)
            sse.sendall(f"GET /api/events HTTP/1.1\r\nHost: status.example\r\n{auth}\r\n".encode())
            head = sse.recv(4096)
            check(head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head, "live updates with the token")
            idle.append(sse)  # still open when the server stops
        finally:
            rc, err = remote.stop()
            check(token not in err, "the token is never logged")

        # The map without Leaflet: said at start and where the map would be; the rest works.
        bare = Server(db, "--leaflet-dir", os.path.join(tmp, "no-leaflet"))
        try:
            code, _, body = get(bare.port, "/static/leaflet.js")
            check(code == 404 and b"libjs-leaflet" in body, f"no Leaflet: 404 naming the package ({code} {body[:80]!r})")
            code, _, body = get(bare.port, "/api/summary")
            check(code == 200 and json.loads(body)["map"] is False, "the summary says the map cannot be drawn")
            code, _, _ = get(bare.port, "/static/app.js")
            check(code == 200, "the page's own files are compiled in")
        finally:
            rc, err = bare.stop()
            check(rc == 0 and "libjs-leaflet" in err, "the missing Leaflet is logged at start")
        code, _, body = get(port, "/static/leaflet.js")
        check(code == 200 and len(body) > 100000 and b".L={}" in body[:400], "Debian's Leaflet is served")
        # A tile server: its origin, and only it, may give the page images.
        tiles = Server(db, "--tile-url", "https://{s}.tiles.example:8443/{z}/{x}/{y}.png")
        try:
            _, hdr, _ = get(tiles.port, "/")
            csp = hdr.get("content-security-policy", "")
            check("img-src 'self' data: https://*.tiles.example:8443;" in csp, f"the tile origin in img-src ({csp})")
            code, _, body = get(tiles.port, "/api/summary")
            check(json.loads(body)["tile_url"].startswith("https://{s}.tiles.example"), "the page gets the tile URL")
        finally:
            tiles.stop()
        for zone in ("Mars/Olympus", "../../etc/passwd", "Asia"):
            r = subprocess.run([DRIVER, db, "127.0.0.1:0", "--time-zone", zone], capture_output=True, text=True, timeout=20)
            check(r.returncode == 1 and "http_time_zone" in r.stderr, f"time zone {zone!r} refused with a reason")
        for bad in ("javascript:alert(1)", "https://x.example';script-src *", "ftp://tiles/{z}"):
            r = subprocess.run([DRIVER, db, "127.0.0.1:0", "--tile-url", bad], capture_output=True, text=True, timeout=20)
            check(r.returncode == 1 and "http_tile_url" in r.stderr, f"tile URL {bad!r} refused with a reason")

        # Stopping with a connection open still closes everything and exits cleanly (ASan checks leaks).
        idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        rc, err = srv.stop()
        check(rc == 0, f"agw-ops-httpd stops cleanly on SIGTERM (rc {rc}) {err[-500:] if rc else ''}")
    finally:
        for s in idle:
            s.close()
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
