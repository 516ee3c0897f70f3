/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sse.c - the Server-Sent Events encoder against a browser's parser.
 *
 * The input is a few events (id, type and data of any bytes: line breaks
 * of every kind, NULs, lone CRs at the end) and comments. The model says
 * which events the encoder must refuse (an id with CR, LF or NUL, a type
 * with CR or LF, a negative retry); the others are encoded, concatenated
 * into one stream, and read back with the WHATWG parser of web_util.h:
 * each event must come back with its data (line breaks as LF), its type
 * ("message" if none), the last id sent so far, and the last retry; the
 * comments are counted and ignored; rill_sse_encoded_len agrees with the
 * encoder.
 */
#include "fuzz.h"
#include "web_util.h"
#include <rill/sse.h>

enum { MAX_EVENTS = 6 };

typedef struct want {
    int n, got;
    char data[MAX_EVENTS][256], type[MAX_EVENTS][64], id[MAX_EVENTS][64];
    size_t data_len[MAX_EVENTS], type_len[MAX_EVENTS], id_len[MAX_EVENTS];
} want_t;

static void on_event(void *ud, const wu_sse_event_t *ev)
{
    want_t *w = ud;
    FZ_CHECK(w->got < w->n);
    int i = w->got++;
    FZ_EQ(ev->data.len, w->data_len[i]);
    FZ_CHECK(ev->data.len == 0 ||
             !memcmp(ev->data.p, w->data[i], ev->data.len));
    FZ_EQ(ev->type.len, w->type_len[i]);
    FZ_CHECK(ev->type.len == 0 ||
             !memcmp(ev->type.p, w->type[i], ev->type.len));
    FZ_EQ(ev->last_id.len, w->id_len[i]);
    FZ_CHECK(ev->last_id.len == 0 ||
             !memcmp(ev->last_id.p, w->id[i], ev->last_id.len));
}

/* Up to max bytes from the input, biased towards line breaks and NULs. */
static size_t take(fz_in_t *in, char *out, size_t max)
{
    size_t n = fz_pick(in, (unsigned)max + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned c = fz_u8(in);
        out[i] = c < 0xF0 ? (char)c : "\r\n\0 :\r\n\r\n\r\n:d\0ta"[c - 0xF0];
    }
    return n;
}

static bool has(const char *s, size_t n, bool nul)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || (nul && s[i] == 0))
            return true;
    return false;
}

static void body(fz_in_t *in)
{
    wu_buf_t stream = {0};
    want_t w = {0};
    char last_id[64];
    size_t last_id_len = 0;
    long want_retry = 0;
    unsigned comments = 0;
    int events = 1 + (int)fz_pick(in, MAX_EVENTS);
    for (int e = 0; e < events; e++) {
        unsigned flags = fz_u8(in);
        rill_bytes_t out;
        if (flags & 0x80) {
            char text[64];
            size_t n = take(in, text, sizeof text);
            FZ_EQ(rill_sse_encode_comment(&out, text, n), 0);
            wu_put(&stream, out.ptr, out.len);
            rill_bytes_release(&out);
            /* One comment line per line of text. */
            comments++;
            for (size_t i = 0; i < n; i++)
                if (text[i] == '\n' ||
                    (text[i] == '\r' && !(i + 1 < n && text[i + 1] == '\n')))
                    comments++;
            continue;
        }
        char id[64], type[64], data[256];
        size_t idl = flags & 1 ? take(in, id, sizeof id) : 0;
        size_t tl = flags & 2 ? take(in, type, sizeof type) : 0;
        size_t dl = take(in, data, sizeof data);
        int64_t retry = flags & 4 ? (int64_t)fz_u8(in) * 1000 - 5000 : 0;
        rill_sse_event_t ev = {0};
        FZ_EQ(rill_bytes_new(&ev.id, id, idl), 0);
        FZ_EQ(rill_bytes_new(&ev.event, type, tl), 0);
        FZ_EQ(rill_bytes_new(&ev.data, data, dl), 0);
        ev.retry_ms = retry;
        bool valid = !has(id, idl, true) && !has(type, tl, false) && retry >= 0;
        int rc = rill_sse_encode(&out, &ev);
        size_t elen = rill_sse_encoded_len(&ev);
        rill_sse_event_destroy(&ev);
        if (!valid) {
            FZ_EQ(rc, RILL_EINVAL);
            FZ_EQ(elen, 0);
            FZ_CHECK(out.shared_ == NULL && out.len == 0);
            continue;
        }
        FZ_EQ(rc, 0);
        FZ_EQ(out.len, elen);
        wu_put(&stream, out.ptr, out.len);
        rill_bytes_release(&out);
        if (retry > 0)
            want_retry = (long)retry;
        if (idl) {
            memcpy(last_id, id, idl);
            last_id_len = idl;
        }
        int i = w.n++;
        /* data with CRLF and CR made LF */
        size_t k = 0;
        for (size_t j = 0; j < dl; j++) {
            if (data[j] == '\r') {
                w.data[i][k++] = '\n';
                if (j + 1 < dl && data[j + 1] == '\n')
                    j++;
            } else {
                w.data[i][k++] = data[j];
            }
        }
        w.data_len[i] = k;
        memcpy(w.type[i], type, tl);
        w.type_len[i] = tl;
        memcpy(w.id[i], last_id, last_id_len);
        w.id_len[i] = last_id_len;
    }
    wu_sse_parser_t ps = {0};
    wu_sse_parse(&ps, stream.p ? stream.p : "", stream.len, on_event, &w);
    FZ_EQ(w.got, w.n);
    FZ_EQ(ps.retry, want_retry);
    FZ_EQ(ps.comments, comments);
    wu_sse_free(&ps);
    free(stream.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}
