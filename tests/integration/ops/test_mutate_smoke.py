#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A bounded run of the CLI mutation campaign (bench/mutate/mutate.py): 25 mutated inputs of each
kind (event documents of every adapter, ledger, grid, alerts, rules, configuration), seeded with
the real captures, through the sanitizer build of alarmgw, after the saved findings of earlier runs
(tests/fixtures/mutate/KIND-what.input). The seed is fixed, so a failure here
reproduces; the campaign at length runs with other seeds (docs/reliability.md). A crash, a sanitizer
report, a hang, an undocumented exit status or a failure without a reason on stderr fails it."""
import os
import subprocess
import sys

build = os.environ.get("AGW_BUILD_DIR")
source = os.environ.get("AGW_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
if not build:
    print("AGW_BUILD_DIR is not set")
    sys.exit(1)
out = os.path.join(build, "mutate-smoke-findings")
cmd = [sys.executable, os.path.join(source, "bench", "mutate", "mutate.py"), "--build-dir", build,
       "--runs", "25", "--seed", "20261203", "--jobs", "2", "--out", out,
       "--replay", os.path.join(source, "tests", "fixtures", "mutate")]
print("running:", " ".join(cmd))
p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
print(p.stdout)
lines = [l for l in p.stdout.splitlines() if l.split() and l.split()[0] in
         ("onvif", "isapi", "dahua", "gb28181", "ledger", "grid", "alerts", "rules", "config")]
ok = p.returncode == 0 and len(lines) == 9 and "mutate: 0 finding(s)" in p.stdout
print("%s: every kind ran (%d of 9) and made no finding (exit %d)" % ("ok" if ok else "FAIL", len(lines), p.returncode))
sys.exit(0 if ok else 1)
