/* SPDX-License-Identifier: MIT */
/*
 * count_alloc.h - an allocator for rill_set_allocator that counts the
 * blocks alive, so a test, fuzz harness or soak run can prove it left no
 * rill allocation behind. Header-only: each program gets its own counter.
 */
#ifndef RILL_TEST_COUNT_ALLOC_H
#define RILL_TEST_COUNT_ALLOC_H

#include <stdatomic.h>
#include <stdlib.h>

static atomic_long count_alloc_live; /* blocks allocated and not freed */

static inline void *count_alloc_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (n == 0) {
        if (p)
            atomic_fetch_sub(&count_alloc_live, 1);
        free(p);
        return NULL;
    }
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&count_alloc_live, 1);
    return q;
}

#endif
