#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The benchmarks under bench/ at a tiny size, so that they keep building and running: each must
exit 0 and print its figures (a positive rate where it prints one). No figure is judged here: speed
is for the benchmarks to print (docs/performance.md), not for a test to assert."""
import os
import re
import shutil
import subprocess
import sys

build = os.environ.get("AGW_BUILD_DIR")
if not build:
    print("AGW_BUILD_DIR is not set")
    sys.exit(1)

failures = []


def check(cond, what):
    print("%s: %s" % ("ok" if cond else "FAIL", what))
    if not cond:
        failures.append(what)


def run(name, argv, figure, positive=True):
    """Runs a bench; figure is a regex whose first group is a number the bench must print (> 0 when
    positive: a rate; a duration of a tiny run may print as 0.0)."""
    exe = os.path.join(build, "bench", argv[0])
    if not os.access(exe, os.X_OK):
        check(False, "%s is built (%s)" % (name, exe))
        return
    p = subprocess.run([exe] + argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240)
    print(p.stdout[-2000:])
    check(p.returncode == 0, "%s exits 0 (%d)" % (name, p.returncode))
    m = re.search(figure, p.stdout)
    check(m is not None and (float(m.group(1)) > 0 or not positive), "%s prints its figure /%s/ (%s)" % (name, figure,
                                                                                     m.group(1) if m else None))


run("bench_rules", ["rules/bench_rules", "1", "2000"], r"full .*?: (\d+) alerts/s")
run("bench_decider", ["rules/bench_decider", "1", "2000", "500"], r"outbox: (\d+) alerts/s")
run("bench_reload", ["reload/bench_reload", "--rows", "1000"], r"parse \+ duplicate check.*?([\d.]+) ms", positive=False)
if shutil.which("mosquitto"):
    run("bench-publish", ["publish/bench-publish", "--messages", "2000", "--runs", "1"],
        r"median\s+\d+\s+\d+\s+([\d.]+)")
else:
    print("skip bench-publish: mosquitto not installed")

sys.exit(1 if failures else 0)
