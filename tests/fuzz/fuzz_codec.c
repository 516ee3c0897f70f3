/* SPDX-License-Identifier: MIT */
/*
 * fuzz_codec.c - rill_stream_lines and rill_stream_frames against a
 * reference model: the input picks the decoder, the limit and where the
 * byte stream is cut into chunks; every message, error item and the end
 * must be what the model computes from the whole text at once, whatever
 * the cuts.
 *
 * Input: byte 0 = decoder (bit 7) and max_len (1 + low bits % 64);
 * byte 1 = number of cuts k (% 16) and how messages are taken (bits 4-5:
 * one per rill_next, or batches of 2..4 through rill_next_many); k bytes =
 * cut offsets; the rest is the text. FUZZ_KIND is unused.
 */
#include "fuzz.h"

#include <rill/codec.h>

/* One expected event: a message text[off .. off + len), or a status. */
typedef struct ev {
    int status; /* 0: message; RILL_E*: error item; RILL_DONE: end */
    size_t off, len;
} ev_t;

enum { MAX_EV = 512 };

static size_t model_lines(const uint8_t *t, size_t n, size_t max, ev_t *ev)
{
    size_t k = 0, at = 0;
    while (at < n && k < MAX_EV - 1) {
        const uint8_t *nl = memchr(t + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - t) : n;
        size_t len = end - at;
        if (len && t[end - 1] == '\r')
            len--;
        ev[k++] = len > max ? (ev_t){RILL_EMSGSIZE, 0, 0} : (ev_t){0, at, len};
        at = end + 1;
    }
    ev[k++] = (ev_t){RILL_DONE, 0, 0};
    return k;
}

static size_t model_frames(const uint8_t *t, size_t n, size_t max, ev_t *ev)
{
    size_t k = 0, at = 0;
    while (at < n && k < MAX_EV - 2) {
        if (n - at < 4) {
            ev[k++] = (ev_t){RILL_EPROTO, 0, 0};
            break;
        }
        size_t len = (size_t)t[at] << 24 | (size_t)t[at + 1] << 16 |
                     (size_t)t[at + 2] << 8 | t[at + 3];
        if (len > max) {
            ev[k++] = (ev_t){RILL_EMSGSIZE, 0, 0};
            break;
        }
        if (n - at - 4 < len) {
            ev[k++] = (ev_t){RILL_EPROTO, 0, 0};
            break;
        }
        ev[k++] = (ev_t){0, at + 4, len};
        at += 4 + len;
    }
    ev[k++] = (ev_t){RILL_DONE, 0, 0};
    return k;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static void body(fz_in_t *in)
{
    unsigned b0 = fz_u8(in);
    bool frames = b0 & 0x80;
    size_t max = 1 + (b0 & 0x7f) % 64;
    unsigned b1 = fz_u8(in);
    size_t ncuts = b1 % 16;
    /* 1: rill_next; 2..4: rill_next_many with that many at most (the
     * decoders' batch path) */
    size_t batch = 1 + (b1 >> 4) % 4;
    size_t cuts[17];
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = fz_u8(in);
    const uint8_t *text = in->p;
    size_t n = in->n;
    if (n > 200) /* the model's event array bounds the messages */
        n = 200;

    for (size_t i = 0; i < ncuts; i++)
        cuts[i] %= n + 1;
    cuts[ncuts] = n;
    qsort(cuts, ncuts + 1, sizeof cuts[0], cmp_size);
    rill_bytes_t chunks[17];
    size_t nch = 0, from = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        if (cuts[i] > from)
            FZ_EQ(rill_bytes_new(&chunks[nch++], text + from, cuts[i] - from),
                  0);
        from = cuts[i];
    }
    rill_stream_t *s;
    FZ_EQ(rill_stream_iter(&s, chunks, nch, sizeof chunks[0]), 0);
    FZ_EQ(rill_stream_set_item_dtor(s, rill_bytes_item_dtor, NULL), 0);
    FZ_EQ(frames ? rill_stream_frames(&s, max) : rill_stream_lines(&s, max), 0);

    static ev_t ev[MAX_EV];
    size_t k =
        frames ? model_frames(text, n, max, ev) : model_lines(text, n, max, ev);
    for (size_t i = 0; i < k;) {
        rill_bytes_t m[4];
        size_t got = 1;
        int r = batch == 1 ? rill_next(s, &m[0])
                           : rill_next_many(s, m, batch, &got);
        if (r != 0) { /* an error item or the end: alone */
            FZ_EQ(r, ev[i].status);
            i++;
            continue;
        }
        FZ_CHECK(got >= 1 && got <= batch && i + got <= k);
        for (size_t j = 0; j < got; j++, i++) {
            FZ_EQ(ev[i].status, 0);
            FZ_EQ(rill_bytes_len(&m[j]), ev[i].len);
            FZ_CHECK(ev[i].len == 0 ||
                     memcmp(rill_bytes_data(&m[j]), text + ev[i].off,
                            ev[i].len) == 0);
            rill_bytes_release(&m[j]);
        }
    }
    rill_bytes_t m;
    FZ_EQ(rill_next(s, &m), RILL_DONE); /* the end is sticky */
    rill_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}
