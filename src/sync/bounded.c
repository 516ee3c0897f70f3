/* SPDX-License-Identifier: MIT */
/*
 * bounded.c - the bounded mpsc channel (capacity >= 1): a ring of slots
 * with a sequence number (stamp) per slot, in the style of Vyukov's bounded
 * queue, with laps instead of a power-of-two ring so that any capacity
 * works without a division on the hot path.
 *
 * Positions: mark = next_pow2(cap + 1), one_lap = 2 * mark. Position
 * p = lap * one_lap + index (index < cap); after index cap - 1 comes index
 * 0 of the next lap. A slot's stamp says what the slot holds:
 *
 *     stamp == p              free for the producer of position p
 *     stamp == p + 1          the item of position p
 *     stamp == (p + 1) | mark position p was skipped (a released permit)
 *
 * tail is the next position to produce (| mark once closed); producers
 * take positions by CAS on tail, write the item, then publish the stamp.
 * head is the next position to consume; only the receiver moves it. The
 * receiver frees a slot by stamping it with the position one lap later.
 *
 * Waiting (the slow path, under ch->lock):
 *   - the receiver waits on an empty ring: it queues a waiter, sets
 *     rx_waiting (seq_cst) and looks at the head slot again (seq_cst); a
 *     producer publishes its stamp (seq_cst) and then loads rx_waiting.
 *     Of the two, at least one sees the other (store-buffering with
 *     seq_cst on both sides), so no wakeup is lost. Receivers are
 *     wake-and-retry.
 *   - senders wait on a full ring the same way with tx_waiting. A freed
 *     slot goes to the first waiting sender (FIFO hand-off): the receiver,
 *     seeing tx_waiting, does not free the slot it just emptied but fills
 *     it with the waiter's item on the waiter's behalf, so a sender that
 *     arrives later cannot take it first. That is a hand-off: a waiter
 *     that belongs to a select is claimed first (sync_int.h).
 *
 * Hot path: a send is one CAS on tail, the copy, one xchg on the stamp and
 * one load of rx_waiting; a receive is one load of the stamp, the copy,
 * one load of tx_waiting, one xchg on the stamp and one more load of it.
 * No lock, no system call, no allocation while the other side does not
 * wait.
 */
#include "mpsc_int.h"

#include <string.h>

void rill__bnd_init(rill__chan_t *ch, char *slots)
{
    uint64_t mark = 1;
    while (mark <= ch->cap)
        mark <<= 1;
    ch->mark = mark;
    ch->one_lap = mark << 1;
    ch->lap_shift = (unsigned)__builtin_ctzll(ch->one_lap);
    ch->slots = slots;
    /* relaxed: the channel is not shared yet (its handles are returned
     * after this; whoever gets them is ordered by that hand-over). */
    for (size_t i = 0; i < ch->cap; i++) /* slot i: free for position i */
        rill__store((_Atomic uint64_t *)(void *)(ch->slots + i * ch->stride),
                    (uint64_t)i, RILL_RELAXED);
}

static inline char *slot_of(const rill__chan_t *ch, uint64_t p)
{
    return ch->slots + (size_t)(p & (ch->mark - 1)) * ch->stride;
}

static inline _Atomic uint64_t *stamp_of(char *slot)
{
    return (_Atomic uint64_t *)(void *)slot;
}

static inline char *item_of(char *slot)
{
    return slot + sizeof(uint64_t);
}

static inline uint64_t next_pos(const rill__chan_t *ch, uint64_t p)
{
    if ((p & (ch->mark - 1)) + 1 < ch->cap)
        return p + 1;
    return (p | (ch->one_lap - 1)) + 1; /* index 0 of the next lap */
}

/* The number of positions before p (p without the mark bit). */
static inline uint64_t pos_count(const rill__chan_t *ch, uint64_t p)
{
    return (p >> ch->lap_shift) * ch->cap + (p & (ch->mark - 1));
}

uint64_t rill__bnd_count(const rill__chan_t *ch, uint64_t p)
{
    return pos_count(ch, p & ~ch->mark);
}

char *rill__bnd_slot(const rill__chan_t *ch, uint64_t p)
{
    return slot_of(ch, p);
}

/*
 * Take up to k consecutive free positions. Returns how many (>= 1) with
 * the first in *first, or 0 with *err = RILL_EFULL or RILL_ECLOSED.
 * Always inlined, so rill__bnd_send1 gets a copy compiled with k == 1.
 */
static inline __attribute__((always_inline)) size_t
reserve(rill__chan_t *ch, size_t k, uint64_t *first, int *err)
{
    /* relaxed: tail only arbitrates between producers; the items travel
     * through the stamps (release/acquire below). */
    uint64_t t = rill__load(&ch->tail, RILL_RELAXED);
    for (;;) {
        if (t & ch->mark) {
            *err = RILL_ECLOSED;
            return 0;
        }
        /* acquire: pairs with the receiver's release that freed the slot,
         * so our writes into it come after its reads. seq_cst: a waiting
         * sender's re-read (rill__bnd_send, after tx_waiting) is the load
         * of the store-buffering pair with pop's free and its load of
         * tx_waiting; an acquire load there could still see the slot full
         * while pop saw no waiter (tests/model, send_parks). A seq_cst
         * load is the same instruction as an acquire load on x86-64 and
         * aarch64 (mov, ldar). */
        uint64_t s = rill__load(stamp_of(slot_of(ch, t)), RILL_SEQ_CST);
        if (s == t) {
            size_t got = 1;
            uint64_t end = next_pos(ch, t);
            while (got < k && rill__load(stamp_of(slot_of(ch, end)),
                                         RILL_ACQUIRE) == end) {
                got++;
                end = next_pos(ch, end);
            }
            if (rill__cas_weak(&ch->tail, &t, end, RILL_RELAXED,
                               RILL_RELAXED)) {
                *first = t;
                return got;
            }
        } else if ((int64_t)(s - t) < 0) {
            /* The slot still holds (or is being given) the item of the
             * previous lap: full. */
            *err = RILL_EFULL;
            return 0;
        } else {
            t = rill__load(&ch->tail, RILL_RELAXED); /* another producer won */
        }
    }
}

/* Write n items into the positions from p on, publishing each with
 * release (the caller orders the last one against rx_waiting). */
static void write_items(rill__chan_t *ch, uint64_t p, const char *items,
                        size_t n)
{
    size_t isz = ch->item_size;
    for (size_t i = 0; i < n; i++) {
        char *s = slot_of(ch, p);
        rill__item_copy(item_of(s), items + i * isz, isz);
        /* release: pairs with the receiver's acquire of the stamp. */
        rill__store(stamp_of(s), p + 1, RILL_RELEASE);
        p = next_pos(ch, p);
    }
}

/* Publish n items from position p and wake the receiver if it waits.
 * Always inlined, as reserve. */
static inline __attribute__((always_inline)) void
publish(rill__chan_t *ch, uint64_t p, const char *items, size_t n)
{
    if (n == 1) {
        char *s = slot_of(ch, p);
        rill__item_copy(item_of(s), items, ch->item_size);
        /* seq_cst: store-buffering pair with the receiver, which sets
         * rx_waiting (seq_cst) and then re-reads this stamp (seq_cst). The
         * release half pairs with its acquire of the stamp. */
        rill__xchg(stamp_of(s), p + 1, RILL_SEQ_CST);
    } else {
        write_items(ch, p, items, n);
        /* The same pair through a fence, for every stamp written above. */
        rill__fence(RILL_SEQ_CST);
    }
    if (RILL_UNLIKELY(rill__load(&ch->rx_waiting, RILL_SEQ_CST)))
        rill__chan_wake_rx(ch);
}

int rill__bnd_send1(rill__chan_t *ch, const void *item)
{
    /* reserve() and publish() with k == n == 1: their loops over k items
     * fold away (the try path of every single-item send). */
    uint64_t first;
    int err;
    if (!reserve(ch, 1, &first, &err))
        return err;
    publish(ch, first, item, 1);
    return 0;
}

/* Lock held: a waiter completed by its own operation (not woken). */
static void finish_self(rill__waiter_t *w)
{
    rill__list_remove(&w->link);
    rill_waker_release(&w->waker);
    rill__store(&w->status, 0, RILL_RELEASE); /* read by this same thread */
}

/*
 * Lock held. Give free slots to the waiting senders, first come first
 * served, until they or the slots run out. `me` is the caller's own waiter
 * (completed without a claim: its operation is the one running) and
 * `self` the claim word it polls under (its select's other waiters are
 * skipped, never claimed).
 */
static void dispatch(rill__chan_t *ch, rill__waiter_t *me,
                     _Atomic uintptr_t *self, rill__wakelist_t *wl)
{
    bool published = false;
    rill__list_t *it = ch->txq.next;
    while (it != &ch->txq) {
        rill__waiter_t *w = RILL_CONTAINER_OF(it, rill__waiter_t, link);
        rill__list_t *next = it->next;
        int r = w == me ? RILL__TAKE_OK : rill__waiter_take(w, self, true);
        if (r == RILL__TAKE_SKIP) {
            it = next;
            continue;
        }
        if (r == RILL__TAKE_GONE) {
            rill__waiter_drop(w);
            it = next;
            continue;
        }
        uint64_t first;
        int err;
        size_t k = reserve(ch, w->buf ? w->max : 1, &first, &err);
        if (!k) {
            if (w != me)
                rill__waiter_unhold(w, wl);
            break;
        }
        if (w->buf) {
            write_items(ch, first, w->buf, k);
            w->done = k;
            published = true;
        } else {
            w->done = first; /* a reservation: the permit's position */
        }
        if (w == me)
            finish_self(w);
        else
            rill__waiter_finish(w, 0, wl);
        it = next;
    }
    if (rill__list_empty(&ch->txq))
        rill__store(&ch->tx_waiting, 0, RILL_RELAXED); /* lock orders it */
    if (published) {
        /* seq_cst fence: the store-buffering pair with a receiver that
         * sets rx_waiting and re-reads the stamps (see publish). */
        rill__fence(RILL_SEQ_CST);
        if (rill__load(&ch->rx_waiting, RILL_RELAXED))
            rill__chan_wake_rx_locked(ch, wl);
    }
}

/*
 * The receiver emptied slot s (position h) and saw senders waiting: fill
 * the slot for the first of them instead of freeing it, if the ring is
 * full and this slot is next (then no producer can take it meanwhile);
 * otherwise free it and hand out free slots in order.
 */
static void handoff(rill__chan_t *ch, char *s, uint64_t h)
{
    rill__wakelist_t wl;
    rill__wakelist_init(&wl);
    uint64_t np = h + ch->one_lap; /* this slot's position in the next lap */
    bool placed = false;
    rill__lock(&ch->lock);
    /* relaxed: while this slot is not free, only close (the mark bit) can
     * move tail away from np; the CAS below settles that race. */
    uint64_t t = rill__load(&ch->tail, RILL_RELAXED);
    while (t == np && !rill__list_empty(&ch->txq)) {
        rill__waiter_t *w =
            RILL_CONTAINER_OF(ch->txq.next, rill__waiter_t, link);
        if (rill__waiter_take(w, NULL, true) != RILL__TAKE_OK) {
            rill__waiter_drop(w);
            continue;
        }
        if (!rill__cas(&ch->tail, &t, next_pos(ch, np), RILL_RELAXED,
                       RILL_RELAXED)) {
            rill__waiter_unhold(w, &wl); /* closed meanwhile */
            break;
        }
        if (w->buf) {
            rill__item_copy(item_of(s), w->buf, ch->item_size);
            w->done = 1;
            /* release: the item, for the receiver's acquire next lap. */
            rill__store(stamp_of(s), np + 1, RILL_RELEASE);
        } else {
            w->done = np; /* a reservation: the slot is the permit's */
            rill__store(stamp_of(s), np, RILL_RELEASE);
        }
        rill__waiter_finish(w, 0, &wl);
        placed = true;
        break;
    }
    if (placed) {
        if (rill__list_empty(&ch->txq))
            rill__store(&ch->tx_waiting, 0, RILL_RELAXED);
    } else {
        /* release: pairs with a producer's acquire of the stamp. */
        rill__store(stamp_of(s), np, RILL_RELEASE);
        dispatch(ch, NULL, NULL, &wl);
    }
    rill__unlock(&ch->lock);
    rill__wakelist_flush(&wl);
}

/* Take up to max items; frees (or hands off) their slots. */
static size_t pop(rill__chan_t *ch, char *out, size_t max)
{
    size_t isz = ch->item_size, got = 0, freed = 0, skips = 0;
    /* relaxed: head is written by this thread only. */
    uint64_t h = rill__load(&ch->head, RILL_RELAXED);
    _Atomic uint64_t *pending = NULL; /* a freed slot not yet stamped */
    uint64_t pending_val = 0;
    while (got < max) {
        char *s = slot_of(ch, h);
        /* acquire: pairs with the producer's publish of the stamp. */
        uint64_t st = rill__load(stamp_of(s), RILL_ACQUIRE);
        if (st == h + 1) {
            rill__item_copy(out + got * isz, item_of(s), isz);
            got++;
        } else if (st == ((h + 1) | ch->mark)) {
            skips++; /* a released permit: nothing to take */
        } else {
            break;
        }
        /* relaxed: only a hint; the seq_cst check after freeing (or the
         * lock in handoff) is what orders us with a sender that waits. */
        if (RILL_UNLIKELY(rill__load(&ch->tx_waiting, RILL_RELAXED))) {
            if (pending) { /* free it first: handoff may give it out */
                rill__store(pending, pending_val, RILL_RELEASE);
                pending = NULL;
                freed = 0;
            }
            handoff(ch, s, h);
        } else {
            if (pending) /* release: pairs with the producer's acquire */
                rill__store(pending, pending_val, RILL_RELEASE);
            pending = stamp_of(s);
            pending_val = h + ch->one_lap;
            freed++;
        }
        h = next_pos(ch, h);
    }
    rill__store(&ch->head, h, RILL_RELAXED); /* for len/stats readers */
    if (skips)
        rill__count(&ch->rx_skipped, skips);
    if (pending) {
        /* seq_cst: the store-buffering pair with a sender that sets
         * tx_waiting (seq_cst) and then re-reads the stamp at tail. */
        if (freed == 1) {
            rill__xchg(pending, pending_val, RILL_SEQ_CST);
        } else {
            rill__store(pending, pending_val, RILL_RELEASE);
            rill__fence(RILL_SEQ_CST);
        }
        if (RILL_UNLIKELY(rill__load(&ch->tx_waiting, RILL_SEQ_CST))) {
            rill__wakelist_t wl;
            rill__wakelist_init(&wl);
            rill__lock(&ch->lock);
            dispatch(ch, NULL, NULL, &wl);
            rill__unlock(&ch->lock);
            rill__wakelist_flush(&wl);
        }
    }
    if (got && (ch->sample += (uint32_t)got) >= 64) {
        /* Sample the fill level now and then: reading tail costs a cache
         * miss, not worth paying per item. Full rings are recorded
         * exactly by the senders that wait. */
        ch->sample = 0;
        uint64_t t = rill__load(&ch->tail, RILL_RELAXED) & ~ch->mark;
        rill__count_max(&ch->hwm, pos_count(ch, t) - pos_count(ch, h) + got);
    }
    return got;
}

/* The head slot has something (seq_cst: the receiver's side of the pair
 * in publish), or the channel has ended. */
static bool ready_or_ended(rill__chan_t *ch)
{
    uint64_t h = rill__load(&ch->head, RILL_RELAXED);
    uint64_t st = rill__load(stamp_of(slot_of(ch, h)), RILL_SEQ_CST);
    if (st == h + 1 || st == ((h + 1) | ch->mark))
        return true;
    if (!rill__chan_ending(ch))
        return false;
    /* acquire: after the end was seen (rill__chan_ending), every position
     * taken before it is in tail. */
    return (rill__load(&ch->tail, RILL_ACQUIRE) & ~ch->mark) == h;
}

static bool ended(rill__chan_t *ch)
{
    if (!rill__chan_ending(ch))
        return false;
    uint64_t t = rill__load(&ch->tail, RILL_ACQUIRE) & ~ch->mark;
    return t == rill__load(&ch->head, RILL_RELAXED);
}

int rill__bnd_send(rill__chan_t *ch, rill__op_t *op, rill_cx_t *cx,
                   const char *items, size_t n, size_t *done, void **slot)
{
    uint64_t first;
    int err = 0;
    if (!op || !op->registered) {
        size_t k = reserve(ch, items ? n : 1, &first, &err);
        if (RILL_LIKELY(k)) {
            if (items) {
                publish(ch, first, items, k);
                *done = k;
            } else {
                *done = first;
                *slot = slot_of(ch, first);
            }
            return 0;
        }
        if (err == RILL_ECLOSED || !op)
            return err;
    }

    /* Slow path: queue up, then look at the ring again (the other half of
     * the store-buffering pair with the receiver's free in pop). */
    rill__wakelist_t wl;
    rill__wakelist_init(&wl);
    rill__waiter_t *w = &op->w;
    rill__lock(&ch->lock);
    int s = rill__waiter_status(w);
    if (s == RILL_PENDING && rill__load(&ch->closed, RILL_RELAXED)) {
        if (rill__waiter_linked(w)) {
            rill__list_remove(&w->link);
            rill_waker_release(&w->waker);
        }
        s = RILL_ECLOSED;
    }
    if (s == RILL_PENDING) {
        if (rill__waiter_park(&ch->txq, w, cx)) {
            op->registered = true;
            rill__count(&ch->waits_full, 1);
            rill__count_max(&ch->hwm, ch->cap);
        }
        rill__xchg(&ch->tx_waiting, 1, RILL_SEQ_CST);
        /* seq_cst fence: the pair with pop's batch free (release stores,
         * a seq_cst fence, then tx_waiting) is fence against fence, the
         * form that needs no reasoning about mixed seq_cst operations and
         * fences (and the one the model checker verifies). Slow path. */
        rill__fence(RILL_SEQ_CST);
        dispatch(ch, w, rill__cx_claim(cx), &wl);
        s = rill__load(&w->status, RILL_RELAXED); /* set by us, if at all */
    }
    rill__unlock(&ch->lock);
    rill__wakelist_flush(&wl);
    if (s == 0) {
        *done = w->done;
        if (!items)
            *slot = slot_of(ch, w->done);
    }
    return s;
}

int rill__bnd_recv(rill__chan_t *ch, rill__waiter_t *w, bool *reg,
                   rill_cx_t *cx, char *out, size_t max, size_t *done)
{
    return rill__buffered_recv(ch, w, reg, cx, out, max, done, pop, ended,
                               ready_or_ended);
}

void rill__bnd_permit_publish(rill__chan_t *ch, rill__permit_t *p,
                              const void *item)
{
    char *s = p->slot;
    if (item) {
        rill__item_copy(item_of(s), item, ch->item_size);
        /* seq_cst: as in publish. */
        rill__xchg(stamp_of(s), p->pos + 1, RILL_SEQ_CST);
    } else {
        rill__count(&ch->skipped, 1);
        rill__xchg(stamp_of(s), (p->pos + 1) | ch->mark, RILL_SEQ_CST);
    }
    if (rill__load(&ch->rx_waiting, RILL_SEQ_CST))
        rill__chan_wake_rx(ch);
}

void rill__bnd_drain(rill__chan_t *ch)
{
    uint64_t h = rill__load(&ch->head, RILL_RELAXED);
    for (;;) {
        char *s = slot_of(ch, h);
        /* acquire: pairs with the producer's publish. */
        uint64_t st = rill__load(stamp_of(s), RILL_ACQUIRE);
        if (st == h + 1)
            rill__chan_discard(ch, item_of(s));
        else if (st == ((h + 1) | ch->mark))
            rill__count(&ch->rx_skipped, 1);
        else
            break;
        /* release: a producer that reserved before the close may still
         * be writing elsewhere; freed slots stay consistent for it. */
        rill__store(stamp_of(s), h + ch->one_lap, RILL_RELEASE);
        h = next_pos(ch, h);
    }
    rill__store(&ch->head, h, RILL_RELAXED);
}
