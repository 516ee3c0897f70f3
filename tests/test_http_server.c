/* SPDX-License-Identifier: MIT */
/*
 * test_http_server.c - the server's timers on the virtual clock, with
 * real sockets on loopback: the header timeout against a client that
 * drips a head (slowloris, 408), the idle timeout of a connection that
 * sends nothing and of a kept-alive one, SSE keep-alive comments, the
 * WebSocket ping / pong timeout and the closing handshake's timeout, 200
 * connections that never finish a request, and shutdown with all of them
 * open. Each test measures the virtual time its timer took, exactly.
 * (tests/web/clients.sh drives the same server with curl and Python.)
 */
#include "test_util.h"

#include <rill.h>
#include <stdio.h>
#include <string.h>

typedef struct fixture {
    rill_http_server_t *srv;
    rill_task_t *runner;
    char addr[32];
} fixture_t;

static void *run_server(void *arg)
{
    fixture_t *f = arg;
    intptr_t rc = rill_http_server_run(f->srv);
    return (void *)rc;
}

static int hello(void *ud, rill_http_conn_t *c, const rill_http_request_t *req)
{
    (void)ud, (void)req;
    return rill_http_respond(c, 200, "text/plain", "hi\n", 3);
}

static int events(void *ud, rill_http_conn_t *c, const rill_http_request_t *req)
{
    rill_sse_config_t cfg = {.keepalive = RILL_SEC(15)};
    /* The connection closes after the event stream, however it ended. */
    int rc = rill_sse_serve_source(c, req, ud, &cfg);
    return rc != 0 ? rc : -1;
}

static rill_instant_t ws_ended_at;
static int ws_end_rc;

static int ws_route(void *ud, rill_http_conn_t *c,
                    const rill_http_request_t *req)
{
    bool close_first = ud != NULL;
    rill_ws_config_t cfg = {.ping_interval = RILL_SEC(30),
                            .pong_timeout = RILL_SEC(10),
                            .close_timeout = RILL_SEC(5)};
    rill_ws_conn_t *ws;
    if (rill_ws_accept(&ws, c, req, &cfg) != 0)
        return -1;
    if (close_first)
        rill_ws_close(ws, 1000, "done");
    rill_ws_message_t m;
    int rc;
    while ((rc = rill_ws_recv(ws, &m)) == 0)
        rill_bytes_release(&m.data);
    ws_end_rc = rc;
    ws_ended_at = rill_now();
    rill_ws_conn_free(ws);
    return -1;
}

/* Fill the queue of a client that never reads (try_send until full: a
 * DROP policy's view), close, free: bounded by the close timeout twice
 * (the reply that never comes, then the writer stuck in its write). */
static int ws_flood(void *ud, rill_http_conn_t *c,
                    const rill_http_request_t *req)
{
    (void)ud;
    rill_ws_config_t cfg = {.close_timeout = RILL_SEC(5), .queue = 64};
    rill_ws_conn_t *ws;
    if (rill_ws_accept(&ws, c, req, &cfg) != 0)
        return -1;
    static char payload[65536];
    rill_bytes_t frame;
    assert_status(
        rill_ws_encode(&frame, RILL_WS_BINARY, payload, sizeof payload), 0);
    rill_sender_t *tx;
    assert_status(rill_ws_outgoing(ws, &tx), 0);
    int sent = 0;
    for (;;) {
        rill_bytes_t f = rill_bytes_clone(&frame);
        if (rill_try_send(tx, &f) != 0) {
            rill_bytes_release(&f);
            break;
        }
        sent++;
    }
    rill_sender_release(tx);
    rill_bytes_release(&frame);
    assert_true(sent >= 64);
    rill_ws_close(ws, 1013, "slow");
    rill_ws_message_t m;
    ws_end_rc = rill_ws_recv(ws, &m);
    rill_ws_conn_free(ws);
    ws_ended_at = rill_now();
    return -1;
}

static rill_sse_source_t *source;

static void start(fixture_t *f)
{
    rill_http_server_config_t cfg = {.header_timeout = RILL_SEC(5),
                                     .idle_timeout = RILL_SEC(20)};
    assert_status(rill_http_server_new(&f->srv, "127.0.0.1:0", &cfg), 0);
    assert_status(rill_sse_source_new(&source, 8), 0);
    assert_status(rill_http_route(f->srv, RILL_HTTP_GET, "/hello", hello, NULL),
                  0);
    assert_status(
        rill_http_route(f->srv, RILL_HTTP_GET, "/events", events, source), 0);
    assert_status(rill_http_route(f->srv, RILL_HTTP_GET, "/ws", ws_route, NULL),
                  0);
    assert_status(rill_http_route(f->srv, RILL_HTTP_GET, "/ws-close", ws_route,
                                  (void *)1),
                  0);
    assert_status(
        rill_http_route(f->srv, RILL_HTTP_GET, "/ws-flood", ws_flood, NULL), 0);
    snprintf(f->addr, sizeof f->addr, "127.0.0.1:%d",
             rill_http_server_port(f->srv));
    assert_status(rill_spawn(&f->runner, run_server, f, NULL), 0);
}

static void stop(fixture_t *f)
{
    rill_http_server_shutdown(f->srv);
    void *rc;
    assert_status(rill_join(f->runner, &rc), 0);
    assert_null(rc);
    rill_http_server_free(f->srv);
    rill_sse_source_release(source);
}

/* Read until end of file (or max bytes); returns the bytes read. */
static size_t read_all(rill_io_t *io, char *buf, size_t max)
{
    size_t len = 0, n;
    while (len < max && rill_io_read(io, buf + len, max - len, &n) == 0)
        len += n;
    return len;
}

static rill_io_t *dial(const fixture_t *f)
{
    rill_io_t *io;
    assert_status(rill_connect(&io, f->addr, NULL), 0);
    return io;
}

static void *slowloris(void *arg)
{
    fixture_t f;
    start(&f);
    rill_io_t *io = dial(&f);
    rill_instant_t t0 = rill_now();
    assert_status(rill_io_write_all(io, "GET /hello HTTP/1.1\r\nHo", 23, NULL),
                  0);
    char buf[512];
    size_t n = read_all(io, buf, sizeof buf);
    rill_duration_t took = rill_now() - t0;
    assert_true(n > 12 && memcmp(buf, "HTTP/1.1 408", 12) == 0);
    assert_true(took >= RILL_SEC(5) && took < RILL_SEC(5) + RILL_MS(10));
    rill_io_free(io);
    /* Idle: a connection that sends nothing is closed after 20 s; one
     * that made a request too, 20 s after its response. */
    io = dial(&f);
    t0 = rill_now();
    assert_int_equal(read_all(io, buf, sizeof buf), 0);
    took = rill_now() - t0;
    assert_true(took >= RILL_SEC(20) && took < RILL_SEC(20) + RILL_MS(10));
    rill_io_free(io);
    io = dial(&f);
    assert_status(rill_io_write_all(
                      io, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", 32, NULL),
                  0);
    t0 = rill_now();
    n = read_all(io, buf, sizeof buf);
    took = rill_now() - t0;
    assert_true(n > 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0);
    assert_true(took >= RILL_SEC(20) && took < RILL_SEC(20) + RILL_MS(10));
    rill_io_free(io);
    stop(&f);
    return NULL;
}

static void *sse_keepalive(void *arg)
{
    fixture_t f;
    start(&f);
    rill_io_t *io = dial(&f);
    assert_status(rill_io_write_all(
                      io, "GET /events HTTP/1.1\r\nHost: a\r\n\r\n", 33, NULL),
                  0);
    char buf[512] = "";
    size_t n, len = 0;
    while (!strstr(buf, "\r\n\r\n")) {
        assert_status(rill_io_read(io, buf + len, sizeof buf - 1 - len, &n), 0);
        len += n;
        buf[len] = '\0';
    }
    assert_non_null(strstr(buf, "Content-Type: text/event-stream"));
    rill_instant_t t0 = rill_now();
    assert_status(rill_io_read(io, buf, sizeof buf, &n), 0);
    rill_duration_t took = rill_now() - t0;
    if (n != 2)
        fprintf(stderr, "keep-alive read %zu bytes: %.*s\n", n, (int)n, buf);
    assert_int_equal(n, 2);
    assert_memory_equal(buf, ":\n", 2);
    assert_true(took >= RILL_SEC(15) && took < RILL_SEC(15) + RILL_MS(10));
    /* A published event arrives; the shutdown ends the response. */
    rill_sse_event_t ev = {0};
    assert_status(rill_bytes_new(&ev.data, "x", 1), 0);
    assert_status(rill_sse_source_publish(source, &ev), 0);
    rill_sse_event_destroy(&ev);
    assert_status(rill_io_read(io, buf, sizeof buf, &n), 0);
    assert_int_equal(n, 9);
    assert_memory_equal(buf, "data: x\n\n", 9);
    rill_http_server_shutdown(f.srv);
    assert_int_equal(read_all(io, buf, sizeof buf), 0); /* ended */
    rill_io_free(io);
    stop(&f);
    return NULL;
}

static void ws_handshake(rill_io_t *io, const char *path)
{
    char req[256], buf[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                     path);
    assert_status(rill_io_write_all(io, req, (size_t)n, NULL), 0);
    size_t len = 0, got;
    buf[0] = '\0';
    while (!strstr(buf, "\r\n\r\n")) {
        assert_status(rill_io_read(io, buf + len, 1, &got), 0);
        len += got;
        buf[len] = '\0';
    }
    assert_non_null(strstr(buf, "101 Switching Protocols"));
    assert_non_null(strstr(buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
}

static void *ws_timeouts(void *arg)
{
    fixture_t f;
    start(&f);
    /* A client that never answers pings: a ping at 30 s, closed at 40 s. */
    rill_io_t *io = dial(&f);
    ws_handshake(io, "/ws");
    rill_instant_t t0 = rill_now();
    char buf[64];
    size_t n = read_all(io, buf, sizeof buf);
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "\x89\x00", 2);
    rill_duration_t took = rill_now() - t0;
    assert_true(took >= RILL_SEC(40) && took < RILL_SEC(40) + RILL_MS(10));
    rill_io_free(io);
    while (!ws_ended_at)
        rill_yield();
    assert_status(ws_end_rc, RILL_ETIMEDOUT);
    /* The server closes; the client never replies: 5 s later it ends. */
    ws_ended_at = 0;
    io = dial(&f);
    ws_handshake(io, "/ws-close");
    t0 = rill_now();
    size_t got = 0;
    while (got < 8 && rill_io_read(io, buf + got, sizeof buf - got, &n) == 0)
        got += n;
    assert_memory_equal(buf,
                        "\x88\x06\x03\xe8"
                        "done",
                        8);
    while (!ws_ended_at)
        assert_status(rill_sleep(RILL_MS(100)), 0);
    assert_status(ws_end_rc, RILL_ETIMEDOUT);
    took = ws_ended_at - t0;
    assert_true(took >= RILL_SEC(5) && took < RILL_SEC(5) + RILL_MS(10));
    rill_io_free(io);
    /* A client that never reads while the server floods it. */
    ws_ended_at = 0;
    io = dial(&f);
    ws_handshake(io, "/ws-flood");
    t0 = rill_now();
    while (!ws_ended_at)
        assert_status(rill_sleep(RILL_MS(100)), 0);
    took = ws_ended_at - t0;
    assert_status(ws_end_rc, RILL_ETIMEDOUT);
    assert_true(took >= RILL_SEC(10) && took < RILL_SEC(10) + RILL_MS(200));
    rill_io_free(io);
    stop(&f);
    return NULL;
}

/* 200 connections that never finish a head (or never start one), then a
 * shutdown with all of them open: all closed, nothing left behind. */
static void *many_unfinished_once(void *arg)
{
    enum { N = 200 };
    fixture_t f;
    start(&f);
    static rill_io_t *io[N];
    for (int i = 0; i < N; i++) {
        io[i] = dial(&f);
        if (i % 2)
            assert_status(rill_io_write_all(io[i], "GET / HT", 8, NULL), 0);
    }
    rill_http_server_shutdown(f.srv);
    char buf[256];
    for (int i = 0; i < N; i++) {
        size_t n = read_all(io[i], buf, sizeof buf);
        /* Idle ones are closed; the half-sent ones too (maybe with 408 if
         * their head timed out first, never anything else). */
        assert_true(n == 0 || memcmp(buf, "HTTP/1.1 408", 12) == 0);
        rill_io_free(io[i]);
    }
    stop(&f);
    return NULL;
}

/* Twice: the reactor keeps its table of registrations (grown by the first
 * round); the second round must leave exactly what it found. */
static void *many_unfinished(void *arg)
{
    many_unfinished_once(arg);
    long before = test_alloc_count();
    many_unfinished_once(arg);
    assert_int_equal(test_alloc_count(), before);
    return NULL;
}

static void run(rill_task_fn fn)
{
    rill_runtime_t *rt = test_new_rt(1, true);
    void *res = (void *)1;
    assert_status(rill_block_on(rt, fn, NULL, &res), 0);
    rill_runtime_free(rt);
}

static void test_slowloris_and_idle(void **state)
{
    (void)state;
    run(slowloris);
}

static void test_sse_keepalive(void **state)
{
    (void)state;
    run(sse_keepalive);
}

static void test_ws_timeouts(void **state)
{
    (void)state;
    run(ws_timeouts);
}

static void test_many_unfinished(void **state)
{
    (void)state;
    run(many_unfinished);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slowloris_and_idle),
        cmocka_unit_test(test_sse_keepalive),
        cmocka_unit_test(test_ws_timeouts),
        cmocka_unit_test(test_many_unfinished),
    };
    return test_run(tests, NULL, NULL);
}
