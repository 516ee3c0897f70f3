/* SPDX-License-Identifier: MIT */
/*
 * must.h - a status a benchmark cannot go on without: MUST(call) aborts
 * with the call and the status's name unless it returned 0, so a failed
 * setup never shows up as a fast (or slow) number.
 */
#ifndef RILL_BENCH_MUST_H
#define RILL_BENCH_MUST_H

#include <rill.h>
#include <stdio.h>
#include <stdlib.h>

#define MUST(call)                                                             \
    do {                                                                       \
        int must_rc_ = (call);                                                 \
        if (must_rc_ != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,      \
                    rill_err_name(must_rc_));                                  \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif /* RILL_BENCH_MUST_H */
