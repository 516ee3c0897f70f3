/* SPDX-License-Identifier: MIT */
/*
 * fuzz_select.c - rill_select over several channels against a reference
 * model: a bounded channel (capacity 1..3 from the input), a rendezvous
 * and an unbounded channel, a oneshot and timer cases; sends and receives
 * on them, in selects with the default case, with a deadline on the
 * virtual clock, biased or fair, and plain try operations, closes and
 * releases in between.
 *
 * Model: a case is ready when its operation would complete now (with an
 * item, or with RILL_ECLOSED / RILL_DONE); a rendezvous case is ready only
 * when the channel is closed or ended (nothing else waits here, and a
 * select never pairs its own send and receive); a timer case when its
 * deadline has passed. A biased select completes the first ready case, a
 * fair one any ready case; exactly that case takes effect (the model then
 * checks the item, the queue and every later operation), the others leave
 * no trace. With none ready: RILL_EAGAIN with the default case, else the
 * earliest timer case or RILL_ETIMEDOUT at the deadline.
 */
#include "fuzz.h"

enum { NCH = 3, MAXQ = 1 << 12, MAXCASES = 6 };
enum { BOUNDED, RENDEZVOUS, UNBOUNDED };
enum { C_SEND, C_RECV, C_ONESHOT, C_SLEEP };

typedef struct {
    int kind;
    size_t cap;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    bool closed;
    uint64_t q[MAXQ];
    size_t head, tail;
} ch_t;

static struct {
    ch_t ch[NCH];
    rill_oneshot_sender_t *otx;
    rill_oneshot_receiver_t *orx;
    bool o_has, o_taken;
    uint64_t o_val, next_id;
} M;

typedef struct {
    int type, ch;
    union {
        rill_send_op_t s;
        rill_recv_op_t r;
        rill_oneshot_recv_op_t o;
        rill_sleep_op_t t;
    } u;
    uint64_t item, out;
    rill_duration_t after; /* C_SLEEP */
} case_t;

static size_t qlen(const ch_t *c)
{
    return c->tail - c->head;
}

static bool ended(const ch_t *c)
{
    return (c->closed || !c->tx) && qlen(c) == 0;
}

/* The status the case completes with now, or RILL_PENDING. */
static int ready(const case_t *k)
{
    const ch_t *c = &M.ch[k->ch];
    switch (k->type) {
    case C_SEND:
        if (c->closed)
            return RILL_ECLOSED;
        if (c->kind == UNBOUNDED || (c->kind == BOUNDED && qlen(c) < c->cap))
            return 0;
        return RILL_PENDING;
    case C_RECV:
        if (c->kind != RENDEZVOUS && qlen(c))
            return 0;
        return ended(c) ? RILL_DONE : RILL_PENDING;
    case C_ONESHOT:
        if (M.o_taken || (!M.o_has && !M.otx))
            return RILL_DONE;
        return M.o_has ? 0 : RILL_PENDING;
    default:
        return k->after <= 0 ? 0 : RILL_PENDING;
    }
}

/* The winning case takes effect in the model; check what it gave. */
static void apply(case_t *k, int st)
{
    ch_t *c = &M.ch[k->ch];
    if (st != 0)
        return;
    if (k->type == C_SEND) {
        c->q[c->tail++ % MAXQ] = k->item;
    } else if (k->type == C_RECV) {
        FZ_EQ(k->out, c->q[c->head++ % MAXQ]);
    } else if (k->type == C_ONESHOT) {
        FZ_EQ(k->out, M.o_val);
        M.o_has = false;
        M.o_taken = true;
    }
}

static void do_select(fz_in_t *in)
{
    case_t cases[MAXCASES];
    rill_future_t *fut[MAXCASES];
    size_t n = 1 + fz_pick(in, MAXCASES);
    rill_instant_t now = rill_now();
    for (size_t i = 0; i < n; i++) {
        case_t *k = &cases[i];
        k->type = (int)fz_pick(in, 4);
        k->ch = (int)fz_pick(in, NCH);
        ch_t *c = &M.ch[k->ch];
        if (k->type == C_SEND && !c->tx)
            k->type = C_SLEEP;
        if ((k->type == C_RECV && !c->rx) || (k->type == C_ONESHOT && !M.orx))
            k->type = C_SLEEP;
        switch (k->type) {
        case C_SEND:
            k->item = M.next_id++;
            rill_send_op(&k->u.s, c->tx, &k->item, sizeof k->item);
            break;
        case C_RECV:
            rill_recv_op(&k->u.r, c->rx, &k->out, sizeof k->out);
            break;
        case C_ONESHOT:
            rill_oneshot_recv_op(&k->u.o, M.orx, &k->out, sizeof k->out);
            break;
        default:
            /* Distinct deadlines (odd ms, or already passed) so that
             * which timer is first is never a tie. */
            k->after = fz_pick(in, 3) == 0
                           ? -RILL_MS(1)
                           : RILL_MS(2 * (int64_t)fz_pick(in, 50) + 1) +
                                 (rill_duration_t)i;
            rill_sleep_op(&k->u.t, now + k->after);
            break;
        }
        fut[i] = &k->u.s.base;
    }
    unsigned mode = fz_pick(in, 4);
    unsigned flags = (mode & 1) ? RILL_SELECT_BIASED : 0;
    rill_instant_t deadline = RILL_FOREVER;
    if (mode & 2)
        flags |= RILL_SELECT_DEFAULT;
    else
        deadline = now + RILL_MS(2 * (int64_t)fz_pick(in, 60));
    int want[MAXCASES], first = -1, st = 99;
    for (size_t i = 0; i < n; i++)
        if ((want[i] = ready(&cases[i])) != RILL_PENDING && first < 0)
            first = (int)i;
    int w = rill_select(fut, n, flags, deadline, &st);
    if (first < 0 && !(flags & RILL_SELECT_DEFAULT)) {
        /* The earliest timer before the deadline wins. */
        for (size_t i = 0; i < n; i++)
            if (cases[i].type == C_SLEEP && now + cases[i].after < deadline &&
                (first < 0 || cases[i].after < cases[first].after))
                first = (int)i;
        if (first >= 0)
            want[first] = 0;
    }
    if (first < 0) {
        FZ_EQ(w, (flags & RILL_SELECT_DEFAULT) ? RILL_EAGAIN : RILL_ETIMEDOUT);
    } else if (flags & RILL_SELECT_BIASED) {
        FZ_EQ(w, first);
    } else {
        FZ_CHECK(w >= 0 && (size_t)w < n && want[w] != RILL_PENDING);
    }
    if (w >= 0) {
        FZ_EQ(st, want[w]);
        apply(&cases[w], st);
    }
    for (size_t i = 0; i < n; i++)
        if (cases[i].type == C_SLEEP)
            rill_sleep_op_cancel(&cases[i].u.t);
}

static void do_plain(fz_in_t *in)
{
    ch_t *c = &M.ch[fz_pick(in, NCH)];
    uint64_t v = M.next_id++, got = 0;
    switch (fz_pick(in, 6)) {
    case 0:
        if (c->tx) {
            case_t k = {.type = C_SEND, .ch = (int)(c - M.ch), .item = v};
            int want = ready(&k);
            FZ_EQ(rill_try_send(c->tx, &v),
                  want == RILL_PENDING ? RILL_EFULL : want);
            apply(&k, want);
        }
        break;
    case 1:
        if (c->rx) {
            case_t k = {.type = C_RECV, .ch = (int)(c - M.ch)};
            int want = ready(&k);
            FZ_EQ(rill_try_recv(c->rx, &k.out),
                  want == RILL_PENDING ? RILL_EEMPTY : want);
            apply(&k, want);
        }
        break;
    case 2:
        if (c->rx) {
            FZ_EQ(rill_receiver_close(c->rx), 0);
            c->closed = true;
        }
        break;
    case 3:
        if (c->tx && fz_pick(in, 3) == 0) {
            FZ_EQ(rill_sender_release(c->tx), 0);
            c->tx = NULL;
        }
        break;
    case 4:
        if (M.otx) {
            FZ_EQ(rill_oneshot_send(M.otx, &v),
                  M.o_has || M.o_taken ? RILL_EALREADY : 0);
            if (!M.o_has && !M.o_taken) {
                M.o_has = true;
                M.o_val = v;
            }
        }
        break;
    default:
        if (M.otx && fz_pick(in, 3) == 0) {
            FZ_EQ(rill_oneshot_sender_release(M.otx), 0);
            M.otx = NULL;
        }
        (void)got;
        break;
    }
}

static void body(fz_in_t *in)
{
    memset(&M, 0, sizeof M);
    rill_channel_config_t o = {.name = "sel", .item_dtor = fz_dtor};
    static const size_t caps[] = {0, 0, RILL_UNBOUNDED};
    for (int i = 0; i < NCH; i++) {
        ch_t *c = &M.ch[i];
        c->kind = i;
        c->cap = i == BOUNDED ? 1 + fz_pick(in, 3) : caps[i];
        FZ_EQ(rill_channel_new(&c->tx, &c->rx, sizeof(uint64_t), c->cap, &o),
              0);
    }
    FZ_EQ(rill_oneshot_new(&M.otx, &M.orx, sizeof(uint64_t), NULL), 0);
    while (fz_more(in) && M.next_id < MAXQ - 16) {
        if (fz_pick(in, 2))
            do_select(in);
        else
            do_plain(in);
        for (int i = 0; i < NCH; i++)
            if (M.ch[i].rx)
                FZ_EQ(rill_receiver_len(M.ch[i].rx),
                      M.ch[i].kind == RENDEZVOUS ? 0 : qlen(&M.ch[i]));
    }
    for (int i = 0; i < NCH; i++) {
        ch_t *c = &M.ch[i];
        for (size_t p = c->head; p != c->tail; p++)
            fz_owned[c->q[p % MAXQ]] = 1;
        FZ_EQ(rill_receiver_release(c->rx), 0);
        FZ_EQ(rill_sender_release(c->tx), 0);
    }
    FZ_EQ(rill_oneshot_receiver_release(M.orx), 0);
    FZ_EQ(rill_oneshot_sender_release(M.otx), 0);
    fz_check_dead(M.next_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}
