#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The RTSP adapter inside the daemon: `alarmgw run -c FILE` with an adapters.rtsp section and
RTSP cameras from the ledger CSV, against alarmgw-rtspd on loopback. Checks that the options of
the config section reach the adapter (a 1 s patrol interval), that a black camera's tamper alert
and a stopped camera's video_loss raise and clear land in the journal (sqlite), that the evidence
JPEG the alert names exists under state_dir and is referenced by the case message in the outbox,
that a normal camera journals nothing, that a reload with a new ledger drops and adds cameras
(an unchanged camera keeps its state), and that
SIGTERM stops the daemon promptly."""
import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("AGW_BUILD_DIR", "build")
ALARMGW = os.path.join(BUILD, "gateway", "alarmgw")
RTSPD = os.path.join(BUILD, "tests/sim/rtspd/alarmgw-rtspd")
procs = []


def fail(msg):
    print("FAIL:", msg)
    for p, err in procs:
        print("--- stderr of", p.args[0])
        print("".join(err[-40:]))
    raise SystemExit(1)


def spawn(argv, env=None):
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         bufsize=1, env=env)
    out, err = queue.Queue(), []
    threading.Thread(target=lambda: [out.put(l.rstrip("\n")) for l in p.stdout], daemon=True).start()
    threading.Thread(target=lambda: [err.append(l) for l in p.stderr], daemon=True).start()
    procs.append((p, err))
    return p, out, err


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def journal(db):
    """Alerts journaled so far, as (camera, parsed json)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        rows = con.execute("SELECT camera_id, json FROM alerts WHERE adapter = 'rtsp' ORDER BY seq").fetchall()
        con.close()
    except sqlite3.Error:
        return []
    return [(cam, json.loads(j)) for cam, j in rows]


def wait_for(db, camera, cond, active, timeout=40):
    end = time.time() + timeout
    while time.time() < end:
        for cam, a in journal(db):
            if cam == camera and a["data"].get("Condition") == cond and a["active"] == active:
                return a
        time.sleep(0.5)
    fail(f"journal has no {cond} {'raise' if active else 'clear'} for {camera} after {timeout}s: {journal(db)}")


def main():
    if not os.access(ALARMGW, os.X_OK):
        fail(f"{ALARMGW} is not built")
    tmp = tempfile.mkdtemp(prefix="agw-rtsp-daemon-")
    state = os.path.join(tmp, "state")
    os.mkdir(state)
    server, srv_out, _ = spawn([RTSPD, "-p", "0"], env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    line = srv_out.get(timeout=20)
    if not line.startswith("READY port="):
        fail(f"alarmgw-rtspd: {line}")
    url = f"rtsp://127.0.0.1:{int(line.split('=')[1])}"
    ledger = os.path.join(tmp, "cameras.csv")
    with open(ledger, "w") as f:
        f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n")
        f.write(f"cam-black,Black,test,rtsp,{url}/black,,,116.39,39.90,wgs84,\n")
        f.write(f"cam-normal,Normal,test,rtsp,{url}/normal,,,116.39,39.91,wgs84,\n")
        f.write(f"cam-switch,Switch,test,rtsp,{url}/switch,,,116.39,39.92,wgs84,\n")
    cfg = os.path.join(tmp, "alarmgw.conf")
    with open(cfg, "w") as f:
        f.write(f"""
gateway = {{
  id = "gw-rtsp";
  state_dir = "{state}";
  log_level = "info";
}};
cameras = {{
  ledger = "{ledger}";
}};
mqtt = {{
  uri = "tcp://127.0.0.1:{free_port()}";
}};
adapters = {{
  rtsp = {{
    interval = "1s";
    jitter = "0s";
    timeout = "5s";
    concurrency = 2;
  }};
}};
""")
    daemon, _, derr = spawn([ALARMGW, "run", "-c", cfg])
    db = os.path.join(state, "alarmgw.db")

    print("a black camera raises tamper, with its evidence under state_dir")
    a = wait_for(db, "cam-black", "black", True)
    if a["kind"] != "tamper":
        fail(f"unexpected kind {a}")
    ev = os.path.join(state, a["data"]["Evidence"])
    with open(ev, "rb") as f:
        if f.read(2) != b"\xff\xd8":
            fail(f"{ev} is not a JPEG")
    print("  evidence", a["data"]["Evidence"])
    # The case message sent for it names the alert that carries the picture (its event id) among its alerts.
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    msgs = [json.loads(p) for (p,) in con.execute("SELECT payload FROM outbox ORDER BY seq")]
    con.close()
    case = [m for m in msgs if m.get("camera", {}).get("id") == "cam-black"]
    if not case or a["data"]["Evidence"] not in [e.get("event_id") for e in case[0].get("alerts", [])]:
        fail(f"the case message for cam-black does not reference the picture: {case}")
    print("  case", case[0]["case_id"], "references it")

    print("a stopped stream raises video_loss; starting it again clears it")
    server.stdin.write("stop /switch\n")
    server.stdin.flush()
    wait_for(db, "cam-switch", "video_loss", True)
    server.stdin.write("start /switch\n")
    server.stdin.flush()
    wait_for(db, "cam-switch", "video_loss", False)
    normal = [a for cam, a in journal(db) if cam == "cam-normal"]
    if normal:
        fail(f"the normal camera journaled {normal}")
    black = [a for cam, a in journal(db) if cam == "cam-black"]
    if len(black) != 1:
        fail(f"the black camera should have one alert, has {black}")
    print("  journal:", [(cam, a["data"]["Condition"], a["active"]) for cam, a in journal(db)])

    print("reload (SIGHUP) with a new ledger: a removed camera is no longer patrolled, a new one is")
    with open(ledger, "w") as f:
        f.write("id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags\n")
        f.write(f"cam-black,Black,test,rtsp,{url}/black,,,116.39,39.90,wgs84,\n")
        f.write(f"cam-normal,Normal,test,rtsp,{url}/normal,,,116.39,39.91,wgs84,\n")
        f.write(f"cam-frozen,Frozen,test,rtsp,{url}/frozen,,,116.39,39.93,wgs84,\n")
    daemon.send_signal(signal.SIGHUP)
    wait_for(db, "cam-frozen", "frozen", True)
    before = len([1 for cam, _ in journal(db) if cam == "cam-switch"])
    server.stdin.write("stop /switch\n")
    server.stdin.flush()
    time.sleep(4)  # four patrol intervals
    after = len([1 for cam, _ in journal(db) if cam == "cam-switch"])
    if after != before:
        fail(f"the removed camera cam-switch still raised alerts ({before} -> {after})")
    if len([1 for cam, a in journal(db) if cam == "cam-black"]) != 1:
        fail("the kept camera cam-black raised its black picture again after the reload")
    print("  cam-frozen raised frozen; cam-switch silent; cam-black kept its state")

    print("SIGTERM stops the daemon")
    t0 = time.time()
    daemon.send_signal(signal.SIGTERM)
    try:
        rc = daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        fail("the daemon did not stop within 30 s of SIGTERM")
    print(f"  exit code {rc} after {time.time() - t0:.2f} s")
    if rc != 0:
        fail(f"daemon exit code {rc}")
    if any("rtsp" in l and "<3>" in l for l in derr):
        fail("the rtsp adapter logged errors")
    print("PASS")


try:
    main()
finally:
    for p, _ in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
