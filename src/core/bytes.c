/* SPDX-License-Identifier: MIT */
/*
 * bytes.c - rill_bytes and rill_arc: atomically reference-counted shared
 * data (Bytes and Arc<T>).
 *
 * Both are the same mechanism: a header holding an atomic count in front
 * of (or beside) the shared data. Clones add with relaxed order, as
 * Arc::clone does: a new reference is made from one that keeps the
 * object alive, so nothing needs ordering. The release that drops the
 * count to zero must see every other holder's accesses before it frees:
 * each release is a release-decrement, and the last one acquires (one
 * acq_rel fetch_sub). Data is immutable once shared, so readers need no
 * more than that.
 *
 * rill_bytes keeps its bytes inline after the header when it copies them
 * (one allocation), or points at a caller's buffer with a free function.
 */
#include "core/atomic.h"
#include "core/core.h"
#include "core/bytes.h"

#include <stddef.h>
#include <string.h>

/* ---- the count ---- */

static void ref_get(_Atomic size_t *refs)
{
    rill__fetch_add(refs, 1, RILL_RELAXED); /* see the file comment */
}

/* True when these n were the last references (n >= 1). Dropping n at
 * once is the same as n release-decrements by this thread in a row. */
static bool ref_put_n(_Atomic size_t *refs, size_t n)
{
    return rill__fetch_sub(refs, n, RILL_ACQ_REL) == n;
}

static bool ref_put(_Atomic size_t *refs)
{
    return ref_put_n(refs, 1);
}

/* ---- rill_bytes ---- */

typedef struct bytes_shared {
    _Atomic size_t refs;
    void (*free_fn)(void *ud, void *data); /* NULL: inline or static */
    void *ud;
    void *data;                  /* the caller's buffer */
    unsigned char inline_data[]; /* rill_bytes_new, rill__bytes_alloc */
} bytes_shared_t;

int rill__bytes_alloc(rill_bytes_t *b, size_t len, unsigned char **data)
{
    *b = RILL_BYTES_EMPTY;
    *data = NULL;
    if (len == 0)
        return 0;
    if (len > SIZE_MAX - sizeof(bytes_shared_t))
        return RILL_ENOMEM; /* no buffer is so long */
    bytes_shared_t *sh = rill__malloc(sizeof *sh + len);
    if (!sh)
        return RILL_ENOMEM;
    rill__store(&sh->refs, 1, RILL_RELAXED); /* not shared yet */
    sh->free_fn = NULL;
    sh->ud = sh->data = NULL;
    *b = (rill_bytes_t){sh->inline_data, len, sh};
    *data = sh->inline_data;
    return 0;
}

int rill_bytes_new(rill_bytes_t *b, const void *data, size_t len)
{
    if (!b || (!data && len > 0))
        return RILL_MISUSE("rill_bytes_new", "NULL bytes or data");
    *b = RILL_BYTES_EMPTY;
    if (len > SIZE_MAX - sizeof(bytes_shared_t)) /* no buffer is so long */
        return RILL_MISUSE("rill_bytes_new", "length %zu overflows", len);
    unsigned char *p;
    int rc = rill__bytes_alloc(b, len, &p);
    if (rc == 0 && len > 0)
        memcpy(p, data, len);
    return rc;
}

int rill_bytes_from_buffer(rill_bytes_t *b, const void *data, size_t len,
                           void (*free_fn)(void *ud, void *data), void *ud)
{
    if (!b || (!data && len > 0))
        return RILL_MISUSE("rill_bytes_from_buffer", "NULL bytes or data");
    bytes_shared_t *sh = rill__malloc(sizeof *sh);
    if (!sh) {
        *b = RILL_BYTES_EMPTY;
        return RILL_ENOMEM;
    }
    rill__store(&sh->refs, 1, RILL_RELAXED); /* not shared yet */
    sh->free_fn = free_fn;
    sh->ud = ud;
    sh->data = (void *)(uintptr_t)data; /* ours now, to free */
    *b = (rill_bytes_t){data, len, sh};
    return 0;
}

rill_bytes_t rill_bytes_clone(const rill_bytes_t *b)
{
    if (!b || !b->shared_)
        return RILL_BYTES_EMPTY;
    ref_get(&((bytes_shared_t *)b->shared_)->refs);
    return *b;
}

void rill__bytes_share_n(const rill_bytes_t *b, size_t n)
{
    /* relaxed, as ref_get: b's own reference keeps the buffer alive. */
    if (n > 0)
        rill__fetch_add(&((bytes_shared_t *)b->shared_)->refs, n, RILL_RELAXED);
}

int rill_bytes_slice(const rill_bytes_t *b, size_t off, size_t len,
                     rill_bytes_t *out)
{
    if (!out)
        return RILL_MISUSE("rill_bytes_slice", "NULL out");
    *out = RILL_BYTES_EMPTY;
    if (!b || off > b->len || len > b->len - off)
        return RILL_MISUSE("rill_bytes_slice",
                           "range [%zu, +%zu) outside %zu bytes", off, len,
                           b ? b->len : 0);
    *out = rill_bytes_clone(b);
    out->ptr = b->ptr ? b->ptr + off : NULL;
    out->len = len;
    return 0;
}

static void shared_free(bytes_shared_t *sh)
{
    if (sh->free_fn)
        sh->free_fn(sh->ud, sh->data);
    rill__free(sh);
}

void rill_bytes_release(rill_bytes_t *b)
{
    if (!b || !b->shared_)
        return;
    bytes_shared_t *sh = b->shared_;
    *b = RILL_BYTES_EMPTY;
    if (ref_put(&sh->refs))
        shared_free(sh);
}

void rill_bytes_release_many(rill_bytes_t *b, size_t n)
{
    if (!b)
        return;
    for (size_t i = 0; i < n;) {
        bytes_shared_t *sh = b[i].shared_;
        size_t j = i + 1;
        while (j < n && b[j].shared_ == sh)
            j++;
        for (size_t k = i; k < j; k++)
            b[k] = RILL_BYTES_EMPTY;
        /* One decrement for the run of j - i views of one buffer. */
        if (sh && ref_put_n(&sh->refs, j - i))
            shared_free(sh);
        i = j;
    }
}

size_t rill_bytes_refs(const rill_bytes_t *b)
{
    if (!b || !b->shared_)
        return 0;
    /* relaxed: a snapshot for diagnostics, ordered with nothing. */
    return rill__load(&((bytes_shared_t *)b->shared_)->refs, RILL_RELAXED);
}

void rill_bytes_item_dtor(void *item, void *ud)
{
    RILL_UNUSED(ud);
    rill_bytes_release(item);
}

/* ---- rill_arc ---- */

/* In front of every arc object, padded so the object is aligned for any
 * type. */
typedef union arc_head {
    struct {
        _Atomic size_t refs;
        rill_arc_dtor_fn dtor;
    } h;
    max_align_t align;
} arc_head_t;

static arc_head_t *arc_head(const void *obj)
{
    return (arc_head_t *)(uintptr_t)((const char *)obj - sizeof(arc_head_t));
}

int rill_arc_new(void *out, size_t size, rill_arc_dtor_fn dtor)
{
    if (!out || size == 0)
        return RILL_MISUSE("rill_arc_new", "NULL out or size 0");
    if (size > SIZE_MAX - sizeof(arc_head_t)) /* a size, not a lack of memory */
        return RILL_MISUSE("rill_arc_new", "size %zu overflows", size);
    arc_head_t *h = rill__calloc(1, sizeof *h + size);
    if (!h)
        return RILL_ENOMEM;
    rill__store(&h->h.refs, 1, RILL_RELAXED); /* not shared yet */
    h->h.dtor = dtor;
    void *obj = h + 1;
    memcpy(out, &obj, sizeof obj); /* out is a T **, seen as void * */
    return 0;
}

void *rill_arc_clone(void *obj)
{
    if (obj)
        ref_get(&arc_head(obj)->h.refs);
    return obj;
}

void rill_arc_release(void *obj)
{
    if (!obj)
        return;
    arc_head_t *h = arc_head(obj);
    if (!ref_put(&h->h.refs))
        return;
    if (h->h.dtor)
        h->h.dtor(obj);
    rill__free(h);
}

size_t rill_arc_refs(const void *obj)
{
    /* relaxed: a snapshot for diagnostics, ordered with nothing. */
    return obj ? rill__load(&arc_head(obj)->h.refs, RILL_RELAXED) : 0;
}

void rill_arc_item_dtor(void *item, void *ud)
{
    RILL_UNUSED(ud);
    void *obj;
    if (!item) /* as rill_bytes_item_dtor: no item, nothing to release */
        return;
    memcpy(&obj, item, sizeof obj);
    rill_arc_release(obj);
}
