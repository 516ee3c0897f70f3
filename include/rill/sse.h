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
 *     rill_sse_event_release(&ev);
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
 */
RILL_API int rill_sse_encode(rill_bytes_t *out, const rill_sse_event_t *ev);

/*
 * rill_sse_encoded_len - the size rill_sse_encode's output would have.
 * Returns: that size; 0 if ev is NULL or would be refused.
 */
RILL_API size_t rill_sse_encoded_len(const rill_sse_event_t *ev);

/*
 * rill_sse_encode_comment - a comment (": text" lines, one per line of
 * text), which the browser ignores: keep-alives, and notes in a capture.
 * Empty text gives ":\n".
 * Returns: 0; RILL_EINVAL (NULL out, NULL text with len > 0);
 *   RILL_ENOMEM.
 * Ownership: the caller owns one reference in *out.
 */
RILL_API int rill_sse_encode_comment(rill_bytes_t *out, const char *text,
                                     size_t len);

/*
 * rill_sse_event_release - release the event's three bytes (each becomes
 * the empty value). NULL is accepted.
 */
RILL_API void rill_sse_event_release(rill_sse_event_t *ev);

/* An item destructor for channels and streams of rill_sse_event_t. */
RILL_API void rill_sse_event_item_dtor(void *item, void *ud);

#ifdef __cplusplus
}
#endif

#endif /* RILL_SSE_H */
