#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-api-docs.py - every public function says what it returns, what
happens to ownership, whether it waits and where it may be called.

The rule (docs/api.md, "Doc comments", says the same for people):

  Each RILL_API declaration in include/rill/*.h has a doc comment: the
  block comment right above it. Consecutive declarations under one comment
  share it (a group such as rill_sender_len / rill_receiver_len), and so do
  the declarations of one header section that a comment introduces only
  when nothing but declarations and macros stand between them.

  The comment has these lines, where they apply (a line starts with the
  key and a colon; "Returns, Ownership: as rill_x" covers both keys):

  Returns:    unless the function returns void.
  Waits:      when it returns a status (int): whether and until what it
              waits ("never" is an answer). A call that returns a value
              other than a status never waits.
  Threads:    always: from a task, a plain thread or both ("any" and
              "both" mean both; an owner rule such as "the owner of rx"
              is an answer too).
  Ownership:  when an object changes hands: a parameter that is a pointer
              to a pointer (an object comes back), or a name with a
              lifetime word (new, free, release, clone, destroy, discard,
              into, init, spawn, join, detach, subscribe, accept, listen,
              connect). When such a function returns a status, its
              Ownership text also says what happens on failure (it
              mentions failure, an error, "otherwise", "every result",
              or refers to another function with "as rill_...").

Usage: check-api-docs.py [include-dir]   (default: include next to this
script). Prints one line per missing item, exits 1 if there is any.
Python 3 standard library only.
"""
import os
import re
import sys

KEYS = ("Returns", "Ownership", "Waits", "Threads")
LIFETIME = re.compile(
    r"_(new|free|release|clone|destroy|discard|into|init|subscribe)(_|$)"
    r"|^rill_(spawn|join|task_detach|accept|listen|connect)(_|$)")
FAILURE = re.compile(
    r"fail|error|otherwise|every result|any result|whatever|as\s+rill_|"
    r"always|never fails|either way", re.I)
DECL = re.compile(r"^RILL_API\b(.*?)\b(rill_\w+)\s*\((.*?)\)\s*;", re.S | re.M)
KEYINLINE = re.compile(
    r"(^\s*|\.\s+)((?:Returns|Ownership|Waits|Threads)"
    r"(?:\s*(?:,|and)\s*(?:Returns|Ownership|Waits|Threads))*)\s*:")


def strip_comment(c):
    """The text of a block comment, one line per line, leaders removed."""
    body = c[2:-2]
    return [re.sub(r"^\s*\*?\s?", "", ln) for ln in body.split("\n")]


def sections(lines):
    """{key: text} for the key lines of a doc comment. A key starts a line
    or follows the end of a sentence on it ("Waits: never. Threads: any.");
    its text runs to the next key or the next blank line."""
    out, cur = {}, None
    for ln in lines:
        if not ln.strip() or ln.strip().startswith("Example"):
            cur = None
            continue
        pos = 0
        for m in KEYINLINE.finditer(ln):
            if cur:
                for k in cur:
                    out[k] += " " + ln[pos:m.start()]
            cur = re.split(r"\s*(?:,|and)\s*", m.group(2))
            for k in cur:
                out.setdefault(k, "")
            pos = m.end()
        if cur:
            for k in cur:
                out[k] += " " + ln[pos:]
    return out


def doc_for(src, start):
    """The block comment that documents the declaration at `start`: walk
    up over the lines of declarations and macros above it (a group shares
    one comment) to the first comment that stands on lines of its own; a
    blank line first means there is none."""
    lines = src[:start].split("\n")
    i = len(lines) - 2  # the line above the declaration's first line
    while i >= 0:
        ln = lines[i]
        if not ln.strip():
            return None
        if ln.rstrip().endswith("*/"):
            j = i
            while j >= 0 and "/*" not in lines[j]:
                j -= 1
            if j >= 0 and lines[j].lstrip().startswith("/*"):
                return "\n".join(lines[j:i + 1]).strip()
            i = j - 1 if j >= 0 else -1  # code with a trailing comment
            continue
        i -= 1
    return None


def check_header(path):
    src = open(path, encoding="utf-8").read()
    problems = []
    for m in DECL.finditer(src):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        ret = ret.replace("RILL_NODISCARD", "").strip()
        line = src.count("\n", 0, m.start()) + 1
        doc = doc_for(src, m.start())
        where = "%s:%d: %s" % (os.path.relpath(path), line, name)
        if doc is None:
            problems.append("%s: no doc comment" % where)
            continue
        sec = sections(strip_comment(doc))
        need = ["Threads"]
        if ret != "void":
            need.append("Returns")
        if ret == "int":
            need.append("Waits")
        owns = "**" in params or LIFETIME.search(name)
        if owns:
            need.append("Ownership")
        for k in need:
            if k not in sec:
                problems.append("%s: no %s: line" % (where, k))
        if owns and ret == "int" and "Ownership" in sec and \
                not FAILURE.search(sec["Ownership"]):
            problems.append("%s: Ownership: says nothing about failure"
                            % where)
    return problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    inc = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "..", "include")
    heads = sorted(os.path.join(inc, "rill", f)
                   for f in os.listdir(os.path.join(inc, "rill"))
                   if f.endswith(".h"))
    problems = []
    count = 0
    for h in heads:
        count += len(DECL.findall(open(h, encoding="utf-8").read()))
        problems += check_header(h)
    for p in problems:
        print(p)
    print("check-api-docs: %d declarations, %d problems"
          % (count, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
