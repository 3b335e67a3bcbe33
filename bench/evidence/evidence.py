#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/evidence: what evidence pictures cost, and how long a case waits for its picture.

Per step (N cameras) it runs the gateway twice against the same load, evidence on and evidence
off: a fresh mosquitto (loopback), alarmgw-camsim with N cameras serving a 1080p JPEG as their
snapshot (made with ffmpeg's testsrc2 plus noise, ~330 KB, about what a real 1080p camera
answers), and `alarmgw run` (ONVIF adapter, default rules). It waits until every camera holds a
live subscription, measures for --seconds, stops everything, then reads the store:

  latency       alert gateway time -> evidence row stored (file written, row and outbox row
                committed), p50 / p99 / max over the pictures of alerts inside the window, and
                over the captures alone (not the pictures reused within evidence.min_interval);
  CPU per case  (gateway CPU with evidence - CPU without) / cases, from /proc/PID/stat;
  CPU per picture the same difference over the pictures stored (a case has up to
                evidence.max_per_case, one per alert that opens or updates it);
  disk          picture file bytes, and what an evidence row keeps in the table (the outbox row
                with the JPEG goes when the broker acknowledges it).

    python3 bench/evidence/evidence.py --build-dir build-rel --sizes 100,1000 --rate 0.05 --seconds 60
"""
import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
TICK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print("[evidence %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_run(n):
    """A base port with n free ports after it (other tests on the machine hold runs of their own)."""
    import random
    for _ in range(200):
        base = random.randrange(10000, 32000 - n)  # below the ephemeral range
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return base
    raise RuntimeError("no run of %d free ports" % n)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def subscribed(control_port):
    with urllib.request.urlopen("http://127.0.0.1:%d/stats" % control_port, timeout=10) as r:
        st = json.load(r)
    return sum(1 for c in st["cameras"] if c.get("live_subscriptions", 0) > 0), st


def stop(p, timeout=60):
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pct(v, q):
    return v[min(len(v) - 1, int(q * len(v)))] if v else None


def run_one(args, n, evidence, jpeg, work):
    procs = []
    try:
        port = free_port()
        with open(os.path.join(work, "mosquitto.conf"), "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n" % port)
        procs.append(subprocess.Popen(["mosquitto", "-c", os.path.join(work, "mosquitto.conf")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        ctl = free_port()
        base = free_run(n)
        ledger = os.path.join(work, "ledger.csv")
        camsim = os.path.join(args.build_dir, "tests/sim/camsim/alarmgw-camsim")
        procs.append(subprocess.Popen([camsim, "-n", str(n), "-p", str(base), "--auth", "both", "--rate", str(args.rate),
                                       "--mix", "intrusion=1,line=1", "--ledger", ledger, "--control-port", str(ctl),
                                       "--seed", "7"],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                      env=dict(os.environ, CAMSIM_SNAPSHOT=jpeg)))
        if not procs[-1].stdout.readline().startswith("camsim: ready"):
            raise RuntimeError("camsim did not start")
        state = os.path.join(work, "state")
        os.makedirs(state, exist_ok=True)
        conf = os.path.join(work, "alarmgw.conf")
        with open(conf, "w") as f:
            f.write('gateway: { id = "bench-ev"; state_dir = "%s"; log_level = "notice"; };\n' % state)
            f.write('cameras: { ledger = "%s"; };\n' % ledger)
            f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; version = "5"; };\n' % port)
            f.write('evidence: { enabled = %s; };\n' % ("true" if evidence else "false"))
            f.write('adapters: { onvif: { max_bootstraps = 64; }; };\n')
        gw = subprocess.Popen([os.path.join(args.build_dir, "gateway/alarmgw"), "run", "-c", conf],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "alarmgw.log"), "w"))
        procs.append(gw)
        t_sub = time.monotonic()
        while subscribed(ctl)[0] < n:
            if time.monotonic() - t_sub > 300 or gw.poll() is not None:
                raise RuntimeError("cameras not subscribed")
            time.sleep(0.5)
        time.sleep(args.warmup)
        t0_wall, c0 = time.time() * 1000, cpu_ticks(gw.pid)
        time.sleep(args.seconds)
        t1_wall, c1 = time.time() * 1000, cpu_ticks(gw.pid)
        time.sleep(args.timeout_s)  # the window's last pictures
        stop(gw)
        db = sqlite3.connect(os.path.join(state, "alarmgw.db"))
        cases = db.execute("SELECT count(*) FROM cases WHERE opened_at BETWEEN ? AND ?", (t0_wall, t1_wall)).fetchone()[0]
        alerts = db.execute("SELECT count(*) FROM alerts WHERE gateway_time BETWEEN ? AND ?", (t0_wall, t1_wall)).fetchone()[0]
        res = {"cameras": n, "evidence": evidence, "seconds": args.seconds, "alerts": alerts, "cases": cases,
               "cpu_s": (c1 - c0) / TICK}
        if evidence:
            rows = db.execute("SELECT status, stored_at - requested_at, bytes, reused_case IS NOT NULL FROM evidence"
                              " WHERE requested_at BETWEEN ? AND ?", (t0_wall, t1_wall)).fetchall()
            lat = sorted(r[1] for r in rows if r[0] == "stored")
            # the captures alone: a picture reused within min_interval is read back from its file
            cap = sorted(r[1] for r in rows if r[0] == "stored" and not r[3])
            res.update({"reused": sum(1 for r in rows if r[0] == "stored" and r[3]),
                        "capture_p50_ms": pct(cap, 0.5), "capture_p99_ms": pct(cap, 0.99)})
            by = {}
            for r in rows:
                by[r[0]] = by.get(r[0], 0) + 1
            files = sum(r[2] for r in rows if r[0] == "stored")
            total_rows = db.execute("SELECT count(*) FROM evidence").fetchone()[0]
            # what a row keeps in the table (metadata; the JPEG is a file, and in the outbox only
            # until the broker acknowledges it)
            row_bytes = db.execute("SELECT avg(length(case_id) + length(camera_id) + coalesce(length(type), 0)"
                                   " + coalesce(length(source), 0) + coalesce(length(sha256), 0)"
                                   " + coalesce(length(reason), 0) + coalesce(length(path), 0)"
                                   " + coalesce(length(topic), 0) + 8 * 9) FROM evidence").fetchone()[0]
            res.update({"pictures": by, "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "max_ms": lat[-1] if lat else None,
                        "file_bytes": files, "db_bytes": os.path.getsize(os.path.join(state, "alarmgw.db")),
                        "evidence_rows": total_rows, "row_bytes": round(row_bytes or 0)})
        db.close()
        res["db_bytes"] = os.path.getsize(os.path.join(state, "alarmgw.db"))
        return res
    finally:
        for p in reversed(procs):
            stop(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(SOURCE, "build-rel"))
    ap.add_argument("--sizes", default="100,1000")
    ap.add_argument("--rate", type=float, default=0.05, help="alarms per second per camera")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--timeout-s", type=float, default=6, help="wait after the window for its last pictures")
    ap.add_argument("--out", default="/tmp/agw-evidence-bench")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    jpeg = os.path.join(args.out, "1080p.jpg")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=1",
                    "-frames:v", "1", "-vf", "noise=alls=12:allf=t", "-q:v", "5", "-pix_fmt", "yuvj420p", jpeg],
                   check=True)
    log("snapshot %s: %d bytes" % (jpeg, os.path.getsize(jpeg)))
    results = []
    for n in [int(x) for x in args.sizes.split(",")]:
        pair = {}
        for evidence in (True, False):
            work = tempfile.mkdtemp(prefix="ev-%d-%s-" % (n, "on" if evidence else "off"), dir=args.out)
            log("%d cameras, evidence %s" % (n, "on" if evidence else "off"))
            pair[evidence] = run_one(args, n, evidence, jpeg, work)
            log(json.dumps(pair[evidence]))
        on, off = pair[True], pair[False]
        per_case_on = on["cpu_s"] / on["cases"] if on["cases"] else None
        per_case_off = off["cpu_s"] / off["cases"] if off["cases"] else None
        stored = on["pictures"].get("stored", 0)
        summary = {
            "cameras": n, "cases": on["cases"], "pictures": on["pictures"], "p50_ms": on["p50_ms"],
            "p99_ms": on["p99_ms"], "max_ms": on["max_ms"], "reused": on.get("reused"),
            "capture_p50_ms": on.get("capture_p50_ms"), "capture_p99_ms": on.get("capture_p99_ms"),
            "file_kb_per_case": on["cases"] and round(on["file_bytes"] / on["cases"] / 1024, 1),
            "cpu_ms_per_case_on": per_case_on and round(per_case_on * 1000, 3),
            "cpu_ms_per_case_off": per_case_off and round(per_case_off * 1000, 3),
            "cpu_ms_per_picture": stored and round((on["cpu_s"] - off["cpu_s"]) * 1000 / stored, 3),
            "pictures_per_case": on["cases"] and round(stored / on["cases"], 2),
            "file_kb_per_picture": stored and round(on["file_bytes"] / stored / 1024, 1),
            "table_bytes_per_picture": on["row_bytes"],
        }
        results.append(summary)
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
