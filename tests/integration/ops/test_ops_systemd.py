#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""systemd/alarmgw.service: the settings the operations issue asks for, `systemd-analyze verify`
without complaints, and `systemd-analyze security --offline=true` rating it OK or better.
Both run offline on the unit file (no systemd as PID 1 needed). ExecStart must name an existing
binary for verify, so a test copy points it at the built alarmgw (or, when that has not been
built, says so and fails). Negative controls show both checks can fail here.
Exits 77 (skip) when systemd-analyze is not installed."""
import os
import re
import shutil
import subprocess
import tempfile

from agwtest import BUILD, SOURCE as SRC
from test_ops_http import check, run_main
UNIT = os.path.join(SRC, "systemd", "alarmgw.service")
RATINGS = ["PERFECT", "SAFE", "OK", "MEDIUM", "EXPOSED", "UNSAFE", "DANGEROUS"]


def parse_unit(path):
    settings = {}
    section = None
    for line in open(path):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings


def analyze(*args):
    r = subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def exposure(path):
    rc, out = analyze("security", "--offline=true", "--no-pager", path)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", out)
    if m is None:
        check(False, f"security --offline=true prints an overall exposure level (rc {rc}): {out[-300:]}")
    return float(m.group(1)), m.group(2)


def main():
    if not shutil.which("systemd-analyze"):
        print("SKIP: systemd-analyze is not installed (Debian package systemd); the unit was NOT checked")
        return 77
    u = parse_unit(UNIT)

    def one(key, section="Service"):
        v = u.get((section, key))
        return v[-1] if v else None

    check(one("Type") == "notify", "Type=notify")
    check(one("NotifyAccess") in (None, "main"), "notifications from the main process only")
    check(one("WatchdogSec") not in (None, "0", "infinity"), f"WatchdogSec set ({one('WatchdogSec')})")
    check(one("ExecReload") == "/bin/kill -HUP $MAINPID", "ExecReload sends SIGHUP")
    check(one("ExecStart").startswith("/usr/bin/alarmgw run -c /etc/alarmgw/"), "ExecStart runs the daemon")
    check(one("Restart") == "on-failure", "Restart=on-failure")
    check(one("StateDirectory") == "alarmgw" and one("ConfigurationDirectory") == "alarmgw",
          "StateDirectory and ConfigurationDirectory alarmgw")
    check(int(one("LimitNOFILE")) >= 65536, "LimitNOFILE >= 65536 (10,000 cameras)")
    check(one("DynamicUser") == "yes" or one("User") not in (None, "root"), f"not root (User={one('User')})")
    sysusers = open(os.path.join(SRC, "systemd", "alarmgw.sysusers")).read()
    check(one("DynamicUser") == "yes" or re.search(rf"^u\s+{one('User')}\s", sysusers, re.M) is not None,
          "the unit's user is created by systemd/alarmgw.sysusers")
    for key, want in [("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                      ("PrivateDevices", "yes"), ("PrivateMounts", "yes"), ("ProtectHome", "yes"), ("ProtectKernelTunables", "yes"),
                      ("ProtectKernelModules", "yes"), ("ProtectKernelLogs", "yes"),
                      ("ProtectControlGroups", "yes"), ("SystemCallArchitectures", "native"),
                      ("MemoryDenyWriteExecute", "yes"), ("LockPersonality", "yes"), ("RestrictRealtime", "yes"),
                      ("RestrictNamespaces", "yes"), ("UMask", "0077"), ("CapabilityBoundingSet", "")]:
        check(one(key) == want, f"{key}={want}")
    check(set(one("RestrictAddressFamilies").split()) == {"AF_INET", "AF_INET6", "AF_UNIX"},
          "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX")
    check("@system-service" in u.get(("Service", "SystemCallFilter"), []), "SystemCallFilter=@system-service")
    check(one("WantedBy", "Install") == "multi-user.target", "WantedBy=multi-user.target")

    binary = os.path.abspath(os.path.join(BUILD, "gateway", "alarmgw"))
    check(os.access(binary, os.X_OK), f"the built daemon {binary} exists (build the target alarmgw first)")
    tmp = tempfile.mkdtemp(prefix="agw-ops-systemd-")
    try:
        test_unit = os.path.join(tmp, "alarmgw.service")
        with open(UNIT) as f, open(test_unit, "w") as o:
            o.write(f.read().replace("/usr/bin/alarmgw", binary))
        rc, out = analyze("verify", "--man=no", test_unit)
        print(f"systemd-analyze verify: rc {rc} {out.strip()}")
        check(rc == 0 and out.strip() == "", "systemd-analyze verify passes without warnings")

        level, rating = exposure(test_unit)
        print(f"systemd-analyze security --offline=true: {level} {rating}")
        check(rating in RATINGS, f"known rating {rating}")
        check(RATINGS.index(rating) <= RATINGS.index("OK"), f"exposure rated OK or better (got {level} {rating})")
        rc, _ = analyze("security", "--offline=true", "--threshold=39", "--no-pager", test_unit)
        check(rc == 0, "--threshold=39 (below MEDIUM) accepts the unit")

        # Negative controls: the same checks fail on a broken and on an unhardened unit.
        bad = os.path.join(tmp, "broken.service")
        with open(bad, "w") as o:
            o.write("[Service]\nType=notify\nExecStart=/nonexistent/alarmgw run\n")
        rc, out = analyze("verify", "--man=no", bad)
        check(rc != 0 and "not executable" in out, "verify rejects a unit whose binary does not exist")
        plain = os.path.join(tmp, "plain.service")
        with open(plain, "w") as o:
            o.write(f"[Service]\nType=notify\nExecStart={binary} run\n")
        level, rating = exposure(plain)
        check(RATINGS.index(rating) > RATINGS.index("OK"), f"an unhardened unit rates worse ({level} {rating})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
