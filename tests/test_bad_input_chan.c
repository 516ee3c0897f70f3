/* SPDX-License-Identifier: MIT */
/*
 * test_bad_input_chan.c - bad arguments to every call of rill/oneshot.h,
 * rill/watch.h and rill/broadcast.h: NULL handles and buffers, wrong item
 * sizes, zero and overflowing sizes and capacities, unknown modes, absurd
 * timeouts, a second send, a send after close, and handles released twice
 * or of another kind (the registry of these channels detects both). Each
 * gets its documented error and one misuse report naming the call.
 */
#include "bad_input.h"

/* An item destructor for the options that must be refused. */
static void never_called(void *item, void *ud)
{
    (void)item;
    (void)ud;
    fail();
}

static void test_oneshot(void **state)
{
    (void)state;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    int v = 1;
    long big = 0;
    rill_cx_t cx = RILL_CX_INIT(rill_waker_noop());
    BAD(RILL_EINVAL, rill_oneshot_new(NULL, &rx, 4, NULL));
    BAD(RILL_EINVAL, rill_oneshot_new(&tx, NULL, 4, NULL));
    BAD(RILL_EINVAL, rill_oneshot_new(&tx, &rx, 0, NULL));
    BAD(RILL_EINVAL, rill_oneshot_new(&tx, &rx, SIZE_MAX, NULL));
    BAD(RILL_EINVAL, rill_oneshot_new(&tx, &rx, (size_t)1 << 31, NULL));
    assert_status(rill_oneshot_new(&tx, &rx, sizeof v, NULL), 0);
    BAD(RILL_EINVAL, rill_oneshot_send(NULL, &v));
    BAD(RILL_EINVAL, rill_oneshot_send_sized(tx, NULL, sizeof v));
    BAD(RILL_EINVAL, rill_oneshot_send(tx, &big));
    BAD(RILL_EINVAL, rill_oneshot_try_recv(NULL, &v));
    BAD(RILL_EINVAL, rill_oneshot_try_recv(rx, &big));
    BAD(RILL_EINVAL, rill_oneshot_try_recv_sized(rx, NULL, sizeof v));
    BAD(RILL_EINVAL, rill_oneshot_recv(NULL, &v));
    BAD(RILL_EINVAL, rill_oneshot_recv_timeout(rx, &big, RILL_MS(1)));
    BAD(RILL_ETIMEDOUT, rill_oneshot_recv_timeout(rx, &v, INT64_MIN));
    BAD(RILL_EINVAL, rill_oneshot_poll_recv(NULL, &cx, &v, sizeof v));
    BAD(RILL_EINVAL, rill_oneshot_poll_recv(rx, NULL, &v, sizeof v));
    BAD(RILL_EINVAL, rill_oneshot_poll_closed(NULL, &cx));
    BAD(RILL_EINVAL, rill_oneshot_poll_closed(tx, NULL));
    BAD(RILL_EINVAL, rill_oneshot_closed(NULL));
    BAD(RILL_ETIMEDOUT, rill_oneshot_closed_timeout(tx, -1));
    BAD(RILL_EINVAL, rill_oneshot_close(NULL));
    rill_oneshot_recv_op_t ro;
    rill_oneshot_recv_op(&ro, rx, &big, sizeof big);
    BAD(RILL_EINVAL, rill_await(&ro.base));
    REPORTS(rill_oneshot_recv_op(NULL, rx, &v, sizeof v));
    rill_oneshot_closed_op_t co;
    rill_oneshot_closed_op(&co, NULL);
    BAD(RILL_EINVAL, rill_await(&co.base));
    REPORTS(rill_oneshot_closed_op(NULL, tx));
    rill_channel_stats_t st;
    BAD(RILL_EINVAL, rill_oneshot_stats(NULL, NULL, &st));
    BAD(RILL_EINVAL, rill_oneshot_stats(tx, NULL, NULL));
    QUIET(assert_false(rill_oneshot_is_closed(NULL)));
    /* A second send, then a release of the wrong kind and twice. */
    assert_status(rill_oneshot_send(tx, &v), 0);
    BAD(RILL_EALREADY, rill_oneshot_send(tx, &v));
    BAD(RILL_EINVAL, rill_oneshot_sender_release((rill_oneshot_sender_t *)rx));
    BAD(RILL_EINVAL,
        rill_oneshot_receiver_release((rill_oneshot_receiver_t *)tx));
    BAD(0, rill_oneshot_sender_release(NULL));
    BAD(0, rill_oneshot_receiver_release(NULL));
    assert_status(rill_oneshot_sender_release(tx), 0);
    BAD(RILL_EALREADY, rill_oneshot_sender_release(tx)); /* rx keeps it alive */
    /* The last release frees the channel: a release after it is a use
     * after free, as after free() (oneshot.h). */
    assert_status(rill_oneshot_receiver_release(rx), 0);
    /* Send after close: refused, the caller keeps the value. */
    assert_status(rill_oneshot_new(&tx, &rx, sizeof v, NULL), 0);
    assert_status(rill_oneshot_close(rx), 0);
    assert_status(rill_oneshot_close(rx), 0);
    BAD(RILL_ECLOSED, rill_oneshot_send(tx, &v));
    BAD(0, rill_oneshot_closed_timeout(tx, INT64_MIN));
    assert_status(rill_oneshot_sender_release(tx), 0);
    BAD(RILL_DONE, rill_oneshot_recv(rx, &v));
    assert_status(rill_oneshot_receiver_release(rx), 0);
}

static void test_watch(void **state)
{
    (void)state;
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx, *rx2;
    int v = 1;
    long big = 0;
    rill_cx_t cx = RILL_CX_INIT(rill_waker_noop());
    BAD(RILL_EINVAL, rill_watch_new(NULL, &rx, sizeof v, &v, NULL));
    BAD(RILL_EINVAL, rill_watch_new(&tx, NULL, sizeof v, &v, NULL));
    BAD(RILL_EINVAL, rill_watch_new(&tx, &rx, sizeof v, NULL, NULL));
    BAD(RILL_EINVAL, rill_watch_new(&tx, &rx, 0, &v, NULL));
    BAD(RILL_EINVAL, rill_watch_new(&tx, &rx, SIZE_MAX, &v, NULL));
    rill_channel_config_t o = {.item_dtor = never_called};
    BAD(RILL_EINVAL, rill_watch_new(&tx, &rx, sizeof v, &v, &o));
    assert_status(rill_watch_new(&tx, &rx, sizeof v, &v, NULL), 0);
    BAD(RILL_EINVAL, rill_watch_send(NULL, &v));
    BAD(RILL_EINVAL, rill_watch_send(tx, &big));
    BAD(RILL_EINVAL, rill_watch_send_sized(tx, NULL, sizeof v));
    BAD(RILL_EINVAL, rill_watch_subscribe(NULL, &rx2));
    BAD(RILL_EINVAL, rill_watch_subscribe(tx, NULL));
    BAD(RILL_EINVAL, rill_watch_try_changed(NULL));
    BAD(RILL_EINVAL, rill_watch_changed(NULL));
    BAD(RILL_EINVAL, rill_watch_changed_timeout(NULL, RILL_MS(1)));
    BAD(RILL_ETIMEDOUT, rill_watch_changed_timeout(rx, INT64_MIN));
    BAD(RILL_EINVAL, rill_watch_poll_changed(NULL, &cx));
    BAD(RILL_EINVAL, rill_watch_poll_changed(rx, NULL));
    rill_watch_changed_op_t op;
    rill_watch_changed_op(&op, NULL);
    BAD(RILL_EINVAL, rill_await(&op.base));
    REPORTS(rill_watch_changed_op(NULL, rx));
    BAD(RILL_EINVAL, rill_watch_get(NULL, &v));
    BAD(RILL_EINVAL, rill_watch_get(rx, &big));
    BAD(RILL_EINVAL, rill_watch_get_sized(rx, NULL, sizeof v));
    BAD(RILL_EINVAL, rill_watch_get_and_update(rx, &big));
    BAD(RILL_EINVAL, rill_watch_mark_seen(NULL));
    BAD(RILL_EINVAL, rill_watch_receiver_clone(NULL, &rx2));
    BAD(RILL_EINVAL, rill_watch_receiver_clone(rx, NULL));
    rill_channel_stats_t st;
    BAD(RILL_EINVAL, rill_watch_stats(NULL, NULL, &st));
    BAD(RILL_EINVAL, rill_watch_stats(tx, rx, NULL));
    assert_int_equal(rill_watch_version(NULL), 0);
    assert_int_equal(rill_watch_receiver_count(NULL), 0);
    /* Wrong kind, twice, NULL. */
    BAD(RILL_EINVAL, rill_watch_sender_release((rill_watch_sender_t *)rx));
    BAD(RILL_EINVAL, rill_watch_receiver_release((rill_watch_receiver_t *)tx));
    BAD(0, rill_watch_sender_release(NULL));
    BAD(0, rill_watch_receiver_release(NULL));
    assert_status(rill_watch_receiver_release(rx), 0);
    BAD(RILL_EALREADY, rill_watch_receiver_release(rx));
    /* No receiver left: a send is refused. */
    BAD(RILL_ECLOSED, rill_watch_send(tx, &v));
    assert_status(rill_watch_sender_release(tx), 0);
    BAD(RILL_EALREADY, rill_watch_sender_release(tx));
}

static void test_broadcast(void **state)
{
    (void)state;
    rill_broadcast_sender_t *tx, *tx2;
    rill_broadcast_receiver_t *rx, *rx2;
    int v = 1, arr[4];
    long big = 0;
    size_t n;
    uint64_t missed;
    rill_cx_t cx = RILL_CX_INIT(rill_waker_noop());
    const int LAG = RILL_BROADCAST_LAG;
    BAD(RILL_EINVAL, rill_broadcast_new(NULL, &rx, 4, 4, LAG, NULL));
    BAD(RILL_EINVAL, rill_broadcast_new(&tx, &rx, 0, 4, LAG, NULL));
    BAD(RILL_EINVAL, rill_broadcast_new(&tx, &rx, SIZE_MAX, 4, LAG, NULL));
    BAD(RILL_EINVAL, rill_broadcast_new(&tx, &rx, 4, 0, LAG, NULL));
    BAD(RILL_EINVAL, rill_broadcast_new(&tx, &rx, 4, SIZE_MAX, LAG, NULL));
    BAD(RILL_EINVAL, rill_broadcast_new(&tx, &rx, 1 << 20, 1 << 20, LAG, NULL));
    BAD(RILL_EINVAL, rill_broadcast_new(&tx, &rx, 4, 4, 0, NULL));
    BAD(RILL_EINVAL, rill_broadcast_new(&tx, &rx, 4, 4, -7, NULL));
    rill_channel_config_t o = {.item_dtor = never_called};
    BAD(RILL_EINVAL, rill_broadcast_new(&tx, &rx, 4, 4, LAG, &o));
    assert_status(rill_broadcast_new(&tx, &rx, sizeof v, 4,
                                     RILL_BROADCAST_BACKPRESSURE, NULL),
                  0);
    BAD(RILL_EINVAL, rill_broadcast_subscribe(NULL, &rx2));
    BAD(RILL_EINVAL, rill_broadcast_subscribe(tx, NULL));
    BAD(RILL_EINVAL, rill_broadcast_sender_clone(NULL, &tx2));
    BAD(RILL_EINVAL, rill_broadcast_sender_clone(tx, NULL));
    BAD(RILL_EINVAL, rill_broadcast_close(NULL));
    BAD(RILL_EINVAL, rill_broadcast_try_send(NULL, &v));
    BAD(RILL_EINVAL, rill_broadcast_try_send(tx, &big));
    BAD(RILL_EINVAL, rill_broadcast_try_send_sized(tx, NULL, sizeof v));
    BAD(RILL_EINVAL, rill_broadcast_send(tx, &big));
    BAD(RILL_EINVAL, rill_broadcast_send_timeout(NULL, &v, RILL_MS(1)));
    BAD(RILL_EINVAL, rill_broadcast_poll_send(tx, NULL, &v, sizeof v));
    BAD(RILL_EINVAL, rill_broadcast_poll_send(NULL, &cx, &v, sizeof v));
    rill_broadcast_send_op_t so;
    rill_broadcast_send_op(&so, tx, &big, sizeof big);
    BAD(RILL_EINVAL, rill_await(&so.base));
    REPORTS(rill_broadcast_send_op(NULL, tx, &v, sizeof v));
    BAD(RILL_EINVAL, rill_broadcast_try_recv(NULL, &v, &missed));
    BAD(RILL_EINVAL, rill_broadcast_try_recv(rx, &big, &missed));
    BAD(RILL_EINVAL, rill_broadcast_try_recv_sized(rx, NULL, sizeof v, NULL));
    BAD(RILL_EINVAL, rill_broadcast_recv(NULL, &v, NULL));
    BAD(RILL_EINVAL, rill_broadcast_recv_timeout(rx, &big, NULL, 0));
    BAD(RILL_ETIMEDOUT, rill_broadcast_recv_timeout(rx, &v, NULL, INT64_MIN));
    BAD(RILL_EINVAL, rill_broadcast_poll_recv(rx, NULL, &v, sizeof v, NULL));
    BAD(RILL_EINVAL,
        rill_broadcast_poll_recv_many(rx, &cx, arr, 0, sizeof v, &n, NULL));
    BAD(RILL_EINVAL,
        rill_broadcast_poll_recv_many(rx, &cx, arr, 4, sizeof v, NULL, NULL));
    rill_broadcast_recv_op_t ro;
    rill_broadcast_recv_op(&ro, NULL, &v, sizeof v, NULL);
    BAD(RILL_EINVAL, rill_await(&ro.base));
    REPORTS(rill_broadcast_recv_op(NULL, rx, &v, sizeof v, NULL));
    rill_channel_stats_t st;
    BAD(RILL_EINVAL, rill_broadcast_stats(NULL, NULL, &st));
    BAD(RILL_EINVAL, rill_broadcast_stats(tx, NULL, NULL));
    assert_int_equal(rill_broadcast_len(NULL), 0);
    assert_int_equal(rill_broadcast_receiver_count(NULL), 0);
    /* Backpressure: full is RILL_EFULL or a timeout, never a hang. */
    for (int i = 0; i < 4; i++)
        assert_status(rill_broadcast_try_send(tx, &i), 0);
    BAD(RILL_EFULL, rill_broadcast_try_send(tx, &v));
    BAD(RILL_ETIMEDOUT, rill_broadcast_send_timeout(tx, &v, INT64_MIN));
    /* Wrong kind, twice, NULL; a send after close. */
    BAD(RILL_EINVAL,
        rill_broadcast_sender_release((rill_broadcast_sender_t *)rx));
    BAD(RILL_EINVAL,
        rill_broadcast_receiver_release((rill_broadcast_receiver_t *)tx));
    BAD(0, rill_broadcast_sender_release(NULL));
    BAD(0, rill_broadcast_receiver_release(NULL));
    assert_status(rill_broadcast_close(tx), 0);
    assert_status(rill_broadcast_close(tx), 0);
    BAD(RILL_ECLOSED, rill_broadcast_try_send(tx, &v));
    BAD(RILL_ECLOSED, rill_broadcast_send(tx, &v));
    assert_status(rill_broadcast_receiver_release(rx), 0);
    BAD(RILL_EALREADY, rill_broadcast_receiver_release(rx));
    assert_status(rill_broadcast_sender_release(tx), 0);
    BAD(RILL_EALREADY, rill_broadcast_sender_release(tx));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_oneshot, bad_setup),
        cmocka_unit_test_setup(test_watch, bad_setup),
        cmocka_unit_test_setup(test_broadcast, bad_setup),
    };
    return test_run(tests, NULL, NULL);
}
