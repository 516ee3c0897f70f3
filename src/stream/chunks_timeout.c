/* SPDX-License-Identifier: MIT */
/*
 * chunks_timeout.c - rill_stream_chunks_timeout: a chunk when n items are
 * in, or when `period` has passed since the chunk's first item, whichever
 * comes first; never an empty chunk; the last partial chunk at the end.
 *
 * The chunk's clock starts at the poll that put its first item in (the
 * chunk filler of chunk.c moves items in through upstream's batch path);
 * the timer is armed then and cancelled when the chunk goes out.
 */
#include "stream_int.h"

typedef struct chunks_timeout {
    rill_stream_t base;
    rill__chunker_t c;
    rill_sleep_op_t timer; /* armed while the chunk holds items */
    rill_duration_t period;
    bool armed;
} chunks_timeout_t;

static void emit(chunks_timeout_t *ct, void *out)
{
    rill__chunker_emit(&ct->c, out);
    rill_sleep_op_cancel(&ct->timer);
    ct->armed = false;
}

static int chunks_timeout_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    chunks_timeout_t *ct = (chunks_timeout_t *)s;
    int r = rill__chunker_fill(&ct->c, cx);
    if (ct->c.len > 0 && !ct->armed) {
        rill_sleep_op_reset(&ct->timer, rill_deadline(ct->period));
        ct->armed = true;
    }
    if (r == 0 || (r == RILL_DONE && ct->c.len > 0)) {
        emit(ct, out);
        return 0;
    }
    if (r == RILL_PENDING && ct->armed &&
        rill_future_poll(&ct->timer.base, cx) == 0) {
        emit(ct, out);
        return 0;
    }
    return r; /* RILL_PENDING, RILL_DONE, an error item or RILL_ENOMEM */
}

static void chunks_timeout_drop(rill_stream_t *s)
{
    chunks_timeout_t *ct = (chunks_timeout_t *)s;
    rill_sleep_op_cancel(&ct->timer);
    rill__chunker_destroy(&ct->c);
    rill__free(ct);
}

static int chunks_timeout_describe(const rill_stream_t *s, char *buf,
                                   size_t len)
{
    const chunks_timeout_t *c = (const chunks_timeout_t *)s;
    return rill__describe_over(buf, len, c->c.up, "chunks_timeout of %zu",
                               c->c.cap);
}

static const rill_stream_vtable_t chunks_timeout_vtable = {
    chunks_timeout_poll_next, NULL, chunks_timeout_drop,
    chunks_timeout_describe};

int rill_stream_chunks_timeout(rill_stream_t **s, size_t n,
                               rill_duration_t period)
{
    RILL__CHECK_STREAM("rill_stream_chunks_timeout", s);
    if (n == 0 || period <= 0)
        return RILL_MISUSE("rill_stream_chunks_timeout",
                           "chunk size 0 or period <= 0");
    chunks_timeout_t *ct = rill__stream_new(sizeof *ct, &chunks_timeout_vtable,
                                            sizeof(rill_chunk_t));
    if (!ct)
        return RILL_ENOMEM;
    if (rill__chunker_init(&ct->c, &ct->base, *s, n)) {
        rill__free(ct);
        return RILL_ENOMEM;
    }
    rill_sleep_op(&ct->timer, RILL_FOREVER);
    ct->period = period;
    *s = &ct->base;
    return 0;
}
