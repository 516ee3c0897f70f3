/* SPDX-License-Identifier: MIT */
/*
 * test_ws.c - WebSocket (RFC 6455) pieces: SHA-1, base64 and UTF-8
 * against their standards' vectors, the handshake with the RFC's key
 * vector and subprotocol selection, the encoder's three header sizes,
 * and the decoder on the RFC's example frames, fed at every split point,
 * with fragmentation, control frames between fragments, every close code,
 * and each protocol error with its close code (1002, 1007, 1009).
 */
#include "net/net_int.h"
#include "test_util.h"
#include "web_util.h"

#include <rill.h>
#include <stdio.h>
#include <string.h>

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* ---- the primitives ---- */

static void sha1_hex(const void *a, size_t al, const void *b, size_t bl,
                     char hex[41])
{
    uint8_t d[20];
    rill__sha1(a, al, b, bl, d);
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static void test_sha1_base64_utf8(void **state)
{
    (void)state;
    char hex[41];
    sha1_hex("abc", 3, NULL, 0, hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_hex(NULL, 0, NULL, 0, hex);
    assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *m448 =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1_hex(m448, 20, m448 + 20, strlen(m448) - 20, hex); /* two pieces */
    assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    sha1_hex(million, 999999, million, 1, hex);
    assert_string_equal(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(million);

    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                         "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char b[16] = {0};
        rill__base64_encode((const uint8_t *)in[i], strlen(in[i]), b);
        assert_string_equal(b, out[i]);
        assert_true(rill__base64_is(out[i], strlen(out[i]), strlen(in[i])));
    }
    assert_false(rill__base64_is("Zm9v", 4, 2));
    assert_false(rill__base64_is("Zm8*", 4, 2));
    assert_false(rill__base64_is("Zm==", 4, 2));

    const char *good[] = {"",
                          "abc",
                          "\xc2\xa9",
                          "\xe2\x82\xac",
                          "\xf0\x9f\x98\x80",
                          "\xed\x9f\xbf",
                          "\xf4\x8f\xbf\xbf",
                          "\xef\xbb\xbf"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(rill__utf8_valid(good[i], strlen(good[i])));
    const char *bad[] = {"\x80",
                         "\xc0\x80",
                         "\xc1\xbf",
                         "\xe0\x80\x80",
                         "\xe0\x9f\xbf",
                         "\xed\xa0\x80",
                         "\xf0\x80\x80\x80",
                         "\xf0\x8f\xbf\xbf",
                         "\xf4\x90\x80\x80",
                         "\xf5\x80\x80\x80",
                         "\xff",
                         "\xc2",
                         "\xe2\x82",
                         "abcdefgh\xc2zzzzzzz"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(rill__utf8_valid(bad[i], strlen(bad[i])));
    /* Incrementally: a character split anywhere is still one character. */
    const char *euro = "x\xe2\x82\xacy";
    for (size_t k = 0; k <= 5; k++) {
        rill__utf8_t s = RILL__UTF8_INIT;
        assert_true(rill__utf8_feed(&s, (const uint8_t *)euro, k));
        assert_true(rill__utf8_feed(&s, (const uint8_t *)euro + k, 5 - k));
        assert_true(rill__utf8_complete(&s));
    }
}

/* ---- handshake ---- */

static void parse_req(const char *s, rill_http_request_t *req,
                      rill_http_header_t *h)
{
    assert_status(rill_http_parse_request(req, s, strlen(s), h, 16, NULL), 0);
}

static void test_handshake(void **state)
{
    (void)state;
    char accept[RILL_WS_ACCEPT_LEN + 1];
    /* RFC 6455 1.3 */
    assert_status(rill_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, accept),
                  0);
    assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    rill_http_request_t req;
    rill_http_header_t h[16];
    rill_ws_handshake_t hs;
    const char *rfc = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Origin: http://example.com\r\n"
                      "Sec-WebSocket-Protocol: chat, superchat\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    parse_req(rfc, &req, h);
    assert_true(req.upgrade);
    assert_status(rill_ws_handshake(&req, &hs, NULL), 0);
    assert_string_equal(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_null(hs.protocol);
    char resp[256];
    size_t n = rill_ws_handshake_response(&hs, resp, sizeof resp);
    const char *want = "HTTP/1.1 101 Switching Protocols\r\n"
                       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
                       "\r\n\r\n";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(resp, want, n);
    assert_int_equal(rill_ws_handshake_response(&hs, resp, 20), 0);

    /* The server's preference decides among the client's offers. */
    const char *protos[] = {"v2.rill", "superchat", "chat"};
    rill_ws_handshake_config_t cfg = {protos, 3};
    assert_status(rill_ws_handshake(&req, &hs, &cfg), 0);
    assert_string_equal(hs.protocol, "superchat");
    n = rill_ws_handshake_response(&hs, resp, sizeof resp);
    assert_non_null(strstr(resp, "\r\nSec-WebSocket-Protocol: superchat\r\n"));
    const char *none[] = {"other"};
    rill_ws_handshake_config_t cfg2 = {none, 1};
    assert_status(rill_ws_handshake(&req, &hs, &cfg2), 0);
    assert_null(hs.protocol);

    struct {
        const char *req;
        int status;
    } bad[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: "
         "upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
         426},
        {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: "
         "upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 8\r\n\r\n",
         426},
        {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: "
         "upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n",
         400},
        {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: "
         "upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
         400},
        {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: "
         "upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n",
         400},
        {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: "
         "upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
         400},
        {"GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: "
         "upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n",
         400},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        parse_req(bad[i].req, &req, h);
        assert_status(rill_ws_handshake(&req, &hs, NULL), RILL_EPROTO);
        assert_int_equal(hs.status, bad[i].status);
        assert_non_null(hs.error);
    }
    assert_status(rill_ws_handshake(NULL, &hs, NULL), RILL_EINVAL);
}

/* ---- encoder ---- */

static void test_encode(void **state)
{
    (void)state;
    rill_bytes_t f;
    assert_status(rill_ws_encode(&f, RILL_WS_TEXT, "Hello", 5), 0);
    assert_int_equal(f.len, 7); /* RFC 6455 5.7, unmasked */
    assert_memory_equal(f.ptr, "\x81\x05Hello", 7);
    rill_bytes_release(&f);
    static char big[70000];
    size_t lens[] = {0, 125, 126, 65535, 65536, 70000};
    size_t hls[] = {2, 2, 4, 4, 10, 10};
    for (int i = 0; i < 6; i++) {
        assert_status(rill_ws_encode(&f, RILL_WS_BINARY, big, lens[i]), 0);
        assert_int_equal(f.len, lens[i] + hls[i]);
        assert_int_equal(f.ptr[0], 0x82);
        uint8_t h[RILL_WS_MAX_HEADER];
        assert_int_equal(rill_ws_frame_header(h, RILL_WS_BINARY, true, lens[i]),
                         hls[i]);
        assert_memory_equal(h, f.ptr, hls[i]);
        /* A client (decoder in the client role) reads it back. */
        rill_ws_decoder_t d;
        rill_ws_decoder_config_t cfg = {.role = RILL_WS_CLIENT};
        assert_status(rill_ws_decoder_init(&d, &cfg), 0);
        size_t used;
        rill_ws_message_t m;
        assert_status(rill_ws_decode(&d, f.ptr, f.len, &used, &m), 0);
        assert_int_equal(used, f.len);
        assert_int_equal(m.opcode, RILL_WS_BINARY);
        assert_int_equal(m.data.len, lens[i]);
        rill_bytes_release(&m.data);
        rill_ws_decoder_destroy(&d);
        rill_bytes_release(&f);
    }
    assert_status(rill_ws_encode(&f, RILL_WS_PING, big, 125), 0);
    rill_bytes_release(&f);
    assert_status(rill_ws_encode(&f, RILL_WS_PING, big, 126), RILL_EINVAL);
    assert_status(rill_ws_encode(&f, RILL_WS_CLOSE, big, 2), RILL_EINVAL);
    assert_status(rill_ws_encode(&f, RILL_WS_CONTINUATION, big, 2),
                  RILL_EINVAL);
    assert_status(rill_ws_encode(&f, (rill_ws_opcode_t)3, big, 2), RILL_EINVAL);
    assert_status(rill_ws_encode(&f, RILL_WS_TEXT, "\xc0\x80", 2), RILL_EINVAL);
    assert_null(f.shared_);
    assert_status(rill_ws_encode(&f, RILL_WS_TEXT, NULL, 1), RILL_EINVAL);
    uint8_t h[RILL_WS_MAX_HEADER];
    assert_int_equal(rill_ws_frame_header(h, RILL_WS_PING, false, 1), 0);
    assert_int_equal(rill_ws_frame_header(h, RILL_WS_CONTINUATION, false, 1),
                     2);
    assert_int_equal(h[0], 0x00);
    assert_int_equal(rill_ws_frame_header(h, RILL_WS_TEXT, true, 1ull << 63),
                     0);

    assert_status(rill_ws_encode_close(&f, 1000, "bye", 3), 0);
    assert_memory_equal(f.ptr,
                        "\x88\x05\x03\xe8"
                        "bye",
                        7);
    rill_bytes_release(&f);
    assert_status(rill_ws_encode_close(&f, 0, NULL, 0), 0);
    assert_memory_equal(f.ptr, "\x88\x00", 2);
    rill_bytes_release(&f);
    assert_status(rill_ws_encode_close(&f, 1005, NULL, 0), RILL_EINVAL);
    assert_status(rill_ws_encode_close(&f, 0, "x", 1), RILL_EINVAL);
    assert_status(rill_ws_encode_close(&f, 1000, big, 124), RILL_EINVAL);
    assert_status(rill_ws_encode_close(&f, 1000, "\xff", 1), RILL_EINVAL);
}

/* ---- decoder ---- */

typedef struct run {
    int n;
    rill_ws_message_t m[16];
    int end;       /* the last status: RILL_PENDING, RILL_DONE, RILL_EPROTO */
    unsigned code; /* close code after RILL_EPROTO */
} run_t;

/* Decode s[0..len) fed `step` bytes at a time. */
static void decode(const void *s, size_t len, size_t step,
                   const rill_ws_decoder_config_t *cfg, run_t *r)
{
    rill_ws_decoder_t d;
    assert_status(rill_ws_decoder_init(&d, cfg), 0);
    memset(r, 0, sizeof *r);
    const uint8_t *b = s;
    size_t off = 0, avail = 0;
    for (;;) {
        if (off == avail && avail < len)
            avail = avail + step < len ? avail + step : len;
        size_t used;
        rill_ws_message_t m;
        int rc = rill_ws_decode(&d, b + off, avail - off, &used, &m);
        assert_true(used <= avail - off);
        off += used;
        if (rc == 0) {
            assert_true(r->n < 16);
            r->m[r->n++] = m;
            continue;
        }
        assert_null(m.data.shared_);
        if (rc == RILL_PENDING && avail < len)
            continue;
        r->end = rc;
        r->code = rill_ws_decoder_close_code(&d);
        break;
    }
    rill_ws_decoder_destroy(&d);
}

static void run_free(run_t *r)
{
    for (int i = 0; i < r->n; i++)
        rill_ws_message_item_dtor(&r->m[i], NULL);
}

static bool msg_is(const rill_ws_message_t *m, rill_ws_opcode_t op,
                   const char *data, size_t len)
{
    return m->opcode == op && m->data.len == len &&
           (len == 0 || memcmp(m->data.ptr, data, len) == 0);
}

static void test_rfc_examples(void **state)
{
    (void)state;
    /* RFC 6455 5.7: a masked "Hello" from a client. */
    const uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                              0x7f, 0x9f, 0x4d, 0x51, 0x58};
    /* Fragmented unmasked text "Hel" + "lo", then an unmasked ping. */
    const uint8_t frag[] = {0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c,
                            0x6f, 0x89, 0x05, 'H',  'e',  'l',  'l',  'o'};
    rill_ws_decoder_config_t client = {.role = RILL_WS_CLIENT};
    for (size_t step = 1; step <= sizeof frag; step++) {
        run_t r;
        decode(masked, sizeof masked, step, NULL, &r);
        assert_int_equal(r.n, 1);
        assert_true(msg_is(&r.m[0], RILL_WS_TEXT, "Hello", 5));
        assert_status(r.end, RILL_PENDING);
        run_free(&r);
        decode(frag, sizeof frag, step, &client, &r);
        assert_int_equal(r.n, 2);
        assert_true(msg_is(&r.m[0], RILL_WS_TEXT, "Hello", 5));
        assert_true(msg_is(&r.m[1], RILL_WS_PING, "Hello", 5));
        run_free(&r);
        /* The same unmasked frames from a "client" are a protocol error. */
        decode(frag, sizeof frag, step, NULL, &r);
        assert_status(r.end, RILL_EPROTO);
        assert_int_equal(r.code, 1002);
        assert_int_equal(r.n, 0);
    }
}

static void test_fragmentation(void **state)
{
    (void)state;
    /* text "héllo wörld" in three fragments, split inside a character,
     * with a ping and a pong between them, then binary 300 bytes (16-bit
     * length), an empty text, and a close. */
    const char *txt = "h\xc3\xa9llo w\xc3\xb6rld";
    wu_buf_t s = {0};
    wu_frame(&s, 0x01, txt, 2, KEY, false);     /* "h\xc3" */
    wu_frame(&s, 0x89, "p1", 2, KEY, false);    /* ping */
    wu_frame(&s, 0x00, txt + 2, 8, KEY, false); /* "\xa9llo w\xc3" */
    wu_frame(&s, 0x8A, "", 0, KEY, false);      /* pong */
    wu_frame(&s, 0x80, txt + 10, strlen(txt) - 10, KEY, true); /* 64-bit */
    static uint8_t bin[300];
    for (int i = 0; i < 300; i++)
        bin[i] = (uint8_t)i;
    wu_frame(&s, 0x82, bin, 300, KEY, false);
    wu_frame(&s, 0x81, "", 0, KEY, false);
    wu_frame(&s, 0x88,
             "\x03\xe9"
             "going",
             7, KEY, false);
    wu_frame(&s, 0x81, "ignored", 7, KEY, false);
    for (size_t step = 1; step <= s.len; step += step < 20 ? 1 : 37) {
        run_t r;
        decode(s.p, s.len, step, NULL, &r);
        assert_int_equal(r.n, 6);
        assert_true(msg_is(&r.m[0], RILL_WS_PING, "p1", 2));
        assert_true(msg_is(&r.m[1], RILL_WS_PONG, "", 0));
        assert_true(msg_is(&r.m[2], RILL_WS_TEXT, txt, strlen(txt)));
        assert_true(msg_is(&r.m[3], RILL_WS_BINARY, (char *)bin, 300));
        assert_true(msg_is(&r.m[4], RILL_WS_TEXT, "", 0));
        assert_true(msg_is(&r.m[5], RILL_WS_CLOSE, "going", 5));
        assert_int_equal(r.m[5].close_code, 1001);
        assert_status(r.end, RILL_DONE);
        run_free(&r);
    }
    free(s.p);
}

/* Decode one buffer made of frames; expect EPROTO with `code` after
 * `msgs` messages, whatever the split. */
static void expect_error(const wu_buf_t *s, unsigned code, int msgs,
                         const rill_ws_decoder_config_t *cfg)
{
    for (size_t step = 1; step <= s->len; step += step < 16 ? 1 : 53) {
        run_t r;
        decode(s->p, s->len, step, cfg, &r);
        if (r.end != RILL_EPROTO || r.code != code || r.n != msgs)
            fail_msg("step %zu: end %d code %u after %d messages; want "
                     "RILL_EPROTO %u after %d",
                     step, r.end, r.code, r.n, code, msgs);
        run_free(&r);
    }
}

static void test_protocol_errors(void **state)
{
    (void)state;
    wu_buf_t s = {0};
    /* RSV1, RSV2, RSV3 */
    for (int rsv = 0x10; rsv <= 0x40; rsv <<= 1) {
        s.len = 0;
        wu_frame(&s, (uint8_t)(0x81 | rsv), "x", 1, KEY, false);
        expect_error(&s, 1002, 0, NULL);
    }
    /* Reserved opcodes, data and control. */
    for (int op = 3; op <= 0xF; op++) {
        if (op >= 8 && op <= 0xA)
            continue;
        s.len = 0;
        wu_frame(&s, (uint8_t)(0x80 | op), "x", 1, KEY, false);
        expect_error(&s, 1002, 0, NULL);
    }
    /* A control frame of 126 bytes; a fragmented ping. */
    static char p126[126];
    s.len = 0;
    wu_frame(&s, 0x89, p126, 126, KEY, false);
    expect_error(&s, 1002, 0, NULL);
    s.len = 0;
    wu_frame(&s, 0x09, "x", 1, KEY, false);
    expect_error(&s, 1002, 0, NULL);
    /* Continuation with nothing to continue; text inside a fragmented
     * message. */
    s.len = 0;
    wu_frame(&s, 0x80, "x", 1, KEY, false);
    expect_error(&s, 1002, 0, NULL);
    s.len = 0;
    wu_frame(&s, 0x01, "x", 1, KEY, false);
    wu_frame(&s, 0x89, "", 0, KEY, false);
    wu_frame(&s, 0x81, "y", 1, KEY, false);
    expect_error(&s, 1002, 1, NULL); /* the ping got through first */
    /* A 64-bit length with the top bit set: 1002; 2^63 - 1: too big. */
    s.len = 0;
    wu_frame(&s, 0x82, NULL, 1ull << 63, KEY, true);
    expect_error(&s, 1002, 0, NULL);
    s.len = 0;
    wu_frame(&s, 0x82, NULL, (1ull << 63) - 1, KEY, true);
    expect_error(&s, 1009, 0, NULL);
    /* Frame and message limits. */
    rill_ws_decoder_config_t lim = {.max_frame = 10, .max_message = 25};
    static char big[128];
    s.len = 0;
    wu_frame(&s, 0x82, big, 10, KEY, false);
    wu_frame(&s, 0x82, big, 11, KEY, false);
    expect_error(&s, 1009, 1, &lim);
    s.len = 0;
    wu_frame(&s, 0x02, big, 10, KEY, false);
    wu_frame(&s, 0x00, big, 10, KEY, false);
    wu_frame(&s, 0x89, big, 100, KEY, false); /* control frames don't count */
    wu_frame(&s, 0x80, big, 6, KEY, false);
    expect_error(&s, 1009, 1, &lim);
    s.len = 0;
    wu_frame(&s, 0x02, big, 10, KEY, false);
    wu_frame(&s, 0x00, big, 10, KEY, false);
    wu_frame(&s, 0x80, big, 5, KEY, false);
    {
        run_t r;
        decode(s.p, s.len, 3, &lim, &r);
        assert_int_equal(r.n, 1); /* exactly 25 is allowed */
        assert_int_equal(r.m[0].data.len, 25);
        assert_status(r.end, RILL_PENDING);
        run_free(&r);
    }
    /* Invalid UTF-8: found at the bad byte, before the message ends. */
    s.len = 0;
    wu_frame(&s, 0x01, "ok \xed\xa0\x80", 6, KEY, false);
    expect_error(&s, 1007, 0, NULL);
    s.len = 0;
    wu_frame(&s, 0x01, "ok \xe2\x82", 5, KEY, false);
    wu_frame(&s, 0x80, "", 0, KEY, false); /* ends mid-character */
    expect_error(&s, 1007, 0, NULL);
    s.len = 0;
    wu_frame(&s, 0x82, "\xff", 1, KEY, false); /* binary: anything goes */
    wu_frame(&s, 0x01, "\xff", 1, KEY, false);
    expect_error(&s, 1007, 1, NULL);
    /* Close frames: a 1-byte body, a bad reason. */
    s.len = 0;
    wu_frame(&s, 0x88, "\x03", 1, KEY, false);
    expect_error(&s, 1002, 0, NULL);
    s.len = 0;
    wu_frame(&s, 0x88, "\x03\xe8\xc0\xaf", 4, KEY, false);
    expect_error(&s, 1007, 0, NULL);
    free(s.p);
}

/* Every close code from 0 to 5100: valid ones come through, the others
 * are protocol errors. */
static void test_close_codes(void **state)
{
    (void)state;
    wu_buf_t s = {0};
    int valid = 0;
    for (unsigned code = 0; code <= 5100; code++) {
        uint8_t body[2] = {(uint8_t)(code >> 8), (uint8_t)code};
        s.len = 0;
        wu_frame(&s, 0x88, body, 2, KEY, false);
        rill_ws_decoder_t d;
        assert_status(rill_ws_decoder_init(&d, NULL), 0);
        size_t used;
        rill_ws_message_t m;
        int rc = rill_ws_decode(&d, s.p, s.len, &used, &m);
        bool ok = (code >= 1000 && code <= 1003) ||
                  (code >= 1007 && code <= 1014) ||
                  (code >= 3000 && code <= 4999);
        assert_int_equal(rill_ws_close_code_valid(code), ok);
        if (ok) {
            valid++;
            assert_status(rc, 0);
            assert_int_equal(m.opcode, RILL_WS_CLOSE);
            assert_int_equal(m.close_code, code);
            assert_status(rill_ws_decode(&d, "xyz", 3, &used, &m), RILL_DONE);
            assert_int_equal(used, 3);
            rill_bytes_t f;
            assert_status(rill_ws_encode_close(&f, code, "r", 1), 0);
            rill_bytes_release(&f);
        } else {
            assert_status(rc, RILL_EPROTO);
            assert_int_equal(rill_ws_decoder_close_code(&d), 1002);
        }
        rill_ws_decoder_destroy(&d);
    }
    assert_int_equal(valid, 4 + 8 + 2000);
    /* No body: code 1005 to the application. */
    s.len = 0;
    wu_frame(&s, 0x88, "", 0, KEY, false);
    run_t r;
    decode(s.p, s.len, 1, NULL, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.m[0].close_code, 1005);
    assert_status(r.end, RILL_DONE);
    run_free(&r);
    free(s.p);
}

/* A peer that announces a large frame and sends little holds little: the
 * buffer grows with what arrives. The decoder leaves nothing behind. */
static void test_memory(void **state)
{
    (void)state;
    long before = test_alloc_count();
    rill_ws_decoder_t d;
    assert_status(rill_ws_decoder_init(&d, NULL), 0);
    wu_buf_t s = {0};
    wu_frame(&s, 0x82, NULL, 1000000, KEY, false);
    wu_put(&s, "abcdefgh", 8);
    size_t used;
    rill_ws_message_t m;
    assert_status(rill_ws_decode(&d, s.p, s.len, &used, &m), RILL_PENDING);
    assert_true(d.buf_cap_ <= 256);
    rill_ws_decoder_destroy(&d);
    assert_int_equal(test_alloc_count(), before);
    assert_status(rill_ws_decode(NULL, s.p, 1, &used, &m), RILL_EINVAL);
    rill_ws_decoder_config_t bad = {.role = (rill_ws_role_t)7};
    assert_status(rill_ws_decoder_init(&d, &bad), RILL_EINVAL);
    rill_ws_decoder_destroy(NULL);
    free(s.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1_base64_utf8),
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_fragmentation),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_close_codes),
        cmocka_unit_test(test_memory),
    };
    return test_run(tests, NULL, NULL);
}
