/* SPDX-License-Identifier: MIT */
/*
 * N3 (workload 13) idle connections: the echo server of N2 (bench_net.h)
 * accepts BENCH_IDLE_CONNS connections from the shared load generator
 * (another process), each of which sends one byte, reads its echo and
 * then stays idle. Once the server has echoed the last of those bytes it
 * reads its own resident memory; the metric is that minus the resident
 * memory before the first connection, per connection, in bytes. Then it
 * lets the clients go (closes their standard input) and serves every
 * connection to its end of file.
 */
#include "bench_net.h"

static long rss_before, rss_idle;
static int release_fd = -1; /* the load generator's standard input */

/* Called by the connection task that echoed the last first byte. */
static void measure(bench_echo_t *e)
{
    (void)e;
    rss_idle = bench_rss_bytes();
    close(release_fd);
}

int main(void)
{
    /* Each connection is one fd here; leave room for the runtime's own. */
    long limit = bench_raise_fd_limit(BENCH_IDLE_CONNS + 256);
    long n = limit - 256 < BENCH_IDLE_CONNS ? limit - 256 : BENCH_IDLE_CONNS;
    if (n < BENCH_IDLE_CONNS)
        fprintf(stderr,
                "w13: the fd limit %ld allows %ld connections, not "
                "%d\n",
                limit, n, BENCH_IDLE_CONNS);
    if (n < 100)
        return 1;
    rill_runtime_t *rt = bench_runtime();
    rill_listener_t *l;
    rill_io_config_t cfg = {.runtime = rt};
    BENCH_TRY(rill_listen(&l, "127.0.0.1:0", &cfg));
    char port[16], conns[16];
    snprintf(port, sizeof port, "%d", rill_listener_port(l));
    snprintf(conns, sizeof conns, "%ld", n);
    rss_before = bench_rss_bytes();
    pid_t pid = bench_net_load((const char *const[]){"idle", port, conns, NULL},
                               &release_fd, NULL);
    bench_echo_t e = {.listener = l,
                      .nconns = (uint64_t)n,
                      .notify_at = (uint64_t)n,
                      .on_total = measure};
    BENCH_TRY(rill_block_on(rt, bench_echo_server(), &e, NULL));
    bool client_ok = bench_net_wait(pid);
    rill_runtime_free(rt);
    uint64_t bytes = atomic_load(&e.bytes);
    int ok = client_ok && rss_idle > 0 && bytes == (uint64_t)n &&
             atomic_load(&e.conns) == (uint64_t)n && atomic_load(&e.bad) == 0;
    if (!ok)
        fprintf(stderr, "check failed: %llu bytes (want %ld), client %s\n",
                (unsigned long long)bytes, n, client_ok ? "ok" : "failed");
    printf("RESULT metric=%.1f unit=B check=%s sum=%llu\n",
           (double)(rss_idle - rss_before) / (double)n, ok ? "ok" : "FAIL",
           (unsigned long long)bytes);
    return ok ? 0 : 1;
}
