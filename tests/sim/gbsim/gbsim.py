#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gbsim: GB/T 28181 devices for tests, benchmarks and the demo. One asyncio process simulates
thousands of devices (IP cameras, or NVRs with channels) that register with Digest to the
gateway's SIP server over UDP, send Keepalive MESSAGEs and alarm MESSAGEs, and retransmit a
MESSAGE until it is answered, as RFC 3261 devices do over UDP (T1 = 500 ms doubling to T2 = 4 s,
given up after 32 s: Timer F).

Every alarm is written to the events log when it is first sent, and its outcome when it ends:
    {"id":"<device>-<sn>","device":..,"channel":..,"sn":..,"sent_ms":..}
    {"id":"<device>-<sn>","answer":200,"attempts":2,"answered_ms":..}   (or "answer":null,"gave_up":true)
so a test reconciles exactly: every alarm answered 200 must be journaled once; an alarm given up
is one the gateway never acknowledged (the device keeps it in its own log; the gateway must not
have journaled it twice either).

Misbehaviours (each a fraction of the devices or of the messages, see --help): a wrong password,
devices that never send keepalives, duplicate SNs (the same alarm sent again as a new
transaction, as devices do after a restart), GB2312 bodies with Chinese text, garbage datagrams,
devices that send alarms only once armed (SetGuard or an alarm SUBSCRIBE), and channels that are
in a device's catalog but not in the ledger (--unlisted; their alarms are marked "unlisted" in
the events log: the gateway answers them but has no camera to journal them for).

Requests from the gateway are answered as devices do: 200 OK, then for a Catalog query the
catalog in MESSAGEs of --catalog-page items (SumNum, DeviceList, GB2312 names, positions), and for
DeviceControl a <Response> with <Result>OK</Result>.

Ledger (--ledger FILE): one row per camera: IPC devices' own ID, or each NVR channel's ID, with
protocol gb28181 and positions on a grid around (108.93, 34.25), crs wgs84.

Snapshots (--snapshot-port PORT): the devices also serve a JPEG of each channel over HTTP, as many
GB devices do besides SIP: GET /snapshot/<channel ID>.jpg on 127.0.0.1:PORT with Digest (MD5,
qop=auth; Basic is refused), user admin and --snapshot-password. The ledger rows then name it in
snapshot_url, snapshot_username and snapshot_password. The JPEG is camsim's (tests/sim/camsim/jpeg.c,
32x24); --snapshot-fail-every N answers 503 for every Nth channel. The final stats count the
pictures served and the requests refused.
"""
import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import secrets
import signal
import socket
import sys
import time

T1, T2, TIMER_F = 0.5, 4.0, 32.0


def now_ms():
    return int(time.time() * 1000)


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


class Sim(asyncio.DatagramProtocol):
    def __init__(self, args):
        self.a = args
        self.server = (args.server.rsplit(":", 1)[0], int(args.server.rsplit(":", 1)[1]))
        self.domain = args.domain or args.server_id[:10]
        self.pending = {}  # branch -> future of the final response
        self.log = open(args.events_log, "a") if args.events_log else None
        self.transport = None
        self.counter = 0
        self.registered = 0
        self.stats = {"alarms": 0, "answered": 0, "gave_up": 0, "refused": 0, "garbage": 0, "dup_sn": 0,
                      "catalog_queries": 0, "armed": 0, "subscribed": 0, "not_armed_skipped": 0}
        self.devices = {}  # id -> {"chans": [...], "armed": bool}

    # ---- transport ----
    def connection_made(self, transport):
        self.transport = transport
        # thousands of devices on one socket: a bigger buffer, or answers are dropped in bursts
        # and every alarm they answered is retransmitted (the kernel caps SO_RCVBUF at rmem_max;
        # SO_RCVBUFFORCE, 33 on Linux, passes it when we may)
        sock = transport.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 16 << 20)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)

    def datagram_received(self, data, addr):
        text = data.decode("utf-8", "replace")
        if text.startswith("SIP/2.0 "):
            m = re.search(r"^Via:.*branch=([^;\s]+)", text, re.M | re.I)
            code = int(text[8:11]) if text[8:11].isdigit() else 0
            fut = self.pending.get(m.group(1)) if m else None
            if fut and not fut.done() and code >= 200:
                fut.set_result(text)
            return
        # a request from the gateway: answer 200, then act on it
        head, _, body = text.partition("\r\n\r\n")
        lines = [l for l in head.split("\r\n")[1:] if re.match(r"(Via|From|To|Call-ID|CSeq):", l, re.I)]
        extra = "Expires: 600\r\n" if head.startswith("SUBSCRIBE") else ""
        self.transport.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(lines) + "\r\n" + extra +
                               "Content-Length: 0\r\n\r\n").encode(), addr)
        m = re.match(r"(\w+) sip:(\d{20})@", head)
        dev = self.devices.get(m.group(2)) if m else None
        if dev is None:
            return
        cmd = re.search(r"<CmdType>(\w+)</CmdType>", body)
        sn = re.search(r"<SN>(\d+)</SN>", body)
        if m.group(1) == "SUBSCRIBE":
            self.stats["subscribed"] += 0 if dev["armed"] else 1
            dev["armed"] = True
        elif cmd and cmd.group(1) == "Catalog" and sn:
            self.stats["catalog_queries"] += 1
            asyncio.get_running_loop().create_task(self.catalog(m.group(2), dev, sn.group(1)))
        elif cmd and cmd.group(1) == "DeviceControl" and sn:
            if "<GuardCmd>SetGuard</GuardCmd>" in body and not dev["armed"]:
                dev["armed"] = True
                self.stats["armed"] += 1
            xml = (f"<Response>\r\n<CmdType>DeviceControl</CmdType>\r\n<SN>{sn.group(1)}</SN>\r\n"
                   f"<DeviceID>{m.group(2)}</DeviceID>\r\n<Result>OK</Result>\r\n</Response>\r\n")
            asyncio.get_running_loop().create_task(
                self.transact(lambda b: self.request("MESSAGE", m.group(2), b, body=self.body(xml, True))))

    def local(self):
        return self.transport.get_extra_info("sockname")

    def new_branch(self):
        self.counter += 1
        return f"z9hG4bK{os.getpid()}x{self.counter}"

    async def transact(self, build):
        """Sends a request built for a branch, retransmits until a final answer or Timer F."""
        branch = self.new_branch()
        data = build(branch)
        fut = asyncio.get_running_loop().create_future()
        self.pending[branch] = fut
        interval, start, attempts = T1, time.monotonic(), 0
        try:
            while time.monotonic() - start < TIMER_F:
                self.transport.sendto(data, self.server)
                attempts += 1
                try:
                    return await asyncio.wait_for(asyncio.shield(fut), timeout=interval), attempts
                except asyncio.TimeoutError:
                    interval = min(interval * 2, T2)
            return None, attempts
        finally:
            self.pending.pop(branch, None)

    # ---- messages ----
    def request(self, method, dev, branch, extra="", body=b"", ctype="Application/MANSCDP+xml", cseq=1):
        host, port = self.local()
        uri = f"sip:{self.a.server_id}@{self.domain}"
        head = (f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{port};rport;branch={branch}\r\n"
                f"From: <sip:{dev}@{self.domain}>;tag={dev[-6:]}\r\nTo: <sip:{self.a.server_id if method != 'REGISTER' else dev}@{self.domain}>\r\n"
                f"Call-ID: {branch}@gbsim\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nUser-Agent: gbsim\r\n{extra}")
        if body:
            head += f"Content-Type: {ctype}\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        return head.encode() + body

    async def register(self, dev, password):
        host, port = self.local()
        contact = f"Contact: <sip:{dev}@{host}:{port}>\r\nExpires: {self.a.expires}\r\n"
        r, _ = await self.transact(lambda b: self.request("REGISTER", dev, b, contact))
        m = re.search(r'nonce="([^"]+)"', r or "")
        realm = re.search(r'realm="([^"]+)"', r or "")
        if not r or not r.startswith("SIP/2.0 401") or not m:
            return r[:12] if r else "no answer"
        uri = f"sip:{self.a.server_id}@{self.domain}"
        resp = md5(f"{md5(f'{dev}:{realm.group(1)}:{password}')}:{m.group(1)}:{md5(f'REGISTER:{uri}')}")
        auth = (f'Authorization: Digest username="{dev}", realm="{realm.group(1)}", nonce="{m.group(1)}", '
                f'uri="{uri}", response="{resp}", algorithm=MD5\r\n')
        r, _ = await self.transact(lambda b: self.request("REGISTER", dev, b, contact + auth, cseq=2))
        return r[:12] if r else "no answer"

    def body(self, xml, gb2312):
        enc = "GB2312" if gb2312 else "UTF-8"
        text = f'<?xml version="1.0" encoding="{enc}"?>\r\n{xml}'
        return text.encode("gb2312" if gb2312 else "utf-8")

    async def keepalive(self, dev, sn):
        xml = (f"<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>{sn}</SN>\r\n<DeviceID>{dev}</DeviceID>\r\n"
               f"<Status>OK</Status>\r\n</Notify>\r\n")
        await self.transact(lambda b: self.request("MESSAGE", dev, b, body=self.body(xml, False)))

    async def alarm(self, dev, channel, sn, gb2312, unlisted=False):
        method, atype, desc = random.choice([(5, 2, "移动侦测 Motion"), (5, 6, "区域入侵 Intrusion"),
                                             (5, 5, "绊线检测 Tripwire"), (2, 1, "视频丢失 Video loss")])
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 8 * 3600))
        xml = (f"<Notify>\r\n<CmdType>Alarm</CmdType>\r\n<SN>{sn}</SN>\r\n<DeviceID>{channel}</DeviceID>\r\n"
               f"<AlarmPriority>{random.randint(1, 4)}</AlarmPriority>\r\n<AlarmMethod>{method}</AlarmMethod>\r\n"
               f"<AlarmTime>{t}</AlarmTime>\r\n<AlarmDescription>{desc}</AlarmDescription>\r\n"
               f"<Info>\r\n<AlarmType>{atype}</AlarmType>\r\n</Info>\r\n</Notify>\r\n")
        body = self.body(xml, gb2312)
        eid = f"{dev}-{sn}"
        first = {"id": eid, "device": dev, "channel": channel, "sn": sn, "sent_ms": now_ms()}
        if unlisted:
            first["unlisted"] = True
        self.write(first)
        self.stats["alarms"] += 1
        r, attempts = await self.transact(lambda b: self.request("MESSAGE", dev, b, body=body))
        code = int(r[8:11]) if r and r[8:11].isdigit() else None
        if code == 200:
            self.stats["answered"] += 1
            self.write({"id": eid, "answer": 200, "attempts": attempts, "answered_ms": now_ms()})
        else:
            self.stats["gave_up" if code is None else "refused"] += 1
            self.write({"id": eid, "answer": code, "attempts": attempts, "gave_up": code is None})
        return code

    async def catalog(self, dev_id, dev, sn):
        """The catalog in MESSAGEs of --catalog-page items, as NVRs and platforms send it."""
        chans = dev["chans"] + dev["unlisted"]
        page = max(1, self.a.catalog_page)
        for start in range(0, len(chans), page):
            items = ""
            for k, ch in enumerate(chans[start:start + page], start):
                lon, lat = 108.93 + k * 0.001, 34.25 + k * 0.001
                items += (f"<Item>\r\n<DeviceID>{ch}</DeviceID>\r\n<Name>通道{k + 1}</Name>\r\n"
                          f"<Manufacturer>gbsim</Manufacturer>\r\n<Model>IPC</Model>\r\n<ParentID>{dev_id}</ParentID>\r\n"
                          f"<Status>ON</Status>\r\n<Longitude>{lon:.6f}</Longitude>\r\n<Latitude>{lat:.6f}</Latitude>\r\n</Item>\r\n")
            n = min(page, len(chans) - start)
            xml = (f"<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>{sn}</SN>\r\n<DeviceID>{dev_id}</DeviceID>\r\n"
                   f"<SumNum>{len(chans)}</SumNum>\r\n<DeviceList Num=\"{n}\">\r\n{items}</DeviceList>\r\n</Response>\r\n")
            await self.transact(lambda b, x=xml: self.request("MESSAGE", dev_id, b, body=self.body(x, True)))

    def write(self, obj):
        if self.log:
            self.log.write(json.dumps(obj, ensure_ascii=False) + "\n")
            self.log.flush()


def gb_id(centre, kind, serial):
    """A 20-digit GB/T 28181 ID: centre (8), industry (2), type (3), network (1), serial (6)."""
    return f"{centre}00{kind:03d}0{serial:06d}"


def device_ids(a):
    """(device id, [channel ids], [unlisted channel ids]) for each device: IP cameras (type 132)
    are their own channel; NVRs (type 118) have --channels cameras (type 131) behind them, and
    --unlisted more (type 131, serials from 900000) that the ledger does not have."""
    centre = a.base_id[:8]
    first = int(a.base_id[-6:])
    out = []
    for i in range(a.devices):
        unlisted = [gb_id(centre, 131, 900000 + i * a.unlisted + k) for k in range(a.unlisted)]
        if a.channels > 0:
            chans = [gb_id(centre, 131, first + i * a.channels + k) for k in range(a.channels)]
            out.append((gb_id(centre, 118, first + i), chans, unlisted))
        else:
            dev = gb_id(centre, 132, first + i)
            out.append((dev, [dev], unlisted))
    return out


def camsim_jpeg():
    """The bytes of camsim's JPEG array (tests/sim/camsim/jpeg.c): a real 32x24 baseline JPEG."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "camsim", "jpeg.c")) as f:
        text = f.read()
    body = text[text.index("vsim_jpeg[] = {") + len("vsim_jpeg[] = {"):]
    return bytes(int(x, 16) for x in re.findall(r"0x([0-9a-fA-F]{2})", body[:body.index("};")]))


class Snapshots:
    """The devices' HTTP snapshot service: one listener for every channel, Digest as devices do."""
    REALM = "gbsim"

    def __init__(self, a, stats):
        self.a, self.stats = a, stats
        self.jpeg = camsim_jpeg()
        self.channels = {}  # channel id -> index (for --snapshot-fail-every)
        self.nonces = set()

    def ha1(self):
        return md5(f"admin:{self.REALM}:{self.a.snapshot_password}")

    def authorized(self, headers, method, uri):
        h = headers.get("authorization", "")
        if not h.lower().startswith("digest "):
            return False
        f = dict(re.findall(r'(\w+)="?([^",]*)"?', h[7:]))
        if f.get("username") != "admin" or f.get("nonce") not in self.nonces or f.get("uri") != uri:
            return False
        want = md5(f"{self.ha1()}:{f['nonce']}:{f.get('nc', '')}:{f.get('cnonce', '')}:{f.get('qop', '')}:"
                   f"{md5(f'{method}:{uri}')}")
        return f.get("qop") == "auth" and f.get("response") == want

    async def serve(self, reader, writer):
        try:
            while True:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
                lines = head.decode("latin-1").split("\r\n")
                method, uri = (lines[0].split(" ") + ["", ""])[:2]
                headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
                m = re.fullmatch(r"/snapshot/(\d{20})\.jpg", uri)
                if method != "GET" or not m or m.group(1) not in self.channels:
                    status, body, extra = "404 Not Found", b"no such channel\n", ""
                elif not self.authorized(headers, method, uri):
                    nonce = secrets.token_hex(16)
                    self.nonces.add(nonce)
                    self.stats["snapshot_401"] += 1
                    status, body = "401 Unauthorized", b"authenticate\n"
                    extra = f'WWW-Authenticate: Digest realm="{self.REALM}", qop="auth", nonce="{nonce}", algorithm=MD5\r\n'
                elif self.a.snapshot_fail_every and self.channels[m.group(1)] % self.a.snapshot_fail_every == 0:
                    status, body, extra = "503 Service Unavailable", b"encoder busy\n", ""
                else:
                    self.stats["snapshots"] += 1
                    status, body, extra = "200 OK", self.jpeg, "Content-Type: image/jpeg\r\n"
                writer.write((f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, asyncio.LimitOverrunError,
                asyncio.CancelledError):
            pass  # the client went, or gbsim stops with keep-alive connections open
        finally:
            writer.close()


def write_ledger(path, devices, password, a):
    snap = a.snapshot_port > 0
    with open(path, "w") as f:
        f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags"
                + (",snapshot_url,snapshot_username,snapshot_password" if snap else "") + "\n")
        n = sum(len(c) for _, c, _ in devices)
        side = max(1, int(n ** 0.5))
        k = 0
        for dev, chans, _ in devices:
            for ch in chans:
                lon = 108.93 + (k % side) * 0.02 / side
                lat = 34.25 + (k // side) * 0.02 / side
                pw = password if ch == dev else ""
                name = f"{ch[10:13]}-{ch[-6:]}"
                f.write(f"gb-{name},GB camera {name},gbsim,gb28181,{ch},{dev if pw else ''},{pw},{lon:.6f},{lat:.6f},wgs84,gbsim")
                if snap:
                    f.write(f",http://127.0.0.1:{a.snapshot_port}/snapshot/{ch}.jpg,admin,{a.snapshot_password}")
                f.write("\n")
                k += 1


async def run_device(sim, dev, chans, unlisted, idx, stop):
    a = sim.a
    armed_only = a.armed_only_every and idx % a.armed_only_every == 0
    state = {"chans": chans, "unlisted": unlisted, "armed": not armed_only}
    sim.devices[dev] = state
    password = "wrong-password" if a.wrong_password_every and idx % a.wrong_password_every == 0 else a.password
    await asyncio.sleep(random.random() * a.spread)
    res = await sim.register(dev, password)
    if not res.startswith("SIP/2.0 200"):
        print(f"gbsim: {dev} not registered: {res}", file=sys.stderr)
        return
    sim.registered += 1
    sn = 0
    next_ka = time.monotonic() + a.keepalive
    silent = a.no_keepalive_every and idx % a.no_keepalive_every == 0
    tasks = set()
    while not stop.is_set():
        delay = random.expovariate(a.rate) if a.rate > 0 else 3600
        try:
            await asyncio.wait_for(stop.wait(), timeout=min(delay, max(0.05, next_ka - time.monotonic())))
            break
        except asyncio.TimeoutError:
            pass
        if time.monotonic() >= next_ka:
            next_ka += a.keepalive
            if not silent:
                sn += 1
                tasks.add(asyncio.create_task(sim.keepalive(dev, sn)))
            continue
        if not state["armed"]:
            sim.stats["not_armed_skipped"] += 1  # a device that alarms only once armed: nothing sent
            continue
        sn += 1
        gb = a.gb2312_every and idx % a.gb2312_every == 0
        ch = random.choice(chans + unlisted)
        tasks.add(asyncio.create_task(sim.alarm(dev, ch, sn, gb, ch in unlisted)))
        if a.duplicate_sn_every and sn % a.duplicate_sn_every == 0:
            sim.stats["dup_sn"] += 1  # the same SN again, as a new transaction: journaled once
            tasks.add(asyncio.create_task(sim.alarm(dev, chans[0], sn, gb)))
        if a.garbage_every and sn % a.garbage_every == 0:
            sim.stats["garbage"] += 1
            sim.transport.sendto(b"\x00garbage\r\n\r\nnot sip at all", sim.server)
        tasks = {t for t in tasks if not t.done()}
    if tasks:
        await asyncio.wait(tasks, timeout=TIMER_F + 1)


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True, help="the gateway's SIP server, host:port (UDP)")
    p.add_argument("--server-id", default="34020000002000000001")
    p.add_argument("--domain", default=None, help="default: the first 10 digits of --server-id")
    p.add_argument("--password", default="12345678")
    p.add_argument("--devices", type=int, default=10)
    p.add_argument("--channels", type=int, default=0, help="NVRs with this many channels (0: IP cameras)")
    p.add_argument("--base-id", default="34020000001320000001")
    p.add_argument("--rate", type=float, default=0.1, help="alarms per second per device")
    p.add_argument("--keepalive", type=float, default=60.0, help="seconds between keepalives")
    p.add_argument("--expires", type=int, default=3600)
    p.add_argument("--duration", type=float, default=0, help="seconds, then stop (0: until SIGTERM)")
    p.add_argument("--spread", type=float, default=1.0, help="registrations spread over this many seconds")
    p.add_argument("--events-log")
    p.add_argument("--ledger")
    p.add_argument("--ledger-only", action="store_true", help="write --ledger and exit")
    p.add_argument("--wrong-password-every", type=int, default=0)
    p.add_argument("--no-keepalive-every", type=int, default=0)
    p.add_argument("--gb2312-every", type=int, default=0)
    p.add_argument("--duplicate-sn-every", type=int, default=0)
    p.add_argument("--garbage-every", type=int, default=0)
    p.add_argument("--armed-only-every", type=int, default=0,
                   help="every Nth device sends alarms only once armed (SetGuard) or subscribed")
    p.add_argument("--unlisted", type=int, default=0, help="channels per device in its catalog but not in the ledger")
    p.add_argument("--catalog-page", type=int, default=20, help="catalog items per MESSAGE")
    p.add_argument("--snapshot-port", type=int, default=0,
                   help="serve each channel's JPEG over HTTP with Digest on this port (0: no snapshots)")
    p.add_argument("--snapshot-password", default="snap-pass")
    p.add_argument("--snapshot-fail-every", type=int, default=0, help="every Nth channel's snapshot answers 503")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    random.seed(a.seed)
    devices = device_ids(a)
    if a.ledger:
        write_ledger(a.ledger, devices, a.password, a)
    if a.ledger_only:
        return
    loop = asyncio.get_running_loop()
    transport, sim = await loop.create_datagram_endpoint(lambda: Sim(a), local_addr=("127.0.0.1", 0))
    sim.stats.update(snapshots=0, snapshot_401=0)
    if a.snapshot_port:
        snaps = Snapshots(a, sim.stats)
        snaps.channels = {ch: i + 1 for i, ch in enumerate(c for _, chans, _ in devices for c in chans)}
        await asyncio.start_server(snaps.serve, "127.0.0.1", a.snapshot_port)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    if a.duration:
        loop.call_later(a.duration, stop.set)
    print(f"gbsim: ready {len(devices)} devices from 127.0.0.1:{transport.get_extra_info('sockname')[1]}",
          flush=True)
    await asyncio.gather(*(run_device(sim, d, c, u, i, stop) for i, (d, c, u) in enumerate(devices)))
    print("gbsim: " + json.dumps(dict(sim.stats, registered=sim.registered)), flush=True)
    transport.close()


if __name__ == "__main__":
    asyncio.run(main())
