/* SPDX-License-Identifier: MIT */
/*
 * broadcast.c - every receiver sees every item (lag or backpressure).
 *
 * A ring of `cap` slots; item number n (counted from 0 over the channel's
 * life) lives in slot n % cap. Each slot has a sequence word: 0 = never
 * written, PUB(n) = item n is in it, BUSY(n) = item n is being written
 * (lag mode only). A receiver keeps its own next item number and reads the
 * slot when its sequence word says PUB(next): no lock, no shared write.
 *
 * tail = (items claimed) << 1 | CLOSED. Claimed items are published
 * slot by slot, possibly out of order when several senders race; a
 * receiver only ever waits for its own next slot.
 *
 * Backpressure mode. Each receiver publishes its position (pos = its next
 * item). A sender may claim item n only if every receiver has pos > n -
 * cap, so the slot's previous item has been read by all. Each sender
 * handle caches a lower bound of the slowest position (cached_min) and
 * looks at the receivers (under subs_lock) only when the bound says full.
 * Claiming is a CAS on tail when there are several sender handles (it
 * fails once CLOSED is set, so nothing is claimed after close) and a plain
 * store for a lone one. Items need no seqlock: a slot is never written
 * while a receiver may read it.
 *
 * Lag mode. Senders serialise on send_lock (as tokio's tail lock) and
 * never wait: to write item n a sender first raises tail to n + 1, then
 * marks the slot BUSY(n), writes the words and publishes PUB(n). A
 * receiver copies the words between two loads of the sequence word
 * (a seqlock over relaxed atomic words); on a mismatch it looks at tail:
 * when tail > next + cap it lagged, missed = tail - cap - next, and it
 * continues at tail - cap, the oldest item kept.
 *
 * Waking (notify.h, wake-and-retry). Receivers with nothing to read wait
 * on rx_wait; a sender publishes with a seq_cst store and then wakes
 * rx_wait only if its count is non-zero. A sender that finds no room
 * registers on tx_wait, raises `gate` to the position it needs the
 * slowest receiver to reach (n + 1 - cap) and looks again; a receiver
 * stores its new position (seq_cst) and wakes tx_wait only when that
 * store crosses gate (old < gate <= new) and someone waits: at most one
 * wake per receiver per gate, none while nobody waits. Where Linux offers
 * membarrier, the receivers' half of that handshake is a plain release
 * store and the sender, about to wait, pays for both with one membarrier
 * call (membarrier.c): the receivers run per item, the sender waits rarely.
 * A receiver that catches up yields once before it parks (b_poll_recv).
 */
#include "rill/broadcast.h"

#include "chan_util.h"
#include "describe.h"
#include "kind_ops.h"
#include "rt/rt.h"

#define B_CLOSED ((uint64_t)1)
#define B_COUNT(t) ((t) >> 1)
#define PUB(n) (((uint64_t)(n) + 1) << 1)
#define BUSY(n) (PUB(n) | 1)
/* Empty (full) polls a receiver (sender) answers by yielding before it
 * parks: b_poll_recv, b_poll_send. */
enum { RX_YIELDS = 1, TX_YIELDS = 1 };

typedef struct bslot {
    _Atomic uint64_t seq; /* 0, PUB(n) or BUSY(n) */
    rill__word_t data[];  /* rill__words(item_size) words */
} bslot_t;

typedef struct bcast {
    /* Immutable after creation. */
    size_t item_size, stride;
    uint64_t cap, mask; /* mask = cap - 1 if cap is a power of two, else 0 */
    int mode;
    bool asym; /* backpressure: the receivers' side of the gate handshake
                  uses the asymmetric barrier (membarrier.c) */
    unsigned char *slots; /* cap * stride bytes */
    char name[RILL__NAME_MAX];

    /* Written per send. */
    RILL_ALIGN_CL _Atomic uint64_t tail; /* count << 1 | B_CLOSED */
    rill__lock_t send_lock;              /* lag mode: serialises senders */

    /* Read per receive, written when a sender waits. */
    RILL_ALIGN_CL _Atomic uint64_t gate; /* backpressure: the position the
                                            waiting senders need; only grows */
    _Atomic uint32_t rx_count;           /* receivers alive */
    _Atomic uint32_t tx_count;           /* senders alive */
    _Atomic uint32_t refs;               /* handles alive */

    RILL_ALIGN_CL rill__notify_t rx_wait; /* receivers waiting for items */
    rill__notify_t tx_wait;               /* senders waiting for room */

    rill__lock_t subs_lock;
    rill__list_t subs;                   /* receivers; under subs_lock */
    uint64_t gone_received, gone_lagged; /* released receivers' counts;
                                            under subs_lock */
    /* Counters, relaxed (diagnostics only). */
    _Atomic uint64_t high_water, waits_full, waits_empty;
} bcast_t;

struct rill_broadcast_receiver {
    /* The next item this receiver reads, published for the senders
     * (backpressure: see bp_advance) and for stats (lag mode, relaxed). */
    RILL_ALIGN_CL _Atomic uint64_t pos;
    uint64_t next;    /* owner: the next item to read */
    unsigned yielded; /* owner: empty polls answered by yielding */
    bcast_t *ch;
    rill__list_t link; /* on ch->subs; under subs_lock */
    /* Owner-written counters (relaxed: read only by stats). */
    _Atomic uint64_t received, lagged;
    rill__notify_waiter_t poll_waiter; /* rill_broadcast_poll_recv's */
};

struct rill_broadcast_sender {
    bcast_t *ch;
    uint64_t cached_min; /* owner: <= every receiver's pos (backpressure) */
    unsigned yielded;    /* owner: full polls answered by yielding */
    rill__notify_waiter_t poll_waiter; /* rill_broadcast_poll_send's */
};

static inline bslot_t *slot_of(bcast_t *c, uint64_t n)
{
    uint64_t i = c->mask ? (n & c->mask) : (n % c->cap);
    return (bslot_t *)(void *)(c->slots + i * c->stride);
}

static void b_unref(bcast_t *c)
{
    /* acq_rel: the last release sees all other holders' accesses. */
    if (rill__fetch_sub(&c->refs, 1, RILL_ACQ_REL) != 1)
        return;
    RILL_ASSERT(rill__list_empty(&c->subs));
    rill__free(c->slots);
    rill__free_cl(c);
}

/* ---- handles ---- */

static int b_tx_new(bcast_t *c, rill_broadcast_sender_t **out)
{
    rill_broadcast_sender_t *tx = rill__malloc(sizeof *tx);
    if (!tx)
        return RILL_ENOMEM;
    if (rill__handle_add(tx, RILL__H_BCAST_TX)) {
        rill__free(tx);
        return RILL_ENOMEM;
    }
    tx->ch = c;
    tx->cached_min = 0;
    tx->yielded = 0;
    rill__notify_waiter_init(&tx->poll_waiter);
    /* relaxed: counts made from a reference the caller holds. */
    rill__fetch_add(&c->refs, 1, RILL_RELAXED);
    rill__fetch_add(&c->tx_count, 1, RILL_RELAXED);
    *out = tx;
    return 0;
}

static int b_rx_new(bcast_t *c, rill_broadcast_receiver_t **out)
{
    rill_broadcast_receiver_t *rx = rill__malloc_cl(sizeof *rx);
    if (!rx)
        return RILL_ENOMEM;
    if (rill__handle_add(rx, RILL__H_BCAST_RX)) {
        rill__free_cl(rx);
        return RILL_ENOMEM;
    }
    rx->ch = c;
    rx->yielded = 0;
    rill__store(&rx->received, 0, RILL_RELAXED); /* not yet shared */
    rill__store(&rx->lagged, 0, RILL_RELAXED);
    rill__notify_waiter_init(&rx->poll_waiter);
    rill__fetch_add(&c->refs, 1, RILL_RELAXED); /* as in b_tx_new */
    rill__lock(&c->subs_lock);
    /* The new position must not be below any sender's cached_min, or a
     * sender could reuse a slot this receiver has yet to read. A sender
     * computes cached_min under subs_lock from a tail it read before; our
     * load comes after that lock (happens-before), so it reads a tail at
     * least as new (and a later bp_room sees this receiver). seq_cst for
     * good measure: subscribing is rare. */
    rx->next = B_COUNT(rill__load(&c->tail, RILL_SEQ_CST));
    rill__store(&rx->pos, rx->next, RILL_SEQ_CST); /* read under the lock */
    rill__list_push_back(&c->subs, &rx->link);
    rill__fetch_add(&c->rx_count, 1, RILL_RELAXED); /* a count for send */
    rill__unlock(&c->subs_lock);
    *out = rx;
    return 0;
}

int rill_broadcast_new(rill_broadcast_sender_t **tx,
                       rill_broadcast_receiver_t **rx, size_t item_size,
                       size_t capacity, int mode,
                       const rill_channel_config_t *opts)
{
    static const char api[] = "rill_broadcast_new";
    size_t stride, bytes;
    if (!tx)
        return RILL_MISUSE(api, "NULL tx");
    if (item_size == 0 || item_size > RILL__ITEM_MAX)
        return RILL_MISUSE(api, "item size %zu (must be 1..%zu)", item_size,
                           RILL__ITEM_MAX);
    if (capacity == 0 || capacity > RILL_BROADCAST_CAPACITY_MAX ||
        !rill__chan_bytes(sizeof(bslot_t), 1, item_size, &stride) ||
        !rill__chan_bytes(0, capacity, stride, &bytes))
        return RILL_MISUSE(api, "capacity %zu of %zu-byte items", capacity,
                           item_size);
    if (opts && opts->item_dtor)
        return RILL_MISUSE(api, "item_dtor: a broadcast item is copied to "
                                "every receiver, it has no single owner to "
                                "destroy it");
    if (mode != RILL_BROADCAST_LAG && mode != RILL_BROADCAST_BACKPRESSURE)
        return RILL_MISUSE(api,
                           "mode %d (RILL_BROADCAST_LAG or "
                           "RILL_BROADCAST_BACKPRESSURE)",
                           mode);
    bcast_t *c = rill__malloc_cl(sizeof *c);
    if (!c)
        return RILL_ENOMEM;
    c->slots = rill__calloc(capacity, stride); /* every seq = 0 */
    if (!c->slots)
        goto free_chan;
    c->item_size = item_size;
    c->stride = stride;
    c->cap = capacity;
    /* capacity 1 gets mask 0 too, and n % 1 is right for it. */
    c->mask = (capacity & (capacity - 1)) == 0 ? capacity - 1 : 0;
    c->mode = mode;
    c->asym = mode == RILL_BROADCAST_BACKPRESSURE && rill__asym_available();
    rill__chan_name(c->name, opts);
    /* relaxed: not yet shared. */
    rill__store(&c->tail, 0, RILL_RELAXED);
    rill__store(&c->gate, 0, RILL_RELAXED);
    rill__store(&c->rx_count, 0, RILL_RELAXED);
    rill__store(&c->tx_count, 0, RILL_RELAXED);
    rill__store(&c->refs, 1, RILL_RELAXED); /* ours until the end */
    rill__store(&c->high_water, 0, RILL_RELAXED);
    rill__store(&c->waits_full, 0, RILL_RELAXED);
    rill__store(&c->waits_empty, 0, RILL_RELAXED);
    rill__store(&c->send_lock.word, 0, RILL_RELAXED);
    rill__store(&c->subs_lock.word, 0, RILL_RELAXED);
    rill__notify_init(&c->rx_wait);
    rill__notify_init(&c->tx_wait);
    rill__list_init(&c->subs);
    c->gone_received = c->gone_lagged = 0;
    rill_broadcast_sender_t *t;
    if (b_tx_new(c, &t))
        goto drop_chan;
    if (rx && b_rx_new(c, rx)) {
        rill_broadcast_sender_release(t);
        goto drop_chan;
    }
    b_unref(c); /* the handles hold it now */
    *tx = t;
    return 0;
free_chan:
    rill__free_cl(c);
    return RILL_ENOMEM;
drop_chan:
    b_unref(c);
    return RILL_ENOMEM;
}

int rill_broadcast_subscribe(rill_broadcast_sender_t *tx,
                             rill_broadcast_receiver_t **rx)
{
    if (!tx || !rx)
        return RILL_MISUSE("rill_broadcast_subscribe", "NULL %s",
                           tx ? "rx" : "tx");
    return b_rx_new(tx->ch, rx);
}

int rill_broadcast_sender_clone(rill_broadcast_sender_t *tx,
                                rill_broadcast_sender_t **out)
{
    if (!tx || !out)
        return RILL_MISUSE("rill_broadcast_sender_clone", "NULL %s",
                           tx ? "out" : "tx");
    return b_tx_new(tx->ch, out);
}

/* Set CLOSED (idempotent) and wake everyone that waits. */
static void b_close(bcast_t *c)
{
    if (c->mode == RILL_BROADCAST_LAG)
        rill__lock(&c->send_lock);
    /* seq_cst: receivers that see CLOSED load the final count from the
     * same word; the store is ordered before the wakes below. */
    rill__fetch_or(&c->tail, B_CLOSED, RILL_SEQ_CST);
    if (c->mode == RILL_BROADCAST_LAG)
        rill__unlock(&c->send_lock);
    /* Rare: wake unconditionally; the lock orders it against any
     * registration (notify.h). */
    rill__notify_wake_all(&c->rx_wait);
    rill__notify_wake_all(&c->tx_wait);
}

int rill_broadcast_close(rill_broadcast_sender_t *tx)
{
    if (!tx)
        return RILL_MISUSE("rill_broadcast_close", "NULL tx");
    b_close(tx->ch);
    return 0;
}

int rill_broadcast_sender_release(rill_broadcast_sender_t *tx)
{
    if (!tx)
        return 0;
    int r = rill__handle_release(tx, RILL__H_BCAST_TX,
                                 "rill_broadcast_sender_release");
    if (r)
        return r;
    bcast_t *c = tx->ch;
    rill__notify_remove(&c->tx_wait, &tx->poll_waiter);
    rill__free(tx);
    /* acq_rel: the last sender's close comes after every other sender's
     * last send (pairs with their release decrements). */
    if (rill__fetch_sub(&c->tx_count, 1, RILL_ACQ_REL) == 1)
        b_close(c);
    b_unref(c);
    return 0;
}

int rill_broadcast_receiver_release(rill_broadcast_receiver_t *rx)
{
    if (!rx)
        return 0;
    int r = rill__handle_release(rx, RILL__H_BCAST_RX,
                                 "rill_broadcast_receiver_release");
    if (r)
        return r;
    bcast_t *c = rx->ch;
    rill__notify_remove(&c->rx_wait, &rx->poll_waiter);
    rill__lock(&c->subs_lock);
    rill__list_remove(&rx->link);
    /* relaxed: our own counters. */
    c->gone_received += rill__load(&rx->received, RILL_RELAXED);
    c->gone_lagged += rill__load(&rx->lagged, RILL_RELAXED);
    rill__fetch_sub(&c->rx_count, 1, RILL_RELAXED); /* a count for send */
    rill__unlock(&c->subs_lock);
    /* A sender may wait for this receiver; after the unlink (ordered by
     * subs_lock against the sender's look at the receivers) the count
     * tells whether one registered before it looked (notify.h). */
    if (rill__notify_has_waiters(&c->tx_wait))
        rill__notify_wake_all(&c->tx_wait);
    rill__free_cl(rx);
    b_unref(c);
    return 0;
}

/* ---- sending ---- */

/*
 * Backpressure: look at every receiver. Returns true if item n may be
 * claimed (every receiver has pos > n - cap) and refreshes cached_min.
 */
static bool bp_room(rill_broadcast_sender_t *tx, uint64_t n)
{
    bcast_t *c = tx->ch;
    uint64_t min = n;
    rill__lock(&c->subs_lock);
    for (rill__list_t *l = c->subs.next; l != &c->subs; l = l->next) {
        rill_broadcast_receiver_t *rx =
            RILL_CONTAINER_OF(l, rill_broadcast_receiver_t, link);
        /* seq_cst: acquire pairs with the receiver's store of pos, made
         * after it copied the item out (so the slot may be reused); seq_cst
         * for the Dekker pattern with the receiver's load of gate. */
        uint64_t p = rill__load(&rx->pos, RILL_SEQ_CST);
        if (p < min)
            min = p;
    }
    rill__unlock(&c->subs_lock);
    tx->cached_min = min;
    rill__count_max(&c->high_water, n - min);
    return n - min < c->cap;
}

/* Backpressure try-send; on RILL_EFULL *seen is the item number that found
 * no room. */
static int bp_try_send(rill_broadcast_sender_t *tx, const void *item,
                       uint64_t *seen)
{
    bcast_t *c = tx->ch;
    /* relaxed: a snapshot; a receiver released right after makes this
     * one item go to nobody, as if it was sent just before. */
    if (rill__load(&c->rx_count, RILL_RELAXED) == 0)
        return RILL_ECLOSED;
    /* seq_cst: on the slow path this is the re-check after registering;
     * on x86 and arm64 a seq_cst load costs what an acquire does. */
    uint64_t t = rill__load(&c->tail, RILL_SEQ_CST);
    for (;;) {
        if (t & B_CLOSED)
            return RILL_ECLOSED;
        uint64_t n = B_COUNT(t);
        if (n - tx->cached_min >= c->cap && !bp_room(tx, n)) {
            *seen = n;
            return RILL_EFULL;
        }
        /* The claim. With one sender handle nobody else writes tail
         * (closing needs a sender handle too), so a store will do; acquire:
         * a sender released since (the count went down to us) made its
         * last claim before (pairs with its acq_rel decrement). Otherwise
         * a CAS; relaxed: the claim needs only atomicity, the slot's
         * contents are ordered by its sequence word, its reuse by bp_room's
         * loads. On failure t gets the current tail. */
        bool single = rill__load(&c->tx_count, RILL_ACQUIRE) == 1;
        if (single) {
            /* t may predate the last claim of a sender released since
             * (we were two when we loaded it): storing t + 2 would take
             * that item's number again and lose it. After the acquire
             * above that claim is visible: look again. */
            uint64_t now = rill__load(&c->tail, RILL_RELAXED);
            if (now != t) {
                t = now;
                continue;
            }
            rill__store(&c->tail, t + 2, RILL_RELAXED);
        }
        if (single ||
            rill__cas_weak(&c->tail, &t, t + 2, RILL_RELAXED, RILL_RELAXED)) {
            bslot_t *s = slot_of(c, n);
            rill__words_put(s->data, item, c->item_size);
            /* seq_cst: release publishes the words (pairs with the
             * receiver's load of seq), seq_cst for the Dekker pattern
             * with a receiver's registration. */
            rill__store(&s->seq, PUB(n), RILL_SEQ_CST);
            rill__notify_wake_if_waiting(&c->rx_wait);
            tx->yielded = 0;
            return 0;
        }
    }
}

static int lag_send(rill_broadcast_sender_t *tx, const void *item)
{
    bcast_t *c = tx->ch;
    if (rill__load(&c->rx_count, RILL_RELAXED) == 0) /* as in bp_try_send */
        return RILL_ECLOSED;
    rill__lock(&c->send_lock);
    /* relaxed: tail is only written under send_lock. */
    uint64_t t = rill__load(&c->tail, RILL_RELAXED);
    if (t & B_CLOSED) {
        rill__unlock(&c->send_lock);
        return RILL_ECLOSED;
    }
    uint64_t n = B_COUNT(t);
    rill__store(&c->tail, t + 2, RILL_RELAXED); /* ordered by BUSY below */
    bslot_t *s = slot_of(c, n);
    /* release: a receiver that sees BUSY(n) (acquire) sees tail > n, and
     * so finds out that it lagged. */
    rill__store(&s->seq, BUSY(n), RILL_RELEASE);
    /* release fence: BUSY comes before the words (the seqlock writer;
     * pairs with the acquire fence in lag_try_recv). */
    rill__fence(RILL_RELEASE);
    rill__words_put(s->data, item, c->item_size);
    /* seq_cst: publishes the words, and is the Dekker store against a
     * receiver's registration. */
    rill__store(&s->seq, PUB(n), RILL_SEQ_CST);
    rill__unlock(&c->send_lock);
    rill__notify_wake_if_waiting(&c->rx_wait);
    return 0;
}

static int b_check_send(const char *api, rill_broadcast_sender_t *tx,
                        const void *item, size_t size)
{
    if (!tx || !item)
        return RILL_MISUSE(api, "NULL %s", tx ? "item" : "tx");
    return RILL__CHECK_SIZE(api, tx->ch->item_size, size);
}

int rill_broadcast_try_send_sized(rill_broadcast_sender_t *tx, const void *item,
                                  size_t size)
{
    uint64_t seen;
    int r = b_check_send("rill_broadcast_try_send", tx, item, size);
    if (r)
        return r;
    return tx->ch->mode == RILL_BROADCAST_LAG ? lag_send(tx, item)
                                              : bp_try_send(tx, item, &seen);
}

/* Raise gate to at least g (it only grows). */
static void bp_raise_gate(bcast_t *c, uint64_t g)
{
    /* relaxed: the first load only starts the CAS loop. */
    uint64_t cur = rill__load(&c->gate, RILL_RELAXED);
    /* seq_cst: the Dekker store against the receivers' load of gate after
     * their position store; on failure cur gets the current value. */
    while (cur < g &&
           !rill__cas_weak(&c->gate, &cur, g, RILL_SEQ_CST, RILL_RELAXED))
        ;
}

static int b_poll_send(rill_broadcast_sender_t *tx, rill_cx_t *cx,
                       rill__notify_waiter_t *w, const void *item)
{
    bcast_t *c = tx->ch;
    if (rill__coop_exhausted(cx))
        return RILL_PENDING;
    if (c->mode == RILL_BROADCAST_LAG) {
        return lag_send(tx, item);
    }
    uint64_t n;
    int r = bp_try_send(tx, item, &n);
    /* Full: yield once before parking, as a receiver does when empty
     * (b_poll_recv): receivers on this worker then run and make room,
     * where parking costs a registration, a membarrier and a wake. */
    if (r == RILL_EFULL && tx->yielded < TX_YIELDS) {
        tx->yielded++;
        rill_waker_wake_by_ref(cx->waker);
        return RILL_PENDING;
    }
    if (r == RILL_EFULL) {
        if (rill__notify_park(&c->tx_wait, w, cx))
            rill__count(&c->waits_full, 1);
        for (;;) {
            /* Registered (seq_cst count) and gate raised (seq_cst) before
             * the re-check's seq_cst loads of the positions: a receiver
             * that moves past the gate after our look sees both. When
             * the re-check found a newer tail, the gate must follow. */
            uint64_t was = n;
            bp_raise_gate(c, n + 1 - c->cap);
            if (c->asym)
                rill__asym_heavy(); /* the receivers' side is light */
            r = bp_try_send(tx, item, &n);
            if (r != RILL_EFULL)
                break;
            if (n == was)
                return RILL_PENDING;
        }
    }
    rill__notify_remove(&c->tx_wait, w);
    return r;
}

int rill_broadcast_poll_send(rill_broadcast_sender_t *tx, rill_cx_t *cx,
                             const void *item, size_t size)
{
    int r = b_check_send("rill_broadcast_poll_send", tx, item, size);
    if (!r && !cx)
        r = RILL_MISUSE("rill_broadcast_poll_send", "NULL cx");
    return r ? r
             : rill__coop_done(cx, b_poll_send(tx, cx, &tx->poll_waiter, item));
}

static int send_op_poll(rill_future_t *f, rill_cx_t *cx)
{
    rill__broadcast_send_op_t *op = (rill__broadcast_send_op_t *)f;
    if (op->err)
        return op->err;
    return b_poll_send(op->tx, cx, &op->waiter, op->item);
}

static int send_op_cancel(rill_future_t *f)
{
    rill__broadcast_send_op_t *op = (rill__broadcast_send_op_t *)f;
    if (!op->err)
        rill__notify_remove(&op->tx->ch->tx_wait, &op->waiter);
    return RILL_PENDING;
}

static const rill_future_vtable_t send_op_vtable = {
    send_op_poll, send_op_cancel, NULL, rill__broadcast_send_describe};

void rill_broadcast_send_op(rill_broadcast_send_op_t *pub,
                            rill_broadcast_sender_t *tx, const void *item,
                            size_t size)
{
    rill__broadcast_send_op_t *op = (rill__broadcast_send_op_t *)(void *)pub;
    if (!op) {
        (void)RILL_MISUSE("rill_broadcast_send_op", "NULL op");
        return;
    }
    op->base.vtable = &send_op_vtable;
    op->tx = tx;
    op->item = item;
    op->size = size;
    op->err = b_check_send("rill_broadcast_send_op", tx, item, size);
    rill__notify_waiter_init(&op->waiter);
}

/*
 * The waiting forms try the non-waiting form first: what the op's first
 * poll would do, without building the op and going through rill_await (as
 * the mpsc channels do). In a task rill__coop_spend charges the budget for
 * it, and sends us down the op path when the budget is (nearly) used up, so
 * a task that never waits still yields. Only RILL_EFULL / RILL_EEMPTY go on
 * to wait.
 */
int rill_broadcast_send_sized(rill_broadcast_sender_t *tx, const void *item,
                              size_t size)
{
    if (rill__coop_spend()) {
        int r = rill_broadcast_try_send_sized(tx, item, size);
        if (r != RILL_EFULL)
            return r;
    }
    rill_broadcast_send_op_t op;
    rill_broadcast_send_op(&op, tx, item, size);
    return rill_await(&op.base);
}

int rill_broadcast_send_timeout_sized(rill_broadcast_sender_t *tx,
                                      const void *item, size_t size,
                                      rill_duration_t timeout)
{
    rill_broadcast_send_op_t op;
    rill_broadcast_send_op(&op, tx, item, size);
    return rill_await_timeout(&op.base, timeout);
}

/* ---- receiving ---- */

/* RILL_DONE if the channel is closed and item n will never come, else
 * RILL_EEMPTY. */
static int b_empty_or_done(bcast_t *c, uint64_t n)
{
    /* seq_cst: the Dekker re-check after registering (against close). */
    uint64_t t = rill__load(&c->tail, RILL_SEQ_CST);
    return ((t & B_CLOSED) && n >= B_COUNT(t)) ? RILL_DONE : RILL_EEMPTY;
}

/* Backpressure: publish the new position; wake waiting senders if it
 * crosses the gate. This runs per item (or per batch), so the handshake
 * with a sender about to wait is asymmetric where the kernel allows: a
 * release store and a compiler barrier here, membarrier on the sender's
 * side (b_poll_send). Otherwise both sides are seq_cst. */
static void bp_advance(rill_broadcast_receiver_t *rx, uint64_t old,
                       uint64_t next)
{
    bcast_t *c = rx->ch;
    uint64_t g;
    rx->next = next;
    if (RILL_LIKELY(c->asym)) {
        /* release: hands the slots back to the senders (pairs with the
         * seq_cst load in bp_room). */
        rill__store(&rx->pos, next, RILL_RELEASE);
        rill__asym_light();
        /* relaxed: ordered after the store by the sender's heavy barrier
         * (membarrier.c); it only decides whether to wake. */
        g = rill__load(&c->gate, RILL_RELAXED);
    } else {
        /* seq_cst: release as above; seq_cst orders the store before the
         * load of gate (Dekker with bp_raise_gate + the sender's
         * re-check). */
        rill__store(&rx->pos, next, RILL_SEQ_CST);
        g = rill__load(&c->gate, RILL_SEQ_CST); /* see above */
    }
    if (old < g && g <= next && rill__notify_has_waiters(&c->tx_wait))
        rill__notify_wake_all(&c->tx_wait);
}

/* Backpressure: up to max items into out. 0 (*n >= 1), RILL_EEMPTY or
 * RILL_DONE. */
static int bp_try_recv(rill_broadcast_receiver_t *rx, void *out, size_t max,
                       size_t *n)
{
    bcast_t *c = rx->ch;
    uint64_t first = rx->next, k = 0;
    unsigned char *o = out;
    while (k < max) {
        bslot_t *s = slot_of(c, first + k);
        /* seq_cst: acquire pairs with the sender's publishing store (the
         * words are visible); seq_cst for the re-check after registering. */
        if (rill__load(&s->seq, RILL_SEQ_CST) != PUB(first + k))
            break;
        rill__words_get(o, s->data, c->item_size);
        o += c->item_size;
        k++;
    }
    if (k == 0)
        return b_empty_or_done(c, first);
    bp_advance(rx, first, first + k);
    /* relaxed: owner-written counter. */
    rill__store(&rx->received, rill__load(&rx->received, RILL_RELAXED) + k,
                RILL_RELAXED);
    *n = k;
    return 0;
}

/* Lag mode: one item, or RILL_ELAGGED / RILL_EEMPTY / RILL_DONE. With
 * missed NULL a lag is only reported (RILL_ELAGGED), the receiver does not
 * move: a batch that already holds items leaves the lag for the next call. */
static int lag_try_recv(rill_broadcast_receiver_t *rx, void *out,
                        uint64_t *missed)
{
    bcast_t *c = rx->ch;
    uint64_t n = rx->next;
    bslot_t *s = slot_of(c, n);
    /* seq_cst: acquire pairs with the sender's BUSY (release) and PUB
     * stores; seq_cst for the re-check after registering. */
    uint64_t q = rill__load(&s->seq, RILL_SEQ_CST);
    if (q == PUB(n)) {
        rill__words_get(out, s->data, c->item_size);
        /* acquire fence: the words above are read before the second load
         * of seq (pairs with the sender's release fence after BUSY). */
        rill__fence(RILL_ACQUIRE);
        /* acquire: if it was overwritten meanwhile, the overwriter raised
         * tail first (pairs with its BUSY release store). */
        if (rill__load(&s->seq, RILL_ACQUIRE) == q) {
            rx->next = n + 1;
            return 0;
        }
    }
    /* seq_cst: as in b_empty_or_done; it also sees the raised tail of
     * any overwrite whose BUSY or PUB we saw above. */
    uint64_t t = rill__load(&c->tail, RILL_SEQ_CST);
    uint64_t count = B_COUNT(t);
    if (count > n + c->cap) {
        if (!missed)
            return RILL_ELAGGED;
        uint64_t m = count - c->cap - n;
        rx->next = count - c->cap;
        *missed = m;
        /* relaxed: owner-written counter / diagnostic. */
        rill__store(&rx->lagged, rill__load(&rx->lagged, RILL_RELAXED) + m,
                    RILL_RELAXED);
        rill__store(&c->high_water, c->cap, RILL_RELAXED);
        return RILL_ELAGGED;
    }
    return ((t & B_CLOSED) && n >= count) ? RILL_DONE : RILL_EEMPTY;
}

/* One non-waiting receive of up to max items: 0 (*n >= 1), RILL_ELAGGED,
 * RILL_EEMPTY or RILL_DONE. */
static int b_take(rill_broadcast_receiver_t *rx, void *out, size_t max,
                  size_t *n, uint64_t *missed)
{
    if (rx->ch->mode == RILL_BROADCAST_BACKPRESSURE)
        return bp_try_recv(rx, out, max, n);
    size_t k = 0;
    int r = 0;
    unsigned char *o = out;
    while (k < max && (r = lag_try_recv(rx, o, k ? NULL : missed)) == 0) {
        o += rx->ch->item_size;
        k++;
    }
    if (k == 0) {
        if (r == RILL_ELAGGED) /* relaxed: only stats read it in lag mode */
            rill__store(&rx->pos, rx->next, RILL_RELAXED);
        return r;
    }
    /* relaxed: owner-written counters; in lag mode pos is only for stats. */
    rill__store(&rx->received, rill__load(&rx->received, RILL_RELAXED) + k,
                RILL_RELAXED);
    rill__store(&rx->pos, rx->next, RILL_RELAXED);
    *n = k;
    return 0; /* a lag or the end found after items waits for next time */
}

/* b_take, and after a result other than RILL_EEMPTY b_poll_recv may yield
 * again the next time it finds nothing. */
static int b_try_recv(rill_broadcast_receiver_t *rx, void *out, size_t max,
                      size_t *n, uint64_t *missed)
{
    int r = b_take(rx, out, max, n, missed);
    if (r != RILL_EEMPTY)
        rx->yielded = 0;
    return r;
}

static int b_poll_recv(rill_broadcast_receiver_t *rx, rill_cx_t *cx,
                       rill__notify_waiter_t *w, void *out, size_t max,
                       size_t *n, uint64_t *missed)
{
    bcast_t *c = rx->ch;
    if (rill__coop_exhausted(cx))
        return RILL_PENDING;
    int r = b_try_recv(rx, out, max, n, missed);
    /* A receiver that caught up with the senders yields once before it
     * parks: a sender on the same worker then runs and publishes a batch,
     * where parking would cost a registration and a wake per item or two
     * (measured: W7's shape in micro_broadcast, ~15% less CPU). */
    if (r == RILL_EEMPTY && rx->yielded < RX_YIELDS) {
        rx->yielded++;
        rill_waker_wake_by_ref(cx->waker);
        return RILL_PENDING;
    }
    if (r == RILL_EEMPTY) {
        if (rill__notify_park(&c->rx_wait, w, cx))
            rill__count(&c->waits_empty, 1);
        r = b_try_recv(rx, out, max, n, missed);
        if (r == RILL_EEMPTY)
            return RILL_PENDING;
    }
    rill__notify_remove(&c->rx_wait, w);
    return r;
}

static int b_check_recv(const char *api, rill_broadcast_receiver_t *rx,
                        const void *out, size_t size)
{
    if (!rx || !out)
        return RILL_MISUSE(api, "NULL %s", rx ? "out" : "rx");
    return RILL__CHECK_SIZE(api, rx->ch->item_size, size);
}

int rill_broadcast_try_recv_sized(rill_broadcast_receiver_t *rx, void *out,
                                  size_t size, uint64_t *missed)
{
    uint64_t m = 0;
    size_t n;
    int r = b_check_recv("rill_broadcast_try_recv", rx, out, size);
    if (r)
        return r;
    r = b_try_recv(rx, out, 1, &n, &m);
    if (missed)
        *missed = m;
    return r;
}

int rill_broadcast_poll_recv(rill_broadcast_receiver_t *rx, rill_cx_t *cx,
                             void *out, size_t size, uint64_t *missed)
{
    size_t n;
    return rill_broadcast_poll_recv_many(rx, cx, out, 1, size, &n, missed);
}

int rill_broadcast_poll_recv_many(rill_broadcast_receiver_t *rx, rill_cx_t *cx,
                                  void *out, size_t max, size_t size, size_t *n,
                                  uint64_t *missed)
{
    static const char api[] = "rill_broadcast_poll_recv";
    uint64_t m = 0;
    int r = b_check_recv(api, rx, out, size);
    if (r)
        return r;
    if (!cx || !n || max == 0)
        return RILL_MISUSE(api, "%s", max ? "NULL cx or n" : "max 0");
    *n = 0;
    r = rill__coop_done(cx,
                        b_poll_recv(rx, cx, &rx->poll_waiter, out, max, n, &m));
    if (missed)
        *missed = m;
    return r;
}

static int recv_op_poll(rill_future_t *f, rill_cx_t *cx)
{
    rill__broadcast_recv_op_t *op = (rill__broadcast_recv_op_t *)f;
    size_t n;
    uint64_t m = 0; /* b_poll_recv moves past a lag only with a count */
    if (op->err)
        return op->err;
    int r = b_poll_recv(op->rx, cx, &op->waiter, op->out, 1, &n, &m);
    if (r != RILL_PENDING && op->missed)
        *op->missed = m;
    return r;
}

static int recv_op_cancel(rill_future_t *f)
{
    rill__broadcast_recv_op_t *op = (rill__broadcast_recv_op_t *)f;
    if (!op->err)
        rill__notify_remove(&op->rx->ch->rx_wait, &op->waiter);
    return RILL_PENDING;
}

static const rill_future_vtable_t recv_op_vtable = {
    recv_op_poll, recv_op_cancel, NULL, rill__broadcast_recv_describe};

void rill_broadcast_recv_op(rill_broadcast_recv_op_t *pub,
                            rill_broadcast_receiver_t *rx, void *out,
                            size_t size, uint64_t *missed)
{
    rill__broadcast_recv_op_t *op = (rill__broadcast_recv_op_t *)(void *)pub;
    if (!op) {
        (void)RILL_MISUSE("rill_broadcast_recv_op", "NULL op");
        return;
    }
    op->base.vtable = &recv_op_vtable;
    op->rx = rx;
    op->out = out;
    op->size = size;
    op->missed = missed;
    if (missed) /* 0 unless the receive completes with RILL_ELAGGED */
        *missed = 0;
    op->err = b_check_recv("rill_broadcast_recv_op", rx, out, size);
    rill__notify_waiter_init(&op->waiter);
}

int rill_broadcast_recv_sized(rill_broadcast_receiver_t *rx, void *out,
                              size_t size, uint64_t *missed)
{
    if (rill__coop_spend()) { /* as in rill_broadcast_send_sized */
        int r = rill_broadcast_try_recv_sized(rx, out, size, missed);
        if (r != RILL_EEMPTY)
            return r;
    }
    return rill_broadcast_recv_timeout_sized(rx, out, size, missed,
                                             RILL_FOREVER);
}

int rill_broadcast_recv_timeout_sized(rill_broadcast_receiver_t *rx, void *out,
                                      size_t size, uint64_t *missed,
                                      rill_duration_t timeout)
{
    rill_broadcast_recv_op_t op;
    rill_broadcast_recv_op(&op, rx, out, size, missed);
    return timeout == RILL_FOREVER ? rill_await(&op.base)
                                   : rill_await_timeout(&op.base, timeout);
}

/* ---- diagnostics ---- */

size_t rill_broadcast_len(const rill_broadcast_receiver_t *rx)
{
    if (!rx)
        return 0;
    /* relaxed: a snapshot for the caller. */
    uint64_t count = B_COUNT(rill__load(&rx->ch->tail, RILL_RELAXED));
    uint64_t k = count > rx->next ? count - rx->next : 0;
    return (size_t)(k < rx->ch->cap ? k : rx->ch->cap);
}

size_t rill_broadcast_receiver_count(const rill_broadcast_sender_t *tx)
{
    /* relaxed: a snapshot for the caller. */
    return tx ? rill__load(&tx->ch->rx_count, RILL_RELAXED) : 0;
}

int rill_broadcast_stats(const rill_broadcast_sender_t *tx,
                         const rill_broadcast_receiver_t *rx,
                         rill_channel_stats_t *out)
{
    if ((!tx && !rx) || !out)
        return RILL_MISUSE("rill_broadcast_stats", "NULL %s",
                           out ? "handles" : "out");
    bcast_t *c = tx ? tx->ch : rx->ch;
    memset(out, 0, sizeof *out);
    out->name = c->name;
    out->capacity = c->cap;
    /* relaxed: counters, each read on its own. */
    uint64_t t = rill__load(&c->tail, RILL_RELAXED);
    out->sent = B_COUNT(t);
    uint64_t slowest = out->sent;
    rill__lock(&c->subs_lock);
    out->received = c->gone_received;
    out->discarded = c->gone_lagged;
    for (rill__list_t *l = c->subs.next; l != &c->subs; l = l->next) {
        rill_broadcast_receiver_t *r =
            RILL_CONTAINER_OF(l, rill_broadcast_receiver_t, link);
        uint64_t p = rill__load(&r->pos, RILL_RELAXED);
        out->received += rill__load(&r->received, RILL_RELAXED);
        out->discarded += rill__load(&r->lagged, RILL_RELAXED);
        slowest = p < slowest ? p : slowest;
    }
    rill__unlock(&c->subs_lock);
    uint64_t len = rx ? rill_broadcast_len(rx) : out->sent - slowest;
    out->len = (size_t)(len < c->cap ? len : c->cap);
    out->high_water = rill__load(&c->high_water, RILL_RELAXED);
    out->waits_full = rill__load(&c->waits_full, RILL_RELAXED);
    out->waits_empty = rill__load(&c->waits_empty, RILL_RELAXED);
    out->is_closed =
        (t & B_CLOSED) || rill__load(&c->rx_count, RILL_RELAXED) == 0;
    return 0;
}
