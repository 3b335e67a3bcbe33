# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon's status server off loopback: without gateway.http_token_file and gateway.http_hosts
`alarmgw run` refuses to start; with them, /api/status needs the bearer token and a configured
Host name, /healthz needs neither token nor more than a configured name, and the token file is
read relative to the config file."""
import os
import subprocess
import urllib.error
import urllib.request

from agwtest import ALARMGW, Gateway, check, finish, free_port, tempdir

work = tempdir()
state = os.path.join(work, "state")
os.makedirs(state)
replay = os.path.join(work, "alerts.jsonl")
with open(replay, "w") as f:
    f.write('{"camera": "cam-1", "kind": "motion", "active": true}\n')
port = free_port()
token = "9c1d5e7f3a2b4c6d8e0f1a3b5c7d9e1f"
with open(os.path.join(work, "http.token"), "w") as f:
    f.write(token + "\n")
os.chmod(os.path.join(work, "http.token"), 0o640)


def write_config(extra):
    path = os.path.join(work, "alarmgw.conf")
    with open(path, "w") as f:
        f.write(f'gateway: {{ id = "it-gw"; state_dir = "{state}"; http_listen = "0.0.0.0:{port}"; {extra} }};\n'
                f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
                f'adapters: {{ replay: {{ file = "{replay}"; }}; }};\n')
    return path


conf = write_config("")
p = subprocess.run([ALARMGW, "run", "-c", conf], capture_output=True, text=True, timeout=60)
check(p.returncode != 0 and "http_token_file" in p.stderr, f"0.0.0.0 without a token: refused (rc {p.returncode})")

conf = write_config('http_token_file = "http.token"; http_hosts = "127.0.0.1, gw.example";')
gw = Gateway(conf).start()
try:
    gw.wait_log(r"running: gateway it-gw")
    url = f"http://127.0.0.1:{port}/api/status"

    def get(headers):
        req = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    check(get({}) == 401, "/api/status without the token -> 401")
    check(get({"Authorization": "Bearer " + token}) == 200, "/api/status with the token -> 200")
    check(get({"Authorization": "Bearer " + token, "Host": f"rebound.example:{port}"}) == 421,
          "a Host that is not configured -> 421")
    check(get({"Authorization": "Bearer " + token, "Host": "gw.example:443"}) == 200, "a configured name -> 200")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
        check(r.status == 200, "/healthz without a token -> 200")
    check(not any(token in line for line in gw.log()), "the token never appears in the log")
finally:
    code, _ = gw.stop()
check(code == 0, f"stops cleanly (rc {code})")
finish()
