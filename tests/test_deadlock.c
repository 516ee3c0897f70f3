/* SPDX-License-Identifier: MIT */
/*
 * test_deadlock.c - the deadlock report: two tasks waiting on each
 * other's channel are reported (naming both channels) and block_on fails
 * with RILL_EDEADLK; so is a cycle through a plain thread parked in
 * rill_recv. Nothing is reported while a plain thread outside rill holds
 * a sender it will use, while a timer is armed, or while a blocking job
 * runs.
 *
 * Ordering without sleeps: the detector calls a test hook after every
 * check; the thread that must send "after everything is asleep" waits on
 * a condition that the hook signals after a few negative checks.
 */
#include "test_util.h"
#include <rill.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* src/rt/diag.c: called after every deadlock check (tests only). */
extern void (*rill__deadlock_check_hook)(rill_runtime_t *rt, bool deadlocked);

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hook_cv = PTHREAD_COND_INITIALIZER;
static int hook_checks, hook_deadlocks; /* hook_mu */

static void hook(rill_runtime_t *rt, bool deadlocked)
{
    (void)rt;
    pthread_mutex_lock(&hook_mu);
    hook_checks++;
    hook_deadlocks += deadlocked;
    pthread_cond_broadcast(&hook_cv);
    pthread_mutex_unlock(&hook_mu);
}

static void hook_reset(void)
{
    pthread_mutex_lock(&hook_mu);
    hook_checks = hook_deadlocks = 0;
    pthread_mutex_unlock(&hook_mu);
    rill__deadlock_check_hook = hook;
}

/* Wait (outside rill: pthread_cond_wait) until n checks happened. */
static void hook_wait_checks(int n)
{
    pthread_mutex_lock(&hook_mu);
    while (hook_checks < n)
        pthread_cond_wait(&hook_cv, &hook_mu);
    pthread_mutex_unlock(&hook_mu);
}

static void hook_counts(int *checks, int *deadlocks)
{
    pthread_mutex_lock(&hook_mu);
    *checks = hook_checks;
    *deadlocks = hook_deadlocks;
    pthread_mutex_unlock(&hook_mu);
}

/* A runtime whose reports go to a memory buffer. */
typedef struct report {
    char *text;
    size_t len;
    FILE *f;
} report_t;

static rill_runtime_t *new_rt(report_t *rep, bool virtual_clock)
{
    rep->text = NULL;
    rep->len = 0;
    rep->f = open_memstream(&rep->text, &rep->len);
    assert_non_null(rep->f);
    rill_runtime_config_t c;
    rill_runtime_config_init(&c);
    c.workers = 2;
    c.virtual_clock = virtual_clock;
    c.diag_out = rep->f;
    rill_runtime_t *rt = NULL;
    assert_status(rill_runtime_new(&rt, &c), 0);
    return rt;
}

static void expect_in(const char *text, const char *needle)
{
    if (!text || !strstr(text, needle)) {
        fprintf(stderr, "expected \"%s\" in the report:\n%s", needle,
                text ? text : "(nothing)");
        fail();
    }
}

static uint64_t deadlocks_of(rill_runtime_t *rt)
{
    rill_runtime_stats_t st;
    assert_status(rill_runtime_stats(rt, &st), 0);
    return st.deadlocks;
}

/* Free rt, checking that it never reported; returns the hook's count of
 * checks (none of which may have found a deadlock). */
static int free_unreported(rill_runtime_t *rt, report_t *rep)
{
    assert_int_equal(deadlocks_of(rt), 0);
    rill_runtime_free(rt);
    fclose(rep->f);
    assert_true(rep->len == 0);
    free(rep->text);
    int checks, dl;
    hook_counts(&checks, &dl);
    assert_int_equal(dl, 0);
    return checks;
}

/* ---- two tasks, each waiting on the other's channel ---- */

typedef struct peer {
    rill_sender_t *tx;
    rill_receiver_t *rx;
} peer_t;

/* Receive first, then answer: with both peers doing so, neither sends.
 * Owns (and frees) its peer_t: it outlives the task that spawned it. */
static void *recv_then_send(void *arg)
{
    peer_t *p = arg;
    int v = 0;
    int r = rill_recv(p->rx, &v);
    if (r == 0)
        r = rill_send(p->tx, &v);
    rill_sender_release(p->tx);
    rill_receiver_release(p->rx);
    free(p);
    return (void *)(intptr_t)r;
}

static peer_t *peer_new(rill_sender_t *tx, rill_receiver_t *rx)
{
    peer_t *p = malloc(sizeof *p);
    p->tx = tx;
    p->rx = rx;
    return p;
}

static void *cycle_main(void *arg)
{
    (void)arg;
    rill_sender_t *ab_tx, *ba_tx;
    rill_receiver_t *ab_rx, *ba_rx;
    rill_channel_config_t o = {.name = "a->b"};
    assert_status(rill_channel_new(&ab_tx, &ab_rx, sizeof(int), 4, &o), 0);
    o.name = "b->a";
    assert_status(rill_channel_new(&ba_tx, &ba_rx, sizeof(int), 4, &o), 0);
    rill_task_t *a, *b;
    rill_spawn_config_t so = {.name = "a"};
    assert_status(rill_spawn(&a, recv_then_send, peer_new(ab_tx, ba_rx), &so),
                  0);
    so.name = "b";
    assert_status(rill_spawn(&b, recv_then_send, peer_new(ba_tx, ab_rx), &so),
                  0);
    /* All three stay stuck until shutdown cancels them: then the join
     * returns RILL_ECANCELED and the handles are given up. */
    if (rill_join(a, NULL) == RILL_ECANCELED)
        rill_task_detach(a);
    if (rill_join(b, NULL) == RILL_ECANCELED)
        rill_task_detach(b);
    return NULL;
}

static void test_two_tasks_deadlock(void **state)
{
    (void)state;
    hook_reset();
    report_t rep;
    rill_runtime_t *rt = new_rt(&rep, false);
    assert_status(rill_block_on(rt, cycle_main, NULL, NULL), RILL_EDEADLK);
    assert_int_equal(deadlocks_of(rt), 1);
    rill_runtime_free(rt);
    fclose(rep.f);
    expect_in(rep.text, "rill: deadlock: all 3 tasks of runtime");
    expect_in(rep.text, "3 tasks alive");
    expect_in(rep.text, "'block_on' waiting: join task");
    expect_in(rep.text, "'a' waiting: recv on bounded channel 'b->a' (len "
                        "0/4, sent 0, received 0, high-water 0, waits full 0, "
                        "waits empty 1)");
    expect_in(rep.text, "'b' waiting: recv on bounded channel 'a->b'");
    free(rep.text);
    int checks, dl;
    hook_counts(&checks, &dl);
    assert_int_equal(dl, 1);
}

/* ---- a cycle through a plain thread parked in rill_recv ---- */

typedef struct relay {
    rill_receiver_t *rx; /* the thread receives here ... */
    rill_sender_t *tx;   /* ... and forwards here */
} relay_t;

static void *relay_thread(void *arg)
{
    relay_t *r = arg;
    int v;
    while (rill_recv(r->rx, &v) == 0)
        if (rill_send(r->tx, &v) != 0)
            break;
    rill_receiver_release(r->rx);
    rill_sender_release(r->tx);
    return NULL;
}

static void test_cycle_through_thread(void **state)
{
    (void)state;
    hook_reset();
    report_t rep;
    rill_runtime_t *rt = new_rt(&rep, false);
    rill_sender_t *t1, *t2;
    rill_receiver_t *r1, *r2;
    rill_channel_config_t o = {.name = "to-thread"};
    assert_status(rill_channel_new(&t1, &r1, sizeof(int), 0, &o), 0);
    o.name = "from-thread";
    assert_status(rill_channel_new(&t2, &r2, sizeof(int), 0, &o), 0);
    relay_t rel = {r1, t2};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, relay_thread, &rel), 0);
    /* The root task waits for the thread's item before it sends the
     * thread anything; the thread waits for that. */
    assert_status(rill_block_on(rt, recv_then_send, peer_new(t1, r2), NULL),
                  RILL_EDEADLK);
    /* Shutdown cancels the task, which releases its handles: the thread
     * then sees the end of its channel and exits. */
    rill_runtime_free(rt);
    assert_int_equal(pthread_join(th, NULL), 0);
    fclose(rep.f);
    expect_in(rep.text, "rill: deadlock");
    expect_in(rep.text, "2 threads parked in rill_await");
    expect_in(rep.text, "'block_on' waiting: recv on rendezvous channel "
                        "'from-thread'");
    free(rep.text);
}

/* ---- no report: a plain thread outside rill holds a sender ---- */

static void *late_sender(void *arg)
{
    rill_sender_t *tx = arg;
    /* Everything else is asleep: let the detector look a few times,
     * while this thread waits outside rill (pthread_cond_wait). */
    hook_wait_checks(3);
    int v = 42;
    int r = rill_send(tx, &v);
    rill_sender_release(tx);
    return (void *)(intptr_t)r;
}

static void *late_main(void *arg)
{
    pthread_t *th = arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    rill_channel_config_t o = {.name = "late"};
    assert_status(rill_channel_new(&tx, &rx, sizeof(int), 1, &o), 0);
    assert_int_equal(pthread_create(th, NULL, late_sender, tx), 0);
    int v = 0;
    assert_status(rill_recv(rx, &v), 0);
    rill_receiver_release(rx);
    return (void *)(intptr_t)v;
}

static void test_thread_holding_sender_not_reported(void **state)
{
    (void)state;
    hook_reset();
    report_t rep;
    rill_runtime_t *rt = new_rt(&rep, false);
    pthread_t th;
    void *v = NULL;
    assert_status(rill_block_on(rt, late_main, &th, &v), 0);
    assert_int_equal((int)(intptr_t)v, 42);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(free_unreported(rt, &rep) >= 3);
}

/* ---- no report: a timer is armed ---- */

static void *timeout_main(void *arg)
{
    (void)arg;
    rill_sender_t *tx;
    rill_receiver_t *rx;
    assert_status(rill_channel_new(&tx, &rx, sizeof(int), 1, NULL), 0);
    int v;
    /* Nobody sends (this task holds the sender): only the timeout can
     * end the wait, on the virtual clock at once. */
    int r = rill_recv_timeout(rx, &v, RILL_SEC(3600));
    rill_sender_release(tx);
    rill_receiver_release(rx);
    return (void *)(intptr_t)r;
}

static void test_timer_not_reported(void **state)
{
    (void)state;
    hook_reset();
    report_t rep;
    rill_runtime_t *rt = new_rt(&rep, true);
    void *r = NULL;
    assert_status(rill_block_on(rt, timeout_main, NULL, &r), 0);
    assert_status((int)(intptr_t)r, RILL_ETIMEDOUT);
    free_unreported(rt, &rep);
}

/* ---- no report: a blocking job runs ---- */

static void *slow_job(void *arg)
{
    (void)arg;
    /* The job's "work": 20 ms in which every task and the block_on
     * thread wait. Were running jobs not excluded, the detector (1 ms
     * grace) would see an accounted-for pool thread and report. */
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return (void *)(intptr_t)7;
}

static void *job_main(void *arg)
{
    (void)arg;
    rill_task_t *j;
    assert_status(rill_spawn_blocking(&j, slow_job, NULL, NULL), 0);
    void *r;
    assert_status(rill_join(j, &r), 0);
    return r;
}

static void test_blocking_job_not_reported(void **state)
{
    (void)state;
    hook_reset();
    report_t rep;
    rill_runtime_t *rt = new_rt(&rep, false);
    void *r = NULL;
    assert_status(rill_block_on(rt, job_main, NULL, &r), 0);
    assert_int_equal((int)(intptr_t)r, 7);
    assert_int_equal(free_unreported(rt, &rep), 0); /* not even looked */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_tasks_deadlock),
        cmocka_unit_test(test_cycle_through_thread),
        cmocka_unit_test(test_thread_holding_sender_not_reported),
        cmocka_unit_test(test_timer_not_reported),
        cmocka_unit_test(test_blocking_job_not_reported),
    };
    return test_run(tests, NULL, NULL);
}
