# SPDX-License-Identifier: GPL-2.0-or-later
"""Interop with an independent SIP stack: Debian's baresip (libre's SIP, Digest and transactions,
none of the project's code) registers to the gb28181 adapter as a GB/T 28181 device and sends a
MESSAGE, driven over baresip's ctrl_tcp module.

What it proves: baresip's REGISTER is challenged (401), its Digest answer is accepted with the
device's password from the ledger (200 with Expires; baresip reports the registration OK), a second
baresip as a device with no password here is refused (403), its MESSAGE is
answered 200 and counts as a sign of life, and its unregistration at quit (REGISTER Expires: 0,
challenged and authenticated again) makes the device's ledger camera camera_offline.
What it does not: baresip sends MESSAGE bodies as text/plain, so it cannot send MANSCDP (the
gateway reads only MANSCDP+xml and xml bodies): alarms, keepalives and catalogs are covered by
test_gb28181_sip (a device written in Python) and test_gb28181_catalog (gbsim)."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys

from agwtest import Gateway, check, finish, free_port, spawn, sql, tempdir, wait_for

if not shutil.which("baresip"):
    print("SKIP: baresip is not installed (Debian package baresip-core, see scripts/install-deps)")
    sys.exit(77)

SERVER = "34020000002000000001"
DEVICE = "34020000001320000009"
OTHER = "34020000001320000010"
work = tempdir()
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
ledger = os.path.join(work, "ledger.csv")
with open(ledger, "w") as f:
    f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n"
            f"cam-9,Gate,baresip,gb28181,{DEVICE},{DEVICE},dev-secret-9,108.93,34.25,wgs84,\n")
port = free_port()
conf = os.path.join(work, "alarmgw.conf")
with open(conf, "w") as f:
    f.write(f'gateway: {{ id = "it-gw"; state_dir = "{state}"; log_level = "info"; }};\n'
            f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
            f'cameras: {{ ledger = "{ledger}"; }};\n'
            f'adapters: {{ gb28181: {{ listen = "127.0.0.1:{port}"; sip_id = "{SERVER}"; catalog_interval = "0"; }}; }};\n')
gw = Gateway(conf).start()
gw.wait_log(r"SIP server .* listening on udp")


def start_baresip(name, device, password):
    """A baresip with one account, its SIP on a loopback port, ctrl_tcp on another. baresip binds
    UDP, TCP and TLS without SO_REUSEADDR on ports chosen here: on a machine whose other tests hold
    tens of thousands of loopback connections a chosen port can be taken meanwhile, so a start
    that fails with "Address already in use" is tried again on new ports (at most 5 times)."""
    for attempt in range(5):
        cfg = os.path.join(work, f"{name}-{attempt}")
        os.makedirs(cfg)
        sip = free_port()
        ctrl = free_port()
        while ctrl in (sip, sip + 1):
            ctrl = free_port()
        with open(os.path.join(cfg, "config"), "w") as f:
            f.write(f"poll_method epoll\nsip_listen 127.0.0.1:{sip}\nmodule_path /usr/lib/baresip/modules\n"
                    "module_app account.so\nmodule_app contact.so\nmodule_app menu.so\nmodule ctrl_tcp.so\n"
                    f"ctrl_tcp_listen 127.0.0.1:{ctrl}\naudio_player aufile,/dev/null\naudio_source aufile,/dev/null\n")
        with open(os.path.join(cfg, "accounts"), "w") as f:
            f.write(f'<sip:{device}@3402000000>;auth_pass={password};outbound="sip:127.0.0.1:{port};transport=udp";'
                    "regint=3600\n")
        with open(os.path.join(cfg, "contacts"), "w") as f:
            f.write(f'"gateway" <sip:{SERVER}@3402000000>\n')
        trace = cfg + ".log"
        p = spawn(["baresip", "-f", cfg, "-s"], stdout=open(trace, "w"), stderr=subprocess.STDOUT)
        sock = wait_for(lambda: _connect(ctrl) or (p.poll() is not None and "exited"), f"{name}'s ctrl_tcp",
                        timeout=20)
        if sock != "exited":
            return p, sock, trace
        print(f"{name}: baresip exited ({trace_of(trace).strip().splitlines()[-2:]}); again on other ports")
    raise RuntimeError(f"{name}: baresip did not start in 5 attempts")


def _connect(ctrl):
    try:
        return socket.create_connection(("127.0.0.1", ctrl), 0.5)
    except OSError:
        return None


def command(sock, cmd, params=""):
    """One ctrl_tcp command (a netstring of JSON); returns its answer's data. Events baresip sends
    meanwhile (registration and message events, netstrings without "response") are skipped."""
    j = json.dumps({"command": cmd, "params": params, "token": "it"}).encode()
    sock.sendall(str(len(j)).encode() + b":" + j + b",")
    sock.settimeout(5)
    buf = b""
    while True:
        m = re.match(rb"^(\d+):", buf)
        if m and len(buf) >= m.end() + int(m.group(1)) + 1:
            end = m.end() + int(m.group(1))
            obj, buf = json.loads(buf[m.end():end]), buf[end + 1:]
            if obj.get("response"):
                return obj.get("data", "")
            continue
        buf += sock.recv(65536)


def trace_of(path):
    with open(path, errors="replace") as f:
        return f.read()


ua, sock, trace = start_baresip("ua-good", DEVICE, "dev-secret-9")
gw.wait_log(rf"\[gb28181:{DEVICE}\] registered")
info = wait_for(lambda: (lambda d: d if "OK" in d else None)(command(sock, "reginfo")), "baresip reports OK")
check(re.search(r"OK.*Expires 3600s", info) is not None, f"baresip says it is registered: {info.strip()!r}")
t = trace_of(trace)
check(re.search(r"SIP/2.0 401 Unauthorized.*Digest realm=\"3402000000\"", t, re.S) and
      re.search(r"Authorization: Digest username=\"%s\", realm=\"3402000000\"" % DEVICE, t),
      "its first REGISTER is challenged and it answers with Digest")
check(t.count("SIP/2.0 200 OK") >= 1, "its authenticated REGISTER is answered 200")

# a device the gateway has no password for
ua2, sock2, trace2 = start_baresip("ua-wrong", OTHER, "not-the-password")
gw.wait_log(rf"\[gb28181:{OTHER}\] REGISTER refused: no password for this device")
check("SIP/2.0 403 Forbidden" in wait_for(lambda: (lambda x: x if "403" in x else None)(trace_of(trace2)), "403"),
      "a device without a password here is refused 403")
command(sock2, "quit")
ua2.wait(timeout=10)

# a MESSAGE (text/plain: baresip cannot send MANSCDP) is answered 200
before = t.count("SIP/2.0 200 OK")
command(sock, "message", "<Notify><CmdType>Keepalive</CmdType><SN>1</SN><DeviceID>%s</DeviceID></Notify>" % DEVICE)
wait_for(lambda: re.search(r"MESSAGE sip:%s@3402000000 SIP/2.0.*?SIP/2.0 200 OK" % SERVER, trace_of(trace), re.S),
         "the MESSAGE answered 200")
check(trace_of(trace).count("SIP/2.0 200 OK") == before + 1, "the MESSAGE is answered 200 once")

# quit: baresip unregisters (Expires: 0), and the device's camera goes offline
command(sock, "quit")
ua.wait(timeout=15)
gw.wait_log(rf"\[gb28181:{DEVICE}\] unregistered")
rows = wait_for(lambda: sql(db, "SELECT camera_id, kind, active FROM alerts WHERE kind='camera_offline'") or None,
                "camera_offline journaled")
check(rows == [("cam-9", "camera_offline", 1)], f"its ledger camera is camera_offline: {rows}")
code, secs = gw.stop()
check(code == 0, f"SIGTERM: exit {code} in {secs:.1f} s")
finish()
