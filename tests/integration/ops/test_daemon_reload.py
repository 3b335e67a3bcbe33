#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""SIGHUP is all or nothing: a reload refused for any reason (a rules file the decider cannot read,
an adapter option) leaves the stored ledger and the running cameras as they were; a reload with a
new broker address rebuilds the publisher (the cases go to the new broker), keeping the outbox:
every case written is delivered, to the old broker before and to the new one after."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../unit/mqtt"))
from agwtest import Gateway, sql  # noqa: E402
from mqttlab import Broker, Sub, case_ids, check, release, workdir  # noqa: E402

HEADER = "id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n"


def write_ledger(path, n):
    with open(path, "w") as f:
        f.write(HEADER)
        for i in range(n):
            f.write("cam-%d,Camera %d,acme,onvif,http://127.0.0.1:9/onvif/device_service,,,108.9%d,34.2%d,wgs84,\n"
                    % (i, i, i, i))


def write_rules(path, good):
    with open(path, "w") as f:
        if good:
            f.write('rules = ( { name = "all"; kinds = ["intrusion", "motion"]; action = "open"; } );\n')
        else:
            f.write('rules = ( { name = "broken"; kinds = ["intrusion"; } );\n')  # a syntax error


def write_alerts(path, prefix, cams):
    with open(path, "w") as f:
        for i, cam in enumerate(cams):
            f.write(json.dumps({"camera": cam, "kind": "intrusion", "active": True, "id": "%s-%d" % (prefix, i)}) + "\n")


def write_config(path, w, port, ledger, rules, alerts, adapter_extra="", rules_extra=""):
    with open(path, "w") as f:
        f.write('gateway: { id = "gw-reload"; state_dir = "%s/state"; log_level = "info"; };\n' % w)
        f.write('cameras: { ledger = "%s"; };\n' % ledger)
        f.write('rules: { file = "%s"; %s };\n' % (rules, rules_extra))
        f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; version = "5"; reconnect_min = "200ms"; };\n' % port)
        f.write('adapters: { replay: { file = "%s"; rate = 20.0; %s }; };\n' % (alerts, adapter_extra))


def sql_write(db, query):
    import sqlite3
    with sqlite3.connect(db, timeout=10) as c:
        c.execute(query)


def cameras(db):
    return sql(db, "SELECT count(*) FROM cameras")[0][0]


def reloads(gw, what):
    return sum(what in l for l in gw.log())


def main():
    w = workdir("agw-reload-")
    os.makedirs(os.path.join(w, "state"))
    db = os.path.join(w, "state", "alarmgw.db")
    ok = False
    a = b = sub_a = sub_b = gw = None
    try:
        a = Broker(w, "broker-a", persistence=False).start()
        b = Broker(w, "broker-b", persistence=False).start()
        sub_a = Sub(w, a.port, "agw/cases/#", "platform-a", extra=["-V", "mqttv5"])
        sub_b = Sub(w, b.port, "agw/cases/#", "platform-b", extra=["-V", "mqttv5"])
        time.sleep(0.5)
        ledger, rules, conf = (os.path.join(w, n) for n in ("cameras.csv", "rules.conf", "alarmgw.conf"))
        alerts1 = os.path.join(w, "alerts1.jsonl")
        write_ledger(ledger, 2)
        write_rules(rules, True)
        write_alerts(alerts1, "one", ["cam-0", "cam-1"])
        write_config(conf, w, a.port, ledger, rules, alerts1)
        gw = Gateway(conf).start()
        gw.wait_log(r"running: gateway gw-reload", timeout=20)
        check(cameras(db) == 2, "started with the 2 cameras of the ledger")
        end = time.time() + 15
        while time.time() < end and len(set(case_ids(sub_a.lines()))) < 2:
            time.sleep(0.1)
        check(len(set(case_ids(sub_a.lines()))) == 2, "the first 2 cases reached broker A")

        print("-- a reload the decider refuses (a damaged grid layer in the store) with a changed ledger")
        sql_write(db, "INSERT INTO grid_layers(name, crs, version, imported_at, source, cells) "
                "VALUES('damaged', 'wgs84', 1, 0, 'test', 1)")
        sql_write(db, "INSERT INTO grid_cells(layer, code, geometry) VALUES('damaged', '110105', '{\"type\":\"Nothing\"}')")
        write_ledger(ledger, 3)
        write_config(conf, w, a.port, ledger, rules, alerts1, rules_extra='grid_layer = "damaged";')
        gw.signal(signal.SIGHUP)
        gw.wait_log(r"reload refused", timeout=15)
        time.sleep(0.3)
        check(cameras(db) == 2, "the stored ledger is unchanged: %d cameras" % cameras(db))
        check(not any("cameras: 3 in the ledger" in l for l in gw.log()), "the running cameras are unchanged")

        print("-- a reload the publisher refuses (TLS without a CA file) with a changed ledger")
        write_config(conf, w, a.port, ledger, rules, alerts1)
        with open(conf) as f:
            text = f.read().replace('uri = "tcp://', 'uri = "ssl://')
        with open(conf, "w") as f:
            f.write(text)
        n_refused = reloads(gw, "reload refused")
        gw.signal(signal.SIGHUP)
        end = time.time() + 15
        while time.time() < end and reloads(gw, "reload refused") == n_refused and not reloads(gw, "reload done"):
            time.sleep(0.1)
        check(reloads(gw, "reload refused") == n_refused + 1 and not reloads(gw, "reload done"),
              "refused, not applied in part")
        check(any("ca_file" in l for l in gw.log()), "the reason is logged")
        check(cameras(db) == 2, "the stored ledger is unchanged: %d cameras" % cameras(db))

        print("-- a reload refused for an adapter option, with a changed ledger")
        write_config(conf, w, a.port, ledger, rules, alerts1, adapter_extra='rate = "fast";')
        n_refused = reloads(gw, "reload refused")
        gw.signal(signal.SIGHUP)
        end = time.time() + 15
        while time.time() < end and reloads(gw, "reload refused") == n_refused and not reloads(gw, "reload done"):
            time.sleep(0.1)
        check(reloads(gw, "reload refused") == n_refused + 1 and not reloads(gw, "reload done"),
              "refused, not applied in part")
        check(cameras(db) == 2, "the stored ledger is unchanged: %d cameras" % cameras(db))

        print("-- a reload with a new broker address rebuilds the publisher, keeping the outbox")
        alerts2 = os.path.join(w, "alerts2.jsonl")
        write_alerts(alerts2, "two", ["cam-0", "cam-1", "cam-2"] * 20)
        write_config(conf, w, b.port, ledger, rules, alerts2)
        gw.signal(signal.SIGHUP)
        gw.wait_log(r"reload done", timeout=15)
        check(cameras(db) == 3, "the new ledger applied: %d cameras" % cameras(db))
        gw.wait_log(r"\[mqtt\] connected to tcp://127.0.0.1:%d" % b.port, timeout=15)
        want = set(r[0] for r in sql(db, "SELECT id FROM cases"))
        end = time.time() + 20
        while time.time() < end:
            want = set(r[0] for r in sql(db, "SELECT id FROM cases"))
            got = set(case_ids(sub_a.lines())) | set(case_ids(sub_b.lines()))
            if want <= got and sql(db, "SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0] == 0:
                break
            time.sleep(0.2)
        got_b = case_ids(sub_b.lines())
        got = set(case_ids(sub_a.lines())) | set(got_b)
        print("     %d cases; %d messages at A, %d at B" % (len(want), len(case_ids(sub_a.lines())), len(got_b)))
        check(got_b, "cases after the reload went to broker B")
        check(want and want <= got, "every case in the store was delivered (missing: %s)" % sorted(want - got)[:5])
        print("-- a reload with the same broker settings keeps the publisher")
        gw.signal(signal.SIGHUP)
        end = time.time() + 15
        while time.time() < end and reloads(gw, "reload done") < 2 and gw.proc.poll() is None:
            time.sleep(0.1)
        check(reloads(gw, "reload done") == 2 and gw.proc.poll() is None, "applied, the gateway still runs")
        check(reloads(gw, "MQTT publisher rebuilt") == 1, "the publisher was rebuilt once, for the new address only")
        code, took = gw.stop(timeout=15)
        check(code == 0, "SIGTERM exits 0 in %.1f s" % took)
        check(sql(db, "SELECT count(*) FROM outbox")[0][0] == 0, "outbox empty after a clean stop")
        ok = True
    finally:
        if not ok and gw is not None:
            print("gateway log (last 25 lines):\n" + "\n".join(gw.log()[-25:]))
        release(w, ok, gw, sub_a, sub_b, a, b)


if __name__ == "__main__":
    main()
