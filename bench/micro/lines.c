/* SPDX-License-Identifier: MIT */
/*
 * lines.c - what rill_stream_lines costs per line without the socket
 * (docs/performance.md, N4): N4's consumer (rill_next_many of 64
 * lines, released with rill_bytes_release_many) over a stream of 64 KiB
 * chunks cut from one text of 80-byte lines, so a line now and then
 * spans two chunks as it does when read(2) cuts it. The chunks are slices
 * of one shared buffer (no copy, one reference count per chunk), so what
 * is measured is the splitter, the per-line rill_bytes and the await per
 * batch.
 *   lines [MiB]   default 256; prints ns per line, median of 5 runs
 * Under `valgrind --tool=callgrind` use a small size (lines 16) and divide
 * the instructions by the line count it prints.
 */
#include "must.h"
#include <rill.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE 80
#define CHUNK (64 * 1024)
#define TEXT (LINE * CHUNK) /* whole lines, and a whole number of chunks */
#define RUNS 5

typedef struct src {
    rill_bytes_t text;
    uint64_t left; /* bytes still to give */
    size_t off;    /* where in text the next chunk starts */
} src_t;

static int src_poll(void *ud, rill_cx_t *cx, void *out)
{
    (void)cx;
    src_t *s = ud;
    if (s->left == 0)
        return RILL_DONE;
    size_t n = CHUNK;
    if (n > s->left)
        n = (size_t)s->left;
    MUST(rill_bytes_slice(&s->text, s->off, n, out));
    s->off = (s->off + n) % TEXT;
    s->left -= n;
    return 0;
}

typedef struct job {
    uint64_t bytes, lines, sum;
    rill_bytes_t text;
} job_t;

static void *consume(void *arg)
{
    job_t *j = arg;
    src_t src = {rill_bytes_clone(&j->text), j->bytes, 0};
    rill_stream_t *s;
    MUST(rill_stream_from_fn(&s, sizeof(rill_bytes_t), src_poll, &src, NULL));
    MUST(rill_stream_set_item_dtor(s, rill_bytes_item_dtor, NULL));
    MUST(rill_stream_lines(&s, 4096));
    rill_bytes_t lines[64];
    size_t n;
    int r;
    while ((r = rill_next_many(s, lines, 64, &n)) == 0) {
        for (size_t i = 0; i < n; i++) {
            j->lines++;
            j->sum += rill_bytes_len(&lines[i]) + 1;
        }
        rill_bytes_release_many(lines, n);
    }
    rill_stream_free(s);
    rill_bytes_release(&src.text);
    return r == RILL_DONE ? NULL : (void *)1;
}

int main(int argc, char **argv)
{
    uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
    uint64_t bytes = mib * 1024 * 1024 / LINE * LINE;
    unsigned char *text = malloc(TEXT);
    if (!text)
        return 1;
    for (size_t i = 0; i < TEXT; i++)
        text[i] = i % LINE == LINE - 1 ? '\n' : (unsigned char)('a' + i % 26);
    rill_bytes_t tb;
    MUST(rill_bytes_new(&tb, text, TEXT));
    free(text);
    rill_runtime_t *rt;
    MUST(rill_runtime_new(&rt, NULL));
    double ns[RUNS];
    for (int i = 0; i < RUNS; i++) {
        job_t j = {.bytes = bytes, .text = tb};
        double t0 = micro_now_s();
        void *res;
        MUST(rill_block_on(rt, consume, &j, &res));
        ns[i] = (micro_now_s() - t0) * 1e9 / (double)j.lines;
        if (res || j.sum != bytes || j.lines != bytes / LINE) {
            fprintf(stderr, "lines: wrong count\n");
            return 1;
        }
    }
    qsort(ns, RUNS, sizeof ns[0], micro_cmp_double);
    printf("lines %llu per run: %.2f ns per line (%.2f..%.2f), %.0f MB/s\n",
           (unsigned long long)(bytes / LINE), ns[RUNS / 2], ns[0],
           ns[RUNS - 1], LINE / ns[RUNS / 2] * 1e3);
    rill_runtime_free(rt);
    rill_bytes_release(&tb);
    return 0;
}
