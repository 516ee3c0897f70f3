/* SPDX-License-Identifier: MIT */
/*
 * W10 fan-in-select: 8 bounded channels of capacity 256, one producer task
 * on each sending 1.25M items; the consumer merges the 8 receiver streams
 * into one with rill_stream_select_all and drains it. Mitems/s.
 */
#include "bench_rill.h"

#define CHANNELS 8

static void *top(void *arg)
{
    bench_run_t *run = arg;
    bench_producer_t p[CHANNELS];
    rill_stream_t *s[CHANNELS];
    rill_task_t *t[CHANNELS];
    const uint64_t part = BENCH_N / CHANNELS;
    for (int i = 0; i < CHANNELS; i++) {
        s[i] = bench_channel_stream(&p[i].tx, 256);
        p[i].lo = (uint64_t)i * part;
        p[i].hi = p[i].lo + part;
    }
    bench_drainer_t d = {NULL, {0, 0, 0}};
    BENCH_TRY(rill_stream_select_all(&d.s, s, CHANNELS));
    rill_task_t *consumer = bench_spawn(bench_drain, &d);
    for (int i = 0; i < CHANNELS; i++)
        t[i] = bench_spawn(bench_produce, &p[i]);
    for (int i = 0; i < CHANNELS; i++)
        bench_join(t[i]);
    bench_join(consumer);
    *run = d.run;
    return NULL;
}

int main(void)
{
    return bench_main(top, BENCH_N, bench_tri(BENCH_N), BENCH_MITEMS);
}
