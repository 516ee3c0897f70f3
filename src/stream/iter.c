/* SPDX-License-Identifier: MIT */
/*
 * iter.c - the array sources: rill_stream_iter (a copy of an array, then
 * the end), its special cases rill_stream_empty and rill_stream_once, and
 * rill_stream_repeat (one item forever). Always ready, so each poll spends
 * the task's cooperative budget; batches are plain memcpy.
 */
#include "stream_int.h"

#include <stddef.h>

typedef struct iter {
    rill_stream_t base;
    size_t pos, n;       /* items[pos..n) not yet given */
    bool repeat;         /* give items[0] forever */
    max_align_t items[]; /* n * item_size bytes */
} iter_t;

static int iter_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                               size_t max, size_t *n)
{
    iter_t *it = (iter_t *)s;
    size_t size = s->item_size;
    if (it->pos == it->n)
        return RILL_DONE;
    if (!rill__cx_ready(cx))
        return RILL_PENDING;
    if (it->repeat) {
        for (size_t i = 0; i < max; i++)
            memcpy((char *)out + i * size, it->items, size);
        *n = max;
        return 0;
    }
    size_t k = it->n - it->pos < max ? it->n - it->pos : max;
    memcpy(out, (char *)it->items + it->pos * size, k * size);
    it->pos += k;
    *n = k;
    return 0;
}

static void iter_drop(rill_stream_t *s)
{
    iter_t *it = (iter_t *)s;
    if (!it->repeat) {
        rill__item_drop_t d = rill__item_drop_of(s);
        rill__items_drop(&d, (char *)it->items + it->pos * s->item_size,
                         it->n - it->pos, s->item_size);
    }
    rill__free(it);
}

/* From the fields set at construction (pos moves under polls). */
static int iter_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const iter_t *it = (const iter_t *)s;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    if (it->repeat)
        rill__buf_printf(&b, "repeat (always ready)");
    else
        rill__buf_printf(&b, "iter of %zu items (always ready)", it->n);
    return rill__buf_result(&b);
}

static const rill_stream_vtable_t iter_vtable = {
    rill__poll_next_by_many, iter_poll_next_many, iter_drop, iter_describe};

static int iter_new(const char *api, rill_stream_t **out, const void *items,
                    size_t n, size_t item_size, bool repeat)
{
    size_t bytes;
    if (!out || item_size == 0 || (!items && n > 0))
        return RILL_MISUSE(api, "NULL out or items, or item_size 0");
    /* A size no array can have is a wrong argument, not a lack of memory. */
    if (!rill__mul_ok(n, item_size, &bytes) ||
        bytes > SIZE_MAX - sizeof(iter_t))
        return RILL_MISUSE(api, "%zu items of %zu bytes overflow", n,
                           item_size);
    iter_t *it = rill__stream_new(sizeof *it + bytes, &iter_vtable, item_size);
    if (!it)
        return RILL_ENOMEM;
    if (bytes)
        memcpy(it->items, items, bytes);
    it->n = n;
    it->repeat = repeat;
    *out = &it->base;
    return 0;
}

int rill_stream_iter(rill_stream_t **out, const void *items, size_t n,
                     size_t item_size)
{
    return iter_new("rill_stream_iter", out, items, n, item_size, false);
}

int rill_stream_empty(rill_stream_t **out, size_t item_size)
{
    return iter_new("rill_stream_empty", out, NULL, 0, item_size, false);
}

int rill_stream_once(rill_stream_t **out, const void *item, size_t item_size)
{
    return iter_new("rill_stream_once", out, item, 1, item_size, false);
}

int rill_stream_repeat(rill_stream_t **out, const void *item, size_t item_size)
{
    return iter_new("rill_stream_repeat", out, item, 1, item_size, true);
}
