# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/scale --protocol isapi|dahua: the devices are alarmgw-vendorsim processes (Hikvision
alertStream or Dahua eventManager streams, one per device), in place of camsim.

The simulator's events log says which event ids it wrote whole to a stream ("written"): those are
the events the gateway must deliver. ISAPI and Dahua events carry no EventId of ONVIF's kind: the
simulator's id is in the alert's data (ISAPI simEventId; Dahua EventID, numbered per device), so
the case messages are matched to events through the journal rows their `alerts` name
(journal_seq). Latency is from the edge's generation (gen_ms, the simulator's wall clock) to the
subscriber's receipt of the message it caused.
"""
import json
import os
import signal
import sqlite3
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "sim", "vendorsim"))
import vendorsim_client as vc  # noqa: E402

CHUNK = 5000


def binary(build_dir):
    return os.path.join(build_dir, "tests", "sim", "vendorsim", "alarmgw-vendorsim")


def start_on_free_ports(procs, name, cnt, taken, argv_of, out, free_port_run, free_port, log):
    """Starts a simulator of cnt devices on a run of free ports (retried: other tests and other
    simulators hold hundreds of ports on a shared machine) until it prints "ready" into out;
    returns (process, base port, control port). argv_of(base, control) gives its command line."""
    for attempt in range(20):
        # a run of ports below the ephemeral range (32768) that no socket uses now
        base = free_port_run(cnt, taken)
        if base is None:
            raise RuntimeError("no run of %d free ports below 32000 for %s (use --camsim-chunk)" % (cnt, name))
        ctl = free_port()
        p = procs.start(name, argv_of(base, ctl), stdout=open(out, "w"), stderr=open(out[:-4] + ".log", "w"))
        for _ in range(600):
            if p.poll() is not None:
                break
            with open(out) as f:
                if "ready" in f.read():
                    taken.append((base, cnt))
                    return p, base, ctl
            time.sleep(0.05)
        procs.stop(p)
        log("%s could not start on base port %d (attempt %d)" % (name, base, attempt + 1))
    raise RuntimeError("%s did not start" % name)


def start(procs, work, tool, protocol, n, rate, seed, free_port_run, free_port, log, chunk=CHUNK):
    """vendorsim processes of at most chunk devices, ids <prefix><k>-00001...; returns
    ([(proc, control_port, prefix, events_log)], merged ledger path)."""
    sims, lines = [], []
    taken = []
    for k, off in enumerate(range(0, n, chunk)):
        cnt = min(chunk, n - off)
        prefix = "%s%d" % ("hik" if protocol == "isapi" else "dh", k)
        evlog = os.path.join(work, "vendorsim-events-%d.jsonl" % k)
        ledger = os.path.join(work, "ledger-%d.csv" % k)
        argv = lambda base, ctl: [tool, "--protocol", protocol, "-n", str(cnt), "-p", str(base), "--user", "admin",
                                  "--password", "bench", "--rate", str(rate), "--id-prefix", prefix,
                                  "--events-log", evlog, "--ledger", ledger, "--control-port", str(ctl),
                                  "--seed", str(seed + k), "--log-level", "warning"]
        p, _base, ctl = start_on_free_ports(procs, "vendorsim-%d" % k, cnt, taken, argv,
                                            os.path.join(work, "vendorsim-%d.out" % k), free_port_run, free_port, log)
        sims.append((p, ctl, prefix, evlog))
        with open(ledger) as f:
            rows = f.read().splitlines()
        head = rows[0]
        lines.extend(rows[1:])
    path = os.path.join(work, "ledger.csv")
    with open(path, "w") as f:
        f.write(head + "\n" + "\n".join(lines) + "\n")
    return sims, path


def count_live(sims, items, field):
    """How many of the simulators' /stats items (camsim "cameras", vendorsim "devices") have field
    above 0, or -1 when a simulator does not answer."""
    total = 0
    for _p, ctl, _x, _log in sims:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/stats" % ctl, timeout=10) as r:
                st = json.load(r)
            total += sum(1 for d in st[items] if d.get(field, 0) > 0)
        except (OSError, ValueError, KeyError):
            return -1
    return total


def live_streams(sims):
    """Devices with a stream open, or -1 when a simulator does not answer."""
    return count_live(sims, "devices", "live_streams")


def sim_cpu(sims, cpu_ns):
    return sum(cpu_ns(p.pid) or 0 for p, _c, _pre, _log in sims)


def gateway_config(protocol, silence_s):
    """The adapter section. The drain freezes the simulators (SIGSTOP) for up to --drain-max: the
    streams' silence must not count as dead streams then (the reconnects and event_channel_lost
    cases would be the bench's own doing), so heartbeat_timeout is longer than that."""
    if protocol == "isapi":
        return 'isapi: { heartbeat_timeout = "%ds"; };' % silence_s
    return 'dahua: { heartbeat = 5; heartbeat_timeout = "%ds"; };' % silence_s


def read_logs(sims):
    """({(device, id): gen_ms} of the events written whole to a stream, {(device, id): fate} of the
    others: what became of them on the simulator's side)."""
    written, other = {}, {}
    for _p, _ctl, _pre, path in sims:
        log = vc.Log(path)
        ok = log.written()
        for i, e in log.edges.items():
            k = (e["device"], i)
            if i in ok:
                written[k] = e["gen_ms"]
            else:
                other[k] = log.fate(i)
    return written, other


def alert_id(protocol, camera, alert):
    data = alert.get("data") or {}
    if protocol == "isapi":
        return data.get("simEventId")
    eid = data.get("EventID")
    return "%s-%s" % (camera, eid) if eid else None


def journal_ids(db, protocol):
    """{journal seq: (camera, simulator id)} of the alerts that carry one."""
    out = {}
    con = sqlite3.connect(db)
    try:
        for seq, cam, js in con.execute("SELECT seq, camera_id, json FROM alerts"):
            try:
                i = alert_id(protocol, cam, json.loads(js))
            except ValueError:
                continue
            if i:
                out[seq] = (cam, i)
    finally:
        con.close()
    return out


def journaled_keys(db, protocol):
    """(camera, id) of every event the gateway journaled (ONVIF: its EventId)."""
    if not os.path.exists(db):
        return set()
    if protocol != "onvif":
        return set(journal_ids(db, protocol).values())
    con = sqlite3.connect(db)
    try:
        return set(con.execute("SELECT camera_id, event_id FROM alerts WHERE event_id IS NOT NULL").fetchall())
    finally:
        con.close()


def journal_drops(db, protocol):
    """(camera, id) the gateway journaled and its rules dropped, with the reason."""
    out = {}
    con = sqlite3.connect(db)
    try:
        for cam, js, reason in con.execute("SELECT a.camera_id, a.json, d.reason FROM alerts a JOIN decisions d "
                                           "ON d.alert_seq = a.seq WHERE d.action = 'drop'"):
            i = alert_id(protocol, cam, json.loads(js))
            if i:
                out[(cam, i)] = reason
    finally:
        con.close()
    return out


def read_received(path, ids):
    """First receipt (ms) per (camera, id) over every message's alerts, and per the message's last
    alert (its cause, for latency)."""
    seen, cause, msgs = {}, {}, 0
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) < 3:
                continue
            try:
                t = float(parts[0]) * 1000.0
                m = json.loads(parts[2])
            except ValueError:
                continue
            msgs += 1
            alerts = m.get("alerts") or []
            for a in alerts:
                k = ids.get(a.get("journal_seq"))
                if k:
                    seen.setdefault(k, t)
            if alerts:
                k = ids.get(alerts[-1].get("journal_seq"))
                if k:
                    cause.setdefault(k, t)
    return seen, cause, msgs


def freeze(sims, sig):
    for p, _c, _pre, _log in sims:
        p.send_signal(sig)


def stop(procs, sims):
    freeze(sims, signal.SIGCONT)
    for p, _c, _pre, _log in sims:
        procs.stop(p)


def stages(db, protocol, written, cause, w1ms, w2ms):
    """p50/p99 (ms) of device -> gateway (generation to the alert's gateway_time) and gateway ->
    subscriber (that to the receipt of the message it caused), for events generated in the window."""
    dev, sub = [], []
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT camera_id, json, gateway_time FROM alerts").fetchall()
    finally:
        con.close()
    first = {}
    for cam, js, gw in rows:
        i = alert_id(protocol, cam, json.loads(js))
        if i:
            first.setdefault((cam, i), gw)
    for k, gen in written.items():
        if not (w1ms <= gen < w2ms) or k not in first:
            continue
        dev.append(first[k] - gen)
        if k in cause:
            sub.append(cause[k] - first[k])
    out = {}
    for name, v in (("device_to_gateway", dev), ("gateway_to_subscriber", sub)):
        v.sort()
        out[name] = [round(v[int(0.5 * (len(v) - 1))], 1), round(v[int(0.99 * (len(v) - 1))], 1)] if v else None
    return out
