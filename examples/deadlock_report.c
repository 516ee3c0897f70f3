/* SPDX-License-Identifier: MIT */
/*
 * deadlock_report.c - a real hang, explained by rill instead of hanging.
 *
 * A dispatcher hands 6 jobs to a worker through a bounded channel and
 * only then collects the results. With both channels holding 2 items,
 * the worker fills `results` and waits for room, while the dispatcher
 * waits for room in `jobs`: neither will ever move. (The fix is to
 * collect results while dispatching: a second task, or a select over
 * the send and the receive.)
 *
 * rill sees every task waiting with nothing left that could wake one, so
 * it prints the report and rill_block_on returns RILL_EDEADLK. Run with
 * the output to stdout here; by default it goes to stderr.
 * See docs/diagnostics.md for how to read it.
 */
#include "check.h"
#include <rill.h>
#include <stdint.h>
#include <stdio.h>

typedef struct chans {
    rill_receiver_t *jobs;
    rill_sender_t *results;
} chans_t;

static void *worker(void *arg)
{
    chans_t *c = arg;
    int job;
    while (rill_recv(c->jobs, &job) == 0) {
        int result = job * job;
        if (rill_send(c->results, &result) != 0)
            break;
    }
    rill_receiver_release(c->jobs);
    rill_sender_release(c->results);
    return NULL;
}

static void *dispatcher(void *arg)
{
    (void)arg;
    rill_sender_t *jobs_tx, *res_tx;
    rill_receiver_t *jobs_rx, *res_rx;
    rill_channel_config_t o = {.name = "jobs"};
    CHECK(rill_channel_new(&jobs_tx, &jobs_rx, sizeof(int), 2, &o));
    o.name = "results";
    CHECK(rill_channel_new(&res_tx, &res_rx, sizeof(int), 2, &o));

    static chans_t c;
    c.jobs = jobs_rx;
    c.results = res_tx;
    rill_task_t *w;
    rill_spawn_config_t so = {.name = "worker"};
    CHECK(rill_spawn(&w, worker, &c, &so));

    int rc = 0;
    for (int i = 1; i <= 6 && rc == 0; i++) /* the bug: send them all ... */
        rc = rill_send(jobs_tx, &i);
    rill_sender_release(jobs_tx);
    int r;
    while (rc == 0 && rill_recv(res_rx, &r) == 0) /* ... then collect */
        printf("result %d\n", r);
    rill_receiver_release(res_rx);
    rill_task_detach(w);
    return NULL;
}

int main(void)
{
    rill_runtime_config_t cfg;
    rill_runtime_config_init(&cfg);
    cfg.workers = 2;
    cfg.diag_out = stdout; /* default: stderr */
    rill_runtime_t *rt;
    if (rill_runtime_new(&rt, &cfg) != 0)
        return 1;
    int rc = rill_block_on(rt, dispatcher, NULL, NULL);
    printf("rill_block_on: %s (%s)\n", rill_err_name(rc), rill_strerror(rc));
    rill_runtime_free(rt); /* cancels the stuck tasks, which clean up */
    return rc == RILL_EDEADLK ? 0 : 1;
}
