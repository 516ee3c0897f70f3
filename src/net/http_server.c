/* SPDX-License-Identifier: MIT */
/*
 * http_server.c - the HTTP/1.1 server: an accept loop, one stackful task
 * per connection, routing, responses, timeouts and graceful shutdown.
 *
 * A connection's task owns its socket and its read buffer. It loops:
 * read until rill_http_parse_request finds a head (waiting at most
 * idle_timeout for a first byte, then header_timeout from that byte for
 * the rest: a client that drips a head is closed with 408), read the
 * body, route, call the handler, drop what it consumed (the next
 * pipelined request may already be in the buffer) and go on while the
 * connection is kept alive.
 *
 * Shutdown (srv->lock guards stopping, the list of connections and each
 * connection's idle flag and stop sender):
 *   - the listener is closed, so the accept loop ends;
 *   - a connection waiting for a request (idle) has its socket closed: its
 *     read returns and the task ends;
 *   - a connection in a handler finishes it; a handler serving a long
 *     stream (SSE, WebSocket) polls its stop signal (a oneshot made on
 *     demand, sent here) and ends;
 *   - a connection that was about to wait sees `stopping` under the lock
 *     instead, and ends;
 *   - the last connection to end after the shutdown wakes run (a oneshot),
 *     which then returns.
 */
#include "core/core.h"
#include "net/net_int.h"
#include "rill/http.h"
#include "rill/io.h"
#include "rill/oneshot.h"
#include "rill/rt.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum {
    DEFAULT_MAX_HEADERS = 64,
    READ_CHUNK = 4096,
};
#define DEFAULT_HEADER_TIMEOUT RILL_SEC(10)
#define DEFAULT_IDLE_TIMEOUT RILL_SEC(60)

typedef struct route {
    rill_http_method_t method;
    char *path;
    rill_http_handler_fn fn;
    void *ud;
    /* static routes */
    char *content_type;
    void *body;
    size_t body_len;
} route_t;

struct rill_http_server {
    rill_runtime_t *rt;
    rill_listener_t *listener;
    rill_http_server_config_t cfg; /* defaults filled in */
    route_t *routes;               /* fixed once run starts */
    size_t nroutes;
    bool running;

    pthread_mutex_t lock;
    bool stopping;                     /* under lock */
    rill__list_t conns;                /* under lock */
    size_t nconns;                     /* under lock */
    rill_oneshot_sender_t *drained_tx; /* under lock: run waits on it */
};

struct rill_http_conn {
    rill_http_server_t *srv;
    rill_io_t *io;
    char *buf;
    size_t len, cap;
    size_t consumed;                /* bytes of buf the current request used */
    rill__list_t link;              /* in srv->conns, under srv->lock */
    bool idle;                      /* under srv->lock: waiting for a request */
    rill_oneshot_sender_t *stop_tx; /* under srv->lock */
    rill_oneshot_receiver_t *stop_rx; /* the connection's task only */
    /* the current request (the connection's task only) */
    bool responded, chunked, chunk_done, head_only, close_after, taken;
    bool linger; /* refused: read what the client still sends, then close */
    int version;
    rill_future_t *handoff; /* the connection's owner once the handler
                               returned (rill__http_conn_handoff) */
};

/* ---- the server object ---- */

int rill_http_server_new(rill_http_server_t **out, const char *addr,
                         const rill_http_server_config_t *cfg)
{
    if (!out || !addr)
        return RILL_MISUSE("rill_http_server_new", "NULL server or address");
    *out = NULL;
    rill_http_server_t *s = rill__calloc(1, sizeof *s);
    if (!s)
        return RILL_ENOMEM;
    if (cfg)
        s->cfg = *cfg;
    s->rt = s->cfg.runtime ? s->cfg.runtime : rill_runtime_current();
    if (!s->rt) {
        rill__free(s);
        return RILL_MISUSE("rill_http_server_new",
                           "no runtime: call from a task or set cfg->runtime");
    }
    if (!s->cfg.max_headers)
        s->cfg.max_headers = DEFAULT_MAX_HEADERS;
    if (!s->cfg.header_timeout)
        s->cfg.header_timeout = DEFAULT_HEADER_TIMEOUT;
    if (!s->cfg.idle_timeout)
        s->cfg.idle_timeout = DEFAULT_IDLE_TIMEOUT;
    if (!s->cfg.limits.max_request_line)
        s->cfg.limits.max_request_line = 8192;
    if (!s->cfg.limits.max_header_bytes)
        s->cfg.limits.max_header_bytes = 16384;
    if (!s->cfg.limits.max_body)
        s->cfg.limits.max_body = 1 << 20;
    rill_io_config_t io_cfg = {.runtime = s->rt};
    int rc = rill_listen(&s->listener, addr, &io_cfg);
    if (rc != 0) {
        rill__free(s);
        return rc;
    }
    pthread_mutex_init(&s->lock, NULL);
    rill__list_init(&s->conns);
    *out = s;
    return 0;
}

int rill_http_server_port(const rill_http_server_t *s)
{
    return s ? rill_listener_port(s->listener) : 0;
}

static int add_route(rill_http_server_t *s, const char *api,
                     rill_http_method_t method, const char *path,
                     rill_http_handler_fn fn, void *ud, route_t **made)
{
    if (!s || !path || path[0] != '/' || s->running)
        return RILL_MISUSE(api, "NULL server, a path not starting with '/', "
                                "or the server already runs");
    for (size_t i = 0; i < s->nroutes; i++)
        if (s->routes[i].method == method && !strcmp(s->routes[i].path, path))
            return RILL_MISUSE(api, "route %s %s already there",
                               rill_http_method_name(method), path);
    route_t *r = rill__realloc(s->routes, (s->nroutes + 1) * sizeof *r);
    if (!r)
        return RILL_ENOMEM;
    s->routes = r;
    r = &s->routes[s->nroutes];
    memset(r, 0, sizeof *r);
    if (!(r->path = rill__strdup(path)))
        return RILL_ENOMEM;
    r->method = method;
    r->fn = fn;
    r->ud = ud;
    s->nroutes++;
    *made = r;
    return 0;
}

int rill_http_route(rill_http_server_t *s, rill_http_method_t method,
                    const char *path, rill_http_handler_fn fn, void *ud)
{
    if (!fn)
        return RILL_MISUSE("rill_http_route", "NULL handler");
    route_t *r;
    return add_route(s, "rill_http_route", method, path, fn, ud, &r);
}

static int static_handler(void *ud, rill_http_conn_t *c,
                          const rill_http_request_t *req)
{
    RILL_UNUSED(req);
    const route_t *r = ud;
    return rill_http_respond(c, 200, r->content_type, r->body, r->body_len);
}

int rill_http_route_static(rill_http_server_t *s, const char *path,
                           const char *content_type, const void *body,
                           size_t len)
{
    if (!content_type || (!body && len))
        return RILL_MISUSE("rill_http_route_static", "NULL type or body");
    void *copy = rill__malloc(len ? len : 1);
    char *type = rill__strdup(content_type);
    route_t *r = NULL;
    int rc = copy && type
                 ? add_route(s, "rill_http_route_static", RILL_HTTP_GET, path,
                             static_handler, NULL, &r)
                 : RILL_ENOMEM;
    if (rc != 0) {
        rill__free(copy);
        rill__free(type);
        return rc;
    }
    if (len)
        memcpy(copy, body, len);
    r->body = copy;
    r->body_len = len;
    r->content_type = type;
    r->ud = r; /* fixed up in run: routes may still move */
    return 0;
}

void rill_http_server_free(rill_http_server_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nroutes; i++) {
        rill__free(s->routes[i].path);
        rill__free(s->routes[i].content_type);
        rill__free(s->routes[i].body);
    }
    rill__free(s->routes);
    rill_listener_free(s->listener);
    pthread_mutex_destroy(&s->lock);
    rill__free(s);
}

void rill_http_server_shutdown(rill_http_server_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    s->stopping = true;
    for (rill__list_t *n = s->conns.next; n != &s->conns; n = n->next) {
        rill_http_conn_t *c = RILL_CONTAINER_OF(n, rill_http_conn_t, link);
        if (c->idle)
            rill_io_close(c->io);
        if (c->stop_tx) {
            char one = 1;
            /* RILL_ECLOSED: the connection ended meanwhile, it has
             * nothing left to stop. */
            RILL__DISCARD(rill_oneshot_send(c->stop_tx, &one));
        }
    }
    pthread_mutex_unlock(&s->lock);
    rill_listener_close(s->listener);
}

/* ---- what sse.c and ws_conn.c use ---- */

int rill__http_conn_poll_stop(rill_http_conn_t *c, rill_cx_t *cx)
{
    rill_http_server_t *s = c->srv;
    if (!c->stop_rx) {
        pthread_mutex_lock(&s->lock);
        bool stopping = s->stopping;
        int rc =
            stopping ? 0 : rill_oneshot_new(&c->stop_tx, &c->stop_rx, 1, NULL);
        pthread_mutex_unlock(&s->lock);
        if (stopping)
            return 0;
        if (rc != 0)
            return rc;
    }
    char one;
    int rc = rill_oneshot_poll_recv(c->stop_rx, cx, &one, 1);
    return rc == RILL_PENDING ? RILL_PENDING : 0;
}

bool rill_http_conn_stopping(const rill_http_conn_t *c)
{
    if (!c)
        return false;
    pthread_mutex_lock(&c->srv->lock);
    bool stopping = c->srv->stopping;
    pthread_mutex_unlock(&c->srv->lock);
    return stopping;
}

rill_io_t *rill_http_conn_io(rill_http_conn_t *c)
{
    return c ? c->io : NULL;
}

void rill__http_conn_take(rill_http_conn_t *c, const char **rest, size_t *n)
{
    c->taken = true;
    c->close_after = true;
    c->responded = true;
    *rest = c->buf + c->consumed;
    *n = c->len - c->consumed;
    c->consumed = c->len;
}

void rill__http_conn_handoff(rill_http_conn_t *c, rill_future_t *fut)
{
    c->handoff = fut;
}

int rill__writev_all(rill_io_t *io, struct iovec *iov, int n)
{
    while (n > 0) {
        size_t w;
        int rc = rill_io_writev(io, iov, n, &w);
        if (rc != 0)
            return rc;
        while (n > 0 && w >= iov->iov_len) {
            w -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= w;
        }
    }
    return 0;
}

/* ---- responses ---- */

static bool no_body(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

/* The status line and common fields into buf. content_length < 0: none. */
static size_t head(rill_http_conn_t *c, char *buf, size_t cap, int status,
                   const char *type, const char *extra, long long length,
                   const char *framing)
{
    bool close = c->close_after || rill_http_conn_stopping(c);
    c->close_after = close;
    int n =
        snprintf(buf, cap, "HTTP/1.1 %d %s\r\n%s%s%s%s", status,
                 rill_http_status_reason(status), type ? "Content-Type: " : "",
                 type ? type : "", type ? "\r\n" : "", extra ? extra : "");
    if (length >= 0)
        n += snprintf(buf + n, cap - (size_t)n, "Content-Length: %lld\r\n",
                      length);
    n += snprintf(buf + n, cap - (size_t)n, "%sConnection: %s\r\n\r\n",
                  framing ? framing : "", close ? "close" : "keep-alive");
    return (size_t)n < cap ? (size_t)n : 0;
}

int rill_http_send_response(rill_http_conn_t *c, const rill_http_response_t *r)
{
    if (!c || !r || c->responded)
        return RILL_MISUSE("rill_http_send_response",
                           "NULL argument or a second response");
    if (r->headers && strlen(r->headers) > 1024)
        return RILL_MISUSE("rill_http_send_response", "headers over 1 KiB");
    c->responded = true;
    char h[1536];
    size_t hl = head(c, h, sizeof h, r->status, r->content_type, r->headers,
                     no_body(r->status) ? -1 : (long long)r->body_len, NULL);
    if (!hl)
        return RILL_MISUSE("rill_http_send_response", "content type too long");
    struct iovec iov[2] = {{h, hl}, {(void *)(uintptr_t)r->body, r->body_len}};
    int n = c->head_only || no_body(r->status) || !r->body_len ? 1 : 2;
    int rc = rill__writev_all(c->io, iov, n);
    if (rc != 0)
        c->close_after = true;
    return rc;
}

int rill_http_respond(rill_http_conn_t *c, int status, const char *content_type,
                      const void *body, size_t len)
{
    rill_http_response_t r = {status, content_type, NULL, body, len};
    return rill_http_send_response(c, &r);
}

int rill_http_respond_chunked(rill_http_conn_t *c, int status,
                              const char *content_type)
{
    if (!c || c->responded)
        return RILL_MISUSE("rill_http_respond_chunked",
                           "NULL connection or a second response");
    c->responded = true;
    c->chunked = true;
    if (c->version == 10)
        c->close_after = true; /* the body ends when the connection does */
    char h[512];
    size_t hl =
        head(c, h, sizeof h, status, content_type, NULL, -1,
             c->version == 10 ? NULL : "Transfer-Encoding: chunked\r\n");
    if (!hl)
        return RILL_MISUSE("rill_http_respond_chunked", "type too long");
    int rc = rill_io_write_all(c->io, h, hl, NULL);
    if (rc != 0)
        c->close_after = true;
    if (c->head_only)
        c->chunk_done = true;
    return rc;
}

int rill_http_write_chunk(rill_http_conn_t *c, const void *data, size_t len)
{
    if (!c || !c->chunked || (!data && len))
        return RILL_MISUSE("rill_http_write_chunk",
                           "no chunked response, or NULL data");
    if (c->chunk_done)
        return c->head_only ? 0
                            : RILL_MISUSE("rill_http_write_chunk",
                                          "the body already ended");
    if (len == 0)
        c->chunk_done = true;
    int rc;
    if (c->version == 10) {
        rc = len ? rill_io_write_all(c->io, data, len, NULL) : 0;
    } else {
        char size[24];
        int sl = snprintf(size, sizeof size, "%zx\r\n", len);
        struct iovec iov[3] = {
            {size, (size_t)sl}, {(void *)(uintptr_t)data, len}, {"\r\n", 2}};
        if (len == 0) /* the last chunk: "0\r\n\r\n" */
            iov[1] = (struct iovec){"", 0};
        rc = rill__writev_all(c->io, iov, 3);
    }
    if (rc != 0)
        c->close_after = true;
    return rc;
}

/* An error answer; the connection closes after it. */
static void refuse(rill_http_conn_t *c, int status, const char *extra)
{
    c->close_after = true;
    c->linger = true;
    c->responded = false;
    const char *why = rill_http_status_reason(status);
    rill_http_response_t r = {status, "text/plain", extra, why, strlen(why)};
    /* The connection closes after this reply (close_after): if it cannot
     * be sent, there is nobody left to tell. */
    RILL__DISCARD(rill_http_send_response(c, &r));
}

/* ---- the connection's task ---- */

/* Room for `more` bytes after len, up to `limit` in all. */
static bool grow(rill_http_conn_t *c, size_t limit)
{
    if (c->len < c->cap)
        return true;
    if (c->cap >= limit)
        return false;
    size_t cap = c->cap ? c->cap * 2 : READ_CHUNK;
    if (cap > limit)
        cap = limit;
    char *nb = rill__realloc(c->buf, cap);
    if (!nb)
        return false;
    c->buf = nb;
    c->cap = cap;
    return true;
}

/* Set the idle flag; false if the server is stopping (then don't wait). */
static bool set_idle(rill_http_conn_t *c, bool idle)
{
    rill_http_server_t *s = c->srv;
    pthread_mutex_lock(&s->lock);
    bool ok = !s->stopping || !idle;
    if (ok)
        c->idle = idle;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

/* Read more into the buffer until the deadline. */
static int read_more(rill_http_conn_t *c, size_t limit, rill_instant_t deadline)
{
    if (!grow(c, limit))
        return RILL_ENOMEM;
    rill_instant_t now = rill_now();
    if (now >= deadline)
        return RILL_ETIMEDOUT;
    size_t n;
    int rc = rill_io_read_timeout(c->io, c->buf + c->len, c->cap - c->len, &n,
                                  deadline - now);
    if (rc == 0)
        c->len += n;
    return rc;
}

/* Read the request's body (after the head in buf); returns 0 with
 * req->body set, or a status to refuse with (> 0), or an error. */
static int read_body(rill_http_conn_t *c, rill_http_request_t *req,
                     rill_instant_t deadline)
{
    rill_http_server_t *s = c->srv;
    size_t limit = req->head_len + s->cfg.limits.max_body + 4096;
    if (req->expect_continue && c->len == req->head_len &&
        (req->content_length || req->chunked)) {
        int rc =
            rill_io_write_all(c->io, "HTTP/1.1 100 Continue\r\n\r\n", 25, NULL);
        if (rc != 0)
            return rc;
    }
    if (!req->chunked) {
        size_t need = req->head_len + (size_t)req->content_length;
        while (c->len < need) {
            int rc = read_more(c, need, deadline);
            if (rc != 0)
                return rc;
        }
        req->body = (rill_http_str_t){c->buf + req->head_len,
                                      (size_t)req->content_length};
        c->consumed = need;
        return 0;
    }
    /* Chunked: decode in place, the data moved down to follow the head. */
    rill_http_chunked_t ch;
    rill_http_chunked_init(&ch, s->cfg.limits.max_body);
    size_t in = req->head_len, out = req->head_len;
    for (;;) {
        size_t used;
        rill_http_str_t d;
        int rc =
            rill_http_chunked_decode(&ch, c->buf + in, c->len - in, &used, &d);
        if (rc == 0) {
            memmove(c->buf + out, d.ptr, d.len);
            out += d.len;
            in += used;
            continue;
        }
        in += used;
        if (rc == RILL_DONE)
            break;
        if (rc == RILL_EPROTO)
            return ch.status;
        /* PENDING: everything consumed; read more (after out, the decoded
         * data; between out and in nothing is needed any more). */
        memmove(c->buf + out, c->buf + in, c->len - in);
        c->len -= in - out;
        in = out;
        rc = read_more(c, limit, deadline);
        if (rc != 0)
            return rc;
    }
    /* The request now occupies head + data; the rest moves down. */
    memmove(c->buf + out, c->buf + in, c->len - in);
    c->len -= in - out;
    req->body = (rill_http_str_t){c->buf + req->head_len, out - req->head_len};
    c->consumed = out;
    /* Re-parse is not needed: the head is unchanged before head_len. */
    return 0;
}

static int dispatch(rill_http_conn_t *c, rill_http_request_t *req)
{
    rill_http_server_t *s = c->srv;
    const route_t *match = NULL, *get = NULL;
    char allow[128] = "Allow: ";
    bool path_known = false;
    for (size_t i = 0; i < s->nroutes; i++) {
        const route_t *r = &s->routes[i];
        if (strlen(r->path) != req->path.len ||
            memcmp(r->path, req->path.ptr, req->path.len) != 0)
            continue;
        if (path_known)
            strcat(allow, ", ");
        path_known = true;
        strcat(allow, rill_http_method_name(r->method));
        if (r->method == RILL_HTTP_GET) {
            strcat(allow, ", HEAD");
            get = r;
        }
        if (r->method == req->method)
            match = r;
    }
    if (!match && req->method == RILL_HTTP_HEAD && get) {
        match = get;
        c->head_only = true;
    }
    if (!match) {
        strcat(allow, "\r\n");
        if (req->method == RILL_HTTP_OTHER)
            refuse(c, 501, NULL);
        else if (path_known)
            refuse(c, 405, allow);
        else
            refuse(c, 404, NULL);
        return 0;
    }
    int rc = match->fn(match->ud, c, req);
    if (!c->responded) /* a handler that forgot to answer */
        refuse(c, 500, NULL);
    else if (c->chunked && !c->chunk_done)
        c->close_after = true; /* the body never ended */
    return rc;
}

/*
 * A lingering close after an error answer: the client may still be sending
 * (the rest of an oversized head or body), and closing a socket with
 * unread input sends a reset that can destroy the answer before the
 * client reads it. So: shut down our side, then read and drop what comes
 * (at most LINGER_BYTES, for at most LINGER_TIME) until the client closes.
 */
enum { LINGER_BYTES = 1 << 18 };
#define LINGER_TIME RILL_SEC(2)

static void linger(rill_http_conn_t *c)
{
    if (rill_io_shutdown_write(c->io) != 0)
        return;
    char drop[4096];
    size_t total = 0, n;
    rill_instant_t end = rill_now() + LINGER_TIME;
    while (total < LINGER_BYTES) {
        rill_instant_t now = rill_now();
        if (now >= end ||
            rill_io_read_timeout(c->io, drop, sizeof drop, &n, end - now) != 0)
            break;
        total += n;
    }
}

/* Close and free a connection: its own task's end, or its future's (see
 * rill__http_conn_handoff). */
void rill__http_conn_end(rill_http_conn_t *c)
{
    rill_http_server_t *s = c->srv;
    if (c->linger)
        linger(c);
    rill_io_free(c->io);
    rill__free(c->buf);
    rill_oneshot_receiver_release(c->stop_rx);
    pthread_mutex_lock(&s->lock);
    rill__list_remove(&c->link);
    if (c->stop_tx)
        rill_oneshot_sender_release(c->stop_tx);
    bool last = --s->nconns == 0 && s->stopping && s->drained_tx;
    rill_oneshot_sender_t *drained = last ? s->drained_tx : NULL;
    if (last)
        s->drained_tx = NULL;
    pthread_mutex_unlock(&s->lock);
    if (drained) {
        char one = 1;
        /* RILL_ECLOSED: the shutdown stopped waiting (it was cancelled). */
        RILL__DISCARD(rill_oneshot_send(drained, &one));
        rill_oneshot_sender_release(drained);
    }
    rill__free(c);
}

/* The handler handed the connection to a future: this task ends, the
 * future runs on without a stack. What the connection held for reading
 * requests goes now. */
static void conn_handoff(rill_http_conn_t *c)
{
    rill_future_t *fut = c->handoff;
    rill__free(c->buf);
    c->buf = NULL;
    c->len = c->cap = c->consumed = 0;
    rill_spawn_config_t opts = {.runtime = c->srv->rt, .name = "http-conn"};
    if (rill_spawn_future(NULL, fut, &opts) != 0 && fut->vtable->drop)
        fut->vtable->drop(fut); /* it ends the connection */
}

static void *conn_main(void *arg)
{
    rill_http_conn_t *c = arg;
    rill_http_server_t *s = c->srv;
    size_t max_headers = s->cfg.max_headers;
    rill_http_header_t *headers = rill__malloc(max_headers * sizeof *headers);
    size_t head_limit =
        s->cfg.limits.max_request_line + s->cfg.limits.max_header_bytes;
    rill_instant_t started = 0;
    while (headers) {
        rill_http_request_t req;
        int rc = rill_http_parse_request(&req, c->buf, c->len, headers,
                                         max_headers, &s->cfg.limits);
        if (rc == RILL_EPROTO) {
            refuse(c, req.status, NULL);
            break;
        }
        if (rc == RILL_PENDING) {
            bool first = c->len == 0;
            if (first && !set_idle(c, true))
                break; /* stopping */
            if (first)
                started = 0;
            rill_instant_t deadline = first ? rill_now() + s->cfg.idle_timeout
                                            : started + s->cfg.header_timeout;
            rc = read_more(c, head_limit, deadline);
            if (first && !set_idle(c, false))
                break;
            if (rc == RILL_ETIMEDOUT && !first)
                refuse(c, 408, NULL);
            if (rc != 0)
                break;
            if (first)
                started = rill_now();
            continue;
        }
        /* A request head. */
        c->responded = c->chunked = c->chunk_done = c->head_only = false;
        c->close_after = !req.keep_alive;
        c->version = req.version;
        c->consumed = req.head_len;
        req.body = (rill_http_str_t){c->buf + req.head_len, 0};
        if (req.content_length || req.chunked) {
            rc = read_body(c, &req, started + s->cfg.header_timeout);
            if (rc > 0)
                refuse(c, rc, NULL);
            if (rc != 0)
                break;
        }
        rc = dispatch(c, &req);
        if (c->taken || rc != 0 || c->close_after)
            break;
        memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
        c->len -= c->consumed;
        started = rill_now(); /* the next head's clock, if bytes are in */
        if (c->len == 0 && c->cap > READ_CHUNK) {
            /* An idle connection holds no large buffer. */
            rill__free(c->buf);
            c->buf = NULL;
            c->cap = 0;
        }
    }
    rill__free(headers);
    if (c->handoff)
        conn_handoff(c);
    else
        rill__http_conn_end(c);
    return NULL;
}

static int start_conn(rill_http_server_t *s, rill_io_t *io)
{
    rill_http_conn_t *c = rill__calloc(1, sizeof *c);
    if (!c) {
        rill_io_free(io);
        return RILL_ENOMEM;
    }
    c->srv = s;
    c->io = io;
    pthread_mutex_lock(&s->lock);
    rill__list_push_back(&s->conns, &c->link);
    s->nconns++;
    pthread_mutex_unlock(&s->lock);
    rill_spawn_config_t opts = {
        .runtime = s->rt, .name = "http-conn", .stack_size = s->cfg.stack_size};
    int rc = rill_spawn(NULL, conn_main, c, &opts);
    if (rc != 0)
        rill__http_conn_end(c);
    return rc;
}

int rill_http_server_run(rill_http_server_t *s)
{
    if (!s || s->running)
        return RILL_MISUSE("rill_http_server_run",
                           "NULL server or already running");
    s->running = true;
    for (size_t i = 0; i < s->nroutes; i++)
        if (s->routes[i].fn == static_handler)
            s->routes[i].ud = &s->routes[i];
    rill_oneshot_receiver_t *drained_rx;
    int rc = rill_oneshot_new(&s->drained_tx, &drained_rx, 1, NULL);
    if (rc != 0)
        return rc;
    int result = 0;
    for (;;) {
        rill_io_t *io;
        rc = rill_accept(s->listener, &io);
        if (rc == 0) {
            (void)start_conn(s, io);
            continue;
        }
        if (rc == RILL_EMFILE || rc == RILL_ENOMEM) {
            /* Out of descriptors or memory: let connections end. */
            (void)rill_sleep(RILL_MS(10));
            continue;
        }
        if (rc != RILL_ECLOSED)
            result = rc;
        break;
    }
    /* Drain: every connection ends (shutdown closed the idle ones and
     * told the streaming ones). */
    rill_http_server_shutdown(s);
    pthread_mutex_lock(&s->lock);
    bool wait = s->nconns > 0;
    if (!wait) {
        rill_oneshot_sender_release(s->drained_tx);
        s->drained_tx = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (wait) {
        char one;
        /* 0 when the last connection ended; RILL_DONE if its sender went
         * without sending; RILL_ECANCELED if this task is cancelled: the
         * shutdown then goes on without waiting. */
        RILL__DISCARD(rill_oneshot_recv(drained_rx, &one));
    }
    rill_oneshot_receiver_release(drained_rx);
    return result;
}
