#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""RTSP adapter: the ONVIF metadata track, credentials, timeouts and prompt shutdown, against the
real GStreamer test server (alarmgw-rtspd) on loopback.

Checks: motion events sent on the /meta stream's application/vnd.onvif.metadata track (split over
RTP packets) come out as normalized motion alerts, in order, with the events' ids; a camera with
the right credentials in the ledger is patrolled (the metadata session uses them too), one with a
wrong password or none is video loss (401);
the password never appears in any output, even at debug level with FFmpeg's own log; a camera
that accepts TCP but never answers is video loss by the patrol deadline; stopping the adapter while
such a patrol is in flight does not wait for the patrol's deadline."""
import json
import time

from rtsptest import Alerts, fail, run, start_drive, start_rtspd, stop_drive


def main():
    import socket
    import tempfile
    state = tempfile.mkdtemp(prefix="agw-rtsp-")
    user, password = "operator", "s3cr3t@:/x"
    server, port = start_rtspd(args=["--auth", f"{user}:{password}", "--meta-interval", "500"])
    url = f"rtsp://127.0.0.1:{port}"
    # A "camera" that accepts the connection and never says a word.
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(128)
    hang_url = f"rtsp://127.0.0.1:{mute.getsockname()[1]}/live"

    drive = start_drive(state, ["interval=1s", "jitter=0", "timeout=5s", "io_timeout=5s",
                                "metadata_idle_timeout=2s"],
                        [f"meta={url}/meta,{user},{password}", f"auth={url}/normal,{user},{password}",
                         f"badauth={url}/normal,{user},wrong", f"noauth={url}/normal", f"hang={hang_url}"], debug=True)
    al = Alerts(drive, timeout=30)

    print("metadata track events become normalized alerts")
    end = time.time() + 40
    while time.time() < end and len([a for a in al.of("meta") if a["kind"] == "motion"]) < 4:
        al.pump(0.5)
    motion = [a for a in al.of("meta") if a["kind"] == "motion"]
    if len(motion) < 4:
        fail(f"expected 4 motion alerts from the metadata track, got {motion}")
    ids = [int(a["id"].split("-")[1]) for a in motion]
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        fail(f"event ids out of order or repeated: {ids}")
    for a in motion:
        n = int(a["id"].split("-")[1])
        want = n % 2 == 0  # the server alternates IsMotion true/false
        if a["active"] != want or a["topic"] != "tns1:RuleEngine/CellMotionDetector/Motion" \
                or a["adapter"] != "rtsp" or a["data"].get("IsMotion") not in ("true", "false") \
                or not a["camera_time"]:
            fail(f"unexpected metadata alert {a}")
    print("  ids", ids)

    print("a metadata session that goes quiet is closed and reopened; events resume")
    server.send("mute /meta")
    quiet = lambda: any("[rtsp:meta] metadata session ended" in l and "no metadata for" in l for l in drive.err)
    end = time.time() + 30
    while time.time() < end and not quiet():
        al.pump(0.5)
    if not quiet():
        fail("the quiet metadata session was not closed")
    a = al.wait("meta", "video_loss", True)  # the patrols see the muted stream too
    print("  muted:", a["data"]["Reason"])
    last = max(int(a["id"].split("-")[1]) for a in al.of("meta") if a["kind"] == "motion")
    server.send("unmute /meta")
    al.wait("meta", "video_loss", False)
    end = time.time() + 40
    resumed = lambda: [a for a in al.of("meta") if a["kind"] == "motion" and int(a["id"].split("-")[1]) > last]
    while time.time() < end and len(resumed()) < 2:
        al.pump(0.5)
    if len(resumed()) < 2:
        fail("metadata events did not resume after the stream came back")
    print("  resumed with ids", [a["id"] for a in resumed()])

    print("credentials: right ones patrol, wrong ones are video loss, none is ever printed")
    a = al.wait("badauth", "video_loss", True)
    if "401" not in a["data"].get("Reason", ""):
        fail(f"wrong password should be a 401: {a}")
    a = al.wait("noauth", "video_loss", True)
    if "401" not in a["data"].get("Reason", ""):
        fail(f"no credentials should be a 401: {a}")
    a = al.wait("hang", "video_loss", True)
    if "timed out" not in a["data"].get("Reason", ""):
        fail(f"a silent camera should time out: {a}")
    print("  hang:", a["data"]["Reason"])
    end = time.time() + 20
    while time.time() < end and not any("[rtsp:auth] patrol: " in l for l in drive.err):
        al.pump(0.5)
    if not any("[rtsp:auth] patrol: " in l for l in drive.err):
        fail("the camera with credentials was never patrolled")
    if al.of("auth"):
        fail(f"the camera with the right credentials raised {al.of('auth')}")
    stopped_ms, late = stop_drive(drive, 30)
    al.all += late
    from urllib.parse import quote
    text = "\n".join(drive.err) + "\n" + "\n".join(json.dumps(a) for a in al.all)
    for secret in (password, quote(password, safe=""), "s3cr3t"):
        if secret in text:
            fail(f"the password appears in the output ({secret!r})")
    print(f"  {len(drive.err)} log lines and {len(al.all)} alerts checked: no password")

    print("stop does not wait for a patrol stuck on a silent camera")
    drive = start_drive(state, ["interval=1s", "jitter=0", "timeout=120s", "io_timeout=120s"], [f"hang={hang_url}"])
    time.sleep(2)  # the patrol is connected and waiting for an answer
    stopped_ms, late = stop_drive(drive, 60)
    print(f"  stopped in {stopped_ms} ms with a 120 s patrol deadline pending")
    if stopped_ms >= 120000:
        fail("stop waited for the patrol deadline")
    if late:
        fail(f"stopping raised alerts: {late}")
    mute.close()
    print("PASS")


run(main)
