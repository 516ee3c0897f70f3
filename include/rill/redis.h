/* SPDX-License-Identifier: MIT */
/*
 * rill/redis.h - Redis Streams as rill sinks and sources: when one
 * process is not enough, put Redis between the processes and keep
 * writing the same stream code.
 *
 * Built only when hiredis (Debian's libhiredis-dev) is found: hiredis
 * parses and formats RESP; every byte goes through rill's reactor
 * (rill/io.h), so commands wait without blocking a worker, have
 * deadlines, and work from tasks and plain threads alike.
 *
 * - rill_redis_t: one connection ("unix:/path" or "host:port"), many
 *   commands in flight (pipelined; replies matched first in, first out),
 *   AUTH and SELECT on every (re)connect, reconnection with backoff.
 * - rill_redis_write_stream: a stream into XADD, up to `batch` entries per
 *   write.
 * - rill_redis_group_t: a consumer-group source: its own pending entries
 *   first, then new ones; acks batched into one XACK; XAUTOCLAIM of
 *   entries a crashed consumer left behind; poison entries to a dead-letter
 *   stream after max_deliveries.
 * - rill_redis_xread_new: a plain XREAD source (every reader sees every
 *   entry).
 *
 * Delivery is at least once: docs/redis.md says exactly what is
 * guaranteed and how to make processing exactly once (key it by the
 * stream id).
 *
 *     // producer
 *     rill_redis_t *c;
 *     rill_redis_new(&c, "unix:/run/redis.sock", NULL);
 *     uint64_t added;
 *     rill_redis_write_stream(c, "jobs", jobs, &added, NULL); // rill_bytes_t
 *
 *     // worker (any number of processes)
 *     rill_redis_group_t *g;
 *     rill_stream_t *s;
 *     rill_redis_group_config_t gc = {.create = true, .max_deliveries = 5};
 *     rill_redis_group_new(&g, "unix:/run/redis.sock", "jobs", "workers",
 *                          "worker-1", &gc);
 *     rill_redis_group_stream(g, &s);
 *     rill_redis_msg_t m;
 *     while (rill_next(s, &m) == 0) {
 *         handle(m.fields[0].value, m.fields[0].value_len);
 *         rill_redis_group_ack(g, &m);   // batched into one XACK
 *         rill_redis_msg_destroy(&m);
 *     }
 *     rill_stream_free(s);
 *     rill_redis_group_free(g);          // sends the acks still waiting
 */
#ifndef RILL_REDIS_H
#define RILL_REDIS_H

#include "core.h"
#include "io.h"
#include "rt.h"
#include "stream.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Replies                                                                   */
/* ------------------------------------------------------------------------ */

/* The kinds of reply (RESP2, as hiredis names them). */
typedef enum rill_redis_type {
    RILL_REDIS_STRING = 1,  /* a bulk string: str, len */
    RILL_REDIS_ARRAY = 2,   /* elements, element */
    RILL_REDIS_INTEGER = 3, /* integer */
    RILL_REDIS_NIL = 4,     /* a nil bulk or array */
    RILL_REDIS_STATUS = 5,  /* "+OK": str, len */
    RILL_REDIS_ERROR = 6    /* "-ERR ...": str, len */
} rill_redis_type_t;

/* A reply: a tree of these. str is NUL-terminated (len excludes it). */
typedef struct rill_redis_reply {
    rill_redis_type_t type;
    long long integer;
    size_t len;
    char *str;
    size_t elements;
    struct rill_redis_reply **element;
} rill_redis_reply_t;

/*
 * rill_redis_reply_free - free a reply and everything in it. NULL is
 * accepted.
 * Ownership: consumes reply.
 * Threads: any.
 */
RILL_API void rill_redis_reply_free(rill_redis_reply_t *reply);

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

typedef struct rill_redis rill_redis_t;

/* Options for rill_redis_new (and the connections of sources). NULL or a
 * zeroed struct means the defaults given here. */
typedef struct rill_redis_config {
    /* The runtime whose tasks drive the connection. NULL: the calling
     * task's; required from a plain thread. */
    rill_runtime_t *runtime;
    /* AUTH [username] password on every connect; NULL = no AUTH. */
    const char *username;
    const char *password;
    /* SELECT db on every connect when > 0. */
    int db;
    /* Deadline of one command (rill_redis_command); 0 = 10 s. */
    rill_duration_t command_timeout;
    /* Deadline of one connect attempt; 0 = 5 s. */
    rill_duration_t connect_timeout;
    /* Reconnect backoff: the first wait, doubled after each failed
     * attempt up to the second; 0 = 10 ms and 1 s. */
    rill_duration_t backoff_min;
    rill_duration_t backoff_max;
    /* Requests queued for the connection before callers wait; 0 = 1024. */
    size_t queue;
} rill_redis_config_t;

/*
 * rill_redis_new - connect to addr ("unix:/path", "127.0.0.1:6379",
 * "[::1]:6379", "localhost:6379") and start the tasks that drive the
 * connection. The first connect (and AUTH/SELECT) is made here, so a
 * wrong address or password fails here; later the connection reconnects
 * by itself with backoff, and commands wait (within their deadline)
 * while it does.
 * Returns: 0; RILL_EINVAL (NULL, an address that does not parse, no
 *   runtime); RILL_ECONNREFUSED (nothing listens there); RILL_ETIMEDOUT;
 *   RILL_ECONNRESET / RILL_EPROTO (the server closed at once, or answered
 *   with something that is not RESP); RILL_EREPLY (AUTH or SELECT was
 *   refused); RILL_ENOMEM; RILL_EMFILE; RILL_ESYS.
 * Ownership: on success the caller owns *c (rill_redis_free); on failure
 *   nothing is made. cfg and its strings are copied.
 * Waits: for the first connect and its handshake.
 * Threads: both (a plain thread names cfg->runtime).
 */
RILL_API RILL_NODISCARD int rill_redis_new(rill_redis_t **c, const char *addr,
                                           const rill_redis_config_t *cfg);

/*
 * rill_redis_free - close the connection and stop its task. Commands
 * still waiting for a reply fail with RILL_ECLOSED. NULL is accepted.
 * Ownership: consumes c.
 * Waits: until the connection's task has stopped (a moment).
 * Threads: both; no call on c may run or start meanwhile.
 */
RILL_API void rill_redis_free(rill_redis_t *c);

/*
 * rill_redis_command - send one command (argv[0] the command name; each
 * argument argvlen[i] bytes, or strlen when argvlen is NULL) and wait for
 * its reply. Many callers may wait at once: their commands are
 * pipelined on the one connection. An error reply ("-WRONGTYPE ...") is a
 * reply like any other: check (*reply)->type == RILL_REDIS_ERROR.
 * Returns: 0 (*reply set); RILL_ETIMEDOUT (the config's command_timeout
 *   passed: the command may still run if it was already written);
 *   RILL_ECONNRESET (the connection broke after the command was written:
 *   it may or may not have run); RILL_ECANCELED; RILL_ECLOSED (c is being
 *   freed); RILL_EINVAL (NULL, argc < 1); RILL_ENOMEM.
 * Ownership: on 0 the caller owns *reply (rill_redis_reply_free);
 *   otherwise *reply is NULL.
 * Waits: until the reply or the deadline.
 * Threads: both, concurrently with other commands on c.
 */
RILL_API RILL_NODISCARD int
rill_redis_command(rill_redis_t *c, rill_redis_reply_t **reply, int argc,
                   const char *const *argv, const size_t *argvlen);

/* rill_redis_command_timeout - as rill_redis_command with this deadline
 * instead of the config's (use it for blocking commands such as BLPOP).
 * Returns: as rill_redis_command.
 * Ownership: as rill_redis_command.
 * Waits: at most timeout.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_redis_command_timeout(rill_redis_t *c, rill_redis_reply_t **reply,
                           int argc, const char *const *argv,
                           const size_t *argvlen, rill_duration_t timeout);

/* Counters of a connection. */
typedef struct rill_redis_stats {
    bool connected;     /* a session is up now */
    uint64_t connects;  /* sessions made (1 + reconnects) */
    uint64_t commands;  /* commands written */
    uint64_t replies;   /* replies read */
    uint64_t failed;    /* commands failed by a broken connection */
    uint64_t in_flight; /* commands written and not yet answered */
    int last_error;     /* status of the last failed connect or session */
} rill_redis_stats_t;

/* rill_redis_stats - the connection's counters (a snapshot).
 * Returns: 0; RILL_EINVAL for NULL.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_redis_stats(rill_redis_t *c, rill_redis_stats_t *out);

/* ------------------------------------------------------------------------ */
/* Stream entries                                                            */
/* ------------------------------------------------------------------------ */

/* One field of an entry; name and value are NUL-terminated copies. */
typedef struct rill_redis_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} rill_redis_field_t;

/*
 * An entry as a source gives it. Owned by whoever holds the item:
 * release it with rill_redis_msg_destroy (the sources' streams carry that
 * item destructor, so entries a pipeline discards are freed).
 */
typedef struct rill_redis_msg {
    char id[48];         /* the stream id, "1700000000000-0" */
    uint64_t deliveries; /* how often the group delivered it (1 = first);
                            0 from a plain XREAD source */
    size_t nfields;
    rill_redis_field_t *fields;
} rill_redis_msg_t;

/* rill_redis_msg_destroy - free what the entry holds; *m becomes empty.
 * NULL is accepted.
 * Ownership: releases the entry's fields.
 * Threads: any.
 */
RILL_API void rill_redis_msg_destroy(rill_redis_msg_t *m);

/* rill_redis_msg_field - the value of the field called name, or NULL.
 * Returns: the field, or NULL.
 * Threads: any.
 */
RILL_API const rill_redis_field_t *
rill_redis_msg_field(const rill_redis_msg_t *m, const char *name);

/* ------------------------------------------------------------------------ */
/* Sink: a stream into XADD                                                  */
/* ------------------------------------------------------------------------ */

/* The arguments of one entry, filled by an encode function. */
typedef struct rill_redis_args rill_redis_args_t;

/*
 * rill_redis_args_add - append one field name or value (the bytes are
 * copied). Call it an even number of times per entry: name, value, ...
 * Returns: 0; RILL_ENOMEM; RILL_EINVAL (NULL args, or p NULL with len > 0).
 * Waits: never.
 * Threads: the encode function's.
 */
RILL_API RILL_NODISCARD int rill_redis_args_add(rill_redis_args_t *args,
                                                const void *p, size_t len);

/* Turns an item into fields: rill_redis_args_add(args, name, len), then
 * the value, for each field. Return 0, or a negative code to stop the
 * sink with it. The item stays the stream's (it is released after). */
typedef int (*rill_redis_encode_fn)(void *ud, const void *item,
                                    rill_redis_args_t *args);

/* Called once per entry Redis acknowledged, in order, with its id. */
typedef void (*rill_redis_added_fn)(void *ud, const char *id, size_t len);

/* Options for rill_redis_write_stream. */
typedef struct rill_redis_sink_config {
    /* MAXLEN ~ maxlen on every XADD; 0 = no trimming. */
    uint64_t maxlen;
    /* Entries per write (one pipelined batch); 0 = 256. */
    size_t batch;
    /* Items to fields. NULL: items are rill_bytes_t, each one field
     * called `field` (NULL = "data"). */
    rill_redis_encode_fn encode;
    void *encode_ud;
    const char *field;
    /* Told the id of each entry added. */
    rill_redis_added_fn added;
    void *added_ud;
    /* How long to go on resending after the connection broke, without
     * any entry acknowledged meanwhile; 0 = 30 s. */
    rill_duration_t retry_for;
} rill_redis_sink_config_t;

/*
 * rill_redis_write_stream - XADD key [MAXLEN ~ n] * field value ... for
 * every item of s, in order, up to cfg->batch entries written at once
 * and waited for together. If the connection breaks, the entries whose
 * replies came are not sent again; the others are sent again once it is
 * back (an XADD whose reply was lost may so be added twice: see
 * docs/redis.md for deduplication). An error reply (WRONGTYPE, OOM)
 * stops it.
 * Returns: 0 when s ended and every entry was acknowledged; RILL_EREPLY
 *   (an error reply); the first error item of s; the encode function's
 *   error; RILL_ECONNRESET / RILL_ECONNREFUSED / RILL_ETIMEDOUT (no
 *   progress for retry_for); RILL_ECANCELED; RILL_ENOMEM; RILL_EINVAL.
 *   *added (may be NULL) counts the entries acknowledged, also on
 *   failure: exactly those were added (those without a reply may have
 *   been too).
 * Ownership: consumes s (its items are released once sent or given up).
 * Waits: until s ends and its entries are acknowledged.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int
rill_redis_write_stream(rill_redis_t *c, const char *key, rill_stream_t *s,
                        uint64_t *added, const rill_redis_sink_config_t *cfg);

/* ------------------------------------------------------------------------ */
/* Consumer-group source                                                     */
/* ------------------------------------------------------------------------ */

typedef struct rill_redis_group rill_redis_group_t;

/* Options for rill_redis_group_new. Zero = the default given. */
typedef struct rill_redis_group_config {
    /* Options of the group's two connections (reads; acks and claims). */
    const rill_redis_config_t *conn;
    /* XGROUP CREATE key group <start_id> MKSTREAM if the group is not
     * there (start_id NULL = "0": every entry of the stream). */
    bool create;
    const char *start_id;
    /* Entries per XREADGROUP / XAUTOCLAIM; 0 = 128. Also the read-ahead:
     * at most this many entries wait in the stream for the consumer, and
     * after a full batch the next read is already sent (so up to twice
     * this many are read and not yet taken: pending in the group). */
    size_t count;
    /* BLOCK of one XREADGROUP; 0 = 1 s. Acks still waiting are sent
     * before each read. */
    rill_duration_t block;
    /* XAUTOCLAIM entries idle this long (any consumer's, rounded down to
     * milliseconds; 0 = 30 s), every claim_interval (0 = claim_idle, at
     * most 1 s); no_claim turns claiming off. */
    rill_duration_t claim_idle;
    rill_duration_t claim_interval;
    bool no_claim;
    /* An entry delivered more than this often goes to the dead-letter
     * stream (with fields rill-id and rill-deliveries added) and is
     * acked instead of delivered; 0 = no limit. */
    uint64_t max_deliveries;
    /* The dead-letter stream's key; NULL = "<key>:dead". */
    const char *dead_letter;
    /* Acks sent as one XACK when this many wait; 0 = count. */
    size_t ack_batch;
} rill_redis_group_config_t;

/*
 * rill_redis_group_new - read key as consumer `consumer` of group
 * `group`: first this consumer's own pending entries (XREADGROUP ... 0:
 * what it read and did not ack before a crash or a lost reply), then new
 * ones (>); every claim_interval, entries idle for claim_idle are claimed
 * (XAUTOCLAIM; the ids it reports deleted are dropped from the count).
 * Reads run on a task of the runtime, on a connection of their own; acks,
 * claims and dead letters on a second one. Take the entries with
 * rill_redis_group_stream.
 * Returns: 0; RILL_EINVAL (NULL, empty names, no runtime); RILL_EREPLY
 *   (XGROUP CREATE failed other than "BUSYGROUP"); as rill_redis_new.
 * Ownership: on success the caller owns *g (rill_redis_group_free); on
 *   failure nothing is made.
 * Waits: for the connects (and the XGROUP CREATE).
 * Threads: both (a plain thread names cfg->conn->runtime).
 */
RILL_API RILL_NODISCARD int
rill_redis_group_new(rill_redis_group_t **g, const char *addr, const char *key,
                     const char *group, const char *consumer,
                     const rill_redis_group_config_t *cfg);

/*
 * rill_redis_group_stream - the group's entries as a stream of
 * rill_redis_msg_t (item destructor: rill_redis_msg_destroy). It never
 * ends by itself; an error reply (NOGROUP after the group was deleted)
 * is an error item RILL_EREPLY, after which it tries again (every
 * `block`). Connection losses are not items: the reads go on once the
 * connection is back, starting again with the consumer's own pending
 * entries.
 * Returns: 0; RILL_EALREADY (taken before); RILL_EINVAL.
 * Ownership: g keeps the reader; the stream borrows g, so free the stream
 *   first. On failure nothing is made.
 * Waits: never.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_redis_group_stream(rill_redis_group_t *g,
                                                    rill_stream_t **out);

/*
 * rill_redis_group_ack - mark the entry processed. Acks are collected and
 * sent as one XACK when ack_batch wait (that call then waits for the
 * reply), before the group's next read, by rill_redis_group_flush, and
 * by rill_redis_group_free.
 * Returns: 0; RILL_EINVAL (NULL, or an entry without an id); as
 *   rill_redis_group_flush when it sent the batch.
 * Waits: when it sends a batch.
 * Threads: both, from any number of tasks and threads at once.
 */
RILL_API RILL_NODISCARD int rill_redis_group_ack(rill_redis_group_t *g,
                                                 const rill_redis_msg_t *m);

/*
 * rill_redis_group_flush - send the acks that wait, as one XACK, and wait
 * for the reply.
 * Returns: 0; as rill_redis_command (the acks are then kept and sent again
 *   with the next batch); RILL_EREPLY.
 * Waits: for the reply.
 * Threads: both.
 */
RILL_API RILL_NODISCARD int rill_redis_group_flush(rill_redis_group_t *g);

/* Counters of a group source. */
typedef struct rill_redis_group_stats {
    uint64_t delivered;     /* entries handed to the stream */
    uint64_t redelivered;   /* of those, with deliveries > 1 */
    uint64_t acked;         /* ids acknowledged by XACK replies */
    uint64_t claimed;       /* entries taken over by XAUTOCLAIM */
    uint64_t deleted;       /* pending ids whose entry was deleted */
    uint64_t dead_lettered; /* entries moved to the dead-letter stream */
    uint64_t acks_waiting;  /* acks not sent yet */
    uint64_t errors;        /* error replies and failed reads */
} rill_redis_group_stats_t;

/* rill_redis_group_stats - the group's counters (a snapshot).
 * Returns: 0; RILL_EINVAL for NULL.
 * Waits: never.
 * Threads: both.
 */
RILL_API int rill_redis_group_stats(rill_redis_group_t *g,
                                    rill_redis_group_stats_t *out);

/*
 * rill_redis_group_free - stop the reader, send the acks that wait (for
 * at most the connection's command_timeout), close both connections.
 * Entries read ahead and not taken stay pending in the group: they come
 * again (to this consumer name when it starts again, or to another by
 * XAUTOCLAIM). NULL is accepted.
 * Ownership: consumes g; free its stream first.
 * Waits: for the reader to stop and the last XACK.
 * Threads: both.
 */
RILL_API void rill_redis_group_free(rill_redis_group_t *g);

/* ------------------------------------------------------------------------ */
/* Plain XREAD source                                                        */
/* ------------------------------------------------------------------------ */

/* Options for rill_redis_xread_new. */
typedef struct rill_redis_xread_config {
    const rill_redis_config_t *conn;
    size_t count;          /* entries per XREAD; 0 = 128 */
    rill_duration_t block; /* BLOCK per XREAD; 0 = 1 s */
} rill_redis_xread_config_t;

/*
 * rill_redis_xread_new - every entry of key after start_id ("0": from the
 * start, "$": those added after this call returns, resolved here to the
 * last id; NULL = "$"), as a stream of rill_redis_msg_t
 * (deliveries 0), read with XREAD on a connection of its own. Any number
 * of readers see every entry (fan-out); nothing is acked. After a lost
 * connection it reads on from the last id it gave.
 * Returns: 0; RILL_EINVAL; RILL_EREPLY (key is not a stream); as
 *   rill_redis_new.
 * Ownership: the caller owns *out; the stream owns its connection and
 *   reader task (rill_stream_free stops them). On failure nothing is made.
 * Waits: for the connect (and for the last id, with "$").
 * Threads: both (a plain thread names cfg->conn->runtime).
 */
RILL_API RILL_NODISCARD int
rill_redis_xread_new(rill_stream_t **out, const char *addr, const char *key,
                     const char *start_id,
                     const rill_redis_xread_config_t *cfg);

#ifdef __cplusplus
}
#endif

#endif /* RILL_REDIS_H */
