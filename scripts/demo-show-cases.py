#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints `mosquitto_sub -v` lines of case messages the way a grid station would glance at them."""
import json
import sys

for line in sys.stdin:
    topic, _, body = line.rstrip("\n").partition(" ")
    try:
        case = json.loads(body)
    except ValueError:
        print(f"{topic}  (not JSON: {body[:60]!r})", flush=True)
        continue
    event = case.get("event") or {}
    workers = ",".join((case.get("cell") or {}).get("workers") or []) or "unassigned"
    print(f"{topic}  {case.get('action', '?'):6} P{case.get('priority')} {case.get('title')}  "
          f"[{event.get('kind')} x{event.get('count')}] -> {workers}", flush=True)
