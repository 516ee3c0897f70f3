/* SPDX-License-Identifier: MIT */
/*
 * core.h - what every layer of rill may call from the core layer
 * (rill__ names; not installed).
 *
 * - Allocation through the user's allocator (rill__malloc & co), and
 *   the item copy every layer uses (rill__item_copy).
 * - Misuse reporting: RILL_MISUSE returns RILL_EINVAL and reports the API
 *   call (stderr in debug builds, or the user's hook) (SQLite's
 *   MISUSE_BKPT).
 * - Assertions: RILL_ASSERT (debug only, internal invariants),
 *   RILL_ALWAYS / RILL_NEVER (defensive checks kept in release).
 * - Intrusive doubly linked lists.
 */
#ifndef RILL_CORE_INT_H
#define RILL_CORE_INT_H

#include "rill/core.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allocation ---- */
void *rill__malloc(size_t n);
void *rill__calloc(size_t count, size_t n);
void *rill__realloc(void *p, size_t n);
void rill__free(void *p);
/* A copy of the string `s` through rill__malloc; NULL when out of memory. */
char *rill__strdup(const char *s);
/* The array p (*cap elements of `size` bytes) moved to a capacity of at
 * least `need` (> *cap): doubling from *cap, or from `min` when *cap is 0.
 * Returns the new array and sets *cap; NULL when the size overflows or
 * memory runs out (p and *cap untouched, p still owned by the caller). */
void *rill__grow(void *p, size_t *cap, size_t need, size_t size, size_t min);
/* Give memory freed so far back to the system where the allocator keeps
 * it (after a burst has drained). Costs a walk over the allocator's free
 * lists: call it rarely. */
void rill__alloc_trim(void);

/* How many decimal digits v has (1 for 0). */
static inline size_t rill__dec_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Overflow-checked a * b; returns false on overflow. */
static inline bool rill__mul_ok(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/*
 * Copy one item. The common small sizes get a copy of constant size, which
 * the compiler turns into a move or two instead of a call to memcpy (a
 * measurable part of the hot path for 8-byte items).
 */
static inline void rill__item_copy(void *dst, const void *src, size_t n)
{
    switch (n) {
    case 4:
        memcpy(dst, src, 4);
        break;
    case 8:
        memcpy(dst, src, 8);
        break;
    case 16:
        memcpy(dst, src, 16);
        break;
    default:
        memcpy(dst, src, n);
        break;
    }
}

/* ---- misuse and assertions ---- */
int rill__misuse(int status, const char *api, const char *file, int line,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Report misuse of a public call and evaluate to RILL_EINVAL. The one way
 * argument checks reject a call: api names the public function, the rest
 * is a printf message saying what was wrong ("NULL item pointer"). See
 * rill_set_misuse_hook in rill/core.h for where the report goes.
 */
#define RILL_MISUSE(api, ...)                                                  \
    rill__misuse(RILL_EINVAL, (api), __FILE__, __LINE__, __VA_ARGS__)
/* As RILL_MISUSE, evaluating to `status` (RILL_EALREADY for a handle
 * released twice). */
#define RILL_MISUSE_AS(status, api, ...)                                       \
    rill__misuse((status), (api), __FILE__, __LINE__, __VA_ARGS__)

void rill__panic(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define RILL_PANIC(...) rill__panic(__FILE__, __LINE__, __VA_ARGS__)

#ifndef NDEBUG
#define RILL_ASSERT(cond)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            rill__panic(__FILE__, __LINE__, "assertion failed: %s", #cond);    \
    } while (0)
#define RILL_ALWAYS(cond)                                                      \
    ((cond) ? 1 : (rill__panic(__FILE__, __LINE__, "expected: %s", #cond), 0))
#define RILL_NEVER(cond)                                                       \
    ((cond) ? (rill__panic(__FILE__, __LINE__, "unexpected: %s", #cond), 1) : 0)
#else
#define RILL_ASSERT(cond) ((void)0)
#define RILL_ALWAYS(cond) (!!(cond))
#define RILL_NEVER(cond) (!!(cond))
#endif

#define RILL_UNUSED(x) ((void)(x))
/* Drop a status on purpose (say why at the call). A (void) cast does not
 * silence GCC's warn_unused_result (RILL_NODISCARD); this does. */
#define RILL__DISCARD(status) ((void)!(status))
#define RILL_LIKELY(x) __builtin_expect(!!(x), 1)
#define RILL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RILL_CONTAINER_OF(ptr, type, member)                                   \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ---- intrusive doubly linked list (circular, with a sentinel head) ---- */
typedef struct rill__list {
    struct rill__list *prev, *next;
} rill__list_t;

static inline void rill__list_init(rill__list_t *h)
{
    h->prev = h->next = h;
}
static inline bool rill__list_empty(const rill__list_t *h)
{
    return h->next == h;
}
/* A node that is on no list has prev == next == NULL. */
static inline bool rill__list_linked(const rill__list_t *n)
{
    return n->next != NULL;
}
static inline void rill__list_push_back(rill__list_t *h, rill__list_t *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}
static inline void rill__list_push_front(rill__list_t *h, rill__list_t *n)
{
    n->next = h->next;
    n->prev = h;
    h->next->prev = n;
    h->next = n;
}
static inline void rill__list_remove(rill__list_t *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}
static inline rill__list_t *rill__list_pop_front(rill__list_t *h)
{
    rill__list_t *n = h->next;
    if (n == h)
        return NULL;
    rill__list_remove(n);
    return n;
}

#endif /* RILL_CORE_INT_H */
