#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""camsim authentication: WS-Security PasswordDigest against the camera clock, HTTP Digest (RFC 7616),
both at once, none, and the digest-only misbehaviour. Requests are built by hand."""
import os
import shutil
import subprocess
import sys
import time

from agwtest import SOURCE, check, finish

sys.path.insert(0, os.path.join(SOURCE, "tests/sim/camsim"))
from camsim_client import Camsim, CameraClient, Fault, HttpError, envelope, wsse_header  # noqa: E402


def expect_fault(fn, subcode, what):
    try:
        fn()
        check(False, what + ": no fault")
    except Fault as f:
        check(f.subcode == subcode, "%s: %s" % (what, f))
    except HttpError as e:
        check(False, "%s: %s" % (what, e))


def expect_401(fn, what):
    try:
        fn()
        check(False, what + ": no 401")
    except HttpError as e:
        check(e.status == 401, "%s: %s" % (what, e))
    except Fault as f:
        check(False, "%s: %s" % (what, f))


def main():
    with Camsim(cameras=2, auth="wsse", user="op", password="s3cret,pw") as sim:
        good = sim.client(0)
        check(good.system_time() > 0, "GetSystemDateAndTime needs no credentials")
        info = good.device_information()
        check(info.get("SerialNumber") == "cam-00001", "GetDeviceInformation with a right token: %s" % info)
        anon = sim.client(0, wsse=False)
        expect_fault(anon.device_information, "ter:NotAuthorized", "no token")
        wrong = sim.client(0, password="nope")
        expect_fault(wrong.device_information, "ter:NotAuthorized", "wrong password")
        wrong_user = sim.client(0, user="admin")
        expect_fault(wrong_user.device_information, "ter:NotAuthorized", "wrong user")
        skewed = sim.client(0)
        skewed.clock_offset = -10
        expect_fault(skewed.device_information, "ter:NotAuthorized", "Created 10 s behind the camera")
        skewed.clock_offset = 3
        check(skewed.device_information()["SerialNumber"] == "cam-00001", "Created 3 s off is accepted")
        # A camera whose clock runs an hour ahead: tokens must be built in camera time.
        sim.control(1, "skew", seconds=3600)
        cam = sim.client(1)
        expect_fault(cam.device_information, "ter:NotAuthorized", "token in local time on a skewed camera")
        off = cam.sync_clock()
        check(abs(off - 3600) < 3, "GetSystemDateAndTime shows the skew: %.1f s" % off)
        check(cam.device_information()["SerialNumber"] == "cam-00002", "token in camera time is accepted")
        sim.control(1, "clock-reset")
        off = cam.sync_clock()
        check(cam.system_time() < 86400, "clock-reset puts the camera in 1970 (offset %.0f)" % off)
        check(cam.device_information()["SerialNumber"] == "cam-00002", "token built in 1970 camera time accepted")
        # A replayed token from the past keeps its old Created: refused.
        old = envelope("<tds:GetDeviceInformation/>", wsse_header("op", "s3cret,pw", time.time() - 60))
        r = sim.client(0).raw("/onvif/device_service", old)
        check(r.status == 400 and b"NotAuthorized" in r.body, "a token created 60 s ago is refused")
        # digest-only at run time: WS-Security no longer accepted, Digest required.
        sim.control(0, "digest-only")
        expect_401(good.device_information, "digest-only camera without Digest")
        both = sim.client(0, wsse=True, digest=True)
        expect_fault(both.device_information, "ter:NotAuthorized", "digest-only camera given WS-Security too")
        dig = sim.client(0, wsse=False, digest=True)
        check(dig.device_information()["SerialNumber"] == "cam-00001", "digest-only camera with Digest alone")
        sim.control(0, "digest-only", on=0)
        check(good.device_information()["SerialNumber"] == "cam-00001", "digest-only switched off again")

    with Camsim(cameras=1, auth="digest") as sim:
        anon = sim.client(0, digest=False)
        r = anon.raw("/onvif/device_service", envelope("<tds:GetDeviceInformation/>"))
        chal = r.headers.get("WWW-Authenticate", "")
        check(r.status == 401 and chal.startswith("Digest ") and 'qop="auth"' in chal and "nonce=" in chal,
              "401 with a Digest challenge: %s" % chal)
        cam = sim.client(0)
        check(cam.device_information()["SerialNumber"] == "cam-00001", "Digest with qop=auth is accepted")
        check(cam.device_information()["SerialNumber"] == "cam-00001", "the nonce is reused with a higher nc")
        expect_401(sim.client(0, password="bad").device_information, "Digest with a wrong password")
        forged = sim.client(0)
        forged.challenge = chal.replace("nonce=\"", "nonce=\"0")
        r = forged.raw("/onvif/device_service", envelope("<tds:GetDeviceInformation/>"),
                       {"Authorization": 'Digest username="admin", realm="camsim", nonce="1.abc", uri="/x", '
                                         'qop=auth, nc=00000001, cnonce="c", response="0123"'})
        check(r.status == 401, "a nonce camsim did not issue is refused")

        # libcurl (the gateway's transport) negotiates Digest with an empty POST first
        if shutil.which("curl"):
            body = envelope("<tds:GetDeviceInformation/>")
            for path in ("/onvif/device_service", "/onvif/subscription?Idx=5"):
                out = subprocess.run(["curl", "-s", "--digest", "-u", "admin:admin", "-H",
                                      "Content-Type: application/soap+xml", "-d", body, "-w", "\n%{http_code}",
                                      "http://127.0.0.1:%d%s" % (sim.port(0), path)],
                                     capture_output=True, text=True, timeout=30).stdout
                check(out.endswith("\n200") and "<tds:SerialNumber>cam-00001<" in out,
                      "curl --digest on %s: %s" % (path, out[-3:]))
            out = subprocess.run(["curl", "-s", "--digest", "-u", "admin:wrong", "-d", body, "-o", "/dev/null",
                                  "-w", "%{http_code}", "http://127.0.0.1:%d/onvif/device_service" % sim.port(0)],
                                 capture_output=True, text=True, timeout=30).stdout
            check(out == "401", "curl --digest with a wrong password: %s" % out)

    with Camsim(cameras=1, auth="both") as sim:
        expect_401(sim.client(0, digest=False).device_information, "both: WS-Security alone")
        expect_fault(sim.client(0, wsse=False).device_information, "ter:NotAuthorized", "both: Digest alone")
        check(sim.client(0).device_information()["SerialNumber"] == "cam-00001", "both: Digest and WS-Security")

    with Camsim(cameras=1, auth="none") as sim:
        cam = CameraClient("127.0.0.1", sim.port(0), wsse=False)
        check(cam.device_information()["SerialNumber"] == "cam-00001", "none: no credentials needed")


if __name__ == "__main__":
    main()
    finish()
