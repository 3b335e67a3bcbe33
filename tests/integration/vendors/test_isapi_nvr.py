# SPDX-License-Identifier: GPL-2.0-or-later
"""An NVR behind the ISAPI adapter, end to end in the daemon: the ledger names the NVR and two of its
channels; the NVR's one alertStream carries events of channels 1, 2 and 7. Each is journaled on the
camera of its channel; channel 7, which no row names, stays on the NVR with its channel, counted in
the metrics and listed on the status page. `alarmgw check` refuses a channel row whose device is no
row, with file:line."""
import json
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from agwtest import Gateway, alarmgw, check, finish, free_port, sql, tempdir, wait_for

work = tempdir()
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
connections = []


def doc(event_type, state_, channel):
    return ('<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">'
            f'<ipAddress>127.0.0.1</ipAddress><channelID>{channel}</channelID>'
            f'<dateTime>2026-12-03T10:00:00+08:00</dateTime><activePostCount>1</activePostCount>'
            f'<eventType>{event_type}</eventType><eventState>{state_}</eventState>'
            '<eventDescription>test</eventDescription></EventNotificationAlert>')


def part(body):
    data = body.encode()
    return (b"--boundary\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\n"
            + f"Content-Length: {len(data)}\r\n\r\n".encode() + data + b"\r\n")


class Nvr(BaseHTTPRequestHandler):
    """An NVR's alertStream: three events, then a heartbeat a second until the gateway leaves."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        connections.append(self.path)
        if self.path != "/ISAPI/Event/notification/alertStream":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "multipart/mixed; boundary=boundary")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            if len(connections) == 1:
                for ch, kind in ((1, "VMD"), (2, "linedetection"), (7, "VMD")):
                    self.wfile.write(part(doc(kind, "active", ch)))
                self.wfile.flush()
            for _ in range(60):
                self.wfile.write(part(doc("videoloss", "inactive", 1)))
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass

    def log_message(self, *args):
        pass


nvr_port = free_port()
server = ThreadingHTTPServer(("127.0.0.1", nvr_port), Nvr)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()

ledger = os.path.join(work, "ledger.csv")
with open(ledger, "w") as f:
    f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags,device,channel\n"
            f"nvr-1,Depot NVR,Hikvision,isapi,127.0.0.1:{nvr_port},,,,,,,,\n"
            "gate,Depot gate,Hikvision,isapi,,,,108.9402,34.2611,gcj02,gate,nvr-1,1\n"
            "yard,Depot yard,Hikvision,isapi,,,,108.9405,34.2609,gcj02,,nvr-1,2\n")

http_port = free_port()
conf = os.path.join(work, "alarmgw.conf")
with open(conf, "w") as f:
    f.write(f'gateway: {{ id = "it-nvr"; state_dir = "{state}"; log_level = "info"; '
            f'http_listen = "127.0.0.1:{http_port}"; }};\n'
            f'cameras: {{ ledger = "{ledger}"; }};\n'
            f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
            'adapters: { isapi: { heartbeat_timeout = "5s"; coalesce = "0s"; }; };\n')

gw = Gateway(conf).start()
gw.wait_log(r"running: gateway it-nvr")
rows = lambda: sql(db, "SELECT camera_id, topic, json FROM alerts WHERE adapter='isapi' AND topic != 'videoloss' "
                       "ORDER BY seq")
wait_for(lambda: len(rows()) >= 3, "the NVR's three events journaled", timeout=30)
got = [(cam, topic, json.loads(js).get("source", {}).get("channel")) for cam, topic, js in rows()]
check(got[:3] == [("gate", "VMD", "1"), ("yard", "linedetection", "2"), ("nvr-1", "VMD", "7")],
      f"each event on the camera of its channel, channel 7 on the NVR with its channel: {got}")
streams = [p for p in connections if p == "/ISAPI/Event/notification/alertStream"]
check(len(streams) == 1, f"one alertStream connection for the NVR and its channels ({connections})")
# Each case's evidence picture is asked of the NVR for the channel of its alert (this NVR answers
# 404: the entries fail with that reason); channel 7 has no ledger row and still gets its own.
pictures = lambda: sorted(p for p in connections if p.endswith("/picture"))
wait_for(lambda: len(pictures()) >= 3, "the cases' pictures asked of the NVR", timeout=30)
check(pictures() == ["/ISAPI/Streaming/channels/101/picture", "/ISAPI/Streaming/channels/201/picture",
                     "/ISAPI/Streaming/channels/701/picture"], f"one picture per case, of its channel: {pictures()}")

metrics = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10).read().decode()
line = next((l for l in metrics.splitlines() if l.startswith("agw_unrouted_channel_alerts_total{")), "")
check('device="nvr-1"' in line and 'channel="7"' in line and line.endswith(" 1"),
      f"the channel no ledger row names is counted: {line!r}")
page = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/table", timeout=10).read().decode()
check('id="unrouted"' in page and "<td>nvr-1</td><td>7</td><td>1</td>" in page,
      "the status page lists the channel that is not in the ledger")
code, _ = gw.stop()
check(code == 0, f"SIGTERM: exit 0 ({code})")
server.shutdown()

# The same rules at `alarmgw check` / import time: a channel row whose device is no row.
bad = os.path.join(work, "bad.csv")
with open(bad, "w") as f:
    f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags,device,channel\n"
            "nvr-1,NVR,Hikvision,isapi,10.0.0.7,,,,,,,,\n"
            "gate,Gate,Hikvision,isapi,,,,,,,,nvr-9,1\n")
rc, out, err = alarmgw("cameras", "import", "--db", os.path.join(work, "check.db"), bad)
check(rc != 0 and f"{bad}:3: camera gate: device nvr-9 is not a row of the ledger" in err,
      f"a channel row naming no device row is refused with file:line (rc {rc}): {err.strip()}")
finish()
