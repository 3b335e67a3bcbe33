# SPDX-License-Identifier: GPL-2.0-or-later
"""A topic the topic table does not map is kept, not dropped: two camsim cameras send only Reolink's
package detection (tns1:RuleEngine/MyRuleDetector/Package, State), which has no kind of ours.

Checked, through the daemon (`alarmgw run`) and its journal:
- every event camsim queued to a live subscription and did not drop is journaled (by EventId), with
  no id it never issued;
- each is kind "other", its topic exactly as the camera wrote it, its State read as the alert's
  active, and its raw tt:Message kept in the alert's payload;
- /metrics counts them under agw_alerts_total{kind="other"} (as many as the journal holds);
- no case is opened for them (the default rules make cases of known kinds only)."""
import json
import os
import sys
import urllib.request

from agwtest import SOURCE, Gateway, check, finish, free_port, sql, tempdir, wait_for

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
import camsim_client  # noqa: E402

TOPIC = "tns1:RuleEngine/MyRuleDetector/Package"
WANT = 20  # events to journal before stopping (2 cameras at 4/s: about 3 s)
INIT = ("SELECT count(*), min(kind), max(kind), min(topic) FROM alerts WHERE operation = 'Initialized'")

work = tempdir()
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
http_port = free_port()

sim = camsim_client.Camsim(cameras=2, auth="wsse", rate=4, workdir=work, extra=["--mix", "package=1"])
with sim:
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write(f'gateway: {{ id = "gw-unmapped"; state_dir = "{state}"; log_level = "info"; '
                f'http_listen = "127.0.0.1:{http_port}"; }};\n'
                f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
                f'cameras: {{ ledger = "{sim.ledger}"; }};\n'
                'adapters: { onvif: { pull_timeout = "1s"; backoff_min = "200ms"; backoff_max = "1s"; }; };\n')
    gw = Gateway(conf).start()
    gw.wait_log(r"running: gateway gw-unmapped")
    # the Initialized burst (the state at subscription, ids camsim does not log) is left out
    events = lambda: sql(db, "SELECT event_id, kind, topic, active, json FROM alerts WHERE event_id IS NOT NULL "
                             "AND kind NOT IN ('camera_offline', 'event_channel_lost', 'events_lost') "
                             "AND (operation IS NULL OR operation != 'Initialized')")
    wait_for(lambda: len(events()) >= WANT, f"{WANT} events journaled", timeout=60)
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10).read().decode()
    code, _ = gw.stop()
    check(code == 0, f"the gateway stops cleanly ({code})")
    queued, dropped = sim.read_events_log()

rows = events()
ids = {r[0] for r in rows}
check(len(rows) >= WANT, f"{len(rows)} events of the unmapped topic journaled")
check(ids <= set(queued), "every journaled id was issued by camsim")
check(all(queued[i]["topic"] == TOPIC for i in ids), "and every one of them is a package event")
# the gateway stopped while camsim went on: per camera, only the events queued before its last
# journaled one must be there
last = {}
for i in ids:
    cam = queued[i]["camera"]
    last[cam] = max(last.get(cam, 0), queued[i]["queued_ms"])
missing = [i for i, r in queued.items()
           if i not in ids and i not in dropped and r["camera"] in last and r["queued_ms"] < last[r["camera"]]]
check(not missing, f"no event queued before a camera's last journaled one is missing ({len(missing)})")
check(all(r[1] == "other" for r in rows), "every one is kind 'other': %s" % sorted({r[1] for r in rows}))
check(all(r[2] == TOPIC for r in rows), "the topic is kept as written")
check(all(r[3] in (0, 1) for r in rows) and any(r[3] == 1 for r in rows),
      "State is read as the alert's active (true and false edges)")
payloads = [json.loads(r[4]).get("payload") or "" for r in rows]
check(all("tt:Message" in p and "State" in p for p in payloads), "the raw tt:Message is kept in the payload")
line = next((ln for ln in metrics.splitlines() if ln.startswith('agw_alerts_total{kind="other"}')), "")
counted = int(line.split()[-1]) if line else 0
check(counted >= WANT, f"metrics count them as other: {line!r}")
init = sql(db, INIT)[0]
check(init[0] >= 2 and init[1] == init[2] == "other" and init[3] == TOPIC,
      f"the Initialized state of each camera is journaled as 'other' too: {init}")
cases = sql(db, "SELECT count(*) FROM decisions d JOIN alerts a ON a.seq = d.alert_seq "
                "WHERE a.kind = 'other' AND d.action != 'drop'")[0][0]
check(cases == 0, f"no case opened or updated for them ({cases})")
finish()
