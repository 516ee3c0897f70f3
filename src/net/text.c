/* SPDX-License-Identifier: MIT */
/*
 * text.c - the text rules the protocols share: UTF-8 validation (RFC
 * 3629, incremental so that a WebSocket text message split over frames
 * and reads is checked as it arrives and rejected at its first bad byte),
 * and HTTP's tokens and comma-separated lists (RFC 9110 5.6).
 *
 * The UTF-8 state is the number of continuation bytes still expected and
 * the range the next one must fall in: the first continuation byte after
 * E0, ED, F0 and F4 has a narrower range (that is what excludes
 * overlongs, surrogates and code points past U+10FFFF); every other
 * continuation byte is 80..BF.
 */
#include "net/net_int.h"

#include <string.h>

bool rill__utf8_feed(rill__utf8_t *s, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s->need == 0) {
            /* ASCII runs eight bytes at a time. */
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, p + i, 8);
                if (w & 0x8080808080808080ull)
                    break;
                i += 8;
            }
            if (i == n)
                break;
            uint8_t c = p[i++];
            if (c < 0x80)
                continue;
            if (c < 0xC2) /* a continuation byte, or an overlong C0/C1 */
                return false;
            if (c < 0xE0) {
                *s = (rill__utf8_t){1, 0x80, 0xBF};
            } else if (c < 0xF0) {
                *s = (rill__utf8_t){2, c == 0xE0 ? 0xA0 : 0x80,
                                    c == 0xED ? 0x9F : 0xBF};
            } else if (c < 0xF5) {
                *s = (rill__utf8_t){3, c == 0xF0 ? 0x90 : 0x80,
                                    c == 0xF4 ? 0x8F : 0xBF};
            } else {
                return false;
            }
        } else {
            uint8_t c = p[i++];
            if (c < s->lo || c > s->hi)
                return false;
            *s = (rill__utf8_t){(uint8_t)(s->need - 1), 0x80, 0xBF};
        }
    }
    return true;
}

bool rill__utf8_valid(const void *p, size_t n)
{
    rill__utf8_t s = RILL__UTF8_INIT;
    return rill__utf8_feed(&s, p, n) && rill__utf8_complete(&s);
}

const uint8_t rill__http_tchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1,
    0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
    /* 0x80..0xFF: none */
};

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

bool rill__http_eq_nocase(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (n != len)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)lit[i]))
            return false;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

bool rill__http_list_next(const char *s, size_t len, size_t *pos,
                          rill_http_str_t *elem)
{
    size_t i = *pos;
    while (i < len) {
        size_t start = i;
        while (i < len && s[i] != ',')
            i++;
        size_t end = i;
        if (i < len)
            i++; /* the comma */
        while (start < end && is_ows(s[start]))
            start++;
        while (end > start && is_ows(s[end - 1]))
            end--;
        if (end > start) {
            *pos = i;
            *elem = (rill_http_str_t){s + start, end - start};
            return true;
        }
    }
    *pos = len;
    return false;
}

bool rill__http_list_has(const char *s, size_t len, const char *tok)
{
    size_t pos = 0;
    rill_http_str_t e;
    while (rill__http_list_next(s, len, &pos, &e))
        if (rill__http_eq_nocase(e.ptr, e.len, tok))
            return true;
    return false;
}
