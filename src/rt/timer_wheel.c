/* SPDX-License-Identifier: MIT */
/*
 * timer_wheel.c - hierarchical timing wheel (the idea of tokio's
 * runtime/time/wheel and of Varghese & Lauck, with exact ordering added).
 *
 * Time is mapped to an unsigned key that keeps int64 order (flip the sign
 * bit), then to ticks of 2^10 ns. A tick is written in base 64: digit L of
 * a timer's tick is its slot at level L. Level L holds the timers whose
 * tick first differs from `elapsed` (the tick of the wheel's now) in digit
 * L, so level 0 is the current 64-tick window, level 1 the rest of the
 * current 64^2 window, and so on. Nine levels cover all 64 bits.
 *
 * Invariants (between calls):
 * 1. A timer at level L > 0, slot s, agrees with `elapsed` in every digit
 *    above L and has digit s > elapsed's digit L. At level 0 it agrees
 *    above digit 0 and s >= elapsed's digit 0; a timer inserted already
 *    due is filed under the tick of now, so it obeys this too.
 *    Hence every timer at level L is earlier than every timer above L,
 *    and within a level, slot order is time order: the earliest timer is
 *    in the lowest occupied slot of the lowest occupied level.
 * 2. occupied[L] bit s == slot non-empty; levels_used bit L ==
 *    occupied[L] != 0. A clear unsorted[L] bit s means the slot's list is
 *    in (deadline, seq) order.
 * 3. cache_ok implies cache == the earliest deadline (FOREVER if empty).
 *
 * advance keeps 1 by never letting `elapsed` enter the block of a
 * higher-level slot without cascading it: it repeatedly takes the
 * earliest slot; at level > 0 it moves `elapsed` to the slot's start and
 * re-files its timers on lower levels; at level 0 it expires what is due.
 *
 * Exact order: a slot mixes deadlines within its span, and cascading can
 * put an old timer behind a newer one with the same deadline, so order is
 * restored where it matters. Each slot remembers whether it is sorted: an
 * append that keeps (deadline, seq) order (the usual case: timeouts armed
 * for "now + constant") keeps it sorted, removal never unsorts. A level-0
 * slot about to expire, or the slot asked for the next deadline, is merge
 * sorted only if it is not sorted already. So the exact next deadline is
 * the head of one slot, and expired timers come out slot by slot in order.
 */
#include "timer_wheel.h"

#define SLOT_MASK ((uint64_t)RILL__WHEEL_SLOTS - 1)

/* The tick of an instant: sign bit flipped so int64 order becomes uint64
 * order, then divided by the tick length. */
static inline uint64_t tick_of(rill_instant_t t)
{
    return ((uint64_t)t ^ ((uint64_t)1 << 63)) >> RILL__WHEEL_TICK_BITS;
}

/* The level at which `tick` is filed relative to `elapsed`: the base-64
 * digit of their highest differing bit (0 when they agree above digit 0).
 */
static inline unsigned level_for(uint64_t elapsed, uint64_t tick)
{
    uint64_t diff = (elapsed ^ tick) | SLOT_MASK;
    unsigned top = 63u - (unsigned)__builtin_clzll(diff);
    return top / RILL__WHEEL_SLOT_BITS;
}

/* The first tick of slot `s` at level `level` in the window of `elapsed`.
 */
static inline uint64_t slot_start(uint64_t elapsed, unsigned level, unsigned s)
{
    unsigned shift = level * RILL__WHEEL_SLOT_BITS;
    uint64_t window = ((uint64_t)1 << (shift + RILL__WHEEL_SLOT_BITS)) - 1;
    return (elapsed & ~window) | ((uint64_t)s << shift);
}

static inline rill__timer_t *timer_of(rill__list_t *n)
{
    return RILL_CONTAINER_OF(n, rill__timer_t, link);
}

/* The expiry order: deadline, then insertion. seq is unique, so this is
 * a total order and sorting needs no stability. */
static inline bool timer_before(const rill__timer_t *a, const rill__timer_t *b)
{
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->seq < b->seq);
}

void rill__wheel_init(rill__wheel_t *w, rill_instant_t now)
{
    w->now = now;
    w->elapsed = tick_of(now);
    w->next_seq = 0;
    w->count = 0;
    w->cache = RILL_FOREVER;
    w->cache_ok = true;
    w->levels_used = 0;
    for (unsigned l = 0; l < RILL__WHEEL_LEVELS; l++) {
        w->occupied[l] = 0;
        w->unsorted[l] = 0;
        for (unsigned s = 0; s < RILL__WHEEL_SLOTS; s++)
            rill__list_init(&w->slots[l][s]);
    }
}

/* Link `t` into the slot for `tick` (>= elapsed) and mark it occupied. */
static void file_timer(rill__wheel_t *w, rill__timer_t *t, uint64_t tick)
{
    RILL_ASSERT(tick >= w->elapsed);
    unsigned level = level_for(w->elapsed, tick);
    unsigned s = (unsigned)(tick >> (level * RILL__WHEEL_SLOT_BITS)) &
                 (unsigned)SLOT_MASK;
    rill__list_t *head = &w->slots[level][s];
    uint64_t bit = (uint64_t)1 << s;

    /* Appending after a later timer breaks the slot's order; note it so
     * the slot is sorted before anyone relies on its head. */
    if (!rill__list_empty(head) && timer_before(t, timer_of(head->prev)))
        w->unsorted[level] |= bit;
    rill__list_push_back(head, &t->link);
    w->occupied[level] |= bit;
    w->levels_used |= (uint16_t)(1u << level);
    t->level = (uint8_t)(level + 1);
    t->slot = (uint8_t)s;
}

/* Clear the bookkeeping of a slot that just became empty. */
static void slot_emptied(rill__wheel_t *w, unsigned level, unsigned s)
{
    uint64_t bit = (uint64_t)1 << s;
    w->occupied[level] &= ~bit;
    w->unsorted[level] &= ~bit;
    if (w->occupied[level] == 0)
        w->levels_used &= (uint16_t) ~(1u << level);
}

void rill__wheel_insert(rill__wheel_t *w, rill__timer_t *t)
{
    RILL_ASSERT(!rill__timer_is_armed(t));
    /* A deadline already due is filed under the current tick: it is then
     * in the earliest slot, where the sort puts it before the later ones. */
    rill_instant_t at = t->deadline < w->now ? w->now : t->deadline;

    t->seq = w->next_seq++;
    file_timer(w, t, tick_of(at));
    w->count++;
    if (w->cache_ok && t->deadline < w->cache)
        w->cache = t->deadline;
}

void rill__wheel_remove(rill__wheel_t *w, rill__timer_t *t)
{
    RILL_ASSERT(rill__timer_is_armed(t));
    unsigned level = t->level - 1u, s = t->slot;

    rill__list_remove(&t->link);
    if (rill__list_empty(&w->slots[level][s]))
        slot_emptied(w, level, s);
    t->level = 0;
    w->count--;
    /* Only losing the earliest timer can change the earliest deadline. */
    if (w->cache_ok && t->deadline <= w->cache)
        w->cache_ok = false;
}

/* Merge two NULL-terminated chains (linked through `next`) in order. */
static rill__list_t *merge_chains(rill__list_t *a, rill__list_t *b)
{
    rill__list_t *out = NULL, **tail = &out;
    while (a && b) {
        if (timer_before(timer_of(b), timer_of(a))) {
            *tail = b;
            b = b->next;
        } else {
            *tail = a;
            a = a->next;
        }
        tail = &(*tail)->next;
    }
    *tail = a ? a : b;
    return out;
}

/*
 * Sort a slot list by (deadline, seq): bottom-up merge sort on the `next`
 * chain (bins[k] holds a sorted run of 2^k nodes, merged like a binary
 * counter), then the `prev` links and the ring are rebuilt. O(k log k),
 * no allocation; 64 bins cover any list that fits in memory.
 */
static void slot_sort(rill__list_t *head)
{
    rill__list_t *bins[64] = {NULL};
    rill__list_t *rest = head->next, *run, *prev;
    unsigned k, top = 0;

    head->prev->next = NULL;
    while (rest) {
        run = rest;
        rest = rest->next;
        run->next = NULL;
        for (k = 0; bins[k]; k++) {
            run = merge_chains(bins[k], run);
            bins[k] = NULL;
        }
        bins[k] = run;
        if (k > top)
            top = k;
    }
    run = NULL;
    for (k = 0; k <= top; k++)
        if (bins[k])
            run = merge_chains(bins[k], run);

    prev = head;
    for (; run; run = run->next) {
        run->prev = prev;
        prev->next = run;
        prev = run;
    }
    prev->next = head;
    head->prev = prev;
}

/* The list of the slot holding the earliest timer (invariant 1). The
 * wheel is not empty. */
static rill__list_t *earliest_slot(rill__wheel_t *w, unsigned *level_out,
                                   unsigned *slot_out)
{
    unsigned level = (unsigned)__builtin_ctz(w->levels_used);
    unsigned s = (unsigned)__builtin_ctzll(w->occupied[level]);
    *level_out = level;
    *slot_out = s;
    return &w->slots[level][s];
}

static void slot_make_sorted(rill__wheel_t *w, unsigned level, unsigned s)
{
    uint64_t bit = (uint64_t)1 << s;
    if (w->unsorted[level] & bit) {
        slot_sort(&w->slots[level][s]);
        w->unsorted[level] &= ~bit;
    }
}

rill_instant_t rill__wheel_next_deadline(rill__wheel_t *w)
{
    unsigned level, s;
    rill__list_t *head;

    if (w->cache_ok)
        return w->cache;
    if (w->count == 0) {
        w->cache = RILL_FOREVER;
    } else {
        head = earliest_slot(w, &level, &s);
        slot_make_sorted(w, level, s);
        w->cache = timer_of(head->next)->deadline;
    }
    w->cache_ok = true;
    return w->cache;
}

/* Re-file every timer of a slot above level 0 after `elapsed` moved to the
 * slot's start: each lands on a lower level, in the slot's current order. */
static void cascade(rill__wheel_t *w, unsigned level, unsigned s)
{
    rill__list_t *head = &w->slots[level][s], *n;

    slot_emptied(w, level, s);
    while ((n = rill__list_pop_front(head)) != NULL) {
        rill__timer_t *t = timer_of(n);
        file_timer(w, t, tick_of(t->deadline));
        RILL_ASSERT(t->level - 1u < level);
    }
}

size_t rill__wheel_advance(rill__wheel_t *w, rill_instant_t now,
                           rill__list_t *expired)
{
    uint64_t target;
    size_t n = 0;

    /* Time going backwards is a caller bug; release builds stand still. */
    RILL_ASSERT(now >= w->now);
    if (now < w->now)
        now = w->now;
    target = tick_of(now);

    while (w->levels_used) {
        unsigned level, s;
        rill__list_t *head = earliest_slot(w, &level, &s);
        uint64_t start = slot_start(w->elapsed, level, s);

        RILL_ASSERT(start >= w->elapsed);
        if (start > target)
            break;
        if (level > 0) {
            /* No timer lies between elapsed and start (this is the
             * earliest slot), so time may jump to the slot's start. */
            w->elapsed = start;
            cascade(w, level, s);
            continue;
        }
        slot_make_sorted(w, 0, s);
        while (!rill__list_empty(head)) {
            rill__timer_t *t = timer_of(head->next);
            if (t->deadline > now)
                break;
            rill__list_remove(&t->link);
            t->level = 0;
            rill__list_push_back(expired, &t->link);
            n++;
        }
        if (!rill__list_empty(head)) {
            /* Only the slot of `now` itself can keep timers not yet due;
             * it stays the earliest slot. */
            RILL_ASSERT(start == target);
            break;
        }
        slot_emptied(w, 0, s);
        w->elapsed = start;
    }

    /* Every timer left is filed in a slot that starts after `target` or
     * is target's own level-0 slot, so moving elapsed there keeps
     * invariant 1 (see the file comment). */
    w->elapsed = target;
    w->now = now;
    w->count -= n;
    if (n > 0)
        w->cache_ok = false;
    return n;
}

size_t rill__wheel_count(const rill__wheel_t *w)
{
    return w->count;
}
