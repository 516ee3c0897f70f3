/* SPDX-License-Identifier: MIT */
/*
 * fuzz_oneshot.c - oneshot channels against a reference model: a series
 * of channels, each driven by operations from the input (send, try_recv,
 * recv and recv_timeout, a receive future polled by hand and cancelled,
 * close, is_closed, the closed-wait in all its forms, the releases).
 *
 * Model (rill/oneshot.h, src/sync/oneshot.c): the first send attempt uses
 * the send up (a second one is RILL_EALREADY, also after a send that
 * failed with RILL_ECLOSED); a value is received once, after which the
 * receive gives RILL_DONE, as it does when the sender went without
 * sending; a closed receiver can still take a value sent before; a value
 * never received goes to the item destructor when the receiver is
 * released. Receives and closed-waits are wake-and-retry: withdrawing
 * one always leaves no trace.
 */
#include "fuzz.h"

static struct {
    rill_oneshot_sender_t *tx;
    rill_oneshot_receiver_t *rx;
    bool attempted, has_value, taken, closed;
    uint64_t value, next_id;
    bool rop_live, cop_live;
    rill_oneshot_recv_op_t rop;
    rill_oneshot_closed_op_t cop;
    uint64_t rop_out;
} M;

static int m_take(uint64_t *v)
{
    if (M.taken)
        return RILL_DONE;
    if (M.has_value) {
        *v = M.value;
        M.taken = true;
        M.has_value = false;
        return 0;
    }
    return M.tx ? RILL_EEMPTY : RILL_DONE;
}

static void do_recv(fz_in_t *in, unsigned form)
{
    if (!M.rx || M.rop_live)
        return;
    uint64_t want_v = 0, got = UINT64_MAX;
    int want = m_take(&want_v), r;
    if (form == 0) {
        r = rill_oneshot_try_recv(M.rx, &got);
    } else if (want != RILL_EEMPTY) {
        r = rill_oneshot_recv(M.rx, &got);
    } else {
        r = rill_oneshot_recv_timeout(M.rx, &got, RILL_MS(1 + fz_u8(in)));
        want = RILL_ETIMEDOUT;
    }
    FZ_EQ(r, want);
    if (r == 0)
        FZ_EQ(got, want_v);
}

static void rop_poll(bool cancel)
{
    if (cancel) {
        FZ_EQ(rill_future_cancel(&M.rop.base), RILL_PENDING);
        M.rop_live = false;
        return;
    }
    uint64_t want_v = 0;
    int want = m_take(&want_v);
    int r = fz_poll(&M.rop.base);
    if (want == RILL_EEMPTY) {
        FZ_EQ(r, RILL_PENDING);
        return;
    }
    FZ_EQ(r, want);
    if (r == 0)
        FZ_EQ(M.rop_out, want_v);
    M.rop_live = false;
}

static void cop_poll(bool cancel)
{
    if (cancel) {
        FZ_EQ(rill_future_cancel(&M.cop.base), RILL_PENDING);
        M.cop_live = false;
        return;
    }
    int r = fz_poll(&M.cop.base);
    FZ_EQ(r, M.closed ? 0 : RILL_PENDING);
    M.cop_live = !M.closed;
}

static void release_rx(void)
{
    FZ_EQ(rill_oneshot_receiver_release(M.rx), 0);
    M.rx = NULL;
    M.closed = true;
    if (M.has_value) {
        fz_owned[M.value] = 1;
        FZ_CHECK(fz_dead[M.value] == 1);
        M.has_value = false;
    }
}

static void step(fz_in_t *in)
{
    unsigned what = fz_pick(in, 12);
    switch (what) {
    case 0:
        if (M.tx) {
            uint64_t v = M.next_id++;
            int want = M.attempted ? RILL_EALREADY
                       : M.closed  ? RILL_ECLOSED
                                   : 0;
            FZ_EQ(rill_oneshot_send(M.tx, &v), want);
            M.attempted = true;
            if (want == 0) {
                M.has_value = true;
                M.value = v;
            }
        }
        break;
    case 1:
    case 2:
    case 3:
        do_recv(in, what - 1);
        break;
    case 4:
        if (!M.rx)
            break;
        if (!M.rop_live) {
            M.rop_live = true;
            rill_oneshot_recv_op(&M.rop, M.rx, &M.rop_out, sizeof M.rop_out);
        }
        rop_poll(fz_pick(in, 3) == 0);
        break;
    case 5:
        if (M.rx) {
            FZ_EQ(rill_oneshot_close(M.rx), 0);
            M.closed = true;
        }
        break;
    case 6:
        if (!M.tx)
            break;
        if (fz_pick(in, 2))
            FZ_EQ(rill_oneshot_closed_timeout(M.tx, RILL_MS(1 + fz_u8(in))),
                  M.closed ? 0 : RILL_ETIMEDOUT);
        else if (M.closed)
            FZ_EQ(rill_oneshot_closed(M.tx), 0);
        break;
    case 7:
        if (!M.tx)
            break;
        if (!M.cop_live) {
            M.cop_live = true;
            rill_oneshot_closed_op(&M.cop, M.tx);
        }
        cop_poll(fz_pick(in, 3) == 0);
        break;
    case 8:
        if (M.tx && !M.cop_live) {
            FZ_EQ(rill_oneshot_sender_release(M.tx), 0);
            M.tx = NULL;
        }
        break;
    case 9:
        if (M.rx && !M.rop_live)
            release_rx();
        break;
    default:
        break;
    }
    if (M.tx)
        FZ_EQ(rill_oneshot_is_closed(M.tx), M.closed);
    rill_channel_stats_t st;
    if (M.tx || M.rx) {
        FZ_EQ(rill_oneshot_stats(M.tx, M.rx, &st), 0);
        FZ_EQ(st.len, M.has_value);
        FZ_EQ(st.received, M.taken);
    }
}

static void body(fz_in_t *in)
{
    memset(&M, 0, sizeof M);
    while (fz_more(in) && M.next_id < FZ_MAX_IDS - 1) {
        rill_channel_config_t o = {.name = "fuzz", .item_dtor = fz_dtor};
        uint64_t next = M.next_id;
        memset(&M, 0, sizeof M);
        M.next_id = next;
        FZ_EQ(rill_oneshot_new(&M.tx, &M.rx, sizeof(uint64_t), &o), 0);
        unsigned ops = 1 + fz_pick(in, 32);
        for (unsigned i = 0; i < ops && fz_more(in); i++)
            step(in);
        if (M.rop_live)
            rop_poll(true);
        if (M.cop_live)
            cop_poll(true);
        if (M.rx)
            release_rx();
        if (M.tx)
            FZ_EQ(rill_oneshot_sender_release(M.tx), 0);
    }
    fz_check_dead(M.next_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}
