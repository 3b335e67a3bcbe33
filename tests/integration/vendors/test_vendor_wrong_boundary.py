# SPDX-License-Identifier: GPL-2.0-or-later
"""A device whose stream declares one multipart boundary and uses another (vendorsim's
wrong-boundary): bytes keep flowing, heartbeats included, but no part can be framed. For both
the ISAPI and the Dahua adapter:

- the gateway does not sit on such a stream for ever: it gives it up within GIVE_UP_S of its
  opening (the device then answers the next request normally, as a device whose service restarted);
- what it could not read is reported, not dropped in silence: an event_channel_lost (or events_lost)
  alert for the device while the stream was unreadable (DESIGN.md, invariant 1);
- after it, the device's events are journaled, and every id written to a readable stream is
  journaled (reconciliation by id, exactly, over the readable answers);
- the healthy device next to it is not disturbed.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vendortest  # noqa: E402
from vendortest import Journal, check, finish, tempdir, vc, wait_for, write_config  # noqa: E402
from agwtest import Gateway  # noqa: E402

GIVE_UP_S = 10.0  # heartbeat_timeout is 3 s here: a stream with no readable part is dead as well


def ids_isapi(camera, alert):
    return (alert.get("data") or {}).get("simEventId")


def ids_dahua(camera, alert):
    eid = (alert.get("data") or {}).get("EventID")
    return "%s-%s" % (camera, eid) if eid else None


def one(protocol, id_of, extra):
    w = tempdir("agw-wrong-boundary-%s-" % protocol)
    sim = gw = None
    try:
        sim = vc.Vendorsim(protocol, devices=2, rate=1.0, workdir=w,
                           extra=["--run", "1", "--quiet", "4", "--heartbeat", "1"]).start()
        sim.control(1, "wrong-boundary", count=2)
        conf = write_config(w, protocol, sim.ledger, None, extra)
        gw = Gateway(conf).start()
        j = Journal(os.path.join(w, "state", "alarmgw.db"), id_of)
        bad = sim.device_id(1)
        try:
            wait_for(lambda: len([s for s in sim.read_log().streams if s["device"] == bad and
                                  s["stream"] == "open"]) >= 3, "a third stream to %s" % bad, timeout=3 * GIVE_UP_S)
        except TimeoutError:
            pass
        log = sim.read_log()
        opened = {s["answer"]: s for s in log.streams if s["device"] == bad and s["stream"] == "open"}
        closed = {s["answer"]: s for s in log.streams if s["device"] == bad and s["stream"] == "closed"}
        wrong = [a for a, s in opened.items() if s.get("detail") == "wrong-boundary"]
        for a in wrong:
            held = ((closed[a]["at_ms"] if a in closed else time.time() * 1000) - opened[a]["at_ms"]) / 1000.0
            check(a in closed and held <= GIVE_UP_S, "%s: the gateway gave up wrong-boundary stream %d after %.1f s "
                  "(bound %.0f s; %s)" % (protocol, a, held, GIVE_UP_S, closed.get(a, {}).get("detail", "still open")))
        reported = [r for r in j.rows("camera_id = ? AND kind IN ('event_channel_lost', 'events_lost') AND active = 1",
                                      (bad,))]
        check(reported, "%s: the unreadable stream was reported (event_channel_lost or events_lost alerts: %d)" %
              (protocol, len(reported)))
        try:
            eid = vendortest.emit_any(sim, 1, ["IO", "PIR", "AlarmLocal", "VideoBlind"])
            wait_for(lambda: eid in j.ids(), "%s journaled" % eid, timeout=GIVE_UP_S)
            check(True, "%s: after the wrong-boundary streams the device delivers (%s journaled)" % (protocol, eid))
        except (TimeoutError, AssertionError) as e:
            check(False, "%s: after the wrong-boundary streams the device delivers (%s)" % (protocol, e))
        sim.control("all", "rate", **{"per-second": 0})
        time.sleep(3)
        log = sim.read_log()
        readable = {i for i, ps in log.parts.items()
                    if any(p["fate"] == "written" and not (i.startswith(bad + "-") and p["answer"] in wrong)
                           for p in ps)}
        journaled = set(j.ids())
        missing, phantom, lines = log.reconcile(journaled, among=readable | journaled)
        for line in lines:
            print("      " + line)
        lost_in_wrong = len([i for i in log.written() if i not in readable])
        check(not missing and not phantom, "%s: every id written to a readable stream is journaled (%d), none made "
              "up; %d ids went only to wrong-boundary streams" % (protocol, len(readable), lost_in_wrong))
    finally:
        if gw and gw.proc and gw.proc.poll() is None:
            gw.stop(timeout=20)
        if gw:
            with open(os.path.join(w, "alarmgw.log"), "w") as f:
                f.write("\n".join(gw.log()) + "\n")
        if sim:
            sim.stop()
        print("kept", w)


if __name__ == "__main__":
    one("isapi", ids_isapi, 'coalesce = "2s";')
    one("dahua", ids_dahua, "heartbeat = 1;")
    finish()
