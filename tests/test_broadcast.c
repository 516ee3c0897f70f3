/* SPDX-License-Identifier: MIT */
/* test_broadcast.c - the broadcast channel: lag counts exact, backpressure
 * lossless (many receivers, millions of items across threads), closing,
 * cancel safety, misuse. */
#include "chan_test.h"
#include "sync/chan_util.h"
#include <rill/broadcast.h>
#include <string.h>

static const int modes[2] = {RILL_BROADCAST_LAG, RILL_BROADCAST_BACKPRESSURE};

static void test_basic(void **state)
{
    (void)state;
    for (int m = 0; m < 2; m++) {
        rill_broadcast_sender_t *tx;
        rill_broadcast_receiver_t *a, *b;
        rill_channel_config_t o = {.name = "bus"};
        assert_status(rill_broadcast_new(&tx, &a, sizeof(int), 8, modes[m], &o),
                      0);
        int v = 1, out = 0;
        uint64_t missed = 99;
        assert_status(rill_broadcast_try_recv(a, &out, &missed), RILL_EEMPTY);
        assert_status(rill_broadcast_send(tx, &v), 0);
        assert_status(rill_broadcast_subscribe(tx, &b), 0);
        assert_int_equal(rill_broadcast_receiver_count(tx), 2);
        v = 2;
        assert_status(rill_broadcast_send(tx, &v), 0);
        assert_int_equal(rill_broadcast_len(a), 2);
        assert_int_equal(rill_broadcast_len(b), 1);
        assert_status(rill_broadcast_recv(a, &out, &missed), 0);
        assert_int_equal(out, 1);
        assert_status(rill_broadcast_recv(a, &out, NULL), 0);
        assert_int_equal(out, 2);
        assert_status(rill_broadcast_try_recv(b, &out, NULL), 0);
        assert_int_equal(out, 2); /* b subscribed after 1 */
        v = 3;
        assert_status(rill_broadcast_send(tx, &v), 0);
        rill_channel_stats_t st;
        assert_status(rill_broadcast_stats(tx, NULL, &st), 0);
        assert_string_equal(st.name, "bus");
        assert_int_equal(st.sent, 3);
        assert_int_equal(st.received, 3);
        assert_int_equal(st.capacity, 8);
        assert_int_equal(st.len, 1); /* both read up to 2; 3 is unread */
        assert_false(st.is_closed);
        /* Last sender gone: receivers drain, then RILL_DONE. */
        assert_status(rill_broadcast_sender_release(tx), 0);
        assert_status(rill_broadcast_recv(a, &out, NULL), 0);
        assert_int_equal(out, 3);
        assert_status(rill_broadcast_recv(a, &out, NULL), RILL_DONE);
        assert_status(rill_broadcast_try_recv(a, &out, NULL), RILL_DONE);
        assert_status(rill_broadcast_recv(b, &out, NULL), 0);
        assert_status(rill_broadcast_recv(b, &out, NULL), RILL_DONE);
        assert_status(rill_broadcast_receiver_release(a), 0);
        assert_status(rill_broadcast_receiver_release(b), 0);
    }
}

static void test_no_receivers(void **state)
{
    (void)state;
    for (int m = 0; m < 2; m++) {
        rill_broadcast_sender_t *tx, *tx2;
        rill_broadcast_receiver_t *rx;
        int v = 1;
        assert_status(
            rill_broadcast_new(&tx, NULL, sizeof v, 2, modes[m], NULL), 0);
        assert_status(rill_broadcast_send(tx, &v), RILL_ECLOSED);
        assert_status(rill_broadcast_subscribe(tx, &rx), 0);
        assert_status(rill_broadcast_sender_clone(tx, &tx2), 0);
        assert_status(rill_broadcast_send(tx2, &v), 0);
        assert_status(rill_broadcast_receiver_release(rx), 0);
        assert_status(rill_broadcast_try_send(tx, &v), RILL_ECLOSED);
        assert_status(rill_broadcast_sender_release(tx), 0);
        assert_status(rill_broadcast_sender_release(tx2), 0);
    }
}

/* Lag mode: a receiver that fell behind learns exactly how much it missed
 * and continues from the oldest item kept. */
static void test_lag_exact(void **state)
{
    (void)state;
    const size_t caps[] = {1, 4, 5, 16};
    for (size_t ci = 0; ci < 4; ci++) {
        size_t cap = caps[ci];
        rill_broadcast_sender_t *tx;
        rill_broadcast_receiver_t *rx;
        assert_status(rill_broadcast_new(&tx, &rx, sizeof(uint64_t), cap,
                                         RILL_BROADCAST_LAG, NULL),
                      0);
        uint64_t total = 3 * cap + 2, v, missed = 0;
        for (v = 0; v < total; v++)
            assert_status(rill_broadcast_try_send(tx, &v), 0);
        assert_int_equal(rill_broadcast_len(rx), cap);
        assert_status(rill_broadcast_recv(rx, &v, &missed), RILL_ELAGGED);
        assert_int_equal(missed, total - cap);
        for (uint64_t i = total - cap; i < total; i++) {
            assert_status(rill_broadcast_recv(rx, &v, &missed), 0);
            assert_int_equal(v, i);
        }
        assert_status(rill_broadcast_try_recv(rx, &v, &missed), RILL_EEMPTY);
        rill_channel_stats_t st;
        assert_status(rill_broadcast_stats(NULL, rx, &st), 0);
        assert_int_equal(st.discarded, total - cap); /* missed by rx */
        assert_int_equal(st.received, cap);
        /* A batch that holds items leaves a lag for the next call. */
        for (v = 0; v < cap + 1; v++)
            assert_status(rill_broadcast_try_send(tx, &v), 0);
        ct_waker_t c = {0};
        rill_waker_t w = ct_waker(&c);
        rill_cx_t cx = RILL_CX_INIT(&w);
        uint64_t buf[32];
        size_t n = 0;
        assert_status(rill_broadcast_poll_recv_many(rx, &cx, buf, 32,
                                                    sizeof *buf, &n, &missed),
                      RILL_ELAGGED);
        assert_int_equal(missed, 1);
        assert_status(rill_broadcast_poll_recv_many(rx, &cx, buf, 32,
                                                    sizeof *buf, &n, &missed),
                      0);
        assert_int_equal(n, cap);
        assert_int_equal(buf[0], 1);
        rill_broadcast_sender_release(tx);
        rill_broadcast_receiver_release(rx);
    }
}

static void test_backpressure_full(void **state)
{
    (void)state;
    rill_broadcast_sender_t *tx;
    rill_broadcast_receiver_t *a, *b;
    assert_status(rill_broadcast_new(&tx, &a, sizeof(int), 3,
                                     RILL_BROADCAST_BACKPRESSURE, NULL),
                  0);
    assert_status(rill_broadcast_subscribe(tx, &b), 0);
    int v, out;
    for (v = 0; v < 3; v++)
        assert_status(rill_broadcast_try_send(tx, &v), 0);
    assert_status(rill_broadcast_try_send(tx, &v), RILL_EFULL);
    /* Long enough that the send parks (counted in waits_full below)
     * before its deadline: a full send yields once first, and 100 us
     * could pass in that yield on a loaded machine (a failure seen). */
    assert_status(rill_broadcast_send_timeout(tx, &v, RILL_MS(200)),
                  RILL_ETIMEDOUT);
    /* a reads all; b still holds the sender back. */
    for (int i = 0; i < 3; i++)
        assert_status(rill_broadcast_recv(a, &out, NULL), 0);
    assert_status(rill_broadcast_try_send(tx, &v), RILL_EFULL);
    assert_status(rill_broadcast_recv(b, &out, NULL), 0);
    assert_int_equal(out, 0);
    assert_status(rill_broadcast_try_send(tx, &v), 0);
    assert_status(rill_broadcast_try_send(tx, &v), RILL_EFULL);
    /* Releasing the slowest receiver frees the sender. */
    assert_status(rill_broadcast_receiver_release(b), 0);
    assert_status(rill_broadcast_try_send(tx, &v), 0);
    assert_status(rill_broadcast_try_send(tx, &v), 0);
    assert_status(rill_broadcast_try_send(tx, &v), RILL_EFULL);
    rill_channel_stats_t st;
    assert_status(rill_broadcast_stats(tx, NULL, &st), 0);
    assert_int_equal(st.high_water, 3);
    assert_int_equal(st.waits_full, 1);
    /* Close: a full channel refuses, receivers drain then end. */
    assert_status(rill_broadcast_close(tx), 0);
    assert_status(rill_broadcast_try_send(tx, &v), RILL_ECLOSED);
    int got = 0;
    while (rill_broadcast_recv(a, &out, NULL) == 0)
        got++;
    assert_int_equal(got, 3);
    rill_broadcast_sender_release(tx);
    rill_broadcast_receiver_release(a);
}

static void test_misuse(void **state)
{
    (void)state;
    rill_broadcast_sender_t *tx;
    rill_broadcast_receiver_t *rx;
    const int bp = RILL_BROADCAST_BACKPRESSURE;
    assert_status(rill_broadcast_new(&tx, &rx, 0, 4, bp, NULL), RILL_EINVAL);
    assert_status(rill_broadcast_new(&tx, &rx, 4, 0, bp, NULL), RILL_EINVAL);
    assert_status(rill_broadcast_new(&tx, &rx, 4, 4, 3, NULL), RILL_EINVAL);
    rill_channel_config_t o = {.item_dtor = ct_dtor};
    assert_status(rill_broadcast_new(&tx, &rx, 4, 4, bp, &o),
                  RILL_EINVAL); /* copied to every receiver: no owner */
    assert_status(rill_broadcast_new(NULL, &rx, 4, 4, bp, NULL), RILL_EINVAL);
    assert_status(rill_broadcast_new(&tx, &rx, (size_t)1 << 30, (size_t)1 << 32,
                                     bp, NULL),
                  RILL_EINVAL); /* 2^62 bytes: refused, not attempted */
    assert_status(rill_broadcast_new(&tx, &rx, 4, SIZE_MAX, bp, NULL),
                  RILL_EINVAL);
    assert_status(rill_broadcast_new(&tx, &rx, sizeof(int), 4, bp, NULL), 0);
    double d = 0;
    uint64_t missed;
    assert_status(rill_broadcast_send(tx, &d), RILL_EINVAL);
    assert_status(rill_broadcast_try_send(tx, &d), RILL_EINVAL);
    assert_status(rill_broadcast_recv(rx, &d, &missed), RILL_EINVAL);
    assert_status(rill_broadcast_try_recv(rx, &d, &missed), RILL_EINVAL);
    assert_status(rill_broadcast_send_sized(NULL, &d, 4), RILL_EINVAL);
    assert_status(rill_broadcast_recv_sized(rx, NULL, 4, NULL), RILL_EINVAL);
    assert_status(rill_broadcast_subscribe(NULL, &rx), RILL_EINVAL);
    assert_status(rill_broadcast_close(NULL), RILL_EINVAL);
    rill_broadcast_recv_op_t op;
    rill_broadcast_recv_op(&op, rx, &d, sizeof d, NULL);
    assert_status(rill_await(&op.base), RILL_EINVAL);
    assert_status(
        rill_broadcast_receiver_release((rill_broadcast_receiver_t *)tx),
        RILL_EINVAL);
    assert_status(rill_broadcast_receiver_release(rx), 0);
    assert_status(rill_broadcast_receiver_release(rx), RILL_EALREADY);
    assert_status(rill_broadcast_sender_release(tx), 0);
    assert_status(rill_broadcast_sender_release(tx), RILL_EALREADY);
    assert_status(rill_broadcast_sender_release(NULL), 0);
    assert_status(rill_broadcast_receiver_release(NULL), 0);
}

/* Withdrawn operations leave no trace: a pending recv took nothing, a
 * pending backpressure send sent nothing. */
static void test_cancel_leaves_no_trace(void **state)
{
    (void)state;
    rill_broadcast_sender_t *tx;
    rill_broadcast_receiver_t *rx;
    assert_status(rill_broadcast_new(&tx, &rx, sizeof(int), 1,
                                     RILL_BROADCAST_BACKPRESSURE, NULL),
                  0);
    ct_waker_t c = {0};
    rill_waker_t w = ct_waker(&c);
    rill_cx_t cx = RILL_CX_INIT(&w);
    int out = -1, v = 1, v2 = 2;
    rill_broadcast_recv_op_t r;
    rill_broadcast_recv_op(&r, rx, &out, sizeof out, NULL);
    /* Caught up: the first poll yields (woken at once, not parked), the
     * second parks. */
    assert_status(rill_future_poll(&r.base, &cx), RILL_PENDING);
    assert_int_equal(atomic_load(&c.wakes), 1);
    assert_int_equal(atomic_load(&c.refs), 0);
    assert_status(rill_future_poll(&r.base, &cx), RILL_PENDING);
    assert_int_equal(atomic_load(&c.refs), 1);
    assert_status(rill_future_cancel(&r.base), RILL_PENDING);
    assert_int_equal(atomic_load(&c.refs), 0);
    assert_status(rill_broadcast_send(tx, &v), 0);
    assert_int_equal(atomic_load(&c.wakes), 1);
    assert_int_equal(out, -1);
    rill_broadcast_send_op_t s;
    rill_broadcast_send_op(&s, tx, &v2, sizeof v2);
    /* Full: the first poll yields (woken at once), the second parks. */
    assert_status(rill_future_poll(&s.base, &cx), RILL_PENDING);
    assert_int_equal(atomic_load(&c.wakes), 2);
    assert_int_equal(atomic_load(&c.refs), 0);
    assert_status(rill_future_poll(&s.base, &cx), RILL_PENDING);
    assert_int_equal(atomic_load(&c.refs), 1);
    assert_status(rill_future_cancel(&s.base), RILL_PENDING);
    assert_int_equal(atomic_load(&c.refs), 0);
    assert_status(rill_broadcast_recv(rx, &out, NULL), 0);
    assert_int_equal(out, 1);
    assert_status(rill_broadcast_try_recv(rx, &out, NULL), RILL_EEMPTY);
    /* The poll functions: a waiting sender is woken by the receiver that
     * makes room, a waiting receiver by the send. */
    assert_status(rill_broadcast_send(tx, &v), 0);
    assert_status(rill_broadcast_poll_send(tx, &cx, &v2, sizeof v2),
                  RILL_PENDING); /* yields */
    assert_status(rill_broadcast_poll_send(tx, &cx, &v2, sizeof v2),
                  RILL_PENDING); /* parks */
    assert_int_equal(atomic_load(&c.wakes), 3);
    assert_status(rill_broadcast_recv(rx, &out, NULL), 0);
    assert_int_equal(atomic_load(&c.wakes), 4);
    assert_status(rill_broadcast_poll_send(tx, &cx, &v2, sizeof v2), 0);
    assert_status(rill_broadcast_recv(rx, &out, NULL), 0);
    assert_int_equal(out, 2);
    assert_status(rill_broadcast_poll_recv(rx, &cx, &out, sizeof out, NULL),
                  RILL_PENDING); /* yields */
    assert_status(rill_broadcast_poll_recv(rx, &cx, &out, sizeof out, NULL),
                  RILL_PENDING); /* parks */
    assert_int_equal(atomic_load(&c.wakes), 5);
    assert_status(rill_broadcast_send(tx, &v), 0);
    assert_int_equal(atomic_load(&c.wakes), 6);
    cx.budget = 0;
    assert_status(rill_broadcast_poll_recv(rx, &cx, &out, sizeof out, NULL),
                  RILL_PENDING);
    assert_int_equal(atomic_load(&c.wakes), 7);
    cx.budget = 2;
    assert_status(rill_broadcast_poll_recv(rx, &cx, &out, sizeof out, NULL), 0);
    assert_int_equal(cx.budget, 1);
    rill_broadcast_sender_release(tx);
    rill_broadcast_receiver_release(rx);
    assert_int_equal(atomic_load(&c.refs), 0);
}

/* A sender waiting on a full channel is released by close. */
static void *blocked_sender(void *arg)
{
    int v = 7;
    return (void *)(intptr_t)rill_broadcast_send((rill_broadcast_sender_t *)arg,
                                                 &v);
}

static void test_close_wakes_sender(void **state)
{
    (void)state;
    rill_broadcast_sender_t *tx;
    rill_broadcast_receiver_t *rx;
    assert_status(rill_broadcast_new(&tx, &rx, sizeof(int), 1,
                                     RILL_BROADCAST_BACKPRESSURE, NULL),
                  0);
    int v = 1;
    assert_status(rill_broadcast_send(tx, &v), 0);
    pthread_t t = ct_start(blocked_sender, tx);
    rill_channel_stats_t st;
    do { /* wait until it really waits (no sleeping) */
        assert_status(rill_broadcast_stats(tx, NULL, &st), 0);
        sched_yield();
    } while (st.waits_full == 0);
    assert_status(rill_broadcast_close(tx), 0);
    assert_status((intptr_t)ct_join(t), RILL_ECLOSED);
    rill_broadcast_sender_release(tx);
    rill_broadcast_receiver_release(rx);
}

/* ---- stress: many receivers, millions of items across threads ---- */

typedef struct {
    rill_broadcast_receiver_t *rx;
    int senders;
    int batch; /* use poll_recv_many with this batch (0: recv) */
    int slow;  /* lag mode: read slower than the sender */
    uint64_t got, missed, bad;
    ct_waker_t waker; /* outlives the thread: a sender may still wake it */
} sink_t;

/* Items are (sender << 48) | seq. Every sender's items must come in order;
 * in backpressure mode none may be missing. */
static void sink_check(sink_t *s, uint64_t *next, uint64_t v)
{
    uint64_t who = v >> 48, seq = v & ((1ULL << 48) - 1);
    if (who >= (uint64_t)s->senders || seq < next[who])
        s->bad++;
    else if (s->senders == 1 && seq != next[who])
        s->bad++; /* with one sender: exact, lag jumps accounted below */
    if (who < (uint64_t)s->senders)
        next[who] = seq + 1;
    s->got++;
}

static void *sink(void *arg)
{
    sink_t *s = arg;
    uint64_t next[4] = {0}, buf[64], missed = 0;
    rill_waker_t w = ct_waker(&s->waker);
    for (;;) {
        int r;
        size_t n = 1;
        if (s->batch) {
            /* The batch path by hand; when nothing is there, wait with
             * the one-item receive. */
            rill_cx_t cx = RILL_CX_INIT(&w);
            r = rill_broadcast_poll_recv_many(s->rx, &cx, buf, s->batch,
                                              sizeof *buf, &n, &missed);
            if (r == RILL_PENDING) {
                r = rill_broadcast_recv(s->rx, buf, &missed);
                n = 1;
            }
        } else {
            r = rill_broadcast_recv(s->rx, buf, &missed);
        }
        if (r == RILL_DONE)
            break;
        if (r == RILL_ELAGGED) {
            s->missed += missed;
            if (s->senders == 1)
                next[0] += missed;
            continue;
        }
        if (r != 0) {
            s->bad++;
            break;
        }
        for (size_t i = 0; i < n; i++)
            sink_check(s, next, buf[i]);
        if (s->slow && (s->got % 64) == 0)
            sched_yield();
    }
    rill_broadcast_receiver_release(s->rx);
    return NULL;
}

typedef struct {
    rill_broadcast_sender_t *tx;
    uint64_t id, n;
} source_t;

static void *source(void *arg)
{
    source_t *s = arg;
    for (uint64_t i = 0; i < s->n; i++) {
        uint64_t v = (s->id << 48) | i;
        if (rill_broadcast_send(s->tx, &v) != 0)
            return (void *)1;
    }
    rill_broadcast_sender_release(s->tx);
    return NULL;
}

static void run_stress(int mode, int senders, int receivers, size_t cap,
                       uint64_t per_sender)
{
    rill_broadcast_sender_t *tx;
    sink_t sinks[8] = {{0}};
    source_t src[4];
    pthread_t st[4], rt[8];
    assert_status(rill_broadcast_new(&tx, &sinks[0].rx, sizeof(uint64_t), cap,
                                     mode, NULL),
                  0);
    for (int i = 0; i < receivers; i++) {
        if (i)
            assert_status(rill_broadcast_subscribe(tx, &sinks[i].rx), 0);
        sinks[i].senders = senders;
        sinks[i].batch = (i % 2) ? 64 : 0;
        sinks[i].slow = mode == RILL_BROADCAST_LAG && i == receivers - 1;
    }
    /* Senders of different lengths: as they finish, the last one goes on
     * alone (the single-sender claim path after the CAS path). */
    uint64_t total = 0;
    for (int i = 0; i < senders; i++) {
        src[i].id = (uint64_t)i;
        src[i].n = per_sender >> i;
        total += src[i].n;
        if (i)
            assert_status(rill_broadcast_sender_clone(tx, &src[i].tx), 0);
        else
            src[i].tx = tx;
    }
    int64_t t0 = rill_now();
    for (int i = 0; i < receivers; i++)
        rt[i] = ct_start(sink, &sinks[i]);
    for (int i = 0; i < senders; i++)
        st[i] = ct_start(source, &src[i]);
    for (int i = 0; i < senders; i++)
        assert_null(ct_join(st[i]));
    for (int i = 0; i < receivers; i++) {
        ct_join(rt[i]);
        assert_int_equal(sinks[i].bad, 0);
        /* Exact: what a receiver got plus what it was told it missed is
         * everything sent. */
        assert_int_equal(sinks[i].got + sinks[i].missed, total);
        if (mode == RILL_BROADCAST_BACKPRESSURE)
            assert_int_equal(sinks[i].missed, 0);
    }
    if (getenv("BCAST_TIME")) /* diagnostics for a human */
        print_message("mode %d, %d x %d, capacity %zu: %.1f ms\n", mode,
                      senders, receivers, cap, (rill_now() - t0) / 1e6);
}

static void test_stress_backpressure_lossless(void **state)
{
    (void)state;
    run_stress(RILL_BROADCAST_BACKPRESSURE, 1, 4, 1024, SCALE(2000000, 20));
    /* The same without membarrier: the seq_cst handshake. */
    rill__asym_force_off(true);
    run_stress(RILL_BROADCAST_BACKPRESSURE, 1, 4, 1024, SCALE(1000000, 20));
    run_stress(RILL_BROADCAST_BACKPRESSURE, 2, 3, 1, SCALE(20000, 10));
    rill__asym_force_off(false);
    run_stress(RILL_BROADCAST_BACKPRESSURE, 3, 4, 64, SCALE(300000, 20));
    run_stress(RILL_BROADCAST_BACKPRESSURE, 2, 3, 1, SCALE(20000, 10));
}

static void test_stress_lag_exact(void **state)
{
    (void)state;
    run_stress(RILL_BROADCAST_LAG, 1, 4, 64, SCALE(2000000, 20));
    run_stress(RILL_BROADCAST_LAG, 2, 3, 7, SCALE(300000, 20));
}

/* ---- tasks ---- */

typedef struct {
    rill_broadcast_receiver_t *rx;
    int yield_every; /* lag runs: read slower than the sender */
    uint64_t got, missed, sum;
    const char *err;
} tsink_t;

static void *task_sink(void *arg)
{
    tsink_t *s = arg;
    uint64_t v, expect = 0, missed = 0;
    int r;
    while ((r = rill_broadcast_recv(s->rx, &v, &missed)) != RILL_DONE) {
        if (r == RILL_ELAGGED) {
            s->missed += missed;
            expect += missed;
            continue;
        }
        if (r != 0 || v != expect) {
            s->err = r ? "receive failed" : "item out of order";
            break;
        }
        expect++;
        s->got++;
        s->sum += v;
        if (s->yield_every && s->got % (uint64_t)s->yield_every == 0)
            rill_yield();
    }
    rill_broadcast_receiver_release(s->rx);
    return NULL;
}

/* One sender, R receiver tasks, capacity 1024. The sender is a task
 * (fanout_main run by rill_block_on) or the test's own plain thread
 * (fanout_threaded): the same channel serves both. */
typedef struct {
    int mode;
    uint64_t n;
    int receivers;
} tcase_t;

typedef struct {
    rill_broadcast_sender_t *tx;
    tsink_t sk[4];
    rill_task_t *t[4];
} fanout_t;

static int fanout_start(rill_runtime_t *rt, const tcase_t *c, fanout_t *f)
{
    memset(f, 0, sizeof *f);
    if (rill_broadcast_new(&f->tx, &f->sk[0].rx, sizeof(uint64_t), 1024,
                           c->mode, NULL))
        return -1;
    for (int i = 0; i < c->receivers; i++) {
        if (i && rill_broadcast_subscribe(f->tx, &f->sk[i].rx))
            return -1;
        if (c->mode == RILL_BROADCAST_LAG)
            f->sk[i].yield_every = 1 + 3 * i;
        if ((rt ? rill_spawn(&f->t[i], task_sink, &f->sk[i],
                             &(rill_spawn_config_t){.runtime = rt})
                : rill_spawn(&f->t[i], task_sink, &f->sk[i], NULL)) != 0)
            return -1;
    }
    return 0;
}

/* Send 0..n-1, release, join the receivers and check what they got. */
static const char *fanout_finish(const tcase_t *c, fanout_t *f)
{
    int64_t t0 = rill_now();
    for (uint64_t i = 0; i < c->n; i++)
        if (rill_broadcast_send(f->tx, &i) != 0)
            return "send failed";
    rill_broadcast_sender_release(f->tx);
    for (int i = 0; i < c->receivers; i++) {
        tsink_t *s = &f->sk[i];
        if (rill_join(f->t[i], NULL) != 0)
            return "join failed";
        if (s->err)
            return s->err;
        if (s->got + s->missed != c->n)
            return "got + missed != sent";
        if (c->mode == RILL_BROADCAST_BACKPRESSURE &&
            s->sum != c->n * (c->n - 1) / 2)
            return "backpressure lost or changed an item";
    }
    if (getenv("BCAST_TIME"))
        print_message("tasks, mode %d, 1 x %d, %s sender: %.1f ms\n", c->mode,
                      c->receivers, rill_task_current() ? "task" : "thread",
                      (rill_now() - t0) / 1e6);
    return NULL;
}

static void *fanout_main(void *arg)
{
    const tcase_t *c = arg;
    fanout_t f;
    CT_CHECK(fanout_start(NULL, c, &f) == 0);
    return (void *)fanout_finish(c, &f);
}

static void fanout_threaded(const tcase_t *c)
{
    rill_runtime_t *rt = test_new_rt(2, false);
    fanout_t f;
    assert_int_equal(fanout_start(rt, c, &f), 0);
    const char *err = fanout_finish(c, &f);
    rill_runtime_free(rt);
    if (err)
        fail_msg("%s", err);
}

static void test_tasks_backpressure_lossless(void **state)
{
    (void)state;
    tcase_t c = {RILL_BROADCAST_BACKPRESSURE, SCALE(1000000, 20), 4};
    ct_run(2, false, fanout_main, &c);
    c.n = SCALE(200000, 20);
    fanout_threaded(&c);
}

static void test_tasks_lag_exact(void **state)
{
    (void)state;
    tcase_t c = {RILL_BROADCAST_LAG, SCALE(1000000, 20), 4};
    ct_run(2, false, fanout_main, &c);
    fanout_threaded(&c);
}

/* Timeouts on the virtual clock; a cancelled waiting send sent nothing. */
static void *blocked_task_sender(void *arg)
{
    int v = 9;
    return (void *)(intptr_t)rill_broadcast_send((rill_broadcast_sender_t *)arg,
                                                 &v);
}

static void *timeouts_main(void *arg)
{
    (void)arg;
    rill_broadcast_sender_t *tx;
    rill_broadcast_receiver_t *rx;
    rill_task_t *t;
    int v = 1, out = 0;
    CT_CHECK(rill_broadcast_new(&tx, &rx, sizeof v, 1,
                                RILL_BROADCAST_BACKPRESSURE, NULL) == 0);
    rill_instant_t t0 = rill_now();
    CT_CHECK(rill_broadcast_recv_timeout(rx, &out, NULL, RILL_MS(30)) ==
             RILL_ETIMEDOUT);
    CT_CHECK(rill_now() - t0 == RILL_MS(30));
    CT_CHECK(rill_broadcast_send(tx, &v) == 0);
    CT_CHECK(rill_broadcast_send_timeout(tx, &v, RILL_MS(70)) ==
             RILL_ETIMEDOUT);
    CT_CHECK(rill_now() - t0 == RILL_MS(100));
    CT_CHECK(rill_spawn(&t, blocked_task_sender, tx, NULL) == 0);
    rill_sleep(RILL_MS(1));
    CT_CHECK(rill_task_cancel(t) == 0);
    void *r;
    CT_CHECK(rill_join(t, &r) == 0 && (intptr_t)r == RILL_ECANCELED);
    CT_CHECK(rill_broadcast_recv_timeout(rx, &out, NULL, RILL_MS(5)) == 0);
    CT_CHECK(out == 1);
    CT_CHECK(rill_broadcast_try_recv(rx, &out, NULL) == RILL_EEMPTY);
    rill_broadcast_sender_release(tx);
    CT_CHECK(rill_broadcast_recv_timeout(rx, &out, NULL, RILL_MS(5)) ==
             RILL_DONE);
    CT_CHECK(rill_now() - t0 == RILL_MS(101));
    rill_broadcast_receiver_release(rx);
    return NULL;
}

static void test_tasks_virtual_timeouts(void **state)
{
    (void)state;
    ct_run(2, true, timeouts_main, NULL);
}

/* ---- select over the wake-and-retry ops of all three kinds ---- */

static void *late_oneshot_send(void *arg)
{
    int v = 5;
    rill_sleep(RILL_MS(1));
    return (void *)(intptr_t)rill_oneshot_send((rill_oneshot_sender_t *)arg,
                                               &v);
}

static void *select_main(void *arg)
{
    (void)arg;
    rill_oneshot_sender_t *otx;
    rill_oneshot_receiver_t *orx;
    rill_watch_sender_t *wtx;
    rill_watch_receiver_t *wrx;
    rill_broadcast_sender_t *btx;
    rill_broadcast_receiver_t *b1, *b2;
    int v = 5, ov = 0, bv = 0, st = 0;
    CT_CHECK(rill_oneshot_new(&otx, &orx, sizeof v, NULL) == 0);
    CT_CHECK(rill_watch_new(&wtx, &wrx, sizeof v, &v, NULL) == 0);
    CT_CHECK(rill_broadcast_new(&btx, &b1, sizeof v, 4,
                                RILL_BROADCAST_BACKPRESSURE, NULL) == 0);
    CT_CHECK(rill_broadcast_subscribe(btx, &b2) == 0);

    /* Nothing ready: the deadline passes, no case leaves a trace. */
    rill_oneshot_recv_op_t o;
    rill_watch_changed_op_t w;
    rill_broadcast_recv_op_t r1, r2;
    rill_oneshot_recv_op(&o, orx, &ov, sizeof ov);
    rill_watch_changed_op(&w, wrx);
    rill_broadcast_recv_op(&r1, b1, &bv, sizeof bv, NULL);
    rill_future_t *cases[] = {&o.base, &w.base, &r1.base};
    rill_instant_t t0 = rill_now();
    CT_CHECK(rill_select(cases, 3, 0, rill_deadline(RILL_MS(20)), &st) ==
             RILL_ETIMEDOUT);
    CT_CHECK(rill_now() - t0 == RILL_MS(20));

    /* One ready (a broadcast item): that case completes, only it. */
    CT_CHECK(rill_broadcast_send(btx, &v) == 0);
    rill_oneshot_recv_op(&o, orx, &ov, sizeof ov);
    rill_watch_changed_op(&w, wrx);
    rill_broadcast_recv_op(&r1, b1, &bv, sizeof bv, NULL);
    CT_CHECK(rill_select(cases, 3, 0, RILL_FOREVER, &st) == 2);
    CT_CHECK(st == 0 && bv == 5 && ov == 0);
    CT_CHECK(rill_watch_version(wrx) == 0);

    /* A case woken while the select waits (a task sends a millisecond
     * later on the virtual clock). */
    rill_task_t *t;
    rill_oneshot_recv_op(&o, orx, &ov, sizeof ov);
    rill_watch_changed_op(&w, wrx);
    rill_broadcast_recv_op(&r1, b1, &bv, sizeof bv, NULL);
    CT_CHECK(rill_spawn(&t, late_oneshot_send, otx, NULL) == 0);
    CT_CHECK(rill_select(cases, 3, 0, RILL_FOREVER, &st) == 0);
    CT_CHECK(st == 0 && ov == 5 && rill_now() - t0 == RILL_MS(21));
    CT_CHECK(rill_join(t, NULL) == 0);

    /* Two ready receivers of one broadcast: exactly one takes its item,
     * the other still has it. */
    CT_CHECK(rill_broadcast_send(btx, &v) == 0);
    bv = 0;
    int bv2 = 0;
    rill_broadcast_recv_op(&r1, b1, &bv, sizeof bv, NULL);
    rill_broadcast_recv_op(&r2, b2, &bv2, sizeof bv2, NULL);
    rill_future_t *two[] = {&r1.base, &r2.base};
    int i = rill_select(two, 2, 0, RILL_FOREVER, &st);
    CT_CHECK((i == 0 && bv == 5 && bv2 == 0) ||
             (i == 1 && bv2 == 5 && bv == 0));
    int left = 0, x;
    while (rill_broadcast_try_recv(b1, &x, NULL) == 0)
        left++;
    while (rill_broadcast_try_recv(b2, &x, NULL) == 0)
        left++;
    CT_CHECK(left == 2); /* 2 items x 2 receivers, one taken per select */

    rill_oneshot_sender_release(otx);
    rill_oneshot_receiver_release(orx);
    rill_watch_sender_release(wtx);
    rill_watch_receiver_release(wrx);
    rill_broadcast_sender_release(btx);
    rill_broadcast_receiver_release(b1);
    rill_broadcast_receiver_release(b2);
    return NULL;
}

static void test_select(void **state)
{
    (void)state;
    ct_run(2, true, select_main, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_no_receivers),
        cmocka_unit_test(test_lag_exact),
        cmocka_unit_test(test_backpressure_full),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_cancel_leaves_no_trace),
        cmocka_unit_test(test_close_wakes_sender),
        cmocka_unit_test(test_stress_backpressure_lossless),
        cmocka_unit_test(test_stress_lag_exact),
        cmocka_unit_test(test_tasks_backpressure_lossless),
        cmocka_unit_test(test_tasks_lag_exact),
        cmocka_unit_test(test_tasks_virtual_timeouts),
        cmocka_unit_test(test_select),
    };
    return test_run(tests, NULL, NULL);
}
