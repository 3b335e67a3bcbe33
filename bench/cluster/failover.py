#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/cluster: how long after an instance dies its last camera is served elsewhere.

A real 3-member etcd on loopback, camsim, N instances (defaults: the gateway's own cluster settings,
lease_ttl 10 s, 1,024 slots, claim_rate 200; ONVIF defaults). Each trial SIGKILLs one instance (in
turn), polls camsim every 100 ms until every camera of that instance has a new subscription, then
starts the instance again and waits until the cluster is quiet (every slot held, every instance
holding some, no new subscription for 3 s). Per trial: the time from the kill to the last camera
subscribed elsewhere, the time etcd took to drop the member key (lease expiry as seen from outside),
and the events the cameras queued to the dead subscriptions that no instance journaled (PullPoint
cannot replay them: the camera keeps them for a subscription nobody pulls). Printed, and with --out
written as JSON: p50 and p99 (nearest rank) over the trials, and over every camera moved.

    python3 bench/cluster/failover.py --build-dir build-test --cameras 600 --trials 20 --out /tmp/f.json

Exit code 0 when every trial moved every camera (within TTL + 60 s), 1 otherwise."""
import argparse
import json
import math
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.environ.get("AGW_BUILD_DIR", os.path.join(SOURCE, "build-test")))
    ap.add_argument("--cameras", type=int, default=600)
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--ttl", type=int, default=10, help="cluster.lease_ttl in seconds (the default is 10)")
    ap.add_argument("--slots", type=int, default=1024)
    ap.add_argument("--claim-rate", type=int, default=200)
    ap.add_argument("--rate", type=float, default=0.2, help="events per camera per second")
    ap.add_argument("--onvif", default="", help="ONVIF adapter settings (default: its defaults)")
    ap.add_argument("--out")
    a = ap.parse_args()
    os.environ["AGW_BUILD_DIR"] = os.path.abspath(a.build_dir)
    os.environ["AGW_SOURCE_DIR"] = SOURCE
    sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
    sys.path.insert(0, os.path.join(SOURCE, "tests", "sim", "camsim"))
    import camsim_client
    import clustertest
    from agwtest import Gateway, tempdir, wait_for

    clustertest.need_etcd()
    work = tempdir("agw-bench-cluster-")
    etcd = clustertest.Etcd(work)
    etcd.start_all()
    sim = camsim_client.Camsim(cameras=a.cameras, auth="none", rate=a.rate, workdir=work).start()
    names = [f"gw-{i + 1}" for i in range(a.instances)]
    gws, dbs = {}, {}
    for n in names:
        conf, dbs[n] = clustertest.write_config(work, n, etcd.endpoints, sim.ledger, a.slots, a.ttl,
                                                claim_rate=a.claim_rate, onvif=a.onvif)
        gws[n] = Gateway(conf).start()

    def quiet():
        """Every slot held, by every instance, and no new subscription for 3 s."""
        h = etcd.holders() or {}
        if len(h) != a.slots or set(h.values()) != set(names):
            return False
        s1 = sum(c["subscriptions"] for c in clustertest.stats(sim).values())
        time.sleep(3)
        s2 = clustertest.stats(sim)
        return s1 == sum(c["subscriptions"] for c in s2.values()) and all(
            c["subscriptions"] > 0 for c in s2.values())

    trials, per_camera, ok = [], [], True
    try:
        wait_for(quiet, "the cluster quiet", timeout=120 + a.cameras / 10, interval=0.5)
        for t in range(a.trials):
            victim = names[t % len(names)]
            before = clustertest.stats(sim)
            cams = clustertest.cameras_of(etcd.holders(), before, victim, a.slots)
            kill_wall = time.time() * 1000
            t0 = time.monotonic()
            gws[victim].kill()
            moved, expired = {}, None
            while len(moved) < len(cams) and time.monotonic() - t0 < a.ttl + 60:
                s = clustertest.stats(sim)
                now = time.monotonic() - t0
                for c in cams:
                    if c not in moved and s[c]["subscriptions"] > before[c]["subscriptions"]:
                        moved[c] = (now, time.time() * 1000)
                if expired is None and victim not in (etcd.members() or {victim}):
                    expired = now
                time.sleep(0.1)
            last = max((v[0] for v in moved.values()), default=None)
            trial = {"victim": victim, "cameras": len(cams), "moved": len(moved),
                     "last_s": round(last, 2) if last is not None else None,
                     "member_key_gone_s": round(expired, 2) if expired is not None else None,
                     "kill_wall_ms": kill_wall, "moved_wall_ms": {c: v[1] for c, v in moved.items()}}
            per_camera += [v[0] for v in moved.values()]
            ok &= len(moved) == len(cams)
            trials.append(trial)
            print(f"trial {t + 1}: killed {victim} ({len(cams)} cameras): last camera subscribed elsewhere after "
                  f"{trial['last_s']} s, member key gone after {trial['member_key_gone_s']} s", flush=True)
            gws[victim].start()
            wait_for(quiet, "the cluster quiet again", timeout=120 + a.cameras / 10, interval=0.5)
    finally:
        for g in gws.values():
            if g.proc and g.proc.poll() is None:
                g.kill()
        sim.stop()
        etcd.stop_all()

    # Events the cameras queued to the dead instance's subscriptions and nobody journaled.
    journaled = set()
    for db in dbs.values():
        con = sqlite3.connect(db, timeout=30)
        journaled |= {r[0] for r in con.execute("SELECT event_id FROM alerts WHERE event_id IS NOT NULL")}
        con.close()
    queued = []
    with open(sim.events_log) as f:
        for line in f:
            e = json.loads(line)
            if "queued_ms" in e:
                queued.append(e)
    for tr in trials:
        gap = [e for e in queued if e["camera"] in tr["moved_wall_ms"] and
               tr["kill_wall_ms"] <= e["queued_ms"] <= tr["moved_wall_ms"][e["camera"]]]
        tr["events_in_gap"] = len(gap)
        tr["events_lost"] = sum(1 for e in gap if e["id"] not in journaled)
        del tr["moved_wall_ms"]
    lasts = [tr["last_s"] for tr in trials if tr["last_s"] is not None]
    fig = {"cameras": a.cameras, "instances": a.instances, "ttl_s": a.ttl, "slots": a.slots,
           "claim_rate": a.claim_rate, "rate": a.rate, "trials": len(trials),
           "last_camera_s": {"p50": pct(lasts, 50), "p99": pct(lasts, 99), "max": max(lasts, default=None)},
           "per_camera_s": {"p50": pct(per_camera, 50), "p99": pct(per_camera, 99), "n": len(per_camera)},
           "member_key_gone_s": {"p50": pct([tr["member_key_gone_s"] for tr in trials
                                             if tr["member_key_gone_s"] is not None], 50)},
           "events_in_gap_per_trial": {"p50": pct([tr["events_in_gap"] for tr in trials], 50),
                                       "max": max((tr["events_in_gap"] for tr in trials), default=None)},
           "events_lost_per_trial": {"p50": pct([tr["events_lost"] for tr in trials], 50),
                                     "max": max((tr["events_lost"] for tr in trials), default=None)},
           "runs": trials}
    print(json.dumps({k: v for k, v in fig.items() if k != "runs"}, indent=1))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(fig, f, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
