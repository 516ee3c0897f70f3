/* SPDX-License-Identifier: MIT */
/*
 * test_codec.c - rill_stream_lines and rill_stream_frames: every way a
 * byte stream can be cut into chunks gives the messages of a reference
 * model; messages inside one chunk are slices of it (no copy); over-long
 * lines and frames, truncated frames and upstream errors are reported as
 * documented; no allocation and no chunk is left behind, also when
 * allocations fail.
 */
#include "stream_util.h"

#include <rill/codec.h>
#include <stdint.h>

/* ---- a chunk source: the text cut at the given offsets ---- */

/* A stream of rill_bytes_t chunks: text[cuts[i-1] .. cuts[i]), each chunk
 * its own buffer. */
static rill_stream_t *chunked(const char *text, size_t len, const size_t *cuts,
                              size_t ncuts)
{
    rill_bytes_t *chunks = calloc(ncuts + 1, sizeof *chunks);
    size_t n = 0, from = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        if (to > from) {
            assert_status(rill_bytes_new(&chunks[n], text + from, to - from),
                          0);
            n++;
        }
        from = to;
    }
    rill_stream_t *s;
    assert_status(rill_stream_iter(&s, chunks, n, sizeof *chunks), 0);
    assert_status(rill_stream_set_item_dtor(s, rill_bytes_item_dtor, NULL), 0);
    free(chunks);
    return s;
}

/* How drain takes messages: 1 = rill_next; more = rill_next_many with
 * this many at most (the decoders' batch path). */
static size_t drain_batch = 1;

/* Drain a message stream into "a|b|E-15|c|." (E = error item, . = end). */
static void drain(rill_stream_t *s, char *got, size_t cap)
{
    size_t len = 0;
    got[0] = 0;
    for (int guard = 0; guard < 100000; guard++) {
        rill_bytes_t m[4];
        size_t k = 1;
        int r = drain_batch == 1 ? rill_next(s, &m[0])
                                 : rill_next_many(s, m, drain_batch, &k);
        if (r == 0) {
            assert_true(k >= 1 && k <= drain_batch);
            for (size_t i = 0; i < k; i++) {
                len += (size_t)snprintf(got + len, cap - len, "%.*s|",
                                        (int)rill_bytes_len(&m[i]),
                                        (const char *)rill_bytes_data(&m[i]));
                rill_bytes_release(&m[i]);
            }
        } else if (r < 0) {
            len += (size_t)snprintf(got + len, cap - len, "E%d|", r);
        } else {
            assert_status(r, RILL_DONE);
            snprintf(got + len, cap - len, ".");
            rill_bytes_t again;
            assert_status(rill_next(s, &again), RILL_DONE); /* sticky */
            return;
        }
    }
    fail_msg("the stream did not end");
}

/* ---- reference models ---- */

static void model_lines(const char *t, size_t len, size_t max, char *out,
                        size_t cap)
{
    size_t o = 0, start = 0;
    out[0] = 0;
    while (start < len) {
        const char *nl = memchr(t + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - t) : len;
        size_t l = end - start;
        if (l > 0 && t[end - 1] == '\r')
            l--;
        if (l > max)
            o += (size_t)snprintf(out + o, cap - o, "E%d|", RILL_EMSGSIZE);
        else
            o += (size_t)snprintf(out + o, cap - o, "%.*s|", (int)l, t + start);
        start = end + 1;
    }
    snprintf(out + o, cap - o, ".");
}

/* Frames text: [len u8 as 4-byte BE][payload]... */
static void model_frames(const char *t, size_t len, size_t max, char *out,
                         size_t cap)
{
    size_t o = 0, at = 0;
    out[0] = 0;
    while (at < len) {
        if (len - at < 4) {
            o += (size_t)snprintf(out + o, cap - o, "E%d|", RILL_EPROTO);
            break;
        }
        const unsigned char *h = (const unsigned char *)t + at;
        size_t n =
            (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
        if (n > max) {
            o += (size_t)snprintf(out + o, cap - o, "E%d|", RILL_EMSGSIZE);
            break;
        }
        if (len - at - 4 < n) {
            o += (size_t)snprintf(out + o, cap - o, "E%d|", RILL_EPROTO);
            break;
        }
        o += (size_t)snprintf(out + o, cap - o, "%.*s|", (int)n, t + at + 4);
        at += 4 + n;
    }
    snprintf(out + o, cap - o, ".");
}

typedef int (*decoder_fn)(rill_stream_t **s, size_t max);
typedef void (*model_fn)(const char *t, size_t len, size_t max, char *out,
                         size_t cap);

/* Decode text cut at cuts[] and compare with the model. */
static void check_cuts(decoder_fn dec, model_fn model, const char *t,
                       size_t len, size_t max, const size_t *cuts, size_t n)
{
    char want[4096], got[4096];
    model(t, len, max, want, sizeof want);
    rill_stream_t *s = chunked(t, len, cuts, n);
    assert_int_equal(dec(&s, max), 0);
    drain(s, got, sizeof got);
    rill_stream_free(s);
    if (strcmp(want, got) != 0)
        fail_msg("cut into %zu chunks: want %s, got %s", n + 1, want, got);
}

/* Every single cut, every pair of cuts, and 1-byte chunks; taken one
 * message at a time, and in batches of at most 3 and 4. */
static void check_all_cuts(decoder_fn dec, model_fn model, const char *t,
                           size_t len, size_t max)
{
    for (drain_batch = 3; drain_batch <= 4; drain_batch++) {
        check_cuts(dec, model, t, len, max, NULL, 0);
        for (size_t i = 0; i <= len; i++)
            check_cuts(dec, model, t, len, max, &i, 1);
    }
    drain_batch = 1;
    check_cuts(dec, model, t, len, max, NULL, 0);
    for (size_t i = 0; i <= len; i++) {
        check_cuts(dec, model, t, len, max, &i, 1);
        for (size_t j = i; j <= len; j++) {
            size_t c[2] = {i, j};
            check_cuts(dec, model, t, len, max, c, 2);
        }
    }
    size_t *ones = malloc((len + 1) * sizeof *ones);
    for (size_t i = 0; i < len; i++)
        ones[i] = i + 1;
    check_cuts(dec, model, t, len, max, ones, len);
    free(ones);
}

/* ---- lines ---- */

static void test_lines_every_cut(void **state)
{
    (void)state;
    static const char *texts[] = {
        "alpha\nbeta\r\ngamma",
        "\n\n\r\n",
        "one line\n",
        "no newline at all",
        "x\ntoo long a line\nok\n",
        "toolongtoolong\r\nshort\rx\n",
        "exactly8\nexactly8\r\n9chars!!\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        for (size_t max = 1; max <= 10; max += 3)
            check_all_cuts(rill_stream_lines, model_lines, texts[i],
                           strlen(texts[i]), max);
    check_all_cuts(rill_stream_lines, model_lines, "exactly8\r\n", 10, 8);
    check_all_cuts(rill_stream_lines, model_lines, "ninechars\r\n", 11, 8);
}

static void test_lines_zero_copy(void **state)
{
    (void)state;
    const char *t = "first\nsecond\n";
    rill_stream_t *s = chunked(t, strlen(t), NULL, 0);
    assert_status(rill_stream_lines(&s, 64), 0);
    rill_bytes_t a, b;
    assert_status(rill_next(s, &a), 0);
    assert_status(rill_next(s, &b), 0);
    /* Both are views of the one chunk's buffer, six bytes apart. */
    assert_ptr_equal((const char *)rill_bytes_data(&a) + 6,
                     rill_bytes_data(&b));
    assert_int_equal(rill_bytes_refs(&a), 3); /* a, b and the chunk */
    rill_stream_free(s);
    assert_int_equal(rill_bytes_refs(&a), 2); /* the chunk went with s */
    assert_memory_equal(rill_bytes_data(&b), "second", 6);
    rill_bytes_release(&a);
    rill_bytes_release(&b);
}

static void test_lines_long_input_bounded(void **state)
{
    (void)state;
    /* 1 MiB without a newline in 4 KiB chunks, then "\nok\n", limit 100:
     * one error item, then "ok"; the decoder never holds more than the
     * limit, which caps what it buffers. */
    enum { N = 256, C = 4096 };
    char *t = malloc((size_t)N * C + 4);
    memset(t, 'x', (size_t)N * C);
    memcpy(t + (size_t)N * C, "\nok\n", 4);
    size_t cuts[N];
    for (size_t i = 0; i < N; i++)
        cuts[i] = (i + 1) * C;
    rill_stream_t *s = chunked(t, (size_t)N * C + 4, cuts, N);
    free(t);
    assert_status(rill_stream_lines(&s, 100), 0);
    char got[64];
    drain(s, got, sizeof got);
    rill_stream_free(s);
    char want[64];
    snprintf(want, sizeof want, "E%d|ok|.", RILL_EMSGSIZE);
    assert_string_equal(got, want);
}

/* ---- frames ---- */

static size_t put_frame(char *t, size_t at, const char *payload, size_t n)
{
    unsigned char h[4];
    assert_status(rill_frame_header(h, n), 0);
    memcpy(t + at, h, 4);
    memcpy(t + at + 4, payload, n);
    return at + 4 + n;
}

static void test_frames_every_cut(void **state)
{
    (void)state;
    char t[64];
    size_t len = put_frame(t, 0, "hello", 5);
    len = put_frame(t, len, "", 0);
    len = put_frame(t, len, "a\nb", 3);
    len = put_frame(t, len, "world!", 6);
    for (size_t max = 1; max <= 7; max += 2)
        check_all_cuts(rill_stream_frames, model_frames, t, len, max);
    /* Truncated in the header and in the payload. */
    check_all_cuts(rill_stream_frames, model_frames, t, 7, 16);
    check_all_cuts(rill_stream_frames, model_frames, t, 11, 16);
}

static void test_frames_huge_header(void **state)
{
    (void)state;
    /* A header announcing 4 GiB - 1: an error, the end, no allocation of
     * that size (the counting allocator would see it). */
    const char t[] = "\xff\xff\xff\xff"
                     "garbage";
    rill_stream_t *s = chunked(t, sizeof t - 1, NULL, 0);
    assert_status(rill_stream_frames(&s, 1 << 20), 0);
    char got[64], want[64];
    drain(s, got, sizeof got);
    rill_stream_free(s);
    snprintf(want, sizeof want, "E%d|.", RILL_EMSGSIZE);
    assert_string_equal(got, want);
    unsigned char h[4];
    if (SIZE_MAX > UINT32_MAX)
        assert_status(rill_frame_header(h, (size_t)UINT32_MAX + 1),
                      RILL_EMSGSIZE);
}

/* ---- both ---- */

static void test_bad_arguments(void **state)
{
    (void)state;
    rill_stream_t *s = NULL;
    assert_status(rill_stream_lines(NULL, 8), RILL_EINVAL);
    assert_status(rill_stream_lines(&s, 8), RILL_EINVAL);
    s = chunked("x", 1, NULL, 0);
    assert_status(rill_stream_lines(&s, 0), RILL_EINVAL);
    assert_status(rill_stream_frames(&s, 0), RILL_EINVAL);
    if (SIZE_MAX > UINT32_MAX)
        assert_status(rill_stream_frames(&s, (size_t)UINT32_MAX + 1),
                      RILL_EINVAL);
    rill_stream_free(s);
    int v[2] = {1, 2}; /* not a stream of rill_bytes_t */
    s = ints(v, 2);
    rill_stream_t *keep = s;
    assert_status(rill_stream_lines(&s, 8), RILL_EINVAL);
    assert_ptr_equal(s, keep); /* untouched on failure */
    rill_stream_free(s);
}

/* An upstream of chunks with an error item between them. */
static int err_step(void *ud, void *in, void *out)
{
    (void)ud;
    rill_bytes_t *b = in;
    if (rill_bytes_len(b) == 1 && *(const char *)rill_bytes_data(b) == '!') {
        rill_bytes_release(b);
        return RILL_EUSER;
    }
    memcpy(out, in, sizeof *b);
    return 0;
}

static void test_upstream_errors_pass(void **state)
{
    (void)state;
    const char *t = "ab!c\nd";
    size_t cuts[] = {2, 3};
    rill_stream_t *s = chunked(t, strlen(t), cuts, 2);
    assert_status(rill_stream_map(&s, err_step, NULL, sizeof(rill_bytes_t)), 0);
    assert_status(rill_stream_set_item_dtor(s, rill_bytes_item_dtor, NULL), 0);
    assert_status(rill_stream_lines(&s, 16), 0);
    char got[64], want[64];
    drain(s, got, sizeof got);
    rill_stream_free(s);
    /* The error comes when it is met; the line goes on across it. */
    snprintf(want, sizeof want, "E%d|abc|d|.", RILL_EUSER);
    assert_string_equal(got, want);

    /* Met by a batch after a message: the message first, then the error
     * alone (held for the next poll), then the rest. */
    t = "x\nab!c\nd";
    size_t cuts2[] = {4, 5};
    snprintf(want, sizeof want, "x|E%d|abc|d|.", RILL_EUSER);
    for (drain_batch = 1; drain_batch <= 4; drain_batch += 3) {
        s = chunked(t, strlen(t), cuts2, 2);
        assert_status(rill_stream_map(&s, err_step, NULL, sizeof(rill_bytes_t)),
                      0);
        assert_status(rill_stream_set_item_dtor(s, rill_bytes_item_dtor, NULL),
                      0);
        assert_status(rill_stream_lines(&s, 16), 0);
        drain(s, got, sizeof got);
        rill_stream_free(s);
        assert_string_equal(got, want);
    }
    drain_batch = 1;
}

/* Every allocation in turn fails: the decoder reports RILL_ENOMEM, a
 * retry goes on where it stopped, and nothing leaks or is lost. */
static void test_allocation_failures(void **state)
{
    (void)state;
    char t[64];
    size_t flen = put_frame(t, 0, "payload", 7);
    flen = put_frame(t, flen, "xy", 2);
    for (int kind = 0; kind < 2; kind++) {
        const char *text = kind ? t : "spanning line\nshort\nlast";
        size_t len = kind ? flen : strlen(text);
        decoder_fn dec = kind ? rill_stream_frames : rill_stream_lines;
        model_fn model = kind ? model_frames : model_lines;
        char want[256];
        model(text, len, 64, want, sizeof want);
        for (int fail = 0; fail < 80; fail++) {
            /* the second 40: in batches of at most 3 (a refusal met
             * after some messages is held for the next poll) */
            size_t batch = fail < 40 ? 1 : 3;
            size_t cuts[] = {3, 9, 10};
            rill_stream_t *s = chunked(text, len, cuts, 3);
            test_alloc_refuse(fail % 40, false);
            int r = dec(&s, 64);
            if (r == RILL_ENOMEM) {
                test_alloc_disarm();
                rill_stream_free(s);
                continue;
            }
            assert_status(r, 0);
            char got[256];
            size_t o = 0;
            got[0] = 0;
            for (int guard = 0; guard < 1000; guard++) {
                rill_bytes_t m[3];
                size_t k = 1;
                r = batch == 1 ? rill_next(s, &m[0])
                               : rill_next_many(s, m, batch, &k);
                if (r == RILL_ENOMEM) {
                    test_alloc_disarm();
                    continue; /* a retry must go on where it stopped */
                }
                if (r == 0) {
                    for (size_t i = 0; i < k; i++) {
                        o += (size_t)snprintf(
                            got + o, sizeof got - o, "%.*s|",
                            (int)rill_bytes_len(&m[i]),
                            (const char *)rill_bytes_data(&m[i]));
                        rill_bytes_release(&m[i]);
                    }
                } else if (r < 0) {
                    o += (size_t)snprintf(got + o, sizeof got - o, "E%d|", r);
                } else {
                    snprintf(got + o, sizeof got - o, ".");
                    break;
                }
            }
            test_alloc_disarm();
            rill_stream_free(s);
            assert_string_equal(got, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines_every_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_zero_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_long_input_bounded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_frames_every_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_huge_header, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_errors_pass, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup,
                                        teardown),
    };
    return test_run(tests, NULL, NULL);
}
