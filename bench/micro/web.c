/* SPDX-License-Identifier: MIT */
/*
 * web.c - micro-benchmarks of the web protocol pieces (no sockets):
 *
 *   http_parse_MB/s      rill_http_parse_request over a 455-byte request
 *                        head as Chromium sends it (13 fields)
 *   http_parse_ns/req    the same, per request
 *   sse_encode_ns/event  rill_sse_encode of a 64-byte data event with an id
 *   ws_encode_ns/frame   rill_ws_encode of a 64-byte text frame
 *   share_ns/client      what one more client costs once a frame is
 *                        encoded: rill_bytes_clone + rill_bytes_release
 *   ws_decode_MB/s       rill_ws_decode of masked 64 KiB binary frames
 *   ws_decode_ns/msg     rill_ws_decode of masked 64-byte text frames
 *   wslay_ns/client      with Debian's wslay (when built with it): what the
 *                        event API costs per client and per 64-byte message,
 *                        wslay_event_queue_msg + wslay_event_send to a send
 *                        callback that takes the bytes without copying;
 *                        wslay has no way to queue one encoded frame for
 *                        many connections, so this is paid per client.
 *   wslay_frame_ns/client  the same with wslay's frame API
 *                        (wslay_frame_send per client, no queue)
 *
 * Each figure is the median of 5 runs. docs/web.md quotes them.
 * Usage: micro_web
 */
#include "must.h"
#include <rill.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HAVE_WSLAY
#include <wslay/wslay.h>
#endif

enum { RUNS = 5 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof *v, cmp_d);
    return v[RUNS / 2];
}

static volatile size_t sink; /* keeps results alive */

static const char REQUEST[] =
    "GET /events?stream=sensors HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Connection: keep-alive\r\n"
    "Cache-Control: no-cache\r\n"
    "Accept: text/event-stream\r\n"
    "sec-ch-ua: \"Chromium\";v=\"156\", \"Not)A;Brand\";v=\"24\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/156.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: cors\r\n"
    "Referer: http://127.0.0.1:8080/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n\r\n";

static void bench_http(void)
{
    const size_t n = 400000, len = sizeof REQUEST - 1;
    double t[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            rill_http_header_t h[32];
            rill_http_request_t req;
            if (rill_http_parse_request(&req, REQUEST, len, h, 32, NULL) != 0)
                abort();
            sink += req.header_count;
        }
        t[r] = (now() - t0) / (double)n;
    }
    double m = median(t);
    printf("http_parse_MB/s      %8.0f\n", (double)len / m / 1e6);
    printf("http_parse_ns/req    %8.1f   (%zu-byte head)\n", m * 1e9, len);
}

static void bench_encode(void)
{
    static const char data[65] =
        "{\"sensor\":7,\"value\":21.375,\"t\":1764800000123,\"seq\":123456789}";
    const size_t n = 1000000;
    double t[RUNS];
    rill_sse_event_t ev = {0};
    MUST(rill_bytes_new(&ev.id, "123456789", 9));
    MUST(rill_bytes_new(&ev.data, data, 64));
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            rill_bytes_t out;
            if (rill_sse_encode(&out, &ev) != 0)
                abort();
            sink += out.len;
            rill_bytes_release(&out);
        }
        t[r] = (now() - t0) / (double)n;
    }
    printf("sse_encode_ns/event  %8.1f\n", median(t) * 1e9);
    rill_sse_event_destroy(&ev);
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            rill_bytes_t out;
            if (rill_ws_encode(&out, RILL_WS_TEXT, data, 64) != 0)
                abort();
            sink += out.len;
            rill_bytes_release(&out);
        }
        t[r] = (now() - t0) / (double)n;
    }
    printf("ws_encode_ns/frame   %8.1f\n", median(t) * 1e9);
    rill_bytes_t frame;
    MUST(rill_ws_encode(&frame, RILL_WS_TEXT, data, 64));
    enum { CLIENTS = 1000 };
    static rill_bytes_t held[CLIENTS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (size_t i = 0; i < n / CLIENTS; i++) {
            for (int c = 0; c < CLIENTS; c++)
                held[c] = rill_bytes_clone(&frame);
            for (int c = 0; c < CLIENTS; c++)
                rill_bytes_release(&held[c]);
        }
        t[r] = (now() - t0) / (double)n;
    }
    printf("share_ns/client      %8.1f\n", median(t) * 1e9);
    rill_bytes_release(&frame);
}

/* Masked client frames of `size` bytes, `count` of them, in one buffer. */
static unsigned char *client_frames(size_t size, size_t count, size_t *len)
{
    size_t hl = size < 126 ? 6 : size <= 0xFFFF ? 8 : 14;
    unsigned char *b = malloc((hl + size) * count), *p = b;
    for (size_t i = 0; i < count; i++) {
        *p++ = size < 126 ? 0x81 : 0x82;
        if (size < 126) {
            *p++ = (unsigned char)(0x80 | size);
        } else if (size <= 0xFFFF) {
            *p++ = 0x80 | 126;
            *p++ = (unsigned char)(size >> 8);
            *p++ = (unsigned char)size;
        } else {
            *p++ = 0x80 | 127;
            for (int k = 0; k < 8; k++)
                *p++ = (unsigned char)((uint64_t)size >> (56 - 8 * k));
        }
        static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
        memcpy(p, key, 4);
        p += 4;
        for (size_t k = 0; k < size; k++)
            *p++ = (unsigned char)('a' + k % 26) ^ key[k & 3];
    }
    *len = (size_t)(p - b);
    return b;
}

static double decode_all(const unsigned char *b, size_t len, size_t *msgs)
{
    rill_ws_decoder_t d;
    MUST(rill_ws_decoder_init(&d, NULL));
    double t0 = now();
    size_t off = 0;
    *msgs = 0;
    while (off < len) {
        size_t used;
        rill_ws_message_t m;
        int rc = rill_ws_decode(&d, b + off, len - off, &used, &m);
        off += used;
        if (rc != 0)
            break;
        (*msgs)++;
        sink += m.data.len;
        rill_bytes_release(&m.data);
    }
    double dt = now() - t0;
    rill_ws_decoder_destroy(&d);
    return dt;
}

static void bench_decode(void)
{
    double t[RUNS];
    size_t len, msgs;
    unsigned char *big = client_frames(65536, 2000, &len);
    for (int r = 0; r < RUNS; r++)
        t[r] = (double)len / decode_all(big, len, &msgs);
    printf("ws_decode_MB/s       %8.0f   (64 KiB frames)\n", median(t) / 1e6);
    free(big);
    unsigned char *small = client_frames(64, 500000, &len);
    for (int r = 0; r < RUNS; r++)
        t[r] = decode_all(small, len, &msgs) / (double)msgs;
    printf("ws_decode_ns/msg     %8.1f   (64-byte text)\n", median(t) * 1e9);
    free(small);
}

#ifdef HAVE_WSLAY
static ssize_t take_all(wslay_event_context_ptr ctx, const uint8_t *data,
                        size_t len, int flags, void *ud)
{
    (void)ctx, (void)flags, (void)ud;
    sink += data[0] + len;
    return (ssize_t)len;
}

static ssize_t frame_take_all(const uint8_t *data, size_t len, int flags,
                              void *ud)
{
    (void)flags, (void)ud;
    sink += data[0] + len;
    return (ssize_t)len;
}

static void bench_wslay(void)
{
    enum { CLIENTS = 1000, MSGS = 500 };
    static const uint8_t data[64] = "0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef0123456789abcde";
    struct wslay_event_callbacks cb = {NULL, take_all, NULL, NULL,
                                       NULL, NULL,     NULL};
    static wslay_event_context_ptr ctx[CLIENTS];
    for (int c = 0; c < CLIENTS; c++)
        if (wslay_event_context_server_init(&ctx[c], &cb, NULL) != 0)
            abort();
    double t[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (int m = 0; m < MSGS; m++) {
            struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, data, 64};
            for (int c = 0; c < CLIENTS; c++) {
                if (wslay_event_queue_msg(ctx[c], &msg) != 0 ||
                    wslay_event_send(ctx[c]) != 0)
                    abort();
            }
        }
        t[r] = (now() - t0) / (CLIENTS * (double)MSGS);
    }
    printf("wslay_ns/client      %8.1f   (event API: queue_msg + send)\n",
           median(t) * 1e9);
    for (int c = 0; c < CLIENTS; c++)
        wslay_event_context_free(ctx[c]);

    struct wslay_frame_callbacks fcb = {frame_take_all, NULL, NULL};
    static wslay_frame_context_ptr fctx[CLIENTS];
    for (int c = 0; c < CLIENTS; c++)
        if (wslay_frame_context_init(&fctx[c], &fcb, NULL) != 0)
            abort();
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (int m = 0; m < MSGS; m++) {
            for (int c = 0; c < CLIENTS; c++) {
                struct wslay_frame_iocb io = {1,    0, WSLAY_TEXT_FRAME, 64, 0,
                                              data, 64};
                if (wslay_frame_send(fctx[c], &io) != 64)
                    abort();
            }
        }
        t[r] = (now() - t0) / (CLIENTS * (double)MSGS);
    }
    printf("wslay_frame_ns/client %7.1f   (frame API: wslay_frame_send)\n",
           median(t) * 1e9);
    for (int c = 0; c < CLIENTS; c++)
        wslay_frame_context_free(fctx[c]);
}
#endif

int main(void)
{
    bench_http();
    bench_encode();
    bench_decode();
#ifdef HAVE_WSLAY
    bench_wslay();
#else
    printf("wslay: not built (libwslay-dev not found)\n");
#endif
    return 0;
}
