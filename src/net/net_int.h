/* SPDX-License-Identifier: MIT */
/*
 * net_int.h - what the files of src/net share and nothing else may call:
 * SHA-1 and base64 (for the WebSocket handshake), an incremental UTF-8
 * validator (WebSocket text and close reasons), and the character classes
 * and case-insensitive comparisons of HTTP (RFC 9110).
 */
#ifndef RILL_NET_INT_H
#define RILL_NET_INT_H

#include "core/core.h"
#include "rill/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- SHA-1 (FIPS 180-4), one-shot over two pieces ---- */

enum { RILL__SHA1_LEN = 20 };

/* The SHA-1 digest of a[0..alen) followed by b[0..blen). */
void rill__sha1(const void *a, size_t alen, const void *b, size_t blen,
                uint8_t out[RILL__SHA1_LEN]);

/* ---- base64 (RFC 4648, standard alphabet, padded) ---- */

/* The encoded length of n bytes. */
static inline size_t rill__base64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

/* Encode in[0..n) into out (rill__base64_len(n) bytes, no NUL). */
void rill__base64_encode(const uint8_t *in, size_t n, char *out);

/* True when s[0..len) is padded base64 of exactly `bytes` bytes. */
bool rill__base64_is(const char *s, size_t len, size_t bytes);

/* ---- UTF-8, incrementally (RFC 3629: no overlongs, no surrogates) ---- */

typedef struct rill__utf8 {
    uint8_t need;   /* continuation bytes still expected */
    uint8_t lo, hi; /* the range the next continuation byte must be in */
} rill__utf8_t;

#define RILL__UTF8_INIT ((rill__utf8_t){0, 0x80, 0xBF})

/* Feed p[0..n); false at the first byte that cannot continue valid
 * UTF-8 (the state is then meaningless). */
bool rill__utf8_feed(rill__utf8_t *s, const uint8_t *p, size_t n);

/* True when everything fed so far ends on a character boundary. */
static inline bool rill__utf8_complete(const rill__utf8_t *s)
{
    return s->need == 0;
}

/* True when p[0..n) is complete valid UTF-8. */
bool rill__utf8_valid(const void *p, size_t n);

/* ---- eight bytes at a time (SWAR) ----
 * Is there, in the eight bytes of x, a byte < n (n <= 128; bytes >= 0x80
 * never count), or a byte equal to c? Nonzero if so. A word that says
 * yes may be a false alarm past the first such byte (borrows), never a
 * miss: callers use them to skip words, then look byte by byte. */
static inline uint64_t rill__rep8(unsigned char c)
{
    return 0x0101010101010101ull * c;
}
static inline uint64_t rill__has_below(uint64_t x, unsigned char n)
{
    return (x - rill__rep8(n)) & ~x & rill__rep8(0x80);
}
static inline uint64_t rill__has_byte(uint64_t x, unsigned char c)
{
    uint64_t y = x ^ rill__rep8(c);
    return (y - rill__rep8(1)) & ~y & rill__rep8(0x80);
}

/* The first CR or LF in d[i..n), or n. */
static inline size_t rill__next_break(const unsigned char *d, size_t i,
                                      size_t n)
{
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, d + i, 8);
        if (rill__has_byte(x, '\n') | rill__has_byte(x, '\r'))
            break;
    }
    while (i < n && d[i] != '\n' && d[i] != '\r')
        i++;
    return i;
}

/* ---- HTTP text ---- */

/* tchar of RFC 9110 5.6.2: the characters of methods and field names
 * ("!#$%&'*+-.^_`|~", digits, letters): 1 in this table. */
extern const uint8_t rill__http_tchar[256];
static inline bool rill__http_is_tchar(unsigned char c)
{
    return rill__http_tchar[c];
}

/* ASCII-case-insensitive equality of s[0..len) and the C string lit. */
bool rill__http_eq_nocase(const char *s, size_t len, const char *lit);

/*
 * True when the comma-separated list s[0..len) (RFC 9110 5.6.1:
 * elements separated by commas with optional whitespace, empty elements
 * allowed) holds the token `tok`, compared without case.
 */
bool rill__http_list_has(const char *s, size_t len, const char *tok);

/*
 * Iterate over the elements of such a list: *pos starts at 0; each call
 * gives the next non-empty element (without surrounding whitespace) in
 * *elem and returns true, or false when the list is done.
 */
bool rill__http_list_next(const char *s, size_t len, size_t *pos,
                          rill_http_str_t *elem);

/* ---- what the server gives the handlers that take a connection over ---- */

/* Ready (0) once the server is shutting down; RILL_PENDING (waker kept)
 * before. */
int rill__http_conn_poll_stop(rill_http_conn_t *c, rill_cx_t *cx);

/* Take the connection over: no keep-alive after the handler; *rest, *n
 * are the bytes read past the current request (they belong to the new
 * owner now). */
void rill__http_conn_take(rill_http_conn_t *c, const char **rest, size_t *n);

/* After rill__http_conn_take: when the handler has returned, run fut as
 * a stackless task (rill_spawn_future) that owns the connection, instead
 * of ending it. The connection's stackful task then ends (its stack goes
 * back to the runtime's pool) while the connection stays on the server's
 * list, so a shutdown still reaches it (rill__http_conn_poll_stop). fut
 * must end the connection with rill__http_conn_end from its drop; if the
 * task cannot be spawned, fut's drop is called at once. Nothing may touch
 * c after the handler returns but fut. */
void rill__http_conn_handoff(rill_http_conn_t *c, rill_future_t *fut);

/* The end of a connection handed to a future: close and free it. */
void rill__http_conn_end(rill_http_conn_t *c);

/* writev until every byte of iov[0..n) went out (iov is changed). */
int rill__writev_all(rill_io_t *io, struct iovec *iov, int n);

/* Wait (rill_await) until poll(ud, cx) returns something other than
 * RILL_PENDING, or the deadline (RILL_ETIMEDOUT). */
int rill__await_poll(int (*poll)(void *ud, rill_cx_t *cx), void *ud,
                     rill_instant_t deadline);

#endif
