# SPDX-License-Identifier: GPL-2.0-or-later
"""Scale-out through etcd: three gateway instances share camsim's cameras through a real 3-member
etcd cluster on loopback, and fail over by themselves.

Checked, in this order:
- steady state: every slot has a holder, every camera has exactly one live subscription (camsim's
  own count), and each camera is run by the instance whose slot key holds it;
- `alarmgw cluster status --json` agrees with etcd (members, slots held, cameras);
- SIGKILL of the etcd leader: no camera moves (no new subscription, no slot changes holder);
- two of three etcd members stopped (no quorum): the instances keep their cameras and events keep
  being journaled; members back: still no camera moved;
- SIGKILL of one instance: every one of its cameras is subscribed elsewhere within the lease TTL +
  5 s (the time to the last one is printed);
- SIGTERM of another: its cameras are subscribed by the last one within 5 s (the lease is revoked
  on a graceful stop, no TTL wait), and its exit is clean.
Which instance holds a camera comes from etcd (slot keys) and the slot of a camera from the same
hash as gateway/cluster/slots.c, written again here so that a change of the C hash is noticed.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from agwtest import ALARMGW, Gateway, SOURCE, check, finish, free_port, spawn, sql, tempdir, wait_for

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
import camsim_client  # noqa: E402

CAMERAS = 200
SLOTS = 64
TTL_S = 3
ETCD = "etcd"
ETCDCTL = "etcdctl"


def skip(why):
    print(f"SKIP: {why}", flush=True)
    sys.exit(77)


for tool in (ETCD, ETCDCTL):
    if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
        skip(f"{tool} not installed (scripts/install-deps installs etcd-server and etcd-client)")


def mix(h):
    m = (1 << 64) - 1
    h ^= h >> 30
    h = (h * 0xbf58476d1ce4e5b9) & m
    h ^= h >> 27
    h = (h * 0x94d049bb133111eb) & m
    h ^= h >> 31
    return h


def fnv1a(data, h=0xcbf29ce484222325):
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & ((1 << 64) - 1)
    return h


def slot_of(camera):
    return mix(fnv1a(camera.encode())) % SLOTS


class Etcd:
    """A 3-member etcd cluster on loopback."""

    def __init__(self, workdir):
        self.dir = workdir
        self.names = ["e1", "e2", "e3"]
        self.client = {n: free_port() for n in self.names}
        self.peer = {n: free_port() for n in self.names}
        self.procs = {}
        self.initial = ",".join(f"{n}=http://127.0.0.1:{self.peer[n]}" for n in self.names)

    def start(self, name, state="new"):
        log = open(os.path.join(self.dir, f"{name}.log"), "a")
        self.procs[name] = spawn([
            ETCD, "--name", name, "--data-dir", os.path.join(self.dir, name),
            "--listen-client-urls", f"http://127.0.0.1:{self.client[name]}",
            "--advertise-client-urls", f"http://127.0.0.1:{self.client[name]}",
            "--listen-peer-urls", f"http://127.0.0.1:{self.peer[name]}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer[name]}",
            "--initial-cluster", self.initial, "--initial-cluster-state", state,
            "--initial-cluster-token", "agw-test", "--heartbeat-interval", "100", "--election-timeout", "1000"],
            stdout=log, stderr=log)

    def start_all(self):
        for n in self.names:
            self.start(n)
        wait_for(self.healthy, "etcd cluster healthy", timeout=30)

    @property
    def endpoints(self):
        return ",".join(f"http://127.0.0.1:{self.client[n]}" for n in self.names)

    def ctl(self, *args, endpoints=None, timeout=10):
        return subprocess.run([ETCDCTL, "--endpoints", endpoints or self.endpoints, "--dial-timeout", "2s",
                               "--command-timeout", "3s", *args], capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, ETCDCTL_API="3"))

    def healthy(self):
        r = self.ctl("endpoint", "health")
        return r.returncode == 0

    def leader(self):
        r = self.ctl("endpoint", "status", "-w", "json")
        for st in json.loads(r.stdout or "[]"):
            if st["Status"]["header"]["member_id"] == st["Status"]["leader"]:
                port = int(st["Endpoint"].rsplit(":", 1)[1])
                return next(n for n in self.names if self.client[n] == port)
        return None

    def kill(self, name):
        p = self.procs[name]
        p.send_signal(signal.SIGKILL)
        p.wait()

    def holders(self):
        """slot -> holder, read with etcdctl from any live member."""
        r = self.ctl("get", "--prefix", "/alarmgw/city/slots/", "-w", "json")
        if r.returncode:
            return None
        out = {}
        import base64
        for kv in json.loads(r.stdout).get("kvs", []):
            key = base64.b64decode(kv["key"]).decode()
            out[int(key.rsplit("/", 1)[1])] = base64.b64decode(kv["value"]).decode()
        return out


def stats(sim):
    with urllib.request.urlopen(f"http://127.0.0.1:{sim.control_port}/stats", timeout=10) as r:
        return {c["id"]: c for c in json.load(r)["cameras"]}


def write_config(workdir, name, etcd, ledger):
    state = os.path.join(workdir, name)
    os.makedirs(state, exist_ok=True)
    conf = os.path.join(workdir, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"""
gateway: {{ id = "{name}"; state_dir = "{state}"; log_level = "info"; }};
cameras: {{ ledger = "{ledger}"; }};
mqtt: {{ uri = "tcp://127.0.0.1:{free_port()}"; }};
cluster: {{ etcd = "{etcd}"; id = "city"; slots = {SLOTS}; lease_ttl = "{TTL_S}s"; claim_rate = 1000; }};
adapters: {{ onvif: {{ pull_timeout = "1s"; termination_time = "20s"; renew_margin = "5s";
                       backoff_min = "200ms"; backoff_max = "1s"; unsubscribe_on_stop = true; }}; }};
""")
    return conf, os.path.join(state, "alarmgw.db")


def all_subscribed_once(sim):
    """Every camera has exactly one live subscription (instances starting one after the other move
    slots to each other at first: the ones given up are unsubscribed)."""
    s = stats(sim)
    return len(s) == CAMERAS and all(c["live_subscriptions"] == 1 for c in s.values())


def resubscribed(sim, cameras, before):
    s = stats(sim)
    return all(s[c]["subscriptions"] > before[c]["subscriptions"] for c in cameras)


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
        time.sleep(TTL_S * 2 + 2)
        s1 = stats(sim)
        moved = [c for c in s1 if s1[c]["subscriptions"] != s0[c]["subscriptions"]]
        h1 = etcd.holders()
        check(not moved and h1 == holders, f"etcd leader {leader} killed: {len(moved)} cameras moved, "
                                           f"slot holders {'unchanged' if h1 == holders else 'CHANGED'}")
        etcd.start(leader, state="existing")
        wait_for(etcd.healthy, "etcd healthy again", timeout=30)

        # Two of three members stopped: no quorum, the instances keep their cameras.
        others = [n for n in etcd.names if n != etcd.leader()][:2]
        before = {g: sql(db, "SELECT count(*) FROM alerts")[0][0] for g, db in dbs.items()}
        for n in others:
            etcd.kill(n)
        time.sleep(TTL_S * 2 + 3)
        after = {g: sql(db, "SELECT count(*) FROM alerts")[0][0] for g, db in dbs.items()}
        s2 = stats(sim)
        moved = [c for c in s2 if s2[c]["subscriptions"] != s0[c]["subscriptions"]]
        check(all(after[g] > before[g] for g in dbs) and not moved,
              f"etcd without quorum: every instance keeps journaling ({before} -> {after}), {len(moved)} moved")
        for n in others:
            etcd.start(n, state="existing")
        wait_for(etcd.healthy, "etcd quorum back", timeout=30)
        time.sleep(TTL_S + 2)
        s3 = stats(sim)
        moved = [c for c in s3 if s3[c]["subscriptions"] != s0[c]["subscriptions"]]
        check(not moved and etcd.holders() == holders, f"quorum back: {len(moved)} cameras moved")

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
