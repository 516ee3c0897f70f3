/* SPDX-License-Identifier: MIT */
/*
 * test_stream_chan.c - streams over channels: mpsc receivers of every
 * kind (batches moved in blocks, the channel's item destructor, dropping
 * closes the receiver), forward with backpressure, oneshot, watch and
 * broadcast streams (lag as an error item with the count), and
 * from_blocking.
 */
#include "stream_util.h"

/* ---- receiver streams ---- */

typedef struct sender_arg {
    rill_sender_t *tx;
    int64_t n;
    int result;
} sender_arg_t;

/* A plain thread sending 0..n-1 with blocking sends, then releasing. */
static void *send_range(void *arg)
{
    sender_arg_t *a = arg;
    a->result = 0;
    for (int64_t i = 0; i < a->n && a->result == 0; i++)
        a->result = rill_send(a->tx, &i);
    rill_sender_release(a->tx);
    return NULL;
}

static int plus_one(void *ud, void *in, void *out)
{
    (void)ud;
    *(int64_t *)out = *(int64_t *)in + 1;
    return 0;
}

/* receiver -> map -> chunks(64), fed by a plain thread: every item, and
 * full chunks while the producer keeps up (items move in blocks). */
static void test_receiver_chunks(void **state)
{
    (void)state;
    static const size_t caps[] = {1024, 0, RILL_UNBOUNDED};
    for (size_t k = 0; k < 3; k++) {
        rill_sender_t *tx;
        rill_receiver_t *rx;
        rill_stream_t *s;
        assert_int_equal(
            rill_channel_new(&tx, &rx, sizeof(int64_t), caps[k], NULL), 0);
        assert_int_equal(rill_receiver_into_stream(rx, &s), 0);
        assert_int_equal(rill_stream_map(&s, plus_one, NULL, sizeof(int64_t)),
                         0);
        assert_int_equal(rill_stream_chunks(&s, 64), 0);
        sender_arg_t a = {tx, SCALE(100000, 10), -1};
        pthread_t t;
        pthread_create(&t, NULL, send_range, &a);
        rill_chunk_t c;
        int64_t sum = 0, chunks = 0, items = 0;
        while (rill_next(s, &c) == 0) {
            for (size_t i = 0; i < c.len; i++)
                sum += RILL_CHUNK_AT(&c, int64_t, i);
            items += (int64_t)c.len;
            chunks++;
            rill_chunk_destroy(&c);
        }
        pthread_join(t, NULL);
        assert_int_equal(a.result, 0);
        assert_int_equal(items, a.n);
        assert_int_equal(sum, a.n * (a.n + 1) / 2);
        assert_int_equal(chunks, (a.n + 63) / 64); /* chunks fills fully */
        rill_stream_free(s);
    }
}

static void obj_dtor_count(void *item, void *ud)
{
    obj_drop(item, ud);
}

static bool obj_even(void *ud, const void *item)
{
    (void)ud;
    return (*(obj_t *const *)item)->v % 2 == 0;
}

/* The stream takes the channel's destructor: items filtered out and items
 * still buffered when the pipeline is dropped are released; dropping
 * closes the channel for the senders. */
static void test_receiver_drop(void **state)
{
    (void)state;
    atomic_int drops = 0;
    rill_channel_config_t o = {
        .name = "objs", .item_dtor = obj_dtor_count, .item_dtor_ud = &drops};
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *s;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(obj_t *), 32, &o), 0);
    for (int i = 0; i < 20; i++) {
        obj_t *ob = obj_new(i);
        assert_int_equal(rill_send(tx, &ob), 0);
    }
    assert_int_equal(rill_receiver_into_stream(rx, &s), 0);
    assert_int_equal(rill_stream_filter(&s, obj_even, NULL), 0);
    obj_t *got;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rill_next(s, &got), 0);
        assert_int_equal(got->v, 2 * i);
        obj_free(got);
    }
    assert_int_equal(atomic_load(&drops), 2); /* 1 and 3 filtered out */
    rill_stream_free(s);
    assert_int_equal(atomic_load(&live_objs), 0);
    assert_int_equal(atomic_load(&drops), 20 - 3);
    obj_t *late = obj_new(99);
    assert_int_equal(rill_send(tx, &late), RILL_ECLOSED);
    obj_free(late);
    rill_sender_release(tx);

    /* rill_next on a bare receiver stream reads ahead (up to 64 here):
     * read-ahead items come next, in order, through rill_next and
     * rill_next_many, and dropping the stream destroys the rest. */
    atomic_store(&drops, 0);
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(obj_t *), 1024, &o), 0);
    for (int i = 0; i < 100; i++) {
        obj_t *ob = obj_new(i);
        assert_int_equal(rill_send(tx, &ob), 0);
    }
    assert_int_equal(rill_receiver_into_stream(rx, &s), 0);
    assert_int_equal(rill_next(s, &got), 0);
    assert_int_equal(got->v, 0);
    obj_free(got);
    assert_int_equal(rill_sender_len(tx), 100 - 64); /* 63 read ahead */
    obj_t *many[10];
    size_t n;
    assert_int_equal(rill_next_many(s, many, 10, &n), 0);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(many[i]->v, 1 + (int)i);
        obj_free(many[i]);
    }
    assert_int_equal(rill_next(s, &got), 0);
    assert_int_equal(got->v, 11);
    obj_free(got);
    rill_stream_free(s);
    assert_int_equal(atomic_load(&drops), 100 - 12);
    assert_int_equal(atomic_load(&live_objs), 0);
    rill_sender_release(tx);
}

/* ---- forward ---- */

typedef struct slow_reader {
    rill_receiver_t *rx;
    int64_t sum, count;
    size_t most; /* the most items ever buffered */
} slow_reader_t;

static void *read_slowly(void *arg)
{
    slow_reader_t *r = arg;
    int64_t v;
    for (;;) {
        size_t len = rill_receiver_len(r->rx);
        if (len > r->most)
            r->most = len;
        if (rill_recv(r->rx, &v) != 0)
            break;
        r->sum += v;
        r->count++;
        rill_sleep(RILL_MS(1));
    }
    rill_receiver_release(r->rx);
    return NULL;
}

static void *forward_task(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    slow_reader_t r = {0};
    assert_int_equal(rill_channel_new(&tx, &r.rx, sizeof(int64_t), 4, NULL), 0);
    rill_task_t *t;
    assert_int_equal(rill_spawn(&t, read_slowly, &r, NULL), 0);
    rill_instant_t t0 = rill_now();
    assert_int_equal(rill_stream_forward(range64(0, 200), tx), 0);
    assert_int_equal(rill_join(t, NULL), 0);
    assert_int_equal(r.count, 200);
    assert_int_equal(r.sum, 199 * 200 / 2);
    assert_true(r.most <= 4);
    /* Paced by the reader: forward waited for room all along. */
    assert_true(MS(rill_now() - t0) >= 195);

    /* The reader goes away: forward stops with RILL_ECLOSED and releases
     * what it could not send. */
    rill_receiver_t *rx;
    assert_int_equal(rill_channel_new(&tx, &rx, sizeof(obj_t *), 2, NULL), 0);
    obj_t *objs[10];
    for (int i = 0; i < 10; i++)
        objs[i] = obj_new(i);
    rill_stream_t *s;
    assert_int_equal(rill_stream_iter(&s, objs, 10, sizeof objs[0]), 0);
    rill_stream_set_item_dtor(s, obj_drop, NULL);
    obj_t *first;
    assert_int_equal(rill_next(s, &first), 0);
    obj_free(first);
    rill_receiver_release(rx);
    assert_int_equal(rill_stream_forward(s, tx), RILL_ECLOSED);
    assert_int_equal(atomic_load(&live_objs), 0);
    return (void *)1;
}

static void test_forward(void **state)
{
    rt_setup(state);
    run(forward_task, NULL);
    rt_teardown(state);
}

/* ---- oneshot, watch, broadcast ---- */

static void test_oneshot_stream(void **state)
{
    (void)state;
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    rill_stream_t *s;
    assert_int_equal(rill_oneshot_new(&tx, &rx, sizeof(int64_t), NULL), 0);
    assert_int_equal(rill_oneshot_into_stream(rx, sizeof(int64_t), &s), 0);
    int64_t v = 42;
    assert_int_equal(poll_once(s, &v), RILL_PENDING);
    v = 42;
    assert_int_equal(rill_oneshot_send(tx, &v), 0);
    rill_oneshot_sender_release(tx);
    expect_seq(s, "42 .");

    assert_int_equal(rill_oneshot_new(&tx, &rx, sizeof(int64_t), NULL), 0);
    assert_int_equal(rill_oneshot_into_stream(rx, sizeof(int64_t), &s), 0);
    rill_oneshot_sender_release(tx); /* gone without sending */
    expect_seq(s, ".");
}

static void *watch_task(void *arg)
{
    (void)arg;
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx;
    rill_stream_t *s;
    int64_t cfg = 1;
    assert_int_equal(rill_watch_new(&tx, &rx, sizeof cfg, &cfg, NULL), 0);
    assert_int_equal(rill_watch_into_stream(rx, sizeof cfg, &s), 0);
    int64_t v;
    assert_int_equal(rill_next(s, &v), 0); /* the current value first */
    assert_int_equal(v, 1);
    cfg = 2;
    assert_int_equal(rill_watch_send(tx, &cfg), 0);
    cfg = 3;
    assert_int_equal(rill_watch_send(tx, &cfg), 0); /* coalesced with 2 */
    assert_int_equal(rill_next(s, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(poll_once(s, &v), RILL_PENDING);
    cfg = 4;
    assert_int_equal(rill_watch_send(tx, &cfg), 0);
    rill_watch_sender_release(tx);
    assert_int_equal(rill_next(s, &v), 0);
    assert_int_equal(v, 4);
    assert_int_equal(rill_next(s, &v), RILL_DONE);
    rill_stream_free(s);
    return (void *)1;
}

static void test_watch_stream(void **state)
{
    rt_setup(state);
    run(watch_task, NULL);
    rt_teardown(state);
}

static void test_broadcast_stream(void **state)
{
    (void)state;
    rill_broadcast_sender_t *tx;
    rill_broadcast_receiver_t *rx1, *rx2;
    rill_stream_t *a, *b;
    assert_int_equal(rill_broadcast_new(&tx, &rx1, sizeof(int64_t), 4,
                                        RILL_BROADCAST_LAG, NULL),
                     0);
    assert_int_equal(rill_broadcast_subscribe(tx, &rx2), 0);
    assert_int_equal(rill_broadcast_into_stream(rx1, sizeof(int64_t), &a), 0);
    assert_int_equal(rill_broadcast_into_stream(rx2, sizeof(int64_t), &b), 0);
    int64_t v;
    for (v = 0; v < 2; v++)
        assert_int_equal(rill_broadcast_send(tx, &v), 0);
    /* b keeps up... */
    assert_int_equal(rill_next(b, &v), 0);
    assert_int_equal(rill_next(b, &v), 0);
    for (v = 2; v < 10; v++)
        assert_int_equal(rill_broadcast_send(tx, &v), 0);
    rill_broadcast_sender_release(tx);
    /* ...a lagged: an error item with the count, then the stream goes on
     * from the oldest item kept. */
    rill_stream_t *bs = a;
    assert_int_equal(rill_stream_take(&a, 100), 0);
    assert_int_equal(rill_next(a, &v), RILL_ELAGGED);
    assert_int_equal(rill_broadcast_stream_missed(bs), 6);
    expect_seq(a, "6 7 8 9 .");
    assert_int_equal(rill_next(b, &v), RILL_ELAGGED);
    assert_int_equal(rill_broadcast_stream_missed(b), 4);
    expect_seq(b, "6 7 8 9 .");
}

/* ---- from_blocking ---- */

typedef struct blocking_src {
    int64_t n;
    atomic_int returned, closed_seen;
} blocking_src_t;

/* A "foreign" blocking source: produces n items with blocking sends. */
static void produce_blocking(void *ud, rill_sender_t *tx)
{
    blocking_src_t *b = ud;
    for (int64_t i = 0; i < b->n; i++) {
        if (rill_send(tx, &i) == RILL_ECLOSED) {
            atomic_store(&b->closed_seen, 1);
            break;
        }
    }
    atomic_store(&b->returned, 1);
}

static void *from_blocking_task(void *arg)
{
    blocking_src_t *b = arg;
    rill_stream_t *s;
    assert_int_equal(
        rill_stream_from_blocking(&s, sizeof(int64_t), 16, produce_blocking, b),
        0);
    if (b->n > 1000) { /* drop early: the producer sees RILL_ECLOSED */
        int64_t v;
        for (int i = 0; i < 10; i++)
            assert_int_equal(rill_next(s, &v), 0);
        rill_stream_free(s);
        return (void *)1;
    }
    uint64_t n;
    assert_int_equal(rill_stream_count(s, &n), 0);
    assert_int_equal(n, b->n);
    return (void *)1;
}

static void test_from_blocking(void **state)
{
    blocking_src_t all = {.n = 1000};
    rt_setup(state);
    run(from_blocking_task, &all);
    rt_teardown(state); /* joins the blocking pool */
    assert_int_equal(atomic_load(&all.returned), 1);

    blocking_src_t early = {.n = 1000000};
    rt_setup(state);
    run(from_blocking_task, &early);
    rt_teardown(state);
    assert_int_equal(atomic_load(&early.returned), 1);
    assert_int_equal(atomic_load(&early.closed_seen), 1);
}

int main(void)
{
    rill_set_allocator(counting_realloc, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_receiver_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receiver_drop, setup, teardown),
        cmocka_unit_test(test_forward),
        cmocka_unit_test_setup_teardown(test_oneshot_stream, setup, teardown),
        cmocka_unit_test(test_watch_stream),
        cmocka_unit_test_setup_teardown(test_broadcast_stream, setup, teardown),
        cmocka_unit_test(test_from_blocking),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
