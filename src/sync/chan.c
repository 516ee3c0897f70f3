/* SPDX-License-Identifier: MIT */
/*
 * chan.c - the mpsc channel object: creation, handles (clone, release,
 * close), the public entry points (argument checks, then the kind's
 * function), the _op futures, poll_recv, inspection and counters.
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

#include <stdalign.h>
#include <string.h>

_Static_assert(sizeof(rill__op_t) <= sizeof(rill_send_op_t),
               "rill_send_op_t too small");
_Static_assert(sizeof(rill_send_op_t) == sizeof(rill_recv_op_t) &&
                   sizeof(rill_send_op_t) == sizeof(rill_reserve_op_t),
               "op types differ");
_Static_assert(alignof(rill__op_t) <= alignof(rill_send_op_t),
               "rill_send_op_t alignment");
_Static_assert(sizeof(rill__permit_t) <= sizeof(rill_permit_t),
               "rill_permit_t too small");

/* The largest bounded capacity (positions must not overflow 64 bits). */
#define MAX_CAPACITY (UINT64_C(1) << 40)

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
    bool retry = ready(ch);
    rill__unlock(&ch->lock);
    return retry;
}

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

static void chan_unref(rill__chan_t *ch)
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
        uint64_t mark = 1;
        while (mark <= capacity)
            mark <<= 1;
        ch->mark = mark;
        ch->one_lap = mark << 1;
        ch->lap_shift = (unsigned)__builtin_ctzll(ch->one_lap);
        ch->slots = base + head;
        for (size_t i = 0; i < capacity; i++) /* slot i: free for pos i */
            rill__store((_Atomic uint64_t *)(void *)(ch->slots + i * stride),
                        (uint64_t)i, RILL_RELAXED);
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
    chan_unref(ch);
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
    chan_unref(ch);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Argument checks                                                           */
/* ------------------------------------------------------------------------ */

static int size_mismatch(const char *api, size_t given, size_t ch_size)
{
    return RILL_MISUSE(api,
                       "item size %zu, but the channel's items are %zu bytes",
                       given, ch_size);
}

/* The channel behind a live sender, after checking the item size. */
static inline int tx_check(const rill_sender_t *tx, size_t item_size,
                           const void *p, const char *api, rill__chan_t **out)
{
    if (RILL_UNLIKELY(!tx || !rill__handle_live(&tx->state)))
        return RILL_MISUSE(api, tx ? "released sender" : "NULL sender");
    rill__chan_t *ch = tx->ch;
    if (RILL_UNLIKELY(item_size != ch->item_size))
        return size_mismatch(api, item_size, ch->item_size);
    if (RILL_UNLIKELY(!p))
        return RILL_MISUSE(api, "NULL item pointer");
    *out = ch;
    return 0;
}

static inline int rx_check(const rill_receiver_t *rx, size_t item_size,
                           const void *p, const char *api, rill__chan_t **out)
{
    if (RILL_UNLIKELY(!rx || !rill__handle_live(&rx->state)))
        return RILL_MISUSE(api, rx ? "released receiver" : "NULL receiver");
    rill__chan_t *ch = rx->ch;
    if (RILL_UNLIKELY(item_size != ch->item_size))
        return size_mismatch(api, item_size, ch->item_size);
    if (RILL_UNLIKELY(!p))
        return RILL_MISUSE(api, "NULL buffer");
    *out = ch;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Non-waiting forms                                                         */
/* ------------------------------------------------------------------------ */

/* The kind's send (op NULL: the try form). */
static inline int kind_send(rill__chan_t *ch, rill__op_t *op, rill_cx_t *cx,
                            const void *items, size_t n, size_t *done)
{
    switch (ch->kind) {
    case RILL__BOUNDED:
        return rill__bnd_send(ch, op, cx, items, n, done, NULL);
    case RILL__RENDEZVOUS:
        return rill__rdv_send(ch, op, cx, items, n, done);
    default:
        return rill__ub_send(ch, items, n, done, NULL);
    }
}

/* The kind's receive (w NULL: the try form). */
static inline int kind_recv(rill__chan_t *ch, rill__waiter_t *w, bool *reg,
                            rill_cx_t *cx, void *out, size_t max, size_t *done)
{
    switch (ch->kind) {
    case RILL__BOUNDED:
        return rill__bnd_recv(ch, w, reg, cx, out, max, done);
    case RILL__RENDEZVOUS:
        return rill__rdv_recv(ch, w, reg, cx, out, max, done);
    default:
        return rill__ub_recv(ch, w, reg, cx, out, max, done);
    }
}

static int send_now(rill__chan_t *ch, const void *items, size_t n, size_t *done)
{
    return kind_send(ch, NULL, NULL, items, n, done);
}

static int recv_now(rill__chan_t *ch, void *out, size_t max, size_t *done)
{
    bool reg = false; /* no waiter: never registered */
    return kind_recv(ch, NULL, &reg, NULL, out, max, done);
}

static int try_send_api(rill_sender_t *tx, const void *item, size_t item_size,
                        const char *api)
{
    rill__chan_t *ch = NULL;
    size_t done;
    int r = tx_check(tx, item_size, item, api, &ch);
    if (RILL_UNLIKELY(r))
        return r;
    if (RILL_LIKELY(ch->kind == RILL__BOUNDED))
        return rill__bnd_send1(ch, item);
    if (ch->kind == RILL__UNBOUNDED)
        return rill__ub_send1(ch, item);
    return send_now(ch, item, 1, &done);
}

int rill_try_send_sized(rill_sender_t *tx, const void *item, size_t item_size)
{
    return try_send_api(tx, item, item_size, "rill_try_send");
}

int rill_try_send_many_sized(rill_sender_t *tx, const void *items, size_t n,
                             size_t *sent, size_t item_size)
{
    static const char api[] = "rill_try_send_many";
    rill__chan_t *ch = NULL;
    if (!sent)
        return RILL_MISUSE(api, "NULL count pointer");
    *sent = 0;
    int r = tx_check(tx, item_size, items, api, &ch);
    if (r)
        return r;
    if (n == 0)
        return RILL_MISUSE(api, "n is 0");
    size_t done = 0;
    r = send_now(ch, items, n, &done);
    *sent = r == 0 ? done : 0;
    return r;
}

static int try_recv_api(rill_receiver_t *rx, void *out, size_t item_size,
                        const char *api)
{
    rill__chan_t *ch = NULL;
    size_t done;
    int r = rx_check(rx, item_size, out, api, &ch);
    return r ? r : recv_now(ch, out, 1, &done);
}

int rill_try_recv_sized(rill_receiver_t *rx, void *out, size_t item_size)
{
    return try_recv_api(rx, out, item_size, "rill_try_recv");
}

int rill_try_recv_many_sized(rill_receiver_t *rx, void *out, size_t max,
                             size_t *n, size_t item_size)
{
    static const char api[] = "rill_try_recv_many";
    rill__chan_t *ch = NULL;
    if (!n)
        return RILL_MISUSE(api, "NULL count pointer");
    *n = 0;
    int r = rx_check(rx, item_size, out, api, &ch);
    if (r)
        return r;
    if (max == 0)
        return RILL_MISUSE(api, "max is 0");
    size_t done = 0;
    r = recv_now(ch, out, max, &done);
    *n = r == 0 ? done : 0;
    return r;
}

/* ------------------------------------------------------------------------ */
/* The _op futures                                                           */
/* ------------------------------------------------------------------------ */

/* The coop budget is used up: yield (wake ourselves, report pending). */
static inline bool budget_out(rill_cx_t *cx)
{
    if (RILL_LIKELY(cx->budget != 0))
        return false;
    rill_waker_wake_by_ref(cx->waker);
    return true;
}

static int op_result(rill__op_t *op, int r, size_t done)
{
    if (op->count_out)
        *op->count_out = r == 0 ? done : 0;
    return r;
}

static void fill_permit(rill__op_t *op, void *slot, uint64_t pos)
{
    rill__permit_t *p = (rill__permit_t *)(void *)op->permit;
    p->ch = op->ch;
    p->slot = slot;
    p->pos = pos;
    p->magic = RILL__PERMIT_LIVE;
    /* relaxed: made from the live sender handle the op was given. */
    rill__fetch_add(&op->ch->refs, 1, RILL_RELAXED);
}

/*
 * A poll's final step: write the count. An op does not spend budget when
 * it completes: rill_await in a task spends one unit per completed await
 * already (an op in a select is one await too). It only honours a budget
 * that is used up (budget_out), so that an op polled from a hand-written
 * future yields like the rest of that poll.
 */
static inline int op_finish(rill__op_t *op, int r, size_t done)
{
    return r == RILL_PENDING ? r : op_result(op, r, done);
}

static int send_poll(rill_future_t *f, rill_cx_t *cx)
{
    rill__op_t *op = (rill__op_t *)(void *)f;
    if (RILL_UNLIKELY(op->early))
        return op_result(op, op->early, 0);
    if (op->registered) {
        /* Completed by hand-off meanwhile (a receiver took the items, a
         * freed slot was filled for us, or the channel closed)? */
        int s = rill__waiter_status(&op->w);
        if (s != RILL_PENDING)
            return op_result(op, s, op->w.done);
    }
    if (budget_out(cx))
        return RILL_PENDING;
    size_t done = 0;
    int r = kind_send(op->ch, op, cx, op->w.buf, op->w.max, &done);
    return op_finish(op, r, done);
}

static int recv_poll(rill_future_t *f, rill_cx_t *cx)
{
    rill__op_t *op = (rill__op_t *)(void *)f;
    if (RILL_UNLIKELY(op->early))
        return op_result(op, op->early, 0);
    if (budget_out(cx))
        return RILL_PENDING;
    size_t done = 0;
    int r = kind_recv(op->ch, &op->w, &op->registered, cx, op->w.buf, op->w.max,
                      &done);
    return op_finish(op, r, done);
}

/*
 * Withdraw any op: RILL_PENDING if nothing happened, else the status it
 * completed with in the race (a hand-off: items moved, a permit made, or
 * the channel closed / ended). Buffered receives are wake-and-retry, so
 * they never completed here: nothing was taken.
 */
static int op_cancel(rill_future_t *f)
{
    rill__op_t *op = (rill__op_t *)(void *)f;
    if (op->early || !op->registered)
        return RILL_PENDING;
    int s = rill__waiter_cancel(&op->ch->lock, &op->w);
    if (s == 0 && op->permit) {
        fill_permit(op, rill__bnd_slot(op->ch, op->w.done), op->w.done);
        return 0;
    }
    return s == RILL_PENDING ? s : op_result(op, s, op->w.done);
}

/* Forward: fill_stats is with the inspection calls below. */
static void fill_stats(const rill__chan_t *ch, rill_channel_stats_t *st);

static const char *kind_name(const rill__chan_t *ch)
{
    return ch->kind == RILL__BOUNDED      ? "bounded"
           : ch->kind == RILL__RENDEZVOUS ? "rendezvous"
                                          : "unbounded";
}

/*
 * The describe of the three ops: reads what op_init set (before the op
 * was awaited, so ordered by the task's dump lock) and the channel's
 * name and atomic counters; the channel lives while the op may wait.
 */
static int op_describe(const rill__op_t *op, const char *what, char *buf,
                       size_t len)
{
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    if (op->early || !op->ch) {
        rill__buf_printf(&b, "%s (invalid arguments)", what);
        return rill__buf_result(&b);
    }
    rill_channel_stats_t st;
    fill_stats(op->ch, &st);
    char opname[32];
    snprintf(opname, sizeof opname, "%s%s", what, op->w.max > 1 ? "_many" : "");
    rill__describe_channel(&b, opname, kind_name(op->ch), &st);
    return rill__buf_result(&b);
}

static int send_describe(const rill_future_t *f, rill_instant_t now, char *buf,
                         size_t len)
{
    (void)now;
    return op_describe((const rill__op_t *)(const void *)f, "send", buf, len);
}

static int recv_describe(const rill_future_t *f, rill_instant_t now, char *buf,
                         size_t len)
{
    (void)now;
    return op_describe((const rill__op_t *)(const void *)f, "recv", buf, len);
}

static int reserve_describe(const rill_future_t *f, rill_instant_t now,
                            char *buf, size_t len)
{
    (void)now;
    return op_describe((const rill__op_t *)(const void *)f, "reserve", buf,
                       len);
}

static const rill_future_vtable_t send_vtable = {send_poll, op_cancel, NULL,
                                                 send_describe};
static const rill_future_vtable_t recv_vtable = {recv_poll, op_cancel, NULL,
                                                 recv_describe};

static int reserve_poll(rill_future_t *f, rill_cx_t *cx)
{
    rill__op_t *op = (rill__op_t *)(void *)f;
    if (RILL_UNLIKELY(op->early))
        return op->early;
    if (budget_out(cx))
        return RILL_PENDING;
    rill__chan_t *ch = op->ch;
    size_t pos = 0;
    void *slot = NULL;
    int r = ch->kind == RILL__BOUNDED
                ? rill__bnd_send(ch, op, cx, NULL, 1, &pos, &slot)
                : rill__ub_send(ch, NULL, 1, &pos, &slot);
    if (r == 0)
        fill_permit(op, slot, pos);
    return r;
}

static const rill_future_vtable_t reserve_vtable = {reserve_poll, op_cancel,
                                                    NULL, reserve_describe};

static void op_init(rill__op_t *op, const rill_future_vtable_t *vt, void *buf,
                    size_t max)
{
    op->base.vtable = vt;
    rill__waiter_init(&op->w, buf, max);
    op->ch = NULL;
    op->count_out = NULL;
    op->permit = NULL;
    op->early = 0;
    op->registered = false;
}

static void send_op_init(rill__op_t *op, rill_sender_t *tx, const void *items,
                         size_t n, size_t *sent, size_t item_size,
                         const char *api)
{
    op_init(op, &send_vtable, (void *)(uintptr_t)items, n);
    op->count_out = sent;
    if (sent)
        *sent = 0;
    int r = tx_check(tx, item_size, items, api, &op->ch);
    if (!r && n == 0)
        r = RILL_MISUSE(api, "n is 0");
    op->early = r;
}

void rill_send_op(rill_send_op_t *op, rill_sender_t *tx, const void *item,
                  size_t item_size)
{
    send_op_init((rill__op_t *)(void *)op, tx, item, 1, NULL, item_size,
                 "rill_send_op");
}

void rill_send_many_op(rill_send_op_t *op, rill_sender_t *tx, const void *items,
                       size_t n, size_t *sent, size_t item_size)
{
    send_op_init((rill__op_t *)(void *)op, tx, items, n, sent, item_size,
                 "rill_send_many_op");
    if (!sent && !((rill__op_t *)(void *)op)->early)
        ((rill__op_t *)(void *)op)->early =
            RILL_MISUSE("rill_send_many_op", "NULL count pointer");
}

static void recv_op_init(rill__op_t *op, rill_receiver_t *rx, void *out,
                         size_t max, size_t *n, size_t item_size,
                         const char *api)
{
    op_init(op, &recv_vtable, out, max);
    op->count_out = n;
    if (n)
        *n = 0;
    int r = rx_check(rx, item_size, out, api, &op->ch);
    if (!r && max == 0)
        r = RILL_MISUSE(api, "max is 0");
    op->early = r;
}

void rill_recv_op(rill_recv_op_t *op, rill_receiver_t *rx, void *out,
                  size_t item_size)
{
    recv_op_init((rill__op_t *)(void *)op, rx, out, 1, NULL, item_size,
                 "rill_recv_op");
}

void rill_recv_many_op(rill_recv_op_t *op, rill_receiver_t *rx, void *out,
                       size_t max, size_t *n, size_t item_size)
{
    recv_op_init((rill__op_t *)(void *)op, rx, out, max, n, item_size,
                 "rill_recv_many_op");
    if (!n && !((rill__op_t *)(void *)op)->early)
        ((rill__op_t *)(void *)op)->early =
            RILL_MISUSE("rill_recv_many_op", "NULL count pointer");
}

void rill_reserve_op(rill_reserve_op_t *op_, rill_sender_t *tx,
                     rill_permit_t *permit)
{
    static const char api[] = "rill_reserve_op";
    rill__op_t *op = (rill__op_t *)(void *)op_;
    op_init(op, &reserve_vtable, NULL, 1);
    op->permit = permit;
    int r = 0;
    if (!permit)
        r = RILL_MISUSE(api, "NULL permit");
    else if (!tx || !rill__handle_live(&tx->state))
        r = RILL_MISUSE(api, tx ? "released sender" : "NULL sender");
    else if ((op->ch = tx->ch)->kind == RILL__RENDEZVOUS)
        r = RILL_ENOTSUP;
    if (permit)
        memset(permit, 0, sizeof *permit);
    op->early = r;
}

/* ------------------------------------------------------------------------ */
/* Waiting forms: an op + rill_await                                         */
/* ------------------------------------------------------------------------ */

/*
 * rill_send / rill_recv try the non-waiting form first: it is what the
 * op's first poll would do, without building the op and going through
 * rill_await. In a task, rill__coop_spend charges the coop budget for it
 * and sends us down the op path when the budget is (nearly) used up, so a
 * task that never waits still yields. Only EFULL / EEMPTY go on to wait.
 */
static inline bool try_first(int r)
{
    return r != RILL_EFULL && r != RILL_EEMPTY;
}

int rill_send_sized(rill_sender_t *tx, const void *item, size_t item_size)
{
    if (rill__coop_spend()) {
        int r = try_send_api(tx, item, item_size, "rill_send");
        if (try_first(r))
            return r;
    }
    rill_send_op_t op;
    send_op_init((rill__op_t *)(void *)&op, tx, item, 1, NULL, item_size,
                 "rill_send");
    return rill_await(&op.base);
}

int rill_send_timeout_sized(rill_sender_t *tx, const void *item,
                            size_t item_size, rill_duration_t timeout)
{
    rill_send_op_t op;
    send_op_init((rill__op_t *)(void *)&op, tx, item, 1, NULL, item_size,
                 "rill_send_timeout");
    return rill_await_timeout(&op.base, timeout);
}

int rill_send_many_sized(rill_sender_t *tx, const void *items, size_t n,
                         size_t *sent, size_t item_size)
{
    rill_send_op_t op;
    rill_send_many_op(&op, tx, items, n, sent, item_size);
    return rill_await(&op.base);
}

int rill_send_many_timeout_sized(rill_sender_t *tx, const void *items, size_t n,
                                 size_t *sent, size_t item_size,
                                 rill_duration_t timeout)
{
    rill_send_op_t op;
    rill_send_many_op(&op, tx, items, n, sent, item_size);
    return rill_await_timeout(&op.base, timeout);
}

int rill_recv_sized(rill_receiver_t *rx, void *out, size_t item_size)
{
    if (rill__coop_spend()) {
        int r = try_recv_api(rx, out, item_size, "rill_recv");
        if (try_first(r))
            return r;
    }
    rill_recv_op_t op;
    recv_op_init((rill__op_t *)(void *)&op, rx, out, 1, NULL, item_size,
                 "rill_recv");
    return rill_await(&op.base);
}

int rill_recv_timeout_sized(rill_receiver_t *rx, void *out, size_t item_size,
                            rill_duration_t timeout)
{
    rill_recv_op_t op;
    recv_op_init((rill__op_t *)(void *)&op, rx, out, 1, NULL, item_size,
                 "rill_recv_timeout");
    return rill_await_timeout(&op.base, timeout);
}

int rill_recv_many_sized(rill_receiver_t *rx, void *out, size_t max, size_t *n,
                         size_t item_size)
{
    rill_recv_op_t op;
    rill_recv_many_op(&op, rx, out, max, n, item_size);
    return rill_await(&op.base);
}

int rill_recv_many_timeout_sized(rill_receiver_t *rx, void *out, size_t max,
                                 size_t *n, size_t item_size,
                                 rill_duration_t timeout)
{
    rill_recv_op_t op;
    rill_recv_many_op(&op, rx, out, max, n, item_size);
    return rill_await_timeout(&op.base, timeout);
}

/* ------------------------------------------------------------------------ */
/* Reserve / permit                                                          */
/* ------------------------------------------------------------------------ */

int rill_try_reserve(rill_sender_t *tx, rill_permit_t *permit)
{
    rill__op_t op;
    rill_reserve_op((rill_reserve_op_t *)(void *)&op, tx, permit);
    if (op.early)
        return op.early;
    size_t pos = 0;
    void *slot = NULL;
    int r = op.ch->kind == RILL__BOUNDED
                ? rill__bnd_send(op.ch, NULL, NULL, NULL, 1, &pos, &slot)
                : rill__ub_send(op.ch, NULL, 1, &pos, &slot);
    if (r == 0)
        fill_permit(&op, slot, pos);
    return r;
}

int rill_reserve(rill_sender_t *tx, rill_permit_t *permit)
{
    rill_reserve_op_t op;
    rill_reserve_op(&op, tx, permit);
    return rill_await(&op.base);
}

int rill_reserve_timeout(rill_sender_t *tx, rill_permit_t *permit,
                         rill_duration_t timeout)
{
    rill_reserve_op_t op;
    rill_reserve_op(&op, tx, permit);
    return rill_await_timeout(&op.base, timeout);
}

static rill__permit_t *permit_check(rill_permit_t *permit, const char *api,
                                    int *err)
{
    rill__permit_t *p = (rill__permit_t *)(void *)permit;
    if (RILL_LIKELY(p && p->magic == RILL__PERMIT_LIVE && p->ch))
        return p;
    *err = RILL_MISUSE(api, p ? "permit not reserved or already used"
                              : "NULL permit");
    return NULL;
}

/* Publish the item (NULL: skip the position) and drop the permit. */
static void permit_finish(rill__permit_t *p, const void *item)
{
    rill__chan_t *ch = p->ch;
    if (ch->kind == RILL__BOUNDED)
        rill__bnd_permit_publish(ch, p, item);
    else
        rill__ub_permit_publish(ch, p, item);
    p->ch = NULL;
    p->magic = 0;
    chan_unref(ch);
}

int rill_permit_send_sized(rill_permit_t *permit, const void *item,
                           size_t item_size)
{
    static const char api[] = "rill_permit_send";
    int err = 0;
    rill__permit_t *p = permit_check(permit, api, &err);
    if (!p)
        return err;
    if (item_size != p->ch->item_size)
        return size_mismatch(api, item_size, p->ch->item_size);
    if (!item)
        return RILL_MISUSE(api, "NULL item pointer");
    permit_finish(p, item);
    return 0;
}

int rill_permit_release(rill_permit_t *permit)
{
    int err = 0;
    rill__permit_t *p = permit_check(permit, "rill_permit_release", &err);
    if (!p)
        return err;
    permit_finish(p, NULL);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* rill_poll_recv                                                            */
/* ------------------------------------------------------------------------ */

int rill_poll_recv_many(rill_receiver_t *rx, rill_cx_t *cx, void *out,
                        size_t max, size_t *n, size_t item_size)
{
    static const char api[] = "rill_poll_recv";
    rill__chan_t *ch = NULL;
    size_t done = 0;
    if (RILL_UNLIKELY(!n || !cx || max == 0))
        return RILL_MISUSE(api, "NULL count or context, or max 0");
    *n = 0;
    int r = rx_check(rx, item_size, out, api, &ch);
    if (RILL_UNLIKELY(r))
        return r;
    if (budget_out(cx))
        return RILL_PENDING;
    r = kind_recv(ch, &rx->pw, &rx->pw_reg, cx, out, max, &done);
    if (r == 0) {
        rill_cx_spend(cx);
        *n = done;
    }
    return r;
}

int rill_poll_recv(rill_receiver_t *rx, rill_cx_t *cx, void *out,
                   size_t item_size)
{
    size_t n;
    return rill_poll_recv_many(rx, cx, out, 1, &n, item_size);
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

static void fill_stats(const rill__chan_t *ch, rill_channel_stats_t *st)
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
    fill_stats(ch, out);
    return 0;
}

int rill_receiver_stats(const rill_receiver_t *rx, rill_channel_stats_t *out)
{
    const rill__chan_t *ch = rx_ch(rx);
    if (!ch || !out)
        return RILL_MISUSE("rill_receiver_stats", "NULL or released argument");
    fill_stats(ch, out);
    return 0;
}
