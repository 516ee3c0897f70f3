/* SPDX-License-Identifier: MIT */
/*
 * web_util.h - reference pieces the web tests and fuzz harnesses check the
 * library against, written from the specifications and kept apart from
 * the code under test:
 *   - an event-stream parser as the WHATWG HTML standard (9.2.6)
 *     describes a browser's, to read back what the SSE encoder wrote;
 *   - a client frame builder (masked frames, any header bits), to make
 *     the frames a browser would send, and broken ones.
 * Header-only; every function is static.
 */
#ifndef RILL_TEST_WEB_UTIL_H
#define RILL_TEST_WEB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- an EventSource's parser (WHATWG HTML 9.2.6) ---- */

typedef struct wu_buf {
    char *p;
    size_t len, cap;
} wu_buf_t;

static inline void wu_put(wu_buf_t *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

typedef struct wu_sse_event {
    wu_buf_t type, data, last_id;
} wu_sse_event_t;

/* Called per dispatched event. */
typedef void (*wu_sse_fn)(void *ud, const wu_sse_event_t *ev);

typedef struct wu_sse_parser {
    wu_buf_t data, type, last_id_buf, last_id;
    long retry;
    unsigned comments;
} wu_sse_parser_t;

static inline void wu_sse_field(wu_sse_parser_t *ps, const char *name,
                                size_t nl, const char *v, size_t vl)
{
    if (nl == 5 && !memcmp(name, "event", 5)) {
        ps->type.len = 0;
        wu_put(&ps->type, v, vl);
    } else if (nl == 4 && !memcmp(name, "data", 4)) {
        wu_put(&ps->data, v, vl);
        wu_put(&ps->data, "\n", 1);
    } else if (nl == 2 && !memcmp(name, "id", 2)) {
        if (!memchr(v, 0, vl)) {
            ps->last_id_buf.len = 0;
            wu_put(&ps->last_id_buf, v, vl);
        }
    } else if (nl == 5 && !memcmp(name, "retry", 5)) {
        bool digits = vl > 0;
        for (size_t i = 0; i < vl; i++)
            digits &= v[i] >= '0' && v[i] <= '9';
        if (digits)
            ps->retry = strtol(v, NULL, 10);
    }
}

/* Parse a whole stream s[0..n) (UTF-8 decoding aside: bytes are kept). */
static inline void wu_sse_parse(wu_sse_parser_t *ps, const char *s, size_t n,
                                wu_sse_fn fn, void *ud)
{
    size_t i = 0;
    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        i = 3; /* a leading BOM is ignored */
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != '\n' && s[i] != '\r')
            i++;
        if (i == n)
            break; /* an incomplete last line is not processed */
        size_t end = i;
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
            i++;
        i++;
        const char *line = s + start;
        size_t ll = end - start;
        if (ll == 0) { /* dispatch */
            wu_put(&ps->last_id, "", 0);
            ps->last_id.len = 0;
            wu_put(&ps->last_id, ps->last_id_buf.p, ps->last_id_buf.len);
            if (ps->data.len == 0) {
                ps->type.len = 0;
                continue;
            }
            ps->data.len--; /* the last LF */
            ps->data.p[ps->data.len] = '\0';
            wu_sse_event_t ev = {ps->type, ps->data, ps->last_id};
            fn(ud, &ev);
            ps->data.len = 0;
            ps->type.len = 0;
        } else if (line[0] == ':') {
            ps->comments++;
        } else {
            const char *colon = memchr(line, ':', ll);
            if (colon) {
                size_t nl = (size_t)(colon - line);
                const char *v = colon + 1;
                size_t vl = ll - nl - 1;
                if (vl && v[0] == ' ') {
                    v++;
                    vl--;
                }
                wu_sse_field(ps, line, nl, v, vl);
            } else {
                wu_sse_field(ps, line, ll, "", 0);
            }
        }
    }
}

static inline void wu_sse_free(wu_sse_parser_t *ps)
{
    free(ps->data.p);
    free(ps->type.p);
    free(ps->last_id_buf.p);
    free(ps->last_id.p);
}

/* ---- frames as a client sends them ---- */

/*
 * Append one frame to b: byte0 (FIN, RSV, opcode) as given, the length in
 * the shortest form (or in the 64-bit form if long_len), masked with key
 * unless key is NULL.
 */
static inline void wu_frame(wu_buf_t *b, uint8_t byte0, const void *payload,
                            uint64_t len, const uint8_t *key, bool long_len)
{
    uint8_t h[14];
    size_t hl = 2;
    h[0] = byte0;
    uint8_t m = key ? 0x80 : 0;
    if (len < 126 && !long_len) {
        h[1] = (uint8_t)(m | len);
    } else if (len <= 0xFFFF && !long_len) {
        h[1] = m | 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        hl = 4;
    } else {
        h[1] = m | 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        hl = 10;
    }
    if (key) {
        memcpy(h + hl, key, 4);
        hl += 4;
    }
    wu_put(b, h, hl);
    if (!payload) /* the header alone (a length that is never sent) */
        return;
    size_t at = b->len;
    wu_put(b, payload, (size_t)len);
    if (key)
        for (size_t i = 0; i < len; i++)
            b->p[at + i] ^= key[i & 3];
}

#endif
