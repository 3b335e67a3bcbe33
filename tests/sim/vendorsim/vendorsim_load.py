#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Load on alarmgw-vendorsim without a gateway: one stream per device (Digest handshake, then read
until the simulator closes), for S seconds at a rate; prints the simulator's CPU and RSS, and
reconciles exactly: the event ids that arrived on the sockets == the ids the events log says were
written whole.

    vendorsim_load.py BINARY --protocol isapi --devices 5000 --rate 0.2 --seconds 30
"""
import argparse
import asyncio
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vendorsim_client as vc  # noqa: E402

ISAPI_ID = re.compile(rb"<simEventId>([^<]+)</simEventId>|\"simEventId\":\"([^\"]+)\"")
DAHUA_ID = re.compile(rb"\"EventID\" : (\d+)")


def cpu_seconds(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    return int(open("/proc/%d/status" % pid).read().split("VmRSS:")[1].split()[0])


async def stream(sim, i, seen, errors):
    target = sim.target(5)
    try:
        r, w = await asyncio.open_connection("127.0.0.1", sim.port(i))
        w.write(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target).encode())
        head = await r.readuntil(b"\r\n\r\n")
        challenge = re.search(rb"WWW-Authenticate: (Digest [^\r]+)", head).group(1).decode()
        n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        await r.readexactly(n)
        auth = vc.digest_authorization(challenge, "GET", target, sim.user, sim.password)
        w.write(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n" % (target, auth)).encode())
        head = await r.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            errors.append("device %d: %r" % (i, head[:40]))
            return
        buf = b""
        dev = sim.device_id(i)
        rx = ISAPI_ID if sim.protocol == "isapi" else DAHUA_ID
        while True:
            data = await r.read(65536)
            if not data:
                break
            buf += data
            # ids whose part is complete: up to the last delimiter seen
            cut = buf.rfind(b"--")
            for m in rx.finditer(buf, 0, cut):
                v = (m.group(1) or m.group(2)).decode() if sim.protocol == "isapi" else "%s-%s" % (
                    dev, m.group(1).decode())
                seen.add(v)
            buf = buf[cut:]
        for m in rx.finditer(buf):  # the last part, complete when the device closed cleanly
            v = (m.group(1) or m.group(2)).decode() if sim.protocol == "isapi" else "%s-%s" % (dev, m.group(1).decode())
            seen.add(v)
        w.close()
    except Exception as e:  # noqa: BLE001
        errors.append("device %d: %s" % (i, e))


async def main_async(args, sim):
    seen, errors = set(), []
    tasks = []
    for i in range(args.devices):
        tasks.append(asyncio.ensure_future(stream(sim, i, seen, errors)))
        if i % 200 == 199:
            await asyncio.sleep(0.05)
    await asyncio.sleep(2)
    c0, t0 = cpu_seconds(sim.proc.pid), time.time()
    await asyncio.sleep(args.seconds)
    c1, t1 = cpu_seconds(sim.proc.pid), time.time()
    rss = rss_kb(sim.proc.pid)
    stats = sim.stats()["totals"]
    sim.stop()  # closes every stream cleanly: what was written arrives
    await asyncio.wait(tasks, timeout=30)
    return seen, errors, (c1 - c0) / (t1 - t0), rss, stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--protocol", default="isapi")
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    os.environ["AGW_BUILD_DIR"] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(args.binary)))))
    with tempfile.TemporaryDirectory(prefix="vsim-load-") as tmp:
        sim = vc.Vendorsim(args.protocol, devices=args.devices, rate=args.rate, workdir=tmp,
                           extra=["--heartbeat", "5", "--log-level", "warning"])
        sim.start()
        try:
            seen, errors, cpu, rss, stats = asyncio.run(main_async(args, sim))
        finally:
            sim.stop()
        log = vc.Log(sim.events_log)
        written = log.written()
        missing, phantom = written - seen, seen - written
        print("%d %s devices, %.2f events/s each, %.0f s: %d edges, %d parts written, %d streams; simulator CPU "
              "%.1f%% of a core, RSS %.1f MB; %d ids read on the sockets, %d written whole, %d missing, %d phantom, "
              "%d stream errors" % (args.devices, args.protocol, args.rate, args.seconds, stats["edges"],
                                    stats["written"], stats["streams"], cpu * 100, rss / 1024.0, len(seen),
                                    len(written), len(missing), len(phantom), len(errors)))
        for e in errors[:5]:
            print("  ", e)
        sys.exit(0 if not missing and not phantom and not errors else 1)


if __name__ == "__main__":
    main()
