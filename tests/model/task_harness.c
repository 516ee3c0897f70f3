/* SPDX-License-Identifier: MIT */
/*
 * task_harness.c - the task state word (TS_* in rt_int.h) under the model:
 * wakes from plain threads (task.c's rill__task_wake_by_ref: set NOTIFIED,
 * schedule only an idle task) against workers running the task (sched.c's
 * run_task, which clears NOTIFIED and sets RUNNING, and after_pending,
 * which clears RUNNING and re-queues the task if it was notified
 * meanwhile). sched.c is included whole, so its static functions are the
 * ones called (run_task, next_local); task.c, queue.c and the rest come
 * from the model build of the library.
 *
 * The task is a future that completes once both wakers have set their
 * flag (relaxed stores: what the poll sees of them travels only through
 * the state word's release/acquire, as an item in a channel does).
 * Properties: the task completes (no wake is lost: a wake after the last
 * poll's look at the flags must lead to another poll), it is never polled
 * by two workers at once nor after it completed (no double schedule).
 */
#include "rt/sched.c"

#include "task_harness.h"

#include <string.h>

enum { WORKERS = 2, WAKERS = 2 };

static struct {
    struct rill_runtime rt;
    rill__worker_t w[WORKERS];
    struct rill_task *t;
    rill_future_t fut;
    rill_future_vtable_t vt;
    rill_waker_t wk[WAKERS];
    _Atomic uint32_t flag[WAKERS];
    _Atomic uint32_t wakers_done;
    _Atomic uint32_t in_poll;
    bool completed;
} g;

static int fut_poll(rill_future_t *f, rill_cx_t *cx)
{
    (void)f;
    (void)cx;
    /* Two workers running the task at once: a double schedule. */
    RILL_MODEL_CHECK(rill__fetch_add(&g.in_poll, 1, RILL_RELAXED) == 0);
    RILL_MODEL_CHECK(!g.completed);
    bool ready = true;
    for (int i = 0; i < WAKERS; i++)
        ready = ready && rill__load(&g.flag[i], RILL_RELAXED) == 1;
    rill__fetch_sub(&g.in_poll, 1, RILL_RELAXED);
    if (!ready)
        return RILL_PENDING;
    g.completed = true;
    return 0;
}

void task_setup(void)
{
    memset(&g, 0, sizeof g);
    g.rt.nworkers = WORKERS;
    g.rt.workers = g.w;
    g.rt.cfg.coop_budget = 128;
    rill__store(&g.rt.next_deadline, RILL_FOREVER, RILL_RELAXED);
    for (int i = 0; i < RILL_LIVE_SHARDS; i++)
        rill__list_init(&g.rt.live[i].list);
    for (unsigned i = 0; i < WORKERS; i++) {
        g.w[i].rt = &g.rt;
        g.w[i].index = i;
        rill__localq_init(&g.w[i].q);
    }
    g.vt.poll = fut_poll;
    g.fut.vtable = &g.vt;
    RILL_MODEL_CHECK(rill__task_new(&g.rt, TASK_FUTURE, NULL, false, &g.t) ==
                     0);
    g.t->u.fu.fut = &g.fut;
    rill_waker_t base = rill__task_waker(g.t);
    for (int i = 0; i < WAKERS; i++)
        g.wk[i] = rill_waker_clone(&base);
    rill__task_schedule(g.t, true); /* as spawn does, from outside */
}

void task_worker(int i)
{
    rill__worker_t *w = &g.w[i];
    for (;;) {
        struct rill_task *t = next_local(w);
        if (t) {
            run_task(w, t);
            continue;
        }
        /* acquire: pairs with the wakers' release, so the look below
         * sees every queue push they made. */
        if (rill__load(&g.wakers_done, RILL_ACQUIRE) == WAKERS) {
            if (!(t = next_local(w)))
                return;
            run_task(w, t);
            continue;
        }
        rill__model_yield(RILL__MODEL_AT);
    }
}

void task_waker(int i)
{
    rill__store(&g.flag[i], 1, RILL_RELAXED);
    rill_waker_wake(&g.wk[i]);
    rill__fetch_add(&g.wakers_done, 1, RILL_RELEASE);
}

void task_check(void)
{
    /* A wake lost: the task is left pending with both flags set. */
    RILL_MODEL_CHECK(g.completed);
    for (int i = 0; i < WORKERS; i++)
        RILL_MODEL_CHECK(rill__localq_is_empty(&g.w[i].q) && !g.w[i].lifo &&
                         !g.w[i].out_len);
    RILL_MODEL_CHECK(!g.rt.inject_head);
}
