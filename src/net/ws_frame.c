/* SPDX-License-Identifier: MIT */
/*
 * ws_frame.c - WebSocket framing (RFC 6455 5): the server's encoder and
 * the decoder of the peer's frames.
 *
 * Encoder: a server frame is never masked, so its bytes do not depend on
 * the client; rill_ws_encode builds header + payload once into a
 * rill_bytes_t that any number of connections write (docs/web.md has the
 * measurement that made us write this instead of using wslay, whose
 * message queue copies and frames each message per connection).
 *
 * Decoder: a state machine over the bytes as they come.
 *   HEADER   collect 2 bytes, then the extended length and the mask key
 *            (up to 14 bytes in hdr_); check the header as soon as its
 *            first two bytes are in (RSV, opcode, control rules, mask
 *            bit), and the length against the limits before any payload
 *            is read or allocated;
 *   PAYLOAD  unmask into the message buffer (data frames) or ctl_
 *            (control frames, at most 125 bytes), validating text as UTF-8
 *            as it goes (a bad byte fails at once, even mid-message);
 *   then a control frame or a FIN data frame becomes a message;
 *   CLOSED   after a close frame: everything else is ignored (RILL_DONE);
 *   FAILED   after a protocol error: RILL_EPROTO again, close_code_ set.
 * The message buffer grows as payload arrives (doubling, capped at what
 * the frame header announced), so a peer that announces a large frame
 * and sends a few bytes holds only what it sent, and at most max_frame.
 */
#include "core/core.h"
#include "net/net_int.h"
#include "rill/ws.h"
#include "core/bytes.h"

#include <string.h>

enum { ST_HEADER, ST_PAYLOAD, ST_CLOSED, ST_FAILED };
enum { DEFAULT_MAX = 1 << 20 };

bool rill_ws_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static bool is_control(unsigned op)
{
    return op >= 0x8;
}

static bool is_known(unsigned op)
{
    return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

/* ---- encoder ---- */

static size_t header(uint8_t *h, unsigned op, bool fin, uint64_t len)
{
    h[0] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (len < 126) {
        h[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

size_t rill_ws_frame_header(uint8_t hdr[RILL_WS_MAX_HEADER],
                            rill_ws_opcode_t op, bool fin, uint64_t len)
{
    if (!hdr || !is_known((unsigned)op) || len >> 63 ||
        (is_control((unsigned)op) && (!fin || len > 125)))
        return 0;
    return header(hdr, (unsigned)op, fin, len);
}

/* One frame of op with body = a[0..alen) b[0..blen). */
static int encode(rill_bytes_t *out, unsigned op, const void *a, size_t alen,
                  const void *b, size_t blen)
{
    uint8_t h[RILL_WS_MAX_HEADER];
    size_t hl = header(h, op, true, (uint64_t)alen + blen);
    unsigned char *p;
    int rc = rill__bytes_alloc(out, hl + alen + blen, &p);
    if (rc != 0)
        return rc;
    memcpy(p, h, hl);
    if (alen)
        memcpy(p + hl, a, alen);
    if (blen)
        memcpy(p + hl + alen, b, blen);
    return 0;
}

int rill_ws_encode(rill_bytes_t *out, rill_ws_opcode_t op, const void *payload,
                   size_t len)
{
    if (!out)
        return RILL_MISUSE("rill_ws_encode", "NULL out");
    *out = RILL_BYTES_EMPTY;
    if (!payload && len > 0)
        return RILL_MISUSE("rill_ws_encode", "NULL payload");
    if (op != RILL_WS_TEXT && op != RILL_WS_BINARY && op != RILL_WS_PING &&
        op != RILL_WS_PONG)
        return RILL_MISUSE("rill_ws_encode",
                           "opcode %d is not text, binary, "
                           "ping or pong",
                           (int)op);
    if (is_control((unsigned)op) && len > 125)
        return RILL_MISUSE("rill_ws_encode",
                           "control frame of %zu bytes (max 125)", len);
    if (op == RILL_WS_TEXT && !rill__utf8_valid(payload, len))
        return RILL_MISUSE("rill_ws_encode", "text that is not UTF-8");
    return encode(out, (unsigned)op, payload, len, NULL, 0);
}

int rill_ws_encode_close(rill_bytes_t *out, unsigned code, const char *reason,
                         size_t reason_len)
{
    if (!out)
        return RILL_MISUSE("rill_ws_encode_close", "NULL out");
    *out = RILL_BYTES_EMPTY;
    if (code == 0 && reason_len == 0)
        return encode(out, RILL_WS_CLOSE, NULL, 0, NULL, 0);
    if (!rill_ws_close_code_valid(code) || (!reason && reason_len > 0) ||
        reason_len > 123 || !rill__utf8_valid(reason, reason_len))
        return RILL_MISUSE("rill_ws_encode_close",
                           "code %u, or a reason of %zu bytes, or not UTF-8",
                           code, reason_len);
    uint8_t be[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    return encode(out, RILL_WS_CLOSE, be, 2, reason, reason_len);
}

/* ---- decoder ---- */

int rill_ws_decoder_init(rill_ws_decoder_t *d,
                         const rill_ws_decoder_config_t *cfg)
{
    if (!d)
        return RILL_MISUSE("rill_ws_decoder_init", "NULL decoder");
    if (cfg && cfg->role != RILL_WS_SERVER && cfg->role != RILL_WS_CLIENT)
        return RILL_MISUSE("rill_ws_decoder_init", "unknown role %d",
                           (int)cfg->role);
    memset(d, 0, sizeof *d);
    d->max_frame_ = cfg && cfg->max_frame ? cfg->max_frame : DEFAULT_MAX;
    d->max_message_ = cfg && cfg->max_message ? cfg->max_message : DEFAULT_MAX;
    d->role_ = cfg ? (uint8_t)cfg->role : RILL_WS_SERVER;
    d->state_ = ST_HEADER;
    return 0;
}

void rill_ws_decoder_destroy(rill_ws_decoder_t *d)
{
    if (!d)
        return;
    rill__free(d->buf_);
    d->buf_ = NULL;
    d->buf_len_ = d->buf_cap_ = 0;
}

unsigned rill_ws_decoder_close_code(const rill_ws_decoder_t *d)
{
    return d ? d->close_code_ : 0;
}

static int fail(rill_ws_decoder_t *d, unsigned code)
{
    d->state_ = ST_FAILED;
    d->close_code_ = (uint16_t)code;
    rill__free(d->buf_);
    d->buf_ = NULL;
    d->buf_len_ = d->buf_cap_ = 0;
    return RILL_EPROTO;
}

static rill__utf8_t utf8_get(const rill_ws_decoder_t *d)
{
    return (rill__utf8_t){d->utf8_[0], d->utf8_[1], d->utf8_[2]};
}

static void utf8_put(rill_ws_decoder_t *d, rill__utf8_t s)
{
    d->utf8_[0] = s.need;
    d->utf8_[1] = s.lo;
    d->utf8_[2] = s.hi;
}

/* Bytes of header needed once the first two are in. */
static size_t header_len(const rill_ws_decoder_t *d)
{
    unsigned l7 = d->hdr_[1] & 0x7F;
    size_t n = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
    return n + ((d->hdr_[1] & 0x80) ? 4 : 0);
}

/* The first two header bytes are in: the checks that need no length. */
static int check_start(rill_ws_decoder_t *d)
{
    uint8_t b0 = d->hdr_[0], b1 = d->hdr_[1];
    unsigned op = b0 & 0x0F;
    if (b0 & 0x70) /* RSV1-3: no extension is negotiated */
        return fail(d, RILL_WS_CLOSE_PROTOCOL_ERROR);
    if (!is_known(op))
        return fail(d, RILL_WS_CLOSE_PROTOCOL_ERROR);
    bool masked = b1 & 0x80;
    if (masked != (d->role_ == RILL_WS_SERVER))
        return fail(d, RILL_WS_CLOSE_PROTOCOL_ERROR);
    if (is_control(op) && (!(b0 & 0x80) || (b1 & 0x7F) > 125))
        return fail(d, RILL_WS_CLOSE_PROTOCOL_ERROR);
    if (op == RILL_WS_CONTINUATION && !d->msg_op_)
        return fail(d, RILL_WS_CLOSE_PROTOCOL_ERROR);
    if ((op == RILL_WS_TEXT || op == RILL_WS_BINARY) && d->msg_op_)
        return fail(d, RILL_WS_CLOSE_PROTOCOL_ERROR);
    return 0;
}

/* The whole header is in: length, limits, mask. */
static int check_header(rill_ws_decoder_t *d)
{
    unsigned l7 = d->hdr_[1] & 0x7F;
    uint64_t len = l7;
    size_t i = 2;
    if (l7 == 126) {
        len = (uint64_t)d->hdr_[2] << 8 | d->hdr_[3];
        i = 4;
    } else if (l7 == 127) {
        len = 0;
        for (int k = 0; k < 8; k++)
            len = len << 8 | d->hdr_[2 + k];
        i = 10;
        if (len >> 63) /* the most significant bit MUST be 0 */
            return fail(d, RILL_WS_CLOSE_PROTOCOL_ERROR);
    }
    if (d->hdr_[1] & 0x80)
        memcpy(d->mask_, d->hdr_ + i, 4);
    else
        memset(d->mask_, 0, 4);
    d->op_ = d->hdr_[0] & 0x0F;
    d->fin_ = d->hdr_[0] >> 7;
    d->left_ = len;
    d->mask_pos_ = 0;
    d->ctl_len_ = 0;
    if (!is_control(d->op_)) {
        if (len > d->max_frame_ || len > d->max_message_ - d->buf_len_)
            return fail(d, RILL_WS_CLOSE_TOO_BIG);
        if (d->op_ != RILL_WS_CONTINUATION) {
            d->msg_op_ = d->op_;
            utf8_put(d, RILL__UTF8_INIT);
        }
    }
    return 0;
}

/* Copy n payload bytes to dst, removing the mask. */
static void unmask(rill_ws_decoder_t *d, uint8_t *dst, const uint8_t *src,
                   size_t n)
{
    size_t i = 0;
    unsigned pos = d->mask_pos_;
    if (n >= 16) {
        /* Eight bytes at a time with the key rotated to our position. */
        uint8_t k8[8];
        for (int j = 0; j < 8; j++)
            k8[j] = d->mask_[(pos + (unsigned)j) & 3];
        uint64_t k;
        memcpy(&k, k8, 8);
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, src + i, 8);
            w ^= k;
            memcpy(dst + i, &w, 8);
        }
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ d->mask_[(pos + i) & 3];
    d->mask_pos_ = (uint8_t)((pos + n) & 3);
}

/* Room for `more` bytes in the message buffer, growing by doubling but
 * never past `want` (what the current frame still announces). */
static int reserve(rill_ws_decoder_t *d, size_t more, size_t want)
{
    if (d->buf_cap_ - d->buf_len_ >= more)
        return 0;
    size_t need = d->buf_len_ + more, cap = d->buf_cap_ ? d->buf_cap_ * 2 : 256;
    size_t limit = d->buf_len_ + want;
    if (cap > limit)
        cap = limit;
    if (cap < need)
        cap = need;
    unsigned char *nb = rill__realloc(d->buf_, cap);
    if (!nb)
        return RILL_ENOMEM;
    d->buf_ = nb;
    d->buf_cap_ = cap;
    return 0;
}

static void free_buf(void *ud, void *data)
{
    RILL_UNUSED(ud);
    rill__free(data);
}

/* A FIN data frame ended: the message buffer becomes msg->data. */
static int emit_data(rill_ws_decoder_t *d, rill_ws_message_t *msg)
{
    rill__utf8_t u = utf8_get(d);
    if (d->msg_op_ == RILL_WS_TEXT && !rill__utf8_complete(&u))
        return fail(d, RILL_WS_CLOSE_INVALID_DATA);
    msg->data = RILL_BYTES_EMPTY;
    if (d->buf_len_) {
        int rc = rill_bytes_from_buffer(&msg->data, d->buf_, d->buf_len_,
                                        free_buf, NULL);
        if (rc != 0)
            return rc;
    } else {
        rill__free(d->buf_);
    }
    msg->opcode = (rill_ws_opcode_t)d->msg_op_;
    d->buf_ = NULL;
    d->buf_len_ = d->buf_cap_ = 0;
    d->msg_op_ = 0;
    return 0;
}

/* A control frame ended: its payload becomes the message. */
static int emit_control(rill_ws_decoder_t *d, rill_ws_message_t *msg)
{
    const uint8_t *p = d->ctl_;
    size_t n = d->ctl_len_;
    msg->close_code = 0;
    if (d->op_ == RILL_WS_CLOSE) {
        if (n == 1)
            return fail(d, RILL_WS_CLOSE_PROTOCOL_ERROR);
        msg->close_code = RILL_WS_CLOSE_NO_STATUS;
        if (n >= 2) {
            unsigned code = (unsigned)p[0] << 8 | p[1];
            if (!rill_ws_close_code_valid(code))
                return fail(d, RILL_WS_CLOSE_PROTOCOL_ERROR);
            if (!rill__utf8_valid(p + 2, n - 2))
                return fail(d, RILL_WS_CLOSE_INVALID_DATA);
            msg->close_code = code;
            p += 2;
            n -= 2;
        }
    }
    int rc = rill_bytes_new(&msg->data, p, n);
    if (rc != 0)
        return rc;
    msg->opcode = (rill_ws_opcode_t)d->op_;
    if (d->op_ == RILL_WS_CLOSE)
        d->state_ = ST_CLOSED;
    return 0;
}

/* A whole unfragmented data frame's payload p[0..n) is here: unmask it
 * into a new buffer that becomes the message. */
static int whole_frame(rill_ws_decoder_t *d, const uint8_t *p, size_t n,
                       rill_ws_message_t *msg)
{
    unsigned char *dst;
    int rc = rill__bytes_alloc(&msg->data, n, &dst);
    if (rc != 0)
        return rc;
    unmask(d, dst, p, n);
    if (d->op_ == RILL_WS_TEXT && !rill__utf8_valid(dst, n)) {
        rill_bytes_release(&msg->data);
        return fail(d, RILL_WS_CLOSE_INVALID_DATA);
    }
    msg->opcode = (rill_ws_opcode_t)d->op_;
    d->left_ = 0;
    d->msg_op_ = 0;
    d->state_ = ST_HEADER;
    return 0;
}

int rill_ws_decode(rill_ws_decoder_t *d, const void *buf, size_t len,
                   size_t *used, rill_ws_message_t *msg)
{
    if (!d || !used || !msg || (!buf && len > 0))
        return RILL_MISUSE("rill_ws_decode", "NULL argument");
    const uint8_t *b = buf;
    size_t p = 0;
    int rc = 0;
    *msg = (rill_ws_message_t){0, 0, RILL_BYTES_EMPTY};
    for (;;) {
        if (d->state_ == ST_CLOSED) {
            *used = len;
            return RILL_DONE;
        }
        if (d->state_ == ST_FAILED) {
            *used = p;
            return RILL_EPROTO;
        }
        if (d->state_ == ST_HEADER) {
            size_t want = d->hdr_len_ < 2 ? 2 : header_len(d);
            while (d->hdr_len_ < want && p < len)
                d->hdr_[d->hdr_len_++] = b[p++];
            if (d->hdr_len_ < want) {
                *used = p;
                return RILL_PENDING;
            }
            if (want == 2) {
                if ((rc = check_start(d)) != 0)
                    continue;
                if (header_len(d) > 2)
                    continue; /* collect the rest */
            }
            if ((rc = check_header(d)) != 0)
                continue;
            d->hdr_len_ = 0;
            d->state_ = ST_PAYLOAD;
        }
        /* ST_PAYLOAD */
        size_t n = len - p;
        if ((uint64_t)n > d->left_)
            n = (size_t)d->left_;
        /* buf_len_ == 0: none of this frame's payload was taken yet. */
        if (!is_control(d->op_) && d->fin_ && d->op_ != RILL_WS_CONTINUATION &&
            d->buf_len_ == 0 && n == d->left_ && n > 0) {
            /* The common case: a whole message in one frame, all here.
             * Unmask it straight into the bytes handed out (one
             * allocation, no message buffer). */
            rc = whole_frame(d, b + p, n, msg);
            if (rc == RILL_EPROTO)
                continue;
            if (rc != 0) {
                *used = p;
                return rc;
            }
            *used = p + n;
            return 0;
        }
        if (is_control(d->op_)) {
            unmask(d, d->ctl_ + d->ctl_len_, b + p, n);
            d->ctl_len_ = (uint8_t)(d->ctl_len_ + n);
        } else if (n > 0) {
            if ((rc = reserve(d, n, (size_t)d->left_)) != 0) {
                *used = p;
                return rc;
            }
            uint8_t *dst = d->buf_ + d->buf_len_;
            unmask(d, dst, b + p, n);
            d->buf_len_ += n;
            if (d->msg_op_ == RILL_WS_TEXT) {
                rill__utf8_t u = utf8_get(d);
                if (!rill__utf8_feed(&u, dst, n)) {
                    fail(d, RILL_WS_CLOSE_INVALID_DATA);
                    continue;
                }
                utf8_put(d, u);
            }
        }
        p += n;
        d->left_ -= n;
        if (d->left_ > 0) {
            *used = p;
            return RILL_PENDING;
        }
        d->state_ = ST_HEADER;
        if (is_control(d->op_))
            rc = emit_control(d, msg);
        else if (d->fin_)
            rc = emit_data(d, msg);
        else
            continue;
        if (rc == RILL_EPROTO)
            continue;
        if (rc != 0) {
            /* Out of memory: the frame is complete in our state; let the
             * caller come back for it (the same frame is handed out on the
             * next call, with no bytes consumed). */
            d->state_ = ST_PAYLOAD;
            *used = p;
            return rc;
        }
        *used = p;
        return 0;
    }
}

void rill_ws_message_item_dtor(void *item, void *ud)
{
    RILL_UNUSED(ud);
    if (item)
        rill_bytes_release(&((rill_ws_message_t *)item)->data);
}
