/* SPDX-License-Identifier: MIT */
/*
 * mpsc.c - the mpsc channel object: creation (the kind's storage set up by
 * bounded.c / unbounded.c), handles (clone, release, close), the end of a
 * channel, and inspection and counters. The operations are in mpsc_ops.c,
 * the receive-side waiting the kinds share in mpsc_wait.c.
 *
 * Lifetime: ch->refs counts the live sender handles, the receiver while
 * it is not released, and outstanding permits; the last reference frees
 * the channel (discarding what is left through the item destructor).
 * ch->senders counts live sender handles only: when it reaches 0 the
 * receiver is told the end (after the buffer drains).
 *
 * Closing (receiver side): the mark bit goes into tail first, so that no
 * sender can take a position after anyone saw `closed`; then `closed` is
 * set, and waiting senders fail with RILL_ECLOSED under the lock.
 */
#include "describe.h"
#include "mpsc_int.h"
#include "rt/rt.h"

#include <string.h>

/* The largest bounded capacity (positions must not overflow 64 bits). */
#define MAX_CAPACITY (UINT64_C(1) << 40)

/*
 * The end for the receiver: the receiver closed (fail_senders: waiting
 * senders get RILL_ECLOSED) or the last sender went. Receive waiters of
 * the buffered kinds are woken to see it; rendezvous ones end with
 * RILL_DONE by hand-off.
 */
static void chan_end(rill__chan_t *ch, bool fail_senders)
{
    rill__wakelist_t wl;
    rill__wakelist_init(&wl);
    rill__lock(&ch->lock);
    while (fail_senders && !rill__list_empty(&ch->txq)) {
        rill__waiter_t *w =
            RILL_CONTAINER_OF(ch->txq.next, rill__waiter_t, link);
        if (rill__waiter_take(w, NULL, false) == RILL__TAKE_OK)
            rill__waiter_finish(w, RILL_ECLOSED, &wl);
        else
            rill__waiter_drop(w);
    }
    rill__store(&ch->tx_waiting, 0, RILL_RELAXED);
    if (ch->kind != RILL__RENDEZVOUS) {
        rill__chan_wake_rx_locked(ch, &wl);
    } else {
        while (!rill__list_empty(&ch->rxq)) {
            rill__waiter_t *w =
                RILL_CONTAINER_OF(ch->rxq.next, rill__waiter_t, link);
            if (rill__waiter_take(w, NULL, false) == RILL__TAKE_OK)
                rill__waiter_finish(w, RILL_DONE, &wl);
            else
                rill__waiter_drop(w);
        }
    }
    rill__unlock(&ch->lock);
    rill__wakelist_flush(&wl);
}

static void chan_close(rill__chan_t *ch)
{
    /* acq_rel: the mark orders after every position taken before it. */
    if (ch->kind == RILL__BOUNDED)
        rill__fetch_or(&ch->tail, ch->mark, RILL_ACQ_REL);
    else if (ch->kind == RILL__UNBOUNDED)
        rill__fetch_or(&ch->tail, RILL__UB_MARK, RILL_ACQ_REL);
    /* acq_rel: release pairs with rill__chan_ending's acquire (which then
     * sees the mark); acquire makes the winner see the mark too. */
    if (rill__xchg(&ch->closed, 1, RILL_ACQ_REL) == 0)
        chan_end(ch, true);
}

static void chan_free(rill__chan_t *ch)
{
    if (ch->kind == RILL__BOUNDED)
        rill__bnd_drain(ch);
    else if (ch->kind == RILL__UNBOUNDED)
        rill__ub_fini(ch);
    for (struct rill_sender *s = ch->dead, *next; s; s = next) {
        next = s->next;
        if (s != &ch->tx0)
            rill__free(s);
    }
    rill__free(ch->mem);
}

void rill__chan_unref(rill__chan_t *ch)
{
    /* acq_rel: the last reference sees every other holder's accesses
     * before it frees (as Arc's drop). */
    if (rill__fetch_sub(&ch->refs, 1, RILL_ACQ_REL) == 1)
        chan_free(ch);
}

/* ------------------------------------------------------------------------ */
/* Creation and handles                                                      */
/* ------------------------------------------------------------------------ */

static size_t round_up(size_t n, size_t a)
{
    return (n + a - 1) / a * a;
}

int rill_channel_new(rill_sender_t **tx, rill_receiver_t **rx, size_t item_size,
                     size_t capacity, const rill_channel_config_t *opts)
{
    static const char api[] = "rill_channel_new";
    if (!tx || !rx)
        return RILL_MISUSE(api, "NULL out pointer");
    *tx = NULL;
    *rx = NULL;
    if (item_size == 0)
        return RILL_MISUSE(api, "item_size is 0");
    if (item_size > SIZE_MAX / 64)
        return RILL_MISUSE(api, "item_size %zu is too large", item_size);

    uint8_t kind = capacity == 0                ? RILL__RENDEZVOUS
                   : capacity == RILL_UNBOUNDED ? RILL__UNBOUNDED
                                                : RILL__BOUNDED;
    size_t stride = round_up(sizeof(uint64_t) + item_size, sizeof(uint64_t));
    size_t extra = 0; /* ring or stash, after the struct */
    if (kind == RILL__BOUNDED) {
        if ((uint64_t)capacity >= MAX_CAPACITY ||
            !rill__mul_ok(capacity, stride, &extra))
            return RILL_MISUSE(api, "capacity %zu of %zu-byte items overflows",
                               capacity, item_size);
    } else if (kind == RILL__RENDEZVOUS) {
        extra = item_size;
    } else if (item_size > (SIZE_MAX - 4096) / RILL__UB_CAP) {
        return RILL_MISUSE(api, "item_size %zu is too large", item_size);
    }
    size_t head = round_up(sizeof(rill__chan_t), RILL_CACHELINE);
    size_t total = head + extra + RILL_CACHELINE;
    if (total < extra)
        return RILL_MISUSE(api, "capacity %zu of %zu-byte items overflows",
                           capacity, item_size);
    char *mem = rill__malloc(total);
    if (!mem)
        return RILL_ENOMEM;
    /* The struct's hot fields are cache-line aligned: align it by hand
     * (the user's allocator promises only malloc alignment). */
    char *base = (char *)(((uintptr_t)mem + RILL_CACHELINE - 1) &
                          ~(uintptr_t)(RILL_CACHELINE - 1));
    rill__chan_t *ch = (rill__chan_t *)(void *)base;
    memset(ch, 0, sizeof *ch);
    ch->mem = mem;
    ch->kind = kind;
    ch->item_size = item_size;
    ch->cap = capacity;
    ch->stride = stride;
    if (opts) {
        ch->dtor = opts->item_dtor;
        ch->item_dtor_ud = opts->item_dtor_ud;
        if (opts->name) {
            strncpy(ch->name, opts->name, sizeof ch->name - 1);
            ch->name[sizeof ch->name - 1] = '\0';
        }
    }
    rill__list_init(&ch->txq);
    rill__list_init(&ch->rxq);
    rill__store(&ch->senders, 1, RILL_RELAXED); /* not shared yet */
    rill__store(&ch->refs, 2, RILL_RELAXED);

    if (kind == RILL__BOUNDED) {
        rill__bnd_init(ch, base + head);
    } else if (kind == RILL__UNBOUNDED) {
        if (rill__ub_init(ch) != 0) {
            rill__free(mem);
            return RILL_ENOMEM;
        }
    }

    ch->rx.ch = ch;
    ch->rx.stash = kind == RILL__RENDEZVOUS ? base + head : NULL;
    rill__waiter_init(&ch->rx.pw, ch->rx.stash, 1);
    rill__store(&ch->rx.state, RILL__HANDLE_LIVE, RILL_RELAXED);
    ch->tx0.ch = ch;
    rill__store(&ch->tx0.state, RILL__HANDLE_LIVE, RILL_RELAXED);
    *tx = &ch->tx0;
    *rx = &ch->rx;
    return 0;
}

int rill_sender_clone(rill_sender_t *tx, rill_sender_t **out)
{
    static const char api[] = "rill_sender_clone";
    if (!out)
        return RILL_MISUSE(api, "NULL out pointer");
    *out = NULL;
    if (!tx || !rill__handle_live(&tx->state))
        return RILL_MISUSE(api, tx ? "released sender" : "NULL sender");
    rill__chan_t *ch = tx->ch;
    struct rill_sender *s = NULL;
#ifdef NDEBUG
    /* Release builds reuse released handles; debug builds keep them dead
     * so that every double release is caught. */
    rill__lock(&ch->lock);
    if ((s = ch->dead) != NULL)
        ch->dead = s->next;
    rill__unlock(&ch->lock);
#endif
    if (!s && !(s = rill__malloc(sizeof *s)))
        return RILL_ENOMEM;
    s->ch = ch;
    s->next = NULL;
    rill__store(&s->state, RILL__HANDLE_LIVE, RILL_RELAXED); /* ours */
    /* relaxed: a new reference made from a live one (as Arc::clone). */
    rill__fetch_add(&ch->senders, 1, RILL_RELAXED);
    rill__fetch_add(&ch->refs, 1, RILL_RELAXED);
    *out = s;
    return 0;
}

int rill_sender_release(rill_sender_t *tx)
{
    if (!tx)
        return 0;
    int r = rill__handle_kill(&tx->state, "rill_sender_release");
    if (r)
        return r;
    rill__chan_t *ch = tx->ch;
    if (tx != &ch->tx0) {
        rill__lock(&ch->lock);
        tx->next = ch->dead;
        ch->dead = tx;
        rill__unlock(&ch->lock);
    }
    /* acq_rel: the receiver's acquire of senders == 0 then sees every
     * send made through any handle (release sequence of this counter). */
    if (rill__fetch_sub(&ch->senders, 1, RILL_ACQ_REL) == 1)
        chan_end(ch, false);
    rill__chan_unref(ch);
    return 0;
}

static rill__chan_t *rx_chan(const rill_receiver_t *rx, const char *api,
                             int *err)
{
    if (RILL_LIKELY(rx && rill__handle_live(&rx->state)))
        return rx->ch;
    *err = RILL_MISUSE(api, rx ? "released receiver" : "NULL receiver");
    return NULL;
}

int rill_receiver_close(rill_receiver_t *rx)
{
    int err = 0;
    rill__chan_t *ch = rx_chan(rx, "rill_receiver_close", &err);
    if (!ch)
        return err;
    chan_close(ch);
    return 0;
}

int rill_receiver_release(rill_receiver_t *rx)
{
    if (!rx)
        return 0;
    int r = rill__handle_kill(&rx->state, "rill_receiver_release");
    if (r)
        return r;
    rill__chan_t *ch = rx->ch;
    chan_close(ch);
    if (rx->pw_reg) {
        rill__lock(&ch->lock);
        rill__chan_unpark_rx_locked(ch, &rx->pw);
        rill__unlock(&ch->lock);
        rx->pw_reg = false;
        /* A rendezvous item handed to rill_poll_recv's stash and never
         * polled is discarded like a buffered one. */
        if (rill__waiter_status(&rx->pw) == 0)
            rill__chan_discard(ch, rx->stash);
    }
    if (ch->kind == RILL__BOUNDED)
        rill__bnd_drain(ch);
    else if (ch->kind == RILL__UNBOUNDED)
        rill__ub_drain(ch);
    rill__chan_unref(ch);
    return 0;
}

const char *rill__chan_kind_name(const rill__chan_t *ch)
{
    return ch->kind == RILL__BOUNDED      ? "bounded"
           : ch->kind == RILL__RENDEZVOUS ? "rendezvous"
                                          : "unbounded";
}

/* ------------------------------------------------------------------------ */
/* Inspection and counters                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t pos_count(const rill__chan_t *ch, uint64_t p)
{
    return ch->kind == RILL__BOUNDED ? rill__bnd_count(ch, p)
                                     : rill__ub_count(p);
}

static uint64_t sent_count(const rill__chan_t *ch)
{
    /* relaxed: statistics (a snapshot, not ordered with anything). */
    if (ch->kind == RILL__RENDEZVOUS)
        return rill__load(&ch->rdv_sent, RILL_RELAXED);
    return pos_count(ch, rill__load(&ch->tail, RILL_RELAXED)) -
           rill__load(&ch->skipped, RILL_RELAXED);
}

/* Items the receiver took: the positions it passed, less the skipped ones
 * and those it discarded (released with items inside). */
static uint64_t recv_count(const rill__chan_t *ch)
{
    uint64_t passed = ch->kind == RILL__RENDEZVOUS
                          ? rill__load(&ch->rdv_sent, RILL_RELAXED)
                          : pos_count(ch, rill__load(&ch->head, RILL_RELAXED)) -
                                rill__load(&ch->rx_skipped, RILL_RELAXED);
    return passed - rill__load(&ch->discarded, RILL_RELAXED);
}

static size_t chan_len(const rill__chan_t *ch)
{
    if (ch->kind == RILL__RENDEZVOUS)
        return 0;
    /* relaxed: a snapshot; head first so that the difference is not
     * negative (both only grow). */
    uint64_t h = pos_count(ch, rill__load(&ch->head, RILL_RELAXED));
    uint64_t t = pos_count(ch, rill__load(&ch->tail, RILL_RELAXED));
    return t > h ? (size_t)(t - h) : 0;
}

static const rill__chan_t *tx_ch(const rill_sender_t *tx)
{
    return tx && rill__handle_live(&tx->state) ? tx->ch : NULL;
}

static const rill__chan_t *rx_ch(const rill_receiver_t *rx)
{
    return rx && rill__handle_live(&rx->state) ? rx->ch : NULL;
}

size_t rill_sender_len(const rill_sender_t *tx)
{
    const rill__chan_t *ch = tx_ch(tx);
    return ch ? chan_len(ch) : 0;
}

size_t rill_receiver_len(const rill_receiver_t *rx)
{
    const rill__chan_t *ch = rx_ch(rx);
    return ch ? chan_len(ch) : 0;
}

size_t rill_sender_capacity(const rill_sender_t *tx)
{
    const rill__chan_t *ch = tx_ch(tx);
    return ch ? ch->cap : 0;
}

size_t rill_receiver_capacity(const rill_receiver_t *rx)
{
    const rill__chan_t *ch = rx_ch(rx);
    return ch ? ch->cap : 0;
}

size_t rill_receiver_item_size(const rill_receiver_t *rx)
{
    const rill__chan_t *ch = rx_ch(rx);
    return ch ? ch->item_size : 0;
}

bool rill_sender_is_closed(const rill_sender_t *tx)
{
    const rill__chan_t *ch = tx_ch(tx);
    /* relaxed: a snapshot. */
    return !ch || rill__load(&ch->closed, RILL_RELAXED) != 0;
}

bool rill_receiver_is_closed(const rill_receiver_t *rx)
{
    const rill__chan_t *ch = rx_ch(rx);
    return !ch || rill__load(&ch->closed, RILL_RELAXED) != 0 ||
           rill__load(&ch->senders, RILL_RELAXED) == 0;
}

void rill__chan_fill_stats(const rill__chan_t *ch, rill_channel_stats_t *st)
{
    st->name = ch->name;
    st->capacity = ch->cap;
    st->received = recv_count(ch); /* before sent: sent >= received */
    st->sent = sent_count(ch);
    st->len = chan_len(ch);
    st->high_water = rill__load(&ch->hwm, RILL_RELAXED);
    if (ch->kind == RILL__BOUNDED && st->high_water > ch->cap)
        st->high_water = ch->cap;
    st->waits_full = rill__load(&ch->waits_full, RILL_RELAXED);
    st->waits_empty = rill__load(&ch->waits_empty, RILL_RELAXED);
    st->discarded = rill__load(&ch->discarded, RILL_RELAXED);
    st->is_closed = rill__load(&ch->closed, RILL_RELAXED) != 0;
}

int rill_sender_stats(const rill_sender_t *tx, rill_channel_stats_t *out)
{
    const rill__chan_t *ch = tx_ch(tx);
    if (!ch || !out)
        return RILL_MISUSE("rill_sender_stats", "NULL or released argument");
    rill__chan_fill_stats(ch, out);
    return 0;
}

int rill_receiver_stats(const rill_receiver_t *rx, rill_channel_stats_t *out)
{
    const rill__chan_t *ch = rx_ch(rx);
    if (!ch || !out)
        return RILL_MISUSE("rill_receiver_stats", "NULL or released argument");
    rill__chan_fill_stats(ch, out);
    return 0;
}
