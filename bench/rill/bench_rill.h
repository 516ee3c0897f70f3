/* SPDX-License-Identifier: MIT */
/*
 * bench_rill.h - what every rill workload program (bench/rill/wN_*.c)
 * shares: the sizes of shared/BENCH.md, a 2-worker runtime, the clock, the
 * consumer's check and the one RESULT line bench/run.py reads:
 *
 *     RESULT metric=<number> unit=<unit> check=<ok|FAIL> sum=<sum>
 *
 * A program builds its runtime (untimed), starts the clock, runs the
 * workload's top task with rill_block_on, stops the clock and calls
 * bench_report; it exits 0 only when the check passed.
 */
#ifndef RILL_BENCH_RILL_H
#define RILL_BENCH_RILL_H

#include <rill/rt.h>
#include <rill/stream.h>
#include <rill/sync.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_N 10000000ULL          /* W1, W2, W3, W5, W6, W10 */
#define BENCH_ROUND_TRIPS 1000000ULL /* W4 */
#define BENCH_BCAST_ITEMS 1000000ULL /* W7, to each of 4 receivers */
#define BENCH_TASKS 100000ULL        /* W8 */
#define BENCH_SLEEPERS 10000ULL      /* W9 */

/* What a consumer saw: the sum and count of its items, and anything that
 * must not happen (a lagged broadcast item). */
typedef struct bench_run {
    uint64_t sum, count, bad;
} bench_run_t;

static inline void bench_add(bench_run_t *r, uint64_t v)
{
    r->sum += v;
    r->count++;
}

/* Sum of 0..n-1. */
static inline uint64_t bench_tri(uint64_t n)
{
    return n * (n - 1) / 2;
}

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Dies with a message naming the failed call: a benchmark has no recovery. */
#define BENCH_TRY(call)                                                        \
    do {                                                                       \
        int bench_rc_ = (call);                                                \
        if (bench_rc_ != 0) {                                                  \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,      \
                    rill_strerror(bench_rc_));                                 \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* A runtime with 2 workers (the machine has 2 cores), as the peers use. */
static inline rill_runtime_t *bench_runtime(void)
{
    rill_runtime_config_t cfg;
    rill_runtime_t *rt;
    rill_runtime_config_init(&cfg);
    cfg.workers = 2;
    BENCH_TRY(rill_runtime_new(&rt, &cfg));
    return rt;
}

/* How a workload's metric is computed from its wall time. */
typedef enum {
    BENCH_MITEMS,
    BENCH_MDELIVERIES,
    BENCH_NS_EACH,
    BENCH_MS
} bench_unit_t;

/*
 * bench_report - check r against the expected count and sum, print the
 * RESULT line and return the exit status (0 only when the check passed).
 * For BENCH_NS_EACH the metric is seconds / want_count in ns.
 */
static inline int bench_report(const bench_run_t *r, uint64_t want_count,
                               uint64_t want_sum, bench_unit_t unit,
                               double secs)
{
    int ok = r->count == want_count && r->sum == want_sum && r->bad == 0;
    double metric;
    const char *name;
    switch (unit) {
    case BENCH_MITEMS:
        metric = (double)r->count / secs / 1e6, name = "Mitems/s";
        break;
    case BENCH_MDELIVERIES:
        metric = (double)r->count / secs / 1e6, name = "Mdeliveries/s";
        break;
    case BENCH_NS_EACH:
        metric = secs * 1e9 / (double)want_count, name = "ns";
        break;
    default:
        metric = secs * 1e3, name = "ms";
        break;
    }
    if (!ok)
        fprintf(stderr,
                "check failed: count %llu (want %llu), sum %llu (want %llu), "
                "bad %llu\n",
                (unsigned long long)r->count, (unsigned long long)want_count,
                (unsigned long long)r->sum, (unsigned long long)want_sum,
                (unsigned long long)r->bad);
    printf("RESULT metric=%.3f unit=%s check=%s sum=%llu\n", metric, name,
           ok ? "ok" : "FAIL", (unsigned long long)r->sum);
    return ok ? 0 : 1;
}

/* ---- tasks every workload uses ---------------------------------------- */

static inline rill_task_t *bench_spawn(rill_task_fn fn, void *arg)
{
    rill_task_t *t;
    BENCH_TRY(rill_spawn(&t, fn, arg, NULL));
    return t;
}

static inline void bench_join(rill_task_t *t)
{
    BENCH_TRY(rill_join(t, NULL));
}

/* A producer task: sends lo..hi one item per rill_send, then releases tx. */
typedef struct bench_producer {
    rill_sender_t *tx;
    uint64_t lo, hi;
} bench_producer_t;

static inline void *bench_produce(void *arg)
{
    bench_producer_t *p = arg;
    for (uint64_t i = p->lo; i < p->hi; i++)
        BENCH_TRY(rill_send(p->tx, &i));
    BENCH_TRY(rill_sender_release(p->tx));
    return NULL;
}

/* A consumer task: drains the stream s item by item with rill_next,
 * summing into run, then frees s. An error item counts as bad. */
typedef struct bench_drainer {
    rill_stream_t *s;
    bench_run_t run;
} bench_drainer_t;

static inline void *bench_drain(void *arg)
{
    bench_drainer_t *d = arg;
    uint64_t v;
    int rc;
    while ((rc = rill_next(d->s, &v)) != RILL_DONE) {
        if (rc == 0) {
            bench_add(&d->run, v);
        } else {
            d->run.bad++;
            if (rc != RILL_ELAGGED) /* not an item a stream goes on after */
                break;
        }
    }
    rill_stream_free(d->s);
    return NULL;
}

/* A bounded or unbounded channel of uint64_t, its receiver as a stream. */
static inline rill_stream_t *bench_channel_stream(rill_sender_t **tx,
                                                  size_t capacity)
{
    rill_receiver_t *rx;
    rill_stream_t *s;
    BENCH_TRY(rill_channel_new(tx, &rx, sizeof(uint64_t), capacity, NULL));
    BENCH_TRY(rill_receiver_into_stream(rx, &s));
    return s;
}

/*
 * bench_spsc - W1's shape: one producer task sends 0..BENCH_N into a
 * channel of `capacity`; one consumer task runs `consume` (bench_drain or
 * its kin) on the receiver stream, first given to `adapt` if not NULL.
 */
static inline void bench_spsc(bench_run_t *run, size_t capacity,
                              rill_task_fn consume,
                              int (*adapt)(rill_stream_t **s))
{
    bench_producer_t p = {NULL, 0, BENCH_N};
    bench_drainer_t d = {bench_channel_stream(&p.tx, capacity), {0, 0, 0}};
    if (adapt)
        BENCH_TRY(adapt(&d.s));
    rill_task_t *consumer = bench_spawn(consume, &d);
    bench_join(bench_spawn(bench_produce, &p));
    bench_join(consumer);
    *run = d.run;
}

/*
 * bench_main - the whole of a workload program's main: a 2-worker runtime
 * (untimed), then the clock around rill_block_on(top, &run), then the
 * check and the RESULT line. Returns the exit status.
 */
static inline int bench_main(rill_task_fn top, uint64_t want_count,
                             uint64_t want_sum, bench_unit_t unit)
{
    bench_run_t run = {0, 0, 0};
    rill_runtime_t *rt = bench_runtime();
    double t0 = bench_now();
    BENCH_TRY(rill_block_on(rt, top, &run, NULL));
    double secs = bench_now() - t0;
    rill_runtime_free(rt);
    return bench_report(&run, want_count, want_sum, unit, secs);
}

#endif
