/* SPDX-License-Identifier: MIT */
/*
 * queue_harness.c - a worker's local run queue (rt/queue.c, compiled with
 * RILL_MODEL and RILL_LOCALQ_CAP 4, so that a few tasks wrap the ring and
 * overflow it into the inject queue) under the model: the owner pushes
 * and pops, thieves steal half into their own queue and pop that.
 *
 * Property: every task pushed is taken exactly once (popped by the owner,
 * stolen and run or popped by a thief, or moved to the inject queue by an
 * overflow), and none is lost: what no thread took is still queued at the
 * end.
 */
#include "queue_harness.h"

#include "rt/rt_int.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_TASKS = 8, THREADS = 3 };

static struct {
    queue_scenario_t sc;
    struct rill_runtime rt;
    rill__worker_t w[THREADS];
    struct rill_task tasks[MAX_TASKS];
    int taken[MAX_TASKS]; /* how many times each task was taken */
} g;

static void take(struct rill_task *t)
{
    RILL_MODEL_CHECK(t >= g.tasks && t < g.tasks + g.sc.tasks);
    g.taken[t - g.tasks]++;
    RILL_MODEL_CHECK(g.taken[t - g.tasks] == 1);
}

void queue_setup(const queue_scenario_t *sc)
{
    memset(&g, 0, sizeof g);
    g.sc = *sc;
    g.rt.nworkers = 1 + (unsigned)sc->thieves;
    g.rt.workers = g.w;
    for (int i = 0; i <= sc->thieves; i++)
        rill__localq_init(&g.w[i].q);
}

void queue_owner(void)
{
    /* Push all, popping one after every second push (the ring wraps and,
     * with the thieves slow, overflows). */
    for (int k = 0; k < g.sc.tasks; k++) {
        rill__localq_push(&g.w[0].q, &g.tasks[k], &g.rt);
        if (k % 2 == 1) {
            struct rill_task *t = rill__localq_pop(&g.w[0].q);
            if (t)
                take(t);
        }
    }
    for (struct rill_task *t; (t = rill__localq_pop(&g.w[0].q));)
        take(t);
}

void queue_thief(int i)
{
    for (int round = 0; round < 2; round++) {
        struct rill_task *t = rill__localq_steal(&g.w[0].q, &g.w[i].q, 1);
        if (t)
            take(t);
        while ((t = rill__localq_pop(&g.w[i].q)))
            take(t);
    }
}

void queue_check(void)
{
    /* The owner ends with its queue empty, the thieves with theirs; what
     * overflowed waits in the inject queue. */
    for (struct rill_task *t = g.rt.inject_head; t; t = t->next)
        take(t);
    for (int i = 0; i <= g.sc.thieves; i++)
        RILL_MODEL_CHECK(rill__localq_is_empty(&g.w[i].q));
    for (int k = 0; k < g.sc.tasks; k++)
        RILL_MODEL_CHECK(g.taken[k] == 1);
}
