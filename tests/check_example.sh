#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run an example and check its output: every line of the expected file is an
# extended regular expression that must match some line of the output, in
# order. Usage: check_example.sh <program> <expected-file>
set -u
prog=$1 expected=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# RUNNER: an optional launcher (qemu-aarch64 for cross-built examples).
if ! ${RUNNER:-} "$prog" >"$out" 2>&1; then
  echo "FAIL: $prog exited non-zero"; cat "$out"; exit 1
fi
if [ ! -f "$expected" ]; then
  echo "FAIL: no expected output file $expected"; exit 1
fi
line=1
while IFS= read -r pat || [ -n "$pat" ]; do
  case "$pat" in ""|"#"*) continue ;; esac
  found=$(tail -n +"$line" "$out" | grep -n -E -m1 -- "$pat" | cut -d: -f1)
  if [ -z "$found" ]; then
    echo "FAIL: expected /$pat/ after output line $line"; cat "$out"; exit 1
  fi
  line=$((line + found))
done <"$expected"
echo "ok: $(basename "$prog")"
