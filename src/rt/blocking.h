/* SPDX-License-Identifier: MIT */
/*
 * blocking.h - the blocking pool: plain OS threads that run jobs which may
 * block (file I/O, DNS, a C library that sleeps), so that worker threads
 * never do. rill_spawn_blocking and the from_blocking stream are built on
 * it. Private to the runtime; not installed.
 *
 * The pool starts empty and grows on demand up to max_threads; a thread
 * that stays idle for idle_timeout exits. Jobs are intrusive (no
 * allocation per job) and run in FIFO order of submission. Each job's
 * `run` is called exactly once: on a pool thread, or with cancelled=true
 * if the pool shuts down before the job started; or never, if
 * rill__blocking_cancel took it back first.
 */
#ifndef RILL_RT_BLOCKING_H
#define RILL_RT_BLOCKING_H

#include "core/core.h"

/*
 * A job: embed it in the submitter's object and recover the object with
 * RILL_CONTAINER_OF in `run`.
 */
typedef struct rill__blocking_job {
    /* private: queue link, touched only under the pool's lock while the
     * job is queued */
    struct rill__blocking_job *next;
    /* Called exactly once, with no pool lock held: on a pool thread with
     * cancelled=false, or with cancelled=true (on the thread calling
     * shutdown) if the pool shut down before the job started. From the
     * call on, the job's memory is the submitter's again: `run` may free
     * it or submit it again. */
    void (*run)(struct rill__blocking_job *job, bool cancelled);
} rill__blocking_job_t;

typedef struct rill__blocking_pool rill__blocking_pool_t;

/*
 * rill__blocking_pool_new - an empty pool (no thread is started yet).
 * `max_threads` >= 1 bounds the threads alive at once. An idle thread
 * exits after `idle_timeout` ns without work; 0 makes idle threads exit at
 * once, a negative value or RILL_FOREVER keeps them until shutdown.
 * Returns: 0 and the pool in *out; RILL_EINVAL (out NULL, max_threads 0),
 *   RILL_ENOMEM, RILL_ESYS (a mutex or condition could not be made).
 * Ownership: the caller owns *out; free it with rill__blocking_pool_free.
 */
int rill__blocking_pool_new(rill__blocking_pool_t **out, unsigned max_threads,
                            rill_duration_t idle_timeout);

/*
 * rill__blocking_submit - queue `job` (its `run` set). An idle thread
 * takes it; if there is none and fewer than max_threads exist, a new
 * thread is started for it (while holding the pool lock, so growth is
 * exact); otherwise it waits in FIFO order for a thread to finish its job.
 * Returns: 0 (run will be called); RILL_ESHUTDOWN once shutdown began;
 *   RILL_ENOMEM / RILL_ESYS if no thread exists and none could be started
 *   (no memory for its record / pthread_create failed); RILL_EINVAL for a NULL
 * pool, job or run. On an error run is never called. Ownership: the pool links
 * the job until run is called or cancel takes it back; its memory must stay
 * valid until then. Threads: any, including pool threads (a job may submit
 * jobs).
 */
int rill__blocking_submit(rill__blocking_pool_t *p, rill__blocking_job_t *job);

/*
 * rill__blocking_cancel - take back a job that is still queued.
 * Returns: true if it was removed (its run will NOT be called); false if
 *   it already started, finished, or was handed to shutdown (run is or
 *   will be called). O(queued jobs).
 * Threads: any.
 */
bool rill__blocking_cancel(rill__blocking_pool_t *p, rill__blocking_job_t *job);

/* True when the calling thread is one of p's threads (running a job). */
bool rill__blocking_in_pool(const rill__blocking_pool_t *p);

/*
 * rill__blocking_pool_shutdown - stop the pool: later submits fail with
 * RILL_ESHUTDOWN; jobs still queued get run(job, true) on this thread;
 * then it waits for the running jobs to return and joins every thread.
 * Calling it again after it returned does nothing.
 * Waits: for the running jobs.
 * Threads: any thread but a pool thread (it would wait for itself); not
 *   concurrently with another shutdown or free of the same pool.
 */
void rill__blocking_pool_shutdown(rill__blocking_pool_t *p);

/*
 * rill__blocking_pool_free - shut down (if not done yet) and free. NULL is
 * ignored.
 * Waits: as rill__blocking_pool_shutdown.
 * Threads: as rill__blocking_pool_shutdown; no other call on `p` may be in
 *   progress or follow.
 */
void rill__blocking_pool_free(rill__blocking_pool_t *p);

/* A snapshot of the pool's counters. */
typedef struct {
    unsigned threads;  /* threads alive (busy or idle) */
    unsigned idle;     /* of those, waiting for work */
    uint64_t jobs_run; /* jobs run with cancelled=false, since pool_new */
} rill__blocking_stats_t;

/*
 * rill__blocking_stats - read the counters into *out (consistent with each
 * other: taken under the pool lock).
 * Threads: any.
 */
void rill__blocking_stats(rill__blocking_pool_t *p,
                          rill__blocking_stats_t *out);

#endif
