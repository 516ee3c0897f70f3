/* SPDX-License-Identifier: MIT */
/* tasks_and_timers.c - tasks awaiting a timer and joining (README). */
#include "check.h"
#include <rill.h>
#include <stdint.h>
#include <stdio.h>

static void *worker(void *arg)
{
    rill_sleep(RILL_MS((intptr_t)arg)); /* suspends this task only */
    return arg;
}

static void *main_task(void *arg)
{
    (void)arg;
    rill_task_t *t[3];
    for (intptr_t i = 0; i < 3; i++)
        CHECK(rill_spawn(&t[i], worker, (void *)(10 * (i + 1)), NULL));
    for (int i = 0; i < 3; i++) {
        void *r;
        CHECK(rill_join(t[i], &r));
        printf("task %d slept %ld ms\n", i, (long)(intptr_t)r);
    }
    return NULL;
}

int main(void)
{
    rill_runtime_t *rt;
    if (rill_runtime_new(&rt, NULL) != 0)
        return 1;
    int rc = rill_block_on(rt, main_task, NULL, NULL);
    rill_runtime_free(rt);
    return rc == 0 ? 0 : 1;
}
