#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`alarmgw status` on a seeded store (terminal and --json, with --db and with -c), its usage
errors, and the shipped default configuration passing `alarmgw check` (with its state directory
pointed at a temporary one, as /var/lib/alarmgw does not exist here)."""
import json
import os
import shutil
import tempfile

import test_ops_http as ops
from agwtest import ALARMGW, SOURCE as SRC, alarmgw as agw
from test_ops_http import check, run_main


def main():
    check(os.access(ALARMGW, os.X_OK), f"{ALARMGW} is built (build the target alarmgw first)")
    tmp = tempfile.mkdtemp(prefix="agw-ops-cli-")
    try:
        db = os.path.join(tmp, "alarmgw.db")
        rc, out, err = agw("status", "--db", db)
        check(rc == 1 and "no database" in err and not os.path.exists(db),
              "status on a missing database fails without creating one")
        rc, _, err = agw("status")
        check(rc == 2 and "usage" in err, "status without -c/--db is a usage error (2)")
        rc, _, err = agw("status", "--db", db, "--recent", "5000")
        check(rc == 2, "--recent over 1000 is a usage error")

        rc, _, err = agw("cameras", "list", "--db", db)  # creates and migrates the store
        check(rc == 0, f"cameras list creates the store ({err.strip()})")
        ops.seed(db)

        rc, out, err = agw("status", "--db", db)
        print(out)
        check(rc == 0, "status --db exits 0")
        check("cameras: 5  offline 1  channel_lost 1  never_subscribed 0  online 2  unknown 1" in out, "camera counts by state")
        check("outbox: depth 2, oldest 3" in out, "outbox depth and age (~30 s)")
        check("cases:  closed 1  open 2" in out, "cases by status")
        lines = out.splitlines()
        cam_lines = [l for l in lines if l.startswith("cam-")]
        check([l.split()[0] for l in cam_lines] == ["cam-yard", "cam-lobby", "cam-gate", "cam-roof", "cam-silent"],
              "cameras listed worst state first")
        check(cam_lines[0].split()[1] == "offline" and cam_lines[2].split()[2] == "intrusion",
              "state and last event per camera")
        check(any(l.startswith("gw1-0002") and " open " in l for l in lines), "recent cases listed")
        check(any("tns1:RuleEngine/FieldDetector/ObjectsInside" in l for l in lines), "recent alerts with topics")

        rc, out, _ = agw("status", "--db", db, "--json", "-n", "2")
        st = json.loads(out)
        check(rc == 0 and len(st["recent_alerts"]) == 2 and len(st["recent_cases"]) == 2, "--json with --recent 2")
        check(st["cameras_by_state"] == {"offline": 1, "channel_lost": 1, "never_subscribed": 0, "online": 2, "unknown": 1},
              "--json cameras by state")

        # The shipped configuration, with the state directory here.
        conf = open(os.path.join(SRC, "systemd", "alarmgw.conf")).read()
        check('state_dir = "/var/lib/alarmgw";' in conf, "the default configuration uses /var/lib/alarmgw")
        cfg = os.path.join(tmp, "alarmgw.conf")
        with open(cfg, "w") as f:
            f.write(conf.replace('state_dir = "/var/lib/alarmgw";', f'state_dir = "{tmp}";'))
        rc, out, err = agw("check", "-c", cfg)
        check(rc == 0, f"alarmgw check accepts the default configuration ({err.strip()})")
        rc, out, err = agw("status", "-c", cfg)
        check(rc == 0 and "cameras: 5" in out, "status -c reads the configured database")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
