/* SPDX-License-Identifier: MIT */
/*
 * test_concurrent.c - map_async and for_each_concurrent on a runtime with
 * a virtual clock: ordered output under random delays, unordered output
 * in completion order, error items, the concurrency limit (instrumented:
 * never exceeded, and reached), stopping early, and dropping a
 * half-consumed map_async with calls in flight.
 */
#include "stream_util.h"

/* Concurrency instrumentation: calls running now and the most at once. */
typedef struct gauge {
    atomic_int running, most, calls, cancelled;
} gauge_t;

static void gauge_enter(gauge_t *g)
{
    int now = atomic_fetch_add(&g->running, 1) + 1;
    int most = atomic_load(&g->most);
    while (now > most && !atomic_compare_exchange_weak(&g->most, &most, now))
        ;
    atomic_fetch_add(&g->calls, 1);
}

static void gauge_leave(gauge_t *g)
{
    atomic_fetch_sub(&g->running, 1);
}

/* A fixed pseudo-random delay for item v, 0..49 ms. */
static rill_duration_t delay_of(int64_t v)
{
    uint64_t x = (uint64_t)v * 0x9E3779B97F4A7C15ull;
    return RILL_MS((x >> 33) % 50);
}

/* Sleeps its item's delay, then triples it. */
static int slow_triple(void *ud, void *in, void *out)
{
    gauge_t *g = ud;
    gauge_enter(g);
    int64_t v = *(int64_t *)in;
    int r = rill_sleep(delay_of(v));
    gauge_leave(g);
    if (r)
        return r;
    if (v == 13)
        return RILL_EUSER - 13;
    *(int64_t *)out = 3 * v;
    return 0;
}

static void *ordered_task(void *arg)
{
    (void)arg;
    enum { N = 200, LIMIT = 8 };
    gauge_t g = {0};
    rill_stream_t *s = range64(0, N);
    assert_int_equal(rill_stream_map_async(&s, LIMIT, RILL_ORDERED, slow_triple,
                                           &g, sizeof(int64_t)),
                     0);
    for (int64_t i = 0; i < N; i++) {
        int64_t v;
        int r = rill_next(s, &v);
        if (i == 13) {
            assert_int_equal(r, RILL_EUSER - 13); /* in its place */
            continue;
        }
        assert_int_equal(r, 0);
        assert_int_equal(v, 3 * i); /* in input order */
    }
    int64_t v;
    assert_int_equal(rill_next(s, &v), RILL_DONE);
    assert_int_equal(atomic_load(&g.most), LIMIT); /* reached, never more */
    assert_int_equal(atomic_load(&g.calls), N);
    rill_stream_free(s);
    return (void *)1;
}

static void test_map_async_ordered(void **state)
{
    (void)state;
    run(ordered_task, NULL);
}

/* Sleeps (10 - item) * 10 ms: later items finish first. */
static int countdown_sleep(void *ud, void *in, void *out)
{
    (void)ud;
    int64_t v = *(int64_t *)in;
    int r = rill_sleep(RILL_MS((10 - v) * 10));
    *(int64_t *)out = v;
    return r;
}

static void *unordered_task(void *arg)
{
    (void)arg;
    rill_stream_t *s;
    const int64_t script[] = {0, 1, ERR(RILL_EAGAIN), 2, 3};
    scripted(&s, true, script, 5, NULL);
    assert_int_equal(rill_stream_map_async(&s, 4, RILL_UNORDERED,
                                           countdown_sleep, NULL,
                                           sizeof(int64_t)),
                     0);
    rill_instant_t t0 = rill_now();
    int64_t v;
    /* The error item passes at once; then completion order. */
    assert_int_equal(rill_next(s, &v), RILL_EAGAIN);
    static const int64_t want[][2] = {{3, 70}, {2, 80}, {1, 90}, {0, 100}};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rill_next(s, &v), 0);
        assert_int_equal(v, want[i][0]);
        assert_int_equal(MS(rill_now() - t0), want[i][1]);
    }
    assert_int_equal(rill_next(s, &v), RILL_DONE);
    rill_stream_free(s);
    return (void *)1;
}

static void test_map_async_unordered(void **state)
{
    (void)state;
    run(unordered_task, NULL);
}

/* ---- for_each_concurrent ---- */

typedef struct fec_case {
    size_t limit;
    int items;
    int stop_at; /* fn returns 7 for this item (-1: never) */
    gauge_t g;
    atomic_long sum;
} fec_case_t;

static int work_100ms(void *ud, int status, void *item)
{
    fec_case_t *c = ud;
    assert_int_equal(status, 0);
    int64_t v = *(int64_t *)item;
    gauge_enter(&c->g);
    int r = rill_sleep(RILL_MS(100));
    gauge_leave(&c->g);
    if (r == RILL_ECANCELED) {
        atomic_fetch_add(&c->g.cancelled, 1);
        return r;
    }
    atomic_fetch_add(&c->sum, v);
    return v == c->stop_at ? 7 : 0;
}

static void *fec_task(void *arg)
{
    fec_case_t *c = arg;
    rill_stream_t *s = range64(0, c->items);
    rill_instant_t t0 = rill_now();
    int r = rill_stream_for_each_concurrent(s, c->limit, work_100ms, c);
    return (void *)(intptr_t)(r == 0 ? MS(rill_now() - t0) : -r);
}

static void test_for_each_concurrent_limit(void **state)
{
    (void)state;
    /* 20 items of 100 ms, 5 at a time: 400 ms, never more than 5. */
    fec_case_t c = {.limit = 5, .items = 20, .stop_at = -1};
    void *ms;
    assert_int_equal(rill_block_on(rt, fec_task, &c, &ms), 0);
    assert_int_equal((intptr_t)ms, 400);
    assert_int_equal(atomic_load(&c.g.most), 5);
    assert_int_equal(atomic_load(&c.g.calls), 20);
    assert_int_equal(atomic_load(&c.sum), 190);

    /* No limit: all 20 at once. */
    fec_case_t u = {.limit = 0, .items = 20, .stop_at = -1};
    assert_int_equal(rill_block_on(rt, fec_task, &u, &ms), 0);
    assert_int_equal((intptr_t)ms, 100);
    assert_int_equal(atomic_load(&u.g.most), 20);
}

static void test_for_each_concurrent_stop(void **state)
{
    (void)state;
    /* Item 7 stops it at 200 ms (it runs in the second wave of 4); the
     * calls still running then are cancelled. */
    fec_case_t c = {.limit = 4, .items = 40, .stop_at = 7};
    void *r;
    assert_int_equal(rill_block_on(rt, fec_task, &c, &r), 0);
    assert_int_equal((intptr_t)r, -7);
    assert_true(atomic_load(&c.g.most) <= 4);
    assert_true(atomic_load(&c.g.calls) < 40);
    assert_int_equal(atomic_load(&c.g.running), 0); /* all returned */
}

/* ---- dropping a half-consumed map_async ---- */

/* obj -> obj: frees its input; made an output unless cancelled. */
static int obj_slow_copy(void *ud, void *in, void *out)
{
    (void)ud;
    obj_t *o = *(obj_t **)in;
    int r = rill_sleep(RILL_MS(10 * (o->v % 5)));
    if (r == 0)
        *(obj_t **)out = obj_new(o->v);
    obj_free(o);
    return r;
}

static void *drop_task(void *arg)
{
    (void)arg;
    enum { N = 30 };
    obj_t *objs[N];
    for (int i = 0; i < N; i++)
        objs[i] = obj_new(i);
    for (int ordered = 0; ordered < 2; ordered++) {
        rill_stream_t *s;
        if (ordered)
            for (int i = 0; i < N; i++)
                objs[i] = obj_new(i);
        assert_int_equal(rill_stream_iter(&s, objs, N, sizeof objs[0]), 0);
        rill_stream_set_item_dtor(s, obj_drop, NULL);
        assert_int_equal(rill_stream_map_async(
                             &s, 6, ordered ? RILL_ORDERED : RILL_UNORDERED,
                             obj_slow_copy, NULL, sizeof(obj_t *)),
                         0);
        rill_stream_set_item_dtor(s, obj_drop, NULL);
        for (int i = 0; i < 3; i++) {
            obj_t *o;
            assert_int_equal(rill_next(s, &o), 0);
            obj_free(o);
        }
        rill_sleep(RILL_MS(25)); /* let some finish, some not */
        rill_stream_free(s);
        assert_int_equal(atomic_load(&live_objs), 0);
    }
    return (void *)1;
}

static void test_map_async_drop(void **state)
{
    (void)state;
    run(drop_task, NULL);
}

/* A task that is cancelled and then drops a map_async with calls in
 * flight (a task unwinding after its cancellation frees its pipeline):
 * the drop still waits for every call to return before it frees what
 * they use. */
static void *drop_when_cancelled_task(void *arg)
{
    (void)arg;
    gauge_t g = {0};
    rill_stream_t *s = range64(0, 100);
    assert_int_equal(rill_stream_map_async(&s, 8, RILL_UNORDERED, slow_triple,
                                           &g, sizeof(int64_t)),
                     0);
    int64_t v;
    assert_int_equal(rill_next(s, &v), 0); /* the calls are under way */
    assert_int_equal(rill_task_cancel(rill_task_current()), 0);
    rill_stream_free(s);
    assert_int_equal(atomic_load(&g.running), 0);
    return (void *)1;
}

static void test_map_async_drop_when_cancelled(void **state)
{
    (void)state;
    run(drop_when_cancelled_task, NULL);
}

static void *misuse_task(void *arg)
{
    (void)arg;
    rill_stream_t *s = range64(0, 3);
    assert_int_equal(
        rill_stream_map_async(&s, 0, RILL_ORDERED, slow_triple, NULL, 8),
        RILL_EINVAL);
    assert_int_equal(
        rill_stream_map_async(&s, 2, (rill_order_t)9, slow_triple, NULL, 8),
        RILL_EINVAL);
    rill_stream_free(s);
    return (void *)1;
}

static void test_misuse(void **state)
{
    (void)state;
    run(misuse_task, NULL);
    /* On a plain thread there is no runtime to run the calls. */
    rill_stream_t *s = range64(0, 3);
    assert_int_equal(
        rill_stream_map_async(&s, 2, RILL_ORDERED, slow_triple, NULL, 8),
        RILL_EINVAL);
    rill_stream_free(s);
}

int main(void)
{
    rill_set_allocator(counting_realloc, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_async_ordered, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_map_async_unordered, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_for_each_concurrent_limit,
                                        rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_for_each_concurrent_stop, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_map_async_drop, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_map_async_drop_when_cancelled,
                                        rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_misuse, rt_setup, rt_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
