/* SPDX-License-Identifier: MIT */
/*
 * rill/sse.h - Server-Sent Events (the text/event-stream format of the
 * WHATWG HTML standard, 9.2).
 *
 * An event is an id, a type and data, each a rill_bytes_t. The encoder
 * turns it into the bytes a browser's EventSource reads, in one shared
 * rill_bytes_t: encode an event once and write the same bytes to every
 * client (clone the reference per client; no copy).
 *
 *     rill_sse_event_t ev = {0};
 *     rill_bytes_new(&ev.id, "42", 2);
 *     rill_bytes_new(&ev.data, "line one\nline two", 17);
 *     rill_bytes_t wire;
 *     rill_sse_encode(&wire, &ev);   // "id: 42\ndata: line one\n
 *                                    //  data: line two\n\n"
 *     rill_sse_event_destroy(&ev);
 *
 * Data is split into one "data:" line per line (at LF, CRLF or CR), so the
 * browser's MessageEvent.data is the data exactly, line breaks
 * normalised to LF. An id or type cannot hold a line break (nor an id a
 * NUL, which the browser would ignore it for): the encoder refuses them
 * rather than send an event the browser would read differently.
 */
#ifndef RILL_SSE_H
#define RILL_SSE_H

#include "bytes.h"
#include "core.h"
#include "rt.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One event. Fields left empty are not sent: no id keeps the client's last
 * event id, no type means the browser's "message". retry_ms > 0 adds a
 * "retry:" line (the client's reconnection delay); 0 sends none.
 */
typedef struct rill_sse_event {
    rill_bytes_t id;
    rill_bytes_t event;
    rill_bytes_t data;
    int64_t retry_ms;
} rill_sse_event_t;

/*
 * rill_sse_encode - the wire form of ev, in one new buffer.
 * Returns: 0; RILL_EINVAL (NULL argument, an id with CR, LF or NUL, a
 *   type with CR or LF, a negative retry_ms); RILL_ENOMEM. On error *out
 *   is the empty value.
 * Ownership: the caller owns one reference in *out; ev is unchanged (its
 *   bytes are copied into *out).
 * Threads: any.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int rill_sse_encode(rill_bytes_t *out,
                                            const rill_sse_event_t *ev);

/*
 * rill_sse_encoded_len - the size rill_sse_encode's output would have.
 * Returns: that size; 0 if ev is NULL or would be refused.
 * Threads: both.
 */
RILL_API size_t rill_sse_encoded_len(const rill_sse_event_t *ev);

/*
 * rill_sse_encode_comment - a comment (": text" lines, one per line of
 * text), which the browser ignores: keep-alives, and notes in a capture.
 * Empty text gives ":\n".
 * Returns: 0; RILL_EINVAL (NULL out, NULL text with len > 0);
 *   RILL_ENOMEM.
 * Ownership: the caller owns one reference in *out.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_sse_encode_comment(rill_bytes_t *out, const char *text, size_t len);

/*
 * rill_sse_event_destroy - release the event's three bytes (each becomes
 * the empty value). NULL is accepted.
 * Ownership: releases the event's references; ev itself is the caller's
 *   storage.
 * Threads: both.
 */
RILL_API void rill_sse_event_destroy(rill_sse_event_t *ev);

/* An item destructor for channels and streams of rill_sse_event_t.
 * Threads: both.
 */
RILL_API void rill_sse_event_item_dtor(void *item, void *ud);

/* ------------------------------------------------------------------------ */
/* Serving events                                                            */
/* ------------------------------------------------------------------------ */

/*
 * A source of events with a replay ring: publish events into it (from any
 * task or thread), serve it to any number of clients. Each event is
 * encoded once when published; each client holds only a cursor into the
 * ring, so a waiting client costs no queue. A client that comes back with
 * Last-Event-ID resumes right after that event if the ring still holds it;
 * a client whose Last-Event-ID is no longer in the ring, or that falls
 * further behind than the ring holds, first gets an in-band event
 *
 *     event: rill-gap
 *     data: {"missed":N}           (N: events it lost, -1 if unknown)
 *
 * so the page knows it missed data, then continues with the oldest event
 * the ring still holds. Reference counted.
 */
typedef struct rill_sse_source rill_sse_source_t;

/*
 * rill_sse_source_new - a source keeping the last `replay` events (0 =
 * 1024) for resuming clients.
 * Returns: 0; RILL_EINVAL; RILL_ENOMEM.
 * Ownership: the caller owns one reference (rill_sse_source_release). On
 *   failure *src is not set.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_sse_source_new(rill_sse_source_t **src,
                                                size_t replay);
RILL_API rill_sse_source_t *rill_sse_source_clone(rill_sse_source_t *src);
RILL_API void rill_sse_source_release(rill_sse_source_t *src);

/*
 * rill_sse_source_publish - encode ev once, append it to the ring (the
 * oldest event drops out when it is full) and wake the clients.
 * Returns: 0; RILL_EINVAL (as rill_sse_encode; a closed source);
 *   RILL_ENOMEM.
 * Ownership: ev is unchanged (its bytes are copied / shared).
 * Waits: never. Threads: any.
 */
RILL_API RILL_NODISCARD int rill_sse_source_publish(rill_sse_source_t *src,
                                                    const rill_sse_event_t *ev);

/*
 * rill_sse_source_close - no more events: clients get what is in the ring
 * for them, then their responses end.
 * Threads: any.
 */
RILL_API void rill_sse_source_close(rill_sse_source_t *src);

/* rill_sse_source_seq - events published so far.
 * Returns: the count.
 * Threads: both.
 */
RILL_API uint64_t rill_sse_source_seq(rill_sse_source_t *src);

typedef struct rill_http_conn rill_http_conn_t;
typedef struct rill_http_request rill_http_request_t;

/* Zero fields take the defaults; NULL means all defaults. */
typedef struct rill_sse_config {
    /* A comment line (":\n") after this long without an event, so
     * proxies and the browser keep the connection. 0 = 15 s; < 0 none. */
    rill_duration_t keepalive;
    /* > 0: a "retry:" line first (the browser's reconnection delay). */
    int64_t retry_ms;
} rill_sse_config_t;

/*
 * rill_sse_serve_source - answer req (from an HTTP handler) with a
 * text/event-stream response fed by src, from the event after the
 * request's Last-Event-ID (or from now), until the source is closed and
 * drained, the client goes away, or the server shuts down.
 * Returns: 0 (the source ended or the server shut down); RILL_EPIPE /
 *   RILL_ECONNRESET / RILL_DONE (the client went away); other errors of the
 *   socket; RILL_EINVAL.
 * Ownership: the connection is taken over; it closes after the call.
 * Waits: as long as it serves. Threads: the connection's task.
 */
RILL_API RILL_NODISCARD int
rill_sse_serve_source(rill_http_conn_t *c, const rill_http_request_t *req,
                      rill_sse_source_t *src, const rill_sse_config_t *cfg);

/*
 * rill_sse_serve - answer req with a text/event-stream response fed by
 * the stream `events` (items rill_sse_event_t, give it the item
 * destructor rill_sse_event_item_dtor), each event encoded for this
 * client, until the stream ends (RILL_DONE: the response ends), an error
 * item (returned), the client goes away or the server shuts down.
 * Returns: as rill_sse_serve_source, or the stream's error item.
 * Ownership: consumes events (freed before the call returns).
 * Waits, Threads: as rill_sse_serve_source.
 */
RILL_API RILL_NODISCARD int rill_sse_serve(rill_http_conn_t *c,
                                           const rill_http_request_t *req,
                                           rill_stream_t *events,
                                           const rill_sse_config_t *cfg);

#ifdef __cplusplus
}
#endif

#endif /* RILL_SSE_H */
