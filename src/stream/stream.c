/* SPDX-License-Identifier: MIT */
/*
 * stream.c - the stream object: initialising and freeing streams, item
 * destructors, and awaiting items (rill_next: one future over poll_next,
 * awaited with rill_await, so it works in tasks and on plain threads).
 */
#include "stream_int.h"

void *rill__stream_new(size_t size, const rill_stream_vtable_t *vt,
                       size_t item_size)
{
    rill_stream_t *s = rill__calloc(1, size);
    if (s) {
        s->vtable = vt;
        s->item_size = item_size;
    }
    return s;
}

int rill_stream_init(rill_stream_t *s, const rill_stream_vtable_t *vt,
                     size_t item_size)
{
    if (!s || !vt || !vt->poll_next || !vt->drop)
        return RILL_MISUSE("rill_stream_init",
                           "NULL stream, vtable, poll_next or drop");
    if (item_size == 0)
        return RILL_MISUSE("rill_stream_init", "item_size 0");
    *s = (rill_stream_t){vt, item_size, NULL, NULL};
    return 0;
}

int rill_stream_set_item_dtor(rill_stream_t *s, rill_item_dtor_fn fn, void *ud)
{
    if (!s)
        return RILL_MISUSE("rill_stream_set_item_dtor", "NULL stream");
    s->item_dtor = fn;
    s->item_dtor_ud = ud;
    return 0;
}

void rill_stream_discard_item(const rill_stream_t *s, void *item)
{
    if (s && s->item_dtor && item)
        s->item_dtor(item, s->item_dtor_ud);
}

void rill_stream_free(rill_stream_t *s)
{
    if (s)
        s->vtable->drop(s);
}

int rill_stream_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                               size_t max, size_t *n)
{
    if (RILL_UNLIKELY(!s || !cx || !out || !n || max == 0))
        return RILL_MISUSE("rill_stream_poll_next_many",
                           "NULL stream, cx, out or n, or max 0");
    if (s->vtable->poll_next_many)
        return s->vtable->poll_next_many(s, cx, out, max, n);
    /* No batch path: one item. Looping here would be wrong: an error item
     * after the first item would have nowhere to go. */
    int r = s->vtable->poll_next(s, cx, out);
    *n = r == 0 ? 1 : 0;
    return r;
}

int rill__poll_next_by_many(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    size_t n;
    return s->vtable->poll_next_many(s, cx, out, 1, &n);
}

/* ---- rill_next ---- */

/* What the opaque rill_next_op_t holds. */
typedef struct next_impl {
    rill_future_t base;
    rill_stream_t *stream;
    void *out;
    size_t max; /* 0: one item (poll_next); else the batch form */
    size_t *n;
} next_impl_t;

_Static_assert(sizeof(next_impl_t) <= sizeof(rill_next_op_t) &&
                   _Alignof(next_impl_t) <= _Alignof(rill_next_op_t),
               "rill_next_op_t too small");

static int next_poll(rill_future_t *f, rill_cx_t *cx)
{
    next_impl_t *op = (next_impl_t *)f;
    if (op->max == 0)
        return rill_stream_poll_next(op->stream, cx, op->out);
    return rill_stream_poll_next_many(op->stream, cx, op->out, op->max, op->n);
}

/* Polling a stream leaves nothing to withdraw: a waker left registered
 * upstream only makes one spurious wakeup. */

static int next_describe(const rill_future_t *f, rill_instant_t now, char *buf,
                         size_t len)
{
    const next_impl_t *op = (const next_impl_t *)f;
    rill__buf_t b;
    (void)now;
    rill__buf_init(&b, buf, len);
    rill__buf_printf(&b, "next%s on ", op->max ? "_many" : "");
    rill__buf_stream(&b, op->stream);
    return rill__buf_result(&b);
}

static const rill_future_vtable_t next_vtable = {next_poll, NULL, NULL,
                                                 next_describe};

/* An op made with bad arguments (reported when it was made): its first
 * poll completes with RILL_EINVAL. */
static int bad_next_poll(rill_future_t *f, rill_cx_t *cx)
{
    RILL_UNUSED(f);
    RILL_UNUSED(cx);
    return RILL_EINVAL;
}

static const rill_future_vtable_t bad_next_vtable = {bad_next_poll, NULL, NULL,
                                                     NULL};

void rill_next_op(rill_next_op_t *pub, rill_stream_t *s, void *out)
{
    next_impl_t *op = (next_impl_t *)(void *)pub;
    if (!op) {
        (void)RILL_MISUSE("rill_next_op", "NULL op");
        return;
    }
    *op = (next_impl_t){{&next_vtable}, s, out, 0, NULL};
    if (!s || !out) {
        (void)RILL_MISUSE("rill_next_op", "NULL stream or out");
        op->base.vtable = &bad_next_vtable;
    }
}

void rill_next_many_op(rill_next_op_t *pub, rill_stream_t *s, void *out,
                       size_t max, size_t *n)
{
    next_impl_t *op = (next_impl_t *)(void *)pub;
    if (!op) {
        (void)RILL_MISUSE("rill_next_many_op", "NULL op");
        return;
    }
    *op = (next_impl_t){{&next_vtable}, s, out, max, n};
    if (!s || !out || !n || max == 0) {
        (void)RILL_MISUSE("rill_next_many_op",
                          "NULL stream, out or n, or max 0");
        op->base.vtable = &bad_next_vtable;
    }
}

static int check_next(const char *api, rill_stream_t *s, void *out,
                      size_t item_size)
{
    if (!s || !out)
        return RILL_MISUSE(api, "NULL stream or out");
    if (item_size != s->item_size)
        return RILL_MISUSE(api,
                           "item size %zu, but the stream's items are %zu "
                           "bytes",
                           item_size, s->item_size);
    return 0;
}

int rill_next_sized(rill_stream_t *s, void *out, size_t out_size)
{
    int r = check_next("rill_next", s, out, out_size);
    if (r)
        return r;
    /* A read-ahead item is given without building and awaiting a future:
     * this is what makes a channel stream cost about what a bare receive
     * costs (see ahead.c). */
    if (rill__ahead_take(s, out))
        return 0;
    rill_next_op_t op;
    rill_next_op(&op, s, out);
    return rill_await(&op.base);
}

int rill_next_many_sized(rill_stream_t *s, void *out, size_t item_size,
                         size_t max, size_t *n)
{
    int r = check_next("rill_next_many", s, out, item_size);
    if (r)
        return r;
    if (!n || max == 0)
        return RILL_MISUSE("rill_next_many", "NULL n or max 0");
    *n = 0;
    rill_next_op_t op;
    rill_next_many_op(&op, s, out, max, n);
    return rill_await(&op.base);
}
