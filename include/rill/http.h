/* SPDX-License-Identifier: MIT */
/*
 * rill/http.h - HTTP/1.1, as much as serving streams to browsers needs,
 * done properly (RFC 9110, 9112).
 *
 * The request parser is zero-copy and stateless: give it the bytes read so
 * far and it either finds a complete request head in them, says it needs
 * more, or says what is wrong with them and which status to answer. Every
 * string it returns (method, target, header names and values) points into
 * your buffer, so keep the buffer while you use the request.
 *
 *     rill_http_header_t headers[32];
 *     rill_http_request_t req;
 *     int rc = rill_http_parse_request(&req, buf, len, headers, 32, NULL);
 *     if (rc == RILL_PENDING)      // read more, then parse again from buf
 *     else if (rc == RILL_EPROTO)  // answer req.status (400, 414, 431...)
 *     else                         // req is complete: req.head_len bytes,
 *                                  // then the body (req.content_length
 *                                  // bytes, or chunked), then the next
 *                                  // pipelined request
 *
 * Limits (rill_http_parse_config_t) are checked as the bytes arrive, so a
 * client that sends an endless request line or header section is refused
 * as soon as it passes the limit, not when it stops.
 *
 * What the parser accepts is strict where leniency lets requests be read
 * two ways (request smuggling): lines end in CRLF, no whitespace between a
 * field name and its colon, no obsolete line folding, no control
 * characters in values, one Content-Length value, Transfer-Encoding only
 * "chunked" and never together with Content-Length, Host exactly once in
 * HTTP/1.1.
 */
#ifndef RILL_HTTP_H
#define RILL_HTTP_H

#include "core.h"
#include "io.h"
#include "rt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A view of bytes in someone else's buffer (not NUL-terminated). */
typedef struct rill_http_str {
    const char *ptr;
    size_t len;
} rill_http_str_t;

/* One header field as sent: name and value, the value without the
 * whitespace around it. */
typedef struct rill_http_header {
    rill_http_str_t name;
    rill_http_str_t value;
} rill_http_header_t;

/* The methods the parser names; any other token is RILL_HTTP_OTHER (see
 * method_name). Methods are case-sensitive: "get" is OTHER. */
typedef enum rill_http_method {
    RILL_HTTP_OTHER = 0,
    RILL_HTTP_GET,
    RILL_HTTP_HEAD,
    RILL_HTTP_POST,
    RILL_HTTP_PUT,
    RILL_HTTP_DELETE,
    RILL_HTTP_OPTIONS,
    RILL_HTTP_PATCH,
    RILL_HTTP_CONNECT,
    RILL_HTTP_TRACE
} rill_http_method_t;

/*
 * Limits of the request parser. Zero fields take the defaults; NULL means
 * all defaults.
 */
typedef struct rill_http_parse_config {
    /* Bytes of the request line, its CRLF and any empty lines before it.
     * Past it: 414 (URI Too Long). 0 = 8192. */
    size_t max_request_line;
    /* Bytes of the header section: every field line with its CRLF and
     * the empty line that ends the head. Past it: 431. 0 = 16384. */
    size_t max_header_bytes;
    /* The largest Content-Length accepted. Past it: 413. 0 = 1 MiB. */
    uint64_t max_body;
} rill_http_parse_config_t;

/* A parsed request head. Every string points into the parsed buffer. */
typedef struct rill_http_request {
    rill_http_method_t method;
    rill_http_str_t method_name; /* the token as sent */
    rill_http_str_t target;      /* the request-target as sent */
    /* The target's path (origin-form up to '?'; "*" for asterisk-form;
     * the path part of an absolute-form target, "/" if it has none; empty
     * for authority-form) and its query (after '?', without it). */
    rill_http_str_t path;
    rill_http_str_t query;
    int version; /* 10 for HTTP/1.0, 11 for HTTP/1.1 (or 1.x > 1) */
    rill_http_header_t *headers; /* the array given to the parser */
    size_t header_count;
    size_t head_len;         /* bytes of the head, through the empty line */
    uint64_t content_length; /* body bytes after the head (0 if none) */
    bool chunked;            /* the body is chunked (content_length 0) */
    bool keep_alive;         /* the connection stays open after this */
    bool upgrade;            /* Connection: upgrade and an Upgrade field */
    bool expect_continue;    /* Expect: 100-continue */
    /* The body, when the server read it for a handler (the parser leaves
     * it empty). */
    rill_http_str_t body;
    /* When the parser returns RILL_EPROTO: the status to answer (400,
     * 413, 414, 431, 501 or 505) and a static phrase saying why. */
    int status;
    const char *error;
} rill_http_request_t;

/*
 * rill_http_parse_request - parse the request head at the start of
 * buf[0..len).
 *   headers[0..max_headers) receives the header fields; a request with
 *   more fields is refused with 431, so max_headers is the field-count
 *   limit.
 * Returns: 0 when buf holds a complete head (req is filled in: the body
 *   and the next request start at req->head_len); RILL_PENDING when buf
 *   is a valid beginning of a request within the limits (read more and
 *   parse again, from the start of the same bytes); RILL_EPROTO when it
 *   is not (req->status and req->error say why; answer and close the
 *   connection); RILL_EINVAL for NULL req, buf with len > 0 or headers
 *   with max_headers > 0.
 *   The answer for a prefix of a request is RILL_PENDING or the answer
 *   for the whole: the parser decides at the first byte that settles it.
 * Ownership: nothing is allocated; req points into buf and headers.
 * Threads: any; no shared state.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int
rill_http_parse_request(rill_http_request_t *req, const void *buf, size_t len,
                        rill_http_header_t *headers, size_t max_headers,
                        const rill_http_parse_config_t *cfg);

/*
 * rill_http_request_header - the first header field named `name`
 * (compared without case).
 * Returns: the field, or NULL if the request has none (or req or name is
 *   NULL).
 * Threads: both.
 */
RILL_API const rill_http_header_t *
rill_http_request_header(const rill_http_request_t *req, const char *name);

/*
 * rill_http_method_name - the name of a method ("GET").
 * Returns: a static string; "OTHER" for RILL_HTTP_OTHER or unknown values.
 * Threads: both.
 */
RILL_API const char *rill_http_method_name(rill_http_method_t method);

/*
 * rill_http_status_reason - the reason phrase of a status code ("Not
 * Found").
 * Returns: a static string; "Unknown" for codes it does not know.
 * Threads: both.
 */
RILL_API const char *rill_http_status_reason(int status);

/*
 * A decoder for chunked request bodies (RFC 9112 7.1): zero-copy, it gives
 * back the spans of body data inside the bytes you feed it. Chunk
 * extensions are skipped; trailer fields are skipped. Caller storage;
 * fields private.
 */
typedef struct rill_http_chunked {
    uint64_t max_body_; /* private: body bytes allowed in all */
    uint64_t body_;     /* private: body bytes so far */
    uint64_t left_;     /* private: bytes left in the current chunk */
    unsigned state_;    /* private */
    unsigned line_;     /* private: bytes of the current framing line */
    unsigned digits_;   /* private: hex digits of the chunk size */
    int status;         /* after RILL_EPROTO: 400 or 413 */
} rill_http_chunked_t;

/*
 * rill_http_chunked_init - start decoding a chunked body of at most
 * max_body bytes of data (0 = 1 MiB).
 * Ownership: c is the caller's storage; it holds nothing to free.
 * Threads: both.
 */
RILL_API void rill_http_chunked_init(rill_http_chunked_t *c, uint64_t max_body);

/*
 * rill_http_chunked_decode - feed buf[0..len) (the bytes after what
 * *used consumed last time).
 * Returns: 0 with body data in *data (a span of buf, len > 0) and *used
 *   the bytes consumed through its end; RILL_DONE when the last chunk and
 *   the trailer section ended (*used the bytes through its end: the next
 *   request starts there); RILL_PENDING when every byte was consumed and
 *   more are needed; RILL_EPROTO for bad framing (c->status 400) or a
 *   body over the limit (c->status 413); RILL_EINVAL for NULL arguments.
 * Ownership: *data points into buf.
 * Waits: never.
 * Threads: one caller at a time per decoder.
 */
RILL_API RILL_NODISCARD int rill_http_chunked_decode(rill_http_chunked_t *c,
                                                     const void *buf,
                                                     size_t len, size_t *used,
                                                     rill_http_str_t *data);

/* ------------------------------------------------------------------------ */
/* The server                                                                */
/* ------------------------------------------------------------------------ */

/*
 * An HTTP/1.1 server on rill sockets: one task per connection, routes by
 * method and exact path, keep-alive and pipelined requests, bodies read
 * for the handler, the limits above (400/413/414/431/501/505 with
 * Connection: close), 404 for an unknown path, 405 (with Allow) for a
 * known path and another method, an idle timeout between requests and a
 * header timeout per request (slowloris), and a graceful shutdown.
 *
 *     static int hello(void *ud, rill_http_conn_t *c,
 *                      const rill_http_request_t *req) {
 *         return rill_http_respond(c, 200, "text/plain", "hi\n", 3);
 *     }
 *     ...
 *     rill_http_server_t *srv;
 *     rill_http_server_new(&srv, "127.0.0.1:8080", NULL);
 *     rill_http_route(srv, RILL_HTTP_GET, "/hello", hello, NULL);
 *     rill_http_server_run(srv);          // until rill_http_server_shutdown
 *     rill_http_server_free(srv);
 *
 * Handlers run in the connection's task (a stackful task: they may wait).
 * A handler answers with one response (rill_http_respond, or a chunked one)
 * or takes the connection over (rill_sse_serve, rill_ws_accept).
 */
typedef struct rill_http_server rill_http_server_t;
typedef struct rill_http_conn rill_http_conn_t;

/*
 * A route's handler. req (and its strings) is valid during the call; its
 * body is in req->body. Return 0 to keep the connection for the next
 * request (if the response allows), anything else to close it.
 */
typedef int (*rill_http_handler_fn)(void *ud, rill_http_conn_t *c,
                                    const rill_http_request_t *req);

/* Zero fields take the defaults; NULL means all defaults. */
typedef struct rill_http_server_config {
    rill_runtime_t *runtime;         /* NULL: the calling task's */
    rill_http_parse_config_t limits; /* request line, header and body */
    size_t max_headers;              /* header fields per request; 0 = 64 */
    /* A request's head must arrive within this from its first byte, or the
     * connection is closed (408). 0 = 10 s. */
    rill_duration_t header_timeout;
    /* A kept-alive connection may wait this long for its next request.
     * 0 = 60 s. */
    rill_duration_t idle_timeout;
    size_t stack_size; /* of the connection tasks; 0 = the runtime's */
} rill_http_server_config_t;

/*
 * rill_http_server_new - a server listening on addr ("127.0.0.1:0",
 * "[::1]:8080", "unix:/path"; see rill/io.h).
 * Returns: 0; RILL_EINVAL; the errors of rill_listen; RILL_ENOMEM.
 * Ownership: the caller owns *s (rill_http_server_free). On failure nothing
 *   is made.
 * Threads: any task, or a thread with cfg->runtime.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int
rill_http_server_new(rill_http_server_t **s, const char *addr,
                     const rill_http_server_config_t *cfg);

/* rill_http_server_port - the TCP port it listens on (0 for Unix).
 * Returns: the port.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_http_server_port(const rill_http_server_t *s);

/*
 * rill_http_route - call fn(ud, conn, req) for requests with this method
 * and exactly this path (the query does not count). A GET route also
 * answers HEAD (the body is left out).
 * Returns: 0; RILL_EINVAL (NULL, a path not starting with '/', a route
 *   already there, called after rill_http_server_run started); RILL_ENOMEM.
 * Ownership: path is copied.
 * Waits: never.
 * Threads: before rill_http_server_run, one caller at a time.
 */
RILL_API RILL_NODISCARD int rill_http_route(rill_http_server_t *s,
                                            rill_http_method_t method,
                                            const char *path,
                                            rill_http_handler_fn fn, void *ud);

/*
 * rill_http_route_static - GET (and HEAD) path answers 200 with these
 * bytes and this Content-Type (both copied).
 * Returns: as rill_http_route.
 * Waits: never.
 * Threads: as rill_http_route.
 */
RILL_API RILL_NODISCARD int
rill_http_route_static(rill_http_server_t *s, const char *path,
                       const char *content_type, const void *body, size_t len);

/*
 * rill_http_server_run - accept and serve connections until
 * rill_http_server_shutdown, then wait until every connection has ended.
 * Returns: 0 after a shutdown; an error of rill_accept that is not
 *   transient (RILL_EMFILE is: the server waits and goes on).
 * Waits: until shut down and drained. Threads: one task at a time.
 */
RILL_API RILL_NODISCARD int rill_http_server_run(rill_http_server_t *s);

/*
 * rill_http_server_shutdown - stop accepting; connections waiting for a
 * request are closed; a request being answered is finished, then its
 * connection closed; SSE responses end after what they were writing;
 * WebSocket connections are closed with 1001 (going away). run returns
 * once all have ended. Idempotent.
 * Threads: any task or thread.
 */
RILL_API void rill_http_server_shutdown(rill_http_server_t *s);

/*
 * rill_http_server_free - free a server whose run has returned (or never
 * started). NULL is accepted.
 * Ownership: consumes s.
 * Threads: both.
 */
RILL_API void rill_http_server_free(rill_http_server_t *s);

/* A response. Zero / NULL fields are left out. */
typedef struct rill_http_response {
    int status;
    const char *content_type;
    /* More header lines, each ending in CRLF ("Allow: GET\r\n"). */
    const char *headers;
    const void *body;
    size_t body_len;
} rill_http_response_t;

/*
 * rill_http_send_response - answer the current request (Content-Length,
 * Connection and the fields given; no body for HEAD, 1xx, 204, 304).
 * Returns: 0; RILL_EINVAL (a second response); the errors of
 *   rill_io_write_all (the connection is then closed).
 * Waits: until written. Threads: the connection's task.
 */
RILL_API RILL_NODISCARD int
rill_http_send_response(rill_http_conn_t *c, const rill_http_response_t *r);

/* rill_http_respond - rill_http_send_response with status, type, body.
 * Returns: as rill_http_send_response.
 * Waits: as rill_http_send_response.
 * Threads: the connection's task.
 */
RILL_API RILL_NODISCARD int rill_http_respond(rill_http_conn_t *c, int status,
                                              const char *content_type,
                                              const void *body, size_t len);

/*
 * rill_http_respond_chunked - start a response whose body follows in
 * chunks (Transfer-Encoding: chunked; for an HTTP/1.0 client the body
 * ends when the connection closes). rill_http_write_chunk sends each
 * piece; a chunk of length 0 ends the body.
 * Returns: 0; RILL_EINVAL (a second response; a chunk without a chunked
 *   response, or after its end); write errors.
 * Waits: until written. Threads: the connection's task.
 */
RILL_API RILL_NODISCARD int rill_http_respond_chunked(rill_http_conn_t *c,
                                                      int status,
                                                      const char *content_type);
RILL_API RILL_NODISCARD int rill_http_write_chunk(rill_http_conn_t *c,
                                                  const void *data, size_t len);

/*
 * rill_http_conn_io - the connection's socket, for a handler that takes
 * the connection over (the server still frees it when the handler
 * returns).
 * Returns: the handle (the server's).
 * Threads: the connection's task.
 */
RILL_API rill_io_t *rill_http_conn_io(rill_http_conn_t *c);

/*
 * rill_http_conn_stopping - whether the server is shutting down; a handler
 * that serves a long stream ends when it turns true (rill_sse_serve and
 * WebSocket connections do this themselves).
 * Returns: true once the server is shutting down.
 * Threads: the connection's task.
 */
RILL_API bool rill_http_conn_stopping(const rill_http_conn_t *c);

#ifdef __cplusplus
}
#endif

#endif /* RILL_HTTP_H */
