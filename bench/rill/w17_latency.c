/* SPDX-License-Identifier: MIT */
/*
 * N6 (workload 17) latency: a hub (BLOCK, lossless) with BENCH_LAT_SSE
 * SSE and BENCH_LAT_WS WebSocket clients in another process (net_load
 * latency); BENCH_LAT_EVENTS events of BENCH_FAN_DATA bytes published at
 * BENCH_LAT_RATE per second (each to every client: 100,000 deliveries/s),
 * on a fixed schedule (each event at start + i / rate, not after the
 * last). Each event's data starts with CLOCK_MONOTONIC's nanoseconds
 * taken just before rill_hub_publish; the client process, on the same
 * clock, takes the time of the read that completed the event. The metric
 * is the 99th percentile of those latencies over every delivery, in ms;
 * the median and the maximum go on the RESULT line too.
 */
#include "bench_web.h"

#include <inttypes.h>

static void *run(void *arg)
{
    bench_web_t *w = arg;
    bench_web_start(w, BENCH_LAT_SSE + BENCH_LAT_WS);
    const rill_duration_t period = RILL_SEC(1) / BENCH_LAT_RATE;
    rill_instant_t next = rill_now();
    char data[BENCH_FAN_DATA + 1];
    for (int i = 1; i <= BENCH_LAT_EVENTS; i++) {
        next += period;
        rill_duration_t left = next - rill_now();
        if (left > 0)
            BENCH_TRY(rill_sleep(left));
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        memset(data, 'x', sizeof data);
        snprintf(data, sizeof data, "%020" PRIu64, ns);
        data[20] = 'x'; /* snprintf's NUL */
        bench_web_publish(w, i, data, BENCH_FAN_DATA);
    }
    bench_web_end(w);
    return NULL;
}

int main(void)
{
    bench_web_t w = {0};
    rill_hub_config_t hc = {.name = "n6", .policy = RILL_HUB_BLOCK};
    bench_web_new(&w, &hc, NULL, 2 * (BENCH_LAT_SSE + BENCH_LAT_WS) + 64);
    int out;
    pid_t load = bench_web_clients(&w, "latency", BENCH_LAT_SSE, BENCH_LAT_WS,
                                   BENCH_LAT_EVENTS, 0, &out);
    BENCH_TRY(rill_block_on(w.rt, run, &w, NULL));
    /* Its one line, written before it exits. */
    FILE *f = fdopen(out, "r");
    long long n = 0, p50 = 0, p99 = 0, max = 0;
    int got =
        f ? fscanf(f, "LATENCY n=%lld p50_ns=%lld p99_ns=%lld max_ns=%lld", &n,
                   &p50, &p99, &max)
          : 0;
    if (f)
        fclose(f);
    bool client_ok = bench_net_wait(load);
    rill_hub_stats_t st = bench_web_stats(&w);
    bench_web_free(&w);
    uint64_t want = (uint64_t)(BENCH_LAT_SSE + BENCH_LAT_WS) * BENCH_LAT_EVENTS;
    int ok = client_ok && got == 4 && (uint64_t)n == want &&
             st.events_sent == want && st.dropped == 0;
    if (!ok)
        fprintf(stderr,
                "check failed: %lld latencies, %llu deliveries (want %llu), "
                "client %s\n",
                n, (unsigned long long)st.events_sent, (unsigned long long)want,
                client_ok ? "ok" : "failed");
    printf("RESULT metric=%.3f unit=ms check=%s sum=%lld p50_ms=%.3f "
           "max_ms=%.3f\n",
           (double)p99 / 1e6, ok ? "ok" : "FAIL", n, (double)p50 / 1e6,
           (double)max / 1e6);
    return ok ? 0 : 1;
}
