/* SPDX-License-Identifier: MIT */
/*
 * watch.c - the latest value with a version.
 *
 * One word holds the state: seq = version << 2 | CLOSED | WRITING. The
 * single sender (the owner of tx) is the only writer of the value and of
 * seq, so it needs no lock; the value is a sequence lock over relaxed
 * atomic words (chan_util.h): the sender sets WRITING, copies the words in
 * and stores the next version with WRITING clear; a reader copies between
 * two loads of seq and retries if they differ or WRITING was set.
 *
 * Each receiver keeps the version it has seen (owner-only). "Changed" is
 * version != seen; a receiver waits on one waiter list (notify.h), and the
 * sender's seq_cst store of the new version is the Dekker partner of the
 * waiter registration. tx lives in the channel allocation; receivers are
 * allocated one by one. The channel is freed with its last handle.
 */
#include "rill/watch.h"

#include "chan_util.h"
#include "describe.h"
#include "kind_ops.h"
#include "rt/rt.h"

#include <sched.h>

#define W_WRITING ((uint64_t)1)
#define W_CLOSED ((uint64_t)2)
#define W_VERSION(s) ((s) >> 2)

struct rill_watch_sender {
    char unused_; /* tx is the channel; this only gives it an address */
};

typedef struct watch {
    _Atomic uint64_t seq;      /* version << 2 | flags; written by the
                                  sender only */
    _Atomic uint32_t refs;     /* handles alive (tx + receivers) */
    _Atomic uint32_t rx_count; /* receivers alive */
    size_t item_size;          /* immutable */
    rill__notify_t wait;       /* receivers waiting in changed */
    _Atomic uint64_t received, waits_empty; /* counters, relaxed */
    char name[RILL__NAME_MAX];
    _Alignas(8) rill_watch_sender_t tx;
    rill__word_t value[]; /* under the sequence lock */
} watch_t;

struct rill_watch_receiver {
    watch_t *ch;
    uint64_t seen; /* owner only: the version this receiver has seen */
    rill__notify_waiter_t poll_waiter; /* rill_watch_poll_changed's */
};

#define W_OF_TX(t) RILL_CONTAINER_OF((t), watch_t, tx)

static void w_unref(watch_t *c)
{
    /* acq_rel: the last release sees all other holders' accesses. */
    if (rill__fetch_sub(&c->refs, 1, RILL_ACQ_REL) == 1) {
        rill__free(c);
    }
}

/* A new receiver that has seen `seen`; takes a channel reference. */
static int w_rx_new(watch_t *c, uint64_t seen, rill_watch_receiver_t **out)
{
    rill_watch_receiver_t *rx = rill__malloc(sizeof *rx);
    if (!rx)
        return RILL_ENOMEM;
    if (rill__handle_add(rx, RILL__H_WATCH_RX)) {
        rill__free(rx);
        return RILL_ENOMEM;
    }
    rx->ch = c;
    rx->seen = seen;
    rill__notify_waiter_init(&rx->poll_waiter);
    /* relaxed: a reference made from one the caller holds (tx or rx). */
    rill__fetch_add(&c->refs, 1, RILL_RELAXED);
    rill__fetch_add(&c->rx_count, 1, RILL_RELAXED); /* a count, see send */
    *out = rx;
    return 0;
}

int rill_watch_new(rill_watch_sender_t **tx, rill_watch_receiver_t **rx,
                   size_t item_size, const void *initial,
                   const rill_channel_config_t *cfg)
{
    size_t bytes;
    if (!tx || !rx || !initial)
        return RILL_MISUSE("rill_watch_new", "NULL %s",
                           initial ? "out pointer" : "initial value");
    if (cfg && cfg->item_dtor)
        return RILL_MISUSE("rill_watch_new",
                           "item_dtor: a watch value is copied to every "
                           "receiver, it has no single owner to destroy it");
    if (item_size == 0 || item_size > RILL__ITEM_MAX ||
        !rill__chan_bytes(sizeof(watch_t), 1, item_size, &bytes))
        return RILL_MISUSE("rill_watch_new", "item size %zu (must be 1..%zu)",
                           item_size, RILL__ITEM_MAX);
    watch_t *c = rill__malloc(bytes);
    if (!c)
        return RILL_ENOMEM;
    /* relaxed: not yet shared. */
    rill__store(&c->seq, 0, RILL_RELAXED);
    rill__store(&c->refs, 1, RILL_RELAXED);
    rill__store(&c->rx_count, 0, RILL_RELAXED);
    rill__store(&c->received, 0, RILL_RELAXED);
    rill__store(&c->waits_empty, 0, RILL_RELAXED);
    c->item_size = item_size;
    rill__notify_init(&c->wait);
    rill__chan_name(c->name, cfg);
    rill__words_put(c->value, initial, item_size);
    if (rill__handle_add(&c->tx, RILL__H_WATCH_TX))
        goto free_chan;
    if (w_rx_new(c, 0, rx))
        goto drop_tx;
    *tx = &c->tx;
    return 0;
drop_tx:
    rill__handle_take(&c->tx, RILL__H_WATCH_TX);
free_chan:
    rill__free(c);
    return RILL_ENOMEM;
}

/* ---- sender ---- */

int rill_watch_send_sized(rill_watch_sender_t *tx, const void *item,
                          size_t size)
{
    if (!tx || !item)
        return RILL_MISUSE("rill_watch_send", "NULL %s", tx ? "item" : "tx");
    watch_t *c = W_OF_TX(tx);
    int r = RILL__CHECK_SIZE("rill_watch_send", c->item_size, size);
    if (r)
        return r;
    /* relaxed: a snapshot; a receiver that subscribes meanwhile (only the
     * sender can subscribe, clones come from live receivers) changes
     * nothing that matters. */
    if (rill__load(&c->rx_count, RILL_RELAXED) == 0)
        return RILL_ECLOSED;
    /* relaxed: only this thread writes seq. */
    uint64_t s = rill__load(&c->seq, RILL_RELAXED);
    rill__store(&c->seq, s | W_WRITING, RILL_RELAXED);
    /* release fence: the WRITING store is ordered before the value words
     * (a reader that sees a new word and then fences acquire sees
     * WRITING or the newer version; pairs with the fence in w_read). */
    rill__fence(RILL_RELEASE);
    rill__words_put(c->value, item, size);
    /* seq_cst: release for the value words (pairs with the acquire load
     * of seq in w_read), and the Dekker store against a waiter's
     * registration (pairs with rill__notify_register). */
    rill__store(&c->seq, s + 4, RILL_SEQ_CST);
    rill__notify_wake_if_waiting(&c->wait);
    return 0;
}

int rill_watch_subscribe(rill_watch_sender_t *tx, rill_watch_receiver_t **rx)
{
    if (!tx || !rx)
        return RILL_MISUSE("rill_watch_subscribe", "NULL %s", tx ? "rx" : "tx");
    watch_t *c = W_OF_TX(tx);
    /* relaxed: the sender's own writes. */
    return w_rx_new(c, W_VERSION(rill__load(&c->seq, RILL_RELAXED)), rx);
}

size_t rill_watch_receiver_count(const rill_watch_sender_t *tx)
{
    if (!tx)
        return 0;
    /* relaxed: a snapshot for the caller. */
    return rill__load(&W_OF_TX(tx)->rx_count, RILL_RELAXED);
}

int rill_watch_sender_release(rill_watch_sender_t *tx)
{
    if (!tx)
        return 0;
    int r =
        rill__handle_release(tx, RILL__H_WATCH_TX, "rill_watch_sender_release");
    if (r)
        return r;
    watch_t *c = W_OF_TX(tx);
    /* seq_cst: the Dekker store against a waiter's registration. */
    rill__fetch_or(&c->seq, W_CLOSED, RILL_SEQ_CST);
    rill__notify_wake_if_waiting(&c->wait);
    w_unref(c);
    return 0;
}

/* ---- receivers ---- */

/* Copy the latest value; returns its version. */
static uint64_t w_read(watch_t *c, void *out)
{
    for (unsigned spins = 0;; spins++) {
        /* acquire: pairs with the sender's seq_cst (release) store of the
         * version, so the words of that version are visible. */
        uint64_t s1 = rill__load(&c->seq, RILL_ACQUIRE);
        if (!(s1 & W_WRITING)) {
            rill__words_get(out, c->value, c->item_size);
            /* acquire fence: the word loads above come before the
             * re-load of seq (pairs with the sender's release fence). */
            rill__fence(RILL_ACQUIRE);
            /* relaxed: ordered by the fence. */
            if (rill__load(&c->seq, RILL_RELAXED) == s1)
                return W_VERSION(s1);
        }
        if (spins < 64)
            rill__cpu_relax();
        else
            sched_yield(); /* the sender was preempted mid-copy */
    }
}

static int w_check_rx(const char *api, const rill_watch_receiver_t *rx)
{
    return rx ? 0 : RILL_MISUSE(api, "NULL rx");
}

static void w_count_received(watch_t *c)
{
    rill__count(&c->received, 1);
}

/* The non-waiting changed: 0 (marked), RILL_EEMPTY or RILL_DONE. */
static int w_changed(rill_watch_receiver_t *rx)
{
    /* seq_cst: the Dekker re-check after registering (an acquire is not
     * needed: no data is read on the strength of it). */
    uint64_t s = rill__load(&rx->ch->seq, RILL_SEQ_CST);
    if (W_VERSION(s) != rx->seen) {
        rx->seen = W_VERSION(s);
        w_count_received(rx->ch);
        return 0;
    }
    return (s & W_CLOSED) ? RILL_DONE : RILL_EEMPTY;
}

int rill_watch_try_changed(rill_watch_receiver_t *rx)
{
    int r = w_check_rx("rill_watch_try_changed", rx);
    return r ? r : w_changed(rx);
}

static int w_poll_changed(rill_watch_receiver_t *rx, rill_cx_t *cx,
                          rill__notify_waiter_t *w)
{
    watch_t *c = rx->ch;
    if (rill__coop_exhausted(cx))
        return RILL_PENDING;
    int r = w_changed(rx);
    if (r == RILL_EEMPTY) {
        if (rill__notify_park(&c->wait, w, cx))
            rill__count(&c->waits_empty, 1);
        r = w_changed(rx);
        if (r == RILL_EEMPTY)
            return RILL_PENDING;
    }
    rill__notify_remove(&c->wait, w);
    return r;
}

int rill_watch_poll_changed(rill_watch_receiver_t *rx, rill_cx_t *cx)
{
    if (!rx || !cx)
        return RILL_MISUSE("rill_watch_poll_changed", "NULL %s",
                           rx ? "cx" : "rx");
    return rill__coop_done(cx, w_poll_changed(rx, cx, &rx->poll_waiter));
}

static int changed_op_poll(rill_future_t *f, rill_cx_t *cx)
{
    rill__watch_changed_op_t *op = (rill__watch_changed_op_t *)f;
    if (op->err)
        return op->err;
    return w_poll_changed(op->rx, cx, &op->waiter);
}

static int changed_op_cancel(rill_future_t *f)
{
    rill__watch_changed_op_t *op = (rill__watch_changed_op_t *)f;
    if (!op->err)
        rill__notify_remove(&op->rx->ch->wait, &op->waiter);
    return RILL_PENDING;
}

static const rill_future_vtable_t changed_op_vtable = {
    changed_op_poll, changed_op_cancel, NULL, rill__watch_changed_describe};

void rill_watch_changed_op(rill_watch_changed_op_t *pub,
                           rill_watch_receiver_t *rx)
{
    rill__watch_changed_op_t *op = (rill__watch_changed_op_t *)(void *)pub;
    if (!op) {
        (void)RILL_MISUSE("rill_watch_changed_op", "NULL op");
        return;
    }
    op->base.vtable = &changed_op_vtable;
    op->rx = rx;
    op->err = w_check_rx("rill_watch_changed_op", rx);
    rill__notify_waiter_init(&op->waiter);
}

int rill_watch_changed(rill_watch_receiver_t *rx)
{
    /* Try first (as rill_broadcast_send_sized). */
    if (rill__coop_spend()) {
        int r = rill_watch_try_changed(rx);
        if (r != RILL_EEMPTY)
            return r;
    }
    rill_watch_changed_op_t op;
    rill_watch_changed_op(&op, rx);
    return rill_await(&op.base);
}

int rill_watch_changed_timeout(rill_watch_receiver_t *rx,
                               rill_duration_t timeout)
{
    rill_watch_changed_op_t op;
    rill_watch_changed_op(&op, rx);
    return rill_await_timeout(&op.base, timeout);
}

static int w_check_get(const char *api, rill_watch_receiver_t *rx,
                       const void *out, size_t size)
{
    if (!rx || !out)
        return RILL_MISUSE(api, "NULL %s", rx ? "out" : "rx");
    return RILL__CHECK_SIZE(api, rx->ch->item_size, size);
}

int rill_watch_get_sized(rill_watch_receiver_t *rx, void *out, size_t size)
{
    int r = w_check_get("rill_watch_get", rx, out, size);
    if (!r)
        (void)w_read(rx->ch, out);
    return r;
}

int rill_watch_get_and_update_sized(rill_watch_receiver_t *rx, void *out,
                                    size_t size)
{
    int r = w_check_get("rill_watch_get_and_update", rx, out, size);
    if (r)
        return r;
    uint64_t v = w_read(rx->ch, out);
    if (v == rx->seen)
        return RILL_EEMPTY;
    rx->seen = v;
    w_count_received(rx->ch);
    return 0;
}

int rill_watch_mark_seen(rill_watch_receiver_t *rx)
{
    int r = w_check_rx("rill_watch_mark_seen", rx);
    if (!r) /* relaxed: no data is read on the strength of it. */
        rx->seen = W_VERSION(rill__load(&rx->ch->seq, RILL_RELAXED));
    return r;
}

uint64_t rill_watch_version(const rill_watch_receiver_t *rx)
{
    return rx ? rx->seen : 0;
}

int rill_watch_receiver_clone(rill_watch_receiver_t *rx,
                              rill_watch_receiver_t **out)
{
    if (!rx || !out)
        return RILL_MISUSE("rill_watch_receiver_clone", "NULL %s",
                           rx ? "out" : "rx");
    return w_rx_new(rx->ch, rx->seen, out);
}

int rill_watch_receiver_release(rill_watch_receiver_t *rx)
{
    if (!rx)
        return 0;
    int r = rill__handle_release(rx, RILL__H_WATCH_RX,
                                 "rill_watch_receiver_release");
    if (r)
        return r;
    watch_t *c = rx->ch;
    rill__notify_remove(&c->wait, &rx->poll_waiter);
    rill__fetch_sub(&c->rx_count, 1, RILL_RELAXED); /* a count, see send */
    rill__free(rx);
    w_unref(c);
    return 0;
}

int rill_watch_stats(const rill_watch_sender_t *tx,
                     const rill_watch_receiver_t *rx, rill_channel_stats_t *out)
{
    if ((!tx && !rx) || !out)
        return RILL_MISUSE("rill_watch_stats", "NULL %s",
                           out ? "handles" : "out");
    watch_t *c = tx ? W_OF_TX(tx) : rx->ch;
    memset(out, 0, sizeof *out);
    out->name = c->name;
    out->capacity = out->len = out->high_water = 1;
    /* relaxed: counters, each read on its own. */
    out->sent = W_VERSION(rill__load(&c->seq, RILL_RELAXED));
    out->received = rill__load(&c->received, RILL_RELAXED);
    out->waits_empty = rill__load(&c->waits_empty, RILL_RELAXED);
    out->is_closed = rill__load(&c->rx_count, RILL_RELAXED) == 0;
    return 0;
}
