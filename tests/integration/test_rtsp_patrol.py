#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""RTSP patrol diagnosis against the real GStreamer test server (alarmgw-rtspd) on loopback.

Runs the RTSP adapter (agw-rtsp-drive: the adapter alone on a uv loop, alerts as JSON lines) and
checks: a normal picture raises nothing; an alert the core refuses is emitted again by the next
patrol; black, covered and frozen pictures each raise exactly one
alert with an evidence JPEG; on one camera whose picture the server switches, each condition
clears when the picture is back; a stopped mount raises video_loss and clears on start; killing
the whole server raises video_loss, and restarting it on the same port clears it."""
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


def check_evidence(state, a):
    rel = a["data"].get("Evidence")
    if not rel:
        fail(f"{a['camera']} {a['data']['Condition']}: no Evidence item")
    path = os.path.join(state, rel)
    with open(path, "rb") as f:
        head = f.read(3)
    if head[:2] != b"\xff\xd8":
        fail(f"{path} is not a JPEG")
    print("  evidence", rel, os.path.getsize(path), "bytes")


def main():
    import tempfile
    state = tempfile.mkdtemp(prefix="agw-rtsp-")
    server, port = start_rtspd()
    url = f"rtsp://127.0.0.1:{port}"
    drive = Proc([DRIVE, "--state", state, "--set", "interval=1s", "--set", "jitter=0", "--set", "timeout=10s",
                  "--set", "io_timeout=5s", "--set", "frozen_count=3",
                  "--camera", f"normal={url}/normal", "--camera", f"black={url}/black",
                  "--camera", f"frozen={url}/frozen", "--camera", f"covered={url}/covered",
                  "--camera", f"sw={url}/switch", "--refuse", "1"])
    if drive.line(10) != "READY":
        fail("driver did not start")
    al = Alerts(drive)

    print("each diagnosis raises once, with its kind and evidence")
    expect = {"black": ("black", "tamper"), "covered": ("covered", "tamper"), "frozen": ("frozen", "device_health")}
    for cam, (cond, kind) in expect.items():
        a = al.wait(cam, cond, True)
        if a["kind"] != kind or a["adapter"] != "rtsp" or a["data"].get("State") != "true":
            fail(f"{cam}: unexpected alert {a}")
        check_evidence(state, a)
    al.pump(3)  # a few more patrols: nothing repeats
    for cam, (cond, kind) in expect.items():
        got = al.of(cam)
        if len(got) != 1:
            fail(f"{cam}: expected exactly one alert, got {len(got)}: {got}")
    for cam in ("normal", "sw"):
        if al.of(cam):
            fail(f"{cam}: a normal picture raised {al.of(cam)}")
    print("  normal pictures raised nothing")
    # The driver refused the very first alert (as a full core queue would): it must have come again.
    if len(al.refused) != 1:
        fail(f"expected one refused alert, got {al.refused}")
    r = al.refused[0]
    again = [a for a in al.of(r["camera"]) if a["data"]["Condition"] == r["data"]["Condition"]
             and a["active"] == r["active"]]
    if len(again) != 1:
        fail(f"the refused {r['camera']} {r['data']['Condition']} alert was not emitted again once")
    print("  refused alert emitted again by the next patrol:", r["camera"], r["data"]["Condition"])

    print("each condition clears when the picture is back")
    for show in ("black", "covered", "frozen"):
        server.send(f"show /switch {show}")
        al.wait("sw", show, True)
        server.send("show /switch normal")
        c = al.wait("sw", show, False)
        if c["kind"] != expect[show][1]:
            fail(f"clear of {show} has kind {c['kind']}")
    got = [(a["data"]["Condition"], a["active"]) for a in al.of("sw")]
    want = [("black", True), ("black", False), ("covered", True), ("covered", False), ("frozen", True),
            ("frozen", False)]
    if got != want:
        fail(f"sw transitions {got} != {want}")
    print("  sw transitions:", got)

    print("a stopped mount is video loss; starting it again clears it")
    server.send("stop /switch")
    a = al.wait("sw", "video_loss", True)
    if a["kind"] != "video_loss" or "404" not in a["data"].get("Reason", ""):
        fail(f"unexpected video_loss alert {a}")
    server.send("start /switch")
    al.wait("sw", "video_loss", False)

    print("the server going away is video loss; it coming back on the same port clears it")
    server.stop()
    a = al.wait("normal", "video_loss", True)
    al.wait("black", "video_loss", True)  # keep the outage until both were patrolled in it
    print("  reason:", a["data"].get("Reason"))
    server, port2 = start_rtspd(port)
    if port2 != port:
        fail(f"restarted server on {port2}, not {port}")
    al.wait("normal", "video_loss", False)
    al.wait("black", "video_loss", False)
    al.pump(2)
    # The frozen and black cameras stay in their condition through the outage: no clear.
    for cam, (cond, _) in (("frozen", expect["frozen"]), ("black", expect["black"])):
        if any(a["data"]["Condition"] == cond and not a["active"] for a in al.of(cam)):
            fail(f"{cam}: {cond} cleared although the picture never came back")
    normal_conds = {a["data"]["Condition"] for a in al.of("normal")}
    if normal_conds != {"video_loss"}:
        fail(f"normal camera raised {normal_conds}")

    drive.send("quit")
    end = time.time() + 30
    stopped = None
    while time.time() < end and stopped is None:
        line = drive.line(1)
        if line and line.startswith("STOPPED"):
            stopped = line
    if stopped is None:
        fail("driver did not stop")
    drive.p.wait(timeout=10)
    if drive.p.returncode != 0:
        fail(f"driver exit code {drive.p.returncode}")
    print("  driver", stopped.lower(), "ms")
    print("PASS")


try:
    main()
finally:
    for p in procs:
        p.stop()
