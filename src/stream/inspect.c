/* SPDX-License-Identifier: MIT */
/*
 * inspect.c - rill_stream_inspect: fn sees each item on its way through.
 * A step of the transform engine (xform.c), which gives it the batch path.
 */
#include "stream_int.h"

static int inspect_step(rill__xform_t *x, void *in, void *out)
{
    ((rill_inspect_fn)x->fn)(x->ud, in);
    memcpy(out, in, x->in_size);
    return RILL__XF_OUT;
}

static const rill__xform_kind_t inspect_kind = {"rill_stream_inspect",
                                                inspect_step, true, true};

int rill_stream_inspect(rill_stream_t **s, rill_inspect_fn fn, void *ud)
{
    return rill__xform_wrap(&inspect_kind, s, 0, (rill__fn_t)fn, ud, 0);
}
