# SPDX-License-Identifier: GPL-2.0-or-later
"""The reference consumer (examples/consumer/consumer.py) against the gateway and a real mosquitto:
every case the gateway opens is stored once by the consumer (duplicates ignored), the consumer's
`accepted` and `closed` feedback reaches the gateway (the cases table says closed), and a consumer
SIGKILLed in the middle and started again loses nothing: its persistent session kept the cases
published meanwhile, and its feedback journal the closes it still owed.
Skipped (77) without Debian's python3-paho-mqtt."""
import json
import os
import signal
import subprocess
import sys
import time

from agwtest import SOURCE, Gateway, Mosquitto, check, finish, spawn, sql, tempdir, wait_for

PY = "/usr/bin/python3"  # Debian's python, where python3-paho-mqtt installs
CONSUMER = os.path.join(SOURCE, "examples", "consumer", "consumer.py")
CAMERAS = 12

if subprocess.run([PY, "-c", "import paho.mqtt.client"], capture_output=True).returncode:
    print("SKIP: python3-paho-mqtt is not installed (scripts/install-deps installs it)")
    sys.exit(77)


def start_consumer(work, broker, out):
    return spawn([PY, "-u", CONSUMER, "--broker", f"127.0.0.1:{broker.port}", "--gateway", "it-consumer",
                  "--store", os.path.join(work, "platform"), "--close-after", "6", "--client-id", "platform-1"],
                 stdout=out, stderr=subprocess.STDOUT)


def main():
    work = tempdir("agw-consumer-")
    broker = Mosquitto(work).start()
    log = open(os.path.join(work, "consumer.log"), "a")
    cons = start_consumer(work, broker, log)
    wait_for(lambda: "consumer: connected" in open(log.name).read(), "the consumer's session", timeout=20)
    alerts = os.path.join(work, "alerts.jsonl")
    with open(alerts, "w") as f:
        for rnd in range(2):
            for i in range(CAMERAS):
                f.write(json.dumps({"camera": f"cam-{i}", "kind": "intrusion", "active": True,
                                    "id": f"e-{rnd}-{i}"}) + "\n")
    os.makedirs(os.path.join(work, "state"))
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write(f'gateway: {{ id = "it-consumer"; state_dir = "{work}/state"; log_level = "info"; }};\n')
        f.write(f'mqtt: {{ uri = "{broker.uri}"; reconnect_min = "200ms"; }};\n')
        f.write(f'adapters: {{ replay: {{ file = "{alerts}"; rate = 6; }}; }};\n')
    gw = Gateway(conf).start()
    db = os.path.join(work, "state", "alarmgw.db")
    try:
        # the consumer dies in the middle of the run and comes back 2 s later
        time.sleep(2)
        cons.send_signal(signal.SIGKILL)
        cons.wait()
        time.sleep(2)
        cons = start_consumer(work, broker, log)
        wait_for(lambda: sql(db, "SELECT count(*) FROM alerts")[0][0] == 2 * CAMERAS, "every alert journaled", timeout=30)
        ids = {r[0] for r in sql(db, "SELECT id FROM cases")}
        stored = lambda: {f[:-5] for f in os.listdir(os.path.join(work, "platform")) if f.endswith(".json")}
        wait_for(lambda: ids and stored() >= ids, "every case stored by the consumer", timeout=30)
        check(len(ids) == CAMERAS and stored() == ids, f"{len(ids)} cases opened, {len(stored())} stored by the "
                                                      f"consumer across its SIGKILL (exactly the same ids)")
        closed = lambda: {r[0] for r in sql(db, "SELECT id FROM cases WHERE status = 'closed'")}
        wait_for(lambda: closed() == ids, "the consumer's 'closed' feedback recorded", timeout=40)
        check(closed() == ids, f"the platform's feedback closed {len(closed())} of {len(ids)} cases in the gateway")
        cons.send_signal(signal.SIGTERM)
        cons.wait(timeout=10)
        report = [l for l in open(log.name) if l.startswith("consumer: {")]
        r = json.loads(report[-1].split(": ", 1)[1]) if report else {}
        check(report and r.get("cases", 0) > 0, f"the consumer's report: {r}")
    finally:
        gw.stop()
        broker.stop()
    finish()


if __name__ == "__main__":
    main()
