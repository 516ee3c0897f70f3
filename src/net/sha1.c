/* SPDX-License-Identifier: MIT */
/*
 * sha1.c - SHA-1 (FIPS 180-4) and base64 (RFC 4648), the two pieces the
 * WebSocket handshake needs to compute Sec-WebSocket-Accept.
 *
 * Written here rather than taken from nettle or libcrypto: the handshake
 * hashes 60 bytes once per connection (not a security use: RFC 6455 only
 * proves that the server understood the request), and a library
 * dependency for that would follow rill into every consumer's link line,
 * its pkg-config file and the aarch64 cross-build. The tests check the
 * FIPS vectors and the RFC's handshake vector.
 *
 * The hash works on one 64-byte block at a time; rill__sha1 takes its
 * message as two pieces (key + GUID) so the caller needs no concatenation
 * buffer.
 */
#include "net/net_int.h"

#include <string.h>

typedef struct sha1 {
    uint32_t h[5];
    uint64_t total; /* bytes hashed */
    uint8_t block[64];
    size_t used; /* bytes in block */
} sha1_t;

static uint32_t rol(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(sha1_t *s, const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
}

static void sha1_update(sha1_t *s, const uint8_t *p, size_t n)
{
    s->total += n;
    while (n > 0) {
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        n -= take;
        if (s->used == 64) {
            sha1_block(s, s->block);
            s->used = 0;
        }
    }
}

void rill__sha1(const void *a, size_t alen, const void *b, size_t blen,
                uint8_t out[RILL__SHA1_LEN])
{
    sha1_t s = {{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0},
                0,
                {0},
                0};
    sha1_update(&s, a, alen);
    sha1_update(&s, b, blen);
    /* Padding: 0x80, zeros to 56 mod 64, the bit length big-endian. */
    uint64_t bits = s.total * 8;
    uint8_t pad[72] = {0x80};
    size_t padlen = (s.used < 56 ? 56 : 120) - s.used;
    for (int i = 0; i < 8; i++)
        pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_update(&s, pad, padlen + 8);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(s.h[i] >> (24 - 8 * j));
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void rill__base64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v =
            (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = b64[v >> 18];
        *out++ = b64[(v >> 12) & 63];
        *out++ = b64[(v >> 6) & 63];
        *out++ = b64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *out++ = b64[v >> 18];
        *out++ = b64[(v >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *out++ = b64[v >> 18];
        *out++ = b64[(v >> 12) & 63];
        *out++ = b64[(v >> 6) & 63];
        *out++ = '=';
    }
}

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

bool rill__base64_is(const char *s, size_t len, size_t bytes)
{
    if (len != rill__base64_len(bytes))
        return false;
    size_t pad = (3 - bytes % 3) % 3; /* '=' at the end */
    for (size_t i = 0; i < len; i++)
        if (i < len - pad ? !is_b64(s[i]) : s[i] != '=')
            return false;
    return true;
}
