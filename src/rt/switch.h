/* SPDX-License-Identifier: MIT */
/*
 * switch.h - fibers: the context switch under every stackful task.
 *
 * A fiber is a saved execution context on a stack of its own. The scheduler
 * keeps one fiber per worker for the thread's own stack (its loop) and one
 * per stackful task; rill__fiber_switch moves the CPU from one to the other.
 *
 * The switch itself is platform code behind this header: hand-written
 * assembly in src/rt/arch/<arch>/switch.S (saves only the callee-saved
 * registers, the stack pointer and the FP control state), or
 * src/rt/arch/ucontext/switch_ucontext.c (swapcontext, about 100 times
 * slower because it makes a sigprocmask system call). CMake picks one. The
 * generic part (src/rt/switch.c) tells the sanitizers about every switch:
 * without that TSan and ASan see one thread jumping between unrelated
 * stacks and report nonsense.
 *
 * Invariants the callers keep:
 * - A fiber is resumed by at most one thread at a time, and only after the
 *   switch away from it has completed: code running in `from` must not
 *   publish `from` (put it on a run queue another worker can take) before
 *   calling rill__fiber_switch; publish it from the fiber switched to.
 * - A fiber may resume on another OS thread than the one it left (work
 *   stealing). The switch code keeps no thread-local state, so that is
 *   safe here; code around a switch must not cache a thread-local address
 *   (errno, pthread_self) across it.
 * - The rill__fiber_t stays at one address from rill__fiber_init (or
 *   _init_thread) until rill__fiber_destroy: the first entry finds it
 *   through a pointer.
 *
 * The struct's layout does not depend on the build configuration (switch
 * backend, sanitizer), so any translation unit may embed it.
 */
#ifndef RILL_RT_SWITCH_H
#define RILL_RT_SWITCH_H

#include <stddef.h>

#include "rt/sanitize.h"

typedef struct rill__fiber {
    /* The backend's handle of the suspended context: the saved stack
     * pointer (asm), or a pointer to a ucontext_t kept on the fiber's own
     * stack (fallback). Written by the switch away, read by the switch
     * back; only the thread running or resuming the fiber touches it. */
    void *ctx;
    /* The body and its argument, read once at the first entry. */
    void (*entry)(void *arg);
    void *arg;
    /* Stack bounds: [stack_lo, stack_lo + stack_size). Set by
     * rill__fiber_init; for a thread fiber learnt from ASan at the first
     * switch back (only ASan needs them). */
    const void *stack_lo;
    size_t stack_size;
    /* ASan: where this fiber's fake stack is parked while it is suspended,
     * and the fiber that switched to it last (so a thread fiber can learn
     * its bounds). Unused otherwise. */
    void *asan_fake_stack;
    struct rill__fiber *asan_prev;
    /* TSan: the fiber's TSan context. Unused otherwise. */
    void *tsan_fiber;
    /* True for a fiber made by rill__fiber_init_thread: it owns no stack
     * and no TSan context of its own. */
    int is_thread;
} rill__fiber_t;

/*
 * rill__fiber_init_thread - make f stand for the calling thread's own
 * stack, so that the thread can switch to a fiber and be switched back to.
 * Threads: f belongs to the calling thread; it is only ever resumed there.
 */
void rill__fiber_init_thread(rill__fiber_t *f);

/*
 * rill__fiber_init - prepare f so that the first switch to it runs
 * entry(arg) on the stack [lo, lo + size). entry never returns: it ends
 * with rill__fiber_exit (if it returns anyway, the process panics).
 * lo and size need no alignment; size must leave room for entry's frames
 * (at least a few KiB). The stack may be one an exited fiber used before.
 * Ownership: the caller keeps the stack; it must outlive the fiber.
 */
void rill__fiber_init(rill__fiber_t *f, void *lo, size_t size,
                      void (*entry)(void *arg), void *arg);

/*
 * rill__fiber_switch - save the running context into from and resume to.
 * from must be the fiber running now. Returns when some thread switches
 * back to from (possibly another thread than the caller: see above).
 * Threads: the caller's thread runs `to` from now on.
 */
void rill__fiber_switch(rill__fiber_t *from, rill__fiber_t *to);

/*
 * rill__fiber_exit - the final switch away from a fiber whose body has
 * finished. Afterwards from's stack may be reused by rill__fiber_init or
 * freed (ASan drops the fiber's fake stack here). Does not return.
 * Ownership: from must still be released with rill__fiber_destroy, from
 * another fiber.
 */
void rill__fiber_exit(rill__fiber_t *from, rill__fiber_t *to)
    __attribute__((noreturn));

/*
 * rill__fiber_destroy - release the sanitizer resources of f (its TSan
 * context) before f's memory is reused or freed. f must not be running.
 * Also needed before rill__fiber_init reuses the same rill__fiber_t.
 * NULL is accepted.
 */
void rill__fiber_destroy(rill__fiber_t *f);

/* ------------------------------------------------------------------------ */
/* Backend: what each src/rt/arch/<name>/ provides to switch.c               */
/* ------------------------------------------------------------------------ */

/*
 * rill__ctx_make - lay out a context on [lo, lo + size) that, when first
 * switched to, calls start(arg) on a correctly aligned stack, as the
 * outermost frame (unwinders stop there). If start returns, the backend
 * calls rill__fiber_returned.
 * Returns: the handle to pass to rill__ctx_switch.
 */
void *rill__ctx_make(void *lo, size_t size, void (*start)(void *arg),
                     void *arg);

/*
 * rill__ctx_switch - store the running context's handle in *save and
 * resume the context `load`. Returns when someone loads *save. Touches no
 * memory but the two stacks and *save, and no thread-local storage.
 */
void rill__ctx_switch(void **save, void *load);

/* rill__fiber_returned - a fiber body returned: report it and abort. */
void rill__fiber_returned(void) __attribute__((noreturn));

#endif /* RILL_RT_SWITCH_H */
