#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer harnesses (tests/fuzz) with clang + ASan + UBSan and
# run them.
#   scripts/fuzz.sh [harness...]     grow the corpus: run each harness for
#                                    FUZZ_SECONDS (default 300) on its
#                                    corpus dir, then merge (minimise) what
#                                    it found into tests/fuzz/corpus/<name>
#   FUZZ_MODE=check scripts/fuzz.sh  what `make test` does (config fuzz):
#                                    replay the corpus through every
#                                    harness, then run each for
#                                    FUZZ_SECONDS (default 30) on a scratch
#                                    copy of its corpus (the checked-in
#                                    corpus is not touched); prints
#                                    "ok: fuzz-<name>" / "FAIL: ..." lines.
# A harness that finds a mismatch or a sanitizer error stops; the input
# that did it is written to build/fuzz/artifacts/ (replay it with
# build/fuzz/fuzz_<name> <file>).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${FUZZ_MODE:-grow}
all="bounded rendezvous unbounded oneshot watch broadcast select stream codec http sse ws redis"
names=${*:-$all}
dir=build/fuzz
art=$dir/artifacts
mkdir -p "$art"
if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
         -DCMAKE_C_COMPILER=clang -DRILL_SANITIZE=address -DRILL_FUZZ=ON \
         -DRILL_TESTS=OFF -DRILL_EXAMPLES=OFF -DRILL_BENCH=OFF &&
       cmake --build "$dir" -j"${JOBS:-2}"; } >"$dir.build.log" 2>&1; then
  tail -40 "$dir.build.log"; echo "FAIL: fuzz-build"; exit 1
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# -rss_limit_mb: ASan's quarantine and libFuzzer's corpus grow to a few
# hundred MB; the limit catches real blow-ups. -max_len keeps the inputs
# (and so the corpus) small: 256 bytes are up to ~100 operations.
opts=(-rss_limit_mb=2048 -max_len=256 -timeout=20 -print_final_stats=0
      -artifact_prefix="$art/")
failed=0
for n in $names; do
  bin=$dir/fuzz_$n corpus=tests/fuzz/corpus/$n
  # The Redis bridge's harness exists only where hiredis was found.
  if [ "$n" = redis ] && [ ! -x "$bin" ]; then
    echo "skipped: fuzz-$n (no hiredis: the Redis bridge is not built)"; continue
  fi
  mkdir -p "$corpus"
  if [ "$mode" = check ]; then
    secs=${FUZZ_SECONDS:-30}
    if "$bin" "${opts[@]}" -runs=0 "$corpus" >"$dir/replay-$n.log" 2>&1; then
      echo "ok: fuzz-replay-$n ($(ls "$corpus" | wc -l) inputs)"
    else
      echo "FAIL: fuzz-replay-$n"; tail -30 "$dir/replay-$n.log"; failed=1
    fi
    scratch=$dir/scratch/$n
    rm -rf "$scratch"; mkdir -p "$scratch"; cp "$corpus"/* "$scratch"/ 2>/dev/null
    if "$bin" "${opts[@]}" -max_total_time="$secs" "$scratch" >"$dir/run-$n.log" 2>&1; then
      echo "ok: fuzz-$n ($(grep -Eo 'Done [0-9]+ runs' "$dir/run-$n.log") in ${secs} s)"
    else
      echo "FAIL: fuzz-$n"; grep -E 'mismatch|ERROR|SUMMARY|artifact|Test unit' "$dir/run-$n.log" | head -20; failed=1
    fi
  else
    secs=${FUZZ_SECONDS:-300}
    grow=$dir/grow/$n
    mkdir -p "$grow"
    echo "== $n: fuzzing for $secs s"
    "$bin" "${opts[@]}" -max_total_time="$secs" "$grow" "$corpus" >"$dir/run-$n.log" 2>&1 ||
      { echo "FAIL: $n"; grep -E 'mismatch|ERROR|SUMMARY|Test unit' "$dir/run-$n.log" | head; failed=1; continue; }
    # Minimise: keep only inputs that add coverage, into a fresh dir.
    fresh=$dir/merge/$n
    rm -rf "$fresh"; mkdir -p "$fresh"
    "$bin" "${opts[@]}" -merge=1 "$fresh" "$corpus" "$grow" >"$dir/merge-$n.log" 2>&1 &&
      rm -rf "$corpus" && mv "$fresh" "$corpus"
    echo "   corpus: $(ls "$corpus" | wc -l) files, $(du -sb --apparent-size "$corpus" | cut -f1) bytes"
  fi
done
exit $failed
