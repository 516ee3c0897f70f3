/* SPDX-License-Identifier: MIT */
/*
 * test_alloc_fail_io.c - allocation-failure sweeps over the I/O layer
 * (alloc_fail.h): every allocation that listen, connect, accept, the
 * reads and writes, the read and write streams, the lines splitter and
 * the accept stream make is refused in turn, once and for good. Each call
 * must then fail with RILL_ENOMEM (or, for the other end of a connection
 * whose handle could not be made, see the connection end), leak nothing
 * and leave no fd open.
 *
 * The scenarios run in a task of a one-worker runtime on the virtual
 * clock (af_new_rt), so the order of allocations is the same in every
 * run. Checks inside the task return the failing line (cmocka's asserts
 * must run on the test's thread).
 */
#include "alloc_fail.h"

#include <dirent.h>
#include <rill.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static rill_runtime_t *rt;
static int fds_at_start;

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void rt_setup(void)
{
    assert_non_null(af_new_rt(&rt));
}

static void rt_teardown(void)
{
    rill_runtime_free(rt);
    rt = NULL;
    assert_int_equal(open_fds(), fds_at_start); /* no fd left behind */
}

/* A status that is fine in a run: 0, or RILL_ENOMEM after a refusal. */
#define OK_OR_NOMEM(r) ((r) == 0 || ((r) == RILL_ENOMEM && af_hit()))
/* Return the line from the task unless cond holds. */
#define TCHECK(cond)                                                           \
    do {                                                                       \
        if (!(cond))                                                           \
            return (void *)(intptr_t)__LINE__;                                 \
    } while (0)

/* ---- listen, connect, accept, read and write ---- */

static void *conn_task(void *arg)
{
    (void)arg;
    void *fail = NULL;
    rill_listener_t *l = NULL;
    rill_io_t *c = NULL, *s = NULL;
    int r = rill_listen(&l, "127.0.0.1:0", NULL);
    TCHECK(OK_OR_NOMEM(r));
    if (r)
        return NULL;
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(l));
    r = rill_connect(&c, addr, NULL);
    if (!OK_OR_NOMEM(r))
        fail = (void *)(intptr_t)__LINE__;
    if (r)
        goto out;
    r = rill_accept(l, &s);
    if (!OK_OR_NOMEM(r))
        fail = (void *)(intptr_t)__LINE__;
    if (r) { /* the server dropped it: the client sees the end */
        char b;
        size_t n;
        r = rill_io_read(c, &b, 1, &n);
        if (r != RILL_DONE && r != RILL_ECONNRESET)
            fail = (void *)(intptr_t)__LINE__;
        goto out;
    }
    char msg[64] =
        "a message of exactly sixty-four bytes, for read_exact .....";
    char got[64];
    r = rill_io_write_all(c, msg, sizeof msg, NULL);
    if (r == 0)
        r = rill_io_read_exact(s, got, sizeof got, NULL);
    if (r != 0 || memcmp(msg, got, sizeof msg) != 0)
        fail = (void *)(intptr_t)__LINE__; /* nothing here allocates */
out:
    rill_io_free(s);
    rill_io_free(c);
    rill_listener_free(l);
    return fail;
}

/* ---- streams: read stream -> lines, write stream, accept stream ---- */

static int lines_seen;

static void *streams_task(void *arg)
{
    (void)arg;
    void *fail = NULL;
    int sv[2];
    TCHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    rill_io_t *a = NULL, *b = NULL;
    rill_stream_t *in = NULL, *out = NULL;
    rill_sender_t *tx = NULL;
    rill_receiver_t *rx = NULL;
    int r = rill_io_new(&a, sv[0], NULL);
    if (r)
        close(sv[0]);
    int r2 = rill_io_new(&b, sv[1], NULL);
    if (r2)
        close(sv[1]);
    TCHECK(OK_OR_NOMEM(r) && OK_OR_NOMEM(r2));
    if (r || r2)
        goto out;
    /* Three lines through a channel of rill_bytes and the write stream. */
    rill_channel_config_t cc = {.item_dtor = rill_bytes_item_dtor};
    r = rill_channel_new(&tx, &rx, sizeof(rill_bytes_t), 4, &cc);
    if (!OK_OR_NOMEM(r))
        fail = (void *)(intptr_t)__LINE__;
    if (r)
        goto out;
    r = rill_receiver_into_stream(rx, &out);
    if (!OK_OR_NOMEM(r))
        fail = (void *)(intptr_t)__LINE__;
    if (r)
        goto out;
    rx = NULL; /* the stream owns it */
    for (int i = 0; i < 3; i++) {
        rill_bytes_t line;
        r = rill_bytes_new(&line, "one line\n", 9);
        if (r == 0 && (r = rill_try_send(tx, &line)) != 0)
            rill_bytes_release(&line);
        if (!OK_OR_NOMEM(r))
            fail = (void *)(intptr_t)__LINE__;
        if (r)
            goto out;
    }
    rill_sender_release(tx);
    tx = NULL;
    uint64_t written = 0;
    r = rill_io_write_stream(a, out, &written); /* consumes out */
    out = NULL;
    if (!OK_OR_NOMEM(r) || (r == 0 && written != 27))
        fail = (void *)(intptr_t)__LINE__;
    if (r)
        goto out;
    TCHECK(rill_io_shutdown_write(a) == 0);
    /* Read them back as lines. */
    r = rill_io_read_stream(b, 0, &in);
    if (!OK_OR_NOMEM(r))
        fail = (void *)(intptr_t)__LINE__;
    if (r)
        goto out;
    r = rill_stream_lines(&in, 100);
    if (!OK_OR_NOMEM(r))
        fail = (void *)(intptr_t)__LINE__;
    if (r)
        goto out;
    rill_bytes_t line;
    int n = 0;
    while ((r = rill_next(in, &line)) == 0) {
        n++;
        rill_bytes_release(&line);
    }
    /* The end, or a refused buffer as an error item (then the stream
     * ends: what was read so far is whole lines, never a torn one). */
    if (!(r == RILL_DONE || (r == RILL_ENOMEM && af_hit())) ||
        (r == RILL_DONE && n != 3))
        fail = (void *)(intptr_t)__LINE__;
    lines_seen += n;
out:
    rill_stream_free(in);
    rill_stream_free(out);
    rill_sender_release(tx);
    rill_receiver_release(rx);
    rill_io_free(a);
    rill_io_free(b);
    return fail;
}

static void *accept_stream_task(void *arg)
{
    (void)arg;
    void *fail = NULL;
    rill_listener_t *l = NULL;
    rill_stream_t *conns = NULL;
    rill_io_t *c = NULL, *s = NULL;
    int r = rill_listen(&l, "127.0.0.1:0", NULL);
    TCHECK(OK_OR_NOMEM(r));
    if (r)
        return NULL;
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rill_listener_port(l));
    r = rill_listener_into_stream(l, &conns);
    if (!OK_OR_NOMEM(r)) {
        fail = (void *)(intptr_t)__LINE__;
    }
    if (r) {
        rill_listener_free(l);
        return fail;
    }
    r = rill_connect(&c, addr, NULL);
    if (!OK_OR_NOMEM(r))
        fail = (void *)(intptr_t)__LINE__;
    if (r)
        goto out;
    r = rill_next(conns, &s); /* an accept error is an error item */
    if (!OK_OR_NOMEM(r))
        fail = (void *)(intptr_t)__LINE__;
out:
    rill_io_free(s);
    rill_io_free(c);
    rill_stream_free(conns); /* frees the listener */
    return fail;
}

static void *(*cur_task)(void *);

static void scenario(void)
{
    void *line = NULL;
    MAY_FAIL(rill_block_on(rt, cur_task, NULL, &line), out);
    if (line)
        fail_msg("check at test_alloc_fail_io.c:%d failed",
                 (int)(intptr_t)line);
out:;
}

static void sweep_task(const char *name, void *(*task)(void *))
{
    cur_task = task;
    sweep_ex(name, rt_setup, scenario, rt_teardown);
}

static void test_connections(void **state)
{
    (void)state;
    sweep_task("listen/connect/accept/rw", conn_task);
}

static void test_streams(void **state)
{
    (void)state;
    lines_seen = 0;
    sweep_task("write stream -> lines", streams_task);
    assert_true(lines_seen >= 3); /* the runs that were not refused */
}

static void test_accept_stream(void **state)
{
    (void)state;
    sweep_task("accept stream", accept_stream_task);
}

static int group_setup(void **state)
{
    (void)state;
    fds_at_start = open_fds();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_accept_stream),
        cmocka_unit_test(af_test_total),
    };
    return test_run(tests, group_setup, NULL);
}
