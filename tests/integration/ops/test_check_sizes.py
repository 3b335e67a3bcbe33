# SPDX-License-Identifier: GPL-2.0-or-later
"""scripts/check-sizes: on a small tree of its own, a function of 81 lines, a file of 901 lines and
a folder of 26 files fail unless scripts/check-sizes.allow names them; 80, 900 and 25 pass; an
allow-list line that is no longer needed fails; a listed function that grows fails."""
import atexit
import os
import shutil
import subprocess
import sys

from agwtest import SOURCE, check, finish, tempdir

SCRIPT = os.path.join(SOURCE, "scripts", "check-sizes")


def function(name, lines):
    """A kernel-style definition of exactly `lines` lines, signature and braces included."""
    body = [f"\tx += {i};\n" for i in range(lines - 4)]
    return [f"static int {name}(int x,\n", "\t\tint y)\n", "{\n"] + body + ["}\n"]


_roots = []
atexit.register(lambda: [shutil.rmtree(r, ignore_errors=True) for r in _roots])


def tree(func_lines=80, file_lines=900, folder_files=25, allow=""):
    root = tempdir("agw-sizes-")
    _roots.append(root)
    os.makedirs(os.path.join(root, "scripts"))
    os.makedirs(os.path.join(root, "gateway", "core"))
    os.makedirs(os.path.join(root, "rules"))
    src = function("long_one", func_lines) + ["\n"] + function("short_one", 5)
    with open(os.path.join(root, "gateway", "core", "a.c"), "w") as f:
        f.writelines(src)
    with open(os.path.join(root, "gateway", "core", "big.c"), "w") as f:
        f.writelines(["/* filler */\n"] * file_lines)
    for i in range(folder_files):
        open(os.path.join(root, "rules", f"f{i}.h"), "w").close()
    with open(os.path.join(root, "scripts", "check-sizes.allow"), "w") as f:
        f.write(allow)
    return root


def run(root):
    p = subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


rc, out = run(tree())
check(rc == 0, f"80 lines, 900 lines and 25 files pass: {out.strip()}")
rc, out = run(tree(func_lines=81))
check(rc == 1 and "gateway/core/a.c:long_one has 81 lines" in out, f"a function of 81 lines fails: {out.strip()}")
check("short_one" not in out, "a short function is not named")
rc, out = run(tree(file_lines=901))
check(rc == 1 and "big.c has 901 lines" in out, f"a file of 901 lines fails: {out.strip()}")
rc, out = run(tree(folder_files=26))
check(rc == 1 and "folder rules has 26 files" in out, f"a folder of 26 files fails: {out.strip()}")
rc, out = run(tree(func_lines=81, allow="function gateway/core/a.c:long_one 81  # why\n"))
check(rc == 0, f"an allowed function passes: {out.strip()}")
rc, out = run(tree(func_lines=82, allow="function gateway/core/a.c:long_one 81\n"))
check(rc == 1 and "grew to 82" in out, f"an allowed function that grows fails: {out.strip()}")
rc, out = run(tree(allow="function gateway/core/a.c:long_one 81\n"))
check(rc == 1 and "no longer over its limit" in out, f"a stale allow-list line fails: {out.strip()}")
rc, out = run(tree(allow="function gateway/core/a.c:long_one\n"))
check(rc != 0 and "expected" in out, f"a malformed allow-list line is refused: {out.strip()}")
finish()
