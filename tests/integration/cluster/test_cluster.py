# SPDX-License-Identifier: GPL-2.0-or-later
"""Scale-out through etcd: three gateway instances share camsim's cameras through a real 3-member
etcd cluster on loopback, and fail over by themselves.

Checked, in this order:
- steady state: every slot has a holder, every camera has exactly one live subscription (camsim's
  own count), and each camera is run by the instance whose slot key holds it;
- `alarmgw cluster status --json` agrees with etcd (members, slots held, cameras);
- SIGKILL of the etcd leader: no camera moves (no new subscription, no slot changes holder);
- two of three etcd members stopped (no quorum): every instance stops its cameras (a member without
  a leader may be the minority of a partition); members back: each takes its own slots back, no
  camera moved to another instance;
- SIGKILL of one instance: every one of its cameras is subscribed elsewhere within the lease TTL +
  5 s (the time to the last one is printed);
- SIGTERM of another: its cameras are subscribed by the last one within 5 s (the lease is revoked
  on a graceful stop, no TTL wait), and its exit is clean.
Which instance holds a camera comes from etcd (slot keys) and the slot of a camera from the same
hash as gateway/cluster/slots.c, written again here so that a change of the C hash is noticed.
"""
import json
import os
import subprocess
import sys
import time

import clustertest
from agwtest import ALARMGW, Gateway, SOURCE, check, finish, sql, tempdir, wait_for
from clustertest import Etcd, need_etcd, resubscribed, stats

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
import camsim_client  # noqa: E402

CAMERAS = 200
SLOTS = 64
TTL_S = 10  # the default: fencing at two thirds of it must outlast an etcd leader election (seconds under load)

need_etcd()


def slot_of(camera):
    return clustertest.slot_of(camera, SLOTS)


def write_config(workdir, name, etcd, ledger):
    return clustertest.write_config(workdir, name, etcd, ledger, SLOTS, TTL_S)


def all_subscribed_once(sim):
    """Every camera has exactly one live subscription (instances starting one after the other move
    slots to each other at first: the ones given up are unsubscribed)."""
    s = stats(sim)
    return len(s) == CAMERAS and all(c["live_subscriptions"] == 1 for c in s.values())


def main():
    work = tempdir("agw-cluster-")
    etcd = Etcd(work)
    etcd.start_all()
    sim = camsim_client.Camsim(cameras=CAMERAS, auth="none", rate=0.5, workdir=work).start()
    gws = {}
    dbs = {}
    for name in ("gw-a", "gw-b", "gw-c"):
        conf, dbs[name] = write_config(work, name, etcd.endpoints, sim.ledger)
        gws[name] = Gateway(conf).start()
    try:
        try:
            wait_for(lambda: len(etcd.holders() or {}) == SLOTS, "every slot held", timeout=30)
        except TimeoutError:
            print("holders:", etcd.holders())
            for g, gw in gws.items():
                print(f"--- {g}:\n" + "\n".join(l for l in gw.log() if "cluster" in l or "core" in l))
            raise
        try:
            wait_for(lambda: all_subscribed_once(sim), "every camera subscribed", timeout=40)
        except TimeoutError:
            counts = {}
            for c in stats(sim).values():
                counts[c["live_subscriptions"]] = counts.get(c["live_subscriptions"], 0) + 1
            print("subscriptions per camera -> cameras:", counts)
            for g, gw in gws.items():
                print(f"--- {g}:\n" + "\n".join([l for l in gw.log() if "onvif:cam" not in l][-25:]))
            raise
        time.sleep(2)  # settle: nothing may move now
        holders = etcd.holders()
        s0 = stats(sim)
        check(all(c["live_subscriptions"] == 1 for c in s0.values()),
              f"steady state: each of {CAMERAS} cameras has exactly one live subscription")
        per = {g: sum(1 for h in holders.values() if h == g) for g in gws}
        check(all(n > 0 for n in per.values()), f"slots spread over the 3 instances: {per}")
        # each camera's alerts are journaled by its slot's holder only
        time.sleep(3)
        owners_ok = True
        for g, db in dbs.items():
            cams = {r[0] for r in sql(db, "SELECT DISTINCT camera_id FROM alerts WHERE kind NOT IN "
                                          "('camera_offline','event_channel_lost')")}
            wrong = [c for c in cams if holders[slot_of(c)] != g]
            owners_ok &= not wrong
            if wrong:
                print(f"  {g} journaled cameras it does not hold: {wrong[:5]}")
        check(owners_ok, "every instance journals only the cameras of the slots it holds (C and Python hash agree)")

        p = subprocess.run([ALARMGW, "cluster", "status", "-c", gws["gw-a"].config, "--json"],
                           capture_output=True, text=True, timeout=30)
        st = json.loads(p.stdout) if p.returncode == 0 else {}
        got = {m["id"]: m["slots_held"] for m in st.get("members", [])}
        check(got == per and st.get("slots_free") == 0 and st.get("slots_moving") == 0,
              f"cluster status agrees with etcd: {got}, free {st.get('slots_free')}, moving {st.get('slots_moving')}")

        # SIGKILL of the etcd leader: no camera moves.
        leader = etcd.leader()
        etcd.kill(leader)
        time.sleep(TTL_S + 2)  # past the point where an instance that lost its lease would have fenced
        s1 = stats(sim)
        moved = [c for c in s1 if s1[c]["subscriptions"] != s0[c]["subscriptions"]]
        h1 = etcd.holders()
        check(not moved and h1 == holders, f"etcd leader {leader} killed: {len(moved)} cameras moved, "
                                           f"slot holders {'unchanged' if h1 == holders else 'CHANGED'}")
        etcd.start(leader, state="existing")
        wait_for(etcd.healthy, "etcd healthy again", timeout=30)

        # Two of three members stopped: no quorum. The member left answers "no leader", which an
        # instance cannot tell from the minority side of a partition (whose majority expires its
        # lease on time): every instance stops its cameras two thirds of the TTL after its last
        # renewal. No lease expires without a leader, and a new one renews them all, so once the
        # quorum is back each instance takes back its own slots: no camera moves elsewhere.
        others = [n for n in etcd.names if n != etcd.leader()][:2]
        t_loss = time.monotonic()
        for n in others:
            etcd.kill(n)
        try:
            wait_for(lambda: all(c["live_subscriptions"] == 0 for c in stats(sim).values()),
                     "every camera stopped", timeout=TTL_S + 10)
        except TimeoutError:
            pass
        stopped = all(c["live_subscriptions"] == 0 for c in stats(sim).values())
        check(stopped and all(any("stopping the cameras" in l for l in gw.log()) for gw in gws.values()),
              f"etcd without quorum: every instance stopped its cameras ({time.monotonic() - t_loss:.1f} s after "
              f"the loss; they fence at two thirds of the {TTL_S} s TTL)")
        for n in others:
            etcd.start(n, state="existing")
        wait_for(etcd.healthy, "etcd quorum back", timeout=30)
        try:
            wait_for(lambda: all_subscribed_once(sim), "every camera subscribed again", timeout=TTL_S + 20)
        except TimeoutError:
            pass
        s3 = stats(sim)
        check(all_subscribed_once(sim) and etcd.holders() == holders,
              f"quorum back: each instance took its own slots back (holders {'unchanged' if etcd.holders() == holders else 'CHANGED'}), "
              f"every camera subscribed once")

        # SIGKILL of an instance: its cameras are subscribed elsewhere within TTL + 5 s.
        holders = etcd.holders()
        victim = "gw-a"
        cams_a = [c for c in s3 if holders[slot_of(c)] == victim]
        t0 = time.monotonic()
        gws[victim].kill()
        wait_for(lambda: resubscribed(sim, cams_a, s3), "gw-a's cameras subscribed elsewhere", timeout=TTL_S + 20)
        took = time.monotonic() - t0
        check(took <= TTL_S + 5, f"SIGKILL: all {len(cams_a)} cameras of {victim} subscribed elsewhere in "
                                 f"{took:.1f} s (lease TTL {TTL_S} s + 5 s allowed)")
        wait_for(lambda: victim not in (etcd.holders() or {}).values(), "no slot names the dead instance", timeout=10)

        # SIGTERM of another: handover without waiting for the TTL.
        time.sleep(1)
        s4 = stats(sim)
        holders = etcd.holders()
        leaver = "gw-b"
        cams_b = [c for c in s4 if holders[slot_of(c)] == leaver]
        t0 = time.monotonic()
        code, stop_s = gws[leaver].stop()
        wait_for(lambda: resubscribed(sim, cams_b, s4), "gw-b's cameras subscribed by gw-c", timeout=TTL_S + 20)
        took = time.monotonic() - t0
        check(code == 0 and took <= 5.0, f"SIGTERM: {leaver} exited {code} in {stop_s:.1f} s; its {len(cams_b)} "
                                         f"cameras subscribed by gw-c {took:.1f} s after the signal (5 s allowed)")
        h5 = wait_for(lambda: (lambda h: h if h and set(h.values()) == {"gw-c"} and len(h) == SLOTS else None)(
            etcd.holders()), "gw-c holds every slot", timeout=15)
        check(len(h5) == SLOTS, "the last instance holds every slot")
    finally:
        for g in gws.values():
            if g.proc and g.proc.poll() is None:
                g.kill()
        sim.stop()
    finish()


if __name__ == "__main__":
    main()
