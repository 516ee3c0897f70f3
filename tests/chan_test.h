/* SPDX-License-Identifier: MIT */
/*
 * chan_test.h - helpers for the channel tests (oneshot, watch, broadcast):
 * a counting allocator to prove nothing is left behind, a counting waker
 * for polling by hand, and thread start/join that fail the test loudly.
 */
#ifndef RILL_CHAN_TEST_H
#define RILL_CHAN_TEST_H

#include "test_util.h"
#include <pthread.h>
#include <rill.h>
#include <stdatomic.h>
#include <stdlib.h>

/* ---- counting allocator ---- */
static atomic_long ct_live_allocs;

static void *ct_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (n == 0) {
        if (p)
            atomic_fetch_sub(&ct_live_allocs, 1);
        free(p);
        return NULL;
    }
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&ct_live_allocs, 1);
    return q;
}

/* Group setup: count allocations; the thread's parker is made first so
 * that it does not count as a leak. */
static int ct_setup(void **state)
{
    (void)state;
    rill_set_allocator(ct_realloc, NULL);
    rill_sleep_op_t warm;
    rill_sleep_op(&warm, 0);
    if (rill_await(&warm.base) != 0)
        return -1;
    atomic_store(&ct_live_allocs, 0);
    return 0;
}

/* Per-test teardown: every allocation of the test was freed. */
static int ct_check_leaks(void **state)
{
    (void)state;
    assert_int_equal(atomic_load(&ct_live_allocs), 0);
    return 0;
}

/* ---- counting waker ---- */
typedef struct {
    atomic_int refs, wakes;
} ct_waker_t;
static rill_waker_t ctw_clone(const void *d);
static void ctw_wake(const void *d)
{
    ct_waker_t *c = (ct_waker_t *)d;
    atomic_fetch_add(&c->wakes, 1);
    atomic_fetch_sub(&c->refs, 1);
}
static void ctw_wake_by_ref(const void *d)
{
    atomic_fetch_add(&((ct_waker_t *)d)->wakes, 1);
}
static void ctw_release(const void *d)
{
    atomic_fetch_sub(&((ct_waker_t *)d)->refs, 1);
}
static const rill_waker_vtable_t ctw_vt = {ctw_clone, ctw_wake, ctw_wake_by_ref,
                                           ctw_release};
static rill_waker_t ctw_clone(const void *d)
{
    atomic_fetch_add(&((ct_waker_t *)d)->refs, 1);
    return (rill_waker_t){&ctw_vt, d};
}
/* A waker on c (borrowed: holds no reference of its own). */
static inline rill_waker_t ct_waker(ct_waker_t *c)
{
    return (rill_waker_t){&ctw_vt, c};
}

/* An item destructor that must never be called. */
static inline void ct_dtor(void *item, void *ud)
{
    (void)item;
    (void)ud;
    abort();
}

/* ---- threads ---- */
static inline pthread_t ct_start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
    return t;
}
static inline void *ct_join(pthread_t t)
{
    void *r;
    assert_int_equal(pthread_join(t, &r), 0);
    return r;
}

/* ---- runtimes ---- */

/* Run fn(arg) as a task on a fresh runtime; its result must be NULL (a
 * task reports a failure as a non-NULL static string). */
static inline void ct_run(unsigned workers, bool virtual_clock,
                          void *(*fn)(void *), void *arg)
{
    rill_runtime_t *rt = test_new_rt(workers, virtual_clock);
    void *res = (void *)"not run";
    assert_int_equal(rill_block_on(rt, fn, arg, &res), 0);
    rill_runtime_free(rt);
    if (res)
        fail_msg("task failed: %s", (const char *)res);
}

/* In a task: return a message instead of asserting (cmocka's longjmp must
 * not cross a task's stack). */
#define CT_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond))                                                           \
            return (void *)("line " CT_STR(__LINE__) ": " #cond);              \
    } while (0)
#define CT_STR(x) CT_STR2(x)
#define CT_STR2(x) #x

#define CT_TEST(fn) cmocka_unit_test_teardown(fn, ct_check_leaks)

#endif
