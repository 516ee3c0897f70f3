/* SPDX-License-Identifier: MIT */
/*
 * chan_test.h - helpers for the channel tests (oneshot, watch, broadcast):
 * a counting waker for polling by hand, thread start/join that fail the
 * test loudly, and tasks that report failures as strings. (test_run in
 * test_util.h checks that each test leaves no allocation behind.)
 */
#ifndef RILL_CHAN_TEST_H
#define RILL_CHAN_TEST_H

#include "test_util.h"
#include <pthread.h>
#include <rill.h>
#include <stdatomic.h>
#include <stdlib.h>

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
    assert_status(rill_block_on(rt, fn, arg, &res), 0);
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

#endif
