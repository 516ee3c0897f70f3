/* SPDX-License-Identifier: MIT */
/*
 * redis_reply.c - RESP in and out: hiredis's redisReader with object
 * functions that build rill_redis_reply_t trees on rill's allocator
 * (a string reply is one allocation, its bytes after the struct),
 * commands formatted straight into one growing buffer (the RESP of
 * redisFormatCommandArgv, which tests/fuzz/fuzz_redis.c checks byte for
 * byte; hiredis's own malloc'd a buffer and ran sprintf per argument,
 * three quarters of a sink's CPU), and stream entries turned into
 * rill_redis_msg_t.
 *
 * The reader calls createArray for an array and then one create per
 * element with task->parent pointing at the array's task, whose obj is
 * our array: each element links itself into its parent's slot idx. On a
 * protocol error the reader frees what it built through freeObject on
 * the root, which owns every linked element. The reader's privdata is a
 * flag word: an array refused for its size sets it, so the OOM the reader
 * then reports is told apart from a real one.
 */
#include "redis_int.h"

#include <hiredis/hiredis.h>

#include <limits.h>

enum { FLAG_TOO_BIG = 1 };

typedef struct reader_box {
    redisReader *r;
    int flags;
} reader_box_t;

/* A reply linked into its parent; `extra` bytes after the struct (a
 * string's). */
static rill_redis_reply_t *reply_new(const redisReadTask *task,
                                     rill_redis_type_t type, size_t extra)
{
    rill_redis_reply_t *r = rill__malloc(sizeof *r + extra);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->type = type;
    if (task->parent) {
        rill_redis_reply_t *parent = task->parent->obj;
        /* The reader only nests below arrays, at idx < elements. */
        if (parent->type != RILL_REDIS_ARRAY || task->idx < 0 ||
            (size_t)task->idx >= parent->elements) {
            rill__free(r);
            return NULL;
        }
        parent->element[task->idx] = r;
    }
    return r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
    rill_redis_type_t type = task->type == REDIS_REPLY_ERROR ? RILL_REDIS_ERROR
                             : task->type == REDIS_REPLY_STATUS
                                 ? RILL_REDIS_STATUS
                                 : RILL_REDIS_STRING;
    if (len > SIZE_MAX - sizeof(rill_redis_reply_t) - 1)
        return NULL;
    rill_redis_reply_t *r = reply_new(task, type, len + 1);
    if (!r)
        return NULL;
    char *copy = (char *)(r + 1);
    if (len)
        memcpy(copy, str, len);
    copy[len] = 0;
    r->str = copy;
    r->len = len;
    return r;
}

static void *create_array(const redisReadTask *task, int elements)
{
    if (elements < 0 || (size_t)elements > REDIS__MAX_ELEMENTS) {
        reader_box_t *box = task->privdata;
        if (box)
            box->flags |= FLAG_TOO_BIG;
        return NULL;
    }
    rill_redis_reply_t **el = NULL;
    if (elements > 0 && !(el = rill__calloc((size_t)elements, sizeof *el)))
        return NULL;
    rill_redis_reply_t *r = reply_new(task, RILL_REDIS_ARRAY, 0);
    if (!r) {
        rill__free(el);
        return NULL;
    }
    r->element = el;
    r->elements = (size_t)elements;
    return r;
}

static void *create_integer(const redisReadTask *task, long long value)
{
    rill_redis_reply_t *r = reply_new(task, RILL_REDIS_INTEGER, 0);
    if (r)
        r->integer = value;
    return r;
}

static void *create_nil(const redisReadTask *task)
{
    return reply_new(task, RILL_REDIS_NIL, 0);
}

void rill_redis_reply_free(rill_redis_reply_t *r)
{
    if (!r)
        return;
    if (r->element) {
        for (size_t i = 0; i < r->elements; i++)
            rill_redis_reply_free(r->element[i]);
        rill__free(r->element);
    }
    /* A string's bytes are in the reply's own allocation. */
    rill__free(r);
}

static void free_object(void *obj)
{
    rill_redis_reply_free(obj);
}

static redisReplyObjectFunctions reply_fns = {
    create_string, create_array, create_integer, create_nil, free_object,
};

redisReader *redis__reader_new(void)
{
    reader_box_t *box = rill__calloc(1, sizeof *box);
    if (!box)
        return NULL;
    redisReader *r = redisReaderCreateWithFunctions(&reply_fns);
    if (!r) {
        rill__free(box);
        return NULL;
    }
    box->r = r;
    r->privdata = box;
    return r;
}

void redis__reader_free(redisReader *r)
{
    if (!r)
        return;
    reader_box_t *box = r->privdata;
    redisReaderFree(r);
    rill__free(box);
}

static int reader_error(redisReader *r)
{
    reader_box_t *box = r->privdata;
    if (r->err == REDIS_ERR_OOM && !(box && (box->flags & FLAG_TOO_BIG)))
        return RILL_ENOMEM;
    return RILL_EPROTO;
}

int redis__reader_feed(redisReader *r, const char *buf, size_t len)
{
    if (r->err)
        return reader_error(r);
    if (r->len - r->pos > REDIS__MAX_REPLY)
        return RILL_EPROTO;
    if (redisReaderFeed(r, buf, len) != REDIS_OK)
        return reader_error(r);
    return 0;
}

int redis__reader_next(redisReader *r, rill_redis_reply_t **out)
{
    void *reply = NULL;
    *out = NULL;
    if (r->err)
        return reader_error(r);
    if (redisReaderGetReply(r, &reply) != REDIS_OK)
        return reader_error(r);
    if (!reply) {
        if (r->len - r->pos > REDIS__MAX_REPLY)
            return RILL_EPROTO;
        return RILL_PENDING;
    }
    *out = reply;
    return 0;
}

/* ---- commands ---- */

int redis__cmds_reserve(redis__cmds_t *b, size_t total)
{
    if (total <= b->cap)
        return 0;
    char *p = rill__grow(b->p, &b->cap, total, 1, 256);
    if (!p)
        return RILL_ENOMEM;
    b->p = p;
    return 0;
}

/* "<c><v>\r\n" at p (n = rill__dec_len(v)); returns the end. */
static char *put_header(char *p, char c, size_t v, size_t n)
{
    *p++ = c;
    for (size_t i = n; i > 0; i--) {
        p[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* RESP of a command (what redisFormatCommandArgv makes):
 * "*<argc>\r\n" then "$<len>\r\n<bytes>\r\n" per argument, sized
 * first, written once into b. */
int redis__cmds_add(redis__cmds_t *b, int argc, const char *const *argv,
                    const size_t *lens)
{
    if (argc < 1 || !argv)
        return RILL_EINVAL;
    size_t need = 3 + rill__dec_len((size_t)argc);
    for (int i = 0; i < argc; i++) {
        if (!argv[i])
            return RILL_EINVAL;
        size_t len = lens ? lens[i] : strlen(argv[i]);
        size_t one = 5 + rill__dec_len(len);
        if (len > SIZE_MAX - one || need > SIZE_MAX - one - len)
            return RILL_ENOMEM;
        need += one + len;
    }
    if (need > SIZE_MAX - b->len)
        return RILL_ENOMEM;
    int r = redis__cmds_reserve(b, b->len + need);
    if (r)
        return r;
    char *p = put_header(b->p + b->len, '*', (size_t)argc,
                         rill__dec_len((size_t)argc));
    for (int i = 0; i < argc; i++) {
        size_t len = lens ? lens[i] : strlen(argv[i]);
        p = put_header(p, '$', len, rill__dec_len(len));
        if (len)
            memcpy(p, argv[i], len);
        p += len;
        *p++ = '\r';
        *p++ = '\n';
    }
    b->len += need;
    b->count++;
    return 0;
}

void redis__cmds_destroy(redis__cmds_t *b)
{
    rill__free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- entries ---- */

int redis__msg_from_entry(const rill_redis_reply_t *e, rill_redis_msg_t *m)
{
    memset(m, 0, sizeof *m);
    if (!e || e->type != RILL_REDIS_ARRAY || e->elements != 2)
        return RILL_EPROTO;
    const rill_redis_reply_t *id = e->element[0], *kv = e->element[1];
    if (!id || id->type != RILL_REDIS_STRING || id->len == 0 ||
        id->len >= sizeof m->id || memchr(id->str, 0, id->len))
        return RILL_EPROTO;
    memcpy(m->id, id->str, id->len);
    m->id[id->len] = 0;
    if (kv && kv->type == RILL_REDIS_NIL)
        return RILL_DONE;
    if (!kv || kv->type != RILL_REDIS_ARRAY || kv->elements % 2) {
        m->id[0] = 0;
        return RILL_EPROTO;
    }
    size_t bytes = (kv->elements / 2) * sizeof(rill_redis_field_t);
    for (size_t i = 0; i < kv->elements; i++) {
        const rill_redis_reply_t *x = kv->element[i];
        if (!x || x->type != RILL_REDIS_STRING) {
            m->id[0] = 0;
            return RILL_EPROTO;
        }
        bytes += x->len + 1;
    }
    char *block = rill__malloc(bytes ? bytes : 1);
    if (!block) {
        m->id[0] = 0;
        return RILL_ENOMEM;
    }
    rill_redis_field_t *f = (rill_redis_field_t *)(void *)block;
    char *p = block + (kv->elements / 2) * sizeof *f;
    for (size_t i = 0; i < kv->elements / 2; i++) {
        const rill_redis_reply_t *name = kv->element[2 * i],
                                 *value = kv->element[2 * i + 1];
        memcpy(p, name->str, name->len + 1);
        f[i].name = p;
        f[i].name_len = name->len;
        p += name->len + 1;
        memcpy(p, value->str, value->len + 1);
        f[i].value = p;
        f[i].value_len = value->len;
        p += value->len + 1;
    }
    m->fields = f;
    m->nfields = kv->elements / 2;
    return 0;
}

void rill_redis_msg_destroy(rill_redis_msg_t *m)
{
    if (!m)
        return;
    rill__free(m->fields);
    memset(m, 0, sizeof *m);
}

const rill_redis_field_t *rill_redis_msg_field(const rill_redis_msg_t *m,
                                               const char *name)
{
    if (!m || !name)
        return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].name_len == n && !memcmp(m->fields[i].name, name, n))
            return &m->fields[i];
    return NULL;
}

void redis__reply_text(const rill_redis_reply_t *r, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = 0;
    if (!r || !r->str)
        return;
    size_t n = r->len < len - 1 ? r->len : len - 1;
    memcpy(buf, r->str, n);
    buf[n] = 0;
}

bool redis__reply_is(const rill_redis_reply_t *r, rill_redis_type_t type,
                     const char *text)
{
    return r && r->type == type && r->str && strlen(text) == r->len &&
           !memcmp(r->str, text, r->len);
}
