/* SPDX-License-Identifier: MIT */
/*
 * from_fn.c - rill_stream_from_fn: a stream over a user poll function.
 * The only state beyond the user's is `done`, so the function is never
 * called after it said RILL_DONE (every rill stream is fused).
 */
#include "stream_int.h"

typedef struct from_fn {
    rill_stream_t base;
    rill_poll_fn poll;
    void *ud;
    rill_free_fn ud_free; /* NULL: ud is borrowed */
    bool done;
} from_fn_t;

static int from_fn_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    from_fn_t *f = (from_fn_t *)s;
    if (f->done)
        return RILL_DONE;
    int r = f->poll(f->ud, cx, out);
    f->done = r == RILL_DONE;
    return r;
}

static void from_fn_drop(rill_stream_t *s)
{
    from_fn_t *f = (from_fn_t *)s;
    if (f->ud_free)
        f->ud_free(f->ud);
    rill__free(f);
}

static int from_fn_describe(const rill_stream_t *s, char *buf, size_t len)
{
    union {
        rill_poll_fn fn;
        void *p;
    } u = {((const from_fn_t *)s)->poll};
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    rill__buf_printf(&b, "from_fn (poll %p)", u.p);
    return rill__buf_result(&b);
}

static const rill_stream_vtable_t from_fn_vtable = {
    from_fn_poll_next, NULL, from_fn_drop, from_fn_describe};

int rill_stream_from_fn(rill_stream_t **out, size_t item_size,
                        rill_poll_fn poll, void *ud, rill_free_fn ud_free)
{
    if (!out || !poll || item_size == 0)
        return RILL_MISUSE("rill_stream_from_fn",
                           "NULL out or poll, or item_size 0");
    from_fn_t *f = rill__stream_new(sizeof *f, &from_fn_vtable, item_size);
    if (!f)
        return RILL_ENOMEM;
    f->poll = poll;
    f->ud = ud;
    f->ud_free = ud_free;
    *out = &f->base;
    return 0;
}
