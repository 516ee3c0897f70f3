/* SPDX-License-Identifier: MIT */
/*
 * fuzz_broadcast.c - a broadcast channel against a reference model: both
 * policies, capacity 1..8 from the input, up to three senders (clone,
 * release, close) and four receivers (subscribe, release), try / plain /
 * timeout sends and receives, send and receive futures polled by hand
 * and withdrawn, the batch receive, len, receiver count and counters.
 *
 * Model (rill/broadcast.h): item i is the i-th item sent; each receiver
 * stands at the next index it will read (a new one at the current end).
 * Lag mode keeps the last `capacity` items: a receiver further behind
 * gets RILL_ELAGGED with exactly the number it missed and moves to the
 * oldest kept. Backpressure mode refuses a send (RILL_EFULL, or waits)
 * while the slowest receiver is capacity items behind. Sending with no
 * receiver, or after close / the last sender's release, is RILL_ECLOSED;
 * a receiver ends (RILL_DONE) once closed and everything read. All waits
 * are wake-and-retry: a future polled again re-tries, withdrawn it
 * leaves no trace.
 */
#include "fuzz.h"

enum { MAXTX = 3, MAXRX = 4, MAXB = 8, MAXITEMS = 1 << 14 };

static struct {
    int mode;
    uint64_t cap, tail, missed_total;
    uint64_t items[MAXITEMS];
    rill_broadcast_sender_t *tx[MAXTX];
    int ntx;
    rill_broadcast_receiver_t *rx[MAXRX];
    uint64_t pos[MAXRX];
    int nrx;
    bool closed;
    bool sop_live, rop_live[MAXRX];
    int sop_tx;
    uint64_t sop_item;
    rill_broadcast_send_op_t sop;
    rill_broadcast_recv_op_t rop[MAXRX];
    uint64_t rop_out[MAXRX];
    uint64_t rop_missed[MAXRX];
} M;

static int pick(fz_in_t *in, void *const *h, int n)
{
    unsigned s = fz_pick(in, (unsigned)n);
    for (int k = 0; k < n; k++)
        if (h[(s + (unsigned)k) % (unsigned)n])
            return (int)((s + (unsigned)k) % (unsigned)n);
    return -1;
}

static int free_slot(void *const *h, int n)
{
    for (int i = 0; i < n; i++)
        if (!h[i])
            return i;
    return -1;
}

static int m_send(uint64_t v)
{
    if (M.closed || M.nrx == 0)
        return RILL_ECLOSED;
    if (M.mode == RILL_BROADCAST_BACKPRESSURE)
        for (int i = 0; i < MAXRX; i++)
            if (M.rx[i] && M.tail - M.pos[i] >= M.cap)
                return RILL_EFULL;
    if (M.tail >= MAXITEMS)
        return RILL_EFULL; /* not reached: the input is shorter */
    M.items[M.tail++] = v;
    return 0;
}

/* Up to max items for receiver i: the status, the items, *missed. */
static int m_recv(int i, uint64_t *out, size_t max, size_t *n, uint64_t *missed)
{
    *n = 0;
    if (M.mode == RILL_BROADCAST_LAG && M.tail > M.cap &&
        M.pos[i] < M.tail - M.cap) {
        *missed = M.tail - M.cap - M.pos[i];
        M.missed_total += *missed;
        M.pos[i] = M.tail - M.cap;
        return RILL_ELAGGED;
    }
    while (*n < max && M.pos[i] < M.tail)
        out[(*n)++] = M.items[M.pos[i]++];
    if (*n)
        return 0;
    return M.closed ? RILL_DONE : RILL_EEMPTY;
}

static void do_send(fz_in_t *in, unsigned form)
{
    int t = pick(in, (void *const *)M.tx, MAXTX);
    if (t < 0 || (M.sop_live && t == M.sop_tx))
        return;
    uint64_t v = ((uint64_t)fz_u8(in) << 8) | M.tail;
    int want = m_send(v), r;
    if (form == 0) {
        r = rill_broadcast_try_send(M.tx[t], &v);
    } else if (want != RILL_EFULL) {
        r = rill_broadcast_send(M.tx[t], &v);
    } else {
        r = rill_broadcast_send_timeout(M.tx[t], &v, RILL_MS(1 + fz_u8(in)));
        want = RILL_ETIMEDOUT;
    }
    FZ_EQ(r, want);
}

static void do_recv(fz_in_t *in, unsigned form)
{
    int i = pick(in, (void *const *)M.rx, MAXRX);
    if (i < 0 || M.rop_live[i])
        return;
    uint64_t want_v[MAXB], got[MAXB], missed = 0, got_missed = 0;
    size_t max = form == 3 ? 1 + fz_pick(in, MAXB) : 1, n = 0, k = 0;
    int want = m_recv(i, want_v, max, &k, &missed), r;
    if (form == 0) {
        r = rill_broadcast_try_recv(M.rx[i], &got[0], &got_missed);
        n = r == 0;
    } else if (form == 1 && want != RILL_EEMPTY) {
        r = rill_broadcast_recv(M.rx[i], &got[0], &got_missed);
        n = r == 0;
    } else if (form <= 2) {
        r = rill_broadcast_recv_timeout(M.rx[i], &got[0], &got_missed,
                                        RILL_MS(1 + fz_u8(in)));
        n = r == 0;
        if (want == RILL_EEMPTY)
            want = RILL_ETIMEDOUT;
    } else {
        rill_cx_t cx = fz_cx();
        r = rill_broadcast_poll_recv_many(M.rx[i], &cx, got, max, sizeof *got,
                                          &n, &got_missed);
        if (want == RILL_EEMPTY)
            want = RILL_PENDING;
    }
    FZ_EQ(r, want);
    FZ_EQ(n, k);
    for (size_t j = 0; j < k; j++)
        FZ_EQ(got[j], want_v[j]);
    if (r == RILL_ELAGGED)
        FZ_EQ(got_missed, missed);
}

static void sop_poll(bool cancel)
{
    if (cancel) {
        FZ_EQ(rill_future_cancel(&M.sop.base), RILL_PENDING);
        M.sop_live = false;
        return;
    }
    int want = m_send(M.sop_item), r = fz_poll(&M.sop.base);
    FZ_EQ(r, want == RILL_EFULL ? RILL_PENDING : want);
    M.sop_live = r == RILL_PENDING;
}

static void rop_poll(int i, bool cancel)
{
    if (cancel) {
        FZ_EQ(rill_future_cancel(&M.rop[i].base), RILL_PENDING);
        M.rop_live[i] = false;
        return;
    }
    uint64_t v = 0, missed = 0;
    size_t n;
    int want = m_recv(i, &v, 1, &n, &missed), r = fz_poll(&M.rop[i].base);
    FZ_EQ(r, want == RILL_EEMPTY ? RILL_PENDING : want);
    if (r == 0)
        FZ_EQ(M.rop_out[i], v);
    if (r == RILL_ELAGGED)
        FZ_EQ(M.rop_missed[i], missed);
    M.rop_live[i] = r == RILL_PENDING;
}

static void release_rx(int i)
{
    if (M.rop_live[i])
        rop_poll(i, true);
    FZ_EQ(rill_broadcast_receiver_release(M.rx[i]), 0);
    M.rx[i] = NULL;
    M.nrx--;
}

static void release_tx(int t)
{
    FZ_EQ(rill_broadcast_sender_release(M.tx[t]), 0);
    M.tx[t] = NULL;
    if (--M.ntx == 0)
        M.closed = true;
}

static void step(fz_in_t *in)
{
    unsigned what = fz_pick(in, 14);
    int t, i, f;
    switch (what) {
    case 0:
    case 1:
    case 2:
        do_send(in, what % 2);
        break;
    case 3:
    case 4:
    case 5:
    case 6:
        do_recv(in, what - 3);
        break;
    case 7:
        if (!M.sop_live) {
            if ((t = pick(in, (void *const *)M.tx, MAXTX)) < 0)
                break;
            M.sop_tx = t;
            M.sop_item = 0xF00000 | M.tail;
            M.sop_live = true;
            rill_broadcast_send_op(&M.sop, M.tx[t], &M.sop_item,
                                   sizeof M.sop_item);
        }
        sop_poll(fz_pick(in, 3) == 0);
        break;
    case 8:
        if ((i = pick(in, (void *const *)M.rx, MAXRX)) < 0)
            break;
        if (!M.rop_live[i]) {
            M.rop_live[i] = true;
            rill_broadcast_recv_op(&M.rop[i], M.rx[i], &M.rop_out[i],
                                   sizeof M.rop_out[i], &M.rop_missed[i]);
        }
        rop_poll(i, fz_pick(in, 3) == 0);
        break;
    case 9:
        t = pick(in, (void *const *)M.tx, MAXTX);
        f = free_slot((void *const *)M.rx, MAXRX);
        if (t >= 0 && f >= 0) {
            FZ_EQ(rill_broadcast_subscribe(M.tx[t], &M.rx[f]), 0);
            M.pos[f] = M.tail;
            M.nrx++;
        }
        break;
    case 10:
        if ((i = pick(in, (void *const *)M.rx, MAXRX)) >= 0)
            release_rx(i);
        break;
    case 11:
        t = pick(in, (void *const *)M.tx, MAXTX);
        f = free_slot((void *const *)M.tx, MAXTX);
        if (t >= 0 && f >= 0) {
            FZ_EQ(rill_broadcast_sender_clone(M.tx[t], &M.tx[f]), 0);
            M.ntx++;
        }
        break;
    case 12:
        t = pick(in, (void *const *)M.tx, MAXTX);
        if (t >= 0 && !(M.sop_live && t == M.sop_tx))
            release_tx(t);
        break;
    default:
        if ((t = pick(in, (void *const *)M.tx, MAXTX)) >= 0 &&
            fz_pick(in, 4) == 0) {
            FZ_EQ(rill_broadcast_close(M.tx[t]), 0);
            M.closed = true;
        }
        break;
    }
    for (int k = 0; k < MAXRX; k++)
        if (M.rx[k]) {
            uint64_t behind = M.tail - M.pos[k];
            FZ_EQ(rill_broadcast_len(M.rx[k]), behind < M.cap ? behind : M.cap);
        }
    rill_channel_stats_t st;
    if ((t = pick(in, (void *const *)M.tx, MAXTX)) >= 0) {
        FZ_EQ(rill_broadcast_receiver_count(M.tx[t]), M.nrx);
        FZ_EQ(rill_broadcast_stats(M.tx[t], NULL, &st), 0);
        FZ_EQ(st.sent, M.tail);
        FZ_EQ(st.discarded, M.missed_total);
    }
}

static void body(fz_in_t *in)
{
    memset(&M, 0, sizeof M);
    M.mode = fz_pick(in, 2) ? RILL_BROADCAST_LAG : RILL_BROADCAST_BACKPRESSURE;
    static const uint64_t caps[] = {1, 7, 2, 3, 4, 8, 1, 7};
    M.cap = caps[fz_pick(in, 8)];
    FZ_EQ(rill_broadcast_new(&M.tx[0], &M.rx[0], sizeof(uint64_t),
                             (size_t)M.cap, M.mode, NULL),
          0);
    M.ntx = M.nrx = 1;
    while (fz_more(in))
        step(in);
    if (M.sop_live)
        sop_poll(true);
    for (int i = 0; i < MAXRX; i++)
        if (M.rx[i])
            release_rx(i);
    for (int t = 0; t < MAXTX; t++)
        if (M.tx[t])
            release_tx(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}
