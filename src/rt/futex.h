/* SPDX-License-Identifier: MIT */
/*
 * futex.h - the two futex calls rill parks and wakes with (Linux).
 * Private to src/rt.
 */
#ifndef RILL_RT_FUTEX_H
#define RILL_RT_FUTEX_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * Sleep while *word == expected, at most until the absolute
 * CLOCK_MONOTONIC time `deadline_ns` (RILL_FOREVER: no limit). Returns on
 * a wake, a timeout, a signal or a spurious wakeup: callers re-check.
 */
void rill__futex_wait(_Atomic uint32_t *word, uint32_t expected,
                      int64_t deadline_ns);

/* Wake up to n threads sleeping on word. */
void rill__futex_wake(_Atomic uint32_t *word, int n);

/* CLOCK_MONOTONIC in nanoseconds (vDSO, ~25 ns). */
int64_t rill__mono_now(void);

#endif
