/* SPDX-License-Identifier: MIT */
/*
 * describe.c - rill_future_describe and the formatting helpers of the
 * describe functions (see describe.h).
 */
#include "describe.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rill__buf_init(rill__buf_t *b, char *p, size_t len)
{
    b->p = p;
    b->len = len;
    b->used = 0;
    b->want = 0;
    if (len)
        p[0] = '\0';
}

/* Account for n bytes written (or wanted) at b->p + b->used. */
static void buf_advance(rill__buf_t *b, int n)
{
    if (n < 0)
        return;
    size_t room = b->len > b->used ? b->len - b->used : 0;
    b->want += (size_t)n;
    if (room)
        b->used += (size_t)n < room ? (size_t)n : room - 1;
}

static void buf_vprintf(rill__buf_t *b, const char *fmt, va_list ap)
{
    size_t room = b->len > b->used ? b->len - b->used : 0;
    buf_advance(b, vsnprintf(room ? b->p + b->used : NULL, room, fmt, ap));
}

void rill__buf_printf(rill__buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void rill__buf_stream(rill__buf_t *b, const rill_stream_t *s)
{
    size_t room = b->len > b->used ? b->len - b->used : 0;
    char none[1];
    buf_advance(b, room ? rill_stream_describe(s, b->p + b->used, room)
                        : rill_stream_describe(s, none, sizeof none));
}

int rill__describe_over(char *buf, size_t len, const rill_stream_t *up,
                        const char *fmt, ...)
{
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    rill__buf_printf(&b, " <- ");
    if (up)
        rill__buf_stream(&b, up);
    else
        rill__buf_printf(&b, "(upstream ended)");
    return rill__buf_result(&b);
}

int rill_stream_describe(const rill_stream_t *s, char *buf, size_t len)
{
    if (!buf || len == 0)
        return 0;
    if (s && s->vtable && s->vtable->describe)
        return s->vtable->describe(s, buf, len);
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    if (!s || !s->vtable) {
        rill__buf_printf(&b, "(no stream)");
    } else {
        union {
            int (*fn)(rill_stream_t *, rill_cx_t *, void *);
            void *p;
        } u = {s->vtable->poll_next};
        rill__buf_printf(&b, "stream %p (poll_next %p, no describe)",
                         (const void *)s, u.p);
    }
    return rill__buf_result(&b);
}

void rill__buf_duration(rill__buf_t *b, rill_duration_t d)
{
    char sign = d < 0 ? '-' : '+';
    /* |INT64_MIN| does not fit; a deadline that far away is "forever". */
    uint64_t a = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
    if (a < 1000)
        rill__buf_printf(b, "%c%llu ns", sign, (unsigned long long)a);
    else if (a < 1000000)
        rill__buf_printf(b, "%c%.3f us", sign, (double)a / 1e3);
    else if (a < 1000000000)
        rill__buf_printf(b, "%c%.3f ms", sign, (double)a / 1e6);
    else
        rill__buf_printf(b, "%c%.3f s", sign, (double)a / 1e9);
}

int rill_future_describe(const rill_future_t *f, rill_instant_t now, char *buf,
                         size_t len)
{
    if (!buf || len == 0)
        return 0;
    if (!f || !f->vtable) {
        rill__buf_t b;
        rill__buf_init(&b, buf, len);
        rill__buf_printf(&b, "future (none)");
        return rill__buf_result(&b);
    }
    if (f->vtable->describe)
        return f->vtable->describe(f, now, buf, len);
    /* No describe: name the poll function, which a debugger or addr2line
     * turns into a symbol. (A function pointer printed through a union,
     * because ISO C has no conversion to void *.) */
    union {
        int (*fn)(rill_future_t *, rill_cx_t *);
        void *p;
    } u;
    memset(&u, 0, sizeof u);
    u.fn = f->vtable->poll;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill__buf_printf(&b, "future %p (no describe)", u.p);
    return rill__buf_result(&b);
}
