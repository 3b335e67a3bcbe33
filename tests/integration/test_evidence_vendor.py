#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Evidence pictures of Hikvision ISAPI and Dahua devices (alarmgw-vendorsim) with the real daemon:

- ISAPI: a smart event's own JPEG part becomes its case's picture (type event_picture, no request
  to the device); an event without one gets the channel's picture (GET
  /ISAPI/Streaming/channels/<ch>01/picture, Digest); every case carries a picture.
- Dahua, cameras and an NVR whose channels are ledger rows: GET /cgi-bin/snapshot.cgi?channel=N
  (1-based, Digest) on the device's address with the channel of the camera's row; every case
  carries a picture, and the simulator served exactly one JPEG per snapshot entry.
"""
import csv
import hashlib
import os
import sys
import time

from agwtest import Gateway, check, finish, sql, tempdir

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("AGW_SOURCE_DIR", os.path.join(HERE, "../.."))
sys.path.insert(0, os.path.join(SRC, "tests/sim/vendorsim"))
sys.path.insert(0, HERE)
import vendorsim_client as vc  # noqa: E402
from test_evidence import JPEG, SHA  # noqa: E402


def nvr_ledger(work, sim, channels):
    """The simulator's device rows, and a row per further channel of each (device, channel)."""
    with open(sim.ledger) as f:
        devices = list(csv.DictReader(f))
    path = os.path.join(work, "ledger.csv")
    cols = ["id", "name", "vendor", "protocol", "address", "username", "password", "longitude", "latitude", "crs",
            "tags", "device", "channel"]
    rows = []
    for d in devices:
        rows.append(dict(d, device="", channel=""))
        for ch in range(2, channels + 1):
            rows.append(dict(d, id="%s-ch%d" % (d["id"], ch), name="%s channel %d" % (d["name"], ch),
                             address="", username="", password="", device=d["id"], channel=str(ch)))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    return path


def run(work, sim, seconds, ledger=None):
    state = os.path.join(work, "state")
    os.makedirs(state, exist_ok=True)
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write('gateway: { id = "gw-evv"; state_dir = "%s"; log_level = "info"; };\n' % state)
        f.write('cameras: { ledger = "%s"; };\n' % (ledger or sim.ledger))
        f.write('mqtt: { uri = "tcp://127.0.0.1:1"; };\n')  # no broker: pictures wait in the outbox
        f.write('evidence: { min_interval = "0s"; };\n')
        f.write('adapters: { %s: { heartbeat_timeout = "3s"; backoff_min = "200ms"; backoff_max = "1s"; }; };\n'
                % sim.protocol)
    gw = Gateway(conf).start()
    gw.wait_log(r"running: gateway gw-evv")
    time.sleep(seconds)
    stats = sim.stats()
    code, _ = gw.stop(timeout=30)
    check(code == 0, "the gateway stopped cleanly (%s)" % code)
    return os.path.join(state, "alarmgw.db"), state, stats


def every_case_has_a_picture(db, what):
    cases = [r[0] for r in sql(db, "SELECT id FROM cases")]
    rows = sql(db, "SELECT case_id, status, reason, sha256, width, height, bytes FROM evidence")
    stored = {r[0] for r in rows if r[1] == "stored"}
    without = [c for c in cases if c not in stored]
    cut = {r[0] for r in rows if r[1] == "failed" and "stopping" in (r[2] or "")}
    check(len(cases) >= 3, "%s: the run made cases (%d)" % (what, len(cases)))
    check(not [c for c in without if c not in cut],
          "%s: every case carries a picture, but those cut by the stop (%d cases, %d without: %s)"
          % (what, len(cases), len(without), [r for r in rows if r[0] in without][:2]))
    good = [r for r in rows if r[1] == "stored"]
    check(all(r[3] == SHA and (r[4], r[5]) == (32, 24) and r[6] == len(JPEG) for r in good),
          "%s: every stored picture is the simulator's JPEG (%d)" % (what, len(good)))


def part_isapi(work):
    with vc.Vendorsim("isapi", devices=3, rate=0.6, extra=["--pictures", "0.5"], workdir=work) as sim:
        db, state, stats = run(work, sim, 12)
    every_case_has_a_picture(db, "isapi")
    rows = sql(db, "SELECT type, source, camera_id FROM evidence WHERE status = 'stored'")
    pics = [r for r in rows if r[0] == "event_picture"]
    snaps = [r for r in rows if r[0] == "snapshot"]
    check(pics, "isapi: events' own pictures are used (%d)" % len(pics))
    check(all(r[1] and "/" not in r[1] for r in pics), "isapi: an event picture names its event type: %s"
          % sorted({r[1] for r in pics}))
    check(snaps and all(r[1].endswith("/ISAPI/Streaming/channels/101/picture") for r in snaps),
          "isapi: events without one get the channel's picture (%d, %s)" % (len(snaps), snaps[:1]))
    served = sum(d["snapshots"] for d in stats["devices"])
    check(served == len(snaps), "isapi: the devices served one picture per snapshot entry, none for event pictures"
          " (%s served, %d entries)" % (served, len(snaps)))


def part_dahua(work):
    with vc.Vendorsim("dahua", devices=2, rate=0.6, extra=["--channels", "4"], workdir=work) as sim:
        path = nvr_ledger(work, sim, 4)
        with open(path) as f:
            ledger = {r["id"]: r for r in csv.DictReader(f)}
        db, state, stats = run(work, sim, 12, path)
    every_case_has_a_picture(db, "dahua")
    rows = sql(db, "SELECT camera_id, source FROM evidence WHERE status = 'stored'")
    check(rows, "dahua: pictures stored (%d)" % len(rows))
    wrong = []
    for cam, source in rows:
        row = ledger.get(cam, {})
        dev = ledger.get(row.get("device") or cam, {})
        chan = row.get("channel") or "1"
        want = "%s/cgi-bin/snapshot.cgi?channel=%s" % (dev.get("address", "?").rstrip("/"), chan)
        if not source.endswith(want.split("://")[-1]):
            wrong.append((cam, source, want))
    check(not wrong, "dahua: each picture was asked of its device with its ledger channel (wrong: %s)" % wrong[:2])
    served = sum(d["snapshots"] for d in stats["devices"])
    check(served == len(rows), "dahua: the devices served one JPEG per picture (%d served, %d)" % (served, len(rows)))
    check(len({r[0] for r in rows}) >= 3, "dahua: channels of the NVRs have pictures of their own: %s"
          % sorted({r[0] for r in rows}))


def main():
    part_isapi(tempdir("agw-evv1-"))
    part_dahua(tempdir("agw-evv2-"))
    finish()


if __name__ == "__main__":
    main()
