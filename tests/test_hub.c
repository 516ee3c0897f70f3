/* SPDX-License-Identifier: MIT */
/*
 * test_hub.c - the fan-out hub with real sockets on 127.0.0.1: SSE and
 * WebSocket clients mixed on one hub, each policy against a client that
 * never reads (a tiny SO_RCVBUF), resuming with Last-Event-ID, the
 * counters (stats, /stats, rill_runtime_dump) and bad input.
 *
 * The runtime's clock is virtual, so waiting for a condition is a loop of
 * 1 ms sleeps that costs no real time, and the DISCONNECT deadline is
 * measured exactly. Memory is checked on the hub's own counters: a
 * client's high-water mark of queued bytes must stay within its budget.
 *
 * Every event carries its number: SSE "id: N" and data "ev N ...", a
 * WebSocket message "ev N ...". A reader (peer_t) checks that numbers
 * only go up by one, or by exactly what an in-band rill-gap notice said
 * was lost.
 */
#include "test_util.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <rill.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the server ---- */

typedef struct fixture {
    rill_http_server_t *srv;
    rill_hub_t *hub;
    rill_task_t *runner;
    int port;
} fixture_t;

static void *run_server(void *arg)
{
    fixture_t *f = arg;
    return (void *)(intptr_t)rill_http_server_run(f->srv);
}

/* /events?policy=block|drop|disconnect&budget=N: the client's own. */
static int events_route(void *ud, rill_http_conn_t *c,
                        const rill_http_request_t *req)
{
    char q[128] = "";
    size_t n = req->query.len < sizeof q - 1 ? req->query.len : sizeof q - 1;
    memcpy(q, req->query.ptr, n);
    rill_hub_client_config_t cc = {0};
    if (strstr(q, "policy=block"))
        cc.policy = RILL_HUB_BLOCK;
    else if (strstr(q, "policy=drop"))
        cc.policy = RILL_HUB_DROP_OLDEST;
    else if (strstr(q, "policy=disconnect"))
        cc.policy = RILL_HUB_DISCONNECT;
    const char *b = strstr(q, "budget=");
    if (b)
        cc.budget = (size_t)strtoull(b + 7, NULL, 10);
    int rc = rill_hub_serve(ud, c, req, &cc); /* the client's story */
    (void)rc;
    return -1;
}

static void start(fixture_t *f, const rill_hub_config_t *hc)
{
    memset(f, 0, sizeof *f);
    assert_status(rill_hub_new(&f->hub, hc), 0);
    assert_status(rill_http_server_new(&f->srv, "127.0.0.1:0", NULL), 0);
    assert_status(
        rill_http_route(f->srv, RILL_HTTP_GET, "/events", events_route, f->hub),
        0);
    assert_status(rill_http_route(f->srv, RILL_HTTP_GET, "/hub",
                                  rill_hub_handler, f->hub),
                  0);
    assert_status(rill_http_route(f->srv, RILL_HTTP_GET, "/stats",
                                  rill_hub_stats_handler, f->hub),
                  0);
    f->port = rill_http_server_port(f->srv);
    assert_status(rill_spawn(&f->runner, run_server, f, NULL), 0);
}

static void stop(fixture_t *f)
{
    rill_http_server_shutdown(f->srv);
    void *rc;
    assert_status(rill_join(f->runner, &rc), 0);
    assert_null(rc);
    rill_http_server_free(f->srv);
    rill_hub_free(f->hub);
}

static rill_hub_stats_t stats(rill_hub_t *hub)
{
    rill_hub_stats_t st;
    assert_status(rill_hub_stats(hub, &st), 0);
    return st;
}

/* The counters of client `id`; false if it is not connected. */
static bool client_stats(rill_hub_t *hub, uint64_t id,
                         rill_hub_client_stats_t *out)
{
    rill_hub_client_stats_t cs[64];
    size_t n;
    assert_status(rill_hub_clients(hub, cs, 64, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (cs[i].id == id) {
            *out = cs[i];
            return true;
        }
    return false;
}

/* Wait (virtual 1 ms steps) until the hub has `n` clients. */
static void wait_clients(rill_hub_t *hub, uint64_t n)
{
    for (int i = 0; stats(hub).clients != n; i++) {
        assert_true(i < 100000);
        assert_status(rill_sleep(RILL_MS(1)), 0);
    }
}

/* ---- clients ---- */

typedef struct peer {
    rill_io_t *io;
    bool ws;
    char *buf;
    size_t len, cap;
    long last;     /* the last event number seen */
    long received; /* events */
    long missed;   /* the sum of the gap notices (a -1 counts as 0) */
    int gaps;      /* notices seen */
    int bad;       /* line of the first check that failed, or 0 */
    bool ended;    /* end of file, or a close frame */
    unsigned close_code;
    bool in_head;    /* the response head is still to be skipped */
    char head[1024]; /* the response head (unless skipped) */
    int rc;          /* the reader task's end */
} peer_t;

#define PEER_FAIL(p)                                                           \
    do {                                                                       \
        if (!(p)->bad)                                                         \
            (p)->bad = __LINE__;                                               \
    } while (0)

/* An event's number (data "ev N ..."), or -1. */
static long event_no(const char *d, size_t n)
{
    if (n < 4 || memcmp(d, "ev ", 3) != 0)
        return -1;
    return strtol(d + 3, NULL, 10);
}

static void saw_event(peer_t *p, long no)
{
    if (no != p->last + 1)
        PEER_FAIL(p);
    p->last = no;
    p->received++;
}

static void saw_gap(peer_t *p, long missed)
{
    p->gaps++;
    if (missed > 0) {
        p->missed += missed;
        p->last += missed; /* the next event is the one after the gap */
    } else if (missed == -1) {
        p->last = -2; /* unknown: take whatever comes next */
    } else {
        PEER_FAIL(p);
    }
}

/* Parse one SSE event (text between blank lines). */
static void sse_event(peer_t *p, char *ev, size_t n)
{
    ev[n] = '\0';
    char *data = strstr(ev, "data: ");
    if (ev[0] == ':' && !strchr(ev, '\n')) /* a keep-alive comment */
        return;
    if (!data) {
        PEER_FAIL(p);
        return;
    }
    data += 6;
    char *nl = strchr(data, '\n');
    size_t dn = nl ? (size_t)(nl - data) : strlen(data);
    if (strstr(ev, "event: rill-gap")) {
        const char *m = strstr(data, "\"missed\":");
        if (!m) {
            PEER_FAIL(p);
            return;
        }
        saw_gap(p, strtol(m + 9, NULL, 10));
        return;
    }
    long no = event_no(data, dn);
    char id[32];
    snprintf(id, sizeof id, "id: %ld\n", no);
    if (no < 0 || !strstr(ev, id)) {
        PEER_FAIL(p);
        return;
    }
    if (p->last == -2)
        p->last = no - 1;
    saw_event(p, no);
}

/* Consume whole events / frames from p->buf. */
static void parse(peer_t *p)
{
    size_t off = 0;
    if (p->in_head) {
        char *end = memmem(p->buf, p->len, "\r\n\r\n", 4);
        if (!end)
            return;
        off = (size_t)(end - p->buf) + 4;
        p->in_head = false;
    }
    for (;;) {
        char *b = p->buf + off;
        size_t n = p->len - off;
        if (!p->ws) {
            char *end = memmem(b, n, "\n\n", 2);
            if (!end)
                break;
            sse_event(p, b, (size_t)(end - b) + 1);
            off += (size_t)(end - b) + 2;
            continue;
        }
        if (n < 2)
            break;
        unsigned char *u = (unsigned char *)b;
        size_t h = 2, len = u[1] & 0x7f;
        if (u[1] & 0x80)
            PEER_FAIL(p); /* server frames are never masked */
        if (len == 126) {
            if (n < 4)
                break;
            len = (size_t)u[2] << 8 | u[3];
            h = 4;
        } else if (len == 127) {
            PEER_FAIL(p); /* no event here is that large */
            p->ended = true;
            return;
        }
        if (n < h + len)
            break;
        unsigned op = u[0] & 0x0f;
        if (op == 1) {
            const char *d = b + h;
            if (len > 6 && memmem(d, len, "rill-gap", 8)) {
                const char *m = memmem(d, len, "\"missed\":", 9);
                if (!m)
                    PEER_FAIL(p);
                else
                    saw_gap(p, strtol(m + 9, NULL, 10));
            } else {
                long no = event_no(d, len);
                if (no < 0)
                    PEER_FAIL(p);
                if (p->last == -2)
                    p->last = no - 1;
                saw_event(p, no);
            }
        } else if (op == 8) {
            p->close_code = len >= 2 ? (unsigned)u[h] << 8 | u[h + 1] : 1005;
            p->ended = true;
        } else if (op != 9) { /* pings may come; nothing else */
            PEER_FAIL(p);
        }
        off += h + len;
    }
    memmove(p->buf, p->buf + off, p->len - off);
    p->len -= off;
}

/* Read and parse until the end (or until `until` events were received,
 * when until > 0). */
static int pump(peer_t *p, long until)
{
    while (!p->ended && (until <= 0 || p->received < until)) {
        if (p->cap - p->len < 4096) {
            p->cap = p->cap ? p->cap * 2 : 65536;
            p->buf = realloc(p->buf, p->cap);
        }
        size_t n;
        int rc = rill_io_read(p->io, p->buf + p->len, p->cap - p->len - 1, &n);
        if (rc != 0) {
            p->ended = true;
            return rc;
        }
        p->len += n;
        parse(p);
    }
    return 0;
}

/* Connect; a tiny receive buffer when rcvbuf > 0 (set before connecting,
 * so the window is small from the start). */
static rill_io_t *dial(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        assert_int_equal(
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Loopback: the kernel completes the connection from the listener's
     * backlog, so a blocking connect does not wait for the runtime. */
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    rill_io_t *io;
    assert_status(rill_io_new(&io, fd, NULL), 0);
    return io;
}

/* Open a client of `path` (SSE, or WebSocket when ws), with extra header
 * lines; the response head is read (and checked) unless skip_head. */
static void open_peer(peer_t *p, int port, const char *path, bool ws,
                      const char *extra, int rcvbuf, bool skip_head)
{
    memset(p, 0, sizeof *p);
    p->ws = ws;
    p->io = dial(port, rcvbuf);
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: a\r\n%s%s\r\n",
                     path,
                     ws ? "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        : "",
                     extra ? extra : "");
    assert_status(rill_io_write_all(p->io, req, (size_t)n, NULL), 0);
    if (skip_head) { /* read with the events, later */
        p->in_head = true;
        return;
    }
    char *head = p->head;
    size_t len = 0, got;
    head[0] = '\0';
    while (!strstr(head, "\r\n\r\n")) {
        assert_true(len < sizeof p->head - 1);
        assert_status(rill_io_read(p->io, head + len, 1, &got), 0);
        len += got;
        head[len] = '\0';
    }
    assert_non_null(strstr(head, ws ? "101 Switching" : "text/event-stream"));
}

static void close_peer(peer_t *p)
{
    rill_io_free(p->io);
    free(p->buf);
    p->io = NULL;
    p->buf = NULL;
}

static void *reader(void *arg)
{
    peer_t *p = arg;
    p->rc = pump(p, 0);
    return NULL;
}

/* A payload of `size` bytes for event `no`. */
static void publish_no(rill_hub_t *hub, long no, size_t size, int want)
{
    char id[24], data[8192];
    int idn = snprintf(id, sizeof id, "%ld", no);
    int dn = snprintf(data, sizeof data, "ev %ld ", no);
    if (size > sizeof data)
        size = sizeof data;
    if ((size_t)dn < size) {
        memset(data + dn, 'a' + (int)(no % 26), size - (size_t)dn);
        dn = (int)size;
    }
    rill_sse_event_t ev = {0};
    assert_status(rill_bytes_new(&ev.id, id, (size_t)idn), 0);
    assert_status(rill_bytes_new(&ev.data, data, (size_t)dn), 0);
    assert_status(rill_hub_publish(hub, &ev), want);
    rill_sse_event_destroy(&ev);
}

static void run(rill_task_fn fn, unsigned workers)
{
    rill_runtime_t *rt = test_new_rt(workers, true);
    void *res = (void *)1;
    assert_status(rill_block_on(rt, fn, NULL, &res), 0);
    assert_null(res);
    rill_runtime_free(rt);
}

/* ---- BLOCK: every client gets every event, in order ---- */

typedef struct pub_arg {
    rill_hub_t *hub;
    long n;
    int rc;
} pub_arg_t;

/* A plain thread publishing (events from any thread). */
static void *publisher(void *arg)
{
    pub_arg_t *a = arg;
    for (long i = 1; i <= a->n && a->rc == 0; i++) {
        char id[24], data[256];
        int idn = snprintf(id, sizeof id, "%ld", i);
        int dn = snprintf(data, sizeof data, "ev %ld %.*s", i, (int)(i % 200),
                          "0123456789abcdefghijklmnopqrstuv"
                          "0123456789abcdefghijklmnopqrstuv"
                          "0123456789abcdefghijklmnopqrstuv"
                          "0123456789abcdefghijklmnopqrstuv"
                          "0123456789abcdefghijklmnopqrstuv"
                          "0123456789abcdefghijklmnopqrstuv"
                          "0123456789abcdefghijklmnopqrstuv");
        rill_sse_event_t ev = {0};
        a->rc = rill_bytes_new(&ev.id, id, (size_t)idn);
        if (a->rc == 0)
            a->rc = rill_bytes_new(&ev.data, data, (size_t)dn);
        if (a->rc == 0)
            a->rc = rill_hub_publish(a->hub, &ev);
        rill_sse_event_destroy(&ev);
    }
    rill_hub_close(a->hub);
    return NULL;
}

static void *block_in_order(void *arg)
{
    (void)arg;
    enum { NPEERS = 6 };
    long nev = SCALE(5000, 5);
    fixture_t f;
    /* No keep-alive: the virtual clock jumps whenever every task waits,
     * also while the publisher thread is between events, and these
     * readers do not answer pings. */
    rill_hub_config_t hc = {.name = "mixed",
                            .policy = RILL_HUB_BLOCK,
                            .budget = 4096,
                            .keepalive = -1};
    start(&f, &hc);
    peer_t p[NPEERS];
    rill_task_t *t[NPEERS];
    for (int i = 0; i < NPEERS; i++) {
        open_peer(&p[i], f.port, "/hub", i % 2, NULL, 0, false);
        assert_status(rill_spawn(&t[i], reader, &p[i], NULL), 0);
    }
    wait_clients(f.hub, NPEERS);
    rill_hub_stats_t st = stats(f.hub);
    assert_int_equal(st.sse_clients, 3);
    assert_int_equal(st.ws_clients, 3);
    pub_arg_t a = {f.hub, nev, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, publisher, &a), 0);
    for (int i = 0; i < NPEERS; i++)
        assert_status(rill_join(t[i], NULL), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_status(a.rc, 0);
    for (int i = 0; i < NPEERS; i++) {
        assert_int_equal(p[i].bad, 0);
        assert_int_equal(p[i].received, nev);
        assert_int_equal(p[i].last, nev);
        assert_int_equal(p[i].gaps, 0);
        assert_true(p[i].ended);
        if (p[i].ws)
            assert_int_equal(p[i].close_code, 1000); /* the hub closed */
        else
            assert_status(p[i].rc, RILL_DONE); /* the response ended */
        close_peer(&p[i]);
    }
    wait_clients(f.hub, 0);
    st = stats(f.hub);
    assert_int_equal(st.published, nev);
    assert_int_equal(st.events_sent, NPEERS * nev);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.bytes_queued, 0);
    assert_int_equal(st.clients_total, NPEERS);
    /* Publishing after the close is refused. */
    publish_no(f.hub, nev + 1, 10, RILL_ECLOSED);
    stop(&f);
    return NULL;
}

static void test_block_in_order(void **state)
{
    (void)state;
    run(block_in_order, 2);
}

/* ---- a client that never reads, against each policy ---- */

/* Publish 1 KiB events until done(), at most `max`; returns the count. */
static long flood(fixture_t *f, long from, long max,
                  bool (*done)(fixture_t *f, void *ud), void *ud)
{
    long i = from;
    while (i < from + max && !done(f, ud)) {
        publish_no(f->hub, i++, 1024, 0);
        assert_status(rill_yield(), 0); /* the clients' tasks write */
    }
    assert_true(done(f, ud));
    return i;
}

typedef struct slow_ids {
    uint64_t ids[2];
    size_t budget;
} slow_ids_t;

static bool both_dropped(fixture_t *f, void *ud)
{
    slow_ids_t *s = ud;
    rill_hub_client_stats_t cs;
    for (int i = 0; i < 2; i++)
        if (!client_stats(f->hub, s->ids[i], &cs) || cs.dropped < 100)
            return false;
    return true;
}

/* The ids of the slow clients (the ones that are not BLOCK): [0] the
 * SSE one, [1] the WebSocket one. */
static void last_two(rill_hub_t *hub, slow_ids_t *s)
{
    rill_hub_client_stats_t cs[64];
    size_t n;
    assert_status(rill_hub_clients(hub, cs, 64, &n), 0);
    s->ids[0] = s->ids[1] = 0;
    for (size_t i = 0; i < n; i++)
        if (cs[i].policy != RILL_HUB_BLOCK)
            s->ids[cs[i].protocol == RILL_HUB_WS] = cs[i].id;
    assert_true(s->ids[0] && s->ids[1]);
}

static void *slow_drop_oldest(void *arg)
{
    (void)arg;
    enum { BUDGET = 65536 };
    fixture_t f;
    rill_hub_config_t hc = {.name = "drops",
                            .policy = RILL_HUB_DROP_OLDEST,
                            .budget = BUDGET,
                            .replay = 64};
    start(&f, &hc);
    /* Two fast clients (BLOCK: lossless, the publisher waits for them),
     * then a slow SSE and a slow WebSocket client. */
    peer_t fast[2], slow[2];
    rill_task_t *t[2];
    for (int i = 0; i < 2; i++) {
        open_peer(&fast[i], f.port, "/events?policy=block&budget=1048576",
                  i == 1, NULL, 0, false);
        assert_status(rill_spawn(&t[i], reader, &fast[i], NULL), 0);
    }
    for (int i = 0; i < 2; i++)
        open_peer(&slow[i], f.port, "/events", i == 1, NULL, 2048, true);
    wait_clients(f.hub, 4);
    slow_ids_t s = {{0}, BUDGET};
    last_two(f.hub, &s);
    long last = flood(&f, 1, 200000, both_dropped, &s) - 1;
    /* A little more: the slow clients stay at their budget. */
    for (long i = 0; i < 200; i++)
        publish_no(f.hub, ++last, 1024, 0);
    rill_hub_stats_t st = stats(f.hub);
    uint64_t dropped = 0;
    for (int i = 0; i < 2; i++) {
        rill_hub_client_stats_t cs = {0};
        assert_true(client_stats(f.hub, s.ids[i], &cs));
        assert_int_equal(cs.policy, RILL_HUB_DROP_OLDEST);
        assert_true(cs.bytes_queued_max <= BUDGET);
        assert_true(cs.bytes_queued <= BUDGET);
        assert_true(cs.bytes_queued > BUDGET / 2); /* it is full */
        assert_false(cs.disconnected);
        dropped += cs.dropped;
    }
    assert_int_equal(st.dropped, dropped);
    /* Memory: what the hub holds is what the budgets allow. */
    assert_true(st.bytes_queued <= 2 * BUDGET + 2 * 1048576);
    /* The dump shows the slow clients' counters. */
    char *dump = NULL;
    size_t dump_len = 0;
    FILE *mf = open_memstream(&dump, &dump_len);
    assert_status(rill_runtime_dump(rill_runtime_current(), mf), 0);
    fclose(mf);
    char line[64];
    snprintf(line, sizeof line,
             "hub 'drops' SSE client %" PRIu64 " (DROP_OLDEST): queued ",
             s.ids[0]);
    assert_non_null(strstr(dump, line));
    snprintf(line, sizeof line, "hub 'drops' WebSocket client %" PRIu64,
             s.ids[1]);
    assert_non_null(strstr(dump, line));
    free(dump);
    /* The slow clients read now: they see events in order, with gaps the
     * notices account for exactly, up to the last one. */
    rill_hub_close(f.hub);
    for (int i = 0; i < 2; i++) {
        assert_status(rill_join(t[i], NULL), 0);
        assert_int_equal(fast[i].bad, 0);
        assert_int_equal(fast[i].received, last);
        assert_int_equal(fast[i].gaps, 0);
        int rc = pump(&slow[i], 0);
        if (i == 0)
            assert_status(rc, RILL_DONE);
        assert_int_equal(slow[i].bad, 0);
        assert_true(slow[i].gaps > 0);
        assert_int_equal(slow[i].received + slow[i].missed, last);
        assert_int_equal(slow[i].last, last);
        close_peer(&fast[i]);
        close_peer(&slow[i]);
    }
    assert_int_equal(slow[0].missed + slow[1].missed, (long)dropped);
    wait_clients(f.hub, 0);
    assert_int_equal(stats(f.hub).bytes_queued, 0);
    stop(&f);
    return NULL;
}

static void test_slow_drop_oldest(void **state)
{
    (void)state;
    run(slow_drop_oldest, 1);
}

static void *slow_disconnect(void *arg)
{
    (void)arg;
    enum { BUDGET = 32768 };
    fixture_t f;
    rill_hub_config_t hc = {.name = "kicks",
                            .policy = RILL_HUB_DISCONNECT,
                            .budget = BUDGET,
                            .replay = 16384};
    start(&f, &hc);
    peer_t fast, slow[2];
    rill_task_t *t;
    open_peer(&fast, f.port, "/events?policy=block&budget=1048576", false, NULL,
              0, false);
    assert_status(rill_spawn(&t, reader, &fast, NULL), 0);
    for (int i = 0; i < 2; i++)
        open_peer(&slow[i], f.port, "/events", i == 1, NULL, 2048, true);
    wait_clients(f.hub, 3);
    slow_ids_t s = {{0}, BUDGET};
    last_two(f.hub, &s);
    /* Until the budget is passed: each kicked once, by the count. */
    rill_hub_client_stats_t before[2], now;
    memset(before, 0, sizeof before);
    long last = 0, i = 1;
    while (stats(f.hub).disconnected < 2) {
        for (int k = 0; k < 2; k++)
            if (client_stats(f.hub, s.ids[k], &now) && !now.disconnected) {
                assert_true(now.bytes_queued_max <= BUDGET);
                before[k] = now;
            }
        assert_true(i < 200000);
        publish_no(f.hub, i++, 1024, 0);
        assert_status(rill_yield(), 0); /* the clients' tasks write */
    }
    last = i - 1;
    rill_instant_t kicked = rill_now();
    /* The slow clients were over budget by one event when kicked. */
    for (int k = 0; k < 2; k++)
        assert_true(before[k].bytes_queued + 1100 > BUDGET);
    /* Within the close timeout (100 ms) both are gone, though neither
     * reads: the WebSocket's close frame cannot get out, so its socket
     * is closed at the deadline. */
    wait_clients(f.hub, 1);
    rill_duration_t took = rill_now() - kicked;
    assert_true(took >= RILL_MS(100) && took <= RILL_MS(101));
    rill_hub_stats_t st = stats(f.hub);
    assert_int_equal(st.disconnected, 2);
    assert_int_equal(st.dropped, 0);
    /* The slow SSE client reads what reached it, then the end; it comes
     * back with Last-Event-ID and gets the rest, no gap. */
    assert_status(pump(&slow[0], 0), RILL_DONE);
    assert_int_equal(slow[0].bad, 0);
    assert_true(slow[0].last < last);
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Last-Event-ID: %ld\r\n", slow[0].last);
    peer_t again;
    open_peer(&again, f.port, "/events?policy=block&budget=8388608", false, hdr,
              0, false);
    again.last = slow[0].last;
    for (int k = 0; k < 10; k++)
        publish_no(f.hub, ++last, 1024, 0);
    assert_status(pump(&again, last - slow[0].last), 0);
    assert_int_equal(again.bad, 0);
    assert_int_equal(again.gaps, 0);
    assert_int_equal(again.last, last);
    /* The WebSocket: frames, then the connection ends (no close frame
     * got through a full socket); it resumes with the query parameter. */
    pump(&slow[1], 0);
    assert_int_equal(slow[1].bad, 0);
    char path[96];
    snprintf(path, sizeof path,
             "/events?policy=block&budget=8388608&last_event_id=%ld",
             slow[1].last);
    peer_t again_ws;
    open_peer(&again_ws, f.port, path, true, NULL, 0, false);
    again_ws.last = slow[1].last;
    assert_status(pump(&again_ws, last - slow[1].last), 0);
    assert_int_equal(again_ws.bad, 0);
    assert_int_equal(again_ws.gaps, 0);
    assert_int_equal(again_ws.last, last);
    /* The fast client never noticed. */
    rill_hub_close(f.hub);
    assert_status(rill_join(t, NULL), 0);
    assert_int_equal(fast.bad, 0);
    assert_int_equal(fast.received, last);
    close_peer(&fast);
    close_peer(&again);
    close_peer(&again_ws);
    for (int k = 0; k < 2; k++)
        close_peer(&slow[k]);
    wait_clients(f.hub, 0);
    stop(&f);
    return NULL;
}

static void test_slow_disconnect(void **state)
{
    (void)state;
    run(slow_disconnect, 1);
}

/* BLOCK: a client that never reads holds the publisher back; nothing is
 * lost, its queue stays within the budget. */
static void *slow_block(void *arg)
{
    (void)arg;
    enum { BUDGET = 16384 };
    fixture_t f;
    rill_hub_config_t hc = {
        .name = "blocks", .policy = RILL_HUB_BLOCK, .budget = BUDGET};
    start(&f, &hc);
    peer_t slow;
    open_peer(&slow, f.port, "/hub", false, NULL, 2048, true);
    wait_clients(f.hub, 1);
    long i = 1;
    rill_sse_event_t ev = {0};
    int rc = 0;
    while (rc == 0) {
        char id[24], data[1024];
        int idn = snprintf(id, sizeof id, "%ld", i);
        int dn = snprintf(data, sizeof data, "ev %ld ", i);
        memset(data + dn, 'x', sizeof data - (size_t)dn);
        assert_status(rill_bytes_new(&ev.id, id, (size_t)idn), 0);
        assert_status(rill_bytes_new(&ev.data, data, sizeof data), 0);
        rc = rill_hub_try_publish(f.hub, &ev);
        rill_sse_event_destroy(&ev);
        if (rc == 0)
            i++;
        /* Let the client's task write what it can. */
        assert_status(rill_yield(), 0);
        assert_true(i < 100000);
    }
    assert_status(rc, RILL_EFULL);
    long last = i - 1;
    rill_hub_client_stats_t cs[1];
    size_t n;
    assert_status(rill_hub_clients(f.hub, cs, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_true(cs[0].bytes_queued_max <= BUDGET);
    assert_true(cs[0].bytes_queued + 1100 > BUDGET);
    assert_int_equal(cs[0].dropped, 0);
    /* The publisher waits, then proceeds once the client reads. */
    rill_task_t *rt;
    assert_status(rill_spawn(&rt, reader, &slow, NULL), 0);
    for (int k = 0; k < 50; k++)
        publish_no(f.hub, ++last, 1024, 0);
    assert_true(stats(f.hub).publish_waits > 0);
    rill_hub_close(f.hub);
    assert_status(rill_join(rt, NULL), 0);
    assert_int_equal(slow.bad, 0);
    assert_int_equal(slow.received, last);
    assert_int_equal(slow.gaps, 0);
    close_peer(&slow);
    wait_clients(f.hub, 0);
    stop(&f);
    return NULL;
}

static void test_slow_block(void **state)
{
    (void)state;
    run(slow_block, 1);
}

/* ---- bad input ---- */

static void *bad_input(void *arg)
{
    (void)arg;
    /* Arguments. */
    rill_hub_t *h;
    assert_status(rill_hub_new(NULL, NULL), RILL_EINVAL);
    assert_status(rill_hub_new(&h, &(rill_hub_config_t){.policy = 9}),
                  RILL_EINVAL);
    assert_null(h);
    rill_sse_event_t ev = {0};
    assert_status(rill_hub_publish(NULL, &ev), RILL_EINVAL);
    rill_hub_stats_t st;
    assert_status(rill_hub_stats(NULL, &st), RILL_EINVAL);
    assert_status(rill_hub_serve(NULL, NULL, NULL, NULL), RILL_EINVAL);
    assert_status(rill_hub_attach(NULL, NULL, NULL, NULL), RILL_EINVAL);
    rill_hub_free(NULL);
    rill_hub_close(NULL);
    assert_string_equal(rill_hub_policy_name(RILL_HUB_DISCONNECT),
                        "DISCONNECT");

    fixture_t f;
    rill_hub_config_t hc = {.name = "bad \"one\"", .budget = 8192};
    start(&f, &hc);
    assert_status(rill_hub_publish(f.hub, NULL), RILL_EINVAL);
    /* TEXT messages must be UTF-8; the event is refused whole. */
    assert_status(rill_bytes_new(&ev.data, "\xff\xfe", 2), 0);
    assert_status(rill_hub_publish(f.hub, &ev), RILL_EINVAL);
    rill_sse_event_destroy(&ev);
    /* An id with a newline is refused by the SSE encoder. */
    assert_status(rill_bytes_new(&ev.id, "a\nb", 3), 0);
    assert_status(rill_hub_publish(f.hub, &ev), RILL_EINVAL);
    rill_sse_event_destroy(&ev);
    assert_int_equal(stats(f.hub).published, 0);

    /* A WebSocket client that sends a frame before the 101: 1002. */
    peer_t early;
    memset(&early, 0, sizeof early);
    early.ws = true;
    early.io = dial(f.port, 0);
    static const char req[] =
        "GET /hub HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        "\x81\x80\x00\x00\x00\x00";
    assert_status(rill_io_write_all(early.io, req, sizeof req - 1, NULL), 0);
    char head[512];
    size_t n, len = 0;
    head[0] = '\0';
    while (!strstr(head, "\r\n\r\n")) {
        assert_status(rill_io_read(early.io, head + len, 1, &n), 0);
        head[++len] = '\0';
    }
    pump(&early, 0);
    assert_int_equal(early.close_code, 1002);
    close_peer(&early);
    /* A handshake with another version: 426, no client. */
    peer_t v8;
    memset(&v8, 0, sizeof v8);
    v8.io = dial(f.port, 0);
    static const char req8[] =
        "GET /hub HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    assert_status(rill_io_write_all(v8.io, req8, sizeof req8 - 1, NULL), 0);
    assert_status(rill_io_read(v8.io, head, sizeof head - 1, &n), 0);
    assert_true(n > 12 && memcmp(head, "HTTP/1.1 426", 12) == 0);
    close_peer(&v8);
    /* A masked ping is answered with a pong; a bad frame (RSV set) gets
     * 1002. */
    peer_t ws;
    open_peer(&ws, f.port, "/hub", true, NULL, 0, false);
    static const char ping[] = "\x89\x82\x00\x00\x00\x00hi";
    assert_status(rill_io_write_all(ws.io, ping, sizeof ping - 1, NULL), 0);
    char fr[16];
    len = 0;
    while (len < 4) {
        assert_status(rill_io_read(ws.io, fr + len, sizeof fr - len, &n), 0);
        len += n;
    }
    assert_memory_equal(fr, "\x8a\x02hi", 4);
    static const char rsv[] = "\xc1\x80\x00\x00\x00\x00";
    assert_status(rill_io_write_all(ws.io, rsv, sizeof rsv - 1, NULL), 0);
    pump(&ws, 0);
    assert_int_equal(ws.close_code, 1002);
    close_peer(&ws);
    wait_clients(f.hub, 0);

    /* A client that vanishes while the hub is writing to it. */
    peer_t gone;
    open_peer(&gone, f.port, "/events?policy=drop", false, NULL, 2048, true);
    wait_clients(f.hub, 1);
    rill_hub_client_stats_t cs;
    size_t k;
    long i = 1;
    do {
        publish_no(f.hub, i++, 1024, 0);
        assert_status(rill_yield(), 0);
        assert_status(rill_hub_clients(f.hub, &cs, 1, &k), 0);
        assert_true(i < 100000);
    } while (cs.bytes_queued == 0); /* the socket is full */
    close_peer(&gone);
    publish_no(f.hub, i++, 1024, 0);
    wait_clients(f.hub, 0);
    assert_int_equal(stats(f.hub).bytes_queued, 0);

    /* /stats: JSON with the name escaped. */
    peer_t sc;
    memset(&sc, 0, sizeof sc);
    sc.io = dial(f.port, 0);
    static const char sreq[] = "GET /stats HTTP/1.1\r\nHost: a\r\n"
                               "Connection: close\r\n\r\n";
    assert_status(rill_io_write_all(sc.io, sreq, sizeof sreq - 1, NULL), 0);
    char body[4096];
    len = 0;
    while (len < sizeof body - 1 &&
           rill_io_read(sc.io, body + len, sizeof body - 1 - len, &n) == 0)
        len += n;
    body[len] = '\0';
    assert_non_null(strstr(body, "200 OK"));
    assert_non_null(strstr(body, "application/json"));
    assert_non_null(strstr(body, "{\"name\":\"bad \\\"one\\\"\""));
    assert_non_null(strstr(body, "\"clients_total\":3"));
    assert_non_null(strstr(body, "\"client_list\":[]"));
    close_peer(&sc);

    /* The hub closed and freed while clients are connected: they end
     * (SSE: the response ends; WebSocket: 1000) and the memory goes when
     * the last one has left. */
    peer_t a, b;
    open_peer(&a, f.port, "/hub", false, NULL, 0, false);
    open_peer(&b, f.port, "/hub", true, NULL, 0, false);
    wait_clients(f.hub, 2);
    publish_no(f.hub, 1, 10, 0);
    rill_hub_t *hub = f.hub;
    rill_hub_free(hub); /* the route's ud dangles: no new requests come */
    assert_status(pump(&a, 0), RILL_DONE);
    pump(&b, 0);
    assert_int_equal(a.received, 1);
    assert_int_equal(b.received, 1);
    assert_int_equal(b.close_code, 1000);
    close_peer(&a);
    close_peer(&b);
    /* The server's shutdown waits for the handlers; then the hub is gone
     * (the leak check of test_run would see it otherwise). */
    rill_http_server_shutdown(f.srv);
    void *rc;
    assert_status(rill_join(f.runner, &rc), 0);
    rill_http_server_free(f.srv);
    return NULL;
}

static void test_bad_input(void **state)
{
    (void)state;
    run(bad_input, 1);
}

/* What on_message saw (the WebSocket client's task calls it). */
static char got_msg[32];
static uint64_t got_from;

static void on_message(void *ud, uint64_t client, const rill_ws_message_t *m)
{
    (void)ud;
    got_from = client;
    snprintf(got_msg, sizeof got_msg, "%.*s", (int)m->data.len,
             (const char *)m->data.ptr);
}

/* The server's shutdown with clients connected: SSE responses end,
 * WebSockets get 1001; publishing still works (no clients). The hub's
 * subprotocols are its own copy (a config is only read during the call);
 * a WebSocket client's messages reach on_message. */
static void *shutdown_with_clients(void *arg)
{
    (void)arg;
    fixture_t f;
    char v1[] = "v1", chat[] = "chat";
    const char *protocols[] = {v1, chat};
    rill_hub_config_t hc = {.ws_handshake = {protocols, 2},
                            .on_message = on_message};
    start(&f, &hc);
    v1[0] = chat[0] = 'x';
    protocols[0] = protocols[1] = NULL;
    peer_t a, b;
    open_peer(&a, f.port, "/hub", false, NULL, 0, false);
    open_peer(&b, f.port, "/hub", true, "Sec-WebSocket-Protocol: chat\r\n", 0,
              false);
    assert_non_null(strstr(b.head, "Sec-WebSocket-Protocol: chat\r\n"));
    /* A message from the WebSocket client reaches on_message. */
    static const char hello[] = "\x81\x85\x01\x02\x03\x04"
                                "\x69\x67\x6f\x68\x6e"; /* "hello" */
    got_msg[0] = '\0';
    assert_status(rill_io_write_all(b.io, hello, sizeof hello - 1, NULL), 0);
    for (int i = 0; !got_msg[0]; i++) {
        assert_true(i < 100000);
        assert_status(rill_sleep(RILL_MS(1)), 0);
    }
    assert_string_equal(got_msg, "hello");
    rill_hub_client_stats_t cs[2];
    size_t n;
    assert_status(rill_hub_clients(f.hub, cs, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(got_from, cs[1].id);
    assert_int_equal(cs[1].protocol, RILL_HUB_WS);
    wait_clients(f.hub, 2);
    rill_http_server_shutdown(f.srv);
    assert_status(pump(&a, 0), RILL_DONE);
    pump(&b, 0);
    assert_int_equal(b.close_code, 1001);
    close_peer(&a);
    close_peer(&b);
    wait_clients(f.hub, 0);
    publish_no(f.hub, 1, 10, 0);
    stop(&f);
    return NULL;
}

static void test_shutdown_with_clients(void **state)
{
    (void)state;
    run(shutdown_with_clients, 1);
}

/* Keep-alives on the virtual clock: an SSE comment after 30 s of
 * silence; a WebSocket ping after 30 s, and a client that never answers
 * it is closed 10 s later. */
static void *keepalives(void *arg)
{
    (void)arg;
    fixture_t f;
    rill_hub_config_t hc = {.keepalive = RILL_SEC(30),
                            .pong_timeout = RILL_SEC(10)};
    start(&f, &hc);
    peer_t a, b;
    open_peer(&a, f.port, "/hub", false, NULL, 0, false);
    rill_instant_t t0 = rill_now();
    char buf[8];
    size_t n;
    assert_status(rill_io_read(a.io, buf, sizeof buf, &n), 0);
    rill_duration_t took = rill_now() - t0;
    assert_int_equal(n, 2);
    assert_memory_equal(buf, ":\n", 2);
    assert_true(took >= RILL_SEC(30) && took < RILL_SEC(30) + RILL_MS(10));
    close_peer(&a);
    open_peer(&b, f.port, "/hub", true, NULL, 0, false);
    t0 = rill_now();
    assert_status(pump(&b, 0), RILL_DONE); /* a ping, then the end */
    took = rill_now() - t0;
    assert_int_equal(b.bad, 0);
    assert_true(took >= RILL_SEC(40) && took < RILL_SEC(40) + RILL_MS(10));
    close_peer(&b);
    wait_clients(f.hub, 0);
    stop(&f);
    return NULL;
}

static void test_keepalives(void **state)
{
    (void)state;
    run(keepalives, 1);
}

/* rill_hub_forward: a stream of events into the hub, then its end closes
 * the hub. */
static void *forward(void *arg)
{
    (void)arg;
    fixture_t f;
    start(&f, NULL);
    peer_t a;
    open_peer(&a, f.port, "/hub", true, NULL, 0, false);
    wait_clients(f.hub, 1);
    rill_sse_event_t evs[3];
    memset(evs, 0, sizeof evs);
    for (int i = 0; i < 3; i++) {
        char d[16];
        int n = snprintf(d, sizeof d, "ev %d", i + 1);
        assert_status(rill_bytes_new(&evs[i].data, d, (size_t)n), 0);
    }
    rill_stream_t *s;
    assert_status(rill_stream_iter(&s, evs, 3, sizeof evs[0]), 0);
    rill_stream_set_item_dtor(s, rill_sse_event_item_dtor, NULL);
    /* The stream's items are the events' bytes: consumed by forward. */
    assert_status(rill_hub_forward(f.hub, s), 0);
    pump(&a, 0);
    assert_int_equal(a.received, 3);
    assert_int_equal(a.close_code, 1000);
    close_peer(&a);
    stop(&f);
    return NULL;
}

static void test_forward(void **state)
{
    (void)state;
    run(forward, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_in_order),
        cmocka_unit_test(test_slow_drop_oldest),
        cmocka_unit_test(test_slow_disconnect),
        cmocka_unit_test(test_slow_block),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_shutdown_with_clients),
        cmocka_unit_test(test_forward),
        cmocka_unit_test(test_keepalives),
    };
    return test_run(tests, NULL, NULL);
}
