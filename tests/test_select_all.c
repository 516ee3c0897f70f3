/* SPDX-License-Identifier: MIT */
/*
 * test_select_all.c - merge and select_all: every item arrives, error
 * items pass, the end comes when all inputs ended; fairness (round
 * robin between inputs that have items); and, instrumented, that a poll
 * polls only the inputs that were woken.
 */
#include "stream_util.h"

static void test_merge_all_items(void **state)
{
    (void)state;
    rill_stream_t *a = range64(0, 3), *b = range64(10, 15);
    assert_int_equal(rill_stream_merge(&a, b), 0);
    /* Both always ready: a turn is a batch (iter's batch path gives all
     * it has), then the other's turn. */
    expect_seq(a, "0 1 2 10 11 12 13 14 .");

    rill_stream_t *c = range64(0, 2), *d;
    int v = 1;
    assert_int_equal(rill_stream_iter(&d, &v, 1, sizeof v), 0);
    assert_int_equal(rill_stream_merge(&c, d), RILL_EINVAL); /* sizes */
    rill_stream_free(d);                                     /* neither taken */
    expect_seq(c, "0 1 .");
}

static void test_select_all_errors_and_end(void **state)
{
    (void)state;
    gate_stats_t st[3] = {{0}};
    const int64_t v0[] = {1, ERR(RILL_EAGAIN)};
    const int64_t v1[] = {2};
    rill_stream_t *in[3], *s;
    scripted(&in[0], true, v0, 2, &st[0]);
    scripted(&in[1], false, v1, 1, &st[1]);
    gate_t *g2 = gate_new(&in[2], false, &st[2]);
    assert_int_equal(rill_stream_select_all(&s, in, 3), 0);
    int64_t x;
    assert_int_equal(rill_next(s, &x), 0);
    assert_int_equal(x, 1);
    assert_int_equal(rill_next(s, &x), 0);
    assert_int_equal(x, 2);
    assert_int_equal(rill_next(s, &x), RILL_EAGAIN);
    assert_int_equal(poll_once(s, &x), RILL_PENDING);
    /* The ended inputs were dropped as they ended. */
    assert_true(atomic_load(&st[0].dropped) && atomic_load(&st[1].dropped));
    assert_false(atomic_load(&st[2].dropped));
    gate_push(g2, 3);
    gate_close(g2);
    assert_int_equal(rill_next(s, &x), 0);
    assert_int_equal(x, 3);
    assert_int_equal(rill_next(s, &x), RILL_DONE);
    assert_int_equal(rill_next(s, &x), RILL_DONE);
    rill_stream_free(s);

    assert_int_equal(rill_stream_select_all(&s, in, 0), RILL_EINVAL);
    rill_stream_t *nul[2] = {range64(0, 1), NULL};
    assert_int_equal(rill_stream_select_all(&s, nul, 2), RILL_EINVAL);
    rill_stream_free(nul[0]);
}

/* Inputs that always have items take turns: one item per turn for
 * inputs without a batch path, one batch of at most 32 for those with. */
static void test_fairness(void **state)
{
    (void)state;
    enum { K = 3, PER = 300 };
    for (int batch = 0; batch < 2; batch++) {
        rill_stream_t *in[K], *s;
        gate_t *g[K];
        for (int k = 0; k < K; k++) {
            g[k] = gate_new(&in[k], batch, NULL);
            for (int i = 0; i < PER; i++)
                gate_push(g[k], k * 1000 + i);
            gate_close(g[k]);
        }
        assert_int_equal(rill_stream_select_all(&s, in, K), 0);
        int turn = batch ? 32 : 1;
        int64_t x;
        for (int i = 0; i < K * PER; i++) {
            assert_int_equal(rill_next(s, &x), 0);
            int t = i / turn; /* the turn this item belongs to */
            int round = t / K;
            int k = t % K;
            /* Each input in turn, its items in order; the last round's
             * turns may be shorter (300 is not a multiple of 32). */
            if ((round + 1) * turn <= PER) {
                assert_int_equal(x / 1000, k);
                assert_int_equal(x % 1000, round * turn + i % turn);
            }
        }
        assert_int_equal(rill_next(s, &x), RILL_DONE);
        rill_stream_free(s);
    }

    /* The caller's batch holds a whole turn: nothing read ahead. */
    rill_stream_t *in[2], *s;
    gate_t *g[2];
    for (int k = 0; k < 2; k++) {
        g[k] = gate_new(&in[k], true, NULL);
        for (int i = 0; i < 40; i++)
            gate_push(g[k], k * 1000 + i);
        gate_close(g[k]);
    }
    assert_int_equal(rill_stream_select_all(&s, in, 2), 0);
    int64_t buf[40];
    size_t n;
    assert_int_equal(rill_next_many(s, buf, 40, &n), 0);
    assert_int_equal(n, 40);
    assert_int_equal(buf[39], 39);
    assert_int_equal(rill_next_many(s, buf, 40, &n), 0);
    assert_true(n == 40 && buf[0] == 1000);
    assert_int_equal(rill_next_many(s, buf, 40, &n), RILL_DONE);
    rill_stream_free(s);
}

/* Dropped in the middle of a turn: the items read ahead are released. */
static void test_drop_mid_turn(void **state)
{
    (void)state;
    obj_t *objs[10];
    for (int i = 0; i < 10; i++)
        objs[i] = obj_new(i);
    rill_stream_t *a, *b = range64(0, 1);
    assert_int_equal(rill_stream_iter(&a, objs, 10, sizeof objs[0]), 0);
    rill_stream_set_item_dtor(a, obj_drop, NULL);
    rill_stream_free(b);
    b = NULL;
    rill_stream_t *in[1] = {a}, *s;
    assert_int_equal(rill_stream_select_all(&s, in, 1), 0);
    obj_t *o;
    assert_int_equal(rill_next(s, &o), 0); /* the turn took all 10 */
    obj_free(o);
    rill_stream_free(s);
    assert_int_equal(atomic_load(&live_objs), 0);
}

/* O(woken): with many idle inputs, a poll touches only the woken one. */
static void test_polls_only_woken(void **state)
{
    (void)state;
    enum { K = 100 };
    rill_stream_t *in[K], *s;
    gate_t *g[K];
    gate_stats_t st[K];
    memset(st, 0, sizeof st);
    for (int k = 0; k < K; k++)
        g[k] = gate_new(&in[k], k % 2, &st[k]);
    assert_int_equal(rill_stream_select_all(&s, in, K), 0);
    int64_t x;
    assert_int_equal(poll_once(s, &x), RILL_PENDING); /* all polled once */
    for (int k = 0; k < K; k++)
        assert_int_equal(atomic_load(&st[k].polls), 1);
    assert_int_equal(poll_once(s, &x), RILL_PENDING); /* nobody woken */
    for (int k = 0; k < K; k++)
        assert_int_equal(atomic_load(&st[k].polls), 1);

    gate_push(g[42], 7);
    gate_push(g[7], 8);
    assert_int_equal(rill_next(s, &x), 0);
    assert_int_equal(x, 7); /* in wake order */
    assert_int_equal(rill_next(s, &x), 0);
    assert_int_equal(x, 8);
    /* Each gave an item and is asked once more (it might have had
     * more); nobody else was touched. */
    assert_int_equal(poll_once(s, &x), RILL_PENDING);
    for (int k = 0; k < K; k++)
        assert_int_equal(atomic_load(&st[k].polls), k == 42 || k == 7 ? 3 : 1);
    for (int k = 0; k < K; k++)
        gate_close(g[k]);
    assert_int_equal(rill_next(s, &x), RILL_DONE);
    for (int k = 0; k < K; k++)
        assert_true(atomic_load(&st[k].dropped));
    rill_stream_free(s);
}

/* Inputs that are always ready still yield when the budget is spent (one
 * unit per turn of 32 items), and the poll returns instead of spinning on
 * their self-wakes. */
static void test_budget(void **state)
{
    (void)state;
    int64_t one = 1, x;
    rill_stream_t *in[2], *s;
    assert_int_equal(rill_stream_repeat(&in[0], &one, sizeof one), 0);
    assert_int_equal(rill_stream_repeat(&in[1], &one, sizeof one), 0);
    assert_int_equal(rill_stream_select_all(&s, in, 2), 0);
    rill_waker_t w = {&cw_vt, NULL};
    rill_cx_t cx = {&w, 5, NULL};
    atomic_store(&wakes, 0);
    for (int i = 0; i < 5 * 32; i++)
        assert_int_equal(rill_stream_poll_next(s, &cx, &x), 0);
    assert_int_equal(rill_stream_poll_next(s, &cx, &x), RILL_PENDING);
    assert_true(atomic_load(&wakes) >= 1); /* it will be polled again */
    cx.budget = 2;
    assert_int_equal(rill_stream_poll_next(s, &cx, &x), 0);
    rill_stream_free(s);
}

/* Producers on other threads; the consumer parks between items. */
typedef struct producer {
    gate_t *g;
    int64_t base, n;
} producer_t;

static void *produce(void *arg)
{
    producer_t *p = arg;
    for (int64_t i = 0; i < p->n; i++)
        gate_push(p->g, p->base + i);
    gate_close(p->g);
    return NULL;
}

static void test_cross_thread(void **state)
{
    (void)state;
    enum { K = 4 };
    int64_t per = SCALE(50000, 10);
    rill_stream_t *in[K], *s;
    producer_t p[K];
    pthread_t t[K];
    for (int k = 0; k < K; k++)
        p[k] = (producer_t){gate_new(&in[k], k % 2, NULL), k * per, per};
    assert_int_equal(rill_stream_select_all(&s, in, K), 0);
    for (int k = 0; k < K; k++)
        pthread_create(&t[k], NULL, produce, &p[k]);
    int64_t sum = 0, buf[16];
    size_t n;
    int r;
    while ((r = rill_next_many(s, buf, 16, &n)) == 0)
        for (size_t i = 0; i < n; i++)
            sum += buf[i];
    assert_int_equal(r, RILL_DONE);
    for (int k = 0; k < K; k++)
        pthread_join(t[k], NULL);
    int64_t total = K * per;
    assert_int_equal(sum, total * (total - 1) / 2);
    rill_stream_free(s);
}

int main(void)
{
    rill_set_allocator(counting_realloc, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_merge_all_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_all_errors_and_end, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fairness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_mid_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_polls_only_woken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_thread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
