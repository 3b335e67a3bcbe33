# SPDX-License-Identifier: GPL-2.0-or-later
"""alarmgw-vendorsim on its own, read with raw sockets and a strict multipart reader written here
(no alarmgw code): what the devices write is what docs/vendorsim.md says, the events log tells
exactly which event parts each stream carried, and every misbehaviour does what it says.
"""
import os
import re
import socket
import sys
import tempfile
import time

SRC = os.environ.get("AGW_SOURCE_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../.."))
sys.path.insert(0, os.path.join(SRC, "tests/sim/vendorsim"))
import vendorsim_client as vc  # noqa: E402

ID_RE = re.compile(rb"<simEventId>([^<]+)</simEventId>|\"simEventId\":\"([^\"]+)\"")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def wait_for(fn, what, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def boundary_of(ctype):
    return re.search(r"boundary=\s*\"?([^\";]+)", ctype).group(1)


def isapi_ids(parts):
    out = []
    for h, body in parts:
        m = ID_RE.search(body)
        if m:
            out.append((m.group(1) or m.group(2)).decode())
    return out


def answers_of(log, dev):
    return [s["answer"] for s in log.streams if s["device"] == dev and s["stream"] == "open"]


def test_isapi(tmp):
    with vc.Vendorsim("isapi", devices=3, workdir=tmp, extra=["--heartbeat", "0.5", "--run", "2"]) as sim:
        # authentication: none, wrong password, Digest
        s = vc.Stream(sim.port(0), vc.ISAPI_PATH)
        check(s.status == 401 and s.headers["www-authenticate"].startswith("Digest "), "no credentials: 401 Digest")
        challenge = s.headers["www-authenticate"]
        s.close()
        bad = vc.Stream(sim.port(0), vc.ISAPI_PATH, authorization=vc.digest_authorization(
            challenge, "GET", vc.ISAPI_PATH, "admin", "wrong"))
        check(bad.status == 401, "a wrong password: 401")
        bad.close()
        st = sim.stream(0)
        check(st.status == 200, "Digest: 200")
        ctype = st.headers["content-type"]
        check(ctype == "multipart/mixed; boundary=boundary", "multipart/mixed; boundary=boundary (%s)" % ctype)
        body, closed = st.read_for(1.3)
        parts = vc.split_parts(body, "boundary")
        check(len(parts) >= 2 and all(b"<eventType>videoloss</eventType>" in p[1] and
                                      b"<eventState>inactive</eventState>" in p[1] for p in parts),
              "heartbeats: videoloss inactive every 0.5 s (%d in 1.3 s)" % len(parts))
        check(all(p[0]["content-length"] == str(len(p[1])) for p in parts), "Content-Length counts the document")
        # events, their repeats, the smart event's picture
        sim.control(0, "emit", type="VMD")
        sim.control(0, "emit", type="linedetection", channel=1)
        body, closed = st.read_for(3.0)
        parts = vc.split_parts(body, "boundary")
        ids = isapi_ids(parts)
        vmd = [p for p in parts if b"<eventType>VMD</eventType>" in p[1] and b"active<" in p[1]]
        posts = [int(re.search(rb"<activePostCount>(\d+)<", p[1]).group(1)) for p in vmd]
        check(posts[:2] == [1, 2], "an active event is re-posted every second with a growing activePostCount %s"
              % posts)
        check(len(set(ids)) >= 2, "events carry simEventId (%s)" % sorted(set(ids)))
        jpeg = [i for i, p in enumerate(parts) if p[0]["content-type"] == "image/jpeg"]
        check(jpeg and b"<eventType>linedetection</eventType>" in parts[jpeg[0] - 1][1],
              "a JPEG part follows the smart event")
        pic = parts[jpeg[0]][1]
        check(pic[:2] == b"\xff\xd8" and pic[-2:] == b"\xff\xd9", "the picture is a JPEG (SOI ... EOI)")
        inactive = [p for p in parts if b"<eventType>VMD</eventType>" in p[1] and b">inactive<" in p[1]]
        check(inactive and ID_RE.search(inactive[0][1]), "the run ends with an inactive edge of its own id")
        # the log names exactly the ids this stream got, in its answer
        log = sim.read_log()
        ans = answers_of(log, "hik-00001")[-1]
        logged = {i for i, ps in log.parts.items() if any(p["answer"] == ans and p["fate"] == "written" for p in ps)}
        check(logged == set(ids) | logged and set(ids) <= logged,
              "events log: every id the socket got is logged written in answer %d" % ans)
        # dialects: ver10, no namespace, JSON, LF-only framing with MIME_boundary
        for name, token in (("xml10", b"ver10/XMLSchema"), ("xml", b"<EventNotificationAlert version=\"1.0\">"),
                            ("json+lf+mime", b"\"eventType\":\"videoloss\"")):
            sim.control(1, "dialect", name=name)
            s2 = sim.stream(1)
            b2, _ = s2.read_for(0.8)
            bnd = boundary_of(s2.headers["content-type"])
            p2 = vc.split_parts(b2, bnd, lf="lf" in name)
            check(p2 and token in p2[0][1] and (bnd == "MIME_boundary") == ("mime" in name),
                  "dialect %s: boundary %s, %d parts" % (name, bnd, len(p2)))
            s2.close()

        # misbehaviours
        sim.control(0, "cut")
        sim.control(0, "emit", type="IO")
        rest, closed = st.read_for(2.0)
        check(closed, "cut: the device closes the stream")
        log = sim.read_log()
        cut = [i for i, ps in log.parts.items() if any(p["fate"] == "cut" for p in ps)]
        check(len(cut) == 1 and cut[0] not in log.written(), "cut: the event is logged cut, never written")
        tail = rest[rest.rfind(b"--boundary"):]
        n = int(re.search(rb"Content-Length: (\d+)", tail).group(1))
        check(len(tail.split(b"\r\n\r\n", 1)[1]) < n, "cut: the last part ends before its Content-Length")

        sim.control(2, "stale-nonce", count=1)
        s = vc.Stream(sim.port(2), vc.ISAPI_PATH)
        ch = s.headers["www-authenticate"]
        s.close()
        s = vc.Stream(sim.port(2), vc.ISAPI_PATH, authorization=vc.digest_authorization(
            ch, "GET", vc.ISAPI_PATH, "admin", "admin"))
        check(s.status == 401 and "stale=true" in s.headers["www-authenticate"], "stale-nonce: 401 stale=true")
        s.close()
        a = sim.stream(2)
        check(a.status == 200, "stale-nonce: the next handshake works")
        sim.control(2, "max-streams", n=1)
        b = sim.stream(2)
        check(b.status == 503, "max-streams=1: a second stream gets 503")
        b.close()
        sim.control(2, "silence", seconds=1.5)
        quiet, closed = a.read_for(1.0)
        check(quiet == b"" and not closed, "silence: no byte, the connection stays open")
        _, closed = a.read_for(2.0)
        check(closed, "silence?seconds=1.5: the device closes the hung stream at last")
        a.close()
        sim.control(2, "max-streams", n=0)

        sim.control(2, "wrong-boundary")
        w = sim.stream(2)
        declared = boundary_of(w.headers["content-type"])
        wb, _ = w.read_for(0.8)
        check(declared != "boundary" and b"--boundary\r\n" in wb and ("--" + declared).encode() not in wb,
              "wrong-boundary: the head declares %s, the parts use --boundary" % declared)
        sim.control(2, "garbage", bytes=300)
        gb, _ = w.read_for(0.8)
        check(len(gb) >= 300 and len(set(gb)) > 100, "garbage: 300 random bytes injected (%d bytes read)" % len(gb))
        w.close()

        sim.control(2, "slow", bps=200)
        sl = sim.stream(2)
        t0 = time.time()
        sb, _ = sl.read_for(2.0)
        rate = len(sb) / (time.time() - t0)
        check(rate < 400, "slow?bps=200: %.0f bytes/s" % rate)
        sl.close()
        sim.control(2, "slow", bps=0)

        sim.control(1, "reboot", seconds=1)
        refused = False
        try:
            socket.create_connection(("127.0.0.1", sim.port(1)), timeout=1).close()
        except OSError:
            refused = True
        check(refused, "reboot: connection refused")
        wait_for(lambda: sim.stats(1)["up"], "the device back after its reboot", 5)
        st.close()


def test_dahua(tmp):
    with vc.Vendorsim("dahua", devices=2, workdir=tmp, extra=["--channels", "4", "--run", "1"]) as sim:
        st = sim.stream(0, heartbeat=1)
        check(st.status == 200 and st.headers["content-type"] == "multipart/x-mixed-replace; boundary=myboundary",
              "attach: multipart/x-mixed-replace; boundary=myboundary")
        sim.control(0, "emit", type="CrossLineDetection", channel=3)
        sim.control(0, "emit", type="LeftDetection", channel=2)
        body, _ = st.read_for(2.5)
        parts = vc.split_parts(body, "myboundary")
        texts = [p[1].decode() for p in parts]
        check(texts.count("Heartbeat") >= 2, "heartbeat=1: Heartbeat parts every second")
        start = [t for t in texts if t.startswith("Code=CrossLineDetection;action=Start;index=2;data={")]
        check(start and "\n" in start[0] and '"EventID" : ' in start[0], "Start with index 2 (channel 3), "
              "multi-line data with EventID")
        check([t for t in texts if t.startswith("Code=CrossLineDetection;action=Stop;index=2")], "then Stop")
        check([t for t in texts if t.startswith("Code=LeftDetection;action=Pulse;index=1")], "a pulse")
        st.close()
        # codes filter
        s = vc.open_stream(sim.port(1), "/cgi-bin/eventManager.cgi?action=attach&codes=[VideoBlind]&heartbeat=5")
        sim.control(1, "emit", type="VideoMotion")
        sim.control(1, "emit", type="VideoBlind")
        b, _ = s.read_for(0.8)
        texts = [p[1].decode() for p in vc.split_parts(b, "myboundary")]
        check(len(texts) == 1 and texts[0].startswith("Code=VideoBlind;action=Start"),
              "codes=[VideoBlind]: only that code")
        s.close()
        bad = vc.open_stream(sim.port(1), "/cgi-bin/eventManager.cgi?action=nothing")
        check(bad.status == 400, "a bad attach request: 400")
        bad.close()
        # amcrest framing
        sim.control(1, "dialect", name="amcrest+lf")
        a = sim.stream(1, heartbeat=1)
        ab, _ = a.read_for(1.3)
        check(b"-- myboundary\nContent-Type: text/plain\nContent-Length:9\nHeartbeat" in ab,
              "amcrest dialect: '-- myboundary', LF, no blank line after the headers")
        a.close()


def test_scale(tmp):
    t0 = time.time()
    with vc.Vendorsim("isapi", devices=2000, rate=0.0, workdir=tmp) as sim:
        started = time.time() - t0
        s = sim.stream(1999)
        check(s.status == 200, "2000 devices ready in %.2f s; the last one streams" % started)
        s.close()
        rss = int(open("/proc/%d/status" % sim.proc.pid).read().split("VmRSS:")[1].split()[0])
        print("2000 idle devices: RSS %d kB" % rss)


def main():
    with tempfile.TemporaryDirectory(prefix="agw-vsim-") as tmp:
        test_isapi(tmp)
        test_dahua(tmp)
        test_scale(tmp)
    print("all ok")


if __name__ == "__main__":
    main()
