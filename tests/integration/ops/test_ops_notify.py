#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon as systemd runs it (Type=notify, WatchdogSec, ExecReload=kill -HUP), without systemd:
a datagram socket stands in for NOTIFY_SOCKET and WATCHDOG_USEC is set as systemd would.
Checks READY=1, watchdog pings, RELOADING=1 then READY=1 on SIGHUP with a good and with a bad
configuration (refused, the process keeps running and keeps pinging), /healthz, /metrics and
/api/status served by the daemon itself, and STOPPING=1 and exit 0 on SIGTERM."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import shutil

import test_ops_http as ops
from agwtest import ALARMGW, free_port
from test_ops_http import check, run_main


CONFIG = """
gateway = {{
  id = "gw-ops";
  state_dir = "{state}";
  log_level = "{level}";
  http_listen = "127.0.0.1:{port}";{extra}
}};
mqtt = {{
  uri = "tcp://127.0.0.1:{mqtt}";
}};
"""


class Notify:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def wait(self, pred, what, timeout=10.0):
        """Reads notifications until one satisfies pred; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            self.messages.append(msg)
            if pred(msg):
                return msg
        check(False, f"{what} (got {self.messages[-5:]})")


def main():
    check(os.access(ALARMGW, os.X_OK), f"{ALARMGW} is built (build the target alarmgw first)")
    tmp = tempfile.mkdtemp(prefix="agw-ops-notify-")
    port = free_port()
    cfg = os.path.join(tmp, "alarmgw.conf")

    def write_config(level="info", extra=""):
        with open(cfg, "w") as f:
            f.write(CONFIG.format(state=tmp, level=level, port=port, mqtt=free_port(), extra=extra))

    write_config()
    notify = Notify(os.path.join(tmp, "notify.sock"))
    env = dict(os.environ, NOTIFY_SOCKET=notify.sock.getsockname(), WATCHDOG_USEC="2000000")
    env.pop("WATCHDOG_PID", None)
    log = open(os.path.join(tmp, "stderr.log"), "w+")
    proc = subprocess.Popen([ALARMGW, "run", "-c", cfg], stdout=subprocess.DEVNULL, stderr=log, env=env)
    try:
        notify.wait(lambda m: "READY=1" in m, "READY=1 after start")
        t = time.monotonic()
        notify.wait(lambda m: m == "WATCHDOG=1", "a watchdog ping")
        notify.wait(lambda m: m == "WATCHDOG=1", "a second watchdog ping", timeout=3)
        print(f"two pings within {time.monotonic() - t:.1f} s (WATCHDOG_USEC=2 s: every 1 s expected)")

        try:
            code, _, body = ops.get(port, "/healthz")
        except ConnectionRefusedError:
            check(False, f"the daemon listens on http_listen 127.0.0.1:{port} (is agw_http_start wired in daemon.c?)")
        check(code == 200 and body == b"ok\n", f"the daemon serves /healthz 200 (got {code})")
        code, _, body = ops.get(port, "/api/status")
        check(code == 200 and json.loads(body)["schema_version"] >= 1, "the daemon serves /api/status")

        write_config(level="debug")
        proc.send_signal(signal.SIGHUP)
        notify.wait(lambda m: "RELOADING=1" in m, "RELOADING=1 on SIGHUP")
        msg = notify.wait(lambda m: "READY=1" in m, "READY=1 after the reload")
        check("refused" not in msg, f"good configuration applied ({msg!r})")

        write_config(level="debug", extra='\n  no_such_key = 1;\n  queue_max = "many";')
        proc.send_signal(signal.SIGHUP)
        notify.wait(lambda m: "RELOADING=1" in m, "RELOADING=1 on the second SIGHUP")
        msg = notify.wait(lambda m: "READY=1" in m, "READY=1 after the refused reload")
        check("refused" in msg, f"bad configuration refused ({msg!r})")
        check(proc.poll() is None, "the daemon keeps running after a refused reload")
        notify.wait(lambda m: m == "WATCHDOG=1", "watchdog pings continue after the refused reload", timeout=3)
        log.flush()
        log.seek(0)
        text = log.read()
        check("no_such_key" in text and "queue_max" in text, "every error of the bad configuration is logged")

        code, _, body = ops.get(port, "/metrics")
        values, _ = ops.parse_metrics(body.decode())
        check(values.get('agw_reloads_total{result="applied"}') == 1, "agw_reloads_total{result=applied} 1")
        check(values.get('agw_reloads_total{result="refused"}') == 1, "agw_reloads_total{result=refused} 1")
        check('agw_cameras{state="unknown"}' in values, "store gauges served by the daemon")

        proc.send_signal(signal.SIGTERM)
        notify.wait(lambda m: "STOPPING=1" in m, "STOPPING=1 on SIGTERM")
        rc = proc.wait(timeout=15)
        check(rc == 0, f"exit 0 after SIGTERM (got {rc})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        tail = log.read()[-3000:]
        log.close()
        if proc.returncode not in (0, None):
            print(tail)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
