/* SPDX-License-Identifier: MIT */
/*
 * switch.c - the generic half of the fiber switch: tells the sanitizers,
 * then calls the backend (src/rt/arch/<name>/) to move the registers.
 *
 * Protocol with the sanitizers, per switch from A to B:
 *   ASan: A calls __sanitizer_start_switch_fiber(&A.fake, B's bounds)
 *         (NULL instead of &A.fake when A is finished, so ASan frees its
 *         fake stack); the first code that runs in B calls
 *         __sanitizer_finish_switch_fiber(B.fake, ...), which also tells
 *         us A's bounds (the only way to learn a thread stack's bounds as
 *         ASan sees them).
 *   TSan: A calls __tsan_switch_to_fiber(B) right before the switch. With
 *         flags 0 TSan orders A's past before B's future, as a switch on
 *         one thread does. The price: two tasks that run one after the
 *         other on one worker look ordered to TSan, so a race between them
 *         shows only when they run on different workers. The alternative
 *         (no sync) would make every hand-off through the scheduler's own
 *         plain fields a false report.
 * In a build without sanitizers all of this compiles away and
 * rill__fiber_switch is a tail call into the backend.
 */
#include "rt/switch.h"
#include "core/core.h"

#if RILL__ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if RILL__TSAN
#include <sanitizer/tsan_interface.h>
#endif

/*
 * Before leaving `from` for `to`. from_alive = false on the final exit.
 * Always inlined: under TSan a function of its own would enter on from's
 * shadow call stack and return on to's, unbalancing both.
 */
static inline __attribute__((always_inline)) void
before_switch(rill__fiber_t *from, rill__fiber_t *to, int from_alive)
{
#if RILL__ASAN
    to->asan_prev = from;
    __sanitizer_start_switch_fiber(from_alive ? &from->asan_fake_stack : NULL,
                                   to->stack_lo, to->stack_size);
#endif
#if RILL__TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    RILL_UNUSED(from);
    RILL_UNUSED(to);
    RILL_UNUSED(from_alive);
}

/* First thing after `self` was switched to (resumed or started). Inlined
 * for the same reason as before_switch. */
static inline __attribute__((always_inline)) void
after_switch(rill__fiber_t *self)
{
#if RILL__ASAN
    const void *prev_lo;
    size_t prev_size;
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &prev_lo,
                                    &prev_size);
    /* The previous fiber cannot be gone yet: nothing after its switch has
     * run but this. Only a thread fiber has unknown bounds. */
    rill__fiber_t *prev = self->asan_prev;
    if (prev && !prev->stack_lo) {
        prev->stack_lo = prev_lo;
        prev->stack_size = prev_size;
    }
#endif
    RILL_UNUSED(self);
}

/* Where every fiber begins (called by the backend's trampoline). */
static void fiber_start(void *arg)
{
    rill__fiber_t *self = arg;
    after_switch(self);
    self->entry(self->arg);
    rill__fiber_returned();
}

void rill__fiber_init_thread(rill__fiber_t *f)
{
    *f = (rill__fiber_t){.is_thread = 1};
#if RILL__TSAN
    f->tsan_fiber = __tsan_get_current_fiber();
#endif
}

void rill__fiber_init(rill__fiber_t *f, void *lo, size_t size,
                      void (*entry)(void *arg), void *arg)
{
    *f = (rill__fiber_t){
        .entry = entry, .arg = arg, .stack_lo = lo, .stack_size = size};
    /* A stack given up by rill__fiber_exit still carries the redzone
     * poison of the frames that never returned. */
    RILL__ASAN_UNPOISON(lo, size);
#if RILL__TSAN
    f->tsan_fiber = __tsan_create_fiber(0);
#endif
    f->ctx = rill__ctx_make(lo, size, fiber_start, f);
}

void rill__fiber_switch(rill__fiber_t *from, rill__fiber_t *to)
{
    before_switch(from, to, 1);
    rill__ctx_switch(&from->ctx, to->ctx);
    after_switch(from);
}

void rill__fiber_exit(rill__fiber_t *from, rill__fiber_t *to)
{
    before_switch(from, to, 0);
    rill__ctx_switch(&from->ctx, to->ctx);
    RILL_PANIC("a finished fiber was resumed");
}

void rill__fiber_destroy(rill__fiber_t *f)
{
    if (!f)
        return;
#if RILL__TSAN
    if (!f->is_thread && f->tsan_fiber)
        __tsan_destroy_fiber(f->tsan_fiber);
#endif
    f->tsan_fiber = NULL;
    f->ctx = NULL;
}

void rill__fiber_returned(void)
{
    RILL_PANIC("a fiber's entry function returned (it must end with "
               "rill__fiber_exit)");
}
