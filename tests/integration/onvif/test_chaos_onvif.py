#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Chaos through the ONVIF path, with nothing re-fed by the harness.

alarmgw-camsim (a few hundred cameras raising alarms), the gateway (`alarmgw run`, rules that turn
every event into a case message), a real mosquitto configured for loss-free delivery (persistence,
no in-flight or queue limits) and a persistent QoS 1 subscriber (mosquitto_sub -c -i ID -q 1: the
platform's side). While camsim keeps raising alarms the harness injects, on a schedule: graceful
gateway restarts (SIGTERM, start again), broker SIGKILLs (restarted on the same port from its
persistence), a foreign write lock on the gateway's database (another process holds BEGIN
IMMEDIATE for seconds), a full disk under the state directory (a small tmpfs filled to the last
byte, then freed), gateway SIGKILLs, and optionally cut (malformed) PullMessages answers.

At the end the cameras are rebooted for good (nothing more is queued; what is still on a camera is
logged as dropped "reboot" and is not expected), the gateway drains, and every event camsim queued
is reconciled by its EventId into exactly one bucket (see docs/reliability.md):

  expected  = events camsim queued  -  those still queued on the camera at the end
  expected == delivered (in a case message the subscriber received)
            + rule drops (journaled, dropped by a rule, by reason)
            + losses, each with its reason

The unit is the camera event: camsim queues one copy per live subscription, and an event is
delivered when any copy is. Allowed losses: a gateway SIGKILL's answers in flight (answers camsim
wrote after the gateway's last commit for that camera, before it ran again), and events of an answer
that could not be read when the platform got an events_lost alert for it. Any other loss fails the
test, and so does an inactive edge dropped because its start was never turned into a case (the
Initialized state after a resubscribe opened none, or the engine forgot the case), except for an
alarm already active when the gateway first heard the camera.

Defaults are the CI smoke (200 cameras, one 60 s fault cycle, ~100 s in all);
bench/chaos/chaos_onvif.py runs longer campaigns; --help lists the knobs; --reconcile WORKDIR
reconciles a kept work directory again."""
import argparse
import collections
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(HERE, "../unit/mqtt"))
sys.path.insert(0, HERE)
import agwtest  # noqa: E402
from mqttlab import Broker, Sub  # noqa: E402

CASE_TOPIC = "agw/cases/#"
PROBE_TOPIC = "agw/cases/chaos-probe"
# Every camsim kind but motionalarm: VideoSource/MotionAlarm and CellMotionDetector both normalize to
# "motion", and the engine pairs edges by camera + kind, so the end of one would close the other's
# case and its own end would be dropped (a pairing question, not a loss; see docs/reliability.md).
MIX = "motion=3,tamper=1,line=1,intrusion=1,scenechange=1,input=1"
INACTIVE_WITHOUT_CASE = "inactive edge without an active case"
FIGURES_PATH = None  # bench/chaos: where to write the figures as JSON
# Inactive edges dropped for want of an active case that are not a failure: the start is itself
# counted as lost; or the alarm was already active when the gateway first heard the camera (a camera
# heard for the first time opens no case for the states it reports: rules.md, resync_unknown_after).
NO_CASE_ALLOWED = ("its start is lost (above)",
                   "started while not listening, Initialized opened no case (first subscription)")


def log(*a):
    print("[chaos %s]" % time.strftime("%H:%M:%S"), *a, flush=True)


# ---------------------------------------------------------------- processes


class Procs:
    """Every process the run starts; stop_all() ends them (SIGCONT first, then SIGTERM, then
    SIGKILL after a bound), also when the run fails."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        p = agwtest.spawn(argv, **kw)
        self.procs.append(p)
        return p

    @staticmethod
    def stop(p, timeout=15.0):
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGCONT)
                p.terminate()
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        return p.returncode

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p, timeout=10)
        self.procs = []


class Tmpfs:
    """A small file system for the state directory, so that it can be filled for real: a tmpfs
    mount (needs root or CAP_SYS_ADMIN). fill() writes a filler file until ENOSPC; free() removes
    it. Without the right to mount, available is False and the run falls back to a file size limit
    (RLIMIT_FSIZE on the gateway process, see FsizeDisk)."""

    def __init__(self, path, size_mb):
        self.path = path
        self.mounted = False
        self.filler = os.path.join(path, "chaos-filler")
        os.makedirs(path, exist_ok=True)
        try:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0700" % size_mb, "tmpfs", path],
                               capture_output=True, text=True, timeout=30)
            self.mounted, self.why = r.returncode == 0, r.stderr.strip()
        except (OSError, subprocess.TimeoutExpired) as e:
            self.why = str(e)
        self.kind = "tmpfs %d MiB" % size_mb

    @property
    def available(self):
        return self.mounted

    def fill(self, _gw_pid):
        chunk = 1 << 20
        buf = b"\0" * chunk
        with open(self.filler, "wb", buffering=0) as f:
            while True:
                try:
                    f.write(buf)
                except OSError:
                    if chunk <= 512:
                        break
                    chunk //= 8
                    buf = b"\0" * chunk
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def free(self, _gw_pid):
        try:
            os.unlink(self.filler)
        except FileNotFoundError:
            pass

    def release(self):
        if self.mounted:
            r = subprocess.run(["umount", self.path], capture_output=True, timeout=30)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", self.path], capture_output=True, timeout=30)
            self.mounted = False


class FsizeDisk:
    """Fallback for a machine where mounting is not allowed: the gateway runs with SIGXFSZ ignored,
    and "full" sets its RLIMIT_FSIZE (prlimit) to the current size of its biggest file, so that any
    write that grows a file fails with EFBIG, the way a full disk fails a write with ENOSPC."""

    def __init__(self, state):
        self.state = state
        self.kind = "RLIMIT_FSIZE"
        os.makedirs(state, exist_ok=True)
        self.available = True

    def fill(self, gw_pid):
        import resource
        biggest = max((os.path.getsize(os.path.join(self.state, f)) for f in os.listdir(self.state)), default=0)
        resource.prlimit(gw_pid, resource.RLIMIT_FSIZE, (biggest, resource.RLIM_INFINITY))
        return 0

    def free(self, gw_pid):
        import resource
        try:
            resource.prlimit(gw_pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        except ProcessLookupError:
            pass

    def release(self):
        pass


def _ignore_sigxfsz():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class Gateway:
    """`alarmgw run`, its stderr appended to one log file across restarts."""

    def __init__(self, procs, config, logpath):
        self.procs = procs
        self.config = config
        self.logpath = logpath
        self.proc = None
        self.starts = 0

    def start(self, timeout=60.0):
        self.starts += 1
        with open(self.logpath, "a") as f:
            f.write("=== chaos: start %d at %.3f\n" % (self.starts, time.time()))
        offset = os.path.getsize(self.logpath)
        err = open(self.logpath, "a")
        self.proc = self.procs.start([agwtest.ALARMGW, "run", "-c", self.config], stdout=subprocess.DEVNULL,
                                     stderr=err, preexec_fn=_ignore_sigxfsz)
        err.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.logpath, errors="replace") as f:
                f.seek(offset)
                if "running: gateway" in f.read():
                    return time.time()
            if self.proc.poll() is not None:
                raise RuntimeError("alarmgw exited with %s at start %d (log %s)" %
                                   (self.proc.returncode, self.starts, self.logpath))
            time.sleep(0.05)
        raise RuntimeError("alarmgw did not report running within %.0f s" % timeout)

    def stop(self, timeout=30.0):
        """SIGTERM; (exit code or None if it had to be killed, seconds)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            code = None
        return code, time.monotonic() - t0

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


LOCK_SCRIPT = r"""
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("ROLLBACK")
con.close()
print("released", flush=True)
"""


def hold_write_lock(procs, db, seconds):
    """Another process takes the database's write lock (BEGIN IMMEDIATE) and holds it; returns
    (acquired at, released at) in epoch seconds."""
    p = procs.start([sys.executable, "-c", LOCK_SCRIPT, db, str(seconds)], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    t0 = time.time()
    if line.strip() != "locked":
        Procs.stop(p)
        raise RuntimeError("the lock holder did not get the write lock: %r" % line)
    try:
        p.wait(seconds + 30)
    except subprocess.TimeoutExpired:
        Procs.stop(p)
    return t0, time.time()


# ---------------------------------------------------------------- camsim


def low_free_port():
    import socket
    for _ in range(200):
        port = random.randrange(10000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below 32000")


def camsim_binary():
    return os.path.join(agwtest.BUILD, "tests", "sim", "camsim", "alarmgw-camsim")


def start_camsim(procs, work, args):
    evlog = os.path.join(work, "camsim-events.jsonl")
    ledger = os.path.join(work, "cameras.csv")
    out = os.path.join(work, "camsim.out")
    for attempt in range(8):
        # a run of ports below the ephemeral range: the cameras' listeners
        base = random.randrange(10000, 32000 - args.cameras)
        ctl = agwtest.free_port()
        p = procs.start([camsim_binary(), "-n", str(args.cameras), "-p", str(base), "--user", "admin",
                         "--password", "chaos", "--rate", str(args.rate), "--mix", MIX, "--events-log", evlog,
                         "--ledger", ledger, "--control-port", str(ctl), "--seed", str(args.seed),
                         "--queue-limit", str(args.camera_queue), "--log-level", "warning"],
                        stdout=open(out, "w"), stderr=open(os.path.join(work, "camsim.log"), "a"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None:
            with open(out) as f:
                if "ready" in f.read():
                    return p, ctl, evlog, ledger
            time.sleep(0.05)
        Procs.stop(p)
        log("camsim could not start on base port %d (attempt %d)" % (base, attempt + 1))
    raise RuntimeError("camsim did not start")


def camsim_call(ctl, path, method="GET", timeout=10):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (ctl, path), method=method,
                                 data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def live_subscriptions(ctl):
    try:
        st = camsim_call(ctl, "/stats")
        return sum(1 for c in st["cameras"] if c.get("live_subscriptions", 0) > 0)
    except (OSError, ValueError, KeyError):
        return -1


# ---------------------------------------------------------------- the run


def write_config(work, state, ledger, port, args):
    rules = os.path.join(work, "rules.conf")
    with open(rules, "w") as f:
        # Every camsim kind opens or updates a case; the inactive edge closes it: every event gives a
        # message carrying its EventId (the last evidence entry). No flood control, no clear timeout
        # (camsim always sends the inactive edge).
        f.write('version = 1;\n'
                'defaults = { dedup_window = "2m"; dedup_by = "camera"; clear_timeout = "0"; };\n'
                'flood = { camera = { max_cases = 0; window = "10m"; }; cell = { max_cases = 0; window = "10m"; }; };\n'
                'rules = ( { name = "every-event"; kinds = ["any"]; action = "open"; category = "chaos";'
                ' priority = 3; title = "{kind} at {camera}"; } );\n')
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write('gateway: { id = "chaos-gw"; state_dir = "%s"; log_level = "notice"; };\n' % state)
        f.write('cameras: { ledger = "%s"; };\n' % ledger)
        f.write('rules: { file = "%s"; };\n' % rules)
        f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; client_id = "chaos-gw"; topic_prefix = "agw"; inflight = 64;\n'
                '        keepalive = "5s"; reconnect_min = "200ms"; reconnect_max = "2s"; };\n' % port)
        # A short subscription lifetime, so that a subscription the gateway abandoned expires (and
        # camsim logs what it still held as dropped "expired") before the run ends.
        f.write('adapters: { onvif: { pull_timeout = "%s"; termination_time = "%s"; renew_margin = "%s"; }; };\n'
                % (args.pull_timeout, args.termination_time, args.renew_margin))
    return conf


def parse_seconds(d):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for u in ("ms", "s", "m", "h"):
        if d.endswith(u):
            return float(d[:-len(u)]) * units[u]
    return float(d)


def event_seq(eid):
    try:
        return int(eid.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def journal_tail(db):
    """What the gateway had committed: (last journal seq, last gateway_time ms, {camera: highest
    camsim event number journaled})."""
    con = sqlite3.connect(db, timeout=30)
    try:
        r = con.execute("SELECT max(seq), max(gateway_time) FROM alerts").fetchone()
        cams = {}
        for cam, eid in con.execute("SELECT camera_id, event_id FROM alerts WHERE event_id IS NOT NULL"):
            cams[cam] = max(cams.get(cam, -1), event_seq(eid))
        return (r[0] or 0, r[1] or 0, cams)
    finally:
        con.close()


def schedule(args):
    """The fault plan: [(second from the start, action)], one cycle repeated --cycles times."""
    cycle = [("malformed", 1.0), ("restart", 5.0), ("broker_kill", 14.0), ("lock", 22.0),
             ("restart", 36.0), ("disk_full", 42.0), ("broker_kill", 55.0), ("gw_kill", 60.0),
             ("gw_kill", 68.0)]
    period = args.cycle_seconds
    plan = []
    for c in range(args.cycles):
        for name, t in cycle:
            if name in args.skip:
                continue
            plan.append((c * period + t * period / 75.0, name))
    return plan


class Run:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="agw-chaos-onvif-")
        self.procs = Procs()
        self.timeline = []  # dicts: what, t0, t1 (epoch s), extra
        self.kills = []     # gateway SIGKILLs: kill time, last committed seq/gateway_time, restart time
        self.disk = None
        self.ok = False

    def note(self, what, t0, t1=None, **extra):
        e = dict(what=what, t0=t0, t1=t1 if t1 is not None else t0, **extra)
        self.timeline.append(e)
        log("%-12s %s" % (what, " ".join("%s=%s" % kv for kv in extra.items())))
        return e

    def run(self):
        a = self.args
        state = os.path.join(self.work, "state")
        disk = Tmpfs(state, a.tmpfs_mb) if not a.no_mount else None
        if disk is None or not disk.available:
            log("no tmpfs (%s): full disk emulated with RLIMIT_FSIZE" % (disk.why if disk else "--no-mount"))
            disk = FsizeDisk(state)
        self.disk = disk
        db = os.path.join(state, "alarmgw.db")
        self.db = db
        # The broker's port is below the ephemeral range: while the broker is down after a SIGKILL,
        # no outgoing connection (the gateway's reconnects) can take its number.
        broker = Broker(self.work, "broker", port=low_free_port()).start()
        self.broker = broker
        sub = Sub(self.work, broker.port, CASE_TOPIC, "chaos-platform", verbose=False)
        self.procs.procs.append(sub.proc)
        self.sub = sub
        # mosquitto_sub says nothing when it has subscribed: publish probes until one comes back
        agwtest.wait_for(lambda: self._probe(broker.port), "the subscriber to subscribe", timeout=20, interval=0.2)
        time.sleep(1.5)  # the broker saves the subscriber's session (autosave_interval 1)
        cam, ctl, evlog, ledger = start_camsim(self.procs, self.work, a)
        self.camsim, self.ctl, self.evlog = cam, ctl, evlog
        conf = write_config(self.work, state, ledger, broker.port, a)
        gw = Gateway(self.procs, conf, os.path.join(self.work, "alarmgw.log"))
        self.gw = gw
        gw.start()
        t_start = time.time()
        agwtest.wait_for(lambda: live_subscriptions(ctl) >= a.cameras, "every camera subscribed",
                         timeout=a.subscribe_timeout, interval=0.5)
        self.note("subscribed", t_start, time.time(), cameras=a.cameras, seconds=round(time.time() - t_start, 1))
        t0 = time.monotonic()
        for at, name in schedule(a):
            while time.monotonic() - t0 < at:
                if not gw.alive():
                    raise RuntimeError("alarmgw exited on its own (%s); log %s" % (gw.proc.returncode, gw.logpath))
                time.sleep(0.1)
            getattr(self, "do_" + name)()
        while time.monotonic() - t0 < a.cycles * a.cycle_seconds:
            time.sleep(0.2)
        self.last_fault = max(e["t1"] for e in self.timeline)
        self.finish()

    def _probe(self, port):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", PROBE_TOPIC, "-m", "{}", "-q", "1"],
                       check=True, timeout=10, capture_output=True)
        time.sleep(0.1)
        with open(self.sub.path, errors="replace") as f:
            return "{}" in f.read()

    # ---- faults

    def do_malformed(self):
        cams = random.sample(range(self.args.cameras), min(self.args.malformed, self.args.cameras))
        t = time.time()
        for i in cams:
            camsim_call(self.ctl, "/cam/%d/malformed?count=1" % i, method="POST")
        self.note("malformed", t, cameras=len(cams))

    def do_restart(self):
        t = time.time()
        code, took = self.gw.stop(timeout=30)
        self.gw.start()
        self.note("restart", t, time.time(), exit=code, stop_s=round(took, 1))
        self.restarts = getattr(self, "restarts", 0) + 1
        if code != 0:
            self.stop_failures = getattr(self, "stop_failures", 0) + 1

    def do_broker_kill(self):
        t = time.time()
        self.broker.kill()
        time.sleep(self.args.broker_down)
        self.broker.start()
        self.note("broker_kill", t, time.time(), down_s=self.args.broker_down)

    def do_lock(self):
        l0, l1 = hold_write_lock(self.procs, self.db, self.args.lock_seconds)
        self.note("lock", l0, l1, held_s=round(l1 - l0, 1))

    def do_disk_full(self):
        t = time.time()
        left = self.disk.fill(self.gw.proc.pid)
        time.sleep(self.args.disk_full_seconds)
        self.disk.free(self.gw.proc.pid)
        self.note("disk_full", t, time.time(), how=self.disk.kind.replace(" ", "_"), bytes_left=left)

    def do_gw_kill(self):
        t = time.time()
        self.gw.kill()
        seq, gtime, cams = journal_tail(self.db)
        time.sleep(0.3)
        r = self.gw.start()
        self.kills.append(dict(t=t * 1000.0, last_seq=seq, last_commit_ms=gtime, restart=r * 1000.0, cams=cams))
        self.note("gw_kill", t, r, last_seq=seq, behind_ms=int(t * 1000 - gtime))

    # ---- the end

    def finish(self):
        a = self.args
        # Let the gateway catch up with the cameras, then reboot every camera for good: nothing more
        # is queued, what is still queued is logged as dropped "reboot" (on the camera at the end).
        # A subscription abandoned at the last fault must have expired before the end (camsim sweeps
        # every 200 ms), or the events only it held would pass for "still on a camera".
        settle_until = max(time.time() + a.settle, self.last_fault + parse_seconds(a.termination_time) + 3.0)
        while time.time() < settle_until:
            if not self.gw.alive():
                raise RuntimeError("alarmgw exited on its own (%s)" % self.gw.proc.returncode)
            time.sleep(0.2)
        self.t_end = time.time()
        camsim_call(self.ctl, "/cam/all/reboot?seconds=86400", method="POST")
        self.note("end", self.t_end)
        # Drain: the journal stops growing, the outbox is empty, and the subscriber's file stops
        # growing, for 3 s in a row (8 s if rows stay in the outbox; bounded by --drain-max).
        last, quiet = None, time.monotonic()
        deadline = time.monotonic() + a.drain_max
        while time.monotonic() < deadline:
            try:
                con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=5)
                n = con.execute("SELECT max(seq) FROM alerts").fetchone()[0]
                ob = con.execute("SELECT count(*) FROM outbox").fetchone()[0]
                con.close()
            except sqlite3.Error:
                n, ob = None, None
            cur = (n, ob, os.path.getsize(self.sub.path))
            if cur != last:
                last, quiet = cur, time.monotonic()
            elif time.monotonic() - quiet >= (3.0 if ob == 0 else 8.0):
                break  # (rows that stay in the outbox, parked say, only make the wait longer)
            time.sleep(0.5)
        self.drain_s = time.time() - self.t_end
        code, took = self.gw.stop(timeout=30)
        self.note("stop", time.time(), exit=code, stop_s=round(took, 1))
        self.final_stop = code
        # what the stop published must reach the subscriber before it is stopped
        last, quiet = -1, time.monotonic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and time.monotonic() - quiet < 2.0:
            size = os.path.getsize(self.sub.path)
            if size != last:
                last, quiet = size, time.monotonic()
            time.sleep(0.2)
        self.sub.stop()
        Procs.stop(self.camsim)
        self.broker.stop()
        self.save()

    def save(self):
        """What reconcile() needs besides the files, for a post-mortem (--reconcile WORKDIR)."""
        with open(os.path.join(self.work, "run.json"), "w") as f:
            json.dump(dict(timeline=self.timeline, kills=self.kills, t_end=self.t_end, cameras=self.args.cameras,
                           rate=self.args.rate, slack_ms=self.args.slack_ms, sub=self.sub.path, evlog=self.evlog,
                           db=self.db), f)

    @classmethod
    def load(cls, args, work):
        """A finished run's work directory, kept after a failure, for reconcile() again."""
        with open(os.path.join(work, "run.json")) as f:
            d = json.load(f)
        run = cls.__new__(cls)
        run.args, run.work = args, work
        args.cameras, args.rate, args.slack_ms = d["cameras"], d["rate"], d["slack_ms"]
        run.timeline, run.kills, run.t_end = d["timeline"], d["kills"], d["t_end"]
        run.evlog = os.path.join(work, os.path.basename(d["evlog"]))
        run.db = os.path.join(work, "alarmgw.db")
        run.sub = Sub.__new__(Sub)
        run.sub.path = os.path.join(work, os.path.basename(d["sub"]))
        return run

    def release(self):
        self.procs.stop_all()
        for p in (getattr(self, "broker", None),):
            if p is not None:
                p.kill()
        if self.disk is not None:
            # keep the database for a post-mortem (copied off the tmpfs)
            if not self.ok and os.path.exists(self.db):
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(self.db + suffix):
                        shutil.copy(self.db + suffix, os.path.join(self.work, "alarmgw.db" + suffix))
            self.disk.release()
        if self.ok and not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            log("work directory kept: %s" % self.work)


# ---------------------------------------------------------------- reconciliation


def read_events_log(path):
    """camsim's events log: queued events {id: record}, drops {id: reason}, and the answers events
    went out in {id: sent record} (`{"id":..,"sent":"ok|fault|malformed|oversized","answer":N,
    "written":bool,"sent_ms":..}`, see docs/camsim.md; a camsim without sent lines leaves it empty)."""
    queued, dropped, answered = {}, {}, {}
    with open(path) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if not isinstance(e, dict) or "id" not in e:
                continue
            if "dropped" in e:
                dropped[e["id"]] = e["dropped"]
            elif "sent" in e:
                answered[e["id"]] = e
            elif "queued_ms" in e:
                queued[e["id"]] = e
    return queued, dropped, answered


def answer_ms(rec):
    return float(rec["sent_ms"]) if rec is not None and "sent_ms" in rec else None


def answer_kind(rec):
    """ok, or what was wrong with the answer: fault, malformed, oversized, and/or not written."""
    if rec is None:
        return "ok"
    kind = rec.get("sent", "ok")
    if rec.get("written", True) is False:
        kind = "not written" if kind == "ok" else kind + ", not written"
    return kind


def read_messages(path):
    """Case messages the subscriber received: {event_id: first message}, events_lost messages per
    camera, the number of messages."""
    seen, lost_alerts, msgs = {}, collections.defaultdict(set), 0
    with open(path, errors="replace") as f:
        for line in f:
            brace = line.find("{")
            if brace < 0:
                continue
            try:
                m = json.loads(line[brace:])
            except ValueError:
                continue
            if not isinstance(m, dict) or "case_id" not in m:
                continue
            msgs += 1
            cam = (m.get("camera") or {}).get("id")
            ev = m.get("event") or {}
            if ev.get("kind") == "events_lost":
                # one alert: the message's last evidence entry (a resend repeats it)
                last = (m.get("alerts") or [{}])[-1]
                lost_alerts[cam].add(last.get("journal_seq"))
            for e in m.get("alerts") or []:
                if e.get("event_id"):
                    seen.setdefault(e["event_id"], m)
    return seen, lost_alerts, msgs


def read_journal(db):
    """{event_id: (seq, camera, kind, active, operation, gateway_time, decision action, reason)}."""
    out = {}
    con = sqlite3.connect(db, timeout=30)
    try:
        for row in con.execute(
                "SELECT a.seq, a.camera_id, a.kind, a.active, a.operation, a.gateway_time, a.event_id,"
                " d.action, d.reason FROM alerts a LEFT JOIN decisions d ON d.alert_seq = a.seq"
                " WHERE a.event_id IS NOT NULL ORDER BY a.seq"):
            if row[6] not in out:
                out[row[6]] = row
        health = con.execute("SELECT camera_id, kind, json FROM alerts WHERE kind = 'events_lost'").fetchall()
        outbox = set()  # event ids of case messages still in the outbox
        for (payload,) in con.execute("SELECT payload FROM outbox"):
            try:
                m = json.loads(payload)
            except (ValueError, TypeError):
                continue
            for e in (m.get("alerts") or []) if isinstance(m, dict) else []:
                if e.get("event_id"):
                    outbox.add(e["event_id"])
    finally:
        con.close()
    return out, health, outbox


def kill_window(kills, eid, q, t_sent, slack_ms):
    """The gateway SIGKILL that had this event in flight, or None. The kill is the first one the
    gateway had not restarted from when camsim queued the event; in flight means camsim wrote it in
    an answer after that camera's last committed answer (its event number is above the highest one
    journaled for the camera at the kill: pulls of one camera are sequential, so this holds however
    loaded the machine is), and, when camsim logs answer times (t_sent), after the gateway's last
    commit before the kill (minus slack: the gateway stamps an alert when it reads the answer)."""
    for i, k in enumerate(kills):
        if q["queued_ms"] <= k["restart"] + slack_ms:
            if event_seq(eid) <= k["cams"].get(q["camera"], -1):
                return None
            if t_sent is not None and t_sent < k["last_commit_ms"] - slack_ms:
                return None
            return i
    return None


def window_of(timeline, t_ms):
    """The fault that was going on (or had just ended, within 10 s) when an event was queued."""
    best = None
    for e in timeline:
        if e["what"] in ("subscribed", "end", "stop"):
            continue
        if e["t0"] * 1000 - 2000 <= t_ms <= e["t1"] * 1000 + 10000:
            best = e
    return ("%s@%.0fs" % (best["what"], best["t0"] - timeline[0]["t0"])) if best else "no fault nearby"


def edges_of(queued):
    """Groups camsim's queued events into camera events (edges). camsim queues one copy of an event
    to each live subscription of the camera, each with its own EventId (consecutive numbers, same
    topic, same instant): a subscription the gateway abandoned (after a SIGKILL, say) holds copies of
    alarms the new subscription also got. The operator's question is whether the alarm arrived, so
    an edge is delivered when any copy is. Returns [[event ids of one edge], ...] in queue order."""
    by_cam = collections.defaultdict(list)
    for eid, q in queued.items():
        by_cam[q["camera"]].append((int(eid.rsplit("-", 1)[1]), eid, q))
    edges = []
    for evs in by_cam.values():
        evs.sort(key=lambda x: x[0])
        cur, prev = None, None
        for seq, eid, q in evs:
            if (cur is not None and seq == prev[0] + 1 and q["topic"] == prev[2]["topic"]
                    and q["time"] == prev[2]["time"] and abs(q["queued_ms"] - prev[2]["queued_ms"]) <= 50):
                cur.append(eid)
            else:
                cur = [eid]
                edges.append(cur)
            prev = (seq, eid, q)
    edges.sort(key=lambda e: queued[e[0]]["queued_ms"])
    return edges


def reconcile(run):
    a = run.args
    db = run.db if os.path.exists(run.db) else os.path.join(run.work, "alarmgw.db")
    queued, dropped, answered = read_events_log(run.evlog)
    seen, lost_alerts, msgs = read_messages(run.sub.path)
    journal, health, outbox = read_journal(db)
    end_ms = run.t_end * 1000.0
    edges = edges_of(queued)

    delivered = 0
    twice = 0                               # edges whose alarm reached the platform through two copies
    rule_drops = collections.Counter()
    losses = collections.Counter()          # reason -> edges
    allowed = set()                         # reasons the design permits (named, bounded)
    failures = 0
    where = collections.defaultdict(collections.Counter)  # loss reason -> fault window -> edges
    at_end = 0
    lost_edges = set()
    bad_answers = collections.Counter()     # camera -> events in answers that could not be read
    answers_lost = collections.defaultdict(set)  # camera -> such answers
    pending_bad = []                        # (edge, camera, reason): decided once all are counted
    pending_set = set()
    edge_state = {}
    for n, ids in enumerate(edges):
        q = queued[ids[0]]
        got = [e for e in ids if e in seen]
        if got:
            delivered += 1
            twice += len(got) > 1
            edge_state[n] = "delivered"
            continue
        drops = [journal[e] for e in ids if e in journal and journal[e][7] == "drop"]
        if drops:
            rule_drops[(drops[0][8] or "").split(":")[0]] += 1
            edge_state[n] = "drop:" + (drops[0][8] or "")
            continue
        if any(dropped.get(e) == "reboot" and queued[e]["queued_ms"] <= end_ms + 1000 for e in ids):
            # still on a live subscription when the run ended (the final reboot): not expected
            at_end += 1
            edge_state[n] = "end"
            continue
        if any("not written" in answer_kind(answered.get(e)) and answer_ms(answered.get(e)) >= end_ms - 1000
               for e in ids if e not in journal):
            # an answer the final reboot reset before camsim could write it: the harness's doing
            at_end += 1
            edge_state[n] = "end"
            continue
        reason = None
        for e in ids:  # a copy the gateway journaled: the loss is after the journal
            j = journal.get(e)
            if j is not None:
                if j[7] is None:
                    reason = "journaled, never decided"
                elif e in outbox:
                    reason = "decided (%s), case message still in the outbox at the end" % j[7]
                else:
                    reason = "decided (%s), case message never received" % j[7]
                break
        if reason is None:
            taken = [e for e in ids if e not in dropped]  # copies that left the camera in an answer
            for e in taken:
                ans = answered.get(e)
                t_sent = answer_ms(ans)
                kind = answer_kind(ans)
                k = kill_window(run.kills, e, queued[e], t_sent, a.slack_ms)
                if k is not None:
                    reason = "gateway SIGKILL #%d: answer in flight" % (k + 1)
                    if kind != "ok":
                        reason += " (%s)" % kind
                    allowed.add(reason)
                elif "not written" in kind:
                    reason = "answer never written (its connection was gone)"
                elif kind != "ok":
                    # one events_lost alert (on the platform's side) per answer that lost events
                    cam = q["camera"]
                    bad_answers[cam] += 1
                    answers_lost[cam].add(ans.get("answer", e))
                    reason = "%s answer: named in an events_lost alert" % kind
                    pending_bad.append((n, cam, reason))
                    pending_set.add(n)
                else:
                    reason = "taken from the camera, never journaled"
                break
        if reason is None:
            reason = "dropped by the camera (%s)" % "/".join(sorted(set(dropped[e] for e in ids)))
        lost_edges.add(n)
        edge_state[n] = "lost"
        if n in pending_set:
            continue
        losses[reason] += 1
        if reason not in allowed:
            failures += 1
        where[reason][window_of(run.timeline, q["queued_ms"])] += 1
    # Events of unreadable answers are a named loss when the platform got at least one events_lost
    # alert of that camera for each such answer.
    for n, cam, reason in pending_bad:
        if len(lost_alerts.get(cam, ())) < len(answers_lost[cam]):
            reason = reason.replace("named in an events_lost alert", "no events_lost alert for it")
        else:
            allowed.add(reason)
        losses[reason] += 1
        if reason not in allowed:
            failures += 1
        where[reason][window_of(run.timeline, queued[edges[n][0]]["queued_ms"])] += 1

    # An inactive edge dropped because no case was active ("inactive edge without an active case"):
    # the end of an alarm whose start the platform never got as a case. Why, from the journal of
    # that camera and kind (alerts in journal order):
    # - its start is among the lost events above (a consequence of that loss);
    # - the alert before it is an Initialized active state: the alarm started while the gateway was
    #   not listening and the Initialized state opened no case (at the first subscription, or after
    #   a resubscribe);
    # - the alert before it is an active edge that opened or updated a case: the engine forgot an
    #   active case the store has (engine state and store diverged);
    # - anything else: the start was never seen.
    by_cam_kind = collections.defaultdict(list)
    for n, ids in enumerate(edges):
        q = queued[ids[0]]
        by_cam_kind[(q["camera"], q["topic"])].append(n)
    prev_edge = {}
    for ns in by_cam_kind.values():
        for i, n in enumerate(ns):
            prev_edge[n] = ns[i - 1] if i > 0 else None
    jrows = collections.defaultdict(list)
    for eid, j in journal.items():
        jrows[(j[1], j[2])].append(j)
    for v in jrows.values():
        v.sort(key=lambda j: j[0])
    why_no_case = collections.Counter()
    no_case_where = collections.defaultdict(collections.Counter)
    for n, st in sorted(edge_state.items()):
        if not st.startswith("drop:" + INACTIVE_WITHOUT_CASE):
            continue
        j = next(journal[e] for e in edges[n] if e in journal and journal[e][7] == "drop")
        if prev_edge.get(n) is not None and prev_edge[n] in lost_edges:
            why = "its start is lost (above)"
        else:
            rows = jrows[(j[1], j[2])]
            before = [r for r in rows if r[0] < j[0]]
            prev = before[-1] if before else None
            if prev is not None and prev[4] == "Initialized" and prev[3] == 1:
                first = sum(1 for r in before if r[4] == "Initialized") == 1
                why = "started while not listening, Initialized opened no case (%s)" % (
                    "first subscription" if first else "resubscribe")
            elif prev is not None and prev[3] == 1 and prev[7] in ("open", "update"):
                why = "its start opened a case the engine then forgot"
            else:
                why = "its start was never seen"
        why_no_case[why] += 1
        no_case_where[why][window_of(run.timeline, queued[edges[n][0]]["queued_ms"])] += 1
    start_after_loss = why_no_case.get("its start is lost (above)", 0)
    start_first = why_no_case.get("started while not listening, Initialized opened no case (first subscription)", 0)
    start_missing = sum(why_no_case.values()) - start_after_loss - start_first

    # Every event id in a case message must be one camsim queued, or an Initialized state the gateway
    # journaled (Initialized messages are not events and are not in camsim's log).
    initialized = {eid for eid, j in journal.items() if j[4] == "Initialized"}
    foreign = [e for e in seen if e not in queued and e not in initialized]
    init_in_msgs = sum(1 for e in seen if e in initialized)

    expected = len(edges) - at_end
    total_lost = sum(losses.values())
    res = dict(queued=len(queued), edges=len(edges), at_end=at_end, expected=expected, delivered=delivered,
               delivered_twice=twice, rule_drops=sum(rule_drops.values()), lost=total_lost,
               allowed=total_lost - failures, failures=failures, start_missing=start_missing, start_first=start_first,
               start_after_loss=start_after_loss, messages=msgs, foreign=len(foreign),
               initialized=len(initialized), init_in_msgs=init_in_msgs,
               events_lost_alerts=sum(len(v) for v in lost_alerts.values()), events_lost_journal=len(health),
               bad_answer_events=sum(bad_answers.values()), camsim_answer_log=bool(answered),
               losses=dict(losses), rule_drop_reasons=dict(rule_drops), no_case=dict(why_no_case))
    print_table(run, res, rule_drops, losses, allowed, where, no_case_where)
    return res, foreign


def print_table(run, r, rule_drops, losses, allowed, where, no_case_where):
    t = run.timeline
    counts = collections.Counter(e["what"] for e in t)
    print("")
    print("chaos (ONVIF): %d cameras, %.2f alarms/s each, %.0f s, faults: %s" % (
        run.args.cameras, run.args.rate, run.t_end - t[0]["t0"],
        ", ".join("%s x%d" % (k, v) for k, v in sorted(counts.items()) if k not in ("subscribed", "end", "stop"))))
    print("camsim answer log: %s" % ("yes (events are placed by the answer they left in)" if r["camsim_answer_log"]
                                     else "no (delivery times taken from queue times)"))
    rows = [("events queued by camsim (one per subscription)", r["queued"]),
            ("camera events (edges)", r["edges"]),
            ("  still on a camera at the end", r["at_end"]),
            ("expected", r["expected"]),
            ("delivered (in a case message)", r["delivered"])]
    for reason, n in sorted(rule_drops.items()):
        rows.append(("rule drop: %s" % reason, n))
    for reason, n in sorted(losses.items()):
        rows.append(("lost: %s%s" % (reason, "" if reason in allowed else "  [NOT ALLOWED]"), n))
    rows.append(("delivered + rule drops + lost", r["delivered"] + r["rule_drops"] + r["lost"]))
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print("  %-*s %8d" % (w, k, v))
    for reason, places in sorted(where.items()):
        print("  lost (%s) by when queued: %s" % (reason, ", ".join("%s %d" % kv for kv in places.most_common(8))))
    print("  inactive edges dropped without an active case, why:")
    for why, n in sorted(r["no_case"].items()):
        print("    %-*s %8d%s" % (w - 2, why, n, "" if why in NO_CASE_ALLOWED else "  [NOT ALLOWED]"))
        print("      by when the end was queued: %s" % ", ".join("%s %d" % kv for kv in no_case_where[why].most_common(8)))
    print("  Initialized states journaled: %d, in case messages: %d" % (r["initialized"], r["init_in_msgs"]))
    print("  events_lost alerts: %d journaled, %d received; events in unreadable answers: %d" % (
        r["events_lost_journal"], r["events_lost_alerts"], r["bad_answer_events"]))
    print("  edges that reached the platform twice (two live subscriptions): %d" % r["delivered_twice"])
    print("  case messages received: %d; event ids in messages camsim never queued: %d" % (r["messages"], r["foreign"]))
    for k in run.kills:
        print("  gateway SIGKILL at +%.1fs: last commit %.0f ms before it (journal seq %d)" % (
            k["t"] / 1000.0 - t[0]["t0"], k["t"] - k["last_commit_ms"], k["last_seq"]))
    fig = dict(r, cameras=run.args.cameras, rate=run.args.rate, seconds=round(run.t_end - t[0]["t0"], 1),
               date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               timeline=[(e["what"], round(e["t0"] - t[0]["t0"], 1)) for e in t])
    print("FIGURES " + json.dumps(fig), flush=True)
    if FIGURES_PATH:
        with open(FIGURES_PATH, "w") as f:
            json.dump(fig, f, indent=1)


# ---------------------------------------------------------------- main


def parse_args(argv, **defaults):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cameras", type=int, default=200)
    ap.add_argument("--rate", type=float, default=0.2, help="alarms per second per camera")
    ap.add_argument("--cycles", type=int, default=1, help="fault cycles (each: 2 restarts, 2 broker kills, "
                    "a lock, a full disk, 2 gateway kills, malformed answers)")
    ap.add_argument("--cycle-seconds", type=float, default=60.0, help="length of one cycle (the plan is "
                    "written for 75 s and scaled)")
    ap.add_argument("--skip", default="", help="faults left out, comma separated: restart,broker_kill,lock,"
                    "disk_full,gw_kill,malformed")
    ap.add_argument("--malformed", type=int, default=3, help="cameras that cut one answer short per cycle")
    ap.add_argument("--lock-seconds", type=float, default=8.0)
    ap.add_argument("--disk-full-seconds", type=float, default=6.0)
    ap.add_argument("--broker-down", type=float, default=1.0, help="seconds between a broker kill and its restart")
    ap.add_argument("--tmpfs-mb", type=int, default=96, help="size of the state directory's file system")
    ap.add_argument("--no-mount", action="store_true", help="emulate the full disk with RLIMIT_FSIZE even as root")
    ap.add_argument("--camera-queue", type=int, default=100000, help="camsim --queue-limit")
    ap.add_argument("--pull-timeout", default="5s")
    ap.add_argument("--termination-time", default="20s", help="the gateway's subscription lifetime")
    ap.add_argument("--renew-margin", default="5s")
    ap.add_argument("--settle", type=float, default=10.0, help="seconds without faults before the end (at least "
                    "the subscription lifetime after the last fault)")
    ap.add_argument("--drain-max", type=float, default=120.0)
    ap.add_argument("--subscribe-timeout", type=float, default=120.0)
    ap.add_argument("--slack-ms", type=float, default=1000.0,
                    help="a SIGKILL's in-flight answers: written after its last commit minus this")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work directory after a pass")
    ap.add_argument("--reconcile", metavar="WORKDIR", help="only reconcile a kept work directory again")
    ap.set_defaults(**defaults)
    args = ap.parse_args(argv)
    args.skip = set(s for s in args.skip.split(",") if s)
    return args


def preflight():
    for tool in ("mosquitto", "mosquitto_sub", "mosquitto_pub"):
        if not shutil.which(tool):
            print("skip: %s not installed" % tool)
            sys.exit(77)
    for b in (agwtest.ALARMGW, camsim_binary()):
        if not os.access(b, os.X_OK):
            print("skip: %s not built" % b)
            sys.exit(77)


def main(argv=None, **defaults):
    args = parse_args(argv, **defaults)
    if args.reconcile:
        res, _foreign = reconcile(Run.load(args, args.reconcile))
        return 1 if res["failures"] or res["start_missing"] else 0
    preflight()
    random.seed(args.seed)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))  # ctest's timeout: clean up on the way out
    run = Run(args)
    res = None
    try:
        try:
            run.run()
        except Exception as e:  # noqa: BLE001 (a harness or gateway failure is a test failure, said plainly)
            agwtest.check(False, "the run completed: %s: %s" % (type(e).__name__, e))
            raise
        res, foreign = reconcile(run)
        c = agwtest.check
        c(res["expected"] == res["delivered"] + res["rule_drops"] + res["lost"],
          "expected %d == delivered %d + rule drops %d + lost %d" % (
              res["expected"], res["delivered"], res["rule_drops"], res["lost"]))
        c(res["failures"] == 0, "no loss other than a SIGKILL's answers in flight or an events_lost answer "
          "(%d not allowed)" % res["failures"])
        c(res["start_missing"] == 0, "every alarm start reported: no inactive edge dropped for a start the "
          "gateway never turned into a case after a resubscribe or forgot (%d; %d more at the first "
          "subscription, allowed)" % (res["start_missing"], res["start_first"]))
        c(res["foreign"] == 0, "no event id in a case message that camsim never queued (%d: %s)" % (
            len(foreign), foreign[:3]))
        c(res["delivered"] > 0.5 * res["expected"], "the run delivered most events (%d of %d)" % (
            res["delivered"], res["expected"]))
        c(getattr(run, "stop_failures", 0) == 0 and run.final_stop == 0,
          "every graceful stop exits 0 within 30 s")
        run.ok = agwtest.failures == 0
    finally:
        run.release()
    agwtest.finish()


if __name__ == "__main__":
    sys.exit(main())
