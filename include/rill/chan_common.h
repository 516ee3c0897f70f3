/* SPDX-License-Identifier: MIT */
/*
 * rill/chan_common.h - what every channel kind shares: creation options
 * (a name for diagnostics) and the per-channel counters.
 *
 * Included by the channel headers (oneshot.h, watch.h, broadcast.h); there
 * is no need to include it directly.
 */
#ifndef RILL_CHAN_COMMON_H
#define RILL_CHAN_COMMON_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options for a channel constructor. Zero-initialise, then set fields. */
typedef struct rill_chan_opts {
    /* Copied (first 31 bytes); shown in stats and diagnostics. NULL = "". */
    const char *name;
} rill_chan_opts_t;

/*
 * Counters of one channel. Each is read atomically, the set is not one
 * snapshot. Items counted are items, not bytes.
 */
typedef struct rill_chan_stats {
    char name[32];        /* the channel's name, "" if it has none */
    uint64_t sent;        /* items (or values, versions) sent */
    uint64_t received;    /* items taken by receivers (broadcast: deliveries,
                             one per receiver and item) */
    uint64_t high_water;  /* most items held at once, as sampled (see each
                             kind's stats function) */
    uint64_t waits_full;  /* times a sender had to wait */
    uint64_t waits_empty; /* times a receiver had to wait */
    uint64_t lagged;      /* broadcast lag mode: items receivers missed */
    uint64_t receivers;   /* receiver handles alive now */
    uint64_t senders;     /* sender handles alive now */
} rill_chan_stats_t;

#ifdef __cplusplus
}
#endif

#endif /* RILL_CHAN_COMMON_H */
