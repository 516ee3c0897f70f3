#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite, as `make test` runs it:
#   format    clang-format --dry-run -Werror over every source (scripts/format.sh)
#   release   gcc, optimised, the unit tests and the examples
#   asan      gcc, AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer)
#   tsan      clang, ThreadSanitizer
#   clang     clang -Werror, optimised
#   install   cmake --install, then an out-of-tree consumer built with
#             pkg-config and with find_package(rill)
#   aarch64   cross-build with gcc-aarch64-linux-gnu; examples run under qemu-user
#   fuzz      clang libFuzzer harnesses (tests/fuzz): replay the corpus through
#             each, then fuzz each for FUZZ_SECONDS (default 30) s
# Ends with one line "N passed, N failed" (N = CTest entries and checks) and
# exits non-zero on any failure. CONFIGS="release tsan" runs a subset;
# TEST_FILTER=glob runs only the matching tests inside each binary, and
# CTEST_ARGS="-L sync" (or -R, -E, ...) picks CTest entries (see
# docs/testing.md).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc 2>/dev/null || echo 2)
configs=${CONFIGS:-"format release asan tsan clang install aarch64 fuzz"}
passed=0 failed=0
failures=()

note() { printf '\n=== %s ===\n' "$*"; }
count_ctest() { # $1 = config name, $2 = ctest log
  local total fail
  total=$(grep -Eo 'tests passed, [0-9]+ tests failed out of [0-9]+' "$2" | grep -Eo '[0-9]+$' | tail -1)
  fail=$(grep -Eo '[0-9]+ tests failed out of' "$2" | grep -Eo '^[0-9]+' | tail -1)
  if [ -z "$total" ]; then
    failed=$((failed + 1)); failures+=("$1: ctest did not run"); return
  fi
  passed=$((passed + total - fail)); failed=$((failed + fail))
  while read -r t; do failures+=("$1: $t"); done < <(sed -n '/The following tests FAILED/,$p' "$2" | grep -E '^\s+[0-9]+ - ' | sed 's/^\s*//')
}
failed_output() { # $1 = ctest log: what each failed test printed, last 60 lines each
  awk '/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: /{on = ($0 !~ / Passed /)} on' "$1" |
    awk '/^ *[0-9]+\/[0-9]+ Test +#/{if (n) for (i = (n > 60 ? n - 60 : 0); i < n; i++) print b[i]; n = 0; print "--- " $0; next} {b[n++] = $0} END {for (i = (n > 60 ? n - 60 : 0); i < n; i++) print b[i]}' |
    grep -v -e '^100% tests passed' | sed -n '/^--- /,$p' | head -400
}
build_and_test() { # name, cmake args...
  local name=$1; shift
  local dir=build/$name
  note "$name: configure + build"
  if ! cmake -S . -B "$dir" -DRILL_BENCH=OFF -DRILL_CONFIG_NAME="$name" "$@" >"$dir.configure.log" 2>&1 ||
     ! cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
    cat "$dir.configure.log" "$dir.build.log" 2>/dev/null | tail -60
    failed=$((failed + 1)); failures+=("$name: build failed"); return
  fi
  note "$name: ctest"
  (cd "$dir" && $RUNNER ctest --output-on-failure -j"$jobs" ${CTEST_ARGS:-}) 2>&1 | tee "$dir.ctest.log" | grep -Ev '^\s+(Start|[0-9]+/[0-9]+ Test)' | tail -40
  failed_output "$dir.ctest.log"
  count_ctest "$name" "$dir.ctest.log"
}
check() { # name, command...
  local name=$1; shift
  if "$@" >"build/check-$name.log" 2>&1; then
    passed=$((passed + 1)); echo "ok: $name"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL: $name"; tail -30 "build/check-$name.log"
  fi
}

mkdir -p build
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
for c in $configs; do
  RUNNER=""
  case $c in
    format)  note "format: clang-format --dry-run -Werror"
             check clang-format scripts/format.sh check ;;
    release) build_and_test release -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc ;;
    asan)    build_and_test asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
               -DCMAKE_C_COMPILER=gcc -DRILL_SANITIZE=address ;;
    tsan)    # TSan's shadow layout does not fit every ASLR setting: run without ASLR.
             command -v setarch >/dev/null && RUNNER="setarch $(uname -m) -R"
             build_and_test tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 \
               -DCMAKE_C_COMPILER=clang -DRILL_SANITIZE=thread ;;
    clang)   build_and_test clang -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang ;;
    install) note "install + out-of-tree consumer"
             [ -d build/release ] || cmake -S . -B build/release -DRILL_BENCH=OFF >/dev/null
             check install-build cmake --build build/release -j"$jobs"
             rm -rf build/prefix
             check install cmake --install build/release --prefix "$root/build/prefix"
             check consumer-pkg-config scripts/consumer.sh pkg-config "$root/build/prefix"
             check consumer-find-package scripts/consumer.sh cmake "$root/build/prefix" ;;
    aarch64) note "aarch64 cross-build (+ qemu-user)"
             check aarch64-cross scripts/cross-aarch64.sh ;;
    fuzz)    note "fuzz: corpus replay + ${FUZZ_SECONDS:-30} s per harness"
             FUZZ_MODE=check scripts/fuzz.sh 2>&1 | tee build/fuzz.log
             while read -r line; do
               case $line in
                 ok:*) passed=$((passed + 1)) ;;
                 FAIL:*) failed=$((failed + 1)); failures+=("${line#FAIL: }") ;;
               esac
             done < <(grep -E '^(ok|FAIL): ' build/fuzz.log) ;;
    *) echo "unknown config $c"; failed=$((failed + 1)) ;;
  esac
done

if ((${#failures[@]})); then
  printf '\nFailures:\n'; printf '  %s\n' "${failures[@]}"
fi
printf '\n%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
