/* SPDX-License-Identifier: MIT */
/*
 * redis_source.c - Redis streams as rill sources: a consumer group
 * (XREADGROUP, XACK, XAUTOCLAIM, dead letters) and plain XREAD.
 *
 * A reader task reads on a connection of its own (blocking reads must not
 * hold other commands back) and sends each entry into a bounded channel
 * of `count` slots; the caller's stream is that channel's receiver (a
 * slot carries an entry or an error status, which a map turns into an
 * error item). After a full batch of new entries (more wait) the next
 * read is sent before the batch is delivered, so that Redis works on it
 * meanwhile. So the read-ahead is at most two reads: entries read and
 * not yet taken are pending in the group, and come again if the process
 * dies.
 *
 * The reader's loop (group): send the acks that wait; claim if due
 * (XAUTOCLAIM from cursor 0-0 until it comes back to 0-0); read this
 * consumer's own pending entries from id 0 until there are none (after
 * a start, a lost reply or a reconnection: a reply lost on the way may
 * have moved entries to our pending list), then new ones with '>' and
 * BLOCK. Entries from history and claims carry their delivery count,
 * asked with XPENDING; those above max_deliveries go to the dead-letter
 * stream and are acked in one request, not delivered. Ids whose entry
 * was deleted (nil fields in history, XAUTOCLAIM's third element) are
 * acked (history) or dropped by Redis itself (claims) and counted.
 *
 * Acks (any task or thread) are collected under a mutex and sent as one
 * XACK on the second connection: by the ack that fills ack_batch, by the
 * reader before each read, by rill_redis_group_flush and by free. A
 * failed XACK puts its ids back.
 */
#include "redis_int.h"
#include "rt/rt.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

typedef struct slot {
    int status; /* 0: msg is an entry; < 0: an error item */
    rill_redis_msg_t msg;
} slot_t;

typedef char id_t48[48];

struct rill_redis_group {
    rill_redis_t *rd;  /* the reads */
    rill_redis_t *ctl; /* acks, claims, dead letters, XPENDING */
    char *key, *group, *consumer, *dead, *start_id;
    bool plain, create, no_claim;
    size_t count, ack_batch;
    rill_duration_t block, claim_idle, claim_interval;
    uint64_t max_deliveries;
    char pos[48]; /* XREAD: the last id given */
    rill_sender_t *tx;
    rill_receiver_t *rx; /* until the stream is made */
    rill_task_t *reader;

    pthread_mutex_t mu; /* guards acks, nacks, cap_acks, last_error */
    id_t48 *acks;
    size_t nacks, cap_acks;

    /* Counters; relaxed: statistics, nothing is read on their strength. */
    _Atomic uint64_t delivered, redelivered, acked, claimed, deleted,
        dead_lettered, errors;
};

static void stat_add(_Atomic uint64_t *v, uint64_t n)
{
    atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

static void slot_dtor(void *item, void *ud)
{
    (void)ud;
    rill_redis_msg_destroy(&((slot_t *)item)->msg);
}

static void msg_dtor(void *item, void *ud)
{
    (void)ud;
    rill_redis_msg_destroy(item);
}

/* ---- acks ---- */

static int add_acks(rill_redis_group_t *g, const id_t48 *ids, size_t n,
                    size_t *total)
{
    pthread_mutex_lock(&g->mu);
    if (g->nacks + n > g->cap_acks) {
        id_t48 *a =
            rill__grow(g->acks, &g->cap_acks, g->nacks + n, sizeof *a, 64);
        if (!a) {
            pthread_mutex_unlock(&g->mu);
            return RILL_ENOMEM;
        }
        g->acks = a;
    }
    memcpy(g->acks + g->nacks, ids, n * sizeof *ids);
    g->nacks += n;
    if (total)
        *total = g->nacks;
    pthread_mutex_unlock(&g->mu);
    return 0;
}

static int flush_acks(rill_redis_group_t *g, rill_duration_t timeout)
{
    pthread_mutex_lock(&g->mu);
    id_t48 *ids = g->acks;
    size_t n = g->nacks;
    g->acks = NULL;
    g->nacks = g->cap_acks = 0;
    pthread_mutex_unlock(&g->mu);
    if (!n) {
        rill__free(ids);
        return 0;
    }
    int r = RILL_ENOMEM;
    redis__cmds_t cmds = {0};
    const char **argv = rill__malloc((n + 3) * sizeof *argv);
    if (argv) {
        argv[0] = "XACK";
        argv[1] = g->key;
        argv[2] = g->group;
        for (size_t i = 0; i < n; i++)
            argv[3 + i] = ids[i];
        r = n + 3 <= INT_MAX ? redis__cmds_add(&cmds, (int)(n + 3), argv, NULL)
                             : RILL_ENOMEM;
        rill__free(argv);
    }
    redis__req_t *req = NULL;
    if (r == 0)
        r = redis__call(g->ctl, &cmds, timeout, &req);
    else
        redis__cmds_destroy(&cmds);
    if (r == 0) {
        const rill_redis_reply_t *rep = req->replies[0];
        if (rep->type == RILL_REDIS_INTEGER)
            stat_add(&g->acked, (uint64_t)rep->integer);
        else
            r = RILL_EREPLY;
    }
    redis__req_free(req);
    if (r == 0 || r == RILL_EREPLY) {
        /* Acked, or refused for good (NOGROUP): sending again won't help. */
        if (r)
            stat_add(&g->errors, 1);
        rill__free(ids);
        return r;
    }
    /* Not known to be acked: keep them for the next batch (XACK twice is
     * harmless). */
    int r2 = add_acks(g, (const id_t48 *)ids, n, NULL);
    rill__free(ids);
    return r2 ? r2 : r;
}

int rill_redis_group_ack(rill_redis_group_t *g, const rill_redis_msg_t *m)
{
    if (!g || !m || !m->id[0] || g->plain)
        return RILL_MISUSE("rill_redis_group_ack",
                           "NULL group or entry, or an entry without an id");
    id_t48 id;
    memcpy(id, m->id, sizeof id);
    id[sizeof id - 1] = 0;
    size_t total = 0;
    int r = add_acks(g, (const id_t48 *)&id, 1, &total);
    if (r)
        return r;
    if (total >= g->ack_batch)
        return flush_acks(g, redis__command_timeout(g->ctl));
    return 0;
}

int rill_redis_group_flush(rill_redis_group_t *g)
{
    if (!g || g->plain)
        return RILL_MISUSE("rill_redis_group_flush", "NULL group");
    return flush_acks(g, redis__command_timeout(g->ctl));
}

/* ---- the reader ---- */

/* One command on conn; the reply (the caller frees the request). */
static int call(rill_redis_t *conn, rill_duration_t timeout, redis__req_t **req,
                int argc, const char *const *argv)
{
    redis__cmds_t cmds = {0};
    int r = redis__cmds_add(&cmds, argc, argv, NULL);
    if (r) {
        redis__cmds_destroy(&cmds);
        *req = NULL;
        return r;
    }
    return redis__call(conn, &cmds, timeout, req);
}

static int push(rill_redis_group_t *g, slot_t *s)
{
    int r = rill_send(g->tx, s);
    if (r) {
        rill_redis_msg_destroy(&s->msg);
        return r; /* ECLOSED: the stream is gone; ECANCELED */
    }
    if (s->status == 0) {
        stat_add(&g->delivered, 1);
        if (s->msg.deliveries > 1)
            stat_add(&g->redelivered, 1);
    }
    return 0;
}

static int push_error(rill_redis_group_t *g, int status)
{
    stat_add(&g->errors, 1);
    slot_t s = {.status = status};
    return push(g, &s);
}

/* Order of two stream ids "ms-seq". */
static int id_cmp(const char *a, const char *b)
{
    unsigned long long am = 0, as = 0, bm = 0, bs = 0;
    sscanf(a, "%llu-%llu", &am, &as);
    sscanf(b, "%llu-%llu", &bm, &bs);
    return am != bm ? (am < bm ? -1 : 1) : as != bs ? (as < bs ? -1 : 1) : 0;
}

/*
 * Delivery counts of msgs[0..n) from XPENDING (they are ours: read from
 * our history or just claimed). An id XPENDING does not list (acked
 * meanwhile by another consumer's claim) keeps 0 and is not delivered.
 */
static int delivery_counts(rill_redis_group_t *g, rill_redis_msg_t *msgs,
                           size_t n)
{
    /* The range of the batch's ids, with room for other pending entries
     * of ours in between (read ahead, not acked yet). */
    char cnt[24];
    snprintf(cnt, sizeof cnt, "%zu", 10 * n + 100);
    const char *argv[] = {"XPENDING", g->key, g->group,   NULL,
                          NULL,       cnt,    g->consumer};
    const char *lo = msgs[0].id, *hi = msgs[0].id;
    for (size_t i = 1; i < n; i++) {
        if (id_cmp(msgs[i].id, lo) < 0)
            lo = msgs[i].id;
        if (id_cmp(msgs[i].id, hi) > 0)
            hi = msgs[i].id;
    }
    argv[3] = lo;
    argv[4] = hi;
    redis__req_t *req;
    int r = call(g->ctl, redis__command_timeout(g->ctl), &req, 7, argv);
    if (r) {
        redis__req_free(req);
        return r;
    }
    const rill_redis_reply_t *rep = req->replies[0];
    if (rep->type != RILL_REDIS_ARRAY) {
        redis__req_free(req);
        return rep->type == RILL_REDIS_ERROR ? RILL_EREPLY : RILL_EPROTO;
    }
    for (size_t i = 0; i < n; i++)
        msgs[i].deliveries = 0;
    for (size_t j = 0; j < rep->elements; j++) {
        const rill_redis_reply_t *e = rep->element[j];
        if (!e || e->type != RILL_REDIS_ARRAY || e->elements < 4 ||
            e->element[0]->type != RILL_REDIS_STRING ||
            e->element[3]->type != RILL_REDIS_INTEGER)
            continue;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(msgs[i].id, e->element[0]->str))
                msgs[i].deliveries = (uint64_t)e->element[3]->integer;
    }
    redis__req_free(req);
    return 0;
}

/* Move msgs above max_deliveries to the dead-letter stream and ack them,
 * in one request. Their fields are released (deliveries set to 0). */
static int dead_letter(rill_redis_group_t *g, rill_redis_msg_t *msgs, size_t n)
{
    size_t ndead = 0;
    for (size_t i = 0; i < n; i++)
        if (msgs[i].deliveries > g->max_deliveries)
            ndead++;
    if (!ndead)
        return 0;
    redis__cmds_t cmds = {0};
    int r = 0;
    const char **ack = rill__malloc((ndead + 3) * sizeof *ack);
    if (!ack)
        return RILL_ENOMEM;
    ack[0] = "XACK";
    ack[1] = g->key;
    ack[2] = g->group;
    size_t na = 3;
    for (size_t i = 0; i < n && !r; i++) {
        rill_redis_msg_t *m = &msgs[i];
        if (m->deliveries <= g->max_deliveries)
            continue;
        size_t argc = 3 + 2 * m->nfields + 4;
        const char **argv = rill__malloc(argc * sizeof *argv);
        size_t *lens = rill__malloc(argc * sizeof *lens);
        char dn[24];
        snprintf(dn, sizeof dn, "%" PRIu64, m->deliveries);
        if (!argv || !lens) {
            r = RILL_ENOMEM;
        } else {
            size_t k = 0;
#define ARG(p, l) (argv[k] = (p), lens[k] = (l), k++)
            ARG("XADD", 4);
            ARG(g->dead, strlen(g->dead));
            ARG("*", 1);
            for (size_t f = 0; f < m->nfields; f++) {
                ARG(m->fields[f].name, m->fields[f].name_len);
                ARG(m->fields[f].value, m->fields[f].value_len);
            }
            ARG("rill-id", 7);
            ARG(m->id, strlen(m->id));
            ARG("rill-deliveries", 15);
            ARG(dn, strlen(dn));
#undef ARG
            r = k <= INT_MAX ? redis__cmds_add(&cmds, (int)k, argv, lens)
                             : RILL_ENOMEM;
            ack[na++] = m->id;
        }
        rill__free(argv);
        rill__free(lens);
    }
    if (!r)
        r = redis__cmds_add(&cmds, (int)na, ack, NULL);
    rill__free(ack);
    if (r) {
        redis__cmds_destroy(&cmds);
        return r;
    }
    redis__req_t *req;
    r = redis__call(g->ctl, &cmds, redis__command_timeout(g->ctl), &req);
    if (r == 0) {
        for (size_t i = 0; i < req->got; i++)
            if (req->replies[i]->type == RILL_REDIS_ERROR)
                r = RILL_EREPLY;
    }
    redis__req_free(req);
    if (r)
        return r; /* not acked: they stay pending, claimed again later */
    stat_add(&g->dead_lettered, ndead);
    for (size_t i = 0; i < n; i++)
        if (msgs[i].deliveries > g->max_deliveries) {
            rill_redis_msg_destroy(&msgs[i]);
            msgs[i].deliveries = 0;
        }
    return 0;
}

/*
 * Deliver the entries of an array reply. history: they come from our
 * pending list or a claim (ask their counts; dead-letter; ack deleted
 * ones). *last gets the last id seen; *n_out how many entries there were.
 */
static int deliver(rill_redis_group_t *g, const rill_redis_reply_t *entries,
                   bool history, char *last, size_t *n_out)
{
    *n_out = 0;
    if (!entries || entries->type != RILL_REDIS_ARRAY)
        return RILL_EPROTO;
    size_t n = entries->elements;
    if (!n)
        return 0;
    rill_redis_msg_t *msgs = rill__calloc(n, sizeof *msgs);
    id_t48 *gone = rill__calloc(n, sizeof *gone);
    if (!msgs || !gone) {
        /* Nothing made yet: nothing to release (the loop at the end
         * would walk a NULL array). */
        rill__free(msgs);
        rill__free(gone);
        return RILL_ENOMEM;
    }
    size_t ngone = 0;
    int r = 0;
    for (size_t i = 0; i < n && !r; i++) {
        int e = redis__msg_from_entry(entries->element[i], &msgs[i]);
        if (e == RILL_DONE) { /* deleted: nothing to deliver */
            memcpy(gone[ngone++], msgs[i].id, sizeof msgs[i].id);
            msgs[i].id[0] = 0;
        } else if (e) {
            r = e;
        } else {
            msgs[i].deliveries = g->plain ? 0 : 1;
        }
        if (e != RILL_EPROTO && e != RILL_ENOMEM && last)
            memcpy(last, msgs[i].id[0] ? msgs[i].id : gone[ngone - 1], 48);
    }
    *n_out = n;
    if (!r && ngone) {
        stat_add(&g->deleted, ngone);
        r = add_acks(g, (const id_t48 *)gone, ngone, NULL);
    }
    if (!r && history && n > ngone) {
        /* Compact the live ones to the front for the XPENDING. */
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (msgs[i].id[0])
                msgs[k++] = msgs[i];
        for (size_t i = k; i < n; i++)
            memset(&msgs[i], 0, sizeof msgs[i]);
        n = k;
        r = delivery_counts(g, msgs, n);
        if (!r && g->max_deliveries)
            r = dead_letter(g, msgs, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (r || !msgs[i].id[0] || (history && msgs[i].deliveries == 0)) {
            rill_redis_msg_destroy(&msgs[i]);
            continue;
        }
        slot_t s = {.msg = msgs[i]};
        memset(&msgs[i], 0, sizeof msgs[i]);
        r = push(g, &s);
    }
    rill__free(msgs);
    rill__free(gone);
    return r;
}

static int claim_cycle(rill_redis_group_t *g)
{
    char cursor[48] = "0-0";
    char idle[24], cnt[24];
    snprintf(idle, sizeof idle, "%" PRId64, g->claim_idle / RILL_MS(1));
    snprintf(cnt, sizeof cnt, "%zu", g->count);
    for (;;) {
        const char *argv[] = {"XAUTOCLAIM", g->key, g->group, g->consumer,
                              idle,         cursor, "COUNT",  cnt};
        redis__req_t *req;
        int r = call(g->ctl, redis__command_timeout(g->ctl), &req, 8, argv);
        if (r) {
            redis__req_free(req);
            return r;
        }
        const rill_redis_reply_t *rep = req->replies[0];
        if (rep->type == RILL_REDIS_ERROR) {
            redis__req_free(req);
            return RILL_EREPLY;
        }
        if (rep->type != RILL_REDIS_ARRAY || rep->elements < 2 ||
            rep->element[0]->type != RILL_REDIS_STRING ||
            rep->element[0]->len >= sizeof cursor) {
            redis__req_free(req);
            return RILL_EPROTO;
        }
        memcpy(cursor, rep->element[0]->str, rep->element[0]->len + 1);
        if (rep->elements >= 3 && rep->element[2]->type == RILL_REDIS_ARRAY)
            stat_add(&g->deleted, rep->element[2]->elements);
        size_t n = 0;
        r = deliver(g, rep->element[1], true, NULL, &n);
        stat_add(&g->claimed, n);
        redis__req_free(req);
        if (r)
            return r;
        if (!strcmp(cursor, "0-0"))
            return 0;
    }
}

static int create_group(rill_redis_group_t *g)
{
    const char *argv[] = {"XGROUP", "CREATE",    g->key,
                          g->group, g->start_id, "MKSTREAM"};
    redis__req_t *req;
    int r = call(g->ctl, redis__command_timeout(g->ctl), &req, 6, argv);
    if (r == 0) {
        const rill_redis_reply_t *rep = req->replies[0];
        if (rep->type == RILL_REDIS_ERROR &&
            strncmp(rep->str, "BUSYGROUP", 9) != 0)
            r = RILL_EREPLY;
    }
    redis__req_free(req);
    return r;
}

/* A status that ends the reader: cancelled, or nobody reads the stream. */
static bool fatal(int r)
{
    return r == RILL_ECANCELED || r == RILL_ECLOSED;
}

/* A lost connection or reply: not an item (the connection comes back by
 * itself); what the lost reply did (entries moved to our pending list by
 * a read or a claim) is read again from our own pending entries. */
static bool lost(int r)
{
    return r == RILL_ECONNRESET || r == RILL_ETIMEDOUT;
}

/* The read: XREAD from g->pos, or XREADGROUP of our own pending entries
 * from pos (own, no BLOCK) or of new ones (">"), BLOCK block; sent on rd
 * with the command deadline past the block. */
static int read_send(rill_redis_group_t *g, bool own, const char *pos,
                     rill_duration_t block, redis__pending_t *p)
{
    char cnt[24], blk[24];
    snprintf(cnt, sizeof cnt, "%zu", g->count);
    snprintf(blk, sizeof blk, "%" PRId64, block / RILL_MS(1));
    const char *argv[12];
    int argc = 0;
    if (g->plain) {
        const char *a[] = {"XREAD", "COUNT",   cnt,    "BLOCK",
                           blk,     "STREAMS", g->key, g->pos};
        memcpy(argv, a, sizeof a);
        argc = 8;
    } else {
        const char *a[] = {"XREADGROUP", "GROUP", g->group,       g->consumer,
                           "COUNT",      cnt,     "BLOCK",        blk,
                           "STREAMS",    g->key,  own ? pos : ">"};
        memcpy(argv, a, sizeof a);
        argc = 11;
        if (own) { /* history: no BLOCK */
            memmove(argv + 6, argv + 8, 3 * sizeof *argv);
            argc = 9;
        }
    }
    redis__cmds_t cmds = {0};
    int r = redis__cmds_add(&cmds, argc, argv, NULL);
    if (r) {
        redis__cmds_destroy(&cmds);
        p->rx = NULL;
        return r;
    }
    return redis__send(g->rd, &cmds,
                       (own ? 0 : block) + redis__command_timeout(g->rd), p);
}

static void *reader_main(void *arg)
{
    rill_redis_group_t *g = arg;
    bool own = !g->plain; /* reading our own pending entries */
    char pos[48] = "0";
    rill_instant_t next_claim = 0;
    /* A read of new entries sent before the batch in hand was delivered
     * (after a full batch: more wait), so that Redis works on it
     * meanwhile. Claims wait while one is out. */
    redis__pending_t ahead = {0};
    for (;;) {
        int r = 0;
        if (!g->plain) {
            r = flush_acks(g, redis__command_timeout(g->ctl));
            if (fatal(r))
                break;
        }
        /* Claims wait until our own pending entries are read: claimed
         * entries join our pending list, which would give them twice. */
        if (!g->plain && !g->no_claim && !own && !ahead.rx &&
            rill_now() >= next_claim) {
            r = claim_cycle(g);
            if (fatal(r))
                break;
            next_claim = rill_deadline(g->claim_interval);
            if (lost(r)) {
                /* A lost XAUTOCLAIM reply may have claimed entries for
                 * us: they are in our pending list now. */
                stat_add(&g->errors, 1);
                own = true;
                strcpy(pos, "0");
                continue;
            }
            if (r && (r = push_error(g, r)) != 0)
                break;
        }
        /* A new-entries read blocks until the next claim is due, at most
         * `block`, at least 1 ms; a read of our own pending entries does
         * not block. (next_claim is 0 until the first claim, which comes
         * after our pending entries: a block taken from it then was
         * minus the clock's age, a deadline long past, and every read
         * timed out at once, its reply dropped, in a loop that never
         * waited: the reader spun and starved a one-worker runtime.) */
        rill_duration_t block = g->block;
        if (!g->plain && !g->no_claim && !own) {
            rill_duration_t left = next_claim - rill_now();
            if (left < block)
                block = left;
        }
        if (block < RILL_MS(1))
            block = RILL_MS(1);
        /* The read sent ahead, if any, is one of new entries. */
        bool history = own && !ahead.rx;
        redis__req_t *req = NULL;
        r = ahead.rx ? 0 : read_send(g, history, pos, block, &ahead);
        if (r == 0)
            r = redis__wait(&ahead, &req);
        if (r) {
            redis__req_free(req);
            if (fatal(r))
                break;
            /* Lost, timed out, or the connection is down (it reconnects
             * by itself; the next request waits for it). A lost reply may
             * have moved entries to our pending list: read it again. */
            stat_add(&g->errors, 1);
            if (!g->plain) {
                own = true;
                strcpy(pos, "0");
            }
            continue;
        }
        const rill_redis_reply_t *rep = req->replies[0];
        if (rep->type == RILL_REDIS_NIL) {
            redis__req_free(req);
            if (history)
                own = false;
            continue;
        }
        if (rep->type == RILL_REDIS_ERROR) {
            bool nogroup = !strncmp(rep->str, "NOGROUP", 7);
            redis__req_free(req);
            if ((r = push_error(g, RILL_EREPLY)) != 0)
                break;
            if (nogroup && g->create && fatal(create_group(g)))
                break;
            if (rill_sleep(g->block) != 0)
                break;
            continue;
        }
        /* [[key, [entries]]] */
        const rill_redis_reply_t *entries = NULL;
        if (rep->type == RILL_REDIS_ARRAY && rep->elements >= 1 &&
            rep->element[0]->type == RILL_REDIS_ARRAY &&
            rep->element[0]->elements == 2)
            entries = rep->element[0]->element[1];
        if (!g->plain && !history && entries &&
            entries->type == RILL_REDIS_ARRAY && entries->elements == g->count)
            RILL__DISCARD(read_send(g, false, pos, block, &ahead)); /* else
                                                   the next turn sends it */
        size_t n = 0;
        char last[48] = "";
        r = deliver(g, entries, history, last, &n);
        redis__req_free(req);
        if (fatal(r))
            break;
        if (r && !g->plain) {
            /* Not delivered (their delivery counts or dead letters were
             * lost on ctl's connection, or memory ran out): the entries
             * are pending for us, read them again. Only a lost reply is
             * not an error item. */
            own = true;
            strcpy(pos, "0");
            if (lost(r))
                stat_add(&g->errors, 1);
            else if (push_error(g, r))
                break;
            continue;
        }
        if (r) {
            if (push_error(g, r))
                break;
            continue;
        }
        if (g->plain) {
            if (last[0])
                memcpy(g->pos, last, sizeof last);
        } else if (history) {
            if (n == 0)
                own = false;
            else
                memcpy(pos, last, sizeof last);
        }
    }
    /* A read still out: its entries, if it ran, are pending for us and
     * come again. */
    redis__abandon(&ahead);
    return NULL;
}

/* ---- making and freeing ---- */

/* "$" means "after the last entry now": resolved once, when the source is
 * made, or entries added before its first read (or between two reads)
 * would be missed. */
static int resolve_last_id(rill_redis_group_t *g)
{
    const char *a[] = {"XREVRANGE", g->key, "+", "-", "COUNT", "1"};
    redis__req_t *req;
    int r = call(g->rd, redis__command_timeout(g->rd), &req, 6, a);
    if (r == 0) {
        const rill_redis_reply_t *rep = req->replies[0];
        const rill_redis_reply_t *e =
            rep->type == RILL_REDIS_ARRAY && rep->elements ? rep->element[0]
                                                           : NULL;
        if (rep->type == RILL_REDIS_ARRAY && rep->elements == 0)
            strcpy(g->pos, "0-0");
        else if (e && e->type == RILL_REDIS_ARRAY && e->elements == 2 &&
                 e->element[0]->type == RILL_REDIS_STRING &&
                 e->element[0]->len < sizeof g->pos)
            memcpy(g->pos, e->element[0]->str, e->element[0]->len + 1);
        else
            r = rep->type == RILL_REDIS_ERROR ? RILL_EREPLY : RILL_EPROTO;
    }
    redis__req_free(req);
    return r;
}

static void group_destroy(rill_redis_group_t *g)
{
    if (g->reader) {
        rill_task_cancel(g->reader);
        /* Shielded: the reader uses g until it returns. */
        RILL__DISCARD(rill__join_shielded(g->reader, NULL));
    }
    if (g->ctl && !g->plain)
        RILL__DISCARD(
            flush_acks(g, redis__command_timeout(g->ctl))); /* best
                                                              effort */
    rill_sender_release(g->tx);
    rill_receiver_release(g->rx);
    rill_redis_free(g->rd);
    rill_redis_free(g->ctl);
    rill__free(g->acks);
    pthread_mutex_destroy(&g->mu);
    rill__free(g->key);
    rill__free(g->group);
    rill__free(g->consumer);
    rill__free(g->dead);
    rill__free(g->start_id);
    rill__free(g);
}

static int group_make(rill_redis_group_t **out, const char *addr,
                      const char *key, const char *group, const char *consumer,
                      const rill_redis_group_config_t *gc,
                      const rill_redis_xread_config_t *xc, const char *pos)
{
    rill_redis_group_t *g = rill__calloc(1, sizeof *g);
    if (!g)
        return RILL_ENOMEM;
    pthread_mutex_init(&g->mu, NULL);
    const rill_redis_config_t *conn = gc ? gc->conn : xc ? xc->conn : NULL;
    g->plain = !gc;
    g->key = rill__strdup(key);
    if (gc) {
        g->group = rill__strdup(group);
        g->consumer = rill__strdup(consumer);
        g->start_id = rill__strdup(gc->start_id ? gc->start_id : "0");
        if (gc->dead_letter) {
            g->dead = rill__strdup(gc->dead_letter);
        } else if (g->key && (g->dead = rill__malloc(strlen(key) + 6))) {
            strcpy(g->dead, key);
            strcat(g->dead, ":dead");
        }
        g->create = gc->create;
        g->no_claim = gc->no_claim;
        g->count = gc->count;
        g->block = gc->block;
        g->claim_idle = gc->claim_idle > 0 ? gc->claim_idle : RILL_SEC(30);
        g->claim_interval = gc->claim_interval;
        if (g->claim_interval <= 0)
            g->claim_interval =
                g->claim_idle < RILL_SEC(1) ? g->claim_idle : RILL_SEC(1);
        g->max_deliveries = gc->max_deliveries;
        g->ack_batch = gc->ack_batch;
    } else {
        g->count = xc ? xc->count : 0;
        g->block = xc ? xc->block : 0;
        snprintf(g->pos, sizeof g->pos, "%s", pos);
    }
    if (!g->count)
        g->count = 128;
    if (g->block <= 0)
        g->block = RILL_SEC(1);
    if (!g->ack_batch)
        g->ack_batch = g->count;
    if (!g->key ||
        (gc && (!g->group || !g->consumer || !g->start_id || !g->dead))) {
        group_destroy(g);
        return RILL_ENOMEM;
    }
    int r = rill_redis_new(&g->rd, addr, conn);
    if (!r && gc)
        r = rill_redis_new(&g->ctl, addr, conn);
    if (!r && gc && gc->create)
        r = create_group(g);
    if (!r && !gc && !strcmp(g->pos, "$"))
        r = resolve_last_id(g);
    char name[32];
    snprintf(name, sizeof name, "redis %s", key);
    rill_channel_config_t cc = {.name = name, .item_dtor = slot_dtor};
    if (!r)
        r = rill_channel_new(&g->tx, &g->rx, sizeof(slot_t), g->count, &cc);
    if (!r) {
        snprintf(name, sizeof name, "redis reader %s", key);
        rill_spawn_config_t sc = {.runtime = redis__runtime(g->rd),
                                  .name = name};
        r = rill_spawn(&g->reader, reader_main, g, &sc);
    }
    if (r) {
        group_destroy(g);
        return r;
    }
    *out = g;
    return 0;
}

int rill_redis_group_new(rill_redis_group_t **g, const char *addr,
                         const char *key, const char *group,
                         const char *consumer,
                         const rill_redis_group_config_t *cfg)
{
    if (!g)
        return RILL_MISUSE("rill_redis_group_new", "NULL out pointer");
    *g = NULL;
    if (!addr || !key || !group || !consumer || !*key || !*group || !*consumer)
        return RILL_MISUSE("rill_redis_group_new",
                           "NULL or empty address, key, group or consumer");
    rill_redis_group_config_t d = {0};
    if (cfg)
        d = *cfg;
    return group_make(g, addr, key, group, consumer, &d, NULL, NULL);
}

static int slot_to_msg(void *ud, void *in, void *out)
{
    (void)ud;
    slot_t *s = in;
    if (s->status)
        return s->status;
    memcpy(out, &s->msg, sizeof s->msg);
    return 0;
}

static int make_stream(rill_redis_group_t *g, rill_stream_t **out)
{
    rill_stream_t *s;
    int r = rill_receiver_into_stream(g->rx, &s);
    if (r)
        return r;
    g->rx = NULL;
    if ((r = rill_stream_map(&s, slot_to_msg, NULL,
                             sizeof(rill_redis_msg_t)))) {
        rill_stream_free(s);
        return r;
    }
    RILL__DISCARD(rill_stream_set_item_dtor(s, msg_dtor, NULL)); /* s valid */
    *out = s;
    return 0;
}

int rill_redis_group_stream(rill_redis_group_t *g, rill_stream_t **out)
{
    if (!g || !out || g->plain)
        return RILL_MISUSE("rill_redis_group_stream", "NULL argument");
    *out = NULL;
    if (!g->rx)
        return RILL_MISUSE_AS(RILL_EALREADY, "rill_redis_group_stream",
                              "the stream was taken before");
    return make_stream(g, out);
}

int rill_redis_group_stats(rill_redis_group_t *g, rill_redis_group_stats_t *o)
{
    if (!g || !o)
        return RILL_MISUSE("rill_redis_group_stats", "NULL argument");
#define LD(f) atomic_load_explicit(&g->f, memory_order_relaxed)
    o->delivered = LD(delivered);
    o->redelivered = LD(redelivered);
    o->acked = LD(acked);
    o->claimed = LD(claimed);
    o->deleted = LD(deleted);
    o->dead_lettered = LD(dead_lettered);
    o->errors = LD(errors);
#undef LD
    pthread_mutex_lock(&g->mu);
    o->acks_waiting = g->nacks;
    pthread_mutex_unlock(&g->mu);
    return 0;
}

void rill_redis_group_free(rill_redis_group_t *g)
{
    if (g)
        group_destroy(g);
}

/* ---- plain XREAD: a stream that owns its reader ---- */

typedef struct xread_stream {
    rill_stream_t base;
    rill_stream_t *inner;
    rill_redis_group_t *g;
} xread_stream_t;

static int xr_poll(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    return rill_stream_poll_next(((xread_stream_t *)s)->inner, cx, out);
}

static int xr_poll_many(rill_stream_t *s, rill_cx_t *cx, void *out, size_t max,
                        size_t *n)
{
    return rill_stream_poll_next_many(((xread_stream_t *)s)->inner, cx, out,
                                      max, n);
}

static void xr_drop(rill_stream_t *s)
{
    xread_stream_t *x = (xread_stream_t *)s;
    rill_stream_free(x->inner);
    group_destroy(x->g);
    rill__free(x);
}

static int xr_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const xread_stream_t *x = (const xread_stream_t *)s;
    return snprintf(buf, len, "redis XREAD of '%s'", x->g->key);
}

static const rill_stream_vtable_t xread_vtable = {
    .poll_next = xr_poll,
    .poll_next_many = xr_poll_many,
    .drop = xr_drop,
    .describe = xr_describe,
};

int rill_redis_xread_new(rill_stream_t **out, const char *addr, const char *key,
                         const char *start_id,
                         const rill_redis_xread_config_t *cfg)
{
    if (!out)
        return RILL_MISUSE("rill_redis_xread_new", "NULL out pointer");
    *out = NULL;
    if (!addr || !key || !*key)
        return RILL_MISUSE("rill_redis_xread_new", "NULL address or key");
    if (!start_id)
        start_id = "$";
    if (strlen(start_id) >= 48)
        return RILL_MISUSE("rill_redis_xread_new", "start id too long");
    rill_redis_xread_config_t d = {0};
    if (cfg)
        d = *cfg;
    xread_stream_t *x = rill__calloc(1, sizeof *x);
    if (!x)
        return RILL_ENOMEM;
    int r = group_make(&x->g, addr, key, NULL, NULL, NULL, &d, start_id);
    if (r) {
        rill__free(x);
        return r;
    }
    if ((r = make_stream(x->g, &x->inner))) {
        group_destroy(x->g);
        rill__free(x);
        return r;
    }
    RILL__DISCARD(rill_stream_init(&x->base, &xread_vtable,
                                   sizeof(rill_redis_msg_t))); /* valid args */
    RILL__DISCARD(rill_stream_set_item_dtor(&x->base, msg_dtor, NULL));
    *out = &x->base;
    return 0;
}
