/* SPDX-License-Identifier: MIT */
/*
 * mpsc_spread.c - W2's two modes, each forced: 4 producer tasks x 2.5M
 * u64 into one bounded(1024) channel, one task draining the receiver as a
 * stream (rill_next), as bench/rill/w2_mpsc_stream.c does, but with the
 * placement fixed instead of left to the scheduler:
 *   spread    two 1-worker runtimes (so two threads, one per core): the
 *             consumer and producers 0, 1 on the first, producers 2, 3 on
 *             the second. Producers on both cores share the channel's
 *             tail and slot lines: W2's slow mode (issue 15).
 *   apart     two 1-worker runtimes: the consumer alone on the first, the
 *             four producers on the second.
 *   one_off   two 1-worker runtimes: the consumer and producers 0..2 on
 *             the first, producer 3 on the second.
 *   together  one 1-worker runtime runs all five tasks: the fast mode.
 *   w2        one 2-worker runtime, placement left to the scheduler (W2).
 *   threads   no runtime: two plain producer threads pinned to CPUs 0 and
 *             1 (2 x 5M), the main thread receiving with recv_many(64):
 *             the bare cost of two cores sharing tail and the slot lines.
 * Usage: mpsc_spread [mode] [runs] (default: spread 9).
 * Prints one line per run (Mitems/s) and then min/median/max.
 */
#include "must.h"
#include <rill.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PRODUCERS 4
#define TOTAL 10000000ULL

typedef struct {
    rill_sender_t *tx;
    uint64_t lo, hi;
} prod_t;

typedef struct {
    rill_stream_t *s;
    uint64_t sum, count;
} cons_t;

static void *produce(void *arg)
{
    prod_t *p = arg;
    for (uint64_t i = p->lo; i < p->hi; i++)
        MUST(rill_send(p->tx, &i));
    MUST(rill_sender_release(p->tx));
    return NULL;
}

static void *consume(void *arg)
{
    cons_t *c = arg;
    uint64_t v;
    int rc;
    while ((rc = rill_next(c->s, &v)) == 0) {
        c->sum += v;
        c->count++;
    }
    if (rc != RILL_DONE)
        abort();
    rill_stream_free(c->s);
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *thread_produce(void *arg)
{
    prod_t *p = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)(p->lo / (TOTAL / 2)), &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    return produce(p);
}

/* Mode "threads": two pinned producer threads, this thread receives. */
static double run_threads(void)
{
    rill_sender_t *tx;
    rill_receiver_t *rx;
    prod_t p[2];
    pthread_t t[2];
    uint64_t buf[64], sum = 0, count = 0;
    size_t n;
    MUST(rill_channel_new(&tx, &rx, sizeof(uint64_t), 1024, NULL));
    double t0 = now();
    for (int i = 0; i < 2; i++) {
        p[i].lo = TOTAL / 2 * (uint64_t)i;
        p[i].hi = p[i].lo + TOTAL / 2;
        MUST(rill_sender_clone(tx, &p[i].tx));
        if (pthread_create(&t[i], NULL, thread_produce, &p[i]))
            abort();
    }
    while (count < TOTAL && rill_recv_many(rx, buf, 64, &n) == 0)
        for (size_t i = 0; i < n; i++, count++)
            sum += buf[i];
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    MUST(rill_sender_release(tx));
    if (rill_recv(rx, &buf[0]) != RILL_DONE)
        abort();
    double dt = now() - t0;
    rill_receiver_release(rx);
    if (count != TOTAL || sum != TOTAL * (TOTAL - 1) / 2) {
        fprintf(stderr, "bad sum\n");
        exit(1);
    }
    return (double)TOTAL / dt / 1e6;
}

static rill_runtime_t *runtime(unsigned workers)
{
    rill_runtime_config_t cfg;
    rill_runtime_t *rt;
    rill_runtime_config_init(&cfg);
    cfg.workers = workers;
    MUST(rill_runtime_new(&rt, &cfg));
    return rt;
}

/* One run; rt[i] runs producer i, crt the consumer. Mitems/s. */
static double run(rill_runtime_t *rt[PRODUCERS], rill_runtime_t *crt)
{
    rill_sender_t *tx;
    rill_receiver_t *rx;
    cons_t c = {0};
    prod_t p[PRODUCERS];
    rill_task_t *t[PRODUCERS], *ct;
    MUST(rill_channel_new(&tx, &rx, sizeof(uint64_t), 1024, NULL));
    MUST(rill_receiver_into_stream(rx, &c.s));
    double t0 = now();
    MUST(rill_spawn(&ct, consume, &c, &(rill_spawn_config_t){.runtime = crt}));
    for (int i = 0; i < PRODUCERS; i++) {
        p[i].lo = TOTAL / PRODUCERS * (uint64_t)i;
        p[i].hi = p[i].lo + TOTAL / PRODUCERS;
        MUST(rill_sender_clone(tx, &p[i].tx));
        MUST(rill_spawn(&t[i], produce, &p[i],
                        &(rill_spawn_config_t){.runtime = rt[i]}));
    }
    for (int i = 0; i < PRODUCERS; i++)
        MUST(rill_join(t[i], NULL));
    MUST(rill_sender_release(tx));
    MUST(rill_join(ct, NULL));
    double dt = now() - t0;
    if (c.count != TOTAL || c.sum != TOTAL * (TOTAL - 1) / 2) {
        fprintf(stderr, "bad sum\n");
        exit(1);
    }
    return (double)TOTAL / dt / 1e6;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "spread";
    int runs = argc > 2 ? atoi(argv[2]) : 9;
    if (runs < 1 || runs > 1000)
        runs = 9;
    rill_runtime_t *a = NULL, *b = NULL, *rt[PRODUCERS], *cons_rt = NULL;
    if (!strcmp(mode, "spread") || !strcmp(mode, "apart") ||
        !strcmp(mode, "one_off")) {
        a = runtime(1);
        b = runtime(1);
        for (int i = 0; i < PRODUCERS; i++)
            rt[i] = i < (mode[0] == 's' ? 2 : mode[0] == 'o' ? 3 : 0) ? a : b;
        cons_rt = a;
    } else if (!strcmp(mode, "together") || !strcmp(mode, "w2")) {
        a = runtime(!strcmp(mode, "w2") ? 2 : 1);
        rt[0] = rt[1] = rt[2] = rt[3] = a;
        cons_rt = a;
    } else if (strcmp(mode, "threads")) {
        fprintf(stderr, "usage: mpsc_spread "
                        "[spread|apart|one_off|together|w2|threads] [runs]\n");
        return 2;
    }
    double *v = calloc((size_t)runs, sizeof *v);
    if (!v)
        return 1;
    for (int r = 0; r < runs; r++) {
        v[r] = a ? run(rt, cons_rt) : run_threads();
        printf("%s %.2f Mitems/s\n", mode, v[r]);
        fflush(stdout);
    }
    qsort(v, (size_t)runs, sizeof *v, cmp_d);
    printf("%s min %.2f median %.2f max %.2f Mitems/s (%d runs)\n", mode, v[0],
           v[runs / 2], v[runs - 1], runs);
    free(v);
    if (a)
        rill_runtime_free(a);
    if (b)
        rill_runtime_free(b);
    return 0;
}
