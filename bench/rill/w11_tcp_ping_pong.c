/* SPDX-License-Identifier: MIT */
/*
 * N1 (workload 11) TCP ping-pong: 1-byte round trips over loopback TCP.
 * The server is a rill task that echoes; the client is another process
 * (this program run again as "client <port>") with its own runtime, doing
 * BENCH_TCP_ROUND_TRIPS round trips one byte at a time. ns per round
 * trip, measured by the server from accept to the client's end of file.
 */
#include "bench_rill.h"

#include <rill/codec.h>
#include <rill/io.h>
#include <string.h>

#include <sys/wait.h>
#include <unistd.h>

#define BENCH_TCP_ROUND_TRIPS 100000ULL

static int port;

static void *client(void *arg)
{
    (void)arg;
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    rill_io_t *c;
    BENCH_TRY(rill_connect(&c, addr, NULL));
    for (uint64_t i = 0; i < BENCH_TCP_ROUND_TRIPS; i++) {
        unsigned char b = (unsigned char)i, back;
        size_t n;
        BENCH_TRY(rill_io_write_all(c, &b, 1, NULL));
        BENCH_TRY(rill_io_read(c, &back, 1, &n));
        if (back != b)
            exit(2);
    }
    rill_io_free(c);
    return NULL;
}

static void *top(void *arg)
{
    bench_run_t *run = arg;
    rill_listener_t *l = *(rill_listener_t **)run;
    memset(run, 0, sizeof *run);
    rill_io_t *c;
    BENCH_TRY(rill_accept(l, &c));
    unsigned char b;
    size_t n;
    int r;
    while ((r = rill_io_read(c, &b, 1, &n)) == 0) {
        BENCH_TRY(rill_io_write_all(c, &b, 1, NULL));
        bench_add(run, b);
    }
    rill_io_free(c);
    rill_listener_free(l);
    return r == RILL_DONE ? NULL : (void *)1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "client") == 0) {
        port = atoi(argv[2]);
        rill_runtime_t *crt = bench_runtime();
        BENCH_TRY(rill_block_on(crt, client, NULL, NULL));
        rill_runtime_free(crt);
        return 0;
    }
    rill_runtime_t *rt = bench_runtime();
    rill_listener_t *l;
    rill_io_config_t cfg = {.runtime = rt};
    BENCH_TRY(rill_listen(&l, "127.0.0.1:0", &cfg));
    port = rill_listener_port(l);
    fflush(stdout);
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    pid_t pid = fork();
    if (pid == 0) { /* a fresh process: nothing of this one's runtime */
        execl("/proc/self/exe", argv[0], "client", ps, (char *)NULL);
        _exit(3);
    }
    bench_run_t run;
    memcpy(&run, &l, sizeof l);
    double t0 = bench_now();
    BENCH_TRY(rill_block_on(rt, top, &run, NULL));
    double secs = bench_now() - t0;
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        run.bad++;
    rill_runtime_free(rt);
    uint64_t want = 0;
    for (uint64_t i = 0; i < BENCH_TCP_ROUND_TRIPS; i++)
        want += (unsigned char)i;
    return bench_report(&run, BENCH_TCP_ROUND_TRIPS, want, BENCH_NS_EACH, secs);
}
