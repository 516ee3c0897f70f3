/* SPDX-License-Identifier: MIT */
/*
 * fuzz_redis.c - the Redis bridge's reply path: bytes from a server, fed
 * in pieces, through the reader the connection uses (hiredis's
 * redisReader with rill's reply objects) and the entry parser the sources
 * use, against hiredis's own default reader as the oracle.
 *
 * The input: a byte that picks an allocation to refuse (0: none), a byte
 * of piece length, then the server's bytes. Checked:
 * - every reply equals the oracle's (type, string, integer, elements,
 *   recursively), in the same order, however the bytes are split;
 * - where the oracle reports a protocol error ours does too (RILL_EPROTO),
 *   at the same reply; an array above the element cap is RILL_EPROTO
 *   (the oracle is not asked: it would allocate it);
 * - a refused allocation is RILL_ENOMEM or goes unnoticed, never a crash;
 * - each reply and each of its elements given to the entry parser gives a
 *   field list that matches the reply when it says 0;
 * - no rill allocation is left behind;
 * - the command formatter (redis__cmds_add): the same bytes split at
 *   every NUL into arguments, appended twice to one buffer (once with
 *   lengths, once as C strings), give exactly what hiredis's
 *   redisFormatCommandArgv gives (the oracle).
 */
#include "bridge/redis_int.h"
#include "fuzz.h"

#include <hiredis/hiredis.h>

enum { MAX_REPLIES = 64 };

static bool same(const rill_redis_reply_t *a, const redisReply *b)
{
    if (!a || !b || (int)a->type != b->type)
        return false;
    switch (b->type) {
    case REDIS_REPLY_INTEGER:
        return a->integer == b->integer;
    case REDIS_REPLY_NIL:
        return true;
    case REDIS_REPLY_ARRAY:
        if (a->elements != b->elements)
            return false;
        for (size_t i = 0; i < b->elements; i++)
            if (!same(a->element[i], b->element[i]))
                return false;
        return true;
    default:
        return a->len == b->len && !memcmp(a->str, b->str, b->len) &&
               a->str[a->len] == 0;
    }
}

/* The entry parser must agree with the reply it parsed. */
static void check_entry(const rill_redis_reply_t *e)
{
    rill_redis_msg_t m;
    int r = redis__msg_from_entry(e, &m);
    if (r == 0) {
        const rill_redis_reply_t *kv = e->element[1];
        FZ_EQ(m.nfields * 2, kv->elements);
        FZ_CHECK(!strcmp(m.id, e->element[0]->str));
        for (size_t i = 0; i < m.nfields; i++) {
            FZ_EQ(m.fields[i].name_len, kv->element[2 * i]->len);
            FZ_CHECK(!memcmp(m.fields[i].name, kv->element[2 * i]->str,
                             m.fields[i].name_len));
            FZ_EQ(m.fields[i].value_len, kv->element[2 * i + 1]->len);
            FZ_CHECK(!memcmp(m.fields[i].value, kv->element[2 * i + 1]->str,
                             m.fields[i].value_len));
        }
        rill_redis_msg_destroy(&m);
    } else {
        FZ_CHECK(r == RILL_DONE || r == RILL_EPROTO || r == RILL_ENOMEM);
        FZ_CHECK(m.fields == NULL);
    }
    if (e->type == RILL_REDIS_ARRAY)
        for (size_t i = 0; i < e->elements; i++)
            check_entry(e->element[i]);
}

/* An array header above the cap somewhere in the bytes: the oracle
 * would allocate it, so it is not asked. */
static bool has_huge_array(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '*')
            continue;
        unsigned long long v = 0;
        size_t j = i + 1;
        while (j < n && p[j] >= '0' && p[j] <= '9' && v < (1ull << 40))
            v = v * 10 + (p[j++] - '0');
        if (v > REDIS__MAX_ELEMENTS / 2)
            return true;
    }
    return false;
}

/* The formatter against redisFormatCommandArgv: the input's bytes split
 * at each NUL are the arguments (at most 64). */
static void check_format(const uint8_t *data, size_t size)
{
    const char *argv[64];
    size_t lens[64];
    int argc = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size && argc < 64; i++)
        if (i == size || data[i] == 0) {
            argv[argc] = (const char *)data + start;
            lens[argc++] = i - start;
            start = i + 1;
        }
    char *want = NULL;
    int n = redisFormatCommandArgv(&want, argc, argv, lens);
    FZ_CHECK(n > 0 && want != NULL);
    redis__cmds_t b = {0};
    FZ_EQ(redis__cmds_add(&b, argc, argv, lens), 0);
    FZ_EQ(b.len, (size_t)n);
    FZ_CHECK(!memcmp(b.p, want, (size_t)n));
    redisFreeCommand(want);
    /* As C strings (lens NULL: strlen), after the first in one buffer:
     * each argument up to its NUL, which is where it ends anyway except
     * the last (the input need not end with a NUL: copy it). */
    char last[256];
    size_t ll = lens[argc - 1] < sizeof last - 1 ? lens[argc - 1] : 0;
    memcpy(last, argv[argc - 1], ll);
    last[ll] = 0;
    argv[argc - 1] = last;
    want = NULL;
    n = redisFormatCommandArgv(&want, argc, argv, NULL);
    FZ_CHECK(n > 0 && want != NULL);
    size_t before = b.len;
    FZ_EQ(redis__cmds_add(&b, argc, argv, NULL), 0);
    FZ_EQ(b.len - before, (size_t)n);
    FZ_CHECK(!memcmp(b.p + before, want, (size_t)n));
    FZ_EQ(b.count, 2);
    redisFreeCommand(want);
    redis__cmds_destroy(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool installed;
    if (!installed) {
        test_alloc_install();
        installed = true;
    }
    if (size < 2)
        return 0;
    unsigned refuse = data[0], piece = data[1] % 16 + 1;
    data += 2;
    size -= 2;
    long before = test_alloc_count();
    check_format(data, size);

    /* The oracle: hiredis's default reader, all at once. */
    redisReply *want[MAX_REPLIES];
    size_t nwant = 0;
    bool want_err = false, ask = !has_huge_array(data, size);
    if (ask) {
        redisReader *o = redisReaderCreate();
        FZ_CHECK(o != NULL);
        if (size && redisReaderFeed(o, (const char *)data, size) != REDIS_OK)
            want_err = true;
        while (!want_err && nwant < MAX_REPLIES) {
            void *rep = NULL;
            if (redisReaderGetReply(o, &rep) != REDIS_OK) {
                want_err = true;
                break;
            }
            if (!rep)
                break;
            want[nwant++] = rep;
        }
        redisReaderFree(o);
    }

    /* Ours, in pieces, with perhaps one allocation refused. */
    if (refuse)
        test_alloc_refuse(refuse - 1, false);
    redisReader *r = redis__reader_new();
    size_t got = 0;
    int err = 0;
    if (!r) {
        err = RILL_ENOMEM;
    } else {
        for (size_t off = 0; off < size && !err && got < MAX_REPLIES;) {
            size_t n = size - off < piece ? size - off : piece;
            err = redis__reader_feed(r, (const char *)data + off, n);
            off += n;
            while (!err && got < MAX_REPLIES) {
                rill_redis_reply_t *rep;
                int st = redis__reader_next(r, &rep);
                if (st == RILL_PENDING)
                    break;
                if (st) {
                    err = st;
                    break;
                }
                check_entry(rep);
                if (ask && !test_alloc_hit()) {
                    FZ_CHECK(got < nwant);
                    FZ_CHECK(same(rep, want[got]));
                }
                rill_redis_reply_free(rep);
                got++;
            }
        }
        redis__reader_free(r);
    }
    bool hit = test_alloc_hit();
    test_alloc_disarm();
    if (hit) {
        FZ_CHECK(err == 0 || err == RILL_ENOMEM || err == RILL_EPROTO);
    } else if (!ask) {
        FZ_CHECK(err == 0 || err == RILL_EPROTO);
    } else if (got < MAX_REPLIES) {
        /* Same replies; an error exactly where the oracle had one. */
        FZ_EQ(err ? RILL_EPROTO : 0, want_err ? RILL_EPROTO : 0);
        FZ_EQ(got, nwant);
    }
    for (size_t i = 0; i < nwant; i++)
        freeReplyObject(want[i]);
    FZ_EQ(test_alloc_count(), before);
    return 0;
}
