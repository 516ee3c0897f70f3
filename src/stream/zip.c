/* SPDX-License-Identifier: MIT */
/*
 * zip.c - rill_stream_zip: pairs of one item of each stream. The item of
 * the first stream waits in `held` while the second has none yet (the
 * caller's out buffer cannot hold it across a PENDING). Either stream's
 * end ends the pairs: both are dropped and a held item is released.
 */
#include "stream_int.h"

#include <stddef.h>

typedef struct zip {
    rill_stream_t base;
    rill_stream_t *a, *b; /* both NULL once ended */
    size_t b_offset;      /* where b's item goes in the pair */
    bool have_a;          /* held[] holds an item of a */
    max_align_t held[];   /* a->item_size bytes */
} zip_t;

static void zip_end(zip_t *z)
{
    if (z->have_a)
        rill_stream_discard_item(z->a, z->held);
    z->have_a = false;
    rill__stream_release(&z->a);
    rill__stream_release(&z->b);
}

static int zip_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    zip_t *z = (zip_t *)s;
    if (!z->a)
        return RILL_DONE;
    int r;
    if (!z->have_a) {
        r = rill_stream_poll_next(z->a, cx, z->held);
        if (r != 0)
            goto not_ready;
        z->have_a = true;
    }
    r = rill_stream_poll_next(z->b, cx, (char *)out + z->b_offset);
    if (r != 0)
        goto not_ready;
    memcpy(out, z->held, z->a->item_size);
    z->have_a = false;
    return 0;
not_ready:
    if (r == RILL_DONE)
        zip_end(z);
    return r; /* RILL_DONE, RILL_PENDING or an error item of either */
}

static void zip_drop(rill_stream_t *s)
{
    zip_end((zip_t *)s);
    rill__free(s);
}

/* "zip <- (a) & (b)". */
static int zip_describe(const rill_stream_t *s, char *buf, size_t len)
{
    const zip_t *z = (const zip_t *)s;
    rill__buf_t b;
    rill__buf_init(&b, buf, len);
    if (!z->a || !z->b) {
        rill__buf_printf(&b, "zip (ended)");
    } else {
        rill__buf_printf(&b, "zip <- (");
        rill__buf_stream(&b, z->a);
        rill__buf_printf(&b, ") & (");
        rill__buf_stream(&b, z->b);
        rill__buf_printf(&b, ")");
    }
    return rill__buf_result(&b);
}

static const rill_stream_vtable_t zip_vtable = {zip_poll_next, NULL, zip_drop,
                                                zip_describe};

int rill_stream_zip(rill_stream_t **s, rill_stream_t *other, size_t out_size,
                    size_t other_offset)
{
    RILL__CHECK_STREAM("rill_stream_zip", s);
    if (!other || other == *s) /* itself: it would be dropped twice */
        return RILL_MISUSE("rill_stream_zip", "%s",
                           other ? "zipped with itself" : "NULL other stream");
    size_t a_size = (*s)->item_size, b_size = other->item_size;
    if (other_offset < a_size || other_offset > out_size ||
        b_size > out_size - other_offset)
        return RILL_MISUSE("rill_stream_zip",
                           "items of %zu and %zu bytes (the second at offset "
                           "%zu) do not fit a %zu-byte pair",
                           a_size, b_size, other_offset, out_size);
    zip_t *z = rill__stream_new(sizeof *z + a_size, &zip_vtable, out_size);
    if (!z)
        return RILL_ENOMEM;
    z->a = *s;
    z->b = other;
    z->b_offset = other_offset;
    *s = &z->base;
    return 0;
}
