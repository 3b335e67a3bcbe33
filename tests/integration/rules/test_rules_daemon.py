# SPDX-License-Identifier: GPL-2.0-or-later
"""The decider inside the running gateway (replay adapter, no broker): every alert gets one
decision with its rule and reason, cases and outbox rows are written with the expanded topic and a
valid case message, and a restarted gateway keeps deduplicating into the same case."""
import json
import os
import shutil

import agwtest
from agwtest import Gateway, alarmgw, check, sql, tempdir, wait_for

FIX = os.path.join(agwtest.SOURCE, "tests", "fixtures")
work = tempdir("agw-rules-daemon-")
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
rules = os.path.join(work, "rules.conf")
with open(rules, "w") as f:
    f.write('version = 1;\n'
            'rules = (\n'
            '  { name = "gate-motion"; kinds = "motion"; tags = ["gate"]; action = "drop";\n'
            '    reason = "gate cameras see people all day"; },\n'
            '  { name = "intrusion"; kinds = ["intrusion", "tamper"]; action = "open"; category = "A02";\n'
            '    priority = 2; title = "{kind} at {camera_name} in {cell_name}"; dedup_window = "10m"; }\n'
            ');\n')


def write_config(replay_file):
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write(f'gateway: {{ id = "gw-rules"; state_dir = "{state}"; log_level = "info"; }};\n'
                f'rules: {{ file = "{rules}"; grid_layer = "cells"; }};\n'
                'mqtt: { uri = "tcp://127.0.0.1:1"; topic_prefix = "city"; '
                'case_topic = "{prefix}/{gateway}/cases/{district}/{grid}"; };\n'
                f'adapters: {{ replay: {{ file = "{replay_file}"; }}; }};\n')
    return conf


def write_alerts(name, alerts):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        for a in alerts:
            f.write(json.dumps(a) + "\n")
    return path


def decisions(prefix):
    return sql(db, "SELECT a.event_id, d.action, d.rule, d.reason, d.case_id FROM decisions d "
                   "JOIN alerts a ON a.seq = d.alert_seq WHERE a.event_id LIKE ? ORDER BY d.seq", (prefix + "%",))


gw = None
try:
    conf = write_config(os.path.join(work, "none.jsonl"))
    alarmgw("cameras", "import", "-c", conf, os.path.join(FIX, "rules", "cameras.csv"), check_rc=0)
    alarmgw("grid", "import", "-c", conf, os.path.join(FIX, "grid", "cells.geojson"), check_rc=0)
    first = write_alerts("first.jsonl", [
        {"camera": "cam-1", "kind": "motion", "active": True, "id": "a-1"},
        {"camera": "cam-2", "kind": "intrusion", "active": True, "id": "a-2",
         "topic": "tns1:RuleEngine/FieldDetector/ObjectsInside"},
        {"camera": "cam-2", "kind": "intrusion", "active": True, "id": "a-3"},
        {"camera": "cam-2", "kind": "intrusion", "active": False, "id": "a-4"},
        {"camera": "cam-3", "kind": "tamper", "id": "a-5"},
        {"camera": "cam-3", "kind": "motion", "active": True, "operation": "Initialized", "id": "a-6"},
    ])
    conf = write_config(first)
    gw = Gateway(conf).start()
    gw.wait_log(r"running: gateway gw-rules")
    wait_for(lambda: len(decisions("a-")) == 6, "6 decisions", timeout=30)
    d = {row[0]: row[1:] for row in decisions("a-")}
    check(d["a-1"][:3] == ("drop", "gate-motion", "gate cameras see people all day"), f"a-1 dropped by rule: {d['a-1']}")
    check(d["a-2"][0] == "open" and d["a-2"][1] == "intrusion", f"a-2 opens a case: {d['a-2']}")
    case_id = d["a-2"][3]
    check(d["a-3"][0] == "update" and d["a-3"][3] == case_id, "a-3 updates the same case (dedup)")
    check(d["a-4"][0] == "close" and d["a-4"][3] == case_id, "a-4 (inactive edge) closes its alert")
    check(d["a-5"][0] == "open", "a-5 (tamper pulse) opens a case")
    check(d["a-6"][0] == "drop" and "initialized" in d["a-6"][2], "a-6 (Initialized) never opens a case")
    row = sql(db, "SELECT camera_id, kind, cell_code, status, category, priority, count FROM cases WHERE id = ?",
              (case_id,))
    check(row == [("cam-2", "intrusion", "110105001001002", "open", "A02", 2, 3)], f"the case row: {row}")
    out = sql(db, "SELECT topic, payload FROM outbox WHERE case_id = ? ORDER BY seq", (case_id,))
    check(len(out) == 3 and all(t == "city/gw-rules/cases/110105/110105001001002" for t, _ in out),
          f"one outbox row per open/update/close on the expanded topic ({len(out)})")
    msg = json.loads(out[-1][1])
    check(msg["schema_version"] == 2 and msg["case_id"] == case_id and msg["action"] == "close" and
          msg["event"]["active"] is False and msg["event"]["count"] == 3 and
          msg["title"] == "intrusion at Road 2 in Grid 2" and msg["cell"]["layer_version"] == 1 and
          msg["camera"]["vendor"] == "dahua", "the last message: the closed alert of the case, with cell and camera")
    check(sorted(e["event_id"] for e in msg["alerts"]) == ["a-2", "a-3", "a-4"], "alerts names the journaled alerts")
    code, _ = gw.stop()
    check(code == 0, "gateway stopped")

    # Restart with new alerts: the open incident comes back from the cases table.
    second = write_alerts("second.jsonl", [{"camera": "cam-2", "kind": "intrusion", "active": True, "id": "b-1"}])
    conf = write_config(second)
    gw = Gateway(conf).start()
    gw.wait_log(r"restored \d+ open incident")
    wait_for(lambda: len(decisions("b-")) == 1, "the decision after the restart", timeout=30)
    b = decisions("b-")[0]
    check(b[1] == "update" and b[4] == case_id, f"after a restart the same incident updates the same case: {b}")
    check(sql(db, "SELECT count FROM cases WHERE id = ?", (case_id,)) == [(4,)], "its count goes on")
    code, _ = gw.stop()
    check(code == 0, "gateway stopped again")
finally:
    if gw and gw.proc and gw.proc.poll() is None:
        gw.kill()
    shutil.rmtree(work, ignore_errors=True)
agwtest.finish()
