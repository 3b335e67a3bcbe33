#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""GET /evidence/<case>/<n> through agw-ops-httpd with a token and a state directory: the
picture a stored row names is served (bytes, type, cache headers, ETag); the same protections as
/api/status (401 without the token, 421 for a foreign Host); a URL is only ever a key into the
store (400 for "..", a '/' or a NUL in the case id, a non-numeric or zero number; a row naming a
file outside evidence-cases/ is not served); 404 with the reason for an unknown case, a number
the case does not have, a failed capture, a pruned picture, a pending one, and a file gone from
disk."""
import os
import sqlite3
import tempfile
import time

from test_ops_http import Server, check, request, run_main, seed

TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8 + b"\xff\xd9"  # what is served is checked by bytes only


def evidence_rows(db, state):
    day = time.strftime("%Y-%m-%d", time.gmtime())
    os.makedirs(os.path.join(state, "evidence-cases", day), exist_ok=True)
    rel = f"evidence-cases/{day}/gw1-0001-1.jpg"
    with open(os.path.join(state, rel), "wb") as f:
        f.write(JPEG)
    gone = f"evidence-cases/{day}/gw1-0001-5.jpg"
    now = int(time.time() * 1000)
    rows = [
        # case, n, status, reason, path, bytes
        ("gw1-0001", 1, "stored", None, rel, len(JPEG)),
        ("gw1-0001", 2, "failed", "timeout after 5000 ms", None, None),
        ("gw1-0001", 3, "pruned", None, None, len(JPEG)),
        ("gw1-0001", 4, "pending", None, None, None),
        ("gw1-0001", 5, "stored", None, gone, len(JPEG)),
        ("gw1-0001", 6, "stored", None, "evidence-cases/../../etc/passwd", 100),
        ("gw1-0001", 7, "stored", None, rel, len(JPEG) + 1),
    ]
    con = sqlite3.connect(db, timeout=10)
    with con:
        for case, n, status, reason, path, size in rows:
            con.execute("INSERT INTO evidence(case_id, n, camera_id, status, reason, path, bytes, sha256,"
                        " captured_gateway_time, requested_at) VALUES(?,?,?,?,?,?,?,?,?,?)",
                        (case, n, "cam-gate", status, reason, path, size, "ab" * 32 if path else None, now, now))
    con.close()


def get(port, path, token=TOKEN, host="127.0.0.1", method="GET"):
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return request(port, f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode())


def main():
    tmp = tempfile.mkdtemp(prefix="agw-ops-evidence-")
    db, state = os.path.join(tmp, "alarmgw.db"), os.path.join(tmp, "state")
    token_file = os.path.join(tmp, "http.token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(token_file, 0o640)
    srv = Server(db, "--token-file", token_file, "--state-dir", state)
    try:
        port = srv.port
        seed(db)
        evidence_rows(db, state)

        code, hdr, body = get(port, "/evidence/gw1-0001/1")
        check(code == 200 and body == JPEG, f"a stored picture -> 200 and its bytes ({code}, {len(body)} bytes)")
        check(hdr.get("content-type") == "image/jpeg", f"image/jpeg ({hdr.get('content-type')})")
        check(hdr.get("cache-control") == "private, max-age=86400, immutable",
              f"kept by this browser only ({hdr.get('cache-control')})")
        check(hdr.get("etag") == '"' + "ab" * 32 + '"', f"the ETag is the stored SHA-256 ({hdr.get('etag')})")
        check(hdr.get("x-content-type-options") == "nosniff", "nosniff")
        code, hdr, body = get(port, "/evidence/gw1%2D0001/1", method="HEAD")
        check(code == 200 and body == b"" and hdr.get("content-length") == str(len(JPEG)),
              f"HEAD with a %-escaped id -> 200, headers only ({code})")

        code, hdr, body = get(port, "/evidence/gw1-0001/1", token=None)
        check(code == 401 and "bearer" in hdr.get("www-authenticate", "").lower() and JPEG not in body,
              f"without the token -> 401 ({code})")
        code, _, body = get(port, "/evidence/gw1-0001/1", token="wrong" + TOKEN[5:])
        check(code == 401 and JPEG not in body, f"a wrong token -> 401 ({code})")
        code, _, body = get(port, "/evidence/gw1-0001/1", host="rebound.example")
        check(code == 421 and JPEG not in body, f"a foreign Host -> 421 ({code})")

        for path, what in [("/evidence/../1", "'..' as the case id"), ("/evidence/%2e%2e/1", "an escaped '..'"),
                           ("/evidence/gw1-0001/../../etc/passwd", "'..' after the id"),
                           ("/evidence/a%2Fb/1", "an escaped '/'"), ("/evidence/a%00b/1", "a NUL"),
                           ("/evidence/gw1-0001/one", "a non-numeric number"), ("/evidence/gw1-0001/0", "number 0"),
                           ("/evidence/gw1-0001/1x", "digits and more"), ("/evidence/gw1-0001/", "no number"),
                           ("/evidence/gw1-0001", "no number and no '/'"), ("/evidence/%zz/1", "a bad escape"),
                           ("/evidence/" + "x" * 200 + "/1", "a case id longer than 128 bytes")]:
            code, _, body = get(port, path)
            check(code == 400, f"{what}: {path[:40]} -> 400 ({code} {body[:80]!r})")

        cases = [("/evidence/nope/1", 404, b"no case nope"),
                 ("/evidence/gw1-0002/1", 404, b"case gw1-0002 has 0 pictures"),
                 ("/evidence/gw1-0001/9", 404, b"has 7 pictures, not a number 9"),
                 ("/evidence/gw1-0001/2", 404, b"capture failed: timeout after 5000 ms"),
                 ("/evidence/gw1-0001/3", 404, b"was pruned"),
                 ("/evidence/gw1-0001/4", 404, b"still being captured"),
                 ("/evidence/gw1-0001/5", 404, b"gone from the state directory"),
                 ("/evidence/gw1-0001/6", 500, b"unexpected file"),
                 ("/evidence/gw1-0001/7", 500, b"the store says")]
        for path, want, reason in cases:
            code, hdr, body = get(port, path)
            check(code == want and reason in body and hdr.get("cache-control") == "no-store",
                  f"{path} -> {want} saying {reason.decode()!r} (got {code} {body[:120]!r})")

        code, _, body = get(port, "/api/status")
        check(code == 200, f"the server still serves /api/status after all that ({code})")
        code, _, body = get(port, "/metrics")
        check(b'agw_http_errors_total{reason="bad_evidence_url"} 12' in body,
              "each bad evidence URL is counted (agw_http_errors_total{reason=\"bad_evidence_url\"} 12)")
        check(b'agw_http_errors_total{reason="evidence_not_found"} 7' in body,
              "each missing picture is counted (evidence_not_found 7)")
    finally:
        rc, err = srv.stop()
    check(rc == 0, f"stops cleanly (rc {rc}) {err[-300:]}")


if __name__ == "__main__":
    run_main(main)
