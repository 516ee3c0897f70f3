/* SPDX-License-Identifier: MIT */
/*
 * chunks.c - rill_stream_chunks (groups of n) and rill_stream_ready_chunks
 * (whatever is ready, at most n). The same stream in two modes: they
 * differ only in what a PENDING upstream means for a chunk that holds
 * items (wait for more, or yield it now). Filling goes through upstream's
 * batch path (chunk.c), so a chunk over a receiver is one synchronisation.
 */
#include "stream_int.h"

typedef struct chunks {
    rill_stream_t base;
    rill__chunker_t c;
    bool ready; /* ready_chunks: never wait once the chunk has an item */
} chunks_t;

static int chunks_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    chunks_t *ch = (chunks_t *)s;
    int r = rill__chunker_fill(&ch->c, cx);
    if (r == 0 || (r == RILL_DONE && ch->c.len > 0) ||
        (r == RILL_PENDING && ch->ready && ch->c.len > 0)) {
        rill__chunker_emit(&ch->c, out);
        return 0;
    }
    return r; /* RILL_PENDING, RILL_DONE, an error item or RILL_ENOMEM */
}

static void chunks_drop(rill_stream_t *s)
{
    rill__chunker_destroy(&((chunks_t *)s)->c);
    rill__free(s);
}

static int chunks_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const chunks_t *c = (const chunks_t *)s;
    return rill__describe_over(buf, len, c->c.up, "%schunks of %zu",
                               c->ready ? "ready_" : "", c->c.cap);
}

static const rill_stream_vtable_t chunks_vtable = {
    chunks_poll_next, NULL, chunks_drop, chunks_describe};

static int chunks_new(const char *api, rill_stream_t **s, size_t n, bool ready)
{
    RILL__CHECK_STREAM(api, s);
    if (n == 0)
        return RILL_MISUSE(api, "chunk size 0");
    chunks_t *ch =
        rill__stream_new(sizeof *ch, &chunks_vtable, sizeof(rill_chunk_t));
    if (!ch)
        return RILL_ENOMEM;
    if (rill__chunker_init(&ch->c, &ch->base, *s, n)) {
        rill__free(ch);
        return RILL_ENOMEM;
    }
    ch->ready = ready;
    *s = &ch->base;
    return 0;
}

int rill_stream_chunks(rill_stream_t **s, size_t n)
{
    return chunks_new("rill_stream_chunks", s, n, false);
}

int rill_stream_ready_chunks(rill_stream_t **s, size_t n)
{
    return chunks_new("rill_stream_ready_chunks", s, n, true);
}
