#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Evidence of ONVIF cameras without a snapshot URI (adapters/onvif/onvif_exchange.c): the gateway
falls back to GetStreamUri and takes one keyframe of the stream as a JPEG, on the ONVIF adapter's
keyframe pool (adapters/rtsp/rtsp_grab.c). Real daemon, camsim (GetStreamUri answering the URL of the project's RTSP test
server, alarmgw-rtspd, started here on loopback at a size no other picture has) and mosquitto.

- cam-00001 refuses GetSnapshotUri (ActionNotSupported), cam-00002 gives a snapshot URI whose GET
  answers 404, cam-00003 serves its JPEG: the first two cameras' cases carry a keyframe
  (type keyframe, source the stream URL without credentials) whose JPEG decodes to the stream's
  352x288, read from the file's own SOF marker here and stored so by the gateway; the third's carry
  camsim's snapshot.
- The way that works is kept per camera: cam-00001 was asked GetSnapshotUri once, cam-00002's
  snapshot URI was fetched once, however many pictures followed.
- The keyframes are published on <prefix>/evidence/<case>/<n> like any picture.
"""
import os
import sys

from agwtest import check, finish, sql, tempdir
import rtsptest
from test_evidence import JPEG, run  # puts camsim_client on sys.path
from camsim_client import Camsim  # noqa: E402

WIDTH, HEIGHT = 352, 288


def jpeg_size(data):
    """(width, height) from the first SOFn marker of a JPEG, or None."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + length
    return None


def main():
    work = tempdir("agw-evs-")
    rtspd, port = rtsptest.start_rtspd(args=["-W", str(WIDTH), "-H", str(HEIGHT)])
    url = "rtsp://127.0.0.1:%d/normal" % port
    try:
        with Camsim(cameras=3, auth="both", rate=0.5, extra=["--mix", "intrusion=1", "--stream-url", url],
                    workdir=work) as sim:
            sim.control(0, "no-snapshot", on=1)
            sim.control(1, "snapshot-missing", on=1)
            db, state, msgs, stats = run(work, sim, 'min_interval = "0s"; max_per_case = 1000; timeout = "8s";', 16)
    finally:
        rtspd.stop()
    rows = sql(db, "SELECT camera_id, case_id, n, type, status, reason, source, width, height, path, bytes"
                   " FROM evidence ORDER BY requested_at")
    for cam in ("cam-00001", "cam-00002"):
        mine = [r for r in rows if r[0] == cam and "stopping" not in (r[5] or "")]
        stored = [r for r in mine if r[4] == "stored"]
        check(len(stored) >= 2 and len(stored) == len(mine),
              "%s: every picture is a stored keyframe (%d of %d; not: %s)"
              % (cam, len(stored), len(mine), [r[4:6] for r in mine if r[4] != "stored"][:2]))
        check(all(r[3] == "keyframe" and r[6] == url for r in stored),
              "%s: type keyframe, source the stream URL without credentials (%s)" % (cam, {(r[3], r[6]) for r in stored}))
        sizes = {jpeg_size(open(os.path.join(state, r[9]), "rb").read()) for r in stored}
        check(sizes == {(WIDTH, HEIGHT)}, "%s: the files are JPEGs of the stream's %dx%d: %s" % (cam, WIDTH, HEIGHT, sizes))
        check({(r[7], r[8]) for r in stored} == {(WIDTH, HEIGHT)}, "%s: and stored so" % cam)
        check(all(r[10] != len(JPEG) for r in stored), "%s: none of them is camsim's snapshot" % cam)
    check(stats[0]["snapshot_uri_asks"] == 1 and stats[0]["snapshot_gets"] == 0,
          "cam-00001: GetSnapshotUri asked once, then the stream kept (%d asks)" % stats[0]["snapshot_uri_asks"])
    check(stats[1]["snapshot_gets"] == 1, "cam-00002: the 404 snapshot URI fetched once (%d)" % stats[1]["snapshot_gets"])
    third = [r for r in rows if r[0] == "cam-00003" and r[4] == "stored"]
    check(third and all(r[3] == "snapshot" and r[10] == len(JPEG) for r in third),
          "cam-00003: its snapshots as before (%d)" % len(third))
    for kind in ("keyframe", "snapshot"):
        lat = sorted(r[0] for r in sql(db, "SELECT stored_at - requested_at FROM evidence WHERE status = 'stored'"
                                            " AND type = ?", (kind,)))
        if lat:
            print("%s: %d stored, request to stored p50 %d ms, max %d ms (a test run, not a benchmark)"
                  % (kind, len(lat), lat[len(lat) // 2], lat[-1]))
    published = {m["topic"] for m in msgs if "/evidence/" in m["topic"]}
    keyframes = {"agw/evidence/%s/%d" % (r[1], r[2]) for r in rows if r[3] == "keyframe" and r[4] == "stored"}
    check(keyframes and keyframes <= published, "the keyframes were published (%d of %d)"
          % (len(keyframes & published), len(keyframes)))
    finish()


if __name__ == "__main__":
    sys.exit(main())
