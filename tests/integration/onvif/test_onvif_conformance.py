# SPDX-License-Identifier: GPL-2.0-or-later
"""Conformance: the gateway's gSOAP bindings read the responses captured from real cameras that the
npm package onvif@0.8.1 ships (test/serverMockup/*.xml), for every operation the gateway uses.

The package is fetched with `npm pack` at test time into a temporary directory (never committed).
Its files are doT templates: {{=...}} values are filled in and {{? ...}} blocks are rendered both
kept and dropped. Each rendered response goes through build-*/tests/unit/onvif/agw-onvif-parse,
and the values read are checked against what the file says.
"""
import datetime
import os
import re
import subprocess
import sys
import tarfile
import tempfile

BUILD = os.environ.get("AGW_BUILD_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../../build"))
TOOL = os.path.join(BUILD, "tests/unit/onvif/agw-onvif-parse")

# file -> (operation, [substrings the tool's "ok" line must contain])
CASES = {
    "GetSystemDateAndTime.xml": ("GetSystemDateAndTime", ["time=1419448477000"]),
    "GetDeviceInformation.xml": ("GetDeviceInformation", ["vendor=Mockup Manufacturer", "model=Mockup Model"]),
    "GetCapabilities.xml": ("GetCapabilities", ["events=http://192.168.68.111/onvif/services"]),
    "GetCapabilitiesEncoder.xml": ("GetCapabilities", ["events=http://192.168.30.65/onvif/event_service"]),
    "GetServices.xml": ("GetServices", ["events=http://", "count=6"]),
    "GetEventProperties.xml": ("GetEventProperties", ["count="]),
    "GetProfiles.xml": ("GetProfiles", ["profile=main"]),
    "GetStreamUri.xml": ("GetStreamUri", ["uri=rtsp://192.168.68.111/h264main"]),
    "GetSnapshotUri.xml": ("GetSnapshotUri", ["uri=http://192.168.68.111/onvif-cgi/jpg/image.cgi"]),
    "events.CreatePullPointSubscription.xml": ("CreatePullPointSubscription",
                                               ["sub=http://127.0.0.1:8080/onvif/subscription?Idx=7"]),
    "Unsubscribe.xml": ("Unsubscribe", []),
    "PullMessages.xml": ("PullMessages", ["notifications"]),
}
VALUES = {
    "it.hostname": "127.0.0.1",
    "it.port": "8080",
    "it.pullPointUrl": "/onvif/subscription?Idx=7",
}
NOW = datetime.datetime.now(datetime.timezone.utc)


def render(text, keep):
    """Fills a doT template: values from VALUES, conditional blocks kept or dropped."""
    def value(m):
        expr = m.group(1).strip()
        d = re.fullmatch(r"new Date\((?:Date\.now\(\)\s*\+\s*(\d+))?\)\.toISOString\(\)", expr)
        if d:
            t = NOW + datetime.timedelta(milliseconds=int(d.group(1) or 0))
            return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
        if expr not in VALUES:
            raise ValueError("unknown template value %r" % expr)
        return VALUES[expr]
    text = re.sub(r"\{\{=(.*?)\}\}", value, text)
    if keep:
        return re.sub(r"\{\{\?[^}]*\}\}", "", text)
    return re.sub(r"\{\{\?[^}]+\}\}.*?\{\{\?\}\}", "", text, flags=re.S)


def fetch(tmp):
    r = subprocess.run(["npm", "pack", "onvif@0.8.1", "--silent"], cwd=tmp, capture_output=True, text=True,
                       timeout=180)
    if r.returncode != 0:
        print("npm pack onvif@0.8.1 failed:", r.stderr.strip())
        sys.exit(1)
    tgz = os.path.join(tmp, r.stdout.strip().splitlines()[-1])
    with tarfile.open(tgz) as t:
        members = [m for m in t.getmembers() if m.name.startswith("package/test/serverMockup/") and m.isfile()]
        t.extractall(tmp, members=members)
    return os.path.join(tmp, "package/test/serverMockup")


def parse(op, path, fault_ok=False):
    args = [TOOL] + (["--fault-ok"] if fault_ok else []) + [op, path]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout


def main():
    if not os.path.exists(TOOL):
        print("missing", TOOL)
        return 1
    failures = 0
    parsed = 0
    with tempfile.TemporaryDirectory(prefix="agw-onvif-conf-") as tmp:
        mock = fetch(tmp)
        files = sorted(os.listdir(mock))
        print("onvif@0.8.1 ships %d mockup responses" % len(files))
        for name, (op, wants) in sorted(CASES.items()):
            if name not in files:
                print("FAIL %s: not in the package" % name)
                failures += 1
                continue
            with open(os.path.join(mock, name), encoding="utf-8", errors="replace") as f:
                template = f.read()
            variants = [True, False] if "{{?" in template else [True]
            for keep in variants:
                out = os.path.join(tmp, "%s.%s.xml" % (name, "kept" if keep else "dropped"))
                with open(out, "w", encoding="utf-8") as f:
                    f.write(render(template, keep))
                rc, text = parse(op, out)
                lines = [l for l in text.splitlines() if l.startswith(("ok ", "error "))]
                line = lines[0].replace(out, name) if lines else ""
                missing = [w for w in wants if w not in line]
                if op == "PullMessages":
                    m = re.search(r": (\d+) notifications", line)
                    n = int(m.group(1)) if rc == 0 and m else -1
                    expect = template.count("<wsnt:NotificationMessage>") if keep else 0
                    if n != expect:
                        missing.append("%d notifications (got %d)" % (expect, n))
                    if keep and text.count("kind=motion") != expect:
                        missing.append("every notification of kind motion")
                if rc != 0 or missing:
                    print("FAIL %s (%s): rc=%d %s missing %s" % (name, "kept" if keep else "dropped", rc, line, missing))
                    failures += 1
                else:
                    parsed += 1
                    print("ok   %s -> %s" % (name, line[:160]))
        # the fault capture: read as a fault, not an error
        rc, text = parse("GetProfiles", os.path.join(mock, "Error.xml"), fault_ok=True)
        if rc != 0 or "fault:" not in text:
            print("FAIL Error.xml: rc=%d %s" % (rc, text.strip()))
            failures += 1
        else:
            parsed += 1
            print("ok   Error.xml -> %s" % " ".join(text.split())[:160])
    print("%d responses of %d operations parsed, %d failures" % (parsed, len(set(op for op, _ in CASES.values())),
                                                                  failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
