#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""RTSP patrol diagnosis against the real GStreamer test server (alarmgw-rtspd) on loopback.

Runs the RTSP adapter (agw-rtsp-drive: the adapter alone on a uv loop, alerts as JSON lines) and
checks: a normal picture raises nothing; an alert the core refuses is emitted again by the next
patrol; black, covered and frozen pictures each raise exactly one
alert with an evidence JPEG; on one camera whose picture the server switches, each condition
clears when the picture is back; a stopped mount raises video_loss and clears on start; killing
the whole server raises video_loss, and restarting it on the same port clears it."""
import os

from rtsptest import Alerts, fail, run, start_drive, start_rtspd, stop_drive


def check_evidence(state, a):
    rel = a["data"].get("Evidence")
    if not rel:
        fail(f"{a['camera']} {a['data']['Condition']}: no Evidence item")
    path = os.path.join(state, rel)
    with open(path, "rb") as f:
        head = f.read(3)
    if head[:2] != b"\xff\xd8":
        fail(f"{path} is not a JPEG")
    print("  evidence", rel, os.path.getsize(path), "bytes")


def main():
    import tempfile
    state = tempfile.mkdtemp(prefix="agw-rtsp-")
    server, port = start_rtspd()
    url = f"rtsp://127.0.0.1:{port}"
    drive = start_drive(state, ["interval=1s", "jitter=0", "timeout=10s", "io_timeout=5s", "frozen_count=3"],
                        [f"normal={url}/normal", f"black={url}/black", f"frozen={url}/frozen",
                         f"covered={url}/covered", f"sw={url}/switch"], extra=["--refuse", "1"])
    al = Alerts(drive)

    print("each diagnosis raises once, with its kind and evidence")
    expect = {"black": ("black", "tamper"), "covered": ("covered", "tamper"), "frozen": ("frozen", "device_health")}
    for cam, (cond, kind) in expect.items():
        a = al.wait(cam, cond, True)
        if a["kind"] != kind or a["adapter"] != "rtsp" or a["data"].get("State") != "true":
            fail(f"{cam}: unexpected alert {a}")
        check_evidence(state, a)
    al.pump(3)  # a few more patrols: nothing repeats
    for cam, (cond, kind) in expect.items():
        got = al.of(cam)
        if len(got) != 1:
            fail(f"{cam}: expected exactly one alert, got {len(got)}: {got}")
    for cam in ("normal", "sw"):
        if al.of(cam):
            fail(f"{cam}: a normal picture raised {al.of(cam)}")
    print("  normal pictures raised nothing")
    # The driver refused the very first alert (as a full core queue would): it must have come again.
    if len(al.refused) != 1:
        fail(f"expected one refused alert, got {al.refused}")
    r = al.refused[0]
    again = [a for a in al.of(r["camera"]) if a["data"]["Condition"] == r["data"]["Condition"]
             and a["active"] == r["active"]]
    if len(again) != 1:
        fail(f"the refused {r['camera']} {r['data']['Condition']} alert was not emitted again once")
    print("  refused alert emitted again by the next patrol:", r["camera"], r["data"]["Condition"])

    print("each condition clears when the picture is back")
    for show in ("black", "covered", "frozen"):
        server.send(f"show /switch {show}")
        al.wait("sw", show, True)
        server.send("show /switch normal")
        c = al.wait("sw", show, False)
        if c["kind"] != expect[show][1]:
            fail(f"clear of {show} has kind {c['kind']}")
    got = [(a["data"]["Condition"], a["active"]) for a in al.of("sw")]
    want = [("black", True), ("black", False), ("covered", True), ("covered", False), ("frozen", True),
            ("frozen", False)]
    if got != want:
        fail(f"sw transitions {got} != {want}")
    print("  sw transitions:", got)

    print("a stopped mount is video loss; starting it again clears it")
    server.send("stop /switch")
    a = al.wait("sw", "video_loss", True)
    if a["kind"] != "video_loss" or "404" not in a["data"].get("Reason", ""):
        fail(f"unexpected video_loss alert {a}")
    server.send("start /switch")
    al.wait("sw", "video_loss", False)

    print("the server going away is video loss; it coming back on the same port clears it")
    server.stop()
    a = al.wait("normal", "video_loss", True)
    al.wait("black", "video_loss", True)  # keep the outage until both were patrolled in it
    print("  reason:", a["data"].get("Reason"))
    server, port2 = start_rtspd(port)
    if port2 != port:
        fail(f"restarted server on {port2}, not {port}")
    al.wait("normal", "video_loss", False)
    al.wait("black", "video_loss", False)
    al.pump(2)
    # The frozen and black cameras stay in their condition through the outage: no clear.
    for cam, (cond, _) in (("frozen", expect["frozen"]), ("black", expect["black"])):
        if any(a["data"]["Condition"] == cond and not a["active"] for a in al.of(cam)):
            fail(f"{cam}: {cond} cleared although the picture never came back")
    normal_conds = {a["data"]["Condition"] for a in al.of("normal")}
    if normal_conds != {"video_loss"}:
        fail(f"normal camera raised {normal_conds}")

    stopped_ms, _ = stop_drive(drive, 30)
    print("  driver stopped", stopped_ms, "ms")
    print("PASS")


run(main)
