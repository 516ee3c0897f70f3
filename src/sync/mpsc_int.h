/* SPDX-License-Identifier: MIT */
/*
 * mpsc_int.h - the mpsc channel object shared by mpsc.c (creation,
 * handles), mpsc_ops.c (the public operations and futures), mpsc_wait.c
 * (the receiver's waiting) and the three kinds: bounded.c (ring),
 * rendezvous.c (capacity 0) and unbounded.c (linked blocks). Private to
 * src/sync.
 *
 * Who touches what (the struct below groups fields by writer so that the
 * hot fields of producers and of the consumer sit on different cache
 * lines):
 *   - creation-time fields: immutable, read by everyone;
 *   - tail (+ tail_block): producers, by CAS; the receiver reads it;
 *   - head (+ head_block): the receiver only (atomic so that len/stats can
 *     read it from other threads);
 *   - rx_waiting / tx_waiting: the "does the other side wait?" flags,
 *     each read on every send / receive with one load;
 *   - everything after `lock`: the slow path, under the lock unless the
 *     field is atomic.
 */
#ifndef RILL_SYNC_MPSC_INT_H
#define RILL_SYNC_MPSC_INT_H

#include "rill/sync.h"
#include "sync_int.h"

#include <string.h>

enum { RILL__BOUNDED = 1, RILL__RENDEZVOUS = 2, RILL__UNBOUNDED = 3 };

/* Unbounded: items per block, and index units per block (one more: the
 * unit "the next block is being installed"). */
#define RILL__UB_CAP 31u
#define RILL__UB_LAP 32u
/* Unbounded: the closed bit in tail (bounded uses ch->mark). */
#define RILL__UB_MARK (UINT64_C(1) << 63)

typedef struct rill__chan rill__chan_t;

/* Unbounded: a block of RILL__UB_CAP items. ready[i]: 0 empty, 1 item,
 * 2 skipped (a released permit). Written by the producer of slot i with
 * release, read by the receiver with acquire. */
typedef struct rill__ublock {
    _Atomic(struct rill__ublock *) next; /* set by the installer */
    _Atomic uint32_t ready[RILL__UB_CAP];
    _Alignas(16) char items[]; /* RILL__UB_CAP * item_size */
} rill__ublock_t;

struct rill_sender {
    _Atomic uint32_t state;   /* RILL__HANDLE_LIVE / _DEAD */
    rill__chan_t *ch;         /* immutable */
    struct rill_sender *next; /* on ch->dead once released; ch->lock */
};

struct rill_receiver {
    _Atomic uint32_t state;
    rill__chan_t *ch;
    /* rill_poll_recv's registration (the consumer's only; no op storage
     * exists for it). pw_reg: it may be queued (consumer only). */
    rill__waiter_t pw;
    bool pw_reg;
    /* Rendezvous: a sender hands the item for pw here, because the
     * caller's `out` of a later poll need not be the same buffer. */
    char *stash;
};

struct rill__chan {
    /* ---- immutable after creation ---- */
    uint8_t kind;
    size_t item_size;
    size_t cap; /* as given; RILL_UNBOUNDED for unbounded */
    /* bounded ring (see bounded.c for the position encoding) */
    size_t stride;    /* bytes per slot: 8 (stamp) + item, rounded up */
    uint64_t mark;    /* the closed bit in tail, the skip bit in a stamp */
    uint64_t one_lap; /* position distance of one lap around the ring */
    unsigned lap_shift;
    char *slots;
    rill_item_dtor_fn dtor;
    void *item_dtor_ud;
    void *mem; /* the allocation this struct lives in */
    char name[32];

    /* ---- producers ---- */
    RILL_ALIGN_CL _Atomic uint64_t tail;
    _Atomic(rill__ublock_t *) tail_block;

    /* ---- the receiver ---- */
    RILL_ALIGN_CL _Atomic uint64_t head; /* written by the receiver only */
    rill__ublock_t *head_block;
    uint32_t sample;  /* receives until the next high-water sample */
    size_t trim_debt; /* unbounded: bytes of blocks freed since a trim */

    /* ---- "the other side waits" flags (1 while its queue is non-empty;
     * set by the waiter with seq_cst, cleared under the lock) ---- */
    RILL_ALIGN_CL _Atomic uint32_t rx_waiting;
    RILL_ALIGN_CL _Atomic uint32_t tx_waiting;

    /* ---- slow path ---- */
    RILL_ALIGN_CL rill__lock_t lock;
    rill__list_t txq;         /* lock: waiting senders/reservers, FIFO */
    rill__list_t rxq;         /* lock: waiting receive operations */
    _Atomic uint32_t closed;  /* set once by close (receiver side) */
    _Atomic uint32_t senders; /* live sender handles */
    _Atomic uint32_t refs;    /* senders + receiver alive + permits */
    _Atomic uint64_t waits_full, waits_empty, hwm, discarded;
    _Atomic uint64_t skipped;    /* released permits (positions skipped) */
    _Atomic uint64_t rx_skipped; /* of those, passed by the receiver */
    _Atomic uint64_t rdv_sent;   /* rendezvous: hand-offs (lock) */
    _Atomic(rill__ublock_t *) block_cache; /* unbounded: one spare block */
    struct rill_sender *dead; /* lock: released clones, freed with ch */
    struct rill_receiver rx;
    struct rill_sender tx0;
};

/*
 * The internal layout of rill_send_op_t / rill_recv_op_t /
 * rill_reserve_op_t (checked against the public size in mpsc_ops.c).
 */
typedef struct rill__op {
    rill_future_t base;
    rill__waiter_t w; /* buf/max: the items / out buffer */
    rill__chan_t *ch;
    size_t *count_out;     /* _many ops: where the count goes */
    rill_permit_t *permit; /* reserve ops */
    int early;             /* nonzero: the status of the first poll */
    bool registered;       /* owner only: w may be queued */
} rill__op_t;

/* The internal layout of rill_permit_t. */
typedef struct rill__permit {
    rill__chan_t *ch; /* NULL once used or released */
    void *slot;       /* bounded: the slot; unbounded: the block */
    uint64_t pos;     /* the reserved position */
    uintptr_t magic;  /* RILL__PERMIT_LIVE while valid */
} rill__permit_t;

#define RILL__PERMIT_LIVE ((uintptr_t)0x5045524du) /* "PERM" */

/*
 * The kinds' entry points. Send: op NULL is the try form (never
 * registers). items NULL is a reservation of one position (*done gets the
 * position, *slot the slot or block). Returns 0 (*done items moved),
 * RILL_EFULL (try only), RILL_ECLOSED, RILL_ENOMEM, or RILL_PENDING (op's
 * waiter queued with cx's waker).
 *
 * Receive: w NULL is the try form. *reg tracks whether w may be queued.
 * Returns 0 (*done >= 1 items in out), RILL_EEMPTY (try only), RILL_DONE,
 * or RILL_PENDING.
 */
/* The non-waiting send of one item: 0, RILL_EFULL or RILL_ECLOSED. */
int rill__bnd_send1(rill__chan_t *ch, const void *item);
int rill__bnd_send(rill__chan_t *ch, rill__op_t *op, rill_cx_t *cx,
                   const char *items, size_t n, size_t *done, void **slot);
int rill__bnd_recv(rill__chan_t *ch, rill__waiter_t *w, bool *reg,
                   rill_cx_t *cx, char *out, size_t max, size_t *done);
/* Items before position p of the ring (p may carry the mark bit). */
uint64_t rill__bnd_count(const rill__chan_t *ch, uint64_t p);
/* The slot of ring position p. */
char *rill__bnd_slot(const rill__chan_t *ch, uint64_t p);
void rill__bnd_permit_publish(rill__chan_t *ch, rill__permit_t *p,
                              const void *item);
/* Discard what is left: receiver gone (ready items) or channel freed
 * (every item: nothing is in flight any more). */
void rill__bnd_drain(rill__chan_t *ch);

int rill__rdv_send(rill__chan_t *ch, rill__op_t *op, rill_cx_t *cx,
                   const char *items, size_t n, size_t *done);
int rill__rdv_recv(rill__chan_t *ch, rill__waiter_t *w, bool *reg,
                   rill_cx_t *cx, char *out, size_t max, size_t *done);

int rill__ub_init(rill__chan_t *ch);
/* The send of one item: 0, RILL_ECLOSED or RILL_ENOMEM. */
int rill__ub_send1(rill__chan_t *ch, const void *item);
int rill__ub_send(rill__chan_t *ch, const char *items, size_t n, size_t *done,
                  void **slot);
int rill__ub_recv(rill__chan_t *ch, rill__waiter_t *w, bool *reg, rill_cx_t *cx,
                  char *out, size_t max, size_t *done);
void rill__ub_permit_publish(rill__chan_t *ch, rill__permit_t *p,
                             const void *item);
void rill__ub_drain(rill__chan_t *ch);
/* Items before position p of the block list (p may carry the mark). */
uint64_t rill__ub_count(uint64_t p);
void rill__ub_fini(rill__chan_t *ch);

/* The bounded ring over cap slots at `slots` (bounded.c): positions,
 * laps, every slot free for its first position. */
void rill__bnd_init(rill__chan_t *ch, char *slots);

/* ---- the channel object (mpsc.c), for mpsc_ops.c ---- */

/* Drop one reference; the last frees the channel. */
void rill__chan_unref(rill__chan_t *ch);
/* The counters of rill_sender_stats / rill_receiver_stats. */
void rill__chan_fill_stats(const rill__chan_t *ch, rill_channel_stats_t *st);
/* "bounded", "rendezvous" or "unbounded". */
const char *rill__chan_kind_name(const rill__chan_t *ch);

/* ---- shared by the kinds (mpsc_wait.c) ---- */

/* The end test: closed or no senders, and nothing left before tail. */
static inline bool rill__chan_ending(rill__chan_t *ch)
{
    /* acquire: pairs with the acq_rel decrement of the last sender
     * release (and with close), so the tail loaded after it includes
     * every send that sender made. */
    return rill__load(&ch->senders, RILL_ACQUIRE) == 0 ||
           rill__load(&ch->closed, RILL_ACQUIRE) != 0;
}

/* Give an item to the destructor and count it. */
static inline void rill__chan_discard(rill__chan_t *ch, void *item)
{
    if (ch->dtor)
        ch->dtor(item, ch->item_dtor_ud);
    rill__count(&ch->discarded, 1);
}

/*
 * Lock held. Wake the receive waiters after items were published (the
 * buffered kinds: wake-and-retry) and clear rx_waiting.
 */
void rill__chan_wake_rx_locked(rill__chan_t *ch, rill__wakelist_t *wl);

/* A producer saw rx_waiting set after publishing: wake the receiver. */
void rill__chan_wake_rx(rill__chan_t *ch);

/*
 * Receive side, lock held: w is no longer needed (the operation completed
 * on its own); unlink it if still queued.
 */
void rill__chan_unpark_rx_locked(rill__chan_t *ch, rill__waiter_t *w);
/* The same, taking the lock, when *reg says w may be queued. */
void rill__chan_unpark_rx(rill__chan_t *ch, rill__waiter_t *w, bool *reg);

/* The receive wait of the buffered kinds: queue w, set rx_waiting, and
 * return whether `ready` (re-checked after the flag) says to retry. */
bool rill__chan_park_rx(rill__chan_t *ch, rill__waiter_t *w, bool *reg,
                        rill_cx_t *cx, bool (*ready)(rill__chan_t *));

/*
 * The receive of the buffered kinds (bounded, unbounded), given the kind's
 * pop (take up to max items), ended (closed or senderless, and drained)
 * and ready_or_ended (the seq_cst re-check after rx_waiting is set).
 * Inline so that each kind's calls are direct.
 */
static inline int rill__buffered_recv(
    rill__chan_t *ch, rill__waiter_t *w, bool *reg, rill_cx_t *cx, char *out,
    size_t max, size_t *done, size_t (*pop)(rill__chan_t *, char *, size_t),
    bool (*ended)(rill__chan_t *), bool (*ready_or_ended)(rill__chan_t *))
{
    for (;;) {
        size_t k = pop(ch, out, max);
        if (RILL_LIKELY(k)) {
            if (RILL_UNLIKELY(*reg))
                rill__chan_unpark_rx(ch, w, reg);
            *done = k;
            return 0;
        }
        if (ended(ch)) {
            if (*reg)
                rill__chan_unpark_rx(ch, w, reg);
            return RILL_DONE;
        }
        if (!w)
            return RILL_EEMPTY;
        if (!rill__chan_park_rx(ch, w, reg, cx, ready_or_ended))
            return RILL_PENDING;
    }
}

#endif /* RILL_SYNC_MPSC_INT_H */
