/* SPDX-License-Identifier: MIT */
/*
 * io_poll.c - what the reactor costs and how long a busy runtime takes to
 * notice a socket (docs/io.md, "Busy workers"). A 2-worker runtime; the
 * peer is a plain thread doing blocking read/write on TCP loopback.
 *   pingpong_ns       1-byte round trip: a task writes a byte and reads
 *                     the echo (into a 64-byte buffer); the runtime has
 *                     nothing else to do (a worker sleeps in epoll_wait)
 *   pingpong_hot_ns   the same while 8 tasks yield in a loop on both
 *                     workers: the reply is seen by a busy worker's poll,
 *                     one every RILL_IO_POLL_INTERVAL tasks (src/rt/sched.c)
 *   yield_nofd_ns     ns per rill_yield of 8 yielding tasks, no fd
 *                     registered (busy workers skip the poll)
 *   yield_fd_ns       the same with one idle socket registered (busy
 *                     workers poll with timeout 0 every interval)
 *   epoll_wait0_ns    one epoll_wait(timeout 0) that finds nothing, on a
 *                     set holding one idle socket: a busy worker pays this
 *                     once per interval
 * Each line: median (min..max) over 5 runs; ping-pongs also give the p99
 * of the run with the median. Usage: io_poll [which]
 */
#include "must.h"
#include <rill.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RUNS 5
#define ROUNDS 20000
#define HOT_TASKS 8
#define YIELDS 200000

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- the blocking echo peer ---- */

typedef struct peer {
    int lfd, port;
    pthread_t th;
} peer_t;

static void *peer_main(void *arg)
{
    peer_t *p = arg;
    int c = accept(p->lfd, NULL, NULL);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char b;
    while (read(c, &b, 1) == 1)
        if (write(c, &b, 1) != 1)
            break;
    close(c);
    return NULL;
}

static void peer_start(peer_t *p)
{
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(p->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(p->lfd, 1) != 0 ||
        getsockname(p->lfd, (struct sockaddr *)&a, &al) != 0) {
        perror("peer");
        exit(1);
    }
    p->port = ntohs(a.sin_port);
    pthread_create(&p->th, NULL, peer_main, p);
}

static void peer_stop(peer_t *p)
{
    pthread_join(p->th, NULL);
    close(p->lfd);
}

/* ---- hot tasks ---- */

static atomic_bool stop;
static atomic_long yields;

static void *yielder(void *arg)
{
    long n = 0, limit = (long)(intptr_t)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed) &&
           (limit == 0 || n < limit)) {
        (void)rill_yield();
        n++;
    }
    atomic_fetch_add(&yields, n);
    return NULL;
}

/* ---- ping-pong ---- */

typedef struct pp {
    int port;
    bool hot;
    double *rtt; /* ROUNDS samples */
} pp_t;

static void *pingpong_main(void *arg)
{
    pp_t *pp = arg;
    rill_task_t *hot[HOT_TASKS];
    atomic_store(&stop, false);
    if (pp->hot)
        for (int i = 0; i < HOT_TASKS; i++)
            MUST(rill_spawn(&hot[i], yielder, NULL, NULL));
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", pp->port);
    rill_io_t *c;
    if (rill_connect(&c, addr, NULL) != 0) {
        fprintf(stderr, "connect failed\n");
        exit(1);
    }
    for (int i = 0; i < ROUNDS; i++) {
        char b[64] = {(char)i}; /* a read asks for more than one byte */
        size_t n;
        int64_t t0 = now_ns();
        if (rill_io_write_all(c, b, 1, NULL) != 0 ||
            rill_io_read(c, b, sizeof b, &n) != 0 || n != 1) {
            fprintf(stderr, "ping-pong failed\n");
            exit(1);
        }
        pp->rtt[i] = (double)(now_ns() - t0);
    }
    rill_io_free(c);
    atomic_store(&stop, true);
    if (pp->hot)
        for (int i = 0; i < HOT_TASKS; i++)
            MUST(rill_join(hot[i], NULL));
    return NULL;
}

/* One run: median and p99 round trip. */
static void pingpong_run(rill_runtime_t *rt, bool hot, double *med, double *p99)
{
    peer_t p;
    peer_start(&p);
    pp_t pp = {.port = p.port, .hot = hot};
    pp.rtt = malloc(ROUNDS * sizeof *pp.rtt);
    MUST(rill_block_on(rt, pingpong_main, &pp, NULL));
    peer_stop(&p);
    qsort(pp.rtt, ROUNDS, sizeof *pp.rtt, cmp_d);
    *med = pp.rtt[ROUNDS / 2];
    *p99 = pp.rtt[ROUNDS * 99 / 100];
    free(pp.rtt);
}

/* ---- yield overhead ---- */

static void *yield_main(void *arg)
{
    (void)arg;
    rill_task_t *t[HOT_TASKS];
    atomic_store(&stop, false);
    for (int i = 0; i < HOT_TASKS; i++)
        MUST(rill_spawn(&t[i], yielder, (void *)(intptr_t)YIELDS, NULL));
    for (int i = 0; i < HOT_TASKS; i++)
        MUST(rill_join(t[i], NULL));
    return NULL;
}

static double yield_run(rill_runtime_t *rt, bool with_fd)
{
    int sv[2] = {-1, -1};
    rill_io_t *io = NULL;
    if (with_fd) {
        rill_io_config_t cfg = {.runtime = rt};
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
            rill_io_new(&io, sv[0], &cfg) != 0) {
            fprintf(stderr, "socketpair failed\n");
            exit(1);
        }
    }
    atomic_store(&yields, 0);
    int64_t t0 = now_ns();
    MUST(rill_block_on(rt, yield_main, NULL, NULL));
    double ns = (double)(now_ns() - t0) / (double)atomic_load(&yields);
    rill_io_free(io);
    if (sv[1] >= 0)
        close(sv[1]);
    return ns;
}

/* ---- the system call a busy worker's poll costs ---- */

static double epoll0_run(void)
{
    int ep = epoll_create1(0), sv[2];
    if (ep < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        exit(1);
    char b;
    (void)!write(sv[1], "x", 1); /* consumed below: the edge is gone */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET};
    epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
    struct epoll_event out[8];
    (void)epoll_wait(ep, out, 8, 0);
    (void)!read(sv[0], &b, 1);
    enum { CALLS = 200000 };
    int64_t t0 = now_ns();
    for (int i = 0; i < CALLS; i++)
        (void)epoll_wait(ep, out, 8, 0);
    double ns = (double)(now_ns() - t0) / CALLS;
    close(sv[0]);
    close(sv[1]);
    close(ep);
    return ns;
}

/* ---- main ---- */

static void report(const char *name, double v[RUNS], const char *extra)
{
    qsort(v, RUNS, sizeof v[0], cmp_d);
    printf("%-16s %9.0f  (%.0f..%.0f)%s\n", name, v[RUNS / 2], v[0],
           v[RUNS - 1], extra);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "";
    rill_runtime_config_t cfg;
    rill_runtime_config_init(&cfg);
    cfg.workers = 2;
    rill_runtime_t *rt;
    if (rill_runtime_new(&rt, &cfg) != 0)
        return 1;
    for (int hot = 0; hot < 2; hot++) {
        const char *name = hot ? "pingpong_hot_ns" : "pingpong_ns";
        if (*which && strcmp(which, name) != 0)
            continue;
        double med[RUNS], p99[RUNS], p99_of_med = 0;
        for (int r = 0; r < RUNS; r++)
            pingpong_run(rt, hot, &med[r], &p99[r]);
        /* the p99 of the run whose median is the median */
        double sorted[RUNS];
        memcpy(sorted, med, sizeof med);
        qsort(sorted, RUNS, sizeof sorted[0], cmp_d);
        for (int r = 0; r < RUNS; r++)
            if (med[r] == sorted[RUNS / 2])
                p99_of_med = p99[r];
        char extra[64];
        snprintf(extra, sizeof extra, "  p99 %.0f", p99_of_med);
        report(name, med, extra);
    }
    for (int fd = 0; fd < 2; fd++) {
        const char *name = fd ? "yield_fd_ns" : "yield_nofd_ns";
        if (*which && strcmp(which, name) != 0)
            continue;
        double v[RUNS];
        for (int r = 0; r < RUNS; r++)
            v[r] = yield_run(rt, fd);
        report(name, v, "");
    }
    if (!*which || strcmp(which, "epoll_wait0_ns") == 0) {
        double v[RUNS];
        for (int r = 0; r < RUNS; r++)
            v[r] = epoll0_run();
        report("epoll_wait0_ns", v, "");
    }
    rill_runtime_free(rt);
    return 0;
}
