/* SPDX-License-Identifier: MIT */
/*
 * test_util.h - helpers shared by the cmocka tests.
 *
 * RILL_TEST_SANITIZED is true under ASan/TSan, where stress tests may use
 * fewer iterations (SCALE) to keep `make test` inside its time budget.
 *
 * TEST_FILTER=glob in the environment runs only the tests whose names
 * match it ('*' any run of characters, '?' one), in every test binary:
 *   TEST_FILTER='*close*' build/release/test_chan
 */
#ifndef RILL_TEST_UTIL_H
#define RILL_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <rill/rt.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define RILL_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define RILL_TEST_SANITIZED 1
#endif
#endif
#ifndef RILL_TEST_SANITIZED
#define RILL_TEST_SANITIZED 0
#endif

/* Read before main, so that no test binary needs a line of its own. */
__attribute__((constructor)) static void test_filter_from_env(void)
{
    const char *glob = getenv("TEST_FILTER");
    if (glob && *glob)
        cmocka_set_test_filter(glob);
}

/* Iterations for stress tests: full in release, divided under sanitizers. */
#define SCALE(n, divisor) (RILL_TEST_SANITIZED ? (n) / (divisor) : (n))

/* A runtime with `workers` workers, on the virtual clock if asked. */
static inline rill_runtime_t *test_new_rt(unsigned workers, bool virtual_clock)
{
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.workers = workers;
    c.virtual_clock = virtual_clock;
    rill_runtime_t *rt = NULL;
    assert_int_equal(rill_runtime_new(&rt, &c), 0);
    return rt;
}

#endif
