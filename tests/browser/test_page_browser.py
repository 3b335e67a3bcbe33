#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The control-room page in headless Chromium against a gateway with 10,000 cameras.

The gateway is the real daemon with a real grid (200 cells: 2 districts, 8 streets, 40
communities) and a ledger of 10,000 ONVIF cameras: 40 are camsim cameras that send alarms (cases
open), 9,760 point at closed loopback ports (the ONVIF adapter finds them offline, as it would
unplugged cameras), 200 are RTSP cameras no adapter serves (never heard from). A real mosquitto
takes the cases; it is killed halfway to see the page say so by itself (server-sent events).

Checked in the browser: the problem list, the counts per district/street/community, the map
(every polygon and every located camera drawn), search and paging, the language switch, times
in Asia/Shanghai with UTC on hover, no CSP violation. Screenshots go to the build directory
(page-*.png). First render time and response sizes are printed, not judged.

Drives Chromium through chromium-driver with Debian's python3-selenium (re-executed under
/usr/bin/python3 when the python on PATH lacks it); exits 77 when chromium-driver is missing."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", "-u"] + sys.argv)
    print("skip: python3-selenium is not installed")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import agwtest  # noqa: E402
from agwtest import Gateway, Mosquitto, alarmgw, check, free_port, spawn, tempdir, wait_for  # noqa: E402

if not shutil.which("chromedriver") or not shutil.which("mosquitto"):
    print("skip: chromium-driver or mosquitto is not installed")
    sys.exit(77)

N_CAMERAS, N_CAMSIM, N_SILENT = 10000, 40, 200
N_OFFLINE = N_CAMERAS - N_CAMSIM - N_SILENT
SHOTS = os.path.join(agwtest.BUILD, "page-screenshots")
random.seed(19)
work = tempdir("agw-page-")
state = os.path.join(work, "state")
os.makedirs(state)
os.makedirs(SHOTS, exist_ok=True)


def cell_geometry(k):
    """Cell k of a 20 x 10 block of 0.01 degree squares in Beijing (WGS-84)."""
    lon, lat = 116.30 + (k % 20) * 0.01, 39.90 + (k // 20) * 0.01
    return lon, lat, [[[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]]


def cell_code(k):
    d, s, c, g = k // 100, (k // 25) % 4, (k // 5) % 5, k % 5
    district = "11010%d" % (5 + d)
    street = district + "%03d" % (s + 1)
    community = street + "%03d" % (c + 1)
    return [district, street, community], community + "%03d" % (g + 1)


def write_grid():
    features = []
    for k in range(200):
        parents, code = cell_code(k)
        _, _, ring = cell_geometry(k)
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": ring},
                         "properties": {"code": code, "name": ("<img src=x id=evil>" if k == 0 else "") + "第%d网格" % (k + 1), "parents": parents,
                                        "workers": ["网格员%d" % (k % 7 + 1)]}})
    path = os.path.join(work, "cells.geojson")
    with open(path, "w") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, ensure_ascii=False)
    return path


def write_ledger(camsim_ledger):
    rows = ["id,name,vendor,protocol,address,username,password,longitude,latitude,crs,tags"]
    sims = [line.split(",") for line in open(camsim_ledger).read().splitlines()[1:]]
    for i in range(N_CAMERAS):
        lon, lat, _ = cell_geometry(i % 200)
        lon, lat = lon + random.uniform(0.001, 0.009), lat + random.uniform(0.001, 0.009)
        cid = "cam-%05d" % (i + 1)
        if i < N_CAMSIM:
            s = sims[i]
            rows.append(f"{cid},路口{i + 1}号,CamSim,onvif,{s[4]},admin,admin,{lon:.6f},{lat:.6f},wgs84,camsim")
        elif i < N_CAMSIM + N_OFFLINE:
            # A closed port on its own loopback address: refused at once, like an unplugged camera
            # behind a switch that answers with a reset.
            addr = "http://127.%d.%d.%d:9/onvif/device_service" % (1 + i // 62500, (i // 250) % 250, i % 250 + 1)
            vendor = ("hikvision", "dahua", "uniview")[i % 3]
            rows.append(f"{cid},Camera {i + 1},{vendor},onvif,{addr},admin,admin,{lon:.6f},{lat:.6f},wgs84,")
        else:
            rows.append(f"{cid},Road {i + 1},hikvision,rtsp,rtsp://127.0.0.1:9/s{i},,,{lon:.6f},{lat:.6f},wgs84,")
    path = os.path.join(work, "cameras.csv")
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")
    return path


def get(port, path):
    t0 = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        body = r.read()
    return body, time.monotonic() - t0


def healthy(port):
    try:
        return get(port, "/healthz")[0] == b"ok\n"
    except OSError:
        return False


procs = []
driver = None
gw = None
try:
    camsim = os.path.join(agwtest.BUILD, "tests", "sim", "camsim", "alarmgw-camsim")
    sim_ledger = os.path.join(work, "camsim.csv")
    for attempt in range(5):  # a run of 40 ports another test may hold: try another run
        base = random.randrange(20000, 30000)
        sim = spawn([camsim, "-n", str(N_CAMSIM), "-p", str(base), "--rate", "0.2", "--mix",
                     "intrusion=2,tamper=1,motion=1", "--ledger", sim_ledger, "--log-level", "warning"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(sim)
        if "ready" in sim.stdout.readline():
            break
        sim.wait(timeout=10)
    check(os.path.exists(sim_ledger), "camsim is ready")
    mosq = Mosquitto(work).start()
    ledger = write_ledger(sim_ledger)
    rules = os.path.join(work, "rules.conf")
    with open(rules, "w") as f:
        f.write('version = 1;\nrules = (\n'
                '  { name = "intrusion"; kinds = "intrusion"; action = "open"; category = "A01"; priority = 1; },\n'
                '  { name = "tamper"; kinds = "tamper"; action = "open"; category = "B02"; priority = 2; },\n'
                '  { name = "rest"; kinds = ["any"]; action = "drop"; reason = "not a case here"; }\n);\n')
    http_port = free_port()
    conf = os.path.join(work, "alarmgw.conf")
    with open(conf, "w") as f:
        f.write(f'gateway: {{ id = "gw-page"; state_dir = "{state}"; log_level = "notice"; '
                f'http_listen = "127.0.0.1:{http_port}"; }};\n'
                f'cameras: {{ ledger = "{ledger}"; }};\n'
                f'rules: {{ file = "{rules}"; grid_layer = "default"; }};\n'
                f'mqtt: {{ uri = "{mosq.uri}"; topic_prefix = "city"; }};\n'
                'adapters: { onvif: { connect_timeout = "2s"; backoff_min = "5s"; backoff_max = "60s"; '
                'max_bootstraps = 256; }; };\n')
    alarmgw("grid", "import", "-c", conf, write_grid(), check_rc=0)
    t0 = time.monotonic()
    gw = Gateway(conf).start()
    wait_for(lambda: healthy(http_port), "the gateway to serve", timeout=30)

    def summary():
        return json.loads(get(http_port, "/api/summary")[0])

    # Bounded: the ONVIF adapter finds 9,760 closed ports offline, camsim's alarms open cases.
    wait_for(lambda: (lambda s: s["cameras_by_state"]["offline"] >= N_OFFLINE and s["open_cases"] >= 5)(summary()),
             "9,760 cameras offline and 5 open cases", timeout=60, interval=0.5)
    print("gateway ready with %d cameras in %.1f s" % (N_CAMERAS, time.monotonic() - t0))
    s = summary()
    check(s["cameras"] == N_CAMERAS, f"{N_CAMERAS} cameras in the summary ({s['cameras']})")
    check(s["grid"] and s["grid"]["crs"] == "wgs84" and s["time_zone"] == "Asia/Shanghai", f"grid and zone {s['grid']}")
    kinds = {p["kind"]: p for p in s["problems"]}
    check(kinds.get("offline", {}).get("count") == N_OFFLINE and kinds["offline"]["since"],
          f"problem: {N_OFFLINE} offline, with since ({kinds.get('offline', {}).get('count')})")
    check(kinds.get("never_heard", {}).get("count") == N_SILENT, "problem: 200 never heard from")
    check([d["code"] for d in sorted(s["levels"]["district"], key=lambda d: d["code"])] == ["110105", "110106"]
          and sum(d["cameras"] for d in s["levels"]["district"]) == N_CAMERAS
          and len(s["levels"]["street"]) == 8 and len(s["levels"]["community"]) == 40,
          "counts per district (2, all cameras), street (8), community (40)")

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1600,1100", "--lang=zh-CN",
              "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh,en"})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")),
                              options=opts)
    driver.set_page_load_timeout(30)
    t_nav = time.monotonic()
    driver.get(f"http://127.0.0.1:{http_port}/")

    def js(expr):
        return driver.execute_script("return " + expr)

    wait_for(lambda: js("document.body.dataset.firstRender") is not None, "the first render", timeout=30, interval=0.1)
    wall = time.monotonic() - t_nav
    first = int(js("document.body.dataset.firstRender"))
    nav = js("performance.timing.responseStart - performance.timing.navigationStart")
    print(f"FIGURE first render: {first} ms after the script started, {wall * 1000:.0f} ms from navigation "
          f"(first byte {nav} ms); {N_CAMERAS} cameras, 200 cells")
    check(js("document.documentElement.lang") == "zh", "Accept-Language zh-CN: the page is in Chinese")
    check(driver.find_element(By.CSS_SELECTOR, "h1").text == "视频告警网关", "Chinese title")
    # The page updates itself (SSE) while it is read: each look is one script, so it sees one
    # rendering, never half of two.
    def rows(sel):
        return js(f"[...document.querySelectorAll('{sel}')].map(r => ({{cls: r.className, text: r.innerText, "
                  "kind: r.dataset.kind, times: [...r.querySelectorAll('td.time')].map(t => [t.textContent, t.title]), "
                  "cells: [...r.querySelectorAll('td')].map(t => t.textContent)}))")

    problems = rows("#problems li")
    texts = [p["text"] for p in problems]
    check(any(t.startswith(f"{N_OFFLINE:,}") and "离线" in t for t in texts), f"problem list: offline first-class ({texts[:3]})")
    check(problems and problems[0]["kind"] in ("offline", "store", "broker", "outbox_parked"),
          "problems of the gateway and offline cameras lead the list")
    check(js("agwPage.polygons") == 200, f"200 polygons drawn ({js('agwPage.polygons')})")
    check(js("agwPage.points") == N_CAMERAS, f"{N_CAMERAS} camera points drawn ({js('agwPage.points')})")
    check(js("document.querySelectorAll('#map canvas').length") >= 1, "polygons and points are on a canvas")
    levels = rows("#levels tbody tr")
    check(len(levels) == 2 and "110105" in levels[0]["text"] + levels[1]["text"], "district counts: 2 rows")
    cams = rows("#cameras tbody tr")
    check(len(cams) == 50, f"one page of 50 cameras, not 10,000 ({len(cams)})")
    check("st-offline" in cams[0]["cls"], "worst state first")
    shown, hover = cams[0]["times"][0]
    check("UTC" in hover and shown != hover, f"times local, UTC on hover ({shown!r} / {hover!r})")
    hh_utc, hh_local = int(hover[11:13]), int(shown[11:13])
    check((hh_utc + 8) % 24 == hh_local, f"shown in Asia/Shanghai, UTC+8 ({hh_local} vs {hh_utc} UTC)")
    cases = rows("#cases tbody tr")
    check(len(cases) >= 5 and cases[0]["cells"][0] == "1", "open cases, priority 1 first")
    check("网格员" in cases[0]["text"], "the cell's grid workers are named")
    driver.save_screenshot(os.path.join(SHOTS, "page-overview-zh.png"))

    # Paging: the next 50.
    driver.execute_script("document.querySelector('#camera-pager button:last-child').click()")
    wait_for(lambda: js("document.querySelector('#camera-pager .count').textContent") == "51–100 共 10,000",
             "page 2", timeout=10)
    check(True, "paging: 51–100 of 10,000")
    # Search: a camera by name part, then a cell by code (a community: 25 cameras x 5 cells).
    driver.find_element(By.ID, "f-q").send_keys("路口1")
    driver.find_element(By.CSS_SELECTOR, "#filter button[type=submit]").click()
    want = sum(1 for i in range(N_CAMSIM) if str(i + 1).startswith("1"))
    wait_for(lambda: js("document.querySelectorAll('#cameras tbody tr').length") == want, "name search", timeout=10)
    driver.find_element(By.CSS_SELECTOR, "#filter button[type=reset]").click()
    community = cell_code(0)[0][2]
    driver.find_element(By.ID, "f-cell").send_keys(community)
    driver.find_element(By.CSS_SELECTOR, "#filter button[type=submit]").click()
    wait_for(lambda: js("document.querySelector('#camera-pager .count').textContent").split(" ")[-1] == "250",
             "cell search: a community's 250 cameras", timeout=10)
    check(True, "search by camera name and by community code, server-side")
    # A click on a cell of the map: its cases.
    driver.execute_script("agwPage.gridLayer.eachLayer(l => { if (l.feature.properties.code === arguments[0]) l.fire('click'); })",
                          cell_code(0)[1])
    wait_for(lambda: cell_code(0)[1] in js("document.getElementById('case-scope').textContent"), "cases of the clicked cell",
             timeout=10)
    # Names from the grid file are text everywhere, also in the map's tooltips.
    driver.execute_script("agwPage.gridLayer.eachLayer(l => { if (l.feature.properties.code === arguments[0]) l.openTooltip(); })",
                          cell_code(0)[1])
    check(js("document.getElementById('evil') === null && document.querySelector('.leaflet-tooltip').textContent.startsWith('<img')"),
          "a cell named <img ...> shows as text, in tables and tooltips")
    driver.execute_script("agwPage.gridLayer.eachLayer(l => l.closeTooltip())")
    # English.
    driver.find_element(By.ID, "lang-en").click()
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "h1").text == "Camera alarms", "English", timeout=10)
    driver.find_element(By.CSS_SELECTOR, "#filter button[type=reset]").click()
    time.sleep(1.5)
    driver.save_screenshot(os.path.join(SHOTS, "page-overview-en.png"))

    # Live: the broker goes away; the page says so without a reload.
    mosq.kill()
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#problems li.broker"), "the broker problem, pushed",
             timeout=30, interval=0.2)
    check(True, "the page shows the lost broker by itself (SSE)")
    driver.save_screenshot(os.path.join(SHOTS, "page-broker-lost.png"))
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
    check(not errors, f"no browser errors, no CSP violation ({errors[:2]})")

    # Sizes.
    for path in ("/", "/static/app.js", "/static/app.css", "/static/leaflet.js", "/static/leaflet.css", "/api/summary",
                 "/api/cameras?limit=50", "/api/cases?limit=50", "/api/points", "/api/grid", "/api/status",
                 "/api/status?limit=50"):
        body, took = get(http_port, path)
        print(f"FIGURE {path}: {len(body):,} bytes in {took * 1000:.0f} ms")
    # The SSE bound: 16 live pages at once (the browser holds one).
    import socket
    socks = []
    codes = []
    for _ in range(17):
        sk = socket.create_connection(("127.0.0.1", http_port), timeout=5)
        sk.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{http_port}\r\n\r\n".encode())
        codes.append(sk.recv(64).split(b" ")[1])
        socks.append(sk)
    check(codes.count(b"200") == 15 and codes[-2:] == [b"503", b"503"],
          f"at most 16 live pages: the 17th and 18th get 503 ({codes})")
    for sk in socks:
        sk.close()
finally:
    if driver:
        driver.quit()
    if gw:
        code, _ = gw.stop()
        check(code == 0, f"gateway exit 0 ({code})")
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
agwtest.finish()
