// SPDX-License-Identifier: MIT
/*
 * model.hpp - what a model test suite (C++, relacy) needs: the suite base
 * that gives every relacy iteration fresh shadows (model_rt.cpp), and the
 * runner every model binary's main uses.
 *
 * A model binary runs its suites and exits 0 when none failed. With
 * `--expect NAME` it runs only suite NAME and exits 0 only if relacy
 * reports a failure: the mutant builds (CMakeLists.txt, mutate.py) weaken
 * one ordering in rill's source and check that the model catches it.
 * RILL_MODEL_ITERS scales the iterations (default 1.0).
 */
#ifndef RILL_MODEL_HPP
#define RILL_MODEL_HPP

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <relacy/relacy.hpp>

namespace rill_model
{

void reset_begin();
void reset_end();

template <class Derived, unsigned Threads>
struct suite : rl::test_suite<Derived, Threads> {
    suite()
    {
        reset_begin();
    }
    ~suite()
    {
        reset_end();
    }
};

struct runner {
    int argc;
    char **argv;
    const char *expect = nullptr;
    int failed = 0, passed = 0;
    bool caught = false;

    runner(int c, char **v) : argc(c), argv(v)
    {
        for (int i = 1; i + 1 < argc; i++)
            if (!std::strcmp(argv[i], "--expect"))
                expect = argv[i + 1];
    }

    /* Random scheduling for `iters` iterations (scaled), or exhaustive
     * with a context bound when bound > 0. */
    template <class S>
    void run(const char *name, unsigned iters, unsigned bound = 0)
    {
        if (expect && std::strcmp(expect, name))
            return;
        rl::test_params p;
        const char *scale = std::getenv("RILL_MODEL_ITERS");
        double k = scale ? std::atof(scale) : 1.0;
        if (bound) {
            p.search_type = rl::sched_bound;
            p.context_bound = bound;
        } else {
            p.search_type = rl::sched_random;
            p.iteration_count = (rl::iteration_t)(iters * k) + 1;
        }
        p.execution_depth_limit = 20000;
        std::cout << "model: " << name
                  << (expect ? " (mutant: expect a failure)" : "") << std::endl;
        bool ok = rl::simulate<S>(p);
        if (ok)
            passed++;
        else
            failed++;
        if (!ok)
            caught = true;
    }

    int finish()
    {
        if (expect) {
            std::cout << (caught ? "model: the mutant was caught\n"
                                 : "model: the mutant was NOT caught\n");
            std::cout << (caught ? 1 : 0) << " passed, " << (caught ? 0 : 1)
                      << " failed" << std::endl;
            return caught ? 0 : 1;
        }
        std::cout << passed << " passed, " << failed << " failed" << std::endl;
        return failed ? 1 : 0;
    }
};

} // namespace rill_model

#endif
