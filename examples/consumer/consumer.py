#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A reference consumer of alarmgw's case messages, for the governance platform's developers: the
integration to start from (docs/case-message.md, docs/mqtt.md).

It
- subscribes with a persistent session (clean session off, a fixed client id, QoS 1), so cases
  published while it is down are kept by the broker and delivered when it comes back;
- deduplicates: QoS 1 is at least once, so the same message may arrive twice; per case_id it keeps
  the message with the latest `updated` (then the highest `event.count`) and ignores older ones;
- stores each case as CASES_DIR/<case_id>.json (written to a temporary file, then renamed), and
  evidence messages ({prefix}/evidence/<case_id>/<n>) as CASES_DIR/evidence/<case_id>/<n>;
- answers on the feedback topic as a platform does, walking each case through its handling chain
  (--chain, default `accepted` when a case arrives and `closed` --close-after seconds later; a grid
  workflow is `accepted,dispatched,on_site,resolved,closed`, one status every --step seconds). The
  gateway checks every move, journals it and publishes the case again with its new status, so every
  subscriber sees the same state; `closed` ends the incident's dedup window. What it sent is
  journaled in CASES_DIR/feedback.jsonl: after a restart it knows its cases and sends the rest of
  each chain it had not finished;
- reports escalations (`action: escalate`: nobody accepted or resolved the case in time);
- with --pictures links, takes the pictures by the signed links of the case messages' evidence
  entries (the gateway's evidence.url_base) instead of subscribing to the evidence topics: a
  pending picture's link answers 404 until it is stored (retried), and an expired link (403) is
  signed again with the shared key (--link-key, the gateway's evidence_url_key_file), as a platform
  does when a grid worker opens an old task.

Needs paho-mqtt (Debian: python3-paho-mqtt). Example:
    consumer.py --broker 127.0.0.1:1883 --gateway gw-01 --store /var/lib/platform/cases --close-after 30
"""
import argparse
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import paho.mqtt.client as mqtt


def version(m):
    """What orders two messages of one case: later information, more alerts, feedback, escalations."""
    life = m.get("lifecycle") or {}
    return (m.get("updated") or "", (m.get("event") or {}).get("count") or 0, life.get("feedback_count") or 0,
            m.get("escalation_level") or 0)


def newer(a, b):
    """True when case message a carries later information than b."""
    return version(a) > version(b)


class Consumer:
    def __init__(self, args):
        self.a = args
        self.cases = {}       # case_id -> latest message
        self.duplicates = 0
        self.unanswered = 0
        self.feedback = {}    # case_id -> statuses sent
        self.lock = threading.Lock()
        self.timers = []
        self.fetched = 0
        self.fetching = set()  # (case_id, n) of pictures asked by link
        self.key = None
        if args.link_key:  # the key file's bytes, a trailing newline not included (as the gateway reads it)
            with open(args.link_key, "rb") as f:
                self.key = f.read().rstrip(b"\r\n")
        os.makedirs(os.path.join(args.store, "evidence"), exist_ok=True)
        self.journal = os.path.join(args.store, "feedback.jsonl")
        host, port = args.broker.rsplit(":", 1)
        self.client = mqtt.Client(client_id=args.client_id, clean_session=False, protocol=mqtt.MQTTv311)
        if args.username:
            self.client.username_pw_set(args.username, os.environ.get("CONSUMER_PASSWORD"))
        self.client.on_connect = self.on_connect
        self.client.on_message = self.on_message
        self.client.connect(host, int(port), keepalive=30)

    def recover(self):
        """The cases stored before a restart, and the closes still owed for them."""
        for name in os.listdir(self.a.store):
            if name.endswith(".json"):
                with open(os.path.join(self.a.store, name)) as f:
                    case = json.load(f)
                self.cases[case["case_id"]] = case
        if os.path.exists(self.journal):
            for line in open(self.journal):
                fb = json.loads(line)
                self.feedback.setdefault(fb["case_id"], []).append(fb["status"])
        for case_id in self.cases:
            sent = self.feedback.get(case_id, [])
            done = sum(1 for s in self.a.chain if s in sent)
            if done < len(self.a.chain):
                self.handle(case_id, done)

    def handle(self, case_id, start):
        """Sends chain[start:], the first now when the case is new, then one every --step seconds."""
        for k in range(start, len(self.a.chain)):
            delay = (k - start + (1 if start > 0 else 0)) * self.a.step
            if delay <= 0:
                self.send(case_id, self.a.chain[k])
                continue
            t = threading.Timer(delay, self.send, (case_id, self.a.chain[k]))
            t.daemon = True
            t.start()
            self.timers.append(t)

    def on_connect(self, client, userdata, flags, rc):
        if rc != 0:
            print(f"consumer: broker refused the connection ({rc})", file=sys.stderr, flush=True)
            return
        topics = [(f"{self.a.prefix}/cases/#", 1)]
        if self.a.pictures == "mqtt":
            topics.append((f"{self.a.prefix}/evidence/#", 1))
        client.subscribe(topics)
        print(f"consumer: connected (session {'resumed' if flags.get('session present') else 'new'})", flush=True)

    def on_message(self, client, userdata, msg):
        if msg.topic.startswith(f"{self.a.prefix}/evidence/"):
            self.store_evidence(msg)
            return
        try:
            case = json.loads(msg.payload)
            case_id = case["case_id"]
        except (ValueError, KeyError, TypeError):
            print(f"consumer: not a case message on {msg.topic}", file=sys.stderr, flush=True)
            return
        with self.lock:
            old = self.cases.get(case_id)
            if old is not None and not newer(case, old):
                self.duplicates += 1
                return
            self.cases[case_id] = case
            first = old is None
        self.write_case(case)
        if self.a.pictures == "links":
            self.fetch_pictures(case)
        if case.get("action") == "escalate":
            esc = (case.get("lifecycle") or {}).get("escalation") or {}
            print(f"consumer: case {case_id} escalated to level {esc.get('level')} "
                  f"({esc.get('target_level')} {esc.get('target_code')})", flush=True)
        if first and case.get("status") in ("open", "reopened"):
            if case.get("priority") == 1 and self.unanswered < self.a.unanswered_p1:
                # a station that missed it: supervision escalates it (the demo shows that)
                self.unanswered += 1
                print(f"consumer: leaving P1 case {case_id} unanswered", flush=True)
                return
            self.handle(case_id, 0)

    def write_case(self, case):
        path = os.path.join(self.a.store, case["case_id"] + ".json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(case, f, ensure_ascii=False, indent=1)
        os.replace(tmp, path)

    def store_evidence(self, msg):
        parts = msg.topic.split("/")
        if len(parts) < 4 or any(p in ("", ".", "..") for p in parts[-2:]):
            return
        d = os.path.join(self.a.store, "evidence", parts[-2])
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, parts[-1]), "wb") as f:
            f.write(msg.payload)

    def fetch_pictures(self, case):
        """The case's pictures by their signed links, each once, off the MQTT thread."""
        for e in case.get("evidence") or []:
            if not e.get("url") or e.get("status") not in ("stored", "pending"):
                continue
            d = os.path.join(self.a.store, "evidence", case["case_id"])
            key = (case["case_id"], e["n"])
            with self.lock:
                if key in self.fetching or os.path.exists(os.path.join(d, str(e["n"]))):
                    continue
                self.fetching.add(key)
            threading.Thread(target=self.fetch, args=(e["url"], d, str(e["n"])), daemon=True).start()

    def resign(self, url):
        """An expired link signed again: HMAC-SHA256 of "<path>\\n<exp>" with the shared key."""
        u = urllib.parse.urlsplit(url)
        exp = int(time.time()) + 300
        sig = hmac.new(self.key, f"{u.path}\n{exp}".encode(), hashlib.sha256).hexdigest()
        return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, f"exp={exp}&sig={sig}", ""))

    def fetch(self, url, folder, name):
        for _ in range(20):  # bounded: a pending picture is stored within evidence.timeout
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    body = r.read()
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, name + ".tmp"), "wb") as f:
                    f.write(body)
                os.replace(os.path.join(folder, name + ".tmp"), os.path.join(folder, name))
                with self.lock:
                    self.fetched += 1
                return
            except urllib.error.HTTPError as e:
                if e.code == 403 and self.key and b"expired" in e.read():
                    url = self.resign(url)
                    continue
                if e.code != 404:
                    print(f"consumer: picture {url.split('?')[0]}: HTTP {e.code}", file=sys.stderr, flush=True)
                    return
            except (urllib.error.URLError, OSError) as e:
                print(f"consumer: picture {url.split('?')[0]}: {e}", file=sys.stderr, flush=True)
                return
            time.sleep(0.5)

    def send(self, case_id, status):
        topic = f"{self.a.prefix}/case-status/{self.a.gateway}"
        fb = {"case_id": case_id, "status": status}
        if self.a.by:  # who handled it, and a note the control room reads in the case's history
            fb.update(by=self.a.by, note=f"{status} (reference consumer)")
        self.client.publish(topic, json.dumps(fb, ensure_ascii=False), qos=1)
        with self.lock:
            self.feedback.setdefault(case_id, []).append(status)
            with open(self.journal, "a") as f:
                f.write(json.dumps({"case_id": case_id, "status": status}) + "\n")

    def report(self):
        with self.lock:
            closed = sum(1 for s in self.feedback.values() if "closed" in s)
            statuses = {}
            for c in self.cases.values():
                statuses[c.get("status")] = statuses.get(c.get("status"), 0) + 1
            return {"cases": len(self.cases), "duplicates_ignored": self.duplicates, "closed_sent": closed,
                    "statuses": statuses, "unanswered": self.unanswered, "pictures_by_link": self.fetched}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--broker", default="127.0.0.1:1883", help="host:port")
    p.add_argument("--client-id", default="platform-consumer", help="the persistent session's id")
    p.add_argument("--username")
    p.add_argument("--prefix", default="agw", help="mqtt.topic_prefix of the gateway")
    p.add_argument("--gateway", required=True, help="gateway.id: its feedback topic is {prefix}/case-status/{gateway}")
    p.add_argument("--store", required=True, help="folder for cases and evidence")
    p.add_argument("--close-after", type=float, default=0, help="send 'closed' this many seconds after a case arrives")
    p.add_argument("--chain", help="statuses to send, comma separated (default: accepted, and closed with --close-after)")
    p.add_argument("--step", type=float, help="seconds between the statuses of --chain (default: --close-after)")
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: on SIGTERM)")
    p.add_argument("--unanswered-p1", type=int, default=0,
                   help="leave the first N priority-1 cases unanswered (to watch supervision escalate them)")
    p.add_argument("--by", help="the operator or grid worker id sent with each feedback (with a short note)")
    p.add_argument("--pictures", choices=("mqtt", "links"), default="mqtt",
                   help="take the pictures from the evidence topics, or by the case messages' signed links")
    p.add_argument("--link-key", help="the gateway's evidence_url_key_file: signs an expired link again")
    a = p.parse_args()
    a.chain = a.chain.split(",") if a.chain else ["accepted"] + (["closed"] if a.close_after > 0 else [])
    a.step = a.step if a.step is not None else a.close_after
    c = Consumer(a)
    c.recover()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    c.client.loop_start()
    stop.wait(a.duration if a.duration > 0 else None)
    c.client.disconnect()  # sends what is queued first
    c.client.loop_stop()
    print("consumer: " + json.dumps(c.report()), flush=True)


if __name__ == "__main__":
    main()
