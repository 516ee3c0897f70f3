/* SPDX-License-Identifier: MIT */
/*
 * must.h - a status a benchmark cannot go on without: MUST(call) aborts
 * with the call and the status's name unless it returned 0, so a failed
 * setup never shows up as a fast (or slow) number. Also the clock and the
 * sort order for a median that micro-benchmarks share.
 */
#ifndef RILL_BENCH_MUST_H
#define RILL_BENCH_MUST_H

#include <rill.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MUST(call)                                                             \
    do {                                                                       \
        int must_rc_ = (call);                                                 \
        if (must_rc_ != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,      \
                    rill_err_name(must_rc_));                                  \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Seconds on the monotonic clock. */
static inline double micro_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* qsort order of doubles (for a median of runs). */
static inline int micro_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif /* RILL_BENCH_MUST_H */
