#!/usr/bin/env python3
"""tools/timeline.py turns a known small trace (small.json) into the gnuplot
input it should (small.gp, checked by hand: rows, boxes in ms from the
first event, lock holds and counters left out); then, where gnuplot is
installed, into a PNG."""
import os
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
script = os.path.join(here, "..", "..", "tools", "timeline.py")
with tempfile.TemporaryDirectory() as tmp:
    emitted = os.path.join(tmp, "small.gp")
    args = [sys.executable, script, os.path.join(here, "small.json"), "-o", "out.png",
            "--title", "a small trace"]
    subprocess.run(args + ["--emit", emitted], check=True)
    with open(emitted, encoding="utf-8") as f:
        got = f.read()
    with open(os.path.join(here, "small.gp"), encoding="utf-8") as f:
        want = f.read()
    if got != want:
        sys.exit("timeline.py wrote:\n%s\ninstead of:\n%s" % (got, want))
    if not shutil.which("gnuplot"):
        print("gnuplot is not installed: the PNG step is skipped")
        sys.exit(0)
    png = os.path.join(tmp, "out.png")
    subprocess.run(args[:4] + [png] + args[5:], check=True)
    with open(png, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            sys.exit("%s is not a PNG" % png)
print("ok")
