/* SPDX-License-Identifier: MIT */
/*
 * test_io.c - the reactor and the I/O calls on real sockets (loopback TCP,
 * Unix sockets, socketpairs): exact echo, tasks and plain threads sharing
 * a socket, edge-triggered partial reads, deadlines racing readiness,
 * cancel and close while waiting, the accept stream, the virtual clock
 * with sockets, the deadlock detector with a socket waiter, the dump, bad
 * input. Every test checks that no rill allocation is left behind.
 */
#include "test_util.h"

#include "rt/reactor.h" /* rill__reactor_no_pwait2 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <rill.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static rill_runtime_t *rt;

static int setup(void **state)
{
    (void)state;
    rt = test_new_rt(2, false);
    return 0;
}

static int setup_virtual(void **state)
{
    (void)state;
    rt = test_new_rt(2, true);
    return 0;
}

/* The runtime goes first, so that test_run's leak check after this sees
 * everything the test's tasks held. */
static int teardown(void **state)
{
    (void)state;
    rill_runtime_free(rt);
    rt = NULL;
    return 0;
}

static void run(rill_task_fn fn, void *arg)
{
    void *ok = NULL;
    assert_status(rill_block_on(rt, fn, arg, &ok), 0);
    assert_ptr_equal(ok, (void *)1);
}

/* The byte at offset i of the test stream. */
static unsigned char pattern(uint64_t i)
{
    return (unsigned char)(i * 2654435761u >> 13);
}

/* A connected pair of Unix stream sockets as handles of rt. */
static void io_pair(rill_io_t **a, rill_io_t **b)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rill_io_config_t cfg = {.runtime = rt};
    assert_status(rill_io_new(a, sv[0], &cfg), 0);
    assert_status(rill_io_new(b, sv[1], &cfg), 0);
}

/* ---- echo ---- */

typedef struct echo {
    rill_listener_t *l;
    uint64_t total;
    char addr[108]; /* where the client connects */
} echo_t;

static void *echo_server(void *arg)
{
    echo_t *e = arg;
    rill_io_t *c;
    if (rill_accept(e->l, &c) != 0)
        return NULL;
    char buf[16384];
    size_t n;
    int r;
    while ((r = rill_io_read(c, buf, sizeof buf, &n)) == 0)
        if (rill_io_write_all(c, buf, n, NULL) != 0)
            break;
    rill_io_free(c);
    return r == RILL_DONE ? (void *)1 : NULL;
}

typedef struct sender {
    rill_io_t *c;
    uint64_t total;
} sender_t;

static void *echo_sender(void *arg)
{
    sender_t *s = arg;
    unsigned char buf[16384];
    for (uint64_t off = 0; off < s->total;) {
        size_t n = sizeof buf;
        if (s->total - off < n)
            n = (size_t)(s->total - off);
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(off + i);
        if (rill_io_write_all(s->c, buf, n, NULL) != 0)
            return NULL;
        off += n;
    }
    return rill_io_shutdown_write(s->c) == 0 ? (void *)1 : NULL;
}

static void *echo_client(void *arg)
{
    echo_t *e = arg;
    rill_io_t *c;
    assert_status(rill_connect(&c, e->addr, NULL), 0);
    sender_t s = {c, e->total};
    rill_task_t *t;
    assert_status(rill_spawn(&t, echo_sender, &s, NULL), 0);
    unsigned char buf[16384];
    uint64_t got = 0;
    size_t n;
    int r;
    while ((r = rill_io_read(c, buf, sizeof buf, &n)) == 0) {
        for (size_t i = 0; i < n; i++)
            if (buf[i] != pattern(got + i))
                fail_msg("byte %llu differs", (unsigned long long)(got + i));
        got += n;
    }
    assert_status(r, RILL_DONE);
    assert_int_equal(got, e->total);
    void *sent;
    assert_status(rill_join(t, &sent), 0);
    assert_ptr_equal(sent, (void *)1);
    rill_io_free(c);
    return (void *)1;
}

static void *echo_main(void *arg)
{
    echo_t *e = arg;
    rill_task_t *srv;
    assert_status(rill_spawn(&srv, echo_server, e, NULL), 0);
    void *ok = echo_client(e);
    void *srv_ok;
    assert_status(rill_join(srv, &srv_ok), 0);
    assert_ptr_equal(srv_ok, (void *)1);
    return ok;
}

/* The 1 GiB echo in release builds; 32 MiB under sanitizers. */
static void test_tcp_echo_exact(void **state)
{
    (void)state;
    echo_t e = {.total = RILL_TEST_SANITIZED ? 32u << 20 : (uint64_t)1 << 30};
    rill_io_config_t cfg = {.runtime = rt};
    assert_status(rill_listen(&e.l, "127.0.0.1:0", &cfg), 0);
    assert_true(rill_listener_port(e.l) > 0);
    snprintf(e.addr, sizeof e.addr, "127.0.0.1:%d", rill_listener_port(e.l));
    run(echo_main, &e);
    rill_listener_free(e.l);
}

static void test_unix_echo(void **state)
{
    (void)state;
    echo_t e = {.total = 8 << 20};
    char *path = e.addr;
    snprintf(path, sizeof e.addr, "unix:/tmp/rill-test-%d.sock", (int)getpid());
    unlink(path + 5);
    rill_io_config_t cfg = {.runtime = rt};
    assert_status(rill_listen(&e.l, path, &cfg), 0);
    assert_int_equal(rill_listener_port(e.l), 0);
    rill_listener_t *busy;
    assert_status(rill_listen(&busy, path, &cfg), RILL_EADDRINUSE);
    run(echo_main, &e);
    rill_listener_free(e.l);
    unlink(path + 5);
}

/* ---- a task and a plain thread on one socketpair ---- */

typedef struct pair {
    rill_io_t *a, *b;
    int rounds;
} pair_t;

static void *pair_task(void *arg)
{
    pair_t *p = arg;
    for (int i = 0; i < p->rounds; i++) {
        int v;
        size_t n;
        if (rill_io_read(p->a, &v, sizeof v, &n) != 0 || n != sizeof v ||
            v != i)
            return NULL;
        v = -i;
        if (rill_io_write_all(p->a, &v, sizeof v, NULL) != 0)
            return NULL;
    }
    return (void *)1;
}

static void test_task_and_thread_share_socketpair(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pair_t p = {.rounds = SCALE(20000, 10)};
    rill_io_config_t cfg = {.runtime = rt};
    assert_status(rill_io_new(&p.a, sv[0], &cfg), 0);
    assert_status(rill_io_new(&p.b, sv[1], &cfg), 0);
    rill_task_t *t;
    assert_status(
        rill_spawn(&t, pair_task, &p, &(rill_spawn_config_t){.runtime = rt}),
        0);
    /* This plain thread waits on the same reactor (it parks). */
    for (int i = 0; i < p.rounds; i++) {
        int v = i;
        assert_status(rill_io_write_all(p.b, &v, sizeof v, NULL), 0);
        size_t n;
        assert_status(rill_io_read(p.b, &v, sizeof v, &n), 0);
        assert_int_equal(n, sizeof v);
        assert_int_equal(v, -i);
    }
    void *ok;
    assert_status(rill_join(t, &ok), 0);
    assert_ptr_equal(ok, (void *)1);
    rill_io_free(p.a);
    rill_io_free(p.b);
}

/* Wait until both workers of a fresh runtime sleep with no time limit:
 * the first to go idle sleeps 1 ms (a busy peer's queue may fill) and
 * then parks again, so that is three parks with both idle. */
static void wait_all_asleep(void)
{
    for (;;) {
        char buf[8192] = "";
        FILE *f = fmemopen(buf, sizeof buf - 1, "w");
        rill_runtime_dump(rt, f);
        fclose(f);
        rill_runtime_stats_t st;
        assert_status(rill_runtime_stats(rt, &st), 0);
        if (strstr(buf, "(2 idle)") && st.parks >= 3)
            return;
        sched_yield();
    }
}

/* A plain thread waits on an fd of a runtime whose workers all went to
 * sleep before any fd was registered (so none of them sits in epoll):
 * the wait itself must get a worker polling. */
static void test_thread_waits_while_workers_sleep(void **state)
{
    (void)state;
    wait_all_asleep();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rill_io_config_t cfg = {.runtime = rt};
    rill_io_t *a;
    assert_status(rill_io_new(&a, sv[0], &cfg), 0);
    char c;
    size_t n;
    /* EAGAIN clears the cached readiness: from now on only an event from
     * epoll can say the byte below is there. */
    assert_status(rill_io_try_read(a, &c, 1, &n), RILL_EAGAIN);
    assert_int_equal(write(sv[1], "x", 1), 1);
    alarm(20); /* a hang fails the test */
    assert_status(rill_io_read(a, &c, 1, &n), 0);
    alarm(0);
    assert_int_equal(c, 'x');
    rill_io_free(a);
    close(sv[1]);
}

/* ---- edge-triggered partial reads ---- */

static void *one_byte_reader(void *arg)
{
    pair_t *p = arg;
    for (int i = 0; i < p->rounds; i++) {
        unsigned char c;
        size_t n;
        if (rill_io_read(p->a, &c, 1, &n) != 0 || c != pattern((uint64_t)i))
            return NULL;
    }
    unsigned char c;
    size_t n;
    return rill_io_read(p->a, &c, 1, &n) == RILL_DONE ? (void *)1 : NULL;
}

static void test_partial_reads_edge_triggered(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pair_t p = {.rounds = SCALE(1 << 20, 16)};
    rill_io_config_t cfg = {.runtime = rt};
    assert_status(rill_io_new(&p.a, sv[0], &cfg), 0);
    rill_task_t *t;
    assert_status(rill_spawn(&t, one_byte_reader, &p,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    unsigned char *buf = malloc((size_t)p.rounds);
    for (int i = 0; i < p.rounds; i++)
        buf[i] = pattern((uint64_t)i);
    /* One big blocking write from this thread: the reader sees one edge
     * per kernel buffer's worth and must drain it a byte at a time. */
    for (size_t off = 0; off < (size_t)p.rounds;) {
        ssize_t w = write(sv[1], buf + off, (size_t)p.rounds - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
    close(sv[1]);
    free(buf);
    void *ok;
    assert_status(rill_join(t, &ok), 0);
    assert_ptr_equal(ok, (void *)1);
    rill_io_free(p.a);
}

/* ---- deadlines racing readiness: no byte lost ---- */

typedef struct racer {
    rill_io_t *io;
    uint64_t total, got;
    int timeouts;
} racer_t;

static void *deadline_reader(void *arg)
{
    racer_t *r = arg;
    unsigned char buf[333];
    for (;;) {
        size_t n;
        int s = rill_io_read_timeout(r->io, buf, sizeof buf, &n, RILL_US(50));
        if (s == RILL_ETIMEDOUT) {
            r->timeouts++;
            continue;
        }
        if (s == RILL_DONE)
            return r->got == r->total ? (void *)1 : NULL;
        if (s != 0)
            return NULL;
        for (size_t i = 0; i < n; i++)
            if (buf[i] != pattern(r->got + i))
                return NULL;
        r->got += n;
    }
}

static void test_deadline_races_readiness(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    racer_t r = {.total = SCALE(4u << 20, 8)};
    rill_io_config_t cfg = {.runtime = rt};
    assert_status(rill_io_new(&r.io, sv[0], &cfg), 0);
    rill_task_t *t;
    assert_status(rill_spawn(&t, deadline_reader, &r,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    /* Small writes with pauses between bursts, so reads time out often. */
    unsigned char buf[997];
    for (uint64_t off = 0; off < r.total;) {
        size_t n = sizeof buf;
        if (r.total - off < n)
            n = (size_t)(r.total - off);
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(off + i);
        for (size_t done = 0; done < n;) {
            ssize_t w = write(sv[1], buf + done, n - done);
            assert_true(w > 0);
            done += (size_t)w;
        }
        off += n;
        if ((off / n) % 64 == 0)
            sched_yield();
    }
    close(sv[1]);
    void *ok;
    assert_status(rill_join(t, &ok), 0);
    assert_ptr_equal(ok, (void *)1);
    fprintf(stderr, "deadline race: %d timeouts, %llu bytes, none lost\n",
            r.timeouts, (unsigned long long)r.got);
    rill_io_free(r.io);
}

/* ---- close, cancel, reset, half-close ---- */

static void *blocked_reader(void *arg)
{
    rill_io_t *io = arg;
    char c;
    size_t n;
    return (void *)(intptr_t)rill_io_read(io, &c, 1, &n);
}

/* Wait until task t waits in an I/O call (the dump shows it). */
static void wait_until_waiting(rill_task_t *t, const char *what)
{
    while (!rill_task_is_finished(t)) {
        char buf[8192] = "";
        FILE *f = fmemopen(buf, sizeof buf - 1, "w");
        rill_runtime_dump(rt, f);
        fclose(f);
        if (strstr(buf, what))
            return;
        sched_yield();
    }
}

static void test_close_wakes_waiter(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rill_io_config_t cfg = {.runtime = rt};
    rill_io_t *io;
    assert_status(rill_io_new(&io, sv[0], &cfg), 0);
    rill_task_t *t;
    assert_status(rill_spawn(&t, blocked_reader, io,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    wait_until_waiting(t, "read on fd"); /* the dump names the fd */
    rill_io_close(io);
    void *r;
    assert_status(rill_join(t, &r), 0);
    assert_status((int)(intptr_t)r, RILL_ECLOSED);
    char c;
    size_t n;
    assert_status(rill_io_read(io, &c, 1, &n), RILL_ECLOSED);
    rill_io_close(io); /* idempotent */
    rill_io_free(io);
    close(sv[1]);
}

static void test_cancel_blocked_read(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rill_io_config_t cfg = {.runtime = rt};
    rill_io_t *io;
    assert_status(rill_io_new(&io, sv[0], &cfg), 0);
    rill_task_t *t;
    assert_status(rill_spawn(&t, blocked_reader, io,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    wait_until_waiting(t, "read on fd");
    rill_task_cancel(t);
    void *r;
    assert_status(rill_join(t, &r), 0);
    assert_status((int)(intptr_t)r, RILL_ECANCELED);
    /* Nothing was taken: a byte written now is read whole. */
    assert_int_equal(write(sv[1], "x", 1), 1);
    char c;
    size_t n;
    assert_status(rill_io_read(io, &c, 1, &n), 0);
    assert_int_equal(c, 'x');
    rill_io_free(io);
    close(sv[1]);
}

typedef struct reset {
    rill_listener_t *l;
    int status;
    size_t written;
} reset_t;

static void *reset_writer(void *arg)
{
    reset_t *x = arg;
    rill_io_t *c;
    if (rill_accept(x->l, &c) != 0)
        return NULL;
    static char big[1 << 16];
    for (int i = 0; i < 10000; i++) {
        size_t w;
        x->status = rill_io_write_all(c, big, sizeof big, &w);
        x->written += w;
        if (x->status)
            break;
    }
    rill_io_free(c);
    return (void *)1;
}

/* The peer resets mid-write (SO_LINGER 0): an error code, no SIGPIPE. */
static void test_peer_reset_mid_write(void **state)
{
    (void)state;
    reset_t x = {0};
    rill_io_config_t cfg = {.runtime = rt};
    assert_status(rill_listen(&x.l, "127.0.0.1:0", &cfg), 0);
    rill_task_t *t;
    assert_status(
        rill_spawn(&t, reset_writer, &x, &(rill_spawn_config_t){.runtime = rt}),
        0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port =
                                htons((uint16_t)rill_listener_port(x.l)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char buf[4096];
    assert_true(read(fd, buf, sizeof buf) > 0); /* it is writing */
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd); /* RST */
    void *ok;
    assert_status(rill_join(t, &ok), 0);
    assert_ptr_equal(ok, (void *)1);
    assert_true(x.status == RILL_ECONNRESET || x.status == RILL_EPIPE);
    rill_listener_free(x.l);
}

/* A pipe whose reader is gone: RILL_EPIPE, and the process lives. */
static void test_pipe_without_reader_no_sigpipe(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    rill_io_config_t cfg = {.runtime = rt};
    rill_io_t *io;
    assert_status(rill_io_new(&io, p[1], &cfg), 0);
    size_t w;
    assert_status(rill_io_write_all(io, "abc", 3, &w), RILL_EPIPE);
    assert_int_equal(w, 0);
    rill_io_free(io);
}

static void test_half_close(void **state)
{
    (void)state;
    rill_io_t *a, *b;
    io_pair(&a, &b);
    assert_status(rill_io_write_all(a, "question", 8, NULL), 0);
    assert_status(rill_io_shutdown_write(a), 0);
    char buf[16];
    size_t n;
    assert_status(rill_io_read(b, buf, sizeof buf, &n), 0);
    assert_int_equal(n, 8);
    assert_status(rill_io_read(b, buf, sizeof buf, &n), RILL_DONE);
    /* b can still answer, a can still read. */
    assert_status(rill_io_write_all(b, "answer", 6, NULL), 0);
    assert_status(rill_io_read(a, buf, sizeof buf, &n), 0);
    assert_int_equal(n, 6);
    rill_io_free(a);
    rill_io_free(b);
}

/* A writer that trickles 1,000 bytes one at a time, yielding between. */
static void *trickle(void *arg)
{
    rill_io_t *io = arg;
    for (int i = 0; i < 1000; i++) {
        unsigned char c = pattern((uint64_t)i);
        if (rill_io_write_all(io, &c, 1, NULL) != 0 || rill_yield() != 0)
            return NULL;
    }
    return (void *)1;
}

/* read_exact gathers many short reads into one message; tells a clean end
 * (RILL_DONE) from an end inside a message (RILL_EPROTO, with the count);
 * a timeout keeps what it read, and nothing is lost after it. */
static void test_read_exact(void **state)
{
    (void)state;
    rill_io_t *a, *b;
    io_pair(&a, &b);
    rill_task_t *t;
    assert_status(
        rill_spawn(&t, trickle, a, &(rill_spawn_config_t){.runtime = rt}), 0);
    unsigned char buf[1000];
    size_t got = 7;
    assert_status(rill_io_read_exact(b, buf, sizeof buf, &got), 0);
    assert_int_equal(got, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], pattern(i));
    void *ok;
    assert_status(rill_join(t, &ok), 0);
    assert_ptr_equal(ok, (void *)1);
    assert_status(rill_io_read_exact(b, buf, 0, &got), 0); /* nothing asked */
    assert_int_equal(got, 0);

    /* 2 of 5 bytes, then a timeout: got = 2; the rest follows intact. */
    assert_status(rill_io_write_all(a, "ab", 2, NULL), 0);
    assert_status(rill_io_read_exact_timeout(b, buf, 5, &got, RILL_MS(20)),
                  RILL_ETIMEDOUT);
    assert_int_equal(got, 2);
    assert_memory_equal(buf, "ab", 2);
    assert_status(rill_io_write_all(a, "cdefg", 5, NULL), 0);
    assert_status(rill_io_read_exact(b, buf + 2, 3, &got), 0);
    assert_memory_equal(buf, "abcde", 5);

    /* The end inside a message, then at a message boundary. */
    assert_status(rill_io_shutdown_write(a), 0);
    assert_status(rill_io_read_exact(b, buf, 4, &got), RILL_EPROTO);
    assert_int_equal(got, 2);
    assert_memory_equal(buf, "fg", 2);
    assert_status(rill_io_read_exact(b, buf, 4, &got), RILL_DONE);
    assert_int_equal(got, 0);
    assert_status(rill_io_read_exact(NULL, buf, 4, &got), RILL_EINVAL);
    assert_status(rill_io_read_exact(b, NULL, 4, &got), RILL_EINVAL);
    rill_io_free(a);
    rill_io_free(b);
}

/* write_all with a timeout against a peer that does not read: it stops,
 * and *written is exactly what the peer then reads. */
static void test_write_all_timeout_reports_bytes(void **state)
{
    (void)state;
    rill_io_free(NULL);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rill_io_config_t cfg = {.runtime = rt};
    rill_io_t *a;
    assert_status(rill_io_new(&a, sv[0], &cfg), 0);
    size_t len = 8 << 20;
    unsigned char *buf = malloc(len);
    for (size_t i = 0; i < len; i++)
        buf[i] = pattern(i);
    size_t written;
    assert_status(rill_io_write_all_timeout(a, buf, len, &written, RILL_MS(20)),
                  RILL_ETIMEDOUT);
    assert_true(written > 0 && written < len);
    rill_io_free(a); /* closes sv[0]: the peer reads then EOF */
    size_t got = 0;
    unsigned char rb[65536];
    ssize_t n;
    while ((n = read(sv[1], rb, sizeof rb)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            assert_int_equal(rb[i], pattern(got + (size_t)i));
        got += (size_t)n;
    }
    assert_int_equal(got, written);
    close(sv[1]);
    free(buf);
}

/* ---- both directions of one handle, from two tasks ---- */

typedef struct duplex {
    rill_io_t *io;
    size_t len, written;
    unsigned char *buf;
} duplex_t;

static void *duplex_writer(void *arg)
{
    duplex_t *d = arg;
    int r = rill_io_write_all(d->io, d->buf, d->len, &d->written);
    return r == 0 && d->written == d->len ? (void *)1 : NULL;
}

/* Read the whole of sv's pattern stream of len bytes from fd. */
static void drain_pattern(int fd, size_t len)
{
    unsigned char rb[65536];
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, rb, sizeof rb);
        assert_true(n > 0);
        for (ssize_t i = 0; i < n; i++)
            assert_int_equal(rb[i], pattern(got + (size_t)i));
        got += (size_t)n;
    }
}

/* One task waits to read and another to write on the same handle at the
 * same time; each wakes for its own direction only. */
static void test_both_directions_two_tasks(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rill_io_config_t cfg = {.runtime = rt};
    duplex_t d = {.len = 8 << 20};
    assert_status(rill_io_new(&d.io, sv[0], &cfg), 0);
    d.buf = malloc(d.len);
    for (size_t i = 0; i < d.len; i++)
        d.buf[i] = pattern(i);
    rill_task_t *rd, *wr;
    assert_status(rill_spawn(&rd, blocked_reader, d.io,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    assert_status(rill_spawn(&wr, duplex_writer, &d,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    wait_until_waiting(rd, "read on fd");
    wait_until_waiting(wr, "write_all on fd");
    /* Drain the writer: it finishes, the reader still waits. */
    drain_pattern(sv[1], d.len);
    void *r;
    assert_status(rill_join(wr, &r), 0);
    assert_ptr_equal(r, (void *)1);
    assert_false(rill_task_is_finished(rd));
    assert_int_equal(write(sv[1], "r", 1), 1);
    assert_status(rill_join(rd, &r), 0);
    assert_int_equal((int)(intptr_t)r, 0);
    free(d.buf);
    rill_io_free(d.io);
    close(sv[1]);
}

/* ---- cancel of a task blocked in write, accept, connect ---- */

static void *blocked_write_all(void *arg)
{
    duplex_t *d = arg;
    return (void *)(intptr_t)rill_io_write_all(d->io, d->buf, d->len,
                                               &d->written);
}

static void *blocked_write(void *arg)
{
    duplex_t *d = arg;
    /* The kernel buffer is full already: this waits. */
    return (void *)(intptr_t)rill_io_write(d->io, d->buf, d->len, &d->written);
}

static void test_cancel_blocked_write(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rill_io_config_t cfg = {.runtime = rt};
    duplex_t d = {.len = 8 << 20};
    assert_status(rill_io_new(&d.io, sv[0], &cfg), 0);
    d.buf = malloc(d.len);
    for (size_t i = 0; i < d.len; i++)
        d.buf[i] = pattern(i);
    rill_task_t *t;
    assert_status(rill_spawn(&t, blocked_write_all, &d,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    wait_until_waiting(t, "write_all on fd");
    rill_task_cancel(t);
    void *r;
    assert_status(rill_join(t, &r), 0);
    assert_status((int)(intptr_t)r, RILL_ECANCELED);
    size_t first = d.written;
    assert_true(first > 0 && first < d.len);
    /* A plain write on the still-full socket, cancelled: nothing went. */
    duplex_t d2 = d;
    d2.buf += first; /* the stream goes on where write_all stopped */
    d2.len -= first;
    d2.written = 12345;
    assert_status(rill_spawn(&t, blocked_write, &d2,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    wait_until_waiting(t, "write on fd");
    rill_task_cancel(t);
    assert_status(rill_join(t, &r), 0);
    assert_status((int)(intptr_t)r, RILL_ECANCELED);
    assert_int_equal(d2.written, 0);
    /* The peer reads exactly buf[0 .. first), nothing lost or doubled. */
    rill_io_free(d.io);
    drain_pattern(sv[1], first);
    char c;
    assert_int_equal(read(sv[1], &c, 1), 0);
    close(sv[1]);
    free(d.buf);
}

typedef struct acc {
    rill_listener_t *l;
    rill_io_t *conn;
    const char *addr;
} acc_t;

static void *blocked_accept(void *arg)
{
    acc_t *a = arg;
    return (void *)(intptr_t)rill_accept(a->l, &a->conn);
}

static void *blocked_connect(void *arg)
{
    acc_t *a = arg;
    return (void *)(intptr_t)rill_connect(&a->conn, a->addr, NULL);
}

/* How many fds this process has open. */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

static void test_cancel_blocked_accept_and_connect(void **state)
{
    (void)state;
    int fds_before = open_fds();
    rill_io_config_t cfg = {.runtime = rt, .backlog = 1};
    acc_t a = {0};
    assert_status(rill_listen(&a.l, "127.0.0.1:0", &cfg), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(a.l));
    a.addr = addr;
    rill_task_t *t;
    assert_status(rill_spawn(&t, blocked_accept, &a,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    wait_until_waiting(t, "accept on fd");
    rill_task_cancel(t);
    void *r;
    assert_status(rill_join(t, &r), 0);
    assert_status((int)(intptr_t)r, RILL_ECANCELED);
    assert_null(a.conn);
    /* Fill the backlog (never accepted), so the next connect waits for a
     * SYN-ACK that does not come; it took no connection meanwhile. */
    rill_io_t *held[8];
    int nheld = 0;
    for (; nheld < 8; nheld++)
        if (rill_connect_timeout(&held[nheld], addr, RILL_MS(50), &cfg) != 0)
            break;
    assert_true(nheld < 8);
    assert_status(rill_spawn(&t, blocked_connect, &a,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    wait_until_waiting(t, "connect on fd");
    rill_task_cancel(t);
    assert_status(rill_join(t, &r), 0);
    assert_status((int)(intptr_t)r, RILL_ECANCELED);
    assert_null(a.conn);
    /* The queued connections are all still there to accept. */
    for (int i = 0; i < nheld; i++) {
        rill_io_t *c;
        assert_status(rill_accept_timeout(a.l, &c, RILL_SEC(10)), 0);
        rill_io_free(c);
        rill_io_free(held[i]);
    }
    rill_listener_free(a.l);
    assert_int_equal(open_fds(), fds_before); /* the half-open one too */
}

/* ---- accept as a stream, served concurrently ---- */

static int serve_one(void *ud, int status, void *item)
{
    (void)ud;
    if (status < 0)
        return 0; /* an accept error (EMFILE): the listener goes on */
    rill_io_t *c = *(rill_io_t **)item;
    char buf[256];
    size_t n;
    int r;
    while ((r = rill_io_read(c, buf, sizeof buf, &n)) == 0)
        if ((r = rill_io_write_all(c, buf, n, NULL)) != 0)
            break;
    rill_io_free(c);
    return 0;
}

typedef struct clients {
    int port, n, rounds;
} clients_t;

static void *client_task(void *arg)
{
    clients_t *c = arg;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", c->port);
    rill_io_t *io;
    int r = rill_connect(&io, addr, NULL);
    if (r != 0) {
        fprintf(stderr, "connect: %s\n", rill_err_name(r));
        return NULL;
    }
    for (int i = 0; i < c->rounds; i++) {
        char msg[32], got[32];
        int len = snprintf(msg, sizeof msg, "hello %d", i);
        size_t n, have = 0;
        if ((r = rill_io_write_all(io, msg, (size_t)len, NULL)) != 0)
            break;
        while (have < (size_t)len) {
            if ((r = rill_io_read(io, got + have, (size_t)len - have, &n)) != 0)
                break;
            have += n;
        }
        if (r || memcmp(msg, got, (size_t)len) != 0) {
            r = r ? r : RILL_EPROTO;
            break;
        }
    }
    rill_io_free(io);
    if (r)
        fprintf(stderr, "client: %s\n", rill_err_name(r));
    return r ? NULL : (void *)1;
}

typedef struct server {
    rill_stream_t *conns;
} server_t;

static void *server_task(void *arg)
{
    server_t *s = arg;
    int r = rill_stream_for_each_concurrent(s->conns, 0, serve_one, NULL);
    return r == 0 ? (void *)1 : NULL;
}

static void *accept_stream_main(void *arg)
{
    (void)arg;
    rill_listener_t *l;
    if (rill_listen(&l, "127.0.0.1:0", NULL) != 0)
        return NULL;
    clients_t c = {.port = rill_listener_port(l), .n = 50, .rounds = 20};
    server_t s;
    if (rill_listener_into_stream(l, &s.conns) != 0)
        return NULL;
    rill_task_t *srv;
    if (rill_spawn(&srv, server_task, &s, NULL) != 0)
        return NULL;
    rill_task_t *t[50];
    int failed = 0;
    for (int i = 0; i < c.n; i++)
        if (rill_spawn(&t[i], client_task, &c, NULL) != 0)
            return NULL;
    for (int i = 0; i < c.n; i++) {
        void *ok = NULL;
        if (rill_join(t[i], &ok) != 0 || ok != (void *)1)
            failed++;
    }
    rill_listener_close(l); /* the accept stream ends; the server returns */
    void *ok = NULL;
    int r = rill_join(srv, &ok);
    if (failed || r)
        fprintf(stderr, "%d clients failed; server join %s\n", failed,
                rill_err_name(r));
    return failed ? NULL : ok;
}

static void test_accept_stream_for_each_concurrent(void **state)
{
    (void)state;
    run(accept_stream_main, NULL);
}

/* ---- EMFILE at accept ---- */

typedef struct fdfill {
    struct rlimit saved;
    bool active;
    int fds[4096];
    int n;
} fdfill_t;

/* One fill for the whole file: teardown_fd_fill gives it back even when a
 * failed assertion left a test body half way, so the tests after it do not
 * inherit the lowered limit. */
static fdfill_t fill;

/* Lower the soft fd limit to `reserve` numbers above the highest fd open
 * now and take every free number below it: the next fd the process makes
 * is EMFILE, and at least `reserve` numbers can be given back one by one.
 * (Without the reserve a process whose fds have no gaps, as on some CI
 * machines, would take none and have nothing to give.) */
static void fd_fill(fdfill_t *f, int reserve)
{
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &f->saved), 0);
    int high = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            high = fd;
    struct rlimit lim = f->saved;
    lim.rlim_cur = (rlim_t)high + 1 + (rlim_t)reserve;
    assert_true(lim.rlim_cur <= f->saved.rlim_cur);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
    f->active = true;
    f->n = 0;
    int fd;
    while (f->n < 4096 && (fd = dup(0)) >= 0)
        f->fds[f->n++] = fd;
    assert_int_equal(errno, EMFILE);
    assert_true(f->n >= reserve);
}

/* Give back one fd number. */
static void fd_give(fdfill_t *f)
{
    assert_true(f->n > 0);
    close(f->fds[--f->n]);
}

static void fd_unfill(fdfill_t *f)
{
    if (!f->active)
        return;
    while (f->n > 0)
        close(f->fds[--f->n]);
    f->active = false;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &f->saved), 0);
}

static int teardown_fd_fill(void **state)
{
    fd_unfill(&fill);
    return teardown(state);
}

/* A raw blocking client socket, made before the fds run out. */
static int raw_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    return fd;
}

static void raw_connect(int fd, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
}

/* One round trip through the echo server on a raw client socket. */
static void raw_ping(int fd)
{
    assert_int_equal(write(fd, "ping", 4), 4);
    char buf[4];
    size_t got = 0;
    while (got < 4) {
        ssize_t n = read(fd, buf + got, 4 - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(buf, "ping", 4);
}

/* rill_accept out of fds: RILL_EMFILE, the connection stays queued, and
 * the listener accepts it once an fd is free. */
static void test_emfile_at_accept(void **state)
{
    (void)state;
    rill_io_config_t cfg = {.runtime = rt};
    rill_listener_t *l;
    assert_status(rill_listen(&l, "127.0.0.1:0", &cfg), 0);
    int c1 = raw_socket();
    fdfill_t *f = &fill;
    fd_fill(f, 1);
    raw_connect(c1, rill_listener_port(l));
    rill_io_t *conn;
    assert_status(rill_accept(l, &conn), RILL_EMFILE);
    assert_status(rill_accept(l, &conn), RILL_EMFILE); /* still queued */
    fd_give(f);
    assert_status(rill_accept(l, &conn), 0);
    assert_status(rill_io_write_all(conn, "hi", 2, NULL), 0);
    char buf[2];
    assert_int_equal(read(c1, buf, 2), 2);
    fd_unfill(f);
    rill_io_free(conn);
    close(c1);
    rill_listener_free(l);
}

static atomic_int emfile_items;

static int serve_or_count(void *ud, int status, void *item)
{
    if (status == RILL_EMFILE) {
        atomic_fetch_add(&emfile_items, 1);
        return 0;
    }
    return serve_one(ud, status, item);
}

static void *emfile_server(void *arg)
{
    rill_stream_t *conns = arg;
    int r = rill_stream_for_each_concurrent(conns, 0, serve_or_count, NULL);
    return r == 0 ? (void *)1 : NULL;
}

/* The accept stream out of fds: RILL_EMFILE items (backing off, not
 * spinning), and every client is served once fds are free again; the
 * clients already connected are served throughout. */
static void test_emfile_accept_stream_keeps_serving(void **state)
{
    (void)state;
    rill_io_config_t cfg = {.runtime = rt};
    rill_listener_t *l;
    assert_status(rill_listen(&l, "127.0.0.1:0", &cfg), 0);
    int port = rill_listener_port(l);
    rill_stream_t *conns;
    assert_status(rill_listener_into_stream(l, &conns), 0);
    rill_task_t *srv;
    assert_status(rill_spawn(&srv, emfile_server, conns,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    int first = raw_socket(), c[3];
    raw_connect(first, port);
    raw_ping(first); /* served before the fds run out */
    for (int i = 0; i < 3; i++)
        c[i] = raw_socket();
    atomic_store(&emfile_items, 0);
    fdfill_t *f = &fill;
    fd_fill(f, 3);
    for (int i = 0; i < 3; i++) {
        int before = atomic_load(&emfile_items);
        raw_connect(c[i], port);
        while (atomic_load(&emfile_items) == before)
            sched_yield(); /* the server met EMFILE for this client */
        raw_ping(first);   /* meanwhile the first client is served */
        fd_give(f);        /* one fd: client i gets accepted */
        raw_ping(c[i]);
    }
    fd_unfill(f);
    fprintf(stderr, "accept stream: %d RILL_EMFILE items for 3 clients\n",
            atomic_load(&emfile_items));
    for (int i = 0; i < 3; i++)
        close(c[i]);
    close(first);
    /* Closing the listener (the stream owns it) ends the server. */
    rill_listener_close(l);
    void *ok;
    assert_status(rill_join(srv, &ok), 0);
    assert_ptr_equal(ok, (void *)1);
}

/* ---- timers in epoll without epoll_pwait2 (the timerfd) ---- */

typedef struct precise {
    rill_io_t *a;
    rill_duration_t best_sleep, read_took;
} precise_t;

static void *precise_main(void *arg)
{
    precise_t *p = arg;
    p->best_sleep = RILL_FOREVER;
    for (int i = 0; i < 20; i++) {
        rill_instant_t t0 = rill_now();
        if (rill_sleep(RILL_US(200)) != 0)
            return NULL;
        rill_duration_t d = rill_now() - t0;
        if (d < RILL_US(200))
            return NULL; /* early */
        if (d < p->best_sleep)
            p->best_sleep = d;
    }
    char c;
    size_t n;
    rill_instant_t t0 = rill_now();
    if (rill_io_read_timeout(p->a, &c, 1, &n, RILL_US(300)) != RILL_ETIMEDOUT)
        return NULL;
    p->read_took = rill_now() - t0;
    return p->read_took >= RILL_US(300) ? (void *)1 : NULL;
}

/* The worker that waits in epoll (fds registered) is also the one whose
 * timer is due: on a kernel without epoll_pwait2 the timerfd keeps a
 * 200 us sleep from rounding up to a millisecond, and sockets still work. */
static void test_timerfd_fallback(void **state)
{
    (void)state;
    rill__reactor_no_pwait2 = true;
    rill_runtime_t *one = test_new_rt(1, false);
    rill__reactor_no_pwait2 = false;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rill_io_config_t cfg = {.runtime = one};
    precise_t p;
    assert_status(rill_io_new(&p.a, sv[0], &cfg), 0);
    void *ok = NULL;
    assert_status(rill_block_on(one, precise_main, &p, &ok), 0);
    assert_ptr_equal(ok, (void *)1);
    fprintf(stderr,
            "timerfd: best 200 us sleep took %.0f us, 300 us read "
            "timeout %.0f us\n",
            p.best_sleep / 1e3, p.read_took / 1e3);
    /* Milliseconds rounded up would make every sleep >= 1 ms; the best
     * of 20 is far below that on any machine not frozen for 20 ms. */
    if (!RILL_TEST_SANITIZED)
        assert_true(p.best_sleep < RILL_US(900));
    /* Readiness still arrives through epoll. */
    assert_int_equal(write(sv[1], "z", 1), 1);
    char c;
    size_t n;
    assert_status(rill_io_read(p.a, &c, 1, &n), 0);
    assert_int_equal(c, 'z');
    rill_io_free(p.a);
    close(sv[1]);
    rill_runtime_free(one);
}

/* ---- the virtual clock with sockets ---- */

static void *late_writer(void *arg)
{
    rill_io_t *io = arg;
    rill_sleep(RILL_MS(500));
    return rill_io_write_all(io, "late", 4, NULL) == 0 ? (void *)1 : NULL;
}

#define VCHECK(cond)                                                           \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);         \
            return NULL;                                                       \
        }                                                                      \
    } while (0)

static void *virtual_main(void *arg)
{
    (void)arg;
    int sv[2];
    VCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    rill_io_t *a, *b;
    VCHECK(rill_io_new(&a, sv[0], NULL) == 0);
    VCHECK(rill_io_new(&b, sv[1], NULL) == 0);
    /* Nobody writes: the timeout fires at once in virtual time, with the
     * socket open (the clock does not wait for the peer). */
    rill_instant_t t0 = rill_now();
    char buf[8];
    size_t n;
    VCHECK(rill_io_read_timeout(a, buf, sizeof buf, &n, RILL_SEC(5)) ==
           RILL_ETIMEDOUT);
    VCHECK(rill_now() - t0 == RILL_SEC(5));
    /* A task writes at +500 ms virtual: the read with a 1 s limit gets it
     * at +500 ms, not a timeout: what the kernel has runs before time
     * moves again. */
    rill_task_t *w;
    VCHECK(rill_spawn(&w, late_writer, b, NULL) == 0);
    t0 = rill_now();
    int r = rill_io_read_timeout(a, buf, sizeof buf, &n, RILL_SEC(1));
    VCHECK(r == 0 && n == 4);
    VCHECK(rill_now() - t0 == RILL_MS(500));
    void *ok;
    VCHECK(rill_join(w, &ok) == 0);
    rill_io_free(a);
    rill_io_free(b);
    return ok;
}

/* ---- backpressure end to end ---- */

enum { BP_ITEMS = 20000, BP_SIZE = 1024, BP_CAP = 4 };

typedef struct bp {
    rill_sender_t *tx;
    rill_io_t *out;   /* the writer's side */
    rill_stream_t *s; /* the channel's items, which the writer writes */
    atomic_int sent;
} bp_t;

static void *bp_producer(void *arg)
{
    bp_t *p = arg;
    unsigned char buf[BP_SIZE];
    void *ok = (void *)1;
    for (int i = 0; i < BP_ITEMS && ok; i++) {
        rill_bytes_t b;
        for (int k = 0; k < BP_SIZE; k++)
            buf[k] = pattern((uint64_t)i * BP_SIZE + (uint64_t)k);
        if (rill_bytes_new(&b, buf, sizeof buf) != 0)
            ok = NULL;
        else if (rill_send(p->tx, &b) != 0) {
            rill_bytes_release(&b);
            ok = NULL;
        } else
            atomic_fetch_add(&p->sent, 1);
    }
    rill_sender_release(p->tx); /* the stream, and so the writer, ends */
    return ok;
}

static void *bp_writer(void *arg)
{
    bp_t *p = arg;
    uint64_t written = 0;
    int r = rill_io_write_stream(p->out, p->s, &written);
    VCHECK(r == 0 && written == (uint64_t)BP_ITEMS * BP_SIZE);
    return rill_io_shutdown_write(p->out) == 0 ? (void *)1 : NULL;
}

/* A peer that does not read: the socket fills, rill_io_write_stream stops
 * polling its stream, the channel behind it fills, and the producer waits
 * in rill_send - with the virtual clock, time can only pass once all of
 * that has settled. Then the peer reads: every item arrives, in order. */
static void *backpressure_main(void *arg)
{
    (void)arg;
    int sv[2];
    VCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int small = 16384;
    VCHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
    VCHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    int sndbuf = 0, rcvbuf = 0;
    socklen_t sl = sizeof sndbuf;
    VCHECK(getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) == 0);
    VCHECK(getsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &rcvbuf, &sl) == 0);
    bp_t p = {.sent = 0};
    rill_io_t *in;
    VCHECK(rill_io_new(&p.out, sv[0], NULL) == 0);
    VCHECK(rill_io_new(&in, sv[1], NULL) == 0);
    rill_receiver_t *rx;
    rill_channel_config_t cc = {.item_dtor = rill_bytes_item_dtor};
    VCHECK(rill_channel_new(&p.tx, &rx, sizeof(rill_bytes_t), BP_CAP, &cc) ==
           0);
    VCHECK(rill_receiver_into_stream(rx, &p.s) == 0);
    rill_task_t *prod, *wr;
    VCHECK(rill_spawn(&prod, bp_producer, &p, NULL) == 0);
    VCHECK(rill_spawn(&wr, bp_writer, &p, NULL) == 0);
    /* Virtual time moves only when every task waits. */
    VCHECK(rill_sleep(RILL_SEC(1)) == 0);
    int sent = atomic_load(&p.sent);
    /* In flight: the channel, the items one writev gathers, the kernel's
     * buffers (a Unix socket's bytes count against both ends: twice the
     * sum bounds them), the item in the producer's hands. */
    int bound = BP_CAP + 64 + 2 * (sndbuf + rcvbuf) / BP_SIZE + 1;
    printf("backpressure: %d of %d items sent while the peer did not read "
           "(bound %d)\n",
           sent, BP_ITEMS, bound);
    VCHECK(sent <= bound && sent < BP_ITEMS);
    /* Now read everything. */
    unsigned char buf[8192];
    uint64_t got = 0;
    size_t n;
    int r;
    while ((r = rill_io_read(in, buf, sizeof buf, &n)) == 0) {
        for (size_t i = 0; i < n; i++)
            VCHECK(buf[i] == pattern(got + i));
        got += n;
    }
    VCHECK(r == RILL_DONE && got == (uint64_t)BP_ITEMS * BP_SIZE);
    void *ok1, *ok2;
    VCHECK(rill_join(prod, &ok1) == 0 && rill_join(wr, &ok2) == 0);
    rill_io_free(in);
    rill_io_free(p.out);
    return ok1 && ok2 ? (void *)1 : NULL;
}

static void test_backpressure_end_to_end(void **state)
{
    (void)state;
    run(backpressure_main, NULL);
}

static void test_virtual_clock_with_sockets(void **state)
{
    (void)state;
    run(virtual_main, NULL);
}

/* ---- no deadlock reported while a task waits on a socket ---- */

static void *wait_for_child(void *arg)
{
    rill_io_t *io = arg;
    char buf[8];
    size_t n;
    int r = rill_io_read(io, buf, sizeof buf, &n);
    return r == 0 && n == 5 && memcmp(buf, "child", 5) == 0 ? (void *)1 : NULL;
}

static void test_no_deadlock_while_waiting_on_socket(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* another process: the detector cannot see it */
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
        _exit(write(sv[1], "child", 5) == 5 ? 0 : 1);
    }
    close(sv[1]);
    rill_io_config_t cfg = {.runtime = rt};
    rill_io_t *io;
    assert_status(rill_io_new(&io, sv[0], &cfg), 0);
    /* block_on fails with RILL_EDEADLK if a deadlock is reported. */
    run(wait_for_child, io);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    rill_runtime_stats_t st2;
    assert_status(rill_runtime_stats(rt, &st2), 0);
    assert_int_equal(st2.deadlocks, 0);
    rill_io_free(io);
}

/* ---- many connections open at shutdown ---- */

static atomic_int holding; /* hold_conn tasks that started */
static int n_conns;        /* connections many_main makes */

/* Raise the soft fd limit to what the test wants, and the hard one when
 * allowed (root may): a fresh machine often starts at 1024. Returns the
 * soft limit in force. */
static int raise_fd_limit(rlim_t want)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return 0;
    if (lim.rlim_cur < want) {
        struct rlimit up = {want, lim.rlim_max > want ? lim.rlim_max : want};
        if (setrlimit(RLIMIT_NOFILE, &up) != 0) {
            up.rlim_cur = lim.rlim_max;
            up.rlim_max = lim.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &up);
        }
        (void)getrlimit(RLIMIT_NOFILE, &lim);
    }
    return lim.rlim_cur > 1 << 20 ? 1 << 20 : (int)lim.rlim_cur;
}

static void *hold_conn(void *arg)
{
    rill_io_t *c = arg;
    atomic_fetch_add(&holding, 1);
    char b;
    size_t n;
    int r = rill_io_read(c, &b, 1, &n); /* cancelled by the shutdown */
    assert_true(r == RILL_ECANCELED || r == RILL_DONE);
    rill_io_free(c);
    return NULL;
}

static void *many_main(void *arg)
{
    rill_listener_t *l = arg;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(l));
    for (int i = 0; i < n_conns; i++) {
        rill_io_t *c, *s;
        if (rill_connect(&c, addr, NULL) != 0 || rill_accept(l, &s) != 0)
            return NULL;
        if (rill_spawn(NULL, hold_conn, c, NULL) != 0 ||
            rill_spawn(NULL, hold_conn, s, NULL) != 0)
            return NULL;
    }
    /* A task cancelled before it ever ran cannot free its connection:
     * let all of them start (each then owns its handle). */
    while (atomic_load(&holding) < 2 * n_conns)
        (void)rill_yield(); /* only fails when cancelled */
    return (void *)1;
}

static void test_shutdown_with_1000_connections(void **state)
{
    (void)state;
    /* A runtime made here, so that the fds counted before include none
     * of it. */
    rill_runtime_free(rt);
    int fds_before = open_fds();
    /* Two fds per connection; 1000 connections unless even root cannot
     * raise the limit that far (then as many as fit, said aloud). */
    int limit = raise_fd_limit(2200);
    n_conns = (limit - fds_before - 64) / 2;
    if (n_conns > 1000)
        n_conns = 1000;
    if (n_conns < 1000)
        printf("shutdown: fd limit %d allows %d connections, not 1000\n", limit,
               n_conns);
    assert_true(n_conns >= 100);
    rt = test_new_rt(2, false);
    rill_listener_t *l;
    rill_io_config_t cfg = {.runtime = rt};
    assert_status(rill_listen(&l, "127.0.0.1:0", &cfg), 0);
    atomic_store(&holding, 0);
    run(many_main, l);
    rill_listener_free(l);
    assert_true(open_fds() >= fds_before + 2 * n_conns);
    /* Freeing the runtime cancels every task, each closes its connection:
     * no fd is left (and teardown checks that no allocation is). */
    rill_runtime_free(rt);
    rt = NULL;
    assert_int_equal(open_fds(), fds_before);
}

/* ---- 1,000 clients from another process ---- */

extern char **environ;
static atomic_long answered; /* requests the load server answered */

/* One client of the load test: 32-byte requests, each answered with its
 * bytes XOR 0x5a, until the client leaves. */
static int load_session(void *ud, int status, void *item)
{
    (void)ud;
    if (status)
        return status; /* an accept error fails the test */
    rill_io_t *c = *(rill_io_t **)item;
    unsigned char m[32];
    int r;
    while ((r = rill_io_read_exact(c, m, sizeof m, NULL)) == 0) {
        for (size_t i = 0; i < sizeof m; i++)
            m[i] ^= 0x5a;
        if ((r = rill_io_write_all(c, m, sizeof m, NULL)) != 0)
            break;
        atomic_fetch_add(&answered, 1);
    }
    rill_io_free(c);
    return r == RILL_DONE ? 0 : r;
}

static void *load_server(void *conns)
{
    return (void *)(intptr_t)rill_stream_for_each_concurrent(
        conns, 0, load_session, NULL);
}

/* The load: 1,000 clients in a separate process (plain epoll,
 * tests/io_load_client.c), each 100 request/response round trips, all at
 * once, against an accept stream served by for_each_concurrent. */
static void test_thousand_clients_from_another_process(void **state)
{
    (void)state;
    int limit = raise_fd_limit(2200);
    int clients =
        (limit - open_fds() - 64) < 1000 ? limit - open_fds() - 64 : 1000;
    int rounds = SCALE(100, 10);
    if (clients < 1000)
        printf("load: fd limit %d allows %d clients, not 1000\n", limit,
               clients);
    assert_true(clients >= 100);
    rill_io_config_t cfg = {.runtime = rt, .backlog = 1024};
    rill_listener_t *l;
    rill_stream_t *conns;
    assert_status(rill_listen(&l, "127.0.0.1:0", &cfg), 0);
    char addr[32], nc[16], nr[16];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(l));
    snprintf(nc, sizeof nc, "%d", clients);
    snprintf(nr, sizeof nr, "%d", rounds);
    assert_status(rill_listener_into_stream(l, &conns), 0);
    atomic_store(&answered, 0);
    rill_task_t *srv;
    assert_status(rill_spawn(&srv, load_server, conns,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    char *argv[] = {IO_LOAD_CLIENT, addr, nc, nr, NULL};
    pid_t pid;
    assert_int_equal(
        posix_spawn(&pid, IO_LOAD_CLIENT, NULL, NULL, argv, environ), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    /* Every client left: closing the listener ends the stream, and the
     * server returns once every session has. */
    rill_listener_close(l);
    void *r;
    assert_status(rill_join(srv, &r), 0);
    assert_int_equal((intptr_t)r, 0);
    assert_int_equal(atomic_load(&answered), (long)clients * rounds);
}

/* ---- bad input ---- */

static void test_bad_input(void **state)
{
    (void)state;
    rill_io_config_t cfg = {.runtime = rt};
    rill_io_t *io = NULL;
    assert_status(rill_io_new(&io, -1, &cfg), RILL_EINVAL);
    assert_status(rill_io_new(NULL, 0, &cfg), RILL_EINVAL);
    int fd = dup(0);
    close(fd);
    assert_status(rill_io_new(&io, fd, &cfg), RILL_EINVAL); /* closed */
    assert_status(rill_io_new(&io, 0, NULL), RILL_EINVAL);  /* no runtime */
    char tmpl[] = "/tmp/rill-io-XXXXXX";
    int file = mkstemp(tmpl);
    unlink(tmpl);
    assert_status(rill_io_new(&io, file, &cfg), RILL_EINVAL); /* a file */
    close(file);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rill_io_t *a, *again;
    assert_status(rill_io_new(&a, sv[0], &cfg), 0);
    assert_status(rill_io_new(&again, sv[0], &cfg), RILL_EINVAL); /* twice */
    char buf[4];
    size_t n;
    assert_status(rill_io_read(NULL, buf, 4, &n), RILL_EINVAL);
    assert_status(rill_io_read(a, NULL, 4, &n), RILL_EINVAL);
    assert_status(rill_io_read(a, buf, 0, &n), RILL_EINVAL);
    assert_status(rill_io_try_read(a, buf, 4, &n), RILL_EAGAIN);
    assert_status(rill_io_ready(a, 0), RILL_EINVAL);
    assert_status(rill_io_ready(a, RILL_IO_WRITE), 0);
    rill_io_free(a);
    close(sv[1]);

    rill_listener_t *l;
    const char *bad[] = {
        "",      "127.0.0.1", "127.0.0.1:99999", "[::1]8080", "example.com:80",
        "unix:", "1.2.3.4:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_status(rill_listen(&l, bad[i], &cfg), RILL_EINVAL);
    assert_status(rill_listen(&l, NULL, &cfg), RILL_EINVAL);
    assert_status(rill_listen(&l, "127.0.0.1:0", &cfg), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(l));
    rill_listener_t *l2;
    assert_status(rill_listen(&l2, addr, &cfg), RILL_EADDRINUSE);
    rill_listener_free(l); /* the port is now closed */
    rill_io_t *c;
    assert_status(rill_connect(&c, addr, &cfg), RILL_ECONNREFUSED);
    assert_int_equal(rill_connect(&c, "[::1]:0", &cfg) < 0, true);

    /* Unix: no socket file is refused; a full backlog is RILL_EAGAIN
     * (Linux cannot wait for room on a Unix listener). */
    char path[108];
    snprintf(path, sizeof path, "unix:/tmp/rill-bad-%d.sock", (int)getpid());
    unlink(path + 5);
    assert_status(rill_connect(&c, path, &cfg), RILL_ECONNREFUSED);
    rill_io_config_t small = {.runtime = rt, .backlog = 1};
    assert_status(rill_listen(&l, path, &small), 0);
    rill_io_t *q[8];
    int nq = 0, r;
    while (nq < 8 && (r = rill_connect(&q[nq], path, &cfg)) == 0)
        nq++;
    assert_true(nq < 8);
    assert_status(r, RILL_EAGAIN);
    while (nq > 0)
        rill_io_free(q[--nq]);
    rill_listener_free(l);
    unlink(path + 5);
}

/* Connect to a listener whose backlog is full and never accepted: the
 * deadline ends it. */
static void test_connect_timeout(void **state)
{
    (void)state;
    rill_io_config_t cfg = {.runtime = rt, .backlog = 1};
    rill_listener_t *l;
    assert_status(rill_listen(&l, "127.0.0.1:0", &cfg), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(l));
    rill_io_t *c[8];
    int ok = 0, timed_out = 0;
    for (int i = 0; i < 8; i++) {
        int r = rill_connect_timeout(&c[ok], addr, RILL_MS(100), &cfg);
        if (r == 0)
            ok++;
        else if (r == RILL_ETIMEDOUT)
            timed_out++;
        else
            fail_msg("connect: %s", rill_err_name(r));
    }
    assert_true(timed_out > 0);
    for (int i = 0; i < ok; i++)
        rill_io_free(c[i]);
    rill_listener_free(l);
}

int main(void)
{
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: none may */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_echo_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unix_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_and_thread_share_socketpair,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_waits_while_workers_sleep,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_reads_edge_triggered,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_races_readiness, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_wakes_waiter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel_blocked_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_both_directions_two_tasks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel_blocked_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cancel_blocked_accept_and_connect,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_reset_mid_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pipe_without_reader_no_sigpipe,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_all_timeout_reports_bytes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_stream_for_each_concurrent,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_emfile_at_accept, setup,
                                        teardown_fd_fill),
        cmocka_unit_test_setup_teardown(test_emfile_accept_stream_keeps_serving,
                                        setup, teardown_fd_fill),
        cmocka_unit_test_setup_teardown(test_timerfd_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_virtual_clock_with_sockets,
                                        setup_virtual, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure_end_to_end,
                                        setup_virtual, teardown),
        cmocka_unit_test_setup_teardown(
            test_no_deadlock_while_waiting_on_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_with_1000_connections,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_thousand_clients_from_another_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
    };
    return test_run(tests, NULL, NULL);
}
