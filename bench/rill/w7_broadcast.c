/* SPDX-License-Identifier: MIT */
/*
 * W7 broadcast: a broadcast channel of capacity 1024 in backpressure mode
 * (the sender waits for the slowest receiver, so none lags); 1 sender task,
 * 4 receivers each drained as a stream by its own task; 1M items. Every
 * receiver must see every item: a lagged or missed item fails the check.
 * Mdeliveries/s (4M deliveries).
 */
#include "bench_rill.h"

#define RECEIVERS 4

static void *top(void *arg)
{
    bench_run_t *run = arg;
    rill_broadcast_sender_t *tx;
    rill_broadcast_receiver_t *rx;
    bench_drainer_t d[RECEIVERS];
    rill_task_t *t[RECEIVERS];
    BENCH_TRY(rill_broadcast_new(&tx, &rx, sizeof(uint64_t), 1024,
                                 RILL_BROADCAST_BACKPRESSURE, NULL));
    for (int i = 0; i < RECEIVERS; i++) {
        if (i > 0)
            BENCH_TRY(rill_broadcast_subscribe(tx, &rx));
        BENCH_TRY(rill_broadcast_into_stream(rx, sizeof(uint64_t), &d[i].s));
        d[i].run = (bench_run_t){0, 0, 0};
        t[i] = bench_spawn(bench_drain, &d[i]);
    }
    for (uint64_t i = 0; i < BENCH_BCAST_ITEMS; i++)
        BENCH_TRY(rill_broadcast_send(tx, &i));
    BENCH_TRY(rill_broadcast_sender_release(tx));
    for (int i = 0; i < RECEIVERS; i++) {
        bench_join(t[i]);
        run->sum += d[i].run.sum;
        run->count += d[i].run.count;
        run->bad += d[i].run.bad;
    }
    return NULL;
}

int main(void)
{
    return bench_main(top, RECEIVERS * BENCH_BCAST_ITEMS,
                      RECEIVERS * bench_tri(BENCH_BCAST_ITEMS),
                      BENCH_MDELIVERIES);
}
