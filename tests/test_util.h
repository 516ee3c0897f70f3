/* SPDX-License-Identifier: MIT */
/*
 * test_util.h - helpers shared by the cmocka tests.
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
#include <cmocka.h>

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

#endif
