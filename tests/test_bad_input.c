/* SPDX-License-Identifier: MIT */
/*
 * test_bad_input.c - bad arguments to every public call of rill/core.h,
 * rill/rt.h and rill/sync.h (mpsc channels and select): NULL, zero,
 * overflowing sizes and capacities, absurd durations, handles already
 * released or used. Each gets its documented error and a misuse report
 * naming the call (captured by a hook, see bad_input.h) - never a crash
 * or a hang. The other channel kinds, streams and bytes are in
 * test_bad_input_chan.c and test_bad_input_stream.c.
 */
#include "bad_input.h"

#include <stdlib.h>

/* An allocator that refuses more than 1 GiB at once, so that huge but
 * valid sizes meet RILL_ENOMEM here rather than the sanitizers' limits. */
static void *capped_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    return n > ((size_t)1 << 30) ? NULL : realloc(p, n);
}

/* ---- core ---- */

static int hook_calls;
static void counting_hook(void *ud, const char *api, int status,
                          const char *message)
{
    (void)status;
    (void)message;
    hook_calls++;
    assert_string_equal(api, "rill_channel_new");
    assert_ptr_equal(ud, &hook_calls);
}

static void test_core(void **state)
{
    (void)state;
    assert_string_equal(rill_err_name(RILL_EINVAL), "RILL_EINVAL");
    assert_string_equal(rill_err_name(12345), "RILL_UNKNOWN");
    assert_string_equal(rill_err_name(RILL_EUSER - 5), "RILL_EUSER");
    assert_string_equal(rill_strerror(INT32_MIN), "user error");
    assert_string_equal(rill_strerror(77), "unknown status");
    /* Wakers: NULL and the empty waker are accepted everywhere. */
    rill_waker_t w = rill_waker_clone(NULL);
    assert_null(w.vtable);
    QUIET(rill_waker_wake(NULL));
    QUIET(rill_waker_wake_by_ref(NULL));
    QUIET(rill_waker_release(NULL));
    QUIET(rill_waker_release(&w));
    assert_false(rill_waker_will_wake(NULL, NULL));
    assert_true(rill_waker_will_wake(rill_waker_noop(), rill_waker_noop()));
    rill_waker_t slot = RILL_WAKER_NONE;
    QUIET(rill_waker_set(&slot, NULL));
    REPORTS(rill_waker_set(NULL, rill_waker_noop()));
    QUIET(rill_waker_set(&slot, rill_waker_noop()));
    rill_waker_release(&slot);
    /* The misuse hook gets the call, the status and its user data. */
    rill_set_misuse_hook(counting_hook, &hook_calls);
    assert_int_equal(rill_channel_new(NULL, NULL, 4, 4, NULL), RILL_EINVAL);
    assert_int_equal(hook_calls, 1);
    rill_set_misuse_hook(capture, NULL);
    /* rill_set_allocator(NULL) restores the default. */
    rill_set_allocator(NULL, NULL);
    rill_set_allocator(capped_realloc, NULL);
}

/* ---- runtime ---- */

static rill_runtime_t *rt;

static int rt_setup(void **state)
{
    bad_setup(state);
    rt = test_new_rt(1, true);
    return 0;
}

static int rt_teardown(void **state)
{
    (void)state;
    rill_runtime_free(rt);
    return 0;
}

static void *give(void *arg)
{
    return arg;
}

static void test_runtime_config(void **state)
{
    (void)state;
    rill_runtime_config_t c;
    rill_runtime_t *r2 = (rill_runtime_t *)&c;
    BAD(RILL_EINVAL, rill_runtime_new(NULL, NULL));
    rill_runtime_config_init(&c);
    c.workers = 100000;
    BAD(RILL_EINVAL, rill_runtime_new(&r2, &c));
    assert_null(r2);
    rill_runtime_config_init(&c);
    c.stack_size = 1;
    BAD(RILL_EINVAL, rill_runtime_new(&r2, &c));
    c.stack_size = SIZE_MAX;
    BAD(RILL_EINVAL, rill_runtime_new(&r2, &c));
    QUIET(rill_runtime_config_init(NULL));
    QUIET(rill_runtime_free(NULL));
    QUIET(rill_runtime_shutdown(NULL));
    rill_runtime_stats_t st;
    BAD(RILL_EINVAL, rill_runtime_stats(NULL, &st));
    BAD(RILL_EINVAL, rill_runtime_stats(rt, NULL));
    BAD(RILL_EINVAL, rill_block_on(NULL, give, NULL, NULL));
    BAD(RILL_EINVAL, rill_block_on(rt, NULL, NULL, NULL));
    /* A NULL runtime's clock is the monotonic clock. */
    assert_true(rill_runtime_now(NULL) > 0);
}

/* Everything a task may get wrong; returns the line of a failed check
 * (cmocka asserts must run on the test's thread). */
#define TASK_BAD(want, call)                                                   \
    do {                                                                       \
        reports = 0;                                                           \
        if ((call) != (want) ||                                                \
            (((want) == RILL_EINVAL || (want) == RILL_EALREADY) &&             \
             reports != 1))                                                    \
            return (void *)(intptr_t)__LINE__;                                 \
        reports = 0;                                                           \
    } while (0)

static void *park(void *arg)
{
    rill_receiver_t *rx = arg;
    int v;
    /* Until the test releases the sender (RILL_DONE) or cancels it. */
    int r = rill_recv(rx, &v);
    return r == RILL_DONE || r == RILL_ECANCELED ? NULL : (void *)1;
}

/* A blocking job of rt that shuts rt down would wait for itself: two
 * reports, nothing done. (The job's writes reach the task through join.) */
static void *free_from_blocking_job(void *arg)
{
    (void)arg;
    rill_runtime_shutdown(rt);
    rill_runtime_free(rt);
    return (void *)(intptr_t)reports;
}

static void *misuse_in_task(void *arg)
{
    (void)arg;
    /* block_on, shutdown and free from a task would block its worker. */
    TASK_BAD(RILL_EINVAL, rill_block_on(rt, give, NULL, NULL));
    reports = 0;
    rill_runtime_shutdown(rt);
    if (reports != 1)
        return (void *)(intptr_t)__LINE__;
    reports = 0;
    rill_runtime_free(rt);
    if (reports != 1)
        return (void *)(intptr_t)__LINE__;
    /* The same from a blocking job of rt. */
    reports = 0;
    rill_task_t *job = NULL;
    void *job_reports = NULL;
    if (rill_spawn_blocking(&job, free_from_blocking_job, NULL, NULL) != 0 ||
        rill_join(job, &job_reports) != 0 || (intptr_t)job_reports != 2)
        return (void *)(intptr_t)__LINE__;
    reports = 0;
    /* Spawn options out of range. */
    rill_task_t *t = NULL;
    rill_spawn_config_t o = {.stack_size = 1};
    TASK_BAD(RILL_EINVAL, rill_spawn(&t, give, NULL, &o));
    o.stack_size = SIZE_MAX;
    TASK_BAD(RILL_EINVAL, rill_spawn(&t, give, NULL, &o));
    TASK_BAD(RILL_EINVAL, rill_spawn(&t, NULL, NULL, NULL));
    TASK_BAD(RILL_EINVAL, rill_spawn_future(&t, NULL, NULL));
    rill_future_t novt = {NULL};
    TASK_BAD(RILL_EINVAL, rill_spawn_future(&t, &novt, NULL));
    TASK_BAD(RILL_EINVAL, rill_spawn_blocking(&t, NULL, NULL, NULL));
    /* A long name is cut, not refused. */
    o = (rill_spawn_config_t){.name = "a name much longer than thirty-one "
                                      "bytes, cut to fit"};
    TASK_BAD(0, rill_spawn(&t, give, NULL, &o));
    if (strlen(rill_task_name(t)) != 31)
        return (void *)(intptr_t)__LINE__;
    TASK_BAD(0, rill_join(t, NULL));
    /* Absurd durations: negative waits return at once, huge ones
     * saturate (the virtual clock does not jump to the end of time). */
    TASK_BAD(0, rill_sleep(-1));
    TASK_BAD(0, rill_sleep(INT64_MIN));
    if (rill_deadline(INT64_MAX) != RILL_FOREVER ||
        rill_deadline(INT64_MIN) != rill_now())
        return (void *)(intptr_t)__LINE__;
    TASK_BAD(0, rill_sleep_until(INT64_MIN));
    rill_sleep_op_t sl;
    rill_sleep_op(&sl, rill_now() + RILL_MS(5));
    TASK_BAD(RILL_ETIMEDOUT, rill_await_timeout(&sl.base, -5));
    TASK_BAD(RILL_ETIMEDOUT, rill_await_timeout(&sl.base, INT64_MIN));
    TASK_BAD(RILL_EINVAL, rill_await(NULL));
    TASK_BAD(RILL_EINVAL, rill_await_until(&novt, RILL_FOREVER));
    rill_sleep_op_cancel(&sl);
    return NULL;
}

static void test_tasks(void **state)
{
    (void)state;
    rill_task_t *t = (rill_task_t *)&t;
    /* From a plain thread there is no current runtime. */
    BAD(RILL_EINVAL, rill_spawn(&t, give, NULL, NULL));
    assert_null(t);
    BAD(RILL_EINVAL, rill_spawn(&t, give, NULL, NULL));
    BAD(RILL_EINVAL,
        rill_spawn(&t, NULL, NULL, &(rill_spawn_config_t){.runtime = rt}));
    BAD(RILL_EINVAL, rill_spawn_future(&t, NULL, NULL));
    BAD(RILL_EINVAL, rill_spawn_blocking(&t, give, NULL, NULL));
    BAD(RILL_EINVAL, rill_join(NULL, NULL));
    BAD(RILL_EINVAL, rill_task_detach(NULL));
    BAD(RILL_EINVAL, rill_task_cancel(NULL));
    assert_int_equal(rill_task_id(NULL), 0);
    assert_string_equal(rill_task_name(NULL), "");
    assert_false(rill_task_is_finished(NULL));
    assert_null(rill_task_current());
    assert_false(rill_task_is_cancelled());
    assert_int_equal(rill_yield(), 0);
    BAD(RILL_EINVAL, rill_await(NULL));
    rill_future_t novt = {NULL};
    BAD(RILL_EINVAL, rill_await_timeout(&novt, RILL_MS(1)));
    QUIET(rill_sleep_op_cancel(NULL));
    REPORTS(rill_sleep_op(NULL, 0));
    REPORTS(rill_sleep_op_reset(NULL, 0));
    BAD(0, rill_sleep(-1));
    /* Misuse inside a task. */
    void *line = NULL;
    assert_int_equal(rill_block_on(rt, misuse_in_task, NULL, &line), 0);
    if (line)
        fail_msg("misuse_in_task: check at line %d", (int)(intptr_t)line);
    /* Cancel after completion does nothing; a handle detached while its
     * task still runs cannot be joined or detached again. */
    assert_int_equal(
        rill_spawn(&t, give, NULL, &(rill_spawn_config_t){.runtime = rt}), 0);
    assert_int_equal(rill_join(t, NULL), 0);
    rill_sender_t *tx;
    rill_receiver_t *rx;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(int), 1, NULL), 0);
    assert_int_equal(
        rill_spawn(&t, park, rx, &(rill_spawn_config_t){.runtime = rt}), 0);
    assert_int_equal(rill_task_cancel(t), 0);
    assert_int_equal(rill_task_cancel(t), 0); /* twice: still fine */
    int r = rill_join(t, NULL); /* cancelled before or while it ran */
    assert_true(r == 0 || r == RILL_ECANCELED);
    assert_int_equal(
        rill_spawn(&t, park, rx, &(rill_spawn_config_t){.runtime = rt}), 0);
    assert_int_equal(rill_task_detach(t), 0);
    BAD(RILL_EALREADY, rill_task_detach(t));
    BAD(RILL_EALREADY, rill_join(t, NULL));
    rill_sender_release(tx); /* the parked task ends */
    rill_runtime_shutdown(rt);
    rill_receiver_release(rx);
    /* After shutdown nothing new starts. */
    BAD(RILL_ESHUTDOWN,
        rill_spawn(&t, give, NULL, &(rill_spawn_config_t){.runtime = rt}));
    BAD(RILL_ESHUTDOWN, rill_block_on(rt, give, NULL, NULL));
    BAD(RILL_ESHUTDOWN,
        rill_spawn_blocking(&t, give, NULL,
                            &(rill_spawn_config_t){.runtime = rt}));
}

/* ---- mpsc channels ---- */

static void test_channel_new(void **state)
{
    (void)state;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    BAD(RILL_EINVAL, rill_channel_new(NULL, &rx, 4, 4, NULL));
    BAD(RILL_EINVAL, rill_channel_new(&tx, NULL, 4, 4, NULL));
    BAD(RILL_EINVAL, rill_channel_new(&tx, &rx, 0, 4, NULL));
    assert_null(tx);
    assert_null(rx);
    BAD(RILL_EINVAL, rill_channel_new(&tx, &rx, SIZE_MAX, 4, NULL));
    BAD(RILL_EINVAL, rill_channel_new(&tx, &rx, SIZE_MAX, 0, NULL));
    BAD(RILL_EINVAL,
        rill_channel_new(&tx, &rx, SIZE_MAX, RILL_UNBOUNDED, NULL));
    BAD(RILL_EINVAL, rill_channel_new(&tx, &rx, 8, SIZE_MAX - 1, NULL));
    BAD(RILL_EINVAL, rill_channel_new(&tx, &rx, 8, 1ull << 40, NULL));
    BAD(RILL_EINVAL, rill_channel_new(&tx, &rx, SIZE_MAX / 64 + 1, 0, NULL));
    /* A huge but valid request is RILL_ENOMEM (from the capped allocator
     * of this test), not a crash. */
    BAD(RILL_ENOMEM, rill_channel_new(&tx, &rx, 1 << 20, 1ull << 39, NULL));
    BAD(RILL_ENOMEM, rill_channel_new(&tx, &rx, 1 << 30, 16, NULL));
    BAD(RILL_ENOMEM, rill_channel_new(&tx, &rx, 1 << 30, RILL_UNBOUNDED, NULL));
    /* A name longer than the stats keep is cut. */
    rill_channel_config_t o = {.name = "a channel name much longer than "
                                       "thirty-one bytes"};
    assert_int_equal(rill_channel_new(&tx, &rx, 4, 4, &o), 0);
    rill_channel_stats_t st;
    assert_int_equal(rill_sender_stats(tx, &st), 0);
    assert_int_equal(strlen(st.name), 31);
    BAD(RILL_EINVAL, rill_sender_stats(tx, NULL));
    BAD(RILL_EINVAL, rill_sender_stats(NULL, &st));
    BAD(RILL_EINVAL, rill_receiver_stats(rx, NULL));
    BAD(RILL_EINVAL, rill_receiver_stats(NULL, &st));
    rill_sender_release(tx);
    rill_receiver_release(rx);
}

/* Every call on a NULL handle, on a wrong item size, with NULL buffers,
 * zero counts and absurd timeouts, for each kind of channel. */
static void bad_calls(size_t capacity)
{
    rill_sender_t *tx, *tx2 = NULL;
    rill_receiver_t *rx;
    int v = 1, arr[4] = {0};
    long big = 0;
    size_t n = 99;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof v, capacity, NULL), 0);
    /* Sending. */
    BAD(RILL_EINVAL, rill_try_send(NULL, &v));
    BAD(RILL_EINVAL, rill_try_send(tx, &big)); /* wrong size */
    BAD(RILL_EINVAL, rill_try_send_sized(tx, NULL, sizeof v));
    BAD(RILL_EINVAL, rill_send(NULL, &v));
    BAD(RILL_EINVAL, rill_send(tx, &big));
    BAD(RILL_EINVAL, rill_send_timeout(tx, &big, RILL_MS(1)));
    BAD(RILL_EINVAL, rill_try_send_many(tx, arr, 0, &n));
    assert_int_equal(n, 0);
    BAD(RILL_EINVAL, rill_try_send_many(tx, arr, 4, NULL));
    BAD(RILL_EINVAL, rill_try_send_many_sized(tx, NULL, 4, &n, sizeof v));
    BAD(RILL_EINVAL, rill_send_many(tx, arr, 0, &n));
    BAD(RILL_EINVAL, rill_send_many(tx, arr, 4, NULL));
    BAD(RILL_EINVAL, rill_send_many_timeout(NULL, arr, 4, &n, 0));
    /* Receiving. */
    BAD(RILL_EINVAL, rill_try_recv(NULL, &v));
    BAD(RILL_EINVAL, rill_try_recv(rx, &big));
    BAD(RILL_EINVAL, rill_try_recv_sized(rx, NULL, sizeof v));
    BAD(RILL_EINVAL, rill_recv(NULL, &v));
    BAD(RILL_EINVAL, rill_recv_timeout(rx, &big, RILL_MS(1)));
    BAD(RILL_EINVAL, rill_try_recv_many(rx, arr, 0, &n));
    BAD(RILL_EINVAL, rill_try_recv_many(rx, arr, 4, NULL));
    BAD(RILL_EINVAL, rill_recv_many(rx, arr, 0, &n));
    BAD(RILL_EINVAL, rill_recv_many_timeout(NULL, arr, 4, &n, 0));
    rill_cx_t cx = RILL_CX_INIT(rill_waker_noop());
    BAD(RILL_EINVAL, rill_poll_recv(NULL, &cx, &v, sizeof v));
    BAD(RILL_EINVAL, rill_poll_recv(rx, NULL, &v, sizeof v));
    BAD(RILL_EINVAL, rill_poll_recv(rx, &cx, &v, 3));
    BAD(RILL_EINVAL, rill_poll_recv_many(rx, &cx, arr, 0, &n, sizeof v));
    BAD(RILL_EINVAL, rill_poll_recv_many(rx, &cx, arr, 4, NULL, sizeof v));
    /* Absurd timeouts: negative is "now", INT64_MIN does not overflow. */
    int want_empty = capacity == 0 ? RILL_ETIMEDOUT : RILL_ETIMEDOUT;
    BAD(want_empty, rill_recv_timeout(rx, &v, -1));
    BAD(want_empty, rill_recv_timeout(rx, &v, INT64_MIN));
    if (capacity == 0) {
        BAD(RILL_ETIMEDOUT, rill_send_timeout(tx, &v, INT64_MIN));
    } else {
        BAD(0, rill_send_timeout(tx, &v, INT64_MIN)); /* room: sent */
        BAD(0, rill_recv_timeout(rx, &v, INT64_MIN));
    }
    /* Permits. */
    rill_permit_t pm;
    BAD(RILL_EINVAL, rill_try_reserve(NULL, &pm));
    BAD(RILL_EINVAL, rill_try_reserve(tx, NULL));
    BAD(RILL_EINVAL, rill_reserve(NULL, &pm));
    BAD(RILL_EINVAL, rill_reserve_timeout(tx, NULL, RILL_MS(1)));
    BAD(RILL_EINVAL, rill_permit_send(NULL, &v));
    BAD(RILL_EINVAL, rill_permit_release(NULL));
    if (capacity == 0) {
        BAD(RILL_ENOTSUP, rill_try_reserve(tx, &pm));
    } else {
        assert_int_equal(rill_try_reserve(tx, &pm), 0);
        BAD(RILL_EINVAL, rill_permit_send(&pm, &big)); /* still valid */
        BAD(RILL_EINVAL, rill_permit_send_sized(&pm, NULL, sizeof v));
        assert_int_equal(rill_permit_send(&pm, &v), 0);
        BAD(RILL_EINVAL, rill_permit_send(&pm, &v)); /* used */
        BAD(RILL_EINVAL, rill_permit_release(&pm));
        assert_int_equal(rill_try_reserve(tx, &pm), 0);
        assert_int_equal(rill_permit_release(&pm), 0);
        BAD(RILL_EINVAL, rill_permit_release(&pm)); /* released */
        BAD(RILL_EINVAL, rill_permit_send(&pm, &v));
        assert_int_equal(rill_try_recv(rx, &v), 0);
    }
    /* Ops: init never fails, the first poll says RILL_EINVAL. */
    rill_send_op_t so;
    rill_recv_op_t ro;
    rill_reserve_op_t rso;
    rill_send_op(&so, NULL, &v, sizeof v);
    BAD(RILL_EINVAL, rill_await(&so.base));
    rill_send_many_op(&so, tx, arr, 0, &n, sizeof v);
    BAD(RILL_EINVAL, rill_await(&so.base));
    rill_recv_op(&ro, rx, &big, sizeof big);
    BAD(RILL_EINVAL, rill_await(&ro.base));
    rill_recv_many_op(&ro, rx, arr, 4, NULL, sizeof v);
    BAD(RILL_EINVAL, rill_await(&ro.base));
    rill_reserve_op(&rso, NULL, &pm);
    BAD(RILL_EINVAL, rill_await(&rso.base));
    /* Inspection of NULL. */
    assert_int_equal(rill_sender_len(NULL), 0);
    assert_int_equal(rill_receiver_len(NULL), 0);
    assert_int_equal(rill_sender_capacity(NULL), 0);
    assert_int_equal(rill_receiver_capacity(NULL), 0);
    assert_int_equal(rill_receiver_item_size(NULL), 0);
    QUIET(rill_sender_is_closed(NULL));
    QUIET(rill_receiver_is_closed(NULL));
    /* Clones, closes and releases. */
    BAD(RILL_EINVAL, rill_sender_clone(NULL, &tx2));
    BAD(RILL_EINVAL, rill_sender_clone(tx, NULL));
    BAD(RILL_EINVAL, rill_receiver_close(NULL));
    assert_int_equal(rill_sender_clone(tx, &tx2), 0);
    assert_int_equal(rill_sender_release(tx2), 0);
    BAD(RILL_EALREADY, rill_sender_release(tx2));
    BAD(0, rill_sender_release(NULL));
    BAD(0, rill_receiver_release(NULL));
    /* Send after close: the caller keeps the item. */
    assert_int_equal(rill_receiver_close(rx), 0);
    assert_int_equal(rill_receiver_close(rx), 0); /* idempotent */
    BAD(RILL_ECLOSED, rill_try_send(tx, &v));
    BAD(RILL_ECLOSED, rill_send(tx, &v));
    BAD(RILL_DONE, rill_recv(rx, &v));
    /* A released sender (the channel lives on in rx) is refused. */
    assert_int_equal(rill_sender_release(tx), 0);
    BAD(RILL_EALREADY, rill_sender_release(tx));
    BAD(RILL_EINVAL, rill_try_send(tx, &v));
    BAD(RILL_EINVAL, rill_sender_clone(tx, &tx2));
    BAD(RILL_EINVAL, rill_sender_stats(tx, &(rill_channel_stats_t){0}));
    assert_int_equal(rill_receiver_release(rx), 0);
}

static void test_channel_calls(void **state)
{
    (void)state;
    bad_calls(4);
    bad_calls(0);
    bad_calls(RILL_UNBOUNDED);
}

/* A released receiver, while a sender keeps the channel alive. */
static void test_released_receiver(void **state)
{
    (void)state;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    int v = 1;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof v, 4, NULL), 0);
    assert_int_equal(rill_receiver_release(rx), 0);
    BAD(RILL_EALREADY, rill_receiver_release(rx));
    BAD(RILL_EINVAL, rill_try_recv(rx, &v));
    BAD(RILL_EINVAL, rill_receiver_close(rx));
    BAD(RILL_ECLOSED, rill_try_send(tx, &v));
    assert_true(rill_sender_is_closed(tx));
    assert_int_equal(rill_sender_release(tx), 0);
}

/* ---- select ---- */

static void test_select(void **state)
{
    (void)state;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    int v = 1, st;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof v, 4, NULL), 0);
    rill_recv_op_t ro;
    rill_recv_op(&ro, rx, &v, sizeof v);
    rill_future_t *cases[2] = {&ro.base, NULL};
    BAD(RILL_EINVAL, rill_select(NULL, 1, 0, RILL_FOREVER, &st));
    BAD(RILL_EINVAL, rill_select(cases, 0, 0, RILL_FOREVER, &st));
    BAD(RILL_EINVAL, rill_select(cases, 2, 0, RILL_FOREVER, &st));
    BAD(RILL_EINVAL, rill_select(cases, 2000, 0, RILL_FOREVER, &st));
    BAD(RILL_EINVAL, rill_select(cases, SIZE_MAX, 0, RILL_FOREVER, &st));
    rill_recv_op(&ro, rx, &v, sizeof v);
    BAD(RILL_ETIMEDOUT, rill_select(cases, 1, 0, INT64_MIN, &st));
    rill_recv_op(&ro, rx, &v, sizeof v);
    BAD(RILL_EAGAIN,
        rill_select(cases, 1, RILL_SELECT_DEFAULT | 0xF0, RILL_FOREVER, NULL));
    /* A case with a bad argument completes with its own RILL_EINVAL. */
    long big;
    reports = 0;
    rill_recv_op(&ro, rx, &big, sizeof big);
    assert_int_equal(rill_select(cases, 1, 0, RILL_FOREVER, &st), 0);
    assert_int_equal(st, RILL_EINVAL);
    assert_int_equal(reports, 1);
    reports = 0;
    rill_sender_release(tx);
    rill_receiver_release(rx);
}

int main(void)
{
    rill_set_allocator(capped_realloc, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_core, bad_setup),
        cmocka_unit_test_setup_teardown(test_runtime_config, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_tasks, rt_setup, rt_teardown),
        cmocka_unit_test_setup(test_channel_new, bad_setup),
        cmocka_unit_test_setup(test_channel_calls, bad_setup),
        cmocka_unit_test_setup(test_released_receiver, bad_setup),
        cmocka_unit_test_setup(test_select, bad_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
