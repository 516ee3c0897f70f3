/* SPDX-License-Identifier: MIT */
/*
 * xform.c - the engine behind every combinator that turns one input item
 * into at most one output item (map, filter, filter_map, scan, inspect,
 * skip, skip_while, take_while, enumerate). Each of those files supplies a
 * step function; the polling, batching, error passing, early release of
 * upstream and cleanup live here once.
 *
 * Batch path: inputs are fetched with upstream's poll_next_many into a
 * scratch array allocated with the stream (so no allocation per item) and
 * stepped into the caller's output array. A poll for one item fetches one
 * item, so a combinator never takes more out of a channel than its
 * consumer asked for (backpressure stays exact).
 *
 * State: scratch[pos..len) holds fetched inputs not yet stepped (left
 * over when the caller's max was reached, or after a step gave an error
 * item). `pending` holds an error item made by a step after some outputs
 * were already written: it is given alone by the next poll, so error
 * items keep their place in the order. `done` is sticky.
 */
#include "stream_int.h"

/* At most this many inputs per batch, and at most this many bytes. */
enum { XFORM_BATCH = 64, XFORM_BATCH_BYTES = 16384 };

static void xform_end(rill__xform_t *x)
{
    size_t left = x->len - x->pos;
    rill__items_drop(&x->in_drop, x->scratch + x->pos * x->in_size, left,
                     x->in_size);
    x->pos = x->len = 0;
    x->done = true;
    rill__stream_release(&x->up);
}

static int xform_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                                size_t max, size_t *n)
{
    rill__xform_t *x = (rill__xform_t *)s;
    size_t size = s->item_size, got = 0;
    if (x->pending) {
        int e = x->pending;
        x->pending = 0;
        return e;
    }
    for (;;) {
        while (x->pos < x->len && got < max) {
            void *in = x->scratch + x->pos++ * x->in_size;
            int r = x->step(x, in, (char *)out + got * size);
            if (r == RILL__XF_OUT) {
                got++;
            } else if (r == RILL__XF_END) {
                xform_end(x);
            } else if (r < 0) {
                if (got == 0)
                    return r;
                x->pending = r;
                break;
            }
        }
        /* Once something is written, return it rather than poll upstream
         * again: a second poll could register a waker for nothing. */
        if (got > 0 || x->done || x->pending)
            break;
        size_t k = 0;
        int r = rill_stream_poll_next_many(x->up, cx, x->scratch,
                                           max < x->cap ? max : x->cap, &k);
        if (r == RILL_DONE) {
            xform_end(x);
            break;
        }
        if (r != 0)
            return r; /* RILL_PENDING, or an upstream error item */
        x->pos = 0;
        x->len = k;
    }
    *n = got;
    return got > 0 ? 0 : RILL_DONE;
}

static void xform_drop(rill_stream_t *s)
{
    rill__xform_t *x = (rill__xform_t *)s;
    xform_end(x);
    rill__free(x->scratch);
    rill__free(x);
}

/* "map <- upstream": the combinator's name from its rill_stream_ call. */
static int xform_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const rill__xform_t *x = (const rill__xform_t *)s;
    return rill__describe_over(buf, len, x->up, "%s",
                               rill__stream_api_name(x->api));
}

static const rill_stream_vtable_t xform_vtable = {
    rill__poll_next_by_many, xform_poll_next_many, xform_drop, xform_describe};

int rill__xform_wrap(const rill__xform_kind_t *k, rill_stream_t **s,
                     size_t out_size, rill__fn_t fn, void *ud, uint64_t count)
{
    RILL__CHECK_STREAM(k->api, s);
    if (k->needs_fn && !fn)
        return RILL_MISUSE(k->api, "NULL function");
    rill_stream_t *up = *s;
    if (k->same_type)
        out_size = up->item_size;
    else if (out_size == 0)
        return RILL_MISUSE(k->api, "out_size 0");
    rill__xform_t *x = rill__stream_new(sizeof *x, &xform_vtable, out_size);
    if (!x)
        return RILL_ENOMEM;
    x->cap = XFORM_BATCH_BYTES / up->item_size;
    if (x->cap > XFORM_BATCH)
        x->cap = XFORM_BATCH;
    if (x->cap == 0)
        x->cap = 1;
    x->scratch = rill__malloc(x->cap * up->item_size);
    if (!x->scratch) {
        rill__free(x);
        return RILL_ENOMEM;
    }
    x->up = up;
    x->api = k->api;
    x->step = k->step;
    x->fn = fn;
    x->ud = ud;
    x->count = count;
    x->in_drop = rill__item_drop_of(up);
    x->in_size = up->item_size;
    if (k->same_type)
        rill__stream_inherit_drop(&x->base, up);
    *s = &x->base;
    return 0;
}
