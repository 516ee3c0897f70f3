/* SPDX-License-Identifier: MIT */
/*
 * W4 ping-pong: two tasks, two bounded channels of capacity 1. The pinger
 * sends i on one and waits for it back on the other; the echo task sends
 * back what it receives. 1M round trips; ns per round trip.
 */
#include "bench_rill.h"

typedef struct pair {
    rill_sender_t *ping_tx, *pong_tx;
    rill_receiver_t *ping_rx, *pong_rx;
    bench_run_t run;
} pair_t;

static void *echo(void *arg)
{
    pair_t *p = arg;
    uint64_t v;
    while (rill_recv(p->ping_rx, &v) == 0)
        BENCH_TRY(rill_send(p->pong_tx, &v));
    BENCH_TRY(rill_sender_release(p->pong_tx));
    BENCH_TRY(rill_receiver_release(p->ping_rx));
    return NULL;
}

static void *pinger(void *arg)
{
    pair_t *p = arg;
    for (uint64_t i = 0; i < BENCH_ROUND_TRIPS; i++) {
        uint64_t v;
        BENCH_TRY(rill_send(p->ping_tx, &i));
        BENCH_TRY(rill_recv(p->pong_rx, &v));
        bench_add(&p->run, v);
    }
    BENCH_TRY(rill_sender_release(p->ping_tx));
    BENCH_TRY(rill_receiver_release(p->pong_rx));
    return NULL;
}

static void *top(void *arg)
{
    pair_t p = {.run = {0, 0, 0}};
    BENCH_TRY(
        rill_channel_new(&p.ping_tx, &p.ping_rx, sizeof(uint64_t), 1, NULL));
    BENCH_TRY(
        rill_channel_new(&p.pong_tx, &p.pong_rx, sizeof(uint64_t), 1, NULL));
    rill_task_t *e = bench_spawn(echo, &p);
    bench_join(bench_spawn(pinger, &p));
    bench_join(e);
    *(bench_run_t *)arg = p.run;
    return NULL;
}

int main(void)
{
    return bench_main(top, BENCH_ROUND_TRIPS, bench_tri(BENCH_ROUND_TRIPS),
                      BENCH_NS_EACH);
}
