/* SPDX-License-Identifier: MIT */
/*
 * chan_util.h - small pieces shared by the oneshot, watch and broadcast
 * channels; private to src/sync.
 *
 * - The handle registry: every live handle of these channels is recorded
 *   (address + kind) from creation to release, so a second release, or
 *   releasing a handle of another kind, is found without touching the
 *   (possibly freed) handle: RILL_EINVAL, never a use after free. Only
 *   creation and release consult it; no operation on the hot paths does.
 * - Word copies: items that a reader may copy while a writer overwrites
 *   them (seqlocks) are stored as arrays of relaxed atomic 64-bit words,
 *   which keeps such races defined in C11 and visible to TSan; the
 *   sequence word around them carries the ordering.
 * - The channel name and size checks every kind does the same way.
 */
#ifndef RILL_SYNC_CHAN_UTIL_H
#define RILL_SYNC_CHAN_UTIL_H

#include "core/atomic.h"
#include "core/core.h"
#include "rill/sync.h"

#include <string.h>

/* ---- handle registry ---- */

enum rill__handle_kind {
    RILL__H_WATCH_TX = 3,
    RILL__H_WATCH_RX,
    RILL__H_BCAST_TX,
    RILL__H_BCAST_RX,
};

/* Record a new handle (8-byte aligned). Returns 0 or RILL_ENOMEM. */
int rill__handle_add(const void *h, unsigned kind);
/* Forget a handle. Returns false if it was not recorded with that kind. */
bool rill__handle_take(const void *h, unsigned kind);
/* For a release function (h not NULL): 0 if h was live and is now
 * forgotten; RILL_EALREADY if it was released before; RILL_EINVAL if it is
 * a live handle of another kind. Both reported as misuse of `api`. */
int rill__handle_release(const void *h, unsigned kind, const char *api);

/* ---- word copies ---- */

typedef _Atomic uint64_t rill__word_t;

static inline size_t rill__words(size_t bytes)
{
    return (bytes + 7) / 8;
}

/* Relaxed: every caller orders the words by a sequence word (release
 * store after writing, acquire load / fence around reading). */
static inline void rill__words_put(rill__word_t *dst, const void *src,
                                   size_t bytes)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    for (; bytes - i >= 8; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        rill__store(&dst[i / 8], v, RILL_RELAXED);
    }
    if (i < bytes) {
        uint64_t v = 0;
        memcpy(&v, s + i, bytes - i);
        rill__store(&dst[i / 8], v, RILL_RELAXED);
    }
}

static inline void rill__words_get(void *dst, const rill__word_t *src,
                                   size_t bytes)
{
    unsigned char *d = (unsigned char *)dst;
    size_t i = 0;
    for (; bytes - i >= 8; i += 8) {
        uint64_t v = rill__load(&src[i / 8], RILL_RELAXED); /* see above */
        memcpy(d + i, &v, 8);
    }
    if (i < bytes) {
        uint64_t v = rill__load(&src[i / 8], RILL_RELAXED); /* see above */
        memcpy(d + i, &v, bytes - i);
    }
}

/* ---- names, sizes, stats ---- */

#define RILL__NAME_MAX 32

/* Copy opts->name (may be NULL) into name[RILL__NAME_MAX]. */
void rill__chan_name(char *name, const rill_channel_config_t *opts);

/* Size check for a call on a channel of item_size; reports misuse. */
#define RILL__CHECK_SIZE(api, item_size, size)                                 \
    (RILL_LIKELY((size) == (item_size))                                        \
         ? 0                                                                   \
         : RILL_MISUSE((api),                                                  \
                       "item size %zu does not match the channel's item "      \
                       "size %zu",                                             \
                       (size_t)(size), (size_t)(item_size)))

/* Bytes of a header plus `count` items of `size` rounded up to words,
 * overflow-checked. Returns false on overflow or above RILL__BYTES_MAX. */
bool rill__chan_bytes(size_t header, size_t count, size_t size, size_t *out);

/* Cache-line aligned allocation (for structs with RILL_ALIGN_CL fields):
 * the user's allocator only promises malloc's alignment. */
void *rill__malloc_cl(size_t n);
void rill__free_cl(void *p);

/* ---- asymmetric barrier (membarrier.c) ---- */

/* True if rill__asym_heavy works here (probed once) and not forced off. */
bool rill__asym_available(void);
/* For tests: make rill__asym_available false (channels created from now
 * on use the seq_cst fallback). */
void rill__asym_force_off(bool off);
/* The slow side: every other running thread of the process passes a full
 * memory barrier before this returns. */
void rill__asym_heavy(void);
/* The fast side: a compiler barrier only. */
#define rill__asym_light() atomic_signal_fence(memory_order_seq_cst)

/* Largest buffer any channel allocates (256 GiB): sizes beyond are
 * treated as bad input, not attempted. */
#define RILL__BYTES_MAX ((size_t)1 << 38)

/* Largest item size any channel accepts (1 GiB). */
#define RILL__ITEM_MAX ((size_t)1 << 30)

#endif
