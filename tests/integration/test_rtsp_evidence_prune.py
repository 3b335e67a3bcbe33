#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""RTSP adapter evidence pictures are pruned by total size while the adapter runs.

A camera on alarmgw-rtspd's /switch mount is switched between a black and a normal picture; every
transition keeps a JPEG under <state>/evidence/sw/. With evidence_max_bytes small and a 1 s prune
interval, the directory must stay near the limit while more than the limit is written, the
newest pictures must survive, and the files an alert names must be JPEGs until pruned."""
import json
import os
import queue
import subprocess
import sys
import threading
import time

BUILD = os.environ.get("AGW_BUILD_DIR", "build")
RTSPD = os.path.join(BUILD, "tests/sim/rtspd/alarmgw-rtspd")
DRIVE = os.path.join(BUILD, "tests/sim/rtspd/agw-rtsp-drive")
procs = []


class Proc:
    """A child whose stdout lines are queued by a thread; stderr is kept."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, bufsize=1, env=env)
        self.lines = queue.Queue()
        self.err = []
        threading.Thread(target=self._pump, args=(self.p.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.p.stderr, self.err.append), daemon=True).start()
        procs.append(self)

    @staticmethod
    def _pump(f, put):
        for line in f:
            put(line.rstrip("\n"))

    def line(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def send(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def fail(msg):
    print("FAIL:", msg)
    for p in procs:
        print("--- stderr of", os.path.basename(p.argv[0]))
        print("\n".join(p.err[-30:]))
    raise SystemExit(1)


def start_rtspd(port=0):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")  # GStreamer keeps globals until exit
    s = Proc([RTSPD, "-p", str(port)], env=env)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = s.line(1)
        if line and line.startswith("READY port="):
            return s, int(line.split("=")[1])
    fail("alarmgw-rtspd did not get ready")


class Alerts:
    """Alerts from the driver, in order, with waiting helpers."""

    def __init__(self, drive):
        self.drive = drive
        self.all = []

    def pump(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            line = self.drive.line(0.2)
            if line and line.startswith("{"):
                a = json.loads(line)
                self.all.append(a)
                print("  alert", a["camera"], a["kind"], a["data"].get("Condition"), a["active"],
                      a["data"].get("Reason", ""))

    def wait(self, camera, cond, active, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            for a in self.all:
                if a["camera"] == camera and a["data"].get("Condition") == cond and a["active"] == active:
                    return a
            self.pump(0.5)
        fail(f"no {cond} {'raise' if active else 'clear'} for {camera} within {timeout}s")

    def of(self, camera):
        return [a for a in self.all if a["camera"] == camera]



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
    drive = Proc([DRIVE, "--state", state, "--set", "interval=1s", "--set", "jitter=0",
                  "--set", f"evidence_max_bytes={limit}", "--set", "evidence_prune_interval=1s",
                  "--camera", f"sw=rtsp://127.0.0.1:{port}/switch"])
    if drive.line(10) != "READY":
        fail("driver did not start")
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
    drive.send("quit")
    end = time.time() + 30
    while time.time() < end:
        line = drive.line(1)
        if line and line.startswith("STOPPED"):
            break
    else:
        fail("driver did not stop")
    print("PASS")


try:
    main()
finally:
    for p in procs:
        p.stop()
