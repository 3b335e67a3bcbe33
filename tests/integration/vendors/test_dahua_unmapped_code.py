# SPDX-License-Identifier: GPL-2.0-or-later
"""A Dahua Code that no event table maps is kept, not dropped (issue 13: "Unknown types are kept as
kind other with the raw type, never dropped"), through the running daemon, not only `normalize`.

vendorsim, one Dahua camera, no random events; the test emits 3 RtspSessionDisconnect pulses (a real
Code, openhab-addons#11391, that dahua-events.conf does not name) and one VideoMotion Start.
Checked in the journal and /metrics:
- the 3 pulses are journaled, each kind "other", topic exactly "RtspSessionDisconnect", active null
  (a pulse), on the camera's channel 1, with the vendor's EventID in data;
- the VideoMotion beside them is still kind motion (the unmapped Code disturbs nothing);
- agw_alerts_total{kind="other"} counts as many as the journal holds."""
import json
import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vendortest  # noqa: E402
from agwtest import Gateway, check, finish, free_port, sql, tempdir, wait_for  # noqa: E402

vc = vendortest.vc
CODE = "RtspSessionDisconnect"
PULSES = 3


def get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.partition(b"\r\n\r\n")[2].decode(errors="replace")


def main():
    w = tempdir("agw-dahua-unmapped-")
    sim = vc.Vendorsim("dahua", devices=1, rate=0, workdir=w).start()
    cam = sim.device_id(0)
    http = free_port()
    conf = vendortest.write_config(w, "dahua", sim.ledger, None, adapter_extra="heartbeat = 1;")
    text = open(conf).read()
    with open(conf, "w") as f:
        f.write(text.replace('log_level = "info"; };', f'log_level = "info"; http_listen = "127.0.0.1:{http}"; }};', 1))
    db = os.path.join(w, "state", "alarmgw.db")
    gw = Gateway(conf).start()
    try:
        wait_for(lambda: sim.stats()["totals"]["live_streams"] == 1, "the attach stream open", timeout=20)
        for _ in range(PULSES):
            sim.control(0, "emit", type=CODE)
        sim.control(0, "emit", type="VideoMotion", state="start")

        def rows():
            return sql(db, "SELECT kind, topic, active, camera_id, json FROM alerts WHERE topic IN (?, ?)",
                       (CODE, "VideoMotion"))
        got = wait_for(lambda: (lambda r: r if len(r) == PULSES + 1 else None)(rows()),
                       "the pulses and the motion journaled", timeout=15)
        pulses = [r for r in got if r[1] == CODE]
        print("journaled:", [(r[0], r[1], r[2]) for r in got])
        check(len(pulses) == PULSES, f"{PULSES} {CODE} pulses journaled: {len(pulses)}")
        check(all(r[0] == "other" for r in pulses), f"each is kind other: {[r[0] for r in pulses]}")
        check(all(r[2] is None for r in pulses), f"each is a pulse (active null): {[r[2] for r in pulses]}")
        check(all(r[3] == cam for r in pulses), f"each on {cam}")
        alerts = [json.loads(r[4]) for r in pulses]
        check(all(a.get("source", {}).get("channel") == "1" for a in alerts), "each on channel 1")
        ids = {a.get("data", {}).get("EventID") for a in alerts}
        check(len(ids) == PULSES and None not in ids, f"each with its own EventID in data: {sorted(map(str, ids))}")
        motion = [r for r in got if r[1] == "VideoMotion"]
        check(len(motion) == 1 and motion[0][0] == "motion", f"the VideoMotion beside them is motion: {motion[:1]}")

        journal_other = sql(db, "SELECT count(*) FROM alerts WHERE kind = 'other'")[0][0]
        m = re.search(r'agw_alerts_total\{kind="other"\} (\d+)', get(http, "/metrics"))
        counted = int(m.group(1)) if m else None
        check(counted == journal_other and counted >= PULSES,
              f'agw_alerts_total{{kind="other"}} {counted} = journal {journal_other}')
    finally:
        if gw.proc and gw.proc.poll() is None:
            gw.stop()
        sim.stop()
    finish()


if __name__ == "__main__":
    main()
