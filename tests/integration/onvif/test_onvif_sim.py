# SPDX-License-Identifier: GPL-2.0-or-later
"""The ONVIF adapter against alarmgw-camsim: the daemon (`alarmgw run`) with cameras imported from
camsim's ledger, while camsim misbehaves on ten cameras at once, one misbehaviour each.

Checked:
- every camera recovers by itself: after its misbehaviour ends, a new event from it is journaled
  within RECOVERY_S seconds (the measured time is printed);
- the healthy camera (cam-00001) keeps flowing during the misbehaviours (no gap over MAX_GAP_S);
- camera_offline / event_channel_lost alerts come in true/false pairs where expected;
- reconciliation by id: every event camsim queued to a live subscription (its events log) and did
  not log as dropped is in the journal (table alerts, column event_id), with no id it never issued;
- a second run with --auth both (WS-Security and HTTP Digest on every call) delivers too;
- a third with cameras that refuse GetServices (the events address from GetCapabilities).
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("AGW_SOURCE_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../.."))
BUILD = os.environ.get("AGW_BUILD_DIR", os.path.join(SRC, "build"))
sys.path.insert(0, os.path.join(SRC, "tests/sim/camsim"))
import camsim_client  # noqa: E402

ALARMGW = os.path.join(BUILD, "gateway/alarmgw")
RECOVERY_S = 25.0       # stated recovery bound after a misbehaviour ends (backoff_max is 2 s here)
MAX_GAP_S = 4.0         # the healthy camera at 3 events/s never goes this long without one
MISBEHAVE_S = 10.0      # how long the misbehaviours last
HEALTHY = "cam-00001"

CONFIG = """
gateway: {{ id = "gw-onvif-test"; state_dir = "{state}"; log_level = "info"; }};
cameras: {{ ledger = "{ledger}"; }};
adapters: {{
  onvif: {{
    connect_timeout = "1s"; request_timeout = "3s"; pull_timeout = "2s";
    termination_time = "12s"; renew_margin = "4s";
    backoff_min = "200ms"; backoff_max = "2s";
    max_response_bytes = 262144; max_bootstraps = 4; unsubscribe_timeout = "1s";
  }};
}};
"""


class Daemon:
    def __init__(self, workdir, ledger):
        self.dir = workdir
        self.state = os.path.join(workdir, "state")
        os.makedirs(self.state, exist_ok=True)
        self.conf = os.path.join(workdir, "alarmgw.conf")
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(state=self.state, ledger=ledger))
        self.log = open(os.path.join(workdir, "alarmgw.log"), "w")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([ALARMGW, "run", "-c", self.conf], stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def stop(self):
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.flush()
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def query(self, sql, args=()):
        db = os.path.join(self.state, "alarmgw.db")
        if not os.path.exists(db):
            return []
        for _ in range(20):
            try:
                con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
                try:
                    return con.execute(sql, args).fetchall()
                finally:
                    con.close()
            except sqlite3.OperationalError as e:  # the table appears with the first migration
                last = e
                time.sleep(0.2)
        raise last

    def log_text(self):
        with open(os.path.join(self.dir, "alarmgw.log")) as f:
            return f.read()


def cam_id(i):
    return "cam-%05d" % (i + 1)


def wait_until(what, fn, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


def events_after(d, cam, t_ms):
    rows = d.query("SELECT min(gateway_time) FROM alerts WHERE camera_id = ? AND gateway_time > ? AND "
                   "kind NOT IN ('camera_offline', 'event_channel_lost') AND event_id IS NOT NULL", (cam, t_ms))
    return rows[0][0] if rows and rows[0][0] else None


def health(d, cam, kind):
    return [r[0] for r in d.query("SELECT active FROM alerts WHERE camera_id = ? AND kind = ? ORDER BY seq",
                                  (cam, kind))]


def read_log_ids(path, with_sent=False):
    """queued {id: record}, dropped {id: reason} (and sent {id: record}) from camsim's events log."""
    queued, dropped, sent = {}, {}, {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # a line still being written
                rec = json.loads(line)
                if "dropped" in rec:
                    dropped[rec["id"]] = rec["dropped"]
                elif "sent" in rec:
                    sent[rec["id"]] = rec
                else:
                    queued[rec["id"]] = rec
    return (queued, dropped, sent) if with_sent else (queued, dropped)


def events_lost(d, cam):
    return d.query("SELECT active, json FROM alerts WHERE camera_id = ? AND kind = 'events_lost'", (cam,))


def reconcile(d, sim, snapshot_ids, allow=None, abandon_ok=()):
    """Every id queued before the snapshot, never dropped and sent in an ok answer must be journaled;
    an id sent in a cut or padded answer is journaled or its camera raised events_lost; an id sent in
    a fault is gone for any client (counted); an id in an answer never written is allowed only for the
    cameras in abandon_ok (a camera slower than the gateway's timeout); no unknown ids."""
    queued, dropped, sent = read_log_ids(sim.events_log, with_sent=True)
    journal = set(r[0] for r in d.query("SELECT event_id FROM alerts WHERE event_id IS NOT NULL"))
    # Initialized messages (the state burst after subscribing) carry ids camsim does not log as queued
    events = set(r[0] for r in d.query("SELECT event_id FROM alerts WHERE event_id IS NOT NULL AND "
                                       "(operation IS NULL OR operation != 'Initialized')"))
    expected = [i for i in snapshot_ids if i not in dropped and (i not in sent or sent[i]["sent"] == "ok" and
                                                                   sent[i]["written"])]
    missing = [i for i in expected if i not in journal]
    phantom = [i for i in events if i not in queued]
    in_bad = {}
    for i in snapshot_ids:
        rec = sent.get(i)
        if rec and not (rec["sent"] == "ok" and rec["written"]):
            key = (queued[i]["camera"], rec["sent"] if rec["written"] else "unwritten")
            in_bad.setdefault(key, []).append(i)
    print("reconcile: %d queued before the snapshot, %d dropped by camsim (%s), %d journaled, %d missing, "
          "%d unknown" % (len(snapshot_ids), len(dropped), ", ".join(sorted(set(dropped.values()))) or "-",
                          len(journal), len(missing), len(phantom)))
    print("sent in answers that were not ok (camera, answer): %s" %
          (sorted((k, len(v), sum(1 for i in v if i in journal)) for k, v in in_bad.items()) or "none"))
    if missing:
        by_cam = {}
        for i in missing:
            by_cam.setdefault(queued[i]["camera"], []).append(i)
        print("missing by camera:", {k: len(v) for k, v in by_cam.items()}, "e.g.", missing[:5])
    assert not missing, "events camsim queued were not journaled"
    for (cam, kind), ids in in_bad.items():
        unread = [i for i in ids if i not in journal]
        if kind in ("malformed", "oversized") and unread:
            lost = events_lost(d, cam)
            print("%s: %d events of %s answers not read, events_lost alerts: %s" % (cam, len(unread), kind, lost))
            assert lost, "%s: events of a %s answer neither journaled nor named lost" % (cam, kind)
        if kind == "unwritten":
            assert cam in abandon_ok, "%s: events in answers never written (the gateway gave up a pull)" % cam
            lost = [json.loads(r[1])["data"] for r in events_lost(d, cam)]
            print("%s: %d events in answers never written, events_lost alerts: %s" % (cam, len(ids), lost))
            assert [x for x in lost if x.get("reason") == "pull_timeout"], \
                "%s: the pulls the gateway gave up are not named" % cam
    early = {}
    for i in snapshot_ids:
        if i in dropped:
            key = (queued[i]["camera"], dropped[i])
            early[key] = early.get(key, 0) + 1
    print("dropped by camsim among the snapshot (camera, reason): %s" % (sorted(early.items()) or "none"))
    assert not [k for k in early if k[0] == HEALTHY], "the healthy camera lost events"
    assert not [k for k in in_bad if k[0] == HEALTHY], "the healthy camera lost events in answers"
    # only the camera itself may lose what it queued (a reboot, an expiry it was told to do); the
    # gateway never abandons a subscription that still holds events (unsubscribed, shutdown)
    allow = allow or {}
    assert all(k[1] in ("reboot", "expired") + tuple(allow.get(k[0], ())) for k in early), \
        "events lost to the gateway's own doing"
    assert not phantom, "journal holds ids camsim never issued: %s" % phantom[:5]
    return len(expected)


# When recovery is measured from: the misbehaviour's own end (reboot: 4 s after it starts; slow: when
# turned off); the others are one-shot and measured from when they were applied.
RECOVER_FROM = {1: 4.0, 6: MISBEHAVE_S}

# camera index -> (description, control calls at the start, control calls at the end, expected health)
MISBEHAVIOURS = {
    0: ("healthy", [], [], None),
    1: ("reboot 4 s", [("reboot", {"seconds": 4})], [], "camera_offline"),
    2: ("subscription expiry (404)", [("expire", {"reply": "404"})], [], "event_channel_lost"),
    3: ("subscription expiry (fault)", [("expire", {"reply": "fault"})], [], "event_channel_lost"),
    4: ("clock reset to 1970", [("clock-reset", {})], [], None),
    5: ("clock skew -2 h", [("skew", {"seconds": -7200})], [], None),
    6: ("slow answers 8 s", [("slow", {"ms": 8000})], [("slow", {"ms": 0})], "camera_offline"),
    7: ("malformed, oversized, faults", [("malformed", {"count": 2}), ("oversized", {"count": 2, "bytes": 600000}),
                                         ("fault", {"count": 2})], [], None),
    8: ("HTTP Digest only", [("digest-only", {"on": 1})], [], None),
    9: ("one subscriber, Unsubscribe kills all, then expiry",
        [("one-subscriber", {"on": 1}), ("unsubscribe-kills-all", {"on": 1}), ("expire", {"reply": "fault"})], [],
        "event_channel_lost"),
}


def main_run(tmp):
    n = len(MISBEHAVIOURS)
    sim = camsim_client.Camsim(cameras=n, auth="wsse", rate=3.0, workdir=tmp,
                               extra=["--mix", "motion=3,tamper=1,line=1,intrusion=1"])
    d = None
    try:
        sim.start()
        print("camsim: %d cameras on ports %d..%d" % (n, sim.port(0), sim.port(n - 1)))
        d = Daemon(tmp, sim.ledger).start()
        # every camera delivers before anything misbehaves
        t0 = time.time()
        wait_until("first events from every camera",
                   lambda: len(d.query("SELECT DISTINCT camera_id FROM alerts WHERE event_id IS NOT NULL")) == n, 60)
        print("all %d cameras delivering after %.1f s" % (n, time.time() - t0))
        assert d.alive(), "the daemon exited"

        start_ms = int(time.time() * 1000)
        for i, (desc, calls, _, _) in MISBEHAVIOURS.items():
            for action, args in calls:
                sim.control(i, action, **args)
        print("misbehaviours applied at %d" % start_ms)
        time.sleep(MISBEHAVE_S)
        for i, (desc, _, calls, _) in MISBEHAVIOURS.items():
            for action, args in calls:
                sim.control(i, action, **args)
        end_ms = int(time.time() * 1000)
        # the reboot is over by now too (4 s < MISBEHAVE_S)

        for i, (desc, _, _, _) in MISBEHAVIOURS.items():
            ref = start_ms + int(RECOVER_FROM.get(i, 0) * 1000)
            t = wait_until("%s (%s) to deliver again" % (cam_id(i), desc),
                           lambda: events_after(d, cam_id(i), ref), RECOVERY_S)
            last = wait_until("%s (%s) to deliver after the window" % (cam_id(i), desc),
                              lambda: events_after(d, cam_id(i), end_ms), RECOVERY_S)
            print("%s %-50s first event %.1f s after the misbehaviour (ended), delivering after the window: "
                  "%.1f s" % (cam_id(i), desc, (t - ref) / 1000.0, (last - end_ms) / 1000.0))
            assert t - ref <= RECOVERY_S * 1000
        assert d.alive(), "the daemon exited"

        # the healthy camera kept flowing during the misbehaviours
        times = [r[0] for r in d.query("SELECT gateway_time FROM alerts WHERE camera_id = ? AND gateway_time BETWEEN ? "
                                       "AND ? ORDER BY gateway_time", (cam_id(0), start_ms, end_ms))]
        gaps = [b - a for a, b in zip([start_ms] + times, times + [end_ms])]
        print("%s during the misbehaviours: %d events, longest gap %.1f s" %
              (cam_id(0), len(times), max(gaps) / 1000.0))
        assert max(gaps) <= MAX_GAP_S * 1000, "the healthy camera stalled while others misbehaved"

        # health transitions, once each way
        for i, (desc, _, _, kind) in MISBEHAVIOURS.items():
            off = health(d, cam_id(i), "camera_offline")
            lost = health(d, cam_id(i), "event_channel_lost")
            print("%s health: camera_offline %s, event_channel_lost %s" % (cam_id(i), off, lost))
            for seq in (off, lost):
                assert all(a != b for a, b in zip(seq, seq[1:])), "health alerts must alternate"
                assert not seq or seq[-1] == 0, "health not restored"
            if kind:
                seq = health(d, cam_id(i), kind)
                assert seq[:2] == [1, 0], "%s: expected %s raised and cleared, got %s" % (cam_id(i), kind, seq)
        assert health(d, cam_id(0), "camera_offline") == [] and health(d, cam_id(0), "event_channel_lost") == []

        # the healthy camera kept its one subscription by renewing it (12 s lifetime, twice as long a run)
        time.sleep(max(0.0, t0 + 25 - time.time()))
        st = sim.stats(0)
        print("%s: %d subscription(s) created, %d live, run %.0f s" % (cam_id(0), st["subscriptions"],
                                                                       st["live_subscriptions"], time.time() - t0))
        assert st["subscriptions"] == 1 and st["live_subscriptions"] == 1, "renewal did not keep the subscription"

        # a camera taken out of the ledger: reload, its subscription is given back, the others go on
        gone = n - 1
        with open(sim.ledger) as f:
            lines = f.readlines()
        with open(sim.ledger, "w") as f:
            f.writelines(l for l in lines if not l.startswith(cam_id(gone) + ","))
        reload_ms = int(time.time() * 1000)
        d.proc.send_signal(signal.SIGHUP)
        wait_until("%s unsubscribed after the reload" % cam_id(gone),
                   lambda: sim.stats(gone)["live_subscriptions"] == 0, 15)
        time.sleep(1.0)
        quiet_ms = int(time.time() * 1000)
        wait_until("the other cameras after the reload", lambda: all(events_after(d, cam_id(i), quiet_ms)
                                                                    for i in range(n - 1)), 15)
        late = d.query("SELECT count(*) FROM alerts WHERE camera_id = ? AND gateway_time > ?", (cam_id(gone), quiet_ms))
        print("reload: %s unsubscribed within %.1f s, %d alerts from it afterwards, the others flowing" %
              (cam_id(gone), (quiet_ms - 1000 - reload_ms) / 1000.0, late[0][0]))
        assert late[0][0] == 0
        # a reload leaves the cameras whose ledger rows did not change alone: no new subscription
        st = sim.stats(0)
        print("%s after the reload: %d subscription(s) created, %d live" % (cam_id(0), st["subscriptions"],
                                                                          st["live_subscriptions"]))
        assert st["subscriptions"] == 1 and st["live_subscriptions"] == 1, "reload resubscribed an unchanged camera"
        removed_camera = cam_id(gone)

        # reconcile: snapshot the events log, let it drain, stop
        time.sleep(2.0)
        snapshot, _ = read_log_ids(sim.events_log)
        time.sleep(1.5)
        rc = d.stop()
        print("daemon exit status", rc)
        assert rc == 0
        live = [c["live_subscriptions"] for c in sim.stats()["cameras"]]
        print("live subscriptions on the cameras after the daemon stopped:", live)
        # kept for the next start (unsubscribe_on_stop = false), given back by the removed camera
        assert live[gone] == 0 and live[0] == 1, "a stop keeps the subscriptions, a removal gives it back"
        sim.stop()
        # the slow camera (8 s, over the 5 s pull timeout) takes events into answers the gateway gave up
        n_ok = reconcile(d, sim, list(snapshot), allow={removed_camera: ("unsubscribed",)}, abandon_ok=(cam_id(6),))
        assert n_ok > 100
        text = d.log_text()
        assert "Sanitizer" not in text and "runtime error" not in text, "sanitizer report in the daemon log"
        assert "did not stop" not in text, "the adapter did not report stopped in time"
        print("errors the adapter logged:", sorted(set(l.split("] ", 1)[1].split(":")[0] for l in text.splitlines()
                                                       if l.startswith("<4>[onvif"))))
    except BaseException:
        if d:
            d.stop()
            tail = [l for l in d.log_text().splitlines() if not l.startswith("<6>")][-40:]
            print("daemon log (last 40 lines without info):\n" + "\n".join(tail))
        raise
    finally:
        if d:
            d.stop()
        sim.stop()


def auth_both_run(tmp):
    sim = camsim_client.Camsim(cameras=2, auth="both", rate=4.0, workdir=tmp)
    d = None
    try:
        sim.start()
        d = Daemon(tmp, sim.ledger).start()
        wait_until("events with WS-Security and HTTP Digest",
                   lambda: len(d.query("SELECT DISTINCT camera_id FROM alerts WHERE event_id IS NOT NULL")) == 2, 60)
        time.sleep(3.0)
        snapshot, _ = read_log_ids(sim.events_log)
        time.sleep(1.5)
        assert d.stop() == 0
        sim.stop()
        print("auth both:", end=" ")
        reconcile(d, sim, list(snapshot))
    finally:
        if d:
            d.stop()
        sim.stop()


def capabilities_run(tmp):
    """Cameras without GetServices: the events address comes from GetCapabilities."""
    sim = camsim_client.Camsim(cameras=2, auth="wsse", rate=4.0, workdir=tmp, extra=["--unsupported", "GetServices"])
    d = None
    try:
        sim.start()
        d = Daemon(tmp, sim.ledger).start()
        wait_until("events from cameras without GetServices",
                   lambda: len(d.query("SELECT DISTINCT camera_id FROM alerts WHERE event_id IS NOT NULL")) == 2, 60)
        time.sleep(2.0)
        snapshot, _ = read_log_ids(sim.events_log)
        time.sleep(1.5)
        assert d.stop() == 0
        text = d.log_text()
        assert "GetServices: fault" in text, "the cameras did not refuse GetServices"
        sim.stop()
        print("GetCapabilities fallback:", end=" ")
        reconcile(d, sim, list(snapshot))
    finally:
        if d:
            d.stop()
        sim.stop()


def restart_run(tmp):
    """An upgrade's `systemctl restart`: SIGTERM, then start again. The pull under way at the stop
    finishes and its events are journaled; the subscriptions are kept and resumed (no new one); the
    events camsim queued while the gateway was down are delivered. Counted exactly by EventId."""
    n = 3
    sim = camsim_client.Camsim(cameras=n, auth="wsse", rate=0, workdir=tmp, extra=["--mix", "motion=1"])
    d = None
    try:
        sim.start()
        d = Daemon(tmp, sim.ledger).start()
        wait_until("every camera subscribed", lambda: all(sim.stats(i)["live_subscriptions"] == 1 for i in range(n)), 30)
        active = [True] * n

        def emit_all():
            for i in range(n):
                sim.control(i, "emit", kind="motion", active=1 if active[i] else 0)
                active[i] = not active[i]

        def journaled():
            return set(r[0] for r in d.query("SELECT event_id FROM alerts WHERE event_id IS NOT NULL AND "
                                              "(operation IS NULL OR operation != 'Initialized')"))

        emit_all()
        wait_until("the first events journaled", lambda: len(journaled()) == n, 20)
        time.sleep(0.5)  # every camera long-polling again (pull_timeout 2 s)
        d.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        emit_all()  # answers the pulls under way at the stop
        rc = d.proc.wait(timeout=30)
        d.proc = None
        print("daemon exit status", rc)
        assert rc == 0
        live = [sim.stats(i)["live_subscriptions"] for i in range(n)]
        assert live == [1] * n, "subscriptions kept across the stop: %s" % live
        for _ in range(3):  # queued on the cameras while nobody listens
            emit_all()
        queued_down = len(read_log_ids(sim.events_log)[0])
        d.start()
        wait_until("every event journaled after the restart", lambda: len(journaled()) == queued_down, 30)
        time.sleep(1.0)
        created = [sim.stats(i)["subscriptions"] for i in range(n)]
        assert d.stop() == 0
        sim.stop()
        queued, dropped, sent = read_log_ids(sim.events_log, with_sent=True)
        got = journaled()
        print("restart: %d events queued (%d while stopping or stopped), %d journaled, subscriptions created %s, "
              "dropped %s, not ok in answers %s" % (len(queued), len(queued) - 2 * n, len(got), created, dropped,
                                                    [r for r in sent.values() if r["sent"] != "ok" or not r["written"]]))
        assert set(queued) == got, "missing %s, unknown %s" % (sorted(set(queued) - got)[:5], sorted(got - set(queued))[:5])
        assert created == [1] * n, "the kept subscriptions were resumed, not recreated: %s" % created
        assert "subscription of the previous run resumed" in d.log_text()
    finally:
        if d:
            d.stop()
        sim.stop()


def main():
    for path in (ALARMGW, camsim_client.binary()):
        if not os.path.exists(path):
            print("missing", path)
            return 1
    with tempfile.TemporaryDirectory(prefix="agw-onvif-sim-") as tmp:
        os.makedirs(os.path.join(tmp, "restart"))
        restart_run(os.path.join(tmp, "restart"))
        main_run(os.path.join(tmp, "main") if os.makedirs(os.path.join(tmp, "main")) is None else tmp)
    with tempfile.TemporaryDirectory(prefix="agw-onvif-both-") as tmp:
        auth_both_run(tmp)
    with tempfile.TemporaryDirectory(prefix="agw-onvif-caps-") as tmp:
        capabilities_run(tmp)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
