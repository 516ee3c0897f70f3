/* SPDX-License-Identifier: MIT */
/*
 * sanitize.h - which sanitizer this translation unit is built with.
 *
 * RILL__ASAN and RILL__TSAN are 1 or 0. gcc says so with
 * __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__, clang only through
 * __has_feature; code that must tell a sanitizer about stack switches or
 * reused stack memory tests these two names instead of both spellings.
 */
#ifndef RILL_RT_SANITIZE_H
#define RILL_RT_SANITIZE_H

#if defined(__SANITIZE_ADDRESS__)
#define RILL__ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define RILL__TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(RILL__ASAN)
#define RILL__ASAN 1
#endif
#if __has_feature(thread_sanitizer) && !defined(RILL__TSAN)
#define RILL__TSAN 1
#endif
#endif
#ifndef RILL__ASAN
#define RILL__ASAN 0
#endif
#ifndef RILL__TSAN
#define RILL__TSAN 0
#endif

#if RILL__ASAN
#include <sanitizer/asan_interface.h>
/* Clear ASan's poison from [p, p + n): memory that held the frames of a
 * fiber that never returned, or that a mapping left behind. */
#define RILL__ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RILL__ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif /* RILL_RT_SANITIZE_H */
