#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The plain status table (/table) rendered by headless Chromium (Debian package chromium): the DOM
shows the cameras, cases and alerts seeded into the store, and the screenshot is a real rendering
(decoded here with zlib: right size, many colours, the state colours of the rows).
Exits 77 (skip) with a message when chromium is not installed."""
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import zlib
from html.parser import HTMLParser

import test_ops_http as ops
from test_ops_http import check, run_main

SKIP = 77


class Tables(HTMLParser):
    """Collects the text of every cell of the tables with an id, row by row."""

    def __init__(self):
        super().__init__()
        self.tables, self.ids = {}, {}
        self.table = self.row = self.cell = None
        self.id_stack = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "id" in a:
            self.table = self.tables.setdefault(a["id"], [])
        elif tag == "tr" and self.table is not None:
            self.row = {"class": a.get("class"), "cells": []}
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""
        elif tag == "b" and "id" in a:
            self.id_stack = a["id"]
            self.ids[a["id"]] = ""
        elif tag == "b" and self.cell is not None:
            check(False, "markup from the store became an element")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row["cells"].append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row["cells"] and self.table is not None:
                self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "b":
            self.id_stack = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.id_stack:
            self.ids[self.id_stack] += data


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA PNG into (width, height, list of row bytes, bytes per pixel)."""
    data = open(path, "rb").read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = hdr
    check(depth == 8 and color in (2, 6) and interlace == 0, f"8-bit RGB(A) PNG (depth {depth}, colour {color})")
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def run_chromium(browser, url, tmp):
    shot = os.path.join(tmp, "page.png")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={os.path.join(tmp, 'chromium')}", f"--screenshot={shot}", "--window-size=1280,900",
           "--dump-dom", url]
    print("running:", " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        check(False, "chromium finished within 120 s")
    if proc.returncode != 0:
        print(err[-2000:])
    check(proc.returncode == 0, f"chromium exit status 0 (got {proc.returncode})")
    return out, shot


def main():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("SKIP: chromium is not installed (Debian package: apt-get install chromium); "
              "the status page was NOT tested")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="agw-ops-page-")
    db = os.path.join(tmp, "alarmgw.db")
    srv = ops.Server(db)
    try:
        ops.seed(db)
        dom, shot = run_chromium(browser, f"http://127.0.0.1:{srv.port}/table", tmp)
        p = Tables()
        p.feed(dom)
        check("alarmgw status" in dom, "the page title is in the DOM")
        cams = {r["cells"][0]: r for r in p.tables.get("cameras", []) if r["cells"] and r["cells"][0] != "id"}
        check(set(cams) == {c[0] for c in ops.CAMERAS}, f"every seeded camera is listed ({sorted(cams)})")
        want = {"cam-gate": "online", "cam-yard": "offline", "cam-lobby": "channel_lost", "cam-roof": "online",
                "cam-silent": "unknown"}
        for cid, state in want.items():
            check(cams[cid]["cells"][3] == state and cams[cid]["class"] == state, f"{cid} shows state {state}")
        check(cams["cam-gate"]["cells"][4] == "intrusion", "cam-gate shows its last event (intrusion)")
        check(cams["cam-roof"]["cells"][1] == "Roof <b>west</b>", "a name with markup is shown as text")
        cases = [r["cells"] for r in p.tables.get("cases", []) if r["cells"] and r["cells"][0] != "case"]
        check([c[0] for c in cases] == ["gw1-0002", "gw1-0001", "gw1-0003"], "recent cases, newest first")
        check(cases[1][1] == "open" and cases[1][4] == "310104-011-003", "case status and grid cell shown")
        alerts = [r["cells"] for r in p.tables.get("alerts", []) if r["cells"] and r["cells"][0] != "seq"]
        check(len(alerts) == len(ops.ALERTS), f"{len(ops.ALERTS)} recent alerts shown")
        check(alerts[0][2] == "cam-roof" and alerts[0][3] == "tamper", "newest alert first")
        check(p.ids.get("outbox-depth") == "2", "outbox depth 2 shown")
        check(p.ids.get("cameras-offline") == "1", "offline count 1 shown")

        width, height, rows, bpp = png_pixels(shot)
        check((width, height) == (1280, 900), f"screenshot is 1280x900 (got {width}x{height})")
        counts = {}
        for row in rows[::3]:
            for x in range(0, width * bpp, bpp * 2):
                px = row[x:x + 3]
                counts[px] = counts.get(px, 0) + 1
        total = sum(counts.values())
        top = max(counts.values())
        print(f"screenshot: {len(counts)} colours in {total} sampled pixels, most common {top / total:.0%}")
        check(len(counts) >= 20, "the screenshot has many colours (text was drawn)")
        check(top / total < 0.9, "no single colour covers 90% of the screenshot (it is not blank)")
        check(counts.get(bytes((0xf8, 0xd0, 0xd0)), 0) > 200, "the offline row's colour is on screen")
        check(counts.get(bytes((0xd6, 0xf0, 0xd6)), 0) > 200, "the online rows' colour is on screen")
        check(counts.get(bytes((0xfb, 0xe7, 0xb5)), 0) > 200, "the channel_lost row's colour is on screen")
        rc, err = srv.stop()
        check(rc == 0, "the server stops cleanly")
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
