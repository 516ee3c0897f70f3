/* SPDX-License-Identifier: MIT */
/*
 * alloc_fail.h - the allocation-failure sweep shared by the
 * test_alloc_fail*.c tests (issue 6).
 *
 * The test allocator (test_alloc.h, which test_run installs) counts the
 * live allocations of rill and, when armed with n, refuses the n-th
 * allocation from now (n = 0: the next one). sweep() runs a scenario for
 * n = 0, 1, 2, ... until a run completes without a refusal, and after
 * each run checks that every allocation was given back (the count is at
 * its baseline; LeakSanitizer checks the same in the asan build).
 * Each sweep runs twice: once refusing only the n-th allocation (the
 * scenario may then retry and check the object is still usable), once
 * refusing the n-th and every later one (cleanup paths must need no
 * memory).
 *
 * The allocator is thread-safe (atomics): the runtime allocates on its worker
 * threads. Scenarios keep the order of allocations deterministic by
 * running on the calling thread or on a one-worker runtime, where the
 * caller waits while the worker runs; a refusal that lands on another
 * thread than the step that checks it is still handled, as the steps
 * accept RILL_ENOMEM whenever the hook refused something.
 *
 * A scenario reports a refusal with the MAY_FAIL / RETRY macros: the call
 * may return RILL_ENOMEM only if the hook did refuse an allocation.
 */
#ifndef RILL_TEST_ALLOC_FAIL_H
#define RILL_TEST_ALLOC_FAIL_H

#include "test_util.h"

#include <rill.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long af_total_runs; /* runs of all sweeps, for the log */

/* True once the allocator refused an allocation in this run. */
static inline bool af_hit(void)
{
    return test_alloc_hit();
}

/* True in the single-refusal pass (a retry may then succeed). */
static inline bool af_single(void)
{
    return !atomic_load(&test_alloc_persistent);
}

/* `call` returns 0, or RILL_ENOMEM after a refusal: then goto label. */
#define MAY_FAIL(call, label)                                                  \
    do {                                                                       \
        int r_ = (call);                                                       \
        if (r_ == RILL_ENOMEM && af_hit())                                     \
            goto label;                                                        \
        assert_status(r_, 0);                                                  \
    } while (0)

/* `call` returns 0, or RILL_ENOMEM after a refusal: then, in the
 * single-refusal pass, the same call again must succeed (the object
 * stayed usable); in the persistent pass goto label. */
#define RETRY(call, label)                                                     \
    do {                                                                       \
        int r_ = (call);                                                       \
        if (r_ == RILL_ENOMEM && af_hit()) {                                   \
            if (!af_single())                                                  \
                goto label;                                                    \
            r_ = (call);                                                       \
        }                                                                      \
        assert_status(r_, 0);                                                  \
    } while (0)

/*
 * Run scenario for every n until a run needs no refusal; check that each
 * run gives every allocation back. setup and teardown (may be NULL) run
 * around each run, unarmed: a runtime made in setup and freed in teardown
 * has joined its threads, so what they freed is counted. A first, unarmed
 * run warms the caches that live longer than a run (the thread's parker).
 */
static inline void sweep_ex(const char *name, void (*setup)(void),
                            void (*scenario)(void), void (*teardown)(void))
{
    test_alloc_disarm();
    if (setup)
        setup();
    scenario();
    if (teardown)
        teardown();
    for (int persistent = 0; persistent < 2; persistent++) {
        long base = test_alloc_count(), n;
        for (n = 0;; n++) {
            if (setup)
                setup();
            test_alloc_refuse(n, persistent != 0);
            scenario();
            bool refused = af_hit();
            test_alloc_disarm();
            if (teardown)
                teardown();
            long left = test_alloc_count() - base;
            if (left != 0)
                fail_msg("%s: run n=%ld (%s) left %ld allocations", name, n,
                         persistent ? "persistent" : "single", left);
            if (!refused)
                break;
            assert_true(n < 100000);
        }
        af_total_runs += n + 1;
        print_message("sweep %-28s %-10s %4ld runs\n", name,
                      persistent ? "persistent" : "single", n + 1);
    }
}

static inline void sweep(const char *name, void (*scenario)(void))
{
    sweep_ex(name, NULL, scenario, NULL);
}

/* A one-worker runtime on the virtual clock, for the sweeps that run
 * tasks; NULL if making it was refused (RILL_ENOMEM after a refusal). */
static inline rill_runtime_t *af_new_rt(rill_runtime_t **rt)
{
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.workers = 1;
    c.virtual_clock = true;
    c.blocking_threads = 1;
    c.blocking_idle = RILL_SEC(3600); /* the pool thread outlives a run */
    c.stack_overflow_handler = false;
    *rt = NULL;
    int r = rill_runtime_new(rt, &c);
    assert_true(r == 0 || (r == RILL_ENOMEM && af_hit()));
    return *rt;
}

/* The last test of a sweep binary: how many runs it made in all. */
static inline void af_test_total(void **state)
{
    (void)state;
    print_message("%ld sweep runs in all\n", af_total_runs);
}

#endif
