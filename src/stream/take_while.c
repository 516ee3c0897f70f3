/* SPDX-License-Identifier: MIT */
/*
 * take_while.c - rill_stream_take_while: items while the predicate holds;
 * the first that fails is released and ends the stream. A step of the
 * transform engine (xform.c), which then drops upstream at once.
 */
#include "stream_int.h"

static int take_while_step(rill__xform_t *x, void *in, void *out)
{
    if (((rill_pred_fn)x->fn)(x->ud, in)) {
        memcpy(out, in, x->in_size);
        return RILL__XF_OUT;
    }
    rill__xform_discard(x, in);
    return RILL__XF_END;
}

static const rill__xform_kind_t take_while_kind = {"rill_stream_take_while",
                                                   take_while_step, true, true};

int rill_stream_take_while(rill_stream_t **s, rill_pred_fn fn, void *ud)
{
    return rill__xform_wrap(&take_while_kind, s, 0, (rill__fn_t)fn, ud, 0);
}
