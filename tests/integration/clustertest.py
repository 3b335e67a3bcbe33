# SPDX-License-Identifier: GPL-2.0-or-later
"""What the cluster tests and bench/cluster share: a real 3-member etcd on loopback, the slot hash
of gateway/cluster/slots.c written again (so that a change of the C hash is noticed), camsim's
per-camera counters, an instance's configuration; and the failover run of the clustered-broker
tests (NATS, RabbitMQ): the platform's persistent QoS 1 subscriber on one node, the gateway given
every node in mqtt.uri and replaying alerts, the node it is connected to SIGKILLed mid-run, and
every case id reconciled (missing == 0 required; duplicates are allowed, QoS 1 is at least once,
and counted)."""
import atexit
import base64
import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from agwtest import ALARMGW, Gateway, check, free_port, spawn, sql, wait_for

ETCD = "etcd"
ETCDCTL = "etcdctl"


def skip(why):
    print(f"SKIP: {why}", flush=True)
    sys.exit(77)


def need_etcd():
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


def slot_of(camera, slots):
    return mix(fnv1a(camera.encode())) % slots


class Etcd:
    """A 3-member etcd cluster on loopback; `hosts` adds client listen addresses (an address that a
    test's network namespace reaches)."""

    def __init__(self, workdir, hosts=(), cluster="city"):
        self.dir = workdir
        self.names = ["e1", "e2", "e3"]
        self.client = {n: free_port() for n in self.names}
        self.peer = {n: free_port() for n in self.names}
        self.hosts = ["127.0.0.1", *hosts]
        self.cluster = cluster
        self.procs = {}
        self.initial = ",".join(f"{n}=http://127.0.0.1:{self.peer[n]}" for n in self.names)

    def start(self, name, state="new"):
        log = open(os.path.join(self.dir, f"{name}.log"), "a")
        listen = ",".join(f"http://{h}:{self.client[name]}" for h in self.hosts)
        self.procs[name] = spawn([
            ETCD, "--name", name, "--data-dir", os.path.join(self.dir, name),
            "--listen-client-urls", listen,
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

    def endpoints_on(self, host="127.0.0.1"):
        return ",".join(f"http://{host}:{self.client[n]}" for n in self.names)

    @property
    def endpoints(self):
        return self.endpoints_on()

    def ctl(self, *args, endpoints=None, timeout=10):
        return subprocess.run([ETCDCTL, "--endpoints", endpoints or self.endpoints, "--dial-timeout", "2s",
                               "--command-timeout", "3s", *args], capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, ETCDCTL_API="3"))

    def healthy(self):
        return self.ctl("endpoint", "health").returncode == 0

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

    def stop_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()

    def _prefix(self, what):
        r = self.ctl("get", "--prefix", f"/alarmgw/{self.cluster}/{what}/", "-w", "json")
        if r.returncode:
            return None
        out = {}
        for kv in json.loads(r.stdout).get("kvs", []):
            key = base64.b64decode(kv["key"]).decode()
            out[key.rsplit("/", 1)[1]] = base64.b64decode(kv["value"]).decode()
        return out

    def holders(self):
        """slot -> holder, read with etcdctl from any live member (None when etcd did not answer)."""
        kv = self._prefix("slots")
        return None if kv is None else {int(k): v for k, v in kv.items()}

    def members(self):
        kv = self._prefix("members")
        return None if kv is None else set(kv)


def stats(sim):
    """camsim's counters per camera: subscriptions ever made, live_subscriptions, ..."""
    with urllib.request.urlopen(f"http://127.0.0.1:{sim.control_port}/stats", timeout=10) as r:
        return {c["id"]: c for c in json.load(r)["cameras"]}


TEST_ONVIF = ('pull_timeout = "1s"; termination_time = "20s"; renew_margin = "5s"; backoff_min = "200ms"; '
              'backoff_max = "1s"; unsubscribe_on_stop = true;')


def write_config(workdir, name, etcd_endpoints, ledger, slots, ttl_s, mqtt_uri=None, rules=None, extra="",
                 claim_rate=1000, onvif=TEST_ONVIF):
    """An instance's configuration; without mqtt_uri its case messages go to a port nobody listens
    on (they wait in its outbox)."""
    state = os.path.join(workdir, name)
    os.makedirs(state, exist_ok=True)
    conf = os.path.join(workdir, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"""
gateway: {{ id = "{name}"; state_dir = "{state}"; log_level = "info"; }};
cameras: {{ ledger = "{ledger}"; }};
mqtt: {{ uri = "{mqtt_uri or f'tcp://127.0.0.1:{free_port()}'}"; client_id = "{name}"; topic_prefix = "agw";
        reconnect_min = "200ms"; reconnect_max = "2s"; }};
cluster: {{ etcd = "{etcd_endpoints}"; id = "city"; slots = {slots}; lease_ttl = "{ttl_s}s"; claim_rate = {claim_rate}; }};
adapters: {{ onvif: {{ {onvif} }}; }};
""")
        if rules:
            f.write(f'rules: {{ file = "{rules}"; }};\n')
        f.write(extra)
    return conf, os.path.join(state, "alarmgw.db")


def cameras_of(holders, cams, member, slots):
    return [c for c in cams if holders.get(slot_of(c, slots)) == member]


def resubscribed(sim, cameras, before):
    """Every one of cameras has a subscription made after the snapshot `before`."""
    s = stats(sim)
    return all(s[c]["subscriptions"] > before[c]["subscriptions"] for c in cameras)


# ---- clustered brokers


def subscribe(work, sub_port, probe_port, client_id="platform", timeout=60):
    """mosquitto_sub on a persistent session; returns (process, output file) once a probe published
    on probe_port (another node) came through. The platform's session must exist before the first
    case: a QoS 1 publish that matches no durable subscription is acknowledged and dropped."""
    out = open(os.path.join(work, f"{client_id}.txt"), "w")
    sub = None

    def subscribed():
        nonlocal sub
        if sub is None or sub.poll() is not None:
            sub = spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(sub_port), "-q", "1", "-c", "-i",
                         client_id, "-t", "agw/#", "-v"], stdout=out, stderr=subprocess.DEVNULL)
            time.sleep(1)
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(probe_port), "-q", "1",
                        "-t", "agw/probe", "-m", "probe"], capture_output=True, timeout=10)
        time.sleep(0.5)
        out.flush()
        return "agw/probe probe" in open(out.name).read()
    wait_for(subscribed, "the platform's subscription through the broker cluster", timeout=timeout, interval=0.5)
    return sub, out


def received(out):
    out.flush()
    got = []
    for line in open(out.name):
        if line.startswith("agw/cases/"):
            try:
                got.append(json.loads(line.split(" ", 1)[1])["case_id"])
            except (ValueError, KeyError, IndexError):
                pass
    return got


GATEWAY_ID = "it-cluster"


def broker_index(gateway_id, n):
    """The node of an n-node mqtt.uri list an instance starts on (gateway/mqtt/broker_list.c): FNV-1a
    of gateway.id, modulo n."""
    h = 2166136261
    for b in gateway_id.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h % n if n > 1 else 0


def failover(work, uris, node_of_port, kill, out, alerts=300, rate=30, drain_s=60):
    """Runs the gateway on uris, kills the node it connects to a third into the run and checks that
    every case id arrives. node_of_port(port) names the node; kill(node) SIGKILLs it. Returns the
    figures as a dict. The list is rotated so that the instance's hash picks the first node of uris
    (the callers keep the platform's subscriber on another one), which the test checks."""
    nodes = uris.split(",")
    k = broker_index(GATEWAY_ID, len(nodes))
    uris = ",".join(nodes[-k:] + nodes[:-k] if k else nodes)
    want_port = int(nodes[0].rsplit(":", 1)[1])
    path = os.path.join(work, "alerts.jsonl")
    with open(path, "w") as f:
        for i in range(alerts):
            f.write(json.dumps({"camera": f"cam-{i:04d}", "kind": "intrusion", "active": True, "id": f"e-{i}"}) + "\n")
    os.makedirs(os.path.join(work, "state"), exist_ok=True)
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write(f'gateway: {{ id = "{GATEWAY_ID}"; state_dir = "{work}/state"; log_level = "info"; }};\n')
        f.write(f'mqtt: {{ uri = "{uris}"; version = "3.1.1"; reconnect_min = "200ms"; reconnect_max = "1s"; }};\n')
        f.write(f'adapters: {{ replay: {{ file = "{path}"; rate = {rate}; }}; }};\n')
    gw = Gateway(conf).start()
    try:
        line = gw.wait_log(r"\[mqtt\] connected to tcp://127\.0\.0\.1:\d+", timeout=30)
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        check(port == want_port, f"the instance started on the node its gateway.id picks (port {want_port}): {port}")
        first = node_of_port(port)
        time.sleep(alerts / rate / 3)
        kill(first)
        t0 = time.monotonic()
        moved = gw.wait_log(r"\[mqtt\] connected to tcp://127\.0\.0\.1:(?!%d)\d+" % port, timeout=30)
        reconnect_s = time.monotonic() - t0
        check(True, f"node {first} (port {port}) SIGKILLed mid-run; the gateway reconnected in "
                    f"{reconnect_s:.1f} s: {moved.split('] ', 1)[1]}")
        db = os.path.join(work, "state", "alarmgw.db")
        wait_for(lambda: sql(db, "SELECT count(*) FROM cases")[0][0] == alerts, "every alert made a case", timeout=60)
        expected = {r[0] for r in sql(db, "SELECT id FROM cases")}
        t1 = time.monotonic()
        try:
            wait_for(lambda: expected <= set(received(out)), "every case id at the subscriber", timeout=drain_s,
                     interval=0.5)
        except TimeoutError:
            pass
        got = received(out)
        missing = expected - set(got)
        check(len(expected) == alerts and not missing,
              f"{len(expected)} case ids written, {len(set(got))} distinct received, missing {len(missing)} "
              f"(== 0 required), duplicates {len(got) - len(set(got))}")
        return {"killed": first, "reconnect_s": round(reconnect_s, 2), "written": len(expected),
                "received": len(set(got)), "missing": len(missing), "duplicates": len(got) - len(set(got)),
                "drain_after_last_case_s": round(time.monotonic() - t1, 2)}
    finally:
        if gw.proc and gw.proc.poll() is None:
            gw.stop()


# ---- network namespaces (test_cluster_partition, test_cluster_minority): root only


def ip(*args, check_rc=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if check_rc and r.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r


class Netns:
    """A namespace with its own loopback and two veth pairs to the host: .1/.2 carries cameras and
    broker, .5/.6 carries etcd."""

    def __init__(self):
        n = os.getpid() % 100000
        x = os.getpid() % 250
        self.name = f"agwpart{n}"
        self.host_a, self.ns_a = f"agpa{n}h", f"agpa{n}n"
        self.host_e, self.ns_e = f"agpe{n}h", f"agpe{n}n"
        self.host_ip, self.ns_ip = f"10.213.{x}.1", f"10.213.{x}.2"
        self.etcd_ip, self.ns_etcd_ip = f"10.213.{x}.5", f"10.213.{x}.6"
        self.made = False

    def up(self):
        ip("netns", "add", self.name)
        self.made = True
        atexit.register(self.down)
        for h, n, hip, nip in ((self.host_a, self.ns_a, self.host_ip, self.ns_ip),
                               (self.host_e, self.ns_e, self.etcd_ip, self.ns_etcd_ip)):
            ip("link", "add", h, "type", "veth", "peer", "name", n)
            ip("link", "set", n, "netns", self.name)
            ip("addr", "add", f"{hip}/30", "dev", h)
            ip("link", "set", h, "up")
            ip("-n", self.name, "addr", "add", f"{nip}/30", "dev", n)
            ip("-n", self.name, "link", "set", n, "up")
        ip("-n", self.name, "link", "set", "lo", "up")

    def cut_etcd(self, cut):
        ip("link", "set", self.host_e, "down" if cut else "up")

    def down(self):
        if not self.made:
            return
        self.made = False
        # deleting the namespace deletes its veth ends, and with them the host ends
        ip("netns", "del", self.name, check_rc=False)
        for h in (self.host_a, self.host_e):
            ip("link", "del", h, check_rc=False)


def can_netns():
    if os.geteuid() != 0:
        return "not root: making a network namespace needs CAP_SYS_ADMIN and CAP_NET_ADMIN"
    probe = f"agwprobe{os.getpid()}"
    r = ip("netns", "add", probe, check_rc=False)
    if r.returncode:
        return f"cannot make a network namespace: {r.stderr.strip()}"
    ip("netns", "del", probe, check_rc=False)
    return None


class NsGateway(Gateway):
    """`alarmgw run` inside a network namespace (ip netns exec execs it: same pid, same signals)."""

    def __init__(self, config, ns):
        super().__init__(config)
        self.ns = ns

    def start(self):
        self.lines = []
        self.proc = spawn(["ip", "netns", "exec", self.ns, ALARMGW, "run", "-c", self.config],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        return self


class Watch:
    """Polls camsim (and etcd for gw-c's member key) in the background: the most live subscriptions
    any camera ever had, and what happened when."""

    def __init__(self, sim, etcd):
        self.sim, self.etcd = sim, etcd
        self.max_live = collections.Counter()
        self.samples = []  # (t, stats, members)
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                s = stats(self.sim)
            except OSError:
                time.sleep(0.05)
                continue
            for c, v in s.items():
                self.max_live[c] = max(self.max_live[c], v["live_subscriptions"])
            members = self.etcd.members()
            self.samples.append((time.monotonic(), s, members))
            time.sleep(0.05)

    def end(self):
        self.stop = True
        self.thread.join(10)
