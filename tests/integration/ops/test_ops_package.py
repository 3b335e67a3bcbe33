#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Installation and the Debian package (cmake/Packaging.cmake):
- `cmake --install` with DESTDIR and prefix /usr puts binary, unit, default configuration, docs and
  the ONVIF topic table in their Debian places, the unit names the installed binary, and a second
  install keeps an edited configuration;
- `cpack -G DEB` builds alarmgw_<version>_<arch>.deb; dpkg-deb shows its files, its control data
  (name, runtime library dependencies from dpkg-shlibdeps, systemd), the conffile and the
  maintainer scripts, and the unit inside passes `systemd-analyze verify` against the unpacked tree.
Installing and starting the .deb on a clean Debian 12 needs systemd as PID 1 and is not done here.
Exits 77 (skip) when cpack or dpkg-deb is missing."""
import os
import re
import shutil
import subprocess
import tempfile

from agwtest import BUILD, SOURCE as SRC
from test_ops_http import check, run_main


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    if r.returncode != 0:
        print(f"$ {' '.join(cmd)}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def check_install(tmp):
    dest = os.path.join(tmp, "root")
    env = dict(os.environ, DESTDIR=dest)
    r = run(["cmake", "--install", BUILD, "--prefix", "/usr"], env=env)
    check(r.returncode == 0, "cmake --install --prefix /usr with DESTDIR succeeds")
    for path in ["usr/bin/alarmgw", "usr/lib/systemd/system/alarmgw.service", "etc/alarmgw/alarmgw.conf",
                 "usr/lib/sysusers.d/alarmgw.conf",
                 "usr/share/doc/alarmgw/operator-guide.md", "usr/share/doc/alarmgw/metrics.md"]:
        check(os.path.isfile(os.path.join(dest, path)), f"installed /{path}")
    if os.path.isfile(os.path.join(SRC, "adapters", "onvif", "onvif-topics.conf")):
        check(os.path.isfile(os.path.join(dest, "usr/share/alarmgw/onvif-topics.conf")),
              "installed /usr/share/alarmgw/onvif-topics.conf")
    unit = open(os.path.join(dest, "usr/lib/systemd/system/alarmgw.service")).read()
    check("ExecStart=/usr/bin/alarmgw run -c /etc/alarmgw/alarmgw.conf" in unit, "the unit runs /usr/bin/alarmgw")
    conf = os.path.join(dest, "etc/alarmgw/alarmgw.conf")
    with open(conf, "a") as f:
        f.write("# edited by the operator\n")
    r = run(["cmake", "--install", BUILD, "--prefix", "/usr"], env=env)
    check(r.returncode == 0 and "edited by the operator" in open(conf).read(),
          "a second install keeps the edited configuration")
    # Another prefix: the unit follows the binary.
    r = run(["cmake", "--install", BUILD, "--prefix", "/opt/agw"], env=env)
    unit = open(os.path.join(dest, "opt/agw/lib/systemd/system/alarmgw.service")).read()
    check(r.returncode == 0 and "ExecStart=/opt/agw/bin/alarmgw run" in unit, "prefix /opt/agw: ExecStart follows")
    check(os.path.isfile(os.path.join(dest, "opt/agw/etc/alarmgw/alarmgw.conf")), "prefix /opt/agw: config in prefix/etc")


STUBS = {
    # tool: exit status per "first argument" (default 0); every call is logged
    "getent": None, "systemd-sysusers": None, "dpkg-statoverride": None, "deb-systemd-helper": None,
    "deb-systemd-invoke": None, "systemctl": None, "adduser": None,
}


def run_script(script, args, tmp, user_exists, override_exists, was_enabled):
    """Runs a maintainer script with every tool it calls replaced by a stub that logs the call."""
    stubs = os.path.join(tmp, "stubs")
    os.makedirs(stubs, exist_ok=True)
    log = os.path.join(tmp, "calls.log")
    open(log, "w").close()
    for tool in STUBS:
        status = {"getent": 0 if user_exists else 2}.get(tool, 0)
        body = f'echo "{tool} $*" >> {log}\n'
        if tool == "dpkg-statoverride":
            body += f'[ "$1" = "--list" ] && exit {0 if override_exists else 1}\n'
        if tool == "deb-systemd-helper":
            body += f'[ "$2" = "was-enabled" ] && exit {0 if was_enabled else 1}\n'
        with open(os.path.join(stubs, tool), "w") as f:
            f.write(f"#!/bin/sh\n{body}exit {status}\n")
        os.chmod(os.path.join(stubs, tool), 0o755)
    env = dict(os.environ, PATH=f"{stubs}:/usr/bin:/bin")
    r = subprocess.run(["sh", "-e", script, *args], capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode == 0, f"{os.path.basename(script)} {' '.join(args)} exits 0 ({r.stderr.strip()})")
    return [line.strip() for line in open(log)]


def check_maintainer_scripts(ctl, tmp):
    """postinst and prerm with stubbed tools (this container has no systemd as PID 1, so the
    start/restart branches guarded by /run/systemd/system are not reached here)."""
    postinst = os.path.join(ctl, "postinst")
    calls = run_script(postinst, ["configure", ""], tmp, user_exists=False, override_exists=False, was_enabled=True)
    print("postinst configure (new install):", calls)
    check("systemd-sysusers alarmgw.conf" in calls, "new install: the user is created by systemd-sysusers")
    check("dpkg-statoverride --update --add root alarmgw 0640 /etc/alarmgw/alarmgw.conf" in calls,
          "new install: the configuration becomes root:alarmgw 0640")
    check("deb-systemd-helper unmask alarmgw.service" in calls and "deb-systemd-helper enable alarmgw.service" in calls,
          "new install: the service is unmasked and enabled")
    calls = run_script(postinst, ["configure", "0.0.9"], tmp, user_exists=True, override_exists=True,
                       was_enabled=False)
    print("postinst configure 0.0.9 (upgrade, service disabled by the admin):", calls)
    check(not any(c.startswith("systemd-sysusers") or "--add" in c for c in calls),
          "upgrade: user and permissions are left as they are")
    check("deb-systemd-helper enable alarmgw.service" not in calls and
          "deb-systemd-helper update-state alarmgw.service" in calls, "upgrade: a disabled service stays disabled")
    calls = run_script(os.path.join(ctl, "prerm"), ["upgrade", "0.1.1"], tmp, True, True, True)
    check(calls == [], "prerm upgrade does nothing (postinst restarts)")


def check_deb(tmp):
    out = os.path.join(tmp, "pkg")
    r = run(["cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", out])
    check(r.returncode == 0, "cpack -G DEB succeeds")
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    check(len(debs) == 1 and re.match(r"alarmgw_[0-9.]+_[a-z0-9]+\.deb$", debs[0]), f"one .deb built: {debs}")
    deb = os.path.join(out, debs[0])
    print(f"package: {deb} ({os.path.getsize(deb)} bytes)")
    listing = run(["dpkg-deb", "-c", deb]).stdout
    files = {line.split()[-1] for line in listing.splitlines() if line.strip()}
    for path in ["./usr/bin/alarmgw", "./usr/lib/systemd/system/alarmgw.service", "./etc/alarmgw/alarmgw.conf",
                 "./usr/lib/sysusers.d/alarmgw.conf",
                 "./usr/share/doc/alarmgw/operator-guide.md", "./usr/share/doc/alarmgw/metrics.md"]:
        check(path in files, f"the .deb contains {path}")
    check(not any("/usr/local" in f or "_CPack_Packages" in f for f in files), "no build paths in the .deb")
    fields = {}
    for key in ("Package", "Depends", "Architecture", "Version"):
        fields[key] = run(["dpkg-deb", "-f", deb, key]).stdout.strip()
    print(f"control: {fields}")
    check(fields["Package"] == "alarmgw", "Package: alarmgw")
    deps = fields["Depends"]
    for lib in ("libuv1", "libsqlite3-0", "libc6", "systemd"):
        check(re.search(rf"(^|, ){re.escape(lib)}\b", deps) is not None, f"Depends names {lib}")
    ctl = os.path.join(tmp, "control")
    run(["dpkg-deb", "-e", deb, ctl])
    check(open(os.path.join(ctl, "conffiles")).read().split() == ["/etc/alarmgw/alarmgw.conf"],
          "the configuration is a conffile")
    for script in ("postinst", "prerm", "postrm"):
        p = os.path.join(ctl, script)
        check(os.access(p, os.X_OK) and run(["sh", "-n", p]).returncode == 0, f"{script} is an executable sh script")
    postinst = open(os.path.join(ctl, "postinst")).read()
    check("deb-systemd-helper" in postinst, "postinst enables the service")
    check("systemd-sysusers" in postinst and "dpkg-statoverride" in postinst,
          "postinst creates the user and makes the configuration root:alarmgw 0640")
    if os.geteuid() == 0 and shutil.which("dpkg"):
        # Debian 12 here: the dependencies resolve and nothing conflicts (nothing is installed).
        r = run(["dpkg", "--dry-run", "-i", deb])
        check(r.returncode == 0, "dpkg --dry-run -i accepts the package on this Debian system")
    else:
        print("note: not root; dpkg --dry-run -i not tried")
    check_maintainer_scripts(ctl, tmp)
    root = os.path.join(tmp, "deb-root")
    run(["dpkg-deb", "-x", deb, root])
    binary = os.path.join(root, "usr/bin/alarmgw")
    r = run([binary, "version"])
    check(r.returncode == 0 and r.stdout.startswith("alarmgw "), f"the packaged binary runs: {r.stdout.strip()}")
    if shutil.which("systemd-analyze"):
        # verify --root wants a whole system; point the packaged unit at the unpacked binary instead.
        unit = open(os.path.join(root, "usr/lib/systemd/system/alarmgw.service")).read()
        test_unit = os.path.join(tmp, "alarmgw.service")
        with open(test_unit, "w") as f:
            f.write(unit.replace("/usr/bin/alarmgw", binary))
        r = run(["systemd-analyze", "verify", "--man=no", test_unit])
        print(f"systemd-analyze verify (packaged unit): rc {r.returncode} {r.stdout.strip()} {r.stderr.strip()}")
        check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), "the packaged unit verifies")


def main():
    for tool in ("cpack", "dpkg-deb", "cmake"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed; the package was NOT checked")
            return 77
    check(os.access(os.path.join(BUILD, "gateway", "alarmgw"), os.X_OK),
          "the daemon is built (build the target alarmgw first)")
    tmp = tempfile.mkdtemp(prefix="agw-ops-package-")
    try:
        check_install(tmp)
        check_deb(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_main(main)
