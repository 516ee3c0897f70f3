/* SPDX-License-Identifier: MIT */
/*
 * sync.h - what higher layers (stream) may call of the sync layer beyond
 * the public headers. rill__ names; not installed.
 */
#ifndef RILL_SYNC_SYNC_H
#define RILL_SYNC_SYNC_H

#include "rill/sync.h"

/* The item destructor the channel of rx was created with (fn NULL if
 * none): a receiver stream gives it to its items. */
void rill__receiver_item_dtor(const rill_receiver_t *rx, rill_item_dtor_fn *fn,
                              void **ud);

#endif
