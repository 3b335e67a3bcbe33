#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A planned stop keeps the picture being taken (docs/case-message.md "The evidence table"): SIGTERM
arrives while a case's capture is under way at a slow camera (camsim answering every request
300 ms late, so GetProfiles, GetSnapshotUri and the Digest GET take over a second). The gateway
finishes the capture before it stops the adapters (at most 2 s), stores the picture and publishes
it in the publisher's drain: after the exit the entry is stored and the subscriber has the JPEG.
Before, the stop cancelled it ("adapter stopped during the capture") and the case had no picture."""
import os
import subprocess
import sys
import time

from agwtest import SOURCE, Gateway, Mosquitto, check, finish, sql, tempdir, wait_for
from test_evidence import JPEG, Subscriber

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
from camsim_client import Camsim  # noqa: E402


def main():
    for tool in ("mosquitto", "mosquitto_sub"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            print("skipped: %s is not installed" % tool)
            sys.exit(77)
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
            f.write('adapters: { onvif: { request_timeout = "3s"; pull_timeout = "1s"; }; };\n')
        gw = Gateway(conf).start()
        gw.wait_log(r"running: gateway gw-evstop")
        wait_for(lambda: sim.stats(0).get("live_subscriptions", 0) >= 1, "the camera's subscription", timeout=15)
        time.sleep(0.5)  # its first pull is under way
        sim.control(0, "slow", ms=300)
        sim.control(0, "emit", kind="intrusion")
        wait_for(lambda: sql(db, "SELECT count(*) FROM evidence WHERE status = 'pending'")[0][0], "a capture under way",
                 timeout=15, interval=0.01)
        code, took = gw.stop(timeout=30)
        check(code == 0 and took < 10, "the gateway stopped cleanly within its bound (%s, %.1f s)" % (code, took))
        time.sleep(1.0)  # the subscriber's last lines
        sub.stop()
        broker.stop()
    rows = sql(db, "SELECT case_id, n, status, reason, sha256 FROM evidence")
    check(len(rows) == 1 and rows[0][2] == "stored", "the capture under way at the stop was finished and stored: %s" % rows)
    topic = "agw/evidence/%s/%d" % (rows[0][0], rows[0][1])
    sent = [m for m in sub.messages() if m["topic"] == topic]
    check(sent and sent[0]["payload"] == JPEG, "...and published before the exit (%d messages on %s)" % (len(sent), topic))
    check(sql(db, "SELECT count(*) FROM outbox")[0][0] == 0, "nothing is left in the outbox")
    finish()


if __name__ == "__main__":
    main()
