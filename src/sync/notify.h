/* SPDX-License-Identifier: MIT */
/*
 * notify.h - waiter lists for the wake-and-retry channels (oneshot, watch,
 * broadcast); private to src/sync. Built on the shared channel core
 * (sync_int.h: lock, waiters, wake lists).
 *
 * A waiting operation parks a waiter (it lives in the operation or in the
 * receiver handle, never on the heap) and then checks its condition again;
 * a thread that makes the condition true publishes its change and then,
 * only if the list's waiter count is non-zero, wakes every waiter
 * (rill__waiter_wake: unlinked, status WOKEN, woken after the unlock). A
 * woken operation polls again and takes what it waits for itself; nothing
 * is handed into its memory, so these operations need no select claim and
 * withdrawing one (timeout, select, cancellation) is just unlinking it.
 *
 * Lost wake-ups are excluded by the store-buffer (Dekker) pattern on the
 * waiter count: the waiter increments it (seq_cst) and then loads the
 * condition (seq_cst); the notifier stores the condition (seq_cst) and
 * then loads the count (seq_cst). In the single total order of seq_cst
 * operations one of the two loads sees the other side's store. Rare events
 * (close, release) instead wake unconditionally under the lock, which
 * orders them against parking.
 */
#ifndef RILL_SYNC_NOTIFY_H
#define RILL_SYNC_NOTIFY_H

#include "sync_int.h"

/* A waiter plus what its owner alone needs to know. */
typedef struct rill__notify_waiter {
    rill__waiter_t w;
    bool parked; /* owner only: parked at least once since init */
} rill__notify_waiter_t;

/* The public op structs reserve `void *waiter_[12]` for one. */
_Static_assert(sizeof(rill__notify_waiter_t) <= 12 * sizeof(void *),
               "op waiter storage too small");

typedef struct rill__notify {
    rill__lock_t lock;
    rill__list_t head;      /* parked waiters, FIFO; under lock */
    _Atomic uint32_t count; /* parked waiters; written under lock, read by
                               notifiers without it */
} rill__notify_t;

static inline void rill__notify_init(rill__notify_t *n)
{
    rill__store(&n->lock.word, 0, RILL_RELAXED); /* not yet shared */
    rill__list_init(&n->head);
    rill__store(&n->count, 0, RILL_RELAXED);
}

static inline void rill__notify_waiter_init(rill__notify_waiter_t *nw)
{
    rill__waiter_init(&nw->w, NULL, 0);
    nw->parked = false;
}

/*
 * Park nw (if it is not parked yet) with cx's waker. The caller must check
 * its condition again afterwards with seq_cst loads. Returns true if nw
 * was newly parked (one more wait, for the counters).
 */
bool rill__notify_park(rill__notify_t *n, rill__notify_waiter_t *nw,
                       const rill_cx_t *cx);

/* The slow part of rill__notify_remove. */
void rill__notify_unpark(rill__notify_t *n, rill__notify_waiter_t *nw);

/* Take nw off the list if it is on it and drop its waker. Without the lock
 * when it was never parked or a notifier already woke it. */
static inline void rill__notify_remove(rill__notify_t *n,
                                       rill__notify_waiter_t *nw)
{
    /* rill__waiter_status's acquire pairs with rill__waiter_wake's release,
     * the notifier's last access to the node. */
    if (nw->parked && rill__waiter_status(&nw->w) != RILL__WAITER_WOKEN)
        rill__notify_unpark(n, nw);
}

/* Unlink and wake every waiter (takes the lock even with none). */
void rill__notify_wake_all(rill__notify_t *n);

static inline bool rill__notify_has_waiters(rill__notify_t *n)
{
    /* seq_cst: the notifier half of the Dekker pattern above; pairs with
     * the seq_cst increment in rill__notify_park. */
    return rill__load(&n->count, RILL_SEQ_CST) != 0;
}

/*
 * After publishing a change with a seq_cst store: wake the waiters if
 * there are any. One seq_cst load when there are none.
 */
static inline void rill__notify_wake_if_waiting(rill__notify_t *n)
{
    if (rill__notify_has_waiters(n))
        rill__notify_wake_all(n);
}

/*
 * A waker slot: the notify protocol for a side with at most one waiting
 * party (a oneshot's receiver, its sender's closed-wait): one waker and
 * the identity of whoever registered it, instead of a list and a waiter
 * node per party. 32 bytes. The same Dekker pattern: the waiter registers
 * (armed = 1, seq_cst) and then re-checks its condition with a seq_cst
 * load; the notifier publishes its change with a seq_cst RMW and then
 * loads `armed` (rill__wslot_wake).
 */
typedef struct rill__wslot {
    rill__lock_t lock;      /* guards owner and waker */
    _Atomic uint32_t armed; /* 1 while a waker is registered */
    const void *owner;      /* who registered it (an op, a handle) */
    rill_waker_t waker;
} rill__wslot_t;

static inline void rill__wslot_init(rill__wslot_t *ws)
{
    rill__store(&ws->lock.word, 0, RILL_RELAXED); /* not yet shared */
    rill__store(&ws->armed, 0, RILL_RELAXED);
    ws->owner = NULL;
    ws->waker = RILL_WAKER_NONE;
}

/*
 * Register cx's waker for owner (replacing whatever was registered). The
 * caller then re-checks its condition with a seq_cst load. Returns true if
 * the slot was not armed for this owner before (one more wait).
 */
bool rill__wslot_register(rill__wslot_t *ws, const void *owner,
                          const rill_cx_t *cx);

/* Withdraw owner's registration, if the slot still holds it. */
void rill__wslot_withdraw(rill__wslot_t *ws, const void *owner);

/* The slow part of rill__wslot_wake. */
void rill__wslot_fire(rill__wslot_t *ws);

/* After a seq_cst RMW that publishes the change: wake the registered
 * waker, if any. One seq_cst load when there is none. */
static inline void rill__wslot_wake(rill__wslot_t *ws)
{
    /* seq_cst: the notifier's half of the pattern (see above). */
    if (rill__load(&ws->armed, RILL_SEQ_CST))
        rill__wslot_fire(ws);
}

/*
 * The cooperative budget, tokio's way. Every poll honours a used-up budget:
 * with none left it wakes its waker and returns PENDING before doing
 * anything. Only the public poll functions (the stream layer's path)
 * spend a unit on a ready result (rill__coop_done); an _op does not,
 * because rill_await in a task spends one unit per completed await (and an
 * op in a select is one await). A PENDING result never costs budget.
 */
static inline bool rill__coop_exhausted(rill_cx_t *cx)
{
    if (cx->budget != 0)
        return false;
    rill_waker_wake_by_ref(cx->waker);
    return true;
}

/* For a public poll function: spend one unit if r is a ready result. */
static inline int rill__coop_done(rill_cx_t *cx, int r)
{
    if (r != RILL_PENDING)
        (void)rill_cx_spend(cx);
    return r;
}

#endif
