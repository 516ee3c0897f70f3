/* SPDX-License-Identifier: MIT */
/*
 * test_stream.c - the stream object, the synchronous sources, combinators
 * and consumers, on plain threads: semantics including RILL_DONE and
 * error items, the batch path (instrumented), releasing a half-consumed
 * pipeline, and waking across threads. (Leak accounting: stream_util.h.)
 */
#include "stream_util.h"

#include <rill.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- sources ---- */

static void test_iter_next(void **state)
{
    (void)state;
    int v[] = {1, 2, 3};
    rill_stream_t *s = ints(v, 3);
    int x;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rill_next(s, &x), 0);
        assert_int_equal(x, v[i]);
    }
    assert_int_equal(rill_next(s, &x), RILL_DONE);
    assert_int_equal(rill_next(s, &x), RILL_DONE);
    long wrong;
    assert_int_equal(rill_next(s, &wrong), RILL_EINVAL); /* size checked */
    rill_stream_free(s);

    assert_int_equal(rill_stream_empty(&s, sizeof(int64_t)), 0);
    expect_seq(s, ".");
    int64_t one = 7;
    assert_int_equal(rill_stream_once(&s, &one, sizeof one), 0);
    expect_seq(s, "7 .");
    assert_int_equal(rill_stream_repeat(&s, &one, sizeof one), 0);
    assert_int_equal(rill_stream_take(&s, 4), 0);
    expect_seq(s, "7 7 7 7 .");
}

static void test_next_many(void **state)
{
    (void)state;
    rill_stream_t *s = range64(0, 10);
    int64_t buf[4];
    size_t n;
    assert_int_equal(rill_next_many(s, buf, 4, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(buf[3], 3);
    assert_int_equal(rill_next_many(s, buf, 4, &n), 0);
    assert_int_equal(rill_next_many(s, buf, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(buf[1], 9);
    assert_int_equal(rill_next_many(s, buf, 4, &n), RILL_DONE);
    rill_stream_free(s);
}

/* A source that is PENDING every other poll (waking at once) and ends
 * after `left` items; its state is owned by the stream. */
typedef struct countdown {
    int64_t left;
    bool flip;
    int *freed;
} countdown_t;

static int countdown_poll(void *ud, rill_cx_t *cx, void *out)
{
    countdown_t *c = ud;
    if (c->left == 0)
        return RILL_DONE;
    c->flip = !c->flip;
    if (c->flip) {
        rill_waker_wake_by_ref(cx->waker);
        return RILL_PENDING;
    }
    *(int64_t *)out = c->left--;
    return 0;
}

static void countdown_free(void *ud)
{
    countdown_t *c = ud;
    (*c->freed)++;
    free(c);
}

static void test_from_fn(void **state)
{
    (void)state;
    int freed = 0;
    countdown_t *c = calloc(1, sizeof *c);
    c->left = 3;
    c->freed = &freed;
    rill_stream_t *s;
    assert_int_equal(rill_stream_from_fn(&s, sizeof(int64_t), countdown_poll, c,
                                         countdown_free),
                     0);
    expect_seq(s, "3 2 1 .");
    assert_int_equal(freed, 1);
}

static void test_budget(void **state)
{
    (void)state;
    int64_t one = 1, x;
    rill_stream_t *s;
    assert_int_equal(rill_stream_repeat(&s, &one, sizeof one), 0);
    rill_waker_t w = {&cw_vt, NULL};
    rill_cx_t cx = {&w, 3, NULL};
    atomic_store(&wakes, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(rill_stream_poll_next(s, &cx, &x), 0);
    /* Out of budget: yields, after waking itself so it is polled again. */
    assert_int_equal(rill_stream_poll_next(s, &cx, &x), RILL_PENDING);
    assert_int_equal(atomic_load(&wakes), 1);
    rill_stream_free(s);
}

/* ---- combinators ---- */

static int square(void *ud, void *in, void *out)
{
    (void)ud;
    int v = *(int *)in;
    *(long *)out = (long)v * v;
    return 0;
}

static bool is_odd(void *ud, const void *item)
{
    (void)ud;
    return *(const long *)item % 2 != 0;
}

/* The example of rill/stream.h, verbatim in spirit. */
static void test_header_example(void **state)
{
    (void)state;
    int v[] = {1, 2, 3, 4, 5};
    rill_stream_t *s = ints(v, 5);
    int r;
    if ((r = rill_stream_map(&s, square, NULL, sizeof(long))) ||
        (r = rill_stream_filter(&s, is_odd, NULL)))
        fail();
    long sum = 0, x;
    while ((r = rill_next(s, &x)) == 0)
        sum += x;
    assert_int_equal(r, RILL_DONE);
    assert_int_equal(sum, 1 + 9 + 25);
    rill_stream_free(s);
}

static int calls;

/* Doubles; 13 becomes an error item. */
static int dbl(void *ud, void *in, void *out)
{
    (void)ud;
    calls++;
    int64_t v = *(int64_t *)in;
    if (v == 13)
        return RILL_EUSER - 13;
    *(int64_t *)out = 2 * v;
    return 0;
}

static void test_map_errors(void **state)
{
    (void)state;
    for (int batch = 0; batch < 2; batch++) {
        const int64_t v[] = {1, ERR(RILL_ETIMEDOUT), 2, 13, 3};
        rill_stream_t *s;
        scripted(&s, batch, v, 5, NULL);
        calls = 0;
        assert_int_equal(rill_stream_map(&s, dbl, NULL, sizeof(int64_t)), 0);
        expect_seq(s, "2 E-6 4 E-1013 6 .");
        assert_int_equal(calls, 4); /* never called for the error item */
    }
    /* Batch path: the error made by fn keeps its place among the items
     * taken in the same batch. */
    rill_stream_t *s = range64(10, 16);
    assert_int_equal(rill_stream_map(&s, dbl, NULL, sizeof(int64_t)), 0);
    int64_t buf[8];
    size_t n;
    assert_int_equal(rill_next_many(s, buf, 8, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(buf[2], 24);
    assert_int_equal(rill_next_many(s, buf, 8, &n), RILL_EUSER - 13);
    assert_int_equal(rill_next_many(s, buf, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(buf[1], 30);
    assert_int_equal(rill_next_many(s, buf, 8, &n), RILL_DONE);
    rill_stream_free(s);
}

static int halve_evens(void *ud, void *in, void *out)
{
    (void)ud;
    int64_t v = *(int64_t *)in;
    if (v < 0)
        return RILL_EUSER;
    if (v % 2)
        return 1; /* skip */
    *(int64_t *)out = v / 2;
    return 0;
}

/* Running sum; ends the stream once it passes 10. */
static int running_sum(void *ud, void *in, void *out)
{
    int64_t *acc = ud;
    if (*acc > 10)
        return RILL_DONE;
    *acc += *(int64_t *)in;
    *(int64_t *)out = *acc;
    return 0;
}

static void test_filter_map_scan(void **state)
{
    (void)state;
    const int64_t v[] = {1, 2, -5, 3, 4, ERR(RILL_ECLOSED), 6};
    rill_stream_t *s;
    scripted(&s, true, v, 7, NULL);
    assert_int_equal(
        rill_stream_filter_map(&s, halve_evens, NULL, sizeof(int64_t)), 0);
    expect_seq(s, "1 E-1000 2 E-5 3 .");

    gate_stats_t st = {0};
    const int64_t w[] = {1, 2, 3, 4, 5, 6, 7};
    scripted(&s, true, w, 7, &st);
    int64_t acc = 0;
    assert_int_equal(rill_stream_scan(&s, running_sum, &acc, sizeof acc), 0);
    int64_t x;
    for (int i = 0; i < 4; i++)
        assert_int_equal(rill_next(s, &x), 0);
    assert_int_equal(x, 10);
    assert_int_equal(rill_next(s, &x), 0);
    assert_int_equal(x, 15);
    assert_false(atomic_load(&st.dropped));
    assert_int_equal(rill_next(s, &x), RILL_DONE);
    assert_true(atomic_load(&st.dropped)); /* upstream let go at the end */
    rill_stream_free(s);
}

static bool below(void *ud, const void *item)
{
    return *(const int64_t *)item < *(int64_t *)ud;
}

static void test_take_skip(void **state)
{
    (void)state;
    const int64_t v[] = {1, ERR(RILL_EAGAIN), 2, 3, 4, 5};
    rill_stream_t *s;
    gate_stats_t st = {0};
    scripted(&s, true, v, 6, &st);
    assert_int_equal(rill_stream_skip(&s, 1), 0);
    assert_int_equal(rill_stream_take(&s, 2), 0);
    int64_t x;
    assert_int_equal(rill_next(s, &x), RILL_EAGAIN); /* errors don't count */
    assert_int_equal(rill_next(s, &x), 0);
    assert_int_equal(rill_next(s, &x), 0);
    assert_int_equal(x, 3);
    assert_true(atomic_load(&st.dropped)); /* take let go at its n-th item */
    assert_int_equal(rill_next(s, &x), RILL_DONE);
    rill_stream_free(s);

    s = range64(0, 5);
    assert_int_equal(rill_stream_take(&s, 0), 0);
    expect_seq(s, ".");

    int64_t lim = 3;
    s = range64(0, 8);
    assert_int_equal(rill_stream_skip_while(&s, below, &lim), 0);
    expect_seq(s, "3 4 5 6 7 .");
    s = range64(0, 8);
    assert_int_equal(rill_stream_take_while(&s, below, &lim), 0);
    expect_seq(s, "0 1 2 .");
    /* skip_while stops asking once the predicate failed. */
    const int64_t w[] = {0, 5, 1, 7};
    scripted(&s, false, w, 4, NULL);
    assert_int_equal(rill_stream_skip_while(&s, below, &lim), 0);
    expect_seq(s, "5 1 7 .");
}

static void test_chain_fuse(void **state)
{
    (void)state;
    rill_stream_t *s = range64(0, 3), *t = range64(10, 12);
    assert_int_equal(rill_stream_chain(&s, t), 0);
    assert_int_equal(rill_stream_fuse(&s), 0);
    expect_seq(s, "0 1 2 10 11 .");

    rill_stream_t *a = range64(0, 1), *b;
    int v = 1;
    assert_int_equal(rill_stream_iter(&b, &v, 1, sizeof v), 0);
    assert_int_equal(rill_stream_chain(&a, b), RILL_EINVAL); /* sizes */
    rill_stream_free(b); /* neither was taken */
    rill_stream_free(a);
}

static void sum_inspect(void *ud, const void *item)
{
    *(int64_t *)ud += *(const int64_t *)item;
}

static void test_inspect(void **state)
{
    (void)state;
    int64_t sum = 0;
    rill_stream_t *s = range64(1, 5);
    assert_int_equal(rill_stream_inspect(&s, sum_inspect, &sum), 0);
    expect_seq(s, "1 2 3 4 .");
    assert_int_equal(sum, 10);
}

typedef struct indexed {
    uint64_t index;
    int64_t item;
} indexed_t;

typedef struct pair {
    int32_t a;
    int64_t b;
} pair_t;

static void test_enumerate_zip(void **state)
{
    (void)state;
    const int64_t v[] = {5, ERR(RILL_EAGAIN), 6};
    rill_stream_t *s;
    scripted(&s, true, v, 3, NULL);
    assert_int_equal(rill_stream_enumerate(&s, sizeof(indexed_t), 4),
                     RILL_EINVAL);
    assert_int_equal(
        rill_stream_enumerate(&s, sizeof(indexed_t), offsetof(indexed_t, item)),
        0);
    indexed_t x;
    assert_int_equal(rill_next(s, &x), 0);
    assert_true(x.index == 0 && x.item == 5);
    assert_int_equal(rill_next(s, &x), RILL_EAGAIN);
    assert_int_equal(rill_next(s, &x), 0);
    assert_true(x.index == 1 && x.item == 6);
    assert_int_equal(rill_next(s, &x), RILL_DONE);
    rill_stream_free(s);

    int32_t as[] = {1, 2, 3};
    rill_stream_t *a, *b;
    assert_int_equal(rill_stream_iter(&a, as, 3, sizeof as[0]), 0);
    const int64_t bs[] = {10, ERR(RILL_ECLOSED), 20};
    scripted(&b, false, bs, 3, NULL);
    assert_int_equal(rill_stream_zip(&a, b, sizeof(pair_t), 2), RILL_EINVAL);
    assert_int_equal(
        rill_stream_zip(&a, b, sizeof(pair_t), offsetof(pair_t, b)), 0);
    pair_t p;
    assert_int_equal(rill_next(a, &p), 0);
    assert_true(p.a == 1 && p.b == 10);
    assert_int_equal(rill_next(a, &p), RILL_ECLOSED);
    assert_int_equal(rill_next(a, &p), 0);
    assert_true(p.a == 2 && p.b == 20);
    assert_int_equal(rill_next(a, &p), RILL_DONE); /* b ended; 3 released */
    rill_stream_free(a);
}

/* Zip over owning items: the held half is released when the other side
 * ends or the zip is dropped. */
static void test_zip_releases(void **state)
{
    (void)state;
    atomic_int drops = 0;
    obj_t *objs[2] = {obj_new(1), obj_new(2)};
    rill_stream_t *a, *b;
    assert_int_equal(rill_stream_iter(&a, objs, 2, sizeof objs[0]), 0);
    rill_stream_set_item_dtor(a, obj_drop, &drops);
    gate_t *g = gate_new(&b, false, NULL);
    gate_push(g, 100);
    assert_int_equal(rill_stream_zip(&a, b, 2 * sizeof(void *), sizeof(void *)),
                     0);
    struct {
        obj_t *o;
        int64_t v;
    } p;
    assert_int_equal(rill_next(a, &p), 0);
    obj_free(p.o);
    assert_int_equal(poll_once(a, &p), RILL_PENDING); /* holds objs[1] */
    rill_stream_free(a);
    assert_int_equal(atomic_load(&drops), 1);
}

/* ---- chunks ---- */

static void expect_chunk(rill_stream_t *s, size_t len, int64_t first)
{
    rill_chunk_t c;
    assert_int_equal(rill_next(s, &c), 0);
    assert_int_equal(c.len, len);
    assert_int_equal(c.item_size, sizeof(int64_t));
    assert_int_equal(RILL_CHUNK_AT(&c, int64_t, 0), first);
    for (size_t i = 1; i < len; i++)
        assert_int_equal(RILL_CHUNK_AT(&c, int64_t, i), first + (int64_t)i);
    rill_chunk_destroy(&c);
    assert_null(c.items);
}

static void test_chunks(void **state)
{
    (void)state;
    rill_stream_t *s = range64(0, 10);
    assert_int_equal(rill_stream_chunks(&s, 0), RILL_EINVAL);
    assert_int_equal(rill_stream_chunks(&s, 4), 0);
    expect_chunk(s, 4, 0);
    expect_chunk(s, 4, 4);
    expect_chunk(s, 2, 8); /* the last, partial chunk */
    rill_chunk_t c;
    assert_int_equal(rill_next(s, &c), RILL_DONE);
    rill_stream_free(s);

    /* An error item passes at once; the chunk keeps filling. */
    const int64_t v[] = {0, 1, ERR(RILL_EAGAIN), 2, 3, 4};
    scripted(&s, true, v, 6, NULL);
    assert_int_equal(rill_stream_chunks(&s, 3), 0);
    assert_int_equal(rill_next(s, &c), RILL_EAGAIN);
    expect_chunk(s, 3, 0);
    expect_chunk(s, 2, 3);
    assert_int_equal(rill_next(s, &c), RILL_DONE);
    rill_stream_free(s);

    /* Exactly divisible: no empty chunk at the end. */
    s = range64(0, 8);
    assert_int_equal(rill_stream_chunks(&s, 4), 0);
    expect_chunk(s, 4, 0);
    expect_chunk(s, 4, 4);
    assert_int_equal(rill_next(s, &c), RILL_DONE);
    rill_stream_free(s);
}

static void test_ready_chunks(void **state)
{
    (void)state;
    for (int batch = 0; batch < 2; batch++) {
        rill_stream_t *s;
        gate_t *g = gate_new(&s, batch, NULL);
        assert_int_equal(rill_stream_ready_chunks(&s, 4), 0);
        rill_chunk_t c;
        assert_int_equal(poll_once(s, &c), RILL_PENDING);
        gate_push(g, 0);
        gate_push(g, 1);
        expect_chunk(s, 2, 0); /* what is ready; does not wait for 4 */
        for (int i = 2; i < 8; i++)
            gate_push(g, i);
        expect_chunk(s, 4, 2); /* at most 4 */
        expect_chunk(s, 2, 6);
        assert_int_equal(poll_once(s, &c), RILL_PENDING);
        gate_push(g, 8);
        gate_close(g);
        expect_chunk(s, 1, 8);
        assert_int_equal(rill_next(s, &c), RILL_DONE);
        rill_stream_free(s);
    }
}

/* Chunk buffers are recycled: steady-state chunking allocates nothing. */
static void test_chunk_pool(void **state)
{
    (void)state;
    rill_stream_t *s = range64(0, 64 * 100);
    assert_int_equal(rill_stream_chunks(&s, 64), 0);
    rill_chunk_t c;
    assert_int_equal(rill_next(s, &c), 0);
    rill_chunk_destroy(&c);
    long before = atomic_load(&live_allocs);
    for (int i = 1; i < 100; i++) {
        assert_int_equal(rill_next(s, &c), 0);
        assert_int_equal(RILL_CHUNK_AT(&c, int64_t, 0), 64 * i);
        rill_chunk_destroy(&c);
        assert_int_equal(atomic_load(&live_allocs), before);
    }
    /* A chunk may outlive its stream. */
    rill_stream_free(s);
    s = range64(0, 3);
    assert_int_equal(rill_stream_chunks(&s, 2), 0);
    assert_int_equal(rill_next(s, &c), 0);
    rill_stream_free(s);
    assert_int_equal(RILL_CHUNK_AT(&c, int64_t, 1), 1);
    rill_chunk_destroy(&c);
}

/* ---- the batch path ---- */

static int add_one(void *ud, void *in, void *out)
{
    (void)ud;
    *(int64_t *)out = *(int64_t *)in + 1;
    return 0;
}

static bool always(void *ud, const void *item)
{
    (void)ud;
    (void)item;
    return true;
}

static void nothing(void *ud, const void *item)
{
    (void)ud;
    (void)item;
}

/* gate -> map -> filter -> inspect -> take -> chunks(64): the items move
 * in blocks, so the source is polled once per chunk, not once per item. */
static void test_batch_path(void **state)
{
    (void)state;
    enum { N = 1000 };
    rill_stream_t *s;
    gate_stats_t st = {0};
    gate_t *g = gate_new(&s, true, &st);
    for (int i = 0; i < N; i++)
        gate_push(g, i);
    gate_close(g);
    assert_int_equal(rill_stream_map(&s, add_one, NULL, sizeof(int64_t)), 0);
    assert_int_equal(rill_stream_filter(&s, always, NULL), 0);
    assert_int_equal(rill_stream_inspect(&s, nothing, NULL), 0);
    assert_int_equal(rill_stream_take(&s, N), 0);
    assert_int_equal(rill_stream_chunks(&s, 64), 0);
    rill_chunk_t c;
    int chunks = 0;
    int64_t sum = 0;
    while (rill_next(s, &c) == 0) {
        for (size_t i = 0; i < c.len; i++)
            sum += RILL_CHUNK_AT(&c, int64_t, i);
        chunks++;
        rill_chunk_destroy(&c);
    }
    assert_int_equal(chunks, (N + 63) / 64);
    assert_int_equal(sum, (int64_t)N * (N + 1) / 2);
    /* One batch poll per chunk (the map's scratch holds 64 items). */
    assert_int_equal(atomic_load(&st.polls), atomic_load(&st.many_polls));
    assert_true(atomic_load(&st.many_polls) <= (N + 63) / 64);
    assert_true(atomic_load(&st.dropped)); /* by take, at its N-th item */
    rill_stream_free(s);
}

/* ---- across threads ---- */

typedef struct producer {
    gate_t *g;
    int64_t n;
} producer_t;

static void *produce(void *arg)
{
    producer_t *p = arg;
    for (int64_t i = 0; i < p->n; i++)
        gate_push(p->g, i);
    gate_close(p->g);
    return NULL;
}

static int sum_chunk(void *ud, int status, void *item)
{
    assert_int_equal(status, 0);
    rill_chunk_t *c = item;
    for (size_t i = 0; i < c->len; i++)
        *(int64_t *)ud += RILL_CHUNK_AT(c, int64_t, i);
    rill_chunk_destroy(c);
    return 0;
}

static void test_cross_thread(void **state)
{
    (void)state;
    for (int batch = 0; batch < 2; batch++) {
        rill_stream_t *s;
        producer_t p = {gate_new(&s, batch, NULL), SCALE(200000, 10)};
        assert_int_equal(rill_stream_map(&s, add_one, NULL, sizeof(int64_t)),
                         0);
        assert_int_equal(rill_stream_ready_chunks(&s, 64), 0);
        pthread_t t;
        pthread_create(&t, NULL, produce, &p);
        int64_t sum = 0;
        assert_int_equal(rill_stream_for_each(s, sum_chunk, &sum), 0);
        pthread_join(t, NULL);
        assert_int_equal(sum, p.n * (p.n + 1) / 2);
    }
}

/* ---- dropping a half-consumed pipeline ---- */

static bool obj_odd(void *ud, const void *item)
{
    (void)ud;
    return (*(obj_t *const *)item)->v % 2 != 0;
}

static void test_drop_half_consumed(void **state)
{
    (void)state;
    enum { N = 100 };
    obj_t *objs[N];
    for (int i = 0; i < N; i++)
        objs[i] = obj_new(i);
    atomic_int drops = 0;
    rill_stream_t *s;
    assert_int_equal(rill_stream_iter(&s, objs, N, sizeof objs[0]), 0);
    rill_stream_set_item_dtor(s, obj_drop, &drops);
    assert_int_equal(rill_stream_skip(&s, 10), 0); /* 10 released */
    assert_int_equal(rill_stream_filter(&s, obj_odd, NULL), 0); /* evens */
    assert_int_equal(rill_stream_chunks(&s, 8), 0);
    assert_int_equal(rill_stream_take(&s, 3), 0);
    rill_chunk_t c, held;
    assert_int_equal(rill_next(s, &c), 0); /* consume one chunk's items */
    for (size_t i = 0; i < c.len; i++)
        obj_free(RILL_CHUNK_AT(&c, obj_t *, i));
    rill_chunk_destroy(&c);
    assert_int_equal(rill_next(s, &held), 0); /* keep one chunk */
    /* Drop the rest: everything buffered and upstream is released. */
    rill_stream_free(s);
    rill_chunk_discard(&held); /* its items, via the pool's destructor */
    assert_int_equal(atomic_load(&live_objs), 0);
    assert_int_equal(atomic_load(&drops), N - 8);
}

/* A pipeline of transforms dropped with items in its batch scratch. */
static void test_drop_scratch(void **state)
{
    (void)state;
    enum { N = 50 };
    rill_stream_t *s;
    obj_t *objs[N];
    for (int i = 0; i < N; i++)
        objs[i] = obj_new(i);
    assert_int_equal(rill_stream_iter(&s, objs, N, sizeof objs[0]), 0);
    rill_stream_set_item_dtor(s, obj_drop, NULL);
    assert_int_equal(rill_stream_inspect(&s, nothing, NULL), 0);
    assert_int_equal(rill_stream_filter(&s, always, NULL), 0);
    obj_t *few[4];
    size_t n;
    /* The filter takes 4 from the inspect, which takes 4 from iter. */
    assert_int_equal(rill_next_many(s, few, 4, &n), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        obj_free(few[i]);
    rill_stream_free(s);
    assert_int_equal(atomic_load(&live_objs), 0);
}

/* ---- consumers ---- */

typedef struct tally {
    int64_t sum;
    int items, errors, stop_at;
} tally_t;

static int tally(void *ud, int status, void *item)
{
    tally_t *t = ud;
    if (status < 0) {
        assert_null(item);
        t->errors++;
        return 0;
    }
    t->sum += *(int64_t *)item;
    if (++t->items == t->stop_at)
        return 42;
    return 0;
}

static void test_consumers(void **state)
{
    (void)state;
    const int64_t v[] = {1, 2, ERR(RILL_EAGAIN), 3, ERR(RILL_ECLOSED), 4};
    rill_stream_t *s;
    gate_stats_t st = {0};

    tally_t t = {0};
    scripted(&s, false, v, 6, &st);
    assert_int_equal(rill_stream_for_each(s, tally, &t), 0);
    assert_true(t.sum == 10 && t.items == 4 && t.errors == 2);
    assert_true(atomic_load(&st.dropped)); /* consumed */

    t = (tally_t){0};
    scripted(&s, false, v, 6, NULL);
    assert_int_equal(rill_stream_try_for_each(s, tally, &t), RILL_EAGAIN);
    assert_true(t.sum == 3 && t.items == 2 && t.errors == 0);

    t = (tally_t){.stop_at = 3};
    scripted(&s, false, v, 6, NULL);
    assert_int_equal(rill_stream_fold(s, &t, tally), 42); /* fn stopped it */
    assert_true(t.sum == 6 && t.errors == 1);

    t = (tally_t){0};
    scripted(&s, false, v, 6, NULL);
    assert_int_equal(rill_stream_try_fold(s, &t, tally), RILL_EAGAIN);

    uint64_t n;
    scripted(&s, true, v, 6, NULL);
    assert_int_equal(rill_stream_count(s, &n), 0);
    assert_int_equal(n, 4);

    rill_chunk_t all;
    scripted(&s, true, v, 6, NULL);
    assert_int_equal(rill_stream_collect(s, &all), 0);
    assert_int_equal(all.len, 4);
    assert_int_equal(RILL_CHUNK_AT(&all, int64_t, 3), 4);
    rill_chunk_destroy(&all);

    scripted(&s, true, v, 6, NULL);
    assert_int_equal(rill_stream_try_collect(s, &all), RILL_EAGAIN);
    assert_null(all.items);

    s = range64(0, 1000);
    assert_int_equal(rill_stream_collect(s, &all), 0);
    assert_int_equal(all.len, 1000);
    assert_int_equal(RILL_CHUNK_AT(&all, int64_t, 999), 999);
    rill_chunk_destroy(&all);

    assert_int_equal(rill_stream_for_each(NULL, tally, &t), RILL_EINVAL);
    s = range64(0, 3);
    assert_int_equal(rill_stream_for_each(s, NULL, NULL), RILL_EINVAL);
}

/* An error item, then the end. */
static int fail_once(void *ud, rill_cx_t *cx, void *out)
{
    (void)ud;
    (void)cx;
    (void)out;
    static _Thread_local bool failed;
    failed = !failed;
    return failed ? RILL_ETIMEDOUT : RILL_DONE;
}

/* try_collect and count release owning items they do not hand out. */
static void test_consumers_release(void **state)
{
    (void)state;
    obj_t *objs[3] = {obj_new(1), obj_new(2), obj_new(3)};
    rill_stream_t *s, *e;
    assert_int_equal(rill_stream_iter(&s, objs, 3, sizeof objs[0]), 0);
    rill_stream_set_item_dtor(s, obj_drop, NULL);
    uint64_t n;
    assert_int_equal(rill_stream_count(s, &n), 0);
    assert_int_equal(n, 3);

    /* Two items, then an error item: try_collect releases the two. */
    for (int i = 0; i < 2; i++)
        objs[i] = obj_new(i);
    assert_int_equal(rill_stream_iter(&s, objs, 2, sizeof objs[0]), 0);
    rill_stream_set_item_dtor(s, obj_drop, NULL);
    assert_int_equal(
        rill_stream_from_fn(&e, sizeof(obj_t *), fail_once, NULL, NULL), 0);
    assert_int_equal(rill_stream_chain(&s, e), 0);
    rill_chunk_t all;
    assert_int_equal(rill_stream_try_collect(s, &all), RILL_ETIMEDOUT);
    assert_null(all.items);
}

/* ---- misuse and out of memory ---- */

static void test_misuse_and_enomem(void **state)
{
    (void)state;
    rill_stream_t *s = NULL;
    assert_int_equal(rill_stream_map(NULL, add_one, NULL, 8), RILL_EINVAL);
    assert_int_equal(rill_stream_map(&s, add_one, NULL, 8), RILL_EINVAL);
    assert_int_equal(rill_stream_iter(&s, NULL, 3, 8), RILL_EINVAL);
    assert_int_equal(rill_stream_iter(&s, NULL, 0, 0), RILL_EINVAL);
    s = range64(0, 3);
    assert_int_equal(rill_stream_map(&s, NULL, NULL, 8), RILL_EINVAL);
    assert_int_equal(rill_stream_map(&s, add_one, NULL, 0), RILL_EINVAL);
    rill_stream_t *before = s;
    /* Every allocation a constructor makes may fail: *s is then the old
     * stream, still usable. */
    for (int k = 0; k < 2; k++) {
        atomic_store(&fail_countdown, k);
        assert_int_equal(rill_stream_map(&s, add_one, NULL, 8), RILL_ENOMEM);
        assert_ptr_equal(s, before);
        atomic_store(&fail_countdown, k);
        assert_int_equal(rill_stream_chunks(&s, 4), RILL_ENOMEM);
        assert_ptr_equal(s, before);
    }
    atomic_store(&fail_countdown, -1);
    expect_seq(s, "0 1 2 .");
    assert_int_equal(rill_stream_set_item_dtor(NULL, NULL, NULL), RILL_EINVAL);
    rill_stream_free(NULL);
    rill_chunk_destroy(NULL);
    rill_chunk_discard(NULL);
}

int main(void)
{
    rill_set_allocator(counting_realloc, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iter_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_fn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_map_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_fuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enumerate_zip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zip_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ready_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_half_consumed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_drop_scratch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumers_release, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_misuse_and_enomem, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
