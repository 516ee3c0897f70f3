/* SPDX-License-Identifier: MIT */
/*
 * test_bytes.c - rill_bytes (shared immutable bytes, sliced without a
 * copy) and rill_arc (reference-counted structs): counts, slicing bounds,
 * release from many threads, and both as stream items with their item
 * destructors.
 */
#include "test_util.h"

#include <pthread.h>
#include <rill.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_int buffers_freed;

static void count_free(void *ud, void *data)
{
    (void)ud;
    free(data);
    atomic_fetch_add(&buffers_freed, 1);
}

static void test_bytes_basics(void **state)
{
    (void)state;
    rill_bytes_t b, head, tail, empty;
    assert_status(rill_bytes_new(&b, "hello, world", 12), 0);
    assert_int_equal(rill_bytes_len(&b), 12);
    assert_int_equal(rill_bytes_refs(&b), 1);
    assert_status(rill_bytes_slice(&b, 0, 5, &head), 0);
    assert_status(rill_bytes_slice(&b, 7, 5, &tail), 0);
    assert_int_equal(rill_bytes_refs(&b), 3);
    /* A slice is a view of the same buffer: no copy. */
    assert_ptr_equal(rill_bytes_data(&tail),
                     (const char *)rill_bytes_data(&b) + 7);
    assert_memory_equal(rill_bytes_data(&head), "hello", 5);
    assert_status(rill_bytes_slice(&b, 7, 6, &empty), RILL_EINVAL);
    assert_int_equal(rill_bytes_len(&empty), 0);
    assert_status(rill_bytes_slice(&b, 13, 0, &empty), RILL_EINVAL);
    assert_status(rill_bytes_slice(&b, 12, 0, &empty), 0); /* at the end */
    rill_bytes_release(&empty);
    rill_bytes_release(&b);
    assert_null(b.shared_);
    rill_bytes_release(&b); /* the empty value: nothing */
    rill_bytes_t sub;
    assert_status(rill_bytes_slice(&tail, 1, 3, &sub), 0); /* of a slice */
    assert_memory_equal(rill_bytes_data(&sub), "orl", 3);
    rill_bytes_release(&tail);
    rill_bytes_release(&head);
    assert_int_equal(rill_bytes_refs(&sub), 1);
    rill_bytes_release(&sub);

    assert_status(rill_bytes_new(&b, NULL, 0), 0);
    assert_int_equal(rill_bytes_refs(&b), 0);
    rill_bytes_release(&b);
    assert_status(rill_bytes_new(&b, NULL, 3), RILL_EINVAL);
}

static void test_bytes_from_buffer(void **state)
{
    (void)state;
    atomic_store(&buffers_freed, 0);
    char *raw = strdup("a buffer of mine");
    rill_bytes_t b, c;
    assert_status(
        rill_bytes_from_buffer(&b, raw, strlen(raw), count_free, NULL), 0);
    assert_ptr_equal(rill_bytes_data(&b), raw); /* not copied */
    c = rill_bytes_clone(&b);
    rill_bytes_release(&b);
    assert_int_equal(atomic_load(&buffers_freed), 0);
    rill_bytes_release(&c);
    assert_int_equal(atomic_load(&buffers_freed), 1);
}

/* Many threads hold slices of one buffer and release them in any order:
 * the buffer is freed exactly once, after the last. */
typedef struct holder {
    rill_bytes_t view;
    int sum;
} holder_t;

static void *hold_and_release(void *arg)
{
    holder_t *h = arg;
    for (int round = 0; round < 1000; round++) {
        rill_bytes_t s;
        if (rill_bytes_slice(&h->view, (size_t)round % 8, 8, &s) != 0)
            return NULL; /* the caller finds the sum short */
        h->sum += ((const unsigned char *)rill_bytes_data(&s))[0];
        rill_bytes_t c = rill_bytes_clone(&s);
        rill_bytes_release(&s);
        rill_bytes_release(&c);
    }
    rill_bytes_release(&h->view);
    return NULL;
}

static void test_bytes_threads(void **state)
{
    (void)state;
    enum { T = 4 };
    atomic_store(&buffers_freed, 0);
    unsigned char *raw = malloc(16);
    for (int i = 0; i < 16; i++)
        raw[i] = (unsigned char)i;
    rill_bytes_t b;
    assert_status(rill_bytes_from_buffer(&b, raw, 16, count_free, NULL), 0);
    pthread_t t[T];
    holder_t h[T];
    for (int i = 0; i < T; i++) {
        h[i] = (holder_t){rill_bytes_clone(&b), 0};
        pthread_create(&t[i], NULL, hold_and_release, &h[i]);
    }
    rill_bytes_release(&b);
    for (int i = 0; i < T; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(h[i].sum, 125 * 28); /* sum of 0..7, 125 times */
    }
    assert_int_equal(atomic_load(&buffers_freed), 1);
}

/* rill_bytes_release_many: runs of views of one buffer, mixed with views
 * of another and with empty values, each reference dropped exactly once;
 * the buffer goes with its last view, whichever batch holds it. */
static void test_bytes_release_many(void **state)
{
    (void)state;
    atomic_store(&buffers_freed, 0);
    rill_bytes_t a, b;
    assert_status(
        rill_bytes_from_buffer(&a, strdup("aaaaaaaa"), 8, count_free, NULL), 0);
    assert_status(
        rill_bytes_from_buffer(&b, strdup("bbbbbbbb"), 8, count_free, NULL), 0);
    rill_bytes_t v[9];
    for (int i = 0; i < 3; i++) /* a a a b b EMPTY a b b */
        assert_status(rill_bytes_slice(&a, (size_t)i, 1, &v[i]), 0);
    assert_status(rill_bytes_slice(&b, 0, 2, &v[3]), 0);
    v[4] = rill_bytes_clone(&b);
    v[5] = RILL_BYTES_EMPTY;
    assert_status(rill_bytes_slice(&a, 7, 1, &v[6]), 0);
    assert_status(rill_bytes_slice(&b, 1, 0, &v[7]), 0);
    assert_status(rill_bytes_slice(&b, 7, 1, &v[8]), 0);
    assert_int_equal(rill_bytes_refs(&a), 5);
    assert_int_equal(rill_bytes_refs(&b), 5);
    rill_bytes_release_many(v, 5); /* three of a, two of b */
    for (int i = 0; i < 5; i++)
        assert_null(v[i].shared_);
    assert_int_equal(rill_bytes_refs(&a), 2);
    assert_int_equal(rill_bytes_refs(&b), 3);
    rill_bytes_release(&a);
    rill_bytes_release(&b);
    assert_int_equal(atomic_load(&buffers_freed), 0);
    rill_bytes_release_many(&v[5], 4); /* the last of each: both freed */
    assert_int_equal(atomic_load(&buffers_freed), 2);
    rill_bytes_release_many(v, 9); /* all empty now: nothing */
    rill_bytes_release_many(NULL, 3);
    rill_bytes_release_many(v, 0);
    assert_int_equal(atomic_load(&buffers_freed), 2);
}

/* Threads release batches of views of one buffer at once: freed once. */
static void *release_batches(void *arg)
{
    rill_bytes_t *views = arg;
    for (int i = 0; i < 64; i += 16)
        rill_bytes_release_many(&views[i], 16);
    return NULL;
}

static void test_bytes_release_many_threads(void **state)
{
    (void)state;
    enum { T = 4 };
    atomic_store(&buffers_freed, 0);
    rill_bytes_t b;
    assert_status(
        rill_bytes_from_buffer(&b, strdup("shared"), 6, count_free, NULL), 0);
    static rill_bytes_t views[T][64];
    for (int t = 0; t < T; t++)
        for (int i = 0; i < 64; i++)
            views[t][i] = rill_bytes_clone(&b);
    pthread_t th[T];
    for (int t = 0; t < T; t++)
        pthread_create(&th[t], NULL, release_batches, views[t]);
    rill_bytes_release(&b);
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    assert_int_equal(atomic_load(&buffers_freed), 1);
}

typedef struct doc {
    uint32_t id;
    char *content;
} doc_t;

static atomic_int docs_destroyed;

static void doc_dtor(void *p)
{
    free(((doc_t *)p)->content);
    atomic_fetch_add(&docs_destroyed, 1);
}

static void *drop_doc(void *arg)
{
    rill_arc_release(arg);
    return NULL;
}

static void test_arc(void **state)
{
    (void)state;
    atomic_store(&docs_destroyed, 0);
    doc_t *d;
    assert_status(rill_arc_new(&d, sizeof *d, doc_dtor), 0);
    assert_int_equal(d->id, 0); /* zeroed */
    assert_int_equal((uintptr_t)d % _Alignof(max_align_t), 0);
    d->id = 1;
    d->content = strdup("some large string...");
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, drop_doc, rill_arc_clone(d));
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(rill_arc_refs(d), 1);
    assert_int_equal(atomic_load(&docs_destroyed), 0);
    rill_arc_release(d);
    assert_int_equal(atomic_load(&docs_destroyed), 1);
    rill_arc_release(NULL);
    assert_null(rill_arc_clone(NULL));
    assert_status(rill_arc_new(&d, 0, NULL), RILL_EINVAL);
}

static bool short_frame(void *ud, const void *item)
{
    (void)ud;
    return rill_bytes_len(item) < 4;
}

/* As stream items: what the pipeline discards drops its reference. */
static void test_as_stream_items(void **state)
{
    (void)state;
    atomic_store(&buffers_freed, 0);
    enum { N = 10 };
    rill_bytes_t frames[N];
    for (int i = 0; i < N; i++) {
        char *raw = malloc(8);
        memset(raw, 'a' + i, 8);
        assert_status(rill_bytes_from_buffer(&frames[i], raw, (size_t)(i % 8),
                                             count_free, NULL),
                      0);
    }
    rill_stream_t *s;
    assert_status(rill_stream_iter(&s, frames, N, sizeof frames[0]), 0);
    rill_stream_set_item_dtor(s, rill_bytes_item_dtor, NULL);
    assert_status(rill_stream_filter(&s, short_frame, NULL), 0);
    rill_bytes_t f;
    assert_status(rill_next(s, &f), 0);
    assert_int_equal(rill_bytes_len(&f), 0);
    rill_bytes_release(&f);
    rill_stream_free(s); /* half-consumed */
    assert_int_equal(atomic_load(&buffers_freed), N);

    doc_t *docs[3];
    atomic_store(&docs_destroyed, 0);
    for (int i = 0; i < 3; i++)
        assert_status(rill_arc_new(&docs[i], sizeof(doc_t), doc_dtor), 0);
    assert_status(rill_stream_iter(&s, docs, 3, sizeof docs[0]), 0);
    rill_stream_set_item_dtor(s, rill_arc_item_dtor, NULL);
    rill_stream_free(s);
    assert_int_equal(atomic_load(&docs_destroyed), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_basics),
        cmocka_unit_test(test_bytes_from_buffer),
        cmocka_unit_test(test_bytes_threads),
        cmocka_unit_test(test_bytes_release_many),
        cmocka_unit_test(test_bytes_release_many_threads),
        cmocka_unit_test(test_arc),
        cmocka_unit_test(test_as_stream_items),
    };
    return test_run(tests, NULL, NULL);
}
