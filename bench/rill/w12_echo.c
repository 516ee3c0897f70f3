/* SPDX-License-Identifier: MIT */
/*
 * N2 (workload 12) echo throughput: BENCH_ECHO_CONNS connections from the
 * shared load generator (another process, bench/clients/net_load.c), each
 * sending BENCH_ECHO_MSGS 64-byte messages with one in flight; the server
 * is a stackless task per connection (bench_net.h).
 * Messages per second, from the start of the accepts to the last
 * connection's end of file.
 */
#include "bench_net.h"

int main(void)
{
    rill_runtime_t *rt = bench_runtime();
    rill_listener_t *l;
    rill_io_config_t cfg = {.runtime = rt};
    BENCH_TRY(rill_listen(&l, "127.0.0.1:0", &cfg));
    char port[16], conns[16], msgs[16];
    snprintf(port, sizeof port, "%d", rill_listener_port(l));
    snprintf(conns, sizeof conns, "%d", BENCH_ECHO_CONNS);
    snprintf(msgs, sizeof msgs, "%d", BENCH_ECHO_MSGS);
    pid_t pid = bench_net_load(
        (const char *const[]){"echo", port, conns, msgs, NULL}, NULL, NULL);
    bench_echo_t e = {.listener = l, .nconns = BENCH_ECHO_CONNS};
    double t0 = bench_now();
    BENCH_TRY(rill_block_on(rt, bench_echo_server(), &e, NULL));
    double secs = bench_now() - t0;
    bool client_ok = bench_net_wait(pid);
    rill_runtime_free(rt);
    uint64_t want = (uint64_t)BENCH_ECHO_CONNS * BENCH_ECHO_MSGS;
    uint64_t bytes = atomic_load(&e.bytes);
    int ok = client_ok && bytes == want * BENCH_ECHO_MSG &&
             atomic_load(&e.conns) == BENCH_ECHO_CONNS &&
             atomic_load(&e.bad) == 0;
    if (!ok)
        fprintf(stderr, "check failed: %llu bytes (want %llu), client %s\n",
                (unsigned long long)bytes,
                (unsigned long long)(want * BENCH_ECHO_MSG),
                client_ok ? "ok" : "failed");
    printf("RESULT metric=%.3f unit=kmsg/s check=%s sum=%llu\n",
           (double)bytes / BENCH_ECHO_MSG / secs / 1e3, ok ? "ok" : "FAIL",
           (unsigned long long)bytes);
    return ok ? 0 : 1;
}
