# SPDX-License-Identifier: GPL-2.0-or-later
"""The Dahua adapter's live pull against alarmgw-vendorsim: ten Dahua cameras (standard framing,
LF-only, Amcrest's "-- myboundary" without a blank line) and a 4-channel NVR, attach with
heartbeat=1, each camera misbehaving in one way (a wrong boundary: test_vendor_wrong_boundary.py), through journal and cases on MQTT, reconciled by
EventID exactly. What is checked: tests/integration/vendortest.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vendortest  # noqa: E402


def id_of(camera, alert):
    # the simulator numbers events per device in data.EventID, as Dahua firmware does
    eid = (alert.get("data") or {}).get("EventID")
    return "%s-%s" % (camera, eid) if eid else None


# device index -> (description, control calls at the start, control calls at the end)
MISBEHAVIOURS = {
    0: ("healthy", [], []),
    1: ("stream cut mid-part, 3 times", [("cut", {"count": 3})], []),
    2: ("silence without closing", [("silence", {})], []),
    3: ("stale digest nonce twice", [("stale-nonce", {"count": 2}), ("cut", {"count": 1})], []),
    4: ("one-connection limit while the old stream hangs 5 s",
        [("max-streams", {"n": 1}), ("silence", {"seconds": 5})], [("max-streams", {"n": 0})]),
    5: ("trickle at 100 bytes/s", [("slow", {"bps": 100})], [("slow", {"bps": 0})]),
    6: ("garbage between parts", [("garbage", {"bytes": 3000})], [("garbage", {"bytes": 3000})]),
    7: ("reboot 4 s", [("reboot", {"seconds": 4})], []),
    8: ("no Stop edges", [("no-inactive", {"on": 1})], [("no-inactive", {"on": 0})]),
}
HEALTH = {2: "event_channel_lost", 4: "event_channel_lost", 7: "camera_offline"}
TYPES = ["AlarmLocal", "VideoBlind", "LeftDetection", "FaceDetection", "VideoMotion"]

if __name__ == "__main__":
    vendortest.run("dahua", MISBEHAVIOURS, id_of, TYPES, adapter_extra="heartbeat = 1;", health_expect=HEALTH)
