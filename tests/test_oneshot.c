/* SPDX-License-Identifier: MIT */
/* test_oneshot.c - the oneshot channel: one value, both sides learn when
 * the other is gone, cancel safety, misuse, and a race stress. */
#include "chan_test.h"
#include <rill/oneshot.h>
#include <string.h>

static void test_send_recv(void **state)
{
    (void)state;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    rill_channel_config_t o = {.name = "reply"};
    assert_status(rill_oneshot_new(&tx, &rx, sizeof(double), &o), 0);
    double v = 0, w = 2.5;
    assert_status(rill_oneshot_try_recv(rx, &v), RILL_EEMPTY);
    assert_false(rill_oneshot_is_closed(tx));
    assert_status(rill_oneshot_send(tx, &w), 0);
    assert_status(rill_oneshot_send(tx, &w), RILL_EALREADY);
    assert_status(rill_oneshot_recv(rx, &v), 0);
    assert_true(v == 2.5);
    assert_status(rill_oneshot_try_recv(rx, &v), RILL_DONE);
    assert_status(rill_oneshot_recv(rx, &v), RILL_DONE);
    rill_channel_stats_t st;
    assert_status(rill_oneshot_stats(NULL, rx, &st), 0);
    assert_string_equal(st.name, "reply");
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.received, 1);
    assert_int_equal(st.capacity, 1);
    assert_int_equal(st.len, 0);
    assert_false(st.is_closed);
    assert_status(rill_oneshot_sender_release(tx), 0);
    assert_status(rill_oneshot_receiver_release(rx), 0);
}

static void test_sender_gone(void **state)
{
    (void)state;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    assert_status(rill_oneshot_new(&tx, &rx, sizeof(int), NULL), 0);
    assert_status(rill_oneshot_sender_release(tx), 0);
    int v;
    assert_status(rill_oneshot_try_recv(rx, &v), RILL_DONE);
    assert_status(rill_oneshot_recv(rx, &v), RILL_DONE);
    assert_status(rill_oneshot_receiver_release(rx), 0);
}

static void test_receiver_gone(void **state)
{
    (void)state;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    assert_status(rill_oneshot_new(&tx, &rx, sizeof(int), NULL), 0);
    assert_status(rill_oneshot_closed_timeout(tx, RILL_US(100)),
                  RILL_ETIMEDOUT);
    assert_status(rill_oneshot_receiver_release(rx), 0);
    assert_true(rill_oneshot_is_closed(tx));
    assert_status(rill_oneshot_closed(tx), 0);
    int v = 1;
    assert_status(rill_oneshot_send(tx, &v), RILL_ECLOSED);
    assert_status(rill_oneshot_sender_release(tx), 0);
}

static void test_close_keeps_sent_value(void **state)
{
    (void)state;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    assert_status(rill_oneshot_new(&tx, &rx, sizeof(int), NULL), 0);
    int v = 7, out = 0;
    assert_status(rill_oneshot_send(tx, &v), 0);
    assert_status(rill_oneshot_close(rx), 0);
    assert_status(rill_oneshot_close(rx), 0);
    assert_true(rill_oneshot_is_closed(tx));
    assert_status(rill_oneshot_try_recv(rx, &out), 0);
    assert_int_equal(out, 7);
    /* A value sent after close is refused. */
    rill_oneshot_sender_t *tx2;
    rill_oneshot_receiver_t *rx2;
    assert_status(rill_oneshot_new(&tx2, &rx2, sizeof(int), NULL), 0);
    assert_status(rill_oneshot_close(rx2), 0);
    assert_status(rill_oneshot_send(tx2, &v), RILL_ECLOSED);
    assert_status(rill_oneshot_try_recv(rx2, &out), RILL_EEMPTY);
    assert_status(rill_oneshot_sender_release(tx2), 0);
    assert_status(rill_oneshot_try_recv(rx2, &out), RILL_DONE);
    rill_oneshot_receiver_release(rx2);
    rill_oneshot_sender_release(tx);
    rill_oneshot_receiver_release(rx);
}

/* A value sent and never received goes to the item destructor once, when
 * the receiver is released; a received one never does. */
static int dtor_calls;
static void count_dtor(void *item, void *ud)
{
    dtor_calls += *(int *)item == 41 && ud == &dtor_calls;
}

static void test_item_dtor(void **state)
{
    (void)state;
    rill_channel_config_t o = {.item_dtor = count_dtor,
                               .item_dtor_ud = &dtor_calls};
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    int v = 41, out;
    dtor_calls = 0;
    assert_status(rill_oneshot_new(&tx, &rx, sizeof v, &o), 0);
    assert_status(rill_oneshot_send(tx, &v), 0);
    rill_channel_stats_t st;
    assert_status(rill_oneshot_stats(tx, NULL, &st), 0);
    assert_int_equal(st.len, 1);
    assert_status(rill_oneshot_close(rx), 0); /* still receivable */
    assert_int_equal(dtor_calls, 0);
    assert_status(rill_oneshot_receiver_release(rx), 0);
    assert_int_equal(dtor_calls, 1);
    assert_status(rill_oneshot_stats(tx, NULL, &st), 0);
    assert_int_equal(st.discarded, 1);
    assert_true(st.is_closed);
    assert_status(rill_oneshot_sender_release(tx), 0);
    /* Received: the receiver owns it, the channel never calls the dtor. */
    assert_status(rill_oneshot_new(&tx, &rx, sizeof v, &o), 0);
    assert_status(rill_oneshot_send(tx, &v), 0);
    assert_status(rill_oneshot_recv(rx, &out), 0);
    rill_oneshot_receiver_release(rx);
    rill_oneshot_sender_release(tx);
    assert_int_equal(dtor_calls, 1);
}

static void test_misuse(void **state)
{
    (void)state;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    assert_status(rill_oneshot_new(&tx, &rx, 0, NULL), RILL_EINVAL);
    assert_status(rill_oneshot_new(NULL, &rx, 4, NULL), RILL_EINVAL);
    assert_status(rill_oneshot_new(&tx, &rx, SIZE_MAX, NULL), RILL_EINVAL);
    assert_status(rill_oneshot_new(&tx, &rx, sizeof(double), NULL), 0);
    int i = 1;
    double d;
    assert_status(rill_oneshot_send(tx, &i), RILL_EINVAL);
    assert_status(rill_oneshot_send_sized(tx, NULL, 8), RILL_EINVAL);
    assert_status(rill_oneshot_send_sized(NULL, &d, 8), RILL_EINVAL);
    assert_status(rill_oneshot_try_recv(rx, &i), RILL_EINVAL);
    assert_status(rill_oneshot_recv(rx, &i), RILL_EINVAL);
    rill_oneshot_recv_op_t op;
    rill_oneshot_recv_op(&op, rx, &i, sizeof i);
    assert_status(rill_await(&op.base), RILL_EINVAL);
    assert_status(rill_oneshot_close(NULL), RILL_EINVAL);
    assert_status(rill_oneshot_closed(NULL), RILL_EINVAL);
    assert_status(rill_oneshot_stats(NULL, NULL, NULL), RILL_EINVAL);
    /* Releasing a handle as the other kind, or twice. */
    assert_status(rill_oneshot_receiver_release((rill_oneshot_receiver_t *)tx),
                  RILL_EINVAL);
    assert_status(rill_oneshot_sender_release(tx), 0);
    assert_status(rill_oneshot_sender_release(tx), RILL_EALREADY);
    assert_status(rill_oneshot_receiver_release(rx), 0); /* frees the channel */
    assert_status(rill_oneshot_sender_release(NULL), 0);
    assert_status(rill_oneshot_receiver_release(NULL), 0);
}

/* A pending recv withdrawn leaves no trace: the value goes to the next. */
static void test_cancel_leaves_no_trace(void **state)
{
    (void)state;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    assert_status(rill_oneshot_new(&tx, &rx, sizeof(int), NULL), 0);
    ct_waker_t c = {0};
    rill_waker_t w = ct_waker(&c);
    rill_cx_t cx = RILL_CX_INIT(&w);
    int out = 0, v = 5;
    rill_oneshot_recv_op_t op;
    rill_oneshot_recv_op(&op, rx, &out, sizeof out);
    assert_status(rill_future_poll(&op.base, &cx), RILL_PENDING);
    assert_int_equal(atomic_load(&c.refs), 1);
    assert_status(rill_future_cancel(&op.base), RILL_PENDING);
    assert_int_equal(atomic_load(&c.refs), 0);
    assert_status(rill_oneshot_send(tx, &v), 0);
    assert_int_equal(atomic_load(&c.wakes), 0); /* withdrawn: not woken */
    assert_int_equal(out, 0);
    /* The poll function: registers, is woken by the send, takes it. */
    rill_oneshot_sender_t *tx2;
    rill_oneshot_receiver_t *rx2;
    assert_status(rill_oneshot_new(&tx2, &rx2, sizeof(int), NULL), 0);
    assert_status(rill_oneshot_poll_recv(rx2, &cx, &out, sizeof out),
                  RILL_PENDING);
    assert_status(rill_oneshot_send(tx2, &v), 0);
    assert_int_equal(atomic_load(&c.wakes), 1);
    assert_int_equal(atomic_load(&c.refs), 0);
    /* No budget: PENDING and a wake, value stays. */
    cx.budget = 0;
    assert_status(rill_oneshot_poll_recv(rx2, &cx, &out, sizeof out),
                  RILL_PENDING);
    assert_int_equal(atomic_load(&c.wakes), 2);
    cx.budget = 1;
    assert_status(rill_oneshot_poll_recv(rx2, &cx, &out, sizeof out), 0);
    assert_int_equal(out, 5);
    assert_int_equal(cx.budget, 0);
    assert_status(rill_oneshot_recv(rx, &out), 0);
    rill_oneshot_sender_release(tx);
    rill_oneshot_receiver_release(rx);
    rill_oneshot_sender_release(tx2);
    rill_oneshot_receiver_release(rx2);
}

/* ---- threads: waiting across threads, both sides gone ---- */

typedef struct {
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    int mode;
} pair_t;

static void *waiting_receiver(void *arg)
{
    pair_t *p = arg;
    int v = -1;
    intptr_t r = rill_oneshot_recv(p->rx, &v);
    rill_oneshot_receiver_release(p->rx);
    return (void *)(r == 0 ? (intptr_t)v : -100 + r);
}

static void test_wait_across_threads(void **state)
{
    (void)state;
    pair_t p;
    assert_status(rill_oneshot_new(&p.tx, &p.rx, sizeof(int), NULL), 0);
    pthread_t t = ct_start(waiting_receiver, &p);
    int v = 99;
    assert_status(rill_oneshot_send(p.tx, &v), 0);
    assert_int_equal((intptr_t)ct_join(t), 99);
    rill_oneshot_sender_release(p.tx);
    /* Sender released while the receiver waits: RILL_DONE. */
    assert_status(rill_oneshot_new(&p.tx, &p.rx, sizeof(int), NULL), 0);
    t = ct_start(waiting_receiver, &p);
    rill_oneshot_sender_release(p.tx);
    assert_int_equal((intptr_t)ct_join(t), -100 + RILL_DONE);
}

static void *closed_waiter(void *arg)
{
    pair_t *p = arg;
    intptr_t r = rill_oneshot_closed(p->tx);
    rill_oneshot_sender_release(p->tx);
    return (void *)r;
}

static void test_closed_across_threads(void **state)
{
    (void)state;
    pair_t p;
    assert_status(rill_oneshot_new(&p.tx, &p.rx, sizeof(int), NULL), 0);
    pthread_t t = ct_start(closed_waiter, &p);
    rill_oneshot_receiver_release(p.rx);
    assert_int_equal((intptr_t)ct_join(t), 0);
}

/* Many oneshots, each side on its own thread doing one of four things;
 * the outcomes must agree: a value is received iff it was sent with 0. */
#define RACE_N 20000
typedef struct {
    rill_oneshot_sender_t *tx[RACE_N];
    rill_oneshot_receiver_t *rx[RACE_N];
    int send_r[RACE_N], recv_r[RACE_N], got[RACE_N];
    int n;
} race_t;

static void *race_sender(void *arg)
{
    race_t *r = arg;
    for (int i = 0; i < r->n; i++) {
        int v = i;
        r->send_r[i] = 1000;
        if (i % 3 != 2)
            r->send_r[i] = rill_oneshot_send(r->tx[i], &v);
        rill_oneshot_sender_release(r->tx[i]);
    }
    return NULL;
}

static void *race_receiver(void *arg)
{
    race_t *r = arg;
    for (int i = 0; i < r->n; i++) {
        r->recv_r[i] = 1000;
        r->got[i] = -1;
        if (i % 4 != 3)
            r->recv_r[i] = rill_oneshot_recv(r->rx[i], &r->got[i]);
        rill_oneshot_receiver_release(r->rx[i]);
    }
    return NULL;
}

static void test_both_sides_gone_race(void **state)
{
    (void)state;
    race_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->n = SCALE(RACE_N, 4);
    for (int i = 0; i < r->n; i++)
        assert_status(rill_oneshot_new(&r->tx[i], &r->rx[i], sizeof(int), NULL),
                      0);
    pthread_t a = ct_start(race_sender, r), b = ct_start(race_receiver, r);
    ct_join(a);
    ct_join(b);
    for (int i = 0; i < r->n; i++) {
        if (r->recv_r[i] == 0) {
            assert_int_equal(r->send_r[i], 0);
            assert_int_equal(r->got[i], i);
        } else if (r->recv_r[i] == RILL_DONE) {
            assert_int_not_equal(r->send_r[i], 0);
        } else {
            assert_int_equal(r->recv_r[i], 1000); /* released unread */
            assert_true(r->send_r[i] == 0 || r->send_r[i] == RILL_ECLOSED ||
                        r->send_r[i] == 1000);
        }
        if (i % 3 == 2)
            assert_int_equal(r->send_r[i], 1000);
    }
    free(r);
}

/* ---- tasks ---- */

/* Many tasks, each waiting on its own oneshot (W8's shape, smaller). */
#define MANY 1000

static void *many_waiter(void *arg)
{
    rill_oneshot_receiver_t *rx = arg;
    int v = -1;
    int r = rill_oneshot_recv(rx, &v);
    rill_oneshot_receiver_release(rx);
    return (void *)(intptr_t)(r == 0 ? v : -1);
}

static void *many_main(void *arg)
{
    (void)arg;
    static rill_oneshot_sender_t *tx[MANY];
    static rill_task_t *t[MANY];
    for (int i = 0; i < MANY; i++) {
        rill_oneshot_receiver_t *rx;
        CT_CHECK(rill_oneshot_new(&tx[i], &rx, sizeof(int), NULL) == 0);
        CT_CHECK(rill_spawn(&t[i], many_waiter, rx, NULL) == 0);
    }
    for (int i = 0; i < MANY; i++) {
        CT_CHECK(rill_oneshot_send(tx[i], &i) == 0);
        rill_oneshot_sender_release(tx[i]);
    }
    for (int i = 0; i < MANY; i++) {
        void *r;
        CT_CHECK(rill_join(t[i], &r) == 0);
        CT_CHECK((intptr_t)r == i);
    }
    return NULL;
}

static void test_tasks_many_waiters(void **state)
{
    (void)state;
    ct_run(2, false, many_main, NULL);
}

/* Timeouts on the virtual clock are exact; a timed-out recv took nothing. */
static void *timeouts_main(void *arg)
{
    (void)arg;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    int v = 3, out = 0;
    CT_CHECK(rill_oneshot_new(&tx, &rx, sizeof v, NULL) == 0);
    rill_instant_t t0 = rill_now();
    CT_CHECK(rill_oneshot_recv_timeout(rx, &out, RILL_MS(250)) ==
             RILL_ETIMEDOUT);
    CT_CHECK(rill_now() - t0 == RILL_MS(250));
    CT_CHECK(rill_oneshot_closed_timeout(tx, RILL_SEC(3)) == RILL_ETIMEDOUT);
    CT_CHECK(rill_now() - t0 == RILL_MS(3250));
    CT_CHECK(rill_oneshot_send(tx, &v) == 0);
    CT_CHECK(rill_oneshot_recv_timeout(rx, &out, RILL_MS(1)) == 0);
    CT_CHECK(out == 3 && rill_now() - t0 == RILL_MS(3250));
    rill_oneshot_sender_release(tx);
    rill_oneshot_receiver_release(rx);
    return NULL;
}

static void test_tasks_virtual_timeouts(void **state)
{
    (void)state;
    ct_run(2, true, timeouts_main, NULL);
}

/* A task cancelled while it waits gets RILL_ECANCELED; the value sent
 * later is still there for the next receive. */
static void *cancel_waiter(void *arg)
{
    int v;
    return (void *)(intptr_t)rill_oneshot_recv((rill_oneshot_receiver_t *)arg,
                                               &v);
}

static void *cancel_main(void *arg)
{
    (void)arg;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    rill_task_t *t;
    int v = 8, out = 0;
    CT_CHECK(rill_oneshot_new(&tx, &rx, sizeof v, NULL) == 0);
    CT_CHECK(rill_spawn(&t, cancel_waiter, rx, NULL) == 0);
    rill_sleep(RILL_MS(1)); /* virtual: runs once the waiter waits */
    CT_CHECK(rill_task_cancel(t) == 0);
    void *r;
    CT_CHECK(rill_join(t, &r) == 0);
    CT_CHECK((intptr_t)r == RILL_ECANCELED);
    CT_CHECK(rill_oneshot_send(tx, &v) == 0);
    CT_CHECK(rill_oneshot_try_recv(rx, &out) == 0 && out == 8);
    rill_oneshot_sender_release(tx);
    rill_oneshot_receiver_release(rx);
    return NULL;
}

static void test_tasks_cancel(void **state)
{
    (void)state;
    ct_run(2, true, cancel_main, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_recv),
        cmocka_unit_test(test_sender_gone),
        cmocka_unit_test(test_receiver_gone),
        cmocka_unit_test(test_close_keeps_sent_value),
        cmocka_unit_test(test_item_dtor),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_cancel_leaves_no_trace),
        cmocka_unit_test(test_wait_across_threads),
        cmocka_unit_test(test_closed_across_threads),
        cmocka_unit_test(test_both_sides_gone_race),
        cmocka_unit_test(test_tasks_many_waiters),
        cmocka_unit_test(test_tasks_virtual_timeouts),
        cmocka_unit_test(test_tasks_cancel),
    };
    return test_run(tests, NULL, NULL);
}
