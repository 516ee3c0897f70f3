/* SPDX-License-Identifier: MIT */
/*
 * W3 unbounded-stream: an unbounded channel; one producer task sends 10M
 * items with rill_send (which never waits on an unbounded channel); the
 * consumer task drains it as a stream. Mitems/s; the harness measures the
 * peak RSS.
 */
#include "bench_rill.h"

static void *top(void *arg)
{
    bench_spsc(arg, RILL_UNBOUNDED, bench_drain, NULL);
    return NULL;
}

int main(void)
{
    return bench_main(top, BENCH_N, bench_tri(BENCH_N), BENCH_MITEMS);
}
