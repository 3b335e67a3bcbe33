#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""camsim misbehaviours, each made observable with plain HTTP: expiry (fault and 404), reboot (refused
connections, subscriptions gone, back after T), one-subscriber limit, Unsubscribe killing every subscription,
slow answers, malformed XML, oversized answers, SOAP faults, start options, /stats, prompt SIGTERM exit."""
import os
import signal
import socket
import sys
import time
import xml.etree.ElementTree as ET

from agwtest import SOURCE, check, finish

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
from camsim_client import Camsim, Fault, HttpError, envelope  # noqa: E402


def refused(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def pull_error(cam, sub):
    try:
        cam.pull(sub, timeout="PT0S")
        return None
    except (Fault, HttpError) as e:
        return e


def main():
    with Camsim(cameras=6, auth="wsse", rate=0, extra=["--mix", "motion=1"]) as sim:
        # expire: subscriptions vanish; ResourceUnknown fault, or 404 when asked for
        cam = sim.client(0)
        sub = cam.create_subscription()
        sim.control(0, "emit", kind="motion")
        sim.control(0, "expire")
        e = pull_error(cam, sub)
        check(isinstance(e, Fault) and e.subcode.endswith("ResourceUnknownFault"), "expire -> fault: %s" % e)
        sub = cam.create_subscription()
        sim.control(0, "expire", reply="404")
        e = pull_error(cam, sub)
        check(isinstance(e, HttpError) and e.status == 404, "expire reply=404 -> HTTP 404: %s" % e)
        check(cam.create_subscription() is not None, "a new subscription works after expiry")

        # reboot: connection refused, subscriptions dropped, back after T
        cam = sim.client(1)
        sub = cam.create_subscription()
        sim.control(1, "emit", kind="motion")
        sim.control(1, "reboot", seconds=2)
        check(refused(sim.port(1)), "rebooting camera refuses connections")
        check(not refused(sim.port(2)), "the other cameras keep listening")
        back = False
        for _ in range(100):
            time.sleep(0.1)
            if not refused(sim.port(1)):
                back = True
                break
        check(back, "camera listens again after the reboot")
        cam.close()
        e = pull_error(cam, sub)
        check(isinstance(e, Fault), "subscription from before the reboot is gone: %s" % e)
        check(sim.stats(1)["up"], "stats show the camera up")
        # clocks that come back in 2000, after a reboot or on demand
        y2k = 946684800
        sim.control(1, "reboot", seconds=0.3, clock=2000)
        for _ in range(100):
            time.sleep(0.1)
            if not refused(sim.port(1)):
                break
        t = cam.system_time()
        check(y2k <= t < y2k + 30, "reboot clock=2000 brings the camera back in 2000: %.0f" % t)
        sim.control(1, "clock-ok")
        sim.control(1, "clock-reset", year=2000)
        t = cam.system_time()
        check(y2k <= t < y2k + 30, "clock-reset year=2000: %.0f" % t)
        sim.control(1, "clock-ok")
        check(abs(cam.system_time() - time.time()) < 3, "clock-ok sets the clock right")

        # one subscriber
        cam = sim.client(2)
        sim.control(2, "one-subscriber")
        first = cam.create_subscription()
        try:
            cam.create_subscription()
            check(False, "second subscription refused")
        except Fault as f:
            check(f.status == 500 and "SubscribeCreationFailed" in f.text, "second subscription refused: %s" % f)
        cam.unsubscribe(first)
        again = cam.create_subscription()
        check(again is not None, "after Unsubscribe a new subscription is allowed")
        cam.unsubscribe(again)
        # a faulted CreatePullPointSubscription leaves no orphan behind to block the next one
        sim.control(2, "fault", count=1)
        try:
            cam.create_subscription()
            check(False, "faulted CreatePullPointSubscription")
        except Fault:
            pass
        check(sim.stats(2)["live_subscriptions"] == 0 and cam.create_subscription() is not None,
              "a faulted CreatePullPointSubscription created nothing")

        # Unsubscribe kills every subscription
        cam = sim.client(3)
        sim.control(3, "unsubscribe-kills-all")
        a, b = cam.create_subscription(), cam.create_subscription()
        cam.unsubscribe(a)
        check(isinstance(pull_error(cam, b), Fault), "Unsubscribe of one subscription killed the other")
        sim.control(3, "unsubscribe-kills-all", on=0)
        a, b = cam.create_subscription(), cam.create_subscription()
        cam.unsubscribe(a)
        check(pull_error(cam, b) is None, "with the switch off the other subscription lives")

        # slow answers
        cam = sim.client(4)
        sim.control(4, "slow", ms=1500)
        t0 = time.monotonic()
        cam.system_time()
        took = time.monotonic() - t0
        check(took >= 1.4, "slow ms=1500 holds the answer (%.2f s)" % took)
        sim.control(4, "slow", ms=0)

        # malformed XML
        sim.control(4, "malformed", count=1)
        r = cam.raw("/onvif/device_service", envelope("<tds:GetSystemDateAndTime/>"))
        try:
            ET.fromstring(r.body)
            check(False, "malformed answer does not parse")
        except ET.ParseError as pe:
            check(r.status == 200, "malformed answer (HTTP %d) does not parse: %s" % (r.status, pe))
        check(cam.system_time() > 0, "the next answer is well-formed again")

        # oversized answer
        sim.control(4, "oversized", count=1, bytes=20 * 1024 * 1024)
        r = cam.raw("/onvif/device_service", envelope("<tds:GetSystemDateAndTime/>"))
        check(len(r.body) >= 20 * 1024 * 1024, "oversized answer is %d bytes" % len(r.body))
        check(ET.fromstring(r.body).find(".//{http://www.onvif.org/ver10/schema}UTCDateTime") is not None,
              "the oversized answer is still a valid response")
        check(len(cam.raw("/onvif/device_service", envelope("<tds:GetSystemDateAndTime/>")).body) < 10000,
              "the next answer is normal size")

        # SOAP faults
        sim.control(4, "fault", count=2)
        faults = 0
        for _ in range(2):
            try:
                cam.system_time()
            except Fault as f:
                faults += f.status == 500
        check(faults == 2, "fault count=2 gives two faults")
        check(cam.system_time() > 0, "then normal answers")

        # unsupported operations (GetServices -> fall back to GetCapabilities) and a wrong advertised host
        sim.control(4, "unsupported", ops="GetServices,GetEventProperties")
        for op in ("GetServices", "GetEventProperties"):
            try:
                cam.call("/onvif/device_service", "<tds:%s/>" % op if op == "GetServices" else
                         "<tev:GetEventProperties/>")
                check(False, "%s unsupported" % op)
            except Fault as f:
                check(f.subcode == "ter:ActionNotSupported", "%s unsupported: %s" % (op, f))
        caps = cam.call("/onvif/device_service", "<tds:GetCapabilities/>")
        check(caps.find(".//{http://www.onvif.org/ver10/schema}Events") is not None, "GetCapabilities still answers")
        sim.control(4, "unsupported")
        check(cam.call("/onvif/device_service", "<tds:GetServices/>") is not None, "unsupported cleared")
        sim.control(4, "advertise-host", host="192.168.1.108")
        caps = cam.call("/onvif/device_service", "<tds:GetCapabilities/>")
        xaddr = caps.find(".//{http://www.onvif.org/ver10/schema}Events/{http://www.onvif.org/ver10/schema}XAddr").text
        check(xaddr == "http://192.168.1.108:%d/onvif/event_service" % sim.port(4), "advertised XAddr: " + xaddr)
        sub = cam.create_subscription()
        check(sub.startswith("http://192.168.1.108:%d/onvif/subscription?Idx=" % sim.port(4)),
              "advertised subscription address: " + sub)
        got = cam.pull(sub.replace("192.168.1.108", "127.0.0.1"), timeout="PT0S")
        check([m["operation"] for m in got] == ["Initialized"], "the subscription works at the real host")
        sim.control(4, "advertise-host")

        # all cameras at once, and errors of the control port
        check(sim.control("all", "slow", ms=0)["cameras"] == 6, "control /cam/all applies to every camera")
        for bad, status in (("0/nonsense", 404), ("99/slow", 404), ("0/slow?ms=x", 400)):
            try:
                path, _, q = bad.partition("?")
                cam_id, action = path.split("/")
                sim.control(cam_id, action, **dict([q.split("=")]) if q else {})
                check(False, "control %s refused" % bad)
            except HttpError as e:
                check(e.status == status, "control %s -> %d" % (bad, e.status))
        st = sim.stats()
        check(len(st["cameras"]) == 6 and st["totals"]["requests"] >= 20 and st["cameras"][4]["requests"] >= 8,
              "stats count requests: %s" % st["totals"])
        check(st["cameras"][0]["dropped"] == 1 and st["cameras"][1]["dropped"] == 1,
              "stats count events dropped by expiry and reboot")
        _, dropped = sim.read_events_log()
        check(sorted(dropped.values()) == ["expired", "reboot"], "events log drop reasons: %s" % dropped)

        # prompt exit on SIGTERM with a long poll pending
        cam = sim.client(5)
        sub = cam.create_subscription()
        cam.pull(sub, timeout="PT0S")
        import threading
        threading.Thread(target=lambda: pull_error(cam, sub), daemon=True).start()
        time.sleep(0.3)
        t0 = time.monotonic()
        rc = sim.stop(signal.SIGTERM)
        check(rc == 0 and time.monotonic() - t0 < 10, "SIGTERM with a pending long poll: exit %s" % rc)

    # misbehaviour as start options applying to every camera
    with Camsim(cameras=2, auth="none", extra=["--skew", "-7200", "--one-subscriber", "--fault", "1",
                                               "--expired-reply", "404"]) as sim:
        for i in range(2):
            cam = sim.client(i)
            try:
                cam.system_time()
                check(False, "--fault 1 faults the first answer of camera %d" % i)
            except Fault:
                check(True, "--fault 1 faults the first answer of camera %d" % i)
            off = cam.sync_clock()
            check(abs(off + 7200) < 3, "--skew -7200 on camera %d: %.0f" % (i, off))
            cam.create_subscription()
            try:
                cam.create_subscription()
                check(False, "--one-subscriber on camera %d" % i)
            except Fault:
                check(True, "--one-subscriber on camera %d" % i)
            r = cam.raw("/onvif/subscription?Idx=77", envelope("<tev:PullMessages><tev:Timeout>PT0S</tev:Timeout>"
                                                               "<tev:MessageLimit>1</tev:MessageLimit></tev:PullMessages>"))
            check(r.status == 404, "--expired-reply 404: unknown subscription -> %d" % r.status)

    # alarms that never end on the wire
    with Camsim(cameras=1, auth="none", rate=5, extra=["--no-inactive", "--mix", "motion=1"]) as sim:
        cam = sim.client(0)
        sub = cam.create_subscription()
        got = []
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            got += [m for m in cam.pull(sub, timeout="PT1S") if m["operation"] == "Changed"]
        states = {m["data"]["IsMotion"] for m in got}
        check(len(got) >= 5 and states == {"true"}, "--no-inactive: %d events, states %s" % (len(got), states))

    with Camsim(cameras=1, auth="none", extra=["--duration", "1"]) as sim:
        try:
            rc = sim.proc.wait(timeout=30)
        except Exception:
            rc = None
        check(rc == 0, "--duration 1 exits by itself with 0: %s" % rc)


if __name__ == "__main__":
    main()
    finish()
