/* SPDX-License-Identifier: MIT */
/*
 * fuzz_watch.c - a watch channel against a reference model: one sender,
 * up to four receivers (subscribe, clone, release), sends, changed in its
 * try / plain / timeout / hand-polled future forms, get, get_and_update,
 * mark_seen, versions and the receiver count.
 *
 * Model (rill/watch.h): the channel holds the latest value and its
 * version (0 initially, +1 per stored send); each receiver the version it
 * has seen (a new or cloned receiver starts where the current value or
 * its origin stands). A send with no receiver left is RILL_ECLOSED and
 * stores nothing; changed marks the newest version seen, or gives
 * RILL_DONE once the sender is gone and the last version was seen.
 */
#include "fuzz.h"

enum { MAXRX = 4 };

static struct {
    rill_watch_sender_t *tx;
    rill_watch_receiver_t *rx[MAXRX];
    uint64_t seen[MAXRX];
    bool op_live[MAXRX];
    rill_watch_changed_op_t op[MAXRX];
    uint64_t value, version;
    int nrx;
} M;

static int m_changed(int i)
{
    if (M.seen[i] != M.version) {
        M.seen[i] = M.version;
        return 0;
    }
    return M.tx ? RILL_EEMPTY : RILL_DONE;
}

static int pick_rx(fz_in_t *in)
{
    unsigned s = fz_pick(in, MAXRX);
    for (unsigned k = 0; k < MAXRX; k++)
        if (M.rx[(s + k) % MAXRX])
            return (int)((s + k) % MAXRX);
    return -1;
}

static int free_rx(void)
{
    for (int i = 0; i < MAXRX; i++)
        if (!M.rx[i])
            return i;
    return -1;
}

static void op_poll(int i, bool cancel)
{
    if (cancel) {
        FZ_EQ(rill_future_cancel(&M.op[i].base), RILL_PENDING);
        M.op_live[i] = false;
        return;
    }
    int want = m_changed(i), r = fz_poll(&M.op[i].base);
    FZ_EQ(r, want == RILL_EEMPTY ? RILL_PENDING : want);
    M.op_live[i] = r == RILL_PENDING;
}

static void step(fz_in_t *in)
{
    unsigned what = fz_pick(in, 12);
    int i = pick_rx(in), f = free_rx();
    uint64_t v = 0;
    switch (what) {
    case 0:
    case 1:
        if (M.tx) {
            uint64_t nv = ((uint64_t)fz_u8(in) << 8) | fz_u8(in);
            FZ_EQ(rill_watch_send(M.tx, &nv), M.nrx ? 0 : RILL_ECLOSED);
            if (M.nrx) {
                M.value = nv;
                M.version++;
            }
        }
        break;
    case 2:
        if (i >= 0 && !M.op_live[i])
            FZ_EQ(rill_watch_try_changed(M.rx[i]), m_changed(i));
        break;
    case 3:
        if (i >= 0 && !M.op_live[i]) {
            int want = m_changed(i);
            if (want == RILL_EEMPTY)
                FZ_EQ(
                    rill_watch_changed_timeout(M.rx[i], RILL_MS(1 + fz_u8(in))),
                    RILL_ETIMEDOUT);
            else
                FZ_EQ(rill_watch_changed(M.rx[i]), want);
        }
        break;
    case 4:
        if (i < 0)
            break;
        if (!M.op_live[i]) {
            M.op_live[i] = true;
            rill_watch_changed_op(&M.op[i], M.rx[i]);
        }
        op_poll(i, fz_pick(in, 3) == 0);
        break;
    case 5:
        if (i >= 0) {
            FZ_EQ(rill_watch_get(M.rx[i], &v), 0);
            FZ_EQ(v, M.value);
        }
        break;
    case 6:
        if (i >= 0 && !M.op_live[i]) {
            FZ_EQ(rill_watch_get_and_update(M.rx[i], &v),
                  M.seen[i] != M.version ? 0 : RILL_EEMPTY);
            FZ_EQ(v, M.value);
            M.seen[i] = M.version;
        }
        break;
    case 7:
        if (i >= 0 && !M.op_live[i]) {
            FZ_EQ(rill_watch_mark_seen(M.rx[i]), 0);
            M.seen[i] = M.version;
        }
        break;
    case 8:
        if (M.tx && f >= 0) {
            FZ_EQ(rill_watch_subscribe(M.tx, &M.rx[f]), 0);
            M.seen[f] = M.version;
            M.nrx++;
        }
        break;
    case 9:
        if (i >= 0 && f >= 0) {
            FZ_EQ(rill_watch_receiver_clone(M.rx[i], &M.rx[f]), 0);
            M.seen[f] = M.seen[i];
            M.nrx++;
        }
        break;
    case 10:
        if (i >= 0) {
            if (M.op_live[i])
                op_poll(i, true);
            FZ_EQ(rill_watch_receiver_release(M.rx[i]), 0);
            M.rx[i] = NULL;
            M.nrx--;
        }
        break;
    default:
        if (M.tx && fz_pick(in, 4) == 0) {
            FZ_EQ(rill_watch_sender_release(M.tx), 0);
            M.tx = NULL;
        }
        break;
    }
    for (int k = 0; k < MAXRX; k++)
        if (M.rx[k])
            FZ_EQ(rill_watch_version(M.rx[k]), M.seen[k]);
    if (M.tx)
        FZ_EQ(rill_watch_receiver_count(M.tx), M.nrx);
}

static void body(fz_in_t *in)
{
    memset(&M, 0, sizeof M);
    M.value = fz_u8(in);
    FZ_EQ(rill_watch_new(&M.tx, &M.rx[0], sizeof(uint64_t), &M.value, NULL), 0);
    M.nrx = 1;
    while (fz_more(in))
        step(in);
    for (int i = 0; i < MAXRX; i++)
        if (M.rx[i]) {
            if (M.op_live[i])
                op_poll(i, true);
            FZ_EQ(rill_watch_receiver_release(M.rx[i]), 0);
        }
    FZ_EQ(rill_watch_sender_release(M.tx), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}
