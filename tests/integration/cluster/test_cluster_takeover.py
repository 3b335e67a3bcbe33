# SPDX-License-Identifier: GPL-2.0-or-later
"""Takeover of a dead instance's cameras: an alarm still active when the new owner subscribes.

A new owner hears the camera for the first time, and a camera heard for the first time does not
open cases for the states it reports on subscription (rules.md, resync_unknown_after). A camera
taken over from another instance was heard by the cluster, so its Initialized active state opens
the case (found on resynchronisation).

Setup: a real 3-member etcd, a real mosquitto with the platform's persistent QoS 1 subscriber,
camsim (intrusion only, no random alarms: every alarm is emitted by the test), two instances,
rules that open a case for every intrusion.

Checked:
- gap: gw-a is SIGKILLed, then an alarm starts on one of its cameras (X) while nobody pulls it;
  gw-b takes the camera over, finds it active on subscription and opens exactly one case,
  marked found_on_resync, which the alarm's end closes; the platform sees that one case id;
- published before the death: an alarm of another of gw-a's cameras (Y) opened its case on gw-a,
  then gw-a died. gw-b opens exactly one case for it too and closes it at the alarm's end; what
  the platform sees for Y is printed (gw-a's case id is not gw-b's: the Initialized message has the
  subscription's time, not the alarm's start);
- the control: an alarm of a camera gw-b ran from the start (Z) is one ordinary case (not marked
  found_on_resync), closed at its end.
"""
import collections
import json
import os
import sys
import time

import clustertest
from agwtest import Gateway, SOURCE, check, finish, tempdir, wait_for
from clustertest import Etcd, need_etcd, stats

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
sys.path.insert(0, os.path.join(SOURCE, "tests/unit/mqtt"))
import camsim_client  # noqa: E402
from mqttlab import Broker, Sub  # noqa: E402

CAMERAS = 24
SLOTS = 16
TTL_S = 10
RULES = ('version = 1;\n'
         'defaults = { dedup_window = "2m"; dedup_by = "camera"; clear_timeout = "0"; };\n'
         'flood = { camera = { max_cases = 0; window = "10m"; }; cell = { max_cases = 0; window = "10m"; }; };\n'
         'rules = ( { name = "intrusion"; kinds = ["intrusion"]; action = "open"; category = "takeover";'
         ' priority = 3; title = "{kind} at {camera}"; } );\n')

need_etcd()


def messages(sub):
    """camera id -> [(case_id, action, status, found_on_resync)] in arrival order (action "close":
    the alarm ended; status is the platform's lifecycle)."""
    out = collections.defaultdict(list)
    for line in sub.lines():
        brace = line.find("{")
        try:
            m = json.loads(line[brace:]) if brace >= 0 else None
        except ValueError:
            continue
        if isinstance(m, dict) and "case_id" in m:
            out[m["camera"]["id"]].append((m["case_id"], m["action"], m["status"], m.get("found_on_resync")))
    return out


def ids(msgs):
    return sorted({m[0] for m in msgs})


def main():
    work = tempdir("agw-takeover-")
    etcd = Etcd(work)
    etcd.start_all()
    broker = Broker(work)
    broker.start()
    platform = Sub(work, broker.port, "agw/cases/#", "platform")
    time.sleep(0.5)
    sim = camsim_client.Camsim(cameras=CAMERAS, auth="none", rate=0, workdir=work,
                               extra=["--mix", "intrusion=1"]).start()
    cam_ids = list(stats(sim))  # camsim lists its cameras by index: index i is cam_ids[i]
    index = {c: i for i, c in enumerate(cam_ids)}
    rules = os.path.join(work, "rules.conf")
    with open(rules, "w") as f:
        f.write(RULES)
    gws = {}
    try:
        for name in ("gw-a", "gw-b"):
            conf, _ = clustertest.write_config(work, name, etcd.endpoints, sim.ledger, SLOTS, TTL_S,
                                               mqtt_uri=f"tcp://127.0.0.1:{broker.port}", rules=rules)
            gws[name] = Gateway(conf).start()
        wait_for(lambda: len(etcd.holders() or {}) == SLOTS and
                 all(c["live_subscriptions"] == 1 for c in stats(sim).values()),
                 "every slot held, every camera subscribed once", timeout=60)
        time.sleep(2)
        holders = etcd.holders()
        of_a = clustertest.cameras_of(holders, cam_ids, "gw-a", SLOTS)
        of_b = clustertest.cameras_of(holders, cam_ids, "gw-b", SLOTS)
        check(len(of_a) >= 2 and len(of_b) >= 1, f"slots spread: gw-a runs {len(of_a)} cameras, gw-b {len(of_b)}")
        x, y, z = of_a[0], of_a[1], of_b[0]

        # Z, the control: an alarm of a camera gw-b runs from the start is an ordinary case
        sim.control(index[z], "emit", kind="intrusion", active=1)
        # Y: its alarm opens a case on gw-a, which then dies with the alarm still active
        sim.control(index[y], "emit", kind="intrusion", active=1)
        wait_for(lambda: messages(platform).get(y) and messages(platform).get(z), "Y's and Z's cases on the platform",
                 timeout=20)
        y_before = ids(messages(platform)[y])
        check(len(y_before) == 1, f"Y's alarm opened one case on gw-a: {y_before}")

        before = stats(sim)
        gws["gw-a"].kill()
        # X: the alarm starts in the gap (queued to gw-a's dead subscription only)
        sim.control(index[x], "emit", kind="intrusion", active=1)
        t0 = time.monotonic()
        wait_for(lambda: clustertest.resubscribed(sim, of_a, before), "gw-a's cameras subscribed by gw-b",
                 timeout=TTL_S + 20)
        print(f"gw-a's {len(of_a)} cameras subscribed by gw-b {time.monotonic() - t0:.1f} s after the kill")
        try:
            wait_for(lambda: any(m[3] for m in messages(platform).get(x, [])) and
                     sum(1 for m in messages(platform).get(y, []) if m[3]) > 0,
                     "gw-b's cases for X and Y found on resynchronisation", timeout=15)
        except TimeoutError:
            print("\n".join(l for l in gws["gw-b"].log() if x in l or y in l or "cluster" in l))
        # the alarms end: gw-b closes what it opened
        for cam in (x, y, z):
            sim.control(index[cam], "emit", kind="intrusion", active=0)
        try:
            wait_for(lambda: all(any(m[1] == "close" for m in messages(platform).get(c, [])) for c in (x, z)),
                     "the alarms' ends closed the cases", timeout=15)
        except TimeoutError:
            pass
        time.sleep(1)
        got = messages(platform)
        xs = got.get(x, [])
        check(len(ids(xs)) == 1 and all(m[3] for m in xs) and any(m[1] == "close" for m in xs),
              f"X (alarm began in the gap): the platform got exactly one case, found on resynchronisation by "
              f"gw-b and closed at the alarm's end: {xs}")
        ys = got.get(y, [])
        y_new = [i for i in ids(ys) if i not in y_before]
        check(len(y_new) == 1 and all(m[3] for m in ys if m[0] in y_new) and
              any(m[1] == "close" for m in ys if m[0] in y_new),
              f"Y (case made by gw-a before its death): gw-b opened exactly one case and closed it at the alarm's "
              f"end: {y_new}")
        print(f"what the platform saw for Y: {len(ids(ys))} case ids: {ys}")
        zs = got.get(z, [])
        check(len(ids(zs)) == 1 and not any(m[3] for m in zs) and any(m[1] == "close" for m in zs),
              f"Z (gw-b's own camera): one ordinary case, closed: {zs}")
    finally:
        for g in gws.values():
            if g.proc and g.proc.poll() is None:
                g.kill()
        sim.stop()
        platform.stop()
        broker.stop()
        etcd.stop_all()
    finish()


if __name__ == "__main__":
    main()
