/* SPDX-License-Identifier: MIT */
/*
 * W6 blocking-bridge: the producer is a plain OS thread (pthread) doing
 * blocking rill_send into a bounded channel of capacity 1024 (on a plain
 * thread rill_send parks the thread while the ring is full); the consumer
 * is a task draining the receiver as a stream. 10M items; Mitems/s.
 */
#include "bench_rill.h"

#include <pthread.h>

static void *os_thread(void *arg)
{
    return bench_produce(arg);
}

static void *top(void *arg)
{
    bench_run_t *run = arg;
    bench_producer_t p = {NULL, 0, BENCH_N};
    bench_drainer_t d = {bench_channel_stream(&p.tx, 1024), {0, 0, 0}};
    rill_task_t *consumer = bench_spawn(bench_drain, &d);
    pthread_t producer;
    if (pthread_create(&producer, NULL, os_thread, &p) != 0) {
        fprintf(stderr, "w6: pthread_create failed\n");
        exit(1);
    }
    bench_join(consumer);
    pthread_join(producer, NULL);
    *run = d.run;
    return NULL;
}

int main(void)
{
    return bench_main(top, BENCH_N, bench_tri(BENCH_N), BENCH_MITEMS);
}
