# SPDX-License-Identifier: GPL-2.0-or-later
"""The set-up the feedback tests share: `alarmgw run` (MQTT 5, the replay adapter, a status port)
on a broker, fed one intrusion alert, so that the platform's subscriber sees one case to answer."""
import json
import os
import time

from agwtest import Gateway, free_port
from mqttlab import case_ids


def one_case_gateway(w, broker, sub, mqtt_extra=""):
    """Starts the gateway in w on broker and waits (10 s at most) for its case at sub. Returns
    (gateway, http port, the case ids sub saw): the caller checks there is exactly one."""
    alerts = os.path.join(w, "alerts.jsonl")
    with open(alerts, "w") as f:
        f.write(json.dumps({"camera": "cam-1", "kind": "intrusion", "active": True, "id": "e-1"}) + "\n")
    http = free_port()
    conf = os.path.join(w, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write('gateway: { id = "gw-fb"; state_dir = "%s/state"; log_level = "info"; '
                'http_listen = "127.0.0.1:%d"; };\n' % (w, http))
        f.write('mqtt: { uri = "tcp://127.0.0.1:%d"; version = "5"; reconnect_min = "200ms"; %s };\n'
                % (broker.port, mqtt_extra))
        f.write('adapters: { replay: { file = "%s"; }; };\n' % alerts)
    gw = Gateway(conf).start()
    gw.wait_log(r"\[mqtt\] connected to", timeout=20)
    end = time.time() + 10
    while time.time() < end and not case_ids(sub.lines()):
        time.sleep(0.1)
    return gw, http, case_ids(sub.lines())
