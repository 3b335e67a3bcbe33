#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A 50-camera run of the scale benchmark harness (bench/scale/scale.py), to keep it working:
mosquitto, camsim, the gateway and a subscriber; every camsim event must be reconciled by its
EventId (on MQTT, or journaled and dropped by a rule). No timing assertions: the figures are
printed, not judged."""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile

build = os.environ.get("AGW_BUILD_DIR")
source = os.environ.get("AGW_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
if not build:
    print("AGW_BUILD_DIR is not set")
    sys.exit(1)
for tool in ("mosquitto", "mosquitto_sub", "mosquitto_pub"):
    if not shutil.which(tool):
        print("skip: %s not installed" % tool)
        sys.exit(77)

failures = []


def check(cond, what):
    print("%s: %s" % ("ok" if cond else "FAIL", what))
    if not cond:
        failures.append(what)


out = tempfile.mkdtemp(prefix="agw-scale-smoke-")
try:
    cmd = [sys.executable, os.path.join(source, "bench", "scale", "scale.py"), "--build-dir", build,
           "--sizes", "50", "--peer-sizes", "", "--rate", "0.5", "--seconds", "8", "--warmup", "1",
           "--drain", "5", "--subscribe-timeout", "30", "--out", out]
    print("running:", " ".join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=55)
    print(p.stdout[-4000:])
    with open(os.path.join(out, "alarmgw-50", "result.json")) as f:
        r = json.load(f)
    check("error" not in r, "the step ran without error (%s)" % r.get("error"))
    check(r.get("subscribed") == 50, "all 50 cameras subscribed (%s)" % r.get("subscribed"))
    check(r.get("expected", 0) > 50, "camsim queued events to reconcile (%s)" % r.get("expected"))
    check(r.get("lost") == 0, "no event lost between camsim and MQTT (%s lost)" % r.get("lost"))
    check(r.get("messages", 0) >= r.get("expected", 0) - r.get("rule_drops", 0),
          "at least one case message per event not dropped by a rule (%s messages)" % r.get("messages"))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard > 1024:
        # the harness starts the gateway at a soft limit of 1,024; 10,000 cameras need the hard one
        check(r.get("nofile_soft") == hard,
              "the gateway raised its soft descriptor limit to the hard limit %d (%s)" % (hard, r.get("nofile_soft")))
    check(p.returncode == 0, "scale.py exit code 0 (%d)" % p.returncode)
    check(os.path.exists(os.path.join(out, "scale.csv")), "the CSV is written")
finally:
    shutil.rmtree(out, ignore_errors=True)

sys.exit(1 if failures else 0)
