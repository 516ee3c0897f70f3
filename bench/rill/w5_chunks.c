/* SPDX-License-Identifier: MIT */
/*
 * W5 chunks: W1, but the consumer drains rill_stream_chunks(64) of the
 * receiver stream and sums each chunk. Mitems/s.
 */
#include "bench_rill.h"

static void *drain_chunks(void *arg)
{
    bench_drainer_t *d = arg;
    rill_chunk_t c;
    int rc;
    while ((rc = rill_next(d->s, &c)) != RILL_DONE) {
        if (rc != 0) {
            d->run.bad++;
            break;
        }
        uint64_t part = 0;
        for (size_t i = 0; i < c.len; i++)
            part += RILL_CHUNK_AT(&c, uint64_t, i);
        d->run.sum += part;
        d->run.count += c.len;
        rill_chunk_destroy(&c);
    }
    rill_stream_free(d->s);
    return NULL;
}

static int chunks64(rill_stream_t **s)
{
    return rill_stream_chunks(s, 64);
}

static void *top(void *arg)
{
    bench_spsc(arg, 1024, drain_chunks, chunks64);
    return NULL;
}

int main(void)
{
    return bench_main(top, BENCH_N, bench_tri(BENCH_N), BENCH_MITEMS);
}
