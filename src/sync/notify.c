/* SPDX-License-Identifier: MIT */
/*
 * notify.c - waiter lists for the wake-and-retry channels (see notify.h
 * for the protocol). Wakers are never called under the lock: the notifier
 * takes a wake list's worth of waiters off, unlocks, wakes them, and comes
 * back for more.
 */
#include "notify.h"

bool rill__notify_park(rill__notify_t *n, rill__notify_waiter_t *nw,
                       const rill_cx_t *cx)
{
    nw->parked = true;
    rill__lock(&n->lock);
    bool fresh = rill__waiter_park(&n->head, &nw->w, cx);
    if (fresh)
        /* seq_cst: the waiter half of the Dekker pattern: the caller's
         * seq_cst re-check of its condition comes after this in the total
         * order (pairs with rill__notify_has_waiters). */
        rill__fetch_add(&n->count, 1, RILL_SEQ_CST);
    rill__unlock(&n->lock);
    return fresh;
}

void rill__notify_unpark(rill__notify_t *n, rill__notify_waiter_t *nw)
{
    rill__lock(&n->lock);
    bool linked = rill__waiter_linked(&nw->w);
    if (linked) {
        rill__list_remove(&nw->w.link);
        /* relaxed: the count is only a hint that makes notifiers take the
         * lock; one that still sees the old value takes it for nothing. */
        rill__fetch_sub(&n->count, 1, RILL_RELAXED);
    }
    rill__unlock(&n->lock);
    if (linked)
        rill_waker_release(&nw->w.waker);
}

void rill__notify_wake_all(rill__notify_t *n)
{
    for (;;) {
        rill__wakelist_t wl;
        rill__wakelist_init(&wl);
        unsigned k = 0;
        rill__lock(&n->lock);
        for (; k < RILL__WAKELIST_CAP && !rill__list_empty(&n->head); k++) {
            rill__waiter_t *w =
                RILL_CONTAINER_OF(n->head.next, rill__waiter_t, link);
            rill__waiter_wake(w, &wl);
        }
        if (k)
            rill__fetch_sub(&n->count, k, RILL_RELAXED); /* a hint */
        bool more = !rill__list_empty(&n->head);
        rill__unlock(&n->lock);
        rill__wakelist_flush(&wl);
        if (!more)
            return;
    }
}

bool rill__wslot_register(rill__wslot_t *ws, const void *owner,
                          const rill_cx_t *cx)
{
    rill__lock(&ws->lock);
    bool fresh = !rill__load(&ws->armed, RILL_RELAXED) || ws->owner != owner;
    rill_waker_t old = RILL_WAKER_NONE;
    if (!rill__load(&ws->armed, RILL_RELAXED) ||
        !rill_waker_will_wake(&ws->waker, cx->waker)) {
        old = ws->waker;
        ws->waker = rill_waker_clone(cx->waker);
    }
    ws->owner = owner;
    /* seq_cst: the waiter's half of the Dekker pattern; the caller's
     * re-check comes after it in the total order. */
    rill__store(&ws->armed, 1, RILL_SEQ_CST);
    rill__unlock(&ws->lock);
    rill_waker_release(&old); /* never a waker call under the lock */
    return fresh;
}

void rill__wslot_withdraw(rill__wslot_t *ws, const void *owner)
{
    /* relaxed: only the owner registers, so a slot it sees unarmed stays
     * so for it; a notifier that disarmed it already took the waker. */
    if (!rill__load(&ws->armed, RILL_RELAXED))
        return;
    rill_waker_t old = RILL_WAKER_NONE;
    rill__lock(&ws->lock);
    if (rill__load(&ws->armed, RILL_RELAXED) && ws->owner == owner) {
        old = ws->waker;
        ws->waker = RILL_WAKER_NONE;
        ws->owner = NULL;
        rill__store(&ws->armed, 0, RILL_RELAXED);
    }
    rill__unlock(&ws->lock);
    rill_waker_release(&old);
}

void rill__wslot_fire(rill__wslot_t *ws)
{
    rill_waker_t w = RILL_WAKER_NONE;
    rill__lock(&ws->lock);
    if (rill__load(&ws->armed, RILL_RELAXED)) {
        w = ws->waker;
        ws->waker = RILL_WAKER_NONE;
        ws->owner = NULL;
        rill__store(&ws->armed, 0, RILL_RELAXED);
    }
    rill__unlock(&ws->lock);
    rill_waker_wake(&w); /* consumes w */
}
