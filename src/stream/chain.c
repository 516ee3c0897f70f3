/* SPDX-License-Identifier: MIT */
/*
 * chain.c - rill_stream_chain: the items of one stream, then another's.
 * The first is dropped as soon as it ends; batches are forwarded.
 */
#include "stream_int.h"

typedef struct chain {
    rill_stream_t base;
    rill_stream_t *first;  /* NULL once ended */
    rill_stream_t *second; /* NULL once ended */
} chain_t;

static int chain_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                                size_t max, size_t *n)
{
    chain_t *c = (chain_t *)s;
    int r;
    if (c->first) {
        r = rill_stream_poll_next_many(c->first, cx, out, max, n);
        if (r != RILL_DONE)
            return r;
        rill__stream_release(&c->first);
    }
    if (!c->second)
        return RILL_DONE;
    r = rill_stream_poll_next_many(c->second, cx, out, max, n);
    if (r == RILL_DONE)
        rill__stream_release(&c->second);
    return r;
}

static void chain_drop(rill_stream_t *s)
{
    chain_t *c = (chain_t *)s;
    rill_stream_free(c->first);
    rill_stream_free(c->second);
    rill__free(c);
}

/* "chain <- first" while the first runs, then "chain <- second". */
static int chain_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const chain_t *c = (const chain_t *)s;
    return rill__describe_over(buf, len, c->first ? c->first : c->second,
                               "chain%s", c->first ? "" : " (second)");
}

static const rill_stream_vtable_t chain_vtable = {
    rill__poll_next_by_many, chain_poll_next_many, chain_drop, chain_describe};

int rill_stream_chain(rill_stream_t **s, rill_stream_t *next)
{
    RILL__CHECK_STREAM("rill_stream_chain", s);
    if (!next || next == *s) /* itself: it would be dropped twice */
        return RILL_MISUSE("rill_stream_chain", "%s",
                           next ? "chained to itself" : "NULL next stream");
    if (next->item_size != (*s)->item_size)
        return RILL_MISUSE("rill_stream_chain",
                           "item sizes differ: %zu then %zu bytes",
                           (*s)->item_size, next->item_size);
    chain_t *c = rill__stream_new(sizeof *c, &chain_vtable, (*s)->item_size);
    if (!c)
        return RILL_ENOMEM;
    rill__stream_inherit_drop(&c->base, *s);
    c->first = *s;
    c->second = next;
    *s = &c->base;
    return 0;
}
