/* SPDX-License-Identifier: MIT */
/*
 * test_blocking.c - the blocking pool: every job runs exactly once, growth
 * stops at max_threads, idle threads exit and are joined, shutdown cancels
 * what never started, cancel takes back queued jobs.
 *
 * No test sleeps to let something happen: jobs report to a monitor
 * (mutex + condition) and the test waits on it for the state it needs.
 * Only the idle-exit check polls the pool's statistics, in a bounded loop
 * of short waits, since the pool announces nothing when a thread exits.
 */
#include "test_util.h"
#include "core/atomic.h"
#include "rt/blocking.h"
#include <pthread.h>
#include <rill.h>
#include <stdlib.h>
#include <time.h>

/* cmocka's asserts may only fail on the test's own thread (they longjmp),
 * so pool and helper threads count failures here and the test asserts
 * the count. relaxed: it is read after the threads were joined or their
 * work was waited for through mon_mu, which orders it. */
static _Atomic unsigned thread_failures;
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            rill__fetch_add(&thread_failures, 1, RILL_RELAXED);                \
    } while (0)

static void assert_no_thread_failures(void)
{
    assert_int_equal(rill__load(&thread_failures, RILL_RELAXED), 0);
}

/* ---- the monitor: shared by jobs and the test thread ---- */

static pthread_mutex_t mon_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mon_cv = PTHREAD_COND_INITIALIZER;
/* All under mon_mu. */
static bool gate_open;   /* gated jobs wait for this */
static unsigned running; /* gated jobs inside run */
static unsigned most_running;
static unsigned finished; /* jobs whose run returned */
static unsigned cancelled;
static int order[16]; /* ids in the order run was called */
static unsigned n_order;

static void mon_reset(void)
{
    pthread_mutex_lock(&mon_mu);
    gate_open = false;
    running = most_running = finished = cancelled = n_order = 0;
    pthread_mutex_unlock(&mon_mu);
}

static void open_gate(void)
{
    pthread_mutex_lock(&mon_mu);
    gate_open = true;
    pthread_cond_broadcast(&mon_cv);
    pthread_mutex_unlock(&mon_mu);
}

/* Wait until *counter (under mon_mu) reaches `n`. */
static void wait_count(const unsigned *counter, unsigned n)
{
    pthread_mutex_lock(&mon_mu);
    while (*counter < n)
        pthread_cond_wait(&mon_cv, &mon_mu);
    pthread_mutex_unlock(&mon_mu);
}

static unsigned read_count(const unsigned *counter)
{
    pthread_mutex_lock(&mon_mu);
    unsigned v = *counter;
    pthread_mutex_unlock(&mon_mu);
    return v;
}

/* Poll the pool until `pred` holds: at most ~10 s of 1 ms waits. */
static bool wait_stats(rill__blocking_pool_t *p,
                       bool (*pred)(const rill__blocking_stats_t *))
{
    const struct timespec ms = {0, 1000000};
    rill__blocking_stats_t s;
    for (int i = 0; i < 10000; i++) {
        rill__blocking_stats(p, &s);
        if (pred(&s))
            return true;
        nanosleep(&ms, NULL);
    }
    return false;
}

static bool no_threads(const rill__blocking_stats_t *s)
{
    return s->threads == 0;
}

static bool all_idle(const rill__blocking_stats_t *s)
{
    return s->idle == s->threads;
}

/* ---- a gated job: counts itself in, waits for the gate, logs ---- */

typedef struct {
    rill__blocking_job_t job;
    rill__blocking_pool_t *pool;
    unsigned max_threads; /* the pool's bound, checked from inside */
    int id;
    int runs;           /* calls of run, under mon_mu */
    bool was_cancelled; /* under mon_mu */
} gated_t;

static void gated_run(rill__blocking_job_t *job, bool is_cancelled)
{
    gated_t *g = RILL_CONTAINER_OF(job, gated_t, job);

    /* The pool never holds more threads than its bound, seen from inside
     * a job. Checked first: once `finished` counts this job, the test may
     * reuse *g. */
    if (!is_cancelled) {
        rill__blocking_stats_t s;
        rill__blocking_stats(g->pool, &s);
        CHECK(s.threads <= g->max_threads);
    }
    pthread_mutex_lock(&mon_mu);
    g->runs++;
    g->was_cancelled = is_cancelled;
    if (n_order < sizeof order / sizeof order[0])
        order[n_order++] = g->id;
    if (is_cancelled) {
        cancelled++;
    } else {
        running++;
        if (running > most_running)
            most_running = running;
        pthread_cond_broadcast(&mon_cv);
        while (!gate_open)
            pthread_cond_wait(&mon_cv, &mon_mu);
        running--;
    }
    finished++;
    pthread_cond_broadcast(&mon_cv);
    pthread_mutex_unlock(&mon_mu);
}

static void gated_init(gated_t *g, rill__blocking_pool_t *p, unsigned max,
                       int id)
{
    g->job.next = NULL;
    g->job.run = gated_run;
    g->pool = p;
    g->max_threads = max;
    g->id = id;
    g->runs = 0;
    g->was_cancelled = false;
}

/* Submit gated jobs g[0..n) with ids 0..n-1. */
static void submit_gated(rill__blocking_pool_t *p, gated_t *g, int n,
                         unsigned max)
{
    for (int i = 0; i < n; i++) {
        gated_init(&g[i], p, max, i);
        assert_status(rill__blocking_submit(p, &g[i].job), 0);
    }
}

/* With the gate closed, submit n >= max gated jobs: exactly max threads
 * start and run together (the rest queue); then open the gate and wait for
 * all n to finish. */
static void run_saturated(rill__blocking_pool_t *p, gated_t *g, int n,
                          unsigned max)
{
    rill__blocking_stats_t st;

    mon_reset();
    submit_gated(p, g, n, max);
    wait_count(&running, max);
    rill__blocking_stats(p, &st);
    assert_int_equal(st.threads, max);
    assert_int_equal(st.idle, 0);
    open_gate();
    wait_count(&finished, (unsigned)n);
    assert_int_equal(read_count(&most_running), max);
}

static rill__blocking_pool_t *pool_new(unsigned max, rill_duration_t idle)
{
    rill__store(&thread_failures, 0, RILL_RELAXED);
    rill__blocking_pool_t *p = NULL;
    assert_status(rill__blocking_pool_new(&p, max, idle), 0);
    assert_non_null(p);
    return p;
}

/* Free the pool (joining its threads), then check what they reported. */
static void pool_free(rill__blocking_pool_t *p)
{
    rill__blocking_pool_free(p);
    assert_no_thread_failures();
}

/* ---- 100,000 jobs from 4 submitting threads ---- */

#define SUBMITTERS 4
#define PER_SUBMITTER 25000

typedef struct {
    rill__blocking_job_t job;
    _Atomic unsigned runs;
} counted_t;

static _Atomic unsigned counted_done;

static void counted_run(rill__blocking_job_t *job, bool is_cancelled)
{
    counted_t *c = RILL_CONTAINER_OF(job, counted_t, job);
    CHECK(!is_cancelled);
    /* relaxed: the count is read after shutdown joined every thread,
     * which orders it. */
    rill__fetch_add(&c->runs, 1, RILL_RELAXED);
    /* release: pairs with the acquire load in test_many_jobs, so the job
     * counts above are visible once the total is. The last job wakes the
     * test. */
    if (rill__fetch_add(&counted_done, 1, RILL_RELEASE) + 1 ==
        SUBMITTERS * PER_SUBMITTER) {
        pthread_mutex_lock(&mon_mu);
        pthread_cond_broadcast(&mon_cv);
        pthread_mutex_unlock(&mon_mu);
    }
}

typedef struct {
    rill__blocking_pool_t *pool;
    counted_t *jobs;
    size_t n;
} submitter_t;

static void *submitter_main(void *arg)
{
    submitter_t *s = arg;
    for (size_t i = 0; i < s->n; i++) {
        s->jobs[i].job.run = counted_run;
        rill__store(&s->jobs[i].runs, 0, RILL_RELAXED);
        CHECK(rill__blocking_submit(s->pool, &s->jobs[i].job) == 0);
    }
    return NULL;
}

static void test_many_jobs(void **state)
{
    (void)state;
    const size_t per = PER_SUBMITTER, total = SUBMITTERS * per;
    rill__blocking_pool_t *p = pool_new(8, RILL_MS(50));
    counted_t *jobs = calloc(total, sizeof *jobs);
    submitter_t sub[SUBMITTERS];
    pthread_t tid[SUBMITTERS];
    rill__blocking_stats_t st;

    assert_non_null(jobs);
    rill__store(&counted_done, 0, RILL_RELAXED);
    for (int i = 0; i < SUBMITTERS; i++) {
        sub[i] = (submitter_t){p, jobs + (size_t)i * per, per};
        assert_int_equal(pthread_create(&tid[i], NULL, submitter_main, &sub[i]),
                         0);
    }
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_join(tid[i], NULL);
    /* acquire: pairs with the release increments in counted_run. */
    pthread_mutex_lock(&mon_mu);
    while (rill__load(&counted_done, RILL_ACQUIRE) < total)
        pthread_cond_wait(&mon_cv, &mon_mu);
    pthread_mutex_unlock(&mon_mu);

    rill__blocking_stats(p, &st);
    assert_true(st.threads >= 1 && st.threads <= 8);
    /* jobs_run counts a job after its run returned: final once every
     * thread is joined. */
    rill__blocking_pool_shutdown(p);
    rill__blocking_stats(p, &st);
    assert_int_equal(st.jobs_run, total);
    assert_int_equal(st.threads, 0);
    pool_free(p);
    for (size_t i = 0; i < total; i++)
        assert_int_equal(rill__load(&jobs[i].runs, RILL_RELAXED), 1);
    free(jobs);
}

/* ---- growth on demand, bounded by max_threads ---- */

static void test_growth(void **state)
{
    (void)state;
    enum { MAX = 4, JOBS = 12 };
    rill__blocking_pool_t *p = pool_new(MAX, RILL_FOREVER);
    rill__blocking_stats_t st;
    gated_t g[JOBS];

    mon_reset();
    rill__blocking_stats(p, &st);
    assert_int_equal(st.threads, 0); /* nothing started up front */

    /* One job at a time: the one thread is reused, never a second. */
    open_gate();
    for (int i = 0; i < 3; i++) {
        assert_true(wait_stats(p, all_idle));
        gated_init(&g[i], p, MAX, i);
        assert_status(rill__blocking_submit(p, &g[i].job), 0);
        wait_count(&finished, (unsigned)i + 1);
        rill__blocking_stats(p, &st);
        assert_int_equal(st.threads, 1);
    }

    /* Many at once: exactly MAX run together, the rest queue. */
    run_saturated(p, g, JOBS, MAX);
    assert_true(wait_stats(p, all_idle));
    rill__blocking_stats(p, &st);
    assert_int_equal(st.threads, MAX); /* no idle timeout: they stay */
    assert_int_equal(st.jobs_run, 3 + JOBS);
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(g[i].runs, 1);
    pool_free(p);
}

/* ---- idle threads exit after the timeout and are joined ---- */

static void test_idle_exit(void **state)
{
    (void)state;
    enum { MAX = 4 };
    rill__blocking_pool_t *p = pool_new(MAX, RILL_MS(20));
    gated_t g[MAX];

    for (int round = 0; round < 3; round++) {
        run_saturated(p, g, MAX, MAX);
        /* The pool comes back to zero threads by itself. */
        assert_true(wait_stats(p, no_threads));
    }
    pool_free(p);
}

/* idle_timeout 0: every thread exits as soon as it runs dry, so threads
 * come and go all the time (and join each other on the way out). */
static void test_zero_idle(void **state)
{
    (void)state;
    rill__blocking_pool_t *p = pool_new(3, 0);
    gated_t g[64];

    mon_reset();
    open_gate();
    for (int i = 0; i < 64; i++) {
        gated_init(&g[i], p, 3, i);
        assert_status(rill__blocking_submit(p, &g[i].job), 0);
        if (i % 4 == 3)
            wait_count(&finished, (unsigned)i + 1);
    }
    wait_count(&finished, 64);
    assert_true(wait_stats(p, no_threads));
    pool_free(p);
    for (int i = 0; i < 64; i++)
        assert_int_equal(g[i].runs, 1);
}

/* A job may submit jobs, itself included, from inside run. */
typedef struct {
    rill__blocking_job_t job;
    rill__blocking_pool_t *pool;
    unsigned left; /* owned by whichever run is current */
} relay_t;

static void relay_run(rill__blocking_job_t *job, bool is_cancelled)
{
    relay_t *r = RILL_CONTAINER_OF(job, relay_t, job);
    CHECK(!is_cancelled);
    if (--r->left > 0) {
        CHECK(rill__blocking_submit(r->pool, &r->job) == 0);
        return;
    }
    pthread_mutex_lock(&mon_mu);
    finished++;
    pthread_cond_broadcast(&mon_cv);
    pthread_mutex_unlock(&mon_mu);
}

static void test_submit_from_job(void **state)
{
    (void)state;
    rill__blocking_pool_t *p = pool_new(2, 0);
    relay_t r[2] = {{{NULL, relay_run}, p, 1000}, {{NULL, relay_run}, p, 1000}};

    mon_reset();
    assert_status(rill__blocking_submit(p, &r[0].job), 0);
    assert_status(rill__blocking_submit(p, &r[1].job), 0);
    wait_count(&finished, 2);
    pool_free(p);
}

/* ---- shutdown with queued jobs ---- */

static void *shutdown_main(void *arg)
{
    rill__blocking_pool_shutdown(arg);
    return NULL;
}

static void test_shutdown_cancels_queued(void **state)
{
    (void)state;
    rill__blocking_pool_t *p = pool_new(1, RILL_FOREVER);
    gated_t g[5];
    pthread_t helper;

    mon_reset();
    submit_gated(p, g, 4, 1);
    wait_count(&running, 1); /* g[0] runs; g[1..3] are queued */
    assert_int_equal(pthread_create(&helper, NULL, shutdown_main, p), 0);
    /* Shutdown cancels the queued jobs first, then waits for g[0]. */
    wait_count(&cancelled, 3);
    gated_init(&g[4], p, 1, 4);
    assert_status(rill__blocking_submit(p, &g[4].job), RILL_ESHUTDOWN);
    assert_int_equal(read_count(&finished), 3);
    open_gate();
    pthread_join(helper, NULL);

    assert_int_equal(read_count(&finished), 4);
    assert_false(g[0].was_cancelled);
    for (int i = 1; i < 4; i++) {
        assert_true(g[i].was_cancelled);
        assert_int_equal(order[i], i); /* cancelled in FIFO order */
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(g[i].runs, 1);
    assert_int_equal(g[4].runs, 0);
    rill__blocking_pool_shutdown(p); /* again: nothing to do */
    pool_free(p);
}

/* ---- cancel ---- */

static void test_cancel(void **state)
{
    (void)state;
    rill__blocking_pool_t *p = pool_new(1, RILL_FOREVER);
    gated_t g[6];

    mon_reset();
    submit_gated(p, g, 5, 1);
    wait_count(&running, 1);
    assert_false(rill__blocking_cancel(p, &g[0].job)); /* running */
    assert_true(rill__blocking_cancel(p, &g[2].job));  /* middle */
    assert_true(rill__blocking_cancel(p, &g[4].job));  /* tail */
    assert_true(rill__blocking_cancel(p, &g[1].job));  /* head */
    assert_false(rill__blocking_cancel(p, &g[1].job)); /* not queued */
    /* The queue is intact after removing at head and tail. */
    gated_init(&g[5], p, 1, 5);
    assert_status(rill__blocking_submit(p, &g[5].job), 0);
    open_gate();
    wait_count(&finished, 3);
    assert_false(rill__blocking_cancel(p, &g[5].job)); /* finished */
    pool_free(p);

    assert_int_equal(read_count(&finished), 3);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 3);
    assert_int_equal(order[2], 5);
    assert_int_equal(g[1].runs + g[2].runs + g[4].runs, 0);
}

/* ---- misuse and lifecycle ---- */

static void noop_run(rill__blocking_job_t *job, bool is_cancelled)
{
    (void)job;
    (void)is_cancelled;
}

static void test_errors(void **state)
{
    (void)state;
    rill__blocking_pool_t *p = NULL;
    rill__blocking_job_t job = {NULL, noop_run}, bad = {NULL, NULL};

    assert_status(rill__blocking_pool_new(&p, 0, 0), RILL_EINVAL);
    assert_status(rill__blocking_pool_new(NULL, 1, 0), RILL_EINVAL);
    rill__blocking_pool_free(NULL);

    p = pool_new(2, RILL_MS(10));
    assert_status(rill__blocking_submit(p, NULL), RILL_EINVAL);
    assert_status(rill__blocking_submit(p, &bad), RILL_EINVAL);
    rill__blocking_pool_shutdown(p); /* never had a thread */
    assert_status(rill__blocking_submit(p, &job), RILL_ESHUTDOWN);
    assert_false(rill__blocking_cancel(p, &job));
    pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_jobs),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_idle_exit),
        cmocka_unit_test(test_zero_idle),
        cmocka_unit_test(test_submit_from_job),
        cmocka_unit_test(test_shutdown_cancels_queued),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_errors),
    };
    return test_run(tests, NULL, NULL);
}
