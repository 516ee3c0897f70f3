#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages rill's build, tests and demo need, if any is
# missing. Idempotent: does nothing (and needs no network) when all are in.
# Usage: scripts/deps.sh [build|test|bench]   (default: test)
#   build  the library, the examples and the demo (`make`, `make demo`)
#   test   build + cmocka, clang (TSan, libFuzzer), clang-format, the
#          aarch64 cross tools, the real web clients (curl, websockets),
#          the browser test's Chromium (apt) and playwright-core (npm, into
#          tests/browser/node_modules, the version in its package-lock.json),
#          hiredis + redis-server for the Redis Streams bridge (the
#          bridge builds only with libhiredis-dev; its tests start their
#          own redis-server), and relacy-dev + g++ for the model tests
#          (tests/model: relacy is a header-only C++ model checker)
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
               libhttp-parser-dev curl python3 python3-websockets
               libhiredis-dev redis-server relacy-dev g++)
         # node and npm: Debian's, unless a node of another origin is in
         # (NodeSource's nodejs bundles npm and conflicts with Debian's).
         command -v node >/dev/null || pkgs+=(nodejs)
         command -v npm >/dev/null || pkgs+=(npm) ;;
  bench) pkgs+=(libhiredis-dev redis-server golang-go golang-github-gorilla-websocket-dev
                golang-github-gomodule-redigo-dev cargo rustc python3 python3-matplotlib time
                librust-tokio-dev librust-tokio-stream-dev librust-tokio-util-dev
                librust-futures-dev librust-libc-dev
                librust-flume-dev librust-async-channel-dev librust-async-broadcast-dev) ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
missing=()
for p in "${pkgs[@]}"; do
  installed "$p" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
updated=""
apt_install() {
  [ -n "$updated" ] || { $SUDO apt-get update -qq; updated=1; }
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  apt_install "${missing[@]}"
fi
[ "$what" = test ] || exit 0

# The browser test. Chromium on its own: where it cannot be installed at all
# the rest still is, and the test says "skipped: ...".
if ! installed chromium; then
  echo "deps: installing chromium"
  apt_install chromium ||
    echo "deps: chromium could not be installed: the browser test will be skipped"
fi
# playwright-core, the version package-lock.json pins (npm ci: exactly the
# lock, from the npm registry), unless that version is already there.
browser=$(cd "$(dirname "$0")/../tests/browser" && pwd)
want=$(sed -n '/"node_modules\/playwright-core"/,/}/s/.*"version": "\(.*\)".*/\1/p' \
  "$browser/package-lock.json")
have=$(sed -n 's/^  "version": "\(.*\)".*/\1/p' \
  "$browser/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  echo "deps: installing playwright-core $want into tests/browser/node_modules"
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "deps: npm ci failed: the browser test will fail until playwright-core is in"
fi
