/* SPDX-License-Identifier: MIT */
/*
 * stream_support.c - the accessors of sync.h for the stream layer. The
 * fields read are immutable after the channel's creation.
 */
#include "mpsc_int.h"
#include "sync.h"

void rill__receiver_item_dtor(const rill_receiver_t *rx, rill_item_dtor_fn *fn,
                              void **ud)
{
    *fn = rx ? rx->ch->dtor : NULL;
    *ud = rx ? rx->ch->item_dtor_ud : NULL;
}
