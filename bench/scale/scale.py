#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/scale: alarmgw against N simulated ONVIF cameras, and a Node.js bridge as a peer.

Per step (N cameras) it starts a fresh mosquitto (loopback, random port, persistence, no queue
limits), alarmgw-camsim (processes of at most 5,000 cameras: each camera costs a listener and a
connection, and the hard descriptor limit here is 20,000), an MQTT subscriber (mosquitto_sub with
receipt timestamps) and then the system under test: the gateway (`alarmgw run`, rules that turn
every event into a case message) or the Node bridge (bench/scale/onvif_bridge.js). It waits until
every camera holds a live subscription (camsim's /stats), measures for --seconds, lets the pipeline
drain, stops everything and reconciles by EventId:

  expected = events camsim queued before the end of the window (events log), minus those camsim
             logged as dropped at its shutdown (still queued); received = (camera, EventId) pairs seen on MQTT (for the gateway:
             every `evidence` entry of the case messages; for the bridge: its `event_id`);
  lost     = expected - received - events the gateway journaled and its rules dropped (reported).

Latency: camsim's `queued_ms` (real clock when the event was queued for the subscription) to the
subscriber's receipt time, for events queued inside the window (for the gateway, the last evidence
entry of a message is the alert that caused it). Gateway CPU and RSS come from /proc/PID.

    python3 bench/scale/scale.py --build-dir build-scale --sizes 100,1000,5000,10000 \\
        --seconds 60 --peer-sizes 100,1000,5000 --out /tmp/agw-scale
"""
import argparse
import csv
import json
import os
import random
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request

import vendors

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
CAMSIM_CHUNK = 5000
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(*a):
    print("[scale %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """Every process a step starts, stopped in reverse order (also on failure)."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, **kw):
        log("start", name, " ".join(argv[:6]), "..." if len(argv) > 6 else "")
        p = subprocess.Popen(argv, **kw)
        self.procs.append((name, p))
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=15.0):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def stop_all(self):
        for _name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
            self.stop(p)
        self.procs = []


def cpu_ns(pid):
    """CPU time of every thread of a process in ns (schedstat: nanoseconds, not 10 ms ticks), or None."""
    total = 0
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def scrape_metrics(port):
    """{name{labels}: value} from the gateway's /metrics, or {}."""
    out = {}
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line and not line.startswith("#"):
                    k, _, v = line.rpartition(" ")
                    out[k] = float(v)
    except (OSError, ValueError):
        pass
    return out


def histogram_quantiles(m1, m2, name, qs):
    """Quantiles (upper bucket bounds, ms) of what a Prometheus histogram counted between two scrapes."""
    buckets = []
    for k, v in m2.items():
        if k.startswith(name + "_bucket{"):
            le = k.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), v - m1.get(k, 0.0)))
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return [None for _ in qs]
    total = buckets[-1][1]
    return [next(le for le, n in buckets if n >= q * total) for q in qs]


def start_hog(procs):
    """Another process keeping one core busy beside the run (--hog)."""
    return procs.start("hog", [sys.executable, "-c", "while True: pass"])


class CpuLimit:
    """A CPU share for one process (--gateway-cpu): a cgroup with a CFS quota (v2 cpu.max, or v1
    cpu.cfs_quota_us), removed at the end. Starves the gateway the way a busy machine does, but
    the same in every run."""

    def __init__(self, pid, percent):
        self.dir = None
        for root, quota in (("/sys/fs/cgroup", "cpu.max"), ("/sys/fs/cgroup/cpu", "cpu.cfs_quota_us")):
            if os.path.exists(os.path.join(root, quota)):
                self.dir = os.path.join(root, "agw-bench-%d" % pid)
                os.makedirs(self.dir, exist_ok=True)
                us = int(percent * 1000)
                if quota == "cpu.max":
                    self._write("cpu.max", "%d 100000" % us)
                else:
                    self._write("cpu.cfs_period_us", "100000")
                    self._write("cpu.cfs_quota_us", str(us))
                self._write("cgroup.procs", str(pid))
                return
        raise RuntimeError("--gateway-cpu: no writable cgroup cpu controller here")

    def _write(self, name, value):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(value)

    def remove(self):
        """After the process exited (an empty cgroup can be removed)."""
        if self.dir:
            for _ in range(50):
                try:
                    os.rmdir(self.dir)
                    return
                except OSError:
                    time.sleep(0.1)


def proc_sample(pid):
    """(cpu seconds, rss bytes, peak rss bytes) of a process, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    rss = hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    return cpu, rss, hwm


def low_soft_nofile():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))


def nofile_soft(pid):
    """The process's soft RLIMIT_NOFILE as it runs (from /proc/PID/limits), or -1."""
    try:
        with open("/proc/%d/limits" % pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    v = line.split()[3]
                    return -2 if v == "unlimited" else int(v)
    except (OSError, ValueError, IndexError):
        pass
    return -1


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def percentile(sorted_v, q):
    if not sorted_v:
        return float("nan")
    i = min(len(sorted_v) - 1, max(0, int(round(q * (len(sorted_v) - 1)))))
    return sorted_v[i]


def start_mosquitto(procs, work):
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
                "persistence_location %s/\nmax_queued_messages 0\nmax_queued_bytes 0\n"
                "max_inflight_messages 0\nmemory_limit 0\n" % (port, work))
    p = procs.start("mosquitto", ["mosquitto", "-c", conf],
                    stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "mosquitto.log"), "w"))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


def start_subscriber(procs, work, port, topics):
    out = os.path.join(work, "received.txt")
    argv = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-i", "bench-sub", "-c",
            "-F", "%U %t %p"]
    for t in topics + ["bench/probe"]:
        argv += ["-t", t]
    p = procs.start("mosquitto_sub", argv, stdout=open(out, "w"), stderr=subprocess.DEVNULL)
    # It prints nothing when subscribed: publish probes until one comes back.
    for _ in range(100):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", "bench/probe", "-m", "x"],
                       check=True)
        time.sleep(0.1)
        with open(out) as f:
            if "bench/probe" in f.read():
                return p, out
    raise RuntimeError("subscriber did not subscribe")


def free_port_run(cnt, taken):
    """A random base port of cnt consecutive ports in 10000..31999 that no TCP socket uses now and
    no camsim of this step took, or None."""
    used = set()
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                for line in f.readlines()[1:]:
                    used.add(int(line.split()[1].rsplit(":", 1)[1], 16))
        except (OSError, ValueError, IndexError):
            pass
    for b, c in taken:
        used.update(range(b, b + c))
    bases, prev = [], 10000
    for u in sorted(x for x in used if 10000 <= x < 32000) + [32000]:
        if u - prev >= cnt + 20:  # a margin: ports taken while camsim starts
            bases.extend(range(prev + 10, u - cnt - 10))
        prev = u + 1
    return random.choice(bases) if bases else None


def start_camsims(procs, work, camsim, n, rate, seed, chunk=CAMSIM_CHUNK):
    """camsim processes of at most CAMSIM_CHUNK cameras; returns [(proc, control_port, offset, log)]
    and writes one ledger with global ids (cam-00001 .. cam-N, the second process' cameras renamed)."""
    sims = []
    rows = []
    taken = []  # port runs of the processes already started: the next one must not overlap them
    for k, off in enumerate(range(0, n, chunk)):
        cnt = min(chunk, n - off)
        evlog = os.path.join(work, "camsim-events-%d.jsonl" % k)
        ledger = os.path.join(work, "ledger-%d.csv" % k)
        argv = lambda base, ctl: [camsim, "-n", str(cnt), "-p", str(base), "--user", "admin", "--password", "bench",
                                  "--rate", str(rate), "--events-log", evlog, "--ledger", ledger,
                                  "--control-port", str(ctl), "--seed", str(seed + k), "--log-level", "warning"]
        p, _base, ctl = vendors.start_on_free_ports(procs, "camsim-%d" % k, cnt, taken, argv,
                                                    os.path.join(work, "camsim-%d.out" % k), free_port_run,
                                                    free_port, log)
        sims.append((p, ctl, off, evlog))
        with open(ledger, newline="") as f:
            r = csv.reader(f)
            head = next(r)
            for row in r:
                row[0] = "cam-%05d" % (int(row[0][4:]) + off)
                rows.append(row)
    ledger = os.path.join(work, "ledger.csv")
    with open(ledger, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)
    return sims, ledger


def live_subscriptions(sims):
    return vendors.count_live(sims, "cameras", "live_subscriptions")


def read_camsim_logs(sims):
    """{(camera, id): queued_ms} and the set of dropped keys."""
    queued, dropped = {}, {}
    for _p, _ctl, off, path in sims:
        with open(path) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                cam_local = e["id"].rsplit("-", 1)[0]
                cam = "cam-%05d" % (int(cam_local[4:]) + off)
                if "dropped" in e:
                    dropped[(cam, e["id"])] = e["dropped"]
                elif "sent" in e:
                    continue  # which answer it left in (camsim's sent lines): not a queued event
                else:
                    queued[(cam, e["id"])] = e["queued_ms"]
    return queued, dropped


def read_received(path):
    """first receipt time (ms) per (camera, event id) and, for latency, per the message's own event."""
    seen, cause, msgs = {}, {}, 0
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) < 3 or parts[1] == "bench/probe":
                continue
            try:
                t = float(parts[0]) * 1000.0
                m = json.loads(parts[2])
            except ValueError:
                continue
            msgs += 1
            if "evidence" in m:
                cam = (m.get("camera") or {}).get("id")
                ids = [e.get("event_id") for e in m["alerts"] if e.get("event_id")]
                last = m["alerts"][-1].get("event_id") if m["alerts"] else None
            else:
                cam, ids, last = m.get("camera"), [m.get("event_id")] if m.get("event_id") else [], m.get("event_id")
            for i in ids:
                seen.setdefault((cam, i), t)
            if last:
                cause.setdefault((cam, last), t)
    return seen, cause, msgs


def journal_drops(db):
    """(camera, event id) the gateway journaled and its rules dropped, with the reason."""
    out = {}
    if not os.path.exists(db):
        return out
    con = sqlite3.connect(db)
    try:
        for cam, eid, reason in con.execute(
                "SELECT a.camera_id, a.event_id, d.reason FROM alerts a JOIN decisions d ON d.alert_seq = a.seq "
                "WHERE d.action = 'drop' AND a.event_id IS NOT NULL"):
            out[(cam, eid)] = reason
    finally:
        con.close()
    return out


def events_lost_times(db):
    """{camera: sorted gateway_time of its events_lost alerts}: answers the gateway could not read
    (cut short, oversized, malformed), which it reports instead of dropping them silently."""
    out = {}
    if not db or not os.path.exists(db):
        return out
    con = sqlite3.connect(db)
    try:
        for cam, t in con.execute("SELECT camera_id, gateway_time FROM alerts WHERE kind = 'events_lost'"):
            out.setdefault(cam, []).append(t)
    finally:
        con.close()
    for v in out.values():
        v.sort()
    return out


def write_gateway_config(work, ledger, mqtt_port, args, http_port=None, name="alarmgw"):
    state = os.path.join(work, "state" if name == "alarmgw" else "state-" + name)
    os.makedirs(state, exist_ok=True)
    conf = os.path.join(work, name + ".conf")
    http = ' http_listen = "127.0.0.1:%d";' % http_port if http_port else ""
    with open(conf, "w") as f:
        f.write('gateway: { id = "bench-gw"; state_dir = "%s"; log_level = "notice";%s%s };\n'
                % (state, http, ' commit_window = "%dms";' % args.commit_window if args.commit_window is not None
                   else ""))
        f.write('cameras: { ledger = "%s"; };\n' % ledger)
        f.write('rules: { file = "%s"; };\n' % os.path.join(HERE, "rules.conf"))
        f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; topic_prefix = "agw"; inflight = %d; };\n'
                % (mqtt_port, args.inflight))
        silence = args.heartbeat_timeout or int(args.drain_max) + 60
        vendor = "" if args.protocol == "onvif" else " " + vendors.gateway_config(args.protocol, silence)
        f.write('adapters: { onvif: { pull_timeout = "10s"; max_bootstraps = %d; };%s };\n'
                % (args.max_bootstraps, vendor))
        # A picture for each case is its own workload (a snapshot request per case, bench/evidence):
        # off unless asked, so the event path's figures compare with the runs before evidence.
        f.write('evidence: { enabled = %s; };\n' % ("true" if args.evidence else "false"))
    return conf, os.path.join(state, "alarmgw.db")


def gateway_idle(impl, http_port):
    """Whether the gateway holds nothing more to send: its queue and outbox are empty (a starved
    gateway can be quiet for seconds with a backlog). The Node bridge has no such figures."""
    if impl != "alarmgw":
        return True
    m = scrape_metrics(http_port)
    return bool(m) and m.get("agw_queue_alerts", 0) == 0 and m.get("agw_outbox_depth", 0) == 0 \
        and m.get("agw_outbox_inflight_rows", 0) == 0


def base_rss(procs, work, tools, mport, args):
    """RSS (bytes) of the gateway with an empty ledger after a few seconds: what cameras add is over it."""
    ledger = os.path.join(work, "ledger-empty.csv")
    with open(ledger, "w") as f:
        f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n")
    conf, _db = write_gateway_config(work, ledger, mport, args, name="base")
    p = procs.start("alarmgw-base", [tools["alarmgw"], "run", "-c", conf], stdout=subprocess.DEVNULL,
                    stderr=open(os.path.join(work, "base.log"), "w"))
    time.sleep(3.0)
    rss = proc_sample(p.pid)[1] if p.poll() is None else None
    procs.stop(p)
    return rss


def stage_latencies(db, sims, queued, cause, w1ms, w2ms):
    """Per-stage latency (p50, p99 in ms) of the events queued in the window, from the timestamps each
    side keeps: camera (queued -> sent in a PullMessages answer), camera -> gateway (queued -> the
    alert's gateway_time, when the adapter handed it to the pipeline), gateway -> subscriber (that
    -> receipt of the message it caused: commit, outbox, PUBACK, broker, subscriber). The gateway's
    own histograms split the last one (run_step): queue -> commit and outbox -> PUBACK."""
    sent = {}
    for _p, _ctl, off, path in sims:
        with open(path) as f:
            for line in f:
                if '"sent_ms"' not in line:
                    continue
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                cam = "cam-%05d" % (int(e["id"].rsplit("-", 1)[0][4:]) + off)
                sent.setdefault((cam, e["id"]), e["sent_ms"])
    stages = {"camera": [], "camera_to_gateway": [], "gateway_to_subscriber": []}
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT camera_id, event_id, gateway_time FROM alerts WHERE event_id IS NOT NULL").fetchall()
    finally:
        con.close()
    for cam, eid, gw in rows:
        k = (cam, eid)
        q = queued.get(k)
        if q is None or not (w1ms <= q < w2ms):
            continue
        if k in sent:
            stages["camera"].append(sent[k] - q)
        stages["camera_to_gateway"].append(gw - q)
        if k in cause:
            stages["gateway_to_subscriber"].append(cause[k] - gw)
    out = {}
    for name, v in stages.items():
        v.sort()
        out[name] = [round(percentile(v, 0.5), 1), round(percentile(v, 0.99), 1)] if v else None
    return out


def run_step(impl, n, args, tools):
    vendor = args.protocol != "onvif"
    work = os.path.join(args.out, "%s-%d" % (impl if not vendor else impl + "-" + args.protocol, n))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    procs = Procs()
    limit = None
    row = {"impl": impl, "cameras": n, "protocol": args.protocol}
    try:
        _mq, mport = start_mosquitto(procs, work)
        topic = "agw/cases/#" if impl == "alarmgw" else "nodebridge/#"
        sub, received_path = start_subscriber(procs, work, mport, [topic])
        if impl == "alarmgw":
            b = base_rss(procs, work, tools, mport, args)
            row["base_rss_mib"] = round(b / 2**20, 1) if b else None
        if args.hog:
            start_hog(procs)
        if vendor:
            sims, ledger = vendors.start(procs, work, tools["vendorsim"], args.protocol, n, args.rate, args.seed,
                                         free_port_run, free_port, log, args.camsim_chunk)
        else:
            sims, ledger = start_camsims(procs, work, tools["camsim"], n, args.rate, args.seed, args.camsim_chunk)
        t0 = time.time()
        http_port = None
        if impl == "alarmgw":
            http_port = free_port()
            conf, db = write_gateway_config(work, ledger, mport, args, http_port)
            wrap = []
            if args.profile == "callgrind":
                # instrumented only inside the window (callgrind_control -i on/off): instruction
                # counts per function that load on the machine does not change
                wrap = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        "--callgrind-out-file=" + os.path.join(work, "callgrind.out")]
            elif args.profile == "massif":
                # the heap by allocation site; a detailed snapshot at the end of the window
                # (massif.window, read with ms_print) says what the cameras hold then
                wrap = ["valgrind", "--tool=massif", "--threshold=0.1", "--vgdb=yes",
                        "--massif-out-file=" + os.path.join(work, "massif.out")]
            # Started with the usual soft descriptor limit of 1,024: the gateway must raise it itself.
            # (valgrind keeps the limit it started with: a gateway under massif gets the hard one)
            sut = procs.start("alarmgw", wrap + [tools["alarmgw"], "run", "-c", conf],
                              preexec_fn=None if args.profile == "massif" else low_soft_nofile,
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "alarmgw.log"), "w"))
        else:
            db = None
            env = dict(os.environ, NODE_PATH=tools["node_modules"])
            sut = procs.start("node-bridge", ["node", os.path.join(HERE, "onvif_bridge.js"), ledger,
                                              "mqtt://127.0.0.1:%d" % mport, "nodebridge", str(args.max_bootstraps)],
                              env=env, stdout=open(os.path.join(work, "bridge.out"), "w"),
                              stderr=open(os.path.join(work, "bridge.log"), "w"))
        if args.gateway_cpu:
            limit = CpuLimit(sut.pid, args.gateway_cpu)
        subscribed, t_sub = 0, None
        peak_rss = 0
        while time.time() - t0 < args.subscribe_timeout:
            if sut.poll() is not None:
                raise RuntimeError("%s exited with %s during start" % (impl, sut.returncode))
            subscribed = vendors.live_streams(sims) if vendor else live_subscriptions(sims)
            peak_rss = max(peak_rss, proc_sample(sut.pid)[1])
            if subscribed >= n:
                t_sub = time.time() - t0
                break
            time.sleep(0.5)
        row["subscribed"] = subscribed
        row["subscribe_s"] = round(t_sub, 1) if t_sub is not None else None
        log("%s N=%d: %d subscribed in %s s" % (impl, n, subscribed, row["subscribe_s"]))
        time.sleep(args.warmup)
        prof = None
        if impl == "alarmgw" and args.profile == "callgrind":
            subprocess.run(["callgrind_control", "-i", "on", str(sut.pid)], stdout=subprocess.DEVNULL)
        elif impl == "alarmgw" and args.profile == "perf":
            prof = subprocess.Popen(["perf", "record", "-F", "999", "--call-graph", "dwarf,16384", "-p", str(sut.pid),
                                     "-o", os.path.join(work, "perf.data")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elif impl == "alarmgw" and args.profile == "strace":
            # system calls by name over the window, every thread (strace -c -f): slows each call,
            # so read its counts, not the window's CPU figures
            prof = subprocess.Popen(["strace", "-c", "-f", "-p", str(sut.pid), "-o", os.path.join(work, "strace.txt")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        m1 = scrape_metrics(http_port) if impl == "alarmgw" else {}
        c1, _r, _h = proc_sample(sut.pid)
        ns1 = cpu_ns(sut.pid)
        sim1 = vendors.sim_cpu(sims, cpu_ns)
        w1 = time.time()
        rss_samples = []
        while time.time() - w1 < args.seconds:
            if sut.poll() is not None:
                raise RuntimeError("%s exited with %s during the window" % (impl, sut.returncode))
            rss_samples.append(proc_sample(sut.pid)[1])
            time.sleep(1.0)
        c2, _r, hwm = proc_sample(sut.pid)
        ns2 = cpu_ns(sut.pid)
        sim2 = vendors.sim_cpu(sims, cpu_ns)
        w2 = time.time()
        m2 = scrape_metrics(http_port) if impl == "alarmgw" else {}
        if ns1 is not None and ns2 is not None:
            c1, c2 = ns1 / 1e9, ns2 / 1e9  # the same figure, from nanoseconds rather than 10 ms ticks
        if impl == "alarmgw" and args.profile == "callgrind":
            subprocess.run(["callgrind_control", "-d", str(sut.pid)], stdout=subprocess.DEVNULL)
            subprocess.run(["callgrind_control", "-i", "off", str(sut.pid)], stdout=subprocess.DEVNULL)
        elif impl == "alarmgw" and args.profile == "massif":
            subprocess.run(["vgdb", "--pid=%d" % sut.pid, "detailed_snapshot", os.path.join(work, "massif.window")],
                           stdout=subprocess.DEVNULL, timeout=120)
        if prof:
            prof.send_signal(signal.SIGINT)
            prof.wait(60)
        row["fds"] = fd_count(sut.pid)
        row["nofile_soft"] = nofile_soft(sut.pid)
        row["cpu_pct"] = round(100.0 * (c2 - c1) / (w2 - w1), 1)
        row["sim_cpu_pct"] = round(100.0 * (sim2 - sim1) / 1e9 / (w2 - w1), 1)
        row["rss_mib"] = round(statistics.median(rss_samples) / 2**20, 1)
        row["peak_rss_mib"] = round(max(hwm, peak_rss, max(rss_samples)) / 2**20, 1)
        # Drain: freeze camsim (SIGSTOP: no new events, open polls just wait) and wait until nothing
        # more arrives for --drain seconds (at most --drain-max), so a backlog in the gateway counts
        # as late, not lost; what is still missing then is lost. Events still queued in camsim are
        # logged as dropped ("shutdown") when it exits, so they are not expected.
        for p, _ctl, _off, _log in sims:
            p.send_signal(signal.SIGSTOP)
        last_size, quiet_since = -1, time.time()
        while time.time() - w2 < args.drain_max:
            size = os.path.getsize(received_path)
            if size != last_size:
                last_size, quiet_since = size, time.time()
            elif time.time() - quiet_since >= args.drain and gateway_idle(impl, http_port):
                break
            time.sleep(0.5)
        row["drain_s"] = round(time.time() - w2, 1)
        procs.stop(sut, timeout=20)
        for p, _ctl, _off, _log in sims:
            p.send_signal(signal.SIGCONT)
            procs.stop(p)
        if vendor:
            time.sleep(1.0)  # vendorsim writes its events log on exit
        time.sleep(1.0)
        procs.stop(sub)

        if vendor:
            # what the simulator wrote whole is expected; its other events (unsent, cut, dropped)
            # are named by their fate, not counted as the gateway's
            queued, dropped = vendors.read_logs(sims)
            seen, cause, msgs = vendors.read_received(received_path, vendors.journal_ids(db, args.protocol))
            drops = vendors.journal_drops(db, args.protocol)
            dropped = {k: "shutdown" for k in dropped}
        else:
            queued, dropped = read_camsim_logs(sims)
            seen, cause, msgs = read_received(received_path)
            drops = journal_drops(db) if db else {}
        w1ms, w2ms = w1 * 1000.0, w2 * 1000.0
        # Only "shutdown" drops (still queued when camsim exited) are not the subscriber's doing;
        # an event that expired with its subscription (not renewed in time) is lost by the client.
        expected = [k for k, q in queued.items() if q < w2ms and dropped.get(k) != "shutdown"]
        # journaled and not published by the end of the drain: durable in the outbox, late, not lost
        stored = vendors.journaled_keys(db, args.protocol) if db else set()
        late = [k for k in expected if k not in seen and k not in drops and k in stored]
        lost = [k for k in expected if k not in seen and k not in drops and k not in stored]
        in_window = [k for k, q in queued.items() if w1ms <= q < w2ms]
        lat = sorted(cause[k] - queued[k] for k in in_window if k in cause)
        row["events_per_s"] = round(len(in_window) / (w2 - w1), 1)
        row["p50_ms"] = round(percentile(lat, 0.50), 1)
        row["p99_ms"] = round(percentile(lat, 0.99), 1)
        row["max_ms"] = round(lat[-1], 1) if lat else None
        row["cpu_us_per_event"] = round((c2 - c1) * 1e6 / max(1, len(in_window)), 1)
        row["kib_per_camera"] = round(row["rss_mib"] * 1024 / n, 1)
        if row.get("base_rss_mib"):
            row["kib_per_camera_over_base"] = round((row["rss_mib"] - row["base_rss_mib"]) * 1024 / n, 1)
        if db:
            row["stages_ms"] = (vendors.stages(db, args.protocol, queued, cause, w1ms, w2ms) if vendor
                                else stage_latencies(db, sims, queued, cause, w1ms, w2ms))
            # bucket bounds: "at most" figures (1, 2, 5, 10, 20, 50 ... ms)
            for name, metric in (("queue_to_commit_le", "agw_commit_wait_ms"),
                                 ("outbox_to_puback_le", "agw_publish_latency_ms")):
                q = histogram_quantiles(m1, m2, metric, [0.5, 0.99])
                row["stages_ms"][name] = q if q[0] is not None else None
        row["expected"] = len(expected)
        row["camsim_dropped"] = sum(1 for k in expected if k in dropped)
        row["rule_drops"] = sum(1 for k in expected if k not in seen and k in drops)
        row["lost"] = len(lost)
        row["late_in_outbox"] = len(late)
        row["messages"] = msgs
        if lost:
            # every event that made no message, with its reason: what the camera says became of it
            # (expired with an unrenewed subscription, unsubscribed, ...) or, when the camera says
            # it was delivered, "delivered, no message"
            reasons = {}
            reported = events_lost_times(db)
            with open(os.path.join(work, "lost.txt"), "w") as f:
                for k in sorted(lost):
                    why = "camera: " + dropped[k] if k in dropped else "delivered, no message"
                    if k not in dropped and any(queued[k] <= t <= queued[k] + 120000 for t in reported.get(k[0], [])):
                        # the camera sent it in an answer the gateway could not read, and said so
                        why = "gateway: events_lost reported"
                    reasons[why] = reasons.get(why, 0) + 1
                    f.write("%s %s queued_ms=%d %s\n" % (k[0], k[1], queued[k], why))
            row["lost_reasons"] = reasons
        if row["rule_drops"]:
            reasons = {}
            for k in expected:
                if k not in seen and k in drops:
                    r = drops[k].split(":")[0]
                    reasons[r] = reasons.get(r, 0) + 1
            row["rule_drop_reasons"] = reasons
    except Exception as e:  # a step that falls over is a result too
        row["error"] = str(e)
        log("%s N=%d failed: %s" % (impl, n, e))
    finally:
        procs.stop_all()
        if limit:
            limit.remove()
    log("%s N=%d: %s" % (impl, n, json.dumps(row)))
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(row, f, indent=1)
    return row


COLS = ["impl", "protocol", "cameras", "subscribed", "subscribe_s", "events_per_s", "p50_ms", "p99_ms", "max_ms",
        "rss_mib", "peak_rss_mib", "base_rss_mib", "cpu_pct", "sim_cpu_pct", "cpu_us_per_event", "kib_per_camera",
        "kib_per_camera_over_base", "fds", "nofile_soft", "expected",
        "camsim_dropped", "rule_drops", "lost", "late_in_outbox", "messages", "drain_s", "error"]


def print_table(rows):
    head = ["impl", "cams", "subscr", "t_sub s", "ev/s", "p50 ms", "p99 ms", "RSS MiB", "peak MiB",
            "CPU %", "us/ev", "KiB/cam", "expected", "lost"]
    keys = ["impl", "cameras", "subscribed", "subscribe_s", "events_per_s", "p50_ms", "p99_ms", "rss_mib",
            "peak_rss_mib", "cpu_pct", "cpu_us_per_event", "kib_per_camera", "expected", "lost"]
    print(" | ".join("%9s" % h for h in head))
    for r in rows:
        print(" | ".join("%9s" % ("-" if r.get(k) is None else r.get(k)) for k in keys)
              + ("  ERROR: " + r["error"] if r.get("error") else ""))
    for r in rows:
        extra = []
        if r.get("sim_cpu_pct") is not None:
            extra.append("%s simulators' CPU %s %%" % (r.get("protocol"), r["sim_cpu_pct"]))
        if r.get("kib_per_camera_over_base") is not None:
            extra.append("RSS over base (%s MiB): %s KiB/camera" % (r["base_rss_mib"], r["kib_per_camera_over_base"]))
        for name, v in (r.get("stages_ms") or {}).items():
            if v:
                extra.append("%s p50/p99 %s/%s ms" % (name, v[0], v[1]))
        if r.get("late_in_outbox"):
            extra.append("journaled, still in the outbox after the drain: %d" % r["late_in_outbox"])
        if r.get("lost"):
            extra.append("lost by reason: %s" % json.dumps(r.get("lost_reasons")))
        if r.get("rule_drops"):
            extra.append("rule drops by reason: %s" % json.dumps(r.get("rule_drop_reasons")))
        if extra:
            print("%s N=%d: %s" % (r["impl"], r["cameras"], "; ".join(extra)))


def install_node_packages(out):
    d = os.path.join(out, "node")
    if not os.path.isdir(os.path.join(d, "node_modules", "onvif")):
        os.makedirs(d, exist_ok=True)
        log("npm install onvif mqtt into", d)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", d, "onvif@0.8", "mqtt@5"],
                       check=True, stdout=subprocess.DEVNULL)
    return os.path.join(d, "node_modules")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(SOURCE, "build-scale"))
    ap.add_argument("--sizes", default="100,1000,5000,10000")
    ap.add_argument("--protocol", choices=["onvif", "isapi", "dahua"], default="onvif",
                    help="the devices: camsim (ONVIF PullPoint) or vendorsim (ISAPI alertStream, Dahua "
                         "eventManager streams); the Node bridge speaks ONVIF only")
    ap.add_argument("--peer-sizes", default="100,1000,5000,10000",
                    help="Node bridge sizes; it stops growing after a step it cannot hold (not all "
                         "subscribed, > 1 %% lost or p99 >= 2 s); empty: no peer")
    ap.add_argument("--rate", type=float, default=0.1, help="alarms per second per camera")
    ap.add_argument("--seconds", type=float, default=60, help="measurement window per step")
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--drain", type=float, default=5, help="stop draining after this long without a message")
    ap.add_argument("--drain-max", type=float, default=120)
    ap.add_argument("--subscribe-timeout", type=float, default=180)
    ap.add_argument("--max-bootstraps", type=int, default=64)
    ap.add_argument("--inflight", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="/tmp/agw-scale")
    ap.add_argument("--camsim-chunk", type=int, default=CAMSIM_CHUNK, help="cameras per camsim process")
    ap.add_argument("--evidence", action="store_true", help="take a picture for each case (off: the event path alone)")
    ap.add_argument("--hog", action="store_true", help="a process keeping one core busy beside each step")
    ap.add_argument("--heartbeat-timeout", type=int, default=None,
                    help="isapi/dahua heartbeat_timeout in s (default: --drain-max + 60, longer than the drain's "
                         "frozen devices); shorter puts the liveness checks of a starved gateway to the test")
    ap.add_argument("--gateway-cpu", type=float, default=None,
                    help="percent of one core the system under test may use (a cgroup CFS quota), from its start")
    ap.add_argument("--commit-window", type=int, default=None, help="gateway.commit_window in ms (default: the gateway's)")
    ap.add_argument("--profile", choices=["none", "callgrind", "perf", "massif", "strace"], default="none",
                    help="profile the gateway over the window: callgrind.out, perf.data, massif.window (the "
                         "heap by allocation site at the end of the window) or strace.txt (system calls by "
                         "name) in the step's directory")
    args = ap.parse_args()

    tools = {"alarmgw": os.path.join(args.build_dir, "gateway", "alarmgw"),
             "camsim": os.path.join(args.build_dir, "tests", "sim", "camsim", "alarmgw-camsim")}
    if args.protocol != "onvif":
        tools["camsim"] = vendors.binary(args.build_dir)
        tools["vendorsim"] = tools["camsim"]
        args.peer_sizes = ""
    for k in ("alarmgw", "camsim"):
        if not os.access(tools[k], os.X_OK):
            sys.exit("missing %s (build the targets alarmgw and alarmgw-camsim in %s)" % (tools[k], args.build_dir))
    # camsim and the Node bridge inherit this (camsim would raise it itself; node cannot).
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.makedirs(args.out, exist_ok=True)
    rows = []
    sizes = [int(s) for s in args.sizes.split(",") if s]
    peer = [int(s) for s in args.peer_sizes.split(",") if s]
    if peer:
        tools["node_modules"] = install_node_packages(args.out)
    peer_ok = True
    for n in sorted(set(sizes) | set(peer)):
        if n in sizes:
            rows.append(run_step("alarmgw", n, args, tools))
        if n in peer and peer_ok:
            r = run_step("node", n, args, tools)
            rows.append(r)
            # Holding N cameras: all subscribed in time, at most 1 % lost, p99 under 2 s.
            held = (not r.get("error") and r.get("subscribed") == n
                    and r.get("lost", 1) <= 0.01 * max(1, r.get("expected", 0))
                    and r.get("p99_ms", 1e9) < 2000)
            if not held:
                log("node bridge fell over at N=%d; not growing it further" % n)
                peer_ok = False
    csv_path = os.path.join(args.out, "scale.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    print_table(rows)
    gw = {r["cameras"]: r for r in rows if r["impl"] == "alarmgw" and not r.get("error")}
    for r in rows:
        if r["impl"] == "node" and not r.get("error") and r["cameras"] in gw:
            g = gw[r["cameras"]]
            print("N=%d node/alarmgw: memory per camera %.1fx, CPU per event %.1fx" % (
                r["cameras"], r["kib_per_camera"] / max(0.001, g["kib_per_camera"]),
                r["cpu_us_per_event"] / max(0.001, g["cpu_us_per_event"])))
    print("csv:", csv_path)
    return 1 if any(r.get("lost") or r.get("error") for r in rows if r["impl"] == "alarmgw") else 0


if __name__ == "__main__":
    sys.exit(main())
