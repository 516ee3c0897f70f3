/* SPDX-License-Identifier: MIT */
/*
 * ws_conn.c - WebSocket connections on the HTTP server: the reading side
 * in the handler's task, the writing side in a writer task.
 *
 * Outgoing frames (rill_bytes_t, encoded once, possibly shared with other
 * connections) go through a bounded mpsc channel to the writer task,
 * which writes whatever is queued with one writev, pings the client every
 * ping_interval and, when no pong came within pong_timeout, closes the
 * socket (the reader then ends with RILL_ETIMEDOUT). The channel is what
 * makes a slow client push back: senders wait while it is full.
 *
 * The reader (rill_ws_recv, or the stream of rill_ws_incoming) is one
 * poll function: decode what is buffered; answer pings (queued pongs),
 * note pongs, answer a close (the closing handshake) and end; otherwise
 * read more (try first, then wait for readiness), watching the server's
 * stop signal (then close with 1001) and, once we sent a close, the
 * close_timeout.
 *
 * Shared between the two sides, as atomics: last_pong (reader writes,
 * writer reads: relaxed, an instant with no data behind it), close_sent
 * (whichever side queues a close first; acq_rel exchange so it happens
 * once), timed_out (writer sets before closing the socket; the reader
 * reads it after the socket reports closed: release/acquire pair, though
 * the close itself also orders them).
 */
#include "core/atomic.h"
#include "core/core.h"
#include "net/net_int.h"
#include "rill/io.h"
#include "rill/oneshot.h"
#include "rill/rt.h"
#include "rill/stream.h"
#include "rill/sync.h"
#include "rill/ws.h"
#include "rt/rt.h"

#include <stdio.h>
#include <string.h>

enum { READ_BUF = 4096, BATCH = 64, DEFAULT_QUEUE = 256 };

struct rill_ws_conn {
    rill_http_conn_t *c;
    rill_io_t *io;
    rill_ws_config_t cfg;
    const char *protocol;
    rill_ws_decoder_t dec;
    unsigned char buf[READ_BUF];
    size_t off, len;
    rill_sender_t *tx;
    rill_receiver_t *rx; /* the writer's */
    rill_task_t *writer;
    rill_oneshot_sender_t *writer_done_tx; /* the writer's, sent as it ends */
    rill_oneshot_receiver_t *writer_done_rx;
    _Atomic int64_t last_pong;
    _Atomic int close_sent;
    _Atomic int timed_out;
    rill_instant_t close_deadline;
    unsigned peer_code;
    rill_io_op_t readable;
    bool readable_armed;
    rill_sleep_op_t timer;
    bool timer_armed;
    bool done;
    int end_rc;
};

const char *rill_ws_protocol(const rill_ws_conn_t *ws)
{
    return ws ? ws->protocol : NULL;
}

unsigned rill_ws_close_code(const rill_ws_conn_t *ws)
{
    return ws ? ws->peer_code : 0;
}

/* ---- the writer task ---- */

static void *writer_main(void *arg)
{
    rill_ws_conn_t *ws = arg;
    rill_bytes_t frames[BATCH];
    struct iovec iov[BATCH];
    rill_duration_t interval = ws->cfg.ping_interval;
    rill_instant_t next_ping =
        interval > 0 ? rill_now() + interval : RILL_FOREVER;
    rill_instant_t ping_sent = 0; /* 0: no ping waits for its pong */
    for (;;) {
        rill_instant_t now = rill_now(), wake = next_ping;
        if (ping_sent && rill__load(&ws->last_pong, RILL_RELAXED) >= ping_sent)
            ping_sent = 0; /* answered */
        if (ping_sent && ping_sent + ws->cfg.pong_timeout < wake)
            wake = ping_sent + ws->cfg.pong_timeout;
        size_t n = 0;
        int rc = wake == RILL_FOREVER
                     ? rill_recv_many(ws->rx, frames, BATCH, &n)
                     : rill_recv_many_timeout(ws->rx, frames, BATCH, &n,
                                              wake > now ? wake - now : 0);
        if (rc == 0) {
            for (size_t i = 0; i < n; i++)
                iov[i] = (struct iovec){(void *)(uintptr_t)frames[i].ptr,
                                        frames[i].len};
            rc = rill__writev_all(ws->io, iov, (int)n);
            for (size_t i = 0; i < n; i++)
                rill_bytes_release(&frames[i]);
            if (rc != 0)
                break; /* the peer is gone: the reader finds out too */
            continue;
        }
        if (rc != RILL_ETIMEDOUT)
            break; /* every sender released and the queue drained */
        now = rill_now();
        if (ping_sent && rill__load(&ws->last_pong, RILL_RELAXED) < ping_sent &&
            now >= ping_sent + ws->cfg.pong_timeout) {
            /* release: pairs with the reader's acquire load after the
             * socket reports closed. */
            rill__store(&ws->timed_out, 1, RILL_RELEASE);
            rill_io_close(ws->io);
            break;
        }
        if (now >= next_ping) {
            static const uint8_t ping[2] = {0x89, 0x00};
            if (rill_io_write_all(ws->io, ping, 2, NULL) != 0)
                break;
            if (!ping_sent)
                ping_sent = now;
            next_ping = now + interval;
        }
    }
    /* Drop what is still queued (the connection is over). */
    rill_receiver_release(ws->rx);
    ws->rx = NULL;
    char one = 1;
    /* Cannot fail: rill_ws_conn_free releases the receiver only after it
     * has joined this task. */
    RILL__DISCARD(rill_oneshot_send(ws->writer_done_tx, &one));
    return NULL;
}

/* ---- queuing ---- */

static int queue(rill_ws_conn_t *ws, rill_bytes_t *frame, bool wait)
{
    int rc = wait ? rill_send(ws->tx, frame) : rill_try_send(ws->tx, frame);
    if (rc != 0)
        rill_bytes_release(frame);
    return rc;
}

/* Queue a close frame once (from either side); later calls do nothing. */
static int queue_close(rill_ws_conn_t *ws, unsigned code, const char *reason)
{
    rill_bytes_t f;
    int rc =
        rill_ws_encode_close(&f, code, reason, reason ? strlen(reason) : 0);
    if (rc != 0)
        return rc;
    /* acq_rel: exactly one close frame, whichever side gets here first. */
    if (rill__xchg(&ws->close_sent, 1, RILL_ACQ_REL)) {
        rill_bytes_release(&f);
        return 0;
    }
    ws->close_deadline = rill_now() + ws->cfg.close_timeout;
    return queue(ws, &f, false);
}

int rill_ws_send_frame(rill_ws_conn_t *ws, const rill_bytes_t *frame)
{
    if (!ws || !frame || !frame->len)
        return RILL_MISUSE("rill_ws_send_frame", "NULL or empty frame");
    if (rill__load(&ws->close_sent, RILL_ACQUIRE))
        return RILL_ECLOSED;
    rill_bytes_t f = rill_bytes_clone(frame);
    return queue(ws, &f, true);
}

int rill_ws_send(rill_ws_conn_t *ws, rill_ws_opcode_t op, const void *data,
                 size_t len)
{
    if (!ws)
        return RILL_MISUSE("rill_ws_send", "NULL connection");
    if (rill__load(&ws->close_sent, RILL_ACQUIRE))
        return RILL_ECLOSED;
    rill_bytes_t f;
    int rc = rill_ws_encode(&f, op, data, len);
    return rc != 0 ? rc : queue(ws, &f, true);
}

int rill_ws_outgoing(rill_ws_conn_t *ws, rill_sender_t **tx)
{
    if (!ws || !tx)
        return RILL_MISUSE("rill_ws_outgoing", "NULL argument");
    return rill_sender_clone(ws->tx, tx);
}

int rill_ws_close(rill_ws_conn_t *ws, unsigned code, const char *reason)
{
    if (!ws)
        return RILL_MISUSE("rill_ws_close", "NULL connection");
    return queue_close(ws, code, reason);
}

/* ---- the reader ---- */

static int finish(rill_ws_conn_t *ws, int rc)
{
    ws->done = true;
    ws->end_rc = rc;
    if (!ws->peer_code)
        ws->peer_code = RILL_WS_CLOSE_ABNORMAL;
    return rc;
}

static int poll_recv(rill_ws_conn_t *ws, rill_cx_t *cx, rill_ws_message_t *msg)
{
    for (;;) {
        if (ws->done)
            return ws->end_rc;
        size_t used;
        int rc = rill_ws_decode(&ws->dec, ws->buf + ws->off, ws->len - ws->off,
                                &used, msg);
        ws->off += used;
        if (rc == 0) {
            switch (msg->opcode) {
            case RILL_WS_TEXT:
            case RILL_WS_BINARY:
                return 0;
            case RILL_WS_PING: {
                rill_bytes_t pong;
                if (rill_ws_encode(&pong, RILL_WS_PONG, msg->data.ptr,
                                   msg->data.len) == 0)
                    (void)queue(ws, &pong, false); /* full: the client is
                                                      not reading anyway */
                break;
            }
            case RILL_WS_PONG:
                rill__store(&ws->last_pong, rill_now(), RILL_RELAXED);
                break;
            default: /* RILL_WS_CLOSE */
                ws->peer_code = msg->close_code;
                rill_bytes_release(&msg->data);
                /* Echo the code (none if the peer sent none). */
                (void)queue_close(ws,
                                  msg->close_code == RILL_WS_CLOSE_NO_STATUS
                                      ? 0
                                      : msg->close_code,
                                  NULL);
                return finish(ws, RILL_DONE);
            }
            rill_bytes_release(&msg->data);
            continue;
        }
        if (rc == RILL_EPROTO) {
            (void)queue_close(ws, rill_ws_decoder_close_code(&ws->dec), NULL);
            return finish(ws, RILL_EPROTO);
        }
        if (rc == RILL_DONE)
            return finish(ws, RILL_DONE);
        if (rc != RILL_PENDING)
            return rc; /* RILL_ENOMEM: the caller may try again */
        /* Everything buffered is consumed: read more. */
        ws->off = ws->len = 0;
        if (!rill__load(&ws->close_sent, RILL_ACQUIRE) &&
            rill__http_conn_poll_stop(ws->c, cx) != RILL_PENDING)
            (void)queue_close(ws, RILL_WS_CLOSE_GOING_AWAY, NULL);
        size_t n;
        rc = rill_io_try_read(ws->io, ws->buf, sizeof ws->buf, &n);
        if (rc == 0) {
            ws->len = n;
            continue;
        }
        if (rc != RILL_EAGAIN) {
            /* acquire: pairs with the writer's release store. */
            if (rill__load(&ws->timed_out, RILL_ACQUIRE))
                return finish(ws, RILL_ETIMEDOUT);
            return finish(ws, rc);
        }
        if (!ws->readable_armed) {
            rill_io_ready_op(&ws->readable, ws->io, RILL_IO_READ);
            ws->readable_armed = true;
        }
        if (rill_future_poll(&ws->readable.base, cx) != RILL_PENDING) {
            ws->readable_armed = false;
            continue; /* readable (or closed): try the read again */
        }
        if (rill__load(&ws->close_sent, RILL_ACQUIRE)) {
            if (!ws->timer_armed) {
                rill_sleep_op(&ws->timer, ws->close_deadline);
                ws->timer_armed = true;
            }
            if (rill_future_poll(&ws->timer.base, cx) != RILL_PENDING) {
                ws->timer_armed = false;
                return finish(ws, RILL_ETIMEDOUT);
            }
        }
        return RILL_PENDING;
    }
}

typedef struct recv_fut {
    rill_future_t base;
    rill_ws_conn_t *ws;
    rill_ws_message_t *msg;
} recv_fut_t;

static int recv_poll(rill_future_t *f, rill_cx_t *cx)
{
    recv_fut_t *r = (recv_fut_t *)f;
    return poll_recv(r->ws, cx, r->msg);
}

static const rill_future_vtable_t recv_vtable = {recv_poll, NULL, NULL, NULL};

int rill_ws_recv(rill_ws_conn_t *ws, rill_ws_message_t *msg)
{
    if (!ws || !msg)
        return RILL_MISUSE("rill_ws_recv", "NULL argument");
    *msg = (rill_ws_message_t){0, 0, RILL_BYTES_EMPTY};
    recv_fut_t f = {{&recv_vtable}, ws, msg};
    return rill_await(&f.base);
}

static int incoming_poll(void *ud, rill_cx_t *cx, void *out)
{
    return poll_recv(ud, cx, out);
}

int rill_ws_incoming(rill_ws_conn_t *ws, rill_stream_t **out)
{
    if (!ws || !out)
        return RILL_MISUSE("rill_ws_incoming", "NULL argument");
    int rc = rill_stream_from_fn(out, sizeof(rill_ws_message_t), incoming_poll,
                                 ws, NULL);
    if (rc == 0)
        rill_stream_set_item_dtor(*out, rill_ws_message_item_dtor, NULL);
    return rc;
}

/* ---- accept and free ---- */

static void refuse(rill_http_conn_t *c, const rill_ws_handshake_t *hs)
{
    rill_http_response_t r = {
        hs->status, "text/plain",
        hs->status == 426 ? "Sec-WebSocket-Version: 13\r\n" : NULL, hs->error,
        strlen(hs->error)};
    /* The connection closes after this reply: if it cannot be sent,
     * there is nobody left to tell. */
    RILL__DISCARD(rill_http_send_response(c, &r));
}

int rill_ws_accept(rill_ws_conn_t **out, rill_http_conn_t *c,
                   const rill_http_request_t *req, const rill_ws_config_t *cfg)
{
    if (!out || !c || !req)
        return RILL_MISUSE("rill_ws_accept", "NULL argument");
    *out = NULL;
    rill_ws_handshake_t hs;
    int rc = rill_ws_handshake(req, &hs, cfg ? &cfg->handshake : NULL);
    if (rc != 0) {
        refuse(c, &hs);
        return rc;
    }
    rill_ws_conn_t *ws = rill__calloc(1, sizeof *ws);
    if (!ws)
        return RILL_ENOMEM;
    if (cfg)
        ws->cfg = *cfg;
    if (!ws->cfg.ping_interval)
        ws->cfg.ping_interval = RILL_SEC(30);
    if (!ws->cfg.pong_timeout)
        ws->cfg.pong_timeout = RILL_SEC(10);
    if (!ws->cfg.close_timeout)
        ws->cfg.close_timeout = RILL_SEC(5);
    if (!ws->cfg.queue)
        ws->cfg.queue = DEFAULT_QUEUE;
    rill_ws_decoder_config_t dc = {ws->cfg.max_frame, ws->cfg.max_message,
                                   RILL_WS_SERVER};
    rill_channel_config_t opts = {"ws-out", rill_bytes_item_dtor, NULL};
    rc = rill_ws_decoder_init(&ws->dec, &dc);
    if (rc == 0)
        rc =
            rill_oneshot_new(&ws->writer_done_tx, &ws->writer_done_rx, 1, NULL);
    if (rc == 0) {
        rc = rill_channel_new(&ws->tx, &ws->rx, sizeof(rill_bytes_t),
                              ws->cfg.queue, &opts);
        if (rc != 0) {
            rill_oneshot_sender_release(ws->writer_done_tx);
            rill_oneshot_receiver_release(ws->writer_done_rx);
        }
    }
    if (rc != 0) {
        rill__free(ws);
        return rc;
    }
    ws->c = c;
    ws->io = rill_http_conn_io(c);
    ws->protocol = hs.protocol;
    const char *rest;
    size_t rest_len;
    rill__http_conn_take(c, &rest, &rest_len);
    /* Bytes after the request: the client sent frames before it had our
     * 101 (RFC 6455 4.1: it must wait). Answer the handshake, then close
     * with 1002: rill_ws_recv returns RILL_EPROTO. */
    bool early = rest_len > 0;
    char resp[256];
    size_t n = rill_ws_handshake_response(&hs, resp, sizeof resp);
    rc = n ? rill_io_write_all(ws->io, resp, n, NULL) : RILL_EINVAL;
    rill_spawn_config_t so = {.name = "ws-writer"};
    if (rc == 0)
        rc = rill_spawn(&ws->writer, writer_main, ws, &so);
    if (rc != 0) {
        rill_sender_release(ws->tx);
        rill_receiver_release(ws->rx);
        rill_oneshot_sender_release(ws->writer_done_tx);
        rill_oneshot_receiver_release(ws->writer_done_rx);
        rill_ws_decoder_destroy(&ws->dec);
        rill__free(ws);
        return rc;
    }
    if (early) {
        (void)queue_close(ws, RILL_WS_CLOSE_PROTOCOL_ERROR, NULL);
        finish(ws, RILL_EPROTO);
    }
    *out = ws;
    return 0;
}

void rill_ws_conn_free(rill_ws_conn_t *ws)
{
    if (!ws)
        return;
    if (ws->readable_armed)
        rill_future_cancel(&ws->readable.base);
    if (ws->timer_armed)
        rill_sleep_op_cancel(&ws->timer);
    /* The writer drains the queue, then ends (our sender was the last, or
     * the user's outgoing senders are released too). A client that stopped
     * reading could hold it in a write for ever: after close_timeout the
     * socket is closed under it (its write returns RILL_ECLOSED). */
    rill_sender_release(ws->tx);
    char one;
    if (rill_oneshot_recv_timeout(ws->writer_done_rx, &one,
                                  ws->cfg.close_timeout) != 0)
        rill_io_close(ws->io);
    /* Shielded: freed by a cancelled task, ws must still outlive its
     * writer (the close above ends the writer's last write). */
    RILL__DISCARD(rill__join_shielded(ws->writer, NULL));
    rill_oneshot_sender_release(ws->writer_done_tx);
    rill_oneshot_receiver_release(ws->writer_done_rx);
    rill_ws_decoder_destroy(&ws->dec);
    rill__free(ws);
}
