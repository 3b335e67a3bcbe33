#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""One short trial of bench/cluster/failover.py, to keep it working: 60 cameras, 3 instances, lease
TTL 5 s; the instance killed must have had cameras, all of them must be subscribed elsewhere, and
the figures must be written. The only bound judged is the issue's own (TTL + 5 s); the figures are
printed."""
import json
import os
import subprocess
import sys

from agwtest import BUILD, SOURCE, check, finish, tempdir
from clustertest import TEST_ONVIF, need_etcd

need_etcd()
out = os.path.join(tempdir("agw-bench-cluster-smoke-"), "failover.json")
TTL_S = 5
cmd = [sys.executable, os.path.join(SOURCE, "bench", "cluster", "failover.py"), "--build-dir", BUILD,
       "--cameras", "60", "--trials", "1", "--ttl", str(TTL_S), "--slots", "64", "--claim-rate", "1000",
       "--rate", "0.5", "--onvif", TEST_ONVIF, "--out", out]
print("running:", " ".join(cmd), flush=True)
p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240)
print(p.stdout[-3000:])
check(p.returncode == 0, f"failover.py exits 0 (got {p.returncode})")
fig = json.load(open(out)) if os.path.exists(out) else {}
runs = fig.get("runs", [])
check(len(runs) == 1 and runs[0]["cameras"] > 0 and runs[0]["moved"] == runs[0]["cameras"],
      f"the killed instance's cameras all moved: {runs[0]['moved'] if runs else '?'} of "
      f"{runs[0]['cameras'] if runs else '?'}")
last = fig.get("last_camera_s", {}).get("p50")
check(last is not None and last <= TTL_S + 5, f"last camera subscribed elsewhere after {last} s (TTL {TTL_S} s + 5 s)")
check(isinstance(runs[0].get("events_lost") if runs else None, int), "events lost in the gap are counted")
finish()
