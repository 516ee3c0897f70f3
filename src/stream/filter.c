/* SPDX-License-Identifier: MIT */
/*
 * filter.c - rill_stream_filter: only items the predicate accepts; the
 * others are released with the item destructor. A step of the transform
 * engine (xform.c), which gives it the batch path.
 */
#include "stream_int.h"

static int filter_step(rill__xform_t *x, void *in, void *out)
{
    if (((rill_pred_fn)x->fn)(x->ud, in)) {
        memcpy(out, in, x->in_size);
        return RILL__XF_OUT;
    }
    rill__xform_discard(x, in);
    return RILL__XF_NONE;
}

static const rill__xform_kind_t filter_kind = {"rill_stream_filter",
                                               filter_step, true, true};

int rill_stream_filter(rill_stream_t **s, rill_pred_fn fn, void *ud)
{
    return rill__xform_wrap(&filter_kind, s, 0, (rill__fn_t)fn, ud, 0);
}
