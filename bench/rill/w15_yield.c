/* SPDX-License-Identifier: MIT */
/*
 * W15 yield: 10,000 tasks each yield 1,000 times (rill_yield; tokio's
 * yield_now, Go's runtime.Gosched). ns per yield over the 10M yields.
 * Each task counts its own yields (k = 0..999 summed); the top task joins
 * them all and checks the total.
 *
 * By hand: `rill_w15_yield [workers] [pinned]` runs on that many workers
 * (default 2, as the harness runs it), with pinned tasks if asked
 * (docs/performance.md compares them).
 */
#include "bench_rill.h"

#include <string.h>

#define YIELD_TASKS 10000ULL
#define YIELDS_EACH 1000ULL

static bool pinned;

typedef struct yielder {
    uint64_t sum, count;
} yielder_t;

static void *yielder(void *arg)
{
    yielder_t *y = arg;
    for (uint64_t k = 0; k < YIELDS_EACH; k++) {
        BENCH_TRY(rill_yield());
        y->sum += k;
        y->count++;
    }
    return NULL;
}

static void *top(void *arg)
{
    bench_run_t *run = arg;
    rill_task_t **task = malloc(YIELD_TASKS * sizeof *task);
    yielder_t *y = calloc(YIELD_TASKS, sizeof *y);
    if (!task || !y) {
        fprintf(stderr, "w15: out of memory\n");
        exit(1);
    }
    rill_spawn_config_t cfg = {.pinned = pinned};
    for (uint64_t i = 0; i < YIELD_TASKS; i++)
        BENCH_TRY(rill_spawn(&task[i], yielder, &y[i], &cfg));
    for (uint64_t i = 0; i < YIELD_TASKS; i++) {
        bench_join(task[i]);
        run->sum += y[i].sum;
        run->count += y[i].count;
    }
    free(task);
    free(y);
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned workers = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
    pinned = argc > 2 && strcmp(argv[2], "pinned") == 0;
    rill_runtime_config_t cfg;
    rill_runtime_t *rt;
    rill_runtime_config_init(&cfg);
    cfg.workers = workers;
    BENCH_TRY(rill_runtime_new(&rt, &cfg));
    bench_run_t run = {0, 0, 0};
    double t0 = bench_now();
    BENCH_TRY(rill_block_on(rt, top, &run, NULL));
    double secs = bench_now() - t0;
    rill_runtime_free(rt);
    return bench_report(&run, YIELD_TASKS * YIELDS_EACH,
                        YIELD_TASKS * bench_tri(YIELDS_EACH), BENCH_NS_EACH,
                        secs);
}
