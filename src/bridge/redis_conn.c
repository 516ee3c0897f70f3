/* SPDX-License-Identifier: MIT */
/*
 * redis_conn.c - one Redis connection driven by one task on rill's
 * reactor: pipelining, replies matched first in first out, AUTH/SELECT
 * on every connect, reconnection with backoff.
 *
 * Callers (tasks or plain threads) format their commands into a request
 * (redis__req_t), send its pointer into the connection's bounded channel
 * and wait on a oneshot for the request to come back, with a deadline.
 * The driver task owns everything else: the socket, hiredis's reader and
 * the in-flight list, so none of it is shared or locked. Its loop takes
 * the requests that wait (without waiting), writes what it can (never
 * waiting: try_write), reads what has come (try_read) and hands each
 * reply to the oldest request written; when nothing moves it waits in
 * rill_select for any of: a new request, bytes to read, room to write.
 *
 * The in-flight list is in write order. A request whose bytes were all
 * handed to the socket is "written"; replies go to the written requests
 * in order (Redis answers in order on one connection), each request
 * taking `want` replies. A reply with no written request waiting is a
 * protocol error (a server that talks out of turn).
 *
 * When a session breaks (end of file, reset, a protocol error), requests
 * some of whose bytes went out fail with RILL_ECONNRESET (they may have
 * run; their replies so far are kept); the others were never seen by
 * Redis and wait for the next session, in order. A request whose caller
 * gave up (deadline, cancel: its oneshot receiver is closed) before any
 * byte went out is dropped unsent.
 *
 * The first session is reported to rill_redis_new (through a oneshot),
 * which so fails for a wrong address or password; later sessions are
 * retried after backoff_min, doubling to backoff_max, for as long as the
 * connection lives. rill_redis_free cancels the driver: every request
 * then fails with RILL_ECLOSED.
 */
#include "core/describe.h"
#include "redis_int.h"
#include "rt/rt.h"

#include <stdatomic.h>

enum { RBUF = 64 * 1024, WBUF = 64 * 1024, TAKE = 64 };

struct rill_redis {
    char *addr;
    char *username, *password;
    int db;
    rill_duration_t command_timeout, connect_timeout, backoff_min, backoff_max;
    size_t queue;
    rill_runtime_t *rt;
    rill_sender_t *req_tx;
    rill_receiver_t *req_rx; /* the driver's */
    rill_task_t *driver;
    rill_oneshot_sender_t *ready_tx; /* the first session's outcome */

    /* ---- the driver's alone ---- */
    redis__req_t *head, *tail; /* in flight, in write order */
    redis__req_t *wnext;       /* first request with bytes to write */
    size_t nreq;
    size_t hs_pending; /* handshake replies still to come this session */
    redisReader *reader;
    char *rbuf;
    char *wbuf;
    size_t wlen, woff;

    /* ---- counters: written by the driver, read by rill_redis_stats;
     * relaxed: each is a statistic on its own, no other memory is read
     * on the strength of its value. ---- */
    _Atomic bool connected;
    _Atomic uint64_t connects, commands, replies, failed, in_flight;
    _Atomic int last_error;
};

/* ---- requests ---- */

void redis__req_free(redis__req_t *req)
{
    if (!req)
        return;
    for (size_t i = 0; i < req->got; i++)
        rill_redis_reply_free(req->replies[i]);
    rill__free(req->replies);
    rill__free(req->buf);
    if (req->tx)
        rill_oneshot_sender_release(req->tx);
    rill__free(req);
}

/* The oneshot's item destructor: a request answered after its caller
 * gave up. */
static void req_item_dtor(void *item, void *ud)
{
    (void)ud;
    redis__req_free(*(redis__req_t **)item);
}

/* Hand the request back to its caller (or free it, if the caller is
 * gone). The caller may free it at once: nothing touches it after. */
static void req_complete(redis__req_t *req, int status)
{
    req->status = status;
    if (req->internal) {
        redis__req_free(req);
        return;
    }
    rill_oneshot_sender_t *tx = req->tx;
    req->tx = NULL;
    if (rill_oneshot_send(tx, &req) != 0)
        redis__req_free(req);
    rill_oneshot_sender_release(tx);
}

/* The request channel's item destructor: requests never taken by the
 * driver (the connection is being freed). */
static void queued_item_dtor(void *item, void *ud)
{
    (void)ud;
    req_complete(*(redis__req_t **)item, RILL_ECLOSED);
}

static redis__req_t *req_new(redis__cmds_t *cmds)
{
    redis__req_t *req = rill__calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->replies = rill__calloc(cmds->count, sizeof *req->replies);
    if (!req->replies) {
        rill__free(req);
        return NULL;
    }
    req->buf = cmds->p;
    req->len = cmds->len;
    req->want = cmds->count;
    memset(cmds, 0, sizeof *cmds);
    return req;
}

/* "redis <first command>[ xN]" from the formatted bytes
 * ("*3\r\n$4\r\nXADD\r\n..."). */
static void req_name(const redis__req_t *req, char *buf, size_t len)
{
    const char *p = req->buf, *end = req->buf + req->len;
    const char *name = NULL;
    size_t n = 0;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl && nl + 1 < end && nl[1] == '$') {
        const char *nl2 = memchr(nl + 1, '\n', (size_t)(end - nl - 1));
        if (nl2) {
            n = (size_t)strtoul(nl + 2, NULL, 10);
            name = nl2 + 1;
            if (n > (size_t)(end - name) || n > 16)
                n = 0;
        }
    }
    if (req->want > 1)
        snprintf(buf, len, "redis %.*s x%zu", (int)n, name ? name : "",
                 req->want);
    else
        snprintf(buf, len, "redis %.*s", (int)n, name ? name : "");
}

int redis__send(rill_redis_t *c, redis__cmds_t *cmds, rill_duration_t timeout,
                redis__pending_t *p)
{
    p->rx = NULL;
    p->deadline = rill_deadline(timeout);
    if (!cmds->count) {
        redis__cmds_destroy(cmds);
        return RILL_EINVAL;
    }
    redis__req_t *req = req_new(cmds);
    if (!req) {
        redis__cmds_destroy(cmds);
        return RILL_ENOMEM;
    }
    /* Named after the command, so a dump of a waiting task says what it
     * waits for: "redis XREADGROUP", "redis XADD x256". */
    char name[32];
    req_name(req, name, sizeof name);
    rill_channel_config_t oc = {.name = name, .item_dtor = req_item_dtor};
    rill_oneshot_receiver_t *rx;
    int r = rill_oneshot_new(&req->tx, &rx, sizeof req, &oc);
    if (r) {
        redis__req_free(req);
        return r;
    }
    r = rill_send_timeout(c->req_tx, &req, timeout);
    if (r) {
        /* Not queued: it is still ours. */
        redis__req_free(req);
        rill_oneshot_receiver_release(rx);
        return r == RILL_ECLOSED || r == RILL_DONE ? RILL_ECLOSED : r;
    }
    p->rx = rx;
    return 0;
}

int redis__wait(redis__pending_t *p, redis__req_t **out)
{
    *out = NULL;
    if (!p->rx)
        return RILL_EINVAL;
    redis__req_t *got = NULL;
    rill_instant_t now = rill_now();
    int r = rill_oneshot_recv_timeout(
        p->rx, &got, p->deadline > now ? p->deadline - now : 0);
    /* Gives a request answered after we stopped waiting to the item
     * destructor; a request not answered yet is freed by the driver. */
    rill_oneshot_receiver_release(p->rx);
    p->rx = NULL;
    if (r == RILL_DONE)
        return RILL_ECLOSED;
    if (r)
        return r;
    *out = got;
    return got->status;
}

void redis__abandon(redis__pending_t *p)
{
    /* Unsent, the driver drops it; its reply, if one comes, goes to the
     * oneshot's item destructor. */
    if (p->rx)
        rill_oneshot_receiver_release(p->rx);
    p->rx = NULL;
}

int redis__call(rill_redis_t *c, redis__cmds_t *cmds, rill_duration_t timeout,
                redis__req_t **out)
{
    *out = NULL;
    redis__pending_t p;
    int r = redis__send(c, cmds, timeout, &p);
    return r ? r : redis__wait(&p, out);
}

/* ---- the session ---- */

static void stat_add(_Atomic uint64_t *v, uint64_t n)
{
    atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

static void list_push(rill_redis_t *c, redis__req_t *req)
{
    req->next = NULL;
    if (c->tail)
        c->tail->next = req;
    else
        c->head = req;
    c->tail = req;
    if (!c->wnext)
        c->wnext = req;
    c->nreq++;
}

/* Remove req, which precedes `next` as prev->next (prev NULL: the head). */
static void list_unlink(rill_redis_t *c, redis__req_t *prev, redis__req_t *req)
{
    if (prev)
        prev->next = req->next;
    else
        c->head = req->next;
    if (c->tail == req)
        c->tail = prev;
    if (c->wnext == req)
        c->wnext = req->next;
    c->nreq--;
}

/* Take the requests that wait in the channel, without waiting. */
static int take_requests(rill_redis_t *c)
{
    int moved = 0;
    while (c->nreq < c->queue) {
        redis__req_t *batch[TAKE];
        size_t n = 0, room = c->queue - c->nreq;
        int r =
            rill_try_recv_many(c->req_rx, batch, room < TAKE ? room : TAKE, &n);
        if (r)
            break;
        for (size_t i = 0; i < n; i++)
            list_push(c, batch[i]);
        moved = 1;
    }
    return moved;
}

/* A request not begun whose caller is gone is dropped unsent. */
static bool abandoned(const redis__req_t *req)
{
    return !req->internal && !req->queued && rill_oneshot_is_closed(req->tx);
}

static void drop_abandoned(rill_redis_t *c)
{
    if (!c->wnext || !abandoned(c->wnext))
        return;
    redis__req_t *prev = NULL;
    for (redis__req_t *q = c->head; q; q = q->next)
        if (q == c->wnext)
            break;
        else
            prev = q;
    while (c->wnext && abandoned(c->wnext)) {
        redis__req_t *q = c->wnext;
        list_unlink(c, prev, q);
        req_complete(q, RILL_ECANCELED);
    }
}

/*
 * Write what can go without waiting. Small requests are gathered into
 * wbuf (one write for many); a large one is written from its own buffer.
 * Returns 1 if bytes moved, 0 if nothing to write, RILL_EAGAIN if the
 * socket is full, or a write error.
 */
static int write_some(rill_redis_t *c, rill_io_t *io)
{
    int moved = 0;
    for (;;) {
        if (c->woff < c->wlen) {
            size_t n = 0;
            int r =
                rill_io_try_write(io, c->wbuf + c->woff, c->wlen - c->woff, &n);
            if (r == RILL_EAGAIN)
                return moved ? 1 : RILL_EAGAIN;
            if (r)
                return r;
            c->woff += n;
            moved = 1;
            /* The gathered requests whose last byte went out are
             * written now (their replies may come). */
            for (redis__req_t *q = c->head; q && q != c->wnext; q = q->next) {
                if (!q->wend)
                    continue; /* written before, or written directly */
                if (q->wend > c->woff)
                    break;
                q->off = q->len;
                q->wend = 0;
            }
            if (c->woff < c->wlen)
                continue;
            c->wlen = c->woff = 0;
        }
        drop_abandoned(c);
        redis__req_t *q = c->wnext;
        /* Callers' commands wait for the handshake's replies: a refused
         * AUTH or a server still loading (-LOADING) fails the session
         * before any of them is sent, so they go to the next one. */
        if (!q || (c->hs_pending && !q->internal))
            return moved;
        if (q->len - q->off >= WBUF / 4) {
            /* Large: straight from its buffer. */
            size_t n = 0;
            q->queued = true;
            int r = rill_io_try_write(io, q->buf + q->off, q->len - q->off, &n);
            if (r == RILL_EAGAIN)
                return moved ? 1 : RILL_EAGAIN;
            if (r)
                return r;
            q->off += n;
            moved = 1;
            if (q->off == q->len) {
                c->wnext = q->next;
                stat_add(&c->commands, q->want);
                stat_add(&c->in_flight, q->want);
            }
            continue;
        }
        /* Gather small requests into wbuf. They count as written once
         * wbuf is out (off is set then); until then off < len. */
        while (q && q->len - q->off < WBUF / 4 &&
               c->wlen + (q->len - q->off) <= WBUF) {
            if (abandoned(q) || (c->hs_pending && !q->internal))
                break;
            q->queued = true;
            memcpy(c->wbuf + c->wlen, q->buf + q->off, q->len - q->off);
            c->wlen += q->len - q->off;
            q->wend = c->wlen;
            stat_add(&c->commands, q->want);
            stat_add(&c->in_flight, q->want);
            q = q->next;
        }
        c->wnext = q;
        if (c->wlen == 0)
            return moved;
    }
}

/* Hand a reply to the oldest request it belongs to. */
static int dispatch(rill_redis_t *c, rill_redis_reply_t *reply)
{
    redis__req_t *q = c->head;
    /* Only a request some of whose bytes went out can be answered. */
    if (!q || !q->queued || q->got >= q->want) {
        rill_redis_reply_free(reply);
        return RILL_EPROTO;
    }
    q->replies[q->got++] = reply;
    stat_add(&c->replies, 1);
    atomic_fetch_sub_explicit(&c->in_flight, 1, memory_order_relaxed);
    if (q->got < q->want)
        return 0;
    if (q->off < q->len) {
        /* All its replies came while part of it was still unwritten:
         * only a server answering what it never got does that. */
        return RILL_EPROTO;
    }
    list_unlink(c, NULL, q);
    if (q->internal) {
        c->hs_pending--;
        if (q->replies[0]->type == RILL_REDIS_ERROR) {
            req_complete(q, 0);
            return RILL_EREPLY; /* AUTH or SELECT refused, or LOADING */
        }
    }
    req_complete(q, 0);
    return 0;
}

/* Feed n bytes just read and dispatch every whole reply. */
static int on_bytes(rill_redis_t *c, size_t n)
{
    int r = redis__reader_feed(c->reader, c->rbuf, n);
    if (r)
        return r;
    for (;;) {
        rill_redis_reply_t *reply;
        r = redis__reader_next(c->reader, &reply);
        if (r == RILL_PENDING)
            return 0;
        if (r)
            return r;
        if ((r = dispatch(c, reply)))
            return r;
    }
}

static int read_some(rill_redis_t *c, rill_io_t *io)
{
    int moved = 0;
    for (;;) {
        size_t n = 0;
        int r = rill_io_try_read(io, c->rbuf, RBUF, &n);
        if (r == RILL_EAGAIN)
            return moved;
        if (r == RILL_DONE)
            return RILL_ECONNRESET;
        if (r)
            return r;
        if ((r = on_bytes(c, n)))
            return r;
        moved = 1;
    }
}

/* Whether the first session's handshake is done: no internal request
 * left in the list. */
static bool handshake_pending(const rill_redis_t *c)
{
    return c->hs_pending > 0;
}

static void report_ready(rill_redis_t *c, int status)
{
    if (!c->ready_tx)
        return;
    RILL__DISCARD(rill_oneshot_send(c->ready_tx, &status)); /* new() waits */
    rill_oneshot_sender_release(c->ready_tx);
    c->ready_tx = NULL;
}

/*
 * AUTH, SELECT and a PING go first on every session, ahead of what
 * waits: the PING makes a server that closes at once, or answers with
 * something that is not RESP, fail the session before any caller's
 * command is sent (and rill_redis_new with it).
 */
static int push_handshake(rill_redis_t *c)
{
    redis__cmds_t cmds = {0};
    int r = 0;
    redis__req_t *hs[3];
    int n = 0;
    if (c->password) {
        const char *argv[3] = {"AUTH", c->username, c->password};
        if (c->username)
            r = redis__cmds_add(&cmds, 3, argv, NULL);
        else
            r = redis__cmds_add(&cmds, 2, (const char *[]){"AUTH", c->password},
                                NULL);
        if (r || !(hs[n] = req_new(&cmds))) {
            redis__cmds_destroy(&cmds);
            return r ? r : RILL_ENOMEM;
        }
        hs[n++]->internal = true;
    }
    if (c->db > 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", c->db);
        r = redis__cmds_add(&cmds, 2, (const char *[]){"SELECT", db}, NULL);
        if (r || !(hs[n] = req_new(&cmds))) {
            redis__cmds_destroy(&cmds);
            while (n > 0)
                redis__req_free(hs[--n]);
            return r ? r : RILL_ENOMEM;
        }
        hs[n++]->internal = true;
    }
    r = redis__cmds_add(&cmds, 1, (const char *[]){"PING"}, NULL);
    if (r || !(hs[n] = req_new(&cmds))) {
        redis__cmds_destroy(&cmds);
        while (n > 0)
            redis__req_free(hs[--n]);
        return r ? r : RILL_ENOMEM;
    }
    hs[n++]->internal = true;
    /* In front of the list (nothing of it was written yet). */
    c->hs_pending = (size_t)n;
    for (int i = n - 1; i >= 0; i--) {
        hs[i]->next = c->head;
        c->head = hs[i];
        if (!c->tail)
            c->tail = hs[i];
        c->nreq++;
    }
    c->wnext = c->head;
    return 0;
}

/* The session broke: requests begun fail, the others wait for the next. */
static void end_session(rill_redis_t *c, int status)
{
    redis__req_t *prev = NULL, *q = c->head;
    while (q) {
        redis__req_t *next = q->next;
        if (q->queued || q->internal) {
            if (q->queued && !q->internal) {
                stat_add(&c->failed, q->want - q->got);
            }
            list_unlink(c, prev, q);
            req_complete(q, status);
        } else {
            prev = q;
        }
        q = next;
    }
    c->wnext = c->head;
    c->wlen = c->woff = 0;
    c->hs_pending = 0;
    atomic_store_explicit(&c->in_flight, 0, memory_order_relaxed);
}

static int run_session(rill_redis_t *c, rill_io_t *io)
{
    int r = push_handshake(c);
    if (r)
        return r;
    bool ready_reported = false;
    /* The handshake's replies come within the connect deadline, or the
     * session is given up and made again: a server that accepted and
     * does not answer would otherwise hold every command back for good
     * (they wait for the handshake), each retried on the same session. */
    rill_instant_t hs_deadline = rill_deadline(c->connect_timeout);
    bool want_write = false;
    for (;;) {
        if (!ready_reported && !handshake_pending(c)) {
            report_ready(c, 0);
            ready_reported = true;
        }
        int moved = take_requests(c);
        r = write_some(c, io);
        if (r < 0 && r != RILL_EAGAIN)
            return r;
        want_write = r == RILL_EAGAIN;
        if (r > 0)
            moved = 1;
        r = read_some(c, io);
        if (r < 0)
            return r;
        if (r > 0 || moved)
            continue;
        /* Nothing moved: wait for a request, bytes, or room. */
        redis__req_t *incoming = NULL;
        size_t nread = 0;
        rill_recv_op_t recv;
        rill_io_op_t rd, wr;
        rill_future_t *cases[3];
        size_t n = 0, i_recv = SIZE_MAX, i_wr = SIZE_MAX;
        rill_io_read_op(&rd, io, c->rbuf, RBUF, &nread);
        cases[n++] = &rd.base;
        if (c->nreq < c->queue) {
            rill_recv_op(&recv, c->req_rx, &incoming, sizeof incoming);
            i_recv = n;
            cases[n++] = &recv.base;
        }
        if (want_write) {
            rill_io_ready_op(&wr, io, RILL_IO_WRITE);
            i_wr = n;
            cases[n++] = &wr.base;
        }
        int st = 0;
        int i =
            rill_select(cases, n, 0,
                        handshake_pending(c) ? hs_deadline : RILL_FOREVER, &st);
        if (i < 0)
            return i; /* RILL_ETIMEDOUT: no handshake; RILL_ECANCELED: the
                         connection is being freed */
        if ((size_t)i == i_recv) {
            if (st)
                return RILL_ECLOSED; /* the channel went away */
            list_push(c, incoming);
        } else if ((size_t)i == i_wr) {
            if (st)
                return st;
        } else {
            if (st == RILL_DONE)
                return RILL_ECONNRESET;
            if (st)
                return st;
            if ((r = on_bytes(c, nread)))
                return r;
        }
    }
}

static void *drive(void *arg)
{
    rill_redis_t *c = arg;
    rill_duration_t backoff = c->backoff_min;
    for (;;) {
        rill_io_t *io = NULL;
        int r = rill_connect_timeout(&io, c->addr, c->connect_timeout, NULL);
        if (r == 0) {
            redis__reader_free(c->reader);
            c->reader = redis__reader_new();
            if (!c->reader) {
                r = RILL_ENOMEM;
            } else {
                stat_add(&c->connects, 1);
                atomic_store_explicit(&c->connected, true,
                                      memory_order_relaxed);
                r = run_session(c, io);
                /* A peer gone before our write or before our read: one
                 * error for both. */
                if (r == RILL_EPIPE)
                    r = RILL_ECONNRESET;
                atomic_store_explicit(&c->connected, false,
                                      memory_order_relaxed);
                backoff = c->backoff_min;
            }
            rill_io_free(io);
        }
        if (r == RILL_ECANCELED || r == RILL_ECLOSED) {
            end_session(c, RILL_ECLOSED);
            report_ready(c, RILL_ECLOSED);
            break;
        }
        atomic_store_explicit(&c->last_error, r, memory_order_relaxed);
        /* Callers' commands that were sent are lost with the session,
         * whatever ended it. */
        end_session(c, RILL_ECONNRESET);
        if (c->ready_tx) {
            /* The first session failed: rill_redis_new reports it. */
            report_ready(c, r);
            break;
        }
        if (rill_sleep(backoff) != 0)
            break;
        backoff = backoff * 2 < c->backoff_max ? backoff * 2 : c->backoff_max;
    }
    /* Nothing in the list can be sent any more. */
    redis__req_t *q;
    while ((q = c->head)) {
        list_unlink(c, NULL, q);
        req_complete(q, RILL_ECLOSED);
    }
    return NULL;
}

/* ---- the public calls ---- */

static char *dup_or_null(const char *s, bool *fail)
{
    if (!s)
        return NULL;
    char *p = rill__strdup(s);
    if (!p)
        *fail = true;
    return p;
}

static void conn_destroy(rill_redis_t *c)
{
    rill_receiver_release(c->req_rx);
    rill_sender_release(c->req_tx);
    redis__reader_free(c->reader);
    rill__free(c->rbuf);
    rill__free(c->wbuf);
    rill__free(c->addr);
    rill__free(c->username);
    rill__free(c->password);
    rill__free(c);
}

int rill_redis_new(rill_redis_t **out, const char *addr,
                   const rill_redis_config_t *cfg)
{
    if (!out)
        return RILL_MISUSE("rill_redis_new", "NULL out pointer");
    *out = NULL;
    if (!addr)
        return RILL_MISUSE("rill_redis_new", "NULL address");
    rill_redis_config_t d = {0};
    if (cfg)
        d = *cfg;
    rill_runtime_t *rt = d.runtime ? d.runtime : rill_runtime_current();
    if (!rt)
        return RILL_MISUSE("rill_redis_new",
                           "no runtime (a plain thread names cfg->runtime)");
    if (d.db < 0)
        return RILL_MISUSE("rill_redis_new", "negative db");
    rill_redis_t *c = rill__calloc(1, sizeof *c);
    if (!c)
        return RILL_ENOMEM;
    bool fail = false;
    c->addr = dup_or_null(addr, &fail);
    c->username = dup_or_null(d.username, &fail);
    c->password = dup_or_null(d.password, &fail);
    c->db = d.db;
    c->rt = rt;
    c->command_timeout =
        d.command_timeout > 0 ? d.command_timeout : RILL_SEC(10);
    c->connect_timeout =
        d.connect_timeout > 0 ? d.connect_timeout : RILL_SEC(5);
    c->backoff_min = d.backoff_min > 0 ? d.backoff_min : RILL_MS(10);
    c->backoff_max = d.backoff_max > 0 ? d.backoff_max : RILL_SEC(1);
    if (c->backoff_max < c->backoff_min)
        c->backoff_max = c->backoff_min;
    c->queue = d.queue ? d.queue : 1024;
    c->rbuf = rill__malloc(RBUF);
    c->wbuf = rill__malloc(WBUF);
    if (fail || !c->rbuf || !c->wbuf) {
        conn_destroy(c);
        return RILL_ENOMEM;
    }
    rill_channel_config_t qc = {.name = "redis requests",
                                .item_dtor = queued_item_dtor};
    int r = rill_channel_new(&c->req_tx, &c->req_rx, sizeof(redis__req_t *),
                             c->queue, &qc);
    if (r) {
        conn_destroy(c);
        return r;
    }
    rill_oneshot_receiver_t *ready_rx;
    r = rill_oneshot_new(&c->ready_tx, &ready_rx, sizeof(int), NULL);
    if (r) {
        conn_destroy(c);
        return r;
    }
    char name[32];
    snprintf(name, sizeof name, "redis %s", addr);
    rill_spawn_config_t sc = {.runtime = rt, .name = name};
    r = rill_spawn(&c->driver, drive, c, &sc);
    if (r) {
        rill_oneshot_sender_release(c->ready_tx);
        rill_oneshot_receiver_release(ready_rx);
        conn_destroy(c);
        return r;
    }
    int status = 0;
    /* A server that accepts and never answers the handshake's PING. */
    r = rill_oneshot_recv_timeout(ready_rx, &status,
                                  c->connect_timeout + c->command_timeout);
    rill_oneshot_receiver_release(ready_rx);
    if (r == 0)
        r = status;
    else if (r == RILL_DONE)
        r = RILL_ECLOSED;
    if (r) {
        /* ECANCELED: our caller was cancelled while we waited;
         * ETIMEDOUT: no answer to the handshake. */
        rill_task_cancel(c->driver);
        RILL__DISCARD(rill__join_shielded(c->driver, NULL)); /* it stopped */
        conn_destroy(c);
        return r;
    }
    *out = c;
    return 0;
}

void rill_redis_free(rill_redis_t *c)
{
    if (!c)
        return;
    rill_task_cancel(c->driver);
    /* Shielded: the driver uses c until it returns, also when our own
     * task is being cancelled. */
    RILL__DISCARD(rill__join_shielded(c->driver, NULL));
    conn_destroy(c);
}

int rill_redis_command_timeout(rill_redis_t *c, rill_redis_reply_t **reply,
                               int argc, const char *const *argv,
                               const size_t *argvlen, rill_duration_t timeout)
{
    if (!reply)
        return RILL_MISUSE("rill_redis_command", "NULL reply pointer");
    *reply = NULL;
    if (!c || argc < 1 || !argv)
        return RILL_MISUSE("rill_redis_command",
                           "NULL connection or argv, or argc < 1");
    redis__cmds_t cmds = {0};
    int r = redis__cmds_add(&cmds, argc, argv, argvlen);
    if (r) {
        redis__cmds_destroy(&cmds);
        return r == RILL_EINVAL
                   ? RILL_MISUSE("rill_redis_command", "a NULL argument")
                   : r;
    }
    redis__req_t *req;
    r = redis__call(c, &cmds, timeout, &req);
    if (r == 0) {
        *reply = req->replies[0];
        req->got = 0; /* the reply is the caller's now */
    }
    redis__req_free(req);
    return r;
}

int rill_redis_command(rill_redis_t *c, rill_redis_reply_t **reply, int argc,
                       const char *const *argv, const size_t *argvlen)
{
    return rill_redis_command_timeout(c, reply, argc, argv, argvlen,
                                      c ? c->command_timeout : 0);
}

int rill_redis_stats(rill_redis_t *c, rill_redis_stats_t *out)
{
    if (!c || !out)
        return RILL_MISUSE("rill_redis_stats", "NULL argument");
    out->connected = atomic_load_explicit(&c->connected, memory_order_relaxed);
    out->connects = atomic_load_explicit(&c->connects, memory_order_relaxed);
    out->commands = atomic_load_explicit(&c->commands, memory_order_relaxed);
    out->replies = atomic_load_explicit(&c->replies, memory_order_relaxed);
    out->failed = atomic_load_explicit(&c->failed, memory_order_relaxed);
    out->in_flight = atomic_load_explicit(&c->in_flight, memory_order_relaxed);
    out->last_error =
        atomic_load_explicit(&c->last_error, memory_order_relaxed);
    return 0;
}

rill_duration_t redis__command_timeout(const rill_redis_t *c)
{
    return c->command_timeout;
}

rill_runtime_t *redis__runtime(const rill_redis_t *c)
{
    return c->rt;
}
