/* SPDX-License-Identifier: MIT */
/*
 * test_chan_tasks.c - channels in rill tasks: every timeout on the virtual
 * clock (exact durations, no trace left), task cancellation of waiting
 * operations (RILL_ECANCELED, no trace left), rendezvous ping-pong between
 * tasks on one and on two workers, and a plain thread feeding a task.
 */
#include "test_util.h"
#include <rill.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* ---- timeouts on the virtual clock ---- */

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            return (void *)(intptr_t)__LINE__;                                 \
    } while (0)

static void *vt_timeouts(void *arg)
{
    (void)arg;
    const size_t caps[] = {0, 1, RILL_UNBOUNDED};
    for (int c = 0; c < 3; c++) {
        rill_sender_t *tx;
        rill_receiver_t *rx;
        CHECK(rill_channel_new(&tx, &rx, sizeof(int), caps[c], NULL) == 0);
        int v = 1, got = 0;
        size_t n = 0;
        rill_instant_t t0 = rill_now();
        CHECK(rill_recv_timeout(rx, &got, RILL_MS(250)) == RILL_ETIMEDOUT);
        CHECK(rill_now() - t0 == RILL_MS(250));
        t0 = rill_now();
        CHECK(rill_recv_many_timeout(rx, &got, 1, &n, RILL_MS(100)) ==
              RILL_ETIMEDOUT);
        CHECK(rill_now() - t0 == RILL_MS(100) && n == 0);
        if (caps[c] == 1)
            CHECK(rill_try_send(tx, &v) == 0); /* full now */
        if (caps[c] != RILL_UNBOUNDED) {
            int w = 2;
            t0 = rill_now();
            CHECK(rill_send_timeout(tx, &w, RILL_SEC(2)) == RILL_ETIMEDOUT);
            CHECK(rill_now() - t0 == RILL_SEC(2));
            t0 = rill_now();
            CHECK(rill_send_many_timeout(tx, &w, 1, &n, RILL_MS(1)) ==
                  RILL_ETIMEDOUT);
            CHECK(rill_now() - t0 == RILL_MS(1) && n == 0);
        }
        if (caps[c] == 1) {
            rill_permit_t p;
            t0 = rill_now();
            CHECK(rill_reserve_timeout(tx, &p, RILL_MS(7)) == RILL_ETIMEDOUT);
            CHECK(rill_now() - t0 == RILL_MS(7));
            /* no trace: exactly the one item, and its slot comes back */
            CHECK(rill_recv(rx, &got) == 0 && got == 1);
            CHECK(rill_try_recv(rx, &got) == RILL_EEMPTY);
            CHECK(rill_try_send(tx, &v) == 0);
            CHECK(rill_try_recv(rx, &got) == 0);
        }
        if (caps[c] == 0) /* no sender or receiver left waiting */
            CHECK(rill_try_send(tx, &v) == RILL_EFULL &&
                  rill_try_recv(rx, &got) == RILL_EEMPTY);
        rill_channel_stats_t st;
        rill_receiver_stats(rx, &st);
        CHECK(st.waits_empty == 2);
        rill_sender_release(tx);
        rill_receiver_release(rx);
    }
    return NULL;
}

/* Run fn as a task on a fresh runtime; fn returns the line of a failed
 * CHECK, or NULL. */
static void run_checked(unsigned workers, bool virtual_clock, rill_task_fn fn)
{
    rill_runtime_t *rt = test_new_rt(workers, virtual_clock);
    void *line = (void *)1;
    assert_int_equal(rill_block_on(rt, fn, NULL, &line), 0);
    if (line)
        fail_msg("check failed at line %ld", (long)(intptr_t)line);
    rill_runtime_free(rt);
}

static void test_virtual_clock_timeouts(void **state)
{
    (void)state;
    run_checked(2, true, vt_timeouts);
}

/* ---- task cancellation ---- */

typedef struct {
    rill_sender_t *tx;
    rill_receiver_t *rx;
    int which; /* 0 send, 1 recv, 2 select(send, recv), 3 reserve */
    _Atomic int started;
    int result;
} blk_t;

static void *blocked(void *arg)
{
    blk_t *b = arg;
    int v = 42, got = 0, st;
    atomic_store(&b->started, 1);
    switch (b->which) {
    case 0:
        b->result = rill_send(b->tx, &v);
        break;
    case 1:
        b->result = rill_recv(b->rx, &got);
        break;
    case 2: {
        rill_send_op_t s;
        rill_recv_op_t r;
        rill_send_op(&s, b->tx, &v, sizeof v);
        rill_recv_op(&r, b->rx, &got, sizeof got);
        rill_future_t *cases[2] = {&s.base, &r.base};
        b->result = rill_select(cases, 2, 0, RILL_FOREVER, &st);
        break;
    }
    default: {
        rill_permit_t p;
        b->result = rill_reserve(b->tx, &p);
        break;
    }
    }
    return NULL;
}

static void *cancel_main(void *arg)
{
    (void)arg;
    const size_t caps[] = {0, 1};
    for (int c = 0; c < 2; c++) {
        for (int which = 0; which < 4; which++) {
            /* rendezvous has no permits; a full capacity-1 channel makes
             * the select's receive case ready (covered elsewhere) */
            if ((caps[c] == 0 && which == 3) || (caps[c] == 1 && which == 2))
                continue;
            blk_t b;
            memset(&b, 0, sizeof b);
            b.which = which;
            CHECK(rill_channel_new(&b.tx, &b.rx, sizeof(int), caps[c], NULL) ==
                  0);
            int one = 1, got;
            if (caps[c] == 1)
                CHECK(rill_try_send(b.tx, &one) == 0); /* full */
            if (which == 1 && caps[c] == 1) /* empty: receiving waits */
                CHECK(rill_try_recv(b.rx, &got) == 0);
            rill_task_t *t;
            CHECK(rill_spawn(&t, blocked, &b, NULL) == 0);
            /* let it reach its wait: once it registered, a wait counts */
            for (;;) {
                rill_channel_stats_t st;
                rill_sender_stats(b.tx, &st);
                if (st.waits_full + st.waits_empty > 0)
                    break;
                rill_yield();
            }
            CHECK(rill_task_cancel(t) == 0);
            CHECK(rill_join(t, NULL) == 0);
            CHECK(b.result == RILL_ECANCELED);
            /* no trace: what was in the channel is all there is */
            size_t len = rill_receiver_len(b.rx);
            CHECK(len == (caps[c] == 1 && which != 1 ? 1u : 0u));
            if (caps[c] == 0) {
                CHECK(rill_try_recv(b.rx, &got) == RILL_EEMPTY);
                CHECK(rill_try_send(b.tx, &one) == RILL_EFULL);
            }
            rill_sender_release(b.tx);
            rill_receiver_release(b.rx);
        }
    }
    return NULL;
}

static void test_task_cancel_leaves_no_trace(void **state)
{
    (void)state;
    run_checked(2, false, cancel_main);
}

/* ---- rendezvous ping-pong between tasks ---- */

typedef struct {
    rill_sender_t *tx;
    rill_receiver_t *rx;
    int n;
} pp_t;

static void *pong(void *arg)
{
    pp_t *p = arg;
    int v;
    while (rill_recv(p->rx, &v) == 0)
        if (rill_send(p->tx, &v) != 0)
            break;
    rill_sender_release(p->tx);
    return NULL;
}

static void *ping(void *arg)
{
    pp_t *p = arg;
    for (int i = 0; i < p->n; i++) {
        int v;
        if (rill_send(p->tx, &i) != 0 || rill_recv(p->rx, &v) != 0 || v != i)
            return NULL;
    }
    rill_sender_release(p->tx);
    return (void *)1;
}

static void test_rendezvous_ping_pong(void **state)
{
    (void)state;
    for (unsigned workers = 1; workers <= 2; workers++) {
        rill_runtime_t *rt = test_new_rt(workers, false);
        pp_t a, b;
        assert_int_equal(rill_channel_new(&a.tx, &b.rx, sizeof(int), 0, NULL),
                         0);
        assert_int_equal(rill_channel_new(&b.tx, &a.rx, sizeof(int), 0, NULL),
                         0);
        a.n = b.n = SCALE(20000, 10);
        rill_task_t *ta, *tb;
        void *ok = NULL;
        assert_int_equal(
            rill_spawn(&tb, pong, &b, &(rill_spawn_config_t){.runtime = rt}),
            0);
        assert_int_equal(
            rill_spawn(&ta, ping, &a, &(rill_spawn_config_t){.runtime = rt}),
            0);
        assert_int_equal(rill_join(ta, &ok), 0);
        assert_int_equal(rill_join(tb, NULL), 0);
        assert_non_null(ok);
        rill_receiver_release(a.rx);
        rill_receiver_release(b.rx);
        rill_runtime_free(rt);
    }
}

/* ---- a plain thread feeds a task (the blocking bridge, W6) ---- */

typedef struct {
    rill_sender_t *tx;
    int n;
} feed_t;

static void *feeder(void *arg)
{
    feed_t *f = arg;
    for (int i = 0; i < f->n; i++)
        if (rill_send(f->tx, &i) != 0)
            return NULL;
    rill_sender_release(f->tx);
    return NULL;
}

static void *drain_task(void *arg)
{
    rill_receiver_t *rx = arg;
    long sum = 0;
    int v;
    while (rill_recv(rx, &v) == 0)
        sum += v;
    return (void *)(intptr_t)sum;
}

static void test_thread_feeds_task(void **state)
{
    (void)state;
    const size_t caps[] = {0, 1, 64, RILL_UNBOUNDED};
    rill_runtime_t *rt = test_new_rt(2, false);
    for (int c = 0; c < 4; c++) {
        feed_t f;
        rill_receiver_t *rx;
        f.n = SCALE(100000, 10);
        assert_int_equal(
            rill_channel_new(&f.tx, &rx, sizeof(int), caps[c], NULL), 0);
        pthread_t th;
        rill_task_t *t;
        assert_int_equal(rill_spawn(&t, drain_task, rx,
                                    &(rill_spawn_config_t){.runtime = rt}),
                         0);
        pthread_create(&th, NULL, feeder, &f);
        void *sum;
        assert_int_equal(rill_join(t, &sum), 0);
        pthread_join(th, NULL);
        assert_int_equal((long)(intptr_t)sum, (long)f.n * (f.n - 1) / 2);
        rill_receiver_release(rx);
    }
    rill_runtime_free(rt);
}

/* ---- sends and receives that never wait still yield (coop budget);
 * a cancelled task's waiting receive returns RILL_ECANCELED ---- */

static _Atomic int budget_flag;

static void *set_flag(void *arg)
{
    (void)arg;
    atomic_store(&budget_flag, 1);
    return NULL;
}

static void *hot_loop(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    CHECK(rill_channel_new(&tx, &rx, sizeof(int), RILL_UNBOUNDED, NULL) == 0);
    rill_task_t *t;
    CHECK(rill_spawn(&t, set_flag, NULL, NULL) == 0);
    /* one worker: set_flag runs only if this loop yields */
    int v = 0, got;
    while (!atomic_load(&budget_flag)) {
        CHECK(rill_send(tx, &v) == 0);
        CHECK(rill_recv(rx, &got) == 0);
    }
    CHECK(rill_join(t, NULL) == 0);
    rill_task_cancel(rill_task_current());
    /* cancelled: an operation that would wait returns at once, no trace */
    CHECK(rill_recv(rx, &got) == RILL_ECANCELED);
    CHECK(rill_receiver_len(rx) == 0);
    rill_sender_release(tx);
    rill_receiver_release(rx);
    return NULL;
}

static void test_fast_path_budget_and_cancel(void **state)
{
    (void)state;
    run_checked(1, false, hot_loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtual_clock_timeouts),
        cmocka_unit_test(test_task_cancel_leaves_no_trace),
        cmocka_unit_test(test_rendezvous_ping_pong),
        cmocka_unit_test(test_thread_feeds_task),
        cmocka_unit_test(test_fast_path_budget_and_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
