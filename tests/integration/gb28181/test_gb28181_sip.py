# SPDX-License-Identifier: GPL-2.0-or-later
"""The gb28181 adapter's SIP server in the daemon, driven over UDP by a device written here (not the
project's code): REGISTER is challenged (401) and accepted with Digest (200, Expires, Date), a wrong
password is refused (403), keepalives are answered, a device that never registered is refused, a
broken body gets 400 with the reason, and an alarm is answered 200 only once it is journaled, once,
however often it is retransmitted or repeated with its SN, and followed by the Alarm Response. Skipped (77) while the registry does not
name the adapter."""
import hashlib
import os
import re
import socket
import sys

from agwtest import Gateway, alarmgw, check, finish, free_port, sql, tempdir, wait_for

# The adapter is part of every build: a registry without it is a failure, never a skip.
rc, out, _ = alarmgw("run", "--help")
if not re.search(r"^  gb28181\s", out, re.M):
    print("FAIL: `alarmgw run --help` does not list the gb28181 adapter")
    sys.exit(1)

SERVER = "34020000002000000001"
NVR = "34020000001180000001"
CHANNEL = "34020000001310000001"
work = tempdir()
state = os.path.join(work, "state")
os.makedirs(state)
db = os.path.join(state, "alarmgw.db")
ledger = os.path.join(work, "ledger.csv")
with open(ledger, "w") as f:
    f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n"
            f"cam-107,East gate,dahua,gb28181,{CHANNEL},,,116.39,39.90,wgs84,gate\n")
port = free_port()
conf = os.path.join(work, "alarmgw.conf")
with open(conf, "w") as f:
    f.write(f'gateway: {{ id = "it-gw"; state_dir = "{state}"; log_level = "info"; }};\n'
            f'mqtt: {{ uri = "tcp://127.0.0.1:1"; }};\n'
            f'cameras: {{ ledger = "{ledger}"; }};\n'
            f'adapters: {{ gb28181: {{ listen = "127.0.0.1:{port}"; sip_id = "{SERVER}"; password = "12345678"; }}; }};\n')

gw = Gateway(conf).start()
gw.wait_log(r"SIP server .* listening on udp")

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
sock.settimeout(3)
me = sock.getsockname()[1]
seq = [0]


def send(text):
    sock.sendto(text if isinstance(text, bytes) else text.encode(), ("127.0.0.1", port))


requests = []  # what the gateway sent us (the Alarm Response MESSAGE)


def recv(timeout=3):
    """The next answer; requests from the gateway are kept in `requests`."""
    sock.settimeout(timeout)
    while True:
        try:
            text = sock.recv(70000).decode("utf-8", "replace")
        except socket.timeout:
            return ""
        if text.startswith("SIP/2.0 "):
            return text
        requests.append(text)


def register(auth="", expires=3600):
    seq[0] += 1
    return (f"REGISTER sip:{SERVER}@3402000000 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{me};rport;branch=z9hG4bKreg{seq[0]}\r\n"
            f"From: <sip:{NVR}@3402000000>;tag=1\r\nTo: <sip:{NVR}@3402000000>\r\n"
            f"Call-ID: reg@it\r\nCSeq: {seq[0]} REGISTER\r\nContact: <sip:{NVR}@127.0.0.1:{me}>\r\n"
            f"{auth}Max-Forwards: 70\r\nUser-Agent: it-device\r\nExpires: {expires}\r\nContent-Length: 0\r\n\r\n")


def digest(nonce, password):
    uri = f"sip:{SERVER}@3402000000"
    h = lambda s: hashlib.md5(s.encode()).hexdigest()
    resp = h(f"{h(f'{NVR}:3402000000:{password}')}:{nonce}:{h(f'REGISTER:{uri}')}")
    return (f'Authorization: Digest username="{NVR}", realm="3402000000", nonce="{nonce}", uri="{uri}", '
            f'response="{resp}", algorithm=MD5\r\n')


def message(branch, body, sender=NVR):
    body = body if isinstance(body, bytes) else body.encode()
    head = (f"MESSAGE sip:{SERVER}@3402000000 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{me};rport;branch=z9hG4bK{branch}\r\n"
            f"From: <sip:{sender}@3402000000>;tag=2\r\nTo: <sip:{SERVER}@3402000000>\r\n"
            f"Call-ID: {branch}@it\r\nCSeq: 20 MESSAGE\r\nContent-Type: Application/MANSCDP+xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


keepalive = f"<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>1</SN>\r\n<DeviceID>{NVR}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n"

send(message("early", keepalive))
check(recv().startswith("SIP/2.0 403"), "a device that has not registered is refused (403)")

send(register())
r = recv()
m = re.search(r'nonce="([0-9a-f]+)"', r)
check(r.startswith("SIP/2.0 401") and 'realm="3402000000"' in r and m, "REGISTER without credentials: 401 with a Digest challenge")
nonce = m.group(1) if m else ""
send(register(digest(nonce, "wrong")))
check(recv().startswith("SIP/2.0 403"), "a wrong password: 403")
send(register(digest(nonce, "12345678")))
r = recv()
check(r.startswith("SIP/2.0 200") and "Expires: 3600" in r and "Date: " in r, "the right password: 200 with Expires and Date")

send(message("ka1", keepalive))
check(recv().startswith("SIP/2.0 200"), "a keepalive: 200")

send(message("bad1", "<Notify><CmdType>Alarm</CmdType><SN>1</Sn></Notify>"))
r = recv()
check(r.startswith("SIP/2.0 400") and "Opening and ending tag mismatch" in r, "a broken body: 400 with the reason")

with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "fixtures", "gb28181", "dahua-nvr-alarm.xml"), "rb") as f:
    alarm = f.read()  # GB2312, standalone="yes", channel CHANNEL
send(message("al1", alarm))
r = recv(5)

def says_no_durable():
    try:
        return gw.wait_log(r"offers no emit_durable", timeout=3)
    except TimeoutError:
        return None


if r.startswith("SIP/2.0 500") and says_no_durable():
    print("SKIP  the core offers no emit_durable yet: alarms are not acknowledged after commit")
else:
    check(r.startswith("SIP/2.0 200"), f"the alarm is answered 200 ({r[:20]!r})")
    rows = sql(db, "SELECT camera_id, adapter, kind, topic, event_id FROM alerts WHERE adapter='gb28181'")
    check(rows == [("cam-107", "gb28181", "motion", "5/2", "9")], f"journaled once, before the answer: {rows}")
    send(message("al1", alarm))
    check(recv() == r, "a retransmission gets the same answer")
    send(message("al2", alarm))
    check(recv().startswith("SIP/2.0 200"), "the same SN in a new transaction is answered")
    rows = sql(db, "SELECT count(*) FROM alerts WHERE adapter='gb28181'")
    check(rows == [(1,)], f"and not journaled again: {rows}")
    recv(1)
    check(any("<CmdType>Alarm</CmdType>" in q and "<Result>OK</Result>" in q for q in requests),
          "the gateway sends the Alarm Response MESSAGE")

code, secs = gw.stop()
check(code == 0 and secs < 5, f"SIGTERM: exit {code} in {secs:.1f} s")
finish()
