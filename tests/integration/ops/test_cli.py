# SPDX-License-Identifier: GPL-2.0-or-later
"""The CLI as an integrator uses it: `check` reports every mistake with its line; `cameras import`
is all or nothing with the line of the bad row; `cameras list` never prints a password."""
import os

from agwtest import alarmgw, check, finish, tempdir

work = tempdir()
state = os.path.join(work, "state")
os.makedirs(state)
ledger = os.path.join(work, "ledger.csv")
with open(ledger, "w") as f:
    f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n"
            "cam-1,Gate,Hikvision,onvif,http://127.0.0.1:8000/onvif/device_service,admin,TopSecret1,108.9,34.2,wgs84,gate\n"
            "cam-2,Square,Dahua,rtsp,rtsp://127.0.0.1:8554/live,viewer,TopSecret2,,,,\n")

# Five distinct mistakes, each on its own line.
bad_conf = os.path.join(work, "bad.conf")
with open(bad_conf, "w") as f:
    f.write(f'gateway: {{\n'                       # 1
            f'  state_dir = "{state}";\n'            # 2
            f'  log_level = "chatty";\n'             # 3  bad value
            f'  queue_max = -4;\n'                   # 4  out of range
            '};\n'                                   # 5
            f'mqtt: {{\n'                            # 6
            f'  inflight = "ten";\n'                 # 7  wrong type
            f'  keep_alive = 30;\n'                  # 8  unknown key
            '};\n'                                   # 9
            f'adapters: {{\n'                        # 10
            f'  replay: {{ file = "x"; speed = 3; }};\n'  # 11 unknown adapter option
            f'}};\n')
rc, out, err = alarmgw("check", "-c", bad_conf)
lines = [l for l in err.splitlines() if l.startswith(bad_conf + ":")]
print(err)
check(rc == 1, f"check exits 1 on a bad config (got {rc})")
want = {3: "log_level", 4: "queue_max", 7: "inflight", 8: "keep_alive", 11: "speed"}
for line, key in want.items():
    check(any(l.startswith(f"{bad_conf}:{line}:") and key in l for l in lines), f"check reports line {line} ({key})")
check(len(lines) == 5, f"exactly the 5 mistakes are reported ({len(lines)})")

good_conf = os.path.join(work, "good.conf")
with open(good_conf, "w") as f:
    f.write(f'gateway: {{ state_dir = "{state}"; }};\ncameras: {{ ledger = "{ledger}"; }};\n')
rc, out, err = alarmgw("check", "-c", good_conf)
check(rc == 0 and "ok" in out, f"check exits 0 on a clean config ({rc}: {err.strip()})")

# A config whose ledger has a bad row: check names the ledger's line.
bad_ledger = os.path.join(work, "bad-ledger.csv")
with open(bad_ledger, "w") as f:
    f.write(open(ledger).read() + "cam-3,Third,X,ftp,10.0.0.3,,,,,,\n")
with open(good_conf, "a") as f:
    f.write("")
ledger_conf = os.path.join(work, "ledger.conf")
with open(ledger_conf, "w") as f:
    f.write(f'gateway: {{ state_dir = "{state}"; }};\ncameras: {{ ledger = "{bad_ledger}"; }};\n')
rc, out, err = alarmgw("check", "-c", ledger_conf)
check(rc == 1 and f"{bad_ledger}:4: camera cam-3: protocol must be one of: " in err,
      "check validates the referenced ledger with its line")

# The files a config names are checked too: a rules file and an ONVIF topic table with a bad line.
rules = os.path.join(work, "rules.conf")
with open(rules, "w") as f:
    f.write('version = 1;\nrules = (\n  { name = "x"; kinds = ["motion"]; action = "explode"; }\n);\n')
topics = os.path.join(work, "topics.conf")
with open(topics, "w") as f:
    f.write("# vendor additions\nVideoAnalytics/hik:Crowd crowd_gathering\n")
refs_conf = os.path.join(work, "refs.conf")
with open(refs_conf, "w") as f:
    f.write(f'gateway: {{ state_dir = "{state}"; }};\nrules: {{ file = "{rules}"; }};\n'
            f'adapters: {{ onvif: {{ topic_table = "{topics}"; }}; }};\n')
rc, out, err = alarmgw("check", "-c", refs_conf)
print(err)
check(rc == 1 and f"{rules}:3:" in err and "action" in err, "check reports the rules file's bad line")
check(f"{topics}:2" in err, "check reports the topic table's bad line")

db = os.path.join(work, "cli.db")
rc, out, err = alarmgw("cameras", "import", "--db", db, ledger)
check(rc == 0 and "imported 2 cameras" in out, f"import of a good ledger ({rc}: {err.strip()})")
rc, out, err = alarmgw("cameras", "import", "--db", db, bad_ledger)
check(rc == 1 and f"{bad_ledger}:4:" in err and "unchanged" in err, "a bad row aborts the import with its line")
rc, out, err = alarmgw("cameras", "list", "--db", db)
check(rc == 0 and "cam-1" in out and "cam-2" in out and "cam-3" not in out, "the ledger is unchanged after the failed import")
check("TopSecret" not in out + err, "list never prints a password")
rc, out, err = alarmgw("cameras", "list", "--db", db, "--json")
check(rc == 0 and '"credentials":true' in out and "TopSecret" not in out, "list --json says credentials are set, not what they are")

rc, out, err = alarmgw("frobnicate")
check(rc == 2 and "unknown command" in err, "an unknown command is a usage error")
for cmd in ("run", "check", "cameras", "version"):
    rc, out, err = alarmgw(cmd, "--help")
    check(rc == 0 and "usage" in out.lower(), f"{cmd} --help")
rc, out, err = alarmgw("version")
check(rc == 0 and out.startswith("alarmgw "), "version prints the version")

# A state folder that does not exist: `run` says so and exits 1, nothing else (the stop sequence
# once flushed a pipeline that was never created: UBSan's null dereference).
nostate = os.path.join(work, "nostate.conf")
with open(nostate, "w") as f:
    f.write(f'gateway: {{ state_dir = "{work}/does-not-exist"; }};\n')
rc, out, err = alarmgw("run", "-c", nostate)
check(rc == 1 and "runtime error" not in err and "Sanitizer" not in err,
      f"run without its state folder: exit 1 with the reason ({rc}: {err.strip().splitlines()[-1:]})")
finish()
