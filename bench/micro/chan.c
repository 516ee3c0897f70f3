/* SPDX-License-Identifier: MIT */
/*
 * chan.c - channel microbenchmarks (the hot paths of src/sync):
 *   spsc_threads     bounded 1024, a thread sends 10M, a thread receives
 *   spsc_tasks       the same with two tasks on 2 workers (W1's shape)
 *   spsc_tasks_many  the consumer task takes up to 64 per recv_many
 *   mpsc_tasks       4 producer tasks x 2.5M into one consumer (W2)
 *   unbounded_tasks  unbounded, 10M (W3's shape)
 *   thread_to_task   a plain thread sends 10M, a task receives (W6)
 *   rendezvous_tasks capacity 0, 1M hand-offs between two tasks
 *   pingpong_tasks   two tasks, two capacity-1 channels, 1M round trips
 *                    (W4), in ns per round trip
 * Items are uint64_t; the consumer checks the sum. Each figure is the
 * median of 3 runs. Usage: chan [name] (default: all)
 */
#include "must.h"
#include <rill.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct {
    rill_sender_t *tx;
    rill_receiver_t *rx;
    uint64_t n, first;
    uint64_t sum;
    size_t batch;
} job_t;

static void *send_n(void *arg)
{
    job_t *j = arg;
    for (uint64_t i = j->first; i < j->first + j->n; i++)
        if (rill_send(j->tx, &i) != 0)
            abort();
    rill_sender_release(j->tx);
    return NULL;
}

static void *recv_all(void *arg)
{
    job_t *j = arg;
    uint64_t v, sum = 0, buf[64];
    size_t n;
    if (j->batch > 1) {
        while (rill_recv_many(j->rx, buf, j->batch, &n) == 0)
            for (size_t i = 0; i < n; i++)
                sum += buf[i];
    } else {
        while (rill_recv(j->rx, &v) == 0)
            sum += v;
    }
    j->sum = sum;
    return NULL;
}

static rill_runtime_t *rt;

/* Run producers (threads or tasks) and one consumer; Mitems/s. */
static double run(size_t cap, int producers, uint64_t total, bool ptasks,
                  bool ctask, size_t batch)
{
    rill_sender_t *tx;
    job_t c = {0}, p[8];
    if (rill_channel_new(&tx, &c.rx, sizeof(uint64_t), cap, NULL))
        abort();
    c.batch = batch;
    pthread_t pt[8];
    rill_task_t *tt[8], *ct = NULL;
    int64_t t0 = now_ns();
    for (int i = 0; i < producers; i++) {
        p[i] = (job_t){0};
        p[i].n = total / (uint64_t)producers;
        p[i].first = p[i].n * (uint64_t)i;
        if (rill_sender_clone(tx, &p[i].tx))
            abort();
        if (ptasks)
            MUST(rill_spawn(&tt[i], send_n, &p[i],
                            &(rill_spawn_config_t){.runtime = rt}));
        else
            pthread_create(&pt[i], NULL, send_n, &p[i]);
    }
    rill_sender_release(tx);
    if (ctask) {
        MUST(rill_spawn(&ct, recv_all, &c,
                        &(rill_spawn_config_t){.runtime = rt}));
        MUST(rill_join(ct, NULL));
    } else {
        recv_all(&c);
    }
    for (int i = 0; i < producers; i++) {
        if (ptasks)
            MUST(rill_join(tt[i], NULL));
        else
            pthread_join(pt[i], NULL);
    }
    int64_t dt = now_ns() - t0;
    if (c.sum != total * (total - 1) / 2) {
        fprintf(stderr, "bad sum\n");
        exit(1);
    }
    rill_receiver_release(c.rx);
    return (double)total / ((double)dt / 1e9) / 1e6;
}

/* ---- ping-pong ---- */
typedef struct {
    rill_sender_t *tx;
    rill_receiver_t *rx;
    uint64_t n;
} pp_t;

static void *pong(void *arg)
{
    pp_t *p = arg;
    uint64_t v;
    while (rill_recv(p->rx, &v) == 0)
        if (rill_send(p->tx, &v) != 0)
            break;
    rill_sender_release(p->tx);
    return NULL;
}

static void *ping(void *arg)
{
    pp_t *p = arg;
    for (uint64_t i = 0; i < p->n; i++) {
        uint64_t v;
        if (rill_send(p->tx, &i) || rill_recv(p->rx, &v) || v != i)
            abort();
    }
    rill_sender_release(p->tx);
    return NULL;
}

static double pingpong(uint64_t n)
{
    pp_t a, b;
    MUST(rill_channel_new(&a.tx, &b.rx, sizeof(uint64_t), 1, NULL));
    MUST(rill_channel_new(&b.tx, &a.rx, sizeof(uint64_t), 1, NULL));
    a.n = b.n = n;
    rill_task_t *ta, *tb;
    int64_t t0 = now_ns();
    MUST(rill_spawn(&tb, pong, &b, &(rill_spawn_config_t){.runtime = rt}));
    MUST(rill_spawn(&ta, ping, &a, &(rill_spawn_config_t){.runtime = rt}));
    MUST(rill_join(ta, NULL));
    MUST(rill_join(tb, NULL));
    int64_t dt = now_ns() - t0;
    rill_receiver_release(a.rx);
    rill_receiver_release(b.rx);
    return (double)dt / (double)n;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median3(double v[3])
{
    qsort(v, 3, sizeof v[0], cmp_d);
    return v[1];
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "";
    rill_runtime_config_t cfg;
    rill_runtime_config_init(&cfg);
    cfg.workers = 2;
    if (rill_runtime_new(&rt, &cfg))
        return 1;
    const uint64_t N = 10000000;
    struct {
        const char *name;
        size_t cap;
        int producers;
        uint64_t n;
        bool ptasks, ctask;
        size_t batch;
    } cases[] = {
        {"spsc_threads", 1024, 1, N, false, false, 1},
        {"spsc_tasks", 1024, 1, N, true, true, 1},
        {"spsc_tasks_many", 1024, 1, N, true, true, 64},
        {"mpsc_tasks", 1024, 4, N, true, true, 1},
        {"unbounded_tasks", RILL_UNBOUNDED, 1, N, true, true, 1},
        {"thread_to_task", 1024, 1, N, false, true, 1},
        {"rendezvous_tasks", 0, 1, N / 10, true, true, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (*which && strcmp(which, cases[i].name))
            continue;
        double v[3];
        for (int r = 0; r < 3; r++)
            v[r] = run(cases[i].cap, cases[i].producers, cases[i].n,
                       cases[i].ptasks, cases[i].ctask, cases[i].batch);
        double m = median3(v);
        printf("%-18s %8.2f Mitems/s\n", cases[i].name, m);
        fflush(stdout);
    }
    if (!*which || !strcmp(which, "pingpong_tasks")) {
        double v[3];
        for (int r = 0; r < 3; r++)
            v[r] = pingpong(1000000);
        printf("%-18s %8.0f ns/round trip\n", "pingpong_tasks", median3(v));
    }
    rill_runtime_free(rt);
    return 0;
}
