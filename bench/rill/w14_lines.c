/* SPDX-License-Identifier: MIT */
/*
 * N4 (workload 14) lines: another process writes BENCH_LINES_BYTES of
 * 80-byte lines ("...\n") into a loopback TCP connection as fast as it
 * can; rill reads them as a stream (rill_io_read_stream) split by
 * rill_stream_lines and counts them, taking up to 64 lines per
 * rill_next_many (the decoder's batch path) and giving each batch back
 * with rill_bytes_release_many. MB/s of input.
 */
#include "bench_rill.h"

#include <rill/codec.h>
#include <rill/io.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINE 80
#define BENCH_LINES_BYTES                                                      \
    ((1ULL << 30) / LINE * LINE) /* ~1 GiB, whole lines                        \
                                  */

/* The writer process: plain blocking writes of a 64 KiB block of lines. */
static int writer(int port)
{
    static char block[LINE * 819]; /* 65,520 bytes: whole lines */
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = i % LINE == LINE - 1 ? '\n' : (char)('a' + i % 26);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return 1;
    for (uint64_t sent = 0; sent < BENCH_LINES_BYTES;) {
        size_t n = sizeof block;
        if (BENCH_LINES_BYTES - sent < n)
            n = (size_t)(BENCH_LINES_BYTES - sent);
        ssize_t w = write(fd, block, n); /* n is whole lines */
        if (w <= 0)
            return 1;
        sent += (uint64_t)w;
    }
    close(fd);
    return 0;
}

static void *top(void *arg)
{
    bench_run_t *run = arg;
    rill_listener_t *l = *(rill_listener_t **)run;
    memset(run, 0, sizeof *run);
    rill_io_t *c;
    rill_stream_t *s;
    BENCH_TRY(rill_accept(l, &c));
    BENCH_TRY(rill_io_read_stream(c, 64 * 1024, &s));
    BENCH_TRY(rill_stream_lines(&s, 4096));
    rill_bytes_t lines[64];
    size_t n;
    int r;
    while ((r = rill_next_many(s, lines, 64, &n)) == 0) {
        for (size_t i = 0; i < n; i++) {
            bench_add(run, rill_bytes_len(&lines[i]) + 1); /* + its "\n" */
        }
        rill_bytes_release_many(lines, n);
    }
    rill_stream_free(s);
    rill_io_free(c);
    rill_listener_free(l);
    return r == RILL_DONE ? NULL : (void *)1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "writer") == 0)
        return writer(atoi(argv[2]));
    rill_runtime_t *rt = bench_runtime();
    rill_listener_t *l;
    rill_io_config_t cfg = {.runtime = rt};
    BENCH_TRY(rill_listen(&l, "127.0.0.1:0", &cfg));
    char ps[16];
    snprintf(ps, sizeof ps, "%d", rill_listener_port(l));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "writer", ps, (char *)NULL);
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
    /* sum = bytes, count = lines; the metric is MB/s of input. */
    uint64_t lines = BENCH_LINES_BYTES / LINE;
    int ok = run.count == lines && run.sum == lines * LINE && run.bad == 0;
    printf("RESULT metric=%.3f unit=MB/s check=%s sum=%llu\n",
           (double)run.sum / secs / 1e6, ok ? "ok" : "FAIL",
           (unsigned long long)run.sum);
    return ok ? 0 : 1;
}
