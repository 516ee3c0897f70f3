/* SPDX-License-Identifier: MIT */
/*
 * test_sse.c - the Server-Sent Events encoder: exact wire bytes, data
 * split at every kind of line break, and what a browser's parser (the
 * WHATWG algorithm in web_util.h) reads back; refused fields; comments;
 * one encoding shared by many holders.
 */
#include "test_util.h"
#include "web_util.h"

#include <rill.h>
#include <string.h>

static rill_bytes_t B(const char *s)
{
    rill_bytes_t b;
    assert_status(rill_bytes_new(&b, s, strlen(s)), 0);
    return b;
}

static void expect_wire(const rill_sse_event_t *ev, const char *want)
{
    rill_bytes_t out;
    assert_status(rill_sse_encode(&out, ev), 0);
    assert_int_equal(rill_sse_encoded_len(ev), strlen(want));
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.ptr, want, out.len);
    rill_bytes_release(&out);
}

static void test_wire_format(void **state)
{
    (void)state;
    rill_sse_event_t ev = {0};
    expect_wire(&ev, "data: \n\n"); /* empty data still dispatches */
    ev.data = B("hello");
    expect_wire(&ev, "data: hello\n\n");
    ev.id = B("42");
    ev.event = B("tick");
    ev.retry_ms = 1500;
    expect_wire(&ev, "retry: 1500\nid: 42\nevent: tick\ndata: hello\n\n");
    rill_sse_event_destroy(&ev);
    ev = (rill_sse_event_t){0};
    ev.data = B("a\nb\r\nc\rd\n");
    expect_wire(&ev, "data: a\ndata: b\ndata: c\ndata: d\ndata: \n\n");
    rill_sse_event_destroy(&ev);
    ev.data = B("\r\n\r\n");
    expect_wire(&ev, "data: \ndata: \ndata: \n\n");
    rill_sse_event_destroy(&ev);
    ev.data = B(" lead: colon");
    expect_wire(&ev, "data:  lead: colon\n\n");
    rill_sse_event_destroy(&ev);
    assert_null(ev.data.shared_);
    rill_sse_event_destroy(NULL);
}

typedef struct got {
    int n;
    char data[8][64], type[8][16], id[8][16];
} got_t;

static void on_event(void *ud, const wu_sse_event_t *ev)
{
    got_t *g = ud;
    assert_true(g->n < 8);
    snprintf(g->data[g->n], 64, "%s", ev->data.p);
    snprintf(g->type[g->n], 16, "%s", ev->type.len ? ev->type.p : "message");
    snprintf(g->id[g->n], 16, "%s", ev->last_id.p ? ev->last_id.p : "");
    g->n++;
}

static void test_browser_reads_back(void **state)
{
    (void)state;
    const char *datas[] = {"one", "two\nlines", "\n", "", "crlf\r\nx\r", " sp"};
    const char *wants[] = {"one", "two\nlines", "\n", "", "crlf\nx\n", " sp"};
    wu_buf_t stream = {0};
    for (int i = 0; i < 6; i++) {
        rill_sse_event_t ev = {0};
        ev.data = B(datas[i]);
        if (i % 2 == 0) {
            char id[8];
            snprintf(id, sizeof id, "%d", i);
            ev.id = B(id);
        }
        if (i == 3)
            ev.event = B("custom");
        rill_bytes_t out;
        assert_status(rill_sse_encode(&out, &ev), 0);
        wu_put(&stream, out.ptr, out.len);
        rill_bytes_release(&out);
        rill_sse_event_destroy(&ev);
        if (i == 2) {
            assert_status(rill_sse_encode_comment(&out, "keep\nalive", 10), 0);
            assert_memory_equal(out.ptr, ": keep\n: alive\n", out.len);
            wu_put(&stream, out.ptr, out.len);
            rill_bytes_release(&out);
        }
    }
    wu_sse_parser_t ps = {0};
    got_t g = {0};
    wu_sse_parse(&ps, stream.p, stream.len, on_event, &g);
    assert_int_equal(g.n, 6);
    assert_int_equal(ps.comments, 2);
    for (int i = 0; i < 6; i++)
        assert_string_equal(g.data[i], wants[i]);
    assert_string_equal(g.type[3], "custom");
    assert_string_equal(g.type[4], "message");
    /* No id line keeps the last one. */
    assert_string_equal(g.id[0], "0");
    assert_string_equal(g.id[1], "0");
    assert_string_equal(g.id[4], "4");
    assert_string_equal(g.id[5], "4");
    wu_sse_free(&ps);
    free(stream.p);
}

static void test_refused(void **state)
{
    (void)state;
    rill_bytes_t keep = B("x"), out = keep; /* overwritten on error */
    rill_sse_event_t ev = {0};
    ev.id = B("a\nb");
    assert_status(rill_sse_encode(&out, &ev), RILL_EINVAL);
    assert_null(out.shared_); /* the empty value on error */
    assert_int_equal(rill_sse_encoded_len(&ev), 0);
    rill_sse_event_destroy(&ev);
    assert_status(rill_bytes_new(&ev.id, "a\0b", 3), 0);
    assert_status(rill_sse_encode(&out, &ev), RILL_EINVAL);
    rill_sse_event_destroy(&ev);
    ev.event = B("a\rb");
    assert_status(rill_sse_encode(&out, &ev), RILL_EINVAL);
    rill_sse_event_destroy(&ev);
    assert_status(rill_bytes_new(&ev.event, "a\0b", 3), 0);
    assert_status(rill_sse_encode(&out, &ev), 0); /* a NUL type is fine */
    rill_bytes_release(&out);
    rill_sse_event_destroy(&ev);
    ev.retry_ms = -1;
    assert_status(rill_sse_encode(&out, &ev), RILL_EINVAL);
    assert_status(rill_sse_encode(NULL, &ev), RILL_EINVAL);
    assert_status(rill_sse_encode(&out, NULL), RILL_EINVAL);
    assert_status(rill_sse_encode_comment(&out, NULL, 1), RILL_EINVAL);
    assert_status(rill_sse_encode_comment(&out, NULL, 0), 0);
    assert_memory_equal(out.ptr, ":\n", 2);
    rill_bytes_release(&out);
    rill_bytes_release(&keep);
}

/* One encoding, many readers: every client gets a reference to the same
 * bytes, and the bytes go when the last one does. */
static void test_shared_encoding(void **state)
{
    (void)state;
    long before = test_alloc_count();
    rill_sse_event_t ev = {0};
    ev.data = B("shared");
    rill_bytes_t wire, clients[100];
    assert_status(rill_sse_encode(&wire, &ev), 0);
    rill_sse_event_destroy(&ev);
    long after_encode = test_alloc_count();
    assert_int_equal(after_encode - before, 1); /* one allocation */
    for (int i = 0; i < 100; i++) {
        clients[i] = rill_bytes_clone(&wire);
        assert_ptr_equal(clients[i].ptr, wire.ptr);
    }
    assert_int_equal(test_alloc_count(), after_encode);
    assert_int_equal(rill_bytes_refs(&wire), 101);
    rill_bytes_release(&wire);
    for (int i = 0; i < 100; i++)
        rill_bytes_release(&clients[i]);
    assert_int_equal(test_alloc_count(), before);
}

/* A channel of events with the item destructor drops what it holds. */
static void test_item_dtor(void **state)
{
    (void)state;
    long before = test_alloc_count();
    rill_sse_event_t ev = {B("1"), B("t"), B("d"), 0};
    rill_sse_event_item_dtor(&ev, NULL);
    assert_null(ev.id.shared_);
    assert_int_equal(test_alloc_count(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_format),
        cmocka_unit_test(test_browser_reads_back),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_shared_encoding),
        cmocka_unit_test(test_item_dtor),
    };
    return test_run(tests, NULL, NULL);
}
