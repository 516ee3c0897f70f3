/* SPDX-License-Identifier: MIT */
/*
 * unbounded.c - the unbounded mpsc channel: a linked list of blocks of
 * RILL__UB_CAP items. Senders never wait.
 *
 * Positions: tail = block number * RILL__UB_LAP + offset. Offsets
 * 0 .. RILL__UB_CAP - 1 are items; offset RILL__UB_CAP means "the sender
 * that took the block's last item is installing the next block" (others
 * back off for those few instructions). Senders take positions by CAS on
 * tail, so a sender dereferences a block only after its CAS proved the
 * block current (the block it loaded after tail cannot be freed before the
 * slot it just took is written). The installer allocates the next block
 * before its CAS, so nobody waits on malloc.
 *
 * A slot is published by its ready flag (release; the last one of a send
 * seq_cst, the pair with rx_waiting as in bounded.c). The receiver alone
 * walks head; when it has consumed a block's last slot it follows `next`
 * (stored by the installer before it published that slot) and gives the
 * old block back: into a one-block cache (reused by the next installer)
 * or to the allocator. So memory returns after a burst: at most one spare
 * block stays.
 *
 * Closing sets RILL__UB_MARK in tail; a sender whose CAS meets it fails.
 * Positions taken before it are still written and received.
 */
#include "mpsc_int.h"

#include <sched.h>
#include <string.h>

static inline size_t block_bytes(const rill__chan_t *ch)
{
    return offsetof(rill__ublock_t, items) + RILL__UB_CAP * ch->item_size;
}

static inline char *item_at(const rill__chan_t *ch, rill__ublock_t *b,
                            uint32_t off)
{
    return b->items + (size_t)off * ch->item_size;
}

/* Items before position p (p without the mark bit). */
static inline uint64_t count_of(uint64_t p)
{
    uint64_t off = p % RILL__UB_LAP;
    return p / RILL__UB_LAP * RILL__UB_CAP +
           (off < RILL__UB_CAP ? off : RILL__UB_CAP);
}

static rill__ublock_t *block_get(rill__chan_t *ch)
{
    /* acq_rel: pairs with block_put, so the receiver's last reads of a
     * cached block come before our writes into it. */
    rill__ublock_t *b = rill__xchg(&ch->block_cache, NULL, RILL_ACQ_REL);
    if (!b && !(b = rill__malloc(block_bytes(ch))))
        return NULL;
    /* relaxed: the block is published by the release store that links it
     * (tail_block, next). */
    rill__store(&b->next, NULL, RILL_RELAXED);
    for (uint32_t i = 0; i < RILL__UB_CAP; i++)
        rill__store(&b->ready[i], 0, RILL_RELAXED);
    return b;
}

static void block_put(rill__chan_t *ch, rill__ublock_t *b)
{
    rill__ublock_t *old = rill__xchg(&ch->block_cache, b, RILL_ACQ_REL);
    rill__free(old);
}

/* Bytes of blocks freed after which an emptied channel trims the heap. */
#define TRIM_AFTER ((size_t)8 << 20)

int rill__ub_init(rill__chan_t *ch)
{
    rill__ublock_t *b = block_get(ch);
    if (!b)
        return RILL_ENOMEM;
    rill__store(&ch->tail_block, b, RILL_RELAXED); /* before publication */
    ch->head_block = b;
    return 0;
}

static void backoff(unsigned *spins)
{
    if (++*spins < 32)
        rill__cpu_relax();
    else
        sched_yield(); /* the installer was preempted */
}

/* Inlined into both entry points below, so the single-item send is
 * compiled with n == 1 and no permit (the loops and branches fold away). */
static inline __attribute__((always_inline)) int ub_send(rill__chan_t *ch,
                                                         const char *items,
                                                         size_t n, size_t *done,
                                                         void **slot)
{
    rill__ublock_t *spare = NULL;
    unsigned spins = 0;
    int r;
    /* acquire: pairs with the installer's release increment into a new
     * block, so tail_block loaded after it is that block (or later). */
    uint64_t t = rill__load(&ch->tail, RILL_ACQUIRE);
    for (;;) {
        if (t & RILL__UB_MARK) {
            r = RILL_ECLOSED;
            break;
        }
        uint32_t off = (uint32_t)(t % RILL__UB_LAP);
        if (off == RILL__UB_CAP) {
            backoff(&spins);
            t = rill__load(&ch->tail, RILL_ACQUIRE);
            continue;
        }
        size_t k = RILL__UB_CAP - off;
        if (!items || n < k)
            k = items ? n : 1;
        bool last = off + k == RILL__UB_CAP;
        if (last && !spare && !(spare = block_get(ch))) {
            r = RILL_ENOMEM;
            break;
        }
        rill__ublock_t *b = rill__load(&ch->tail_block, RILL_ACQUIRE);
        /* acquire on failure: the reload, as above (C11 wants success at
         * least as strong). On success b is current because tail did not
         * move (see the file comment). */
        if (!rill__cas_weak(&ch->tail, &t, t + k, RILL_ACQUIRE, RILL_ACQUIRE))
            continue;
        if (last) {
            /* We took the block's last slot: install the next block. The
             * order matters: tail_block before tail leaves the installing
             * offset (senders' acquire of tail), next before our items
             * (the receiver follows next after reading the last one). */
            rill__store(&ch->tail_block, spare, RILL_RELEASE);
            rill__store(&b->next, spare, RILL_RELEASE);
            rill__fetch_add(&ch->tail, 1, RILL_RELEASE); /* keeps the mark */
            spare = NULL;
            rill__count_max(&ch->hwm,
                            count_of(t + k) -
                                count_of(rill__load(&ch->head, RILL_RELAXED)));
        }
        if (!items) {
            *slot = b;
            *done = t;
            r = 0;
            break;
        }
        size_t isz = ch->item_size;
        if (k == 1) {
            rill__item_copy(item_at(ch, b, off), items, isz);
            /* seq_cst: the pair with rx_waiting (bounded.c, publish). */
            rill__xchg(&b->ready[off], 1, RILL_SEQ_CST);
        } else {
            for (size_t i = 0; i < k; i++) {
                rill__item_copy(item_at(ch, b, off + (uint32_t)i),
                                items + i * isz, isz);
                /* release: pairs with the receiver's acquire of ready. */
                rill__store(&b->ready[off + i], 1, RILL_RELEASE);
            }
            rill__fence(RILL_SEQ_CST);
        }
        if (RILL_UNLIKELY(rill__load(&ch->rx_waiting, RILL_SEQ_CST)))
            rill__chan_wake_rx(ch);
        *done = k;
        r = 0;
        break;
    }
    if (spare)
        block_put(ch, spare);
    return r;
}

int rill__ub_send(rill__chan_t *ch, const char *items, size_t n, size_t *done,
                  void **slot)
{
    return ub_send(ch, items, n, done, slot);
}

int rill__ub_send1(rill__chan_t *ch, const void *item)
{
    size_t done;
    return ub_send(ch, item, 1, &done, NULL);
}

/*
 * Take up to max items (dtor: discard them instead, for drain). Moves to
 * the next block after a block's last slot and gives the old one back.
 */
static size_t pop(rill__chan_t *ch, char *out, size_t max, bool discard)
{
    size_t isz = ch->item_size, got = 0, skips = 0;
    uint64_t h = rill__load(&ch->head, RILL_RELAXED); /* ours alone */
    rill__ublock_t *b = ch->head_block;
    while (got < max) {
        uint32_t off = (uint32_t)(h % RILL__UB_LAP);
        /* acquire: pairs with the producer's publish of the slot. */
        uint32_t st = rill__load(&b->ready[off], RILL_ACQUIRE);
        if (!st) {
            if (RILL_UNLIKELY(ch->trim_debt >= TRIM_AFTER)) {
                /* A burst has drained: let the memory go back (the
                 * allocator may keep it otherwise, see rill__alloc_trim). */
                ch->trim_debt = 0;
                rill__alloc_trim();
            }
            break;
        }
        if (st == 2)
            skips++;
        else if (discard)
            rill__chan_discard(ch, item_at(ch, b, off));
        else
            rill__item_copy(out + got++ * isz, item_at(ch, b, off), isz);
        h++;
        if (off + 1 == RILL__UB_CAP) {
            /* acquire: pairs with the installer's release of next, which
             * came before the slot we just read was published. */
            rill__ublock_t *nb = rill__load(&b->next, RILL_ACQUIRE);
            RILL_ASSERT(nb);
            block_put(ch, b);
            ch->trim_debt += block_bytes(ch);
            b = nb;
            h++; /* past the installing offset */
        }
    }
    ch->head_block = b;
    rill__store(&ch->head, h, RILL_RELAXED); /* for len/stats readers */
    if (skips)
        rill__count(&ch->rx_skipped, skips);
    if (got && (ch->sample += (uint32_t)got) >= 64) {
        ch->sample = 0; /* sampled: see bounded.c */
        uint64_t t = rill__load(&ch->tail, RILL_RELAXED) & ~RILL__UB_MARK;
        rill__count_max(&ch->hwm, count_of(t) - count_of(h) + got);
    }
    return got;
}

static bool ready_or_ended(rill__chan_t *ch)
{
    uint64_t h = rill__load(&ch->head, RILL_RELAXED);
    uint32_t off = (uint32_t)(h % RILL__UB_LAP);
    /* seq_cst: the receiver's half of the pair with the producer. */
    if (rill__load(&ch->head_block->ready[off], RILL_SEQ_CST))
        return true;
    if (!rill__chan_ending(ch))
        return false;
    return (rill__load(&ch->tail, RILL_ACQUIRE) & ~RILL__UB_MARK) == h;
}

static bool ended(rill__chan_t *ch)
{
    if (!rill__chan_ending(ch))
        return false;
    /* acquire: see rill__chan_ending. */
    uint64_t t = rill__load(&ch->tail, RILL_ACQUIRE) & ~RILL__UB_MARK;
    return t == rill__load(&ch->head, RILL_RELAXED);
}

static size_t pop_items(rill__chan_t *ch, char *out, size_t max)
{
    return pop(ch, out, max, false);
}

int rill__ub_recv(rill__chan_t *ch, rill__waiter_t *w, bool *reg, rill_cx_t *cx,
                  char *out, size_t max, size_t *done)
{
    return rill__buffered_recv(ch, w, reg, cx, out, max, done, pop_items, ended,
                               ready_or_ended);
}

void rill__ub_permit_publish(rill__chan_t *ch, rill__permit_t *p,
                             const void *item)
{
    rill__ublock_t *b = p->slot;
    uint32_t off = (uint32_t)(p->pos % RILL__UB_LAP);
    if (item)
        rill__item_copy(item_at(ch, b, off), item, ch->item_size);
    else
        rill__count(&ch->skipped, 1);
    /* seq_cst: as for a send. */
    rill__xchg(&b->ready[off], item ? 1 : 2, RILL_SEQ_CST);
    if (rill__load(&ch->rx_waiting, RILL_SEQ_CST))
        rill__chan_wake_rx(ch);
}

uint64_t rill__ub_count(uint64_t p)
{
    return count_of(p & ~RILL__UB_MARK);
}

void rill__ub_drain(rill__chan_t *ch)
{
    pop(ch, NULL, SIZE_MAX, true);
}

void rill__ub_fini(rill__chan_t *ch)
{
    rill__ub_drain(ch);
    for (rill__ublock_t *b = ch->head_block, *nb; b; b = nb) {
        nb = rill__load(&b->next, RILL_RELAXED); /* no one else is left */
        rill__free(b);
    }
    rill__free(rill__load(&ch->block_cache, RILL_RELAXED));
}
