/* SPDX-License-Identifier: MIT */
/*
 * fuse.c - rill_stream_fuse: never poll upstream after its RILL_DONE.
 * take already is exactly that (it drops upstream at its end and answers
 * RILL_DONE by itself); with a limit no stream reaches (2^64 - 1 items)
 * it is fuse.
 */
#include "stream_int.h"

int rill_stream_fuse(rill_stream_t **s)
{
    RILL__CHECK_STREAM("rill_stream_fuse", s);
    return rill_stream_take(s, UINT64_MAX);
}
