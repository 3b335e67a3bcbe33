# SPDX-License-Identifier: GPL-2.0-or-later
"""An ONVIF NVR with four video sources (alarmgw-camsim --sources 4), three of them in the ledger:
channels 1 and 2 by their place in GetVideoSources, a third by an explicit source_token (the
ledger calls it channel 9, so the place alone would not find it). camsim names the source the way
real devices do: VideoSourceConfigurationToken on rule engine topics (resolved through GetProfiles)
and Source on VideoSource topics. Every event of each source is journaled on the camera of its
channel; the fourth source's stay on the NVR with channel 4 in their source, counted in the
metrics, on the status page and listed by `alarmgw channels --unmatched` (and nothing else is).
Then a restart while the NVR no longer answers GetVideoSources or GetProfiles: the events it
queued meanwhile and new ones land on the same cameras (the list the first run learned is kept).
Every EventId camsim queued is reconciled."""
import json
import os
import sys
import urllib.request

from agwtest import Gateway, alarmgw, check, finish, free_port, sql, tempdir, wait_for

SOURCE = os.environ.get("AGW_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
from camsim_client import Camsim  # noqa: E402

EXPECT = {1: "gate", 2: "yard", 3: "lobby", 4: "cam-00001"}

work = tempdir()
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
sim = Camsim(cameras=1, auth="wsse", workdir=work, extra=["--sources", "4", "--mix", "motion=1,motionalarm=1"])
sim.start()
ledger = os.path.join(work, "ledger.csv")
with open(ledger, "w") as f:
    f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags,device,channel,"
            "source_token\n"
            f"cam-00001,Depot NVR,Hikvision,onvif,127.0.0.1:{sim.port(0)},admin,admin,,,,,,,\n"
            "gate,Depot gate,Hikvision,onvif,,,,108.9402,34.2611,gcj02,gate,cam-00001,1,\n"
            "yard,Depot yard,Hikvision,onvif,,,,108.9405,34.2609,gcj02,,cam-00001,2,\n"
            "lobby,Depot lobby,Hikvision,onvif,,,,108.9407,34.2608,gcj02,,cam-00001,9,VideoSource_3\n")
http_port = free_port()
conf = os.path.join(work, "alarmgw.conf")
with open(conf, "w") as f:
    f.write(f'gateway: {{ id = "it-onvif-nvr"; state_dir = "{state}"; log_level = "info"; '
            f'http_listen = "127.0.0.1:{http_port}"; }};\n'
            f'cameras: {{ ledger = "{ledger}"; }};\n'
            'mqtt: { uri = "tcp://127.0.0.1:1"; };\n'
            'adapters: { onvif: { pull_timeout = "2s"; }; };\n')


def journaled():
    """{EventId: (camera, source channel)} of the journal's camsim events."""
    out = {}
    for cam, js in sql(db, "SELECT camera_id, json FROM alerts WHERE adapter = 'onvif'"):
        a = json.loads(js)
        eid = (a.get("data") or {}).get("EventId")
        if eid:
            out[eid] = (cam, (a.get("source") or {}).get("channel"))
    return out


def emit_all(active):
    for s in (1, 2, 3, 4):
        for kind in ("motion", "motionalarm"):
            sim.control(0, "emit", kind=kind, active=int(active), source=s)


def check_routes(what, expect):
    # camsim writes its events log as it goes: wait for the lines of every event asked for before
    # reading it (read at once, the last line could still be on its way: 31 of 32 under load)
    wait_for(lambda: len(sim.read_events_log()[0]) + len(sim.read_events_log()[1]) >= expect,
             f"{what}: camsim logged the {expect} events", timeout=30)
    queued, dropped = sim.read_events_log()
    wait_for(lambda: set(queued) <= set(journaled()), f"{what}: every queued event journaled", timeout=30)
    got = journaled()
    wrong = []
    for eid, rec in queued.items():
        want = EXPECT[rec["source"]]
        cam, ch = got[eid]
        # the source's channel rides along: its place in the NVR's list (the token row's too)
        want_ch = str(rec["source"])
        if cam != want or ch != want_ch:
            wrong.append((eid, rec["source"], rec["topic"], cam, ch))
    check(not wrong, f"{what}: {len(queued)} events, each on the camera of its source: wrong {wrong[:5]}")
    if dropped:
        print(f"     camsim dropped (id: reason): {dropped}")
    return queued


gw = Gateway(conf).start()
gw.wait_log(r"NVR with 4 video sources", timeout=30)
wait_for(lambda: len(journaled()) >= 8, "the Initialized burst of the 4 sources journaled", timeout=30)
emit_all(True)
emit_all(False)
queued = check_routes("first run", 16)
check(len(queued) == 16 and {r["source"] for r in queued.values()} == {1, 2, 3, 4},
      f"16 events queued over the 4 sources ({len(queued)})")

rc, out, err = alarmgw("channels", "--db", db, "--adapter", "onvif", "--unmatched", "--json")
un = [json.loads(line) for line in out.splitlines()]
check(rc == 0 and len(un) == 1 and un[0]["device"] == "cam-00001" and un[0]["channel"] == 4
      and un[0]["camera"] is None, f"--unmatched lists the 4th source, and only it: {un} {err.strip()}")
rc, out, _ = alarmgw("channels", "--db", db, "--adapter", "onvif", "--json")
check(rc == 0 and len(out.splitlines()) == 1, f"the matched sources are no stored channels: {out.strip()}")
metrics = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10).read().decode()
line = next((l for l in metrics.splitlines() if l.startswith("agw_unrouted_channel_alerts_total{")
             and 'adapter="onvif"' in l), "")
check('device="cam-00001"' in line and 'channel="4"' in line and not line.endswith(" 0"),
      f"events of the 4th source counted: {line!r}")
status = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/status", timeout=10).read())
check(status["unmatched_channels"]["count"] == 1, f"the status page counts one unmatched channel: "
      f"{status['unmatched_channels']}")

# The restart: the NVR stops answering what the channel order comes from; events happen while
# the gateway is down (queued on the kept subscription) and after.
code, _ = gw.stop()
check(code == 0, f"SIGTERM: exit 0 ({code})")
sim.control(0, "unsupported", ops="GetVideoSources,GetProfiles")
emit_all(True)
gw = Gateway(conf).start()
gw.wait_log(r"running: gateway it-onvif-nvr")
emit_all(False)
queued = check_routes("after the restart, without GetVideoSources", 32)
check(len(queued) == 32, f"32 events queued in all ({len(queued)})")
code, _ = gw.stop()
check(code == 0, f"SIGTERM: exit 0 ({code})")
log = "\n".join(gw.log())
check("GetVideoSources" in log and "GetProfiles" in log, "the refused GetVideoSources and GetProfiles are logged: " + " | ".join(l for l in log.splitlines() if "Get" in l))
sim.stop()

# The ledger's rules for the new column, at import time with file:line.
bad = os.path.join(work, "bad.csv")
with open(bad, "w") as f:
    f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags,device,channel,"
            "source_token\n"
            "nvr,NVR,Hikvision,isapi,10.0.0.7,,,,,,,,,\n"
            "gate,Gate,Hikvision,isapi,,,,,,,,nvr,1,VideoSource_1\n")
rc, out, err = alarmgw("cameras", "import", "--db", os.path.join(work, "check.db"), bad)
check(rc != 0 and f"{bad}:3:" in err and "does not name channels by token" in err,
      f"a source_token on an adapter without tokens is refused with file:line (rc {rc}): {err.strip()}")
finish()
