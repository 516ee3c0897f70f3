/* SPDX-License-Identifier: MIT */
/*
 * receiver.c - rill_receiver_into_stream: an mpsc receiver (bounded,
 * rendezvous or unbounded) as a stream. poll_next reads ahead (below),
 * the batch path is rill_poll_recv_many (one synchronisation per batch),
 * drop releases the receiver (senders then fail with RILL_ECLOSED;
 * buffered and read-ahead items go to the channel's destructor), and the
 * stream's items get the channel's destructor.
 */
#include "stream_int.h"
#include "rt/rt.h"
#include "sync/sync.h"

/*
 * Read-ahead: a poll for one item takes up to `room` ready items from the
 * channel in one rill_poll_recv_many (one synchronisation, one set of
 * checks) and gives the rest from `ahead` on the next polls, which cost a
 * copy and a budget unit. room is small next to the capacity (see
 * ahead_room), so a producer never finds much more buffer than it asked
 * for; rendezvous and tiny channels read no ahead at all (room 1).
 */
enum {
    AHEAD_ITEMS = 64,   /* at most this many items read ahead */
    AHEAD_BYTES = 4096, /* and at most this many bytes */
    AHEAD_CAP_SHARE = 8 /* and at most 1/8 of a bounded capacity */
};

typedef struct receiver_stream {
    rill_stream_t base;
    rill_receiver_t *rx;
    size_t room;      /* items `ahead` holds; 1 = no read-ahead */
    size_t head, len; /* ahead[head .. head + len) are not yet given */
    char *ahead;      /* room * item_size bytes, NULL when room is 1 */
} receiver_stream_t;

static size_t ahead_room(size_t capacity, size_t item_size)
{
    size_t room = AHEAD_ITEMS;
    if (capacity != RILL_UNBOUNDED && capacity / AHEAD_CAP_SHARE < room)
        room = capacity / AHEAD_CAP_SHARE;
    if (AHEAD_BYTES / item_size < room)
        room = AHEAD_BYTES / item_size;
    return room < 2 ? 1 : room;
}

/* Give up to max read-ahead items; returns how many. */
static size_t give_ahead(receiver_stream_t *rs, void *out, size_t max)
{
    size_t k = rs->len < max ? rs->len : max, isz = rs->base.item_size;
    memcpy(out, rs->ahead + rs->head * isz, k * isz);
    rs->head += k;
    rs->len -= k;
    return k;
}

bool rill__receiver_stream_take(rill_stream_t *s, void *out)
{
    receiver_stream_t *rs = (receiver_stream_t *)s;
    if (!rs->len || !rill__coop_spend())
        return false;
    rill__item_copy(out, rs->ahead + rs->head * s->item_size, s->item_size);
    rs->head++;
    rs->len--;
    return true;
}

static int receiver_poll_next(rill_stream_t *s, rill_cx_t *cx, void *out)
{
    receiver_stream_t *rs = (receiver_stream_t *)s;
    if (rs->room == 1)
        return rill_poll_recv(rs->rx, cx, out, s->item_size);
    if (rs->len) {
        if (!rill__cx_ready(cx))
            return RILL_PENDING;
        give_ahead(rs, out, 1);
        return 0;
    }
    size_t n;
    int r =
        rill_poll_recv_many(rs->rx, cx, rs->ahead, rs->room, &n, s->item_size);
    if (r == 0) {
        rs->head = 0;
        rs->len = n;
        give_ahead(rs, out, 1);
    }
    return r;
}

static int receiver_poll_next_many(rill_stream_t *s, rill_cx_t *cx, void *out,
                                   size_t max, size_t *n)
{
    receiver_stream_t *rs = (receiver_stream_t *)s;
    if (rs->len) {
        if (!rill__cx_ready(cx))
            return RILL_PENDING;
        *n = give_ahead(rs, out, max);
        return 0;
    }
    return rill_poll_recv_many(rs->rx, cx, out, max, n, s->item_size);
}

static void receiver_drop(rill_stream_t *s)
{
    receiver_stream_t *rs = (receiver_stream_t *)s;
    rill__item_drop_t d = rill__item_drop_of(s);
    rill__items_drop(&d, rs->ahead + rs->head * s->item_size, rs->len,
                     s->item_size);
    rill_receiver_release(rs->rx);
    rill__free(rs->ahead);
    rill__free(s);
}

static const rill_stream_vtable_t receiver_vtable = {
    receiver_poll_next, receiver_poll_next_many, receiver_drop};

bool rill__is_receiver_stream(const rill_stream_t *s)
{
    return s->vtable == &receiver_vtable;
}

int rill_receiver_into_stream(rill_receiver_t *rx, rill_stream_t **out)
{
    if (!rx || !out || rill_receiver_item_size(rx) == 0)
        return RILL_MISUSE("rill_receiver_into_stream",
                           "NULL or released receiver, or NULL out");
    receiver_stream_t *rs = rill__stream_new(sizeof *rs, &receiver_vtable,
                                             rill_receiver_item_size(rx));
    if (!rs)
        return RILL_ENOMEM;
    size_t isz = rill_receiver_item_size(rx);
    rs->room = ahead_room(rill_receiver_capacity(rx), isz);
    if (rs->room > 1 && !(rs->ahead = rill__malloc(rs->room * isz))) {
        rill__free(rs);
        return RILL_ENOMEM;
    }
    rill__receiver_item_dtor(rx, &rs->base.item_dtor, &rs->base.item_dtor_ud);
    rs->rx = rx;
    *out = &rs->base;
    return 0;
}
