/* SPDX-License-Identifier: MIT */
/*
 * test_http.c - the HTTP/1.1 request parser and the chunked body decoder:
 * fields, keep-alive rules of 1.0 and 1.1, pipelined requests, every
 * limit with its status (414, 431, 413), the strictness rules against
 * request smuggling (400, 501, 505), the PENDING answer for every prefix
 * of a request, and chunked bodies fed a byte at a time.
 */
#include "test_util.h"

#include <rill.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXH 16

static int parse(const char *s, rill_http_request_t *req, rill_http_header_t *h,
                 const rill_http_parse_config_t *cfg)
{
    return rill_http_parse_request(req, s, strlen(s), h, MAXH, cfg);
}

static bool str_is(rill_http_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* Parse s; expect RILL_EPROTO with `status`. */
static void expect_status(const char *s, int status,
                          const rill_http_parse_config_t *cfg)
{
    rill_http_request_t req;
    rill_http_header_t h[MAXH];
    int rc = parse(s, &req, h, cfg);
    if (rc != RILL_EPROTO || req.status != status)
        fail_msg("%s: rc %d status %d (%s), want %d", s, rc, req.status,
                 req.error ? req.error : "-", status);
}

static void test_simple_get(void **state)
{
    (void)state;
    const char *s = "GET /stream?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n"
                    "Accept:  text/event-stream \r\nX-Empty:\r\n\r\n";
    rill_http_request_t req;
    rill_http_header_t h[MAXH];
    assert_int_equal(parse(s, &req, h, NULL), 0);
    assert_int_equal(req.method, RILL_HTTP_GET);
    assert_true(str_is(req.method_name, "GET"));
    assert_true(str_is(req.target, "/stream?x=1&y=2"));
    assert_true(str_is(req.path, "/stream"));
    assert_true(str_is(req.query, "x=1&y=2"));
    assert_int_equal(req.version, 11);
    assert_int_equal(req.header_count, 3);
    assert_true(str_is(h[1].name, "Accept"));
    assert_true(str_is(h[1].value, "text/event-stream")); /* OWS trimmed */
    assert_true(str_is(h[2].value, ""));
    assert_int_equal(req.head_len, strlen(s));
    assert_true(req.keep_alive);
    assert_false(req.upgrade);
    assert_false(req.chunked);
    assert_int_equal(req.content_length, 0);
    /* Zero-copy: the strings point into the buffer. */
    assert_ptr_equal(req.target.ptr, s + 4);
    const rill_http_header_t *acc = rill_http_request_header(&req, "aCCEPT");
    assert_non_null(acc);
    assert_ptr_equal(acc, &h[1]);
    assert_null(rill_http_request_header(&req, "Accept-Encoding"));
    assert_string_equal(rill_http_method_name(RILL_HTTP_OPTIONS), "OPTIONS");
    assert_string_equal(rill_http_method_name(RILL_HTTP_OTHER), "OTHER");
    assert_string_equal(rill_http_status_reason(431),
                        "Request Header Fields Too Large");
    assert_string_equal(rill_http_status_reason(299), "Unknown");
}

static void test_targets(void **state)
{
    (void)state;
    rill_http_request_t req;
    rill_http_header_t h[MAXH];
    assert_int_equal(
        parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &req, h, NULL), 0);
    assert_true(str_is(req.path, "*"));
    assert_int_equal(
        parse("GET http://a.example:80/x/y?q HTTP/1.1\r\nHost: a\r\n\r\n", &req,
              h, NULL),
        0);
    assert_true(str_is(req.path, "/x/y"));
    assert_true(str_is(req.query, "q"));
    assert_int_equal(parse("GET http://a.example HTTP/1.1\r\nHost: a\r\n\r\n",
                           &req, h, NULL),
                     0);
    assert_true(str_is(req.path, "/"));
    assert_int_equal(parse("GET http://a.example?z HTTP/1.1\r\nHost: a\r\n\r\n",
                           &req, h, NULL),
                     0);
    assert_true(str_is(req.path, "/"));
    assert_true(str_is(req.query, "z"));
    assert_int_equal(parse("CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n",
                           &req, h, NULL),
                     0);
    assert_int_equal(req.method, RILL_HTTP_CONNECT);
    assert_int_equal(req.path.len, 0);
    /* Unknown methods are tokens, named OTHER; methods are case-sensitive. */
    assert_int_equal(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n", &req, h, NULL),
                     0);
    assert_int_equal(req.method, RILL_HTTP_OTHER);
    assert_true(str_is(req.method_name, "get"));
}

static void test_keep_alive_rules(void **state)
{
    (void)state;
    rill_http_request_t req;
    rill_http_header_t h[MAXH];
    /* HTTP/1.0: close unless asked; no Host needed. */
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &req, h, NULL), 0);
    assert_int_equal(req.version, 10);
    assert_false(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
                           &req, h, NULL),
                     0);
    assert_true(req.keep_alive);
    /* HTTP/1.1: open unless "close" is in any Connection list. */
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, "
                           "close\r\n\r\n",
                           &req, h, NULL),
                     0);
    assert_false(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: "
                           "keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
                           &req, h, NULL),
                     0);
    assert_true(req.keep_alive);
    assert_true(req.upgrade);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                           "\r\n",
                           &req, h, NULL),
                     0);
    assert_false(req.upgrade); /* Connection does not say upgrade */
    /* 1.x for x > 1 is 1.1. */
    assert_int_equal(parse("GET / HTTP/1.7\r\nHost: a\r\n\r\n", &req, h, NULL),
                     0);
    assert_int_equal(req.version, 11);
    assert_int_equal(parse("POST /c HTTP/1.1\r\nHost: a\r\nExpect: "
                           "100-continue\r\nContent-Length: 3\r\n\r\n",
                           &req, h, NULL),
                     0);
    assert_true(req.expect_continue);
    assert_int_equal(req.content_length, 3);
}

static void test_pipelined(void **state)
{
    (void)state;
    const char *s = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                    "hello"
                    "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                    "\r\nGET /c HTTP/1.0\r\n\r\n";
    size_t len = strlen(s), off = 0;
    const char *paths[] = {"/a", "/b", "/c"};
    rill_http_request_t req;
    rill_http_header_t h[MAXH];
    for (int i = 0; i < 3; i++) {
        assert_status(
            rill_http_parse_request(&req, s + off, len - off, h, MAXH, NULL),
            0);
        assert_true(str_is(req.path, paths[i]));
        off += req.head_len + req.content_length;
    }
    assert_int_equal(off, len);
    assert_false(req.keep_alive);
}

static void test_bad_requests(void **state)
{
    (void)state;
    expect_status("GET / HTTP/1.1\r\n\r\n", 400, NULL); /* no Host */
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, NULL);
    expect_status("G(T / HTTP/1.1\r\n", 400, NULL);
    expect_status(" GET / HTTP/1.1\r\n", 400, NULL);
    expect_status("GET  / HTTP/1.1\r\n", 400, NULL);
    expect_status("GET /\x7f HTTP/1.1\r\n", 400, NULL);
    expect_status("GET / HTTP/1.1 \r\n", 400, NULL);
    expect_status("GET / http/1.1\r\n", 400, NULL);
    expect_status("GET / HTTP/1.1\n", 400, NULL); /* bare LF */
    expect_status("GET / HTTP/1.1\r\nHost: a\n\r\n", 400, NULL);
    expect_status("GET / HTTP/2.0\r\n", 505, NULL);
    expect_status("GET / HTTP/0.9\r\n", 505, NULL);
    expect_status("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, NULL);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, NULL);
    expect_status("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400, NULL);
    expect_status("GET / HTTP/1.1\r\n: a\r\n\r\n", 400, NULL);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
                  400, NULL);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
                  400, NULL);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400,
                  NULL);
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                  "Content-Length: 2\r\n\r\n",
                  400, NULL);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  400, NULL);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, "
                  "chunked\r\n\r\n",
                  501, NULL);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  400, NULL);
    expect_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                  NULL);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
                  "99999999999999999999999\r\n\r\n",
                  413, NULL);
    /* The same Content-Length twice is one length. */
    rill_http_request_t req;
    rill_http_header_t h[MAXH];
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n"
                           "content-length: 7\r\n\r\n",
                           &req, h, NULL),
                     0);
    assert_int_equal(req.content_length, 7);
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                           "Chunked\r\n\r\n",
                           &req, h, NULL),
                     0);
    assert_true(req.chunked);
    /* Misuse. */
    assert_status(rill_http_parse_request(NULL, "x", 1, h, 1, NULL),
                  RILL_EINVAL);
    assert_status(rill_http_parse_request(&req, NULL, 1, h, 1, NULL),
                  RILL_EINVAL);
    assert_status(rill_http_parse_request(&req, "x", 1, NULL, 1, NULL),
                  RILL_EINVAL);
    assert_status(rill_http_parse_request(&req, NULL, 0, NULL, 0, NULL),
                  RILL_PENDING);
}

static void test_limits(void **state)
{
    (void)state;
    rill_http_parse_config_t cfg = {
        .max_request_line = 32, .max_header_bytes = 64, .max_body = 100};
    rill_http_request_t req;
    rill_http_header_t h[MAXH];
    /* The request line: 32 bytes with its CRLF is in, 33 is out. */
    char line[64];
    snprintf(line, sizeof line, "GET /%s HTTP/1.0\r\n\r\n",
             "aaaaaaaaaaaaaaaa"); /* 5 + 16 + 11 = 32 */
    assert_int_equal(strlen(line) - 2, 32);
    assert_int_equal(parse(line, &req, h, &cfg), 0);
    snprintf(line, sizeof line, "GET /%s HTTP/1.0\r\n\r\n",
             "aaaaaaaaaaaaaaaaa");
    expect_status(line, 414, &cfg);
    /* Refused as soon as the partial line passes the limit. */
    expect_status("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 414, &cfg);
    assert_status(parse("GET /aaaaaaaaaaaaaaaaaaaaaaaaaa", &req, h, &cfg),
                  RILL_PENDING);
    /* Empty lines before the request count towards it. */
    expect_status("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
                  "\r\n\r\n\r\n",
                  414, &cfg);
    /* The header section, with its final empty line: 64 in, 65 out. */
    const char *head = "GET / HTTP/1.1\r\n";
    char buf[256];
    snprintf(buf, sizeof buf, "%sHost: a\r\nX: %s\r\n\r\n", head,
             "012345678901234567890123456789012345678901234567");
    assert_int_equal(strlen(buf) - strlen(head), 64);
    assert_int_equal(parse(buf, &req, h, &cfg), 0);
    snprintf(buf, sizeof buf, "%sHost: a\r\nX: %s\r\n\r\n", head,
             "0123456789012345678901234567890123456789012345678");
    expect_status(buf, 431, &cfg);
    /* An endless header line is refused at the limit. */
    snprintf(buf, sizeof buf, "%sX: %0100d", head, 0);
    expect_status(buf, 431, &cfg);
    /* The field count is the array's size. */
    assert_status(
        rill_http_parse_request(
            &req, "GET / HTTP/1.1\r\nHost: a\r\nB: c\r\n\r\n", 34, h, 2, NULL),
        0);
    assert_status(
        rill_http_parse_request(
            &req, "GET / HTTP/1.1\r\nHost: a\r\nB: c\r\n\r\n", 34, h, 1, NULL),
        RILL_EPROTO);
    assert_int_equal(req.status, 431);
    /* The body limit. */
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
                           "100\r\n\r\n",
                           &req, h, &cfg),
                     0);
    expect_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n",
                  413, &cfg);
}

/* Every prefix of a request is PENDING, or the whole request's answer. */
static void check_prefixes(const char *s)
{
    size_t len = strlen(s);
    rill_http_request_t full, part;
    rill_http_header_t h[MAXH], hp[MAXH];
    int want = rill_http_parse_request(&full, s, len, h, MAXH, NULL);
    for (size_t k = 0; k < len; k++) {
        int rc = rill_http_parse_request(&part, s, k, hp, MAXH, NULL);
        if (rc == RILL_PENDING)
            continue;
        assert_status(rc, want);
        if (rc == RILL_EPROTO)
            assert_int_equal(part.status, full.status);
        else
            assert_int_equal(part.head_len, full.head_len);
    }
}

static void test_prefixes(void **state)
{
    (void)state;
    check_prefixes("\r\nGET /x?y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
                   "Content-Length: 12\r\n\r\n");
    check_prefixes("GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n");
    check_prefixes("GET / HTTP/3.0\r\n\r\n");
    check_prefixes("GET / HTTP/1.1\r\n\r\n");
}

static const char *chunked_body = "5\r\nhello\r\n"
                                  "1A;name=value\r\nabcdefghijklmnopqrstuvwxyz"
                                  "\r\n0\r\nTrailer: x\r\n\r\nNEXT";

/* Decode body, fed `step` bytes at a time; returns the data joined. */
static int decode_chunked(const char *body, size_t step, char *out,
                          size_t *out_len, size_t *end, uint64_t max)
{
    rill_http_chunked_t c;
    rill_http_chunked_init(&c, max);
    size_t len = strlen(body), off = 0, avail = 0;
    *out_len = 0;
    for (;;) {
        if (avail < len && avail - off < step)
            avail = avail + step < len ? avail + step : len;
        size_t used;
        rill_http_str_t data;
        int rc =
            rill_http_chunked_decode(&c, body + off, avail - off, &used, &data);
        off += used;
        if (rc == 0) {
            assert_true(data.len > 0);
            assert_true(data.ptr >= body && data.ptr + data.len <= body + off);
            memcpy(out + *out_len, data.ptr, data.len);
            *out_len += data.len;
        } else if (rc == RILL_PENDING) {
            assert_int_equal(off, avail);
            if (avail == len)
                return RILL_PENDING;
        } else {
            *end = off;
            return rc == RILL_EPROTO ? -c.status : rc;
        }
    }
}

static void test_chunked(void **state)
{
    (void)state;
    char out[128];
    size_t n, end;
    for (size_t step = 1; step <= strlen(chunked_body); step++) {
        assert_status(decode_chunked(chunked_body, step, out, &n, &end, 0),
                      RILL_DONE);
        assert_int_equal(n, 31);
        assert_memory_equal(out, "helloabcdefghijklmnopqrstuvwxyz", 31);
        assert_int_equal(end, strlen(chunked_body) - 4); /* at "NEXT" */
    }
    assert_int_equal(decode_chunked(chunked_body, 7, out, &n, &end, 30), -413);
    assert_int_equal(decode_chunked("5\r\nhelloX\r\n", 3, out, &n, &end, 0),
                     -400);
    assert_int_equal(decode_chunked("x\r\n", 3, out, &n, &end, 0), -400);
    assert_int_equal(decode_chunked("5\nhello", 3, out, &n, &end, 0), -400);
    assert_int_equal(
        decode_chunked("fffffffffffffffffffff\r\n", 3, out, &n, &end, 0), -413);
    assert_status(decode_chunked("0\r\n\r", 3, out, &n, &end, 0), RILL_PENDING);
    assert_int_equal(decode_chunked("0\r\n: x\r\n\r\n", 3, out, &n, &end, 0),
                     -400);
    /* An endless extension is refused. */
    char *longext = malloc(6000);
    memcpy(longext, "1;", 2);
    memset(longext + 2, 'a', 5997);
    longext[5999] = '\0';
    assert_int_equal(decode_chunked(longext, 512, out, &n, &end, 0), -400);
    free(longext);
    rill_http_chunked_t c;
    size_t used;
    rill_http_str_t d;
    rill_http_chunked_init(&c, 0);
    assert_status(rill_http_chunked_decode(&c, NULL, 1, &used, &d),
                  RILL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_chunked),
    };
    return test_run(tests, NULL, NULL);
}
