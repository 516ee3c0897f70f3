#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run rill's benchmarks beside its peers, interleaved, and report.

Every (workload, implementation) cell is one program run once per round as
its own process; round 1 runs every cell, then round 2, and so on, so slow
drifts of this noisy machine hit every cell alike. Each program prints one
line `RESULT metric=<x> unit=<u> check=<ok|FAIL> sum=<s>`; this harness
measures each process's peak RSS itself (through /usr/bin/time's %M). A cell whose
program crashed, timed out, printed no RESULT or failed its check in any
round is FAILED in the report, with the reason; a cell whose program was not
built reads "n/a". Writes RESULTS.md, results.png and results.json (bench/ for a run of every
workload, bench/out/ otherwise); --from-json redraws them from a results.json.

Invoked by scripts/bench.sh (which builds everything first); by hand:
  /usr/bin/python3 bench/run.py --build build/bench [--workloads 1,5] [--rounds 11]

At least MIN_ROUNDS (9) rounds run, whatever --rounds and --budget say. The
report gives min, median and max per cell and marks a cell **bimodal** when
its max / min exceeds BIMODAL_RATIO (2).
"""
import argparse
import datetime
import glob
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# id: (name, target) where target is (kind, value):
#   ("ge", t)  rill / best peer >= t, a higher-is-better metric
#   ("le", t)  rill / best peer <= t, a lower-is-better metric
#   ("abs", t) rill's median <= t, in ABS_UNITS' unit (W9: wall ms)
#   ("info", None) no target: reported only (R3's latency)
#   ("n5", t)  rill's median >= t x rill's median in W16 (N8 beside N5)
# and an optional RSS target: rill's peak RSS <= factor x tokio's.
WORKLOADS = {
    1: ("spsc-stream", ("ge", 2.0), None),
    2: ("mpsc-stream", ("ge", 2.0), None),
    3: ("unbounded-stream", ("ge", 2.0), 0.5),
    4: ("ping-pong", ("le", 0.5), None),
    5: ("chunks", ("ge", 3.0), None),
    6: ("blocking-bridge", ("ge", 1.5), None),
    7: ("broadcast", ("ge", 2.0), None),
    8: ("many-tasks", ("le", 0.5), 1.0),
    9: ("for-each-concurrent", ("abs", 172.0), None),
    10: ("fan-in-select", ("ge", 3.0), None),
    # Networking (issue "I/O"): N1..N4 are 11..14; clients in another process.
    11: ("N1 tcp-ping-pong", ("le", 0.8), None),
    12: ("N2 echo-throughput", ("ge", 1.5), None),
    13: ("N3 idle-conn-memory", ("abs", 4096.0), None),
    14: ("N4 lines", ("ge", 1.5), None),
    # Scheduler (issue 10): 10,000 tasks x 1,000 yields, ns per yield.
    15: ("yield", ("le", 1.0), None),
    # Web (issue 13): N5 is 16; the clients are net_load in another process.
    16: ("N5 fan-out", ("ge", 2.0), None),
    17: ("N6 latency p99", ("abs", 5.0), None),
    18: ("N7 idle-SSE memory", ("abs", 4096.0), None),
    19: ("N8 slow clients", ("n5", 0.9), None),
    # Redis Streams (issue 14): R1..R3 are 20..22, each program with its own
    # redis-server; the hiredis loop is the reference (rill >= 90% of it).
    20: ("R1 redis-sink", ("ge", 1.5), None),
    21: ("R2 redis-group", ("ge", 1.5), None),
    22: ("R3 redis-latency p99", ("info", None), None),
}
ABS_UNITS = {9: "ms", 13: "B per connection", 17: "ms (p99)", 18: "B per client"}
# N5 also has an absolute floor: rill >= 1 M deliveries/s.
ABS_FLOOR = {16: 1.0}
# N8 also wants the server's RSS flat: rill's median rss_growth_kb (from half
# of the events to the last) under this.
RSS_GROWTH_KB = {19: 8192}
WEB = {16, 17, 18, 19}
REDIS = {20, 21, 22}
# rill's median / the reference's, at least this (R1, R2).
REDIS_REF_TARGET = 0.9
HIGHER_IS_BETTER = {"Mitems/s": True, "Mdeliveries/s": True, "ns": False, "ms": False,
                    "MB/s": True, "kmsg/s": True, "B": False, "kentries/s": True,
                    "us": False}

# Implementations in report order: (name, kind, workloads it implements).
RUST_ASYNC = {1, 2, 3, 4, 5, 6, 10}
IMPLS = [
    ("rill", "rill", set(WORKLOADS)),
    ("tokio", "peer", set(WORKLOADS) - WEB - REDIS),
    ("flume", "peer", RUST_ASYNC),
    ("async-channel", "peer", RUST_ASYNC),
    ("async-broadcast", "peer", {7}),
    ("go", "peer", set(WORKLOADS)),
    ("ref: ring, publish per item", "ref", {1}),
    ("ref: ring, publish per 64", "ref", {1}),
    ("ref: blocking processes", "ref", {11}),
    ("ref: hiredis loop", "ref", REDIS),
]
COLORS = {
    "rill": "#c0392b", "tokio": "#2c3e50", "flume": "#2980b9", "async-channel": "#27ae60",
    "async-broadcast": "#16a085", "go": "#8e44ad",
    "ref: ring, publish per item": "#bbbbbb", "ref: ring, publish per 64": "#888888",
    "ref: blocking processes": "#aaaaaa", "ref: hiredis loop": "#999999",
}
PEER_PACKAGES = ["librust-tokio-dev", "librust-tokio-stream-dev", "librust-tokio-util-dev",
                 "librust-futures-dev",
                 "librust-flume-dev", "librust-async-channel-dev",
                 "librust-async-broadcast-dev", "rustc", "golang-go",
                 "golang-github-gomodule-redigo-dev", "libhiredis-dev", "redis-server"]
# Every cell runs at least this many rounds (issue 15): a cell with two modes
# shows both in its min..max, and the median needs enough samples to hold.
MIN_ROUNDS = 9
# A cell whose max / min exceeds this is marked bimodal: its median alone
# would hide that some runs are more than twice as slow as others.
BIMODAL_RATIO = 2.0
RESULT_RE = re.compile(r"^RESULT\s+(.*)$", re.M)


class Cell:
    def __init__(self, w, impl, kind, argv, missing=None, env=None):
        self.w, self.impl, self.kind, self.argv = w, impl, kind, argv
        self.missing = missing  # why there is no program, or None
        self.env = env
        self.samples = []  # dicts: metric, unit, sum, rss_kb, wall
        self.failures = []  # "round r: reason"
        self.tmpdir = None  # where /usr/bin/time writes this cell's peak RSS

    @property
    def failed(self):
        return bool(self.failures)

    @property
    def usable(self):
        return self.samples and not self.failed and not self.missing

    def median(self):
        return statistics.median(s["metric"] for s in self.samples)

    def spread(self):
        """max / min of the metric over the rounds (>= 1), or None."""
        ms = [s["metric"] for s in self.samples]
        if not ms or min(ms) <= 0:
            return None
        return max(ms) / min(ms)

    def bimodal(self):
        sp = self.spread()
        return sp is not None and sp > BIMODAL_RATIO

    def rss_mib(self):
        return statistics.median(s["rss_kb"] for s in self.samples) / 1024.0

    def unit(self):
        return self.samples[0]["unit"] if self.samples else None

    def extra_median(self, key):
        """Median of an extra RESULT field (p50=, cpu_ns=) over the rounds."""
        xs = [s["extra"][key] for s in self.samples if key in s.get("extra", {})]
        return statistics.median(xs) if xs else None


def make_cells(build, workloads):
    bindir = os.path.join(build, "bench", "bin")
    rust = os.path.join(build, "peers-rust", "release", "rill-peers")
    go = os.path.join(bindir, "go-peer")
    go_redis = os.path.join(bindir, "go-redis-peer")
    ring = os.path.join(bindir, "spsc_ring")
    cells = []
    for w in workloads:
        for impl, kind, does in IMPLS:
            if w not in does:
                continue
            env, argv, missing = None, None, None
            if impl == "rill":
                found = sorted(glob.glob(os.path.join(bindir, "rill_w%d_*" % w)))
                if found:
                    argv = [found[0]]
                else:
                    missing = "not built"
            elif impl == "go":
                argv, env = [go_redis if w in REDIS else go, "W%d" % w], {"GOMAXPROCS": "2"}
            elif kind == "ref" and w in REDIS:
                argv = [os.path.join(bindir, "redis_hiredis"), "R%d" % (w - 19)]
            elif kind == "ref" and w == 11:
                argv = [os.path.join(bindir, "tcp_pingpong")]
            elif kind == "ref":
                argv = [ring, "1" if "item" in impl else "64"]
            else:
                argv = [rust, impl, "W%d" % w]
            if w in {12, 13} | WEB:  # every server starts the shared load generator
                env = dict(env or {}, RILL_BENCH_NET_LOAD=os.path.join(bindir, "net_load"))
            if argv and not os.access(argv[0], os.X_OK):
                missing, argv = "not built", None
            cells.append(Cell(w, impl, kind, argv, missing, env))
    return cells


def run_once(cell, timeout):
    """Runs the cell's program once; returns (sample or None, failure reason).

    The program runs under /usr/bin/time, which reports its peak RSS: a child
    forked straight from this Python process would carry Python's own ~10 MiB
    into ru_maxrss (Linux keeps the pre-exec high-water mark); time's is ~1 MiB.
    """
    env = dict(os.environ)
    env.update(cell.env or {})
    rss_file = os.path.join(cell.tmpdir, "rss")
    argv = ["/usr/bin/time", "-o", rss_file, "-f", "peak_rss_kb=%M"] + cell.argv
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # The program is time's child, in the session (process group) we made.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, "timed out after %.0f s" % timeout
    wall = time.monotonic() - t0
    stdout = out.decode(errors="replace")
    stderr = err.decode(errors="replace").strip()
    last_err = stderr.splitlines()[-1] if stderr else ""
    try:
        with open(rss_file) as f:
            timed = f.read()
    except OSError:
        timed = ""
    sig = re.search(r"terminated by signal (\d+)", timed)
    if sig:
        n = int(sig.group(1))
        return None, "killed by signal %d (%s) %s" % (n, signal.Signals(n).name, last_err)
    rss = re.search(r"peak_rss_kb=(\d+)", timed)
    m = RESULT_RE.search(stdout)
    if not m:
        return None, "exit %d, no RESULT line %s" % (proc.returncode, last_err)
    kv = dict(p.split("=", 1) for p in m.group(1).split() if "=" in p)
    if kv.get("check") != "ok":
        return None, "check=%s sum=%s %s" % (kv.get("check"), kv.get("sum"), last_err)
    if proc.returncode != 0:
        return None, "exit %d after check=ok %s" % (proc.returncode, last_err)
    try:
        metric = float(kv["metric"])
        extra = {k: float(v) for k, v in kv.items()
                 if k not in ("metric", "unit", "check", "sum")}
    except (KeyError, ValueError):
        return None, "bad RESULT line: %s" % m.group(0)
    return {"metric": metric, "unit": kv.get("unit", "?"), "sum": kv.get("sum"),
            "rss_kb": int(rss.group(1)) if rss else 0, "wall": wall, "extra": extra}, None


def fmt(x):
    if x is None:
        return "—"
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def best_peer(cells, w):
    peers = [c for c in cells if c.w == w and c.kind == "peer" and c.usable]
    if not peers:
        return None
    hib = HIGHER_IS_BETTER.get(peers[0].unit(), True)
    return (max if hib else min)(peers, key=lambda c: c.median())


def verdict(cells, w):
    """Rill's standing in workload w: a dict for the summary, table and chart."""
    _, (kind, t), rss_t = WORKLOADS[w]
    rill = next((c for c in cells if c.w == w and c.kind == "rill"), None)
    best = best_peer(cells, w)
    tokio = next((c for c in cells if c.w == w and c.impl == "tokio" and c.usable), None)
    v = {"rill": rill, "best": best, "ratio": None, "ok": None, "rss_ratio": None,
         "target": {"ge": "≥ %.1f× best peer", "le": "≤ %.1f× best peer",
                    "abs": "≤ %g " + ABS_UNITS.get(w, "ms"),
                    "n5": "≥ %.2f× rill's N5 (W16)",
                    "info": "none (reported)"}[kind]}
    if kind != "info":
        v["target"] %= t
    if w in ABS_FLOOR:
        v["target"] += ", ≥ %g %s" % (ABS_FLOOR[w], rill.unit() if rill and rill.unit()
                                       else "")
    if rss_t is not None:
        v["target"] += ", RSS ≤ %.1f× tokio" % rss_t
    if w in REDIS and kind == "ge":
        v["target"] += ", ≥ %.0f%% of hiredis" % (100 * REDIS_REF_TARGET)
    if not (rill and rill.usable):
        return v
    if best:
        v["ratio"] = rill.median() / best.median()
    if kind == "ge" and v["ratio"] is not None:
        v["ok"] = v["ratio"] >= t
    elif kind == "le" and v["ratio"] is not None:
        v["ok"] = v["ratio"] <= t
    elif kind == "abs":
        v["ok"] = rill.median() <= t
    elif kind == "n5":
        n5 = next((c for c in cells if c.w == 16 and c.kind == "rill" and c.usable), None)
        v["n5_ratio"] = rill.median() / n5.median() if n5 else None
        v["ok"] = v["n5_ratio"] is not None and v["n5_ratio"] >= t
        if v["n5_ratio"] is not None:
            v["target"] += ": %.2f×" % v["n5_ratio"]
    if w in RSS_GROWTH_KB and rill.samples:
        g = statistics.median(smp.get("extra", {}).get("rss_growth_kb", float("inf"))
                              for smp in rill.samples)
        v["target"] += ", RSS growth %.0f KiB (≤ %d)" % (g, RSS_GROWTH_KB[w])
        v["ok"] = bool(v["ok"]) and g <= RSS_GROWTH_KB[w]
    if w in ABS_FLOOR and v["ok"] is not None:
        v["ok"] = v["ok"] and rill.median() >= ABS_FLOOR[w]
    ref = next((c for c in cells if c.w == w and c.kind == "ref" and c.usable), None)
    if w in REDIS and kind == "ge" and v["ok"] is not None:
        v["ref_ratio"] = rill.median() / ref.median() if ref else None
        v["ok"] = v["ok"] and ref is not None and v["ref_ratio"] >= REDIS_REF_TARGET
    if rss_t is not None:
        if tokio:
            v["rss_ratio"] = rill.rss_mib() / tokio.rss_mib()
            v["ok"] = bool(v["ok"]) and v["rss_ratio"] <= rss_t
        else:
            v["ok"] = False
    return v


def cell_status(c):
    if c.missing:
        return "n/a — %s" % c.missing
    if c.failed:
        return "**FAILED** (%d of %d rounds)" % (len(c.failures), len(c.failures) + len(c.samples))
    return None


def mark(ok):
    return "" if ok is None else (" ✓" if ok else " ✗")


def write_markdown(path, cells, workloads, meta):
    L = ["# rill beside its peers", ""]
    L += ["Generated by `make bench` (scripts/bench.sh → bench/run.py) on %s." % meta["date"], ""]
    L += ["- machine: %s, %s CPUs (%s), %s; kernel %s; load average at start %s, at end %s"
          % (meta["cpu"], meta["cores"], meta.get("smt", "core sharing not recorded"),
             meta["mem"], meta.get("kernel", "not recorded"), meta["load_start"],
             meta["load_end"]),
          "- rill: %s" % meta["rill"],
          "- peers: %s" % ", ".join("%s %s" % kv for kv in meta["versions"].items()),
          "- C compiler: %s" % meta["cc"],
          "- %d rounds, interleaved (round 1 of every cell, then round 2, ...), "
          "each cell a separate process; measuring took %.0f s"
          % (meta["rounds"], meta["seconds"]),
          "- min, median and max of each program's own metric over the rounds; a cell whose "
          "max / min exceeds %.0f is marked **bimodal** (some runs fell into a mode more than "
          "twice as slow: its median alone would hide that). Peak RSS is the median over "
          "rounds of the process's peak RSS (`/usr/bin/time` %%M). The machine is shared and "
          "noisy: compare numbers of this run only, as ratios." % BIMODAL_RATIO, ""]
    L += ["## Summary: rill / best peer", "",
          "| workload | rill | best peer | rill / best peer | target |",
          "|---|---|---|---|---|"]
    for w in workloads:
        name = WORKLOADS[w][0]
        v = verdict(cells, w)
        rill, best = v["rill"], v["best"]
        if rill is None or not rill.usable:
            rtxt = cell_status(rill) if rill else "n/a"
        else:
            rtxt = "%s %s" % (fmt(rill.median()), rill.unit())
            if rill.bimodal():
                rtxt += " (**bimodal**: %.1f× from min to max)" % rill.spread()
        btxt = "%s (%s %s)" % (best.impl, fmt(best.median()), best.unit()) if best else "—"
        ratio = "%.2f×" % v["ratio"] if v["ratio"] is not None else "—"
        if v["rss_ratio"] is not None:
            ratio += ", RSS %.2f× tokio" % v["rss_ratio"]
        L.append("| W%d %s | %s | %s | %s | %s%s |"
                 % (w, name, rtxt, btxt, ratio, v["target"], mark(v["ok"])))
    ref11 = next((c for c in cells if c.w == 11 and c.kind == "ref" and c.usable), None)
    rill11 = next((c for c in cells if c.w == 11 and c.kind == "rill" and c.usable), None)
    if ref11:
        L += ["", "Physical reference beside N1 (two processes doing blocking 1-byte "
              "read/write on loopback TCP, no runtime): %s %s%s (target: within 1.2×)."
              % (fmt(ref11.median()), ref11.unit(),
                 ", rill at %.2f× of it" % (rill11.median() / ref11.median()) if rill11 else "")]
    refs = [c for c in cells if c.kind == "ref" and c.usable and c.w == 1]
    if refs:
        rill1 = next((c for c in cells if c.w == 1 and c.kind == "rill" and c.usable), None)
        L += ["", "Physical reference beside W1 (a bare SPSC ring between two spinning "
              "threads, no wakeups): " + "; ".join(
                  "%s %s %s%s" % (c.impl.replace("ref: ", ""), fmt(c.median()), c.unit(),
                                  ", rill at %.0f%% of it" % (100 * rill1.median() / c.median())
                                  if rill1 else "") for c in refs) + "."]
    redis = [w for w in workloads if w in REDIS]
    if redis:
        L += ["", "Redis (R1..R3 = W20..W22; each program starts its own redis-server, "
              "which shares the two cores with it): medians beside the hand-written "
              "hiredis loop (the reference; R1 and R2 want rill at ≥ %.0f%% of it), "
              "the client's own CPU time per entry, and R3's p50." % (100 * REDIS_REF_TARGET), ""]
        for w in redis:
            row = []
            for c in (c for c in cells if c.w == w and c.usable):
                txt = "%s %s %s" % (c.impl, fmt(c.median()), c.unit())
                if c.extra_median("p50") is not None:
                    txt += " (p50 %s us)" % fmt(c.extra_median("p50"))
                if c.extra_median("cpu_ns") is not None:
                    txt += ", %s ns CPU/entry" % fmt(c.extra_median("cpu_ns"))
                row.append(txt)
            ref = next((c for c in cells if c.w == w and c.kind == "ref" and c.usable), None)
            rill = next((c for c in cells if c.w == w and c.kind == "rill" and c.usable), None)
            if ref and rill:
                row.append("rill / hiredis %.2f×" % (rill.median() / ref.median()))
            L.append("- W%d %s: %s" % (w, WORKLOADS[w][0], "; ".join(row) or "no usable cell"))
    L += ["", "## Every cell", "",
          "| workload | implementation | min | median | max | unit | peak RSS MiB "
          "| rill / best peer |", "|---|---|---|---|---|---|---|---|"]
    for w in workloads:
        v = verdict(cells, w)
        for c in (c for c in cells if c.w == w):
            st = cell_status(c)
            if c.samples:
                ms = [s["metric"] for s in c.samples]
                lo, med, hi = fmt(min(ms)), fmt(c.median()), fmt(max(ms))
                if c.bimodal():
                    hi += " **bimodal** (%.1f×)" % c.spread()
                unit, rss = c.unit(), "%.1f" % c.rss_mib()
            else:
                lo = med = hi = unit = rss = "—"
            if st:
                med = st if med == "—" else "%s (ok rounds: %s)" % (st, med)
            note = ""
            if c.kind == "rill" and v["ratio"] is not None:
                note = "%.2f×%s" % (v["ratio"], mark(v["ok"]))
            elif c is v["best"]:
                note = "best peer"
            elif c.kind == "ref":
                note = "physical reference"
            L.append("| W%d %s | %s | %s | %s | %s | %s | %s | %s |"
                     % (w, WORKLOADS[w][0], c.impl, lo, med, hi, unit, rss, note))
    extras = [c for c in cells if c.samples and c.samples[0].get("extra")]
    if extras:
        L += ["", "## More figures from the RESULT lines (median over the rounds)", "",
              "| workload | implementation | figures |", "|---|---|---|"]
        for c in extras:
            keys = sorted({k for smp in c.samples for k in smp.get("extra", {})})
            L.append("| W%d %s | %s | %s |" % (c.w, WORKLOADS[c.w][0], c.impl, ", ".join(
                "%s %s" % (k, fmt(statistics.median(
                    smp["extra"][k] for smp in c.samples if k in smp.get("extra", {}))))
                for k in keys)))
    fails = [(c, f) for c in cells for f in c.failures]
    if fails:
        L += ["", "## Failures", ""]
        L += ["- W%d %s, %s" % (c.w, c.impl, f) for c, f in fails]
    L += ["", "## How the peers do each workload", "",
          "See bench/README.md. In short: tokio W6 is the seed article's bridge "
          "(std `sync_channel(1024)` → `spawn_blocking` forwarder → `blocking_send` into "
          "mpsc(1024) → `ReceiverStream`); tokio W7 adds sender-side backpressure to "
          "`broadcast` (which has none) so no receiver lags; Go has no unbounded or "
          "broadcast channel, so its W3 uses a channel buffered for all 10M items and its "
          "W7 one channel per receiver.", "",
          "![rill beside its peers](results.png)", ""]
    with open(path, "w") as f:
        f.write("\n".join(L))


def _bar_groups(ax, groups, handles):
    """Draws one group of bars per (label, [(cell, value or None, text)], goal)
    on a log scale, the text (if any) above the bar; a cell without a value is
    labelled n/a or FAIL."""
    width, ys = 0.8, []
    for gi, (_, bars, goal) in enumerate(groups):
        slot = width / max(len(bars), 1)
        for k, (c, y, text) in enumerate(bars):
            x = gi - width / 2 + slot * (k + 0.5)
            if y is None:
                handles.setdefault(c.impl, ax.bar(x, 0, 0, color=COLORS[c.impl]))
                label = "rill: n/a" if c.kind == "rill" and c.missing else (
                    "n/a" if c.missing else "FAIL")
                ax.annotate(label, (x, 1.0), ha="center", va="bottom", fontsize=7,
                            rotation=90, color="red" if c.failed else COLORS[c.impl],
                            xytext=(0, 3), textcoords="offset points")
                continue
            ys.append(y)
            b = ax.bar(x, y, slot * 0.92, color=COLORS[c.impl],
                       hatch="//" if c.kind == "ref" else None,
                       edgecolor="black" if c.kind == "rill" else "white", linewidth=0.6)
            handles.setdefault(c.impl, b)
            if text:
                ax.annotate(text, (x, y), ha="center", va="bottom", fontsize=8,
                            fontweight="bold", color=COLORS["rill"],
                            xytext=(0, 2), textcoords="offset points")
        if goal:
            ax.hlines(goal, gi - width / 2, gi + width / 2, colors=COLORS["rill"],
                      linestyles="dashed", linewidth=1.4)
            ys.append(goal)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_ylim(min(ys + [0.5]) / 1.6, max(ys + [2.0]) * 1.8)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] for g in groups], fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.25)


def write_chart(path, cells, workloads, meta):
    """Left: every implementation's median relative to the best peer, higher
    is better. Right (W3, W8): peak RSS relative to tokio's, lower is better."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    speed, rss = [], []
    for w in workloads:
        name, (kind, t), rss_t = WORKLOADS[w]
        best = best_peer(cells, w)
        bars = []
        for c in (c for c in cells if c.w == w):
            y = None
            if c.usable and best:
                hib = HIGHER_IS_BETTER.get(c.unit(), True)
                y = c.median() / best.median() if hib else best.median() / c.median()
            text = None
            if c.kind == "rill" and y is not None:
                ratio = c.median() / best.median()
                text = {"ge": "%.2f×" % ratio, "le": "%.2f×\ntime" % ratio,
                        "n5": "%.2f×" % ratio,
                        "abs": "%s %s" % (fmt(c.median()), c.unit()),
                        "info": "%.2f×\ntime" % ratio}[kind]
            bars.append((c, y, text))
        goal = t if kind == "ge" else 1.0 / t if kind == "le" else None
        if kind == "abs" and best:
            goal = best.median() / t
        n5 = next((c for c in cells if c.w == 16 and c.kind == "rill" and c.usable), None)
        if kind == "n5" and best and n5:
            goal = t * n5.median() / best.median()
        speed.append(("W%d\n%s" % (w, name), bars, goal))
        tokio = next((c for c in cells if c.w == w and c.impl == "tokio" and c.usable), None)
        if rss_t is not None:
            rss.append(("W%d\n%s" % (w, name),
                        [(c, c.rss_mib() / tokio.rss_mib() if c.usable and tokio else None,
                          "%.2f×" % (c.rss_mib() / tokio.rss_mib())
                          if c.kind == "rill" and c.usable and tokio else None)
                         for c in cells if c.w == w and c.kind != "ref"], rss_t))

    wide = [1.4 * len(speed) + 1.5] + ([1.3 * len(rss) + 1.2] if rss else [])
    fig, axes = plt.subplots(1, len(wide), figsize=(min(sum(wide), 15.5), 6.2),
                             gridspec_kw={"width_ratios": wide}, squeeze=False)
    handles = {}
    fmt_x = FuncFormatter(lambda y, _: "%g×" % y)
    ax = axes[0][0]
    _bar_groups(ax, speed, handles)
    ax.set_ylabel("median relative to the best peer (log scale, higher is better)")
    ax.yaxis.set_major_formatter(fmt_x)
    ax.set_title("speed: rill (red; on the bar, rill / best peer as in the table) "
                 "beside each peer", fontsize=10)
    if rss:
        ax2 = axes[0][1]
        _bar_groups(ax2, rss, handles)
        ax2.set_ylabel("peak RSS relative to tokio's (log scale, lower is better)")
        ax2.yaxis.set_major_formatter(fmt_x)
        ax2.set_title("memory (targeted in W3, W8)", fontsize=10)
    order = [i[0] for i in IMPLS if i[0] in handles]
    fig.legend([handles[k] for k in order] +
               [Line2D([0], [0], color=COLORS["rill"], linestyle="dashed")],
               order + ["rill's target"], fontsize=8, ncol=5, loc="lower center")
    fig.suptitle("rill beside its peers — %s, %s cores, %d rounds, %s"
                 % (meta["cpu"], meta["cores"], meta["rounds"], meta["date"]), fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_sharing():
    """Whether the online CPUs share physical cores, from sysfs topology:
    each CPU's thread_siblings_list names the CPUs on its core. On a VM this
    is what the hypervisor shows (two vCPUs may still be hyperthreads of
    one host core without the guest being told)."""
    sibs = set()
    for path in sorted(glob.glob("/sys/devices/system/cpu/cpu[0-9]*/topology/"
                                 "thread_siblings_list")):
        try:
            with open(path) as f:
                sibs.add(f.read().strip())
        except OSError:
            pass
    if not sibs:
        return "core sharing unknown: no /sys topology"
    shared = sorted(s for s in sibs if "," in s or "-" in s)
    if shared:
        return "CPUs share cores per /sys topology: siblings %s" % "; ".join(shared)
    return "no two CPUs share a core per /sys topology"


def machine_meta():
    cpu = sh("lscpu | sed -n 's/^Model name: *//p' | head -1") or "unknown CPU"
    mem = sh("free -g | awk '/^Mem:/ {print $2\" GiB\"}'")
    versions = {}
    for p in PEER_PACKAGES:
        versions[p.replace("librust-", "").replace("-dev", "")] = (
            sh("dpkg-query -W -f='${Version}' %s 2>/dev/null" % p) or "not installed")
    rev = sh("git -C %s rev-parse --short HEAD" % ROOT)
    hv = sh("lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1")
    dirty = sh("git -C %s status --porcelain --untracked-files=no" % ROOT)
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M %Z").strip(),
            "cpu": cpu, "cores": os.cpu_count(), "mem": mem, "versions": versions,
            "rill": "commit %s%s" % (rev or "?", " (with uncommitted changes)" if dirty else ""),
            "cc": sh("cc --version | head -1"),
            "smt": cpu_sharing(), "kernel": "%s %s%s" % (
                os.uname().sysname, os.uname().release,
                ", virtualised (%s)" % hv if hv else ""),
            "load_start": " ".join(open("/proc/loadavg").read().split()[:3])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--workloads", default="", help="e.g. 5 or 1,5,W7 (default: all)")
    ap.add_argument("--rounds", type=int, default=MIN_ROUNDS,
                    help="rounds per cell (at least %d)" % MIN_ROUNDS)
    ap.add_argument("--budget", type=float, default=600.0,
                    help="seconds of measuring after which no new round starts "
                         "(only once %d rounds are done)" % MIN_ROUNDS)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per cell run")
    ap.add_argument("--out", default=None,
                    help="output folder (default: bench/ for a full run, bench/out/ otherwise)")
    ap.add_argument("--from-json", default=None,
                    help="write the reports again from a results.json, running nothing")
    a = ap.parse_args()
    workloads = sorted({int(x.strip().lstrip("Ww")) for x in a.workloads.split(",")
                        if x.strip()}) or sorted(WORKLOADS)
    for w in workloads:
        if w not in WORKLOADS:
            sys.exit("run.py: no workload W%d" % w)
    rounds = max(MIN_ROUNDS, a.rounds)
    full = workloads == sorted(WORKLOADS)
    out = a.out or (HERE if full else os.path.join(HERE, "out"))
    os.makedirs(out, exist_ok=True)

    if a.from_json:
        with open(a.from_json) as f:
            saved = json.load(f)
        cells = []
        for d in saved["cells"]:
            c = Cell(d["w"], d["impl"], d["kind"], d["argv"], d["missing"])
            c.samples, c.failures = d["samples"], d["failures"]
            cells.append(c)
        workloads = sorted({c.w for c in cells})
        full = workloads == sorted(WORKLOADS)
        out = a.out or (HERE if full else os.path.join(HERE, "out"))
        return report(out, cells, workloads, saved["meta"], None)

    meta = machine_meta()
    cells = make_cells(os.path.abspath(a.build), workloads)
    tmp = tempfile.TemporaryDirectory(prefix="rill-bench-")
    for c in cells:
        c.tmpdir = tmp.name
    for c in cells:
        if c.missing:
            print("  W%-2d %-28s n/a — %s" % (c.w, c.impl, c.missing))
    t0 = time.monotonic()
    done = 0
    for r in range(1, rounds + 1):
        rt0 = time.monotonic()
        for c in cells:
            if c.missing:
                continue
            s, why = run_once(c, a.timeout)
            if s:
                c.samples.append(s)
                print("r%d W%-2d %-28s %10s %-13s %7.1f MiB" % (
                    r, c.w, c.impl, fmt(s["metric"]), s["unit"], s["rss_kb"] / 1024.0),
                    flush=True)
            else:
                c.failures.append("round %d: %s" % (r, why))
                print("r%d W%-2d %-28s FAILED: %s" % (r, c.w, c.impl, why), flush=True)
        done = r
        spent, last = time.monotonic() - t0, time.monotonic() - rt0
        if r >= MIN_ROUNDS and r < rounds and spent + last > a.budget:
            print("run.py: stopping after %d rounds (%.0f s spent, budget %.0f s)"
                  % (r, spent, a.budget))
            break
    meta.update(rounds=done, seconds=time.monotonic() - t0,
                load_end=" ".join(open("/proc/loadavg").read().split()[:3]))
    raw = [{"w": c.w, "impl": c.impl, "kind": c.kind, "argv": c.argv, "missing": c.missing,
            "samples": c.samples, "failures": c.failures} for c in cells]
    return report(out, cells, workloads, meta, raw)


def report(out, cells, workloads, meta, raw):
    """Writes RESULTS.md, results.png and (raw given) results.json into out."""
    md, png = os.path.join(out, "RESULTS.md"), os.path.join(out, "results.png")
    write_markdown(md, cells, workloads, meta)
    try:
        write_chart(png, cells, workloads, meta)
    except ImportError as e:
        print("run.py: no chart (%s); install python3-matplotlib" % e)
    if raw is not None:
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump({"meta": meta, "cells": raw}, f, indent=1)
    print("\nwrote %s and %s\n" % (os.path.relpath(md, ROOT), os.path.relpath(png, ROOT)))
    with open(md) as f:
        text = f.read()
    print(text[text.index("## Summary"):text.index("## Every cell")])
    failed = [c for c in cells if c.failed]
    if failed:
        print("run.py: %d cell(s) FAILED: %s" % (len(failed), ", ".join(
            "W%d %s" % (c.w, c.impl) for c in failed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
