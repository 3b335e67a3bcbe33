# SPDX-License-Identifier: GPL-2.0-or-later
"""The end-to-end run shared by test_isapi_sim.py and test_dahua_sim.py: alarmgw-vendorsim devices
(cameras and an NVR) -> the gateway's live client (`alarmgw run`) -> journal -> cases on a real
mosquitto, while each device misbehaves in one way, then:

- every device recovers by itself: after its misbehaviour ends, an event emitted on it is
  journaled within RECOVERY_S (the time is printed);
- the healthy devices never stop (no gap in their journal over MAX_GAP_S while events flow);
- event_channel_lost / camera_offline are raised where the misbehaviour must raise them, and every
  one raised is cleared by the end;
- reconciliation by event id, exactly: the ids the journal holds == the ids whose part the
  simulator completely wrote to a stream (its events log), every missing id named with what the
  log says of it (cut, unsent, dropped, no stream), and no id the simulator never wrote whole;
- cases reach the MQTT subscriber for the devices' alerts, their evidence naming journal rows that
  hold simulator ids.
"""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agwtest  # noqa: E402
from agwtest import Gateway, Mosquitto, check, finish, spawn, sql, tempdir, wait_for  # noqa: E402

# another build's gateway against this build's simulator (AGW_ALARMGW=/path/to/alarmgw)
agwtest.ALARMGW = os.environ.get("AGW_ALARMGW", agwtest.ALARMGW)

SRC = os.environ.get("AGW_SOURCE_DIR", os.path.join(HERE, "../.."))
sys.path.insert(0, os.path.join(SRC, "tests/sim/vendorsim"))
import vendorsim_client as vc  # noqa: E402

RECOVERY_S = 15.0   # stated bound: heartbeat_timeout 3 s + backoff_max 2 s + a handshake, with room
MAX_GAP_S = 6.0     # a healthy device at ~1 event/s never goes this long without a journaled one
MISBEHAVE_S = 8.0
HEALTH = ("camera_offline", "event_channel_lost")


def write_config(w, protocol, ledger, broker, adapter_extra=""):
    conf = os.path.join(w, "alarmgw.conf")
    os.makedirs(os.path.join(w, "state"), exist_ok=True)
    with open(conf, "w") as f:
        f.write('gateway: { id = "it-%s-sim"; state_dir = "%s/state"; log_level = "info"; };\n' % (protocol, w))
        f.write('cameras: { ledger = "%s"; };\n' % ledger)
        if broker:
            f.write('mqtt: { uri = "%s"; reconnect_min = "200ms"; };\n' % broker.uri)
        f.write('adapters: { %s: { heartbeat_timeout = "3s"; connect_timeout = "1s"; backoff_min = "200ms"; '
                'backoff_max = "2s"; %s }; };\n' % (protocol, adapter_extra))
    return conf


def merge_ledgers(out, paths):
    with open(out, "w") as f:
        for i, p in enumerate(paths):
            with open(p) as g:
                lines = g.read().splitlines(True)
            f.writelines(lines if i == 0 else lines[1:])


class Journal:
    def __init__(self, db, id_of):
        self.db, self.id_of = db, id_of

    def rows(self, where="1", args=()):
        if not os.path.exists(self.db):
            return []
        try:
            return sql(self.db, "SELECT seq, camera_id, kind, active, gateway_time, json FROM alerts WHERE " + where,
                       args)
        except Exception:  # the table appears with the first migration
            return []

    def event_rows(self, camera=None):
        rows = self.rows("kind NOT IN ('camera_offline', 'event_channel_lost')" +
                         (" AND camera_id = ?" if camera else ""), (camera,) if camera else ())
        return rows

    def ids(self):
        out = {}
        for seq, cam, _, _, _, js in self.event_rows():
            i = self.id_of(cam, json.loads(js))
            if i:
                out.setdefault(i, []).append(seq)
        return out

    def health(self, cam, kind):
        return [r[3] for r in self.rows("camera_id = ? AND kind = ? ORDER BY seq", (cam, kind))]


def emit_any(sim, dev, types):
    """Emits one event on a device now, trying types until one is not busy; returns its id."""
    before = sim.stats(dev)["edges"]
    for t in types:
        for ch in (1, 2, 3, 4):
            try:
                sim.control(dev, "emit", type=t, channel=ch)
            except vc.HttpError as e:
                if e.status in (409, 400):
                    continue
                raise
            log = sim.read_log()
            mine = [i for i, e in log.edges.items() if e["device"] == sim.device_id(dev)]
            assert sim.stats(dev)["edges"] > before
            return max(mine, key=lambda i: int(i.rsplit("-", 1)[1]))
    raise AssertionError("no event type free on device %d" % dev)


def run(protocol, misbehaviours, id_of, types, sim_extra=(), nvr_extra=(), adapter_extra="", health_expect=None):
    """misbehaviours: {device index: (description, [(action, args)] at start, [(action, args)] at end)}."""
    if not shutil.which("mosquitto") or not shutil.which("mosquitto_sub"):
        print("skip: mosquitto not installed")
        sys.exit(77)
    w = tempdir("agw-%s-sim-" % protocol)
    ok = False
    broker = gw = sub = cams = nvr = None
    try:
        broker = Mosquitto(w).start()
        sub_out = open(os.path.join(w, "mqtt.txt"), "w")
        sub = spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-v",
                     "-t", "agw/cases/#"], stdout=sub_out, stderr=subprocess.DEVNULL)
        n = len(misbehaviours)
        cams = vc.Vendorsim(protocol, devices=n, rate=0.8, workdir=w,
                            extra=["--run", "2", "--quiet", "4", "--heartbeat", "1", "--mixed"] + list(sim_extra))
        cams.start()
        nvr = vc.Vendorsim(protocol, devices=1, rate=1.5, workdir=w, id_prefix="nvr",
                           extra=["--run", "2", "--quiet", "4", "--heartbeat", "1", "--channels", "4"] + list(nvr_extra))
        nvr.start()
        ledger = os.path.join(w, "ledger.csv")
        merge_ledgers(ledger, [cams.ledger, nvr.ledger])
        conf = write_config(w, protocol, ledger, broker, adapter_extra)
        gw = Gateway(conf).start()
        j = Journal(os.path.join(w, "state", "alarmgw.db"), id_of)
        healthy = [cams.device_id(i) for i, m in misbehaviours.items() if not m[1]] + [nvr.device_id(0)]

        # every device streams and delivers before anything goes wrong
        wait_for(lambda: all(j.event_rows(d) for d in [cams.device_id(i) for i in range(n)] + [nvr.device_id(0)]),
                 "an event journaled from every device", timeout=30)
        check(True, "every device delivered events (%d devices, %d journaled events)" % (n + 1, len(j.event_rows())))

        t_start = time.time()
        for i, (desc, start, _) in misbehaviours.items():
            for action, args in start:
                cams.control(i, action, **args)
        time.sleep(MISBEHAVE_S)
        for i, (desc, _, end) in misbehaviours.items():
            for action, args in end:
                cams.control(i, action, **args)
        t_end = time.time()

        # recovery: an event emitted now on every misbehaving device is journaled soon
        for i, (desc, start, _) in misbehaviours.items():
            if not start:
                continue
            t0 = time.time()
            eid = emit_any(cams, i, types)
            try:
                wait_for(lambda: eid in j.ids(), "%s from device %d (%s)" % (eid, i, desc), timeout=RECOVERY_S)
                check(True, "device %d (%s) recovered: %s journaled %.1f s after it was emitted" %
                      (i, desc, eid, time.time() - t0))
            except TimeoutError:
                check(False, "device %d (%s) recovered within %.0f s: %s" % (i, desc, RECOVERY_S,
                                                                            cams.read_log().fate(eid)))

        # the healthy devices kept flowing through the misbehaviours
        for d in healthy:
            times = sorted(r[4] / 1000.0 for r in j.event_rows(d) if t_start <= r[4] / 1000.0 <= t_end)
            gaps = [b - a for a, b in zip([t_start] + times, times + [t_end])]
            check(times and max(gaps) < MAX_GAP_S, "healthy %s: %d events during the misbehaviours, longest gap "
                  "%.1f s" % (d, len(times), max(gaps) if gaps else -1))

        # quiesce: no new events, runs end, the gateway catches up
        cams.control("all", "rate", **{"per-second": 0})
        nvr.control("all", "rate", **{"per-second": 0})
        time.sleep(4.0)
        last = None
        for _ in range(40):
            cur = len(j.rows())
            if cur == last:
                break
            last = cur
            time.sleep(0.5)

        # health edges
        for i, (desc, start, _) in misbehaviours.items():
            for kind in HEALTH:
                seq = j.health(cams.device_id(i), kind)
                want = (health_expect or {}).get(i)
                if want == kind:
                    check(1 in seq, "device %d (%s) raised %s (%s)" % (i, desc, kind, seq))
                check(not seq or seq[-1] == 0, "device %d (%s): %s cleared at the end (%s)" % (i, desc, kind, seq))
        for d in healthy:
            check(not any(j.health(d, k) for k in HEALTH), "healthy %s raised no health alert" % d)

        # reconciliation, exactly
        journaled = j.ids()
        total_missing = 0
        for sim in (cams, nvr):
            log = sim.read_log()
            mine = {i for i in journaled if i.rsplit("-", 1)[0] in
                    {sim.device_id(k) for k in range(sim.devices)}}
            missing, phantom, lines = log.reconcile(mine)
            for line in lines:
                print("      " + line)
            fates = {}
            for i, ps in log.parts.items():
                for p in ps:
                    fates[p["fate"]] = fates.get(p["fate"], 0) + 1
            written = log.written()
            check(not missing and not phantom,
                  "%s: journaled ids == ids written whole to a stream (%d written, %d journaled, %d missing, "
                  "%d never written whole; part fates %s; %d edges never written to any stream)" %
                  (sim.prefix, len(written), len(mine), len(missing), len(phantom), fates,
                   len([i for i in log.edges if i not in log.parts])))
            total_missing += len(missing)
        # what the journal says of each event is what the device wrote: type, channel, state
        wrong = []
        edges = {}
        for sim in (cams, nvr):
            edges.update(sim.read_log().edges)
        for seq, cam, kind, active, _, js in j.event_rows():
            a = json.loads(js)
            i = id_of(cam, a)
            e = edges.get(i)
            if not e:
                continue
            want_active = {"active": True, "inactive": False, "pulse": None}[e["state"]]
            if (a.get("topic") != e["type"] or (a.get("source") or {}).get("channel") != str(e["channel"]) or
                    a.get("active") != want_active):
                wrong.append((i, a.get("topic"), (a.get("source") or {}).get("channel"), a.get("active"), e))
        for x in wrong[:5]:
            print("      journal differs from the device: %s" % (x,))
        check(not wrong, "topic, channel and active state of every journaled event are the device's (%d events)" %
              len(j.event_rows()))
        dup = sum(len(v) - 1 for v in journaled.values())
        print("      %d ids journaled more than once (repeats past the coalesce window)" % dup)

        # cases on MQTT
        code, took = gw.stop(timeout=20)
        check(code == 0, "SIGTERM exits 0 in %.1f s" % took)
        time.sleep(1.0)
        msgs = []
        with open(os.path.join(w, "mqtt.txt")) as f:
            for line in f:
                try:
                    msgs.append(json.loads(line[line.index("{"):]))
                except ValueError:
                    pass
        devs = {m.get("camera", {}).get("id") for m in msgs}
        check(all(d in devs for d in healthy), "cases on MQTT for the healthy devices (%d messages, devices %s)" %
              (len(msgs), sorted(d for d in devs if d)))
        db = os.path.join(w, "state", "alarmgw.db")
        seqs = [e["journal_seq"] for m in msgs for e in m.get("alerts", [])]
        with_id = 0
        for s in seqs[:200]:
            r = sql(db, "SELECT camera_id, json FROM alerts WHERE seq = ?", (s,))
            if r and id_of(r[0][0], json.loads(r[0][1])):
                with_id += 1
        check(with_id > 0, "case evidence names journal rows holding simulator ids (%d of %d looked at)" %
              (with_id, min(len(seqs), 200)))
        ok = True
    finally:
        if gw and gw.proc and gw.proc.poll() is None:
            gw.kill()
        if gw:
            with open(os.path.join(w, "alarmgw.log"), "w") as f:
                f.write("\n".join(gw.log()) + "\n")
        for s in (cams, nvr):
            if s:
                s.stop()
        if sub and sub.poll() is None:
            sub.terminate()
        if broker:
            broker.stop()
        if ok and os.environ.get("AGW_KEEP") is None:
            shutil.rmtree(w, ignore_errors=True)
        else:
            print("kept", w)
    finish()
