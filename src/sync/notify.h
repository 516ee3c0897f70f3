/* SPDX-License-Identifier: MIT */
/*
 * notify.h - waiter lists for the wake-and-retry channels (oneshot, watch,
 * broadcast); private to src/sync.
 *
 * A waiting operation registers a waiter node (it lives in the operation
 * or in the receiver handle, never on the heap) and then checks its
 * condition again; a thread that makes the condition true publishes its
 * change and then, only if the list's waiter count is non-zero, wakes
 * every waiter. A woken waiter is only unlinked and woken: it polls again
 * and takes what it waits for itself. Nothing is ever written into a
 * waiter's memory after it was unlinked, so an operation may vanish as soon
 * as it sees its node unlinked, and withdrawing an operation (timeout,
 * select, cancellation) is just removing its node.
 *
 * Lost wake-ups are excluded by the store-buffer (Dekker) pattern on the
 * waiter count: the waiter increments it (seq_cst) and then loads the
 * condition (seq_cst); the notifier stores the condition (seq_cst) and
 * then loads the count (seq_cst). In the single total order of seq_cst
 * operations one of the two loads sees the other side's store. Rare events
 * (close, release) instead wake unconditionally under the lock, which
 * orders them against registration by the mutex.
 */
#ifndef RILL_SYNC_NOTIFY_H
#define RILL_SYNC_NOTIFY_H

#include "core/atomic.h"
#include "core/core.h"

#include <pthread.h>

typedef struct rill__notify_waiter {
    rill__list_t link;       /* under the list's lock */
    rill_waker_t waker;      /* under the list's lock while linked */
    _Atomic uint32_t linked; /* 1 while on a list: set under the lock, and
                                cleared (release) as the notifier's last
                                access to the node */
    uint32_t registered;     /* the waiter's own: registered at least once
                                since rill__notify_waiter_init */
} rill__notify_waiter_t;

typedef struct rill__notify {
    pthread_mutex_t lock;
    rill__list_t head;      /* waiters, FIFO; under lock */
    _Atomic uint32_t count; /* linked waiters; written under lock, read
                               by notifiers without it */
} rill__notify_t;

void rill__notify_init(rill__notify_t *n);
void rill__notify_destroy(rill__notify_t *n);

static inline void rill__notify_waiter_init(rill__notify_waiter_t *w)
{
    w->link.prev = w->link.next = NULL;
    w->waker = RILL_WAKER_NONE;
    rill__store(&w->linked, 0, RILL_RELAXED); /* not yet shared */
    w->registered = 0;
}

/*
 * Link w (if it is not linked yet) with a clone of `waker` (replacing the
 * stored one if it wakes another target). The caller must check its
 * condition again afterwards with seq_cst loads. Returns true if w was
 * newly linked (one more wait, for the counters).
 */
bool rill__notify_register(rill__notify_t *n, rill__notify_waiter_t *w,
                           const rill_waker_t *waker);

/* Unlink w if it is linked and drop its waker. Cheap when it is not. */
void rill__notify_remove(rill__notify_t *n, rill__notify_waiter_t *w);

/* Unlink and wake every waiter (takes the lock even with none). */
void rill__notify_wake_all(rill__notify_t *n);

/*
 * After publishing a change with a seq_cst store: wake the waiters if
 * there are any. One seq_cst load when there are none.
 */
static inline void rill__notify_wake_if_waiting(rill__notify_t *n)
{
    /* seq_cst: the notifier half of the Dekker pattern above; pairs with
     * the seq_cst increment in rill__notify_register. */
    if (rill__load(&n->count, RILL_SEQ_CST) != 0)
        rill__notify_wake_all(n);
}

static inline bool rill__notify_has_waiters(rill__notify_t *n)
{
    return rill__load(&n->count, RILL_SEQ_CST) != 0; /* as above */
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
