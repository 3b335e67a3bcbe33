#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A graceful stop publishes what it journaled: SIGTERM while 20 ONVIF cameras (camsim) deliver
cases to a healthy mosquitto. The adapters finish their pulls after the signal, and what they
journal then must still go out before the gateway exits, not wait in the outbox for a next start
that may never come (a control room reconciling after a planned stop would count those cases as
missing).

Checked after the exit: no pending row is left in the outbox; every case message the store made
reached the subscriber (exact equality, by case id and action count); the stop stayed within its
bound (adapters 4.5 s, then the publisher's drain, offline status and disconnect)."""
import collections
import json
import os
import subprocess
import sys
import time

from agwtest import SOURCE, Gateway, Mosquitto, check, finish, spawn, sql, tempdir, wait_for

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
from camsim_client import Camsim  # noqa: E402

CAMERAS = 20

CONFIG = """
gateway: {{ id = "gw-drain"; state_dir = "{state}"; log_level = "info"; }};
cameras: {{ ledger = "{ledger}"; }};
mqtt: {{ uri = "{uri}"; }};
evidence: {{ enabled = false; }};
adapters: {{ onvif: {{ request_timeout = "3s"; pull_timeout = "2s"; }}; }};
"""


def case_messages(path):
    """(case_id, action) of every complete line mosquitto_sub wrote on the case topics."""
    out = []
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break
            topic, _, payload = line.rstrip("\n").partition("\t")
            if "/cases/" not in topic:
                continue
            try:
                m = json.loads(payload)
            except ValueError:
                continue
            out.append((m.get("case_id"), m.get("action")))
    return out


def main():
    work = tempdir("agw-stop-drain-")
    state = os.path.join(work, "state")
    os.makedirs(state)
    db = os.path.join(state, "alarmgw.db")
    with Camsim(cameras=CAMERAS, auth="wsse", rate=3.0, extra=["--mix", "intrusion=1,line=1"], workdir=work) as sim:
        broker = Mosquitto(work).start()
        sub_out = os.path.join(work, "sub.out")
        sub = spawn(["mosquitto_sub", "-p", str(broker.port), "-q", "1", "-t", "agw/#", "-F", "%t\t%p"],
                    stdout=open(sub_out, "w"), stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        conf = os.path.join(work, "alarmgw.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(state=state, ledger=sim.ledger, uri=broker.uri))
        gw = Gateway(conf).start()
        gw.wait_log(r"running: gateway gw-drain")
        gw.wait_log(r"\[mqtt\] connected to", timeout=20)
        wait_for(lambda: sql(db, "SELECT count(DISTINCT camera_id) FROM alerts")[0][0] == CAMERAS,
                 "every camera delivering", timeout=60)
        time.sleep(3.0)
        signalled_ms = int(time.time() * 1000)
        code, took = gw.stop(timeout=30)
        time.sleep(1.5)  # the subscriber's last lines
        sub.terminate()
        sub.wait(timeout=10)
        broker.stop()

    check(code == 0, "SIGTERM exits 0 (got %s)" % code)
    check(took < 8.5, "the stop took %.2f s (adapters at most 4.5 s, then the publisher at most 3.5 s)" % took)
    after = sql(db, "SELECT count(*) FROM alerts WHERE gateway_time >= ?", (signalled_ms,))[0][0]
    print("     alerts journaled after SIGTERM (the adapters finishing their pulls): %d" % after)
    pending = sql(db, "SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0]
    check(pending == 0, "no pending row left in the outbox after a stop with a healthy broker (%d left)" % pending)
    made = collections.Counter(r[0] for r in sql(db, "SELECT case_id FROM decisions WHERE action != 'drop' "
                                                     "AND case_id IS NOT NULL"))
    got = collections.Counter(c for c, _ in case_messages(sub_out))
    missing = {c: n - got.get(c, 0) for c, n in made.items() if got.get(c, 0) < n}
    print("     %d case decisions made, %d case messages received" % (sum(made.values()), sum(got.values())))
    check(sum(made.values()) > 0, "the run made cases")
    check(not missing, "every case decision reached the subscriber (missing per case: %s)" % list(missing.items())[:5])
    finish()


if __name__ == "__main__":
    main()
