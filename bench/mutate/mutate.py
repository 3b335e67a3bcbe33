#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A mutation run of the CLI inputs: every file a user or a device hands to alarmgw (event
documents of every adapter, the camera ledger, grid GeoJSON, the rules file, the configuration,
the alert JSONL of `rules test`), seeded with the real captures under tests/fixtures, mutated and
fed to the real `alarmgw` binary (the ASan+UBSan build in CI).

A finding is any run that: dies from a signal, prints a sanitizer report, exceeds the deadline,
exits with a status the command does not document, or fails without saying why on stderr.
Findings are saved with the command that reproduces them. The figures (runs, statuses, findings
per input kind, runs per second) are printed; the exit status is 1 when there is a finding.

    bench/mutate/mutate.py --build-dir build-test [--runs 2000] [--kinds onvif,ledger] [--seed 7]
                           [--jobs 2] [--out DIR]
"""
import argparse
import concurrent.futures
import glob
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(SOURCE, "tests", "fixtures")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer", "AddressSanitizer:DEADLYSIGNAL")
# Tokens that broke parsers somewhere: structure characters, encodings, huge and odd numbers.
TOKENS = [b"<", b">", b"&", b"&amp;", b"]]>", b"<!--", b"<!DOCTYPE a [<!ENTITY x \"y\">]>", b"\"", b"'",
          b",", b";", b"=", b"{", b"}", b"[", b"]", b":", b"\n", b"\r\n", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
          b"\xe4\xb8\xad", b"\xc3", b"9" * 400, b"-1", b"0", b"1e309", b"NaN", b"-2147483649",
          b"18446744073709551616", b"2026-02-30T25:61:61+99:99", b"1970-01-01T00:00:00Z", b"%s%n",
          b"--boundary\r\n", b"Content-Length: 99999999\r\n", b"\\", b"\\u0000", b"\\ud800", b"null",
          b"true", b"@include \"/etc/passwd\"", b"A" * 5000]


def seeds(patterns):
    files = []
    for p in patterns:
        files += [f for f in glob.glob(os.path.join(FIX, p), recursive=True) if os.path.isfile(f)]
    return sorted(set(f for f in files if not f.endswith("README.md")))


def minimal_config(work, db, rules):
    """The smallest configuration `rules test` takes: the store in WORK and a rules file."""
    path = os.path.join(work, "agw.conf")
    with open(path, "w") as f:
        f.write('gateway = { id = "mutate"; state_dir = "%s"; db = "%s"; };\n' % (work, os.path.basename(db)))
        f.write('rules = { file = "%s"; grid_layer = "cells"; };\n' % rules)
    return path


class Kind:
    """One kind of CLI input: its seeds, how to run a mutated file, which exit codes it documents."""

    def __init__(self, name, patterns, argv, codes=(0, 1), prepare=None):
        self.name, self.seeds, self.argv, self.codes, self.prepare = name, seeds(patterns), argv, codes, prepare


def prepare_store(alarmgw, work):
    """A store with the test ledger and grid, for the commands that decide alerts."""
    db = os.path.join(work, "base.db")
    subprocess.run([alarmgw, "cameras", "import", "--db", db, os.path.join(FIX, "rules", "cameras.csv")],
                   capture_output=True, check=True, timeout=60)
    subprocess.run([alarmgw, "grid", "import", "--db", db, "--layer", "cells", os.path.join(FIX, "grid", "cells.geojson")],
                   capture_output=True, check=True, timeout=60)
    return db


def kinds(alarmgw, work):
    base_db = prepare_store(alarmgw, work)
    rules_cfg = minimal_config(work, base_db, os.path.join(FIX, "rules", "rules.conf"))

    def fresh_db(w):
        return os.path.join(w, "m.db")

    def rules_file_argv(f, w):
        db = os.path.join(w, "r.db")
        shutil.copy(base_db, db)
        return [alarmgw, "rules", "test", "-c", minimal_config(w, db, f),
                os.path.join(FIX, "rules", "alerts.jsonl")]

    ks = [Kind("onvif", ["onvif/**/*.xml"], lambda f, w: [alarmgw, "normalize", "--adapter", "onvif", f]),
          Kind("isapi", ["isapi/*"], lambda f, w: [alarmgw, "normalize", "--adapter", "isapi", f]),
          Kind("dahua", ["dahua/*"], lambda f, w: [alarmgw, "normalize", "--adapter", "dahua", f]),
          Kind("gb28181", ["gb28181/*"], lambda f, w: [alarmgw, "normalize", "--adapter", "gb28181", f]),
          Kind("ledger", ["rules/cameras.csv", "../fuzz/corpus/ledger_csv/*"],
               lambda f, w: [alarmgw, "cameras", "import", "--db", fresh_db(w), f]),
          Kind("grid", ["grid/*.geojson", "../fuzz/corpus/grid_geojson/*"],
               lambda f, w: [alarmgw, "grid", "import", "--db", fresh_db(w), f]),
          Kind("alerts", ["rules/alerts.jsonl"], lambda f, w: [alarmgw, "rules", "test", "-c", rules_cfg, f]),
          Kind("rules", ["rules/*.conf", "../fuzz/corpus/rules_file/*"], rules_file_argv),
          Kind("config", ["../fuzz/corpus/config_file/*"], lambda f, w: [alarmgw, "check", "-c", f])]
    return {k.name: k for k in ks if k.seeds}


def mutate(rng, data, pool):
    data = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5, 8))):
        op = rng.randrange(8)
        n = len(data)
        at = rng.randrange(n + 1) if n else 0
        if op == 0 and n:
            data[min(at, n - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and n:
            data[min(at, n - 1)] = rng.randrange(256)
        elif op == 2 and n:
            del data[at:at + rng.randint(1, 64)]
        elif op == 3 and n:
            ln = rng.randint(1, 256)
            data[at:at] = data[at:at + ln] * rng.randint(1, 16)
        elif op == 4:
            data[at:at] = rng.choice(TOKENS)
        elif op == 5:
            other = rng.choice(pool)
            if other:
                b = rng.randrange(len(other))
                data[at:] = other[b:b + rng.randint(1, 4096)]
        elif op == 6:
            del data[at:]
        else:
            # swap two chunks: reorders tags, rows, parts
            if n > 4:
                a, b = sorted(rng.sample(range(n), 2))
                ln = min(rng.randint(1, 128), b - a)
                data[a:a + ln], data[b:b + ln] = data[b:b + ln], data[a:a + ln]
    return bytes(data[:1 << 20])


def judge(kind, proc_rc, stderr, timed_out):
    if timed_out:
        return "timeout"
    if proc_rc < 0:
        return "signal %d" % -proc_rc
    if any(m in stderr for m in SANITIZER_MARKS):
        return "sanitizer"
    if proc_rc not in kind.codes:
        return "undocumented exit %d" % proc_rc
    if proc_rc != 0 and not stderr.strip():
        return "failed without a reason"
    return None


def run_one(kind, data, index, work, deadline):
    w = os.path.join(work, "r%d" % index)
    os.makedirs(w)
    try:
        f = os.path.join(w, "input" + os.path.splitext(kind.seeds[0])[1])
        with open(f, "wb") as fh:
            fh.write(data)
        argv = kind.argv(f, w)
        timed_out = False
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=deadline, cwd=w)
            rc, err = p.returncode, p.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            rc, err, timed_out = -9, (e.stderr or b"").decode("utf-8", "replace"), True
        return rc, err, judge(kind, rc, err, timed_out), argv
    finally:
        shutil.rmtree(w, ignore_errors=True)


def replay(ks, folder, work, deadline):
    """Saved findings, each named KIND-what.input: they must now run clean."""
    bad = 0
    for i, f in enumerate(sorted(glob.glob(os.path.join(folder, "*.input")))):
        k = ks.get(os.path.basename(f).split("-")[0])
        if not k:
            print("  REPLAY %s: no such kind" % f)
            bad += 1
            continue
        rc, err, verdict, _ = run_one(k, open(f, "rb").read(), 100000 + i, work, deadline)
        print("  replay %s: exit %d%s" % (os.path.basename(f), rc, ", FINDING " + verdict if verdict else ""))
        bad += 1 if verdict else 0
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--runs", type=int, default=2000, help="mutated inputs per kind")
    ap.add_argument("--kinds", default="")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--deadline", type=float, default=20.0, help="seconds one run may take")
    ap.add_argument("--replay", default=None, help="first run every KIND-*.input file of this folder (regressions)")
    ap.add_argument("--out", default=None, help="where findings are saved (default: BUILD/mutate-findings)")
    a = ap.parse_args()
    alarmgw = os.path.abspath(os.path.join(a.build_dir, "gateway", "alarmgw"))
    if not os.access(alarmgw, os.X_OK):
        print("mutate: %s is not built" % alarmgw, file=sys.stderr)
        return 2
    out = a.out or os.path.join(a.build_dir, "mutate-findings")
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    work = tempfile.mkdtemp(prefix="agw-mutate-")
    findings = 0
    try:
        ks = kinds(alarmgw, work)
        chosen = [k for k in (a.kinds.split(",") if a.kinds else ks) if k in ks]
        print("mutate: seed %d, %d runs per kind, kinds %s" % (a.seed, a.runs, ",".join(chosen)))
        if a.replay:
            findings += replay(ks, a.replay, work, a.deadline)
        print("%-8s %6s %5s %6s %6s %8s %6s" % ("kind", "seeds", "runs", "exit0", "exit1", "findings", "runs/s"))
        for name in chosen:
            k = ks[name]
            rng = random.Random("%d/%s" % (a.seed, name))
            pool = [open(s, "rb").read() for s in k.seeds]
            inputs = [mutate(rng, rng.choice(pool), pool) for _ in range(a.runs)]
            counts, bad = {}, []
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
                futs = {ex.submit(run_one, k, d, i, work, a.deadline): i for i, d in enumerate(inputs)}
                for fut in concurrent.futures.as_completed(futs):
                    rc, err, verdict, argv = fut.result()
                    counts[rc] = counts.get(rc, 0) + 1
                    if verdict:
                        bad.append((futs[fut], verdict, err, argv))
            took = time.monotonic() - t0
            for i, verdict, err, argv in sorted(bad):
                os.makedirs(out, exist_ok=True)
                stem = os.path.join(out, "%s-%d-%d" % (name, a.seed, i))
                with open(stem + ".input", "wb") as fh:
                    fh.write(inputs[i])
                with open(stem + ".txt", "w") as fh:
                    fh.write("verdict: %s\nargv: %s\n\n%s" % (verdict, " ".join(argv), err[-20000:]))
                print("  FINDING %s #%d: %s (%s.input)" % (name, i, verdict, stem))
            findings += len(bad)
            print("%-8s %6d %5d %6d %6d %8d %6.1f" % (name, len(k.seeds), a.runs, counts.get(0, 0),
                                                     counts.get(1, 0), len(bad), a.runs / took))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("mutate: %d finding(s)" % findings)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
