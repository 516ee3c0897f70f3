// SPDX-License-Identifier: MIT
/*
 * model_chan.cpp - the bounded channel's wait/wake protocols under relacy
 * (the scenarios and properties are in chan_harness.c):
 *   - recv_parks:   cap 2, one producer: the receiver parks on an empty
 *                   ring, rx_waiting against the producer's publish;
 *   - send_parks:   cap 1, two producers: senders park on a full ring,
 *                   tx_waiting against the receiver's free, the hand-off;
 *   - batch:        cap 2, rill_send_many / rill_recv_many: the fence
 *                   paths (publish of n > 1, pop freeing n > 1, dispatch).
 *
 * The mutants (CMakeLists.txt) weaken one ordering of bounded.c each and
 * run one suite with --expect; each is reported as a deadlock (a thread
 * parked forever: the lost wakeup) or a failed check.
 */
#include "model.hpp"

#include "chan_harness.h"

template <int Cap, int Producers, int Per, bool Batch>
struct chan_suite
    : rill_model::suite<chan_suite<Cap, Producers, Per, Batch>, Producers + 1> {
    void before()
    {
        chan_scenario_t sc = {Cap, Producers, Per, Batch};
        chan_setup(&sc);
    }
    void thread(unsigned i)
    {
        if (i == 0)
            chan_receiver();
        else
            chan_producer((int)i - 1);
    }
    void after()
    {
        chan_check();
    }
};

int main(int argc, char **argv)
{
    rill_model::runner r(argc, argv);
    r.run<chan_suite<2, 1, 3, false>>("recv_parks", 50000);
    r.run<chan_suite<1, 2, 2, false>>("send_parks", 50000);
    r.run<chan_suite<2, 1, 4, true>>("batch", 50000);
    return r.finish();
}
