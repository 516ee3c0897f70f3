/* SPDX-License-Identifier: MIT */
/*
 * runtime.c - the runtime object: configuration, start, block_on,
 * shutdown, counters, and the blocking pool's task handles.
 *
 * Shutdown is structured: set shutting_down (new spawns fail), cancel every
 * live task (each then sees RILL_ECANCELED from its pending operation and
 * unwinds), wait until none is alive, stop the workers, join them, free.
 */
#include "deadlock.h"
#include "rt_int.h"

#include <string.h>
#include <unistd.h>

#define DEFAULT_STACK (64 * 1024)
#define DEFAULT_BLOCKING 64
#define DEFAULT_BLOCKING_IDLE RILL_SEC(10)
#define DEFAULT_BUDGET 128
#define MAX_WORKERS 256

void rill_runtime_config_init(rill_runtime_config_t *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->stack_overflow_handler = true;
    cfg->deadlock = RILL_DEADLOCK_FAIL;
}

static int config_resolve(rill_runtime_config_t *c)
{
    if (c->workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->workers = n > 0 ? (unsigned)n : 1;
        if (c->workers > MAX_WORKERS)
            c->workers = MAX_WORKERS;
    }
    if (c->workers > MAX_WORKERS)
        return RILL_MISUSE("rill_runtime_new", "workers %u > %d", c->workers,
                           MAX_WORKERS);
    if (c->stack_size == 0)
        c->stack_size = DEFAULT_STACK;
    if (c->stack_size < 16 * 1024 || c->stack_size > 64 * 1024 * 1024)
        return RILL_MISUSE("rill_runtime_new",
                           "stack_size %zu out of range [16 KiB, 64 MiB]",
                           c->stack_size);
    if (c->blocking_threads == 0)
        c->blocking_threads = DEFAULT_BLOCKING;
    if (c->blocking_idle <= 0)
        c->blocking_idle = DEFAULT_BLOCKING_IDLE;
    if (c->coop_budget == 0)
        c->coop_budget = DEFAULT_BUDGET;
    if (c->deadlock == RILL_DEADLOCK_DEFAULT)
        c->deadlock = RILL_DEADLOCK_FAIL;
    if ((unsigned)c->deadlock > RILL_DEADLOCK_ABORT)
        return RILL_MISUSE("rill_runtime_new", "deadlock mode %d unknown",
                           (int)c->deadlock);
    return 0;
}

static void runtime_destroy(struct rill_runtime *rt)
{
    rill__diag_fini(rt);
    rill__reactor_free(rt->reactor);
    rill__blocking_pool_free(rt->blocking);
    rill__stack_pool_free(rt->stacks);
    for (unsigned i = 0; i < RILL_LIVE_SHARDS; i++)
        pthread_mutex_destroy(&rt->live[i].lock);
    pthread_mutex_destroy(&rt->inject_lock);
    pthread_mutex_destroy(&rt->idle_lock);
    pthread_mutex_destroy(&rt->timer_lock);
    rill__free(rt->sleepers);
    for (unsigned i = 0; rt->workers && i < rt->nworkers; i++)
        pthread_mutex_destroy(&rt->workers[i].pin_lock);
    rill__free(rt->workers);
    rill__free(rt);
}

static void stop_workers(struct rill_runtime *rt, unsigned started)
{
    /* release: a worker that sees it (acquire) after the wake below sees
     * the shutdown that came before; the wake itself is the signal. */
    rill__store(&rt->stopping, true, RILL_RELEASE);
    for (unsigned i = 0; i < started; i++)
        rill__wake_worker(rt, i);
    for (unsigned i = 0; i < started; i++)
        pthread_join(rt->workers[i].thread, NULL);
}

int rill_runtime_new(rill_runtime_t **out, const rill_runtime_config_t *cfg)
{
    if (!out)
        return RILL_MISUSE("rill_runtime_new", "NULL out pointer");
    *out = NULL;
    rill_runtime_config_t c;
    if (cfg)
        c = *cfg;
    else
        rill_runtime_config_init(&c);
    int rc = config_resolve(&c);
    if (rc)
        return rc;

    struct rill_runtime *rt = rill__calloc(1, sizeof *rt);
    if (!rt)
        return RILL_ENOMEM;
    rt->cfg = c;
    rt->nworkers = c.workers;
    pthread_mutex_init(&rt->inject_lock, NULL);
    pthread_mutex_init(&rt->idle_lock, NULL);
    pthread_mutex_init(&rt->timer_lock, NULL);
    for (unsigned i = 0; i < RILL_LIVE_SHARDS; i++) {
        pthread_mutex_init(&rt->live[i].lock, NULL);
        rill__list_init(&rt->live[i].list);
    }
    rill__timers_init(rt);
    rill__diag_init(rt);
    rt->workers = rill__calloc(c.workers, sizeof *rt->workers);
    rt->sleepers = rill__calloc(c.workers, sizeof *rt->sleepers);
    if (!rt->workers || !rt->sleepers) {
        runtime_destroy(rt);
        return RILL_ENOMEM;
    }
    for (unsigned i = 0; i < c.workers; i++)
        pthread_mutex_init(&rt->workers[i].pin_lock, NULL);
    rc = rill__stack_pool_new(&rt->stacks, c.stack_size);
    if (!rc)
        rc = rill__reactor_new(rt, &rt->reactor);
    if (!rc)
        rc = rill__blocking_pool_new(&rt->blocking, c.blocking_threads,
                                     c.blocking_idle);
    if (rc) {
        runtime_destroy(rt);
        return rc;
    }
    if (c.stack_overflow_handler)
        rill__stack_overflow_install();

    for (unsigned i = 0; i < c.workers; i++) {
        rill__worker_t *w = &rt->workers[i];
        rill__localq_init(&w->q);
        w->rt = rt;
        w->index = i;
        w->rng = 0x9e3779b9u * (i + 1);
    }
    for (unsigned i = 0; i < c.workers; i++) {
        if (pthread_create(&rt->workers[i].thread, NULL, rill__worker_main,
                           &rt->workers[i]) != 0) {
            stop_workers(rt, i);
            runtime_destroy(rt);
            return RILL_ESYS;
        }
    }
    *out = rt;
    return 0;
}

int rill_block_on(rill_runtime_t *rt, rill_task_fn fn, void *arg, void **result)
{
    if (!rt || !fn)
        return RILL_MISUSE("rill_block_on", "NULL runtime or function");
    if (rill__tls_worker() || rill__tls_task())
        return RILL_MISUSE("rill_block_on",
                           "called from inside a rill task or worker: it "
                           "would block a worker (spawn and join instead)");
    rill_task_t *t;
    rill_spawn_config_t o = {.runtime = rt, .name = "block_on"};
    int rc = rill_spawn(&t, fn, arg, &o);
    if (rc)
        return rc;
    return rill__block_on_wait(rt, t, result);
}

int rill_run(rill_task_fn fn, void *arg, void **result,
             const rill_runtime_config_t *cfg)
{
    if (!fn)
        return RILL_MISUSE("rill_run", "NULL function");
    if (rill__tls_worker() || rill__tls_task())
        return RILL_MISUSE("rill_run", "called from inside a rill task or "
                                       "worker (spawn and join instead)");
    rill_runtime_t *rt;
    int rc = rill_runtime_new(&rt, cfg);
    if (rc)
        return rc;
    rc = rill_block_on(rt, fn, arg, result);
    rill_runtime_free(rt);
    return rc;
}

/* On one of rt's workers (in a task of rt, or a future it polls) shutdown
 * and free would wait for the caller itself: refuse instead of hanging. */
static bool on_own_worker(rill_runtime_t *rt, const char *api)
{
    if (rill__blocking_in_pool(rt->blocking)) {
        (void)RILL_MISUSE(api, "called from a blocking job of the runtime: "
                               "it would wait for itself (call it from a "
                               "plain thread)");
        return true;
    }
    if (rill__current_runtime() != rt)
        return false;
    (void)RILL_MISUSE(api, "called from a task of the runtime: it would "
                           "wait for itself (call it from a plain thread)");
    return true;
}

void rill_runtime_shutdown(rill_runtime_t *rt)
{
    if (!rt || on_own_worker(rt, "rill_runtime_shutdown"))
        return;
    /* seq_cst: the Dekker pair with rill__task_complete (we store this,
     * then read alive; it decrements alive, then reads this), so the last
     * task never leaves the wait below asleep; spawns read it under the
     * shard locks the cancel loop takes. */
    rill__store(&rt->shutting_down, true, RILL_SEQ_CST);
    /* Cancel every live task. Cancelling wakes it, which may schedule it;
     * schedule takes the inject/idle locks, never a shard lock, so holding
     * the shard lock here cannot deadlock. A task completing concurrently
     * removes itself under the same lock, so the pointer stays valid. */
    for (unsigned i = 0; i < RILL_LIVE_SHARDS; i++) {
        pthread_mutex_lock(&rt->live[i].lock);
        for (rill__list_t *l = rt->live[i].list.next; l != &rt->live[i].list;
             l = l->next) {
            struct rill_task *t = RILL_CONTAINER_OF(l, struct rill_task, live);
            /* acq_rel: as rill_task_cancel (task.c). */
            uint64_t s = rill__fetch_or(&t->state, TS_CANCELLED, RILL_ACQ_REL);
            if (s & (TS_COMPLETE | TS_CANCELLED))
                continue;
            if (t->kind != TASK_BLOCKING)
                rill__task_wake_by_ref(t);
        }
        pthread_mutex_unlock(&rt->live[i].lock);
    }
    /* Blocking jobs that have not started are cancelled by the pool's
     * shutdown below; running ones are waited for. */
    rill__blocking_pool_shutdown(rt->blocking);
    for (;;) {
        /* acquire: the futex word before the count (futex protocol: a
         * completion bumps the word after the count, then wakes). */
        uint32_t word = rill__load(&rt->alive_word, RILL_ACQUIRE);
        /* seq_cst: see rill__task_complete. */
        if (rill__load(&rt->alive, RILL_SEQ_CST) == 0)
            break;
        rill__futex_wait(&rt->alive_word, word, RILL_FOREVER);
    }
}

void rill_runtime_free(rill_runtime_t *rt)
{
    if (!rt || on_own_worker(rt, "rill_runtime_free"))
        return;
    rill_runtime_shutdown(rt);
    stop_workers(rt, rt->nworkers);
    runtime_destroy(rt);
}

int rill_runtime_stats(rill_runtime_t *rt, rill_runtime_stats_t *out)
{
    if (!rt || !out)
        return RILL_MISUSE("rill_runtime_stats", "NULL argument");
    memset(out, 0, sizeof *out);
    /* relaxed: statistics, each value read atomically on its own. */
    out->tasks_spawned = rill__load(&rt->spawned, RILL_RELAXED);
    out->tasks_alive = rill__load(&rt->alive, RILL_RELAXED);
    out->wakeups = rill__load(&rt->foreign_wakeups, RILL_RELAXED);
    for (unsigned i = 0; i < rt->nworkers; i++) {
        rill__worker_t *w = &rt->workers[i];
        out->polls += rill__load(&w->polls, RILL_RELAXED);
        out->steals += rill__load(&w->steals, RILL_RELAXED);
        out->parks += rill__load(&w->parks, RILL_RELAXED);
        out->wakeups += rill__load(&w->wakeups, RILL_RELAXED);
    }
    out->timers_fired = rill__load(&rt->timers_fired, RILL_RELAXED);
    rill__blocking_stats_t bs;
    rill__blocking_stats(rt->blocking, &bs);
    out->blocking_jobs = bs.jobs_run;
    out->blocking_threads = bs.threads;
    out->workers = rt->nworkers;
    out->deadlocks = rill__load(&rt->deadlocks, RILL_RELAXED);
    return 0;
}

/* ---- blocking pool as tasks ---- */

/* A job counts as active from submit to its end: while any is, the
 * virtual clock stands still (the job may still send something). */
void rill__blocking_job_done(struct rill_runtime *rt)
{
    /* release: the job's effects are visible before the clock may move
     * (pairs with the virtual clock's acquire load; rt_int.h). */
    rill__fetch_sub(&rt->blocking_active, 1, RILL_RELEASE);
    if (rt->cfg.virtual_clock)
        rill__notify_work(rt);
}

static void blocking_run(rill__blocking_job_t *job, bool cancelled)
{
    struct rill_task *t = RILL_CONTAINER_OF(job, struct rill_task, u.bl.job);
    struct rill_runtime *rt = t->rt;
    /* RUNNING marks a started job for the dump (nothing else looks at
     * the bit of a blocking task; completion clears it). */
    if (!cancelled)
        rill__fetch_or(&t->state, TS_RUNNING, RILL_RELAXED);
    if (cancelled || (rill__load(&t->state, RILL_ACQUIRE) & TS_CANCELLED))
        rill__task_complete(t, RILL_ECANCELED, NULL);
    else
        rill__task_complete(t, 0, t->u.bl.fn(t->u.bl.arg));
    rill__blocking_job_done(rt);
    rill__task_ref_dec(t); /* the job's reference */
}

int rill_spawn_blocking(rill_task_t **task, rill_task_fn fn, void *arg,
                        const rill_spawn_config_t *cfg)
{
    if (task)
        *task = NULL;
    rill_runtime_t *rt =
        cfg && cfg->runtime ? cfg->runtime : rill__current_runtime();
    if (!rt)
        return RILL_MISUSE("rill_spawn_blocking", "no runtime");
    if (!fn)
        return RILL_MISUSE("rill_spawn_blocking", "NULL function");
    struct rill_task *t;
    int rc = rill__task_new(rt, TASK_BLOCKING, cfg, task != NULL, &t);
    if (rc)
        return rc;
    t->u.bl.fn = fn;
    t->u.bl.arg = arg;
    t->u.bl.job.run = blocking_run;
    if (task)
        *task = t;
    /* acq_rel: counted before the pool can run it (rt_int.h says why). */
    rill__fetch_add(&rt->blocking_active, 1, RILL_ACQ_REL);
    rc = rill__blocking_submit(rt->blocking, &t->u.bl.job);
    if (rc) {
        rill__blocking_job_done(rt);
        if (task)
            *task = NULL;
        rill__task_complete(t, rc, NULL);
        if (task)
            rill__task_ref_dec(t); /* the handle we no longer return */
        rill__task_ref_dec(t);     /* the job's */
        return rc;
    }
    return 0;
}
