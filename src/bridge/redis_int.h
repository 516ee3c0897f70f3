/* SPDX-License-Identifier: MIT */
/*
 * redis_int.h - what the Redis bridge's files share (not installed).
 *
 * - Replies: hiredis's redisReader parses RESP; our object functions build
 *   rill_redis_reply_t trees with rill's allocator (so the test
 *   allocator sees every reply), and refuse arrays above a cap (a
 *   hostile "*2000000000" must not become a 16 GB calloc).
 * - Requests: one or more formatted commands (redisFormatCommandArgv)
 *   in one buffer, expecting one reply each, handed to the connection's
 *   driver task through a channel and answered through a oneshot.
 * - Entries: a stream entry reply ([id, [field, value, ...]]) becomes a
 *   rill_redis_msg_t in one allocation.
 */
#ifndef RILL_BRIDGE_REDIS_INT_H
#define RILL_BRIDGE_REDIS_INT_H

#include "core/core.h"
#include "rill/oneshot.h"
#include "rill/redis.h"
#include "rill/sync.h"

#include <hiredis/read.h>

/* Arrays longer than this are a protocol error (Redis itself never sends
 * them to a client of ours: our reads ask for COUNT entries). */
#define REDIS__MAX_ELEMENTS ((size_t)1 << 24)
/* A reply still incomplete after this many bytes is a protocol error
 * (Redis's own proto-max-bulk-len is 512 MiB). */
#define REDIS__MAX_REPLY ((size_t)512 << 20)

/* ---- replies ---- */

/* A reader whose replies are rill_redis_reply_t. NULL when out of memory. */
redisReader *redis__reader_new(void);
void redis__reader_free(redisReader *r);
/*
 * Feed bytes; then take replies with redis__reader_next until it gives
 * RILL_PENDING. Returns 0 with *out; RILL_PENDING (need more bytes);
 * RILL_EPROTO (not RESP, nested too deep, an array above the cap, a reply
 * above REDIS__MAX_REPLY); RILL_ENOMEM. After an error the reader is
 * unusable (the connection is closed).
 */
int redis__reader_feed(redisReader *r, const char *buf, size_t len);
int redis__reader_next(redisReader *r, rill_redis_reply_t **out);

/* ---- commands ---- */

/* A growing buffer of formatted commands. */
typedef struct redis__cmds {
    char *p;
    size_t len, cap;
    size_t count; /* commands in it */
} redis__cmds_t;

/* Append one command (lens NULL: strlen). 0; RILL_ENOMEM; RILL_EINVAL. */
int redis__cmds_add(redis__cmds_t *b, int argc, const char *const *argv,
                    const size_t *lens);
/* Room for `total` bytes in all (a batch's size, guessed from its first
 * command, saves the copies of doubling). 0; RILL_ENOMEM. */
int redis__cmds_reserve(redis__cmds_t *b, size_t total);
void redis__cmds_destroy(redis__cmds_t *b);

/* A request: the driver fills replies[0..got) and sets status. */
typedef struct redis__req {
    struct redis__req *next;
    char *buf;
    size_t len, off; /* bytes, and how many went to the socket */
    size_t wend;     /* gathered into the write buffer: its end there */
    size_t want, got;
    rill_redis_reply_t **replies;
    int status;
    bool queued;   /* some of its bytes were handed to the socket */
    bool internal; /* AUTH/SELECT of a session: no caller waits */
    rill_oneshot_sender_t *tx;
} redis__req_t;

void redis__req_free(redis__req_t *req);

/*
 * Send the commands of *cmds (taken: *cmds becomes empty) and wait for
 * their replies, at most timeout. Returns the request's status (0: every
 * reply came; RILL_ECONNRESET: the connection broke with replies[0..got)
 * in; RILL_ECLOSED; ...) or the wait's (RILL_ETIMEDOUT, RILL_ECANCELED:
 * *out NULL). *out is the request when it came back (free it with
 * redis__req_free), also with a failure status.
 */
int redis__call(rill_redis_t *c, redis__cmds_t *cmds, rill_duration_t timeout,
                redis__req_t **out);

/* The connection's command timeout and runtime. */
rill_duration_t redis__command_timeout(const rill_redis_t *c);
rill_runtime_t *redis__runtime(const rill_redis_t *c);

/* ---- entries ---- */

/*
 * An entry reply [id, [f, v, ...]] into *m. Returns 0; RILL_DONE (the
 * entry was deleted: [id, nil]; m->id is set, no fields); RILL_EPROTO
 * (not an entry); RILL_ENOMEM.
 */
int redis__msg_from_entry(const rill_redis_reply_t *e, rill_redis_msg_t *m);

/* The text of an error reply, for messages: at most len - 1 bytes. */
void redis__reply_text(const rill_redis_reply_t *r, char *buf, size_t len);

/* A reply is a status "+OK"-like with this text. */
bool redis__reply_is(const rill_redis_reply_t *r, rill_redis_type_t type,
                     const char *text);

#endif /* RILL_BRIDGE_REDIS_INT_H */
