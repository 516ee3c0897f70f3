/* SPDX-License-Identifier: MIT */
/*
 * test_timer_wheel.c - the hierarchical timing wheel against a brute-force
 * model.
 *
 * The model is the array of test timers itself: at every advance the test
 * scans it for the armed timers that are due, sorts them by (deadline,
 * insertion order) and demands exactly that sequence from the wheel; after
 * every advance it demands that next_deadline is the exact minimum of the
 * armed deadlines. So "fires exactly once, never early, never late, in
 * order" is checked step by step, not only at the end. Randomness comes
 * from a fixed seed, so a failure repeats.
 */
#include "test_util.h"
#include "rt/timer_wheel.h"
#include <rill.h>
#include <stdlib.h>

/* ---- the model ---- */

typedef struct {
    rill__timer_t t;
    uint64_t ins; /* the test's own insertion count: orders equal deadlines */
    bool live;    /* armed, as far as the model knows */
    unsigned fired;
} tt_t;

typedef struct {
    rill__wheel_t w;
    tt_t *v;
    size_t n;
    size_t live;
    uint64_t ins;
    uint64_t rng;
    tt_t **due; /* scratch: the expected expiry sequence */
} model_t;

static uint64_t rnd(model_t *m)
{
    /* splitmix64: tiny, fast, good enough for test input. */
    uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A duration spread evenly over the orders of magnitude below 2^max_bits
 * ns (2^43 ns is about 2.4 hours). */
static rill_duration_t rnd_spread(model_t *m, unsigned max_bits)
{
    unsigned bits = (unsigned)(rnd(m) % (max_bits + 1));
    return bits == 0 ? 0 : (rill_duration_t)(rnd(m) >> (64 - bits));
}

static model_t *model_new(size_t n, rill_instant_t now, uint64_t seed)
{
    model_t *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->v = calloc(n, sizeof *m->v);
    m->due = calloc(n, sizeof *m->due);
    assert_non_null(m->v);
    assert_non_null(m->due);
    m->n = n;
    m->rng = seed;
    rill__wheel_init(&m->w, now);
    return m;
}

static void model_free(model_t *m)
{
    free(m->v);
    free(m->due);
    free(m);
}

static void arm(model_t *m, tt_t *x, rill_instant_t deadline)
{
    assert_false(x->live);
    assert_false(rill__timer_is_armed(&x->t));
    x->t.deadline = deadline;
    x->ins = m->ins++;
    x->live = true;
    m->live++;
    rill__wheel_insert(&m->w, &x->t);
    assert_true(rill__timer_is_armed(&x->t));
    assert_int_equal(rill__wheel_count(&m->w), m->live);
}

static void disarm(model_t *m, tt_t *x)
{
    assert_true(x->live);
    rill__wheel_remove(&m->w, &x->t);
    assert_false(rill__timer_is_armed(&x->t));
    x->live = false;
    m->live--;
    assert_int_equal(rill__wheel_count(&m->w), m->live);
}

static int cmp_due(const void *pa, const void *pb)
{
    const tt_t *a = *(tt_t *const *)pa, *b = *(tt_t *const *)pb;
    if (a->t.deadline != b->t.deadline)
        return a->t.deadline < b->t.deadline ? -1 : 1;
    return a->ins < b->ins ? -1 : a->ins > b->ins;
}

/* The exact earliest armed deadline, by scanning. */
static rill_instant_t model_min(const model_t *m)
{
    rill_instant_t min = RILL_FOREVER;
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].live && m->v[i].t.deadline < min)
            min = m->v[i].t.deadline;
    return min;
}

static void check_next(model_t *m)
{
    assert_int_equal(rill__wheel_next_deadline(&m->w), model_min(m));
    /* A second call is answered from the cache and must agree. */
    assert_int_equal(rill__wheel_next_deadline(&m->w), model_min(m));
}

/*
 * Advance the wheel to `now` and check the expired sequence against the
 * model. With `exact` (the virtual clock jumping to next_deadline), every
 * timer that was not already due before must fire at exactly its deadline.
 */
static size_t advance(model_t *m, rill_instant_t now, bool exact)
{
    rill_instant_t before = rill__wheel_now(&m->w);
    size_t k = 0, got;
    rill__list_t expired, *node;

    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].live && m->v[i].t.deadline <= now)
            m->due[k++] = &m->v[i];
    qsort(m->due, k, sizeof *m->due, cmp_due);

    rill__list_init(&expired);
    got = rill__wheel_advance(&m->w, now, &expired);
    assert_int_equal(got, k);
    assert_int_equal(rill__wheel_now(&m->w), now);
    for (size_t i = 0; i < k; i++) {
        node = rill__list_pop_front(&expired);
        assert_non_null(node);
        tt_t *x = RILL_CONTAINER_OF(node, tt_t, t.link);
        assert_ptr_equal(x, m->due[i]); /* exact (deadline, insertion) */
        assert_false(rill__timer_is_armed(&x->t));
        assert_true(x->t.deadline <= now); /* never early */
        if (exact && x->t.deadline > before)
            assert_int_equal(x->t.deadline, now);
        x->live = false;
        x->fired++;
        m->live--;
    }
    assert_true(rill__list_empty(&expired));
    assert_int_equal(rill__wheel_count(&m->w), m->live);
    /* Never late: what is left is all in the future. */
    check_next(m);
    if (m->live > 0)
        assert_true(rill__wheel_next_deadline(&m->w) > now);
    return k;
}

/* The virtual clock's move: jump to the next deadline (or stay, if that
 * deadline is already behind the wheel's time). */
static size_t jump(model_t *m)
{
    rill_instant_t next = rill__wheel_next_deadline(&m->w);
    rill_instant_t now = rill__wheel_now(&m->w);
    return advance(m, next > now ? next : now, true);
}

static tt_t *random_timer(model_t *m)
{
    return &m->v[rnd(m) % m->n];
}

static void assert_drained(model_t *m)
{
    assert_int_equal(m->live, 0);
    assert_int_equal(rill__wheel_count(&m->w), 0);
    assert_int_equal(rill__wheel_next_deadline(&m->w), RILL_FOREVER);
}

/* Fire what is left by following the virtual clock, check that nothing
 * is left behind, free the model. */
static void finish(model_t *m)
{
    while (m->live > 0)
        jump(m);
    assert_drained(m);
    model_free(m);
}

/* ---- tests ---- */

static void test_basic(void **state)
{
    (void)state;
    model_t *m = model_new(3, 0, 1);
    tt_t *a = &m->v[0], *b = &m->v[1], *c = &m->v[2];

    assert_int_equal(rill__wheel_next_deadline(&m->w), RILL_FOREVER);
    rill__timer_init(&a->t, 0);
    assert_false(rill__timer_is_armed(&a->t));
    arm(m, a, RILL_US(5));
    arm(m, b, RILL_US(3));
    arm(m, c, RILL_SEC(10));
    check_next(m);
    disarm(m, b);
    check_next(m); /* the earliest went away: recomputed */
    assert_int_equal(advance(m, RILL_US(4), false), 0);
    assert_int_equal(advance(m, RILL_US(5), false), 1);
    assert_int_equal(a->fired, 1);
    arm(m, a, RILL_US(6)); /* re-arm after expiry */
    disarm(m, c);
    assert_int_equal(jump(m), 1);
    assert_int_equal(a->fired, 2);
    assert_drained(m);
    assert_int_equal(advance(m, RILL_SEC(100), false), 0);
    model_free(m);
}

/*
 * The main property test: `n` timers with deadlines spread from
 * nanoseconds to hours; time moves either in random steps or by jumping
 * to next_deadline; a random tenth of the timers is removed on the way.
 * Every timer ends either fired exactly once or removed.
 */
static void run_population(size_t n, bool exact, uint64_t seed)
{
    const rill_instant_t t0 = RILL_SEC(1000);
    model_t *m = model_new(n, t0, seed);
    size_t removed = 0, fired = 0;

    for (size_t i = 0; i < n; i++)
        arm(m, &m->v[i], t0 + rnd_spread(m, 43));
    check_next(m);

    while (m->live > 0) {
        if (rnd(m) % 4 == 0) {
            tt_t *x = random_timer(m);
            if (x->live && rnd(m) % 3 == 0) {
                disarm(m, x);
                removed++;
                check_next(m);
            }
        }
        if (exact) {
            fired += jump(m);
        } else {
            /* Steps on the scale of the next gap, sometimes much larger,
             * so single timers and large batches are both exercised. */
            rill_instant_t now = rill__wheel_now(&m->w);
            rill_instant_t gap = rill__wheel_next_deadline(&m->w) - now;
            rill_duration_t step =
                rnd(m) % 8 == 0
                    ? rnd_spread(m, 40)
                    : (rill_duration_t)(rnd(m) % (2 * (uint64_t)gap + 2));
            fired += advance(m, now + step, false);
        }
    }
    assert_int_equal(fired + removed, n);
    for (size_t i = 0; i < n; i++)
        assert_true(m->v[i].fired <= 1);
    assert_drained(m);
    model_free(m);
}

static void test_random_steps(void **state)
{
    (void)state;
    run_population(SCALE(10000, 4), false, 42);
}

static void test_jump_to_next(void **state)
{
    (void)state;
    run_population(SCALE(10000, 4), true, 4242);
}

/*
 * Churn: timers are re-armed as soon as they fire or are removed, some
 * with deadlines in the past or equal to others; the order check runs per
 * advance. Deadlines drawn from a few values force many ties.
 */
static void run_churn(size_t n, size_t rounds, bool ties, bool exact,
                      uint64_t seed)
{
    model_t *m = model_new(n, 0, seed);

    for (size_t r = 0; r < rounds; r++) {
        for (size_t j = 0; j < 8; j++) {
            tt_t *x = random_timer(m);
            rill_instant_t now = rill__wheel_now(&m->w);
            if (x->live) {
                disarm(m, x);
            } else if (ties) {
                arm(m, x,
                    (now / 4096 + 1 + (rill_duration_t)(rnd(m) % 4)) * 4096);
            } else if (rnd(m) % 8 == 0) {
                /* Already due: fires at the next advance. */
                arm(m, x, now - rnd_spread(m, 30));
            } else {
                arm(m, x, now + rnd_spread(m, 36));
            }
        }
        if (exact)
            jump(m);
        else
            advance(m, rill__wheel_now(&m->w) + rnd_spread(m, 28), false);
    }
    finish(m);
}

static void test_churn(void **state)
{
    (void)state;
    run_churn(2000, SCALE(20000, 4), false, false, 7);
    run_churn(2000, SCALE(20000, 4), false, true, 8);
}

static void test_equal_deadlines_churn(void **state)
{
    (void)state;
    run_churn(500, SCALE(20000, 4), true, false, 9);
    run_churn(500, SCALE(20000, 4), true, true, 10);
}

/*
 * Equal deadlines armed at different times land on different levels and
 * meet in one slot only after cascading; insertion order must still win.
 */
static void test_equal_deadlines_across_levels(void **state)
{
    (void)state;
    const rill_instant_t d = RILL_SEC(3600);
    const size_t group = 100;
    model_t *m = model_new(4 * group, 0, 11);
    const rill_instant_t at[4] = {0, d - RILL_SEC(20), d - RILL_MS(3),
                                  d - RILL_NS(500)};

    for (size_t g = 0; g < 4; g++) {
        advance(m, at[g], false);
        /* Interleave with neighbours just before and after d. */
        for (size_t i = 0; i < group; i++)
            arm(m, &m->v[g * group + i],
                i % 10 == 0 ? d + (rill_duration_t)g - 2 : d);
        check_next(m);
    }
    for (size_t i = 0; i < m->n; i += 7)
        disarm(m, &m->v[i]);
    finish(m);
}

static void test_past_deadlines(void **state)
{
    (void)state;
    const rill_instant_t now = RILL_SEC(1);
    model_t *m = model_new(8, now, 12);

    arm(m, &m->v[0], now + 300); /* same tick as now, still ahead */
    arm(m, &m->v[1], now);
    arm(m, &m->v[2], 5);
    arm(m, &m->v[3], INT64_MIN);
    arm(m, &m->v[4], now - 1);
    arm(m, &m->v[5], 5);
    check_next(m);
    assert_int_equal(rill__wheel_next_deadline(&m->w), INT64_MIN);
    /* Advancing to the same time fires the due ones, in order. */
    assert_int_equal(advance(m, now, false), 5);
    /* Due again, into the slot that still holds v[0]. */
    arm(m, &m->v[6], now - 100);
    arm(m, &m->v[7], now + 200);
    check_next(m);
    assert_int_equal(advance(m, now + 250, false), 2);
    assert_int_equal(jump(m), 1);
    assert_drained(m);
    model_free(m);
}

static void test_huge_deadlines(void **state)
{
    (void)state;
    model_t *m = model_new(16, RILL_SEC(1), 13);
    const rill_instant_t far[] = {
        INT64_MAX,        INT64_MAX - 1,           INT64_MAX - 1023,
        INT64_MAX - 1024, INT64_MAX - (1 << 20),   INT64_MAX / 2,
        INT64_MAX,        INT64_MAX - RILL_SEC(1), (rill_instant_t)1 << 62,
        RILL_SEC(2)};
    size_t k = sizeof far / sizeof far[0];

    for (size_t i = 0; i < k; i++)
        arm(m, &m->v[i], far[i]);
    check_next(m);
    /* A timer for RILL_FOREVER is indistinguishable from none once it is
     * the last one: jump while something earlier is armed. */
    while (rill__wheel_next_deadline(&m->w) != INT64_MAX)
        jump(m);
    assert_int_equal(m->live, 2);
    assert_int_equal(advance(m, INT64_MAX, false), 2);
    /* The wheel still works at the end of time. */
    arm(m, &m->v[0], INT64_MAX);
    arm(m, &m->v[1], 0);
    assert_int_equal(advance(m, INT64_MAX, false), 2);
    assert_drained(m);
    model_free(m);
}

/* Deadlines over the whole int64 range, starting at its very bottom. */
static void test_full_range(void **state)
{
    (void)state;
    const size_t n = SCALE(3000, 3);
    model_t *m = model_new(n, INT64_MIN, 14);

    for (size_t i = 0; i < n; i++)
        arm(m, &m->v[i], (rill_instant_t)rnd(m));
    for (size_t steps = 0; m->live > 0; steps++) {
        if (steps % 3 == 0) {
            rill_instant_t now = rill__wheel_now(&m->w);
            rill_duration_t step =
                (rill_duration_t)(rnd(m) >> (rnd(m) % 63 + 1));
            advance(m, now > INT64_MAX - step ? INT64_MAX : now + step, false);
        } else
            jump(m);
        if (rill__wheel_next_deadline(&m->w) == INT64_MAX)
            advance(m, INT64_MAX, false);
    }
    assert_drained(m);
    model_free(m);
}

/*
 * Cancelling timeouts in the order they were armed (the common case for
 * request timeouts) keeps asking for a new earliest deadline; with the
 * sorted-slot bookkeeping that stays cheap and exact.
 */
static void test_fifo_cancel(void **state)
{
    (void)state;
    const size_t n = 5000;
    model_t *m = model_new(n, 0, 15);

    for (size_t i = 0; i < n; i++) {
        advance(m, (rill_instant_t)i * 1000, false);
        arm(m, &m->v[i], (rill_instant_t)i * 1000 + RILL_SEC(30));
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rill__wheel_next_deadline(&m->w), m->v[i].t.deadline);
        disarm(m, &m->v[i]);
    }
    assert_drained(m);
    /* And in reverse: each removal leaves the head in place. */
    for (size_t i = 0; i < n; i++)
        arm(m, &m->v[i], RILL_SEC(40) + (rill_instant_t)(rnd(m) % 1000000));
    for (size_t i = n; i-- > 0;) {
        check_next(m);
        disarm(m, &m->v[i]);
    }
    assert_drained(m);
    model_free(m);
}

/* 1,000,000 insert + remove over a working set of 1,000 armed timers:
 * a speed sanity check (no timing assertion). */
static void test_insert_remove_million(void **state)
{
    (void)state;
    const size_t n = 1000, ops = SCALE(1000000, 10);
    model_t *m = model_new(n, 0, 16);

    for (size_t i = 0; i < n; i++)
        arm(m, &m->v[i], rnd_spread(m, 40));
    for (size_t i = 0; i < ops; i++) {
        tt_t *x = &m->v[i % n];
        rill__wheel_remove(&m->w, &x->t);
        x->t.deadline = rnd_spread(m, 40);
        x->ins = m->ins++;
        rill__wheel_insert(&m->w, &x->t);
    }
    assert_int_equal(rill__wheel_count(&m->w), n);
    check_next(m);
    finish(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_random_steps),
        cmocka_unit_test(test_jump_to_next),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_equal_deadlines_churn),
        cmocka_unit_test(test_equal_deadlines_across_levels),
        cmocka_unit_test(test_past_deadlines),
        cmocka_unit_test(test_huge_deadlines),
        cmocka_unit_test(test_full_range),
        cmocka_unit_test(test_fifo_cancel),
        cmocka_unit_test(test_insert_remove_million),
    };
    return test_run(tests, NULL, NULL);
}
