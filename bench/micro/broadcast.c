/* SPDX-License-Identifier: MIT */
/*
 * broadcast.c - microbenchmarks of the broadcast channel in W7's shape
 * (shared/BENCH.md: 1 sender, 4 receivers, capacity 1024, 1M u64 items,
 * backpressure: nothing lagged), 2 workers:
 *
 *   w7_stream_Md/s    each receiver a stackless task polling
 *                     rill_broadcast_poll_recv until PENDING, one item per
 *                     poll (what a stream's poll_next does)
 *   w7_batch_Md/s     the same with rill_broadcast_poll_recv_many(64) (a
 *                     batch-aware stream consumer, e.g. chunks)
 *   w7_await_Md/s     each receiver a stackful task calling
 *                     rill_broadcast_recv per item
 *   cpu_ns/delivery   one thread, no waiting: send 1024, then each of 4
 *                     receivers drains them with try_recv
 *
 * The sender is a stackful task sending one item at a time. Every receiver
 * checks the sum of what it got. Each figure is the median of 5 runs.
 * Usage: micro_broadcast [which]
 */
#include "must.h"
#include <rill.h>
#include <rill/broadcast.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { RECEIVERS = 4, CAPACITY = 1024, RUNS = 5 };
static const uint64_t ITEMS = 1000000;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    rill_future_t base;
    rill_broadcast_receiver_t *rx;
    int batch; /* 0: one item per poll */
    uint64_t sum, count, lagged;
} sink_fut_t;

static int sink_poll(rill_future_t *f, rill_cx_t *cx)
{
    sink_fut_t *s = (sink_fut_t *)f;
    uint64_t buf[64], missed;
    for (;;) {
        size_t n = 1;
        int r = s->batch
                    ? rill_broadcast_poll_recv_many(s->rx, cx, buf,
                                                    (size_t)s->batch,
                                                    sizeof *buf, &n, &missed)
                    : rill_broadcast_poll_recv(s->rx, cx, buf, sizeof *buf,
                                               &missed);
        if (r == RILL_PENDING)
            return RILL_PENDING;
        if (r == RILL_DONE)
            return 0;
        if (r == RILL_ELAGGED) {
            s->lagged += missed;
            continue;
        }
        if (r != 0)
            return r;
        for (size_t i = 0; i < n; i++)
            s->sum += buf[i];
        s->count += n;
    }
}

static const rill_future_vtable_t sink_vt = {sink_poll, NULL, NULL, NULL};

typedef struct {
    int mode, batch, stackful;
    double mdps;
    int ok;
} w7_t;

static void *await_sink(void *arg)
{
    sink_fut_t *s = arg;
    uint64_t v, missed;
    int r;
    while ((r = rill_broadcast_recv(s->rx, &v, &missed)) != RILL_DONE) {
        if (r == RILL_ELAGGED)
            s->lagged += missed;
        else {
            s->sum += v;
            s->count++;
        }
    }
    return NULL;
}

static void *w7_main(void *arg)
{
    w7_t *w = arg;
    rill_broadcast_sender_t *tx;
    sink_fut_t s[RECEIVERS];
    rill_task_t *t[RECEIVERS];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    memset(s, 0, sizeof s);
    if (rill_broadcast_new(&tx, &s[0].rx, sizeof(uint64_t), CAPACITY, w->mode,
                           NULL))
        return NULL;
    for (int i = 0; i < RECEIVERS; i++) {
        if (i)
            MUST(rill_broadcast_subscribe(tx, &s[i].rx));
        s[i].base.vtable = &sink_vt;
        s[i].batch = w->batch;
        if (w->stackful)
            MUST(rill_spawn(&t[i], await_sink, &s[i], NULL));
        else
            MUST(rill_spawn_future(&t[i], &s[i].base, NULL));
    }
    for (uint64_t i = 0; i < ITEMS; i++)
        MUST(rill_broadcast_send(tx, &i));
    if (getenv("BSTATS")) {
        rill_channel_stats_t st;
        rill_broadcast_stats(tx, NULL, &st);
        fprintf(stderr, "waits full %llu empty %llu hw %llu\n",
                (unsigned long long)st.waits_full,
                (unsigned long long)st.waits_empty,
                (unsigned long long)st.high_water);
    }
    rill_broadcast_sender_release(tx);
    w->ok = 1;
    for (int i = 0; i < RECEIVERS; i++) {
        MUST(rill_join(t[i], NULL));
        rill_broadcast_receiver_release(s[i].rx);
        if (s[i].count != ITEMS || s[i].sum != ITEMS * (ITEMS - 1) / 2 ||
            s[i].lagged)
            w->ok = 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    w->mdps = RECEIVERS * (double)ITEMS / ns * 1e3;
    return NULL;
}

static double run_w7(int mode, int batch, int stackful)
{
    double v[RUNS];
    for (int r = 0; r < RUNS; r++) {
        rill_runtime_config_t c;
        rill_runtime_config_init(&c);
        c.workers = getenv("WORKERS") ? (unsigned)atoi(getenv("WORKERS")) : 2;
        rill_runtime_t *rt;
        w7_t w = {mode, batch, stackful, 0, 0};
        if (rill_runtime_new(&rt, &c) || rill_block_on(rt, w7_main, &w, NULL) ||
            !w.ok) {
            fprintf(stderr, "w7 run failed (check or setup)\n");
            exit(1);
        }
        rill_runtime_free(rt);
        v[r] = w.mdps;
    }
    qsort(v, RUNS, sizeof v[0], cmp_d);
    return v[RUNS / 2];
}

static double cpu_ns_per_delivery(void)
{
    double v[RUNS];
    for (int r = 0; r < RUNS; r++) {
        rill_broadcast_sender_t *tx;
        rill_broadcast_receiver_t *rx[RECEIVERS];
        MUST(rill_broadcast_new(&tx, &rx[0], sizeof(uint64_t), CAPACITY,
                                RILL_BROADCAST_BACKPRESSURE, NULL));
        for (int i = 1; i < RECEIVERS; i++)
            MUST(rill_broadcast_subscribe(tx, &rx[i]));
        uint64_t sum = 0, x;
        const uint64_t n = ITEMS / CAPACITY * CAPACITY;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (uint64_t base = 0; base < n; base += CAPACITY) {
            for (uint64_t i = base; i < base + CAPACITY; i++)
                MUST(rill_broadcast_try_send(tx, &i));
            for (int k = 0; k < RECEIVERS; k++)
                while (rill_broadcast_try_recv(rx[k], &x, NULL) == 0)
                    sum += x;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (sum != RECEIVERS * (n * (n - 1) / 2)) {
            fprintf(stderr, "cpu run: bad sum\n");
            exit(1);
        }
        rill_broadcast_sender_release(tx);
        for (int i = 0; i < RECEIVERS; i++)
            rill_broadcast_receiver_release(rx[i]);
        v[r] = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) /
               (double)(n * RECEIVERS);
    }
    qsort(v, RUNS, sizeof v[0], cmp_d);
    return v[RUNS / 2];
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "";
    const int bp = RILL_BROADCAST_BACKPRESSURE;
#define WANT(name) (!*which || strstr(name, which))
    if (WANT("w7_stream_Md/s"))
        printf("w7_stream_Md/s %.1f\n", run_w7(bp, 0, 0));
    if (WANT("w7_batch_Md/s"))
        printf("w7_batch_Md/s %.1f\n", run_w7(bp, 64, 0));
    if (WANT("w7_await_Md/s"))
        printf("w7_await_Md/s %.1f\n", run_w7(bp, 0, 1));
    if (WANT("cpu_ns/delivery"))
        printf("cpu_ns/delivery %.2f\n", cpu_ns_per_delivery());
    return 0;
}
