/* SPDX-License-Identifier: MIT */
/*
 * skip_while.c - rill_stream_skip_while: releases items while the
 * predicate holds, then passes everything. A step of the transform engine
 * (xform.c); the predicate is cleared once it failed, which is the state.
 */
#include "stream_int.h"

static int skip_while_step(rill__xform_t *x, void *in, void *out)
{
    if (x->fn && ((rill_pred_fn)x->fn)(x->ud, in)) {
        rill__xform_discard(x, in);
        return RILL__XF_NONE;
    }
    x->fn = NULL;
    memcpy(out, in, x->in_size);
    return RILL__XF_OUT;
}

static const rill__xform_kind_t skip_while_kind = {"rill_stream_skip_while",
                                                   skip_while_step, true, true};

int rill_stream_skip_while(rill_stream_t **s, rill_pred_fn fn, void *ud)
{
    return rill__xform_wrap(&skip_while_kind, s, 0, (rill__fn_t)fn, ud, 0);
}
