/* SPDX-License-Identifier: MIT */
/*
 * switch.S (aarch64, AAPCS64) - the context switch behind src/rt/switch.h.
 *
 * A suspended context is its stack pointer; above it on its own stack lies
 * a 176-byte frame:
 *
 *     sp+0    x19 .. x28         (callee-saved general registers)
 *     sp+80   x29 (fp), x30 (lr: where the context resumes)
 *     sp+96   d8 .. d15          (low halves of v8-v15: callee-saved)
 *     sp+160  fpcr, 8 bytes unused (keeps sp 16-byte aligned)
 *
 * Only what the ABI says a callee must preserve is saved; the caller has
 * spilled the rest, as for any call. FPCR (rounding mode, flush-to-zero)
 * is per fiber too; it is read always (cheap) but written only when it
 * differs, because an FPCR write can stall the pipeline on some cores.
 * No thread-local storage is touched, so a context saved on one thread may
 * be loaded on another.
 */

/* Store / load a register pair at sp+off, with its unwind info. */
.macro SAVE_PAIR a, b, off
    stp     \a, \b, [sp, #\off]
    .cfi_rel_offset \a, \off
    .cfi_rel_offset \b, \off + 8
.endm
.macro LOAD_PAIR a, b, off
    ldp     \a, \b, [sp, #\off]
.endm
.macro RESTORED a, b
    .cfi_restore \a
    .cfi_restore \b
.endm

    .text

/* void rill__ctx_switch(void **save, void *load)   x0 = save, x1 = load */
    .globl  rill__ctx_switch
    .hidden rill__ctx_switch
    .type   rill__ctx_switch, %function
    .p2align 4
rill__ctx_switch:
    .cfi_startproc
    sub     sp, sp, #176
    .cfi_def_cfa_offset 176
    SAVE_PAIR x19, x20, 0
    SAVE_PAIR x21, x22, 16
    SAVE_PAIR x23, x24, 32
    SAVE_PAIR x25, x26, 48
    SAVE_PAIR x27, x28, 64
    SAVE_PAIR x29, x30, 80
    SAVE_PAIR d8, d9, 96
    SAVE_PAIR d10, d11, 112
    SAVE_PAIR d12, d13, 128
    SAVE_PAIR d14, d15, 144
    mrs     x9, fpcr
    str     x9, [sp, #160]

    mov     x9, sp
    str     x9, [x0]
    mov     sp, x1

    ldr     x9, [sp, #160]
    mrs     x10, fpcr
    cmp     x9, x10
    b.eq    1f
    msr     fpcr, x9
1:
    LOAD_PAIR x19, x20, 0
    LOAD_PAIR x21, x22, 16
    LOAD_PAIR x23, x24, 32
    LOAD_PAIR x25, x26, 48
    LOAD_PAIR x27, x28, 64
    LOAD_PAIR x29, x30, 80
    LOAD_PAIR d8, d9, 96
    LOAD_PAIR d10, d11, 112
    LOAD_PAIR d12, d13, 128
    LOAD_PAIR d14, d15, 144
    add     sp, sp, #176
    .cfi_def_cfa_offset 0
    RESTORED x19, x20
    RESTORED x21, x22
    RESTORED x23, x24
    RESTORED x25, x26
    RESTORED x27, x28
    RESTORED x29, x30
    RESTORED d8, d9
    RESTORED d10, d11
    RESTORED d12, d13
    RESTORED d14, d15
    ret
    .cfi_endproc
    .size   rill__ctx_switch, .-rill__ctx_switch

/*
 * void *rill__ctx_make(void *lo, size_t size, void (*start)(void *), void *arg)
 * x0 = lo, x1 = size, x2 = start, x3 = arg; returns the initial sp.
 *
 * Builds the frame rill__ctx_switch pops at the 16-byte aligned top of the
 * stack: x19 = start, x20 = arg, x29 = 0 (ends frame-pointer chains),
 * x30 = trampoline, fpcr = the creator's (a new fiber starts with its
 * creator's rounding mode, as a new thread does). After the pop sp is the
 * aligned top, as the ABI wants.
 */
    .globl  rill__ctx_make
    .hidden rill__ctx_make
    .type   rill__ctx_make, %function
    .p2align 4
rill__ctx_make:
    .cfi_startproc
    add     x9, x0, x1
    and     x9, x9, #~15
    sub     x0, x9, #176
    stp     x2, x3, [x0, #0]        /* x19 = start, x20 = arg */
    stp     xzr, xzr, [x0, #16]
    stp     xzr, xzr, [x0, #32]
    stp     xzr, xzr, [x0, #48]
    stp     xzr, xzr, [x0, #64]
    adr     x10, rill__ctx_trampoline
    stp     xzr, x10, [x0, #80]     /* x29 = 0, x30 = trampoline */
    stp     xzr, xzr, [x0, #96]
    stp     xzr, xzr, [x0, #112]
    stp     xzr, xzr, [x0, #128]
    stp     xzr, xzr, [x0, #144]
    mrs     x10, fpcr
    stp     x10, xzr, [x0, #160]
    ret
    .cfi_endproc
    .size   rill__ctx_make, .-rill__ctx_make

/*
 * First code of every fiber: start(arg). It is the outermost frame: the
 * return address is marked undefined so unwinders stop here.
 */
    .type   rill__ctx_trampoline, %function
    .p2align 4
rill__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    mov     x0, x20
    blr     x19
    /* start never returns; if it does, say so instead of running off. */
    bl      rill__fiber_returned
    brk     #1
    .cfi_endproc
    .size   rill__ctx_trampoline, .-rill__ctx_trampoline

    .section .note.GNU-stack, "", %progbits
