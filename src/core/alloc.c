/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - every allocation of rill goes through here, so a user can plug
 * in their own allocator and tests can make the n-th allocation fail.
 *
 * The hook is read with relaxed loads: rill_set_allocator is documented as
 * "before any other rill call", so there is no concurrent writer to order
 * against.
 */
#include "core.h"
#include "atomic.h"

#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static void *default_realloc(void *p, size_t n, void *ud)
{
    RILL_UNUSED(ud);
    if (n == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, n);
}

static _Atomic(rill_realloc_fn) alloc_fn = default_realloc;
static _Atomic(void *) alloc_ud = NULL;

void rill_set_allocator(rill_realloc_fn fn, void *ud)
{
    rill__store(&alloc_ud, ud, RILL_RELAXED);
    rill__store(&alloc_fn, fn ? fn : default_realloc, RILL_RELAXED);
}

void *rill__realloc(void *p, size_t n)
{
    rill_realloc_fn fn = rill__load(&alloc_fn, RILL_RELAXED);
    return fn(p, n, rill__load(&alloc_ud, RILL_RELAXED));
}

void *rill__malloc(size_t n)
{
    return rill__realloc(NULL, n ? n : 1);
}

char *rill__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = rill__malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void *rill__grow(void *p, size_t *cap, size_t need, size_t size, size_t min)
{
    size_t n = *cap ? *cap : min, bytes;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return NULL;
        n *= 2;
    }
    if (!rill__mul_ok(n, size, &bytes))
        return NULL;
    void *q = rill__realloc(p, bytes);
    if (q)
        *cap = n;
    return q;
}

void *rill__calloc(size_t count, size_t n)
{
    size_t total;
    if (!rill__mul_ok(count, n, &total))
        return NULL;
    void *p = rill__malloc(total);
    if (p)
        memset(p, 0, total);
    return p;
}

void rill__free(void *p)
{
    if (p)
        rill__realloc(p, 0);
}

void rill__alloc_trim(void)
{
#if defined(__GLIBC__)
    /* glibc keeps freed memory below a live chunk mapped (only the top of
     * the heap shrinks by itself); malloc_trim returns the free pages in
     * the middle too. Only for the default allocator: a user's allocator
     * has its own policy. */
    if (rill__load(&alloc_fn, RILL_RELAXED) == default_realloc)
        malloc_trim(0);
#endif
}
