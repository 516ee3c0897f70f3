/* SPDX-License-Identifier: MIT */
/*
 * ctx_switch.c - what one fiber switch costs (src/rt/switch.h), beside
 * swapcontext for comparison.
 *
 * A thread and one fiber bounce control back and forth; the time per
 * switch is the elapsed time over the number of switches (two per round
 * trip). Each figure is the median of 5 runs. The fiber checks a counter
 * at every turn, so a broken switch fails loudly instead of measuring
 * nonsense (this is also how the aarch64 switch is checked under qemu).
 *
 * Prints:
 *   ctx_switch_ns <median ns per rill__fiber_switch>
 *   swapcontext_ns <median ns per swapcontext>
 *
 * Build (not part of the test suite):
 *   cc -O2 -Iinclude -Isrc bench/micro/ctx_switch.c build/release/librill.a
 * -lpthread
 */
#include "rt/stack.h"
#include "rt/switch.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

#define RUNS 5
#define FIBER_ROUNDS 5000000L /* 10 M switches per run */
#define UCTX_ROUNDS 100000L   /* 200 k switches per run: it is slow */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void die(const char *what)
{
    fprintf(stderr, "ctx_switch: %s\n", what);
    exit(1);
}

/* ---- rill fibers ---- */
static rill__fiber_t thread_f, bounce_f;
static long turns; /* bumped by each side in turn */
static long rounds;

static void bouncer(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        if (turns != 2 * i)
            die("fiber saw a wrong count");
        turns++;
        rill__fiber_switch(&bounce_f, &thread_f);
    }
    rill__fiber_exit(&bounce_f, &thread_f);
}

static double fiber_run(rill__stack_t *s)
{
    rill__fiber_init(&bounce_f, s->lo, s->size, bouncer, NULL);
    turns = 0;
    rounds = FIBER_ROUNDS;
    double t0 = now_ns();
    for (long i = 0; i < rounds; i++) {
        rill__fiber_switch(&thread_f, &bounce_f);
        turns++;
    }
    double t1 = now_ns();
    rill__fiber_switch(&thread_f, &bounce_f); /* let it exit */
    rill__fiber_destroy(&bounce_f);
    if (turns != 2 * rounds)
        die("thread saw a wrong count");
    return (t1 - t0) / (2.0 * (double)rounds);
}

/* ---- swapcontext ---- */
static ucontext_t thread_uc, bounce_uc;

static void uc_bouncer(void)
{
    for (;;) {
        turns++;
        swapcontext(&bounce_uc, &thread_uc);
    }
}

static double uctx_run(rill__stack_t *s)
{
    getcontext(&bounce_uc);
    bounce_uc.uc_stack.ss_sp = s->lo;
    bounce_uc.uc_stack.ss_size = s->size;
    bounce_uc.uc_link = NULL;
    makecontext(&bounce_uc, uc_bouncer, 0);
    turns = 0;
    double t0 = now_ns();
    for (long i = 0; i < UCTX_ROUNDS; i++) {
        swapcontext(&thread_uc, &bounce_uc);
        turns++;
    }
    double t1 = now_ns();
    if (turns != 2 * UCTX_ROUNDS)
        die("swapcontext saw a wrong count");
    return (t1 - t0) / (2.0 * (double)UCTX_ROUNDS);
}

int main(void)
{
    rill__stack_pool_t *pool;
    rill__stack_t *s;
    if (rill__stack_pool_new(&pool, 64 << 10) || rill__stack_get(pool, 0, &s))
        die("no stack");
    rill__fiber_init_thread(&thread_f);

    double fib[RUNS], uc[RUNS];
    fiber_run(s); /* warm up: fault in the stack pages, train branches */
    for (int i = 0; i < RUNS; i++)
        fib[i] = fiber_run(s);
    for (int i = 0; i < RUNS; i++)
        uc[i] = uctx_run(s);
    printf("ctx_switch_ns %.1f\n", median(fib, RUNS));
    printf("swapcontext_ns %.1f\n", median(uc, RUNS));

    rill__fiber_destroy(&thread_f);
    rill__stack_put(pool, s);
    rill__stack_pool_free(pool);
    return 0;
}
