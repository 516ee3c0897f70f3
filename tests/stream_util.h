/* SPDX-License-Identifier: MIT */
/*
 * stream_util.h - what the stream tests share: a counting allocator and
 * per-test setup/teardown that check no rill allocation and no owning
 * test object (obj_t) is left behind; int64_t stream sources and a
 * checker that drains a stream into a readable sequence; a runtime with
 * a virtual clock for timed tests.
 */
#ifndef RILL_TEST_STREAM_UTIL_H
#define RILL_TEST_STREAM_UTIL_H

#include "test_util.h"
#include "gate.h"

#include <rill.h>
#include <stdio.h>
#include <string.h>

/* ---- allocation and object accounting ---- */

static atomic_long live_allocs;
static atomic_int fail_countdown = -1; /* n >= 0: the n-th next alloc fails */

static inline void *counting_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (n == 0) {
        if (p)
            atomic_fetch_sub(&live_allocs, 1);
        free(p);
        return NULL;
    }
    if (atomic_load(&fail_countdown) >= 0 &&
        atomic_fetch_sub(&fail_countdown, 1) == 0)
        return NULL;
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&live_allocs, 1);
    return q;
}

static atomic_int live_objs;

typedef struct obj {
    int64_t v;
} obj_t;

static inline obj_t *obj_new(int64_t v)
{
    obj_t *o = malloc(sizeof *o);
    o->v = v;
    atomic_fetch_add(&live_objs, 1);
    return o;
}

static inline void obj_free(obj_t *o)
{
    atomic_fetch_sub(&live_objs, 1);
    free(o);
}

/* Item destructor for streams of obj_t *. */
static inline void obj_drop(void *item, void *ud)
{
    if (ud)
        atomic_fetch_add((atomic_int *)ud, 1);
    obj_free(*(obj_t **)item);
}

static long allocs_at_start;

/* The first await on a thread allocates the thread's parker, which lives
 * as long as the thread: make it before any test counts. */
static inline int group_setup(void **state)
{
    (void)state;
    rill_stream_t *s;
    int64_t v = 0;
    if (rill_stream_once(&s, &v, sizeof v) != 0)
        return -1;
    int r = rill_next(s, &v);
    rill_stream_free(s);
    return r;
}

static inline int setup(void **state)
{
    (void)state;
    allocs_at_start = atomic_load(&live_allocs);
    atomic_store(&live_objs, 0);
    atomic_store(&fail_countdown, -1);
    return 0;
}

static inline int teardown(void **state)
{
    (void)state;
    assert_int_equal(atomic_load(&live_allocs), allocs_at_start);
    assert_int_equal(atomic_load(&live_objs), 0);
    return 0;
}

/* ---- helpers ---- */

static inline rill_stream_t *ints(const int *v, size_t n)
{
    rill_stream_t *s;
    assert_int_equal(rill_stream_iter(&s, v, n, sizeof *v), 0);
    return s;
}

static inline rill_stream_t *range64(int64_t from, int64_t to)
{
    size_t n = (size_t)(to - from);
    int64_t *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = from + (int64_t)i;
    rill_stream_t *s;
    assert_int_equal(rill_stream_iter(&s, v, n, sizeof *v), 0);
    free(v);
    return s;
}

/* Drain s with rill_next into a string like "1 2 E-3 4 ." (E = error
 * item, . = end), then free s. */
static inline void expect_seq(rill_stream_t *s, const char *want)
{
    char got[512] = "";
    size_t len = 0;
    int64_t v = 0;
    assert_int_equal(s->item_size, sizeof v);
    for (int guard = 0; guard < 100; guard++) {
        int r = rill_next(s, &v);
        if (r == 0)
            len += (size_t)snprintf(got + len, sizeof got - len, "%lld ",
                                    (long long)v);
        else if (r < 0)
            len += (size_t)snprintf(got + len, sizeof got - len, "E%d ", r);
        else {
            assert_int_equal(r, RILL_DONE);
            snprintf(got + len, sizeof got - len, ".");
            break;
        }
    }
    assert_string_equal(got, want);
    int64_t again;
    assert_int_equal(rill_next(s, &again), RILL_DONE); /* sticky */
    rill_stream_free(s);
}

/* A gate with a script already pushed: values, INT64_MIN + k for error
 * items -k, and closed at the end. */
#define ERR(e) (INT64_MIN - (e))
static inline gate_t *scripted(rill_stream_t **s, bool batch, const int64_t *v,
                               size_t n, gate_stats_t *stats)
{
    gate_t *g = gate_new(s, batch, stats);
    for (size_t i = 0; i < n; i++) {
        if (v[i] < INT64_MIN + 1000)
            gate_push_err(g, (int)(INT64_MIN - v[i]));
        else
            gate_push(g, v[i]);
    }
    gate_close(g);
    return g;
}

/* A waker that counts its wakes (for cooperative-budget tests). */
static atomic_int wakes;
static inline rill_waker_t cw_clone(const void *d);
static inline void cw_wake(const void *d)
{
    (void)d;
    atomic_fetch_add(&wakes, 1);
}
static inline void cw_release(const void *d)
{
    (void)d;
}
static const rill_waker_vtable_t cw_vt = {cw_clone, cw_wake, cw_wake,
                                          cw_release};
static inline rill_waker_t cw_clone(const void *d)
{
    return (rill_waker_t){&cw_vt, d};
}

/* ---- a runtime with a virtual clock (2 workers), per test ---- */

static rill_runtime_t *rt;

static inline int rt_setup(void **state)
{
    setup(state); /* the allocation baseline excludes the runtime */
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.workers = 2;
    c.virtual_clock = true;
    assert_int_equal(rill_runtime_new(&rt, &c), 0);
    return 0;
}

static inline int rt_teardown(void **state)
{
    rill_runtime_free(rt);
    rt = NULL;
    return teardown(state);
}

/* Run fn(arg) as a task on rt; it returns (void *)1 on success. */
static inline void run(rill_task_fn fn, void *arg)
{
    void *ok = NULL;
    assert_int_equal(rill_block_on(rt, fn, arg, &ok), 0);
    assert_ptr_equal(ok, (void *)1);
}

/* An instant difference in whole milliseconds. */
#define MS(t) ((int64_t)(t) / RILL_MS(1))

#endif
