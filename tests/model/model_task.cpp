// SPDX-License-Identifier: MIT
/*
 * model_task.cpp - the task state word under relacy: two workers run one
 * future task (sched.c's run_task / after_pending), two plain threads wake
 * it (task.c's rill__task_wake_by_ref); task_harness.c has the properties
 * (it completes: no lost wake; never polled twice at once or after it
 * completed: no double schedule).
 * Mutant wake_relaxed (mutate.py): the waker's CAS on the state word
 * without its release half, so the run that the wake leads to need not
 * see what the waker wrote before waking: the task polls, sees nothing
 * new and parks for good.
 */
#include "model.hpp"

#include "task_harness.h"

struct task_suite : rill_model::suite<task_suite, 4> {
    void before()
    {
        task_setup();
    }
    void thread(unsigned i)
    {
        if (i < 2)
            task_worker((int)i);
        else
            task_waker((int)i - 2);
    }
    void after()
    {
        task_check();
    }
};

int main(int argc, char **argv)
{
    rill_model::runner r(argc, argv);
    r.run<task_suite>("wake_vs_run", 30000);
    return r.finish();
}
