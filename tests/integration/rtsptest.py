# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared scaffolding for the RTSP adapter tests that run agw-rtsp-drive (the adapter alone on a uv
loop, alerts as JSON lines) against alarmgw-rtspd (the GStreamer test server) on loopback: the
child processes with their output pumped by threads, the first failure ending the test with the
children's stderr, the server start, the driver start and stop, and the alerts with bounded waits.
Not a test itself (ctest registers only test_*.py)."""
import json
import os
import queue
import subprocess
import threading
import time

from agwtest import BUILD

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
    """Ends the test at the first failure, with the last stderr lines of every child."""
    print("FAIL:", msg)
    for p in procs:
        print("--- stderr of", os.path.basename(p.argv[0]))
        print("\n".join(p.err[-30:]))
    raise SystemExit(1)


def run(main):
    """Runs main and stops every child whatever happens."""
    try:
        main()
    finally:
        for p in procs:
            p.stop()


def start_rtspd(port=0, args=()):
    """Starts alarmgw-rtspd (port 0: any free one); returns the server and the port it listens on."""
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")  # GStreamer keeps globals until exit
    s = Proc([RTSPD, "-p", str(port), *args], env=env)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = s.line(1)
        if line and line.startswith("READY port="):
            return s, int(line.split("=")[1])
    fail("alarmgw-rtspd did not get ready")


def start_drive(state, sets, cams, debug=False, extra=()):
    """Starts agw-rtsp-drive with --set options and --camera ID=URL[,USER,PASSWORD] entries."""
    argv = [DRIVE, "--state", state]
    for s in sets:
        argv += ["--set", s]
    for c in cams:
        argv += ["--camera", c]
    if debug:
        argv.append("--debug")
    argv += extra
    d = Proc(argv)
    if d.line(10) != "READY":
        fail("driver did not start")
    return d


def stop_drive(d, within, check_exit=True):
    """Sends quit; returns the stop time the driver measured and the alerts that came meanwhile."""
    t0 = time.time()
    d.send("quit")
    late = []
    while time.time() - t0 < within:
        line = d.line(0.5)
        if line and line.startswith("{"):
            late.append(json.loads(line))
        if line and line.startswith("STOPPED"):
            if check_exit:
                d.p.wait(timeout=10)
                if d.p.returncode != 0:
                    fail(f"driver exit code {d.p.returncode}")
            return int(line.split()[1]), late
    fail(f"driver did not stop within {within}s")


class Alerts:
    """Alerts from the driver, in order, with waiting helpers; alerts the driver refused (--refuse)
    are kept apart."""

    def __init__(self, drive, timeout=60):
        self.drive = drive
        self.timeout = timeout
        self.all = []
        self.refused = []

    def pump(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            line = self.drive.line(0.2)
            if line and line.startswith("REFUSED "):
                self.refused.append(json.loads(line[8:]))
                print("  refused", self.refused[-1]["camera"], self.refused[-1]["data"].get("Condition"))
            if line and line.startswith("{"):
                a = json.loads(line)
                self.all.append(a)
                print("  alert", a["camera"], a["kind"], a["data"].get("Condition"), a["active"],
                      a["data"].get("Reason", ""))

    def wait(self, camera, cond, active, timeout=None):
        timeout = timeout or self.timeout
        end = time.time() + timeout
        while time.time() < end:
            for a in self.all:
                if a["camera"] == camera and a["data"].get("Condition") == cond and a["active"] == active:
                    return a
            self.pump(0.5)
        fail(f"no {cond} {'raise' if active else 'clear'} for {camera} within {timeout}s")

    def of(self, camera):
        return [a for a in self.all if a["camera"] == camera]
