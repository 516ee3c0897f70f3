/* SPDX-License-Identifier: MIT */
/*
 * test_util.h - what every cmocka test binary shares.
 *
 * test_run(tests, group_setup, group_teardown) is each binary's main: it
 * installs the one test allocator (test_alloc.h) before anything of
 * rill runs, and after every test (after its own teardown) fails the
 * test if a rill allocation made since its setup is still alive; after
 * the group, the same for the whole binary. TEST_FILTER=glob in the
 * environment runs only the tests whose names match it ('*' any run of
 * characters, '?' one):
 *   TEST_FILTER='*close*' build/release/test_chan
 *
 * assert_status(call, RILL_ECLOSED) checks a status and, when it differs,
 * says so by name: "rill_recv(rx, &v): expected RILL_ECLOSED, got
 * RILL_ETIMEDOUT" rather than "0xfffffffffffffffb != 0xfffffffffffffffa".
 *
 * RILL_TEST_SANITIZED is true under ASan/TSan, where stress tests may use
 * fewer iterations (SCALE) to keep `make test` inside its time budget.
 */
#ifndef RILL_TEST_UTIL_H
#define RILL_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <rill/rt.h>

#include "test_alloc.h"

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

/* Iterations for stress tests: full in release, divided under sanitizers. */
#define SCALE(n, divisor) (RILL_TEST_SANITIZED ? (n) / (divisor) : (n))

/* ---- status assertions ---- */

/* A status by name ("RILL_ECLOSED"), or by number if it is none. */
static inline const char *test_status_name(intmax_t s, char *buf, size_t n)
{
    const char *name = s >= INT32_MIN && s <= INT32_MAX ? rill_err_name((int)s)
                                                        : "RILL_UNKNOWN";
    if (strcmp(name, "RILL_UNKNOWN") == 0)
        snprintf(buf, n, "%jd (not a status)", s);
    else if (s < RILL_EUSER)
        snprintf(buf, n, "RILL_EUSER - %jd", (intmax_t)RILL_EUSER - s);
    else
        return name;
    return buf;
}

static inline void test_assert_status(intmax_t got, intmax_t want,
                                      const char *call, const char *file,
                                      int line)
{
    if (got == want)
        return;
    char a[48], b[48];
    print_error("%s: expected %s, got %s\n", call,
                test_status_name(want, a, sizeof a),
                test_status_name(got, b, sizeof b));
    _fail(file, line);
}

/* call (evaluated once) returned the status `want`. */
#define assert_status(call, want)                                              \
    test_assert_status((intmax_t)(call), (intmax_t)(want), #call, __FILE__,    \
                       __LINE__)

/* A runtime with `workers` workers, on the virtual clock if asked. */
static inline rill_runtime_t *test_new_rt(unsigned workers, bool virtual_clock)
{
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.workers = workers;
    c.virtual_clock = virtual_clock;
    rill_runtime_t *rt = NULL;
    assert_status(rill_runtime_new(&rt, &c), 0);
    return rt;
}

/* ---- test_run: the main of every test binary ---- */

/* One test's own fixtures, behind the leak-checking ones test_run puts in
 * their place (reached through the test's initial state). */
typedef struct test_case {
    unsigned magic;
    CMFixtureFunction setup, teardown;
    void *initial_state;
    long allocs_before;
} test_case_t;

#define TEST_CASE_MAGIC 0x7e57ca5eu

static test_case_t *test_running; /* cmocka runs one test at a time */

static inline int test_case_setup(void **state)
{
    test_case_t *c = *state;
    if (!c || c->magic != TEST_CASE_MAGIC)
        fail_msg("test_run: a group setup set a state, which hides the "
                 "tests' own (keep what they share in statics)");
    test_running = c;
    *state = c->initial_state;
    c->allocs_before = test_alloc_count();
    return c->setup ? c->setup(state) : 0;
}

static inline int test_case_teardown(void **state)
{
    test_case_t *c = test_running;
    int rc = c->teardown ? c->teardown(state) : 0;
    test_alloc_disarm();
    long left = test_alloc_count() - c->allocs_before;
    if (left != 0)
        fail_msg("%ld rill allocation%s made by this test still alive", left,
                 left == 1 ? "" : "s");
    return rc;
}

/* The first wait of a thread makes its parker, which lives as long as the
 * thread: for the main thread, the whole run. Made before any test
 * counts, so that no test is blamed for it. */
static inline int test_warm_main_thread(void)
{
    rill_sleep_op_t warm;
    rill_sleep_op(&warm, 0);
    return rill_await(&warm.base);
}

static inline int test_run_(const char *group, const struct CMUnitTest *tests,
                            size_t n, CMFixtureFunction group_setup,
                            CMFixtureFunction group_teardown)
{
    const char *glob = getenv("TEST_FILTER");
    if (glob && *glob)
        cmocka_set_test_filter(glob);
    test_alloc_install();
    if (test_warm_main_thread() != 0) {
        fprintf(stderr, "test_run: a zero sleep failed\n");
        return 1;
    }
    long base = test_alloc_count();
    /* libc's malloc, not rill's allocator: none of this is rill's. */
    struct CMUnitTest *wrapped = calloc(n, sizeof *wrapped);
    test_case_t *cases = calloc(n, sizeof *cases);
    if (!wrapped || !cases) {
        fprintf(stderr, "test_run: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        cases[i] =
            (test_case_t){TEST_CASE_MAGIC, tests[i].setup_func,
                          tests[i].teardown_func, tests[i].initial_state, 0};
        wrapped[i] = tests[i];
        wrapped[i].setup_func = test_case_setup;
        wrapped[i].teardown_func = test_case_teardown;
        wrapped[i].initial_state = &cases[i];
    }
    int failed =
        _cmocka_run_group_tests(group, wrapped, n, group_setup, group_teardown);
    long left = test_alloc_count() - base;
    if (left != 0) {
        print_error("[  FAILED  ] %s: %ld rill allocation%s alive after the "
                    "group teardown\n",
                    group, left, left == 1 ? "" : "s");
        failed++;
    }
    free(cases);
    free(wrapped);
    return failed;
}

/* Run the tests of an array (with the group fixtures, which may be NULL)
 * and return main's status: 0 if all passed and nothing leaked. */
#define test_run(tests, group_setup, group_teardown)                           \
    test_run_(#tests, tests, sizeof(tests) / sizeof(tests)[0], group_setup,    \
              group_teardown)

#endif
