#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""TLS and authentication against a real mosquitto, with a test CA made at test time by openssl:
server verification with the right CA works, a wrong CA and a wrong host name fail, a client
certificate is presented when the broker requires one; a bad password is refused with a clear
error that does not contain the password (MQTT 3.1.1 and 5)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "../unit/mqtt"))
from mqttlab import Broker, Driver, Sub, case_ids, check, free_port, make_ca, make_cert, release, wait_port, workdir  # noqa


def drain(w, name, uri, *args):
    db = os.path.join(w, name + ".db")
    d = Driver(db, uri, "--push", 200, "--batch", 100, "--until-empty", "--resend-window-ms", 0, *args)
    rc = d.wait_exit(30)
    return d, rc


def refused(w, name, uri, *args):
    """Runs the driver for 3 s; returns (driver, connected?)."""
    db = os.path.join(w, name + ".db")
    d = Driver(db, uri, "--push", 50, "--run-ms", 3000, "--reconnect-min-ms", 200, "--reconnect-max-ms", 500, *args)
    d.wait_exit(20)
    return d, d.wait_line("CONNECTED", 0) is not None


def test_tls(w):
    print("-- TLS with a test CA")
    pki = os.path.join(w, "pki")
    os.makedirs(pki)
    make_ca(pki, "ca")
    make_ca(pki, "other")
    make_cert(pki, "ca", "server", "localhost", "DNS:localhost,IP:127.0.0.1")
    make_cert(pki, "ca", "client", "gw-test")
    p = lambda n: os.path.join(pki, n)  # noqa: E731
    plain, tls, mtls = free_port(), free_port(), free_port()
    listeners = [
        "listener %d 127.0.0.1\nallow_anonymous true" % plain,
        "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s" % (tls, p("ca.crt"), p("server.crt"), p("server.key")),
        # the same certificate served on 127.0.0.2, a name the certificate does not carry
        "listener %d 127.0.0.2\ncafile %s\ncertfile %s\nkeyfile %s" % (tls, p("ca.crt"), p("server.crt"), p("server.key")),
        "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true" %
        (mtls, p("ca.crt"), p("server.crt"), p("server.key")),
    ]
    b = Broker(w, "b-tls", listeners=listeners, persistence=False, port=plain,
               extra="allow_anonymous true").start()
    check(wait_port(tls) and wait_port(mtls) and wait_port(tls, "127.0.0.2"), "broker listens with TLS")
    sub = Sub(w, plain, "agw/cases/#", "tls-sub")
    time.sleep(0.5)

    for version in (4, 5):
        d, rc = drain(w, "tls-ok-%d" % version, "ssl://127.0.0.1:%d" % tls, "--ca", p("ca.crt"), "--version", version,
                      "--case-prefix", "t%d" % version)
        check(rc == 0 and d.wait_line("STOPPED", 0) == "STOPPED acked=200 remaining=0",
              "MQTT %d over TLS with the right CA: 200 rows acknowledged" % version)
    d, rc = drain(w, "tls-mqtts", "mqtts://localhost:%d" % tls, "--ca", p("ca.crt"), "--case-prefix", "m")
    check(rc == 0 and d.wait_line("STOPPED", 0) == "STOPPED acked=200 remaining=0",
          "mqtts://localhost (host name in the SAN) works too")
    time.sleep(0.5)
    ids = case_ids(sub.lines())
    check(sorted(ids) == sorted(["t4-%d" % i for i in range(200)] + ["t5-%d" % i for i in range(200)] +
                                ["m-%d" % i for i in range(200)]), "subscriber got all 600 ids sent over TLS")

    d, ok = refused(w, "tls-wrong-ca", "ssl://127.0.0.1:%d" % tls, "--ca", p("other.crt"))
    err = d.stderr()
    check(not ok, "a server certificate from another CA is refused")
    check("(tls)" in err or "certificate verify failed" in err, "the TLS failure is logged: %s" %
          err.strip().splitlines()[:1])
    check(d.wait_line("STOPPED", 0) == "STOPPED acked=0 remaining=50", "nothing was sent, rows kept")

    d, ok = refused(w, "tls-wrong-host", "ssl://127.0.0.2:%d" % tls, "--ca", p("ca.crt"))
    check(not ok, "host name verification: 127.0.0.2 is not in the certificate, refused")
    print("     " + (d.stderr().strip().splitlines() or ["?"])[0])
    # control: the 127.0.0.2 listener itself works when only the host name check is turned off
    r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.2", "-p", str(tls), "--cafile", p("ca.crt"), "--insecure",
                        "-t", "probe", "-m", "x", "-q", "1"], capture_output=True, timeout=20)
    check(r.returncode == 0, "control: the same listener accepts a client that skips the host name check")

    d, ok = refused(w, "tls-no-client-cert", "ssl://127.0.0.1:%d" % mtls, "--ca", p("ca.crt"))
    check(not ok, "a broker requiring a client certificate refuses us without one")
    d, rc = drain(w, "tls-client-cert", "ssl://127.0.0.1:%d" % mtls, "--ca", p("ca.crt"), "--cert", p("client.crt"),
                  "--key", p("client.key"), "--case-prefix", "cc")
    check(rc == 0 and d.wait_line("STOPPED", 0) == "STOPPED acked=200 remaining=0",
          "with the client certificate and key it connects and publishes")
    sub.stop()
    b.stop()


def test_auth(w):
    print("-- username/password")
    pwfile = os.path.join(w, "passwd")
    subprocess.run(["mosquitto_passwd", "-b", "-c", pwfile, "gw-user", "s3cret-Pa55"], check=True, capture_output=True)
    os.chmod(pwfile, 0o600)
    port = free_port()
    b = Broker(w, "b-auth", persistence=False, port=port,
               listeners=["listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s" % (port, pwfile)]).start()
    uri = "tcp://127.0.0.1:%d" % port
    for version in (4, 5):
        d, ok = refused(w, "auth-bad-%d" % version, uri, "--username", "gw-user", "--password", "wrong-Pa55word",
                        "--version", version)
        err = d.stderr()
        check(not ok, "MQTT %d: a wrong password does not connect" % version)
        check("refused the connection" in err and ("bad user name or password" in err or "not authorized" in err)
              and "check mqtt.username and mqtt.password" in err,
              "MQTT %d: clear error: %s" % (version, err.strip().splitlines()[:1]))
        check("wrong-Pa55word" not in err, "the password is not in the log")
        lines = [l for l in err.splitlines() if "refused the connection" in l]
        check(len(lines) <= 2, "repeated refusals are not logged on every attempt (%d lines)" % len(lines))
        d, ok = refused(w, "auth-anon-%d" % version, uri, "--version", version)
        check(not ok, "MQTT %d: no credentials, no connection" % version)
        d, rc = drain(w, "auth-ok-%d" % version, uri, "--username", "gw-user", "--password", "s3cret-Pa55",
                      "--version", version)
        check(rc == 0 and d.wait_line("STOPPED", 0) == "STOPPED acked=200 remaining=0",
              "MQTT %d: the right password connects and publishes" % version)
        check("s3cret-Pa55" not in d.stderr(), "the password is not in the log")
    b.stop()


def main():
    w = workdir("agw-mqtt-tls-")
    ok = False
    try:
        test_tls(w)
        test_auth(w)
        ok = True
    finally:
        release(w, ok)


if __name__ == "__main__":
    main()
