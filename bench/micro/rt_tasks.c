/* SPDX-License-Identifier: MIT */
/*
 * rt_tasks.c - runtime microbenchmarks (issue: runtime core):
 *   spawn_join_stackful_ns   spawn + join of an empty stackful task
 *   spawn_join_future_ns     spawn + join of an empty stackless future
 *   wake_thread_to_task_ns   a plain thread wakes a parked task, which
 *                            answers by waking the thread (round trip / 2)
 *   rss_per_stackful_B       RSS per parked stackful task (20,000 parked:
 *                            each stack is 2 mappings, vm.max_map_count
 *                            allows ~32,000)
 *   rss_per_future_B         RSS per parked stackless task (100,000 parked)
 *   sleep_1ms_us             how long rill_sleep(1 ms) really takes
 * Each figure is the median of 5 runs. Usage: rt_tasks [which]
 */
#include "must.h"
#include <rill.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median5(double v[5])
{
    qsort(v, 5, sizeof v[0], cmp_d);
    return v[2];
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * 4;
}

/* ---- spawn + join ---- */

static void *empty(void *arg)
{
    return arg;
}

typedef struct ready_fut {
    rill_future_t base;
} ready_fut_t;
static int ready_poll(rill_future_t *f, rill_cx_t *cx)
{
    (void)f;
    (void)cx;
    return 0;
}
static void ready_drop(rill_future_t *f)
{
    (void)f;
}
static const rill_future_vtable_t ready_vt = {ready_poll, NULL, ready_drop,
                                              NULL};

enum { SPAWN_N = 200000 };

static void *bench_spawn(void *arg)
{
    bool future = arg != NULL;
    static ready_fut_t futs[64];
    rill_task_t *t[64];
    int64_t t0 = now_ns();
    for (int i = 0; i < SPAWN_N; i += 64) {
        for (int k = 0; k < 64; k++) {
            if (future) {
                futs[k].base.vtable = &ready_vt;
                MUST(rill_spawn_future(&t[k], &futs[k].base, NULL));
            } else {
                MUST(rill_spawn(&t[k], empty, NULL, NULL));
            }
        }
        for (int k = 0; k < 64; k++)
            MUST(rill_join(t[k], NULL));
    }
    double *out = malloc(sizeof *out);
    *out = (double)(now_ns() - t0) / SPAWN_N;
    return out;
}

/* ---- wake latency: thread <-> task through two flag futures ---- */

typedef struct flag {
    rill_future_t base;
    atomic_int set;
    atomic_flag lock;
    rill_waker_t waker;
} flag_t;

static void lock(flag_t *f)
{
    while (atomic_flag_test_and_set_explicit(&f->lock, memory_order_acquire))
        ;
}
static void unlock(flag_t *f)
{
    atomic_flag_clear_explicit(&f->lock, memory_order_release);
}
static int flag_poll(rill_future_t *fu, rill_cx_t *cx)
{
    flag_t *f = (flag_t *)fu;
    lock(f);
    if (atomic_load(&f->set)) {
        atomic_store(&f->set, 0);
        unlock(f);
        return 0;
    }
    rill_waker_set(&f->waker, cx->waker);
    unlock(f);
    return RILL_PENDING;
}
static const rill_future_vtable_t flag_vt = {flag_poll, NULL, NULL, NULL};
static void flag_raise(flag_t *f)
{
    lock(f);
    atomic_store(&f->set, 1);
    rill_waker_t w = f->waker;
    f->waker = RILL_WAKER_NONE;
    unlock(f);
    rill_waker_wake(&w);
}

enum { PING_N = 20000 };
static flag_t ping, pong;

static void *pong_task(void *arg)
{
    (void)arg;
    for (int i = 0; i < PING_N; i++) {
        MUST(rill_await(&ping.base));
        flag_raise(&pong);
    }
    return NULL;
}

static double bench_wake(rill_runtime_t *rt)
{
    memset(&ping, 0, sizeof ping);
    memset(&pong, 0, sizeof pong);
    ping.base.vtable = pong.base.vtable = &flag_vt;
    rill_task_t *t;
    MUST(
        rill_spawn(&t, pong_task, NULL, &(rill_spawn_config_t){.runtime = rt}));
    int64_t t0 = now_ns();
    for (int i = 0; i < PING_N; i++) {
        flag_raise(&ping);
        MUST(rill_await(&pong.base));
    }
    double ns = (double)(now_ns() - t0) / PING_N / 2;
    MUST(rill_join(t, NULL));
    rill_waker_release(&ping.waker);
    rill_waker_release(&pong.waker);
    return ns;
}

/* ---- timer precision ---- */

static void *sleep_1ms(void *arg)
{
    (void)arg;
    double v[21];
    for (int i = 0; i < 21; i++) {
        int64_t t0 = now_ns();
        rill_sleep(RILL_MS(1));
        v[i] = (double)(now_ns() - t0) / 1000;
    }
    qsort(v, 21, sizeof v[0], cmp_d);
    double *out = malloc(sizeof *out);
    *out = v[10];
    return out;
}

/* ---- RSS per parked task ---- */

enum { PARK_N = 100000 };
static flag_t gate; /* never raised: tasks wait until cancelled */

static void *parked_task(void *arg)
{
    (void)arg;
    flag_t mine;
    memset(&mine, 0, sizeof mine);
    mine.base.vtable = &flag_vt;
    /* Never raised: the runtime's shutdown cancels the wait. */
    if (rill_await(&mine.base) != RILL_ECANCELED)
        abort();
    rill_waker_release(&mine.waker);
    return NULL;
}

typedef struct parked_fut {
    rill_future_t base;
    rill_waker_t waker;
} parked_fut_t;
static int parked_poll(rill_future_t *f, rill_cx_t *cx)
{
    parked_fut_t *p = (parked_fut_t *)f;
    rill_waker_set(&p->waker, cx->waker);
    return RILL_PENDING;
}
static int parked_cancel(rill_future_t *f)
{
    rill_waker_release(&((parked_fut_t *)f)->waker);
    return RILL_PENDING;
}
static const rill_future_vtable_t parked_vt = {parked_poll, parked_cancel, NULL,
                                               NULL};

static double bench_rss(bool future)
{
    const int n = future ? PARK_N : PARK_N / 5;
    rill_runtime_t *rt;
    MUST(rill_runtime_new(&rt, NULL));
    parked_fut_t *pf = future ? calloc(PARK_N, sizeof *pf) : NULL;
    long before = rss_kib();
    for (int i = 0; i < n; i++) {
        if (future) {
            pf[i].base.vtable = &parked_vt;
            MUST(rill_spawn_future(NULL, &pf[i].base,
                                   &(rill_spawn_config_t){.runtime = rt}));
        } else {
            MUST(rill_spawn(NULL, parked_task, NULL,
                            &(rill_spawn_config_t){.runtime = rt}));
        }
    }
    /* Wait until every task has been polled once (parked). */
    rill_runtime_stats_t st;
    do {
        rill_runtime_stats(rt, &st);
        sched_yield();
    } while (st.polls < (uint64_t)n);
    long after = rss_kib();
    rill_runtime_free(rt); /* cancels them all */
    free(pf);
    return (double)(after - before) * 1024 / n;
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    bool all = strcmp(which, "all") == 0;
    (void)gate;
    rill_runtime_t *rt;
    MUST(rill_runtime_new(&rt, NULL));
    double v[5];
    if (all || !strcmp(which, "spawn")) {
        for (int r = 0; r < 5; r++) {
            void *p;
            MUST(rill_block_on(rt, bench_spawn, NULL, &p));
            v[r] = *(double *)p;
            free(p);
        }
        printf("spawn_join_stackful_ns %.1f\n", median5(v));
        for (int r = 0; r < 5; r++) {
            void *p;
            MUST(rill_block_on(rt, bench_spawn, (void *)1, &p));
            v[r] = *(double *)p;
            free(p);
        }
        printf("spawn_join_future_ns %.1f\n", median5(v));
    }
    if (all || !strcmp(which, "wake")) {
        for (int r = 0; r < 5; r++)
            v[r] = bench_wake(rt);
        printf("wake_thread_to_task_ns %.0f\n", median5(v));
    }
    if (all || !strcmp(which, "sleep")) {
        void *p;
        MUST(rill_block_on(rt, sleep_1ms, NULL, &p));
        printf("sleep_1ms_us %.0f\n", *(double *)p);
        free(p);
    }
    rill_runtime_free(rt);
    if (all || !strcmp(which, "rss")) {
        printf("rss_per_stackful_B %.0f\n", bench_rss(false));
        printf("rss_per_future_B %.0f\n", bench_rss(true));
    }
    return 0;
}
