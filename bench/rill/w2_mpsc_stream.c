/* SPDX-License-Identifier: MIT */
/*
 * W2 mpsc-stream: a bounded channel of capacity 1024; 4 producer tasks
 * send 2.5M items each (one per rill_send, through their own sender
 * handles); one consumer task drains the receiver as a stream. Mitems/s.
 */
#include "bench_rill.h"

#define PRODUCERS 4

static void *top(void *arg)
{
    bench_run_t *run = arg;
    bench_producer_t p[PRODUCERS];
    rill_task_t *t[PRODUCERS];
    bench_drainer_t d = {bench_channel_stream(&p[0].tx, 1024), {0, 0, 0}};
    rill_task_t *consumer = bench_spawn(bench_drain, &d);
    const uint64_t part = BENCH_N / PRODUCERS;
    for (int i = 0; i < PRODUCERS; i++) {
        if (i > 0)
            BENCH_TRY(rill_sender_clone(p[0].tx, &p[i].tx));
        p[i].lo = (uint64_t)i * part;
        p[i].hi = p[i].lo + part;
    }
    for (int i = 0; i < PRODUCERS; i++)
        t[i] = bench_spawn(bench_produce, &p[i]);
    for (int i = 0; i < PRODUCERS; i++)
        bench_join(t[i]);
    bench_join(consumer);
    *run = d.run;
    return NULL;
}

int main(void)
{
    return bench_main(top, BENCH_N, bench_tri(BENCH_N), BENCH_MITEMS);
}
