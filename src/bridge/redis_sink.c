/* SPDX-License-Identifier: MIT */
/*
 * redis_sink.c - a rill stream into XADD.
 *
 * The sink takes up to `batch` items that are ready (rill_next_many: it
 * waits for the first only), encodes each into one XADD, and sends the
 * batch as one request: one write, `batch` replies read together. One
 * batch is in flight at a time, so the entries reach the stream in the
 * order of the items, across reconnections too.
 *
 * Replies are counted one by one: the entries whose reply came are
 * acknowledged (told to cfg->added and counted) and never sent again.
 * If the connection breaks, the rest of the batch is encoded again and
 * sent on the next session; Redis may have added some of them already
 * (their replies were lost), which is the at-least-once of docs/redis.md.
 * The sink gives up when no entry was acknowledged for retry_for.
 */
#include "redis_int.h"

#include <inttypes.h>
#include <limits.h>

struct rill_redis_args {
    char *bytes; /* the fields' bytes, back to back */
    size_t len, cap;
    size_t *off; /* where each argument starts in bytes */
    size_t n, cap_n;
};

int rill_redis_args_add(rill_redis_args_t *a, const void *p, size_t len)
{
    if (!a || (!p && len))
        return RILL_MISUSE("rill_redis_args_add", "NULL args or bytes");
    if (a->n == a->cap_n) {
        size_t cap = a->cap_n ? a->cap_n * 2 : 16;
        size_t *off = rill__realloc(a->off, (cap + 1) * sizeof *off);
        if (!off)
            return RILL_ENOMEM;
        a->off = off;
        a->cap_n = cap;
    }
    if (len > SIZE_MAX - a->len)
        return RILL_ENOMEM;
    if (a->len + len > a->cap) {
        char *b = rill__grow(a->bytes, &a->cap, a->len + len, 1, 256);
        if (!b)
            return RILL_ENOMEM;
        a->bytes = b;
    }
    if (len)
        memcpy(a->bytes + a->len, p, len);
    a->off[a->n++] = a->len;
    a->len += len;
    a->off[a->n] = a->len;
    return 0;
}

static void args_destroy(rill_redis_args_t *a)
{
    rill__free(a->bytes);
    rill__free(a->off);
}

typedef struct sink {
    rill_redis_t *c;
    rill_stream_t *s;
    const char *key;
    rill_redis_sink_config_t cfg;
    char maxlen[24];
    rill_redis_args_t args;
    const char **argv;
    size_t *lens;
    size_t argv_cap;
    uint64_t added;
} sink_t;

static int encode_bytes(void *ud, const void *item, rill_redis_args_t *args)
{
    const char *field = ud;
    const rill_bytes_t *b = item;
    int r = rill_redis_args_add(args, field, strlen(field));
    return r ? r : rill_redis_args_add(args, b->ptr, b->len);
}

/* Append the XADD of one item to cmds. */
static int encode(sink_t *k, const void *item, redis__cmds_t *cmds)
{
    k->args.n = k->args.len = 0;
    int r = k->cfg.encode(k->cfg.encode_ud, item, &k->args);
    if (r)
        return r < 0 ? r : RILL_EINVAL;
    if (k->args.n == 0 || k->args.n % 2)
        return RILL_MISUSE("rill_redis_write_stream",
                           "encode gave %zu arguments (a field needs a value)",
                           k->args.n);
    size_t need = k->args.n + 6;
    if (need > k->argv_cap) {
        const char **argv = rill__realloc(k->argv, need * sizeof *argv);
        if (!argv)
            return RILL_ENOMEM;
        k->argv = argv;
        size_t *lens = rill__realloc(k->lens, need * sizeof *lens);
        if (!lens)
            return RILL_ENOMEM;
        k->lens = lens;
        k->argv_cap = need;
    }
    size_t n = 0;
#define ARG(p, l) (k->argv[n] = (p), k->lens[n] = (l), n++)
    ARG("XADD", 4);
    ARG(k->key, strlen(k->key));
    if (k->cfg.maxlen) {
        ARG("MAXLEN", 6);
        ARG("~", 1);
        ARG(k->maxlen, strlen(k->maxlen));
    }
    ARG("*", 1);
    for (size_t i = 0; i < k->args.n; i++)
        ARG(k->args.bytes + k->args.off[i],
            k->args.off[i + 1] - k->args.off[i]);
#undef ARG
    if (n > INT_MAX)
        return RILL_ENOMEM;
    return redis__cmds_add(cmds, (int)n, k->argv, k->lens);
}

/*
 * Send items[from..n) until each was acknowledged. Returns 0; RILL_EREPLY;
 * an encode error; a connection error after retry_for without progress.
 */
static int send_batch(sink_t *k, const char *items, size_t isz, size_t n)
{
    size_t from = 0;
    rill_instant_t give_up = rill_deadline(k->cfg.retry_for);
    while (from < n) {
        redis__cmds_t cmds = {0};
        int r = 0;
        for (size_t i = from; i < n && !r; i++) {
            r = encode(k, items + i * isz, &cmds);
            /* Room for the batch at the first entry's size (with a
             * quarter more), so the buffer is not copied as it grows. */
            if (!r && i == from && n - from > 1 &&
                cmds.len <= SIZE_MAX / 2 / (n - from))
                r = redis__cmds_reserve(&cmds, cmds.len * (n - from) * 5 / 4);
        }
        if (r) {
            redis__cmds_destroy(&cmds);
            return r;
        }
        redis__req_t *req;
        r = redis__call(k->c, &cmds, redis__command_timeout(k->c), &req);
        int first_error = 0;
        size_t got = req ? req->got : 0;
        for (size_t i = 0; i < got; i++) {
            const rill_redis_reply_t *rep = req->replies[i];
            if (rep->type == RILL_REDIS_STRING) {
                k->added++;
                if (k->cfg.added)
                    k->cfg.added(k->cfg.added_ud, rep->str, rep->len);
            } else if (!first_error) {
                first_error = RILL_EREPLY;
            }
        }
        redis__req_free(req);
        if (first_error)
            return first_error;
        from += got;
        if (got)
            give_up = rill_deadline(k->cfg.retry_for);
        if (r == 0)
            continue;
        if (r != RILL_ECONNRESET && r != RILL_ETIMEDOUT)
            return r; /* ECANCELED, ECLOSED, ENOMEM */
        if (rill_now() >= give_up)
            return r;
        /* The connection reconnects by itself; the request waits for it. */
    }
    return 0;
}

int rill_redis_write_stream(rill_redis_t *c, const char *key, rill_stream_t *s,
                            uint64_t *added,
                            const rill_redis_sink_config_t *cfg)
{
    if (added)
        *added = 0;
    if (!c || !key || !s) {
        rill_stream_free(s);
        return RILL_MISUSE("rill_redis_write_stream",
                           "NULL connection, key or stream");
    }
    sink_t k = {.c = c, .s = s, .key = key};
    if (cfg)
        k.cfg = *cfg;
    if (!k.cfg.batch)
        k.cfg.batch = 256;
    if (k.cfg.retry_for <= 0)
        k.cfg.retry_for = RILL_SEC(30);
    if (!k.cfg.encode) {
        if (rill_stream_item_size(s) != sizeof(rill_bytes_t)) {
            rill_stream_free(s);
            return RILL_MISUSE("rill_redis_write_stream",
                               "no encode function and items are not "
                               "rill_bytes_t");
        }
        k.cfg.encode = encode_bytes;
        k.cfg.encode_ud = (void *)(k.cfg.field ? k.cfg.field : "data");
    }
    snprintf(k.maxlen, sizeof k.maxlen, "%" PRIu64, k.cfg.maxlen);
    size_t isz = rill_stream_item_size(s);
    char *items = NULL;
    size_t bytes;
    int r = 0;
    if (!rill__mul_ok(isz, k.cfg.batch, &bytes) ||
        !(items = rill__malloc(bytes)))
        r = RILL_ENOMEM;
    while (!r) {
        size_t n = 0;
        r = rill_next_many_sized(s, items, isz, k.cfg.batch, &n);
        if (r == RILL_DONE) {
            r = 0;
            break;
        }
        if (r)
            break;
        r = send_batch(&k, items, isz, n);
        for (size_t i = 0; i < n; i++)
            rill_stream_discard_item(s, items + i * isz);
    }
    rill__free(items);
    rill__free(k.argv);
    rill__free(k.lens);
    args_destroy(&k.args);
    rill_stream_free(s);
    if (added)
        *added = k.added;
    return r;
}
