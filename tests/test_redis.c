/* SPDX-License-Identifier: MIT */
/*
 * test_redis.c - the Redis Streams bridge against a real redis-server
 * that each test starts (tests/redis_server.h) and stops by its pid.
 *
 * What is checked against Redis itself is read back with redis-cli (an
 * oracle outside the bridge): XLEN, XPENDING, the dead-letter stream.
 * Skipped (exit 77) only when there is no redis-server on the machine.
 */
#include "redis_server.h"
#include "test_util.h"
#include "test_watchdog.h"

#include <rill.h>
#include <rill/redis.h>

#include <inttypes.h>
#include <sys/socket.h>

static rill_runtime_t *rt;
static rs_server_t srv;

static void workers_kill(void); /* test_group_workers' processes */

/* A test's name and the watchdog's limit for it (its initial state). */
typedef struct test_meta {
    const char *name;
    double limit_s;
} test_meta_t;

static int setup(void **state)
{
    const test_meta_t *meta = *state;
    watchdog_arm(meta->name, meta->limit_s);
    if (rs_start(&srv, false) != 0)
        fail_msg("could not start redis-server");
    rt = test_new_rt(2, false);
    watchdog_runtime(rt);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    watchdog_runtime(NULL);
    workers_kill();
    rill_runtime_free(rt);
    rt = NULL;
    rs_stop(&srv);
    watchdog_disarm();
    return 0;
}

/* A redis-cli command's output (first line, trimmed) into out. */
static void cli(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cli(char *out, size_t len, const char *fmt, ...)
{
    char cmd[1024];
    int n = snprintf(cmd, sizeof cmd, "redis-cli -s '%s' ", srv.sock);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = 0;
    if (!fgets(out, (int)len, p))
        out[0] = 0;
    char rest[256];
    while (fgets(rest, sizeof rest, p))
        ;
    pclose(p);
    out[strcspn(out, "\r\n")] = 0;
}

static long long cli_int(const char *fmt, const char *a, const char *b)
{
    char out[256];
    cli(out, sizeof out, fmt, a, b);
    return atoll(out);
}

/* An argv in the caller's own storage. */
#define ARGV(...) ((const char *const[]){__VA_ARGS__})

/* ---- connection and commands ---- */

typedef struct cmd_arg {
    rill_redis_t *c;
    int i;
    int status;
} cmd_arg_t;

/* SET k<i> v<i>, then GET k<i>: the reply must be its own value. */
static void *set_get(void *p)
{
    cmd_arg_t *a = p;
    char k[32], v[32];
    snprintf(k, sizeof k, "k%d", a->i);
    snprintf(v, sizeof v, "value-%d", a->i);
    rill_redis_reply_t *r;
    a->status = rill_redis_command(a->c, &r, 3, ARGV("SET", k, v), NULL);
    if (a->status)
        return NULL;
    bool ok = r->type == RILL_REDIS_STATUS && !strcmp(r->str, "OK");
    rill_redis_reply_free(r);
    a->status = rill_redis_command(a->c, &r, 2, ARGV("GET", k), NULL);
    if (a->status)
        return NULL;
    ok = ok && r->type == RILL_REDIS_STRING && !strcmp(r->str, v);
    rill_redis_reply_free(r);
    a->status = ok ? 0 : RILL_EPROTO;
    return NULL;
}

/* 200 tasks at once on one connection: pipelined, each gets its own
 * replies (FIFO matching); and the same from a plain thread. */
static void test_commands_pipelined(void **state)
{
    (void)state;
    rill_redis_t *c;
    assert_status(
        rill_redis_new(&c, srv.addr, &(rill_redis_config_t){.runtime = rt}), 0);
    enum { N = 200 };
    static cmd_arg_t a[N];
    rill_task_t *t[N];
    for (int i = 0; i < N; i++) {
        a[i] = (cmd_arg_t){c, i, -1};
        assert_status(rill_spawn(&t[i], set_get, &a[i],
                                 &(rill_spawn_config_t){.runtime = rt}),
                      0);
    }
    for (int i = 0; i < N; i++) {
        assert_status(rill_join(t[i], NULL), 0);
        assert_status(a[i].status, 0);
    }
    cmd_arg_t main_thread = {c, N, -1};
    set_get(&main_thread);
    assert_status(main_thread.status, 0);
    rill_redis_stats_t st;
    assert_status(rill_redis_stats(c, &st), 0);
    assert_true(st.connected);
    assert_int_equal(st.connects, 1);
    assert_true(st.replies >= 2 * N + 2);
    rill_redis_free(c);
}

/* An error reply is a reply (WRONGTYPE), and the connection goes on. */
static void test_error_reply(void **state)
{
    (void)state;
    rill_redis_t *c;
    assert_status(
        rill_redis_new(&c, srv.addr, &(rill_redis_config_t){.runtime = rt}), 0);
    rill_redis_reply_t *r;
    assert_status(rill_redis_command(c, &r, 3, ARGV("SET", "s", "x"), NULL), 0);
    rill_redis_reply_free(r);
    assert_status(
        rill_redis_command(c, &r, 4, ARGV("XADD", "s", "*", "f"), NULL), 0);
    assert_int_equal(r->type, RILL_REDIS_ERROR); /* wrong number of args */
    rill_redis_reply_free(r);
    assert_status(
        rill_redis_command(c, &r, 5, ARGV("XADD", "s", "*", "f", "v"), NULL),
        0);
    assert_int_equal(r->type, RILL_REDIS_ERROR);
    assert_true(!strncmp(r->str, "WRONGTYPE", 9));
    rill_redis_reply_free(r);
    assert_status(rill_redis_command(c, &r, 1, ARGV("PING"), NULL), 0);
    assert_int_equal(r->type, RILL_REDIS_STATUS);
    rill_redis_reply_free(r);
    rill_redis_free(c);
}

/* TCP "host:port", AUTH with a wrong and a right password, SELECT. */
static void test_tcp_auth_select(void **state)
{
    (void)state;
    rs_server_t tcp;
    assert_int_equal(rs_start(&tcp, true), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", tcp.port);
    rill_redis_t *c;
    assert_status(rill_redis_new(
                      &c, addr, &(rill_redis_config_t){.runtime = rt, .db = 3}),
                  0);
    rill_redis_reply_t *r;
    assert_status(rill_redis_command(c, &r, 3, ARGV("SET", "in3", "y"), NULL),
                  0);
    rill_redis_reply_free(r);
    assert_status(rill_redis_command(
                      c, &r, 3, ARGV("CONFIG", "SET", "requirepass"), NULL),
                  0);
    rill_redis_reply_free(r);
    rill_redis_free(c);
    /* requirepass needs a value: set it properly through a second call. */
    assert_status(
        rill_redis_new(&c, addr, &(rill_redis_config_t){.runtime = rt}), 0);
    assert_status(
        rill_redis_command(
            c, &r, 4, ARGV("CONFIG", "SET", "requirepass", "sesame"), NULL),
        0);
    assert_int_equal(r->type, RILL_REDIS_STATUS);
    rill_redis_reply_free(r);
    rill_redis_free(c);
    /* No password, a wrong one: RILL_EREPLY from new; the right one works
     * and SELECT 3 sees the key. */
    assert_status(
        rill_redis_new(&c, addr, &(rill_redis_config_t){.runtime = rt}),
        RILL_EREPLY);
    assert_status(rill_redis_new(&c, addr,
                                 &(rill_redis_config_t){.runtime = rt,
                                                        .password = "nope"}),
                  RILL_EREPLY);
    assert_status(rill_redis_new(&c, addr,
                                 &(rill_redis_config_t){.runtime = rt,
                                                        .password = "sesame",
                                                        .db = 3}),
                  0);
    assert_status(rill_redis_command(c, &r, 2, ARGV("GET", "in3"), NULL), 0);
    assert_int_equal(r->type, RILL_REDIS_STRING);
    assert_string_equal(r->str, "y");
    rill_redis_reply_free(r);
    rill_redis_free(c);
    rs_stop(&tcp);
}

/* ---- bad input ---- */

static void test_wrong_address(void **state)
{
    (void)state;
    rill_redis_t *c = (rill_redis_t *)1;
    rill_redis_config_t cfg = {.runtime = rt};
    char path[300];
    snprintf(path, sizeof path, "unix:%s/nothing.sock", srv.dir);
    assert_status(rill_redis_new(&c, path, &cfg), RILL_ECONNREFUSED);
    assert_null(c);
    assert_status(rill_redis_new(&c, "not an address", &cfg), RILL_EINVAL);
    assert_status(rill_redis_new(&c, "127.0.0.1:1", &cfg), RILL_ECONNREFUSED);
    assert_status(rill_redis_new(&c, srv.addr, NULL), RILL_EINVAL); /* no rt */
}

/* A fake server on a Unix socket: closes each connection at once, or
 * answers anything with bytes that are not RESP. */
typedef struct fake {
    rill_listener_t *l;
    const char *answer; /* NULL: close at once */
} fake_t;

static void *fake_serve(void *p)
{
    fake_t *f = p;
    rill_io_t *conn;
    while (rill_accept(f->l, &conn) == 0) {
        if (f->answer) {
            char buf[256];
            size_t n;
            if (rill_io_read(conn, buf, sizeof buf, &n) == 0 &&
                rill_io_write_all(conn, f->answer, strlen(f->answer), NULL))
                break;
        }
        rill_io_free(conn);
    }
    return NULL;
}

static void fake_run(const char *answer, int want)
{
    char addr[300];
    snprintf(addr, sizeof addr, "unix:%s/fake.sock", srv.dir);
    unlink(addr + 5);
    fake_t f = {NULL, answer};
    assert_status(rill_listen(&f.l, addr, &(rill_io_config_t){.runtime = rt}),
                  0);
    rill_task_t *t;
    assert_status(
        rill_spawn(&t, fake_serve, &f, &(rill_spawn_config_t){.runtime = rt}),
        0);
    rill_redis_t *c = NULL;
    assert_status(
        rill_redis_new(&c, addr, &(rill_redis_config_t){.runtime = rt}), want);
    assert_null(c);
    rill_listener_close(f.l);
    assert_status(rill_join(t, NULL), 0);
    rill_listener_free(f.l);
}

static void test_server_closes_at_once(void **state)
{
    (void)state;
    fake_run(NULL, RILL_ECONNRESET);
}

static void test_garbage_reply(void **state)
{
    (void)state;
    fake_run("HTTP/1.1 400 Bad Request\r\n\r\n", RILL_EPROTO);
    fake_run("*2000000000\r\n", RILL_EPROTO);     /* an array too large */
    fake_run("+PONG\r\n+extra\r\n", RILL_EPROTO); /* a reply nobody asked */
}

/* A command that never gets its reply in time: RILL_ETIMEDOUT, no leak
 * (the reply that never comes is the connection's to drop). */
static void test_command_timeout(void **state)
{
    (void)state;
    rill_redis_t *c;
    assert_status(
        rill_redis_new(&c, srv.addr,
                       &(rill_redis_config_t){.runtime = rt,
                                              .command_timeout = RILL_MS(100)}),
        0);
    rill_redis_reply_t *r = (rill_redis_reply_t *)1;
    assert_status(
        rill_redis_command(c, &r, 3, ARGV("BLPOP", "empty", "0"), NULL),
        RILL_ETIMEDOUT);
    assert_null(r);
    rill_redis_free(c);
}

/* Cancel a task blocked in a command (BLPOP) and one blocked in a group
 * stream's read: both return RILL_ECANCELED, nothing leaks. */
typedef struct blocked {
    rill_redis_t *c;
    rill_stream_t *s;
    int status;
    rill_task_t *task;
} blocked_t;

static void *block_in_command(void *p)
{
    blocked_t *b = p;
    rill_redis_reply_t *r = NULL;
    b->status = rill_redis_command_timeout(
        b->c, &r, 3, ARGV("BLPOP", "empty", "0"), NULL, RILL_FOREVER);
    rill_redis_reply_free(r);
    return NULL;
}

static void *block_in_next(void *p)
{
    blocked_t *b = p;
    rill_redis_msg_t m;
    b->status = rill_next(b->s, &m);
    if (b->status == 0)
        rill_redis_msg_destroy(&m);
    return NULL;
}

/* Wait until a client of the server is blocked (flags=b in CLIENT
 * LIST): the command reached Redis and waits there. */
static void until_blocked(void)
{
    for (int i = 0; i < 2000; i++) {
        char cmd[300], line[512];
        snprintf(cmd, sizeof cmd, "redis-cli -s '%s' CLIENT LIST", srv.sock);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        bool blocked = false;
        while (fgets(line, sizeof line, p))
            if (strstr(line, " flags=b"))
                blocked = true;
        pclose(p);
        if (blocked)
            return;
    }
    fail_msg("the command never blocked in the server");
}

typedef struct dump {
    bool command, driver;
} dump_t;

static void dump_line(const char *line, void *ud)
{
    dump_t *d = ud;
    if (strstr(line, "redis BLPOP"))
        d->command = true;
    if (strstr(line, "redis unix:"))
        d->driver = true;
}

static void test_cancel_blocked(void **state)
{
    (void)state;
    blocked_t b = {0};
    assert_status(
        rill_redis_new(&b.c, srv.addr, &(rill_redis_config_t){.runtime = rt}),
        0);
    assert_status(rill_spawn(&b.task, block_in_command, &b,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    until_blocked();
    /* The dump names the command a task waits for and the connection's
     * driver task. */
    dump_t d = {0};
    assert_status(rill_runtime_dump_lines(rt, dump_line, &d), 0);
    assert_true(d.command);
    assert_true(d.driver);
    rill_task_cancel(b.task);
    assert_status(rill_join(b.task, NULL), 0);
    assert_status(b.status, RILL_ECANCELED);
    rill_redis_free(b.c);

    rill_redis_group_t *g;
    assert_status(
        rill_redis_group_new(
            &g, srv.addr, "cq", "grp", "c1",
            &(rill_redis_group_config_t){
                .conn = &(rill_redis_config_t){.runtime = rt}, .create = true}),
        0);
    assert_status(rill_redis_group_stream(g, &b.s), 0);
    assert_status(rill_spawn(&b.task, block_in_next, &b,
                             &(rill_spawn_config_t){.runtime = rt}),
                  0);
    until_blocked();
    rill_task_cancel(b.task);
    assert_status(rill_join(b.task, NULL), 0);
    assert_status(b.status, RILL_ECANCELED);
    rill_stream_free(b.s);
    rill_redis_group_free(g);
}

/* NOGROUP: a group source on a group that does not exist gives the error
 * item RILL_EREPLY (and goes on); XGROUP on a key of the wrong type fails
 * group_new with RILL_EREPLY. */
static void test_nogroup_wrongtype(void **state)
{
    (void)state;
    char out[64];
    cli(out, sizeof out, "XADD ng '*' f v");
    rill_redis_config_t cc = {.runtime = rt};
    rill_redis_group_t *g;
    assert_status(rill_redis_group_new(&g, srv.addr, "ng", "nobody", "c1",
                                       &(rill_redis_group_config_t){
                                           .conn = &cc, .block = RILL_MS(50)}),
                  0);
    rill_stream_t *s;
    assert_status(rill_redis_group_stream(g, &s), 0);
    rill_redis_msg_t m;
    assert_status(rill_next(s, &m), RILL_EREPLY);
    rill_stream_free(s);
    rill_redis_group_free(g);
    cli(out, sizeof out, "SET str x");
    g = (rill_redis_group_t *)1;
    assert_status(rill_redis_group_new(&g, srv.addr, "str", "grp", "c1",
                                       &(rill_redis_group_config_t){
                                           .conn = &cc, .create = true}),
                  RILL_EREPLY);
    assert_null(g);
    /* The sink on a key of the wrong type: RILL_EREPLY, none added. */
    rill_redis_t *c;
    assert_status(rill_redis_new(&c, srv.addr, &cc), 0);
    rill_bytes_t items[3];
    for (int i = 0; i < 3; i++)
        assert_status(rill_bytes_new(&items[i], "x", 1), 0);
    assert_status(rill_stream_iter(&s, items, 3, sizeof items[0]), 0);
    assert_status(rill_stream_set_item_dtor(s, rill_bytes_item_dtor, NULL), 0);
    uint64_t added = 99;
    assert_status(rill_redis_write_stream(c, "str", s, &added, NULL),
                  RILL_EREPLY);
    assert_int_equal(added, 0);
    rill_redis_free(c);
}

/* ---- the round trip ---- */

typedef struct seq_item {
    uint64_t seq;
} seq_item_t;

static int encode_seq(void *ud, const void *item, rill_redis_args_t *a)
{
    (void)ud;
    const seq_item_t *it = item;
    char v[80];
    /* 64 bytes of payload: the sequence number, padded. */
    int n = snprintf(v, sizeof v, "%020" PRIu64 "-%043u", it->seq, 0u);
    int r = rill_redis_args_add(a, "seq", 3);
    return r ? r : rill_redis_args_add(a, v, (size_t)n);
}

typedef struct ids {
    char (*id)[24];
    size_t n, cap;
} ids_t;

static void on_added(void *ud, const char *id, size_t len)
{
    ids_t *ids = ud;
    if (ids->n < ids->cap && len < 24)
        memcpy(ids->id[ids->n], id, len + 1);
    ids->n++;
}

typedef struct round_trip {
    uint64_t n;
    ids_t ids;
    int sink_status, source_status;
    uint64_t added, got, bad;
    uint64_t read_errors; /* the group's failed reads: none expected */
} round_trip_t;

static seq_item_t *seq_items_from(uint64_t first, uint64_t n)
{
    seq_item_t *v = malloc(n * sizeof *v);
    assert_non_null(v);
    for (uint64_t i = 0; i < n; i++)
        v[i].seq = first + i;
    return v;
}

static seq_item_t *seq_items(uint64_t n)
{
    return seq_items_from(0, n);
}

static void *produce(void *p)
{
    round_trip_t *rtp = p;
    rill_redis_t *c;
    rtp->sink_status = rill_redis_new(&c, srv.addr, NULL);
    if (rtp->sink_status)
        return NULL;
    seq_item_t *v = seq_items(rtp->n);
    rill_stream_t *s;
    rtp->sink_status = rill_stream_iter(&s, v, rtp->n, sizeof *v);
    free(v);
    if (rtp->sink_status == 0) {
        rill_redis_sink_config_t sc = {.encode = encode_seq,
                                       .added = on_added,
                                       .added_ud = &rtp->ids,
                                       .batch = 512};
        rtp->sink_status =
            rill_redis_write_stream(c, "rt", s, &rtp->added, &sc);
    }
    rill_redis_free(c);
    return NULL;
}

static void *consume(void *p)
{
    round_trip_t *rtp = p;
    rill_redis_group_t *g;
    rtp->source_status = rill_redis_group_new(
        &g, srv.addr, "rt", "workers", "w1",
        &(rill_redis_group_config_t){.create = true, .count = 256});
    if (rtp->source_status)
        return NULL;
    rill_stream_t *s;
    rtp->source_status = rill_redis_group_stream(g, &s);
    rill_redis_msg_t m[64];
    while (rtp->source_status == 0 && rtp->got < rtp->n) {
        size_t k = 0;
        int r = rill_next_many(s, m, 64, &k);
        if (r) {
            rtp->source_status = r;
            break;
        }
        for (size_t i = 0; i < k; i++) {
            uint64_t seq = rtp->got;
            const rill_redis_field_t *f = rill_redis_msg_field(&m[i], "seq");
            char want[80];
            snprintf(want, sizeof want, "%020" PRIu64 "-%043u", seq, 0u);
            if (!f || strcmp(f->value, want) || m[i].deliveries != 1 ||
                (seq < rtp->ids.cap && strcmp(m[i].id, rtp->ids.id[seq])))
                rtp->bad++;
            int r2 = rill_redis_group_ack(g, &m[i]);
            if (r2 && !rtp->source_status)
                rtp->source_status = r2;
            rill_redis_msg_destroy(&m[i]);
            rtp->got++;
        }
    }
    if (!rtp->source_status)
        rtp->source_status = rill_redis_group_flush(g);
    rill_redis_group_stats_t gs = {0};
    if (!rtp->source_status)
        rtp->source_status = rill_redis_group_stats(g, &gs);
    rtp->read_errors = gs.errors;
    rill_stream_free(s);
    rill_redis_group_free(g);
    return NULL;
}

/* sink -> group -> ack: every entry once, in order, with the id XADD
 * gave it and its payload; the pending list is empty at the end. */
static void test_round_trip(void **state)
{
    (void)state;
    round_trip_t r = {.n = SCALE(1000000, 50)};
    r.ids.cap = r.n;
    r.ids.id = malloc(r.n * sizeof *r.ids.id);
    assert_non_null(r.ids.id);
    rill_task_t *tp, *tc;
    rill_spawn_config_t sc = {.runtime = rt};
    assert_status(rill_block_on(rt, produce, &r, NULL), 0);
    assert_status(r.sink_status, 0);
    assert_int_equal(r.added, r.n);
    assert_int_equal(r.ids.n, r.n);
    (void)tp;
    assert_status(rill_spawn(&tc, consume, &r, &sc), 0);
    assert_status(rill_join(tc, NULL), 0);
    assert_status(r.source_status, 0);
    assert_int_equal(r.got, r.n);
    assert_int_equal(r.bad, 0);
    /* No read failed: a reader whose reads timed out at once (a deadline
     * in the past) dropped their replies and read again, 511 times. */
    assert_int_equal(r.read_errors, 0);
    assert_int_equal(cli_int("XLEN %s%s", "rt", ""), (long long)r.n);
    char out[128];
    cli(out, sizeof out, "XPENDING rt workers");
    assert_string_equal(out, "0");
    free(r.ids.id);
}

/* ---- crashes and redelivery ---- */

/* Add entries seq first..first+n-1 to key through the sink (field "seq"). */
static void add_entries_from(const char *key, uint64_t first, uint64_t n)
{
    rill_redis_t *c;
    assert_status(
        rill_redis_new(&c, srv.addr, &(rill_redis_config_t){.runtime = rt}), 0);
    seq_item_t *v = seq_items_from(first, n);
    rill_stream_t *s;
    assert_status(rill_stream_iter(&s, v, n, sizeof *v), 0);
    free(v);
    uint64_t added = 0;
    rill_redis_sink_config_t sc = {.encode = encode_seq};
    assert_status(rill_redis_write_stream(c, key, s, &added, &sc), 0);
    assert_int_equal(added, n);
    rill_redis_free(c);
}

static void add_entries(const char *key, uint64_t n)
{
    add_entries_from(key, 0, n);
}

/*
 * The child's part of test_claim_after_crash, run in a process of its
 * own (this binary again: test_redis --read10 <addr>):
 * read exactly 10 entries as consumer "dead" (one XREADGROUP COUNT 10:
 * a group source would read ahead) and _exit without acking them.
 */
static int child_read10(const char *addr)
{
    rill_runtime_t *crt = test_new_rt(1, false);
    rill_redis_t *c;
    if (rill_redis_new(&c, addr, &(rill_redis_config_t){.runtime = crt}))
        _exit(2);
    rill_redis_reply_t *r;
    if (rill_redis_command(c, &r, 9,
                           ARGV("XREADGROUP", "GROUP", "grp", "dead", "COUNT",
                                "10", "STREAMS", "cl", ">"),
                           NULL))
        _exit(3);
    if (r->type != RILL_REDIS_ARRAY ||
        r->element[0]->element[1]->elements != 10)
        _exit(4);
    _exit(0); /* a crash: no ack, no goodbye */
}

/* Pending ids of a consumer, from XPENDING (redis-cli prints id,
 * consumer, idle, count per entry, one per line). */
static size_t pending_of(const char *key, const char *consumer, char ids[][24],
                         uint64_t *counts, size_t max)
{
    char cmd[400], line[128];
    snprintf(cmd, sizeof cmd, "redis-cli -s '%s' XPENDING %s grp - + 1000 %s",
             srv.sock, key, consumer);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = 0, k = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\r\n")] = 0;
        if (k % 4 == 0 && n < max)
            snprintf(ids[n], 24, "%.23s", line);
        if (k % 4 == 3 && n < max)
            counts[n++] = (uint64_t)atoll(line);
        k++;
    }
    pclose(p);
    return n;
}

/* A consumer process reads 10 entries and exits without acking: another
 * consumer gets exactly those 10 through XAUTOCLAIM, with delivery count
 * 2, then the other 20 as new entries (count 1), each once. */
static void test_claim_after_crash(void **state)
{
    (void)state;
    add_entries("cl", 30);
    char out[64];
    cli(out, sizeof out, "XGROUP CREATE cl grp 0");
    assert_string_equal(out, "OK");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/proc/self/exe", "test_redis", "--read10", srv.addr,
              (char *)NULL);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char ids[16][24];
    uint64_t counts[16];
    assert_int_equal(pending_of("cl", "dead", ids, counts, 16), 10);

    rill_redis_group_t *g;
    rill_redis_config_t cc = {.runtime = rt};
    assert_status(rill_redis_group_new(&g, srv.addr, "cl", "grp", "heir",
                                       &(rill_redis_group_config_t){
                                           .conn = &cc,
                                           .claim_idle = 1, /* 0 ms */
                                           .claim_interval = RILL_SEC(3600)}),
                  0);
    rill_stream_t *s;
    assert_status(rill_redis_group_stream(g, &s), 0);
    for (int i = 0; i < 30; i++) {
        rill_redis_msg_t m;
        assert_status(rill_next(s, &m), 0);
        if (i < 10) {
            assert_string_equal(m.id, ids[i]);
            assert_int_equal(m.deliveries, 2);
        } else {
            assert_int_equal(m.deliveries, 1);
            for (int j = 0; j < 10; j++)
                assert_string_not_equal(m.id, ids[j]);
        }
        const rill_redis_field_t *f = rill_redis_msg_field(&m, "seq");
        assert_non_null(f);
        assert_int_equal(atoll(f->value), i); /* in stream order */
        assert_status(rill_redis_group_ack(g, &m), 0);
        rill_redis_msg_destroy(&m);
    }
    assert_status(rill_redis_group_flush(g), 0);
    rill_redis_group_stats_t gs;
    assert_status(rill_redis_group_stats(g, &gs), 0);
    assert_int_equal(gs.claimed, 10);
    assert_int_equal(gs.redelivered, 10);
    assert_int_equal(gs.errors, 0);
    rill_stream_free(s);
    rill_redis_group_free(g);
    cli(out, sizeof out, "XPENDING cl grp");
    assert_string_equal(out, "0");
}

/* ---- several consumer processes in one group ---- */

/*
 * A worker process of test_group_workers (this binary again, with
 * arguments --worker or --worker-noack, <consumer name>, <addr>): consumer
 * <name> of group "grp" on "mw". For each entry it appends
 * {seq, id, by, n} (n = its delivery count) to the stream "results",
 * then acks it (--worker-noack: never). It stops when its stdin reaches
 * end of file (the test
 * closed its pipe): between two entries, never in the middle of one, so
 * that what it processed is acked. Exit status 0, or the step that failed.
 */
typedef struct worker {
    rill_redis_group_t *g;
    rill_redis_t *out;
    rill_stream_t *s;
    const char *name;
    rill_oneshot_receiver_t *stop;
    int status;
    uint64_t processed;
    bool noack; /* processes and never acks (w0: dies holding them) */
} worker_t;

static void *worker_consume(void *p)
{
    worker_t *w = p;
    for (;;) {
        rill_redis_msg_t m;
        int stop = 0;
        rill_next_op_t nx;
        rill_oneshot_recv_op_t st;
        rill_next_op(&nx, w->s, &m);
        rill_oneshot_recv_op(&st, w->stop, &stop, sizeof stop);
        rill_future_t *cases[] = {&st.base, &nx.base};
        int status = 0;
        int i =
            rill_select(cases, 2, RILL_SELECT_BIASED, RILL_FOREVER, &status);
        if (i == 0)
            return NULL; /* told to stop (the sender went away) */
        if (i < 0 || status) {
            w->status = i < 0 ? i : status;
            return NULL;
        }
        const rill_redis_field_t *f = rill_redis_msg_field(&m, "seq");
        char n[24];
        snprintf(n, sizeof n, "%" PRIu64, m.deliveries);
        rill_redis_reply_t *r = NULL;
        int rc =
            f ? rill_redis_command(w->out, &r, 11,
                                   ARGV("XADD", "results", "*", "seq", f->value,
                                        "id", m.id, "by", w->name, "n", n),
                                   NULL)
              : RILL_EPROTO;
        if (rc == 0 && r->type != RILL_REDIS_STRING)
            rc = RILL_EREPLY;
        rill_redis_reply_free(r);
        if (rc == 0 && !w->noack)
            rc = rill_redis_group_ack(w->g, &m);
        rill_redis_msg_destroy(&m);
        w->processed++;
        if (rc) {
            w->status = rc;
            return NULL;
        }
    }
}

static int child_worker(const char *addr, const char *name, bool noack)
{
    rill_runtime_t *wrt = test_new_rt(1, false);
    /* A worker that hangs explains itself too (before the test's own
     * watchdog, which is waiting for it, fires). */
    watchdog_start();
    watchdog_arm(name, 45);
    watchdog_runtime(wrt);
    rill_redis_config_t cc = {.runtime = wrt};
    worker_t w = {.name = name, .noack = noack};
    /* claim_idle well above the time a worker takes for its read-ahead:
     * only a dead consumer's entries are claimed. */
    rill_redis_group_config_t gc = {.conn = &cc,
                                    .count = 16,
                                    .block = RILL_MS(100),
                                    .claim_idle = RILL_SEC(2),
                                    .claim_interval = RILL_MS(50)};
    rill_oneshot_sender_t *stop_tx;
    if (rill_redis_group_new(&w.g, addr, "mw", "grp", name, &gc) ||
        rill_redis_group_stream(w.g, &w.s) ||
        rill_redis_new(&w.out, addr, &cc) ||
        rill_oneshot_new(&stop_tx, &w.stop, sizeof(int), NULL))
        _exit(2);
    rill_task_t *t;
    if (rill_spawn(&t, worker_consume, &w,
                   &(rill_spawn_config_t){.runtime = wrt}))
        _exit(3);
    char buf[16];
    while (read(0, buf, sizeof buf) > 0)
        ;
    rill_oneshot_sender_release(stop_tx); /* stop after this entry */
    if (rill_join(t, NULL) || w.status)
        _exit(4);
    if (rill_redis_group_flush(w.g))
        _exit(5);
    rill_redis_group_stats_t gs;
    if (rill_redis_group_stats(w.g, &gs))
        _exit(6);
    fprintf(
        stderr,
        "worker %s: processed %" PRIu64 "; group: delivered %" PRIu64
        ", redelivered %" PRIu64 ", claimed %" PRIu64 ", errors %" PRIu64 "\n",
        name, w.processed, gs.delivered, gs.redelivered, gs.claimed, gs.errors);
    if (gs.errors)
        _exit(7); /* no read may fail here: nothing breaks a connection */
    rill_oneshot_receiver_release(w.stop);
    rill_stream_free(w.s);
    rill_redis_group_free(w.g);
    rill_redis_free(w.out);
    watchdog_runtime(NULL);
    rill_runtime_free(wrt);
    _exit(0);
}

/* The worker processes of test_group_workers, and the write ends of
 * their stdin; the teardown kills those still there (a failed test). */
static pid_t worker_pid[3];
static int worker_in[3] = {-1, -1, -1};

/* Start worker i ("w<i>"); noack: it never acks. Only exec after fork
 * (no setenv: another thread may hold malloc's lock). */
static void worker_start(int i, bool noack)
{
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    char name[8];
    snprintf(name, sizeof name, "w%d", i);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[0], 0); /* dup2 clears close-on-exec on 0 */
        execl("/proc/self/exe", "test_redis",
              noack ? "--worker-noack" : "--worker", name, srv.addr,
              (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    worker_pid[i] = pid;
    worker_in[i] = fds[1];
}

/* Close worker i's stdin (it stops between entries) and wait for it. */
static void worker_end(int i)
{
    close(worker_in[i]);
    worker_in[i] = -1;
    int st;
    assert_int_equal(waitpid(worker_pid[i], &st, 0), worker_pid[i]);
    worker_pid[i] = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("worker w%d ended with status 0x%x", i, st);
}

static void workers_kill(void)
{
    for (int i = 0; i < 3; i++) {
        if (worker_pid[i] > 0) {
            kill(worker_pid[i], SIGKILL);
            waitpid(worker_pid[i], NULL, 0);
            worker_pid[i] = 0;
        }
        if (worker_in[i] >= 0) {
            close(worker_in[i]);
            worker_in[i] = -1;
        }
    }
}

/* Until `n` consumers of mw/grp exist (a consumer is made by its first
 * XREADGROUP): waiting for other processes, each look a redis-cli run. */
static void until_consumers(int n)
{
    for (int i = 0; i < 3000; i++) {
        char cmd[300], line[256];
        snprintf(cmd, sizeof cmd, "redis-cli -s '%s' XINFO CONSUMERS mw grp",
                 srv.sock);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        int have = 0;
        while (fgets(line, sizeof line, p))
            have += !strcmp(line, "name\n");
        pclose(p);
        if (have >= n)
            return;
    }
    fail_msg("the workers never all read");
}

/* Clients connected to the server (CLIENT LIST lines; redis-cli's own
 * connection among them). */
static int client_count(void)
{
    char cmd[300], line[1024];
    snprintf(cmd, sizeof cmd, "redis-cli -s '%s' CLIENT LIST", srv.sock);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int n = 0;
    while (fgets(line, sizeof line, p))
        n += !strncmp(line, "id=", 3);
    pclose(p);
    return n;
}

/* Until the server has `n` clients again (a dead process's connections
 * closed on its side): waiting for another process, one look at a time. */
static void until_clients(int n)
{
    for (int i = 0; i < 3000; i++)
        if (client_count() <= n)
            return;
    fail_msg("the dead worker's connections never closed");
}

/* One line of "results": who processed which entry, at which delivery. */
typedef struct processing {
    int by; /* worker index */
    uint64_t n;
    char id[24];
} processing_t;

typedef struct results {
    rill_stream_t *s;
    uint64_t total;               /* lines read */
    uint64_t distinct;            /* seqs seen */
    uint64_t per[3];              /* lines per worker */
    uint8_t *times;               /* per seq: how often processed */
    processing_t *first, *second; /* per seq: the first two processings */
} results_t;

/* Read one line of "results" (30 s at most: the workers are alive). */
static void results_next(results_t *rs, uint64_t n)
{
    rill_redis_msg_t m;
    rill_next_op_t op;
    rill_next_op(&op, rs->s, &m);
    assert_status(rill_await_timeout(&op.base, RILL_SEC(30)), 0);
    const rill_redis_field_t *seq = rill_redis_msg_field(&m, "seq");
    const rill_redis_field_t *id = rill_redis_msg_field(&m, "id");
    const rill_redis_field_t *by = rill_redis_msg_field(&m, "by");
    const rill_redis_field_t *dn = rill_redis_msg_field(&m, "n");
    assert_true(seq && id && by && dn && by->value[0] == 'w');
    uint64_t k = strtoull(seq->value, NULL, 10);
    assert_true(k < n);
    int w = by->value[1] - '0';
    assert_true(w >= 0 && w < 3);
    processing_t p = {.by = w, .n = strtoull(dn->value, NULL, 10)};
    snprintf(p.id, sizeof p.id, "%s", id->value);
    rill_redis_msg_destroy(&m);
    if (rs->times[k] == 0)
        rs->first[k] = p;
    else if (rs->times[k] == 1)
        rs->second[k] = p;
    rs->times[k]++;
    rs->distinct += rs->times[k] == 1;
    rs->per[w]++;
    rs->total++;
}

/*
 * Three worker processes share the group's work; one is killed (SIGKILL)
 * in the middle: every entry is processed, each by one consumer, except
 * those the dead one had read and not acked, which another consumer gets
 * again through XAUTOCLAIM (delivery count >= 2). Nothing is left pending.
 *
 * w0 (which never acks: all it read stays pending) starts alone and
 * processes at least 20 entries of the first 200, then is killed
 * holding them and what it read ahead; its pending ids are read with
 * XPENDING; w1 and w2 start and join the group, and the other entries
 * are added. The test waits until
 * every seq was processed and each id w0 left pending was processed
 * again, then stops w1 and w2 (which end between entries) and checks.
 */
static void test_group_workers(void **state)
{
    (void)state;
    const uint64_t n = SCALE(3000, 3), first = 200;
    char out[64];
    cli(out, sizeof out, "XGROUP CREATE mw grp 0 MKSTREAM");
    assert_string_equal(out, "OK");
    add_entries_from("mw", 0, first);
    results_t rs = {.times = calloc(n, 1),
                    .first = calloc(n, sizeof(processing_t)),
                    .second = calloc(n, sizeof(processing_t))};
    assert_true(rs.times && rs.first && rs.second);
    rill_redis_config_t cc = {.runtime = rt};
    assert_status(
        rill_redis_xread_new(&rs.s, srv.addr, "results", "0",
                             &(rill_redis_xread_config_t){.conn = &cc}),
        0);
    int clients = client_count();
    worker_start(0, true);
    while (rs.per[0] < 20)
        results_next(&rs, n);
    /* The crash, holding what it read: all of it pending (it never
     * acks), some processed, some read ahead. Its pending list is final
     * once the server has dropped its connections (a read it had sent
     * may still be served until then). */
    kill(worker_pid[0], SIGKILL);
    assert_int_equal(waitpid(worker_pid[0], NULL, 0), worker_pid[0]);
    worker_pid[0] = 0;
    close(worker_in[0]);
    worker_in[0] = -1;
    until_clients(clients);
    static char dead[256][24];
    static uint64_t counts[256];
    size_t ndead = pending_of("mw", "w0", dead, counts, 256);
    assert_true(ndead >= 20);
    /* The survivors join the group, then the rest comes. */
    worker_start(1, false);
    worker_start(2, false);
    until_consumers(3);
    add_entries_from("mw", first, n - first);
    /* Until every seq is processed, and every id w0 left pending is
     * processed by w1 or w2. */
    for (;;) {
        bool all = rs.distinct == n;
        for (size_t i = 0; all && i < ndead; i++) {
            bool again = false;
            for (uint64_t k = 0; k < n && !again; k++)
                again = (rs.times[k] >= 1 && rs.first[k].by != 0 &&
                         !strcmp(rs.first[k].id, dead[i])) ||
                        (rs.times[k] >= 2 && rs.second[k].by != 0 &&
                         !strcmp(rs.second[k].id, dead[i]));
            all = again;
        }
        if (all)
            break;
        results_next(&rs, n);
    }
    worker_end(1);
    worker_end(2);
    /* What they wrote after the last line we read. */
    long long len = cli_int("XLEN %s%s", "results", "");
    while ((long long)rs.total < len)
        results_next(&rs, n);
    rill_stream_free(rs.s);

    /* Each seq once, or twice with the first by the dead w0 and the
     * second a redelivery (count >= 2) to a survivor. */
    uint64_t twice = 0;
    for (uint64_t k = 0; k < n; k++) {
        assert_true(rs.times[k] == 1 || rs.times[k] == 2);
        if (rs.times[k] == 1) {
            assert_true(rs.first[k].n == 1 ||
                        (rs.first[k].by != 0 && rs.first[k].n >= 2));
            continue;
        }
        twice++;
        assert_int_equal(rs.first[k].by, 0);
        assert_int_not_equal(rs.second[k].by, 0);
        assert_true(rs.second[k].n >= 2);
        assert_string_equal(rs.first[k].id, rs.second[k].id);
    }
    /* A redelivered entry is one w0 had pending. */
    for (uint64_t k = 0; k < n; k++) {
        const processing_t *p = rs.times[k] == 2 ? &rs.second[k] : &rs.first[k];
        if (p->n < 2)
            continue;
        bool was_dead = false;
        for (size_t i = 0; i < ndead && !was_dead; i++)
            was_dead = !strcmp(p->id, dead[i]);
        assert_true(was_dead);
    }
    assert_true(twice <= ndead);
    /* The work was shared: every worker did some. */
    print_message("workers: w0 %" PRIu64 " (killed, %zu pending), w1 %" PRIu64
                  ", w2 %" PRIu64 ", %" PRIu64 " processed twice\n",
                  rs.per[0], ndead, rs.per[1], rs.per[2], twice);
    assert_true(rs.per[0] >= 20 && rs.per[1] > 0 && rs.per[2] > 0);
    cli(out, sizeof out, "XPENDING mw grp");
    assert_string_equal(out, "0");
    free(rs.times);
    free(rs.first);
    free(rs.second);
}

/* A poison entry (never acked) is delivered max_deliveries times, then
 * lands in the dead-letter stream with its fields, its id and its count,
 * and is acked; the good entries are processed. */
static void test_poison_dead_letter(void **state)
{
    (void)state;
    char out[128], poison_id[64];
    cli(poison_id, sizeof poison_id, "XADD po '*' kind poison");
    cli(out, sizeof out, "XADD po '*' kind good");
    rill_redis_config_t cc = {.runtime = rt};
    rill_redis_group_t *g;
    assert_status(
        rill_redis_group_new(&g, srv.addr, "po", "grp", "c1",
                             &(rill_redis_group_config_t){.conn = &cc,
                                                          .create = true,
                                                          .max_deliveries = 3,
                                                          .claim_idle = 1,
                                                          .claim_interval = 1,
                                                          .block = RILL_MS(5)}),
        0);
    /* The dead-letter stream, read as it fills: the sync point. */
    rill_stream_t *dead;
    assert_status(
        rill_redis_xread_new(&dead, srv.addr, "po:dead", "0",
                             &(rill_redis_xread_config_t){.conn = &cc}),
        0);
    rill_stream_t *s;
    assert_status(rill_redis_group_stream(g, &s), 0);
    int seen_poison = 0;
    uint64_t last = 0;
    while (seen_poison < 3) {
        rill_redis_msg_t m;
        assert_status(rill_next(s, &m), 0);
        if (!strcmp(m.id, poison_id)) {
            seen_poison++;
            assert_true(m.deliveries > last);
            last = m.deliveries;
        } else {
            assert_status(rill_redis_group_ack(g, &m), 0);
            assert_status(rill_redis_group_flush(g), 0);
        }
        rill_redis_msg_destroy(&m);
    }
    assert_int_equal(last, 3);
    rill_redis_msg_t d;
    assert_status(rill_next(dead, &d), 0);
    assert_string_equal(rill_redis_msg_field(&d, "kind")->value, "poison");
    assert_string_equal(rill_redis_msg_field(&d, "rill-id")->value, poison_id);
    assert_string_equal(rill_redis_msg_field(&d, "rill-deliveries")->value,
                        "4");
    rill_redis_msg_destroy(&d);
    rill_stream_free(dead);
    rill_stream_free(s);
    rill_redis_group_free(g);
    /* The poison is acked; no entry of the group waits. */
    cli(out, sizeof out, "XPENDING po grp");
    assert_string_equal(out, "0");
    assert_int_equal(cli_int("XLEN %s%s", "po:dead", ""), 1);
}

/* kill -9 of redis-server in the middle of a run, restart from its AOF:
 * producer and consumer reconnect by themselves, every entry is
 * processed (at least once), nothing pending at the end. */
typedef struct crash_run {
    uint64_t n;
    uint8_t *seen; /* per seq */
    uint64_t distinct, deliveries;
    int sink_status, source_status;
    uint64_t added;
    rill_oneshot_sender_t *quarter; /* told when a quarter is processed */
    rill_redis_stats_t sink_stats;  /* the sink's connection at its end */
} crash_run_t;

static const rill_redis_config_t crash_conn = {.backoff_min = RILL_MS(5),
                                               .backoff_max = RILL_MS(100),
                                               .command_timeout = RILL_SEC(5)};

static void *crash_produce(void *p)
{
    crash_run_t *cr = p;
    rill_redis_t *c;
    cr->sink_status = rill_redis_new(&c, srv.addr, &crash_conn);
    if (cr->sink_status)
        return NULL;
    seq_item_t *v = seq_items(cr->n);
    rill_stream_t *s;
    cr->sink_status = rill_stream_iter(&s, v, cr->n, sizeof *v);
    free(v);
    if (cr->sink_status == 0) {
        rill_redis_sink_config_t sc = {.encode = encode_seq, .batch = 64};
        cr->sink_status = rill_redis_write_stream(c, "cr", s, &cr->added, &sc);
    }
    (void)rill_redis_stats(c, &cr->sink_stats);
    rill_redis_free(c);
    return NULL;
}

static void *crash_consume(void *p)
{
    crash_run_t *cr = p;
    rill_redis_group_t *g;
    cr->source_status = rill_redis_group_new(
        &g, srv.addr, "cr", "grp", "w1",
        &(rill_redis_group_config_t){
            .conn = &crash_conn, .create = true, .block = RILL_MS(100)});
    if (cr->source_status)
        return NULL;
    rill_stream_t *s;
    cr->source_status = rill_redis_group_stream(g, &s);
    while (cr->source_status == 0 && cr->distinct < cr->n) {
        rill_redis_msg_t m;
        int r = rill_next(s, &m);
        if (r) {
            cr->source_status = r;
            break;
        }
        const rill_redis_field_t *f = rill_redis_msg_field(&m, "seq");
        uint64_t seq = f ? strtoull(f->value, NULL, 10) : UINT64_MAX;
        cr->deliveries++;
        if (seq < cr->n && !cr->seen[seq]) {
            cr->seen[seq] = 1;
            cr->distinct++;
        }
        if (cr->quarter && cr->distinct >= cr->n / 4) {
            int one = 1;
            if (rill_oneshot_send(cr->quarter, &one) != 0)
                cr->source_status = RILL_ECLOSED; /* the test went away */
            rill_oneshot_sender_release(cr->quarter);
            cr->quarter = NULL;
        }
        /* Acks may fail while the server is down: they are kept and sent
         * again, so only a failure that stays matters (flush below). */
        if (rill_redis_group_ack(g, &m) != 0)
            cr->deliveries += 0; /* kept and sent again */
        rill_redis_msg_destroy(&m);
    }
    for (int i = 0; i < 100 && cr->source_status == 0; i++)
        if (rill_redis_group_flush(g) == 0)
            break;
    rill_stream_free(s);
    rill_redis_group_free(g);
    return NULL;
}

static void test_kill9_restart(void **state)
{
    (void)state;
    /* Every acknowledged write in the AOF before its reply (see
     * rs_server_t): without it the crash may lose entries the sink
     * counted, as a run on a busy disk did (576 of them). */
    char out[64];
    cli(out, sizeof out, "CONFIG SET appendfsync always");
    assert_string_equal(out, "OK");
    srv.fsync_always = true; /* for the restart */
    crash_run_t cr = {.n = SCALE(100000, 10)};
    cr.seen = calloc(cr.n, 1);
    assert_non_null(cr.seen);
    rill_oneshot_receiver_t *quarter;
    assert_status(rill_oneshot_new(&cr.quarter, &quarter, sizeof(int), NULL),
                  0);
    rill_task_t *tp, *tc;
    rill_spawn_config_t sc = {.runtime = rt};
    assert_status(rill_spawn(&tc, crash_consume, &cr, &sc), 0);
    assert_status(rill_spawn(&tp, crash_produce, &cr, &sc), 0);
    int one = 0;
    assert_status(rill_oneshot_recv(quarter, &one), 0);
    rill_oneshot_receiver_release(quarter);
    rs_kill(&srv, SIGKILL);
    assert_int_equal(rs_launch(&srv), 0); /* same dir: reloads the AOF */
    assert_status(rill_join(tp, NULL), 0);
    if (cr.sink_status || cr.added != cr.n) {
        /* The consumer would wait for entries that never come. */
        rill_task_cancel(tc);
        assert_status(rill_join(tc, NULL), 0);
        fail_msg(
            "the sink ended with %s after %" PRIu64 " of %" PRIu64
            " entries (its connection: %" PRIu64 " connects, last error %s)",
            rill_err_name(cr.sink_status), cr.added, cr.n,
            cr.sink_stats.connects, rill_err_name(cr.sink_stats.last_error));
    }
    /* Entries whose XADD reply was lost in the crash may be there twice;
     * fewer is a loss by the server, for which the consumer would wait. */
    long long len = cli_int("XLEN %s%s", "cr", "");
    if (len < (long long)cr.n) {
        rill_task_cancel(tc);
        assert_status(rill_join(tc, NULL), 0);
        fail_msg("the server has %lld entries of the %" PRIu64
                 " it acknowledged",
                 len, cr.n);
    }
    assert_status(rill_join(tc, NULL), 0);
    assert_status(cr.sink_status, 0);
    assert_status(cr.source_status, 0);
    assert_int_equal(cr.distinct, cr.n);
    cli(out, sizeof out, "XPENDING cr grp");
    assert_string_equal(out, "0");
    free(cr.seen);
}

/* ---- plain XREAD ---- */

/* Two XREAD sources from "$" see only what is added after they started,
 * each sees all of it (fan-out), in order; one from "0" sees all. */
static void test_xread_fanout(void **state)
{
    (void)state;
    char out[64];
    cli(out, sizeof out, "XADD fan '*' n old");
    rill_redis_config_t cc = {.runtime = rt};
    rill_redis_xread_config_t xc = {.conn = &cc, .block = RILL_MS(50)};
    rill_stream_t *a, *b, *all;
    assert_status(rill_redis_xread_new(&a, srv.addr, "fan", "$", &xc), 0);
    assert_status(rill_redis_xread_new(&b, srv.addr, "fan", NULL, &xc), 0);
    assert_status(rill_redis_xread_new(&all, srv.addr, "fan", "0", &xc), 0);
    /* "$" is the last id when the source was made: a and b see only
     * what comes after. */
    rill_redis_msg_t m;
    assert_status(rill_next(all, &m), 0);
    assert_string_equal(rill_redis_msg_field(&m, "n")->value, "old");
    assert_int_equal(m.deliveries, 0);
    rill_redis_msg_destroy(&m);
    add_entries("fan", 5);
    rill_stream_t *each[] = {a, b, all};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 5; i++) {
            assert_status(rill_next(each[k], &m), 0);
            assert_int_equal(atoll(rill_redis_msg_field(&m, "seq")->value), i);
            rill_redis_msg_destroy(&m);
        }
    rill_stream_free(a);
    rill_stream_free(b);
    rill_stream_free(all);
}

/* ---- out of memory ---- */

typedef struct oom_arg {
    rill_redis_t *c;
    rill_stream_t *s;
    long k;
    bool hit;
    int status;
    uint64_t added;
} oom_arg_t;

static void *oom_sink(void *p)
{
    oom_arg_t *a = p;
    rill_redis_sink_config_t sc = {.batch = 16};
    test_alloc_refuse(a->k, false); /* counted from inside the task */
    a->status = rill_redis_write_stream(a->c, "oom", a->s, &a->added, &sc);
    a->hit = test_alloc_hit();
    test_alloc_disarm();
    return NULL;
}

/* The k-th allocation from the start of a sink run refused, for every k
 * until a run meets none: the sink ends with 0 (the connection lost a
 * reply to ENOMEM, reconnected, and the rest was sent again) or
 * RILL_ENOMEM, *added never counts an entry that is not in the stream,
 * and nothing leaks (test_run checks every test). */
static void test_alloc_failure_in_batch(void **state)
{
    (void)state;
    rill_redis_t *c;
    assert_status(rill_redis_new(&c, srv.addr,
                                 &(rill_redis_config_t){
                                     .runtime = rt, .backoff_min = RILL_MS(1)}),
                  0);
    long long before = 0;
    int ok = 0, nomem = 0;
    for (long k = 0; k < 2000; k++) {
        enum { N = 40 };
        rill_bytes_t items[N];
        for (int i = 0; i < N; i++)
            assert_status(rill_bytes_new(&items[i], "payload", 7), 0);
        oom_arg_t a = {c, NULL, k, false, -1, 0};
        assert_status(rill_stream_iter(&a.s, items, N, sizeof items[0]), 0);
        assert_status(
            rill_stream_set_item_dtor(a.s, rill_bytes_item_dtor, NULL), 0);
        assert_status(rill_block_on(rt, oom_sink, &a, NULL), 0);
        bool hit = a.hit;
        long long len = cli_int("XLEN %s%s", "oom", "");
        assert_true(a.status == 0 || a.status == RILL_ENOMEM);
        assert_true(len - before >= (long long)a.added);
        if (a.status == 0)
            assert_int_equal(a.added, N);
        ok += a.status == 0;
        nomem += a.status == RILL_ENOMEM;
        before = len;
        if (!hit)
            break;
    }
    assert_true(ok > 0);
    assert_true(nomem > 0);
    rill_redis_free(c);
}

/* A test with its own server and runtime, under the watchdog. */
#define REDIS_TEST(f, limit)                                                   \
    cmocka_unit_test_prestate_setup_teardown(f, setup, teardown,               \
                                             (&(test_meta_t){#f, limit}))

int main(int argc, char **argv)
{
    /* This binary run again as a child process of a test. */
    if (argc == 3 && !strcmp(argv[1], "--read10"))
        return child_read10(argv[2]);
    if (argc == 4 &&
        (!strcmp(argv[1], "--worker") || !strcmp(argv[1], "--worker-noack")))
        return child_worker(argv[3], argv[2],
                            !strcmp(argv[1], "--worker-noack"));
    rs_skip_if_absent("test_redis");
    signal(SIGPIPE, SIG_DFL);
    /* A hang in any test aborts it with a dump (test_watchdog.h) after a
     * minute; the million-entry round trip gets longer. */
    watchdog_start();
    const struct CMUnitTest tests[] = {
        REDIS_TEST(test_commands_pipelined, 60),
        REDIS_TEST(test_error_reply, 60),
        REDIS_TEST(test_tcp_auth_select, 60),
        REDIS_TEST(test_wrong_address, 60),
        REDIS_TEST(test_server_closes_at_once, 60),
        REDIS_TEST(test_garbage_reply, 60),
        REDIS_TEST(test_command_timeout, 60),
        REDIS_TEST(test_cancel_blocked, 60),
        REDIS_TEST(test_nogroup_wrongtype, 60),
        REDIS_TEST(test_round_trip, 180),
        REDIS_TEST(test_claim_after_crash, 60),
        REDIS_TEST(test_group_workers, 60),
        REDIS_TEST(test_poison_dead_letter, 60),
        REDIS_TEST(test_kill9_restart, 60),
        REDIS_TEST(test_xread_fanout, 60),
        REDIS_TEST(test_alloc_failure_in_batch, 60),
    };
    return test_run(tests, NULL, NULL);
}
