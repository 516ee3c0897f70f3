/* SPDX-License-Identifier: MIT */
/*
 * slow_consumer.c - does a slow consumer get its whole core? (issue 15)
 *
 * A consumer task spends about 1 us of CPU per item (a calibrated chain
 * of dependent multiplies) on a 64-byte heap payload, which it frees.
 *   alone      the consumer task makes its own payloads (malloc, fill,
 *              work, free): its speed with no producers at all;
 *   producers  4 producer tasks malloc and fill payloads and send the
 *              pointers into a bounded(1024) channel; the consumer
 *              receives, works and frees. The producers outrun it, so
 *              they spend the run blocked on the full channel, and that
 *              must cost the consumer nothing.
 * Both on a 2-worker runtime, alternated per round. Prints per round the
 * consumer's items/s in each mode and their ratio, then min/median/max
 * of the ratio (target >= 0.95), and the peak RSS growth of the
 * producers phase over the alone phase (target: capacity x item plus
 * allocator overhead: about 1028 live payloads).
 * Usage: slow_consumer [rounds] (default 9).
 */
#include "must.h"
#include <rill.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ITEMS 200000
#define PRODUCERS 4
#define CAP 1024
#define PAYLOAD 64

static uint64_t spins_per_us;
static volatile uint64_t sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* About 1 us of CPU: a chain of dependent multiplies over the payload. */
static void work(const uint64_t *p, uint64_t spins)
{
    uint64_t x = p[0] | 1;
    for (uint64_t i = 0; i < spins; i++)
        x = x * 6364136223846793005ULL + p[i & 7];
    sink = x;
}

static void calibrate(void)
{
    uint64_t p[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t n = 1000000;
    double best = 1e9;
    for (int r = 0; r < 5; r++) { /* the fastest of 5: least disturbed */
        double t0 = now();
        work(p, n);
        double dt = now() - t0;
        best = dt < best ? dt : best;
    }
    spins_per_us = (uint64_t)((double)n / (best * 1e6));
    if (spins_per_us == 0)
        spins_per_us = 1;
}

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

static uint64_t *make_payload(uint64_t v)
{
    uint64_t *p = malloc(PAYLOAD);
    if (!p)
        abort();
    for (int i = 0; i < PAYLOAD / 8; i++)
        p[i] = v + (uint64_t)i;
    return p;
}

typedef struct {
    rill_sender_t *tx;
    uint64_t lo, hi;
} prod_t;

typedef struct {
    rill_receiver_t *rx; /* NULL: alone */
    uint64_t sum, count;
    double secs;
} cons_t;

static void *produce(void *arg)
{
    prod_t *p = arg;
    for (uint64_t i = p->lo; i < p->hi; i++) {
        uint64_t *item = make_payload(i);
        MUST(rill_send(p->tx, &item));
    }
    MUST(rill_sender_release(p->tx));
    return NULL;
}

static void *consume(void *arg)
{
    cons_t *c = arg;
    double t0 = now();
    uint64_t *item;
    if (!c->rx) {
        for (uint64_t i = 0; i < ITEMS; i++) {
            item = make_payload(i);
            work(item, spins_per_us);
            c->sum += item[0];
            c->count++;
            free(item);
        }
    } else {
        while (rill_recv(c->rx, &item) == 0) {
            work(item, spins_per_us);
            c->sum += item[0];
            c->count++;
            free(item);
        }
    }
    c->secs = now() - t0;
    return NULL;
}

/* One phase; returns the consumer's items/s. */
static double phase(rill_runtime_t *rt, bool producers)
{
    cons_t c = {0};
    rill_sender_t *tx = NULL;
    prod_t p[PRODUCERS];
    rill_task_t *t[PRODUCERS], *ct;
    if (producers)
        MUST(rill_channel_new(&tx, &c.rx, sizeof(uint64_t *), CAP, NULL));
    MUST(rill_spawn(&ct, consume, &c, &(rill_spawn_config_t){.runtime = rt}));
    for (int i = 0; producers && i < PRODUCERS; i++) {
        p[i].lo = (uint64_t)ITEMS / PRODUCERS * (uint64_t)i;
        p[i].hi = p[i].lo + (uint64_t)ITEMS / PRODUCERS;
        MUST(rill_sender_clone(tx, &p[i].tx));
        MUST(rill_spawn(&t[i], produce, &p[i],
                        &(rill_spawn_config_t){.runtime = rt}));
    }
    if (producers)
        MUST(rill_sender_release(tx));
    for (int i = 0; producers && i < PRODUCERS; i++)
        MUST(rill_join(t[i], NULL));
    MUST(rill_join(ct, NULL));
    if (c.rx)
        rill_receiver_release(c.rx);
    if (c.count != ITEMS || c.sum != (uint64_t)ITEMS * (ITEMS - 1) / 2) {
        fprintf(stderr, "bad sum\n");
        exit(1);
    }
    return (double)ITEMS / c.secs;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 9;
    if (rounds < 1 || rounds > 100)
        rounds = 9;
    calibrate();
    rill_runtime_config_t cfg;
    rill_runtime_t *rt;
    rill_runtime_config_init(&cfg);
    cfg.workers = 2;
    MUST(rill_runtime_new(&rt, &cfg));
    double ratio[100];
    (void)phase(rt, false); /* warm up: allocator, stacks */
    long rss_alone = peak_rss_kb();
    long rss_prod = rss_alone;
    for (int r = 0; r < rounds; r++) {
        double alone = phase(rt, false);
        double with = phase(rt, true);
        long rss = peak_rss_kb();
        rss_prod = rss > rss_prod ? rss : rss_prod;
        ratio[r] = with / alone;
        printf("round %d: alone %.0f items/s, with 4 blocked producers %.0f "
               "items/s, ratio %.3f\n",
               r + 1, alone, with, ratio[r]);
        fflush(stdout);
    }
    qsort(ratio, (size_t)rounds, sizeof ratio[0], cmp_d);
    printf("ratio (with producers / alone): min %.3f median %.3f max %.3f "
           "(%d rounds; target >= 0.95); %llu spins per us\n",
           ratio[0], ratio[rounds / 2], ratio[rounds - 1], rounds,
           (unsigned long long)spins_per_us);
    printf("peak RSS: %ld KiB after the alone phase, %ld KiB after the "
           "producer phases: +%ld KiB (capacity x payload = %d KiB)\n",
           rss_alone, rss_prod, rss_prod - rss_alone, CAP * PAYLOAD / 1024);
    rill_runtime_free(rt);
    return 0;
}
