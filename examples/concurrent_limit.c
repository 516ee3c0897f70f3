/* SPDX-License-Identifier: MIT */
/*
 * concurrent_limit.c - seed example 4: for_each_concurrent(5) with waits.
 *
 * tokio: mpsc::channel(5), a producer sending 0..10 every 10 ms, and
 * .for_each_concurrent(5, ...) where each item sleeps 100 ms. At most 5
 * run at once; the example counts how many did, to show it.
 */
#include "check.h"
#include <rill.h>
#include <stdatomic.h>
#include <stdio.h>

static void *producer(void *arg)
{
    rill_sender_t *tx = arg;
    for (int i = 0; i < 10; i++) {
        if (rill_send(tx, &i) != 0)
            break;
        rill_sleep(RILL_MS(10));
    }
    rill_sender_release(tx);
    return NULL;
}

typedef struct gauge {
    atomic_int running, most;
} gauge_t;

static int process(void *ud, int status, void *item)
{
    gauge_t *g = ud;
    if (status < 0)
        return 0;
    int v = *(int *)item;
    int now = atomic_fetch_add(&g->running, 1) + 1;
    for (int most = atomic_load(&g->most);
         now > most && !atomic_compare_exchange_weak(&g->most, &most, now);)
        ;
    uint64_t task = rill_task_id(rill_task_current());
    printf("Processing item %d on task %llu\n", v, (unsigned long long)task);
    rill_sleep(RILL_MS(100));
    printf("Finished item %d on task %llu\n", v, (unsigned long long)task);
    atomic_fetch_sub(&g->running, 1);
    return 0;
}

static void *main_task(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_stream_t *s;
    rill_task_t *p;
    gauge_t g = {0};
    if (rill_channel_new(&tx, &rx, sizeof(int), 5, NULL) ||
        rill_receiver_into_stream(rx, &s) || rill_spawn(&p, producer, tx, NULL))
        return (void *)1;
    int r = rill_stream_for_each_concurrent(s, 5, process, &g);
    CHECK(rill_join(p, NULL));
    printf("All items processed concurrently: %s, at most %d at once.\n",
           rill_strerror(r), atomic_load(&g.most));
    return r || atomic_load(&g.most) > 5 ? (void *)1 : NULL;
}

int main(void)
{
    /* The virtual clock: time moves only when every task waits, so the
     * order of the lines is the same on any machine, however loaded (on
     * the real clock a producer held up 60 ms let item 0 finish before
     * item 4 started). The sleeps still take their 10 and 100 ms
     * of (virtual) time. */
    rill_runtime_config_t cfg;
    rill_runtime_config_init(&cfg);
    cfg.virtual_clock = true;
    rill_runtime_t *rt;
    void *failed = NULL;
    if (rill_runtime_new(&rt, &cfg) != 0)
        return 1;
    int rc = rill_block_on(rt, main_task, NULL, &failed);
    rill_runtime_free(rt);
    return rc == 0 && !failed ? 0 : 1;
}
