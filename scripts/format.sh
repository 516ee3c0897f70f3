#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# clang-format over every C source and header of the project (.clang-format
# at the top). Usage: scripts/format.sh [check]
#   (none)  rewrite the files in place (make format)
#   check   change nothing; list each file that differs and exit non-zero
#           (scripts/test.sh runs this in make test)
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find include src tests examples bench -name '*.[ch]' | sort)
case ${1:-} in
  "")    clang-format -i "${files[@]}" ;;
  check) bad=0
         for f in "${files[@]}"; do
           clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "not formatted: $f"; bad=1; }
         done
         [ "$bad" -eq 0 ] || echo "(scripts/format.sh or make format rewrites them; clang-format --dry-run FILE shows how)"
         exit "$bad" ;;
  *)     echo "usage: $0 [check]" >&2; exit 2 ;;
esac
