#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mutate.py - the mutants of the model tests: each weakens one ordering in
one of rill's sources, and its model suite must then fail (CMakeLists.txt
builds each mutant as its own binary and runs it with --expect SUITE).

Usage: mutate.py NAME SRC OUT  writes SRC with mutant NAME applied to OUT.
Fails (and so does the build) when the line a mutant changes is no longer
in SRC exactly once: the protocol changed, and the mutant (and perhaps the
model test) must be brought up to date with it.
"""
import sys

# name: (source file, text that must occur exactly once, its replacement)
MUTANTS = {
    # publish() of one item: the seq_cst xchg of the stamp, the producer's
    # half of the store-buffering pair with rx_waiting, made a release.
    "publish_xchg": ("src/sync/bounded.c",
                     "rill__xchg(stamp_of(s), p + 1, RILL_SEQ_CST);",
                     "rill__xchg(stamp_of(s), p + 1, RILL_RELEASE);"),
    # publish() of a batch: the seq_cst fence after the stamps, weakened to
    # release (the brief's example).
    "publish_fence": ("src/sync/bounded.c",
                      "every stamp written above. */\n        rill__fence(RILL_SEQ_CST);",
                      "every stamp written above. */\n        rill__fence(RILL_RELEASE);"),
    # pop() freeing one slot: the seq_cst xchg made a release.
    "pop_free": ("src/sync/bounded.c",
                 "rill__xchg(pending, pending_val, RILL_SEQ_CST);",
                 "rill__xchg(pending, pending_val, RILL_RELEASE);"),
    # reserve(): the stamp re-read back to acquire, as it was before the
    # model found the lost wakeup of a waiting sender.
    "reserve_acquire": ("src/sync/bounded.c",
                        "uint64_t s = rill__load(stamp_of(slot_of(ch, t)), RILL_SEQ_CST);",
                        "uint64_t s = rill__load(stamp_of(slot_of(ch, t)), RILL_ACQUIRE);"),
    # steal_into(): the thief's load of the victim's tail, which pairs with
    # the owner's release of tail (the slots it wrote), made relaxed.
    "steal_tail": ("src/rt/queue.c",
                   "uint32_t tail = rill__load(&src->tail, RILL_ACQUIRE);",
                   "uint32_t tail = rill__load(&src->tail, RILL_RELAXED);"),
    # rill__task_wake_by_ref(): the CAS that sets NOTIFIED without its
    # release half (acquire only).
    "wake_relaxed": ("src/rt/task.c",
                     "acquire orders us after the last run. */\n    } while (!rill__cas_weak(&t->state, &s, n, RILL_ACQ_REL, RILL_ACQUIRE));",
                     "acquire orders us after the last run. */\n    } while (!rill__cas_weak(&t->state, &s, n, RILL_ACQUIRE, RILL_ACQUIRE));"),
}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in MUTANTS:
        sys.exit("usage: mutate.py {%s} SRC OUT" % ",".join(MUTANTS))
    name, src, out = sys.argv[1:]
    path, old, new = MUTANTS[name]
    if not src.endswith(path):
        sys.exit("mutate.py: mutant %s changes %s, not %s" % (name, path, src))
    text = open(src).read()
    n = text.count(old)
    if n != 1:
        sys.exit("mutate.py: mutant %s: its text occurs %d times in %s (must be "
                 "once); the protocol changed: update tests/model/mutate.py "
                 "and the model test" % (name, n, path))
    open(out, "w").write(text.replace(old, new))


if __name__ == "__main__":
    main()
