/* SPDX-License-Identifier: MIT */
/*
 * notify.c - waiter lists for the wake-and-retry channels (see notify.h
 * for the protocol).
 *
 * Wakers are never called under the lock: the notifier moves up to a batch
 * of them out of their nodes, marks the nodes unlinked, unlocks, and only
 * then wakes them (a wake may be a futex system call or push a task onto
 * a run queue).
 */
#include "notify.h"

enum { WAKE_BATCH = 32 };

void rill__notify_init(rill__notify_t *n)
{
    pthread_mutex_init(&n->lock, NULL);
    rill__list_init(&n->head);
    rill__store(&n->count, 0, RILL_RELAXED); /* not yet shared */
}

void rill__notify_destroy(rill__notify_t *n)
{
    RILL_ASSERT(rill__list_empty(&n->head));
    pthread_mutex_destroy(&n->lock);
}

bool rill__notify_register(rill__notify_t *n, rill__notify_waiter_t *w,
                           const rill_waker_t *waker)
{
    bool fresh = false;
    w->registered = 1;
    pthread_mutex_lock(&n->lock);
    /* relaxed: under the lock, which orders it against the notifier's
     * store of 0. */
    if (!rill__load(&w->linked, RILL_RELAXED)) {
        w->waker = rill_waker_clone(waker);
        rill__list_push_back(&n->head, &w->link);
        rill__store(&w->linked, 1, RILL_RELAXED);
        /* seq_cst: the waiter half of the Dekker pattern: the caller's
         * seq_cst re-check of its condition comes after this in the total
         * order (pairs with rill__notify_wake_if_waiting). */
        rill__fetch_add(&n->count, 1, RILL_SEQ_CST);
        fresh = true;
    } else {
        rill_waker_set(&w->waker, waker);
    }
    pthread_mutex_unlock(&n->lock);
    return fresh;
}

void rill__notify_remove(rill__notify_t *n, rill__notify_waiter_t *w)
{
    if (!w->registered)
        return;
    /* acquire: pairs with the notifier's release store of 0, its last
     * access to the node; after it the node is ours again. */
    if (!rill__load(&w->linked, RILL_ACQUIRE))
        return;
    rill_waker_t waker = RILL_WAKER_NONE;
    pthread_mutex_lock(&n->lock);
    if (rill__load(&w->linked, RILL_RELAXED)) { /* relaxed: under the lock */
        rill__list_remove(&w->link);
        waker = w->waker;
        w->waker = RILL_WAKER_NONE;
        rill__store(&w->linked, 0, RILL_RELAXED);
        /* relaxed: the count is only a hint that makes notifiers take the
         * lock; a notifier that still sees the old value takes the lock
         * for nothing. */
        rill__fetch_sub(&n->count, 1, RILL_RELAXED);
    }
    pthread_mutex_unlock(&n->lock);
    rill_waker_release(&waker);
}

void rill__notify_wake_all(rill__notify_t *n)
{
    rill_waker_t batch[WAKE_BATCH];
    for (;;) {
        size_t k = 0;
        pthread_mutex_lock(&n->lock);
        while (k < WAKE_BATCH) {
            rill__list_t *l = rill__list_pop_front(&n->head);
            if (!l)
                break;
            rill__notify_waiter_t *w =
                RILL_CONTAINER_OF(l, rill__notify_waiter_t, link);
            batch[k++] = w->waker;
            w->waker = RILL_WAKER_NONE;
            /* release: our last access to the node; pairs with the
             * acquire in rill__notify_remove, after which the waiter may
             * free it. */
            rill__store(&w->linked, 0, RILL_RELEASE);
        }
        if (k)
            rill__fetch_sub(&n->count, (uint32_t)k, RILL_RELAXED); /* hint */
        bool more = !rill__list_empty(&n->head);
        pthread_mutex_unlock(&n->lock);
        for (size_t i = 0; i < k; i++)
            rill_waker_wake(&batch[i]);
        if (!more)
            return;
    }
}
