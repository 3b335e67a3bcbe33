# SPDX-License-Identifier: GPL-2.0-or-later
"""What the simulator clients share (camsim_client.py, vendorsim_client.py): the simulator process
on a free range of loopback ports, stopped on exit (also on failure), and calls to its control
server."""
import http.client
import json
import random
import socket
import subprocess

# A machine shared with other runs may have thousands of listeners in the range (a scale benchmark
# holds 10,000): a taken range costs one short-lived process, so try many.
START_TRIES = 64


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpError(Exception):
    def __init__(self, status, text):
        super().__init__("HTTP %d: %s" % (status, text[:200]))
        self.status, self.text = status, text


class SimProcess:
    """A simulator with `count` listeners on base_port + i. Subclasses give name ("camsim"), noun
    ("cameras") and args(), the command line for self.base_port and self.control_port."""

    name = noun = None

    def __init__(self, count):
        self.count = count
        self.proc = None

    def args(self):
        raise NotImplementedError

    def start(self):
        for _ in range(START_TRIES):
            # below the ephemeral range (32768+) where outgoing connections take ports
            self.base_port = random.randrange(12000, max(12001, 32700 - self.count))
            self.control_port = free_port()
            self.proc = subprocess.Popen(self.args(), stdout=subprocess.PIPE, stderr=None, text=True)
            line = self.proc.stdout.readline()
            if line.startswith("%s: ready %d %s" % (self.name, self.count, self.noun)):
                return self
            self.proc.wait(timeout=30)
            self.proc = None  # a port was taken: try another range
        raise RuntimeError("%s did not start" % self.name)

    def stop(self, sig=None):
        if not self.proc:
            return None
        if sig is None:
            self.proc.terminate()
        else:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def port(self, i):
        return self.base_port + i

    def call(self, method, path, check=True):
        """A control server request; its JSON answer (HttpError unless 200, when check)."""
        c = http.client.HTTPConnection("127.0.0.1", self.control_port, timeout=30)
        c.request(method, path)
        r = c.getresponse()
        body = r.read()
        c.close()
        if check and r.status != 200:
            raise HttpError(r.status, body.decode())
        return json.loads(body)
