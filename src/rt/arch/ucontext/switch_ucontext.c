/* SPDX-License-Identifier: MIT */
/*
 * switch_ucontext.c - the portable fallback behind src/rt/switch.h:
 * makecontext / swapcontext. Used where there is no switch.S for the
 * architecture, or when configured with -DRILL_SWITCH=ucontext.
 *
 * It costs about 100 times what the assembly switch costs: swapcontext
 * saves and restores the signal mask with a system call on every switch
 * (and a fiber resumed on another thread brings its signal mask along).
 *
 * The handle of a suspended context is a pointer to its ucontext_t, kept
 * on the fiber's own stack: a local of rill__ctx_switch while suspended,
 * a block at the top of the stack before the first entry. So
 * rill__fiber_t holds one pointer, whichever backend is built.
 */
#include "rt/switch.h"
#include "core/core.h"

#include <stdint.h>
#include <ucontext.h>

/* The first context of a fiber, at the top of its stack. */
typedef struct boot {
    ucontext_t uc;
    void (*start)(void *arg);
    void *arg;
} boot_t;

/* makecontext passes only int arguments, so the boot block's address
 * travels as two 32-bit halves. */
static void trampoline(unsigned hi, unsigned lo)
{
    boot_t *b = (boot_t *)(((uintptr_t)hi << 16 << 16) | (uintptr_t)lo);
    b->start(b->arg);
    rill__fiber_returned();
}

void *rill__ctx_make(void *lo, size_t size, void (*start)(void *arg), void *arg)
{
    uintptr_t top = (uintptr_t)lo + size - sizeof(boot_t);
    top &= ~(uintptr_t)63; /* ucontext_t holds FP state: align generously */
    boot_t *b = (boot_t *)top;
    if (getcontext(&b->uc) != 0)
        RILL_PANIC("getcontext failed");
    b->uc.uc_stack.ss_sp = lo;
    b->uc.uc_stack.ss_size = top - (uintptr_t)lo;
    b->uc.uc_link = NULL;
    b->start = start;
    b->arg = arg;
    uintptr_t p = (uintptr_t)b;
    makecontext(&b->uc, (void (*)(void))trampoline, 2,
                (unsigned)(p >> 16 >> 16), (unsigned)(p & 0xffffffffu));
    return &b->uc;
}

void rill__ctx_switch(void **save, void *load)
{
    ucontext_t uc;
    *save = &uc;
    if (swapcontext(&uc, load) != 0)
        RILL_PANIC("swapcontext failed");
}
