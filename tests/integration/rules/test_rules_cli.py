# SPDX-License-Identifier: GPL-2.0-or-later
"""alarmgw rules test on the fixture rules, cameras, grid and alerts: one decision per alert with
its rule and reason (drop rules, dedup, start/end pairing, Initialized, minimum duration through
the timers, repeat counts, schedules across midnight, the unassigned queue); alarmgw check on a
broken rules file."""
import json
import os
import shutil

import agwtest
from agwtest import alarmgw, check

FIX = os.path.join(agwtest.SOURCE, "tests", "fixtures")
work = agwtest.tempdir("agw-rules-")


def write_conf(name, rules_file):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(f'gateway = {{ id = "gw-it"; state_dir = "{work}"; db = "gw.sqlite"; }};\n'
                f'rules = {{ file = "{rules_file}"; grid_layer = "cells"; }};\n')
    return path


try:
    conf = write_conf("gw.conf", os.path.join(FIX, "rules", "rules.conf"))
    alarmgw("cameras", "import", "-c", conf, os.path.join(FIX, "rules", "cameras.csv"), check_rc=0)
    alarmgw("grid", "import", "-c", conf, os.path.join(FIX, "grid", "cells.geojson"), check_rc=0)
    rc, out, err = alarmgw("rules", "test", "-c", conf, os.path.join(FIX, "rules", "alerts.jsonl"))
    check(rc == 0, f"rules test exits 0 ({err.strip()[-200:]})")
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    by_line = {r["line"]: r for r in rows if r["line"] is not None}
    timers = [r for r in rows if r["line"] is None]
    check(sorted(by_line) == list(range(1, 15)), f"one decision per alert line: {sorted(by_line)}")

    def expect(line, action, rule, reason_part):
        r = by_line.get(line, {})
        check(r.get("action") == action and r.get("rule") == rule and reason_part in r.get("reason", ""),
              f"line {line}: {action} by {rule} ({reason_part}) -> {r.get('action')} {r.get('rule')} "
              f"'{r.get('reason')}'")
        return r

    expect(1, "drop", "ignore-gate-motion", "gate cameras see people all day")
    opened = expect(2, "open", "day-intrusion", "new incident")
    check(opened.get("cell") == "110105001001002" and opened.get("priority") == 3, "cam-2 located in grid 2, priority 3")
    upd = expect(3, "update", "day-intrusion", "dedup")
    check(upd.get("case_id") == opened.get("case_id") and upd.get("count") == 2, "the repeat updates the same case")
    cl = expect(4, "close", "day-intrusion", "inactive edge")
    check(cl.get("case_id") == opened.get("case_id"), "the inactive edge closes that case's alert")
    # Initialized active 30 s after the inactive edge: it started again while nobody listened (the
    # last known state is inactive): found on resynchronisation, within the dedup window of the case
    resync = expect(5, "update", "day-intrusion", "found on resynchronisation")
    check(resync.get("case_id") == opened.get("case_id"), "the state found on resubscription reopens that case")
    expect(6, "drop", "tamper", "pending")
    expect(7, "drop", "tamper", "shorter than min_duration 10s")
    expect(8, "drop", "tamper", "pending")
    opens = [t for t in timers if t["action"] == "open"]
    check(len(opens) == 1 and opens[0]["rule"] == "tamper" and rows.index(opens[0]) < rows.index(by_line[9]),
          "the timer opens the tamper case once it was active 10 s, before line 9")
    expect(9, "drop", "loitering-chaoyang", "repeat 1/3")
    expect(10, "drop", "loitering-chaoyang", "repeat 2/3")
    expect(11, "open", "loitering-chaoyang", "new incident")
    closes = [t for t in timers if t["action"] == "close"]
    tamper_closes = [c for c in closes if opens and c["case_id"] == opens[0]["case_id"]]
    check(len(tamper_closes) == 1 and "clear timeout" in tamper_closes[0]["reason"],
          "the clear timeout closes the tamper case")
    check(len(closes) == 2 and any(c["case_id"] == opened.get("case_id") and "clear timeout" in c["reason"]
                                   for c in closes), "and the intrusion found active on resubscription")
    night = expect(12, "open", "night-intrusion", "new incident")
    check(night.get("cell") == "unassigned" and night.get("priority") == 1,
          "23:00 local: night rule; an unknown camera goes to the unassigned queue")
    expect(13, "open", "night-intrusion", "new incident")
    expect(14, "drop", None, "no rule matched")
    ids = {r["case_id"] for r in rows if r["case_id"]}
    rc2, out2, _ = alarmgw("rules", "test", "-c", conf, os.path.join(FIX, "rules", "alerts.jsonl"))
    ids2 = {json.loads(l)["case_id"] for l in out2.splitlines() if json.loads(l)["case_id"]}
    check(ids == ids2 and len(ids) == 5, f"case ids are deterministic across runs ({len(ids)} cases)")
    check(agwtest.sql(os.path.join(work, "gw.sqlite"), "SELECT count(*) FROM decisions")[0][0] == 0,
          "rules test writes nothing")

    bad_alerts = os.path.join(work, "bad.jsonl")
    with open(bad_alerts, "w") as f:
        f.write('{"camera":"cam-1","kind":"teleport"}\n{"camera":"cam-1","kind":"motion"}\n')
    rc, out, err = alarmgw("rules", "test", "-c", conf, bad_alerts)
    check(rc == 1 and ":1:" in err and len(out.splitlines()) == 1, "a bad alert line is reported with its line, the rest run")

    bad = write_conf("bad.conf", os.path.join(FIX, "rules", "rules_bad.conf"))
    rc, out, err = alarmgw("check", "-c", bad)
    lines = [l for l in (out + err).splitlines() if "rules_bad.conf:" in l]
    check(rc != 0 and any(":4:" in l and "teleport" in l for l in lines) and len(lines) >= 9,
          f"alarmgw check reports every rules file error as file:line ({len(lines)} lines)")
    rc, out, err = alarmgw("rules", "test", "-c", bad, os.path.join(FIX, "rules", "alerts.jsonl"))
    check(rc == 1 and "rules_bad.conf:5:" in err, "rules test refuses a broken rules file")
finally:
    shutil.rmtree(work, ignore_errors=True)
agwtest.finish()
