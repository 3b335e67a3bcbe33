#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A planned stop keeps the pictures of its cases (docs/case-message.md "The evidence table"), with
camsim (ONVIF, Digest snapshots) answering slowly, a real mosquitto and MQTT 5:

1. SIGTERM while a case's capture is under way (every request 300 ms late, so GetProfiles,
   GetSnapshotUri and the Digest GET take over a second): the gateway finishes it before it stops
   the adapters, stores it and publishes it in the publisher's drain. Before, the stop cancelled it
   ("adapter stopped during the capture").
2. A case opened by the ONVIF adapter's last pull, while it stops (the event arrives in the pull
   that the stop waits for): the adapter takes no picture any more, so the gateway GETs the
   snapshot URI the adapter learned for that camera (adapter.h snapshot_learned) itself, before the
   publisher's drain, which sends it. Before, "no picture: the onvif adapter is stopping".
After each exit the entries are stored, the subscriber has the JPEGs, and the outbox is empty."""
import os
import subprocess
import sys
import time

from agwtest import SOURCE, Gateway, Mosquitto, check, finish, sql, tempdir, wait_for
from test_evidence import FREE, JPEG, Subscriber

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
from camsim_client import Camsim  # noqa: E402


def run(name, during, pull_timeout="1s"):
    """One gateway on one camsim camera; during(sim, gw, db) ends with the SIGTERM. Returns the
    evidence rows, the subscriber's messages and the outbox rows left."""
    work = tempdir("agw-evstop-")
    state = os.path.join(work, "state")
    os.makedirs(state)
    db = os.path.join(state, "alarmgw.db")
    with Camsim(cameras=1, auth="both", rate=0, workdir=work) as sim:
        broker = Mosquitto(work).start()
        sub = Subscriber(work, broker)
        conf = os.path.join(work, "alarmgw.conf")
        with open(conf, "w") as f:
            f.write('gateway: { id = "gw-evstop"; state_dir = "%s"; log_level = "info"; };\n' % state)
            f.write('cameras: { ledger = "%s"; };\nmqtt: { uri = "%s"; version = "5"; };\n' % (sim.ledger, broker.uri))
            f.write('evidence: { %s };\n' % FREE)
            f.write('adapters: { onvif: { request_timeout = "8s"; pull_timeout = "%s"; }; };\n' % pull_timeout)
        gw = Gateway(conf).start()
        gw.wait_log(r"running: gateway gw-evstop")
        wait_for(lambda: sim.stats(0).get("live_subscriptions", 0) >= 1, "the camera's subscription", timeout=15)
        time.sleep(0.5)  # its first pull is under way
        during(sim, gw, db)
        code, took = gw.stop(timeout=30)
        check(code == 0 and took < 14, "%s: the gateway stopped cleanly within its bound (%s, %.1f s)" % (name, code, took))
        time.sleep(1.0)  # the subscriber's last lines
        sub.stop()
        broker.stop()
    rows = sql(db, "SELECT case_id, n, status, reason, source FROM evidence ORDER BY requested_at")
    return rows, sub.messages(), sql(db, "SELECT count(*) FROM outbox")[0][0]


def published(rows, msgs):
    topics = {"agw/evidence/%s/%d" % (r[0], r[1]) for r in rows}
    return all(any(m["topic"] == t and m["payload"] == JPEG for m in msgs) for t in topics)


def part_under_way():
    def during(sim, gw, db):
        sim.control(0, "slow", ms=300)
        sim.control(0, "emit", kind="intrusion")
        wait_for(lambda: sql(db, "SELECT count(*) FROM evidence WHERE status = 'pending'")[0][0], "a capture under way",
                 timeout=15, interval=0.01)
    rows, msgs, left = run("under way", during)
    check(len(rows) == 1 and rows[0][2] == "stored", "the capture under way at the stop was finished and stored: %s" % rows)
    check(published(rows, msgs) and left == 0, "...and published before the exit (outbox rows left: %d)" % left)


def part_last_pull():
    def during(sim, gw, db):
        sim.control(0, "emit", kind="intrusion")  # a first case: the adapter learns the snapshot URI
        wait_for(lambda: sql(db, "SELECT count(*) FROM evidence WHERE status = 'stored'")[0][0], "the first picture",
                 timeout=15)
        time.sleep(2.5)  # past evidence.min_interval: the next case needs a capture of its own
        sim.control(0, "slow", ms=600)  # the long-poll under way answers this event 600 ms late...
        sim.control(0, "emit", kind="line")  # ...so it arrives in the pull the stop waits for
    rows, msgs, left = run("last pull", during, pull_timeout="5s")
    check(len(rows) == 2 and all(r[2] == "stored" for r in rows),
          "the case the adapter's last pull opened has its picture too: %s" % [r[2:4] for r in rows])
    check(rows[-1][4] and rows[-1][4] == rows[0][4], "...from the snapshot URI the adapter learned (%s)" % rows[-1][4])
    check(published(rows, msgs) and left == 0, "...and both were published before the exit (outbox rows left: %d)" % left)


def main():
    for tool in ("mosquitto", "mosquitto_sub"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            print("skipped: %s is not installed" % tool)
            sys.exit(77)
    part_under_way()
    part_last_pull()
    finish()


if __name__ == "__main__":
    main()
