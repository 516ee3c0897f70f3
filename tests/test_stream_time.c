/* SPDX-License-Identifier: MIT */
/*
 * test_stream_time.c - the timed stream parts on a runtime with a virtual
 * clock, so every instant is exact: interval (each missed-tick policy),
 * timeout, throttle, chunks_timeout boundaries; and dropping them with
 * armed timers.
 *
 * A producer task pushes into a gate stream at chosen instants (rill_sleep
 * on the virtual clock); the consumer records rill_now() at each item.
 */
#include "stream_util.h"

/* ---- a producer on a schedule ---- */

/* One step: at offset `at_ms` push `value`; value < 0 closes the gate. */
typedef struct step {
    int64_t at_ms, value;
} step_t;

typedef struct schedule {
    gate_t *g;
    rill_instant_t t0;
    const step_t *steps;
    size_t n;
} schedule_t;

static void *producer(void *arg)
{
    schedule_t *sc = arg;
    for (size_t i = 0; i < sc->n; i++) {
        rill_sleep_until(sc->t0 + RILL_MS(sc->steps[i].at_ms));
        if (sc->steps[i].value < 0)
            gate_close(sc->g);
        else
            gate_push(sc->g, sc->steps[i].value);
    }
    return NULL;
}

/* ---- interval ---- */

typedef struct interval_case {
    rill_tick_policy_t policy;
    /* After three on-time ticks (0, 100, 200) the consumer sleeps until
     * 550; then (tick, now) of the next four ticks, in ms from t0. */
    int64_t tick[4], now[4];
} interval_case_t;

static void *interval_task(void *arg)
{
    const interval_case_t *c = arg;
    rill_stream_t *s;
    assert_int_equal(rill_stream_interval(&s, RILL_MS(100), c->policy), 0);
    rill_instant_t t0 = rill_now(), tick;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rill_next(s, &tick), 0);
        assert_int_equal(MS(tick - t0), 100 * i);
        assert_int_equal(MS(rill_now() - t0), 100 * i);
    }
    rill_sleep_until(t0 + RILL_MS(550));
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rill_next(s, &tick), 0);
        assert_int_equal(MS(tick - t0), c->tick[i]);
        assert_int_equal(MS(rill_now() - t0), c->now[i]);
    }
    rill_stream_free(s);
    return (void *)1;
}

static void test_interval(void **state)
{
    (void)state;
    static const interval_case_t cases[] = {
        {RILL_TICK_BURST, {300, 400, 500, 600}, {550, 550, 550, 600}},
        {RILL_TICK_DELAY, {300, 650, 750, 850}, {550, 650, 750, 850}},
        {RILL_TICK_SKIP, {300, 600, 700, 800}, {550, 600, 700, 800}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run(interval_task, (void *)&cases[i]);
}

/* ---- timeout ---- */

static void *timeout_task(void *arg)
{
    (void)arg;
    rill_stream_t *s;
    schedule_t sc = {gate_new(&s, false, NULL), rill_now(), NULL, 0};
    static const step_t steps[] = {{50, 1}, {280, 2}, {300, -1}};
    sc.steps = steps;
    sc.n = 3;
    assert_int_equal(rill_stream_timeout(&s, RILL_MS(100)), 0);
    rill_task_t *p;
    assert_int_equal(rill_spawn(&p, producer, &sc, NULL), 0);
    /* (result, at ms) */
    static const int64_t want[][2] = {{0, 50},
                                      {RILL_ETIMEDOUT, 150},
                                      {RILL_ETIMEDOUT, 250},
                                      {0, 280},
                                      {RILL_DONE, 300}};
    for (size_t i = 0; i < 5; i++) {
        int64_t v;
        assert_int_equal(rill_next(s, &v), want[i][0]);
        assert_int_equal(MS(rill_now() - sc.t0), want[i][1]);
    }
    assert_int_equal(rill_join(p, NULL), 0);
    rill_stream_free(s);
    return (void *)1;
}

static void test_timeout(void **state)
{
    (void)state;
    run(timeout_task, NULL);
}

/* ---- throttle ---- */

static void *throttle_task(void *arg)
{
    (void)arg;
    rill_stream_t *s;
    gate_t *g = gate_new(&s, true, NULL);
    for (int i = 0; i < 4; i++)
        gate_push(g, i);
    gate_close(g);
    assert_int_equal(rill_stream_throttle(&s, RILL_MS(100)), 0);
    rill_instant_t t0 = rill_now();
    int64_t v;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rill_next(s, &v), 0);
        assert_int_equal(v, i);
        assert_int_equal(MS(rill_now() - t0), 100 * i);
    }
    assert_int_equal(rill_next(s, &v), RILL_DONE);
    assert_int_equal(MS(rill_now() - t0), 400); /* waits out the period */
    rill_stream_free(s);
    return (void *)1;
}

static void test_throttle(void **state)
{
    (void)state;
    run(throttle_task, NULL);
}

/* ---- chunks_timeout ---- */

static void *chunks_timeout_task(void *arg)
{
    (void)arg;
    rill_stream_t *s;
    schedule_t sc = {gate_new(&s, true, NULL), rill_now(), NULL, 0};
    /* Item values are their push times. */
    static const step_t steps[] = {
        {0, 0},     {10, 10},   {20, 20},   /* full at 20 */
        {100, 100}, {150, 150},             /* times out at 300 */
        {400, 400}, {410, 410}, {420, 420}, /* full at 420 */
        {430, 430},                         /* times out at 630 */
        {700, 700}, {750, -1}};             /* the end at 750 */
    sc.steps = steps;
    sc.n = sizeof steps / sizeof steps[0];
    assert_int_equal(rill_stream_chunks_timeout(&s, 3, RILL_MS(200)), 0);
    rill_task_t *p;
    assert_int_equal(rill_spawn(&p, producer, &sc, NULL), 0);
    /* (at ms, length, first item) */
    static const int64_t want[][3] = {
        {20, 3, 0}, {300, 2, 100}, {420, 3, 400}, {630, 1, 430}, {750, 1, 700}};
    for (size_t i = 0; i < 5; i++) {
        rill_chunk_t c;
        assert_int_equal(rill_next(s, &c), 0);
        assert_int_equal(MS(rill_now() - sc.t0), want[i][0]);
        assert_int_equal(c.len, want[i][1]);
        assert_int_equal(RILL_CHUNK_AT(&c, int64_t, 0), want[i][2]);
        rill_chunk_destroy(&c);
    }
    rill_chunk_t c;
    assert_int_equal(rill_next(s, &c), RILL_DONE);
    assert_int_equal(rill_join(p, NULL), 0);
    rill_stream_free(s);
    return (void *)1;
}

static void test_chunks_timeout(void **state)
{
    (void)state;
    run(chunks_timeout_task, NULL);
}

/* Dropped with timers armed and items buffered: the timers leave the
 * wheel (ASan would see the wheel touch freed memory otherwise) and
 * owning items are released. */
static void *drop_armed_task(void *arg)
{
    (void)arg;
    rill_stream_t *s, *iv, *th;
    gate_t *g = gate_new(&s, true, NULL);
    rill_stream_set_item_dtor(s, obj_drop, NULL);
    obj_t *o = obj_new(1);
    gate_push(g, (int64_t)(intptr_t)o); /* the gate carries the pointer */
    assert_int_equal(rill_stream_chunks_timeout(&s, 4, RILL_MS(100)), 0);
    assert_int_equal(rill_stream_timeout(&s, RILL_MS(100)), 0);
    rill_chunk_t c;
    assert_int_equal(poll_once(s, &c), RILL_PENDING); /* both timers armed */
    rill_stream_free(s);

    assert_int_equal(rill_stream_interval(&iv, RILL_MS(10), RILL_TICK_BURST),
                     0);
    rill_instant_t t;
    assert_int_equal(rill_next(iv, &t), 0);
    assert_int_equal(poll_once(iv, &t), RILL_PENDING);
    rill_stream_free(iv);

    th = range64(0, 3);
    assert_int_equal(rill_stream_throttle(&th, RILL_MS(10)), 0);
    int64_t v;
    assert_int_equal(rill_next(th, &v), 0);
    assert_int_equal(poll_once(th, &v), RILL_PENDING);
    rill_stream_free(th);
    /* Let time pass over where the timers were. */
    rill_sleep(RILL_MS(500));
    return (void *)1;
}

/* gate items are int64_t; the item destructor sees a pointer in them. */
static void test_drop_armed(void **state)
{
    (void)state;
    run(drop_armed_task, NULL);
}

int main(void)
{
    rill_set_allocator(counting_realloc, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_interval, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_timeout, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_throttle, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_chunks_timeout, rt_setup,
                                        rt_teardown),
        cmocka_unit_test_setup_teardown(test_drop_armed, rt_setup, rt_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
