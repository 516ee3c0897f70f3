/* SPDX-License-Identifier: MIT */
/*
 * N7 (workload 18) idle SSE clients: BENCH_SSE_IDLE SSE clients of a hub
 * (its defaults: DROP_OLDEST, 256 KiB budget, keep-alives every 15 s),
 * opened one after the other by net_load sse-idle in another process,
 * each holding its response open and reading nothing. Once every one has
 * joined the hub, the server reads its resident memory; the metric is
 * that minus the resident memory before the first connection, per
 * client, in bytes. The kernel's socket buffers are not in a process's
 * resident memory, so this is what rill itself keeps per client: the
 * connection's task and stack, its HTTP connection, the hub's client.
 * Then it lets the clients go (closes their standard input); each
 * client's end of file ends its task.
 */
#include "bench_web.h"

static long rss_before, rss_idle;
static int release_fd = -1; /* the load generator's standard input */
static long nconns;

static void *run(void *arg)
{
    bench_web_t *w = arg;
    bench_web_start(w, (uint64_t)nconns);
    BENCH_TRY(rill_sleep(RILL_MS(20))); /* the last one parks */
    rss_idle = bench_rss_bytes();
    close(release_fd); /* the clients may go */
    bench_web_wait_clients(w, 0, false);
    bench_web_end(w);
    return NULL;
}

int main(void)
{
    /* Each client is one fd here; leave room for the runtime's own. */
    long limit = bench_raise_fd_limit(BENCH_SSE_IDLE + 256);
    nconns = limit - 256 < BENCH_SSE_IDLE ? limit - 256 : BENCH_SSE_IDLE;
    if (nconns < BENCH_SSE_IDLE)
        fprintf(stderr, "w18: the fd limit %ld allows %ld clients, not %d\n",
                limit, nconns, BENCH_SSE_IDLE);
    if (nconns < 100)
        return 1;
    bench_web_t w = {0};
    rill_hub_config_t hc = {.name = "n7"};
    bench_web_new(&w, &hc, NULL, BENCH_SSE_IDLE + 256);
    char conns[16];
    snprintf(conns, sizeof conns, "%ld", nconns);
    rss_before = bench_rss_bytes();
    pid_t load =
        bench_net_load((const char *const[]){"sse-idle", w.port, conns, NULL},
                       &release_fd, NULL);
    BENCH_TRY(rill_block_on(w.rt, run, &w, NULL));
    bool client_ok = bench_net_wait(load);
    rill_hub_stats_t st = bench_web_stats(&w);
    bench_web_free(&w);
    int ok = client_ok && rss_idle > 0 &&
             st.clients_total == (uint64_t)nconns && st.clients == 0;
    if (!ok)
        fprintf(stderr, "check failed: %llu clients (want %ld), client %s\n",
                (unsigned long long)st.clients_total, nconns,
                client_ok ? "ok" : "failed");
    printf("RESULT metric=%.1f unit=B check=%s sum=%llu\n",
           (double)(rss_idle - rss_before) / (double)nconns, ok ? "ok" : "FAIL",
           (unsigned long long)st.clients_total);
    return ok ? 0 : 1;
}
