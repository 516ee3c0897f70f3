/* SPDX-License-Identifier: MIT */
/*
 * serve.c - the server that tests/web/clients.sh talks to with real
 * clients (curl, Python's websockets). Prints "port N" when it listens,
 * then serves until POST /shutdown; exits 0 when every connection ended.
 *
 *   GET  /             a static page
 *   GET  /hello        "hello\n"
 *   POST /echo         the request body back
 *   GET  /chunked      a chunked body in three pieces
 *   GET  /events       SSE from a source with a replay ring of 16 events
 *   POST /publish      publish N events (N = the body) to /events, ids
 *                      continuing from the last
 *   GET  /stream       SSE from a per-client stream of three events, then
 *                      the response ends
 *   GET  /ws           WebSocket echo (subprotocol "echo.rill" if offered)
 *   POST /shutdown     graceful shutdown
 */
#include <rill.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rill_http_server_t *srv;
static rill_sse_source_t *source;
static long published;

static int echo(void *ud, rill_http_conn_t *c, const rill_http_request_t *req)
{
    (void)ud;
    return rill_http_respond(c, 200, "application/octet-stream", req->body.ptr,
                             req->body.len);
}

static int chunked(void *ud, rill_http_conn_t *c,
                   const rill_http_request_t *req)
{
    (void)ud, (void)req;
    int rc = rill_http_respond_chunked(c, 200, "text/plain");
    const char *parts[] = {"one ", "two ", "three\n"};
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = rill_http_write_chunk(c, parts[i], strlen(parts[i]));
    return rc ? rc : rill_http_write_chunk(c, NULL, 0);
}

static int events(void *ud, rill_http_conn_t *c, const rill_http_request_t *req)
{
    (void)ud;
    rill_sse_config_t cfg = {.keepalive = RILL_SEC(1)};
    /* The connection closes after the event stream, however it ended. */
    int rc = rill_sse_serve_source(c, req, source, &cfg);
    return rc != 0 ? rc : -1;
}

static int publish(void *ud, rill_http_conn_t *c,
                   const rill_http_request_t *req)
{
    (void)ud;
    char num[32] = {0};
    memcpy(num, req->body.ptr, req->body.len < 31 ? req->body.len : 31);
    long n = atol(num);
    for (long i = 0; i < n; i++) {
        char id[32], data[64];
        published++;
        snprintf(id, sizeof id, "%ld", published);
        snprintf(data, sizeof data, "event %ld\nsecond line", published);
        rill_sse_event_t ev = {0};
        int rc = rill_bytes_new(&ev.id, id, strlen(id));
        if (rc == 0)
            rc = rill_bytes_new(&ev.data, data, strlen(data));
        if (rc == 0)
            rc = rill_sse_source_publish(source, &ev);
        rill_sse_event_destroy(&ev);
        if (rc != 0)
            return rill_http_respond(c, 500, "text/plain", "publish\n", 8);
    }
    return rill_http_respond(c, 200, "text/plain", "ok\n", 3);
}

static int stream(void *ud, rill_http_conn_t *c, const rill_http_request_t *req)
{
    (void)ud;
    rill_sse_event_t evs[3];
    memset(evs, 0, sizeof evs);
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        char d[24];
        snprintf(d, sizeof d, "item %d", i);
        rc = rill_bytes_new(&evs[i].data, d, strlen(d));
    }
    if (rc == 0)
        rc = rill_bytes_new(&evs[2].event, "last", 4);
    rill_stream_t *s;
    if (rc == 0)
        rc = rill_stream_iter(&s, evs, 3, sizeof evs[0]);
    if (rc != 0) {
        for (int i = 0; i < 3; i++)
            rill_sse_event_destroy(&evs[i]);
        return rill_http_respond(c, 500, "text/plain", "stream\n", 7);
    }
    rill_stream_set_item_dtor(s, rill_sse_event_item_dtor, NULL);
    /* The connection closes after the event stream, however it ended. */
    rc = rill_sse_serve(c, req, s, NULL);
    return rc != 0 ? rc : -1;
}

static int ws_echo(void *ud, rill_http_conn_t *c,
                   const rill_http_request_t *req)
{
    (void)ud;
    static const char *protos[] = {"echo.rill"};
    rill_ws_config_t cfg = {.handshake = {protos, 1}};
    rill_ws_conn_t *ws;
    if (rill_ws_accept(&ws, c, req, &cfg) != 0)
        return -1;
    rill_ws_message_t m;
    int rc;
    while ((rc = rill_ws_recv(ws, &m)) == 0) {
        if (m.data.len == 5 && !memcmp(m.data.ptr, "close", 5))
            rill_ws_close(ws, 4000, "asked to");
        else if (rill_ws_send(ws, m.opcode, m.data.ptr, m.data.len) != 0)
            fprintf(stderr, "ws: echo not sent (the next recv says why)\n");
        rill_bytes_release(&m.data);
    }
    fprintf(stderr, "ws: ended %s, peer code %u\n", rill_err_name(rc),
            rill_ws_close_code(ws));
    rill_ws_conn_free(ws);
    return -1;
}

static int shutdown_route(void *ud, rill_http_conn_t *c,
                          const rill_http_request_t *req)
{
    (void)ud, (void)req;
    int rc = rill_http_respond(c, 200, "text/plain", "bye\n", 4);
    rill_sse_source_close(source);
    rill_http_server_shutdown(srv);
    return rc;
}

static void *main_task(void *arg)
{
    (void)arg;
    static const char page[] = "<!doctype html><title>rill</title><p>hi</p>\n";
    if (rill_http_server_new(&srv, "127.0.0.1:0", NULL) != 0 ||
        rill_sse_source_new(&source, 16) != 0)
        return (void *)1;
    if (rill_http_route_static(srv, "/", "text/html", page, sizeof page - 1) ||
        rill_http_route_static(srv, "/hello", "text/plain", "hello\n", 6) ||
        rill_http_route(srv, RILL_HTTP_POST, "/echo", echo, NULL) ||
        rill_http_route(srv, RILL_HTTP_GET, "/chunked", chunked, NULL) ||
        rill_http_route(srv, RILL_HTTP_GET, "/events", events, NULL) ||
        rill_http_route(srv, RILL_HTTP_POST, "/publish", publish, NULL) ||
        rill_http_route(srv, RILL_HTTP_GET, "/stream", stream, NULL) ||
        rill_http_route(srv, RILL_HTTP_GET, "/ws", ws_echo, NULL) ||
        rill_http_route(srv, RILL_HTTP_POST, "/shutdown", shutdown_route,
                        NULL)) {
        rill_http_server_free(srv);
        rill_sse_source_release(source);
        return (void *)1;
    }
    printf("port %d\n", rill_http_server_port(srv));
    fflush(stdout);
    int rc = rill_http_server_run(srv);
    rill_http_server_free(srv);
    rill_sse_source_release(source);
    fprintf(stderr, "server: run returned %s\n", rill_err_name(rc));
    return rc ? (void *)1 : NULL;
}

int main(void)
{
    rill_runtime_t *rt;
    if (rill_runtime_new(&rt, NULL) != 0)
        return 1;
    void *res = NULL;
    int rc = rill_block_on(rt, main_task, NULL, &res);
    rill_runtime_free(rt);
    return rc || res ? 1 : 0;
}
