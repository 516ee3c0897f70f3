/* SPDX-License-Identifier: MIT */
/*
 * sync_int.h - the shared core of every channel kind in src/sync (mpsc,
 * oneshot, watch, broadcast) and of select. Private to src/sync.
 *
 * What is here:
 *
 * - rill__lock_t: a small spin-then-yield lock for slow paths (waiter
 *   queues, close). Never held across a wait or a callback into user code.
 *
 * - Waiters: rill__waiter_t is the node an operation puts on a channel's
 *   wait queue when it has to wait. It lives inside the operation's future
 *   (caller storage, usually the waiting thread's or task's stack): no
 *   allocation per operation. A waiter is on at most one queue, and all of
 *   its fields but `status` are guarded by that queue's lock.
 *
 * - Two ways a waiter is completed:
 *     wake-and-retry: the peer only wakes the waiter (for example a
 *       receiver waiting on an empty buffered channel); the woken operation
 *       polls again and does the work itself. Needs no claim.
 *     hand-off: the peer does the operation's work for it (copies an item
 *       into or out of the waiter's buffer, or fails it with a final
 *       status) and then publishes `status`. The owner sees the result
 *       when it reads a status other than RILL_PENDING.
 *
 * - Claims (exactly-one for select). A waiter that belongs to a select
 *   points at the select's claim word (`claim`, with its case's `tag`); a
 *   plain operation's waiter has claim == NULL. A peer may hand off to a
 *   select's waiter only after winning the claim word for that case
 *   (rill__waiter_take). The select itself holds its own claim word while
 *   it polls its cases, so a case completed actively during that poll
 *   needs no claim of its own: see "select" below. The claim word's
 *   values:
 *
 *     0              open: nobody has completed a case yet
 *     HELD           held for a moment, by the select while it polls its
 *                    cases or by a peer that is about to hand off and may
 *                    still find it cannot (a full ring); whoever meets a
 *                    held word adds MISSED and treats the waiter as gone
 *     HELD|MISSED    as HELD, and somebody gave up on one of the select's
 *                    waiters meanwhile: the holder makes the select poll
 *                    again when it lets go (so nothing stays unregistered)
 *     tag (>= 4)     final: the case with this tag won
 *     CANCELLED      final: the select was withdrawn; no case may complete
 *
 *   Once final, a claim word never changes again, so exactly one case of
 *   a select ever completes.
 *
 * - What an operation must do to be selectable (rill_select passes
 *   cx->select = a rill__select_ref_t for each case):
 *     1. When polled, complete actively as usual (the select holds the
 *        claim during the poll, so the effect is exclusive).
 *     2. When it must wait with a hand-off waiter, enqueue it with
 *        rill__waiter_park(), which records cx->select's claim and tag.
 *     3. Peers that hand off to waiters call rill__waiter_take() first,
 *        passing their own cx (so a select never pairs with itself), and
 *        rill__waiter_finish() after the work; rill__waiter_drop() a
 *        waiter that take() reported gone.
 *     4. Its future's cancel() unlinks the waiter under the lock
 *        (rill__waiter_cancel) and returns RILL_PENDING if it had not
 *        completed, else the status the peer published.
 *   Wake-and-retry waiters only need 2 and 4.
 *
 * - Wake lists: wakers collected under a lock and woken after unlocking,
 *   so the lock is never held across a futex wake or a scheduler call.
 *
 * - Small helpers for the per-channel counters and handle states.
 */
#ifndef RILL_SYNC_INT_H
#define RILL_SYNC_INT_H

#include "core/atomic.h"
#include "core/core.h"
#include "rill/core.h"

/* ------------------------------------------------------------------------ */
/* Lock                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct rill__lock {
    _Atomic uint32_t word; /* 0 free, 1 taken */
} rill__lock_t;

#define RILL__LOCK_INIT                                                        \
    {                                                                          \
        0                                                                      \
    }

void rill__lock_slow(rill__lock_t *l);

static inline void rill__lock(rill__lock_t *l)
{
    /* acquire: pairs with the release in rill__unlock, so the previous
     * holder's writes are visible inside the critical section. */
    if (RILL_LIKELY(rill__xchg(&l->word, 1, RILL_ACQUIRE) == 0))
        return;
    rill__lock_slow(l);
}

static inline void rill__unlock(rill__lock_t *l)
{
    /* release: pairs with the acquire of the next rill__lock. */
    rill__store(&l->word, 0, RILL_RELEASE);
}

/* ------------------------------------------------------------------------ */
/* Claim words                                                               */
/* ------------------------------------------------------------------------ */

#define RILL__CLAIM_OPEN ((uintptr_t)0)
#define RILL__CLAIM_HELD ((uintptr_t)1)
#define RILL__CLAIM_MISSED ((uintptr_t)2)
#define RILL__CLAIM_CANCELLED (~(uintptr_t)3)
/* The tag of case i of a select: a multiple of 4, never 0. */
#define RILL__CLAIM_TAG(i) (((uintptr_t)(i) + 1) << 2)
#define RILL__CLAIM_INDEX(tag) ((size_t)((tag) >> 2) - 1)

/* What rill_select puts in cx->select while it polls case `tag`. */
typedef struct rill__select_ref {
    _Atomic uintptr_t *claim;
    uintptr_t tag;
} rill__select_ref_t;

/*
 * Final claim: open -> tag. Returns true if won. Meeting a held word, sets
 * MISSED on it (the holder will make the select poll again) and returns
 * false; meeting a final word returns false.
 */
bool rill__claim_final(_Atomic uintptr_t *claim, uintptr_t tag);

/* Temporary claim: open -> HELD. Same failure behaviour as above. */
bool rill__claim_hold(_Atomic uintptr_t *claim);

/* HELD -> tag (the hand-off happened). */
static inline void rill__claim_commit(_Atomic uintptr_t *claim, uintptr_t tag)
{
    /* release: pairs with the acquire load in the select's poll, which
     * then also sees what the completer wrote before (the waiter's
     * status, itself published with release). */
    rill__store(claim, tag, RILL_RELEASE);
}

/*
 * HELD -> open (the hand-off could not happen after all). Returns true if
 * someone gave up on the select meanwhile (MISSED): the caller must then
 * wake the select so it polls again.
 */
static inline bool rill__claim_unhold(_Atomic uintptr_t *claim)
{
    /* acq_rel: release publishes the critical section to whoever claims
     * next; acquire pairs with the MISSED fetch_or of rill__claim_*. */
    return (rill__xchg(claim, RILL__CLAIM_OPEN, RILL_ACQ_REL) &
            RILL__CLAIM_MISSED) != 0;
}

/* ------------------------------------------------------------------------ */
/* Wake lists                                                                */
/* ------------------------------------------------------------------------ */

#define RILL__WAKELIST_CAP 8

typedef struct rill__wakelist {
    unsigned n;
    rill_waker_t w[RILL__WAKELIST_CAP];
} rill__wakelist_t;

/* Start an empty list. (Not an initializer: zero-filling the whole array
 * was a measurable part of every wake; only n needs a value.) */
static inline void rill__wakelist_init(rill__wakelist_t *wl)
{
    wl->n = 0;
}

/* Wake (and release) every collected waker. Call after unlocking. */
void rill__wakelist_flush(rill__wakelist_t *wl);

/*
 * Take ownership of waker w, to be woken by rill__wakelist_flush. When
 * the list is full the earlier ones are woken at once (still correct,
 * only slower: under the lock).
 */
static inline void rill__wakelist_push(rill__wakelist_t *wl, rill_waker_t w)
{
    if (!w.vtable)
        return;
    if (wl->n == RILL__WAKELIST_CAP)
        rill__wakelist_flush(wl);
    wl->w[wl->n++] = w;
}

/* ------------------------------------------------------------------------ */
/* Waiters                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct rill__waiter {
    rill__list_t link;        /* on a wait queue; that queue's lock */
    rill_waker_t waker;       /* the queue's lock */
    _Atomic uintptr_t *claim; /* queue's lock; NULL for a plain operation,
                                 else the select's claim word */
    uintptr_t tag;            /* queue's lock; this case's final value */
    /* RILL_PENDING until a peer completes the waiter by hand-off; then
     * written once, with release, as the completer's last access. */
    _Atomic int status;
    /* Operation-specific, set by the owner before it enqueues and then
     * used by the completer under the lock: the items to give (a sender)
     * or the buffer to fill (a receiver), how many, how many moved. */
    void *buf;
    size_t max;
    size_t done;
} rill__waiter_t;

/* Prepare a waiter that is not on any queue. */
static inline void rill__waiter_init(rill__waiter_t *w, void *buf, size_t max)
{
    w->link.prev = w->link.next = NULL;
    w->waker = RILL_WAKER_NONE;
    w->claim = NULL;
    w->tag = 0;
    rill__store(&w->status, RILL_PENDING, RILL_RELAXED); /* not shared yet */
    w->buf = buf;
    w->max = max;
    w->done = 0;
}

static inline bool rill__waiter_linked(const rill__waiter_t *w)
{
    return rill__list_linked(&w->link);
}

/* The waiter's status as its owner reads it (acquire: pairs with the
 * release store in rill__waiter_finish, so the hand-off's data is seen). */
static inline int rill__waiter_status(rill__waiter_t *w)
{
    return rill__load(&w->status, RILL_ACQUIRE);
}

/* The claim word the caller itself polls under (NULL outside select). */
static inline _Atomic uintptr_t *rill__cx_claim(const rill_cx_t *cx)
{
    return cx && cx->select ? ((rill__select_ref_t *)cx->select)->claim : NULL;
}

/*
 * Lock held. Put w at the back of queue q if it is not queued yet, record
 * the select claim of cx (if any), and make its waker cx's waker.
 * Returns true if w was newly queued (counts as a new wait).
 */
bool rill__waiter_park(rill__list_t *q, rill__waiter_t *w, const rill_cx_t *cx);

enum {
    RILL__TAKE_OK,   /* complete it now (claim won, or a plain waiter) */
    RILL__TAKE_SKIP, /* the caller's own select: leave it, look further */
    RILL__TAKE_GONE  /* its select completed elsewhere: rill__waiter_drop */
};

/*
 * Lock held. May the caller hand off to w? `self` is the claim word the
 * caller polls under (rill__cx_claim(cx)), so that a select never pairs a
 * case with another of its own cases. hold: claim temporarily (the hand-
 * off may still fail; then rill__waiter_unhold) instead of finally.
 */
int rill__waiter_take(rill__waiter_t *w, _Atomic uintptr_t *self, bool hold);

/* Lock held. Undo a held take that could not complete (w stays queued). */
void rill__waiter_unhold(rill__waiter_t *w, rill__wakelist_t *wl);

/*
 * Lock held; w taken. Unlink w, queue its waker on wl, make a held claim
 * final, and publish `status`. w's owner may return at once: w must not
 * be touched afterwards.
 */
void rill__waiter_finish(rill__waiter_t *w, int status, rill__wakelist_t *wl);

/* Lock held. Unlink a waiter that take() reported gone; status untouched. */
void rill__waiter_drop(rill__waiter_t *w);

/*
 * Lock held. Unlink w and queue its waker on wl: the wake-and-retry
 * completion. Its status becomes RILL__WAITER_WOKEN, so that the owner
 * knows without the lock that w is off the queue (rill__waiter_cancel
 * reports it as RILL_PENDING: being woken is no effect).
 */
void rill__waiter_wake(rill__waiter_t *w, rill__wakelist_t *wl);

/* The status of a waiter taken off its queue by rill__waiter_wake. */
#define RILL__WAITER_WOKEN 0x7fff

/*
 * The owner withdraws w (timeout, select, task cancellation). Takes the
 * lock. Returns RILL_PENDING if w was still waiting or had only been woken
 * or dropped (no effect happened), or the status a peer's hand-off
 * published (the operation completed in the race).
 */
int rill__waiter_cancel(rill__lock_t *l, rill__waiter_t *w);

/* ------------------------------------------------------------------------ */
/* Counters and handle states                                                */
/* ------------------------------------------------------------------------ */

/* relaxed: statistics, read as a snapshot by nobody who relies on order. */
static inline void rill__count(_Atomic uint64_t *c, uint64_t n)
{
    rill__fetch_add(c, n, RILL_RELAXED);
}

/* *c = max(*c, v). Relaxed for the same reason. */
static inline void rill__count_max(_Atomic uint64_t *c, uint64_t v)
{
    uint64_t cur = rill__load(c, RILL_RELAXED);
    while (v > cur && !rill__cas_weak(c, &cur, v, RILL_RELAXED, RILL_RELAXED)) {
    }
}

/*
 * A handle's state word. Handles stay in memory after release while their
 * object lives (debug builds never reuse them), so a second release is
 * seen and reported instead of corrupting a count.
 */
#define RILL__HANDLE_LIVE 0x4c495645u /* "LIVE" */
#define RILL__HANDLE_DEAD 0x44454144u /* "DEAD" */

/* True if h is a live handle (NULL is not). */
static inline bool rill__handle_live(const _Atomic uint32_t *state)
{
    /* relaxed: a plausibility check of the caller's own handle. */
    return rill__load(state, RILL_RELAXED) == RILL__HANDLE_LIVE;
}

/*
 * LIVE -> DEAD, once. Returns 0, or RILL_EALREADY (reported as misuse of
 * `api`) for a handle that was already released.
 */
int rill__handle_kill(_Atomic uint32_t *state, const char *api);
/* The same for handles whose live word is `live` (a kind of its own, so
 * one kind's handle is not taken for another's). RILL_EINVAL for a word
 * that is neither `live` nor DEAD. */
int rill__handle_kill_as(_Atomic uint32_t *state, uint32_t live,
                         const char *api);

#endif /* RILL_SYNC_INT_H */
