/* SPDX-License-Identifier: MIT */
/*
 * codec.c - rill_stream_lines and rill_stream_frames: decoders that split
 * a stream of byte chunks (rill_bytes_t) into messages.
 *
 * Both are one engine with two split functions. The engine holds the
 * chunk being read (`cur`, read from `pos`) and polls upstream for the
 * next chunk only when `cur` is used up; the split function takes bytes
 * from `cur` and either produces a message or says it needs more.
 *
 * A message inside the current chunk is a slice of it (no copy). A message
 * that spans chunks is gathered in `acc`, one buffer that never holds more
 * than max_len (+ 1 for a line's "\r") bytes: that bound, not the peer,
 * decides memory. For frames the length is known from the header, so
 * `acc` is allocated at that exact size and handed over as the message
 * (one copy in all).
 *
 * States (owner: the stream's poller; no field is shared):
 *   lines:  normal, or `skipping` after a line over the limit until "\n";
 *   frames: reading the header (hdr_have < 4), then the payload (need).
 * After upstream's RILL_DONE the split's finish step gives what is left (a
 * last line, a truncation error) and the stream ends.
 *
 * The batch path (poll_next_many) splits as many messages as are ready in
 * one poll, so rill_next_many costs one await per batch instead of one per
 * line (docs/performance.md, N4).
 */
#include "stream_int.h"

#include <stdint.h>
#include <string.h>

#include "core/bytes.h"
#include "rill/codec.h"

typedef struct codec codec_t;

/* Take bytes from c->cur at c->pos. Returns 0 with a message in *out,
 * RILL_PENDING when the bytes it took gave no message (the engine splits
 * on, or fetches the next chunk when cur is used up), or an error item. */
typedef int (*split_fn)(codec_t *c, rill_bytes_t *out);
/* Upstream ended: give a last message (0), an error item, or RILL_DONE. */
typedef int (*finish_fn)(codec_t *c, rill_bytes_t *out);

typedef struct codec_kind {
    const char *api;
    split_fn split;
    finish_fn finish;
} codec_kind_t;

struct codec {
    rill_stream_t base;
    const codec_kind_t *kind;
    rill_stream_t *up; /* NULL once upstream ended */
    rill_bytes_t cur;  /* the chunk being split */
    size_t pos;        /* cur.ptr[pos..len) not split yet */
    size_t max;        /* largest message */
    unsigned char *acc;
    size_t acc_len, acc_cap;
    /* lines */
    bool skipping; /* dropping the rest of a line over the limit */
    /* frames */
    unsigned char hdr[4];
    size_t hdr_have; /* header bytes read of the current frame */
    size_t need;     /* payload bytes of the current frame */
    bool fatal;      /* the frame boundaries are lost: end after the error */
    bool finished;   /* finish gave its last word; next poll is DONE */
    /* An error item a batch met after some messages: the next poll gives
     * it (alone, in its place). 0 if none. */
    int held;
};

/* ---- shared helpers ---- */

static size_t cur_left(const codec_t *c)
{
    return c->cur.len - c->pos;
}

static const unsigned char *cur_at(const codec_t *c)
{
    return c->cur.ptr + c->pos;
}

/* Append n bytes to acc, growing it up to cap_limit bytes in all. The
 * caller has checked that acc_len + n <= cap_limit. */
static int acc_append(codec_t *c, const unsigned char *p, size_t n,
                      size_t cap_limit)
{
    if (c->acc_len + n > c->acc_cap) {
        size_t cap = c->acc_cap ? c->acc_cap : 256;
        while (cap < c->acc_len + n)
            cap = cap > cap_limit / 2 ? cap_limit : cap * 2;
        unsigned char *a = rill__realloc(c->acc, cap);
        if (!a)
            return RILL_ENOMEM;
        c->acc = a;
        c->acc_cap = cap;
    }
    memcpy(c->acc + c->acc_len, p, n);
    c->acc_len += n;
    return 0;
}

static void free_acc_buffer(void *ud, void *data)
{
    (void)ud;
    rill__free(data);
}

/* Hand acc[0..len) over as a message; acc starts afresh. */
static int acc_emit(codec_t *c, size_t len, rill_bytes_t *out)
{
    if (len == 0) {
        *out = RILL_BYTES_EMPTY;
    } else {
        int r = rill_bytes_from_buffer(out, c->acc, len, free_acc_buffer, NULL);
        if (r)
            return r; /* acc is still ours: the caller may retry */
    }
    if (len == 0)
        rill__free(c->acc);
    c->acc = NULL;
    c->acc_len = c->acc_cap = 0;
    return 0;
}

/* ---- lines ---- */

/* The length of a line of n bytes without a trailing "\r". */
static size_t strip_cr(const unsigned char *p, size_t n)
{
    return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

static int lines_split(codec_t *c, rill_bytes_t *out)
{
    const unsigned char *p = cur_at(c);
    size_t n = cur_left(c);
    const unsigned char *nl = memchr(p, '\n', n);
    if (c->skipping) {
        c->pos += nl ? (size_t)(nl - p) + 1 : n;
        c->skipping = nl == NULL;
        return RILL_PENDING; /* no message from these bytes */
    }
    size_t part = nl ? (size_t)(nl - p) : n; /* bytes of this line here */
    if (!nl) {
        /* No end yet: keep the bytes, unless the line is already too long
         * (one byte of slack for a "\r" whose "\n" is still to come). */
        if (c->acc_len + part > c->max + 1) {
            c->acc_len = 0;
            c->pos += n;
            c->skipping = true;
            return RILL_EMSGSIZE;
        }
        int r = acc_append(c, p, part, c->max + 1);
        if (r)
            return r;
        c->pos += n;
        return RILL_PENDING;
    }
    if (c->acc_len == 0) {
        size_t len = strip_cr(p, part);
        c->pos += part + 1;
        if (len > c->max)
            return RILL_EMSGSIZE;
        return rill_bytes_slice(&c->cur, (size_t)(p - c->cur.ptr), len, out);
    }
    /* The line began in an earlier chunk. */
    int r = c->acc_len + part > c->max + 1 ? RILL_EMSGSIZE
                                           : acc_append(c, p, part, c->max + 1);
    if (r == 0 && strip_cr(c->acc, c->acc_len) > c->max)
        r = RILL_EMSGSIZE;
    if (r == RILL_EMSGSIZE) {
        c->acc_len = 0;
        c->pos += part + 1;
        return r;
    }
    if (r)
        return r;
    r = acc_emit(c, strip_cr(c->acc, c->acc_len), out);
    if (r) {
        c->acc_len -= part; /* as before this call: a retry appends again */
        return r;
    }
    c->pos += part + 1;
    return 0;
}

static int lines_finish(codec_t *c, rill_bytes_t *out)
{
    c->finished = true;
    if (c->skipping || c->acc_len == 0)
        return RILL_DONE;
    size_t len = strip_cr(c->acc, c->acc_len);
    if (len > c->max)
        return RILL_EMSGSIZE;
    int r = acc_emit(c, len, out);
    if (r)
        c->finished = false; /* try again on the next poll */
    return r;
}

static const codec_kind_t lines_kind = {"rill_stream_lines", lines_split,
                                        lines_finish};

/*
 * The batch path's fast lane for lines: up to max whole lines that lie
 * inside the current chunk, as views made by hand and paid for with one
 * reference add for the batch (lines_split pays an atomic add per line).
 * Only in the plain state (no line begun in an earlier chunk, not
 * skipping); it stops before the first line it does not handle, a line
 * over max_len or one without its "\n" yet, which lines_split then
 * takes as before. Returns how many it gave.
 */
static size_t lines_split_many(codec_t *c, rill_bytes_t *out, size_t max)
{
    if (c->skipping || c->acc_len > 0 || c->kind != &lines_kind)
        return 0;
    const unsigned char *base = c->cur.ptr;
    const unsigned char *p = base + c->pos, *end = base + c->cur.len;
    size_t k = 0;
    while (k < max && p < end) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        size_t len = strip_cr(p, (size_t)(nl - p));
        if (len > c->max)
            break;
        out[k++] = (rill_bytes_t){p, len, c->cur.shared_};
        p = nl + 1;
    }
    rill__bytes_share_n(&c->cur, k);
    c->pos = (size_t)(p - base);
    return k;
}

/* ---- frames ---- */

static int frames_split(codec_t *c, rill_bytes_t *out)
{
    if (c->hdr_have < 4) {
        size_t take = 4 - c->hdr_have;
        if (take > cur_left(c))
            take = cur_left(c);
        memcpy(c->hdr + c->hdr_have, cur_at(c), take);
        c->hdr_have += take;
        c->pos += take;
        if (c->hdr_have < 4)
            return RILL_PENDING;
        c->need = (size_t)c->hdr[0] << 24 | (size_t)c->hdr[1] << 16 |
                  (size_t)c->hdr[2] << 8 | (size_t)c->hdr[3];
        if (c->need > c->max) {
            c->fatal = true;
            return RILL_EMSGSIZE;
        }
        if (c->need == 0) {
            c->hdr_have = 0;
            *out = RILL_BYTES_EMPTY;
            return 0;
        }
    }
    size_t n = cur_left(c);
    if (n == 0) /* the header ended the chunk */
        return RILL_PENDING;
    if (!c->acc && n >= c->need) { /* all here: a slice */
        int r = rill_bytes_slice(&c->cur, c->pos, c->need, out);
        if (r)
            return r;
        c->pos += c->need;
        c->hdr_have = 0;
        return 0;
    }
    if (!c->acc) { /* spans chunks: one buffer of the frame's exact size */
        c->acc = rill__malloc(c->need);
        if (!c->acc)
            return RILL_ENOMEM;
        c->acc_cap = c->need;
    }
    size_t take = c->need - c->acc_len;
    if (take > n)
        take = n;
    memcpy(c->acc + c->acc_len, cur_at(c), take);
    c->acc_len += take;
    c->pos += take;
    if (c->acc_len < c->need)
        return RILL_PENDING;
    int r = acc_emit(c, c->need, out);
    if (r) {
        c->acc_len -= take; /* as before this call */
        c->pos -= take;
        return r;
    }
    c->hdr_have = 0;
    return 0;
}

static int frames_finish(codec_t *c, rill_bytes_t *out)
{
    (void)out;
    c->finished = true;
    return c->hdr_have > 0 ? RILL_EPROTO : RILL_DONE;
}

static const codec_kind_t frames_kind = {"rill_stream_frames", frames_split,
                                         frames_finish};

/* ---- the engine ---- */

static void codec_drop_upstream(codec_t *c)
{
    rill_bytes_release(&c->cur);
    c->pos = 0;
    rill__stream_release(&c->up);
}

static int codec_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    codec_t *c = (codec_t *)s;
    if (RILL_UNLIKELY(c->held)) {
        int r = c->held;
        c->held = 0;
        return r;
    }
    for (;;) {
        if (c->finished || (c->fatal && !c->up))
            return RILL_DONE;
        if (c->fatal) { /* the error was given; the stream is over */
            codec_drop_upstream(c);
            return RILL_DONE;
        }
        if (!c->up)
            return c->kind->finish(c, out);
        if (cur_left(c) > 0) {
            int r = c->kind->split(c, out);
            if (r != RILL_PENDING)
                return r;
            continue; /* no message from those bytes: split on */
        }
        rill_bytes_release(&c->cur);
        c->pos = 0;
        rill_bytes_t chunk;
        int r = rill_stream_poll_next(c->up, cx, &chunk);
        if (r == 0) {
            c->cur = chunk;
            continue;
        }
        if (r == RILL_DONE) {
            rill__stream_release(&c->up);
            continue;
        }
        return r; /* RILL_PENDING or an error item from upstream */
    }
}

/* The batch path: messages one poll at a time, up to max, so a consumer's
 * rill_next_many pays one await for many lines. It stops at the first
 * poll that gives no message; an error item met after some messages is
 * held for the next poll (the vtable's rule: an error item comes alone,
 * after the items before it). RILL_DONE is sticky, so it needs no
 * holding. */
static int codec_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                                size_t max, size_t *n)
{
    codec_t *c = (codec_t *)s;
    rill_bytes_t *msgs = out;
    size_t k = 0;
    int r = 0;
    while (k < max) {
        /* The fast lane needs a live upstream and nothing held; else (and
         * for whatever it leaves) one message per codec_poll_next. */
        if (c->up && !c->held && !c->fatal && cur_left(c) > 0)
            k += lines_split_many(c, msgs + k, max - k);
        if (k == max || (r = codec_poll_next(s, cx, &msgs[k])) != 0)
            break;
        k++;
    }
    if (k == 0)
        return r;
    if (r < 0) /* an error item (RILL_PENDING and RILL_DONE are > 0) */
        c->held = r;
    *n = k;
    return 0;
}

static void codec_drop(rill_stream_t *s)
{
    codec_t *c = (codec_t *)s;
    codec_drop_upstream(c);
    rill__free(c->acc);
    rill__free(c);
}

/* "lines <- upstream" / "frames <- upstream". */
static int codec_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const codec_t *c = (const codec_t *)s;
    return rill__describe_over(buf, len, c->up, "%s (at most %zu bytes)",
                               rill__stream_api_name(c->kind->api), c->max);
}

static const rill_stream_vtable_t codec_vtable = {
    .poll_next = codec_poll_next,
    .poll_next_many = codec_poll_next_many,
    .drop = codec_drop,
    .describe = codec_describe,
};

static int codec_new(const codec_kind_t *k, rill_stream_t **s, size_t max_len)
{
    RILL__CHECK_STREAM(k->api, s);
    if (max_len == 0)
        return RILL_MISUSE(k->api, "max_len 0");
    if (rill_stream_item_size(*s) != sizeof(rill_bytes_t))
        return RILL_MISUSE(k->api,
                           "upstream items are %zu bytes, not rill_bytes_t",
                           rill_stream_item_size(*s));
    codec_t *c =
        rill__stream_new(sizeof *c, &codec_vtable, sizeof(rill_bytes_t));
    if (!c)
        return RILL_ENOMEM;
    c->kind = k;
    c->up = *s;
    c->cur = RILL_BYTES_EMPTY;
    c->max = max_len;
    c->base.item_dtor = rill_bytes_item_dtor;
    *s = &c->base;
    return 0;
}

int rill_stream_lines(rill_stream_t **s, size_t max_len)
{
    return codec_new(&lines_kind, s, max_len);
}

int rill_stream_frames(rill_stream_t **s, size_t max_len)
{
    if (max_len > UINT32_MAX)
        return RILL_MISUSE("rill_stream_frames",
                           "max_len %zu does not fit a 32-bit header", max_len);
    return codec_new(&frames_kind, s, max_len);
}

int rill_frame_header(unsigned char hdr[4], size_t len)
{
    if (len > UINT32_MAX)
        return RILL_EMSGSIZE;
    hdr[0] = (unsigned char)(len >> 24);
    hdr[1] = (unsigned char)(len >> 16);
    hdr[2] = (unsigned char)(len >> 8);
    hdr[3] = (unsigned char)len;
    return 0;
}
