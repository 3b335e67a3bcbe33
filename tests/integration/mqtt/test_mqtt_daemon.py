#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The publisher inside `alarmgw run`: cases reach a subscriber with their case id; feedback
"closed" from the platform ends the incident's dedup window, so the camera's next event opens a new
case, while a camera without feedback keeps updating its case; feedback for an unknown case and a
malformed one are logged and change nothing; the retained gateway status is online while running
and offline after SIGTERM."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../unit/mqtt"))
from agwtest import Gateway, sql  # noqa: E402
from mqttlab import Broker, Sub, check, pub, release, retained, workdir  # noqa: E402


def messages(sub):
    out = []
    for line in sub.lines():
        try:
            out.append(json.loads(line[line.index("{"):]))
        except ValueError:
            pass
    return out


def main():
    w = workdir("agw-mqtt-daemon-")
    os.makedirs(os.path.join(w, "state"))
    db = os.path.join(w, "state", "alarmgw.db")
    ok = False
    b = sub = gw = None
    try:
        b = Broker(w, "broker", persistence=False).start()
        sub = Sub(w, b.port, "agw/cases/#", "platform", verbose=True)
        time.sleep(0.5)
        alerts = os.path.join(w, "alerts.jsonl")
        with open(alerts, "w") as f:
            for i, cam in enumerate(["cam-1", "cam-2", "cam-1", "cam-2"]):
                f.write(json.dumps({"camera": cam, "kind": "intrusion", "active": True, "id": "e-%d" % i}) + "\n")
        conf = os.path.join(w, "alarmgw.conf")
        with open(conf, "w") as f:
            f.write('gateway: { id = "it-mqtt"; state_dir = "%s/state"; log_level = "info"; };\n' % w)
            f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; reconnect_min = "200ms"; };\n' % b.port)
            # one alert every 2.5 s: time for the platform to answer in between
            f.write('adapters: { replay: { file = "%s"; rate = 0.4; }; };\n' % alerts)
        gw = Gateway(conf).start()
        gw.wait_log(r"\[mqtt\] connected to tcp://127.0.0.1:%d" % b.port, timeout=20)
        check(retained(b.port, "agw/gateways/it-mqtt/status") == "online", "retained status online while running")

        end = time.time() + 10
        while time.time() < end and not any(m.get("camera", {}).get("id") == "cam-1" for m in messages(sub)):
            time.sleep(0.1)
        first = [m for m in messages(sub) if m.get("camera", {}).get("id") == "cam-1"]
        check(len(first) == 1 and first[0].get("action") == "open", "cam-1's first event opened a case")
        case_a = first[0]["case_id"]
        topic = "agw/case-status/it-mqtt"
        pub(b.port, topic, "{not json")
        pub(b.port, topic, json.dumps({"case_id": "agw-0000000000000000", "status": "closed"}))
        pub(b.port, topic, json.dumps({"case_id": case_a, "status": "closed"}))
        end = time.time() + 20
        while time.time() < end and len(messages(sub)) < 5:
            time.sleep(0.2)
        ms = messages(sub)
        cam1 = [m for m in ms if m.get("camera", {}).get("id") == "cam-1"]
        cam2 = [m for m in ms if m.get("camera", {}).get("id") == "cam-2"]
        print("     cam-1: %s" % [(m["case_id"], m.get("action")) for m in cam1])
        print("     cam-2: %s" % [(m["case_id"], m.get("action")) for m in cam2])
        check(len(cam1) == 3 and cam1[1]["case_id"] == case_a and cam1[1].get("action") == "status" and
              cam1[1].get("status") == "closed", "the feedback closed published the case again, status closed")
        check(cam1[2]["case_id"] != case_a and cam1[2].get("action") == "open",
              "after feedback closed, cam-1's next event opened a new case")
        check(len(cam2) == 2 and cam2[0]["case_id"] == cam2[1]["case_id"] and cam2[1].get("action") != "open",
              "control: without feedback cam-2's second event updated the same case")
        status = sql(db, "SELECT status FROM cases WHERE id = ?", (case_a,))
        check(status == [("closed",)], "the closed case is marked closed in the cases table: %s" % status)
        log = gw.log()
        check(any("feedback for unknown case agw-0000000000000000" in l for l in log), "unknown case logged")
        check(any("malformed feedback" in l and "invalid JSON" in l for l in log), "malformed feedback logged")
        code, took = gw.stop(timeout=15)
        check(code == 0, "SIGTERM exits 0 in %.1f s" % took)
        check(retained(b.port, "agw/gateways/it-mqtt/status") == "offline", "retained status offline after the stop")
        check(sql(db, "SELECT count(*) FROM outbox")[0][0] == 0, "outbox empty after a clean stop")
        ok = True
    finally:
        release(w, ok, gw, sub, b)


if __name__ == "__main__":
    main()
