/* SPDX-License-Identifier: MIT */
/*
 * test_chan.c - mpsc channels: each kind's semantics, bad input, close and
 * release, destructors, permits, many-forms, timeouts, poll_recv, stats.
 * Plain threads (the task side has its own tests).
 */
#include "test_util.h"
#include <rill.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const size_t caps[] = {1, 7, 1024, RILL_UNBOUNDED};
#define NCAPS (sizeof caps / sizeof caps[0])

/* ---- destructor accounting ---- */
typedef struct {
    int calls;
    long sum;
} dtor_log_t;

static void log_dtor(void *item, void *ud)
{
    dtor_log_t *l = ud;
    l->calls++;
    l->sum += *(int *)item;
}

/* ------------------------------------------------------------------------ */

static void test_fifo_each_buffered_kind(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCAPS; c++) {
        rill_sender_t *tx;
        rill_receiver_t *rx;
        assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), caps[c], NULL),
                         0);
        size_t n = caps[c] == RILL_UNBOUNDED ? 1000 : caps[c];
        for (int i = 0; i < (int)n; i++)
            assert_int_equal(rill_try_send(tx, &i), 0);
        int v = -1;
        if (caps[c] != RILL_UNBOUNDED)
            assert_int_equal(rill_try_send(tx, &v), RILL_EFULL);
        assert_int_equal(rill_sender_len(tx), n);
        assert_int_equal(rill_receiver_len(rx), n);
        assert_int_equal(rill_sender_capacity(tx), caps[c]);
        for (int i = 0; i < (int)n; i++) {
            assert_int_equal(rill_try_recv(rx, &v), 0);
            assert_int_equal(v, i);
        }
        assert_int_equal(rill_try_recv(rx, &v), RILL_EEMPTY);
        /* a second lap around the ring */
        for (int i = 0; i < (int)n; i++)
            assert_int_equal(rill_send(tx, &i), 0);
        for (int i = 0; i < (int)n; i++) {
            assert_int_equal(rill_recv(rx, &v), 0);
            assert_int_equal(v, i);
        }
        assert_int_equal(rill_sender_release(tx), 0);
        assert_int_equal(rill_recv(rx, &v), RILL_DONE);
        assert_int_equal(rill_try_recv(rx, &v), RILL_DONE);
        assert_true(rill_receiver_is_closed(rx));
        assert_int_equal(rill_receiver_release(rx), 0);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    int v = 1;
    double d = 2;
    assert_int_equal(rill_channel_new(&tx, &rx, 0, 4, NULL), RILL_EINVAL);
    assert_null(tx);
    assert_int_equal(rill_channel_new(NULL, &rx, 4, 4, NULL), RILL_EINVAL);
    assert_int_equal(rill_channel_new(&tx, NULL, 4, 4, NULL), RILL_EINVAL);
    assert_int_equal(rill_channel_new(&tx, &rx, 1u << 20, SIZE_MAX / 2, NULL),
                     RILL_EINVAL);
    assert_int_equal(rill_channel_new(&tx, &rx, SIZE_MAX / 2, 3, NULL),
                     RILL_EINVAL);
    assert_int_equal(rill_channel_new(&tx, &rx, 8, (size_t)1 << 41, NULL),
                     RILL_EINVAL);

    assert_int_equal(rill_try_send(NULL, &v), RILL_EINVAL);
    assert_int_equal(rill_send(NULL, &v), RILL_EINVAL);
    assert_int_equal(rill_recv(NULL, &v), RILL_EINVAL);
    assert_int_equal(rill_try_recv(NULL, &v), RILL_EINVAL);
    assert_int_equal(rill_sender_release(NULL), 0);
    assert_int_equal(rill_receiver_release(NULL), 0);
    assert_int_equal(rill_receiver_close(NULL), RILL_EINVAL);

    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), 4, NULL), 0);
    assert_int_equal(rill_try_send(tx, &d), RILL_EINVAL); /* size mismatch */
    assert_int_equal(rill_send(tx, &d), RILL_EINVAL);
    assert_int_equal(rill_recv_timeout(rx, &d, RILL_MS(1)), RILL_EINVAL);
    assert_int_equal(rill_try_send_sized(tx, NULL, sizeof(int)), RILL_EINVAL);
    size_t n = 9;
    assert_int_equal(rill_try_send_many(tx, &v, 0, &n), RILL_EINVAL);
    assert_int_equal(n, 0);

    /* send after close: ECLOSED, the caller keeps the item */
    assert_int_equal(rill_try_send(tx, &v), 0);
    assert_int_equal(rill_receiver_close(rx), 0);
    assert_int_equal(rill_receiver_close(rx), 0); /* idempotent */
    assert_true(rill_sender_is_closed(tx));
    assert_int_equal(rill_try_send(tx, &v), RILL_ECLOSED);
    assert_int_equal(rill_send(tx, &v), RILL_ECLOSED);
    /* buffered items drain after close, then DONE */
    int got = 0;
    assert_int_equal(rill_recv(rx, &got), 0);
    assert_int_equal(got, 1);
    assert_int_equal(rill_recv(rx, &got), RILL_DONE); /* closed and empty */

    /* double release: reported, no crash, counts intact */
    rill_sender_t *tx2;
    assert_int_equal(rill_sender_clone(tx, &tx2), 0);
    assert_int_equal(rill_sender_release(tx2), 0);
#ifndef NDEBUG
    assert_int_equal(rill_sender_release(tx2), RILL_EALREADY);
    assert_int_equal(rill_try_send(tx2, &v), RILL_EINVAL); /* released */
#endif
    assert_int_equal(rill_sender_release(tx), 0);
    assert_int_equal(rill_sender_release(tx), RILL_EALREADY); /* rx alive */
    assert_int_equal(rill_receiver_release(rx), 0);
}

static void test_destructor_on_release(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCAPS; c++) {
        dtor_log_t log = {0, 0};
        rill_channel_config_t o = {"d", log_dtor, &log};
        rill_sender_t *tx;
        rill_receiver_t *rx;
        assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), caps[c], &o),
                         0);
        int n = caps[c] == 1 ? 1 : 5;
        for (int i = 1; i <= n; i++)
            assert_int_equal(rill_try_send(tx, &i), 0);
        int v;
        assert_int_equal(rill_recv(rx, &v), 0); /* 1 received */
        assert_int_equal(rill_receiver_release(rx), 0);
        assert_int_equal(log.calls, n - 1);
        assert_int_equal(log.sum, (long)n * (n + 1) / 2 - 1);
        assert_int_equal(rill_try_send(tx, &v), RILL_ECLOSED);
        rill_channel_stats_t st;
        assert_int_equal(rill_sender_stats(tx, &st), 0);
        assert_int_equal(st.sent, (uint64_t)n);
        assert_int_equal(st.received + st.discarded, st.sent);
        assert_string_equal(st.name, "d");
        assert_int_equal(rill_sender_release(tx), 0);
        assert_int_equal(log.calls, n - 1); /* exactly once */
    }
}

static void test_many(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCAPS; c++) {
        rill_sender_t *tx;
        rill_receiver_t *rx;
        assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), caps[c], NULL),
                         0);
        int in[100], out[100];
        for (int i = 0; i < 100; i++)
            in[i] = i;
        size_t sent = 0, total = 0, got = 0;
        int expect = 0;
        while (total < 100) {
            int r = rill_try_send_many(tx, in + total, 100 - total, &sent);
            if (r == RILL_EFULL) {
                assert_int_equal(sent, 0);
                assert_int_equal(rill_try_recv_many(rx, out, 100, &got), 0);
                for (size_t i = 0; i < got; i++)
                    assert_int_equal(out[i], expect++);
                continue;
            }
            assert_int_equal(r, 0);
            assert_true(sent >= 1);
            total += sent;
        }
        while (expect < 100) {
            assert_int_equal(rill_recv_many(rx, out, 7, &got), 0);
            assert_true(got >= 1 && got <= 7);
            for (size_t i = 0; i < got; i++)
                assert_int_equal(out[i], expect++);
        }
        assert_int_equal(rill_try_recv_many(rx, out, 3, &got), RILL_EEMPTY);
        assert_int_equal(got, 0);
        rill_sender_release(tx);
        assert_int_equal(rill_recv_many(rx, out, 3, &got), RILL_DONE);
        rill_receiver_release(rx);
    }
}

static void test_timeouts_leave_no_trace(void **state)
{
    (void)state;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    int v = 7;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), 1, NULL), 0);
    assert_int_equal(rill_recv_timeout(rx, &v, RILL_MS(2)), RILL_ETIMEDOUT);
    assert_int_equal(rill_send(tx, &v), 0);
    int w = 8;
    assert_int_equal(rill_send_timeout(tx, &w, RILL_MS(2)), RILL_ETIMEDOUT);
    rill_channel_stats_t st;
    rill_sender_stats(tx, &st);
    assert_int_equal(st.len, 1);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.waits_full, 1);
    assert_int_equal(st.waits_empty, 1);
    assert_int_equal(st.high_water, 1);
    int got;
    assert_int_equal(rill_recv(rx, &got), 0);
    assert_int_equal(got, 7);
    assert_int_equal(rill_try_recv(rx, &got), RILL_EEMPTY); /* 8 never sent */
    assert_int_equal(rill_send(tx, &w), 0);                 /* slot is free */
    assert_int_equal(rill_recv(rx, &got), 0);
    assert_int_equal(got, 8);
    rill_sender_release(tx);
    rill_receiver_release(rx);

    /* rendezvous: a timed-out send leaves nothing behind */
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), 0, NULL), 0);
    assert_int_equal(rill_send_timeout(tx, &v, RILL_MS(2)), RILL_ETIMEDOUT);
    assert_int_equal(rill_try_recv(rx, &got), RILL_EEMPTY);
    assert_int_equal(rill_recv_timeout(rx, &got, RILL_MS(2)), RILL_ETIMEDOUT);
    assert_int_equal(rill_try_send(tx, &v), RILL_EFULL);
    rill_sender_release(tx);
    rill_receiver_release(rx);
}

/* ---- rendezvous hand-off ---- */
typedef struct {
    rill_sender_t *tx;
    rill_receiver_t *rx;
    int n;
    int result;
    pthread_barrier_t *bar;
} peer_t;

static void *rdv_sender(void *arg)
{
    peer_t *p = arg;
    for (int i = 0; i < p->n; i++)
        if (rill_send(p->tx, &i) != 0)
            return (void *)1;
    p->result = rill_sender_release(p->tx);
    return NULL;
}

static void test_rendezvous_handoff(void **state)
{
    (void)state;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), 0, NULL), 0);
    assert_int_equal(rill_sender_capacity(tx), 0);
    int v = 5;
    assert_int_equal(rill_try_send(tx, &v), RILL_EFULL); /* no receiver */
    peer_t p = {tx, rx, 1000, -1, NULL};
    pthread_t th;
    pthread_create(&th, NULL, rdv_sender, &p);
    for (int i = 0; i < 1000; i++) {
        int got;
        assert_int_equal(rill_recv(rx, &got), 0);
        assert_int_equal(got, i);
        assert_int_equal(rill_receiver_len(rx), 0);
    }
    int got;
    assert_int_equal(rill_recv(rx, &got), RILL_DONE);
    pthread_join(th, NULL);
    assert_int_equal(p.result, 0);
    rill_channel_stats_t st;
    rill_receiver_stats(rx, &st);
    assert_int_equal(st.sent, 1000);
    assert_int_equal(st.received, 1000);
    rill_receiver_release(rx);
}

/* A send completes only when the receiver has taken the item. */
typedef struct {
    rill_sender_t *tx;
    _Atomic int sent;
} rdv_probe_t;

static void *rdv_probe(void *arg)
{
    rdv_probe_t *p = arg;
    int v = 99;
    int r = rill_send(p->tx, &v);
    atomic_store(&p->sent, r == 0 ? 1 : -1);
    return NULL;
}

static void test_rendezvous_waits_for_receiver(void **state)
{
    (void)state;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), 0, NULL), 0);
    rdv_probe_t p = {tx, 0};
    pthread_t th;
    pthread_create(&th, NULL, rdv_probe, &p);
    /* the sender cannot have completed: nobody received */
    int got = 0;
    while (rill_try_recv(rx, &got) == RILL_EEMPTY) {
        assert_int_equal(atomic_load(&p.sent), 0);
        sched_yield();
    }
    assert_int_equal(got, 99);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&p.sent), 1);
    /* close with a sender waiting: it fails and keeps its item */
    pthread_create(&th, NULL, rdv_probe, &p);
    while (rill_sender_stats(tx, &(rill_channel_stats_t){0}) == 0) {
        rill_channel_stats_t st;
        rill_sender_stats(tx, &st);
        if (st.waits_full == 2)
            break;
        sched_yield();
    }
    rill_receiver_close(rx);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&p.sent), -1);
    assert_int_equal(rill_recv(rx, &got), RILL_DONE);
    rill_sender_release(tx);
    rill_receiver_release(rx);
}

/* ---- permits ---- */
static void test_permits(void **state)
{
    (void)state;
    const size_t pc[] = {1, 7, RILL_UNBOUNDED};
    for (size_t c = 0; c < 3; c++) {
        dtor_log_t log = {0, 0};
        rill_channel_config_t o = {NULL, log_dtor, &log};
        rill_sender_t *tx;
        rill_receiver_t *rx;
        assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), pc[c], &o), 0);
        rill_permit_t p1, p2;
        assert_int_equal(rill_try_reserve(tx, &p1), 0);
        if (pc[c] == 1)
            assert_int_equal(rill_try_reserve(tx, &p2), RILL_EFULL);
        assert_int_equal(rill_permit_release(&p1), 0); /* slot back */
        assert_int_equal(rill_permit_release(&p1), RILL_EINVAL);
        int v = 3, got;
        assert_int_equal(rill_try_recv(rx, &got), RILL_EEMPTY);
        assert_int_equal(rill_reserve(tx, &p2), 0);
        double d = 1;
        assert_int_equal(rill_permit_send(&p2, &d), RILL_EINVAL);
        assert_int_equal(rill_permit_send(&p2, &v), 0);
        assert_int_equal(rill_recv(rx, &got), 0);
        assert_int_equal(got, 3);
        /* a permit keeps the channel alive and its item goes to the
         * destructor if the receiver went away */
        assert_int_equal(rill_try_reserve(tx, &p1), 0);
        rill_receiver_release(rx);
        assert_int_equal(rill_try_reserve(tx, &p2), RILL_ECLOSED);
        rill_sender_release(tx);
        v = 4;
        assert_int_equal(rill_permit_send(&p1, &v), 0);
        assert_int_equal(log.calls, 1);
        assert_int_equal(log.sum, 4);
    }
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_permit_t p;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), 0, NULL), 0);
    assert_int_equal(rill_try_reserve(tx, &p), RILL_ENOTSUP);
    rill_sender_release(tx);
    rill_receiver_release(rx);
}

/* ---- poll_recv with a hand-made waker ---- */
typedef struct {
    _Atomic int wakes;
} flag_t;
static rill_waker_t fl_clone(const void *d);
static void fl_wake(const void *d)
{
    atomic_fetch_add(&((flag_t *)d)->wakes, 1);
}
static void fl_release(const void *d)
{
    (void)d;
}
static const rill_waker_vtable_t fl_vt = {fl_clone, fl_wake, fl_wake,
                                          fl_release};
static rill_waker_t fl_clone(const void *d)
{
    return (rill_waker_t){&fl_vt, d};
}

static void test_poll_recv(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCAPS + 1; c++) {
        size_t cap = c < NCAPS ? caps[c] : 0;
        flag_t f = {0};
        rill_waker_t w = {&fl_vt, &f};
        rill_cx_t cx = RILL_CX_INIT(&w);
        rill_sender_t *tx;
        rill_receiver_t *rx;
        assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), cap, NULL), 0);
        int got = 0, v = 11;
        assert_int_equal(rill_poll_recv(rx, &cx, &got, sizeof got),
                         RILL_PENDING);
        assert_int_equal(rill_poll_recv(rx, &cx, &got, sizeof got),
                         RILL_PENDING);
        assert_int_equal(atomic_load(&f.wakes), 0);
        assert_int_equal(rill_try_send(tx, &v), 0); /* rendezvous: to pw */
        assert_int_equal(atomic_load(&f.wakes), 1);
        assert_int_equal(rill_poll_recv(rx, &cx, &got, sizeof got), 0);
        assert_int_equal(got, 11);
        /* budget: exhausted -> PENDING with a self-wake, item stays */
        if (cap > 1) {
            assert_int_equal(rill_try_send(tx, &v), 0);
            assert_int_equal(rill_try_send(tx, &v), 0);
            cx.budget = 1;
            assert_int_equal(rill_poll_recv(rx, &cx, &got, sizeof got), 0);
            assert_int_equal(cx.budget, 0);
            assert_int_equal(rill_poll_recv(rx, &cx, &got, sizeof got),
                             RILL_PENDING);
            assert_int_equal(atomic_load(&f.wakes), 2);
            cx.budget = -1;
            assert_int_equal(rill_poll_recv(rx, &cx, &got, sizeof got), 0);
        }
        /* registered, then the last sender goes: woken, DONE */
        assert_int_equal(rill_poll_recv(rx, &cx, &got, sizeof got),
                         RILL_PENDING);
        int before = atomic_load(&f.wakes);
        rill_sender_release(tx);
        assert_true(atomic_load(&f.wakes) > before);
        assert_int_equal(rill_poll_recv(rx, &cx, &got, sizeof got), RILL_DONE);
        rill_receiver_release(rx);
    }
}

/* ---- blocking producers against a slow consumer ---- */
typedef struct {
    rill_sender_t *tx;
    int id, n;
} prod_t;

static void *producer(void *arg)
{
    prod_t *p = arg;
    for (int i = 0; i < p->n; i++) {
        int v = p->id * 1000000 + i;
        if (rill_send(p->tx, &v) != 0)
            abort();
    }
    rill_sender_release(p->tx);
    return NULL;
}

static void test_blocking_mpsc(void **state)
{
    (void)state;
    const size_t cs[] = {0, 1, 7, 1024, RILL_UNBOUNDED};
    for (size_t c = 0; c < 5; c++) {
        enum { P = 4 };
        int n = SCALE(50000, 10);
        rill_sender_t *tx;
        rill_receiver_t *rx;
        assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), cs[c], NULL),
                         0);
        pthread_t th[P];
        prod_t pr[P];
        for (int i = 0; i < P; i++) {
            pr[i].id = i;
            pr[i].n = n;
            assert_int_equal(rill_sender_clone(tx, &pr[i].tx), 0);
            pthread_create(&th[i], NULL, producer, &pr[i]);
        }
        rill_sender_release(tx);
        int next[P] = {0};
        int v, r, total = 0;
        while ((r = rill_recv(rx, &v)) == 0) {
            int id = v / 1000000, seq = v % 1000000;
            assert_int_equal(seq, next[id]); /* per-producer FIFO */
            next[id]++;
            total++;
        }
        assert_int_equal(r, RILL_DONE);
        assert_int_equal(total, P * n);
        for (int i = 0; i < P; i++)
            pthread_join(th[i], NULL);
        rill_receiver_release(rx);
    }
}

/* ---- waiting senders are served first come, first served ---- */
typedef struct {
    rill_sender_t *tx;
    int id;
} fifo_arg_t;

static void *fifo_sender(void *arg)
{
    fifo_arg_t *a = arg;
    if (rill_send(a->tx, &a->id) != 0)
        abort();
    return NULL;
}

static void test_waiting_senders_fifo(void **state)
{
    (void)state;
    const size_t cs[] = {0, 1, 3};
    for (int c = 0; c < 3; c++) {
        enum { W = 6 };
        rill_sender_t *tx;
        rill_receiver_t *rx;
        assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), cs[c], NULL),
                         0);
        int fill = 100;
        for (size_t i = 0; i < cs[c]; i++)
            assert_int_equal(rill_try_send(tx, &fill), 0);
        pthread_t th[W];
        fifo_arg_t args[W];
        for (int i = 0; i < W; i++) {
            args[i] = (fifo_arg_t){tx, i};
            pthread_create(&th[i], NULL, fifo_sender, &args[i]);
            /* start the next one only once this one waits */
            for (;;) {
                rill_channel_stats_t st;
                rill_sender_stats(tx, &st);
                if (st.waits_full == (uint64_t)i + 1)
                    break;
                sched_yield();
            }
        }
        int v;
        for (size_t i = 0; i < cs[c]; i++) {
            assert_int_equal(rill_recv(rx, &v), 0);
            assert_int_equal(v, 100);
        }
        for (int i = 0; i < W; i++) {
            assert_int_equal(rill_recv(rx, &v), 0);
            assert_int_equal(v, i); /* in the order they started waiting */
        }
        for (int i = 0; i < W; i++)
            pthread_join(th[i], NULL);
        rill_sender_release(tx);
        rill_receiver_release(rx);
    }
}

/* ---- unbounded: memory goes back after a burst ---- */
static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    if (f)
        fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_unbounded_memory_returns(void **state)
{
    (void)state;
    if (RILL_TEST_SANITIZED)
        skip(); /* the sanitizers' allocators keep freed memory */
    rill_sender_t *tx;
    rill_receiver_t *rx;
    assert_int_equal(
        rill_channel_new(&tx, &rx, sizeof(uint64_t), RILL_UNBOUNDED, NULL), 0);
    uint64_t v = 0, sum = 0;
    for (int i = 0; i < 1000; i++) { /* warm: first blocks, cache */
        assert_int_equal(rill_try_send(tx, &v), 0);
        assert_int_equal(rill_try_recv(rx, &v), 0);
    }
    long before = rss_kib();
    const uint64_t n = 10000000;
    for (uint64_t i = 0; i < n; i++)
        assert_true(rill_try_send(tx, &i) == 0);
    long full = rss_kib();
    while (rill_try_recv(rx, &v) == 0)
        sum += v;
    long after = rss_kib();
    assert_true(sum == n * (n - 1) / 2);
    assert_true(full - before > 50 * 1024); /* the burst did take memory */
    if (after - before > 2048)
        fail_msg("RSS %ld KiB before, %ld full, %ld after draining", before,
                 full, after);
    rill_channel_stats_t st;
    rill_receiver_stats(rx, &st);
    assert_true(st.high_water >= n - 32 && st.high_water <= n);
    rill_sender_release(tx);
    rill_receiver_release(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_each_buffered_kind),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_destructor_on_release),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_timeouts_leave_no_trace),
        cmocka_unit_test(test_rendezvous_handoff),
        cmocka_unit_test(test_rendezvous_waits_for_receiver),
        cmocka_unit_test(test_permits),
        cmocka_unit_test(test_poll_recv),
        cmocka_unit_test(test_blocking_mpsc),
        cmocka_unit_test(test_waiting_senders_fifo),
        cmocka_unit_test(test_unbounded_memory_returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
