# SPDX-License-Identifier: GPL-2.0-or-later
"""A small run of bench/gb28181 (100 devices, about 50 alarms/s for 4 s), to keep the harness
working: mosquitto, gbsim, the gateway and a subscriber; every alarm gbsim saw answered 200 must be
reconciled by (camera, SN) in a case message or a rule's drop. No timing assertions: the figures
are printed, not judged."""
import json
import os
import re
import subprocess
import sys

from agwtest import check, finish, tempdir

build = os.environ["AGW_BUILD_DIR"]
source = os.environ.get("AGW_SOURCE_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", ".."))
out = tempdir()
p = subprocess.run([sys.executable, os.path.join(source, "bench", "gb28181", "bench_gb.py"), "--build-dir", build,
                    "--devices", "100", "--rate", "0.5", "--keepalive", "2", "--spread", "1", "--warmup", "1",
                    "--seconds", "4", "--sims", "1", "--out", out], capture_output=True, text=True, timeout=300)
lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
row = json.loads(lines[-1]) if lines else {}
print(row)
check(row.get("answered_200", 0) > 50 and row.get("case_messages", 0) > 0, "alarms answered and published")
check(p.returncode == 0 and row.get("lost") == 0, f"none lost (exit {p.returncode}, lost {row.get('lost')})")
check(row.get("gateway_exit") == 0, "the gateway stopped cleanly")
# 100 devices register at start: a few are named, the rest summed up, every one accounted for
log = open(os.path.join(out, "alarmgw.log"), errors="replace").read().splitlines()
named = [l for l in log if l.endswith("] device online")]
summed = sum(int(m.group(1)) for m in (re.search(r"(\d+) more devices online", l) for l in log) if m)
check(len(named) <= 20 and len(named) + summed == 100,
      f"device online: {len(named)} lines by device, {summed} more summed up (100 devices)")
finish()
