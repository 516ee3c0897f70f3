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
#include "bench_web.h"

static double t0;

static void *run(void *arg)
{
    bench_web_t *w = arg;
    bench_web_start(w, BENCH_FAN_SSE + BENCH_FAN_WS);
    char data[BENCH_FAN_DATA];
    t0 = bench_now();
    for (int i = 1; i <= BENCH_FAN_EVENTS; i++) {
        memset(data, 'a' + i % 26, sizeof data);
        bench_web_publish(w, i, data, sizeof data);
    }
    bench_web_end(w);
    return NULL;
}

int main(void)
{
    bench_web_t w = {0};
    rill_hub_config_t hc = {.name = "n5", .policy = RILL_HUB_BLOCK};
    bench_web_new(&w, &hc, NULL, 2 * (BENCH_FAN_SSE + BENCH_FAN_WS) + 64);
    pid_t load = bench_web_clients(&w, "fanout", BENCH_FAN_SSE, BENCH_FAN_WS,
                                   BENCH_FAN_EVENTS, 0, NULL);
    BENCH_TRY(rill_block_on(w.rt, run, &w, NULL));
    bool client_ok = bench_net_wait(load); /* it has read everything */
    double secs = bench_now() - t0;
    rill_hub_stats_t st = bench_web_stats(&w);
    bench_web_free(&w);
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
