# SPDX-License-Identifier: GPL-2.0-or-later
"""A picture for GB/T 28181 cases: the gb28181 adapter has no picture of its own (SIP carries none),
so the evidence scheduler falls back to the ledger row's snapshot_url, an HTTP JPEG with Digest as
many GB devices also serve (docs/case-message.md "Where a picture comes from"). gbsim serves each
channel's JPEG (--snapshot-port, Digest only) and writes the URL and its credentials in the ledger.

Checked: every GB case carries a stored picture (camsim's JPEG: its SHA-256, 32x24), asked of its
own channel's URL, once per picture (gbsim served exactly as many as are stored, after a Digest
challenge); a channel whose device answers 503 gets a failed entry saying so, and nothing else of
it changes; no entry says the adapter had no snapshot."""
import hashlib
import json
import os
import subprocess
import sys

from agwtest import Gateway, check, finish, free_port, spawn, sql, tempdir

SRC = os.environ.get("AGW_SOURCE_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "sim", "gbsim"))
from gbsim import camsim_jpeg  # noqa: E402

JPEG = camsim_jpeg()
SHA = hashlib.sha256(JPEG).hexdigest()
work = tempdir("agw-gbev-")
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
ledger = os.path.join(work, "ledger.csv")
port, snap_port = free_port(), free_port()
# 3 NVRs of 2 channels; the 6th channel's snapshot answers 503
sim_args = ["--server", f"127.0.0.1:{port}", "--devices", "3", "--channels", "2", "--rate", "1.5",
            "--keepalive", "2", "--spread", "0.2", "--ledger", ledger, "--snapshot-port", str(snap_port),
            "--snapshot-password", "s3cret-snap", "--snapshot-fail-every", "6"]
gbsim = [sys.executable, os.path.join(SRC, "tests", "sim", "gbsim", "gbsim.py")]
spawn(gbsim + sim_args + ["--ledger-only"]).wait(timeout=30)
conf = os.path.join(work, "alarmgw.conf")
with open(conf, "w") as f:
    f.write(f'gateway: {{ id = "gbev-gw"; state_dir = "{state}"; log_level = "info"; }};\n'
            f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'  # no broker: the pictures wait in the outbox
            f'cameras: {{ ledger = "{ledger}"; }};\n'
            f'evidence: {{ min_interval = "0s"; min_free_bytes = 16777216; }};\n'  # not the 1 GiB default: /tmp may be short
            f'adapters: {{ gb28181: {{ listen = "127.0.0.1:{port}"; password = "12345678"; keepalive_interval = "2s"; }}; }};\n')
gw = Gateway(conf).start()
gw.wait_log(r"SIP server .* listening on udp")
sim = spawn(gbsim + sim_args + ["--duration", "6"], stdout=subprocess.PIPE, text=True)
out, _ = sim.communicate(timeout=90)
stats = json.loads(out.strip().splitlines()[-1].split("gbsim: ", 1)[1])
code, _ = gw.stop(timeout=30)
check(code == 0, "the gateway stopped cleanly (%s)" % code)

urls = {r[0]: r[1] for r in sql(db, "SELECT id, snapshot_url FROM cameras")}
check(len(urls) == 6 and all(u and u.startswith(f"http://127.0.0.1:{snap_port}/snapshot/") for u in urls.values()),
      "the ledger's snapshot_url of every channel was imported (%d)" % len(urls))
failing = [c for c, u in urls.items() if u.endswith("0000006.jpg")]
cases = sql(db, "SELECT id, camera_id FROM cases")
rows = sql(db, "SELECT case_id, camera_id, status, reason, type, source, sha256, width, height FROM evidence")
check(len(cases) >= 6, "the alarms made cases (%d)" % len(cases))
stored = {r[0]: r for r in rows if r[2] == "stored"}
without = [c for c in cases if c[0] not in stored and c[1] not in failing]
check(not without, "every GB case carries a picture, but the failing channel's (%d cases, without: %s)"
      % (len(cases), [r for r in rows if r[0] in {w[0] for w in without}][:2]))
check(all(r[4] == "snapshot" and r[5] == urls[r[1]] and r[6] == SHA and (r[7], r[8]) == (32, 24)
          for r in stored.values()),
      "each picture is the device's JPEG, asked of its own channel's URL (%d)" % len(stored))
bad = [r for r in rows if r[1] in failing]
check(bad and all(r[2] == "failed" and "HTTP 503" in (r[3] or "") and urls[r[1]] in r[3] for r in bad),
      "the channel whose device answers 503: failed entries saying so (%s)" % bad[:1])
check(not [r for r in rows if "no snapshot" in (r[3] or "")], "no entry says the adapter had no snapshot")
check(stats["snapshots"] == len(stored) and stats["snapshot_401"] >= 1,
      "gbsim served one JPEG per stored picture (%d served, %d stored), after Digest challenges (%d)"
      % (stats["snapshots"], len(stored), stats["snapshot_401"]))
finish()
