#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages rill's build, tests and demo need, if any is
# missing. Idempotent: does nothing (and needs no network) when all are in.
# Usage: scripts/deps.sh [build|test|bench]   (default: test)
#   build  the library, the examples and the demo (`make`, `make demo`)
#   test   build + cmocka, clang (TSan, libFuzzer), clang-format, the
#          aarch64 cross tools, and the real web clients (curl, websockets)
#   bench  test + the peers' toolchains and crates
# gcc only recommends libc6-dev (the C headers and crt files), and
# packages are installed here without recommends: it is named.
set -euo pipefail
what=${1:-test}
build=(cmake make gcc libc6-dev pkg-config)
pkgs=("${build[@]}" clang libclang-rt-14-dev libcmocka-dev clang-format)
case "$what" in
  build) pkgs=("${build[@]}") ;;
  test)  pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
               libhttp-parser-dev curl python3 python3-websockets) ;;
  bench) pkgs+=(golang-go cargo rustc python3 python3-matplotlib time
                librust-tokio-dev librust-tokio-stream-dev librust-tokio-util-dev
                librust-futures-dev librust-libc-dev
                librust-flume-dev librust-async-channel-dev librust-async-broadcast-dev) ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
