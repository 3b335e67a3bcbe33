#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Outbox row states against a real mosquitto (MQTT 5) whose ACL refuses one case's topic: the
other cases still flow at full rate, the refused row is parked with the broker's reason (not
retried at the head of the line), `alarmgw outbox list --parked` shows it, and `alarmgw outbox
retry` after the ACL is fixed delivers it. Depth and parked counts are rows, exactly. Also: a row
with a wildcard topic is parked at once, and MQTT 3.1.1 (where mosquitto acknowledges a refused
publish and drops it) is shown for what it is."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../unit/mqtt"))
from mqttlab import Broker, Driver, Sub, case_ids, check, release, workdir  # noqa: E402

BUILD = os.environ.get("AGW_BUILD_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../../build"))
ALARMGW = os.path.join(BUILD, "gateway", "alarmgw")
REFUSED = "agw/cases/restricted/zone/1"


def alarmgw(*args):
    p = subprocess.run([ALARMGW] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def rows(db, where="1"):
    with sqlite3.connect(db, timeout=10) as c:
        return c.execute("SELECT count(*) FROM outbox WHERE " + where).fetchone()[0]


def write_acl(path, allow_restricted):
    with open(path, "w") as f:
        f.write("topic readwrite agw/gateways/#\ntopic readwrite agw/cameras/#\ntopic read agw/case-status/#\n"
                "topic readwrite agw/cases/+/+\n")
        if allow_restricted:
            f.write("topic readwrite agw/cases/restricted/#\n")


def wait_until(fn, timeout):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return fn()


def lsan_env(w):
    # paho 1.3.x leaks its copy of an MQTT 5 publish that the broker refused (inside libpaho, seen
    # with LeakSanitizer); suppressed for these runs only, so the exit code still checks our code.
    supp = os.path.join(w, "lsan-paho.supp")
    with open(supp, "w") as f:
        f.write("leak:libpaho-mqtt3as.so\n")
    return dict(os.environ, LSAN_OPTIONS="suppressions=%s:print_suppressions=0" % supp)


def test_refused_row_parked(w):
    print("-- MQTT 5, an ACL refuses one case's topic: the row is parked, the others flow, retry delivers it")
    acl = os.path.join(w, "acl")
    write_acl(acl, False)
    # the loss-free broker settings of docs/mqtt.md (max_queued_messages 0 included)
    b = Broker(w, "b-park", extra="acl_file %s" % acl).start()
    sub = Sub(w, b.port, "agw/cases/#", "park-sub", extra=["-V", "mqttv5"])
    time.sleep(0.5)
    db = os.path.join(w, "park.db")
    n = 5000
    t0 = time.monotonic()
    d = Driver(db, "tcp://127.0.0.1:%d" % b.port, "--version", 5, "--push", n, "--batch", 500, "--interval-ms", 5,
               "--topic-of", "7=%s" % REFUSED, "--run-ms", 60000, "--resend-window-ms", 0,
               "--reconnect-min-ms", 200, "--reconnect-max-ms", 2000, "--metrics", env=lsan_env(w))
    others = ["c-%d" % i for i in range(n) if i != 7]
    got = wait_until(lambda: set(others) <= set(case_ids(sub.lines())), 30)
    took = time.monotonic() - t0
    print("     %d other cases delivered in %.1f s" % (len(others), took))
    check(got, "every other case was delivered while the refused row stayed (%d of %d)" %
          (len(set(case_ids(sub.lines())) & set(others)), len(others)))
    check(wait_until(lambda: rows(db, "state = 'parked'") == 1, 10), "the refused row is parked in the table")
    check(wait_until(lambda: rows(db) == 1, 10), "the outbox holds exactly that one row (%d rows)" % rows(db))
    rc, out, err = alarmgw("outbox", "list", "--db", db, "--parked")
    print("     outbox list --parked:\n" + "\n".join("       " + l for l in out.splitlines()))
    check(rc == 0, "outbox list exits 0 (%s)" % err.strip())
    listed = [l for l in out.splitlines() if REFUSED in l]
    check(len(listed) == 1 and "parked" in listed[0] and "not authorized" in listed[0] and "c-7" in listed[0],
          "the parked row is listed with its topic, case and the broker's reason")
    rc, out, err = alarmgw("outbox", "list", "--db", db, "--json")
    doc = json.loads(out) if rc == 0 else {}
    check(doc.get("rows") == 1 and doc.get("parked") == 1 and doc.get("pending") == 0,
          "outbox list --json counts rows exactly: %s" % {k: doc.get(k) for k in ("rows", "pending", "parked")})
    rc, out, err = alarmgw("status", "--db", db, "--json")
    st = json.loads(out) if rc == 0 else {}
    ob = st.get("outbox", {})
    check(ob.get("parked") == 1 and len(ob.get("parked_rows", [])) == 1 and
          "not authorized" in ob["parked_rows"][0].get("reason", ""),
          "/api/status (alarmgw status --json) shows the parked row and its reason: %s" % ob)
    # fix the ACL, then retry: the running publisher picks the row up again
    write_acl(acl, True)
    b.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    rc, out, err = alarmgw("outbox", "retry", "--db", db, "--all")
    check(rc == 0 and "1 row" in out, "outbox retry --all requeues the row: %r %r" % (out.strip(), err.strip()))
    check(wait_until(lambda: "c-7" in case_ids(sub.lines()), 15), "after the fix the retried case is delivered")
    check(wait_until(lambda: rows(db) == 0, 10), "the outbox is empty")
    d.terminate()
    m = d.metrics()
    check(m.get('agw_outbox_parked_total{reason="not_authorized"}') == 1,
          "one row parked, counted by reason: %s" % {k: v for k, v in m.items() if "parked" in k})
    check(m.get("agw_outbox_parked{}") == 0 and m.get("agw_outbox_depth{}") == 0, "gauges back to 0 at the end")
    err = d.stderr()
    parked_lines = [l for l in err.splitlines() if "parked" in l and "row" in l]
    check(parked_lines and "not authorized" in parked_lines[0], "the park is logged with the reason: %s" %
          parked_lines[:1])
    ids = case_ids(sub.lines())
    check(set(ids) == set("c-%d" % i for i in range(n)), "every case arrived (%d messages)" % len(ids))
    sub.stop()
    b.stop()


def test_retry_one(w):
    print("-- outbox retry ID: one parked row, by its id; a wrong id is an error")
    db = os.path.join(w, "retry.db")
    # the schema from a driver run against no broker, then two parked rows by hand
    d = Driver(db, "tcp://127.0.0.1:1", "--run-ms", 200)
    d.wait_exit(20)
    with sqlite3.connect(db) as c:
        for i in (1, 2):
            c.execute("INSERT INTO outbox(topic, payload, qos, retained, case_id, created_at, state, reason, parked_at)"
                      " VALUES(?, '{}', 1, 0, ?, 0, 'parked', 'test', 0)", ("agw/cases/x/%d" % i, "p-%d" % i))
        seqs = [r[0] for r in c.execute("SELECT seq FROM outbox ORDER BY seq")]
    rc, out, err = alarmgw("outbox", "retry", "--db", db, str(seqs[0]))
    check(rc == 0, "retry of row %d exits 0 (%s)" % (seqs[0], err.strip()))
    check(rows(db, "state = 'parked'") == 1 and rows(db, "state = 'pending'") == 1, "one row pending, one parked")
    rc, out, err = alarmgw("outbox", "retry", "--db", db, "999999")
    check(rc == 1 and "999999" in err, "an id that is not a parked row is an error: %r" % err.strip())
    rc, out, err = alarmgw("outbox", "retry", "--db", db)
    check(rc == 2, "retry without an id or --all is a usage error")


def test_wildcard_row_parked(w):
    print("-- a row with a wildcard topic is parked at once, with the reason")
    b = Broker(w, "b-wild", persistence=False).start()
    db = os.path.join(w, "wild.db")
    d = Driver(db, "tcp://127.0.0.1:%d" % b.port, "--run-ms", 300)
    d.wait_exit(20)
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO outbox(topic, payload, qos, retained, case_id, created_at) "
                  "VALUES('agw/cases/+/oops', '{\"case_id\":\"bad\"}', 1, 0, 'bad', 0)")
    d = Driver(db, "tcp://127.0.0.1:%d" % b.port, "--push", 50, "--run-ms", 2000, "--resend-window-ms", 0,
               "--metrics")
    check(d.wait_exit(20) == 0, "driver ran")
    check(d.wait_line("STOPPED", 0) == "STOPPED acked=50 remaining=1", "50 sent, the bad row kept")
    with sqlite3.connect(db) as c:
        r = c.execute("SELECT state, reason FROM outbox").fetchall()
    check(len(r) == 1 and r[0][0] == "parked" and "topic" in (r[0][1] or ""), "parked with its reason: %s" % r)
    m = d.metrics()
    check(m.get("agw_outbox_parked{}") == 1 and m.get("agw_outbox_depth{}") == 0,
          "parked 1, depth 0 (parked rows wait for the operator, not for the broker)")
    b.stop()


def main():
    w = workdir("agw-mqtt-outbox-")
    ok = False
    try:
        only = sys.argv[1:]
        tests = [("park", lambda: test_refused_row_parked(w)), ("retry", lambda: test_retry_one(w)),
                 ("wildcard", lambda: test_wildcard_row_parked(w))]
        for name, fn in tests:
            if not only or name in only:
                fn()
        ok = True
    finally:
        release(w, ok)


if __name__ == "__main__":
    main()
