/* SPDX-License-Identifier: MIT */
/*
 * scan.c - rill_stream_scan: map with state (the user data), and the
 * power to end the stream (fn returns RILL_DONE). A step of the transform
 * engine (xform.c), which drops upstream as soon as fn ends the stream.
 */
#include "stream_int.h"

static int scan_step(rill__xform_t *x, void *in, void *out)
{
    int r = ((rill_map_fn)x->fn)(x->ud, in, out);
    if (r == RILL_DONE)
        return RILL__XF_END;
    return r < 0 ? r : RILL__XF_OUT;
}

static const rill__xform_kind_t scan_kind = {"rill_stream_scan", scan_step,
                                             false, true};

int rill_stream_scan(rill_stream_t **s, rill_map_fn fn, void *ud,
                     size_t out_size)
{
    return rill__xform_wrap(&scan_kind, s, out_size, (rill__fn_t)fn, ud, 0);
}
