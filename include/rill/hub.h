/* SPDX-License-Identifier: MIT */
/*
 * rill/hub.h - one source of events, many web clients: Server-Sent Events
 * and WebSocket on the same hub, each event encoded once per protocol and
 * shared, with a byte budget per client and a policy for the slow ones.
 *
 *     rill_hub_t *hub;
 *     rill_hub_config_t hc = {.name = "ticks", .policy = RILL_HUB_DROP_OLDEST};
 *     rill_hub_new(&hub, &hc);
 *     rill_http_route(srv, RILL_HTTP_GET, "/events", rill_hub_handler, hub);
 *     rill_http_route(srv, RILL_HTTP_GET, "/stats", rill_hub_stats_handler,
 *                     hub);
 *     ...                                   // any thread or task:
 *     rill_hub_publish(hub, &ev);           // ev: a rill_sse_event_t
 *     ...                                   // after the server's run:
 *     rill_hub_free(hub);
 *
 * "/events" answers an EventSource with text/event-stream and a
 * WebSocket upgrade with WebSocket (the same route serves both). Each
 * published event is encoded once as an SSE event (id, event, data) and
 * once as a WebSocket message (its data, TEXT or BINARY); every client's
 * queue holds references to those same bytes (rill_bytes_t), written
 * with one writev per batch. No per-client copy is made.
 *
 * A client's queue may hold `budget` bytes of encoded events (the bytes
 * being written count until they are written). When an event does not
 * fit, the client's policy decides:
 *   - RILL_HUB_BLOCK: the publisher waits until it fits (lossless; the
 *     slowest BLOCK client holds the source back);
 *   - RILL_HUB_DROP_OLDEST: the oldest queued events are dropped until it
 *     fits, and the client is told in-band how many it lost before its
 *     next event: an SSE event "rill-gap" with data {"missed":N}, or a
 *     WebSocket TEXT message {"type":"rill-gap","missed":N};
 *   - RILL_HUB_DISCONNECT: the client's queue is dropped and it is
 *     disconnected (WebSocket close 1013, or the end of the SSE response);
 *     it can come back with Last-Event-ID and resume from the replay ring.
 * An event larger than the budget still goes to a client whose queue is
 * empty (nothing is ever undeliverable).
 *
 * The hub keeps the last `replay` events. A client that connects with a
 * Last-Event-ID header (WebSocket clients may also send the query
 * parameter last_event_id=...) gets the events after that id first; an id
 * the ring no longer holds gets the rill-gap notice with missed -1
 * (unknown) and the oldest events held.
 *
 * Counters per hub and per client (rill_hub_stats, rill_hub_clients) are
 * also in rill_runtime_dump (a serving client waits on a future that
 * describes them) and, as JSON, in rill_hub_stats_handler.
 */
#ifndef RILL_HUB_H
#define RILL_HUB_H

#include "core.h"
#include "http.h"
#include "sse.h"
#include "stream.h"
#include "ws.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_hub rill_hub_t;

/* What happens to a client whose queue is over its budget. 0 means the
 * default: the hub's policy for a client, DROP_OLDEST for a hub. */
typedef enum rill_hub_policy {
    RILL_HUB_POLICY_DEFAULT = 0,
    RILL_HUB_BLOCK,
    RILL_HUB_DROP_OLDEST,
    RILL_HUB_DISCONNECT
} rill_hub_policy_t;

/* Which protocol a client speaks. */
typedef enum rill_hub_protocol {
    RILL_HUB_SSE = 1,
    RILL_HUB_WS
} rill_hub_protocol_t;

/* Zero fields take the defaults; NULL means all defaults. */
typedef struct rill_hub_config {
    /* For dumps and /stats (copied, at most 31 bytes kept). NULL = "hub". */
    const char *name;
    rill_hub_policy_t policy; /* clients' default; 0 = DROP_OLDEST */
    size_t budget;            /* bytes queued per client; 0 = 256 KiB */
    size_t replay;            /* events kept for resuming; 0 = 1024 */
    /* WebSocket messages are BINARY (else TEXT: then every event's data
     * must be UTF-8, or publishing it is RILL_EINVAL). */
    bool ws_binary;
    /* After this long without writing, an SSE comment (":") or a
     * WebSocket ping goes out. 0 = 15 s; < 0 none. */
    rill_duration_t keepalive;
    /* A WebSocket client that has not answered a ping within this is
     * closed (rill_hub_serve returns RILL_ETIMEDOUT). 0 = 10 s. */
    rill_duration_t pong_timeout;
    /* How long a client being closed (DISCONNECT's 1013, the server's
     * shutdown, the hub's close) may take to take its last bytes and the
     * close frame before its socket is closed anyway. 0 = 100 ms. */
    rill_duration_t close_timeout;
    int64_t retry_ms;                        /* > 0: SSE "retry:" first */
    rill_ws_handshake_config_t ws_handshake; /* WebSocket subprotocols */
    uint64_t ws_max_message; /* incoming messages; 0 = 64 KiB (1009 past) */
    /* Called with each TEXT or BINARY message a WebSocket client sends,
     * in that client's task (it may wait; the client's writing waits with
     * it). msg->data is borrowed for the call (clone it to keep it).
     * NULL: incoming messages are read and dropped. */
    void (*on_message)(void *ud, uint64_t client, const rill_ws_message_t *msg);
    void *ud;
} rill_hub_config_t;

/* One client's own choices. Zero fields: the hub's. */
typedef struct rill_hub_client_config {
    rill_hub_policy_t policy;
    size_t budget;
} rill_hub_client_config_t;

/* A hub's counters (a snapshot; each field is exact, the set is not taken
 * atomically). */
typedef struct rill_hub_stats {
    uint64_t clients;       /* connected now */
    uint64_t sse_clients;   /* of which SSE */
    uint64_t ws_clients;    /* of which WebSocket */
    uint64_t clients_total; /* ever connected */
    uint64_t published;     /* events published */
    uint64_t bytes_queued;  /* encoded bytes in all queues now */
    uint64_t events_sent;   /* deliveries: events written to a client */
    uint64_t bytes_sent;    /* bytes of events written */
    uint64_t dropped;       /* events dropped by DROP_OLDEST */
    uint64_t disconnected;  /* clients disconnected for slowness */
    uint64_t publish_waits; /* publishes that waited for a BLOCK client */
} rill_hub_stats_t;

/* One client's counters. */
typedef struct rill_hub_client_stats {
    uint64_t id; /* the hub's number for it, from 1 */
    rill_hub_protocol_t protocol;
    rill_hub_policy_t policy;
    size_t budget;
    uint64_t bytes_queued;     /* now, the bytes being written included */
    uint64_t bytes_queued_max; /* the most it ever had queued */
    uint64_t events_queued;
    uint64_t events_sent;
    uint64_t bytes_sent;
    uint64_t dropped;
    bool disconnected; /* being disconnected for slowness */
} rill_hub_client_stats_t;

/*
 * rill_hub_new - a hub with no clients.
 * Returns: 0; RILL_EINVAL (NULL hub, an unknown policy); RILL_ENOMEM.
 * Ownership: the caller owns *hub (rill_hub_free). On failure *hub is NULL.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_hub_new(rill_hub_t **hub,
                                         const rill_hub_config_t *cfg);

/*
 * rill_hub_close - no more events: every client gets what is queued for
 * it, then its SSE response ends or its WebSocket closes (1000); waiting
 * and later publishes return RILL_ECLOSED. Idempotent.
 * Threads: both.
 */
RILL_API void rill_hub_close(rill_hub_t *hub);

/*
 * rill_hub_free - close the hub and give up the owner's hold on it; its
 * memory goes when the last client has ended. Free it after the HTTP
 * server's run returned (or after removing every route to it): a route
 * whose handler finds a freed hub is a use after free. NULL is accepted.
 * Ownership: consumes hub.
 * Threads: both.
 */
RILL_API void rill_hub_free(rill_hub_t *hub);

/*
 * rill_hub_publish - encode ev once per protocol, keep it in the replay
 * ring and queue it for every client, each by its policy (module
 * comment).
 * Returns: 0; RILL_ECLOSED (the hub is closed: nothing was queued);
 *   RILL_EINVAL (NULL argument; an event rill_sse_encode refuses; data
 *   that is not UTF-8 for TEXT messages); RILL_ENOMEM; RILL_ECANCELED
 *   (the waiting task was cancelled; nothing was queued).
 * Ownership: ev stays the caller's (its bytes are encoded, not kept).
 * Waits: while a BLOCK client has no room for it.
 * Threads: both, any number of publishers (events from one publisher
 *   keep their order; concurrent publishers interleave).
 */
RILL_API RILL_NODISCARD int rill_hub_publish(rill_hub_t *hub,
                                             const rill_sse_event_t *ev);

/*
 * rill_hub_try_publish - as rill_hub_publish, never waits.
 * Returns: as rill_hub_publish, or RILL_EFULL (a BLOCK client has no
 *   room: nothing was queued).
 * Ownership: as rill_hub_publish.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_hub_try_publish(rill_hub_t *hub,
                                                 const rill_sse_event_t *ev);

/*
 * rill_hub_forward - publish every event of the stream `events` (items
 * rill_sse_event_t) until it ends, then close the hub.
 * Returns: 0 when the stream ended; its error item; an error of
 *   rill_hub_publish (the stream is freed, the hub is left open).
 * Ownership: consumes events (freed before the call returns).
 * Waits: for the stream, and as rill_hub_publish.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_hub_forward(rill_hub_t *hub,
                                             rill_stream_t *events);

/*
 * rill_hub_serve - serve req as a client of the hub: a WebSocket if it
 * is an upgrade, else an SSE response. Resumes after Last-Event-ID.
 * Returns when the client goes away, is disconnected for slowness, the
 * hub is closed and drained, or the server shuts down.
 * Returns: 0 (the hub closed, or the server shut down); RILL_EPROTO (a
 *   refused handshake, answered with 400/426; a WebSocket protocol
 *   error, closed with its code); RILL_EAGAIN (disconnected for
 *   slowness); RILL_ETIMEDOUT (a WebSocket client did not answer a ping
 *   within pong_timeout); RILL_EPIPE / RILL_ECONNRESET / RILL_DONE (the
 *   client went away); RILL_ECANCELED (the task was cancelled);
 *   RILL_EINVAL; RILL_ENOMEM.
 * Ownership: the connection is taken over; it closes after the call.
 * Waits: as long as it serves. Threads: the connection's task.
 */
RILL_API RILL_NODISCARD int rill_hub_serve(rill_hub_t *hub, rill_http_conn_t *c,
                                           const rill_http_request_t *req,
                                           const rill_hub_client_config_t *cfg);

/*
 * rill_hub_attach - as rill_hub_serve, but the client is served by a
 * stackless task of its own and the call returns once it has joined the
 * hub: the connection's task (and its stack) ends when the handler
 * returns, and the connection stays open until the client ends (the
 * server's shutdown still reaches it). An idle client then costs its
 * state and its socket, not a stack (docs/web.md, N7). What the client's
 * end was (rill_hub_serve's statuses) is not reported.
 * Returns: 0 (the client is the hub's: return from the handler, and do
 *   not touch c again); RILL_EPROTO (a refused handshake, answered with
 *   400/426); RILL_EPIPE / RILL_ECONNRESET (the client went away before
 *   the response head was written); RILL_EINVAL; RILL_ENOMEM.
 * Ownership: on 0 the connection is the hub's; on failure it closes after
 *   the handler, as with rill_hub_serve.
 * Waits: while the response head is written.
 * Threads: the connection's task.
 */
RILL_API RILL_NODISCARD int
rill_hub_attach(rill_hub_t *hub, rill_http_conn_t *c,
                const rill_http_request_t *req,
                const rill_hub_client_config_t *cfg);

/*
 * rill_hub_handler - a route handler (rill_http_handler_fn) serving the
 * hub `ud` with the hub's policy: rill_http_route(srv, RILL_HTTP_GET,
 * "/events", rill_hub_handler, hub). It attaches the client
 * (rill_hub_attach) and returns.
 * Returns: non-zero (the connection is the hub's, or closes).
 * Waits: while the response head is written.
 * Threads: the connection's task.
 */
RILL_API int rill_hub_handler(void *ud, rill_http_conn_t *c,
                              const rill_http_request_t *req);

/*
 * rill_hub_stats - the hub's counters.
 * Returns: 0; RILL_EINVAL (NULL argument).
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_hub_stats(rill_hub_t *hub, rill_hub_stats_t *st);

/*
 * rill_hub_clients - the counters of the connected clients, in the order
 * they connected: up to max of them into out, how many in *n.
 * Returns: 0; RILL_EINVAL (NULL hub or n, NULL out with max > 0).
 * Waits: never (it takes the hub's lock briefly).
 * Threads: both.
 */
RILL_API int rill_hub_clients(rill_hub_t *hub, rill_hub_client_stats_t *out,
                              size_t max, size_t *n);

/*
 * rill_hub_stats_json - the counters of the hub and its clients as one
 * JSON object, {"name":..., "clients":..., ..., "client_list":[{...}]}.
 * Returns: 0; RILL_EINVAL (NULL argument); RILL_ENOMEM.
 * Ownership: the caller owns *json (rill_bytes_release). On failure it
 *   is the empty value.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_hub_stats_json(rill_hub_t *hub,
                                                rill_bytes_t *json);

/*
 * rill_hub_stats_handler - a route handler answering 200 with
 * rill_hub_stats_json of the hub `ud` (application/json).
 * Returns: as rill_http_respond.
 * Waits: until written.
 * Threads: the connection's task.
 */
RILL_API int rill_hub_stats_handler(void *ud, rill_http_conn_t *c,
                                    const rill_http_request_t *req);

/*
 * rill_hub_policy_name - "BLOCK", "DROP_OLDEST", "DISCONNECT".
 * Returns: a static string ("DEFAULT" for 0, "?" for unknown values).
 * Threads: both.
 */
RILL_API const char *rill_hub_policy_name(rill_hub_policy_t policy);

#ifdef __cplusplus
}
#endif

#endif /* RILL_HUB_H */
