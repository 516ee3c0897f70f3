#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Interleaved A/B runs of benchmark commands, min/median/max per command.

Each round runs every command once, in order, each a separate process, so a
drift of this shared machine hits every command alike. A command's numbers
are the `metric=<x>` fields of its RESULT lines (bench/rill programs) or the
`<x> Mitems/s` lines (micro_mpsc_spread); every number printed counts.
Beside each command: max/min, and the median CPUs it used (user + system
time over wall time: well under 1 means it was starved, not slow).

  python3 bench/ab.py 11 main=/tmp/base/rill_w2_mpsc_stream new=build/rel/bench/bin/rill_w2_mpsc_stream
  python3 bench/ab.py 9 "spread=chrt -f 1 build/rel/bench/bin/micro_mpsc_spread spread 1"

`chrt -f 1` (root) gives the programs both cores on a loaded machine.
"""
import re
import resource
import statistics
import subprocess
import sys
import time

NUM = re.compile(r"metric=([0-9.]+)|^\S+ ([0-9.]+) Mitems/s$", re.M)


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    cells = [a.split("=", 1) for a in sys.argv[2:]]
    if any(len(c) != 2 for c in cells):
        sys.exit("ab.py: each command is name=command")
    vals = {n: [] for n, _ in cells}
    cpus = {n: [] for n, _ in cells}
    for _ in range(rounds):
        for name, cmd in cells:
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.monotonic()
            out = subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout
            wall = time.monotonic() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            vals[name] += [float(a or b) for a, b in NUM.findall(out)]
            cpus[name].append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / wall)
    for name, _ in cells:
        v = sorted(vals[name])
        if not v:
            print("%-14s no numbers" % name)
            continue
        print("%-14s n=%2d min %7.2f median %7.2f max %7.2f  (max/min %.1f)  cpus %.2f"
              % (name, len(v), v[0], statistics.median(v), v[-1], v[-1] / v[0],
                 statistics.median(cpus[name])))


if __name__ == "__main__":
    main()
