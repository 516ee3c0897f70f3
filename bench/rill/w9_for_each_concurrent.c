/* SPDX-License-Identifier: MIT */
/*
 * W9 for-each-concurrent: a producer task sends 10,000 items into a
 * bounded channel (capacity 1024, as the peers); its receiver stream goes
 * through rill_stream_for_each_concurrent with limit 64, each item
 * sleeping 1 ms. Wall ms (ideal: 10000 / 64 x 1 ms = 156 ms).
 */
#include "bench_rill.h"

#include <stdatomic.h>

typedef struct totals {
    _Atomic uint64_t sum, count;
} totals_t;

static int sleep_one(void *ud, int status, void *item)
{
    totals_t *t = ud;
    if (status != 0)
        return status;
    BENCH_TRY(rill_sleep(RILL_MS(1)));
    /* Relaxed is enough: for_each_concurrent has joined every call before
     * top reads the totals. */
    atomic_fetch_add_explicit(&t->sum, *(uint64_t *)item, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->count, 1, memory_order_relaxed);
    return 0;
}

static void *top(void *arg)
{
    bench_run_t *run = arg;
    totals_t t = {0, 0};
    bench_producer_t p = {NULL, 0, BENCH_SLEEPERS};
    rill_stream_t *s = bench_channel_stream(&p.tx, 1024);
    rill_task_t *producer = bench_spawn(bench_produce, &p);
    BENCH_TRY(rill_stream_for_each_concurrent(s, 64, sleep_one, &t));
    bench_join(producer);
    run->sum = atomic_load_explicit(&t.sum, memory_order_relaxed);
    run->count = atomic_load_explicit(&t.count, memory_order_relaxed);
    return NULL;
}

int main(void)
{
    return bench_main(top, BENCH_SLEEPERS, bench_tri(BENCH_SLEEPERS), BENCH_MS);
}
