/* SPDX-License-Identifier: MIT */
/*
 * bench_web.h - what rill's web workloads N5-N8 (W16-W19) share: an HTTP
 * server on 127.0.0.1 with one hub (rill/hub.h) on GET /events, run by a
 * task of a 2-worker runtime; waiting for the clients (net_load, another
 * process) to join and to leave; publishing numbered events of
 * BENCH_FAN_DATA bytes.
 *
 * A workload's top task calls bench_web_start, publishes, then
 * bench_web_end (the hub closes, each client ends after its last event,
 * the server shuts down). Tasks poll the hub's counters with 1 ms sleeps:
 * a blocking waitpid or pipe read in a task would hold a worker.
 */
#ifndef RILL_BENCH_WEB_H
#define RILL_BENCH_WEB_H

#include "bench_net.h"

#include <rill/hub.h>

typedef struct bench_web {
    rill_runtime_t *rt;
    rill_http_server_t *srv;
    rill_hub_t *hub;
    rill_task_t *server;
    char port[16];
} bench_web_t;

/*
 * bench_web_new - the runtime (2 workers; SIGQUIT dumps the tasks, with
 * each client's queue), the hub of hc and the server, /events routed to
 * handler with the hub as its ud (NULL: rill_hub_handler). fds: the fd
 * limit the workload needs.
 */
static inline void bench_web_new(bench_web_t *w, const rill_hub_config_t *hc,
                                 rill_http_handler_fn handler, long fds)
{
    bench_raise_fd_limit(fds);
    rill_runtime_config_t rc;
    rill_runtime_config_init(&rc);
    rc.workers = 2;
    rc.sigquit_dump = true;
    BENCH_TRY(rill_runtime_new(&w->rt, &rc));
    BENCH_TRY(rill_hub_new(&w->hub, hc));
    rill_http_server_config_t sc = {.runtime = w->rt};
    BENCH_TRY(rill_http_server_new(&w->srv, "127.0.0.1:0", &sc));
    BENCH_TRY(rill_http_route(w->srv, RILL_HTTP_GET, "/events",
                              handler ? handler : rill_hub_handler, w->hub));
    snprintf(w->port, sizeof w->port, "%d", rill_http_server_port(w->srv));
}

static void *bench_web_serve(void *srv)
{
    BENCH_TRY(rill_http_server_run(srv));
    return NULL;
}

/* In a task: wait until the hub's client count satisfies `at_least`
 * (true: >= n; false: <= n). */
static inline void bench_web_wait_clients(bench_web_t *w, uint64_t n,
                                          bool at_least)
{
    rill_hub_stats_t st;
    for (;;) {
        BENCH_TRY(rill_hub_stats(w->hub, &st));
        if (at_least ? st.clients >= n : st.clients <= n)
            return;
        BENCH_TRY(rill_sleep(RILL_MS(1)));
    }
}

/* In a task: serve, and wait until `clients` have joined the hub. */
static inline void bench_web_start(bench_web_t *w, uint64_t clients)
{
    BENCH_TRY(rill_spawn(&w->server, bench_web_serve, w->srv, NULL));
    bench_web_wait_clients(w, clients, true);
}

/*
 * bench_web_clients - start net_load `mode` (fanout or latency) against
 * this server: sse + ws clients reading `events` events, and `slow` more
 * that never read (fanout only; 0: none). stdout_r as bench_net_load's.
 */
static inline pid_t bench_web_clients(const bench_web_t *w, const char *mode,
                                      int sse, int ws, int events, int slow,
                                      int *stdout_r)
{
    char a[4][16];
    const int v[4] = {sse, ws, events, slow};
    for (int i = 0; i < 4; i++)
        snprintf(a[i], sizeof a[i], "%d", v[i]);
    return bench_net_load((const char *const[]){mode, w->port, a[0], a[1], a[2],
                                                slow ? a[3] : NULL, NULL},
                          NULL, stdout_r);
}

/* In a task: publish event number i (its id) with data[0..len). */
static inline void bench_web_publish(bench_web_t *w, int i, const char *data,
                                     size_t len)
{
    char id[16];
    int n = snprintf(id, sizeof id, "%d", i);
    rill_sse_event_t ev = {0};
    BENCH_TRY(rill_bytes_new(&ev.id, id, (size_t)n));
    BENCH_TRY(rill_bytes_new(&ev.data, data, len));
    BENCH_TRY(rill_hub_publish(w->hub, &ev));
    rill_sse_event_destroy(&ev);
}

/* In a task: close the hub, wait for every client to end, shut the server
 * down. */
static inline void bench_web_end(bench_web_t *w)
{
    rill_hub_close(w->hub); /* each client ends after its last event */
    bench_web_wait_clients(w, 0, false);
    rill_http_server_shutdown(w->srv);
    BENCH_TRY(rill_join(w->server, NULL));
}

/* The hub's counters (after the run). */
static inline rill_hub_stats_t bench_web_stats(bench_web_t *w)
{
    rill_hub_stats_t st;
    BENCH_TRY(rill_hub_stats(w->hub, &st));
    return st;
}

static inline void bench_web_free(bench_web_t *w)
{
    rill_http_server_free(w->srv);
    rill_hub_free(w->hub);
    rill_runtime_free(w->rt);
}

#endif
