#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build and run a tiny program that uses an installed rill, the way a user's
# project would. Usage: consumer.sh pkg-config|cmake <prefix>
set -euo pipefail
how=$1 prefix=$2
src=$(cd "$(dirname "$0")/../tests/consumer" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
case $how in
  pkg-config)
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib64/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
    # shellcheck disable=SC2046
    libdir=$(pkg-config --variable=libdir rill)
    cc -std=c11 -Wall -Werror "$src/main.c" -o "$out/consumer" $(pkg-config --cflags --libs rill) -Wl,-rpath,"$libdir"
    ;;
  cmake)
    cmake -S "$src" -B "$out/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
    cmake --build "$out/build" >/dev/null
    cp "$out/build/consumer" "$out/consumer"
    ;;
  *) echo "usage: $0 pkg-config|cmake <prefix>" >&2; exit 2 ;;
esac
"$out/consumer"
