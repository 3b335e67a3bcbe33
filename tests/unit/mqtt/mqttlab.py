# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for the MQTT integration tests: a real mosquitto on a random loopback port with a config
written by the test, subscribers (mosquitto_sub), agw-mqtt-driver runs, a test CA made with
openssl. Every process started here is registered and killed at exit, also on failure."""
import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("AGW_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../../build"))
DRIVER = os.path.join(BUILD, "tests/unit/mqtt/agw-mqtt-driver")

_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except Exception:
                pass


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))


def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    _procs.append(p)
    return p


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection((host, port), 0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        raise SystemExit(1)


class Broker:
    """mosquitto with the settings docs/mqtt.md gives for loss-free delivery: persistent sessions
    kept, no in-flight or queue limit that could drop messages for a slow persistent subscriber."""

    def __init__(self, workdir, name="broker", extra="", persistence=True, port=None, listeners=None):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.log = os.path.join(self.dir, "mosquitto.log")
        lines = []
        if os.geteuid() == 0:
            # as root mosquitto would switch to the "mosquitto" user, who cannot write here
            lines.append("user %s" % pwd.getpwuid(os.geteuid()).pw_name)
        lines += [
            "per_listener_settings false",
            "max_inflight_messages 0",
            "max_queued_messages 0",
            "max_queued_bytes 0",
            "persistent_client_expiration 1d",
            "log_dest file %s" % self.log,
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        if persistence:
            lines += ["persistence true", "persistence_location %s/" % self.dir, "autosave_interval 1"]
        if listeners is None:
            listeners = ["listener %d 127.0.0.1\nallow_anonymous true" % self.port]
        lines += listeners
        lines.append(extra)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self, wait_port_of=None):
        self.proc = spawn(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(wait_port_of or self.port):
            raise RuntimeError("mosquitto did not start; log: " + self.log_text()[-2000:])
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Lines:
    """Collects a process's stdout lines in a thread."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.lock:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait_for(self, pred, timeout):
        end = time.time() + timeout
        while time.time() < end:
            for line in self.snapshot():
                if pred(line):
                    return line
            if self.proc.poll() is not None and not self.thread.is_alive():
                break
            time.sleep(0.05)
        for line in self.snapshot():
            if pred(line):
                return line
        return None


class Driver:
    """agw-mqtt-driver: the publisher on a store (see mqtt_driver.c for its output lines)."""

    def __init__(self, db, uri, *args, stderr_path=None, env=None):
        self.stderr_path = stderr_path or (db + ".stderr")
        self.err = open(self.stderr_path, "ab")
        self.proc = spawn([DRIVER, "--db", db, "--uri", uri] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=self.err, env=env)
        self.out = Lines(self.proc)

    def wait_line(self, prefix, timeout):
        return self.out.wait_for(lambda l: l.startswith(prefix), timeout)

    def wait_exit(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            return None
        self.out.thread.join(5)
        return self.proc.returncode

    def terminate(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.wait_exit(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stderr(self):
        self.err.flush()
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def metrics(self):
        m = {}
        for line in self.out.snapshot():
            if line.startswith("METRIC "):
                _, key, value = line.split(" ", 2)
                m[key] = int(value)
        return m


class Sub:
    """mosquitto_sub on a persistent session (-c -i ID -q 1), lines to a file; it reconnects by
    itself after a broker restart."""

    def __init__(self, workdir, port, topic, client_id, verbose=True, extra=()):
        self.path = os.path.join(workdir, client_id + ".out")
        self.f = open(self.path, "ab")
        args = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", "1", "-c", "-i", client_id]
        if verbose:
            args.append("-v")
        self.proc = spawn(args + list(extra), stdout=self.f, stderr=subprocess.DEVNULL)

    def lines(self):
        self.f.flush()
        with open(self.path, errors="replace") as f:
            return [l.rstrip("\n") for l in f]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


def retained(port, topic, timeout=5, extra=()):
    """The retained message on topic, or None."""
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-C", "1", "-W",
                        str(timeout), "--retained-only"] + list(extra), capture_output=True, timeout=timeout + 5)
    out = r.stdout.decode(errors="replace").strip()
    return out or None


def pub(port, topic, message=None, file=None, qos=1, extra=()):
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", str(qos)] + list(extra)
    args += ["-f", file] if file else ["-m", message]
    subprocess.run(args, check=True, timeout=10)


def case_ids(lines):
    """Case ids from subscriber lines "topic payload" (or bare payloads), in arrival order."""
    import json
    ids = []
    for line in lines:
        brace = line.find("{")
        if brace < 0:
            continue
        try:
            obj = json.loads(line[brace:])
        except ValueError:
            continue
        if isinstance(obj, dict) and "case_id" in obj:
            ids.append(obj["case_id"])
    return ids


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    """A self-signed CA: d/name.key, d/name.crt."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=%s test CA" % name,
            "-keyout", name + ".key", "-out", name + ".crt", cwd=d)


def make_cert(d, ca, name, cn, san=None):
    """A certificate signed by ca: d/name.key, d/name.crt."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % cn, "-keyout", name + ".key", "-out",
            name + ".csr", cwd=d)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        if san:
            f.write("subjectAltName=%s\n" % san)
        f.write("basicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
            "-days", "2", "-out", name + ".crt", "-extfile", ext, cwd=d)


def workdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def release(w, ok, gateway=None, *servers):
    """Ends a test's run: kills the gateway if it still runs, stops the servers (None skipped), and
    removes the work directory after a pass or keeps it, named, after a failure."""
    if gateway is not None and gateway.proc and gateway.proc.poll() is None:
        gateway.kill()
    for s in servers:
        if s:
            s.stop()
    if ok:
        shutil.rmtree(w, ignore_errors=True)
    else:
        print("work directory kept: %s" % w)
