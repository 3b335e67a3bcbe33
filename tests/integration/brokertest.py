# SPDX-License-Identifier: GPL-2.0-or-later
"""The failover run that the clustered-broker tests share: the platform's persistent QoS 1
subscriber on one node, the gateway given every node in mqtt.uri and replaying alerts, the node it
is connected to SIGKILLed mid-run, and every case id reconciled (missing == 0 required; duplicates
are allowed, QoS 1 is at least once, and counted)."""
import json
import os
import re
import subprocess
import time

from agwtest import Gateway, check, spawn, sql, wait_for


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


def failover(work, uris, node_of_port, kill, out, alerts=300, rate=30, drain_s=60):
    """Runs the gateway on uris, kills the node it connects to a third into the run and checks that
    every case id arrives. node_of_port(port) names the node; kill(node) SIGKILLs it. Returns the
    figures as a dict."""
    path = os.path.join(work, "alerts.jsonl")
    with open(path, "w") as f:
        for i in range(alerts):
            f.write(json.dumps({"camera": f"cam-{i:04d}", "kind": "intrusion", "active": True, "id": f"e-{i}"}) + "\n")
    os.makedirs(os.path.join(work, "state"), exist_ok=True)
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write(f'gateway: {{ id = "it-cluster"; state_dir = "{work}/state"; log_level = "info"; }};\n')
        f.write(f'mqtt: {{ uri = "{uris}"; version = "3.1.1"; reconnect_min = "200ms"; reconnect_max = "1s"; }};\n')
        f.write(f'adapters: {{ replay: {{ file = "{path}"; rate = {rate}; }}; }};\n')
    gw = Gateway(conf).start()
    try:
        line = gw.wait_log(r"\[mqtt\] connected to tcp://127\.0\.0\.1:\d+", timeout=30)
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
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
