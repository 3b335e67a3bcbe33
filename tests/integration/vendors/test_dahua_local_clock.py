# SPDX-License-Identifier: GPL-2.0-or-later
"""Dahua data.UTC written as the camera's local wall clock (as the real captures in
tests/fixtures/dahua/ show): the adapter's utc_offsets corrects a device's camera_time, and a device
still off the gateway's clock by whole hours is flagged in /metrics and on the status page.

vendorsim, three Dahua cameras, no random events (the test emits one VideoMotion on each):
- dh-00001 writes UTC 2 h ahead, no offset configured: its camera_time stays as written (2 h
  ahead), agw_camera_clock_hours_off{adapter="dahua",camera="dh-00001"} is 2, a warning names it,
  and /api/summary lists it under the problem clock_hours_off;
- dh-00002 writes UTC 8 h ahead, utc_offsets gives +8h: its camera_time is the real time, not
  flagged;
- dh-00003 writes epoch seconds: not flagged, not corrected.
`alarmgw normalize` is not concerned: it still reads data.UTC as written (test_dahua_normalize)."""
import json
import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vendortest  # noqa: E402
from agwtest import Gateway, check, finish, free_port, sql, tempdir, wait_for  # noqa: E402

vc = vendortest.vc
H = 3600000


def get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return body.decode(errors="replace")


def main():
    w = tempdir("agw-dahua-clock-")
    sim = vc.Vendorsim("dahua", devices=3, rate=0, workdir=w).start()
    cams = [sim.device_id(i) for i in range(3)]
    http = free_port()
    conf = vendortest.write_config(w, "dahua", sim.ledger, None,
                                   adapter_extra=f'heartbeat = 1; utc_offsets = "{cams[1]}=+8h";')
    text = open(conf).read()  # the status server goes into the one gateway section
    with open(conf, "w") as f:
        f.write(text.replace('log_level = "info"; };', f'log_level = "info"; http_listen = "127.0.0.1:{http}"; }};', 1))
    db = os.path.join(w, "state", "alarmgw.db")
    sim.control(0, "utc-local", minutes=120)
    sim.control(1, "utc-local", minutes=480)
    gw = Gateway(conf).start()
    try:
        wait_for(lambda: sim.stats()["totals"]["live_streams"] == 3,
                 "every device's attach stream open", timeout=20)
        for i in range(3):
            sim.control(i, "emit", type="VideoMotion", state="start")
        def rows():
            return {r[0]: r[1:] for r in sql(db, "SELECT camera_id, camera_time, gateway_time FROM alerts WHERE "
                                                 "kind = 'motion' AND camera_time IS NOT NULL")}
        got = wait_for(lambda: (lambda r: r if len(r) == 3 else None)(rows()), "the three motion alerts journaled",
                       timeout=15)
        skew = {c: (got[c][0] - got[c][1]) / H for c in cams}
        print("camera_time - gateway_time, hours:", {c: round(v, 3) for c, v in skew.items()})
        check(abs(skew[cams[0]] - 2) < 0.02, f"{cams[0]} (UTC 2 h ahead, no offset): camera_time as written, "
                                             f"{skew[cams[0]]:.3f} h ahead")
        check(abs(skew[cams[1]]) < 0.02, f"{cams[1]} (UTC 8 h ahead, utc_offsets +8h): camera_time corrected, "
                                         f"{skew[cams[1]]:.3f} h off")
        check(abs(skew[cams[2]]) < 0.02, f"{cams[2]} (epoch): camera_time {skew[cams[2]]:.3f} h off")

        metrics = get(http, "/metrics")
        flagged = dict(re.findall(r'agw_camera_clock_hours_off\{adapter="dahua",camera="([^"]+)"\} (-?\d+)', metrics))
        flagged = {c: int(v) for c, v in flagged.items() if int(v)}
        check(flagged == {cams[0]: 2}, f"agw_camera_clock_hours_off flags {cams[0]} only, +2 h: {flagged}")
        check(any("camera time 2 h ahead of the gateway's" in l and cams[0] in l for l in gw.log()),
              "a warning names the camera and the hours")
        summary = json.loads(get(http, "/api/summary"))
        probs = [p for p in summary.get("problems", []) if p.get("kind") == "clock_hours_off"]
        check(len(probs) == 1 and probs[0]["count"] == 1 and
              probs[0]["cameras"] == [{"adapter": "dahua", "id": cams[0], "hours": 2}],
              f"the status page lists it: {probs}")
    finally:
        if gw.proc and gw.proc.poll() is None:
            gw.stop()
        sim.stop()
    finish()


if __name__ == "__main__":
    main()
