# SPDX-License-Identifier: GPL-2.0-or-later
"""The gb28181 adapter as the platform of gbsim's NVRs: after registration the gateway arms each NVR
(DeviceControl SetGuard) and asks for its catalog; half of the NVRs alarm only once armed, and each
has two channels in its catalog that the ledger lacks. Checked: the catalogs' channels are stored
and listed (`alarmgw channels`), the unlisted ones are listed as unmatched there and in the
status JSON, the armed-only NVRs' alarms arrive, and every alarm gbsim saw answered 200 on a ledger
channel is journaled exactly once (reconciled by device and SN)."""
import json
import os
import subprocess
import sys

from agwtest import Gateway, alarmgw, check, finish, free_port, spawn, sql, tempdir, wait_for

SERVER = "34020000002000000001"
SRC = os.environ.get("AGW_SOURCE_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", ".."))
NVRS, CHANNELS, UNLISTED = 4, 3, 2
work = tempdir()
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
ledger = os.path.join(work, "ledger.csv")
events = os.path.join(work, "events.jsonl")
port = free_port()
sim_args = ["--server", f"127.0.0.1:{port}", "--devices", str(NVRS), "--channels", str(CHANNELS),
            "--unlisted", str(UNLISTED), "--armed-only-every", "2", "--catalog-page", "2", "--rate", "2",
            "--keepalive", "2", "--spread", "0.2", "--events-log", events, "--ledger", ledger]
gbsim = [sys.executable, os.path.join(SRC, "tests", "sim", "gbsim", "gbsim.py")]
spawn(gbsim + sim_args + ["--ledger-only"]).wait(timeout=30)
conf = os.path.join(work, "alarmgw.conf")
with open(conf, "w") as f:
    f.write(f'gateway: {{ id = "it-gw"; state_dir = "{state}"; log_level = "info"; }};\n'
            f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
            f'cameras: {{ ledger = "{ledger}"; }};\n'
            f'adapters: {{ gb28181: {{ listen = "127.0.0.1:{port}"; sip_id = "{SERVER}"; password = "12345678";'
            f' arm = true; catalog_interval = "1h"; keepalive_interval = "2s"; }}; }};\n')
gw = Gateway(conf).start()
gw.wait_log(r"SIP server .* listening on udp .* catalog queried, arming on")
sim = spawn(gbsim + sim_args + ["--duration", "6"], stdout=subprocess.PIPE, text=True)
out, _ = sim.communicate(timeout=90)
stats = json.loads(out.strip().splitlines()[-1].split("gbsim: ", 1)[1])
check(stats["registered"] == NVRS and stats["catalog_queries"] == NVRS and stats["armed"] == NVRS // 2,
      f"every NVR registered and was asked for its catalog; the {NVRS // 2} armed-only ones were armed: {stats}")

# the channels, as stored (the adapter writes them a bounded number per sweep: wait for them)
total = NVRS * (CHANNELS + UNLISTED)
wait_for(lambda: sql(db, "SELECT count(*) FROM adapter_state WHERE adapter='gb28181' AND key='channel'")[0][0] >= total,
         f"{total} channels stored", timeout=10)
rc, listed, _ = alarmgw("channels", "--db", db, "--json")
rows = [json.loads(l) for l in listed.splitlines()]
check(rc == 0 and len(rows) == total, f"`alarmgw channels` lists {len(rows)} of {total}")
matched = [r for r in rows if r["camera"]]
check(len(matched) == NVRS * CHANNELS and all(r["camera"].startswith("gb-131-") for r in matched),
      "each ledger channel is shown with its camera")
check(all(r["name"].startswith("通道") and r["manufacturer"] == "gbsim" and "longitude" in r for r in rows),
      "names (GB2312 on the wire), manufacturer and positions come from the catalog")
rc, unmatched, _ = alarmgw("channels", "--db", db, "--adapter", "gb28181", "--unmatched", "--json")
un = sorted(json.loads(l)["channel"] for l in unmatched.splitlines())
want = sorted(r["channel"] for r in rows if int(r["channel"][-6:]) >= 900000)
check(rc == 0 and un == want and len(un) == NVRS * UNLISTED, f"--unmatched lists exactly the unlisted channels: {un}")
rc, other, _ = alarmgw("channels", "--db", db, "--adapter", "onvif", "--json")
check(rc == 0 and other.strip() == "", "--adapter narrows the list to one adapter's channels (onvif: none)")
rc, status, _ = alarmgw("status", "--db", db, "--json")
st = json.loads(status)["unmatched_channels"]
check(st["count"] == NVRS * UNLISTED and {c["id"] for c in st["channels"]} == set(want),
      f"the status JSON counts and names them: {st['count']}")
alarmed = [c for c in st["channels"] if c["first_alarm"]]
check(alarmed and st["channels"][:len(alarmed)] == alarmed, "those that sent alarms come first, with the time")

# reconciliation by device and SN
sent, answer = {}, {}
with open(events) as f:
    for line in f:
        e = json.loads(line)
        (sent if "sent_ms" in e else answer)[e["id"]] = e
camera = {r["channel"]: r["camera"] for r in matched}
expected = {(camera[e["channel"]], str(e["sn"])) for i, e in sent.items()
            if answer.get(i, {}).get("answer") == 200 and not e.get("unlisted")}
journal = sql(db, "SELECT camera_id, event_id FROM alerts WHERE adapter='gb28181' AND kind != 'camera_offline'")
check(len(journal) == len(set(journal)), f"no alarm journaled twice ({len(journal)} rows)")
check(expected <= set(journal) and len(expected) > 0, f"every alarm answered 200 is journaled: {len(expected)}")
armed_only = {f"{SERVER[:8]}00118{0}{int('000001') + i:06d}" for i in range(0, NVRS, 2)}
check(any(sent[i]["device"] in armed_only for i in sent), "the armed-only NVRs sent alarms once armed")
code, secs = gw.stop()
check(code == 0, f"SIGTERM: exit {code} in {secs:.1f} s")
finish()
