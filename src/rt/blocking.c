/* SPDX-License-Identifier: MIT */
/*
 * blocking.c - the blocking pool (after tokio's spawn_blocking pool and
 * libuv's threadpool.c).
 *
 * One mutex guards everything: the FIFO of queued jobs, the counters and
 * the shutdown flag. Jobs run with it released. Blocking jobs are long
 * next to a lock hand-off, so one lock is not the bottleneck, and it makes
 * growth, idling and shutdown easy to get exactly right.
 *
 * Waking without losing or stampeding: `idle` counts threads waiting on
 * `work`, `notified` counts signals sent to them that no thread has
 * consumed yet. A submit signals only if idle > notified (some idle thread
 * is not already on its way); otherwise it starts a thread (threads <
 * max) or leaves the job queued for the next thread that finishes one.
 * Any waking idle thread consumes one notification. A thread looks at the
 * queue before it idles and before it exits, so a queued job always has a
 * live thread that will see it: queue non-empty implies threads > 0
 * (a submit that cannot start the first thread takes its job back).
 *
 * Exiting threads are joined without a reaper: a thread that exits hands
 * its record to the next one to exit (tokio's last_exiting_thread), which
 * joins it; shutdown joins the last. Joining that one waits, transitively,
 * for all of them, so no thread outlives shutdown and none is left
 * unjoined for long.
 */
#include "blocking.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

/* The record of one pool thread, for joining it. Owned by the thread
 * while it runs, then by whoever takes it from last_exited (under mu). */
typedef struct worker {
    pthread_t tid; /* written by pthread_create under mu, read by the
                      joiner after it took the record under mu */
    struct rill__blocking_pool *pool; /* read-only */
} worker_t;

/* The pool whose thread this is, NULL elsewhere: lets debug builds catch
 * a job that shuts down its own pool (it would wait for itself). */
static _Thread_local const struct rill__blocking_pool *current_pool;

struct rill__blocking_pool {
    pthread_mutex_t mu;
    pthread_cond_t work; /* idle threads wait here (CLOCK_MONOTONIC) */
    pthread_cond_t gone; /* shutdown waits here for threads == 0 */
    /* Everything below: under mu. */
    rill__blocking_job_t *head, *tail; /* queued jobs, FIFO */
    unsigned max_threads;              /* set at creation, then read-only */
    unsigned threads;                  /* alive: started, not yet exited */
    unsigned idle;                     /* waiting on `work` */
    unsigned notified;                 /* signals on `work` not consumed */
    worker_t *last_exited;             /* exited, not joined yet */
    rill_duration_t idle_timeout;      /* read-only after creation */
    uint64_t jobs_run;
    bool shutdown;
};

int rill__blocking_pool_new(rill__blocking_pool_t **out, unsigned max_threads,
                            rill_duration_t idle_timeout)
{
    rill__blocking_pool_t *p;
    pthread_condattr_t attr;

    if (out == NULL || max_threads == 0)
        return RILL_MISUSE(
            "rill__blocking_pool_new",
            "out %p (must not be NULL), max_threads %u (must be >= 1)",
            (void *)out, max_threads);
    p = rill__calloc(1, sizeof *p);
    if (p == NULL)
        return RILL_ENOMEM;
    p->max_threads = max_threads;
    p->idle_timeout = idle_timeout;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        goto free_pool;
    if (pthread_condattr_init(&attr) != 0)
        goto destroy_mu;
    /* Idle deadlines are on the monotonic clock: setting the wall clock
     * must not make every idle thread exit or linger. */
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&p->work, &attr) != 0)
        goto destroy_attr;
    if (pthread_cond_init(&p->gone, NULL) != 0)
        goto destroy_work;
    pthread_condattr_destroy(&attr);
    *out = p;
    return 0;

destroy_work:
    pthread_cond_destroy(&p->work);
destroy_attr:
    pthread_condattr_destroy(&attr);
destroy_mu:
    pthread_mutex_destroy(&p->mu);
free_pool:
    rill__free(p);
    return RILL_ESYS;
}

/* Join a thread that exited (or is exiting) and free its record. */
static void join_worker(worker_t *w)
{
    if (w != NULL) {
        pthread_join(w->tid, NULL);
        rill__free(w);
    }
}

/* The idle deadline `timeout` from now on CLOCK_MONOTONIC; false if there
 * is none (negative or too far to represent). */
static bool idle_deadline(rill_duration_t timeout, struct timespec *ts)
{
    if (timeout < 0 || timeout == RILL_FOREVER)
        return false;
    clock_gettime(CLOCK_MONOTONIC, ts);
    if (timeout / 1000000000 > (rill_duration_t)INT32_MAX)
        return false; /* decades: as good as forever, and cannot overflow */
    ts->tv_sec += (time_t)(timeout / 1000000000);
    ts->tv_nsec += (long)(timeout % 1000000000);
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
    return true;
}

static rill__blocking_job_t *pop_job(rill__blocking_pool_t *p)
{
    rill__blocking_job_t *job = p->head;
    if (job != NULL) {
        p->head = job->next;
        if (p->head == NULL)
            p->tail = NULL;
        job->next = NULL;
    }
    return job;
}

static void *worker_main(void *arg)
{
    worker_t *self = arg, *prev;
    rill__blocking_pool_t *p = self->pool;
    rill__blocking_job_t *job;
    struct timespec deadline;
    bool timed = false, fresh = true;
    int rc = 0;

    current_pool = p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if ((job = pop_job(p)) != NULL) {
            pthread_mutex_unlock(&p->mu);
            job->run(job, false);
            pthread_mutex_lock(&p->mu);
            p->jobs_run++;
            fresh = true;
            continue;
        }
        if (p->shutdown)
            break;
        /* The idle clock starts when the thread runs out of work, not at
         * every wakeup, so spurious or stolen wakeups do not prolong it. */
        if (fresh) {
            timed = idle_deadline(p->idle_timeout, &deadline);
            fresh = false;
        }
        p->idle++;
        if (timed)
            rc = pthread_cond_timedwait(&p->work, &p->mu, &deadline);
        else
            rc = pthread_cond_wait(&p->work, &p->mu);
        p->idle--;
        if (p->notified > 0) {
            /* Some submit woke an idle thread for a job: this one takes
             * the call (which thread was signalled does not matter). The
             * job may be gone to a busy thread already; then idle again. */
            p->notified--;
            continue;
        }
        /* Time is up; leave only with nothing queued (a job left for
         * threads already notified may still wait here). A shutdown
         * wakeup falls through to the check at the top. */
        if (rc == ETIMEDOUT && p->head == NULL)
            break;
    }
    p->threads--;
    prev = p->last_exited;
    p->last_exited = self;
    if (p->threads == 0)
        pthread_cond_broadcast(&p->gone);
    pthread_mutex_unlock(&p->mu);
    /* Join the thread that exited before us. Whoever joins us (the next
     * thread to exit, or shutdown) thereby also waits for that join. */
    join_worker(prev);
    return NULL;
}

/* Start one more thread. Under mu; threads < max_threads. */
static int spawn_locked(rill__blocking_pool_t *p)
{
    worker_t *w = rill__malloc(sizeof *w);
    if (w == NULL)
        return RILL_ENOMEM; /* the caller's documented error, not ESYS */
    w->pool = p;
    if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
        rill__free(w);
        return RILL_ESYS;
    }
    p->threads++;
    return 0;
}

int rill__blocking_submit(rill__blocking_pool_t *p, rill__blocking_job_t *job)
{
    int rc;
    if (p == NULL || job == NULL || job->run == NULL)
        return RILL_MISUSE("rill__blocking_submit", "pool %p, job %p",
                           (void *)p, (void *)job);
    pthread_mutex_lock(&p->mu);
    if (p->shutdown) {
        pthread_mutex_unlock(&p->mu);
        return RILL_ESHUTDOWN;
    }
    job->next = NULL;
    if (p->tail != NULL)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;

    if (p->idle > p->notified) {
        p->notified++;
        pthread_cond_signal(&p->work);
    } else if (p->threads < p->max_threads && (rc = spawn_locked(p)) != 0 &&
               p->threads == 0) {
        /* No thread will ever see the job: take it back. It is the only
         * one queued (queue non-empty implies threads > 0). Report why:
         * RILL_ENOMEM for the thread's record, RILL_ESYS for the thread. */
        RILL_ASSERT(p->head == job && p->tail == job);
        p->head = p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    /* A failed start with threads alive is fine: they will take the job. */
    pthread_mutex_unlock(&p->mu);
    return 0;
}

bool rill__blocking_cancel(rill__blocking_pool_t *p, rill__blocking_job_t *job)
{
    rill__blocking_job_t **link, *prev = NULL;
    bool found = false;

    if (p == NULL || job == NULL)
        return false;
    pthread_mutex_lock(&p->mu);
    for (link = &p->head; *link != NULL; prev = *link, link = &(*link)->next) {
        if (*link == job) {
            *link = job->next;
            if (p->tail == job)
                p->tail = prev;
            job->next = NULL;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return found;
}

bool rill__blocking_in_pool(const rill__blocking_pool_t *p)
{
    return p && current_pool == p;
}

void rill__blocking_pool_shutdown(rill__blocking_pool_t *p)
{
    rill__blocking_job_t *jobs, *next;
    worker_t *last;

    if (p == NULL)
        return;
    RILL_ASSERT(current_pool != p);
    pthread_mutex_lock(&p->mu);
    p->shutdown = true;
    jobs = p->head;
    p->head = p->tail = NULL;
    /* Idle threads wake, find no job and the flag, and exit. */
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);

    /* Jobs that never started: told so, here, without the lock (run may
     * submit, which now fails, or free the job). */
    for (; jobs != NULL; jobs = next) {
        next = jobs->next;
        jobs->next = NULL;
        jobs->run(jobs, true);
    }

    pthread_mutex_lock(&p->mu);
    while (p->threads > 0)
        pthread_cond_wait(&p->gone, &p->mu);
    last = p->last_exited;
    p->last_exited = NULL;
    pthread_mutex_unlock(&p->mu);
    join_worker(last);
}

void rill__blocking_pool_free(rill__blocking_pool_t *p)
{
    if (p == NULL)
        return;
    rill__blocking_pool_shutdown(p);
    pthread_cond_destroy(&p->gone);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    rill__free(p);
}

void rill__blocking_stats(rill__blocking_pool_t *p, rill__blocking_stats_t *out)
{
    pthread_mutex_lock(&p->mu);
    out->threads = p->threads;
    out->idle = p->idle;
    out->jobs_run = p->jobs_run;
    pthread_mutex_unlock(&p->mu);
}
