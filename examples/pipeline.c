/* SPDX-License-Identifier: MIT */
/*
 * pipeline.c - seed example 7: a three-stage data pipeline through chained
 * channels, each stage consuming the previous one's channel as a stream.
 *
 *   ingest ──ch1──> process ──ch2──> store
 *
 * - ingest: raw records (text lines) into ch1;
 * - process: ch1 as a stream, parsed with filter_map (bad lines are
 *   counted and dropped), forwarded into ch2 (forward waits on a full
 *   ch2: the store's pace reaches back through ch1 to ingest);
 * - store: ch2 as a stream, in batches of 10, each batch "written".
 *
 * Each stage ends when the one before it released its sender.
 */
#include "check.h"
#include <rill.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct raw {
    char line[32];
} raw_t;

typedef struct record {
    int id;
    double value;
} record_t;

enum { RECORDS = 200 };

static void *ingest(void *arg)
{
    rill_sender_t *tx = arg;
    for (int i = 0; i < RECORDS; i++) {
        raw_t r;
        if (i % 25 == 7)
            snprintf(r.line, sizeof r.line, "%d,garbage", i);
        else
            snprintf(r.line, sizeof r.line, "%d,%d.%d", i, i % 50, i % 10);
        if (rill_send(tx, &r) != 0)
            break;
    }
    printf("ingest: done\n");
    rill_sender_release(tx);
    return NULL;
}

/* Parses a line; a bad one is counted (ud) and produces nothing. */
static int parse(void *ud, void *in, void *out)
{
    const char *line = ((raw_t *)in)->line;
    record_t *rec = out;
    char *end;
    rec->id = (int)strtol(line, &end, 10);
    if (*end == ',') {
        rec->value = strtod(end + 1, &end);
        if (*end == '\0')
            return 0;
    }
    ++*(int *)ud;
    return 1; /* filter_map: no item for this one */
}

typedef struct process_arg {
    rill_stream_t *in;
    rill_sender_t *out;
    int bad;
} process_arg_t;

static void *process(void *arg)
{
    process_arg_t *p = arg;
    int r = rill_stream_filter_map(&p->in, parse, &p->bad, sizeof(record_t));
    if (r == 0) /* forward consumes the stream and releases the sender */
        r = rill_stream_forward(p->in, p->out);
    else {
        rill_stream_free(p->in);
        rill_sender_release(p->out);
    }
    printf("process: done, %d bad records dropped\n", p->bad);
    return (void *)(intptr_t)r;
}

typedef struct store_stats {
    int batches, records;
    double total;
} store_stats_t;

static int store_batch(void *ud, int status, void *item)
{
    store_stats_t *st = ud;
    if (status < 0)
        return status;
    rill_chunk_t *batch = item;
    for (size_t i = 0; i < batch->len; i++)
        st->total += RILL_CHUNK_AT(batch, record_t, i).value;
    st->batches++;
    st->records += (int)batch->len;
    rill_sleep(RILL_MS(2)); /* one write per batch */
    rill_chunk_destroy(batch);
    return 0;
}

static void *main_task(void *arg)
{
    (void)arg;
    rill_sender_t *tx1, *tx2;
    rill_receiver_t *rx1, *rx2;
    process_arg_t p = {0};
    rill_stream_t *stored;
    rill_task_t *t_ingest, *t_process;
    store_stats_t st = {0};
    if (rill_channel_new(&tx1, &rx1, sizeof(raw_t), 16, NULL) ||
        rill_channel_new(&tx2, &rx2, sizeof(record_t), 16, NULL) ||
        rill_receiver_into_stream(rx1, &p.in) ||
        rill_receiver_into_stream(rx2, &stored) ||
        rill_stream_chunks(&stored, 10))
        return (void *)1;
    p.out = tx2;
    if (rill_spawn(&t_ingest, ingest, tx1, NULL) ||
        rill_spawn(&t_process, process, &p, NULL))
        return (void *)1;
    int r = rill_stream_try_for_each(stored, store_batch, &st);
    void *pr;
    CHECK(rill_join(t_ingest, NULL));
    CHECK(rill_join(t_process, &pr));
    printf("store: done, %d records in %d batches, total value %.1f\n",
           st.records, st.batches, st.total);
    return r || pr ? (void *)1 : NULL;
}

int main(void)
{
    rill_runtime_t *rt;
    void *failed = NULL;
    if (rill_runtime_new(&rt, NULL) != 0)
        return 1;
    int rc = rill_block_on(rt, main_task, NULL, &failed);
    rill_runtime_free(rt);
    return rc == 0 && !failed ? 0 : 1;
}
