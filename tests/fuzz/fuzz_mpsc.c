/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mpsc.c - the mpsc channels against a reference model. Built three
 * times: FUZZ_KIND 0 bounded (capacity from the input: 1..8, 1 and 7
 * most often), 1 rendezvous, 2 unbounded.
 *
 * The model is a queue of positions (an item, a permit not yet used, or a
 * released permit the receiver skips: a permit holds its position in
 * both buffered kinds, and the receiver waits at it),
 * the FIFO of senders waiting (futures polled by hand), at most one
 * receive future waiting, the live sender handles, closed and released
 * flags. Each operation is applied to both; every status, count, item,
 * length and closed flag must agree (the length counts positions, so a
 * permit not yet used or released but not yet passed counts, as the code
 * has it; so does the `sent` counter, which the model does not check),
 * and the received counter; and at the end every item the
 * channel discarded must have gone to the item destructor exactly once.
 *
 * Semantics modelled (rill/sync.h and src/sync/bounded.c): a freed slot
 * goes to the first waiting sender (one item, or the reservation of a
 * waiting reserve); a rendezvous send pairs with the waiting receive, a
 * rendezvous receive takes from waiting senders in order; closing fails
 * waiting senders with RILL_ECLOSED and ends a waiting rendezvous receive
 * with RILL_DONE, as does the last sender's release; the end (RILL_DONE)
 * is closed-or-senderless and nothing left at the head.
 */
#include "fuzz.h"

#ifndef FUZZ_KIND
#define FUZZ_KIND 0
#endif
enum { BOUNDED, RENDEZVOUS, UNBOUNDED };
enum { MAXTX = 4, MAXPM = 4, MAXOP = 3, MAXB = 8 };
enum { E_ITEM, E_PERMIT, E_SKIP };
enum { OP_FREE, OP_PENDING, OP_DONE };
enum { T_SEND, T_MANY, T_RESERVE };

typedef struct {
    int kind;
    uint64_t v;
} ent_t;

typedef struct {
    int state, type, txi, pmi;
    union {
        rill_send_op_t s;
        rill_reserve_op_t r;
    } u;
    uint64_t items[MAXB];
    size_t n, sent;
    int status;   /* model: the result once OP_DONE */
    size_t done;  /* model: items moved */
    uint64_t pos; /* model: a reserve's position */
} sop_t;

typedef struct {
    int state;
    bool single; /* rill_recv_op: no count written */
    rill_recv_op_t op;
    uint64_t out[MAXB];
    size_t max, n;
    int status;
    uint64_t items[MAXB];
    size_t done;
} rop_t;

typedef struct {
    bool live, by_op;
    rill_permit_t p;
    uint64_t pos;
} pm_t;

static struct model {
    int kind;
    size_t cap;
    ent_t ring[FZ_MAX_IDS * 2];
    uint64_t head, tail; /* positions: ring[p % size] */
    rill_sender_t *tx[MAXTX];
    int nsenders;
    rill_receiver_t *rx;
    bool closed, released;
    pm_t pm[MAXPM];
    sop_t op[MAXOP];
    int sendq[MAXOP], nq; /* waiting sends, in order */
    rop_t rop;
    uint64_t next_id;
    uint64_t received; /* items the receiver took (the stats counter) */
} M;

#define RING(p) M.ring[(p) % (sizeof M.ring / sizeof M.ring[0])]

static size_t m_len(void)
{
    if (M.kind == RENDEZVOUS)
        return 0;
    return (size_t)(M.tail - M.head);
}

static bool m_ending(void)
{
    return M.closed || M.nsenders == 0;
}

static void m_push(int kind, uint64_t v)
{
    RING(M.tail) = (ent_t){kind, v};
    M.tail++;
}

static uint64_t new_id(void)
{
    return M.next_id < FZ_MAX_IDS ? M.next_id++ : FZ_MAX_IDS - 1;
}

static bool ids_left(size_t k)
{
    return M.next_id + k < FZ_MAX_IDS - 1;
}

static void q_remove(int i)
{
    for (int k = 0; k < M.nq; k++)
        if (M.sendq[k] == i) {
            memmove(&M.sendq[k], &M.sendq[k + 1],
                    (size_t)(M.nq - k - 1) * sizeof M.sendq[0]);
            M.nq--;
            return;
        }
}

/* Bounded: the receiver passed a position; its slot goes to the first
 * waiting sender (src/sync/bounded.c, handoff). */
static void m_free_slot(void)
{
    if (M.kind != BOUNDED || M.nq == 0)
        return;
    sop_t *w = &M.op[M.sendq[0]];
    q_remove(M.sendq[0]);
    w->state = OP_DONE;
    w->status = 0;
    if (w->type == T_RESERVE) {
        w->pos = M.tail;
        m_push(E_PERMIT, 0);
    } else {
        w->done = 1;
        m_push(E_ITEM, w->items[0]);
    }
}

/* Closing fails every waiting sender; a waiting rendezvous receive ends. */
static void m_close(void)
{
    if (M.closed)
        return;
    M.closed = true;
    while (M.nq) {
        sop_t *w = &M.op[M.sendq[0]];
        q_remove(M.sendq[0]);
        w->state = OP_DONE;
        w->status = RILL_ECLOSED;
        w->done = 0;
    }
    if (M.kind == RENDEZVOUS && M.rop.state == OP_PENDING) {
        M.rop.state = OP_DONE;
        M.rop.status = RILL_DONE;
        M.rop.done = 0;
    }
}

/* A send that does not wait: the status and *k items moved. */
static int m_send_now(const uint64_t *items, size_t n, size_t *k)
{
    *k = 0;
    if (M.closed)
        return RILL_ECLOSED;
    if (M.kind == BOUNDED) {
        size_t room = M.cap - m_len();
        if (!room)
            return RILL_EFULL;
        *k = n < room ? n : room;
    } else if (M.kind == UNBOUNDED) {
        *k = n; /* at most: see m_commit */
        return 0;
    } else {
        if (M.rop.state != OP_PENDING)
            return RILL_EFULL;
        *k = n < M.rop.max ? n : M.rop.max;
        memcpy(M.rop.items, items, *k * sizeof *items);
        M.rop.done = *k;
        M.rop.status = 0;
        M.rop.state = OP_DONE;
        M.received += *k;
        return 0;
    }
    for (size_t i = 0; i < *k; i++)
        m_push(E_ITEM, items[i]);
    return 0;
}

/* Unbounded: a batch send stops at the end of the queue's current block
 * (as many as fit now, like write(2)), so the model takes the count the
 * channel reports, if it is 1..n, and queues those items. */
static void m_commit(const uint64_t *items, size_t n, size_t sent)
{
    if (M.kind != UNBOUNDED)
        return;
    FZ_CHECK(sent >= 1 && sent <= n);
    for (size_t i = 0; i < sent; i++)
        m_push(E_ITEM, items[i]);
}

/* A receive that does not wait: up to max items into out. */
static int m_recv_now(uint64_t *out, size_t max, size_t *got)
{
    *got = 0;
    if (M.kind == RENDEZVOUS) {
        if (m_ending())
            return RILL_DONE;
        while (M.nq && *got < max) {
            sop_t *w = &M.op[M.sendq[0]];
            size_t m = w->n < max - *got ? w->n : max - *got;
            memcpy(out + *got, w->items, m * sizeof *out);
            *got += m;
            q_remove(M.sendq[0]);
            w->state = OP_DONE;
            w->status = 0;
            w->done = m;
        }
        M.received += *got;
        return *got ? 0 : RILL_EEMPTY;
    }
    while (*got < max && M.head != M.tail) {
        ent_t e = RING(M.head);
        if (e.kind == E_PERMIT)
            break;
        if (e.kind == E_ITEM)
            out[(*got)++] = e.v;
        M.head++;
        m_free_slot();
    }
    M.received += *got;
    if (*got)
        return 0;
    return m_ending() && M.head == M.tail ? RILL_DONE : RILL_EEMPTY;
}

/* The receiver's release discards what is buffered: at once the items
 * before the first permit still out (the rest when the permit is done or
 * the channel freed; the final check covers those). */
static void m_release_rx(void)
{
    m_close();
    M.released = true;
    bool at_once = true;
    for (uint64_t p = M.head; p != M.tail; p++) {
        if (RING(p).kind == E_PERMIT)
            at_once = false;
        if (RING(p).kind != E_ITEM)
            continue;
        fz_owned[RING(p).v] = 1;
        if (at_once)
            FZ_CHECK(fz_dead[RING(p).v] == 1);
    }
    M.head = M.tail;
}

static void check_items(const uint64_t *got, const uint64_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        FZ_EQ(got[i], want[i]);
}

static void check_state(void)
{
    if (M.rx) {
        rill_channel_stats_t st;
        FZ_EQ(rill_receiver_len(M.rx), m_len());
        FZ_EQ(rill_receiver_is_closed(M.rx), m_ending());
        FZ_EQ(rill_receiver_stats(M.rx, &st), 0);
        FZ_EQ(st.received, M.received);
        FZ_EQ(st.len, m_len());
    }
    for (int i = 0; i < MAXTX; i++)
        if (M.tx[i]) {
            FZ_EQ(rill_sender_is_closed(M.tx[i]), M.closed);
            FZ_EQ(rill_sender_capacity(M.tx[i]),
                  M.kind == UNBOUNDED ? RILL_UNBOUNDED : M.cap);
        }
}

/* ---- the operations ---- */

static int pick_tx(fz_in_t *in)
{
    unsigned start = fz_pick(in, MAXTX);
    for (unsigned k = 0; k < MAXTX; k++) {
        int i = (int)((start + k) % MAXTX);
        if (M.tx[i])
            return i;
    }
    return -1;
}

static bool tx_busy(int txi)
{
    for (int i = 0; i < MAXOP; i++)
        if (M.op[i].state != OP_FREE && M.op[i].txi == txi)
            return true;
    return false;
}

static size_t fill(uint64_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        items[i] = new_id();
    return n;
}

static void do_send(fz_in_t *in, int form)
{
    int t = pick_tx(in);
    size_t n = form >= 2 ? 1 + fz_pick(in, MAXB) : 1;
    if (t < 0 || !ids_left(n))
        return;
    uint64_t items[MAXB];
    fill(items, n);
    size_t k = 0, sent = 0;
    int want = m_send_now(items, n, &k);
    if (want == RILL_EFULL && (form & 1))
        want = RILL_ETIMEDOUT; /* nothing can make room meanwhile */
    int r;
    rill_duration_t to = RILL_MS(1 + fz_pick(in, 50));
    switch (form) {
    case 0:
        r = rill_try_send(M.tx[t], &items[0]);
        break;
    case 1:
        if (want == 0 || want == RILL_ECLOSED) {
            r = rill_send(M.tx[t], &items[0]);
        } else {
            r = rill_send_timeout(M.tx[t], &items[0], to);
        }
        break;
    case 2:
        r = rill_try_send_many(M.tx[t], items, n, &sent);
        break;
    default:
        if (want == 0 || want == RILL_ECLOSED)
            r = rill_send_many(M.tx[t], items, n, &sent);
        else
            r = rill_send_many_timeout(M.tx[t], items, n, &sent, to);
        break;
    }
    FZ_EQ(r, want);
    if (r == 0 && M.kind == UNBOUNDED)
        m_commit(items, n, k = form >= 2 ? sent : 1);
    if (form >= 2)
        FZ_EQ(sent, k);
}

static void do_recv(fz_in_t *in, int form)
{
    if (!M.rx || M.rop.state != OP_FREE)
        return;
    size_t max = form >= 2 ? 1 + fz_pick(in, MAXB) : 1, n = 0, k = 0;
    uint64_t want_items[MAXB], got[MAXB];
    int want = m_recv_now(want_items, max, &k);
    if (want == RILL_EEMPTY && (form & 1))
        want = RILL_ETIMEDOUT;
    rill_duration_t to = RILL_MS(1 + fz_pick(in, 50));
    int r;
    switch (form) {
    case 0:
        r = rill_try_recv(M.rx, &got[0]);
        n = r == 0;
        break;
    case 1:
        if (want == 0 || want == RILL_DONE)
            r = rill_recv(M.rx, &got[0]);
        else
            r = rill_recv_timeout(M.rx, &got[0], to);
        n = r == 0;
        break;
    case 2:
        r = rill_try_recv_many(M.rx, got, max, &n);
        break;
    default:
        if (want == 0 || want == RILL_DONE)
            r = rill_recv_many(M.rx, got, max, &n);
        else
            r = rill_recv_many_timeout(M.rx, got, max, &n, to);
        break;
    }
    FZ_EQ(r, want);
    FZ_EQ(n, k);
    check_items(got, want_items, k);
}

static int free_pm(void)
{
    for (int i = 0; i < MAXPM; i++)
        if (!M.pm[i].live && !M.pm[i].by_op)
            return i;
    return -1;
}

/* A reserve that does not wait. */
static int m_reserve_now(uint64_t *pos)
{
    if (M.kind == RENDEZVOUS)
        return RILL_ENOTSUP;
    if (M.closed)
        return RILL_ECLOSED;
    if (M.kind == BOUNDED && m_len() >= M.cap)
        return RILL_EFULL;
    *pos = M.tail; /* unbounded permits hold a position too */
    m_push(E_PERMIT, 0);
    return 0;
}

static void do_reserve(fz_in_t *in, bool timed)
{
    int t = pick_tx(in), s = free_pm();
    if (t < 0 || s < 0)
        return;
    uint64_t pos = 0;
    int want = m_reserve_now(&pos);
    if (want == RILL_EFULL && timed)
        want = RILL_ETIMEDOUT;
    int r = timed ? rill_reserve_timeout(M.tx[t], &M.pm[s].p,
                                         RILL_MS(1 + fz_pick(in, 9)))
                  : rill_try_reserve(M.tx[t], &M.pm[s].p);
    FZ_EQ(r, want);
    if (r == 0)
        M.pm[s] = (pm_t){true, false, M.pm[s].p, pos};
}

static void do_permit(fz_in_t *in, bool send)
{
    int s = (int)fz_pick(in, MAXPM);
    if (!M.pm[s].live || !ids_left(1))
        return;
    pm_t *p = &M.pm[s];
    p->live = false;
    if (!send) {
        FZ_EQ(rill_permit_release(&p->p), 0);
        if (!M.released)
            RING(p->pos).kind = E_SKIP;
        return;
    }
    uint64_t v = new_id();
    FZ_EQ(rill_permit_send(&p->p, &v), 0);
    if (M.released) {
        fz_owned[v] = 1; /* in the channel's hands: discarded */
    } else {
        RING(p->pos) = (ent_t){E_ITEM, v};
    }
}

/* ---- futures polled by hand ---- */

static void op_result(sop_t *o, int r)
{
    FZ_EQ(r, o->status);
    if (o->type != T_RESERVE) {
        if (o->type == T_MANY)
            FZ_EQ(o->sent, r == 0 ? o->done : 0);
    } else if (r == 0) {
        M.pm[o->pmi].live = true;
        M.pm[o->pmi].pos = o->pos;
    }
    if (o->type == T_RESERVE)
        M.pm[o->pmi].by_op = false;
    o->state = OP_FREE;
}

static void op_start(fz_in_t *in)
{
    int i = (int)fz_pick(in, MAXOP), t = pick_tx(in);
    sop_t *o = &M.op[i];
    if (o->state != OP_FREE || t < 0)
        return;
    o->type = (int)fz_pick(in, 3);
    o->txi = t;
    o->n = o->type == T_MANY ? 1 + fz_pick(in, MAXB) : 1;
    if (!ids_left(o->n))
        return;
    int want;
    size_t k = 0;
    if (o->type == T_RESERVE) {
        if ((o->pmi = free_pm()) < 0)
            return;
        M.pm[o->pmi].by_op = true;
        want = m_reserve_now(&o->pos);
        rill_reserve_op(&o->u.r, M.tx[t], &M.pm[o->pmi].p);
    } else {
        fill(o->items, o->n);
        want = m_send_now(o->items, o->n, &k);
        if (o->type == T_SEND)
            rill_send_op(&o->u.s, M.tx[t], o->items, sizeof o->items[0]);
        else
            rill_send_many_op(&o->u.s, M.tx[t], o->items, o->n, &o->sent,
                              sizeof o->items[0]);
    }
    o->state = OP_PENDING;
    int r = fz_poll(&o->u.s.base);
    if (want == RILL_EFULL) {
        FZ_EQ(r, RILL_PENDING);
        M.sendq[M.nq++] = i;
        return;
    }
    o->status = want;
    o->done = k;
    if (r == 0 && M.kind == UNBOUNDED && o->type != T_RESERVE)
        m_commit(o->items, o->n, o->done = o->type == T_MANY ? o->sent : 1);
    op_result(o, r);
}

static void op_poll(fz_in_t *in, bool cancel)
{
    sop_t *o = &M.op[fz_pick(in, MAXOP)];
    if (o->state == OP_FREE)
        return;
    int r = cancel ? rill_future_cancel(&o->u.s.base) : fz_poll(&o->u.s.base);
    if (o->state == OP_DONE) {
        op_result(o, r);
        return;
    }
    FZ_EQ(r, RILL_PENDING);
    if (cancel) {
        q_remove((int)(o - M.op));
        if (o->type == T_RESERVE)
            M.pm[o->pmi].by_op = false;
        o->state = OP_FREE;
    }
}

static void rop_result(int r)
{
    rop_t *o = &M.rop;
    FZ_EQ(r, o->status);
    if (o->single)
        o->n = r == 0;
    FZ_EQ(o->n, r == 0 ? o->done : 0);
    check_items(o->out, o->items, r == 0 ? o->done : 0);
    o->state = OP_FREE;
}

/* A buffered receive is wake-and-retry: each poll receives afresh. A
 * rendezvous receive waits to be handed items (or the end). */
static void rop_poll(void)
{
    rop_t *o = &M.rop;
    if (o->state == OP_DONE) {
        rop_result(fz_poll(&o->op.base));
        return;
    }
    int want = m_recv_now(o->items, o->max, &o->done);
    int r = fz_poll(&o->op.base);
    if (want == RILL_EEMPTY) {
        FZ_EQ(r, RILL_PENDING);
        return;
    }
    o->status = want;
    rop_result(r);
}

static void rop_start(fz_in_t *in)
{
    rop_t *o = &M.rop;
    if (!M.rx || o->state != OP_FREE)
        return;
    o->max = fz_pick(in, 2) ? 1 + fz_pick(in, MAXB) : 0;
    o->n = 0;
    if (o->max)
        rill_recv_many_op(&o->op, M.rx, o->out, o->max, &o->n,
                          sizeof o->out[0]);
    else
        rill_recv_op(&o->op, M.rx, o->out, sizeof o->out[0]);
    o->single = !o->max;
    if (o->single)
        o->max = 1;
    o->state = OP_PENDING;
    rop_poll();
}

static void rop_cancel(void)
{
    rop_t *o = &M.rop;
    if (o->state == OP_FREE)
        return;
    int r = rill_future_cancel(&o->op.base);
    if (o->state == OP_DONE) {
        rop_result(r);
        return;
    }
    FZ_EQ(r, RILL_PENDING);
    o->state = OP_FREE;
}

/* ---- handles ---- */

static void do_clone(fz_in_t *in)
{
    int t = pick_tx(in);
    for (int i = 0; t >= 0 && i < MAXTX; i++)
        if (!M.tx[i]) {
            FZ_EQ(rill_sender_clone(M.tx[t], &M.tx[i]), 0);
            M.nsenders++;
            return;
        }
}

static void do_release_tx(fz_in_t *in)
{
    int t = pick_tx(in);
    if (t < 0 || tx_busy(t))
        return;
    FZ_EQ(rill_sender_release(M.tx[t]), 0);
    M.tx[t] = NULL;
    if (--M.nsenders == 0 && M.kind == RENDEZVOUS &&
        M.rop.state == OP_PENDING) {
        M.rop.state = OP_DONE;
        M.rop.status = RILL_DONE;
        M.rop.done = 0;
    }
}

static void do_release_rx(void)
{
    if (!M.rx || M.rop.state != OP_FREE)
        return;
    FZ_EQ(rill_receiver_release(M.rx), 0);
    M.rx = NULL;
    m_release_rx();
}

static void body(fz_in_t *in)
{
    memset(&M, 0, sizeof M);
    M.kind = FUZZ_KIND;
    if (M.kind == BOUNDED) {
        static const size_t caps[] = {1, 7, 1, 7, 2, 3, 4, 8};
        M.cap = caps[fz_pick(in, 8)];
    } else {
        M.cap = M.kind == RENDEZVOUS ? 0 : RILL_UNBOUNDED;
    }
    rill_channel_config_t o = {.name = "fuzz", .item_dtor = fz_dtor};
    FZ_EQ(rill_channel_new(&M.tx[0], &M.rx, sizeof(uint64_t), M.cap, &o), 0);
    M.nsenders = 1;
    while (fz_more(in)) {
        unsigned what = fz_pick(in, 20);
        switch (what) {
        case 0:
        case 1:
        case 2:
        case 3:
            do_send(in, (int)what);
            break;
        case 4:
        case 5:
        case 6:
        case 7:
            do_recv(in, (int)what - 4);
            break;
        case 8:
        case 9:
            do_reserve(in, what == 9);
            break;
        case 10:
        case 11:
            do_permit(in, what == 10);
            break;
        case 12:
            op_start(in);
            break;
        case 13:
        case 14:
            op_poll(in, what == 14);
            break;
        case 15:
            if (M.rop.state == OP_FREE)
                rop_start(in);
            else if (fz_pick(in, 2))
                rop_poll();
            else
                rop_cancel();
            break;
        case 16:
            if (M.rx) {
                FZ_EQ(rill_receiver_close(M.rx), 0);
                m_close();
            }
            break;
        case 17:
            do_clone(in);
            break;
        case 18:
            do_release_tx(in);
            break;
        default:
            if (fz_pick(in, 4) == 0)
                do_release_rx();
            break;
        }
        check_state();
    }
    /* Wind down: finish the futures, use the permits, release it all. */
    for (int i = 0; i < MAXOP; i++)
        if (M.op[i].state != OP_FREE) {
            sop_t *so = &M.op[i];
            int r = rill_future_cancel(&so->u.s.base);
            if (so->state == OP_DONE) {
                op_result(so, r);
            } else {
                FZ_EQ(r, RILL_PENDING);
                q_remove(i);
                if (so->type == T_RESERVE)
                    M.pm[so->pmi].by_op = false;
                so->state = OP_FREE;
            }
        }
    if (M.rop.state != OP_FREE)
        rop_cancel();
    for (int i = 0; i < MAXPM; i++)
        if (M.pm[i].live) {
            M.pm[i].live = false;
            FZ_EQ(rill_permit_release(&M.pm[i].p), 0);
            if (!M.released)
                RING(M.pm[i].pos).kind = E_SKIP;
        }
    if (M.rx) {
        FZ_EQ(rill_receiver_release(M.rx), 0);
        M.rx = NULL;
        m_release_rx();
    }
    for (int i = 0; i < MAXTX; i++)
        if (M.tx[i])
            FZ_EQ(rill_sender_release(M.tx[i]), 0);
    fz_check_dead(M.next_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}
