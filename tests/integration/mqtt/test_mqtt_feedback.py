#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Feedback inside `alarmgw run`: feedback for unknown cases is counted, one by one, and logged at
most 10 times a minute plus a summary (a platform replaying old case ids must not flood the
journal); a valid feedback after the flood is still recorded; a feedback that cannot be written
(another process holds the database's write lock) is not acknowledged to the MQTT client: it is
delivered again and recorded once the lock is gone."""
import json
import os
import sqlite3
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../unit/mqtt"))
from agwtest import sql  # noqa: E402
from feedbacktest import one_case_gateway  # noqa: E402
from mqttlab import Broker, Sub, check, pub, release, workdir  # noqa: E402


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        out = {}
        for line in r.read().decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out


def main():
    w = workdir("agw-mqtt-feedback-")
    os.makedirs(os.path.join(w, "state"))
    db = os.path.join(w, "state", "alarmgw.db")
    ok = False
    b = sub = gw = None
    try:
        b = Broker(w, "broker", persistence=False).start()
        sub = Sub(w, b.port, "agw/cases/#", "platform", extra=["-V", "mqttv5"])
        time.sleep(0.3)
        # a keep-alive ping every 2 s: a feedback paho holds back is delivered again with the next packet
        gw, http, ids = one_case_gateway(w, b, sub, mqtt_extra='keepalive = "2s";')
        check(len(ids) == 1, "one case published: %s" % ids)
        time.sleep(0.5)  # the feedback subscription is in place
        topic = "agw/case-status/gw-fb"
        print("-- 50 feedback messages for unknown cases")
        for i in range(50):
            pub(b.port, topic, json.dumps({"case_id": "agw-unknown-%d" % i, "status": "closed"}))
        pub(b.port, topic, json.dumps({"case_id": ids[0], "status": "closed"}))
        end = time.time() + 20
        while time.time() < end and sql(db, "SELECT status FROM cases WHERE id = ?", (ids[0],)) != [("closed",)]:
            time.sleep(0.2)
        check(sql(db, "SELECT status FROM cases WHERE id = ?", (ids[0],)) == [("closed",)],
              "the valid feedback after the flood is recorded")
        print("-- feedback arriving while another process holds the database's write lock")
        pub(b.port, topic, json.dumps({"case_id": ids[0], "status": "reopened"}))
        end = time.time() + 10
        while time.time() < end and sql(db, "SELECT status FROM cases WHERE id = ?", (ids[0],)) != [("reopened",)]:
            time.sleep(0.1)
        lock = sqlite3.connect(db, isolation_level=None, timeout=10)
        lock.execute("BEGIN IMMEDIATE")
        try:
            pub(b.port, topic, json.dumps({"case_id": ids[0], "status": "closed"}))
            time.sleep(7)  # longer than the gateway's busy timeout (5 s)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        end = time.time() + 20
        while time.time() < end and sql(db, "SELECT status FROM cases WHERE id = ?", (ids[0],)) != [("closed",)]:
            time.sleep(0.2)
        check(sql(db, "SELECT status FROM cases WHERE id = ?", (ids[0],)) == [("closed",)],
              "the feedback that could not be written under the lock is recorded once the lock is gone "
              "(it was handed back to the MQTT client, not dropped)")
        m = metrics(http)
        n = m.get('agw_feedback_errors_total{reason="unknown_case"}')
        check(n == 50, "every unknown-case feedback counted: %s" % n)
        lines = [l for l in gw.log() if "feedback for unknown case" in l]
        print("     %d log lines, first: %s" % (len(lines), lines[:1]))
        check(1 <= len(lines) <= 10, "at most 10 lines a minute (%d)" % len(lines))
        code, took = gw.stop(timeout=15)
        summary = [l for l in gw.log() if "more feedback messages for unknown cases" in l]
        check(code == 0, "SIGTERM exits 0")
        check(summary and "40 more" in summary[0], "the rest is summed up in one line: %s" % summary[:1])
        ok = True
    finally:
        if not ok and gw is not None:
            print("gateway log (last 25 lines):\n" + "\n".join(gw.log()[-25:]))
        release(w, ok, gw, sub, b)


if __name__ == "__main__":
    main()
