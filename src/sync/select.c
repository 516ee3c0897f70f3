/* SPDX-License-Identifier: MIT */
/*
 * select.c - wait on any of n operations; exactly one completes.
 *
 * A select is a future over its cases with one claim word (sync_int.h):
 *
 *   poll:   take the claim word (open -> HELD), poll every case from a
 *           random start (or from 0 when biased) with cx->select pointing
 *           at that case's {claim, tag}. Holding the word makes the poll
 *           exclusive: no peer can complete one of our waiters meanwhile
 *           (it meets HELD, flags MISSED and drops that waiter), so the
 *           first case that completes is the only one; we make its tag
 *           final. If none completes, let go (HELD -> open); if MISSED
 *           was flagged, some registration was dropped: poll again.
 *   peers:  a peer that completes one of our waiters by hand-off (a
 *           rendezvous partner, a freed slot, a close) first moves the
 *           word from open to that case's tag, so at most one does, and
 *           never while we poll.
 *   end:    once the word is final, the winning case's own cancel()
 *           reports its status (the completed status when a peer did the
 *           work), and every other case is cancelled: it was only
 *           registered, so it withdraws without a trace.
 *   cancel: (deadline, task cancellation, the default case) make the
 *           word CANCELLED unless a case won first; then withdraw all.
 *
 * Wake-and-retry cases (buffered receives and the like) need nothing of
 * this: they are woken, polled again under the held word and complete
 * then, or not.
 */
#include "rill/sync.h"
#include "core/describe.h"
#include "sync_int.h"

#include <sched.h>

#define MAX_CASES 1024
#define STACK_CASES 64

typedef struct select_fut {
    rill_future_t base;
    rill_future_t *const *cases;
    size_t n;
    bool biased;
    _Atomic uintptr_t claim;
    rill__select_ref_t *refs;
    /* The order the cases are tried in; each round reshuffles it as it
     * goes (see select_poll). A permutation of 0..n-1 at all times. */
    uint16_t *order;
    size_t winner; /* valid once the future completed (0) */
    int status;
} select_fut_t;

/* A small per-thread generator for the random start (xorshift64*). The
 * state is read and written within one call, never across a wait. */
static _Thread_local uint64_t rng_state;

static size_t random_below(size_t n)
{
    uint64_t x = rng_state;
    if (!x) /* seed from this thread's address space layout and a count */
        x = (uint64_t)(uintptr_t)&rng_state ^ 0x9e3779b97f4a7c15u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    /* Multiply-shift instead of a division: the bias is below n / 2^32. */
    return (size_t)((((x * 0x2545f4914f6cdd1dULL) >> 32) * (uint64_t)n) >> 32);
}

/* Withdraw every case but `keep` (SIZE_MAX: all). */
static void cancel_others(select_fut_t *s, size_t keep)
{
    for (size_t i = 0; i < s->n; i++) {
        if (i == keep)
            continue;
        /* A channel op that lost reports RILL_PENDING: it could not
         * complete without the claim. A timer may report that it fired;
         * firing has no effect, so that is not a second completion. */
        (void)rill_future_cancel(s->cases[i]);
    }
}

/* The claim word is final with case `tag`: collect its status. */
static void finish_peer_win(select_fut_t *s, uintptr_t tag)
{
    size_t i = RILL__CLAIM_INDEX(tag);
    s->winner = i;
    s->status = rill_future_cancel(s->cases[i]);
    RILL_ASSERT(s->status != RILL_PENDING);
    cancel_others(s, i);
}

static int select_poll(rill_future_t *f, rill_cx_t *cx)
{
    select_fut_t *s = (select_fut_t *)(void *)f;
    for (;;) {
        /* acquire: pairs with the completer's release (commit/final
         * CAS), so the winner's status is visible. */
        uintptr_t v = rill__load(&s->claim, RILL_ACQUIRE);
        RILL_ASSERT(v != RILL__CLAIM_CANCELLED); /* never polled after */
        if (v >= 4) {
            finish_peer_win(s, v);
            return 0;
        }
        if (v & RILL__CLAIM_HELD) {
            /* A peer holds it for a moment: ask it to wake us when it
             * lets go (it wakes us anyway if it completes). */
            if (!(v & RILL__CLAIM_MISSED) &&
                !rill__cas(&s->claim, &v, v | RILL__CLAIM_MISSED, RILL_RELAXED,
                           RILL_RELAXED))
                continue;
            return RILL_PENDING;
        }
        /* acquire: pairs with a peer's release when it let go. */
        if (!rill__cas(&s->claim, &v, RILL__CLAIM_HELD, RILL_ACQUIRE,
                       RILL_RELAXED))
            continue;
        /* Fair: try the cases in a uniformly random order, drawn as we
         * go (Fisher-Yates, stopping at the first ready case): step j
         * picks uniformly among the cases not tried yet, so each ready
         * case is the first one tried equally often, whatever the cases
         * that are not ready and wherever they sit (a random start and
         * wrap-around would hand a never-ready case's share to its
         * neighbour). Costs one random number per case tried. */
        for (size_t j = 0; j < s->n; j++) {
            size_t i = j;
            if (!s->biased) {
                size_t k = j + random_below(s->n - j);
                uint16_t t = s->order[k];
                s->order[k] = s->order[j];
                s->order[j] = t;
                i = t;
            }
            rill_cx_t ccx = *cx;
            ccx.select = &s->refs[i];
            int r = rill_future_poll(s->cases[i], &ccx);
            cx->budget = ccx.budget;
            if (r != RILL_PENDING) {
                /* release: pairs with peers' acquire in their claim CAS:
                 * from now on they fail and drop our waiters. */
                rill__store(&s->claim, s->refs[i].tag, RILL_RELEASE);
                s->winner = i;
                s->status = r;
                cancel_others(s, i);
                return 0;
            }
        }
        /* acq_rel: release publishes our registrations to the next
         * claimer; acquire pairs with the MISSED flag. */
        if (!(rill__xchg(&s->claim, RILL__CLAIM_OPEN, RILL_ACQ_REL) &
              RILL__CLAIM_MISSED))
            return RILL_PENDING;
        /* Somebody dropped one of our registrations while we held the
         * word: poll again so that it is back. */
    }
}

static int select_cancel(rill_future_t *f)
{
    select_fut_t *s = (select_fut_t *)(void *)f;
    for (unsigned spins = 0;;) {
        uintptr_t v = rill__load(&s->claim, RILL_ACQUIRE);
        if (v >= 4 && v != RILL__CLAIM_CANCELLED) {
            finish_peer_win(s, v);
            return 0;
        }
        if (v == RILL__CLAIM_CANCELLED)
            return RILL_PENDING;
        if (v == RILL__CLAIM_OPEN) {
            if (rill__cas(&s->claim, &v, RILL__CLAIM_CANCELLED, RILL_ACQ_REL,
                          RILL_RELAXED)) {
                cancel_others(s, SIZE_MAX);
                return RILL_PENDING;
            }
            continue;
        }
        /* Held by a peer in the middle of a hand-off, a few instructions
         * under its lock: wait for it to commit or let go. */
        if (++spins < 64)
            rill__cpu_relax();
        else
            sched_yield();
    }
}

/* "select of n: [0] <case 0>; [1] <case 1>; ...". The cases array and
 * n are set before the select is awaited and never change; each case
 * describes itself under the same rules. */
static int select_describe(const rill_future_t *f, rill_instant_t now,
                           char *buf, size_t len)
{
    const select_fut_t *s = (const select_fut_t *)(const void *)f;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill__buf_printf(&b, "select of %zu%s:", s->n,
                     s->biased ? " (biased)" : "");
    for (size_t i = 0; i < s->n; i++) {
        char one[384];
        rill_future_describe(s->cases[i], now, one, sizeof one);
        rill__buf_printf(&b, "%s [%zu] %s", i ? ";" : "", i, one);
    }
    return rill__buf_result(&b);
}

static const rill_future_vtable_t select_vtable = {select_poll, select_cancel,
                                                   NULL, select_describe};

int rill_select(rill_future_t *const *cases, size_t n, unsigned flags,
                rill_instant_t deadline, int *status)
{
    static const char api[] = "rill_select";
    if (status)
        *status = 0;
    if (!cases || n == 0 || n > MAX_CASES)
        return RILL_MISUSE(api, "cases NULL, or n %zu not in 1..%d", n,
                           MAX_CASES);
    for (size_t i = 0; i < n; i++)
        if (!cases[i] || !cases[i]->vtable || !cases[i]->vtable->poll)
            return RILL_MISUSE(api, "case %zu is NULL or has no vtable", i);

    rill__select_ref_t stack_refs[STACK_CASES];
    uint16_t stack_order[STACK_CASES];
    select_fut_t s;
    s.base.vtable = &select_vtable;
    s.cases = cases;
    s.n = n;
    s.biased = (flags & RILL_SELECT_BIASED) != 0;
    rill__store(&s.claim, RILL__CLAIM_OPEN, RILL_RELAXED); /* not shared */
    /* One buffer for both arrays when they do not fit on the stack. */
    s.refs = stack_refs;
    s.order = stack_order;
    if (n > STACK_CASES) {
        s.refs = rill__malloc(n * (sizeof *s.refs + sizeof *s.order));
        if (!s.refs)
            return RILL_ENOMEM;
        s.order = (uint16_t *)(s.refs + n);
    }
    for (size_t i = 0; i < n; i++) {
        s.refs[i].claim = &s.claim;
        s.refs[i].tag = RILL__CLAIM_TAG(i);
        s.order[i] = (uint16_t)i;
    }

    int r;
    if (flags & RILL_SELECT_DEFAULT) {
        /* One round, then withdraw (unless a case won meanwhile). */
        rill_cx_t cx = RILL_CX_INIT(rill_waker_noop());
        r = select_poll(&s.base, &cx);
        if (r == RILL_PENDING)
            r = select_cancel(&s.base) == 0 ? 0 : RILL_EAGAIN;
    } else {
        r = rill_await_until(&s.base, deadline);
    }
    if (s.refs != stack_refs)
        rill__free(s.refs);
    if (r != 0)
        return r;
    if (status)
        *status = s.status;
    return (int)s.winner;
}
