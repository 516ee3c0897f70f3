#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench [W=N]`: build rill's benchmark programs and its peers, then run
# them all interleaved with bench/run.py, which writes bench/RESULTS.md and
# bench/results.png (a whole run) or bench/out/ (a run of one workload).
#   scripts/bench.sh        every workload W1..W22
#   scripts/bench.sh 5      W5 only
#   scripts/bench.sh 20,21,22   the Redis workloads R1..R3
# Environment: ROUNDS (default 9, at least 9), BUDGET (seconds of measuring
# after which no new round starts, default 600), TIMEOUT (seconds per cell,
# default 60). Everything built goes under build/bench; nothing touches the
# network (the Rust crates come from Debian's /usr/share/cargo/registry).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build/bench
mkdir -p "$build"
W=${1:-}
start=$(date +%s)

echo "bench: C programs (rill, reference, micro) -> $build/bench/bin"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRILL_BENCH=ON -DRILL_TESTS=OFF \
      -DRILL_EXAMPLES=OFF >"$build/configure.log" 2>&1 || { tail -40 "$build/configure.log"; exit 1; }
# -k: a rill program that does not build yet must not stop the peers; its
# cells then read "n/a — not built" and the log says why.
if ! cmake --build "$build" -j2 -- -k >"$build/build.log" 2>&1; then
  echo "bench: some C programs did not build (see $build/build.log):"
  grep -E 'error|Error' "$build/build.log" | head -15 || true
fi

echo "bench: Rust peers (Debian's crates, offline) -> $build/peers-rust"
(cd bench/peers/rust &&
 RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$build/peers-rust" \
   /usr/bin/cargo build --release --offline -j2 --quiet)

echo "bench: Go peer -> $build/bench/bin/go-peer"
(cd bench/peers/go &&
 GOCACHE="$build/gocache" GOPATH="$build/gopath" GOPROXY=off GOFLAGS= \
   /usr/bin/go build -o "$build/bench/bin/go-peer" .)

# The Redis workloads' Go peer needs Debian's redigo (scripts/deps.sh bench
# installs golang-github-gomodule-redigo-dev): GOPATH mode, /usr/share/gocode
# on GOPATH, nothing fetched. Without it those cells read "not built".
if [ -d /usr/share/gocode/src/github.com/gomodule/redigo ]; then
  echo "bench: Go Redis peer -> $build/bench/bin/go-redis-peer"
  (cd bench/peers/go-redis &&
   GOCACHE="$build/gocache" GOPATH="$build/gopath:/usr/share/gocode" GO111MODULE=off \
     GOPROXY=off GOFLAGS= /usr/bin/go build -o "$build/bench/bin/go-redis-peer" .)
else
  echo "bench: no redigo (golang-github-gomodule-redigo-dev): no Go Redis peer"
fi

echo "bench: built in $(( $(date +%s) - start )) s; running"
args=(--build "$build" --rounds "${ROUNDS:-9}" --budget "${BUDGET:-600}" --timeout "${TIMEOUT:-60}")
[ -n "$W" ] && args+=(--workloads "$W")
# Debian's python3, which has python3-matplotlib (an earlier python3 on PATH may not).
exec /usr/bin/python3 bench/run.py "${args[@]}"
