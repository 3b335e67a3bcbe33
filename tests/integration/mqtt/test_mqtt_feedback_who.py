#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Feedback carrying who gave it and a note (gateway/mqtt/feedback.c, docs/case-message.md
"Lifecycle"), inside `alarmgw run` with a real mosquitto:

- a feedback with "by" and a Chinese "note" moves the case; the case update message carries
  lifecycle.last_feedback {status, at, by, note}; the journal's decision says who and what; and
  `alarmgw cases show` prints both (text and --json);
- bad ones (a note with a control character, a "by" over 64 bytes, a note that is not a string)
  are refused with a clear reason, counted per reason, and change nothing: the case keeps its
  status, no message and no decision follow;
- the next feedback without who or note publishes nulls, not the previous values.
"""
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../unit/mqtt"))
from agwtest import alarmgw, sql  # noqa: E402
from feedbacktest import one_case_gateway  # noqa: E402
from mqttlab import Broker, Sub, check, pub, release, workdir  # noqa: E402

NOTE = "已到场，东门 3 号岗亭"


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return {k: float(v) for k, v in (line.rsplit(" ", 1) for line in r.read().decode().splitlines()
                                         if line and not line.startswith("#"))}


def messages(sub, case_id):
    out = []
    for line in sub.lines():
        brace = line.find("{")
        if brace >= 0 and case_id in line:
            try:
                out.append(json.loads(line[brace:]))
            except ValueError:
                pass
    return out


def wait_status(db, case_id, status, seconds=15):
    end = time.time() + seconds
    while time.time() < end and sql(db, "SELECT status FROM cases WHERE id = ?", (case_id,)) != [(status,)]:
        time.sleep(0.1)
    return sql(db, "SELECT status FROM cases WHERE id = ?", (case_id,)) == [(status,)]


def main():
    w = workdir("agw-mqtt-fbwho-")
    os.makedirs(os.path.join(w, "state"))
    db = os.path.join(w, "state", "alarmgw.db")
    ok = False
    b = sub = gw = None
    try:
        b = Broker(w, "broker", persistence=False).start()
        sub = Sub(w, b.port, "agw/cases/#", "platform", extra=["-V", "mqttv5"])
        time.sleep(0.3)
        gw, http, ids = one_case_gateway(w, b, sub)
        conf = os.path.join(w, "alarmgw.conf")
        check(len(ids) == 1, "one case published: %s" % ids)
        cid = ids[0]
        time.sleep(0.5)  # the feedback subscription is in place
        topic = "agw/case-status/gw-fb"

        print("-- bad who or note: refused, counted, nothing changed")
        bad = [({"by": "W-1", "note": "line one\u001b[31m"}, "note"),
               ({"by": "W" * 65}, "by"),
               ({"note": ["not", "text"]}, "note"),
               ({"by": ""}, "by")]
        for extra, _ in bad:
            pub(b.port, topic, json.dumps(dict({"case_id": cid, "status": "accepted"}, **extra)))
        end = time.time() + 10
        want = {r: sum(1 for _, x in bad if x == r) for _, r in bad}
        while time.time() < end:
            m = metrics(http)
            if all(m.get('agw_feedback_errors_total{reason="%s"}' % r, 0) >= n for r, n in want.items()):
                break
            time.sleep(0.2)
        m = metrics(http)
        for r, n in want.items():
            got = m.get('agw_feedback_errors_total{reason="%s"}' % r, 0)
            check(got == n, "refused for its %s: counted %s of %d" % (r, got, n))
        logged = [l for l in gw.log() if "malformed feedback" in l]
        check(any("note has a control character" in l for l in logged) and any("by too long" in l for l in logged),
              "the log says where and what: %s" % logged[:2])
        check(sql(db, "SELECT status FROM cases WHERE id = ?", (cid,)) == [("open",)], "the case is still open")
        check(len(messages(sub, cid)) == 1, "no message followed the refused ones")

        print("-- a feedback with who and note")
        pub(b.port, topic, json.dumps({"case_id": cid, "status": "on_site", "by": "W-0012", "note": NOTE},
                                      ensure_ascii=False))
        check(wait_status(db, cid, "on_site"), "the case moved to on_site")
        end = time.time() + 10
        while time.time() < end and len(messages(sub, cid)) < 2:
            time.sleep(0.1)
        msgs = messages(sub, cid)
        check(len(msgs) == 2, "one case update message followed (%d messages)" % len(msgs))
        fb = msgs[-1]["lifecycle"]["last_feedback"]
        check(fb["status"] == "on_site" and fb["by"] == "W-0012" and fb["note"] == NOTE and fb["at"],
              "the message carries lifecycle.last_feedback: %s" % fb)
        check(msgs[0]["lifecycle"]["last_feedback"] is None, "null in the message before any feedback")
        reasons = [r[0] for r in sql(db, "SELECT reason FROM decisions WHERE case_id = ? AND action = 'status'", (cid,))]
        check(reasons == ["feedback: on_site (was open) by W-0012: " + NOTE],
              "journaled with the status move: %s" % reasons)

        print("-- the next one without: nulls")
        pub(b.port, topic, json.dumps({"case_id": cid, "status": "resolved"}))
        check(wait_status(db, cid, "resolved"), "the case moved to resolved")
        end = time.time() + 10
        while time.time() < end and len(messages(sub, cid)) < 3:
            time.sleep(0.1)
        fb = messages(sub, cid)[-1]["lifecycle"]["last_feedback"]
        check(fb["status"] == "resolved" and fb["by"] is None and fb["note"] is None, "by and note null: %s" % fb)
        code, _ = gw.stop(timeout=15)
        check(code == 0, "SIGTERM exits 0")

        rc, out, _ = alarmgw("cases", "show", "-c", conf, cid, check_rc=0)
        check("by W-0012: " + NOTE in out, "`alarmgw cases show` prints who and the note in the history")
        check("last feedback resolved at" in out and "by (not given)" in out,
              "... and the last feedback: %s" % [l for l in out.splitlines() if "last feedback" in l])
        rc, out, _ = alarmgw("cases", "show", "-c", conf, cid, "--json", check_rc=0)
        doc = json.loads(out)
        hist = [h.get("reason", "") for h in doc.get("history", [])]
        check(any(NOTE in h for h in hist), "--json: the history holds the note")
        ok = True
    finally:
        if not ok and gw is not None:
            print("gateway log (last 25 lines):\n" + "\n".join(gw.log()[-25:]))
        release(w, ok, gw, sub, b)


if __name__ == "__main__":
    main()
