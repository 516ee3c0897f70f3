/* SPDX-License-Identifier: MIT */
/*
 * oneshot.c - a channel for one value.
 *
 * One allocation holds the channel, both handles (so a handle never
 * outlives the memory it points into) and the value. The state word only
 * ever gains bits:
 *
 *   VALUE       the sender stored the value (CAS, refused once RX_CLOSED
 *               is set, so "sent" and "closed" are never both a success)
 *   TAKEN       the receiver took the value
 *   TX_GONE     the sender was released
 *   RX_CLOSED   the receiver was closed or released
 *
 * Receivers wait on rx_wait for VALUE or TX_GONE, the sender waits on
 * tx_wait for RX_CLOSED (notify.h: wake-and-retry, Dekker on the waiter
 * count). The channel is freed by the second handle release.
 */
#include "rill/oneshot.h"

#include "chan_util.h"
#include "describe.h"
#include "kind_ops.h"
#include "sync_int.h"
#include "rt/rt.h"

enum {
    OS_VALUE = 1u << 0,
    OS_TAKEN = 1u << 1,
    OS_TX_GONE = 1u << 2,
    OS_RX_CLOSED = 1u << 3,
    OS_SENT = 1u << 4,    /* a send was tried (EALREADY on the next) */
    OS_DROPPED = 1u << 5, /* the receiver was released with the value
                             untaken (given to item_dtor) */
};

/*
 * The handles live inside the channel object. Their state word
 * (OS_TX_LIVE or OS_RX_LIVE, then RILL__HANDLE_DEAD) catches a second release
 * while the channel lives, as the mpsc handles do, without the global handle
 * registry: a oneshot per request is the common pattern, and a registry
 * insert and removal per oneshot cost about a fifth of W8's time. Once
 * both handles are released the object is gone, as after free().
 */
#define OS_TX_LIVE 0x5854534fu /* "OSTX" */
#define OS_RX_LIVE 0x5852534fu /* "OSRX" */

struct rill_oneshot_sender {
    _Atomic uint32_t state; /* OS_TX_LIVE / RILL__HANDLE_DEAD */
};
struct rill_oneshot_receiver {
    _Atomic uint32_t state; /* OS_RX_LIVE / RILL__HANDLE_DEAD */
};

typedef struct oneshot {
    _Atomic uint32_t state; /* OS_* bits, only ever set */
    _Atomic uint32_t refs;  /* handles alive: 2, 1, 0 */
    size_t item_size;       /* immutable */
    /* One party waits on each side (the owner of the handle), so a waker
     * slot each, not a waiter list: W8's 100,000 oneshots cost 136 bytes
     * each instead of 350. */
    rill__wslot_t rx_wait; /* the receiver waiting for VALUE / TX_GONE */
    rill__wslot_t tx_wait; /* the sender waiting for RX_CLOSED */
    _Atomic uint64_t waits_empty, waits_closed; /* counters, relaxed */
    char *name;                  /* NULL: no name (a copy, freed with us) */
    rill_item_dtor_fn item_dtor; /* immutable; NULL: values are dropped */
    void *item_dtor_ud;
    rill_oneshot_sender_t tx;
    rill_oneshot_receiver_t rx;
    /* The value: written by the sender before VALUE is published
     * (release), read by the receiver after it saw VALUE (acquire). */
    _Alignas(max_align_t) unsigned char value[];
} oneshot_t;

#define OS_OF_TX(t) RILL_CONTAINER_OF((t), oneshot_t, tx)
#define OS_OF_RX(r) RILL_CONTAINER_OF((r), oneshot_t, rx)

static void os_unref(oneshot_t *c)
{
    /* acq_rel: the last release sees every access of the other handle
     * (pairs with its release decrement) before freeing. */
    if (rill__fetch_sub(&c->refs, 1, RILL_ACQ_REL) == 1) {
        /* Registrations are withdrawn by their owners before release;
         * whatever is left (none in a correct program) is let go here. */
        rill_waker_release(&c->rx_wait.waker);
        rill_waker_release(&c->tx_wait.waker);
        rill__free(c->name);
        rill__free(c);
    }
}

int rill_oneshot_new(rill_oneshot_sender_t **tx, rill_oneshot_receiver_t **rx,
                     size_t item_size, const rill_channel_config_t *cfg)
{
    if (!tx || !rx)
        return RILL_MISUSE("rill_oneshot_new", "NULL out pointer");
    if (item_size == 0 || item_size > RILL__ITEM_MAX)
        return RILL_MISUSE("rill_oneshot_new", "item size %zu (must be 1..%zu)",
                           item_size, RILL__ITEM_MAX);
    oneshot_t *c = rill__malloc(sizeof *c + item_size);
    if (!c)
        return RILL_ENOMEM;
    rill__store(&c->state, 0, RILL_RELAXED); /* not yet shared */
    rill__store(&c->refs, 2, RILL_RELAXED);
    c->item_size = item_size;
    rill__wslot_init(&c->rx_wait);
    rill__wslot_init(&c->tx_wait);
    rill__store(&c->waits_empty, 0, RILL_RELAXED);
    rill__store(&c->waits_closed, 0, RILL_RELAXED);
    c->name = NULL;
    if (cfg && cfg->name && cfg->name[0]) {
        char name[RILL__NAME_MAX];
        rill__chan_name(name, cfg);
        if (!(c->name = rill__strdup(name))) {
            rill__free(c);
            return RILL_ENOMEM;
        }
    }
    c->item_dtor = cfg ? cfg->item_dtor : NULL;
    c->item_dtor_ud = cfg ? cfg->item_dtor_ud : NULL;
    rill__store(&c->tx.state, OS_TX_LIVE, RILL_RELAXED);
    rill__store(&c->rx.state, OS_RX_LIVE, RILL_RELAXED);
    *tx = &c->tx;
    *rx = &c->rx;
    return 0;
}

/* ---- send ---- */

int rill_oneshot_send_sized(rill_oneshot_sender_t *tx, const void *item,
                            size_t size)
{
    if (!tx || !item)
        return RILL_MISUSE("rill_oneshot_send", "NULL %s", tx ? "item" : "tx");
    oneshot_t *c = OS_OF_TX(tx);
    int r = RILL__CHECK_SIZE("rill_oneshot_send", c->item_size, size);
    if (r)
        return r;
    /* relaxed: OS_SENT is set only by this handle's owner (us). */
    uint32_t s = rill__load(&c->state, RILL_RELAXED);
    if (s & OS_SENT)
        return RILL_MISUSE_AS(RILL_EALREADY, "rill_oneshot_send",
                              "a value was sent before");
    rill__fetch_or(&c->state, OS_SENT, RILL_RELAXED); /* as above */
    if (s & OS_RX_CLOSED)
        return RILL_ECLOSED;
    memcpy(c->value, item, size);
    s |= OS_SENT;
    /* seq_cst: release publishes the value to the receiver's acquire of
     * VALUE, and the store takes part in the Dekker pattern with the
     * receiver's registration (rill__wslot_wake below). On
     * failure, s gets the current state. */
    while (
        !rill__cas(&c->state, &s, s | OS_VALUE, RILL_SEQ_CST, RILL_RELAXED)) {
        if (s & OS_RX_CLOSED)
            return RILL_ECLOSED;
    }
    rill__wslot_wake(&c->rx_wait);
    return 0;
}

/* ---- receive ---- */

/* The non-waiting receive: 0, RILL_EEMPTY or RILL_DONE. */
static int os_take(oneshot_t *c, void *out)
{
    /* seq_cst: acquire pairs with the sender's publishing CAS (the value
     * is visible), seq_cst for the Dekker re-check after registering. */
    uint32_t s = rill__load(&c->state, RILL_SEQ_CST);
    if (s & OS_TAKEN)
        return RILL_DONE;
    if (s & OS_VALUE) {
        memcpy(out, c->value, c->item_size);
        /* relaxed: TAKEN is only read by the receiver itself and by stats. */
        rill__fetch_or(&c->state, OS_TAKEN, RILL_RELAXED);
        return 0;
    }
    return (s & OS_TX_GONE) ? RILL_DONE : RILL_EEMPTY;
}

static int os_check_recv(const char *api, rill_oneshot_receiver_t *rx,
                         const void *out, size_t size)
{
    if (!rx || !out)
        return RILL_MISUSE(api, "NULL %s", rx ? "out" : "rx");
    return RILL__CHECK_SIZE(api, OS_OF_RX(rx)->item_size, size);
}

int rill_oneshot_try_recv_sized(rill_oneshot_receiver_t *rx, void *out,
                                size_t size)
{
    int r = os_check_recv("rill_oneshot_try_recv", rx, out, size);
    return r ? r : os_take(OS_OF_RX(rx), out);
}

/* The receive poll, with the waiter node of the caller (an op or rx). */
static int os_poll_recv(oneshot_t *c, rill_cx_t *cx, const void *who, void *out)
{
    if (rill__coop_exhausted(cx))
        return RILL_PENDING;
    int r = os_take(c, out);
    if (r == RILL_EEMPTY) {
        if (rill__wslot_register(&c->rx_wait, who, cx))
            rill__count(&c->waits_empty, 1);
        r = os_take(c, out); /* the seq_cst re-check */
        if (r == RILL_EEMPTY)
            return RILL_PENDING;
    }
    rill__wslot_withdraw(&c->rx_wait, who);
    return r;
}

int rill_oneshot_poll_recv(rill_oneshot_receiver_t *rx, rill_cx_t *cx,
                           void *out, size_t size)
{
    int r = os_check_recv("rill_oneshot_poll_recv", rx, out, size);
    if (r)
        return r;
    if (!cx)
        return RILL_MISUSE("rill_oneshot_poll_recv", "NULL cx");
    return rill__coop_done(cx, os_poll_recv(OS_OF_RX(rx), cx, rx, out));
}

static int recv_op_poll(rill_future_t *f, rill_cx_t *cx)
{
    rill__oneshot_recv_op_t *op = (rill__oneshot_recv_op_t *)f;
    if (op->err)
        return op->err;
    return os_poll_recv(OS_OF_RX(op->rx), cx, op, op->out);
}

static int recv_op_cancel(rill_future_t *f)
{
    rill__oneshot_recv_op_t *op = (rill__oneshot_recv_op_t *)f;
    if (!op->err)
        rill__wslot_withdraw(&OS_OF_RX(op->rx)->rx_wait, op);
    return RILL_PENDING;
}

static const rill_future_vtable_t recv_op_vtable = {
    recv_op_poll, recv_op_cancel, NULL, rill__oneshot_recv_describe};

void rill_oneshot_recv_op(rill_oneshot_recv_op_t *pub,
                          rill_oneshot_receiver_t *rx, void *out, size_t size)
{
    rill__oneshot_recv_op_t *op = (rill__oneshot_recv_op_t *)(void *)pub;
    if (!op) {
        (void)RILL_MISUSE("rill_oneshot_recv_op", "NULL op");
        return;
    }
    op->base.vtable = &recv_op_vtable;
    op->rx = rx;
    op->out = out;
    op->size = size;
    op->err = os_check_recv("rill_oneshot_recv_op", rx, out, size);
}

int rill_oneshot_recv_sized(rill_oneshot_receiver_t *rx, void *out, size_t size)
{
    /* Try first (as rill_broadcast_send_sized). */
    if (rill__coop_spend()) {
        int r = rill_oneshot_try_recv_sized(rx, out, size);
        if (r != RILL_EEMPTY)
            return r;
    }
    rill_oneshot_recv_op_t op;
    rill_oneshot_recv_op(&op, rx, out, size);
    return rill_await(&op.base);
}

int rill_oneshot_recv_timeout_sized(rill_oneshot_receiver_t *rx, void *out,
                                    size_t size, rill_duration_t timeout)
{
    rill_oneshot_recv_op_t op;
    rill_oneshot_recv_op(&op, rx, out, size);
    return rill_await_timeout(&op.base, timeout);
}

/* ---- closing ---- */

/* Set RX_CLOSED and wake a closed-wait; returns the state before. */
static uint32_t os_close(oneshot_t *c)
{
    /* seq_cst: the Dekker store against the sender's closed-wait
     * registration; acquire for rx_release (the value's bytes). */
    uint32_t s = rill__fetch_or(&c->state, OS_RX_CLOSED, RILL_SEQ_CST);
    if (!(s & OS_RX_CLOSED))
        rill__wslot_wake(&c->tx_wait);
    return s;
}

int rill_oneshot_close(rill_oneshot_receiver_t *rx)
{
    if (!rx)
        return RILL_MISUSE("rill_oneshot_close", "NULL rx");
    (void)os_close(OS_OF_RX(rx));
    return 0;
}

int rill_oneshot_receiver_release(rill_oneshot_receiver_t *rx)
{
    if (!rx)
        return 0;
    int r = rill__handle_kill_as(&rx->state, OS_RX_LIVE,
                                 "rill_oneshot_receiver_release");
    if (r)
        return r;
    oneshot_t *c = OS_OF_RX(rx);
    rill__wslot_withdraw(&c->rx_wait, rx);
    /* After RX_CLOSED no value can arrive (the sender's CAS refuses), so
     * the old state is final: a value stored and not taken is ours to
     * discard. */
    uint32_t s = os_close(c);
    if ((s & (OS_VALUE | OS_TAKEN)) == OS_VALUE) {
        /* relaxed: a stats bit; only this (last) receiver action sets it. */
        rill__fetch_or(&c->state, OS_DROPPED, RILL_RELAXED);
        if (c->item_dtor)
            c->item_dtor(c->value, c->item_dtor_ud);
    }
    os_unref(c);
    return 0;
}

/* 0 when the receiver is gone, else RILL_EEMPTY. */
static int os_rx_gone(oneshot_t *c)
{
    /* seq_cst: the Dekker re-check against rill_oneshot_close. */
    return (rill__load(&c->state, RILL_SEQ_CST) & OS_RX_CLOSED) ? 0
                                                                : RILL_EEMPTY;
}

bool rill_oneshot_is_closed(const rill_oneshot_sender_t *tx)
{
    return tx && os_rx_gone(OS_OF_TX((rill_oneshot_sender_t *)tx)) == 0;
}

static int os_poll_closed(oneshot_t *c, rill_cx_t *cx, const void *who)
{
    if (rill__coop_exhausted(cx))
        return RILL_PENDING;
    if (os_rx_gone(c) != 0) {
        if (rill__wslot_register(&c->tx_wait, who, cx))
            rill__count(&c->waits_closed, 1);
        if (os_rx_gone(c) != 0) /* the seq_cst re-check */
            return RILL_PENDING;
    }
    rill__wslot_withdraw(&c->tx_wait, who);
    return 0;
}

int rill_oneshot_poll_closed(rill_oneshot_sender_t *tx, rill_cx_t *cx)
{
    if (!tx || !cx)
        return RILL_MISUSE("rill_oneshot_poll_closed", "NULL %s",
                           tx ? "cx" : "tx");
    return rill__coop_done(cx, os_poll_closed(OS_OF_TX(tx), cx, tx));
}

static int closed_op_poll(rill_future_t *f, rill_cx_t *cx)
{
    rill__oneshot_closed_op_t *op = (rill__oneshot_closed_op_t *)f;
    if (op->err)
        return op->err;
    return os_poll_closed(OS_OF_TX(op->tx), cx, op);
}

static int closed_op_cancel(rill_future_t *f)
{
    rill__oneshot_closed_op_t *op = (rill__oneshot_closed_op_t *)f;
    if (!op->err)
        rill__wslot_withdraw(&OS_OF_TX(op->tx)->tx_wait, op);
    return RILL_PENDING;
}

static const rill_future_vtable_t closed_op_vtable = {
    closed_op_poll, closed_op_cancel, NULL, rill__oneshot_closed_describe};

void rill_oneshot_closed_op(rill_oneshot_closed_op_t *pub,
                            rill_oneshot_sender_t *tx)
{
    rill__oneshot_closed_op_t *op = (rill__oneshot_closed_op_t *)(void *)pub;
    if (!op) {
        (void)RILL_MISUSE("rill_oneshot_closed_op", "NULL op");
        return;
    }
    op->base.vtable = &closed_op_vtable;
    op->tx = tx;
    op->err = tx ? 0 : RILL_MISUSE("rill_oneshot_closed_op", "NULL tx");
}

int rill_oneshot_closed(rill_oneshot_sender_t *tx)
{
    rill_oneshot_closed_op_t op;
    rill_oneshot_closed_op(&op, tx);
    return rill_await(&op.base);
}

int rill_oneshot_closed_timeout(rill_oneshot_sender_t *tx,
                                rill_duration_t timeout)
{
    rill_oneshot_closed_op_t op;
    rill_oneshot_closed_op(&op, tx);
    return rill_await_timeout(&op.base, timeout);
}

int rill_oneshot_sender_release(rill_oneshot_sender_t *tx)
{
    if (!tx)
        return 0;
    int r = rill__handle_kill_as(&tx->state, OS_TX_LIVE,
                                 "rill_oneshot_sender_release");
    if (r)
        return r;
    oneshot_t *c = OS_OF_TX(tx);
    rill__wslot_withdraw(&c->tx_wait, tx);
    /* seq_cst: the Dekker store against a receiver's registration. */
    rill__fetch_or(&c->state, OS_TX_GONE, RILL_SEQ_CST);
    rill__wslot_wake(&c->rx_wait);
    os_unref(c);
    return 0;
}

/* ---- diagnostics ---- */

int rill_oneshot_stats(const rill_oneshot_sender_t *tx,
                       const rill_oneshot_receiver_t *rx,
                       rill_channel_stats_t *out)
{
    if ((!tx && !rx) || !out)
        return RILL_MISUSE("rill_oneshot_stats", "NULL %s",
                           out ? "handles" : "out");
    oneshot_t *c = tx ? OS_OF_TX(tx) : OS_OF_RX(rx);
    /* relaxed: counters, each read on its own. */
    uint32_t s = rill__load(&c->state, RILL_RELAXED);
    memset(out, 0, sizeof *out);
    out->name = c->name ? c->name : "";
    out->capacity = 1;
    out->len = (s & (OS_VALUE | OS_TAKEN | OS_DROPPED)) == OS_VALUE;
    out->sent = out->high_water = (s & OS_VALUE) != 0;
    out->received = (s & OS_TAKEN) != 0;
    out->waits_empty = rill__load(&c->waits_empty, RILL_RELAXED);
    out->waits_full = rill__load(&c->waits_closed, RILL_RELAXED);
    out->discarded = (s & OS_DROPPED) != 0;
    out->is_closed = (s & OS_RX_CLOSED) != 0;
    return 0;
}
