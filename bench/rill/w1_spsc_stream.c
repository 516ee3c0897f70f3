/* SPDX-License-Identifier: MIT */
/*
 * W1 spsc-stream: a bounded channel of capacity 1024; one producer task
 * sends 0..10M one item per rill_send; the consumer task drains the
 * receiver as a stream with rill_next. Mitems/s.
 */
#include "bench_rill.h"

static void *top(void *arg)
{
    bench_spsc(arg, 1024, bench_drain, NULL);
    return NULL;
}

int main(void)
{
    return bench_main(top, BENCH_N, bench_tri(BENCH_N), BENCH_MITEMS);
}
