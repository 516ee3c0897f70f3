/* SPDX-License-Identifier: MIT */
/*
 * sse.c - the Server-Sent Events encoder.
 *
 * One pass measures the event (refusing fields the browser would read
 * differently), one allocation holds its wire form, one pass writes it:
 *
 *     [retry: N\n] [id: ID\n] [event: TYPE\n] (data: LINE\n)+ \n
 *
 * Data always gives at least one "data:" line, so an event with empty
 * data still reaches the browser (as an empty MessageEvent.data). A line
 * break is LF, CRLF or CR, as the browser splits them; a trailing break
 * gives a last, empty data line, which the browser turns back into the
 * trailing LF.
 */
#include "core/core.h"
#include "net/net_int.h"
#include "rill/sse.h"
#include "core/bytes.h"

#include <stdio.h>
#include <string.h>

static bool has_break(const rill_bytes_t *b, bool nul_too)
{
    return rill__next_break(b->ptr, 0, b->len) < b->len ||
           (nul_too && b->len && memchr(b->ptr, 0, b->len));
}

/* Calls line(ctx, start, len) for each line of d (at least one). */
static void each_line(const unsigned char *d, size_t n,
                      void (*line)(void *ctx, const unsigned char *p,
                                   size_t len),
                      void *ctx)
{
    size_t start = 0;
    if (!d) /* empty bytes have no pointer */
        d = (const unsigned char *)"";
    for (size_t i; (i = rill__next_break(d, start, n)) < n;) {
        line(ctx, d + start, i - start);
        if (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n')
            i++;
        start = i + 1;
    }
    line(ctx, d + start, n - start);
}

static const char DATA[] = "data: ", ID[] = "id: ", EVENT[] = "event: ",
                  RETRY[] = "retry: ";

size_t rill_sse_encoded_len(const rill_sse_event_t *ev)
{
    if (!ev || ev->retry_ms < 0 || has_break(&ev->id, true) ||
        has_break(&ev->event, false))
        return 0;
    size_t n = 1; /* the empty line that ends the event */
    if (ev->retry_ms > 0)
        n += sizeof RETRY - 1 + rill__dec_len((uint64_t)ev->retry_ms) + 1;
    if (ev->id.len)
        n += sizeof ID - 1 + ev->id.len + 1;
    if (ev->event.len)
        n += sizeof EVENT - 1 + ev->event.len + 1;
    /* Each line of data costs its prefix and an LF; the line breaks
     * themselves (1 or 2 bytes each: every CR and LF) are not copied. */
    size_t lines = 1, breaks = 0, dn = ev->data.len;
    const unsigned char *d = ev->data.ptr;
    for (size_t i = 0; (i = rill__next_break(d, i, dn)) < dn; i++) {
        breaks++;
        if (d[i] == '\r' && i + 1 < dn && d[i + 1] == '\n') {
            breaks++;
            i++;
        }
        lines++;
    }
    n += lines * (sizeof DATA - 1 + 1) + ev->data.len - breaks;
    return n;
}

typedef struct writer {
    unsigned char *p;
} writer_t;

static void put(writer_t *w, const void *s, size_t n)
{
    if (n == 0) /* s may be NULL (empty bytes) */
        return;
    memcpy(w->p, s, n);
    w->p += n;
}

static void put_data_line(void *ctx, const unsigned char *p, size_t n)
{
    writer_t *w = ctx;
    memcpy(w->p, DATA, sizeof DATA - 1);
    w->p += sizeof DATA - 1;
    put(w, p, n);
    *w->p++ = '\n';
}

int rill_sse_encode(rill_bytes_t *out, const rill_sse_event_t *ev)
{
    if (!out)
        return RILL_MISUSE("rill_sse_encode", "NULL out");
    *out = RILL_BYTES_EMPTY;
    if (!ev)
        return RILL_MISUSE("rill_sse_encode", "NULL event");
    size_t n = rill_sse_encoded_len(ev);
    if (n == 0)
        return RILL_MISUSE("rill_sse_encode",
                           "id or event type with a line break (or an id "
                           "with NUL), or negative retry");
    unsigned char *buf;
    int rc = rill__bytes_alloc(out, n, &buf);
    if (rc != 0)
        return rc;
    writer_t w = {buf};
    if (ev->retry_ms > 0) {
        char num[24];
        int k = snprintf(num, sizeof num, "%lld", (long long)ev->retry_ms);
        put(&w, RETRY, sizeof RETRY - 1);
        put(&w, num, (size_t)k);
        *w.p++ = '\n';
    }
    if (ev->id.len) {
        put(&w, ID, sizeof ID - 1);
        put(&w, ev->id.ptr, ev->id.len);
        *w.p++ = '\n';
    }
    if (ev->event.len) {
        put(&w, EVENT, sizeof EVENT - 1);
        put(&w, ev->event.ptr, ev->event.len);
        *w.p++ = '\n';
    }
    each_line(ev->data.ptr, ev->data.len, put_data_line, &w);
    *w.p++ = '\n';
    RILL_ASSERT((size_t)(w.p - buf) == n);
    return 0;
}

static void put_comment_line(void *ctx, const unsigned char *p, size_t n)
{
    writer_t *w = ctx;
    *w->p++ = ':';
    if (n) {
        *w->p++ = ' ';
        put(w, p, n);
    }
    *w->p++ = '\n';
}

static void count_comment_line(void *ctx, const unsigned char *p, size_t n)
{
    RILL_UNUSED(p);
    *(size_t *)ctx += n ? 3 + n : 2;
}

int rill_sse_encode_comment(rill_bytes_t *out, const char *text, size_t len)
{
    if (!out || (!text && len > 0))
        return RILL_MISUSE("rill_sse_encode_comment", "NULL out or text");
    *out = RILL_BYTES_EMPTY;
    const unsigned char *t = (const unsigned char *)text;
    size_t n = 0;
    each_line(t, len, count_comment_line, &n);
    unsigned char *buf;
    int rc = rill__bytes_alloc(out, n, &buf);
    if (rc != 0)
        return rc;
    writer_t w = {buf};
    each_line(t, len, put_comment_line, &w);
    RILL_ASSERT((size_t)(w.p - buf) == n);
    return 0;
}

void rill_sse_event_destroy(rill_sse_event_t *ev)
{
    if (!ev)
        return;
    rill_bytes_release(&ev->id);
    rill_bytes_release(&ev->event);
    rill_bytes_release(&ev->data);
}

void rill_sse_event_item_dtor(void *item, void *ud)
{
    RILL_UNUSED(ud);
    rill_sse_event_destroy(item);
}
