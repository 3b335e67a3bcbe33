#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Another process holds the database's write lock (BEGIN IMMEDIATE) for several seconds while
alerts flow (issue 11, item 3). The loop must not wait for it: /healthz keeps answering fast, the
systemd watchdog keeps being pinged (a fake NOTIFY_SOCKET), sd_notify STATUS, /api/status and the
metrics say that journal writes are failing, the replay adapter is held back (back-pressure) and
resumed, and once the lock is gone every alert is journaled exactly once: nothing lost."""
import json
import os
import socket
import sqlite3
import threading
import time

import test_ops_http as ops
from agwtest import Gateway, check, finish, free_port, sql, tempdir, wait_for

ALERTS = 4000
RATE = 800           # alerts per second from the replay adapter: the run lasts ~5 s
LOCK_S = 5.0         # how long the foreign process holds the write lock
HEALTHZ_MAX_S = 0.25  # the loop answers while the lock is held (a blocked loop takes seconds)

work = tempdir("agw-lock-")
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
alerts = os.path.join(work, "alerts.jsonl")
with open(alerts, "w") as f:
    for i in range(ALERTS):
        f.write(json.dumps({"camera": f"cam-{i % 50}", "kind": "motion", "active": i % 2 == 0,
                            "operation": "Changed", "id": f"ev-{i}"}) + "\n")
port = free_port()
conf = os.path.join(work, "alarmgw.conf")
with open(conf, "w") as f:
    f.write(f'gateway: {{ id = "gw-lock"; state_dir = "{state}"; log_level = "info"; queue_max = 200;\n'
            f'  http_listen = "127.0.0.1:{port}"; }};\n'
            f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
            f'adapters: {{ replay: {{ file = "{alerts}"; rate = {RATE}.0; }}; }};\n')


class Notify(threading.Thread):
    """The NOTIFY_SOCKET systemd would read: every datagram with its arrival time."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def run(self):
        while True:
            try:
                msg = self.sock.recv(4096).decode()
            except OSError:
                return
            self.messages.append((time.monotonic(), msg))

    def between(self, t0, t1, pred):
        return [m for t, m in list(self.messages) if t0 <= t <= t1 and pred(m)]


notify = Notify(os.path.join(work, "notify.sock"))
notify.start()
env = dict(os.environ, NOTIFY_SOCKET=os.path.join(work, "notify.sock"), WATCHDOG_USEC="1000000")
env.pop("WATCHDOG_PID", None)
gw = Gateway(conf, env=env).start()
gw.wait_log(r"running: gateway gw-lock")
journaled = lambda: sql(db, "SELECT count(*) FROM alerts")[0][0]
wait_for(lambda: journaled() > 200, "the first alerts journaled")

# The foreign writer: BEGIN IMMEDIATE takes the write lock and keeps it.
lock = sqlite3.connect(db, isolation_level=None, timeout=10)
lock.execute("BEGIN IMMEDIATE")
t_lock = time.monotonic()
before = journaled_at_lock = sql(db, "SELECT count(*) FROM alerts")[0][0]  # readers still read (WAL)
worst, answers, failing_seen = 0.0, 0, False
while time.monotonic() - t_lock < LOCK_S:
    t = time.monotonic()
    code, _, body = ops.get(port, "/healthz")
    worst = max(worst, time.monotonic() - t)
    answers += 1
    if time.monotonic() - t_lock > 2.0 and not failing_seen:
        code2, _, st = ops.get(port, "/api/status")
        failing_seen = code2 == 200 and json.loads(st).get("store", {}).get("journal_writes") == "failing"
    time.sleep(0.1)
t_unlock = time.monotonic()
during = sql(db, "SELECT count(*) FROM alerts")[0][0]
_, _, metrics = ops.get(port, "/metrics")
values, _ = ops.parse_metrics(metrics.decode())
lock.execute("ROLLBACK")
lock.close()

print(f"/healthz while locked: {answers} answers, slowest {worst * 1000:.0f} ms")
check(worst < HEALTHZ_MAX_S, f"/healthz answers within {HEALTHZ_MAX_S * 1000:.0f} ms while another process holds "
      f"the write lock (slowest {worst * 1000:.0f} ms)")
check(during == journaled_at_lock, f"nothing was written while the lock was held ({journaled_at_lock} -> {during})")
pings = notify.between(t_lock + 0.5, t_unlock, lambda m: m == "WATCHDOG=1")
check(len(pings) >= int(LOCK_S) - 2, f"the watchdog is pinged while the store fails ({len(pings)} pings "
      f"in {LOCK_S:.0f} s)")
degraded = notify.between(t_lock, t_unlock, lambda m: "journal writes failing" in m)
check(bool(degraded), f"sd_notify STATUS says journal writes are failing ({degraded[-1:]})")
check(failing_seen, "/api/status says journal writes are failing")
check(values.get("agw_store_failing") == 1, f"metric agw_store_failing 1 ({values.get('agw_store_failing')})")
refused = sum(v for k, v in values.items() if k.startswith("agw_alerts_refused_total"))
check(refused > 0, f"the adapter was held back while the store failed (refused {refused})")

# After the lock: every alert journaled exactly once, the health back to ok.
wait_for(lambda: journaled() >= ALERTS, f"{ALERTS} alerts journaled after the lock", timeout=60)
time.sleep(0.5)
n, distinct = sql(db, "SELECT count(*), count(DISTINCT event_id) FROM alerts")[0]
check(n == ALERTS and distinct == ALERTS, f"every alert journaled exactly once ({n} rows, {distinct} ids, "
      f"{ALERTS} sent)")
undecided = sql(db, "SELECT count(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM decisions d "
                    "WHERE d.alert_seq = a.seq)")[0][0]
check(undecided == 0, f"every journaled alert has its decision ({undecided} without)")
code, _, _ = ops.get(port, "/healthz")
check(code == 200, "/healthz 200 again")
wait_for(lambda: any("running:" in m for t, m in notify.messages if t > t_unlock), "STATUS=running again", timeout=5)
check(gw.proc.poll() is None, "the gateway kept running")
code, secs = gw.stop()
check(code == 0, f"exit 0 after SIGTERM ({code}, {secs:.1f} s)")
finish()
