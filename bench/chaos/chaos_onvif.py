#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/chaos: the ONVIF chaos test (tests/integration/onvif/test_chaos_onvif.py) as a longer campaign
that prints figures. Same harness, same reconciliation, larger defaults: 1,000 cameras and four
fault cycles of 90 s (each: two graceful restarts, two broker SIGKILLs, a foreign write lock, a full
disk, two gateway SIGKILLs, cut answers on a few cameras). Every option of the test is accepted;
--out FILE also writes the figures as JSON.

    python3 bench/chaos/chaos_onvif.py --build-dir build-test --cameras 1000 --cycles 4 \\
        --out /tmp/agw-chaos.json

Exit code 0 when every event is delivered, dropped by a rule or lost for an allowed, named reason
(see docs/reliability.md), 1 otherwise."""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--build-dir", default=os.environ.get("AGW_BUILD_DIR", os.path.join(SOURCE, "build-test")))
    ap.add_argument("--out")
    ap.add_argument("-h", "--help", action="store_true")
    own, rest = ap.parse_known_args()
    # agwtest reads the build directory when it is imported
    os.environ["AGW_BUILD_DIR"] = os.path.abspath(own.build_dir)
    os.environ["AGW_SOURCE_DIR"] = SOURCE
    sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
    import test_chaos_onvif as chaos
    if own.help:
        print(__doc__)
        rest = ["--help"]
    campaign = dict(cameras=1000, cycles=4, cycle_seconds=90.0, rate=0.1, malformed=5, tmpfs_mb=512,
                    subscribe_timeout=300.0, drain_max=300.0)
    if own.out:
        chaos.FIGURES_PATH = own.out
    chaos.main(rest, **campaign)


if __name__ == "__main__":
    main()
