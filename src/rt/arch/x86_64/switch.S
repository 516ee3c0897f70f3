/* SPDX-License-Identifier: MIT */
/*
 * switch.S (x86-64, System V) - the context switch behind src/rt/switch.h.
 *
 * A suspended context is its stack pointer; below it on its own stack lie,
 * from the saved sp upwards:
 *
 *     sp+0   MXCSR (4 bytes), x87 control word (2 bytes), 2 bytes unused
 *     sp+8   r15, r14, r13, r12, rbx, rbp
 *     sp+56  return address
 *
 * Only what the ABI says a callee must preserve is saved: the caller of
 * rill__ctx_switch has already spilled everything else, as for any call.
 * The FP control state (rounding mode, exception masks) is callee-saved
 * too, and each fiber keeps its own. No thread-local storage is touched, so
 * a context saved on one thread may be loaded on another.
 *
 * The CFI describes the pushes in terms of rsp; the stack loaded has the
 * same layout as the one saved, so gdb and perf unwind correctly at every
 * instruction, on either side of the stack swap.
 */

#if defined(__CET__) && (__CET__ & 1)
#define ENTRY_BRANCH endbr64
#else
#define ENTRY_BRANCH
#endif

    .text

/* void rill__ctx_switch(void **save, void *load)   rdi = save, rsi = load */
    .globl  rill__ctx_switch
    .hidden rill__ctx_switch
    .type   rill__ctx_switch, @function
    .p2align 4
rill__ctx_switch:
    .cfi_startproc
    ENTRY_BRANCH
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbp, 0
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbx, 0
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r12, 0
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r13, 0
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r14, 0
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r15, 0
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw  4(%rsp)

    movq    %rsp, (%rdi)
    movq    %rsp, %rax              /* the context left, for the FP check */
    movq    %rsi, %rsp

    /* ldmxcsr and fldcw are microcoded and cost a few ns each, while the
     * FP control state of two fibers almost never differs: reload it only
     * when it does (out of line, below). */
    movl    (%rsp), %ecx
    cmpl    (%rax), %ecx
    jne     .Lload_mxcsr
.Lmxcsr_done:
    movzwl  4(%rsp), %ecx
    cmpw    4(%rax), %cx
    jne     .Lload_fpucw
.Lfpucw_done:
    .cfi_remember_state
    addq    $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq    %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore r15
    popq    %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore r14
    popq    %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore r13
    popq    %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore r12
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbx
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbp
    ret
    .cfi_restore_state
.Lload_mxcsr:
    ldmxcsr (%rsp)
    jmp     .Lmxcsr_done
.Lload_fpucw:
    fldcw   4(%rsp)
    jmp     .Lfpucw_done
    .cfi_endproc
    .size   rill__ctx_switch, .-rill__ctx_switch

/*
 * void *rill__ctx_make(void *lo, size_t size, void (*start)(void *), void *arg)
 * rdi = lo, rsi = size, rdx = start, rcx = arg; returns the initial sp.
 *
 * Builds the frame rill__ctx_switch pops, at the 16-byte aligned top of the
 * stack: rbx = start, r12 = arg, rbp = 0 (ends frame-pointer chains), the
 * return address = trampoline, and this thread's current FP control state
 * (a new fiber starts with its creator's rounding mode, as a new thread
 * does). Above the frame 16 zero bytes, so the trampoline runs with
 * rsp = top - 16, which is 16-byte aligned as the ABI wants before a call.
 */
    .globl  rill__ctx_make
    .hidden rill__ctx_make
    .type   rill__ctx_make, @function
    .p2align 4
rill__ctx_make:
    .cfi_startproc
    ENTRY_BRANCH
    leaq    (%rdi,%rsi), %rax
    andq    $-16, %rax              /* rax = aligned top */
    subq    $80, %rax               /* rax = initial sp */
    movq    $0, 72(%rax)            /* zero pad above the frame */
    movq    $0, 64(%rax)
    leaq    rill__ctx_trampoline(%rip), %r8
    movq    %r8, 56(%rax)           /* return address */
    movq    $0, 48(%rax)            /* rbp */
    movq    %rdx, 40(%rax)          /* rbx = start */
    movq    %rcx, 32(%rax)          /* r12 = arg */
    movq    $0, 24(%rax)            /* r13 */
    movq    $0, 16(%rax)            /* r14 */
    movq    $0, 8(%rax)             /* r15 */
    movq    $0, (%rax)
    stmxcsr (%rax)
    fnstcw  4(%rax)
    ret
    .cfi_endproc
    .size   rill__ctx_make, .-rill__ctx_make

/*
 * First code of every fiber: start(arg). It is the outermost frame: the
 * return address is marked undefined so unwinders stop here instead of
 * walking into the zero pad.
 */
    .type   rill__ctx_trampoline, @function
    .p2align 4
rill__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq    %r12, %rdi
    callq   *%rbx
    /* start never returns; if it does, say so instead of running off. */
    callq   rill__fiber_returned@PLT
    ud2
    .cfi_endproc
    .size   rill__ctx_trampoline, .-rill__ctx_trampoline

    .section .note.GNU-stack, "", @progbits
