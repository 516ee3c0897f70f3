/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the handle registry and the small shared helpers of the
 * oneshot, watch and broadcast channels (see chan_util.h).
 *
 * The registry is a set of (address | kind) keys, split into shards by
 * address so that threads creating and releasing handles rarely meet on
 * one lock. Each shard is an open-addressing table with linear probing and
 * backward-shift deletion (no tombstones), at most half full; an empty
 * shard frees its table, so a program that released everything holds no
 * registry memory.
 */
#include "chan_util.h"

#include <pthread.h>

enum { SHARDS = 64, MIN_CAP = 16 };

typedef struct shard {
    RILL_ALIGN_CL pthread_mutex_t lock;
    uintptr_t *keys; /* cap slots, 0 = free; under lock */
    size_t cap, n;   /* under lock */
} shard_t;

static shard_t shards[SHARDS] = {
#define S1                                                                     \
    {                                                                          \
        PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0                                  \
    }
#define S4 S1, S1, S1, S1
#define S16 S4, S4, S4, S4
    S16, S16, S16, S16
#undef S16
#undef S4
#undef S1
};

static uint64_t mix(uintptr_t k)
{
    uint64_t x = (uint64_t)k;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static shard_t *shard_of(uintptr_t key)
{
    return &shards[(mix(key) >> 58) & (SHARDS - 1)];
}

static size_t slot_of(uintptr_t key, size_t cap)
{
    return (size_t)(mix(key) * 0x9E3779B97F4A7C15ULL >> 7) & (cap - 1);
}

/* Keys are address | kind; the slot depends on the address only, so a
 * lookup finds the address whatever kind it was recorded with. */
#define ADDR(key) ((key) & ~(uintptr_t)7)

static void put(uintptr_t *keys, size_t cap, uintptr_t key)
{
    size_t i = slot_of(ADDR(key), cap);
    while (keys[i])
        i = (i + 1) & (cap - 1);
    keys[i] = key;
}

static bool grow(shard_t *s)
{
    size_t cap = s->cap ? s->cap * 2 : MIN_CAP;
    uintptr_t *keys = rill__calloc(cap, sizeof *keys);
    if (!keys)
        return false;
    for (size_t i = 0; i < s->cap; i++)
        if (s->keys[i])
            put(keys, cap, s->keys[i]);
    rill__free(s->keys);
    s->keys = keys;
    s->cap = cap;
    return true;
}

int rill__handle_add(const void *h, unsigned kind)
{
    uintptr_t key = (uintptr_t)h | kind;
    RILL_ASSERT(((uintptr_t)h & 7) == 0 && kind < 8);
    shard_t *s = shard_of((uintptr_t)h);
    int r = 0;
    pthread_mutex_lock(&s->lock);
    if ((s->n + 1) * 2 > s->cap && !grow(s))
        r = RILL_ENOMEM;
    else {
        put(s->keys, s->cap, key);
        s->n++;
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* 1: forgotten; 0: not recorded; -1: recorded with another kind. */
static int handle_take(const void *h, unsigned kind)
{
    uintptr_t addr = (uintptr_t)h, key = addr | kind;
    shard_t *s = shard_of(addr);
    int found = 0;
    pthread_mutex_lock(&s->lock);
    if (s->cap) {
        size_t mask = s->cap - 1, i = slot_of(addr, s->cap);
        while (s->keys[i] && ADDR(s->keys[i]) != addr)
            i = (i + 1) & mask;
        if (s->keys[i] && s->keys[i] != key)
            found = -1;
        else if (s->keys[i] == key) {
            found = 1;
            /* Backward-shift deletion: pull later entries of the probe
             * run into the hole when their home slot allows it. */
            size_t hole = i, j = i;
            for (;;) {
                j = (j + 1) & mask;
                if (!s->keys[j])
                    break;
                size_t home = slot_of(ADDR(s->keys[j]), s->cap);
                /* j's entry may move to hole iff home is not in
                 * (hole, j] cyclically. */
                bool between = hole <= j ? (home > hole && home <= j)
                                         : (home > hole || home <= j);
                if (!between) {
                    s->keys[hole] = s->keys[j];
                    hole = j;
                }
            }
            s->keys[hole] = 0;
            if (--s->n == 0) {
                rill__free(s->keys);
                s->keys = NULL;
                s->cap = 0;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

bool rill__handle_take(const void *h, unsigned kind)
{
    return handle_take(h, kind) == 1;
}

int rill__handle_release(const void *h, unsigned kind, const char *api)
{
    static const char *const names[] = {"",
                                        "",
                                        "",
                                        "watch sender",
                                        "watch receiver",
                                        "broadcast sender",
                                        "broadcast receiver"};
    int found = handle_take(h, kind);
    if (RILL_LIKELY(found == 1))
        return 0;
    if (found == 0) {
        return RILL_MISUSE_AS(RILL_EALREADY, api, "%s %p released twice",
                              names[kind], h);
    }
    return RILL_MISUSE(api, "%p is not a %s", h, names[kind]);
}

void rill__chan_name(char *name, const rill_channel_config_t *opts)
{
    name[0] = '\0';
    if (opts && opts->name) {
        strncpy(name, opts->name, RILL__NAME_MAX - 1);
        name[RILL__NAME_MAX - 1] = '\0';
    }
}

bool rill__chan_bytes(size_t header, size_t count, size_t size, size_t *out)
{
    size_t per, all;
    if (!rill__mul_ok(rill__words(size), 8, &per) ||
        !rill__mul_ok(per, count, &all) ||
        __builtin_add_overflow(all, header, out))
        return false;
    return *out <= RILL__BYTES_MAX;
}

void *rill__malloc_cl(size_t n)
{
    size_t all;
    if (__builtin_add_overflow(n, RILL_CACHELINE + sizeof(void *), &all))
        return NULL;
    char *raw = rill__malloc(all);
    if (!raw)
        return NULL;
    uintptr_t p = ((uintptr_t)raw + sizeof(void *) + RILL_CACHELINE - 1) &
                  ~(uintptr_t)(RILL_CACHELINE - 1);
    ((void **)p)[-1] = raw;
    return (void *)p;
}

void rill__free_cl(void *p)
{
    if (p)
        rill__free(((void **)p)[-1]);
}
