#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Camera health goes through the journal and the outbox like every other message: a health edge
journaled while the broker is away is not lost when the gateway is killed (SIGKILL) and restarted;
it reaches the broker's retained health topic after the restart, in the order of the journal
(offline, then online again), and the outbox is empty afterwards."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../unit/mqtt"))
from agwtest import Gateway, sql  # noqa: E402
from mqttlab import Broker, Sub, check, release, retained, workdir  # noqa: E402


def write_config(path, w, port, alerts):
    with open(path, "w") as f:
        f.write('gateway: { id = "gw-health"; state_dir = "%s/state"; log_level = "info"; };\n' % w)
        f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; version = "5"; reconnect_min = "200ms"; '
                'reconnect_max = "500ms"; };\n' % port)
        f.write('adapters: { replay: { file = "%s"; }; };\n' % alerts)


def main():
    w = workdir("agw-mqtt-health-")
    os.makedirs(os.path.join(w, "state"))
    db = os.path.join(w, "state", "alarmgw.db")
    ok = False
    b = sub = gw = None
    try:
        b = Broker(w, "broker")  # not started: the gateway cannot publish yet
        alerts = os.path.join(w, "alerts.jsonl")
        with open(alerts, "w") as f:
            f.write(json.dumps({"camera": "cam-9", "kind": "camera_offline", "active": True, "id": "h-1"}) + "\n")
            f.write(json.dumps({"camera": "cam-8", "kind": "camera_offline", "active": True, "id": "h-2"}) + "\n")
            f.write(json.dumps({"camera": "cam-8", "kind": "camera_offline", "active": False, "id": "h-3"}) + "\n")
        conf = os.path.join(w, "alarmgw.conf")
        write_config(conf, w, b.port, alerts)
        gw = Gateway(conf).start()
        gw.wait_log(r"running: gateway gw-health", timeout=20)
        end = time.time() + 15
        while time.time() < end and sql(db, "SELECT count(*) FROM alerts")[0][0] < 3:
            time.sleep(0.1)
        check(sql(db, "SELECT count(*) FROM alerts")[0][0] == 3, "the 3 health edges are journaled")
        rows = sql(db, "SELECT topic, retained, payload FROM outbox ORDER BY seq")
        print("     outbox: %s" % [(t, r) for t, r, _ in rows])
        gw.kill()
        print("-- SIGKILL while the broker was away; restart with nothing new to replay, broker up")
        b.start()
        sub = Sub(w, b.port, "agw/cameras/+/health", "health-watch", extra=["-V", "mqttv5"])
        time.sleep(0.3)
        empty = os.path.join(w, "empty.jsonl")
        open(empty, "w").close()
        write_config(conf, w, b.port, empty)
        gw = Gateway(conf).start()
        gw.wait_log(r"\[mqtt\] connected to", timeout=20)
        end = time.time() + 10
        while time.time() < end and retained(b.port, "agw/cameras/cam-9/health", timeout=1) is None:
            time.sleep(0.2)
        h9 = retained(b.port, "agw/cameras/cam-9/health")
        h8 = retained(b.port, "agw/cameras/cam-8/health")
        check(h9 is not None and json.loads(h9).get("state") == "offline",
              "cam-9's offline state journaled before the kill reached the retained topic: %r" % h9)
        check(h8 is not None and json.loads(h8).get("state") == "online",
              "cam-8's latest state (online after offline) is the retained one: %r" % h8)
        seen = [l for l in sub.lines() if "cam-8" in l]
        check(len(seen) == 2 and '"offline"' in seen[0] and '"online"' in seen[1],
              "cam-8's edges were published in journal order: %s" % seen)
        end = time.time() + 10
        while time.time() < end and sql(db, "SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0]:
            time.sleep(0.2)
        check(sql(db, "SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0] == 0, "no pending row left")
        code, took = gw.stop(timeout=15)
        check(code == 0, "SIGTERM exits 0")
        ok = True
    finally:
        if not ok and gw is not None:
            print("gateway log (last 25 lines):\n" + "\n".join(gw.log()[-25:]))
        release(w, ok, gw, sub, b)


if __name__ == "__main__":
    main()
