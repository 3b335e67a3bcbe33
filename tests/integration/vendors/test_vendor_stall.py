# SPDX-License-Identifier: GPL-2.0-or-later
"""A gateway that stalls is not a device that went silent. The starvation a busy machine causes at
10,000 streams, made deterministic with SIGSTOP: simulated ISAPI and Dahua devices keep writing
events and heartbeats into their streams while the gateway does not run; the kernel holds the
bytes. An event whose write completed is gone from the device (a real device does not resend), so
the gateway must read it, whatever its own delays.

1. Stall past heartbeat_timeout: SIGSTOP the gateway for STALL_S (over twice heartbeat_timeout),
   SIGCONT. On waking, the liveness timers are late: they must look at the sockets (bytes are
   waiting) rather than declare every stream dead and close it with the events still unread.
2. The same stall while the streams are being set up (connected, asked, answered): the time the
   gateway did not run counts as no device's silence, before a stream's first part as after it.
3. Stop with bytes unread: SIGSTOP the gateway, let the devices write for a moment, freeze them
   (SIGSTOP: nothing more is written), then SIGTERM and SIGCONT the gateway. A planned stop reads
   what the sockets hold before closing them; with a queue of 100 alerts, what the core refuses is
   held and handed over when it has room, not dropped at the close.

Checked for each: reconciliation by id, exactly (the ids journaled == the ids the simulator wrote
whole, every missing one named with its fate); no event_channel_lost (the devices never stopped);
no part dropped by a device for a full backlog.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vendortest  # noqa: E402
from agwtest import Gateway, check, finish  # noqa: E402
from vendortest import Journal, tempdir, vc, write_config  # noqa: E402

DEVICES = 40
RATE = 1.0          # events per second per device
STALL_S = 7.0       # heartbeat_timeout is 3 s (vendortest.write_config)
TYPES = {"isapi": ["IO", "PIR", "tamperdetection", "VMD"],
         "dahua": ["AlarmLocal", "VideoBlind", "LeftDetection", "VideoMotion"]}


def id_of(protocol):
    if protocol == "isapi":
        return lambda camera, alert: (alert.get("data") or {}).get("simEventId")
    return lambda camera, alert: ("%s-%s" % (camera, (alert.get("data") or {}).get("EventID"))
                                  if (alert.get("data") or {}).get("EventID") else None)


def settle(j, rounds=60):
    """Waits until the journal stops growing (bounded)."""
    last = None
    for _ in range(rounds):
        cur = len(j.rows())
        if cur == last:
            return
        last = cur
        time.sleep(0.5)


def reconcile(sim, j, what):
    log = sim.read_log()
    missing, phantom, lines = log.reconcile(set(j.ids()))
    for line in lines[:25]:
        print("      " + line)
    if len(lines) > 25:
        print("      ... %d more" % (len(lines) - 25))
    st = sim.stats()["totals"]
    check(not missing and not phantom, "%s: journaled ids == ids written whole (%d written, %d missing, %d made up; "
          "%d edges)" % (what, len(log.written()), len(missing), len(phantom), st["edges"]))
    check(st["dropped"] == 0, "%s: no device dropped a part for a full backlog (%d)" % (what, st["dropped"]))
    lost = j.rows("kind IN ('event_channel_lost', 'camera_offline') AND active = 1")
    check(not lost, "%s: no stream declared lost, no device offline: the devices never stopped (%d, e.g. %s)" %
          (what, len(lost), [(r[1], r[2]) for r in lost[:3]]))


def start(protocol, w, extra_gateway="", devices=DEVICES, rate=RATE, stall_at_start=0.0):
    sim = vc.Vendorsim(protocol, devices=devices, rate=rate, workdir=w,
                       extra=["--run", "1", "--quiet", "0", "--heartbeat", "1"]).start()
    adapter = 'coalesce = "0s";' if protocol == "isapi" else "heartbeat = 1;"
    conf = write_config(w, protocol, sim.ledger, None, adapter)
    if extra_gateway:
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace('log_level = "info";', 'log_level = "info"; ' + extra_gateway))
    gw = Gateway(conf).start()
    if stall_at_start:
        # the first connections are spread over a second: some are being set up, some wait
        gw.wait_log(r"adapter %s started" % protocol, timeout=30)
        time.sleep(0.3)
        gw.signal(signal.SIGSTOP)
        time.sleep(stall_at_start)
        gw.signal(signal.SIGCONT)
    j = Journal(os.path.join(w, "state", "alarmgw.db"), id_of(protocol))
    vendortest.wait_for(lambda: sim.stats()["totals"]["live_streams"] == devices, "a stream to every device",
                        timeout=60)
    vendortest.wait_for(lambda: len(j.ids()) >= devices, "events journaled", timeout=60)
    return sim, gw, j


def keep_log(w, gw):
    if gw:
        with open(os.path.join(w, "alarmgw.log"), "w") as f:
            f.write("\n".join(gw.log()) + "\n")


def stall(protocol):
    w = tempdir("agw-stall-%s-" % protocol)
    sim = gw = None
    try:
        sim, gw, j = start(protocol, w)
        before = sim.stats()["totals"]["written"]
        gw.signal(signal.SIGSTOP)
        time.sleep(STALL_S)
        during = sim.stats()["totals"]["written"] - before
        gw.signal(signal.SIGCONT)
        check(during > DEVICES * 2, "%s: the devices wrote %d parts while the gateway was stopped for %.0f s" %
              (protocol, during, STALL_S))
        time.sleep(3.0)  # flowing again
        sim.control("all", "rate", **{"per-second": 0})
        time.sleep(2.5)  # runs end
        settle(j)
        reconcile(sim, j, "%s, stalled %.0f s" % (protocol, STALL_S))
        code, _ = gw.stop(timeout=30)
        check(code == 0, "%s: SIGTERM exits 0 (%s)" % (protocol, code))
    finally:
        if gw and gw.proc and gw.proc.poll() is None:
            gw.signal(signal.SIGCONT)
            gw.stop(timeout=30)
        keep_log(w, gw)
        if sim:
            sim.stop()
        print("kept", w)


def stall_setup(protocol):
    """The stall comes while the streams are being set up: the time the gateway did not run is
    not the devices' silence, before their first part as after it."""
    w = tempdir("agw-stall-setup-%s-" % protocol)
    sim = gw = None
    try:
        sim, gw, j = start(protocol, w, stall_at_start=STALL_S)
        time.sleep(2.0)
        sim.control("all", "rate", **{"per-second": 0})
        time.sleep(2.5)
        settle(j)
        reconcile(sim, j, "%s, stalled %.0f s while connecting" % (protocol, STALL_S))
        st = sim.stats()["totals"]
        check(st["streams"] == DEVICES, "%s: one stream per device, none made again (%d answers)" %
              (protocol, st["streams"]))
    finally:
        if gw and gw.proc and gw.proc.poll() is None:
            gw.signal(signal.SIGCONT)
            gw.stop(timeout=30)
        keep_log(w, gw)
        if sim:
            sim.stop()
        print("kept", w)


def stop_unread(protocol):
    w = tempdir("agw-stall-stop-%s-" % protocol)
    sim = gw = None
    try:
        sim, gw, j = start(protocol, w, "queue_max = 100;", devices=2 * DEVICES, rate=2 * RATE)
        gw.signal(signal.SIGSTOP)  # shorter than heartbeat_timeout: this part is about the stop
        time.sleep(1.0)
        sim.control("all", "rate", **{"per-second": 0})  # the runs under way still end
        time.sleep(1.2)
        sim.call("GET", "/flush")
        sim.proc.send_signal(signal.SIGSTOP)  # the devices write nothing more
        gw.signal(signal.SIGTERM)
        gw.signal(signal.SIGCONT)
        code = gw.proc.wait(timeout=30)
        check(code == 0, "%s: SIGTERM while bytes wait in the sockets exits 0 (%s)" % (protocol, code))
        sim.proc.send_signal(signal.SIGCONT)
        check(any("holding adapters back" in l for l in gw.log()), "%s: the core pushed back during the stop "
              "(queue_max 100), or this part proved nothing" % protocol)
        held = [l for l in gw.log() if "were not delivered" in l]
        check(not held, "%s: no alert held back by the core was dropped at the stop (%s)" % (protocol, held[:2]))
        reconcile(sim, j, "%s, stopped with unread bytes" % protocol)
    finally:
        if sim and sim.proc:
            sim.proc.send_signal(signal.SIGCONT)
        if gw and gw.proc and gw.proc.poll() is None:
            gw.signal(signal.SIGCONT)
            gw.stop(timeout=30)
        keep_log(w, gw)
        if sim:
            sim.stop()
        print("kept", w)


if __name__ == "__main__":
    for p in ("isapi", "dahua"):
        stall(p)
        stall_setup(p)
        stop_unread(p)
    finish()
