# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon with the replay adapter: every good alert is journaled, bad lines are counted and
skipped, SIGHUP with a broken config is refused while the gateway keeps working, SIGHUP with a
good one applies it, SIGTERM exits 0 within 5 s with nothing lost."""
import json
import os
import signal
import urllib.request

from agwtest import Gateway, check, finish, free_port, sql, tempdir, wait_for

work = tempdir()
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")


def write_alerts(path, n, prefix, bad_every=0):
    good = 0
    with open(path, "w") as f:
        for i in range(n):
            if bad_every and i % bad_every == bad_every - 1:
                f.write('{"camera": "cam-1", "kind": "earthquake"}\n')  # not a kind: skipped, counted
                continue
            # every tenth is the state a camera reports on subscription: journaled, never a case
            op = "Initialized" if i % 10 == 0 else "Changed"
            f.write(json.dumps({"camera": f"cam-{i % 7}", "kind": "motion", "active": True, "operation": op,
                                "camera_time": "2026-11-22T08:00:00Z", "id": f"{prefix}-{i}"}) + "\n")
            good += 1
    return good


http_port = free_port()


def write_config(path, replay_file, extra=""):
    with open(path, "w") as f:
        f.write(f'gateway: {{ id = "it-gw"; state_dir = "{state}"; log_level = "info"; '
                f'http_listen = "127.0.0.1:{http_port}"; }};\n'
                f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
                f'adapters: {{ replay: {{ file = "{replay_file}"; }}; }};\n{extra}')


first = os.path.join(work, "first.jsonl")
good_first = write_alerts(first, 3000, "a", bad_every=100)
conf = os.path.join(work, "alarmgw.conf")
write_config(conf, first)

gw = Gateway(conf).start()
gw.wait_log(r"running: gateway it-gw")
journaled = lambda prefix: sql(db, "SELECT count(*) FROM alerts WHERE event_id LIKE ?", (prefix + "-%",))[0][0]
wait_for(lambda: journaled("a") == good_first, f"{good_first} alerts journaled", timeout=60)
check(journaled("a") == good_first, f"all {good_first} good alerts of the first file journaled")
bad = [l for l in gw.log() if "line skipped" in l]
check(len(bad) == 30, f"30 bad lines logged ({len(bad)})")
check(any(f"{first}:100: " in l and "kind" in l for l in bad), "a bad line is reported as file:line with the reason")
row = sql(db, "SELECT camera_id, kind, active, adapter, camera_time FROM alerts WHERE event_id='a-0'")[0]
check(row[:4] == ("cam-0", "motion", 1, "replay"), f"journal row holds the alert's fields {row}")

# The counters an operator reads: alerts by kind, drops by reason.
metrics = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10).read().decode()
kind_line = next((l for l in metrics.splitlines() if l.startswith('agw_alerts_total{kind="motion"}')), "")
check(kind_line.endswith(f" {good_first}"), f"metrics count the alerts by kind: {kind_line!r}")
initialized = sql(db, "SELECT count(*) FROM alerts WHERE operation='Initialized' AND event_id LIKE 'a-%'")[0][0]
drop_line = next((l for l in metrics.splitlines()
                  if l.startswith('agw_decisions_total{action="drop",reason="initialized"}')), "")
check(initialized > 0 and drop_line.endswith(f" {initialized}"),
      f"metrics count the {initialized} Initialized drops by reason: {drop_line!r}")
opened = sql(db, "SELECT count(*) FROM decisions d JOIN alerts a ON a.seq = d.alert_seq "
                 "WHERE a.operation='Initialized' AND d.action != 'drop'")[0][0]
check(opened == 0, "no Initialized alert opened or updated a case")

# A broken config on SIGHUP: refused with its error, the old one keeps running.
with open(conf, "w") as f:
    f.write('gateway: { id = "it-gw"; queue_max = "lots"; };\n')
gw.signal(signal.SIGHUP)
gw.wait_log(r"reload refused")
check(any("queue_max" in l and f"{conf}:1:" in l for l in gw.log()), "the refused reload names file:line and key")
check(gw.proc.poll() is None, "the gateway is still running after a refused reload")

# A good config naming another file: the replay adapter restarts on it.
second = os.path.join(work, "second.jsonl")
good_second = write_alerts(second, 500, "b")
write_config(conf, second)
gw.signal(signal.SIGHUP)
gw.wait_log(r"reload done")
wait_for(lambda: journaled("b") == good_second, "second file journaled", timeout=30)
check(journaled("b") == good_second, f"after reload the {good_second} alerts of the new file are journaled")

code, took = gw.stop()
check(code == 0, f"SIGTERM exits 0 (got {code})")
check(took < 5.0, f"SIGTERM stop took {took:.2f}s (< 5 s)")
check(any("stopped:" in l for l in gw.log()), "the stop is logged")
check(journaled("a") == good_first and journaled("b") == good_second, "nothing lost across reload and stop")

# Restart on the same database: the journal is still there and grows.
gw = Gateway(conf).start()
gw.wait_log(r"running: gateway")
wait_for(lambda: journaled("b") == 2 * good_second, "replayed again after restart", timeout=30)
code, took = gw.stop()
check(code == 0 and took < 5.0, f"second stop exits 0 in {took:.2f}s")
finish()
