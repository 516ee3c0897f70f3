/* SPDX-License-Identifier: MIT */
/*
 * queue.c - run queues: each worker's bounded lock-free local queue and
 * the runtime's inject queue.
 *
 * Local queue (after tokio's multi_thread/queue.rs): a ring of 256 task
 * pointers. The owner pushes at `tail` and pops at `head.real`; thieves
 * steal half of what is queued, in two steps:
 *   1. claim: CAS head from (s, r) with s == r to (s, r + n): the owner can
 *      no longer pop those n, and no other thief starts while s != r;
 *   2. copy the n tasks into their own ring, then CAS head to (r+n, r+n)
 *      (the owner may have popped meanwhile, so retry with fresh values).
 * The owner never overwrites a slot in [steal, tail): it treats the queue
 * as full when tail - steal == capacity, so a slow thief copying its claim
 * never sees its slots recycled. When full, the owner moves half of the
 * queue (plus the new task) to the inject queue in one batch.
 *
 * Inject queue: a mutex-protected singly linked list with a lock-free
 * length for "is there anything?" checks on the hot path. Workers take
 * from it in batches (rill__inject_swap: up to a fair share, len /
 * nworkers + 1, as Go's globrunqget sizes its batch), and put their
 * yielded tasks back in the same lock acquisition, so a worker cycling
 * through thousands of yielding tasks takes the lock about once per
 * batch instead of once per task.
 */
#include "rt_int.h"

static inline uint32_t head_steal(uint64_t h)
{
    return (uint32_t)(h >> 32);
}
static inline uint32_t head_real(uint64_t h)
{
    return (uint32_t)h;
}
static inline uint64_t head_pack(uint32_t steal, uint32_t real)
{
    return ((uint64_t)steal << 32) | real;
}

void rill__localq_init(rill__localq_t *q)
{
    rill__store(&q->head, 0, RILL_RELAXED);
    rill__store(&q->tail, 0, RILL_RELAXED);
    for (unsigned i = 0; i < RILL_LOCALQ_CAP; i++)
        rill__store(&q->buf[i], NULL, RILL_RELAXED);
}

uint32_t rill__localq_len(rill__localq_t *q)
{
    /* acquire: pairs with the releases in push/steal; a racy but
     * consistent-enough snapshot for heuristics and emptiness checks. */
    uint64_t h = rill__load(&q->head, RILL_ACQUIRE);
    uint32_t t = rill__load(&q->tail, RILL_ACQUIRE);
    return t - head_real(h);
}

uint32_t rill__localq_room(rill__localq_t *q)
{
    /* acquire: as rill__localq_push (a thief's claim still holds slots
     * from steal on). relaxed tail: only the owner, the caller, writes
     * it. */
    uint64_t h = rill__load(&q->head, RILL_ACQUIRE);
    uint32_t used = rill__load(&q->tail, RILL_RELAXED) - head_steal(h);
    return used >= RILL_LOCALQ_CAP ? 0 : RILL_LOCALQ_CAP - used;
}

bool rill__localq_is_empty(rill__localq_t *q)
{
    return rill__localq_len(q) == 0;
}

/* Owner, queue full and no steal in progress: move half to the inject
 * queue. Returns false if a thief changed head meanwhile (retry push). */
static bool push_overflow(rill__localq_t *q, struct rill_task *t, uint32_t head,
                          uint32_t tail, struct rill_runtime *rt)
{
    const uint32_t n = RILL_LOCALQ_CAP / 2;
    uint64_t prev = head_pack(head, head);
    /* Claim the oldest half. acq_rel: acquire pairs with thieves' release
     * of head; release publishes nothing new but keeps the CAS ordered. */
    if (!rill__cas(&q->head, &prev, head_pack(head + n, head + n), RILL_ACQ_REL,
                   RILL_RELAXED))
        return false;
    /* Link the claimed tasks (they are ours now) and t into a batch. */
    struct rill_task *first = NULL, *last = NULL;
    for (uint32_t i = 0; i < n; i++) {
        struct rill_task *x =
            rill__load(&q->buf[(head + i) & RILL_LOCALQ_MASK], RILL_RELAXED);
        if (last)
            last->next = x;
        else
            first = x;
        last = x;
    }
    last->next = t;
    last = t;
    t->next = NULL;
    RILL_UNUSED(tail);
    rill__inject_push_batch(rt, first, last, n + 1);
    return true;
}

void rill__localq_push(rill__localq_t *q, struct rill_task *t,
                       struct rill_runtime *rt)
{
    for (;;) {
        /* acquire: pairs with thieves' release of head so their claimed
         * slots are not reused before they finished copying. */
        uint64_t h = rill__load(&q->head, RILL_ACQUIRE);
        uint32_t steal = head_steal(h);
        /* relaxed: only the owner (us) writes tail. */
        uint32_t tail = rill__load(&q->tail, RILL_RELAXED);
        if (tail - steal < RILL_LOCALQ_CAP) {
            rill__store(&q->buf[tail & RILL_LOCALQ_MASK], t, RILL_RELAXED);
            /* release: the slot write (and the task's contents) happen
             * before a thief or pop that acquires tail. */
            rill__store(&q->tail, tail + 1, RILL_RELEASE);
            return;
        }
        if (steal != head_real(h)) {
            /* A thief is copying: it will free room soon; meanwhile the
             * task goes to the inject queue. */
            t->next = NULL;
            rill__inject_push(rt, t);
            return;
        }
        if (push_overflow(q, t, steal, tail, rt))
            return;
    }
}

struct rill_task *rill__localq_pop(rill__localq_t *q)
{
    /* acquire: pairs with thieves' release of head. */
    uint64_t h = rill__load(&q->head, RILL_ACQUIRE);
    for (;;) {
        uint32_t steal = head_steal(h), real = head_real(h);
        uint32_t tail = rill__load(&q->tail, RILL_RELAXED); /* owner */
        if (real == tail)
            return NULL;
        uint32_t next_real = real + 1;
        /* While no steal is in progress both halves move together. */
        uint64_t next = steal == real ? head_pack(next_real, next_real)
                                      : head_pack(steal, next_real);
        /* acq_rel: acquire pairs with a thief's release; release so a
         * thief that later claims sees our pop. */
        if (rill__cas(&q->head, &h, next, RILL_ACQ_REL, RILL_ACQUIRE))
            return rill__load(&q->buf[real & RILL_LOCALQ_MASK], RILL_RELAXED);
    }
}

/* Claim and copy about half of src into dst starting at dst_tail. Returns
 * how many were copied (0: nothing to steal, or another thief is busy). */
static uint32_t steal_into(rill__localq_t *src, rill__localq_t *dst,
                           uint32_t dst_tail, uint32_t min)
{
    /* acquire: pairs with the owner's release CAS in pop/overflow. */
    uint64_t prev = rill__load(&src->head, RILL_ACQUIRE);
    uint64_t next;
    uint32_t n;
    for (;;) {
        uint32_t steal = head_steal(prev), real = head_real(prev);
        if (steal != real)
            return 0; /* another thief is mid-steal */
        /* acquire: pairs with the owner's release of tail, so the slots
         * up to tail are visible. */
        uint32_t tail = rill__load(&src->tail, RILL_ACQUIRE);
        n = tail - real;
        if (n < min)
            return 0;
        n -= n / 2;
        if (n == 0)
            return 0;
        if (n > RILL_LOCALQ_CAP / 2)
            n = RILL_LOCALQ_CAP / 2;
        next = head_pack(steal, real + n);
        if (rill__cas(&src->head, &prev, next, RILL_ACQ_REL, RILL_ACQUIRE))
            break;
    }
    uint32_t first = head_steal(next);
    for (uint32_t i = 0; i < n; i++) {
        struct rill_task *t =
            rill__load(&src->buf[(first + i) & RILL_LOCALQ_MASK], RILL_RELAXED);
        rill__store(&dst->buf[(dst_tail + i) & RILL_LOCALQ_MASK], t,
                    RILL_RELAXED);
    }
    /* Finish: steal catches up with real (which the owner may have moved).
     * release: our reads of the slots happen before the owner reuses them
     * (it acquires head in push). */
    prev = next;
    for (;;) {
        uint32_t real = head_real(prev);
        uint64_t done = head_pack(real, real);
        if (rill__cas(&src->head, &prev, done, RILL_ACQ_REL, RILL_ACQUIRE))
            break;
    }
    return n;
}

struct rill_task *rill__localq_steal(rill__localq_t *src, rill__localq_t *dst,
                                     uint32_t min)
{
    uint32_t dst_tail = rill__load(&dst->tail, RILL_RELAXED); /* owner */
    /* Only steal into a queue with room for a whole half. */
    uint64_t dh = rill__load(&dst->head, RILL_ACQUIRE);
    if (dst_tail - head_steal(dh) > RILL_LOCALQ_CAP / 2)
        return NULL;
    uint32_t n = steal_into(src, dst, dst_tail, min);
    if (n == 0)
        return NULL;
    /* Run the last stolen task now; publish the rest. */
    n--;
    struct rill_task *ret =
        rill__load(&dst->buf[(dst_tail + n) & RILL_LOCALQ_MASK], RILL_RELAXED);
    if (n > 0)
        rill__store(&dst->tail, dst_tail + n, RILL_RELEASE); /* as push */
    return ret;
}

/* ---- inject queue ---- */

void rill__inject_push_batch(struct rill_runtime *rt, struct rill_task *first,
                             struct rill_task *last, size_t n)
{
    last->next = NULL;
    pthread_mutex_lock(&rt->inject_lock);
    if (rt->inject_tail)
        rt->inject_tail->next = first;
    else
        rt->inject_head = first;
    rt->inject_tail = last;
    /* relaxed: readers only use it as a hint and then take the lock. */
    rill__store(&rt->inject_len, rill__load(&rt->inject_len, RILL_RELAXED) + n,
                RILL_RELAXED);
    pthread_mutex_unlock(&rt->inject_lock);
}

void rill__inject_push(struct rill_runtime *rt, struct rill_task *t)
{
    rill__inject_push_batch(rt, t, t, 1);
}

struct rill_task *rill__inject_swap(struct rill_runtime *rt,
                                    struct rill_task *first,
                                    struct rill_task *last, size_t n,
                                    size_t max, size_t *taken)
{
    *taken = 0;
    if (n)
        last->next = NULL;
    pthread_mutex_lock(&rt->inject_lock);
    /* relaxed: every write of inject_len is under inject_lock, which we
     * hold; the lock-free readers only use it as a hint. */
    size_t len = rill__load(&rt->inject_len, RILL_RELAXED);
    if (n) {
        if (rt->inject_tail)
            rt->inject_tail->next = first;
        else
            rt->inject_head = first;
        rt->inject_tail = last;
        len += n;
    }
    size_t want = len / rt->nworkers + 1;
    if (want > max)
        want = max;
    struct rill_task *head = rt->inject_head, *t = head, *end = NULL;
    size_t k = 0;
    while (t && k < want) {
        end = t;
        t = t->next;
        k++;
    }
    if (k) {
        rt->inject_head = t;
        if (!t)
            rt->inject_tail = NULL;
        end->next = NULL;
    } else {
        head = NULL;
    }
    rill__store(&rt->inject_len, len - k, RILL_RELAXED);
    pthread_mutex_unlock(&rt->inject_lock);
    *taken = k;
    return head;
}
