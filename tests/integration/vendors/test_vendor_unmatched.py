# SPDX-License-Identifier: GPL-2.0-or-later
"""ISAPI and Dahua NVR channels that no ledger row names, end to end: an alarmgw-vendorsim NVR with
four channels, the ledger naming the NVR and its channels 1 and 2. Events on every channel:

- channels 1 and 2 are journaled on their rows; 3 and 4 stay on the NVR with the channel in their
  source (never dropped);
- 3 and 4 are stored: `alarmgw channels --unmatched` lists exactly them (device, channel, first
  alarm), and the status page counts them;
- after a restart they are still listed, and a new event on channel 3 keeps its first alarm time;
- once the ledger names channel 3, it is routed to its row and only channel 4 stays unmatched.
"""
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from agwtest import Gateway, alarmgw, check, finish, free_port, sql, tempdir, wait_for  # noqa: E402
from vendortest import vc, write_config  # noqa: E402

TYPE = {"isapi": "IO", "dahua": "AlarmLocal"}


def ledger_with_channels(sim, path, channels):
    """The simulator's ledger (one NVR row) with device and channel columns and a row per channel."""
    with open(sim.ledger) as f:
        rows = f.read().splitlines()
    nvr = rows[1].split(",")
    lines = [rows[0] + ",device,channel", rows[1] + ",,"]
    for ch in channels:
        row = list(nvr)
        row[0], row[1], row[4], row[5], row[6] = "%s-ch%d" % (nvr[0], ch), "channel %d" % ch, "", "", ""
        lines.append(",".join(row) + ",%s,%d" % (nvr[0], ch))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def emit(sim, channel):
    """One pulse-like edge on a channel: a run's start, then its end (the run's id is journaled)."""
    sim.control(0, "emit", type=TYPE[sim.protocol], channel=channel, state="active")
    sim.control(0, "emit", type=TYPE[sim.protocol], channel=channel, state="inactive")


def journal(db, protocol):
    """[(camera, channel)] of the NVR's events (heartbeats and health aside)."""
    out = []
    for cam, js in sql(db, "SELECT camera_id, json FROM alerts WHERE adapter = ? AND kind NOT IN "
                           "('camera_offline', 'event_channel_lost') ORDER BY seq", (protocol,)):
        out.append((cam, (json.loads(js).get("source") or {}).get("channel")))
    return out


def unmatched(db, protocol):
    rc, out, err = alarmgw("channels", "--db", db, "--adapter", protocol, "--unmatched", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    return rc, rows, err


def one(protocol):
    w = tempdir("agw-unmatched-%s-" % protocol)
    db = os.path.join(w, "state", "alarmgw.db")
    sim = gw = None
    try:
        sim = vc.Vendorsim(protocol, devices=1, rate=0.0, workdir=w, id_prefix="nvr",
                           extra=["--channels", "4", "--run", "30", "--quiet", "0", "--heartbeat", "1"]).start()
        nvr = sim.device_id(0)
        ledger = os.path.join(w, "ledger.csv")
        ledger_with_channels(sim, ledger, [1, 2])
        http = free_port()
        conf = write_config(w, protocol, ledger, None, "heartbeat = 1;" if protocol == "dahua" else 'coalesce = "0s";')
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace('log_level = "info";', 'log_level = "info"; http_listen = "127.0.0.1:%d";' % http))
        gw = Gateway(conf).start()
        wait_for(lambda: sim.stats()["totals"]["live_streams"] == 1, "the NVR's stream", timeout=30)
        for ch in (1, 2, 3, 4):
            emit(sim, ch)
        wait_for(lambda: len(journal(db, protocol)) >= 8, "the NVR's 8 edges journaled", timeout=30)
        got = sorted(set(journal(db, protocol)))
        want = [("%s-ch1" % nvr, "1"), ("%s-ch2" % nvr, "2"), (nvr, "3"), (nvr, "4")]
        check(got == sorted(want), "%s: channels 1 and 2 on their rows, 3 and 4 on the NVR with their channel: %s" %
              (protocol, got))
        rc, rows, err = unmatched(db, protocol)
        listed = sorted((r.get("channel"), r.get("device"), r.get("camera")) for r in rows)
        check(rc == 0 and listed == [(3, nvr, None), (4, nvr, None)],
              "%s: `alarmgw channels --unmatched` lists channels 3 and 4 of %s, and only them: %s %s" %
              (protocol, nvr, rows, err.strip()))
        firsts = {r.get("channel"): r.get("first_unmatched_alarm_ms") for r in rows}
        check(all(isinstance(v, int) and v > 0 for v in firsts.values()), "%s: with their first alarm: %s" %
              (protocol, firsts))
        status = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/api/status" % http, timeout=10).read())
        check(status["unmatched_channels"]["count"] == 2, "%s: the status page counts 2 unmatched channels: %s" %
              (protocol, status["unmatched_channels"]))

        # a restart: still listed, and the first alarm stays the first
        code, _ = gw.stop(timeout=20)
        check(code == 0, "%s: SIGTERM exits 0" % protocol)
        time.sleep(0.5)
        gw = Gateway(conf).start()
        wait_for(lambda: sim.stats()["totals"]["live_streams"] == 1, "the NVR's stream again", timeout=30)
        n = len(journal(db, protocol))
        emit(sim, 3)
        wait_for(lambda: len(journal(db, protocol)) >= n + 2, "channel 3's edges after the restart", timeout=30)
        rc, rows, _ = unmatched(db, protocol)
        again = {r.get("channel"): r.get("first_unmatched_alarm_ms") for r in rows}
        check(again == firsts, "%s: after a restart the same channels with the same first alarm (%s, was %s)" %
              (protocol, again, firsts))
        code, _ = gw.stop(timeout=20)

        # the ledger names channel 3: routed, no longer unmatched
        ledger_with_channels(sim, ledger, [1, 2, 3])
        gw = Gateway(conf).start()
        wait_for(lambda: sim.stats()["totals"]["live_streams"] == 1, "the NVR's stream a third time", timeout=30)
        n = len(journal(db, protocol))
        emit(sim, 3)
        wait_for(lambda: len(journal(db, protocol)) >= n + 2, "channel 3's edges with its row", timeout=30)
        check(journal(db, protocol)[-1] == ("%s-ch3" % nvr, "3"), "%s: channel 3 now on its row: %s" %
              (protocol, journal(db, protocol)[-2:]))
        rc, rows, _ = unmatched(db, protocol)
        check([r.get("channel") for r in rows] == [4], "%s: only channel 4 is left unmatched: %s" % (protocol, rows))
    finally:
        if gw and gw.proc and gw.proc.poll() is None:
            gw.stop(timeout=20)
        if sim:
            sim.stop()
        print("kept", w)


if __name__ == "__main__":
    one("isapi")
    one("dahua")
    finish()
