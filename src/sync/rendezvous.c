/* SPDX-License-Identifier: MIT */
/*
 * rendezvous.c - the capacity-0 mpsc channel (Go's unbuffered channel): a
 * send completes only when a receiver takes the item.
 *
 * There is no buffer, so every operation takes ch->lock and pairs with a
 * waiter of the other side: whoever comes second finds the first one
 * queued and completes both by hand-off (copies the items between the
 * sender's items and the receiver's buffer, then publishes the waiter's
 * status). Waiting senders are served in arrival order. A waiter that
 * belongs to a select is claimed first (rill__waiter_take), and a select
 * never pairs a case with another case of its own.
 *
 * Close: waiting senders fail with RILL_ECLOSED (their items never left
 * them) and waiting receivers end with RILL_DONE; the same for receivers
 * when the last sender goes (mpsc.c, chan_end).
 */
#include "mpsc_int.h"

#include <string.h>

/*
 * Lock held. Pair with the waiters of queue q (the other side), in order:
 * giving copies our n items into a receiver's buffer (one receive
 * completes per send: there is one consumer), taking copies waiting
 * senders' items into ours until n are taken. Returns the items moved.
 */
static size_t pair_with(rill__chan_t *ch, rill__list_t *q,
                        _Atomic uintptr_t *self, char *mine, size_t n,
                        bool giving, rill__wakelist_t *wl)
{
    size_t isz = ch->item_size, got = 0;
    rill__list_t *it = q->next;
    while (it != q && got < n) {
        rill__waiter_t *w = RILL_CONTAINER_OF(it, rill__waiter_t, link);
        it = it->next;
        int r = rill__waiter_take(w, self, false);
        if (r == RILL__TAKE_SKIP)
            continue;
        if (r == RILL__TAKE_GONE) {
            rill__waiter_drop(w);
            continue;
        }
        size_t m = w->max < n - got ? w->max : n - got;
        if (giving)
            memcpy(w->buf, mine + got * isz, m * isz);
        else
            memcpy(mine + got * isz, w->buf, m * isz);
        w->done = m;
        got += m;
        rill__waiter_finish(w, 0, wl);
        if (giving)
            break;
    }
    return got;
}

/* Lock held: the operation completed on its own; leave the queue. */
static void leave(rill__waiter_t *w)
{
    if (w && rill__waiter_linked(w)) {
        rill__list_remove(&w->link);
        rill_waker_release(&w->waker);
    }
}

int rill__rdv_send(rill__chan_t *ch, rill__op_t *op, rill_cx_t *cx,
                   const char *items, size_t n, size_t *done)
{
    rill__wakelist_t wl;
    rill__wakelist_init(&wl);
    rill__waiter_t *w = op ? &op->w : NULL;
    int r;
    rill__lock(&ch->lock);
    if (w && (r = rill__waiter_status(w)) != RILL_PENDING) {
        *done = w->done; /* a receiver took it meanwhile */
    } else if (rill__load(&ch->closed, RILL_RELAXED)) {
        leave(w);
        r = RILL_ECLOSED;
    } else if ((*done = pair_with(ch, &ch->rxq, rill__cx_claim(cx),
                                  (char *)(uintptr_t)items, n, true, &wl)) !=
               0) {
        leave(w);
        rill__count(&ch->rdv_sent, *done);
        r = 0;
    } else if (!w) {
        r = RILL_EFULL;
    } else {
        if (rill__waiter_park(&ch->txq, w, cx)) {
            op->registered = true;
            rill__count(&ch->waits_full, 1);
        }
        r = RILL_PENDING;
    }
    rill__unlock(&ch->lock);
    rill__wakelist_flush(&wl);
    return r;
}

int rill__rdv_recv(rill__chan_t *ch, rill__waiter_t *w, bool *reg,
                   rill_cx_t *cx, char *out, size_t max, size_t *done)
{
    rill__wakelist_t wl;
    rill__wakelist_init(&wl);
    rill_receiver_t *rx = &ch->rx;
    int r;
    rill__lock(&ch->lock);
    if (rx->pw_reg && w != &rx->pw) {
        /* Another receive path while rill_poll_recv's registration is
         * out: withdraw it, so that no sender hands an item to a waiter
         * nobody polls; if one already did, that item comes first. */
        rx->pw_reg = false;
        if (rill__waiter_linked(&rx->pw)) {
            rill__list_remove(&rx->pw.link);
            rill_waker_release(&rx->pw.waker);
        } else if (rill__waiter_status(&rx->pw) == 0) {
            memcpy(out, rx->stash, ch->item_size);
            rill__store(&rx->pw.status, RILL_PENDING, RILL_RELAXED);
            leave(w);
            if (reg)
                *reg = false;
            *done = 1;
            rill__unlock(&ch->lock);
            return 0;
        }
        rill__store(&rx->pw.status, RILL_PENDING, RILL_RELAXED);
    }
    if (w && *reg && (r = rill__waiter_status(w)) != RILL_PENDING) {
        /* A sender handed items to w->buf meanwhile (or the channel
         * ended). w may be reused (rill_poll_recv's): reset it. */
        *done = w->done;
        *reg = false;
        if (r == 0 && w->buf != out)
            memcpy(out, w->buf, w->done * ch->item_size);
        rill__store(&w->status, RILL_PENDING, RILL_RELAXED); /* ours now */
    } else if (rill__chan_ending(ch)) {
        /* Closed (its waiting senders are being failed) or no senders
         * (then none waits): the end, checked first so that nothing is
         * taken from a sender after the close. */
        leave(w);
        r = RILL_DONE;
    } else if ((*done = pair_with(ch, &ch->txq, rill__cx_claim(cx), out, max,
                                  false, &wl)) != 0) {
        leave(w);
        rill__count(&ch->rdv_sent, *done);
        r = 0;
    } else if (!w) {
        r = RILL_EEMPTY;
    } else {
        if (rill__waiter_park(&ch->rxq, w, cx))
            rill__count(&ch->waits_empty, 1);
        *reg = true;
        r = RILL_PENDING;
    }
    rill__unlock(&ch->lock);
    rill__wakelist_flush(&wl);
    return r;
}
