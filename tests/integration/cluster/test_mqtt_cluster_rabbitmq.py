# SPDX-License-Identifier: GPL-2.0-or-later
"""A RabbitMQ 3.10 cluster as the platform's broker: three nodes on loopback (MQTT plugin, the
platform's persistent session in a quorum queue: mqtt.durable_queue_type = quorum), formed from a
classic_config peer list, with their own epmd and Erlang cookie, all started and stopped here. The
gateway is given all three nodes in mqtt.uri and the platform's persistent QoS 1 subscriber sits on
the third; while the gateway publishes, the node it is connected to is SIGKILLed: every case id it
wrote must reach the subscriber (missing == 0; duplicates allowed and counted).

`--alerts N --rate R --runs K --json FILE` is the longer campaign (bench/cluster/broker_rabbitmq
runs it); the ctest default is one run of 300 alerts. Skipped (77) when rabbitmq-server or
mosquitto_sub is not installed."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import clustertest
from agwtest import SOURCE, finish, free_port, spawn, tempdir, wait_for

sys.path.insert(0, os.path.join(SOURCE, "tests/unit/mqtt"))
from mqttlab import wait_port  # noqa: E402

RABBIT_BIN = "/usr/lib/rabbitmq/bin"  # the scripts themselves: /usr/sbin's wrappers switch to the rabbitmq user

for tool in (os.path.join(RABBIT_BIN, "rabbitmq-server"), "epmd", "mosquitto_sub", "mosquitto_pub"):
    if not shutil.which(tool):
        print(f"SKIP: {tool} not installed (scripts/install-deps installs rabbitmq-server and mosquitto-clients)")
        sys.exit(77)


class Rabbit:
    def __init__(self, workdir, n=3):
        self.dir = workdir
        self.names = [f"agw{i}" for i in range(1, n + 1)]
        self.amqp = {x: free_port() for x in self.names}
        self.dist = {x: free_port() for x in self.names}
        self.mqtt = {x: free_port() for x in self.names}
        self.epmd_port = free_port()
        self.procs = {}
        self.epmd = None
        with open(os.path.join(workdir, ".erlang.cookie"), "w") as f:
            f.write("AGWTESTCOOKIE%d" % os.getpid())
        os.chmod(os.path.join(workdir, ".erlang.cookie"), 0o600)

    def env(self, name):
        d = os.path.join(self.dir, name)
        return dict(os.environ, HOME=self.dir, ERL_EPMD_PORT=str(self.epmd_port),
                    RABBITMQ_NODENAME=f"{name}@localhost", RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
                    RABBITMQ_NODE_PORT=str(self.amqp[name]), RABBITMQ_DIST_PORT=str(self.dist[name]),
                    RABBITMQ_MNESIA_BASE=os.path.join(d, "mnesia"), RABBITMQ_LOG_BASE=os.path.join(d, "log"),
                    RABBITMQ_CONFIG_FILE=os.path.join(d, "rabbitmq.conf"),
                    RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(d, "enabled_plugins"),
                    RABBITMQ_PID_FILE=os.path.join(d, "pid"), RABBITMQ_ADVANCED_CONFIG_FILE=os.path.join(d, "advanced.config"))

    def start(self, name):
        if self.epmd is None:
            self.epmd = spawn(["epmd", "-port", str(self.epmd_port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
            time.sleep(0.3)
        d = os.path.join(self.dir, name)
        os.makedirs(os.path.join(d, "log"), exist_ok=True)
        peers = "\n".join(f"cluster_formation.classic_config.nodes.{i + 1} = {x}@localhost"
                          for i, x in enumerate(self.names))
        with open(os.path.join(d, "rabbitmq.conf"), "w") as f:
            f.write(f"""listeners.tcp.default = 127.0.0.1:{self.amqp[name]}
mqtt.listeners.tcp.default = 127.0.0.1:{self.mqtt[name]}
mqtt.allow_anonymous = true
mqtt.durable_queue_type = quorum
loopback_users = none
cluster_formation.peer_discovery_backend = classic_config
{peers}
log.file.level = info
""")
        with open(os.path.join(d, "enabled_plugins"), "w") as f:
            f.write("[rabbitmq_mqtt].\n")
        with open(os.path.join(d, "advanced.config"), "w") as f:
            f.write("[].\n")
        log = open(os.path.join(d, "stdout.log"), "a")
        self.procs[name] = spawn([os.path.join(RABBIT_BIN, "rabbitmq-server")], env=self.env(name), stdout=log,
                                 stderr=log, cwd=d)

    def ctl(self, name, *args, timeout=60):
        return subprocess.run([os.path.join(RABBIT_BIN, "rabbitmqctl"), "-n", f"{name}@localhost", *args],
                              env=self.env(name), capture_output=True, text=True, timeout=timeout)

    def clustered(self):
        r = self.ctl(self.names[0], "cluster_status", "--formatter", "json")
        if r.returncode:
            return False
        try:
            st = json.loads(r.stdout)
        except ValueError:
            return False
        return len(st.get("running_nodes", [])) == len(self.names)

    def kill(self, name):
        """SIGKILL of the node's Erlang VM (its pid file; the script that started it then exits)."""
        with open(os.path.join(self.dir, name, "pid")) as f:
            os.kill(int(f.read().strip()), signal.SIGKILL)
        self.procs[name].wait(timeout=30)

    def stop_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.epmd and self.epmd.poll() is None:
            self.epmd.terminate()
            self.epmd.wait()

    def uris(self):
        return ",".join(f"tcp://127.0.0.1:{self.mqtt[x]}" for x in self.names)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=300)
    ap.add_argument("--rate", type=int, default=30)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json", help="write the figures of every run here")
    args = ap.parse_args()
    figures = []
    for run in range(args.runs):
        work = tempdir("agw-rabbitmq-cluster-")
        rabbit = Rabbit(work)
        sub = None
        try:
            t0 = time.monotonic()
            # one after the other: 3.10's MQTT plugin can crash at boot (its client id tracker's
            # election) when the nodes form the cluster at the same moment
            for n in rabbit.names:
                rabbit.start(n)
                if not wait_port(rabbit.mqtt[n], timeout=120):
                    raise RuntimeError(f"RabbitMQ node {n}: no MQTT listener after 120 s")
            wait_for(rabbit.clustered, "3 RabbitMQ nodes running in one cluster", timeout=120, interval=1)
            start_s = time.monotonic() - t0
            print(f"run {run + 1}: cluster of 3 up in {start_s:.1f} s", flush=True)
            sub, out = clustertest.subscribe(work, rabbit.mqtt[rabbit.names[2]], rabbit.mqtt[rabbit.names[0]])
            r = rabbit.ctl(rabbit.names[0], "list_queues", "name", "type", "--formatter", "json")
            print("queues:", r.stdout.strip()[:300], flush=True)
            fig = clustertest.failover(work, rabbit.uris(),
                                      lambda port: next(n for n in rabbit.names if rabbit.mqtt[n] == port),
                                      rabbit.kill, out, alerts=args.alerts, rate=args.rate)
            fig["cluster_start_s"] = round(start_s, 1)
            figures.append(fig)
            print(json.dumps(fig), flush=True)
        finally:
            if sub and sub.poll() is None:
                sub.terminate()
            rabbit.stop_all()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    finish()


if __name__ == "__main__":
    main()
