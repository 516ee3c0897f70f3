/* SPDX-License-Identifier: MIT */
/*
 * map.c - rill_stream_map: each item becomes fn(ud, in, out). A step of
 * the transform engine (xform.c), which gives it the batch path.
 */
#include "stream_int.h"

static int map_step(rill__xform_t *x, void *in, void *out)
{
    int r = ((rill_map_fn)x->fn)(x->ud, in, out);
    return r < 0 ? r : RILL__XF_OUT;
}

static const rill__xform_kind_t map_kind = {"rill_stream_map", map_step, false,
                                            true};

int rill_stream_map(rill_stream_t **s, rill_map_fn fn, void *ud,
                    size_t out_size)
{
    return rill__xform_wrap(&map_kind, s, out_size, (rill__fn_t)fn, ud, 0);
}
