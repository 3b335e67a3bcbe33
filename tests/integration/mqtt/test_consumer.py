# SPDX-License-Identifier: GPL-2.0-or-later
"""The reference consumer (examples/consumer/consumer.py) against the gateway and a real mosquitto,
and the case lifecycle it drives.

consumer_restart: every case the gateway opens is stored once by the consumer (duplicates
ignored), the consumer's `accepted` and `closed` feedback reaches the gateway (the cases table says
closed), and a consumer SIGKILLed in the middle and started again loses nothing: its persistent
session kept the cases published meanwhile, and its feedback journal the closes it still owed.

lifecycle (the replay adapter, a grid layer, a rules file with groups and supervision):
- two sources of one incident (a camera's ONVIF events and its RTSP metadata: two ledger rows in one
  camera group) fold into one case with both sources;
- an unaccepted P1 case is escalated after its supervision time, up the grid path (the community's
  escalation topic), with its escalation level in the message;
- a restart in the middle of a supervision timer keeps the deadline: the case escalates when it was
  due, not a full period after the restart;
- the example consumer walks a case through accepted, dispatched, on_site, resolved, closed; every
  move is journaled and published; a late move back is refused and journaled;
- `alarmgw cases show` prints the whole history.
Skipped (77) without Debian's python3-paho-mqtt."""
import json
import os
import signal
import subprocess
import sys
import time

from agwtest import SOURCE, Gateway, Mosquitto, alarmgw, check, finish, spawn, sql, tempdir, wait_for

PY = "/usr/bin/python3"  # Debian's python, where python3-paho-mqtt installs
CONSUMER = os.path.join(SOURCE, "examples", "consumer", "consumer.py")
FIX = os.path.join(SOURCE, "tests", "fixtures")
CAMERAS = 12

if subprocess.run([PY, "-c", "import paho.mqtt.client"], capture_output=True).returncode:
    print("SKIP: python3-paho-mqtt is not installed (scripts/install-deps installs it)")
    sys.exit(77)


def start_consumer(work, broker, out):
    return spawn([PY, "-u", CONSUMER, "--broker", f"127.0.0.1:{broker.port}", "--gateway", "it-consumer",
                  "--store", os.path.join(work, "platform"), "--close-after", "6", "--client-id", "platform-1"],
                 stdout=out, stderr=subprocess.STDOUT)


def consumer_restart():
    """The consumer SIGKILLed in the middle stores every case once and closes them all."""
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


CHAIN = ["accepted", "dispatched", "on_site", "resolved", "closed"]

work = tempdir("agw-lifecycle-")
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
rules = os.path.join(work, "rules.conf")
with open(rules, "w") as f:
    f.write('version = 1;\n'
            'groups = { gate = ["cam-onvif", "cam-rtsp"]; };\n'
            'supervision = { accept = { p1 = "3s"; p2 = "6s"; }; levels = 3; };\n'
            'rules = (\n'
            '  { name = "gate"; cameras = ["cam-onvif", "cam-rtsp"]; kinds = "any"; dedup_by = "group";\n'
            '    dedup_kinds = "any"; action = "open"; priority = 3; category = "G01"; },\n'
            '  { name = "urgent"; cameras = ["cam-p1"]; kinds = "any"; action = "open"; priority = 1; },\n'
            '  { name = "slow"; cameras = ["cam-p2"]; kinds = "any"; action = "open"; priority = 2; },\n'
            '  { name = "rest"; kinds = "any"; action = "open"; priority = 3; }\n'
            ');\n')
ledger = os.path.join(work, "cameras.csv")
with open(ledger, "w") as f:
    f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n")
    for cam in ("cam-onvif", "cam-rtsp", "cam-p1", "cam-p2", "cam-c1"):
        f.write(f"{cam},{cam},hikvision,onvif,10.0.0.1,,,116.41,39.91,wgs84,\n")


def config(broker, alerts):
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write(f'gateway: {{ id = "gw-life"; state_dir = "{state}"; log_level = "info"; }};\n'
                f'rules: {{ file = "{rules}"; grid_layer = "cells"; }};\n'
                f'mqtt: {{ uri = "{broker.uri}"; reconnect_min = "200ms"; }};\n'
                f'adapters: {{ replay: {{ file = "{alerts}"; }}; }};\n')
    return conf


def alerts_file(name, alerts):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        for a in alerts:
            f.write(json.dumps(a) + "\n")
    return path


def case_of(event_id):
    rows = sql(db, "SELECT d.case_id, c.opened_at FROM decisions d JOIN alerts a ON a.seq = d.alert_seq "
                   "JOIN cases c ON c.id = d.case_id WHERE a.event_id = ?", (event_id,))
    return rows[0] if rows else (None, None)


def decisions(case_id, action):
    return sql(db, "SELECT at, reason FROM decisions WHERE case_id = ? AND action = ? ORDER BY seq", (case_id, action))


def received(path):
    out = []
    for line in open(path, errors="replace"):
        topic, _, payload = line.rstrip("\n").partition(" ")
        try:
            out.append((topic, json.loads(payload)))
        except ValueError:
            pass
    return out


def lifecycle():
    broker = Mosquitto(work).start()
    seen = os.path.join(work, "seen.txt")
    sub = spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-v", "-q", "1", "-t", "agw/#"],
                stdout=open(seen, "w"))
    open(os.path.join(work, "none.jsonl"), "w").close()
    conf = config(broker, os.path.join(work, "none.jsonl"))
    alarmgw("cameras", "import", "-c", conf, ledger, check_rc=0)
    alarmgw("grid", "import", "-c", conf, os.path.join(FIX, "grid", "cells.geojson"), check_rc=0)
    first = alerts_file("first.jsonl", [
        {"camera": "cam-onvif", "adapter": "onvif", "kind": "motion", "active": True, "id": "s-1"},
        {"camera": "cam-rtsp", "adapter": "rtsp", "kind": "intrusion", "active": True, "id": "s-2"},
        {"camera": "cam-p1", "kind": "intrusion", "id": "p-1"},
        {"camera": "cam-p2", "kind": "tamper", "id": "r-1"},
    ])
    gw = Gateway(config(broker, first)).start()
    cons = None
    ok = False
    try:
        print("-- two sources, one incident")
        wait_for(lambda: case_of("r-1")[0], "the four alerts decided", timeout=30)
        gate, _ = case_of("s-1")
        check(gate and case_of("s-2")[0] == gate, f"the ONVIF and the RTSP alert of the gate fold into case {gate}")
        msg = json.loads(sql(db, "SELECT json FROM cases WHERE id = ?", (gate,))[0][0])
        src = sorted((s["camera"], s["adapter"]) for s in msg["sources"])
        check(src == [("cam-onvif", "onvif"), ("cam-rtsp", "rtsp")], f"the case names both sources: {src}")

        print("-- an unaccepted P1 case escalates up the grid path")
        p1, p1_opened = case_of("p-1")
        wait_for(lambda: decisions(p1, "escalate"), "the P1 case escalated", timeout=15)
        at, reason = decisions(p1, "escalate")[0]
        check(3000 <= at - p1_opened < 5000, f"escalated {at - p1_opened} ms after it opened (P1: 3 s): {reason}")
        up = "agw/escalations/community/110105001001"
        wait_for(lambda: any(t == up for t, _ in received(seen)), f"a message on {up}", timeout=10)
        m = next(m for t, m in received(seen) if t == up)
        check(m["case_id"] == p1 and m["action"] == "escalate" and m["escalation_level"] == 1 and
              m["lifecycle"]["escalation"]["target_code"] == "110105001001",
              "the escalation message carries the case, its level and the community it went to")

        print("-- a restart in the middle of a supervision timer")
        r1, r1_opened = case_of("r-1")
        now_ms = lambda: int(time.time() * 1000)
        wait_for(lambda: now_ms() >= r1_opened + 2000, "2 s into the P2 case's 6 s", timeout=10)
        code, _ = gw.stop(timeout=20)
        check(code == 0 and not decisions(r1, "escalate"), "stopped before the P2 case was due")
        time.sleep(1.5)
        restart_ms = now_ms()
        gw = Gateway(config(broker, os.path.join(work, "none.jsonl"))).start()
        wait_for(lambda: decisions(r1, "escalate"), "the P2 case escalated after the restart", timeout=20)
        at, reason = decisions(r1, "escalate")[0]
        check(r1_opened + 6000 <= at < restart_ms + 6000 - 500,
              f"due at opened + 6 s: escalated {at - r1_opened} ms after it opened, {at - restart_ms} ms after the "
              f"restart ({reason})")
        code, _ = gw.stop(timeout=20)

        print("-- the example consumer takes a case to closed")
        log = open(os.path.join(work, "consumer.log"), "a")
        cons = spawn([PY, "-u", CONSUMER, "--broker", f"127.0.0.1:{broker.port}", "--gateway", "gw-life",
                      "--store", os.path.join(work, "platform"), "--client-id", "platform-life",
                      "--chain", ",".join(CHAIN), "--step", "0.3"], stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: "consumer: connected" in open(log.name).read(), "the consumer's session", timeout=20)
        third = alerts_file("third.jsonl", [{"camera": "cam-c1", "kind": "intrusion", "id": "c-1"}])
        gw = Gateway(config(broker, third)).start()
        wait_for(lambda: case_of("c-1")[0], "the consumer's case opened", timeout=30)
        c1, _ = case_of("c-1")
        closed = lambda: sql(db, "SELECT status FROM cases WHERE id = ?", (c1,)) == [("closed",)]
        wait_for(closed, "the consumer's feedback closed the case", timeout=30)
        moves = [r[1] for r in decisions(c1, "status")]
        check(moves == [f"feedback: {s} (was {p})" for p, s in zip(["open"] + CHAIN, CHAIN)],
              f"every move journaled in order: {moves}")
        wait_for(lambda: any(m.get("case_id") == c1 and m.get("action") == "status" and m.get("status") == "closed"
                             for _, m in received(seen)), "the closed case published", timeout=10)
        statuses = [m["status"] for t, m in received(seen) if m.get("case_id") == c1 and m.get("action") == "status"]
        check(statuses == CHAIN, f"each move published to every subscriber: {statuses}")
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t",
                        "agw/case-status/gw-life", "-m", json.dumps({"case_id": c1, "status": "accepted"})], check=True)
        wait_for(lambda: decisions(c1, "refused"), "the late 'accepted' refused", timeout=10)
        check("closed -> accepted" in decisions(c1, "refused")[0][1] and closed(),
              f"a move back is refused with its reason and changes nothing: {decisions(c1, 'refused')[0][1]}")
        rc, out, _ = alarmgw("cases", "show", "-c", conf, c1, "--json", check_rc=0)
        doc = json.loads(out)
        actions = [h["action"] for h in doc["history"]]
        check(actions == ["open"] + ["status"] * 5 + ["refused"] and doc["messages_queued"] == 6 and
              doc["history"][0]["alert"]["event_id"] == "c-1",
              f"`alarmgw cases show` has the whole history: {actions}, {doc['messages_queued']} messages")
        rc, out, _ = alarmgw("cases", "show", "-c", conf, gate, check_rc=0)
        check("cam-rtsp" in out and "rtsp" in out and "update" in out, "and the folded case's two sources")
        rc, out, _ = alarmgw("cases", "list", "-c", conf, "--status", "closed", check_rc=0)
        check(c1 in out, "`alarmgw cases list --status closed` lists it")
        ok = True
    finally:
        if not ok:
            print("gateway log (last 30 lines):\n" + "\n".join(gw.log()[-30:]))
            print("cases:", sql(db, "SELECT id, status, esc_level, sup_due, opened_at FROM cases"))
        if cons:
            cons.terminate()
        gw.stop(timeout=20)
        sub.terminate()
        broker.stop()


def main():
    consumer_restart()
    lifecycle()
    finish()


if __name__ == "__main__":
    main()
