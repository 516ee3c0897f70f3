/* SPDX-License-Identifier: MIT */
/*
 * W8 many-tasks: spawn 100,000 tasks, each waiting on its own oneshot;
 * then send to every one and join them all. Total ms; the harness
 * measures the peak RSS.
 *
 * The tasks are rill's stackless tasks (rill_spawn_future_in: no stack,
 * the future moved into the task's allocation, as tokio::spawn moves its
 * future into the task): each is a oneshot receive that stores what it
 * got in its slot of `got`.
 */
#include "bench_rill.h"

typedef struct waiter {
    rill_future_t base;
    rill_oneshot_receiver_t *rx;
    uint64_t *slot; /* where the value goes */
} waiter_t;

static int waiter_poll(rill_future_t *f, rill_cx_t *cx)
{
    waiter_t *w = (waiter_t *)f;
    return rill_oneshot_poll_recv(w->rx, cx, w->slot, sizeof *w->slot);
}

static void waiter_drop(rill_future_t *f)
{
    waiter_t *w = (waiter_t *)f;
    rill_oneshot_receiver_release(w->rx); /* the memory goes with the task */
}

static const rill_future_vtable_t waiter_vtable = {waiter_poll, NULL,
                                                   waiter_drop, NULL};

static void *top(void *arg)
{
    bench_run_t *run = arg;
    rill_oneshot_sender_t **tx = malloc(BENCH_TASKS * sizeof *tx);
    rill_task_t **task = malloc(BENCH_TASKS * sizeof *task);
    uint64_t *got = calloc(BENCH_TASKS, sizeof *got);
    if (!tx || !task || !got) {
        fprintf(stderr, "w8: out of memory\n");
        exit(1);
    }
    for (uint64_t i = 0; i < BENCH_TASKS; i++) {
        waiter_t w = {{&waiter_vtable}, NULL, &got[i]};
        BENCH_TRY(rill_oneshot_new(&tx[i], &w.rx, sizeof(uint64_t), NULL));
        BENCH_TRY(rill_spawn_future_in(&task[i], &w.base, sizeof w, NULL));
    }
    for (uint64_t i = 0; i < BENCH_TASKS; i++) {
        BENCH_TRY(rill_oneshot_send(tx[i], &i));
        BENCH_TRY(rill_oneshot_sender_release(tx[i]));
    }
    for (uint64_t i = 0; i < BENCH_TASKS; i++) {
        BENCH_TRY(rill_join(task[i], NULL));
        bench_add(run, got[i]);
    }
    free(tx);
    free(task);
    free(got);
    return NULL;
}

int main(void)
{
    return bench_main(top, BENCH_TASKS, bench_tri(BENCH_TASKS), BENCH_MS);
}
