/* SPDX-License-Identifier: MIT */
/*
 * mpsc_ops.c - the mpsc channel's operations: argument checks, then the
 * kind's function (bounded.c, unbounded.c, rendezvous.c) for the try_
 * forms, the _op futures and their waiting forms (an op + rill_await),
 * reserve and permits, and poll_recv for the stream adapter.
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
    rill__chan_fill_stats(op->ch, &st);
    char opname[32];
    snprintf(opname, sizeof opname, "%s%s", what, op->w.max > 1 ? "_many" : "");
    rill__describe_channel(&b, opname, rill__chan_kind_name(op->ch), &st);
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
    rill__chan_unref(ch);
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
