# SPDX-License-Identifier: GPL-2.0-or-later
"""A clustered broker: three NATS 2.9 nodes with JetStream and MQTT (replicas 3), the gateway given
all three in mqtt.uri, the platform's persistent QoS 1 subscriber on the third. While the gateway
publishes, the node it is connected to is SIGKILLed: the gateway moves to another node by itself
and every case id it wrote reaches the subscriber (exact: missing == 0; duplicates are allowed, QoS
1 is at least once, and counted).

Skipped (77) when nats-server or mosquitto_sub is not installed."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from agwtest import Gateway, check, finish, free_port, spawn, sql, tempdir, wait_for

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
    sub_port = nats.mqtt["n3"]
    out = open(os.path.join(work, "sub.txt"), "w")
    sub = None
    gw = None
    try:
        # The platform's persistent session must exist before the first case: a QoS 1 publish that
        # matches no durable subscription is acknowledged and dropped (docs/mqtt.md).
        def subscribed():
            nonlocal sub
            if sub is None or sub.poll() is not None:
                sub = spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(sub_port), "-q", "1", "-c", "-i",
                             "platform", "-t", "agw/#", "-v"], stdout=out, stderr=subprocess.DEVNULL)
                time.sleep(1)
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(nats.mqtt["n1"]), "-q", "1",
                            "-t", "agw/probe", "-m", "probe"], capture_output=True, timeout=10)
            time.sleep(0.5)
            out.flush()
            return "agw/probe probe" in open(out.name).read()
        wait_for(subscribed, "the platform's subscription through the NATS cluster", timeout=60, interval=0.5)

        alerts = os.path.join(work, "alerts.jsonl")
        with open(alerts, "w") as f:
            for i in range(ALERTS):
                f.write(json.dumps({"camera": f"cam-{i:04d}", "kind": "intrusion", "active": True,
                                    "id": f"e-{i}"}) + "\n")
        os.makedirs(os.path.join(work, "state"))
        conf = os.path.join(work, "alarmgw.conf")
        with open(conf, "w") as f:
            f.write(f'gateway: {{ id = "it-cluster"; state_dir = "{work}/state"; log_level = "info"; }};\n')
            f.write(f'mqtt: {{ uri = "{nats.uris()}"; version = "3.1.1"; reconnect_min = "200ms"; '
                    f'reconnect_max = "1s"; }};\n')
            f.write(f'adapters: {{ replay: {{ file = "{alerts}"; rate = {RATE}; }}; }};\n')
        gw = Gateway(conf).start()
        line = gw.wait_log(r"\[mqtt\] connected to tcp://127\.0\.0\.1:\d+", timeout=30)
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        first = next(n for n in nats.names if nats.mqtt[n] == port)
        time.sleep(ALERTS / RATE / 3)
        nats.kill(first)
        t0 = time.monotonic()
        moved = gw.wait_log(r"\[mqtt\] connected to tcp://127\.0\.0\.1:(?!%d)\d+" % port, timeout=30)
        check(True, f"node {first} (port {port}) SIGKILLed mid-run; the gateway reconnected in "
                    f"{time.monotonic() - t0:.1f} s: {moved.split('] ', 1)[1]}")

        db = os.path.join(work, "state", "alarmgw.db")
        wait_for(lambda: sql(db, "SELECT count(*) FROM cases")[0][0] == ALERTS, "every alert made a case", timeout=60)
        expected = {r[0] for r in sql(db, "SELECT id FROM cases")}

        def received():
            out.flush()
            got = []
            for l in open(out.name):
                if l.startswith("agw/cases/"):
                    try:
                        got.append(json.loads(l.split(" ", 1)[1])["case_id"])
                    except (ValueError, KeyError, IndexError):
                        pass
            return got
        try:
            wait_for(lambda: expected <= set(received()), "every case id at the subscriber", timeout=60, interval=0.5)
        except TimeoutError:
            pass
        got = received()
        missing = expected - set(got)
        check(len(expected) == ALERTS and not missing,
              f"{len(expected)} case ids written, {len(set(got))} distinct received, missing {len(missing)} "
              f"(== 0 required), duplicates {len(got) - len(set(got))}")
    finally:
        if gw and gw.proc and gw.proc.poll() is None:
            gw.stop()
        for p in nats.procs.values():
            if p.poll() is None:
                p.terminate()
    finish()


if __name__ == "__main__":
    main()
