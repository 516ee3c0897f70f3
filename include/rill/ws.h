/* SPDX-License-Identifier: MIT */
/*
 * rill/ws.h - WebSocket (RFC 6455): the opening handshake, the server's
 * frame encoder and a frame decoder for the peer's frames.
 *
 * Encoding is done once per message and shared: rill_ws_encode gives one
 * rill_bytes_t holding a complete server frame (header + payload; server
 * frames are not masked, so the same bytes are right for every client).
 *
 *     rill_bytes_t frame;
 *     rill_ws_encode(&frame, RILL_WS_TEXT, "hello", 5);
 *     // write `frame` to each client (a clone of the reference each)
 *
 * The decoder takes the bytes a client sends, in pieces as they are read,
 * and gives back whole messages: fragments are joined, masks removed,
 * control frames (ping, pong, close) handed out as they come, even in
 * the middle of a fragmented message. Everything the RFC calls a protocol
 * error ends decoding with RILL_EPROTO and the close code to send:
 *   1002  reserved opcode or RSV bit, unmasked client frame, control frame
 *         fragmented or over 125 bytes, continuation without a message,
 *         a new message inside a fragmented one, a 64-bit length with the
 *         top bit set, a close frame with a 1-byte body or invalid code;
 *   1007  text (or a close reason) that is not UTF-8, found at the first
 *         bad byte, even before the message ends;
 *   1009  a frame longer than max_frame or a message longer than
 *         max_message, found from the frame header before its payload
 *         is read.
 */
#ifndef RILL_WS_H
#define RILL_WS_H

#include "bytes.h"
#include "core.h"
#include "http.h"
#include "stream.h"
#include "sync.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Frame opcodes (RFC 6455 5.2). */
typedef enum rill_ws_opcode {
    RILL_WS_CONTINUATION = 0x0,
    RILL_WS_TEXT = 0x1,
    RILL_WS_BINARY = 0x2,
    RILL_WS_CLOSE = 0x8,
    RILL_WS_PING = 0x9,
    RILL_WS_PONG = 0xA
} rill_ws_opcode_t;

/* Close codes (RFC 6455 7.4.1, and the IANA registry's 1012-1014). */
enum {
    RILL_WS_CLOSE_NORMAL = 1000,
    RILL_WS_CLOSE_GOING_AWAY = 1001,
    RILL_WS_CLOSE_PROTOCOL_ERROR = 1002,
    RILL_WS_CLOSE_UNSUPPORTED_DATA = 1003,
    RILL_WS_CLOSE_NO_STATUS = 1005, /* never sent: "the frame had no code" */
    RILL_WS_CLOSE_ABNORMAL = 1006,  /* never sent: "no close frame at all" */
    RILL_WS_CLOSE_INVALID_DATA = 1007,
    RILL_WS_CLOSE_POLICY = 1008,
    RILL_WS_CLOSE_TOO_BIG = 1009,
    RILL_WS_CLOSE_MANDATORY_EXTENSION = 1010,
    RILL_WS_CLOSE_INTERNAL_ERROR = 1011,
    RILL_WS_CLOSE_SERVICE_RESTART = 1012,
    RILL_WS_CLOSE_TRY_AGAIN_LATER = 1013,
    RILL_WS_CLOSE_BAD_GATEWAY = 1014
};

/* The longest frame header: 2 bytes, a 64-bit length, a 4-byte mask. */
#define RILL_WS_MAX_HEADER 14
/* Sec-WebSocket-Accept is 28 characters (base64 of a SHA-1 digest). */
#define RILL_WS_ACCEPT_LEN 28

/*
 * rill_ws_close_code_valid - whether a close frame may carry `code` on
 * the wire: 1000-1003, 1007-1014, 3000-4999 (1005, 1006 and 1015 are
 * for reporting only, the rest is reserved).
 * Returns: true if it may.
 * Threads: both.
 */
RILL_API bool rill_ws_close_code_valid(unsigned code);

/* ---- the opening handshake (RFC 6455 4.2) ---- */

/*
 * rill_ws_accept_key - Sec-WebSocket-Accept for a Sec-WebSocket-Key:
 * base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
 * accept receives RILL_WS_ACCEPT_LEN characters and a NUL.
 * Returns: 0; RILL_EINVAL for NULL arguments.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_ws_accept_key(const char *key, size_t key_len,
                                char accept[RILL_WS_ACCEPT_LEN + 1]);

/* What the server offers. Zero / NULL means all defaults. */
typedef struct rill_ws_handshake_config {
    /* Subprotocols the server speaks, most preferred first. The first of
     * them that the client offers is selected; none offered or none in
     * common selects none. */
    const char *const *protocols;
    size_t protocol_count;
} rill_ws_handshake_config_t;

/* The outcome of checking an upgrade request. */
typedef struct rill_ws_handshake {
    char accept[RILL_WS_ACCEPT_LEN + 1];
    const char *protocol; /* from cfg->protocols, or NULL: none */
    /* When rill_ws_handshake returns RILL_EPROTO: the status to answer
     * (400; 426 with "Sec-WebSocket-Version: 13" for another version)
     * and a static phrase saying why. */
    int status;
    const char *error;
} rill_ws_handshake_t;

/*
 * rill_ws_handshake - check that req is a valid WebSocket opening request
 * (GET, HTTP/1.1 or later, Connection: upgrade, Upgrade: websocket,
 * Sec-WebSocket-Version: 13, a Sec-WebSocket-Key of 16 bytes in base64),
 * compute the accept key and select a subprotocol.
 * Returns: 0; RILL_EPROTO (hs->status, hs->error); RILL_EINVAL for NULL
 *   req or hs.
 * Threads: any.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int
rill_ws_handshake(const rill_http_request_t *req, rill_ws_handshake_t *hs,
                  const rill_ws_handshake_config_t *cfg);

/*
 * rill_ws_handshake_response - the "101 Switching Protocols" response for
 * a successful handshake, into buf[0..cap).
 * Returns: the response's length (no NUL is written); 0 if hs or buf is
 *   NULL or cap is too small (256 bytes always suffice for a protocol
 *   name of up to 100 characters).
 * Threads: both.
 */
RILL_API size_t rill_ws_handshake_response(const rill_ws_handshake_t *hs,
                                           char *buf, size_t cap);

/* ---- the encoder (server frames: never masked) ---- */

/*
 * rill_ws_frame_header - the header of an unmasked frame with this opcode,
 * FIN bit and payload length, into hdr.
 * Returns: its length (2, 4 or 10); 0 for an opcode that is not one of
 *   rill_ws_opcode_t or a control frame with fin false or len > 125.
 * Threads: both.
 */
RILL_API size_t rill_ws_frame_header(uint8_t hdr[RILL_WS_MAX_HEADER],
                                     rill_ws_opcode_t op, bool fin,
                                     uint64_t len);

/*
 * rill_ws_encode - one complete unmasked frame (FIN set) carrying
 * payload[0..len), header and payload in one new buffer.
 * Returns: 0; RILL_EINVAL (NULL out; NULL payload with len > 0;
 *   RILL_WS_CONTINUATION or an unknown opcode; a control frame over 125
 *   bytes; RILL_WS_CLOSE, which has rill_ws_encode_close; TEXT that is not
 *   UTF-8); RILL_ENOMEM. On error *out is the empty value.
 * Ownership: the caller owns one reference in *out.
 * Threads: any.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int rill_ws_encode(rill_bytes_t *out,
                                           rill_ws_opcode_t op,
                                           const void *payload, size_t len);

/*
 * rill_ws_encode_close - a close frame with `code` and a UTF-8 reason of
 * at most 123 bytes; code 0 gives a close frame with no body (the peer
 * sees 1005).
 * Returns: 0; RILL_EINVAL (NULL out, a code rill_ws_close_code_valid
 *   refuses, a reason too long or not UTF-8); RILL_ENOMEM.
 * Ownership: the caller owns one reference in *out.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_ws_encode_close(rill_bytes_t *out,
                                                 unsigned code,
                                                 const char *reason,
                                                 size_t reason_len);

/* ---- the decoder ---- */

/* Whose frames the decoder reads. */
typedef enum rill_ws_role {
    RILL_WS_SERVER = 0, /* we are the server: frames must be masked */
    RILL_WS_CLIENT      /* we are the client: frames must not be masked */
} rill_ws_role_t;

/* Zero fields take the defaults; NULL means all defaults. */
typedef struct rill_ws_decoder_config {
    uint64_t max_frame;   /* payload bytes of one frame; 0 = 1 MiB */
    uint64_t max_message; /* payload bytes of one message; 0 = 1 MiB */
    rill_ws_role_t role;
} rill_ws_decoder_config_t;

/*
 * One message: TEXT or BINARY (data: the whole payload, fragments
 * joined), PING or PONG (data: the payload), CLOSE (close_code: the code,
 * or 1005 when the frame had none; data: the reason).
 */
typedef struct rill_ws_message {
    rill_ws_opcode_t opcode;
    unsigned close_code;
    rill_bytes_t data;
} rill_ws_message_t;

/* Caller storage; every field is private. */
typedef struct rill_ws_decoder {
    uint64_t max_frame_, max_message_;
    uint64_t left_;      /* payload bytes left in the current frame */
    unsigned char *buf_; /* the data message being assembled */
    size_t buf_len_, buf_cap_;
    uint8_t hdr_[RILL_WS_MAX_HEADER];
    uint8_t hdr_len_; /* header bytes held */
    uint8_t op_;      /* opcode of the current frame */
    uint8_t msg_op_;  /* TEXT / BINARY of the message in progress, or 0 */
    uint8_t fin_;     /* FIN of the current frame */
    uint8_t mask_[4];
    uint8_t mask_pos_; /* payload bytes unmasked so far, mod 4 */
    uint8_t state_;
    uint8_t role_;
    uint8_t ctl_len_;
    uint8_t utf8_[3]; /* the text's UTF-8 state */
    uint16_t close_code_;
    uint8_t ctl_[125]; /* a control frame's payload */
} rill_ws_decoder_t;

/*
 * rill_ws_decoder_init - a decoder in caller storage.
 * Returns: 0; RILL_EINVAL (NULL d, an unknown role).
 * Ownership: call rill_ws_decoder_destroy when done. On failure there is
 *   nothing to destroy.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_ws_decoder_init(rill_ws_decoder_t *d, const rill_ws_decoder_config_t *cfg);

/* rill_ws_decoder_destroy - free what the decoder holds. NULL is
 * accepted.
 * Ownership: frees what d holds; d itself is the caller's storage.
 * Threads: the decoder's user.
 */
RILL_API void rill_ws_decoder_destroy(rill_ws_decoder_t *d);

/*
 * rill_ws_decode - feed buf[0..len) (the bytes after what *used consumed
 * last time) until the next message.
 * Returns: 0 with a message in *msg and *used the bytes consumed (call
 *   again with the rest); RILL_PENDING when every byte was consumed and no
 *   message is complete; RILL_DONE once a CLOSE message has been given
 *   (the bytes after it are consumed and ignored, as RFC 6455 says);
 *   RILL_EPROTO on a protocol error, sticky (rill_ws_decoder_close_code
 *   is the code to close with); RILL_ENOMEM (the decoder can go on when
 *   memory is back: call again with the same bytes); RILL_EINVAL for NULL
 *   d, used or msg, or NULL buf with len > 0.
 * Ownership: the caller owns msg->data.
 * Threads: one thread at a time per decoder.
 * Waits: never.
 */
RILL_API RILL_NODISCARD int rill_ws_decode(rill_ws_decoder_t *d,
                                           const void *buf, size_t len,
                                           size_t *used,
                                           rill_ws_message_t *msg);

/*
 * rill_ws_decoder_close_code - after RILL_EPROTO, the close code to send
 * (1002, 1007 or 1009); 0 before any error.
 * Returns: the code, or 0.
 * Threads: the decoder's user.
 */
RILL_API unsigned rill_ws_decoder_close_code(const rill_ws_decoder_t *d);

/* An item destructor for channels and streams of rill_ws_message_t.
 * Threads: both.
 */
RILL_API void rill_ws_message_item_dtor(void *item, void *ud);

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

/*
 * A WebSocket connection on an HTTP server's connection, after the
 * handshake. Incoming: rill_ws_recv (or the stream rill_ws_incoming) gives
 * text and binary messages; pings are answered, pongs noted, a close is
 * answered, and the call returns RILL_DONE. Outgoing: rill_ws_send and
 * rill_ws_send_frame queue frames (bounded: a slow client makes senders
 * wait) that a writer task writes, batched into one writev; the same
 * task pings the client every ping_interval and closes the connection
 * when no pong came within pong_timeout. The server's shutdown closes it
 * with 1001.
 *
 *     static int chat(void *ud, rill_http_conn_t *c,
 *                     const rill_http_request_t *req) {
 *         rill_ws_conn_t *ws;
 *         if (rill_ws_accept(&ws, c, req, NULL) != 0)
 *             return -1;                       // refused (400 / 426)
 *         rill_ws_message_t m;
 *         while (rill_ws_recv(ws, &m) == 0) {  // echo
 *             rill_ws_send(ws, m.opcode, m.data.ptr, m.data.len);
 *             rill_bytes_release(&m.data);
 *         }
 *         rill_ws_conn_free(ws);
 *         return -1;
 *     }
 */
typedef struct rill_ws_conn rill_ws_conn_t;

/* Zero fields take the defaults; NULL means all defaults. */
typedef struct rill_ws_config {
    rill_ws_handshake_config_t handshake; /* subprotocols */
    uint64_t max_frame, max_message;      /* 0 = 1 MiB each (1009 past) */
    rill_duration_t ping_interval;        /* 0 = 30 s; < 0 never */
    rill_duration_t pong_timeout;         /* 0 = 10 s */
    rill_duration_t close_timeout;        /* 0 = 5 s: wait for the reply */
    size_t queue;                         /* outgoing frames; 0 = 256 */
} rill_ws_config_t;

/*
 * rill_ws_accept - check req as a WebSocket handshake and switch
 * protocols (101), taking the connection over.
 * Returns: 0; RILL_EPROTO (not a valid handshake: answered with 400, or
 *   426 for another version; the connection closes); RILL_ENOMEM; write
 *   errors.
 * Ownership: the caller owns *ws (rill_ws_conn_free before the handler
 *   returns). On failure *ws is not set.
 * Threads: the connection's task.
 * Waits: until the 101 response is written.
 */
RILL_API RILL_NODISCARD int rill_ws_accept(rill_ws_conn_t **ws,
                                           rill_http_conn_t *c,
                                           const rill_http_request_t *req,
                                           const rill_ws_config_t *cfg);

/* rill_ws_protocol - the selected subprotocol, or NULL.
 * Returns: the name, or NULL.
 * Threads: both.
 */
RILL_API const char *rill_ws_protocol(const rill_ws_conn_t *ws);

/*
 * rill_ws_recv - the next text or binary message.
 * Returns: 0 (the caller owns msg->data); RILL_DONE (closed: by a close
 *   frame either way, or the server's shutdown; rill_ws_close_code tells
 *   the peer's code); RILL_EPROTO (the peer broke the protocol: closed
 *   with 1002, 1007 or 1009); RILL_ETIMEDOUT (no pong in time, or no
 *   reply to our close); socket errors (the peer went away without a
 *   close frame).
 * Waits: until a message or the end. Threads: one task at a time.
 */
RILL_API RILL_NODISCARD int rill_ws_recv(rill_ws_conn_t *ws,
                                         rill_ws_message_t *msg);

/*
 * rill_ws_incoming - the incoming messages as a stream of
 * rill_ws_message_t (it ends as rill_ws_recv does; errors are error
 * items). Borrowed: ws must outlive it; use either it or rill_ws_recv.
 * Returns: 0; RILL_EINVAL; RILL_ENOMEM.
 * Ownership: borrowed ws (above); the caller owns *out on success, nothing is
 *   made on failure.
 * Waits: never.
 * Threads: the connection's task.
 */
RILL_API RILL_NODISCARD int rill_ws_incoming(rill_ws_conn_t *ws,
                                             rill_stream_t **out);

/*
 * rill_ws_send - encode and queue one message (TEXT, BINARY, PING, PONG).
 * Returns: 0; RILL_EINVAL (as rill_ws_encode); RILL_ECLOSED (closing or
 *   closed); RILL_ENOMEM.
 * Waits: while the queue is full. Threads: any task or thread.
 */
RILL_API RILL_NODISCARD int rill_ws_send(rill_ws_conn_t *ws,
                                         rill_ws_opcode_t op, const void *data,
                                         size_t len);

/*
 * rill_ws_send_frame - queue an encoded frame (rill_ws_encode's output),
 * shared: the connection takes its own reference.
 * Returns, Waits, Threads: as rill_ws_send.
 */
RILL_API RILL_NODISCARD int rill_ws_send_frame(rill_ws_conn_t *ws,
                                               const rill_bytes_t *frame);

/*
 * rill_ws_outgoing - a sender of encoded frames (items rill_bytes_t) into
 * the connection's queue, for rill_stream_forward and other tasks.
 * Returns: 0; RILL_ECLOSED; RILL_ENOMEM.
 * Ownership: the caller owns *tx (rill_sender_release). On failure *tx is not
 *   set.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_ws_outgoing(rill_ws_conn_t *ws,
                                             rill_sender_t **tx);

/*
 * rill_ws_close - start the closing handshake: queue a close frame with
 * code and reason (as rill_ws_encode_close); rill_ws_recv then returns
 * RILL_DONE when the peer's close arrives, RILL_ETIMEDOUT after
 * close_timeout. Idempotent.
 * Returns: 0; RILL_EINVAL (code or reason refused).
 * Waits: while the queue is full.
 * Threads: any task or thread.
 */
RILL_API int rill_ws_close(rill_ws_conn_t *ws, unsigned code,
                           const char *reason);

/* rill_ws_close_code - the code of the peer's close frame (1005 if it had
 * none), 1006 if it sent none, 0 while open.
 * Returns: the code.
 * Threads: both.
 */
RILL_API unsigned rill_ws_close_code(const rill_ws_conn_t *ws);

/*
 * rill_ws_conn_free - end the connection: queued frames are written (the
 * writer task is waited for), then everything is freed; the socket
 * closes when the handler returns. NULL is accepted.
 * Waits: for the writer task. Threads: the connection's task.
 * Ownership: consumes ws.
 */
RILL_API void rill_ws_conn_free(rill_ws_conn_t *ws);

#ifdef __cplusplus
}
#endif

#endif /* RILL_WS_H */
