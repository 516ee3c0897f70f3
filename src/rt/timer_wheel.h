/* SPDX-License-Identifier: MIT */
/*
 * timer_wheel.h - the hierarchical timing wheel behind every runtime timer
 * (sleep, deadlines, intervals). Private to the runtime; not installed.
 *
 * A plain single-threaded data structure: the scheduler serialises every
 * call on one wheel (its own lock or a single owner thread). Nothing here
 * reads a clock: the caller says what time it is (rill__wheel_advance), so
 * the same wheel serves the real and the virtual clock.
 *
 * Guarantees the scheduler relies on:
 * - insert and remove are O(1) and never allocate (timers are intrusive
 *   and live in the caller's memory);
 * - rill__wheel_next_deadline is the EXACT earliest deadline (the virtual
 *   clock jumps exactly there), cached so the common call is O(1);
 * - rill__wheel_advance hands back expired timers in (deadline, insertion
 *   order), never a timer whose deadline is still ahead.
 *
 * Layout and invariants: see the opening comment of timer_wheel.c.
 */
#ifndef RILL_RT_TIMER_WHEEL_H
#define RILL_RT_TIMER_WHEEL_H

#include "core/core.h"

/* Level 0 ticks are 2^10 ns (~1 us); each level multiplies by 64. Nine
 * levels give 10 + 9 * 6 = 64 bits: every int64 deadline has a slot, so
 * there is no overflow list. */
#define RILL__WHEEL_TICK_BITS 10
#define RILL__WHEEL_SLOT_BITS 6
#define RILL__WHEEL_SLOTS (1 << RILL__WHEEL_SLOT_BITS)
#define RILL__WHEEL_LEVELS 9

/*
 * A timer: embed it in the object that waits (a sleep future, a task).
 * Start it zeroed (or with rill__timer_init); set `deadline`, then insert.
 * After it expired or was removed it may be inserted again.
 * Fields: all owned by whoever holds the wheel's lock while the timer is
 * armed; `deadline` is the caller's to set while it is not armed.
 */
typedef struct rill__timer {
    rill__list_t link;       /* private: slot list while armed; the
                                caller's `expired` list after advance */
    rill_instant_t deadline; /* set by the caller before insert */
    uint64_t seq;            /* private: insertion order, orders equal
                                deadlines */
    uint8_t level;           /* private: 0 = not armed, else level + 1 */
    uint8_t slot;            /* private: slot index within the level */
} rill__timer_t;

/*
 * The wheel. Caller storage (about 9 KiB: 576 slot heads); every field is
 * private and touched only under the lock that serialises the wheel.
 */
typedef struct rill__wheel {
    rill_instant_t now;   /* the last time advanced to (or init) */
    uint64_t elapsed;     /* tick of `now`; slot positions are relative
                             to it */
    uint64_t next_seq;    /* seq of the next inserted timer */
    size_t count;         /* armed timers */
    rill_instant_t cache; /* earliest deadline when cache_ok */
    bool cache_ok;
    uint16_t levels_used;                  /* bit L set: occupied[L] != 0 */
    uint64_t occupied[RILL__WHEEL_LEVELS]; /* bit s: slot s non-empty */
    /* bit s set: slot s may be out of (deadline, seq) order; clear means
     * it is in order, so its head is its earliest timer */
    uint64_t unsorted[RILL__WHEEL_LEVELS];
    rill__list_t slots[RILL__WHEEL_LEVELS][RILL__WHEEL_SLOTS];
} rill__wheel_t;

/*
 * rill__timer_init - make a timer "not armed" with the given deadline.
 * Equivalent to zeroing it and setting `deadline`.
 */
static inline void rill__timer_init(rill__timer_t *t, rill_instant_t deadline)
{
    t->link.prev = t->link.next = NULL;
    t->deadline = deadline;
    t->seq = 0;
    t->level = 0;
    t->slot = 0;
}

/*
 * rill__timer_is_armed - true while `t` is in a wheel: from insert until
 * it is removed or handed out by rill__wheel_advance.
 * Threads: under the wheel's lock.
 */
static inline bool rill__timer_is_armed(const rill__timer_t *t)
{
    return t->level != 0;
}

/*
 * rill__wheel_init - an empty wheel whose time is `now`.
 * Ownership: *w is caller storage; an empty wheel needs no destroy.
 */
void rill__wheel_init(rill__wheel_t *w, rill_instant_t now);

/*
 * rill__wheel_insert - arm `t` for t->deadline. Any int64 deadline is
 * accepted; one at or before the wheel's now expires at the next advance
 * (after the timers that were due before it, by (deadline, insertion)).
 * O(1).
 * Ownership: the wheel links `t` until it is removed or expired; t's
 * memory stays the caller's and must outlive that.
 * Threads: under the wheel's lock.
 */
void rill__wheel_insert(rill__wheel_t *w, rill__timer_t *t);

/*
 * rill__wheel_remove - disarm `t`, which must be armed in `w`. O(1).
 * Threads: under the wheel's lock.
 */
void rill__wheel_remove(rill__wheel_t *w, rill__timer_t *t);

/*
 * rill__wheel_next_deadline - the exact earliest deadline of the armed
 * timers. It may be at or before the wheel's now (a timer inserted already
 * due): advance to the wheel's now then, not backwards.
 * Returns: that deadline, or RILL_FOREVER if the wheel is empty (a timer
 *   armed for RILL_FOREVER is indistinguishable from none).
 * Cost: O(1) while cached; after the earliest timer went away, O(levels)
 *   plus, rarely, sorting the one slot that holds the new earliest timer.
 * Threads: under the wheel's lock (it updates the cache).
 */
rill_instant_t rill__wheel_next_deadline(rill__wheel_t *w);

/*
 * rill__wheel_advance - move the wheel's time to `now` and append every
 * timer with deadline <= now to `expired` (a list the caller initialised),
 * ordered by (deadline, insertion order). Expired timers are no longer
 * armed; the caller pops them off `expired` (rill__list_pop_front).
 * `now` must not be before the wheel's now (debug builds assert; release
 * builds treat it as the wheel's now).
 * Returns: how many timers expired.
 * Cost: O(expired) plus O(1) per timer per level it moves down (a timer
 *   moves down at most RILL__WHEEL_LEVELS - 1 times in its life).
 * Threads: under the wheel's lock.
 */
size_t rill__wheel_advance(rill__wheel_t *w, rill_instant_t now,
                           rill__list_t *expired);

/*
 * rill__wheel_count - armed timers.
 * Threads: under the wheel's lock.
 */
size_t rill__wheel_count(const rill__wheel_t *w);

/*
 * rill__wheel_now - the time the wheel was last advanced to (or init).
 * Threads: under the wheel's lock.
 */
static inline rill_instant_t rill__wheel_now(const rill__wheel_t *w)
{
    return w->now;
}

#endif
