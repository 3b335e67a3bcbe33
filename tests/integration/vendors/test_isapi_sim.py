# SPDX-License-Identifier: GPL-2.0-or-later
"""The ISAPI adapter's live pull against alarmgw-vendorsim: ten Hikvision cameras in every dialect
(ver20, ver10, no namespace, JSON; CRLF and LF; boundary and MIME_boundary) and a 4-channel NVR
(dynChannelID), each camera misbehaving in one way (a wrong boundary: test_vendor_wrong_boundary.py), through journal and cases on MQTT, reconciled
by simEventId exactly. What is checked: tests/integration/vendortest.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import vendortest  # noqa: E402


def id_of(camera, alert):
    return (alert.get("data") or {}).get("simEventId")


# device index -> (description, control calls at the start, control calls at the end)
MISBEHAVIOURS = {
    0: ("healthy", [], []),
    1: ("stream cut mid-part, 3 times", [("cut", {"count": 3})], []),
    2: ("silence without closing", [("silence", {})], []),
    3: ("stale digest nonce twice", [("stale-nonce", {"count": 2}), ("cut", {"count": 1})], []),
    4: ("one-connection limit while the old stream hangs 5 s",
        [("max-streams", {"n": 1}), ("silence", {"seconds": 5})], [("max-streams", {"n": 0})]),
    5: ("trickle at 300 bytes/s", [("slow", {"bps": 300})], [("slow", {"bps": 0})]),
    6: ("garbage between parts", [("garbage", {"bytes": 3000})], [("garbage", {"bytes": 3000})]),
    7: ("reboot 4 s", [("reboot", {"seconds": 4})], []),
    8: ("no inactive edges", [("no-inactive", {"on": 1})], [("no-inactive", {"on": 0})]),
}
HEALTH = {2: "event_channel_lost", 4: "event_channel_lost", 7: "camera_offline"}
TYPES = ["IO", "PIR", "tamperdetection", "VMD", "scenechangedetection"]

if __name__ == "__main__":
    vendortest.run("isapi", MISBEHAVIOURS, id_of, TYPES, adapter_extra='coalesce = "3s";', health_expect=HEALTH)
