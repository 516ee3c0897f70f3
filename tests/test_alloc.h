/* SPDX-License-Identifier: MIT */
/*
 * test_alloc.h - the one allocator of the tests: every test binary, fuzz
 * harness and the soak run install it with rill_set_allocator, so each
 * can prove that it left no rill allocation behind (test_util.h's
 * test_run checks after every cmocka test). It can also refuse
 * allocations on request, for the allocation-failure sweeps
 * (alloc_fail.h) and the tests of RILL_ENOMEM:
 *   test_alloc_refuse(n, false)  refuse the n-th allocation from now
 *                                (n = 0: the next one), then allow again;
 *   test_alloc_refuse(n, true)   refuse the n-th and every later one,
 *                                until test_alloc_disarm();
 *   test_alloc_max               refuse any single request above it
 *                                (test_bad_input: 1 GiB, so huge but valid
 *                                sizes meet RILL_ENOMEM here rather than
 *                                the sanitizers' limits).
 * Header-only and cmocka-free (the fuzz harnesses and the soak run have
 * no cmocka): each program gets its own counters. Thread-safe: the
 * runtime allocates on its worker threads; every access is seq_cst, as
 * these counters are read from other threads only after a join or a
 * wait that orders them anyway, and speed does not matter here.
 */
#ifndef RILL_TEST_ALLOC_H
#define RILL_TEST_ALLOC_H

#include <rill/core.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static atomic_long test_alloc_live;           /* blocks allocated, not freed */
static atomic_long test_alloc_countdown = -1; /* >= 0: allowed, then refuse */
static atomic_bool test_alloc_persistent;     /* after a refusal, refuse all */
static atomic_long test_alloc_refused;        /* refusals since arming */
static atomic_size_t test_alloc_max = SIZE_MAX; /* larger ones are refused */

static inline void *test_alloc_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (n == 0) {
        if (p)
            atomic_fetch_sub(&test_alloc_live, 1);
        free(p);
        return NULL;
    }
    long c = atomic_load(&test_alloc_countdown);
    while (c >= 0 &&
           !atomic_compare_exchange_weak(&test_alloc_countdown, &c, c - 1))
        ;
    if (c == 0 || n > atomic_load(&test_alloc_max) ||
        (c < 0 && atomic_load(&test_alloc_persistent) &&
         atomic_load(&test_alloc_refused) > 0)) {
        atomic_fetch_add(&test_alloc_refused, 1);
        return NULL;
    }
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&test_alloc_live, 1);
    return q;
}

/* Make every rill allocation go through test_alloc_realloc; before any other
 * rill call of the program. */
static inline void test_alloc_install(void)
{
    rill_set_allocator(test_alloc_realloc, NULL);
}

/* rill's blocks alive now. */
static inline long test_alloc_count(void)
{
    return atomic_load(&test_alloc_live);
}

/* Refuse the n-th allocation from now (0: the next); persistent: and
 * every one after it. Counts refusals from zero. */
static inline void test_alloc_refuse(long n, bool persistent)
{
    atomic_store(&test_alloc_refused, 0);
    atomic_store(&test_alloc_persistent, persistent);
    atomic_store(&test_alloc_countdown, n);
}

/* Stop refusing (test_alloc_refused keeps its count). */
static inline void test_alloc_disarm(void)
{
    atomic_store(&test_alloc_countdown, -1);
    atomic_store(&test_alloc_persistent, false);
}

/* True once an allocation was refused since test_alloc_refuse. */
static inline bool test_alloc_hit(void)
{
    return atomic_load(&test_alloc_refused) > 0;
}

#endif
