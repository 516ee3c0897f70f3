// SPDX-License-Identifier: MIT
/*
 * model_queue.cpp - the local run queue's push/pop against steal under
 * relacy (queue_harness.c has the scenario and the property: every task
 * taken exactly once, none lost):
 *   - steal1: 6 tasks through a ring of 4, one thief;
 *   - steal2: 5 tasks, two thieves (a thief meets another mid-steal).
 * Mutant steal_tail (mutate.py) makes the thief's load of the victim's
 * tail relaxed: the thief may then copy slots the owner has not published
 * yet (a task read as NULL or twice).
 */
#include "model.hpp"

#include "queue_harness.h"

template <int Tasks, int Thieves>
struct queue_suite
    : rill_model::suite<queue_suite<Tasks, Thieves>, Thieves + 1> {
    void before()
    {
        queue_scenario_t sc = {Tasks, Thieves};
        queue_setup(&sc);
    }
    void thread(unsigned i)
    {
        if (i == 0)
            queue_owner();
        else
            queue_thief((int)i);
    }
    void after()
    {
        queue_check();
    }
};

int main(int argc, char **argv)
{
    rill_model::runner r(argc, argv);
    r.run<queue_suite<6, 1>>("steal1", 50000);
    r.run<queue_suite<5, 2>>("steal2", 50000);
    return r.finish();
}
