/* SPDX-License-Identifier: MIT */
/*
 * test_bad_input_stream.c - bad arguments to every call of rill/stream.h
 * and rill/bytes.h: NULL streams, functions and buffers, zero and
 * overflowing sizes, layouts that do not fit, a stream combined with
 * itself, periods <= 0, unknown policies, calls that need a task made from
 * a plain thread, out-of-range slices. Each gets its documented error and
 * one misuse report naming the call; a refused combinator leaves the
 * stream with the caller, a refused consumer still consumes it (no leak:
 * LeakSanitizer checks in the asan build).
 */
#include "bad_input.h"

static const int64_t TEN[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

static rill_stream_t *ten(void)
{
    rill_stream_t *s;
    assert_status(rill_stream_iter(&s, TEN, 10, sizeof TEN[0]), 0);
    return s;
}

static int add_one(void *ud, void *in, void *out)
{
    (void)ud;
    *(int64_t *)out = *(int64_t *)in + 1;
    return 0;
}
static bool yes(void *ud, const void *item)
{
    (void)ud;
    (void)item;
    return true;
}
static int each(void *ud, int status, void *item)
{
    (void)ud;
    (void)item;
    return status;
}
static int poll_done(void *ud, rill_cx_t *cx, void *out)
{
    (void)ud;
    (void)cx;
    (void)out;
    return RILL_DONE;
}
static void blocking_fn(void *ud, rill_sender_t *tx)
{
    (void)ud;
    (void)tx;
}

static void test_stream_object(void **state)
{
    (void)state;
    rill_stream_t st, *s = ten();
    rill_stream_vtable_t no_drop = {.poll_next = s->vtable->poll_next};
    int64_t v, arr[4];
    size_t n;
    rill_cx_t cx = RILL_CX_INIT(rill_waker_noop());
    BAD(RILL_EINVAL, rill_stream_init(NULL, s->vtable, 8));
    BAD(RILL_EINVAL, rill_stream_init(&st, NULL, 8));
    BAD(RILL_EINVAL, rill_stream_init(&st, &no_drop, 8));
    BAD(RILL_EINVAL, rill_stream_init(&st, s->vtable, 0));
    BAD(RILL_EINVAL, rill_stream_set_item_dtor(NULL, NULL, NULL));
    QUIET(rill_stream_discard_item(NULL, &v));
    QUIET(rill_stream_discard_item(s, NULL));
    QUIET(rill_stream_free(NULL));
    BAD(RILL_EINVAL, rill_stream_poll_next_many(NULL, &cx, arr, 4, &n));
    BAD(RILL_EINVAL, rill_stream_poll_next_many(s, NULL, arr, 4, &n));
    BAD(RILL_EINVAL, rill_stream_poll_next_many(s, &cx, NULL, 4, &n));
    BAD(RILL_EINVAL, rill_stream_poll_next_many(s, &cx, arr, 0, &n));
    BAD(RILL_EINVAL, rill_stream_poll_next_many(s, &cx, arr, 4, NULL));
    /* rill_next and its _op forms. */
    int32_t small;
    BAD(RILL_EINVAL, rill_next(NULL, &v));
    BAD(RILL_EINVAL, rill_next(s, &small));
    BAD(RILL_EINVAL, rill_next_sized(s, NULL, sizeof v));
    BAD(RILL_EINVAL, rill_next_many(s, arr, 0, &n));
    BAD(RILL_EINVAL, rill_next_many(s, arr, 4, NULL));
    BAD(RILL_EINVAL, rill_next_many_sized(NULL, arr, sizeof v, 4, &n));
    rill_next_op_t op;
    rill_next_op(&op, NULL, &v);
    BAD(RILL_EINVAL, rill_await(&op.base));
    rill_next_op(&op, s, NULL);
    BAD(RILL_EINVAL, rill_await(&op.base));
    rill_next_many_op(&op, s, arr, 0, &n);
    BAD(RILL_EINVAL, rill_await(&op.base));
    rill_next_many_op(&op, s, arr, 4, NULL);
    BAD(RILL_EINVAL, rill_await(&op.base));
    REPORTS(rill_next_op(NULL, s, &v));
    REPORTS(rill_next_many_op(NULL, s, arr, 4, &n));
    /* The stream is untouched by all of that. */
    assert_status(rill_next(s, &v), 0);
    assert_int_equal(v, 0);
    rill_stream_free(s);
    QUIET(rill_chunk_destroy(NULL));
    QUIET(rill_chunk_discard(NULL));
    assert_int_equal(rill_broadcast_stream_missed(NULL), 0);
}

static void test_sources(void **state)
{
    (void)state;
    rill_stream_t *s = NULL;
    int64_t v = 0;
    BAD(RILL_EINVAL, rill_stream_iter(NULL, TEN, 10, 8));
    BAD(RILL_EINVAL, rill_stream_iter(&s, TEN, 10, 0));
    BAD(RILL_EINVAL, rill_stream_iter(&s, NULL, 10, 8));
    BAD(RILL_EINVAL, rill_stream_iter(&s, TEN, SIZE_MAX, 8)); /* overflows */
    BAD(RILL_EINVAL, rill_stream_empty(NULL, 8));
    BAD(RILL_EINVAL, rill_stream_empty(&s, 0));
    BAD(RILL_EINVAL, rill_stream_once(&s, NULL, 8));
    BAD(RILL_EINVAL, rill_stream_once(&s, &v, 0));
    BAD(RILL_EINVAL, rill_stream_repeat(NULL, &v, 8));
    BAD(RILL_EINVAL, rill_stream_repeat(&s, NULL, 8));
    BAD(RILL_EINVAL, rill_stream_from_fn(NULL, 8, poll_done, NULL, NULL));
    BAD(RILL_EINVAL, rill_stream_from_fn(&s, 8, NULL, NULL, NULL));
    BAD(RILL_EINVAL, rill_stream_from_fn(&s, 0, poll_done, NULL, NULL));
    BAD(RILL_EINVAL, rill_stream_interval(NULL, RILL_MS(1), RILL_TICK_SKIP));
    BAD(RILL_EINVAL, rill_stream_interval(&s, 0, RILL_TICK_SKIP));
    BAD(RILL_EINVAL, rill_stream_interval(&s, INT64_MIN, RILL_TICK_SKIP));
    BAD(RILL_EINVAL, rill_stream_interval(&s, RILL_MS(1), 42));
    BAD(RILL_EINVAL, rill_stream_interval(&s, RILL_MS(1), -1));
    /* from_blocking needs a task. */
    BAD(RILL_EINVAL, rill_stream_from_blocking(&s, 8, 4, blocking_fn, NULL));
    assert_null(s);
}

static void test_receivers(void **state)
{
    (void)state;
    rill_stream_t *s = NULL;
    int v = 1;
    /* mpsc: NULL, released (the channel lives on in tx), NULL out. */
    rill_sender_t *tx;
    rill_receiver_t *rx;
    assert_status(rill_channel_new(&tx, &rx, sizeof v, 4, NULL), 0);
    BAD(RILL_EINVAL, rill_receiver_into_stream(NULL, &s));
    BAD(RILL_EINVAL, rill_receiver_into_stream(rx, NULL));
    assert_status(rill_receiver_release(rx), 0);
    BAD(RILL_EINVAL, rill_receiver_into_stream(rx, &s));
    rill_sender_release(tx);
    /* oneshot, watch, broadcast: NULL, item_size 0, NULL out. */
    rill_oneshot_sender_t *otx;
    rill_oneshot_receiver_t *orx;
    assert_status(rill_oneshot_new(&otx, &orx, sizeof v, NULL), 0);
    BAD(RILL_EINVAL, rill_oneshot_into_stream(NULL, sizeof v, &s));
    BAD(RILL_EINVAL, rill_oneshot_into_stream(orx, 0, &s));
    BAD(RILL_EINVAL, rill_oneshot_into_stream(orx, sizeof v, NULL));
    /* A size mismatch is an error item at the first poll. */
    assert_status(rill_oneshot_into_stream(orx, 2, &s), 0);
    int16_t h;
    reports = 0;
    BAD(RILL_EINVAL, rill_next(s, &h));
    rill_stream_free(s);
    rill_oneshot_sender_release(otx);
    rill_watch_sender_t *wtx;
    rill_watch_receiver_t *wrx;
    assert_status(rill_watch_new(&wtx, &wrx, sizeof v, &v, NULL), 0);
    BAD(RILL_EINVAL, rill_watch_into_stream(NULL, sizeof v, &s));
    BAD(RILL_EINVAL, rill_watch_into_stream(wrx, 0, &s));
    BAD(RILL_EINVAL, rill_watch_into_stream(wrx, sizeof v, NULL));
    rill_watch_receiver_release(wrx);
    rill_watch_sender_release(wtx);
    rill_broadcast_sender_t *btx;
    rill_broadcast_receiver_t *brx;
    assert_status(
        rill_broadcast_new(&btx, &brx, sizeof v, 4, RILL_BROADCAST_LAG, NULL),
        0);
    BAD(RILL_EINVAL, rill_broadcast_into_stream(NULL, sizeof v, &s));
    BAD(RILL_EINVAL, rill_broadcast_into_stream(brx, 0, &s));
    BAD(RILL_EINVAL, rill_broadcast_into_stream(brx, sizeof v, NULL));
    rill_broadcast_receiver_release(brx);
    rill_broadcast_sender_release(btx);
}

/* A refused combinator leaves *s as it was. */
#define KEEPS(call)                                                            \
    do {                                                                       \
        rill_stream_t *before_ = s;                                            \
        BAD(RILL_EINVAL, call);                                                \
        assert_ptr_equal(s, before_);                                          \
    } while (0)

typedef struct pair {
    uint64_t index;
    int64_t item;
} pair_t;

static void test_combinators(void **state)
{
    (void)state;
    rill_stream_t *s = NULL, *o = ten();
    /* NULL s and NULL *s, for every combinator. */
    for (int null_ptr = 0; null_ptr < 2; null_ptr++) {
        rill_stream_t **p = null_ptr ? NULL : &s;
        BAD(RILL_EINVAL, rill_stream_map(p, add_one, NULL, 8));
        BAD(RILL_EINVAL, rill_stream_filter(p, yes, NULL));
        BAD(RILL_EINVAL, rill_stream_filter_map(p, add_one, NULL, 8));
        BAD(RILL_EINVAL, rill_stream_scan(p, add_one, NULL, 8));
        BAD(RILL_EINVAL, rill_stream_inspect(p, NULL, NULL));
        BAD(RILL_EINVAL, rill_stream_take(p, 1));
        BAD(RILL_EINVAL, rill_stream_skip(p, 1));
        BAD(RILL_EINVAL, rill_stream_take_while(p, yes, NULL));
        BAD(RILL_EINVAL, rill_stream_skip_while(p, yes, NULL));
        BAD(RILL_EINVAL, rill_stream_enumerate(p, 16, 8));
        BAD(RILL_EINVAL, rill_stream_chain(p, o));
        BAD(RILL_EINVAL, rill_stream_zip(p, o, 16, 8));
        BAD(RILL_EINVAL, rill_stream_merge(p, o));
        BAD(RILL_EINVAL, rill_stream_fuse(p));
        BAD(RILL_EINVAL, rill_stream_chunks(p, 4));
        BAD(RILL_EINVAL, rill_stream_ready_chunks(p, 4));
        BAD(RILL_EINVAL, rill_stream_chunks_timeout(p, 4, RILL_MS(1)));
        BAD(RILL_EINVAL, rill_stream_timeout(p, RILL_MS(1)));
        BAD(RILL_EINVAL, rill_stream_throttle(p, RILL_MS(1)));
        BAD(RILL_EINVAL,
            rill_stream_map_async(p, 2, RILL_ORDERED, add_one, NULL, 8));
    }
    /* Bad functions, sizes, layouts and periods. */
    s = ten();
    KEEPS(rill_stream_map(&s, NULL, NULL, 8));
    KEEPS(rill_stream_map(&s, add_one, NULL, 0));
    KEEPS(rill_stream_filter(&s, NULL, NULL));
    KEEPS(rill_stream_filter_map(&s, add_one, NULL, 0));
    KEEPS(rill_stream_scan(&s, NULL, NULL, 8));
    KEEPS(rill_stream_take_while(&s, NULL, NULL));
    KEEPS(rill_stream_skip_while(&s, NULL, NULL));
    KEEPS(rill_stream_inspect(&s, NULL, NULL));
    KEEPS(rill_stream_enumerate(&s, 8, 8));         /* the item is past it */
    KEEPS(rill_stream_enumerate(&s, 16, 4));        /* overlaps the index */
    KEEPS(rill_stream_enumerate(&s, 16, SIZE_MAX)); /* overflows */
    KEEPS(rill_stream_chain(&s, NULL));
    KEEPS(rill_stream_chain(&s, s)); /* itself: would be freed twice */
    KEEPS(rill_stream_zip(&s, NULL, 16, 8));
    KEEPS(rill_stream_zip(&s, s, 16, 8));
    KEEPS(rill_stream_zip(&s, o, 8, 8));
    KEEPS(rill_stream_zip(&s, o, 16, 4));
    KEEPS(rill_stream_zip(&s, o, 16, SIZE_MAX));
    KEEPS(rill_stream_merge(&s, NULL));
    KEEPS(rill_stream_merge(&s, s));
    KEEPS(rill_stream_chunks(&s, 0));
    KEEPS(rill_stream_ready_chunks(&s, 0));
    KEEPS(rill_stream_chunks_timeout(&s, 0, RILL_MS(1)));
    KEEPS(rill_stream_chunks_timeout(&s, 4, 0));
    KEEPS(rill_stream_chunks_timeout(&s, 4, INT64_MIN));
    KEEPS(rill_stream_timeout(&s, 0));
    KEEPS(rill_stream_timeout(&s, -1));
    KEEPS(rill_stream_throttle(&s, 0));
    KEEPS(rill_stream_throttle(&s, INT64_MIN));
    /* map_async: limit 0, unknown order, and not from a task. */
    KEEPS(rill_stream_map_async(&s, 0, RILL_ORDERED, add_one, NULL, 8));
    KEEPS(rill_stream_map_async(&s, 2, (rill_order_t)7, add_one, NULL, 8));
    KEEPS(rill_stream_map_async(&s, 2, RILL_ORDERED, add_one, NULL, 8));
    /* Item sizes that differ. */
    rill_stream_t *other;
    int32_t small = 0;
    assert_status(rill_stream_once(&other, &small, sizeof small), 0);
    KEEPS(rill_stream_chain(&s, other));
    KEEPS(rill_stream_merge(&s, other));
    /* select_all. */
    rill_stream_t *all[3] = {s, o, NULL}, *out = NULL;
    BAD(RILL_EINVAL, rill_stream_select_all(NULL, all, 2));
    BAD(RILL_EINVAL, rill_stream_select_all(&out, NULL, 2));
    BAD(RILL_EINVAL, rill_stream_select_all(&out, all, 0));
    BAD(RILL_EINVAL, rill_stream_select_all(&out, all, 3));
    all[2] = other;
    BAD(RILL_EINVAL, rill_stream_select_all(&out, all, 3));
    assert_null(out);
    /* Everything still works: 10 + 10 + 1 items. */
    assert_status(rill_stream_chain(&s, o), 0);
    uint64_t n = 0;
    assert_status(rill_stream_count(s, &n), 0);
    assert_int_equal(n, 20);
    rill_stream_free(other);
}

static void test_consumers(void **state)
{
    (void)state;
    rill_chunk_t c;
    uint64_t n;
    int acc;
    /* NULL stream, or NULL function / out: RILL_EINVAL, and the stream
     * is consumed all the same (LeakSanitizer would see it otherwise). */
    BAD(RILL_EINVAL, rill_stream_for_each(NULL, each, NULL));
    BAD(RILL_EINVAL, rill_stream_for_each(ten(), NULL, NULL));
    BAD(RILL_EINVAL, rill_stream_try_for_each(ten(), NULL, NULL));
    BAD(RILL_EINVAL, rill_stream_fold(NULL, &acc, each));
    BAD(RILL_EINVAL, rill_stream_fold(ten(), &acc, NULL));
    BAD(RILL_EINVAL, rill_stream_try_fold(ten(), &acc, NULL));
    BAD(RILL_EINVAL, rill_stream_count(NULL, &n));
    BAD(RILL_EINVAL, rill_stream_count(ten(), NULL));
    BAD(RILL_EINVAL, rill_stream_collect(NULL, &c));
    BAD(RILL_EINVAL, rill_stream_collect(ten(), NULL));
    BAD(RILL_EINVAL, rill_stream_try_collect(ten(), NULL));
    /* for_each_concurrent needs a task. */
    BAD(RILL_EINVAL, rill_stream_for_each_concurrent(NULL, 2, each, NULL));
    BAD(RILL_EINVAL, rill_stream_for_each_concurrent(ten(), 2, NULL, NULL));
    BAD(RILL_EINVAL, rill_stream_for_each_concurrent(ten(), 2, each, NULL));
    /* forward consumes both, also when refused. */
    rill_sender_t *tx;
    rill_receiver_t *rx;
    assert_status(rill_channel_new(&tx, &rx, sizeof(int64_t), 4, NULL), 0);
    rill_sender_t *tx2;
    assert_status(rill_sender_clone(tx, &tx2), 0);
    BAD(RILL_EINVAL, rill_stream_forward(NULL, tx));
    BAD(RILL_EINVAL, rill_stream_forward(ten(), NULL));
    /* A channel of another item size. */
    rill_sender_t *itx;
    rill_receiver_t *irx;
    assert_status(rill_channel_new(&itx, &irx, sizeof(int), 4, NULL), 0);
    BAD(RILL_EINVAL, rill_stream_forward(ten(), itx));
    rill_receiver_release(irx);
    /* Forward after the receiver closed: RILL_ECLOSED, items released. */
    rill_receiver_close(rx);
    BAD(RILL_ECLOSED, rill_stream_forward(ten(), tx2));
    rill_receiver_release(rx);
}

static void test_bytes(void **state)
{
    (void)state;
    rill_bytes_t b = RILL_BYTES_EMPTY, out;
    BAD(RILL_EINVAL, rill_bytes_new(NULL, "x", 1));
    BAD(RILL_EINVAL, rill_bytes_new(&b, NULL, 1));
    BAD(0, rill_bytes_new(&b, NULL, 0)); /* the empty value */
    assert_int_equal(rill_bytes_len(&b), 0);
    BAD(RILL_EINVAL, rill_bytes_from_buffer(NULL, "x", 1, NULL, NULL));
    BAD(RILL_EINVAL, rill_bytes_from_buffer(&b, NULL, 1, NULL, NULL));
    assert_status(rill_bytes_new(&b, "hello", 5), 0);
    BAD(RILL_EINVAL, rill_bytes_slice(&b, 6, 0, &out));
    assert_null(out.shared_);
    BAD(RILL_EINVAL, rill_bytes_slice(&b, 2, 4, &out));
    BAD(RILL_EINVAL, rill_bytes_slice(&b, 1, SIZE_MAX, &out)); /* overflow */
    BAD(RILL_EINVAL, rill_bytes_slice(&b, SIZE_MAX, 2, &out));
    BAD(RILL_EINVAL, rill_bytes_slice(&b, 0, 1, NULL));
    BAD(RILL_EINVAL, rill_bytes_slice(NULL, 0, 0, &out));
    BAD(0, rill_bytes_slice(&b, 5, 0, &out)); /* empty, at the end */
    rill_bytes_release(&out);
    rill_bytes_t c = rill_bytes_clone(NULL);
    assert_null(c.shared_);
    assert_int_equal(rill_bytes_refs(NULL), 0);
    assert_int_equal(rill_bytes_refs(&c), 0);
    QUIET(rill_bytes_release(NULL));
    QUIET(rill_bytes_release(&c));
    QUIET(rill_bytes_item_dtor(NULL, NULL));
    rill_bytes_release(&b);
    /* rill_arc. */
    int *obj = NULL;
    BAD(RILL_EINVAL, rill_arc_new(NULL, 4, NULL));
    BAD(RILL_EINVAL, rill_arc_new(&obj, 0, NULL));
    BAD(RILL_EINVAL, rill_arc_new(&obj, SIZE_MAX, NULL)); /* overflows */
    assert_null(obj);
    assert_null(rill_arc_clone(NULL));
    assert_int_equal(rill_arc_refs(NULL), 0);
    QUIET(rill_arc_release(NULL));
    QUIET(rill_arc_item_dtor(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_stream_object, bad_setup),
        cmocka_unit_test_setup(test_sources, bad_setup),
        cmocka_unit_test_setup(test_receivers, bad_setup),
        cmocka_unit_test_setup(test_combinators, bad_setup),
        cmocka_unit_test_setup(test_consumers, bad_setup),
        cmocka_unit_test_setup(test_bytes, bad_setup),
    };
    return test_run(tests, NULL, NULL);
}
