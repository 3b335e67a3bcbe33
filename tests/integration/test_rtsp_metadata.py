#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""RTSP adapter: the ONVIF metadata track, credentials, timeouts and prompt shutdown, against the
real GStreamer test server (alarmgw-rtspd) on loopback.

Checks: motion events sent on the /meta stream's application/vnd.onvif.metadata track (split over
RTP packets) come out as normalized motion alerts, in order, with the events' ids; a camera with
the right credentials in the ledger is patrolled (the metadata session uses them too), one with a
wrong password or none is video loss (401);
the password never appears in any output, even at debug level with FFmpeg's own log; a camera
that accepts TCP but never answers is video loss by the patrol deadline; stopping the adapter while
such a patrol is in flight does not wait for the patrol's deadline."""
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

    def wait(self, camera, cond, active, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            for a in self.all:
                if a["camera"] == camera and a["data"].get("Condition") == cond and a["active"] == active:
                    return a
            self.pump(0.5)
        fail(f"no {cond} {'raise' if active else 'clear'} for {camera} within {timeout}s")

    def of(self, camera):
        return [a for a in self.all if a["camera"] == camera]



def start_drive(state, sets, cams, debug=False):
    argv = [DRIVE, "--state", state]
    for s in sets:
        argv += ["--set", s]
    for c in cams:
        argv += ["--camera", c]
    if debug:
        argv.append("--debug")
    d = Proc(argv)
    if d.line(10) != "READY":
        fail("driver did not start")
    return d


def stop_drive(d, within):
    """Sends quit; returns the stop time the driver measured and the alerts that came meanwhile."""
    t0 = time.time()
    d.send("quit")
    late = []
    while time.time() - t0 < within:
        line = d.line(0.5)
        if line and line.startswith("{"):
            late.append(json.loads(line))
        if line and line.startswith("STOPPED"):
            d.p.wait(timeout=10)
            if d.p.returncode != 0:
                fail(f"driver exit code {d.p.returncode}")
            return int(line.split()[1]), late
    fail(f"driver did not stop within {within}s")


def main():
    import socket
    import tempfile
    state = tempfile.mkdtemp(prefix="agw-rtsp-")
    user, password = "operator", "s3cr3t@:/x"
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    server = Proc([RTSPD, "-p", "0", "--auth", f"{user}:{password}", "--meta-interval", "500"], env=env)
    port = None
    while port is None:
        line = server.line(20)
        if line is None:
            fail("alarmgw-rtspd did not get ready")
        if line.startswith("READY port="):
            port = int(line.split("=")[1])
    url = f"rtsp://127.0.0.1:{port}"
    # A "camera" that accepts the connection and never says a word.
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(128)
    hang_url = f"rtsp://127.0.0.1:{mute.getsockname()[1]}/live"

    drive = start_drive(state, ["interval=1s", "jitter=0", "timeout=5s", "io_timeout=5s",
                                "metadata_idle_timeout=2s"],
                        [f"meta={url}/meta,{user},{password}", f"auth={url}/normal,{user},{password}",
                         f"badauth={url}/normal,{user},wrong", f"noauth={url}/normal", f"hang={hang_url}"], debug=True)
    al = Alerts(drive)

    print("metadata track events become normalized alerts")
    end = time.time() + 40
    while time.time() < end and len([a for a in al.of("meta") if a["kind"] == "motion"]) < 4:
        al.pump(0.5)
    motion = [a for a in al.of("meta") if a["kind"] == "motion"]
    if len(motion) < 4:
        fail(f"expected 4 motion alerts from the metadata track, got {motion}")
    ids = [int(a["id"].split("-")[1]) for a in motion]
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        fail(f"event ids out of order or repeated: {ids}")
    for a in motion:
        n = int(a["id"].split("-")[1])
        want = n % 2 == 0  # the server alternates IsMotion true/false
        if a["active"] != want or a["topic"] != "tns1:RuleEngine/CellMotionDetector/Motion" \
                or a["adapter"] != "rtsp" or a["data"].get("IsMotion") not in ("true", "false") \
                or not a["camera_time"]:
            fail(f"unexpected metadata alert {a}")
    print("  ids", ids)

    print("a metadata session that goes quiet is closed and reopened; events resume")
    server.send("mute /meta")
    quiet = lambda: any("[rtsp:meta] metadata session ended" in l and "no metadata for" in l for l in drive.err)
    end = time.time() + 30
    while time.time() < end and not quiet():
        al.pump(0.5)
    if not quiet():
        fail("the quiet metadata session was not closed")
    a = al.wait("meta", "video_loss", True)  # the patrols see the muted stream too
    print("  muted:", a["data"]["Reason"])
    last = max(int(a["id"].split("-")[1]) for a in al.of("meta") if a["kind"] == "motion")
    server.send("unmute /meta")
    al.wait("meta", "video_loss", False)
    end = time.time() + 40
    resumed = lambda: [a for a in al.of("meta") if a["kind"] == "motion" and int(a["id"].split("-")[1]) > last]
    while time.time() < end and len(resumed()) < 2:
        al.pump(0.5)
    if len(resumed()) < 2:
        fail("metadata events did not resume after the stream came back")
    print("  resumed with ids", [a["id"] for a in resumed()])

    print("credentials: right ones patrol, wrong ones are video loss, none is ever printed")
    a = al.wait("badauth", "video_loss", True)
    if "401" not in a["data"].get("Reason", ""):
        fail(f"wrong password should be a 401: {a}")
    a = al.wait("noauth", "video_loss", True)
    if "401" not in a["data"].get("Reason", ""):
        fail(f"no credentials should be a 401: {a}")
    a = al.wait("hang", "video_loss", True)
    if "timed out" not in a["data"].get("Reason", ""):
        fail(f"a silent camera should time out: {a}")
    print("  hang:", a["data"]["Reason"])
    end = time.time() + 20
    while time.time() < end and not any("[rtsp:auth] patrol: " in l for l in drive.err):
        al.pump(0.5)
    if not any("[rtsp:auth] patrol: " in l for l in drive.err):
        fail("the camera with credentials was never patrolled")
    if al.of("auth"):
        fail(f"the camera with the right credentials raised {al.of('auth')}")
    stopped_ms, late = stop_drive(drive, 30)
    al.all += late
    from urllib.parse import quote
    text = "\n".join(drive.err) + "\n" + "\n".join(json.dumps(a) for a in al.all)
    for secret in (password, quote(password, safe=""), "s3cr3t"):
        if secret in text:
            fail(f"the password appears in the output ({secret!r})")
    print(f"  {len(drive.err)} log lines and {len(al.all)} alerts checked: no password")

    print("stop does not wait for a patrol stuck on a silent camera")
    drive = start_drive(state, ["interval=1s", "jitter=0", "timeout=120s", "io_timeout=120s"], [f"hang={hang_url}"])
    time.sleep(2)  # the patrol is connected and waiting for an answer
    stopped_ms, late = stop_drive(drive, 60)
    print(f"  stopped in {stopped_ms} ms with a 120 s patrol deadline pending")
    if stopped_ms >= 120000:
        fail("stop waited for the patrol deadline")
    if late:
        fail(f"stopping raised alerts: {late}")
    mute.close()
    print("PASS")


try:
    main()
finally:
    for p in procs:
        p.stop()
