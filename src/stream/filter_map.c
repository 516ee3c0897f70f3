/* SPDX-License-Identifier: MIT */
/*
 * filter_map.c - rill_stream_filter_map: fn(ud, in, out) returns 0 to
 * emit *out, positive to emit nothing, negative for an error item. A step
 * of the transform engine (xform.c).
 */
#include "stream_int.h"

static int filter_map_step(rill__xform_t *x, void *in, void *out)
{
    int r = ((rill_map_fn)x->fn)(x->ud, in, out);
    if (r > 0)
        return RILL__XF_NONE;
    return r < 0 ? r : RILL__XF_OUT;
}

static const rill__xform_kind_t filter_map_kind = {
    "rill_stream_filter_map", filter_map_step, false, true};

int rill_stream_filter_map(rill_stream_t **s, rill_map_fn fn, void *ud,
                           size_t out_size)
{
    return rill__xform_wrap(&filter_map_kind, s, out_size, (rill__fn_t)fn, ud,
                            0);
}
