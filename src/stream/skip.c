/* SPDX-License-Identifier: MIT */
/*
 * skip.c - rill_stream_skip: releases the first n items. A step of the
 * transform engine (xform.c); the counter counts down the items to skip.
 */
#include "stream_int.h"

static int skip_step(rill__xform_t *x, void *in, void *out)
{
    if (x->count > 0) {
        x->count--;
        rill__xform_discard(x, in);
        return RILL__XF_NONE;
    }
    memcpy(out, in, x->in_size);
    return RILL__XF_OUT;
}

static const rill__xform_kind_t skip_kind = {"rill_stream_skip", skip_step,
                                             true, false};

int rill_stream_skip(rill_stream_t **s, uint64_t n)
{
    return rill__xform_wrap(&skip_kind, s, 0, NULL, NULL, n);
}
