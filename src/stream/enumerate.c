/* SPDX-License-Identifier: MIT */
/*
 * enumerate.c - rill_stream_enumerate: each item with its index, in a
 * user-declared pair struct (index at offset 0, item at item_offset). A
 * step of the transform engine (xform.c): the counter is the next index,
 * the user-data slot carries the item offset. Error items never reach the
 * step, so they take no index.
 */
#include "stream_int.h"

#include <stdint.h>

static int enumerate_step(rill__xform_t *x, void *in, void *out)
{
    uint64_t index = x->count++;
    /* memcpy: the caller's array need not align the pair to 8 bytes. */
    memcpy(out, &index, sizeof index);
    memcpy((char *)out + (uintptr_t)x->ud, in, x->in_size);
    return RILL__XF_OUT;
}

static const rill__xform_kind_t enumerate_kind = {"rill_stream_enumerate",
                                                  enumerate_step, false, false};

int rill_stream_enumerate(rill_stream_t **s, size_t out_size,
                          size_t item_offset)
{
    RILL__CHECK_STREAM("rill_stream_enumerate", s);
    if (item_offset < sizeof(uint64_t) || item_offset > out_size ||
        (*s)->item_size > out_size - item_offset)
        return RILL_MISUSE("rill_stream_enumerate",
                           "a %zu-byte item at offset %zu does not fit a "
                           "%zu-byte pair after its uint64_t index",
                           (*s)->item_size, item_offset, out_size);
    return rill__xform_wrap(&enumerate_kind, s, out_size, NULL,
                            (void *)(uintptr_t)item_offset, 0);
}
