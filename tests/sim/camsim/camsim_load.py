#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Load driver for alarmgw-camsim: one keep-alive connection and one PullPoint subscription per camera,
long-polling for a while; then reconciles what arrived with the events log and prints figures.

  camsim_load.py BINARY [--cameras 10000] [--rate 0.2] [--seconds 30]
"""
import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from camsim_client import envelope  # noqa: E402

CREATE = envelope("<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT600S</tev:InitialTerminationTime>"
                  "</tev:CreatePullPointSubscription>").encode()
PULL = envelope("<tev:PullMessages><tev:Timeout>PT5S</tev:Timeout><tev:MessageLimit>100</tev:MessageLimit>"
                "</tev:PullMessages>").encode()
ID_RE = re.compile(rb'Name="EventId" Value="([^"]+)"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>')
INIT = b'PropertyOperation="Initialized"'


def proc_stats(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM"):
                rss = int(line.split()[1])
    return cpu, rss


async def post(reader, writer, path, body):
    writer.write(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\nContent-Length: %d\r\n\r\n"
                 % (path, len(body)) + body)
    head = await reader.readuntil(b"\r\n\r\n")
    n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    return head, await reader.readexactly(n)


async def camera(port, deadline, received, errors):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        _, body = await post(reader, writer, b"/onvif/event_service", CREATE)
        addr = re.search(rb"<wsa:Address>http://[^/]+(/[^<]+)</wsa:Address>", body).group(1)
        while time.monotonic() < deadline:
            _, body = await post(reader, writer, addr, PULL)
            for msg in body.split(b"<wsnt:NotificationMessage>")[1:]:
                if INIT in msg:
                    continue
                m = re.search(rb'Name="EventId" Value="([^"]+)"', msg)
                received.append(m.group(1).decode())
        writer.close()
    except Exception as e:  # counted and reported, the run goes on
        errors.append(repr(e))


async def run(args, base):
    received, errors = [], []
    deadline = time.monotonic() + args.seconds
    sem = asyncio.Semaphore(500)  # connect in waves so the listen backlogs do not overflow

    async def one(i):
        async with sem:
            await asyncio.sleep(0)
        await camera(base + i, deadline, received, errors)
    await asyncio.gather(*(one(i) for i in range(args.cameras)))
    return received, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--cameras", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--base-port", type=int, default=20000)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    log = "/tmp/camsim-load-%d.jsonl" % os.getpid()
    t0 = time.monotonic()
    p = subprocess.Popen([args.binary, "-n", str(args.cameras), "-p", str(args.base_port), "--auth", "none",
                          "--rate", str(args.rate), "--events-log", log], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        if "ready" not in line:
            print("camsim did not start")
            return 1
        print("startup: %.3f s to '%s'" % (time.monotonic() - t0, line.strip()))
        cpu0, _ = proc_stats(p.pid)
        t1 = time.monotonic()
        received, errors = asyncio.run(run(args, args.base_port))
        wall = time.monotonic() - t1
        cpu1, hwm = proc_stats(p.pid)
    finally:
        p.terminate()
        p.wait(timeout=60)
    queued, dropped, sent = set(), {}, {}
    with open(log) as f:
        for line in f:
            rec = json.loads(line)
            if "dropped" in rec:
                dropped[rec["id"]] = rec["dropped"]
            elif "sent" in rec:
                sent[rec["id"]] = rec
            else:
                queued.add(rec["id"])
    os.unlink(log)
    got = set(received)
    print("cameras %d, rate %.2f/s/camera, %.1f s of long polls, client errors %d%s" %
          (args.cameras, args.rate, wall, len(errors), (": " + errors[0]) if errors else ""))
    print("events queued %d, received %d (%.0f/s), dropped %d %s" %
          (len(queued), len(received), len(received) / wall, len(dropped), sorted(set(dropped.values()))))
    bad = [i for i, r in sent.items() if r["sent"] != "ok" or not r["written"]]
    print("reconciled: received + dropped + in answers not ok or not written (%d) == queued: %s; duplicates %d; "
          "unknown ids %d" % (len(bad), got | set(dropped) | set(bad) == queued, len(received) - len(got),
                              len(got - queued)))
    print("camsim CPU %.1f s over %.1f s (%.0f%% of one core), peak RSS %.1f MB" %
          (cpu1 - cpu0, wall, 100 * (cpu1 - cpu0) / wall, hwm / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
