/* SPDX-License-Identifier: MIT */
/*
 * map_async.c - rill_stream_map_async: fn runs in tasks, up to `limit` at
 * once, and may wait (futures' buffered / buffer_unordered). Also the
 * engine of rill_stream_for_each_concurrent (limit 0: no limit).
 *
 * Jobs. Each job is a slot with an input buffer, an output buffer and a
 * worker task of its own that loops: wait until the job is READY, run fn,
 * mark it DONE, wake the consumer. Jobs and workers are made on demand and
 * reused, so a long stream costs no allocation or spawn per item.
 *
 *     FREE --consumer fills `in`--> READY --worker--> RUNNING
 *          --fn returned--> DONE --consumer delivers `out`--> FREE
 *
 * The consumer (whoever polls the stream) moves items from upstream into
 * free jobs, then delivers a DONE job: ordered, the job of the next
 * sequence number (jobs[seq % limit], which is free whenever fewer than
 * limit are in flight); unordered, the first on the `done` list
 * (completion order). An upstream error item takes a job too when
 * ordered (already DONE, so it keeps its place); unordered it passes at
 * once.
 *
 * Locking: `mu` guards every job's state, status and waker, the consumer
 * waker, the done list and `shutdown`. Buffers are handed over through the
 * state changes under mu: `in` belongs to the consumer while FREE and to
 * the worker from READY; `out` to the worker while RUNNING and to the
 * consumer once DONE. Everything else is the consumer's.
 *
 * Drop: set shutdown, wake and cancel every worker (fn's waits return
 * RILL_ECANCELED) and join them all, so nothing touches the stream, fn's
 * user data or the buffers afterwards; then release what is left: inputs
 * never started (upstream's item destructor) and outputs never delivered
 * (this stream's).
 */
#include "rt/rt.h"
#include "stream_int.h"

#include <pthread.h>

enum { JOB_FREE, JOB_READY, JOB_RUNNING, JOB_DONE };

typedef struct map_async map_async_t;

typedef struct job {
    map_async_t *ma;
    rill__list_t link;  /* on ma->done while DONE (unordered); under mu */
    rill_task_t *task;  /* the worker serving this job */
    rill_waker_t waker; /* the worker, while it waits for work; under mu */
    int state, status;  /* JOB_*, fn's result; under mu */
    char *in, *out;     /* see the file comment */
} job_t;

struct map_async {
    rill_stream_t base;
    rill_stream_t *up; /* NULL once upstream ended */
    rill_runtime_t *rt;
    rill_map_fn fn;
    void *ud;
    size_t limit; /* jobs at most; 0: no limit */
    bool ordered;
    rill__item_drop_t in_drop;
    size_t in_size;
    pthread_mutex_t mu;
    rill_waker_t consumer; /* under mu */
    rill__list_t done;     /* under mu */
    bool shutdown;         /* under mu */
    /* The consumer's: */
    job_t **jobs; /* njobs made; capacity cap */
    size_t njobs, cap;
    job_t **free_jobs; /* unordered: a stack of FREE jobs */
    size_t nfree;
    uint64_t next_in, next_out; /* ordered: sequence numbers */
    size_t in_flight;           /* jobs not FREE */
};

/* ---- workers ---- */

typedef struct work_op {
    rill_future_t base;
    job_t *job;
} work_op_t;

/* Ready when the job has work (it becomes RUNNING) or on shutdown. */
static int work_poll(rill_future_t *f, rill_cx_t *cx)
{
    job_t *j = ((work_op_t *)f)->job;
    map_async_t *ma = j->ma;
    int r = RILL_PENDING;
    pthread_mutex_lock(&ma->mu);
    if (ma->shutdown) {
        r = RILL_DONE;
    } else if (j->state == JOB_READY) {
        j->state = JOB_RUNNING;
        r = 0;
    } else {
        rill_waker_set(&j->waker, cx->waker);
    }
    pthread_mutex_unlock(&ma->mu);
    return r;
}

static const rill_future_vtable_t work_vtable = {work_poll, NULL, NULL, NULL};

static void *worker(void *arg)
{
    job_t *j = arg;
    map_async_t *ma = j->ma;
    for (;;) {
        work_op_t op = {{&work_vtable}, j};
        if (rill_await(&op.base) != 0)
            return NULL; /* shutdown, or cancelled while idle */
        int status = ma->fn(ma->ud, j->in, j->out);
        pthread_mutex_lock(&ma->mu);
        j->status = status < 0 ? status : 0;
        j->state = JOB_DONE;
        if (!ma->ordered)
            rill__list_push_back(&ma->done, &j->link);
        rill_waker_t w = ma->consumer; /* the consumer re-registers */
        ma->consumer = RILL_WAKER_NONE;
        pthread_mutex_unlock(&ma->mu);
        rill_waker_wake(&w);
    }
}

/* ---- the consumer ---- */

/* A free job for the next input, made (with its worker) if need be;
 * NULL when at the limit. *err: why none could be made. */
static job_t *free_job(map_async_t *ma, int *err)
{
    *err = 0;
    if (ma->limit && ma->in_flight >= ma->limit)
        return NULL;
    size_t i;
    if (ma->ordered) {
        i = (size_t)(ma->next_in % ma->limit);
        if (i < ma->njobs)
            return ma->jobs[i];
        RILL_ASSERT(i == ma->njobs); /* slots are first used in order */
    } else if (ma->nfree > 0) {
        return ma->free_jobs[--ma->nfree];
    }
    if (ma->njobs == ma->cap) {
        size_t cap = ma->cap ? ma->cap * 2 : 8;
        job_t **jobs = rill__realloc(ma->jobs, cap * sizeof *jobs);
        if (jobs)
            ma->jobs = jobs;
        job_t **fj =
            jobs ? rill__realloc(ma->free_jobs, cap * sizeof *fj) : NULL;
        if (!fj) {
            *err = RILL_ENOMEM;
            return NULL;
        }
        ma->free_jobs = fj;
        ma->cap = cap;
    }
    job_t *j = rill__calloc(1, sizeof *j);
    if (!j || !(j->in = rill__malloc(ma->in_size)) ||
        !(j->out = rill__malloc(ma->base.item_size))) {
        *err = RILL_ENOMEM;
        goto free_job;
    }
    j->ma = ma;
    j->state = JOB_FREE;
    if ((*err = rill_spawn(&j->task, worker, j,
                           &(rill_spawn_config_t){.runtime = ma->rt})))
        goto free_job;
    ma->jobs[ma->njobs++] = j;
    return j;
free_job:
    if (j) {
        rill__free(j->in);
        rill__free(j->out);
    }
    rill__free(j);
    return NULL;
}

/* Hand a job filled by the consumer to its worker (READY), or, for an
 * ordered error item, mark it DONE with that error. */
static void submit(map_async_t *ma, job_t *j, int error_item)
{
    rill_waker_t w = RILL_WAKER_NONE;
    pthread_mutex_lock(&ma->mu);
    j->state = error_item ? JOB_DONE : JOB_READY;
    j->status = error_item;
    if (!error_item) {
        w = j->waker;
        j->waker = RILL_WAKER_NONE;
    }
    pthread_mutex_unlock(&ma->mu);
    rill_waker_wake(&w);
    ma->in_flight++;
    ma->next_in++;
}

/* Under mu: the job to deliver now, or NULL. */
static job_t *deliverable(map_async_t *ma)
{
    if (!ma->ordered) {
        rill__list_t *l = rill__list_pop_front(&ma->done);
        return l ? RILL_CONTAINER_OF(l, job_t, link) : NULL;
    }
    size_t i = (size_t)(ma->next_out % ma->limit);
    if (ma->next_out < ma->next_in && ma->jobs[i]->state == JOB_DONE)
        return ma->jobs[i];
    return NULL;
}

static int map_async_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    map_async_t *ma = (map_async_t *)s;
    int err = 0;
    /* Fill free jobs from upstream. */
    while (ma->up) {
        job_t *j = free_job(ma, &err);
        if (!j)
            break;
        int r = rill_stream_poll_next(ma->up, cx, j->in);
        if (r == RILL_PENDING || r == RILL_DONE) {
            if (!ma->ordered)
                ma->free_jobs[ma->nfree++] = j; /* unused after all */
            if (r == RILL_DONE)
                rill__stream_release(&ma->up);
            break;
        }
        if (r < 0 && !ma->ordered) {
            ma->free_jobs[ma->nfree++] = j;
            return r; /* unordered: an error item passes at once */
        }
        submit(ma, j, r);
    }
    /* Deliver one, or register and wait. */
    pthread_mutex_lock(&ma->mu);
    job_t *j = deliverable(ma);
    if (!j && (ma->in_flight > 0 || ma->up))
        rill_waker_set(&ma->consumer, cx->waker);
    if (j)
        j->state = JOB_FREE;
    pthread_mutex_unlock(&ma->mu);
    if (!j) {
        if (err && ma->in_flight == 0)
            return err; /* no job could be made at all: an error item */
        return ma->in_flight > 0 || ma->up ? RILL_PENDING : RILL_DONE;
    }
    int status = j->status;
    if (status == 0)
        memcpy(out, j->out, s->item_size);
    ma->in_flight--;
    ma->next_out++;
    if (!ma->ordered)
        ma->free_jobs[ma->nfree++] = j;
    return status;
}

static void map_async_drop(rill_stream_t *s)
{
    map_async_t *ma = (map_async_t *)s;
    pthread_mutex_lock(&ma->mu);
    ma->shutdown = true;
    pthread_mutex_unlock(&ma->mu);
    for (size_t i = 0; i < ma->njobs; i++) {
        job_t *j = ma->jobs[i];
        pthread_mutex_lock(&ma->mu);
        rill_waker_t w = j->waker;
        j->waker = RILL_WAKER_NONE;
        pthread_mutex_unlock(&ma->mu);
        rill_waker_wake(&w);
        rill_task_cancel(j->task);
    }
    /* Join them all before freeing any job: a running worker links its
     * job next to others on the done list. Shielded: a stream dropped by
     * a cancelled task must still wait, or the jobs are freed under their
     * workers. A worker's own result is of no interest here (it was
     * cancelled, or its item is dropped below). */
    for (size_t i = 0; i < ma->njobs; i++)
        RILL__DISCARD(rill__join_shielded(ma->jobs[i]->task, NULL));
    /* The workers are gone: no lock needed from here on. */
    rill__item_drop_t out_drop = rill__item_drop_of(s);
    for (size_t i = 0; i < ma->njobs; i++) {
        job_t *j = ma->jobs[i];
        if (j->state == JOB_READY)
            rill__items_drop(&ma->in_drop, j->in, 1, ma->in_size);
        else if (j->state == JOB_DONE && j->status == 0)
            rill__items_drop(&out_drop, j->out, 1, s->item_size);
        rill__free(j->in);
        rill__free(j->out);
        rill__free(j);
    }
    rill_stream_free(ma->up);
    rill_waker_release(&ma->consumer);
    pthread_mutex_destroy(&ma->mu);
    rill__free(ma->jobs);
    rill__free(ma->free_jobs);
    rill__free(ma);
}

static int map_async_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const map_async_t *ma = (const map_async_t *)s;
    return rill__describe_over(buf, len, ma->up, "map_async (%s, limit %zu)",
                               ma->ordered ? "ordered" : "unordered",
                               ma->limit);
}

static const rill_stream_vtable_t map_async_vtable = {
    map_async_poll_next, NULL, map_async_drop, map_async_describe};

int rill__map_async_new(const char *api, rill_stream_t **s, size_t limit,
                        bool ordered, rill_map_fn fn, void *ud, size_t out_size)
{
    RILL__CHECK_STREAM(api, s);
    if (!fn || out_size == 0 || (ordered && limit == 0))
        return RILL_MISUSE(api, "NULL fn, out_size 0 or limit 0");
    rill_runtime_t *rt = rill_runtime_current();
    if (!rt)
        return RILL_MISUSE(api, "needs a runtime: call it from a task");
    map_async_t *ma = rill__stream_new(sizeof *ma, &map_async_vtable, out_size);
    if (!ma)
        return RILL_ENOMEM;
    if (pthread_mutex_init(&ma->mu, NULL)) {
        rill__free(ma);
        return RILL_ENOMEM;
    }
    ma->up = *s;
    ma->rt = rt;
    ma->fn = fn;
    ma->ud = ud;
    ma->limit = limit;
    ma->ordered = ordered;
    ma->in_drop = rill__item_drop_of(*s);
    ma->in_size = (*s)->item_size;
    rill__list_init(&ma->done);
    *s = &ma->base;
    return 0;
}

int rill_stream_map_async(rill_stream_t **s, size_t limit, rill_order_t order,
                          rill_map_fn fn, void *ud, size_t out_size)
{
    if (limit == 0 || (order != RILL_ORDERED && order != RILL_UNORDERED))
        return RILL_MISUSE("rill_stream_map_async", "limit 0 or unknown order");
    return rill__map_async_new("rill_stream_map_async", s, limit,
                               order == RILL_ORDERED, fn, ud, out_size);
}
