# SPDX-License-Identifier: GPL-2.0-or-later
"""A clustered broker: three NATS 2.9 nodes with JetStream and MQTT (replicas 3), the gateway given
all three in mqtt.uri, the platform's persistent QoS 1 subscriber on the third. While the gateway
publishes, the node it is connected to is SIGKILLed: the gateway moves to another node by itself
and every case id it wrote reaches the subscriber (exact: missing == 0; duplicates are allowed, QoS
1 is at least once, and counted).

Skipped (77) when nats-server or mosquitto_sub is not installed."""
import os
import shutil
import signal
import sys

import clustertest
from agwtest import finish, free_port, spawn, tempdir

ALERTS = 300
RATE = 30  # alerts per second: the kill lands in the middle of the run

for tool in ("nats-server", "mosquitto_sub", "mosquitto_pub"):
    if not shutil.which(tool):
        print(f"SKIP: {tool} not installed (scripts/install-deps installs nats-server and mosquitto-clients)")
        sys.exit(77)


class Nats:
    def __init__(self, workdir, n=3):
        self.dir = workdir
        self.names = [f"n{i}" for i in range(1, n + 1)]
        self.client = {x: free_port() for x in self.names}
        self.route = {x: free_port() for x in self.names}
        self.mqtt = {x: free_port() for x in self.names}
        self.procs = {}

    def start(self, name):
        routes = ", ".join(f"nats-route://127.0.0.1:{self.route[x]}" for x in self.names)
        conf = os.path.join(self.dir, f"{name}.conf")
        with open(conf, "w") as f:
            f.write(f"""server_name: {name}
listen: 127.0.0.1:{self.client[name]}
jetstream {{ store_dir: "{self.dir}/js-{name}" }}
cluster {{ name: agw, listen: 127.0.0.1:{self.route[name]}, routes: [{routes}] }}
mqtt {{ listen: 127.0.0.1:{self.mqtt[name]}, stream_replicas: 3 }}
""")
        log = open(os.path.join(self.dir, f"{name}.log"), "a")
        self.procs[name] = spawn(["nats-server", "-c", conf], stdout=log, stderr=log)

    def kill(self, name):
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()

    def uris(self):
        return ",".join(f"tcp://127.0.0.1:{self.mqtt[x]}" for x in self.names)


def main():
    work = tempdir("agw-mqtt-cluster-")
    nats = Nats(work)
    for n in nats.names:
        nats.start(n)
    sub = None
    try:
        sub, out = clustertest.subscribe(work, nats.mqtt["n3"], nats.mqtt["n1"])
        clustertest.failover(work, nats.uris(), lambda port: next(n for n in nats.names if nats.mqtt[n] == port),
                            nats.kill, out, alerts=ALERTS, rate=RATE)
    finally:
        if sub and sub.poll() is None:
            sub.terminate()
        for p in nats.procs.values():
            if p.poll() is None:
                p.terminate()
    finish()


if __name__ == "__main__":
    main()
