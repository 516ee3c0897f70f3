#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The README's code blocks marked

    <!-- verbatim from examples/NAME.c ... -->
    ```c
    ...
    ```

must appear, byte for byte, in that file: the file is built and run by
`make test` (its output checked against examples/expected/NAME.txt), so the
README shows code that compiles and works. Exit 1 naming each block that
drifted."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
readme = (root / "README.md").read_text()
blocks = re.findall(r"<!-- verbatim from (\S+)[^>]*-->\n```c\n(.*?)```", readme, re.S)
bad = 0
for path, code in blocks:
    src = root / path
    if not src.exists():
        print(f"README: {path} does not exist")
        bad += 1
    elif code not in src.read_text():
        print(f"README: the block marked verbatim from {path} is not in it")
        bad += 1
    else:
        print(f"ok: README block from {path} ({len(code.splitlines())} lines)")
if not blocks:
    print("README: no block marked '<!-- verbatim from ... -->'")
    bad += 1
sys.exit(1 if bad else 0)
