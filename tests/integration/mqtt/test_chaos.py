#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Chaos: the full daemon (`alarmgw run`, replay adapter, rules decider, outbox publisher) turns
20,500 alerts into as many cases while the broker is killed with SIGKILL and restarted 5 times and
the gateway is killed with SIGKILL and restarted 5 times. A subscriber on a persistent session
(mosquitto_sub -c -q 1) records every case id. Passes only if every case id in the gateway's cases
table reached the subscriber; prints the duplicate count.

The broker runs with the no-loss settings of docs/mqtt.md (persistence with a short autosave,
no in-flight or queue limits). After a gateway kill, the alerts it had not journaled yet are
replayed from a new file (the journal is the source's acknowledgement), as a camera would resend."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../unit/mqtt"))
from agwtest import Gateway, sql  # noqa: E402
from mqttlab import Broker, Sub, case_ids, check, release, workdir  # noqa: E402

N_ALERTS = 20500
RATE = 700.0  # alerts per second: the run lasts ~30 s, long enough for 10 kills
KILLS = 5


def write_alerts(path, indices):
    with open(path, "w") as f:
        for i in indices:
            # one camera per alert: every alert opens its own case (flood control off in the rules)
            f.write(json.dumps({"camera": "cam-%05d" % i, "kind": "intrusion", "active": True,
                                "id": "e-%d" % i}) + "\n")


def write_config(path, w, port, replay):
    with open(path, "w") as f:
        f.write('gateway: { id = "chaos-gw"; state_dir = "%s/state"; log_level = "notice"; };\n' % w)
        f.write('rules: { file = "%s/rules.conf"; };\n' % w)
        f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; client_id = "chaos-gw"; inflight = 64; keepalive = "5s";\n'
                '        reconnect_min = "200ms"; reconnect_max = "2s"; };\n' % port)
        f.write('adapters: { replay: { file = "%s"; rate = %.1f; }; };\n' % (replay, RATE))


def main():
    w = workdir("agw-chaos-")
    os.makedirs(os.path.join(w, "state"))
    db = os.path.join(w, "state", "alarmgw.db")
    with open(os.path.join(w, "rules.conf"), "w") as f:
        f.write('version = 1;\n'
                'defaults = { dedup_window = "30m"; dedup_by = "camera"; clear_timeout = "1h"; };\n'
                'flood = { camera = { max_cases = 0; }; cell = { max_cases = 0; }; };\n'
                'rules = ( { name = "intrusion"; kinds = ["intrusion"]; action = "open"; category = "A01";'
                ' priority = 1; } );\n')
    conf = os.path.join(w, "alarmgw.conf")
    ok = False
    broker = gw = sub = None
    try:
        broker = Broker(w, "broker").start()
        sub = Sub(w, broker.port, "agw/cases/#", "chaos-sub", verbose=False)
        time.sleep(1.5)  # the broker saves the subscriber's session (autosave_interval 1)
        replay = os.path.join(w, "alerts-0.jsonl")
        write_alerts(replay, range(N_ALERTS))
        write_config(conf, w, broker.port, replay)
        gw = Gateway(conf).start()
        gw.wait_log(r"running: gateway chaos-gw", timeout=30)
        journaled = lambda: set(r[0] for r in sql(db, "SELECT event_id FROM alerts"))  # noqa: E731

        for k in range(KILLS):
            time.sleep(2.5)
            broker.kill()
            print("     broker killed (%d alerts journaled, %d outbox rows)" %
                  (len(journaled()), sql(db, "SELECT count(*) FROM outbox")[0][0]), flush=True)
            time.sleep(0.8)
            broker.start()
            time.sleep(2.5)
            gw.kill()
            done = journaled()
            left = [i for i in range(N_ALERTS) if "e-%d" % i not in done]
            print("     gateway killed (%d alerts journaled, %d to replay)" % (len(done), len(left)), flush=True)
            replay = os.path.join(w, "alerts-%d.jsonl" % (k + 1))
            write_alerts(replay, left)
            write_config(conf, w, broker.port, replay)
            time.sleep(0.3)
            gw = Gateway(conf).start()
            gw.wait_log(r"running: gateway chaos-gw", timeout=30)

        deadline = time.time() + 240
        while time.time() < deadline and len(journaled()) < N_ALERTS:
            time.sleep(0.5)
        check(len(journaled()) == N_ALERTS, "all %d alerts journaled" % N_ALERTS)
        expected = set(r[0] for r in sql(db, "SELECT id FROM cases"))
        check(len(expected) >= 20000, "%d cases opened (>= 20,000)" % len(expected))
        while time.time() < deadline:
            if expected <= set(case_ids(sub.lines())):
                break
            time.sleep(1.0)
        code, took = gw.stop(timeout=15)
        check(code == 0, "the gateway stops on SIGTERM with exit code 0 (%.1f s)" % took)
        time.sleep(1.0)
        ids = case_ids(sub.lines())
        got = set(ids)
        missing = sorted(expected - got)
        print("     subscriber: %d messages, %d distinct case ids, %d duplicates" % (len(ids), len(got),
                                                                                    len(ids) - len(got)))
        print("DUPLICATES %d" % (len(ids) - len(got)))
        left = sql(db, "SELECT count(*) FROM outbox")[0][0]
        print("     outbox rows left after the stop: %d" % left)
        check(not (got - expected), "no case id the gateway does not know")
        check(not missing, "zero missing case ids (missing %d: %s)" % (len(missing), missing[:5]))
        ok = True
    finally:
        release(w, ok, gw, sub, broker)


if __name__ == "__main__":
    main()
