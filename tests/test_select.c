/* SPDX-License-Identifier: MIT */
/*
 * test_select.c - rill_select: exactly one case completes, fairness
 * (chi-square), biased order, the default case, deadlines (virtual clock
 * in a task), timer cases, more than 64 cases, and an exactly-one stress of
 * selects against selects over rendezvous and bounded channels.
 */
#include "test_util.h"
#include <rill.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static void new_chan(rill_sender_t **tx, rill_receiver_t **rx, size_t cap)
{
    assert_int_equal(rill_channel_new(tx, rx, sizeof(int), cap, NULL), 0);
}

static void test_exactly_one_of_ready(void **state)
{
    (void)state;
    rill_sender_t *tx[3];
    rill_receiver_t *rx[3];
    for (int i = 0; i < 3; i++) {
        new_chan(&tx[i], &rx[i], 4);
        int v = 10 + i;
        assert_int_equal(rill_try_send(tx[i], &v), 0);
    }
    for (int round = 0; round < 3; round++) {
        int out[3] = {-1, -1, -1}, st = -1;
        rill_recv_op_t ops[3];
        rill_future_t *cases[3];
        for (int i = 0; i < 3; i++) {
            rill_recv_op(&ops[i], rx[i], &out[i], sizeof(int));
            cases[i] = &ops[i].base;
        }
        int w = rill_select(cases, 3, 0, RILL_FOREVER, &st);
        assert_true(w >= 0 && w < 3);
        assert_int_equal(st, 0);
        assert_int_equal(out[w], 10 + w);
        for (int i = 0; i < 3; i++)
            if (i != w)
                assert_int_equal(out[i], -1);
        size_t total = 0;
        for (int i = 0; i < 3; i++)
            total += rill_receiver_len(rx[i]);
        assert_int_equal(total, 2 - round);
    }
    /* all empty: the default case, no trace left behind */
    int out = -1, st;
    rill_recv_op_t op;
    rill_send_op_t sop;
    int v = 5;
    rill_recv_op(&op, rx[0], &out, sizeof out);
    rill_send_op(&sop, tx[1], &v, sizeof v);
    for (int i = 0; i < 4; i++) /* fill channel 1 */
        assert_int_equal(rill_try_send(tx[1], &v), 0);
    rill_future_t *cases[2] = {&op.base, &sop.base};
    assert_int_equal(
        rill_select(cases, 2, RILL_SELECT_DEFAULT, RILL_FOREVER, &st),
        RILL_EAGAIN);
    assert_int_equal(rill_receiver_len(rx[1]), 4); /* the send did not happen */
    assert_int_equal(rill_try_send(tx[0], &v), 0);
    assert_int_equal(rill_receiver_len(rx[0]), 1); /* went to the ring */
    assert_int_equal(out, -1);
    for (int i = 0; i < 3; i++) {
        rill_sender_release(tx[i]);
        rill_receiver_release(rx[i]);
    }
}

/* Fairness with cases that are never ready, at several positions: the
 * ready ones must still win equally often (a random start with
 * wrap-around gives a never-ready case's share to its neighbour: with
 * ready cases at 1, 2 and 5 of 8 they won 3/8, 1/8 and 4/8). */
static void test_fairness_with_never_ready_cases(void **state)
{
    (void)state;
    enum { K = 8 };
    static const char *layouts[] = {"-rr--r--", "r-----rr", "---r-r-r"};
    int n = SCALE(60000, 10);
    for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
        rill_sender_t *tx[K];
        rill_receiver_t *rx[K];
        int ready = 0;
        for (int i = 0; i < K; i++) {
            new_chan(&tx[i], &rx[i], 2);
            if (layouts[l][i] == 'r') {
                assert_int_equal(rill_try_send(tx[i], &i), 0);
                ready++;
            }
        }
        long wins[K] = {0};
        for (int s = 0; s < n; s++) {
            int out[K], st;
            rill_recv_op_t ops[K];
            rill_future_t *cases[K];
            for (int i = 0; i < K; i++) {
                rill_recv_op(&ops[i], rx[i], &out[i], sizeof(int));
                cases[i] = &ops[i].base;
            }
            int w =
                rill_select(cases, K, RILL_SELECT_DEFAULT, RILL_FOREVER, &st);
            assert_true(w >= 0 && w < K && layouts[l][w] == 'r');
            wins[w]++;
            assert_int_equal(rill_try_send(tx[w], &w), 0);
        }
        double expect = (double)n / ready, chi2 = 0;
        for (int i = 0; i < K; i++)
            if (layouts[l][i] == 'r')
                chi2 += (wins[i] - expect) * (wins[i] - expect) / expect;
        /* 2 degrees of freedom: P(chi2 > 27.63) = 1e-6 for a fair select;
         * the old scheme gave chi2 in the thousands here. */
        if (chi2 >= 27.63)
            fail_msg("layout %s unfair: chi2 %.1f", layouts[l], chi2);
        print_message("layout %s: chi2 %.2f over %d selects\n", layouts[l],
                      chi2, n);
        for (int i = 0; i < K; i++) {
            rill_sender_release(tx[i]);
            rill_receiver_release(rx[i]);
        }
    }
}

static void test_fairness_chi_square(void **state)
{
    (void)state;
    enum { K = 4 };
    int n = SCALE(100000, 10);
    rill_sender_t *tx[K];
    rill_receiver_t *rx[K];
    for (int i = 0; i < K; i++) {
        new_chan(&tx[i], &rx[i], 2);
        assert_int_equal(rill_try_send(tx[i], &i), 0);
    }
    long wins[K] = {0};
    for (int s = 0; s < n; s++) {
        int out[K], st;
        rill_recv_op_t ops[K];
        rill_future_t *cases[K];
        for (int i = 0; i < K; i++) {
            rill_recv_op(&ops[i], rx[i], &out[i], sizeof(int));
            cases[i] = &ops[i].base;
        }
        int w = rill_select(cases, K, 0, RILL_FOREVER, &st);
        assert_true(w >= 0 && w < K);
        assert_int_equal(out[w], w);
        wins[w]++;
        assert_int_equal(rill_try_send(tx[w], &w), 0); /* all stay ready */
    }
    double expect = (double)n / K, chi2 = 0;
    for (int i = 0; i < K; i++)
        chi2 += (wins[i] - expect) * (wins[i] - expect) / expect;
    /* 3 degrees of freedom: P(chi2 > 30.66) = 1e-6, so a fair select
     * fails once in a million runs, while any real bias (say one case
     * winning 26 % instead of 25 % of 100,000) gives chi2 above 50. */
    if (chi2 >= 30.66)
        fail_msg("unfair: chi2 %.2f wins %ld %ld %ld %ld", chi2, wins[0],
                 wins[1], wins[2], wins[3]);

    /* biased: the lowest ready index always wins */
    for (int s = 0; s < 100; s++) {
        int out[K], st;
        rill_recv_op_t ops[K];
        rill_future_t *cases[K];
        for (int i = 0; i < K; i++) {
            rill_recv_op(&ops[i], rx[i], &out[i], sizeof(int));
            cases[i] = &ops[i].base;
        }
        assert_int_equal(
            rill_select(cases, K, RILL_SELECT_BIASED, RILL_FOREVER, &st), 0);
        assert_int_equal(rill_try_send(tx[0], &out[0]), 0);
    }
    for (int i = 0; i < K; i++) {
        rill_sender_release(tx[i]);
        rill_receiver_release(rx[i]);
    }
}

static void test_many_cases_and_timer(void **state)
{
    (void)state;
    enum { N = 100 };
    rill_sender_t *tx[N];
    rill_receiver_t *rx[N];
    for (int i = 0; i < N; i++)
        new_chan(&tx[i], &rx[i], i % 3 == 0 ? 0 : 1);
    int v = 77;
    assert_int_equal(rill_try_send(tx[77], &v), 0);
    int out[N], st;
    rill_recv_op_t ops[N];
    rill_future_t *cases[N + 1];
    for (int i = 0; i < N; i++) {
        rill_recv_op(&ops[i], rx[i], &out[i], sizeof(int));
        cases[i] = &ops[i].base;
    }
    assert_int_equal(rill_select(cases, N, 0, RILL_FOREVER, &st), 77);
    assert_int_equal(out[77], 77);

    /* nothing ready: a timer case wins (a short real one on a thread) */
    rill_sleep_op_t sl;
    rill_sleep_op(&sl, rill_deadline(RILL_MS(2)));
    for (int i = 0; i < N; i++)
        rill_recv_op(&ops[i], rx[i], &out[i], sizeof(int));
    cases[N] = &sl.base;
    assert_int_equal(rill_select(cases, N + 1, 0, RILL_FOREVER, &st), N);
    assert_int_equal(st, 0);
    /* and a deadline: RILL_ETIMEDOUT, nothing registered afterwards */
    for (int i = 0; i < N; i++)
        rill_recv_op(&ops[i], rx[i], &out[i], sizeof(int));
    assert_int_equal(rill_select(cases, N, 0, rill_deadline(RILL_MS(2)), &st),
                     RILL_ETIMEDOUT);
    for (int i = 0; i < N; i++) {
        rill_channel_stats_t s;
        rill_receiver_stats(rx[i], &s);
        if (i % 3 != 0) /* buffered: a send goes into the ring */
            assert_int_equal(rill_try_send(tx[i], &v), 0);
        else /* rendezvous: no receiver is waiting any more */
            assert_int_equal(rill_try_send(tx[i], &v), RILL_EFULL);
        rill_sender_release(tx[i]);
        rill_receiver_release(rx[i]);
    }
    assert_int_equal(rill_select(NULL, 1, 0, RILL_FOREVER, &st), RILL_EINVAL);
    assert_int_equal(rill_select(cases, 0, 0, RILL_FOREVER, &st), RILL_EINVAL);
}

/* ---- a send case and a receive case of one select never pair ---- */
static void test_select_not_with_itself(void **state)
{
    (void)state;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    new_chan(&tx, &rx, 0);
    int v = 1, out = 0, st;
    rill_send_op_t s;
    rill_recv_op_t r;
    rill_send_op(&s, tx, &v, sizeof v);
    rill_recv_op(&r, rx, &out, sizeof out);
    rill_future_t *cases[2] = {&s.base, &r.base};
    assert_int_equal(rill_select(cases, 2, 0, rill_deadline(RILL_MS(2)), &st),
                     RILL_ETIMEDOUT);
    rill_sender_release(tx);
    rill_receiver_release(rx);
}

/* ---- exactly-one stress: selects against selects ---- */

enum { SC = 4, ST = 4 };

typedef struct {
    rill_sender_t *tx[SC];
    rill_receiver_t *rx[SC]; /* thread i owns rx[i] (one consumer) */
    _Atomic long sent[SC];
    _Atomic long received[SC];
    _Atomic unsigned char *seen; /* per item id: times received */
    int per_thread;
    _Atomic int finished; /* threads done sending */
    pthread_barrier_t bar;
} sx_t;

typedef struct {
    sx_t *sx;
    int id;
} sx_arg_t;

static void sx_record(sx_t *sx, int ch, int item)
{
    atomic_fetch_add(&sx->received[ch], 1);
    atomic_fetch_add(&sx->seen[item], 1);
}

static void *sx_thread(void *arg)
{
    sx_arg_t *a = arg;
    sx_t *sx = a->sx;
    unsigned seed = (unsigned)a->id * 7919u + 1;
    int next_item = a->id * sx->per_thread;
    int end_item = next_item + sx->per_thread;
    pthread_barrier_wait(&sx->bar);
    while (next_item < end_item || atomic_load(&sx->finished) < ST) {
        int out = -1, st;
        if (next_item == end_item) {
            /* done sending: keep receiving for the others */
            if (rill_recv_timeout(sx->rx[a->id], &out, RILL_MS(1)) == 0)
                sx_record(sx, a->id, out);
            continue;
        }
        /* one receive case on our own channel, sends to two others */
        int item = next_item;
        int c1 = (int)(rand_r(&seed) % SC), c2 = (int)(rand_r(&seed) % SC);
        rill_recv_op_t r;
        rill_send_op_t s1, s2;
        rill_recv_op(&r, sx->rx[a->id], &out, sizeof out);
        rill_send_op(&s1, sx->tx[c1], &item, sizeof item);
        rill_send_op(&s2, sx->tx[c2], &item, sizeof item);
        rill_future_t *cases[3] = {&r.base, &s1.base, &s2.base};
        int w = rill_select(cases, 3, 0, rill_deadline(RILL_MS(20)), &st);
        if (w == RILL_ETIMEDOUT)
            continue;
        if (w < 0 || st != 0)
            abort();
        if (w == 0) {
            sx_record(sx, a->id, out);
        } else {
            atomic_fetch_add(&sx->sent[w == 1 ? c1 : c2], 1);
            if (++next_item == end_item)
                atomic_fetch_add(&sx->finished, 1);
        }
    }
    /* keep receiving until everyone is done sending */
    pthread_barrier_wait(&sx->bar);
    int out;
    while (rill_try_recv(sx->rx[a->id], &out) == 0)
        sx_record(sx, a->id, out);
    return NULL;
}

static void test_exactly_one_stress(void **state)
{
    (void)state;
    const size_t cs[] = {0, 1, 7};
    for (size_t c = 0; c < 3; c++) {
        sx_t sx;
        memset(&sx, 0, sizeof sx);
        sx.per_thread = SCALE(20000, 20);
        size_t items = (size_t)sx.per_thread * ST;
        sx.seen = calloc(items, 1);
        for (int i = 0; i < SC; i++)
            new_chan(&sx.tx[i], &sx.rx[i], cs[c]);
        pthread_barrier_init(&sx.bar, NULL, ST);
        pthread_t th[ST];
        sx_arg_t args[ST];
        for (int i = 0; i < ST; i++) {
            args[i] = (sx_arg_t){&sx, i};
            pthread_create(&th[i], NULL, sx_thread, &args[i]);
        }
        for (int i = 0; i < ST; i++)
            pthread_join(th[i], NULL);
        for (size_t i = 0; i < items; i++)
            if (sx.seen[i] != 1)
                fail_msg("cap %zu: item %zu received %d times", cs[c], i,
                         sx.seen[i]);
        for (int i = 0; i < SC; i++) {
            assert_int_equal(atomic_load(&sx.sent[i]),
                             atomic_load(&sx.received[i]));
            rill_channel_stats_t st;
            rill_receiver_stats(sx.rx[i], &st);
            assert_int_equal(st.sent, (uint64_t)atomic_load(&sx.sent[i]));
            assert_int_equal(st.received, st.sent);
            rill_sender_release(sx.tx[i]);
            rill_receiver_release(sx.rx[i]);
        }
        pthread_barrier_destroy(&sx.bar);
        free(sx.seen);
    }
}

/* ---- a deadline on the virtual clock, in a task ---- */
static void *vt_select_task(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    if (rill_channel_new(&tx, &rx, sizeof(int), 0, NULL))
        return NULL;
    int out, v = 1, st;
    rill_recv_op_t r;
    rill_send_op_t s;
    rill_sender_t *tx2;
    rill_receiver_t *rx2;
    if (rill_channel_new(&tx2, &rx2, sizeof(int), 1, NULL))
        return NULL;
    if (rill_try_send(tx2, &v) != 0) /* full: the send case waits */
        return NULL;
    rill_recv_op(&r, rx, &out, sizeof out);
    rill_send_op(&s, tx2, &v, sizeof v);
    rill_future_t *cases[2] = {&r.base, &s.base};
    rill_instant_t t0 = rill_now();
    int w = rill_select(cases, 2, 0, t0 + RILL_MS(250), &st);
    rill_duration_t dt = rill_now() - t0;
    /* a timer case in a task */
    rill_sleep_op_t sl;
    rill_sleep_op(&sl, rill_now() + RILL_SEC(3));
    rill_recv_op(&r, rx, &out, sizeof out);
    rill_future_t *cases2[2] = {&r.base, &sl.base};
    int w2 = rill_select(cases2, 2, 0, RILL_FOREVER, &st);
    rill_duration_t dt2 = rill_now() - t0;
    bool ok = w == RILL_ETIMEDOUT && dt == RILL_MS(250) && w2 == 1 &&
              dt2 == RILL_MS(250) + RILL_SEC(3) && rill_receiver_len(rx2) == 1;
    rill_sender_release(tx);
    rill_receiver_release(rx);
    rill_sender_release(tx2);
    rill_receiver_release(rx2);
    return ok ? (void *)1 : NULL;
}

static void test_virtual_clock_deadline(void **state)
{
    (void)state;
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.workers = 2;
    c.virtual_clock = true;
    rill_runtime_t *rt;
    assert_int_equal(rill_runtime_new(&rt, &c), 0);
    void *ok = NULL;
    assert_int_equal(rill_block_on(rt, vt_select_task, NULL, &ok), 0);
    assert_non_null(ok);
    rill_runtime_free(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exactly_one_of_ready),
        cmocka_unit_test(test_fairness_chi_square),
        cmocka_unit_test(test_fairness_with_never_ready_cases),
        cmocka_unit_test(test_many_cases_and_timer),
        cmocka_unit_test(test_select_not_with_itself),
        cmocka_unit_test(test_exactly_one_stress),
        cmocka_unit_test(test_virtual_clock_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
