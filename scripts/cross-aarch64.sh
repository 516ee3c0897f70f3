#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cross-build rill (library + examples) for aarch64 with Debian's
# gcc-aarch64-linux-gnu, then run the examples under qemu-user if present.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v aarch64-linux-gnu-gcc >/dev/null || { echo "aarch64-linux-gnu-gcc missing"; exit 1; }
cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Release -DRILL_TESTS=OFF -DRILL_BENCH=OFF >/dev/null
cmake --build build/aarch64 -j"$(nproc)" >/dev/null
file build/aarch64/librill.a >/dev/null 2>&1 || true
if command -v qemu-aarch64 >/dev/null; then
  for ex in build/aarch64/examples/*; do
    [ -x "$ex" ] || continue
    name=$(basename "$ex")
    [ -f "examples/expected/$name.txt" ] || continue
    # Examples that say so in their expected file are skipped under emulation.
    grep -q '^# no-qemu' "examples/expected/$name.txt" && continue
    RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" tests/check_example.sh "$ex" "examples/expected/$name.txt"
  done
fi
echo "aarch64 cross-build ok"
