#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/cluster: the RabbitMQ cluster test (tests/integration/cluster/test_mqtt_cluster_rabbitmq.py) as a
longer campaign: several runs, each a fresh 3-node cluster, more alerts at a higher rate, the node
in use SIGKILLed a third into each run. Figures per run (cluster start, reconnect time, case ids
written, received, missing, duplicates) are printed and, with --json FILE, written.

    python3 bench/cluster/rabbitmq.py --build-dir build-test --runs 3 --alerts 3000 --rate 100 \\
        --json /tmp/agw-rabbitmq.json

Exit code 0 when no run missed a case id."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def main():
    argv = sys.argv[1:]
    build = os.environ.get("AGW_BUILD_DIR", os.path.join(SOURCE, "build-test"))
    if "--build-dir" in argv:
        i = argv.index("--build-dir")
        build = argv[i + 1]
        del argv[i:i + 2]
    os.environ["AGW_BUILD_DIR"] = os.path.abspath(build)
    os.environ["AGW_SOURCE_DIR"] = SOURCE
    sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
    defaults = {"--runs": "3", "--alerts": "3000", "--rate": "100"}
    for k, v in defaults.items():
        if k not in argv:
            argv += [k, v]
    sys.argv = [sys.argv[0]] + argv
    import test_mqtt_cluster_rabbitmq
    test_mqtt_cluster_rabbitmq.main()


if __name__ == "__main__":
    main()
