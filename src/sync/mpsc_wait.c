/* SPDX-License-Identifier: MIT */
/*
 * mpsc_wait.c - the receive-side waiting that the buffered kinds share:
 * the receiver's waiter list, its park and unpark under the channel's lock,
 * and the wakes a sender or an ending channel gives it.
 */
#include "mpsc_int.h"
#include "rt/rt.h"

/* ------------------------------------------------------------------------ */
/* Wait-queue helpers shared by the kinds                                    */
/* ------------------------------------------------------------------------ */

void rill__chan_wake_rx_locked(rill__chan_t *ch, rill__wakelist_t *wl)
{
    while (!rill__list_empty(&ch->rxq))
        rill__waiter_wake(RILL_CONTAINER_OF(ch->rxq.next, rill__waiter_t, link),
                          wl);
    rill__store(&ch->rx_waiting, 0, RILL_RELAXED); /* the lock orders it */
}

void rill__chan_wake_rx(rill__chan_t *ch)
{
    rill__wakelist_t wl;
    rill__wakelist_init(&wl);
    rill__lock(&ch->lock);
    rill__chan_wake_rx_locked(ch, &wl);
    rill__unlock(&ch->lock);
    rill__wakelist_flush(&wl);
}

void rill__chan_unpark_rx_locked(rill__chan_t *ch, rill__waiter_t *w)
{
    if (rill__waiter_linked(w)) {
        rill__list_remove(&w->link);
        rill_waker_release(&w->waker);
    }
    if (rill__list_empty(&ch->rxq))
        rill__store(&ch->rx_waiting, 0, RILL_RELAXED);
}

void rill__chan_unpark_rx(rill__chan_t *ch, rill__waiter_t *w, bool *reg)
{
    *reg = false;
    if (rill__waiter_status(w) == RILL__WAITER_WOKEN) {
        /* A producer took it off the queue when it woke us: no lock. */
        rill__store(&w->status, RILL_PENDING, RILL_RELAXED); /* ours now */
        return;
    }
    rill__lock(&ch->lock);
    rill__chan_unpark_rx_locked(ch, w);
    rill__unlock(&ch->lock);
}

bool rill__chan_park_rx(rill__chan_t *ch, rill__waiter_t *w, bool *reg,
                        rill_cx_t *cx, bool (*ready)(rill__chan_t *))
{
    rill__lock(&ch->lock);
    if (rill__waiter_park(&ch->rxq, w, cx))
        rill__count(&ch->waits_empty, 1);
    *reg = true;
    /* seq_cst: the receiver's half of the store-buffering pair with a
     * producer that publishes (seq_cst) and then loads rx_waiting; ready()
     * re-reads the head slot with seq_cst. */
    rill__xchg(&ch->rx_waiting, 1, RILL_SEQ_CST);
    /* seq_cst fence: against a producer that publishes a batch (release
     * stores, a seq_cst fence, then rx_waiting; bounded.c's publish and
     * dispatch) the pair is fence against fence, the form the model
     * checker verifies (tests/model). Slow path: the receiver parks. */
    rill__fence(RILL_SEQ_CST);
    bool retry = ready(ch);
    rill__unlock(&ch->lock);
    return retry;
}
