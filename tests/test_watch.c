/* SPDX-License-Identifier: MIT */
/* test_watch.c - the watch channel: versions, coalescing, the end after
 * the last value, torn-read freedom under a racing sender, misuse. */
#include "chan_test.h"
#include <rill/watch.h>

static void test_versions(void **state)
{
    (void)state;
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx, *rx2, *rx3;
    int v = 10, out = 0;
    rill_channel_config_t o = {.name = "config"};
    assert_status(rill_watch_new(&tx, &rx, sizeof v, &v, &o), 0);
    assert_status(rill_watch_get(rx, &out), 0);
    assert_int_equal(out, 10);
    assert_status(rill_watch_try_changed(rx), RILL_EEMPTY);
    assert_status(rill_watch_get_and_update(rx, &out), RILL_EEMPTY);
    v = 11;
    assert_status(rill_watch_send(tx, &v), 0);
    assert_status(rill_watch_subscribe(tx, &rx2), 0); /* has seen 11 */
    assert_status(rill_watch_try_changed(rx2), RILL_EEMPTY);
    assert_status(rill_watch_receiver_clone(rx, &rx3), 0); /* has seen 10 */
    assert_status(rill_watch_try_changed(rx), 0);
    assert_int_equal(rill_watch_version(rx), 1);
    assert_status(rill_watch_try_changed(rx), RILL_EEMPTY);
    assert_status(rill_watch_get_and_update(rx3, &out), 0);
    assert_int_equal(out, 11);
    assert_status(rill_watch_changed_timeout(rx3, RILL_US(50)), RILL_ETIMEDOUT);
    v = 12;
    assert_status(rill_watch_send(tx, &v), 0);
    assert_status(rill_watch_mark_seen(rx3), 0);
    assert_status(rill_watch_try_changed(rx3), RILL_EEMPTY);
    assert_int_equal(rill_watch_receiver_count(tx), 3);
    rill_channel_stats_t st;
    assert_status(rill_watch_stats(tx, NULL, &st), 0);
    assert_string_equal(st.name, "config");
    assert_int_equal(st.sent, 2);
    assert_int_equal(st.received, 2);
    assert_false(st.is_closed);
    /* The sender's release ends receivers after the last value. */
    assert_status(rill_watch_sender_release(tx), 0);
    assert_status(rill_watch_changed(rx), 0); /* 12 not yet seen */
    assert_status(rill_watch_get(rx, &out), 0);
    assert_int_equal(out, 12);
    assert_status(rill_watch_changed(rx), RILL_DONE);
    assert_status(rill_watch_try_changed(rx3), RILL_DONE);
    rill_watch_receiver_release(rx);
    rill_watch_receiver_release(rx2);
    rill_watch_receiver_release(rx3);
}

static void test_coalescing(void **state)
{
    (void)state;
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx;
    long v = 0, out;
    assert_status(rill_watch_new(&tx, &rx, sizeof v, &v, NULL), 0);
    for (v = 1; v <= 100; v++)
        assert_status(rill_watch_send(tx, &v), 0);
    assert_status(rill_watch_changed(rx), 0);
    assert_status(rill_watch_try_changed(rx), RILL_EEMPTY);
    assert_status(rill_watch_get(rx, &out), 0);
    assert_int_equal(out, 100);
    /* No receivers: send fails and stores nothing. */
    assert_status(rill_watch_receiver_release(rx), 0);
    assert_int_equal(rill_watch_receiver_count(tx), 0);
    assert_status(rill_watch_send(tx, &v), RILL_ECLOSED);
    assert_status(rill_watch_subscribe(tx, &rx), 0);
    assert_status(rill_watch_get(rx, &out), 0);
    assert_int_equal(out, 100);
    rill_watch_sender_release(tx);
    assert_status(rill_watch_changed(rx), RILL_DONE);
    rill_watch_receiver_release(rx);
}

static void test_misuse(void **state)
{
    (void)state;
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx;
    int v = 0;
    double d;
    assert_status(rill_watch_new(&tx, &rx, 0, &v, NULL), RILL_EINVAL);
    assert_status(rill_watch_new(&tx, &rx, 4, NULL, NULL), RILL_EINVAL);
    assert_status(rill_watch_new(&tx, NULL, 4, &v, NULL), RILL_EINVAL);
    assert_status(rill_watch_new(&tx, &rx, SIZE_MAX - 3, &v, NULL),
                  RILL_EINVAL);
    rill_channel_config_t o = {.item_dtor = ct_dtor};
    assert_status(rill_watch_new(&tx, &rx, sizeof v, &v, &o),
                  RILL_EINVAL); /* copied to every receiver: no owner */
    assert_status(rill_watch_new(&tx, &rx, sizeof v, &v, NULL), 0);
    assert_status(rill_watch_send(tx, &d), RILL_EINVAL);
    assert_status(rill_watch_get(rx, &d), RILL_EINVAL);
    assert_status(rill_watch_get_and_update(rx, &d), RILL_EINVAL);
    assert_status(rill_watch_send_sized(NULL, &v, 4), RILL_EINVAL);
    assert_status(rill_watch_changed(NULL), RILL_EINVAL);
    assert_status(rill_watch_try_changed(NULL), RILL_EINVAL);
    assert_status(rill_watch_subscribe(tx, NULL), RILL_EINVAL);
    assert_status(rill_watch_receiver_clone(NULL, &rx), RILL_EINVAL);
    assert_status(rill_watch_stats(NULL, NULL, NULL), RILL_EINVAL);
    assert_status(rill_watch_sender_release((rill_watch_sender_t *)rx),
                  RILL_EINVAL);
    assert_status(rill_watch_receiver_release(rx), 0);
    assert_status(rill_watch_receiver_release(rx), RILL_EALREADY);
    assert_status(rill_watch_sender_release(tx), 0);
    assert_status(rill_watch_sender_release(tx), RILL_EALREADY);
    assert_status(rill_watch_sender_release(NULL), 0);
}

static void test_cancel_leaves_no_trace(void **state)
{
    (void)state;
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx;
    int v = 0;
    assert_status(rill_watch_new(&tx, &rx, sizeof v, &v, NULL), 0);
    ct_waker_t c = {0};
    rill_waker_t w = ct_waker(&c);
    rill_cx_t cx = RILL_CX_INIT(&w);
    rill_watch_changed_op_t op;
    rill_watch_changed_op(&op, rx);
    assert_status(rill_future_poll(&op.base, &cx), RILL_PENDING);
    assert_status(rill_future_cancel(&op.base), RILL_PENDING);
    assert_int_equal(atomic_load(&c.refs), 0);
    v = 1;
    assert_status(rill_watch_send(tx, &v), 0);
    assert_int_equal(atomic_load(&c.wakes), 0);
    assert_int_equal(rill_watch_version(rx), 0); /* nothing marked */
    /* Poll function: pending, woken by a send, then ready. */
    assert_status(rill_watch_poll_changed(rx, &cx), 0);
    assert_status(rill_watch_poll_changed(rx, &cx), RILL_PENDING);
    assert_status(rill_watch_send(tx, &v), 0);
    assert_int_equal(atomic_load(&c.wakes), 1);
    cx.budget = 0;
    assert_status(rill_watch_poll_changed(rx, &cx), RILL_PENDING);
    assert_int_equal(atomic_load(&c.wakes), 2);
    cx.budget = 5;
    assert_status(rill_watch_poll_changed(rx, &cx), 0);
    assert_int_equal(cx.budget, 4);
    assert_int_equal(rill_watch_version(rx), 2);
    rill_watch_sender_release(tx);
    rill_watch_receiver_release(rx);
    assert_int_equal(atomic_load(&c.refs), 0);
}

/* ---- a racing sender and several receivers: no torn value, versions
 * and values only grow, everyone ends on the last value. ---- */

typedef struct {
    uint64_t a, b, c, d, e; /* b = 3a, c = ~a, d = a ^ 0x5555, e = a + 7 */
} big_t;

static big_t big(uint64_t i)
{
    return (big_t){i, 3 * i, ~i, i ^ 0x5555, i + 7};
}

typedef struct {
    rill_watch_receiver_t *rx;
    uint64_t last, changes;
} reader_t;

static void *reader(void *arg)
{
    reader_t *r = arg;
    big_t v;
    int rc;
    while ((rc = rill_watch_changed(r->rx)) == 0) {
        assert_status(rill_watch_get(r->rx, &v), 0);
        if (v.b != 3 * v.a || v.c != ~v.a || v.d != (v.a ^ 0x5555) ||
            v.e != v.a + 7 || v.a < r->last)
            return (void *)1; /* torn or going back */
        r->last = v.a;
        r->changes++;
    }
    return rc == RILL_DONE ? NULL : (void *)2;
}

static void test_racing_sender(void **state)
{
    (void)state;
    enum { READERS = 3 };
    uint64_t n = SCALE(400000, 20);
    rill_watch_sender_t *tx;
    reader_t r[READERS] = {{0}};
    big_t v = big(0);
    assert_status(rill_watch_new(&tx, &r[0].rx, sizeof v, &v, NULL), 0);
    for (int i = 1; i < READERS; i++)
        assert_status(rill_watch_subscribe(tx, &r[i].rx), 0);
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        t[i] = ct_start(reader, &r[i]);
    for (uint64_t i = 1; i <= n; i++) {
        v = big(i);
        assert_status(rill_watch_send(tx, &v), 0);
    }
    rill_watch_sender_release(tx);
    for (int i = 0; i < READERS; i++) {
        assert_null(ct_join(t[i]));
        assert_int_equal(r[i].last, n); /* saw the last value */
        assert_true(r[i].changes >= 1 && r[i].changes <= n);
        rill_watch_receiver_release(r[i].rx);
    }
}

/* ---- tasks on the virtual clock ---- */

typedef struct {
    rill_watch_receiver_t *rx;
    int changes, last;
} wtask_t;

static void *watch_reader(void *arg)
{
    wtask_t *w = arg;
    int v = 0;
    while (rill_watch_changed(w->rx) == 0) {
        rill_watch_get(w->rx, &v);
        w->changes++;
        w->last = v;
    }
    rill_watch_receiver_release(w->rx);
    return NULL;
}

/* A sender that pauses between sends: every waiting reader sees every
 * version (the clock only moves when all tasks wait). Then a burst without
 * pauses coalesces into one change (one worker: the burst ends before any
 * reader runs). */
static void *watch_main(void *arg)
{
    (void)arg;
    enum { R = 3 };
    rill_watch_sender_t *tx;
    wtask_t w[R] = {{0}};
    rill_task_t *t[R];
    int v = 0;
    CT_CHECK(rill_watch_new(&tx, &w[0].rx, sizeof v, &v, NULL) == 0);
    for (int i = 1; i < R; i++)
        CT_CHECK(rill_watch_subscribe(tx, &w[i].rx) == 0);
    for (int i = 0; i < R; i++)
        CT_CHECK(rill_spawn(&t[i], watch_reader, &w[i], NULL) == 0);
    for (v = 1; v <= 10; v++) {
        rill_sleep(RILL_MS(1));
        CT_CHECK(rill_watch_send(tx, &v) == 0);
    }
    rill_sleep(RILL_MS(1));
    for (v = 11; v <= 20; v++) /* a burst: no pauses */
        CT_CHECK(rill_watch_send(tx, &v) == 0);
    rill_watch_sender_release(tx);
    for (int i = 0; i < R; i++) {
        CT_CHECK(rill_join(t[i], NULL) == 0);
        CT_CHECK(w[i].last == 20);
        CT_CHECK(w[i].changes == 11); /* 10 paced + 1 for the burst */
    }
    return NULL;
}

static void test_tasks_every_version_then_coalesce(void **state)
{
    (void)state;
    ct_run(1, true, watch_main, NULL);
}

static void *watch_cancel_waiter(void *arg)
{
    return (void *)(intptr_t)rill_watch_changed((rill_watch_receiver_t *)arg);
}

static void *watch_timeouts(void *arg)
{
    (void)arg;
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx, *rx2;
    rill_task_t *t;
    int v = 0;
    CT_CHECK(rill_watch_new(&tx, &rx, sizeof v, &v, NULL) == 0);
    CT_CHECK(rill_watch_subscribe(tx, &rx2) == 0);
    rill_instant_t t0 = rill_now();
    CT_CHECK(rill_watch_changed_timeout(rx, RILL_MS(40)) == RILL_ETIMEDOUT);
    CT_CHECK(rill_now() - t0 == RILL_MS(40));
    /* Cancelled while waiting: RILL_ECANCELED, nothing marked seen. */
    CT_CHECK(rill_spawn(&t, watch_cancel_waiter, rx2, NULL) == 0);
    rill_sleep(RILL_MS(1));
    CT_CHECK(rill_task_cancel(t) == 0);
    void *r;
    CT_CHECK(rill_join(t, &r) == 0 && (intptr_t)r == RILL_ECANCELED);
    v = 1;
    CT_CHECK(rill_watch_send(tx, &v) == 0);
    CT_CHECK(rill_watch_try_changed(rx2) == 0);
    CT_CHECK(rill_watch_changed_timeout(rx, RILL_MS(40)) == 0);
    CT_CHECK(rill_now() - t0 == RILL_MS(41));
    rill_watch_sender_release(tx);
    rill_watch_receiver_release(rx);
    rill_watch_receiver_release(rx2);
    return NULL;
}

static void test_tasks_timeouts_and_cancel(void **state)
{
    (void)state;
    ct_run(2, true, watch_timeouts, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_coalescing),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_cancel_leaves_no_trace),
        cmocka_unit_test(test_racing_sender),
        cmocka_unit_test(test_tasks_every_version_then_coalesce),
        cmocka_unit_test(test_tasks_timeouts_and_cancel),
    };
    return test_run(tests, NULL, NULL);
}
