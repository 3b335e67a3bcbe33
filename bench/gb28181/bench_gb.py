#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/gb28181: one gateway as the GB/T 28181 platform of N simulated IP cameras (gbsim) that
register with Digest, send keepalives every --keepalive seconds and alarms at --rate per device,
with a real mosquitto and a subscriber (the parts shared with bench/scale: scale.py).

The ledger has one row per device (an IPC is its own channel), rules turn every alert into a case
message (bench/scale/rules.conf), and everything is reconciled by (camera, alarm SN):

  answered = alarms gbsim saw answered 200 (the gateway says: journaled);
  received = (camera, SN) pairs in the `evidence` of case messages on MQTT;
  lost     = answered - received - alarms the rules dropped (journal decisions, reported);
  gave_up  = alarms gbsim retransmitted until Timer F without an answer (the gateway never took
             them: back-pressure or overload, not loss; reported).

Figures for the window after --warmup (all devices registered): alarms/s answered, CPU of the
gateway per alarm (/proc utime+stime over the window divided by the alarms answered in it), RSS
and RSS per device (over the RSS before any device registered), p50/p99 from the first sending of
an alarm MESSAGE to its case message's receipt, lost. gbsim runs as --sims processes.

    python3 bench/gb28181/bench_gb.py --build-dir build-release --devices 10000 --rate 0.1 --seconds 60
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "bench", "scale"))
from scale import Procs, events_lost_times, free_port, journal_drops, log, percentile, proc_sample  # noqa: E402
from scale import read_received  # noqa: E402
from scale import start_mosquitto, start_subscriber  # noqa: E402

GBSIM = os.path.join(SOURCE, "tests", "sim", "gbsim", "gbsim.py")
SERVER = "34020000002000000001"
CENTRE = "34020000"


def camera_of(channel):
    return "gb-%s-%s" % (channel[10:13], channel[-6:])  # as gbsim writes the ledger


def write_config(work, ledger, sip_port, mqtt_port, args):
    state = os.path.join(work, "state")
    os.makedirs(state, exist_ok=True)
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write('gateway: { id = "bench-gw"; state_dir = "%s"; log_level = "notice"; queue_max = %d; };\n'
                % (state, args.queue_max))
        f.write('cameras: { ledger = "%s"; };\n' % ledger)
        # GB/T 28181 devices give no snapshot: with evidence on, each case writes a "no picture"
        # evidence row in a transaction of its own, a cost of the evidence feature (as in bench/scale)
        f.write('evidence: { enabled = %s; };\n' % ("true" if args.evidence else "false"))
        f.write('rules: { file = "%s"; };\n' % os.path.join(SOURCE, "bench", "scale", "rules.conf"))
        f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; topic_prefix = "agw"; inflight = 64; };\n' % mqtt_port)
        f.write('adapters: { gb28181: { listen = "127.0.0.1:%d"; sip_id = "%s"; password = "12345678"; '
                'max_devices = %d; keepalive_interval = "%ds"; catalog_interval = "0"; }; };\n'
                % (sip_port, SERVER, args.devices + 10, int(args.keepalive)))
    return conf, os.path.join(state, "alarmgw.db")


def sched(pid):
    """(ns on a CPU, ns runnable but waiting for one) of the process' main thread, the loop."""
    with open("/proc/%d/schedstat" % pid) as f:
        run, wait, _ = f.read().split()
    return int(run), int(wait)


def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def udp_drops(ports):
    """Datagrams the kernel dropped on these local UDP ports (full receive buffers), from
    /proc/net/udp's last column: who could not keep up, the gateway or the simulator."""
    total = 0
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            cols = line.split()
            if int(cols[1].split(":")[1], 16) in ports:
                total += int(cols[-1])
    return total


def sim_ports(outs):
    ports = set()
    for p in outs:
        with open(p) as f:
            for line in f:
                if line.startswith("gbsim: ready"):
                    ports.add(int(line.rsplit(":", 1)[1]))
    return ports


def callgrind_total(work):
    """Instructions in the window: the largest total of the dumps callgrind_control -d wrote."""
    best = 0
    for name in os.listdir(work):
        if name.startswith("callgrind.out"):
            with open(os.path.join(work, name)) as f:
                for line in f:
                    if line.startswith(("summary:", "totals:")):
                        best = max(best, int(line.split()[1]))
    return best


def read_events(paths):
    sent, answered = {}, {}
    for p in paths:
        with open(p) as f:
            for line in f:
                e = json.loads(line)
                if "sent_ms" in e:
                    sent[e["id"]] = e
                else:
                    answered[e["id"]] = e
    return sent, answered


def run(args, alarmgw):
    work = args.out
    os.makedirs(work, exist_ok=True)
    procs = Procs()
    row = {"devices": args.devices, "rate_per_device": args.rate}
    try:
        _mq, mport = start_mosquitto(procs, work)
        _sub, received_path = start_subscriber(procs, work, mport, ["agw/cases/#"])
        ledger = os.path.join(work, "ledger.csv")
        subprocess.run([sys.executable, GBSIM, "--server", "127.0.0.1:1", "--devices", str(args.devices),
                        "--ledger", ledger, "--ledger-only"], check=True)
        sip_port = free_port()
        conf, db = write_config(work, ledger, sip_port, mport, args)
        wrap = []
        if args.profile == "callgrind":
            # instrumented only inside the window (callgrind_control -i on/off): instructions per
            # alarm that load on the machine does not change
            wrap = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                    "--callgrind-out-file=" + os.path.join(work, "callgrind.out")]
        gw = procs.start("alarmgw", wrap + [alarmgw, "run", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(work, "alarmgw.log"), "w"))
        time.sleep(2.0 if not wrap else 10.0)
        rss0 = proc_sample(gw.pid)[1]
        per = (args.devices + args.sims - 1) // args.sims
        sims, logs = [], []
        t_start = time.time()
        for i in range(args.sims):
            n = min(per, args.devices - i * per)
            ev = os.path.join(work, "events-%d.jsonl" % i)
            logs.append(ev)
            sims.append(procs.start("gbsim-%d" % i, [
                sys.executable, GBSIM, "--server", "127.0.0.1:%d" % sip_port, "--devices", str(n),
                "--base-id", "%s00132%s" % (CENTRE, "0%06d" % (1 + i * per)), "--rate", str(args.rate),
                "--keepalive", str(args.keepalive), "--spread", str(args.spread), "--seed", str(args.seed + i),
                "--duration", str(args.spread + args.warmup + args.seconds), "--events-log", ev],
                stdout=open(os.path.join(work, "gbsim-%d.out" % i), "w"),
                stderr=open(os.path.join(work, "gbsim-%d.log" % i), "w")))
        time.sleep(max(0.0, t_start + args.spread + args.warmup - time.time()))
        if args.profile == "callgrind":
            subprocess.run(["callgrind_control", "-i", "on", str(gw.pid)], stdout=subprocess.DEVNULL)
        w1 = time.time()
        c1 = proc_sample(gw.pid)[0]
        sim_c1 = sum(proc_sample(p.pid)[0] for p in sims)
        s1 = sched(gw.pid)
        rss, states, next_rss = [], {}, w1
        while time.time() < w1 + args.seconds:
            time.sleep(0.02)
            st = state(gw.pid)  # R running or runnable, S waiting for input, D waiting for the disk
            states[st] = states.get(st, 0) + 1
            if time.time() >= next_rss:
                rss.append(proc_sample(gw.pid)[1])
                next_rss += 1.0
        c2, _, hwm = proc_sample(gw.pid)
        sim_c2 = sum(proc_sample(p.pid)[0] for p in sims)
        s2 = sched(gw.pid)
        w2 = time.time()
        if args.profile == "callgrind":
            subprocess.run(["callgrind_control", "-d", str(gw.pid)], stdout=subprocess.DEVNULL)
            subprocess.run(["callgrind_control", "-i", "off", str(gw.pid)], stdout=subprocess.DEVNULL)
        # a gateway starved of CPU by other processes drops datagrams without using CPU itself
        row["loop_on_cpu_pct"] = round(100.0 * (s2[0] - s1[0]) / 1e9 / (w2 - w1), 1)
        row["loop_waiting_for_cpu_pct"] = round(100.0 * (s2[1] - s1[1]) / 1e9 / (w2 - w1), 1)
        n = sum(states.values())
        row["loop_states_pct"] = {k: round(100.0 * v / n, 1) for k, v in sorted(states.items())}
        row["load_avg_1m"] = os.getloadavg()[0]
        # the simulators must not be the bottleneck: their CPU per process, of one core
        row["gbsim_cpu_pct_per_process"] = round(100.0 * (sim_c2 - sim_c1) / (w2 - w1) / len(sims), 1)
        outs = [os.path.join(work, "gbsim-%d.out" % i) for i in range(args.sims)]
        row["gateway_udp_drops"] = udp_drops({sip_port})
        row["gbsim_udp_drops"] = udp_drops(sim_ports(outs))
        for p in sims:
            p.wait(timeout=args.spread + args.warmup + args.seconds + 120)
        # drain: until no new case message for --drain seconds
        last, t_last = -1, time.time()
        while time.time() - t_last < args.drain:
            size = os.path.getsize(received_path)
            if size != last:
                last, t_last = size, time.time()
            time.sleep(0.5)
        sent, answered = read_events(logs)
        seen, _cause, msgs = read_received(received_path)
        drops = journal_drops(db)
        ok = {i: sent[i] for i, a in answered.items() if a.get("answer") == 200 and i in sent}
        key = {i: (camera_of(e["channel"]), str(e["sn"])) for i, e in ok.items()}
        in_window = [i for i, e in ok.items() if w1 * 1000 <= answered[i]["answered_ms"] < w2 * 1000]
        lat = sorted(seen[key[i]] - ok[i]["sent_ms"] for i in in_window if key[i] in seen)
        # the device's view: first sending to the 200 OK (the journal commit included)
        lat_ok = sorted(answered[i]["answered_ms"] - ok[i]["sent_ms"] for i in in_window)
        lost_events = sum(len(v) for v in events_lost_times(db).values())
        lost = [i for i in ok if key[i] not in seen and key[i] not in drops]
        row.update({
            "alarms_sent": len(sent), "answered_200": len(ok),
            "gave_up": sum(1 for a in answered.values() if a.get("gave_up")),
            # never answered as far as the device knows, yet journaled: the 200 was lost on the way
            # back (the simulator's socket overflowed); the rest the gateway never took
            "gave_up_but_journaled": sum(1 for i, a in answered.items() if a.get("gave_up") and i in sent
                                         and (camera_of(sent[i]["channel"]), str(sent[i]["sn"])) in seen),
            "answered_per_s": round(len(in_window) / (w2 - w1), 1),
            "cpu_pct": round(100.0 * (c2 - c1) / (w2 - w1), 1),
            "cpu_us_per_alarm": round((c2 - c1) * 1e6 / max(1, len(in_window)), 1),
            "rss_before_mib": round(rss0 / 2**20, 1), "rss_mib": round(statistics.median(rss) / 2**20, 1),
            "peak_rss_mib": round(hwm / 2**20, 1),
            "kib_per_device": round((statistics.median(rss) - rss0) / 1024 / args.devices, 2),
            "p50_ms": round(percentile(lat, 0.5), 1), "p99_ms": round(percentile(lat, 0.99), 1),
            "p50_200ok_ms": round(percentile(lat_ok, 0.5), 1), "p99_200ok_ms": round(percentile(lat_ok, 0.99), 1),
            "events_lost_alerts": lost_events,
            "max_ms": round(lat[-1], 1) if lat else None, "case_messages": msgs,
            "rule_drops": sum(1 for i in ok if key[i] in drops), "lost": len(lost),
            "retransmitted": sum(1 for a in answered.values() if a.get("attempts", 1) > 1),
        })
        if args.profile == "callgrind":
            row["instructions_per_alarm"] = round(callgrind_total(work) / max(1, len(in_window)))
        with open(os.path.join(work, "lost.txt"), "w") as f:
            for i in lost:
                f.write("%s %s\n" % (i, key[i]))
        rc = procs.stop(gw)
        row["gateway_exit"] = rc
    finally:
        procs.stop_all()
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(SOURCE, "build-release"))
    ap.add_argument("--devices", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=0.1, help="alarms per second per device")
    ap.add_argument("--keepalive", type=float, default=60)
    ap.add_argument("--spread", type=float, default=30, help="registrations spread over this many seconds")
    ap.add_argument("--warmup", type=float, default=10, help="after the spread, before the window")
    ap.add_argument("--seconds", type=float, default=60, help="measurement window")
    ap.add_argument("--drain", type=float, default=5)
    ap.add_argument("--sims", type=int, default=2, help="gbsim processes")
    ap.add_argument("--queue-max", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="/tmp/agw-bench-gb")
    ap.add_argument("--evidence", action="store_true", help="evidence on (a failing capture per case)")
    ap.add_argument("--profile", choices=["none", "callgrind"], default="none",
                    help="callgrind over the window (callgrind.out* in --out): instructions per alarm")
    args = ap.parse_args()
    alarmgw = os.path.join(args.build_dir, "gateway", "alarmgw")
    if not os.access(alarmgw, os.X_OK):
        sys.exit("missing %s (build the target alarmgw in %s)" % (alarmgw, args.build_dir))
    row = run(args, alarmgw)
    print(json.dumps(row))
    log("devices %(devices)d: %(answered_per_s)s alarms/s answered, CPU %(cpu_pct)s %% (%(cpu_us_per_alarm)s us/alarm), "
        "RSS %(rss_mib)s MiB (%(kib_per_device)s KiB/device), alarm to 200 OK p50 %(p50_200ok_ms)s ms p99 "
        "%(p99_200ok_ms)s ms, alarm to MQTT p50 %(p50_ms)s ms p99 %(p99_ms)s ms, lost %(lost)d, gave up %(gave_up)d "
        "(%(gave_up_but_journaled)d of them journaled; events_lost alerts %(events_lost_alerts)d), retransmitted %(retransmitted)d, UDP drops gateway "
        "%(gateway_udp_drops)d gbsim %(gbsim_udp_drops)d, gbsim CPU %(gbsim_cpu_pct_per_process)s %% per process, "
        "loop waiting for a CPU %(loop_waiting_for_cpu_pct)s %%, load %(load_avg_1m).1f" % row)
    return 0 if row["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
