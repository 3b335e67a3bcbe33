#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Cases nobody answers end (issue 12): `alarmgw run` with gateway.case_retention = 5s opens 400
cases (replay adapter, default policy) that get no more alerts and no feedback; each one ends as
`expired`, a batch per tick, and its end message reaches a real mosquitto subscriber. The gateway
is SIGKILLed while the expiry is half done and started again: no case is lost (all 400 end
messages arrive, the journal holds one end per case, the outbox drains) and none is ended twice
(the only repeats on the wire are end messages sent before the kill whose outbox rows were not yet
deleted).
The gateway's engine holds none of the old cases after the restart (agw_engine_cases is checked
in tests/unit/rules/test_glue.c)."""
import collections
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../unit/mqtt"))
from agwtest import Gateway, sql  # noqa: E402
from mqttlab import Broker, Sub, check, release, workdir  # noqa: E402

CASES = 400
INFLIGHT = 16


def end_messages(sub, ids):
    """(case_id, ended.by) -> number of end messages received, of the cases in ids."""
    n = collections.Counter()
    for line in sub.lines():
        brace = line.find("{")
        try:
            m = json.loads(line[brace:]) if brace >= 0 else None
        except ValueError:
            continue
        if isinstance(m, dict) and m.get("action") == "end" and m.get("case_id") in ids:
            n[(m["case_id"], m["lifecycle"]["ended"]["by"])] += 1
    return n


def write_config(w, port, alerts):
    conf = os.path.join(w, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write('gateway: { id = "gw-exp"; state_dir = "%s/state"; log_level = "info"; case_retention = "5s"; };\n'
                % w)
        f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; reconnect_min = "200ms"; inflight = %d; };\n'
                % (port, INFLIGHT))
        f.write('adapters: { replay: { file = "%s"; }; };\n' % alerts)
    return conf


def run_phase(w, db, b, sub, name, stop):
    """400 cases of cameras named `name`, expired with a stop (SIGTERM or SIGKILL) in the middle;
    returns the gateway still running."""
    alerts = os.path.join(w, name + ".jsonl")
    with open(alerts, "w") as f:
        for i in range(CASES):
            f.write(json.dumps({"camera": "%s-%d" % (name, i), "kind": "intrusion", "id": "%s-%d" % (name, i)}) + "\n")
    empty = os.path.join(w, "none.jsonl")
    open(empty, "w").close()
    mine = "SELECT count(*) FROM cases WHERE camera_id LIKE '%s-%%'" % name
    gw = Gateway(write_config(w, b.port, alerts)).start()
    gw.wait_log(r"\[mqtt\] connected to", timeout=20)
    end = time.time() + 30
    while time.time() < end and sql(db, mine)[0][0] < CASES:
        time.sleep(0.1)
    check(sql(db, mine + " AND status = 'open'")[0][0] == CASES, "%d cases open" % CASES)
    ids = {r[0] for r in sql(db, "SELECT id FROM cases WHERE camera_id LIKE ?", (name + "-%",))}

    print("-- %s once the expiry has begun, before it is done" % stop.name)
    end = time.time() + 30
    while time.time() < end and not set(end_messages(sub, ids)):
        time.sleep(0.02)
    if stop == signal.SIGTERM:
        code, _ = gw.stop(timeout=15)
        check(code == 0, "SIGTERM exits 0")
    else:
        gw.signal(stop)
        gw.proc.wait(10)
    ended = sql(db, mine + " AND status = 'closed'")[0][0]
    time.sleep(0.5)  # what the broker still forwards of the stopped gateway's messages
    before = end_messages(sub, ids)
    print("     %d of %d cases ended at the stop, %d end messages received" % (ended, CASES, len(before)))
    check(0 < ended < CASES, "the stop came in the middle of the expiry (%d ended)" % ended)

    print("-- started again (no more alerts): the rest end, none twice")
    gw = Gateway(write_config(w, b.port, empty)).start()
    end = time.time() + 60
    while time.time() < end and (len(end_messages(sub, ids)) < CASES or sql(db, "SELECT count(*) FROM outbox")[0][0]):
        time.sleep(0.2)
    got = end_messages(sub, ids)
    check({k[1] for k in got} == {"expired"}, "every end message says expired: %s" % {k[1] for k in got})
    check({k[0] for k in got} == ids and len(ids) == CASES,
          "an end message for each of the %d cases (%d)" % (CASES, len(got)))
    repeated = {k for k, n in got.items() if n > 1}
    print("     %d end messages for %d cases: %d repeated" % (sum(got.values()), len(got), len(repeated)))
    if stop == signal.SIGTERM:
        check(not repeated, "a graceful stop repeats none")
    else:
        # A row the broker acknowledged just before the kill may still be in the outbox (its delete
        # commits with the next batch): it goes out again, at least once as MQTT QoS 1 promises.
        # A case ended again after the restart would be a repeat of a message not sent before it.
        check(repeated <= set(before), "repeats only of end messages sent before the kill (%d of %d)"
              % (len(repeated - set(before)), len(repeated)))
    check(sql(db, mine + " AND status = 'closed' AND closed_at IS NOT NULL")[0][0] == CASES, "every case row closed")
    per_case = sql(db, "SELECT count(*) FROM decisions WHERE action = 'end' AND case_id IN (SELECT id FROM cases"
                       " WHERE camera_id LIKE ?) GROUP BY case_id", (name + "-%",))
    check(len(per_case) == CASES and all(r[0] == 1 for r in per_case), "one end per case in the journal")
    check(sql(db, "SELECT count(*) FROM outbox")[0][0] == 0, "the outbox drained")
    return gw


def main():
    w = workdir("agw-case-expiry-")
    os.makedirs(os.path.join(w, "state"))
    db = os.path.join(w, "state", "alarmgw.db")
    ok = False
    b = sub = gw = None
    try:
        b = Broker(w, "broker", persistence=False).start()
        sub = Sub(w, b.port, "agw/cases/#", "platform")
        time.sleep(0.3)
        gw = run_phase(w, db, b, sub, "term", signal.SIGTERM)
        code, _ = gw.stop(timeout=15)
        check(code == 0, "SIGTERM exits 0")
        gw = run_phase(w, db, b, sub, "kill", signal.SIGKILL)
        code, _ = gw.stop(timeout=15)
        check(code == 0, "SIGTERM exits 0")
        ok = True
    finally:
        if not ok and gw is not None:
            print("gateway log (last 25 lines):\n" + "\n".join(gw.log()[-25:]))
        release(w, ok, gw, sub, b)


if __name__ == "__main__":
    main()
