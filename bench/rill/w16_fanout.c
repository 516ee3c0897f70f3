/* SPDX-License-Identifier: MIT */
/*
 * N5 (workload 16) fan-out: one source, BENCH_FAN_SSE SSE clients and
 * BENCH_FAN_WS WebSocket clients of a hub (rill/hub.h), all in another
 * process (bench/clients/net_load.c fanout), BENCH_FAN_EVENTS events of
 * BENCH_FAN_DATA bytes each. The hub's policy is BLOCK (lossless: the
 * publisher waits for the slowest client), so every client gets every
 * event and the count is exact. Deliveries per second (events x clients),
 * from the first publish to the load generator's exit, which it makes
 * only after every connection has read all its events and the end.
 */
#include "bench_net.h"

#include <rill/hub.h>

typedef struct fan {
    rill_http_server_t *srv;
    rill_hub_t *hub;
    pid_t load;
    double t0;
} fan_t;

static void *serve(void *srv)
{
    BENCH_TRY(rill_http_server_run(srv));
    return NULL;
}

static void *run(void *arg)
{
    fan_t *f = arg;
    rill_task_t *server;
    BENCH_TRY(rill_spawn(&server, serve, f->srv, NULL));
    rill_hub_stats_t st;
    do /* until every client is in */
        BENCH_TRY(rill_sleep(RILL_MS(1)));
    while (rill_hub_stats(f->hub, &st) == 0 &&
           st.clients < BENCH_FAN_SSE + BENCH_FAN_WS);
    char data[BENCH_FAN_DATA];
    double t0 = bench_now();
    for (int i = 1; i <= BENCH_FAN_EVENTS; i++) {
        char id[16];
        int n = snprintf(id, sizeof id, "%d", i);
        memset(data, 'a' + i % 26, sizeof data);
        rill_sse_event_t ev = {0};
        BENCH_TRY(rill_bytes_new(&ev.id, id, (size_t)n));
        BENCH_TRY(rill_bytes_new(&ev.data, data, sizeof data));
        BENCH_TRY(rill_hub_publish(f->hub, &ev));
        rill_sse_event_destroy(&ev);
    }
    rill_hub_close(f->hub); /* each client ends after its last event */
    f->t0 = t0;
    do /* (never a blocking waitpid in a task: it would hold a worker) */
        BENCH_TRY(rill_sleep(RILL_MS(1)));
    while (rill_hub_stats(f->hub, &st) == 0 && st.clients > 0);
    rill_http_server_shutdown(f->srv);
    BENCH_TRY(rill_join(server, NULL));
    return NULL;
}

int main(void)
{
    bench_raise_fd_limit(2 * (BENCH_FAN_SSE + BENCH_FAN_WS) + 64);
    /* bench_runtime's, and SIGQUIT dumps the tasks (each client's queue). */
    rill_runtime_config_t rc;
    rill_runtime_config_init(&rc);
    rc.workers = 2;
    rc.sigquit_dump = true;
    rill_runtime_t *rt;
    BENCH_TRY(rill_runtime_new(&rt, &rc));
    fan_t f = {0};
    rill_hub_config_t hc = {.name = "n5", .policy = RILL_HUB_BLOCK};
    BENCH_TRY(rill_hub_new(&f.hub, &hc));
    rill_http_server_config_t sc = {.runtime = rt};
    BENCH_TRY(rill_http_server_new(&f.srv, "127.0.0.1:0", &sc));
    BENCH_TRY(rill_http_route(f.srv, RILL_HTTP_GET, "/events", rill_hub_handler,
                              f.hub));
    char port[16], sse[16], ws[16], events[16];
    snprintf(port, sizeof port, "%d", rill_http_server_port(f.srv));
    snprintf(sse, sizeof sse, "%d", BENCH_FAN_SSE);
    snprintf(ws, sizeof ws, "%d", BENCH_FAN_WS);
    snprintf(events, sizeof events, "%d", BENCH_FAN_EVENTS);
    f.load = bench_net_load(
        (const char *const[]){"fanout", port, sse, ws, events, NULL}, NULL);
    BENCH_TRY(rill_block_on(rt, run, &f, NULL));
    bool client_ok = bench_net_wait(f.load); /* it has read everything */
    double secs = bench_now() - f.t0;
    rill_hub_stats_t st;
    BENCH_TRY(rill_hub_stats(f.hub, &st));
    rill_http_server_free(f.srv);
    rill_hub_free(f.hub);
    rill_runtime_free(rt);
    uint64_t want = (uint64_t)(BENCH_FAN_SSE + BENCH_FAN_WS) * BENCH_FAN_EVENTS;
    int ok = client_ok && st.events_sent == want && st.dropped == 0;
    if (!ok)
        fprintf(stderr,
                "check failed: %llu deliveries (want %llu), client %s\n",
                (unsigned long long)st.events_sent, (unsigned long long)want,
                client_ok ? "ok" : "failed");
    printf("RESULT metric=%.3f unit=Mdeliveries/s check=%s sum=%llu\n",
           (double)st.events_sent / secs / 1e6, ok ? "ok" : "FAIL",
           (unsigned long long)st.events_sent);
    return ok ? 0 : 1;
}
