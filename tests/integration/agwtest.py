# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for the integration tests: free loopback ports, a real mosquitto, the gateway
process with its log captured, bounded waits, and sqlite look-ups. Every process a test starts is
stopped at exit, also when the test fails."""
import atexit
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("AGW_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE = os.environ.get("AGW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
ALARMGW = os.path.join(BUILD, "gateway", "alarmgw")

_processes = []
_tempdirs = []
_passed = False


def _cleanup():
    for p in _processes:
        if p.poll() is None:
            p.kill()
            p.wait()
    # A passed test's files go (a cluster test leaves ~400 MB); a failed one's stay for the
    # post-mortem, and AGW_KEEP_TMP=1 keeps them always.
    if _passed and not os.environ.get("AGW_KEEP_TMP"):
        for d in _tempdirs:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)

failures = 0


def check(cond, what):
    """Records one assertion; the test exits non-zero at the end if any failed."""
    global failures
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures += 1
    return cond


def finish():
    global _passed
    print(f"{'FAILED' if failures else 'PASSED'}: {failures} failed check(s)", flush=True)
    _passed = not failures
    sys.exit(1 if failures else 0)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(fn, what, timeout=10.0, interval=0.05):
    """Polls fn until it returns a true value or the time is up (then raises)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def tempdir(prefix="agw-it-"):
    """A fresh directory, removed at exit when the test passed (see _cleanup)."""
    d = tempfile.mkdtemp(prefix=prefix)
    _tempdirs.append(d)
    return d


def sql(db, query, args=()):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def spawn(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    _processes.append(p)
    return p


class Mosquitto:
    """A real broker on a random loopback port. persistence keeps sessions and queued messages
    across restarts (the no-loss configuration: see docs/mqtt.md)."""

    def __init__(self, workdir, persistence=True, extra=""):
        self.dir = workdir
        self.port = free_port()
        self.conf = os.path.join(workdir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
            if persistence:
                f.write(f"persistence true\npersistence_location {workdir}/\nautosave_interval 1\n")
            f.write("max_inflight_messages 0\nmax_queued_messages 0\n" + extra)
        self.proc = None

    def start(self):
        self.proc = spawn(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._listening, "mosquitto to listen")
        return self

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    @property
    def uri(self):
        return f"tcp://127.0.0.1:{self.port}"


class Gateway:
    """`alarmgw run -c CONFIG` with stderr captured line by line."""

    def __init__(self, config, env=None):
        self.config = config
        self.env = env
        self.proc = None
        self.lines = []
        self._lock = threading.Lock()

    def start(self):
        self.lines = []
        self.proc = spawn([ALARMGW, "run", "-c", self.config], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, env=self.env)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def log(self):
        with self._lock:
            return list(self.lines)

    def wait_log(self, pattern, timeout=15.0):
        rx = re.compile(pattern)
        return wait_for(lambda: next((l for l in self.log() if rx.search(l)), None) or
                        (self.proc.poll() is not None and _raise_exited(self)), f"log line /{pattern}/", timeout)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10.0):
        """SIGTERM; returns (exit code, seconds it took)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        if code != 0:  # a sanitizer's report is at the end of the log: show it where the failure is
            time.sleep(0.2)  # the reader thread takes the last lines
            print(f"--- alarmgw exited {code} on SIGTERM; its last lines:\n" + "\n".join(self.log()[-80:]), flush=True)
        return code, time.monotonic() - t0

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def _raise_exited(gw):
    raise RuntimeError(f"alarmgw exited with {gw.proc.returncode}; log:\n" + "\n".join(gw.log()[-30:]))


def alarmgw(*args, check_rc=None, input=None):
    """Runs an alarmgw subcommand; returns (rc, stdout, stderr)."""
    p = subprocess.run([ALARMGW, *args], capture_output=True, text=True, input=input, timeout=120)
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError(f"alarmgw {' '.join(args)} exited {p.returncode}, wanted {check_rc}:\n{p.stderr}")
    return p.returncode, p.stdout, p.stderr
