/* SPDX-License-Identifier: MIT */
/*
 * merge.c - rill_stream_merge: the items of two streams as they come,
 * fairly. A select_all of two (select_all.c), so it too polls only the
 * side that was woken.
 */
#include "stream_int.h"

int rill_stream_merge(rill_stream_t **s, rill_stream_t *other)
{
    RILL__CHECK_STREAM("rill_stream_merge", s);
    if (other == *s) /* itself: it would be dropped twice */
        return RILL_MISUSE("rill_stream_merge", "merged with itself");
    rill_stream_t *both[2] = {*s, other};
    return rill__select_all_new("rill_stream_merge", s, both, 2);
}
