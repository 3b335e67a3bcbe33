#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""RTSP adapter evidence pictures are pruned by total size while the adapter runs.

A camera on alarmgw-rtspd's /switch mount is switched between a black and a normal picture; every
transition keeps a JPEG under <state>/evidence/sw/. With evidence_max_bytes small and a 1 s prune
interval, the directory must stay near the limit while more than the limit is written, the
newest pictures must survive, and the files an alert names must be JPEGs until pruned."""
import os
import time

from rtsptest import Alerts, fail, run, start_drive, start_rtspd, stop_drive


def evidence_files(state):
    d = os.path.join(state, "evidence", "sw")
    if not os.path.isdir(d):
        return []
    return sorted((os.path.getmtime(os.path.join(d, f)), os.path.join(d, f)) for f in os.listdir(d)
                  if f.endswith(".jpg"))


def main():
    import tempfile
    state = tempfile.mkdtemp(prefix="agw-rtsp-")
    server, port = start_rtspd()
    limit = 12000
    drive = start_drive(state, ["interval=1s", "jitter=0", f"evidence_max_bytes={limit}",
                                "evidence_prune_interval=1s"], [f"sw=rtsp://127.0.0.1:{port}/switch"])
    al = Alerts(drive)
    written = 0
    seen = set()
    for i in range(6):
        for show, active in (("black", True), ("normal", False)):
            server.send(f"show /switch {show}")
            end = time.time() + 60
            while time.time() < end:
                new = [a for a in al.of("sw") if a["data"].get("Evidence") and a["id"] not in seen]
                if new:
                    break
                al.pump(0.5)
            else:
                fail(f"no transition to {show}")
            for a in new:
                seen.add(a["id"])
                path = os.path.join(state, a["data"]["Evidence"])
                if os.path.exists(path):
                    written += os.path.getsize(path)
    al.pump(2.5)  # at least two prune intervals after the last picture
    files = evidence_files(state)
    total = sum(os.path.getsize(p) for _, p in files)
    print(f"  {len(seen)} pictures written ({written} bytes seen), {len(files)} kept, {total} bytes on disk,"
          f" limit {limit}")
    if written <= limit:
        fail("the test did not write more than the limit")
    if total > limit:
        fail(f"evidence directory holds {total} bytes > {limit}")
    newest = max(seen)  # ids are the relative paths, time-stamped: the greatest is the newest
    if not os.path.exists(os.path.join(state, newest)):
        fail(f"the newest picture {newest} was pruned")
    with open(os.path.join(state, newest), "rb") as f:
        if f.read(2) != b"\xff\xd8":
            fail("the newest picture is not a JPEG")
    stop_drive(drive, 30, check_exit=False)
    print("PASS")


run(main)
