/* SPDX-License-Identifier: MIT */
/*
 * take.c - rill_stream_take: the first n items. Forwards upstream's batch
 * path with the batch size capped at what is left, so it never takes an
 * item it will not give; drops upstream the moment the n-th item is out
 * (or upstream ended), and from then on answers RILL_DONE by itself.
 */
#include "stream_int.h"

typedef struct take {
    rill_stream_t base;
    rill_stream_t *up; /* NULL once finished */
    uint64_t left;     /* items still to give */
} take_t;

static int take_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                               size_t max, size_t *n)
{
    take_t *t = (take_t *)s;
    if (!t->up)
        return RILL_DONE;
    if (max > t->left)
        max = (size_t)t->left;
    int r = rill_stream_poll_next_many(t->up, cx, out, max, n);
    if (r == 0)
        t->left -= *n;
    if ((r == 0 && t->left == 0) || r == RILL_DONE)
        rill__stream_release(&t->up);
    return r;
}

static void take_drop(rill_stream_t *s)
{
    take_t *t = (take_t *)s;
    rill_stream_free(t->up);
    rill__free(t);
}

static int take_describe(const rill_stream_t *s, char *buf, size_t len)
{
    return rill__describe_over(buf, len, ((const take_t *)s)->up, "take");
}

static const rill_stream_vtable_t take_vtable = {
    rill__poll_next_by_many, take_poll_next_many, take_drop, take_describe};

int rill_stream_take(rill_stream_t **s, uint64_t n)
{
    RILL__CHECK_STREAM("rill_stream_take", s);
    take_t *t = rill__stream_new(sizeof *t, &take_vtable, (*s)->item_size);
    if (!t)
        return RILL_ENOMEM;
    rill__stream_inherit_drop(&t->base, *s);
    t->up = *s;
    t->left = n;
    if (n == 0)
        rill__stream_release(&t->up);
    *s = &t->base;
    return 0;
}
