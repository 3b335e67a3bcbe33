#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""camsim events: subscribe, pull, reconcile EventIds with the events log; Initialized burst; long poll;
MessageLimit; Renew; termination-time expiry; queue overflow; Unsubscribe; only live subscriptions get events."""
import os
import sys
import threading
import time
import xml.etree.ElementTree as ET

from agwtest import SOURCE, check, finish

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
from camsim_client import NS, Camsim, Fault, envelope, parse_notification, wsse_header  # noqa: E402


def pull_for(cam, sub, seconds, limit=100):
    got = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got += cam.pull(sub, timeout="PT1S", limit=limit)
    return got


def main():
    # Part 1: a steady stream on 3 cameras, one of them subscribed.
    with Camsim(cameras=3, auth="wsse", rate=4, extra=["--mix", "motion=3,tamper=1,line=1,intrusion=1"]) as sim:
        cam = sim.client(1)
        cam.sync_clock()
        sub = cam.create_subscription("PT60S")
        check(sub.startswith("http://127.0.0.1:%d/onvif/subscription?Idx=" % sim.port(1)),
              "subscription address is Dahua-style on the camera's port: " + sub)
        first = cam.pull(sub, timeout="PT0S", limit=100)
        init = [m for m in first if m["operation"] == "Initialized"]
        check(len(init) == 3 and first[:3] == init,
              "3 Initialized messages (stateful kinds of the mix) come first: %d" % len(init))
        check(all(m["data"].get("EventId") for m in first), "every message carries an EventId")
        got = first + pull_for(cam, sub, 3)
        limited = cam.pull(sub, timeout="PT5S", limit=1)
        check(len(limited) == 1, "MessageLimit=1 gives exactly one message")
        got += limited
        cam.unsubscribe(sub)
        try:
            cam.pull(sub, timeout="PT0S")
            check(False, "pull after Unsubscribe faults")
        except Fault as f:
            check(f.subcode and f.subcode.endswith("ResourceUnknownFault"), "pull after Unsubscribe: " + str(f))
        stats = sim.stats(1)
        time.sleep(0.5)
        queued, dropped = sim.read_events_log()

    changed = [m for m in got if m["operation"] == "Changed"]
    check(len(changed) >= 10, "at rate 4/s, 3 s of pulling gives at least 10 events: %d" % len(changed))
    ids = [m["id"] for m in changed]
    check(len(set(ids)) == len(ids), "EventIds are unique")
    cam1 = {i: r for i, r in queued.items() if r["camera"] == "cam-00002"}
    check(all(i in cam1 for i in ids), "every received EventId is in the events log")
    check(all(cam1[m["id"]]["topic"] == m["topic"] and cam1[m["id"]]["time"] == m["time"] for m in changed),
          "topic and time in the log match the messages")
    missing = [i for i in cam1 if i not in ids and i not in dropped]
    check(not missing, "every logged event was received or logged as dropped (missing %s)" % missing[:5])
    check(all(dropped[i] == "unsubscribed" for i in cam1 if i not in ids),
          "undelivered events were dropped by the Unsubscribe")
    check(not [r for r in queued.values() if r["camera"] != "cam-00002"],
          "cameras without a subscription log no events")
    topics = {m["topic"] for m in changed}
    check("tns1:RuleEngine/CellMotionDetector/Motion" in topics, "motion events seen: %s" % sorted(topics))
    motion = [m for m in changed if m["topic"].endswith("CellMotionDetector/Motion")]
    check({m["data"].get("IsMotion") for m in motion} == {"true", "false"}, "motion has active and inactive edges")
    check(stats["delivered"] == len(changed) and stats["queued"] == len(cam1),
          "stats delivered/queued match: %s" % stats)

    # Part 2: long poll, renew, expiry, overflow, driven by the control port (no random events).
    with Camsim(cameras=2, auth="none", rate=0, extra=["--mix", "motion=1", "--queue-limit", "5"]) as sim:
        cam = sim.client(0)
        sub = cam.create_subscription("PT30S")
        check(len(cam.pull(sub, timeout="PT0S")) == 1, "one Initialized message for a motion-only mix")
        t0 = time.monotonic()
        empty = cam.pull(sub, timeout="PT2S")
        waited = time.monotonic() - t0
        check(empty == [] and waited >= 1.8, "an idle PullMessages waits its Timeout and returns empty (%.2f s)" % waited)
        threading.Timer(0.5, lambda: sim.control(0, "emit", kind="tamper")).start()
        t0 = time.monotonic()
        early = cam.pull(sub, timeout="PT20S")
        waited = time.monotonic() - t0
        check(len(early) == 1 and early[0]["topic"] == "tns1:RuleEngine/TamperDetector/Tamper" and waited < 15,
              "a waiting PullMessages is answered when an event is queued (%.2f s)" % waited)
        check(early and early[0]["data"].get("IsTamper") == "true", "tamper active edge carries IsTamper=true")
        for _ in range(8):
            sim.control(0, "emit", kind="motion", active=1)
        msgs = cam.pull(sub, timeout="PT0S", limit=100)
        check(len(msgs) == 5, "queue bounded at --queue-limit 5: %d" % len(msgs))
        # Renew keeps a short subscription alive; without Renew it expires.
        short = cam.create_subscription("PT2S")
        cam.renew(short, "PT30S")
        lapse = cam.create_subscription("PT2S")
        sim.control(0, "emit", kind="motion", active=0)
        time.sleep(3)
        check(cam.pull(short, timeout="PT0S") != [], "a renewed subscription outlives its initial termination")
        try:
            cam.pull(lapse, timeout="PT0S")
            check(False, "a subscription past its termination time is gone")
        except Fault as f:
            check(f.subcode.endswith("ResourceUnknownFault"), "expired subscription: " + str(f))
        time.sleep(0.3)
        queued, dropped = sim.read_events_log()
    reasons = sorted(set(dropped.values()))
    check("overflow" in reasons and "expired" in reasons, "drop reasons logged: %s" % reasons)
    check(sum(1 for r in dropped.values() if r == "overflow") == 3, "8 events into a queue of 5 drop 3")

    # Part 3: like real firmware at its worst, the events leave the queue as soon as an answer is
    # composed, whatever the answer: a fault, a cut or padded answer, an answer the client abandoned.
    # The events log says which events went out in which kind of answer.
    with Camsim(cameras=1, auth="none", rate=0, extra=["--mix", "motion=1"]) as sim:
        cam = sim.client(0)
        sub = cam.create_subscription("PT120S")
        received = [m["id"] for m in cam.pull(sub, timeout="PT0S") if m["operation"] == "Changed"]
        in_bad = {}
        for action, args in (("fault", {"count": 1}), ("malformed", {"count": 1}),
                             ("oversized", {"count": 1, "bytes": 3000000})):
            sim.control(0, "emit", kind="motion", active=1)
            sim.control(0, action, **args)
            try:
                bad = [m["id"] for m in cam.pull(sub, timeout="PT0S")]
                check(action == "oversized" and len(bad) == 1,
                      "%s answer to PullMessages: %d readable events" % (action, len(bad)))
                received += bad  # a padded answer is intact for a client without a size limit
            except Exception as e:  # fault or unparsable answer
                check(action != "oversized", "%s answer to PullMessages: %s" % (action, type(e).__name__))
                cam.close()
            got = cam.pull(sub, timeout="PT0S")
            check(got == [], "after the %s answer the event is gone from the camera (%d left)" % (action, len(got)))
            sent = sim.read_events_sent()
            last = [r for r in sent.values() if r["sent"] == action]
            check(len(last) == 1 and last[0]["written"], "the events log says one event went out in a %s answer: %s"
                  % (action, last))
            if last:
                in_bad[last[0]["id"]] = action
        # a slow camera and a client that gives up before the answer: the event left with the answer
        sim.control(0, "slow", ms=1500)
        sim.control(0, "emit", kind="motion", active=0)
        impatient = sim.client(0, timeout=0.5)
        try:
            impatient.pull(sub, timeout="PT0S")
            check(False, "the impatient client times out")
        except Exception as e:
            check("timed out" in str(e), "the impatient client times out: %s" % e)
        impatient.close()
        time.sleep(1.6)
        sim.control(0, "slow", ms=0)
        got = cam.pull(sub, timeout="PT0S")
        check(got == [], "the event taken by the abandoned slow answer is gone (%d delivered)" % len(got))
        # a long poll after that still wakes up on the next event
        threading.Timer(0.3, lambda: sim.control(0, "emit", kind="motion", active=1)).start()
        t0 = time.monotonic()
        got = cam.pull(sub, timeout="PT20S")
        check(len(got) == 1 and time.monotonic() - t0 < 15, "a long poll after an abandoned slow answer wakes up")
        received += [m["id"] for m in got]
        # an event queued while no pull runs, then a reboot: dropped by the reboot, never sent
        sim.control(0, "emit", kind="motion", active=0)
        sim.control(0, "reboot", seconds=0.5)
        stats = sim.stats(0)
        rc = sim.stop()
        queued, dropped = sim.read_events_log()
        sent = sim.read_events_sent()
    check(rc == 0, "camsim exit status %s" % rc)
    abandoned = [i for i, r in sent.items() if not r["written"]]
    bad = [i for i, r in sent.items() if r["written"] and r["sent"] in ("fault", "malformed")]
    check(len(abandoned) == 1, "one event went out in an answer never written: %s" % abandoned)
    check(len(queued) == 6 and set(queued) == set(received) | set(dropped) | set(abandoned) | set(bad)
          and len(received) + len(dropped) + len(abandoned) + len(bad) == 6,
          "reconciled exactly: %d queued = %d received + %d dropped %s + %d abandoned + %d in bad answers"
          % (len(queued), len(received), len(dropped), dropped, len(abandoned), len(bad)))
    check(all(sent[i]["sent"] in ("ok", "oversized") and sent[i]["written"] for i in received),
          "every received event is logged as sent in an ok (or padded) answer")
    check(list(dropped.values()) == ["reboot"], "the queued event was dropped by the reboot")
    check(stats["bad_answer_events"] == 4 and stats["delivered"] == len(received) - 1,
          "stats count 4 events in bad or unwritten answers and the ok ones as delivered: %s" % stats)
    # Part 4: cameras speaking the four dialects (prefixes, booleans, time styles, padded topics).
    with Camsim(cameras=4, auth="wsse", rate=0, extra=["--dialect", "mixed", "--mix", "motion=1"]) as sim:
        spelled = []
        received = []
        for i in range(4):
            cam = sim.client(i)
            sub = cam.create_subscription()
            sim.control(i, "emit", kind="motion", active=1)
            pull = envelope("<tev:PullMessages><tev:Timeout>PT0S</tev:Timeout><tev:MessageLimit>9</tev:MessageLimit>"
                            "</tev:PullMessages>", wsse_header("admin", "admin"))
            raw = cam.raw(sub[sub.index("/onvif"):], pull).body.decode()
            prefix = raw[raw.index("<", 5) + 1:raw.index(":Envelope")]
            spelled.append((prefix, "\n        tns1:" in raw, sim.stats(i)["dialect"]))
            msgs = [parse_notification(n) for n in ET.fromstring(raw).findall(".//wsnt:NotificationMessage", NS)]
            changed = [m for m in msgs if m["operation"] == "Changed"]
            check(len(changed) == 1, "dialect camera %d delivers its event" % i)
            received += [m["id"] for m in changed]
            spelled[-1] += (changed[0]["data"]["IsMotion"], changed[0]["time"]) if changed else ()
        sim.stop()
        queued, dropped = sim.read_events_log()
    print("dialects:", spelled)
    check([s[0] for s in spelled] == ["env", "s", "SOAP-ENV", "env"], "envelope prefixes per dialect")
    check([s[3] for s in spelled if len(s) > 3] == ["true", "1", "ON", "active"], "boolean spellings per dialect")
    check(len(spelled) == 4 and len(spelled[1]) > 4 and spelled[1][4].endswith(".000000Z") and
          not spelled[2][4].endswith("Z"), "time styles per dialect")
    check([s[1] for s in spelled] == [False, True, False, True], "padded topics per dialect")
    check(set(received) == set(queued) and not dropped, "dialect events reconcile with the log")


if __name__ == "__main__":
    main()
    finish()
