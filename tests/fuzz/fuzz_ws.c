/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ws.c - the WebSocket frame decoder (and the server's encoder).
 *
 * The first input byte picks a mode:
 *   raw         the rest is bytes from a client, decoded twice: all at
 *               once, and in pieces whose sizes come from the input. Both
 *               runs must give the same messages and end the same way
 *               (the decoder's answer cannot depend on how reads split
 *               the bytes), and the messages must respect the limits.
 *   structured  the input picks a conversation: text (valid UTF-8 or not)
 *               and binary messages cut into fragments with pings and
 *               pongs between them, close frames with any code and reason,
 *               and broken frames (RSV bits, reserved opcodes, unmasked,
 *               oversized or fragmented control frames, continuation
 *               without a message, 2^63 lengths, frames and messages past
 *               the limits). A model written from RFC 6455 says which
 *               messages must come out and how decoding must end (PENDING,
 *               DONE after a close, or EPROTO with 1002 / 1007 / 1009);
 *               the decoder, fed in pieces from the input, must agree.
 *               Each message is also encoded by rill_ws_encode and decoded
 *               back in the client role.
 * The UTF-8 rule of the model is an independent formulation (decode the
 * code point, then reject overlongs, surrogates and values past
 * U+10FFFF), not the library's table of byte ranges.
 */
#include "fuzz.h"
#include "web_util.h"
#include <rill/ws.h>

enum { MAX_MSGS = 48 };

typedef struct result {
    int n;
    rill_ws_message_t m[MAX_MSGS];
    int end;
    unsigned code;
} result_t;

static void result_free(result_t *r)
{
    for (int i = 0; i < r->n; i++)
        rill_bytes_release(&r->m[i].data);
    r->n = 0;
}

/* Decode b[0..n) in pieces: sizes[i % nsizes] each (0 = all at once). */
static void run(const uint8_t *b, size_t n, const uint8_t *sizes, size_t nsizes,
                const rill_ws_decoder_config_t *cfg, result_t *r)
{
    rill_ws_decoder_t d;
    FZ_EQ(rill_ws_decoder_init(&d, cfg), 0);
    r->n = 0;
    size_t off = 0, avail = 0, k = 0;
    for (;;) {
        if (off == avail && avail < n) {
            size_t step = nsizes ? 1 + (size_t)sizes[k++ % nsizes] % 32 : n;
            avail = avail + step < n ? avail + step : n;
        }
        size_t used;
        rill_ws_message_t m;
        int rc = rill_ws_decode(&d, b + off, avail - off, &used, &m);
        FZ_CHECK(used <= avail - off);
        off += used;
        if (rc == 0) {
            FZ_CHECK(r->n < MAX_MSGS);
            r->m[r->n++] = m;
            continue;
        }
        FZ_CHECK(m.data.shared_ == NULL);
        if (rc == RILL_PENDING && avail < n)
            continue;
        FZ_CHECK(rc == RILL_PENDING || rc == RILL_DONE || rc == RILL_EPROTO);
        if (rc == RILL_PENDING)
            FZ_EQ(off, n);
        r->end = rc;
        r->code = rill_ws_decoder_close_code(&d);
        break;
    }
    rill_ws_decoder_destroy(&d);
}

static bool same_msg(const rill_ws_message_t *a, const rill_ws_message_t *b)
{
    return a->opcode == b->opcode && a->close_code == b->close_code &&
           a->data.len == b->data.len &&
           (a->data.len == 0 || !memcmp(a->data.ptr, b->data.ptr, a->data.len));
}

/* ---- the model's UTF-8 rule ---- */

static bool utf8_ok(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t len = c < 0x80         ? 1
                     : (c >> 5) == 6  ? 2
                     : (c >> 4) == 14 ? 3
                     : (c >> 3) == 30 ? 4
                                      : 0;
        if (len == 0 || i + len > n)
            return false;
        uint32_t cp = len == 1 ? c : c & (0x7F >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        i += len;
    }
    return true;
}

/* ---- structured mode ---- */

typedef struct conv {
    wu_buf_t wire;
    rill_ws_message_t want[MAX_MSGS];
    int n;
    int end; /* 0 while going on; then RILL_DONE or RILL_EPROTO */
    unsigned code;
    uint64_t max_frame, max_message;
} conv_t;

static const uint8_t KEYS[4][4] = {{0, 0, 0, 0},
                                   {0x37, 0xfa, 0x21, 0x3d},
                                   {0xff, 0xff, 0xff, 0xff},
                                   {1, 2, 3, 4}};

static void expect(conv_t *c, rill_ws_opcode_t op, const void *p, size_t n,
                   unsigned code)
{
    FZ_CHECK(c->n < MAX_MSGS);
    rill_ws_message_t *m = &c->want[c->n++];
    m->opcode = op;
    m->close_code = code;
    FZ_EQ(rill_bytes_new(&m->data, p, n), 0);
}

static void broken(conv_t *c, unsigned code)
{
    c->end = RILL_EPROTO;
    c->code = code;
}

/* The conversation ends here with a protocol error. */
#define BROKEN(c, code_)                                                       \
    do {                                                                       \
        broken(c, code_);                                                      \
        return;                                                                \
    } while (0)

static void frame(conv_t *c, fz_in_t *in, uint8_t b0, const void *p, uint64_t n)
{
    wu_frame(&c->wire, b0, p, n, KEYS[fz_pick(in, 4)], false);
}

/* A payload of n bytes: text (UTF-8 from a palette, perhaps spoiled) or
 * bytes from the input. */
static size_t payload(fz_in_t *in, uint8_t *out, size_t n, bool text)
{
    if (!text) {
        for (size_t i = 0; i < n; i++)
            out[i] = (uint8_t)fz_u8(in);
        return n;
    }
    static const char *const chars[] = {"a",
                                        "Z",
                                        " ",
                                        "\xc3\xa9",
                                        "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80",
                                        "\xed\x9f\xbf",
                                        "\xf4\x8f\xbf\xbf"};
    size_t len = 0;
    while (len < n) {
        const char *ch = chars[fz_pick(in, 8)];
        size_t cl = strlen(ch);
        if (len + cl > n)
            break;
        memcpy(out + len, ch, cl);
        len += cl;
    }
    unsigned spoil = fz_u8(in);
    if (len > 0 && spoil >= 0xF0) /* a bad byte somewhere */
        out[spoil % len] = (uint8_t) "\x80\xc0\xff\xed\xf5"[spoil % 5];
    return len;
}

static void control_frame(conv_t *c, fz_in_t *in)
{
    uint8_t p[125];
    size_t n = fz_pick(in, 126);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)fz_u8(in);
    rill_ws_opcode_t op = fz_u8(in) & 1 ? RILL_WS_PING : RILL_WS_PONG;
    frame(c, in, (uint8_t)(0x80 | op), p, n);
    expect(c, op, p, n, 0);
}

static void data_message(conv_t *c, fz_in_t *in)
{
    bool text = fz_u8(in) & 1;
    uint8_t p[200];
    size_t n = payload(in, p, fz_pick(in, 200), text);
    bool bad_text = text && !utf8_ok(p, n);
    /* Which frame of a spoiled text fails depends on the byte, not the
     * frame; with limits that could also fail a frame, keep it whole. */
    bool limited = c->max_frame < 1 << 20 || c->max_message < 1 << 20;
    size_t frags = bad_text && limited ? 1 : 1 + fz_pick(in, 4), at = 0;
    for (size_t f = 0; f < frags; f++) {
        size_t len =
            f + 1 == frags ? n - at : fz_pick(in, (unsigned)(n - at) + 1);
        uint8_t b0 = (uint8_t)((f + 1 == frags ? 0x80 : 0) |
                               (f == 0 ? (text ? 1 : 2) : 0));
        frame(c, in, b0, p + at, len);
        if (len > c->max_frame || at + len > c->max_message)
            BROKEN(c, 1009);
        at += len;
        /* Control frames between fragments (not inside a spoiled text:
         * where its error is found depends on the byte, not the frame). */
        if (f + 1 < frags && !bad_text && fz_u8(in) % 3 == 0)
            control_frame(c, in);
    }
    if (bad_text)
        BROKEN(c, 1007);
    expect(c, text ? RILL_WS_TEXT : RILL_WS_BINARY, p, n, 0);
}

static void close_frame(conv_t *c, fz_in_t *in)
{
    static const unsigned codes[] = {1000, 1001, 1002, 1003, 1004, 1005, 1006,
                                     1007, 1011, 1012, 1014, 1015, 1016, 2999,
                                     3000, 4999, 5000, 0,    999,  65535};
    unsigned kind = fz_pick(in, 4);
    if (kind == 0) { /* no body */
        frame(c, in, 0x88, "", 0);
        expect(c, RILL_WS_CLOSE, "", 0, 1005);
    } else if (kind == 1) { /* a 1-byte body */
        frame(c, in, 0x88, "\x03", 1);
        BROKEN(c, 1002);
    } else {
        unsigned code = codes[fz_pick(in, 20)];
        uint8_t p[125] = {(uint8_t)(code >> 8), (uint8_t)code};
        size_t n = 2 + payload(in, p + 2, fz_pick(in, 124), true);
        frame(c, in, 0x88, p, n);
        bool valid = (code >= 1000 && code <= 1003) ||
                     (code >= 1007 && code <= 1014) ||
                     (code >= 3000 && code <= 4999);
        if (!valid)
            BROKEN(c, 1002);
        if (!utf8_ok(p + 2, n - 2))
            BROKEN(c, 1007);
        expect(c, RILL_WS_CLOSE, p + 2, n - 2, code);
    }
    c->end = RILL_DONE;
    /* Whatever follows a close is ignored. */
    size_t junk = fz_pick(in, 8);
    for (size_t i = 0; i < junk; i++) {
        uint8_t x = (uint8_t)fz_u8(in);
        wu_put(&c->wire, &x, 1);
    }
}

static void bad_frame(conv_t *c, fz_in_t *in)
{
    static const uint8_t reserved[] = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
    uint8_t p[130] = {0};
    switch (fz_pick(in, 7)) {
    case 0: /* RSV bits */
        frame(c, in, (uint8_t)(0x81 | (0x10 << fz_pick(in, 3))), "x", 1);
        BROKEN(c, 1002);
    case 1:
        frame(c, in, (uint8_t)(0x80 | reserved[fz_pick(in, 10)]), "x", 1);
        BROKEN(c, 1002);
    case 2: /* unmasked */
        wu_frame(&c->wire, 0x82, "x", 1, NULL, false);
        BROKEN(c, 1002);
    case 3: /* a control frame of 126..130 bytes, or fragmented */
        if (fz_u8(in) & 1)
            frame(c, in, 0x89, p, 126 + fz_pick(in, 5));
        else
            frame(c, in, (uint8_t)(0x08 + fz_pick(in, 3)), p, 0);
        BROKEN(c, 1002);
    case 4: /* continuation without a message */
        frame(c, in, (uint8_t)(fz_u8(in) & 0x80), "x", 1);
        BROKEN(c, 1002);
    case 5: /* a 64-bit length with the top bit set */
        wu_frame(&c->wire, 0x82, NULL, (1ull << 63) | fz_u8(in), KEYS[1], true);
        BROKEN(c, 1002);
    default: /* a new message inside a fragmented one */
        frame(c, in, 0x01, "a", 1);
        frame(c, in, fz_u8(in) & 1 ? 0x81 : 0x02, "b", 1);
        BROKEN(c, 1002);
    }
}

static void run_structured(fz_in_t *in)
{
    conv_t c = {0};
    rill_ws_decoder_config_t cfg = {0};
    unsigned lim = fz_u8(in);
    cfg.max_frame = lim & 1 ? 1 + fz_pick(in, 200) : 0;
    cfg.max_message = lim & 2 ? 1 + fz_pick(in, 250) : 0;
    c.max_frame = cfg.max_frame ? cfg.max_frame : 1 << 20;
    c.max_message = cfg.max_message ? cfg.max_message : 1 << 20;
    int actions = 1 + (int)fz_pick(in, 12);
    for (int a = 0; a < actions && !c.end; a++) {
        unsigned what = fz_pick(in, 16);
        if (what < 8)
            data_message(&c, in);
        else if (what < 12)
            control_frame(&c, in);
        else if (what < 14)
            close_frame(&c, in);
        else
            bad_frame(&c, in);
    }
    if (!c.end)
        c.end = RILL_PENDING;
    /* Decode in pieces from the input, then all at once. */
    uint8_t sizes[16];
    size_t ns = 0;
    while (ns < sizeof sizes && fz_more(in))
        sizes[ns++] = (uint8_t)fz_u8(in);
    result_t r;
    for (int pass = 0; pass < 2; pass++) {
        run((const uint8_t *)c.wire.p, c.wire.len, sizes, pass ? 0 : ns, &cfg,
            &r);
        FZ_EQ(r.n, c.n);
        for (int i = 0; i < r.n; i++)
            FZ_CHECK(same_msg(&r.m[i], &c.want[i]));
        FZ_EQ(r.end, c.end);
        if (c.end == RILL_EPROTO)
            FZ_EQ(r.code, c.code);
        result_free(&r);
    }
    /* The server's encoder, read back by a client. */
    rill_ws_decoder_config_t client = {.role = RILL_WS_CLIENT};
    for (int i = 0; i < c.n; i++) {
        rill_ws_message_t *m = &c.want[i];
        rill_bytes_t f;
        if (m->opcode == RILL_WS_CLOSE)
            FZ_EQ(rill_ws_encode_close(
                      &f, m->close_code == 1005 ? 0 : m->close_code,
                      (const char *)m->data.ptr, m->data.len),
                  0);
        else
            FZ_EQ(rill_ws_encode(&f, m->opcode, m->data.ptr, m->data.len), 0);
        run(f.ptr, f.len, sizes, ns, &client, &r);
        FZ_EQ(r.n, 1);
        FZ_CHECK(same_msg(&r.m[0], m));
        result_free(&r);
        rill_bytes_release(&f);
    }
    for (int i = 0; i < c.n; i++)
        rill_bytes_release(&c.want[i].data);
    free(c.wire.p);
}

/* ---- raw mode ---- */

static void run_raw(fz_in_t *in)
{
    rill_ws_decoder_config_t cfg = {0};
    unsigned k = fz_u8(in);
    cfg.role = k & 1 ? RILL_WS_CLIENT : RILL_WS_SERVER;
    cfg.max_frame = k & 2 ? 1 + fz_u8(in) : 0;
    cfg.max_message = k & 4 ? 1 + fz_u8(in) : 0;
    uint8_t sizes[8];
    size_t ns = 0;
    while (ns < sizeof sizes && fz_more(in))
        sizes[ns++] = (uint8_t)fz_u8(in);
    result_t a, b;
    run(in->p, in->n, NULL, 0, &cfg, &a);
    run(in->p, in->n, sizes, ns, &cfg, &b);
    FZ_EQ(a.n, b.n);
    FZ_EQ(a.end, b.end);
    FZ_EQ(a.code, b.code);
    uint64_t maxm = cfg.max_message ? cfg.max_message : 1 << 20;
    for (int i = 0; i < a.n; i++) {
        FZ_CHECK(same_msg(&a.m[i], &b.m[i]));
        FZ_CHECK(a.m[i].data.len <= maxm || a.m[i].opcode >= RILL_WS_CLOSE);
        if (a.m[i].opcode == RILL_WS_TEXT)
            FZ_CHECK(utf8_ok(a.m[i].data.ptr, a.m[i].data.len));
        if (a.m[i].opcode == RILL_WS_CLOSE)
            FZ_CHECK(i == a.n - 1 && a.end == RILL_DONE);
    }
    if (a.end == RILL_EPROTO)
        FZ_CHECK(a.code == 1002 || a.code == 1007 || a.code == 1009);
    result_free(&a);
    result_free(&b);
}

static void body(fz_in_t *in)
{
    if (fz_u8(in) & 1)
        run_structured(in);
    else
        run_raw(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}
