/* SPDX-License-Identifier: MIT */
/*
 * bench_net.h - what rill's N2 (W12) and N3 (W13) programs share: the
 * echo server they both run (a stackless task per connection; also, for
 * comparison, the accept stream served by for_each_concurrent's stackful
 * tasks as examples/tcp_echo.c), starting the shared load generator
 * (bench/clients/net_load.c, the same client for every implementation),
 * the fd limit and the process's resident memory.
 *
 * The load generator is found through $RILL_BENCH_NET_LOAD (bench/run.py
 * sets it), else beside this program (build/bench/bench/bin/net_load).
 */
#ifndef RILL_BENCH_NET_H
#define RILL_BENCH_NET_H

#include "bench_rill.h"

#include <rill/io.h>
#include <stdatomic.h>
#include <string.h>

#include <limits.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* N2: connections and 64-byte messages per connection (one in flight). */
#define BENCH_ECHO_CONNS 100
#define BENCH_ECHO_MSGS 2000
#define BENCH_ECHO_MSG 64
/* N3: idle connections held by the server. */
#define BENCH_IDLE_CONNS 10000
/* N5: SSE and WebSocket clients of one source, events of 64 bytes each. */
#define BENCH_FAN_SSE 1000
#define BENCH_FAN_WS 1000
#define BENCH_FAN_EVENTS 1000
#define BENCH_FAN_DATA 64
/* N6: clients, events per second to each (x clients = deliveries/s), and
 * events (a run of BENCH_LAT_EVENTS / BENCH_LAT_RATE seconds). */
#define BENCH_LAT_SSE 500
#define BENCH_LAT_WS 500
#define BENCH_LAT_RATE 100
#define BENCH_LAT_EVENTS 300
/* N7: idle SSE clients of a hub. */
#define BENCH_SSE_IDLE 10000
/* N8: fast clients (as N5's), clients that never read, events, the
 * budget of every client's queue (the fast ones BLOCK, the slow ones
 * DROP_OLDEST) and the SO_SNDBUF the server sets on every connection (else
 * the kernel's autotuning lets a client that never reads take 4 MiB, some
 * 50,000 events, before the hub's queue sees any). */
#define BENCH_SLOW_FAST_SSE 495
#define BENCH_SLOW_FAST_WS 495
#define BENCH_SLOW_SLOW 10
#define BENCH_SLOW_EVENTS 4000
#define BENCH_SLOW_BUDGET (64 * 1024)
#define BENCH_SLOW_SNDBUF (64 * 1024)

/*
 * bench_net_load - start net_load with args (NULL-terminated, after the
 * program name). stdin_w: NULL to let it inherit our standard input;
 * else it receives the write end of a pipe that is net_load's standard
 * input (closing it is the signal `net_load idle` waits for). stdout_r:
 * NULL to let it inherit our standard output; else the read end of a pipe
 * that is its standard output (`net_load latency` reports there).
 * Returns its pid; exits on failure.
 */
static inline pid_t bench_net_load(const char *const *args, int *stdin_w,
                                   int *stdout_r)
{
    char path[PATH_MAX];
    const char *env = getenv("RILL_BENCH_NET_LOAD");
    if (env) {
        snprintf(path, sizeof path, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
        if (n <= 0)
            exit(1);
        path[n] = '\0';
        char *slash = strrchr(path, '/');
        strcpy(slash ? slash + 1 : path, "net_load");
    }
    int p[2] = {-1, -1}, o[2] = {-1, -1};
    if ((stdin_w && pipe(p) != 0) || (stdout_r && pipe(o) != 0))
        exit(1);
    char *argv[8] = {path};
    for (int i = 0; args[i] && i < 6; i++)
        argv[i + 1] = (char *)args[i];
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (stdin_w) {
            dup2(p[0], 0);
            close(p[0]);
            close(p[1]);
        }
        if (stdout_r) {
            dup2(o[1], 1);
            close(o[0]);
            close(o[1]);
        }
        execv(path, argv);
        fprintf(stderr, "bench: cannot run %s\n", path);
        _exit(3);
    }
    if (pid < 0)
        exit(1);
    if (stdin_w) {
        close(p[0]);
        *stdin_w = p[1];
    }
    if (stdout_r) {
        close(o[1]);
        *stdout_r = o[0];
    }
    return pid;
}

/* bench_net_wait - wait for the load generator; true if it exited 0. */
static inline bool bench_net_wait(pid_t pid)
{
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* bench_raise_fd_limit - raise the soft limit on fds towards want (up to
 * the hard limit). Returns the soft limit now. */
static inline long bench_raise_fd_limit(long want)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return 1024;
    if ((long)lim.rlim_cur < want) {
        lim.rlim_cur = (long)lim.rlim_max < want ? lim.rlim_max : (rlim_t)want;
        (void)setrlimit(RLIMIT_NOFILE, &lim);
        (void)getrlimit(RLIMIT_NOFILE, &lim);
    }
    return (long)lim.rlim_cur;
}

/* bench_rss_bytes - this process's resident set now (/proc/self/statm). */
static inline long bench_rss_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
        exit(1);
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* ---- the echo server ---------------------------------------------------- */

typedef struct bench_echo {
    rill_listener_t *listener; /* bench_echo_serve takes it */
    uint64_t nconns;           /* connections to serve */
    _Atomic uint64_t bytes;    /* echoed so far, by every connection */
    _Atomic uint64_t conns;    /* connections served to their end */
    _Atomic uint64_t bad;      /* accept errors, write errors */
    /* When bytes reaches notify_at, the connection task that got it there
     * calls on_total(self) (N3: measure, then let the clients go). */
    uint64_t notify_at;
    void (*on_total)(struct bench_echo *self);
} bench_echo_t;

/* Counts n echoed bytes; calls on_total when the total reaches
 * notify_at. */
static inline void bench_echo_count(bench_echo_t *e, size_t n)
{
    /* Relaxed: a counter; the total is read after every connection's task
     * was joined, and the one fetch_add that reaches notify_at is unique
     * whatever the order. */
    uint64_t total =
        atomic_fetch_add_explicit(&e->bytes, n, memory_order_relaxed) + n;
    if (total == e->notify_at && e->on_total)
        e->on_total(e);
}

/* A connection ended with status r (RILL_DONE: the client's end of file). */
static inline void bench_echo_end(bench_echo_t *e, int r)
{
    if (r != RILL_DONE)
        atomic_fetch_add_explicit(&e->bad, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->conns, 1, memory_order_relaxed);
}

/*
 * The server rill's N2 and N3 programs run: a stackless task per
 * connection (rill_spawn_future_in), this future: read into its 1 KiB
 * buffer, write that back, until end of file. No stack: an idle
 * connection costs the task, this future and the handle.
 */
typedef struct echo_task {
    rill_future_t base;
    bench_echo_t *e;
    rill_io_t *io;
    enum { ECHO_START, ECHO_READ, ECHO_WRITE, ECHO_END } state;
    size_t n, written;
    rill_io_op_t op; /* the read, or the write_all of what it read */
    unsigned char buf[1024];
} echo_task_t;

static int echo_task_poll(rill_future_t *f, rill_cx_t *cx)
{
    echo_task_t *t = (echo_task_t *)f;
    int r = 0;
    for (;;) {
        if (t->state != ECHO_START &&
            (r = rill_future_poll(&t->op.base, cx)) == RILL_PENDING)
            return RILL_PENDING;
        if (r != 0) { /* RILL_DONE from the read, or an error */
            t->state = ECHO_END;
            bench_echo_end(t->e, r);
            return r == RILL_DONE ? 0 : r;
        }
        if (t->state == ECHO_READ) {
            t->state = ECHO_WRITE;
            rill_io_write_all_op(&t->op, t->io, t->buf, t->n, &t->written);
            continue;
        }
        if (t->state == ECHO_WRITE)
            bench_echo_count(t->e, t->n);
        /* START (the op is set up here, in the task's own copy of the
         * future, as it points into buf) or a write done: read. */
        t->state = ECHO_READ;
        rill_io_read_op(&t->op, t->io, t->buf, sizeof t->buf, &t->n);
    }
}

/* The task's end (or the runtime's shutdown): withdraw a pending op, then
 * close the connection. The future's memory goes with the task. */
static void echo_task_drop(rill_future_t *f)
{
    echo_task_t *t = (echo_task_t *)f;
    if (t->state == ECHO_READ || t->state == ECHO_WRITE)
        (void)rill_future_cancel(&t->op.base);
    rill_io_free(t->io);
}

static const rill_future_vtable_t echo_task_vtable = {
    .poll = echo_task_poll,
    .drop = echo_task_drop,
};

/*
 * bench_echo_serve - a task (arg: a bench_echo_t): accept e->nconns
 * connections of e->listener, which it frees then, each served by its own
 * stackless echo task; return once all of them ended.
 */
static inline void *bench_echo_serve(void *arg)
{
    bench_echo_t *e = arg;
    rill_task_t **tasks = calloc(e->nconns, sizeof *tasks);
    if (!tasks)
        exit(1);
    for (uint64_t i = 0; i < e->nconns; i++) {
        echo_task_t proto = {.base = {&echo_task_vtable}, .e = e};
        BENCH_TRY(rill_accept(e->listener, &proto.io));
        BENCH_TRY(
            rill_spawn_future_in(&tasks[i], &proto.base, sizeof proto, NULL));
    }
    rill_listener_free(e->listener);
    e->listener = NULL;
    for (uint64_t i = 0; i < e->nconns; i++) {
        int r = rill_join(tasks[i], NULL);
        (void)r; /* its end was counted in e by the task itself */
    }
    free(tasks);
    return NULL;
}

/* ---- the same server with stackful tasks, for comparison -------------- */

/* One connection in a stackful task of for_each_concurrent: read what
 * came, write it back, until end of file. */
static inline int bench_echo_conn(void *ud, int status, void *item)
{
    bench_echo_t *e = ud;
    if (status < 0) { /* an accept error item */
        atomic_fetch_add_explicit(&e->bad, 1, memory_order_relaxed);
        return 0;
    }
    rill_io_t *c = *(rill_io_t **)item;
    unsigned char buf[1024];
    size_t n;
    int r;
    while ((r = rill_io_read(c, buf, sizeof buf, &n)) == 0) {
        if (rill_io_write_all(c, buf, n, NULL) != 0) {
            r = RILL_EPIPE;
            break;
        }
        bench_echo_count(e, n);
    }
    bench_echo_end(e, r);
    rill_io_free(c);
    return 0;
}

/*
 * bench_echo_serve_stackful - as bench_echo_serve, written as
 * examples/tcp_echo.c is: the accept stream, its first e->nconns
 * connections served by rill_stream_for_each_concurrent (a stackful task
 * per connection). RILL_BENCH_ECHO=stackful picks it (docs/performance.md
 * compares the two).
 */
static inline void *bench_echo_serve_stackful(void *arg)
{
    bench_echo_t *e = arg;
    rill_stream_t *conns;
    BENCH_TRY(rill_listener_into_stream(e->listener, &conns));
    e->listener = NULL; /* the stream's */
    BENCH_TRY(rill_stream_take(&conns, e->nconns));
    BENCH_TRY(rill_stream_for_each_concurrent(conns, 0, bench_echo_conn, e));
    return NULL;
}

/* The server RILL_BENCH_ECHO asks for: "stackful", else stackless. */
static inline rill_task_fn bench_echo_server(void)
{
    const char *v = getenv("RILL_BENCH_ECHO");
    return v && strcmp(v, "stackful") == 0 ? bench_echo_serve_stackful
                                           : bench_echo_serve;
}

#endif
