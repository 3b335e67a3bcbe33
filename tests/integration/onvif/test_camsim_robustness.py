#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""camsim HTTP layer against odd and hostile clients: garbage, limits, chunked bodies, pipelining,
HTTP/1.0, clients vanishing during a long poll or a slow answer. camsim must answer sensibly, keep
serving, and exit cleanly (under ASan a memory error makes the exit status non-zero)."""
import os
import socket
import sys
import time

from agwtest import SOURCE, check, finish

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
from camsim_client import Camsim, envelope  # noqa: E402


def exchange(port, data, wait_close=True, timeout=10, trickle=False):
    """Sends raw bytes (one send a byte with trickle); returns everything received until the peer
    closes (or the timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if trickle:
        for b in data:
            s.send(bytes([b]))
    else:
        s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if not wait_close and b"</env:Envelope>" in out:
                break
    except socket.timeout:
        pass
    s.close()
    return out


def post(path, body, extra=b"", version=b"HTTP/1.1"):
    return (b"POST " + path + b" " + version + b"\r\nHost: x\r\nContent-Length: %d\r\n" % len(body) + extra +
            b"\r\n" + body)


SDT = envelope("<tds:GetSystemDateAndTime/>").encode()


def main():
    with Camsim(cameras=2, auth="none", extra=["--mix", "motion=1"]) as sim:
        port = sim.port(0)
        r = exchange(port, b"\x00\x01garbage\r\n\r\n")
        check(r.startswith(b"HTTP/1.1 400") and b"Connection: close" in r, "garbage -> 400 and close")
        r = exchange(port, b"GET / HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
        check(r.startswith(b"HTTP/1.1 413"), "a 20 kB header -> 413")
        r = exchange(port, b"POST /onvif/device_service HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        check(r.startswith(b"HTTP/1.1 501"), "chunked request body -> 501")
        r = exchange(port, b"POST /onvif/device_service HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n")
        check(r.startswith(b"HTTP/1.1 413"), "a 2 MB body -> 413 before it is sent")
        r = exchange(port, b"GET /onvif/device_service HTTP/1.1\r\nConnection: close\r\n\r\n")
        check(r.startswith(b"HTTP/1.1 405"), "GET on a SOAP endpoint -> 405")
        r = exchange(port, b"GET /nothing HTTP/1.1\r\nConnection: close\r\n\r\n")
        check(r.startswith(b"HTTP/1.1 404"), "unknown path -> 404")
        r = exchange(port, post(b"/onvif/device_service", b"<not-soap/>", b"Connection: close\r\n"))
        check(r.startswith(b"HTTP/1.1 400") and b"ter:WellFormed" in r, "XML that is not SOAP -> 400 fault")
        bad = b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><u:Op/></e:Body></e:Envelope>'
        r = exchange(port, post(b"/onvif/device_service", bad, b"Connection: close\r\n"))
        check(r.startswith(b"HTTP/1.1 400"), "undeclared prefix -> 400 fault")
        r = exchange(port, post(b"/onvif/device_service", SDT, version=b"HTTP/1.0"))
        check(r.startswith(b"HTTP/1.1 200") and b"Connection: close" in r, "HTTP/1.0 answered and closed")
        # two requests in one write, answered in order on one connection
        r = exchange(port, post(b"/onvif/device_service", SDT) +
                     post(b"/onvif/device_service", envelope("<tds:GetDeviceInformation/>").encode(),
                          b"Connection: close\r\n"))
        check(r.count(b"HTTP/1.1 200") == 2 and r.index(b"GetSystemDateAndTimeResponse") <
              r.index(b"GetDeviceInformationResponse"), "pipelined requests answered in order")
        # a request trickling in byte by byte
        data = exchange(port, post(b"/onvif/device_service", SDT, b"Connection: close\r\n"), trickle=True)
        check(data.startswith(b"HTTP/1.1 200"), "a request sent byte by byte is answered")

        # clients that vanish: during a long poll, during a slow answer, mid-request
        cam = sim.client(0)
        sub = cam.create_subscription()
        path = sub[sub.index("/onvif"):].encode()
        pull = envelope("<tev:PullMessages><tev:Timeout>PT30S</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit>"
                        "</tev:PullMessages>").encode()
        cam.pull(sub, timeout="PT0S")
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(post(path, pull))
        time.sleep(0.2)
        s.close()
        time.sleep(0.2)
        sim.control(0, "emit", kind="motion")
        got = cam.pull(sub, timeout="PT2S")
        check(len(got) == 1, "after a long-polling client vanished the event is still delivered: %d" % len(got))
        sim.control(0, "slow", ms=500)
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(post(b"/onvif/device_service", SDT))
        s.close()
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(post(b"/onvif/device_service", SDT)[:40])
        s.close()
        time.sleep(0.8)
        sim.control(0, "slow", ms=0)
        check(cam.system_time() > 0, "camera still serves after clients vanished")
        check(sim.client(1).system_time() > 0, "the other camera is unaffected")
        rc = sim.stop()
        check(rc == 0, "camsim exits cleanly: %s" % rc)


if __name__ == "__main__":
    main()
    finish()
