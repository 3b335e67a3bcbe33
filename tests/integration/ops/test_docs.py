# SPDX-License-Identifier: GPL-2.0-or-later
"""docs/configuration.md documents every configuration key the code accepts and every option of
every adapter: a key added without documentation fails here."""
import os
import re

from agwtest import SOURCE, alarmgw, check, finish

doc = open(os.path.join(SOURCE, "docs", "configuration.md")).read()
source = open(os.path.join(SOURCE, "gateway", "config", "config.c")).read()
keys = re.findall(r'\{"(gateway|cameras|rules|mqtt|cluster|evidence)", "(\w+)", K_', source)
check(len(keys) >= 25, f"found the config key table ({len(keys)} keys)")
for section, key in keys:
    check(f"`{key}`" in doc, f"{section}.{key} is documented")

rc, out, _ = alarmgw("run", "--help")
adapters = re.findall(r"^  (\w+)\s", out.split("adapters:", 1)[1], re.M)
check({"replay", "onvif", "rtsp"} <= set(adapters), f"adapters listed by run --help: {adapters}")
for name in adapters:
    rc, out, _ = alarmgw("run", "--help-adapter", name)
    options = re.findall(r"^    (\w+)\s", out, re.M)
    check(rc == 0 and options, f"{name}: {len(options)} options")
    for opt in options:
        check(re.search(rf"^\s+{opt}\s", doc, re.M) is not None, f"adapters.{name}.{opt} is documented")
finish()
