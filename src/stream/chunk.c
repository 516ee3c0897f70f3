/* SPDX-License-Identifier: MIT */
/*
 * chunk.c - chunk buffers: rill_chunk_t, the buffer pool behind chunk
 * streams, and the chunk filler shared by chunks, ready_chunks and
 * chunks_timeout.
 *
 * The pool. A chunk stream hands its buffers out inside chunks; the
 * consumer frees them on any thread, maybe after the stream is gone. So
 * the pool is reference counted (the stream holds one reference, each
 * chunk out holds one) and a freed buffer is pushed onto `returned`, a
 * lock-free stack. Only the stream takes buffers back, and it takes the
 * whole stack at once (exchange with NULL) into its private `local` list:
 * with a single taker that never pops single nodes, the stack has no ABA
 * problem. Buffers cached never exceed the most chunks the consumer held
 * at once, so the pool needs no cap.
 */
#include "stream_int.h"
#include "core/atomic.h"

#include <stddef.h>

typedef struct chunk_buf {
    struct chunk_buf *next;
    max_align_t data[]; /* cap * item_size bytes */
} chunk_buf_t;

struct rill__chunk_pool {
    _Atomic uint32_t refs;
    _Atomic(chunk_buf_t *) returned; /* pushed by rill_chunk_destroy (any
                                        thread), taken by pool_get */
    chunk_buf_t *local;              /* owner stream only */
    size_t bytes;                    /* per buffer */
    size_t item_size;
    rill__item_drop_t drop; /* the items' destructor */
};

static chunk_buf_t *buf_of(void *data)
{
    return RILL_CONTAINER_OF(data, chunk_buf_t, data);
}

static void free_list(chunk_buf_t *b)
{
    while (b) {
        chunk_buf_t *next = b->next;
        rill__free(b);
        b = next;
    }
}

static void pool_unref(rill__chunk_pool_t *p)
{
    /* acq_rel: the last holder must see every push of the others before
     * it frees the lists (pairs with their release decrements). */
    if (rill__fetch_sub(&p->refs, 1, RILL_ACQ_REL) != 1)
        return;
    free_list(p->local);
    free_list(rill__load(&p->returned, RILL_RELAXED));
    rill__free(p);
}

static void *pool_get(rill__chunk_pool_t *p)
{
    if (!p->local)
        /* acquire: pairs with the release CAS in rill_chunk_destroy, so the
         * buffers' links are visible. */
        p->local = rill__xchg(&p->returned, NULL, RILL_ACQUIRE);
    chunk_buf_t *b = p->local;
    if (b)
        p->local = b->next;
    else if (!(b = rill__malloc(sizeof *b + p->bytes)))
        return NULL;
    return b->data;
}

void rill_chunk_destroy(rill_chunk_t *c)
{
    if (!c || !c->items)
        return;
    rill__chunk_pool_t *p = c->pool_;
    if (!p) {
        rill__free(c->items); /* a collect result: a plain array */
    } else {
        chunk_buf_t *b = buf_of(c->items);
        b->next = rill__load(&p->returned, RILL_RELAXED);
        /* release: publishes b->next to the taker (acquire in pool_get). */
        while (!rill__cas_weak(&p->returned, &b->next, b, RILL_RELEASE,
                               RILL_RELAXED))
            ;
        pool_unref(p);
    }
    *c = (rill_chunk_t){NULL, 0, c->item_size, NULL};
}

void rill_chunk_discard(rill_chunk_t *c)
{
    if (!c || !c->items)
        return;
    rill__chunk_pool_t *p = c->pool_;
    if (p)
        rill__items_drop(&p->drop, c->items, c->len, c->item_size);
    rill_chunk_destroy(c);
}

static void chunk_item_drop(void *item, void *ud)
{
    RILL_UNUSED(ud);
    rill_chunk_discard(item);
}

/* ---- the chunk filler ---- */

int rill__chunker_init(rill__chunker_t *c, rill_stream_t *s, rill_stream_t *up,
                       size_t cap)
{
    rill__chunk_pool_t *p = rill__calloc(1, sizeof *p);
    if (!p || !rill__mul_ok(cap, up->item_size, &p->bytes) ||
        p->bytes > SIZE_MAX - sizeof(chunk_buf_t)) {
        rill__free(p);
        return RILL_ENOMEM;
    }
    rill__store(&p->refs, 1, RILL_RELAXED); /* not shared yet */
    p->item_size = up->item_size;
    p->drop = rill__item_drop_of(up);
    *c = (rill__chunker_t){up, p, NULL, 0, cap, up->item_size};
    s->item_dtor = chunk_item_drop;
    s->item_dtor_ud = NULL;
    return 0;
}

int rill__chunker_fill(rill__chunker_t *c, rill_cx_t *cx)
{
    if (!c->buf && c->up && !(c->buf = pool_get(c->pool)))
        return RILL_ENOMEM;
    while (c->len < c->cap) {
        if (!c->up)
            return RILL_DONE;
        size_t k = 0;
        int r = rill_stream_poll_next_many(
            c->up, cx, c->buf + c->len * c->in_size, c->cap - c->len, &k);
        if (r != 0) {
            if (r == RILL_DONE)
                rill__stream_release(&c->up);
            return r;
        }
        c->len += k;
    }
    return 0;
}

void rill__chunker_emit(rill__chunker_t *c, rill_chunk_t *out)
{
    RILL_ASSERT(c->len > 0);
    /* relaxed: a new reference made from the stream's own, which keeps
     * the pool alive meanwhile. */
    rill__fetch_add(&c->pool->refs, 1, RILL_RELAXED);
    *out = (rill_chunk_t){c->buf, c->len, c->in_size, c->pool};
    c->buf = NULL;
    c->len = 0;
}

void rill__chunker_destroy(rill__chunker_t *c)
{
    if (c->buf) {
        rill__items_drop(&c->pool->drop, c->buf, c->len, c->in_size);
        chunk_buf_t *b = buf_of(c->buf);
        b->next = c->pool->local;
        c->pool->local = b;
    }
    pool_unref(c->pool);
    rill__stream_release(&c->up);
}
