/* SPDX-License-Identifier: MIT */
/*
 * stack.h - stacks for stackful tasks: a pool of guarded mmap'd stacks and
 * the handler that names the task whose stack overflowed.
 *
 * A stack is one mapping: a PROT_NONE guard page at the low end (stacks
 * grow down), then `size` usable bytes, mapped MAP_NORESERVE so only the
 * pages a task touches become resident. Stacks are never malloc'd.
 *
 * The pool keeps stacks given back, up to RILL__STACK_POOL_MAX, with their
 * touched pages still resident: re-faulting a fresh page costs ~12 us on
 * the machines here, far more than a task's whole life. Beyond the bound a
 * stack is unmapped. Stacks of another size than the pool's are mapped and
 * unmapped each time.
 *
 * Every mapped stack is also entered in a process-wide registry that the
 * SIGSEGV/SIGBUS handler reads without locks, so a fault in a guard page
 * is reported as "rill: stack overflow in task <id> '<name>' ..." before
 * the process dies as it would have. The handler runs on a per-thread
 * alternate signal stack (the faulting stack is exhausted), which each
 * worker sets up with rill__stack_thread_init.
 */
#ifndef RILL_RT_STACK_H
#define RILL_RT_STACK_H

#include <stddef.h>
#include <stdint.h>

/* Idle stacks a pool keeps at most; further ones given back are unmapped. */
#define RILL__STACK_POOL_MAX 256

/* Longest task name the overflow report shows (bytes, without the NUL). */
#define RILL__STACK_NAME_MAX 31

typedef struct rill__stack {
    /* The lowest usable byte, just above the guard page. Immutable. */
    void *lo;
    /* Usable bytes above the guard page, a multiple of the page size.
     * Immutable. */
    size_t size;
    /* Private to stack.c: the free-list link (under the pool's lock while
     * idle), the registry entry, the valgrind stack id. */
    struct rill__stack *next;
    struct rill__stack_slot *slot;
    unsigned valgrind_id;
} rill__stack_t;

typedef struct rill__stack_pool rill__stack_pool_t;

/*
 * rill__stack_pool_new - create a pool of stacks of stack_size usable
 * bytes (rounded up to whole pages).
 * Returns: 0; RILL_EINVAL if pool is NULL or stack_size is 0 or absurdly
 *   large (over 1 GiB); RILL_ENOMEM.
 * Ownership: the caller owns *pool; rill__stack_pool_free frees it.
 */
int rill__stack_pool_new(rill__stack_pool_t **pool, size_t stack_size);

/*
 * rill__stack_get - a stack of `size` usable bytes (rounded up to pages);
 * size 0 means the pool's size. For the pool's size an idle stack is
 * reused if there is one (its contents are whatever its last user left);
 * otherwise, and for any other size, a fresh one is mapped.
 * Returns: 0 and the stack in *out; RILL_EINVAL for NULL arguments or a
 *   size over 1 GiB; RILL_ENOMEM.
 * Ownership: the caller owns *out until rill__stack_put.
 * Threads: any; the pool is thread-safe.
 */
int rill__stack_get(rill__stack_pool_t *pool, size_t size, rill__stack_t **out);

/*
 * rill__stack_put - give s back. A stack of the pool's size stays mapped
 * and resident for reuse while the pool holds fewer than
 * RILL__STACK_POOL_MAX idle ones; any other stack is unmapped. Clears the
 * owner shown in overflow reports. NULL is accepted.
 * Ownership: takes s.
 * Threads: any; s may come from a get on another thread.
 */
void rill__stack_put(rill__stack_pool_t *pool, rill__stack_t *s);

/*
 * rill__stack_pool_free - unmap every idle stack and free the pool. Every
 * stack taken from it must have been put back first (asserted in debug
 * builds). NULL is accepted.
 */
void rill__stack_pool_free(rill__stack_pool_t *pool);

/*
 * rill__stack_pool_idle - how many idle stacks the pool holds now (for
 * tests and diagnostics; stale as soon as it returns).
 */
size_t rill__stack_pool_idle(rill__stack_pool_t *pool);

/*
 * rill__stack_set_owner - record which task runs on s, for the overflow
 * report. name may be NULL; at most RILL__STACK_NAME_MAX bytes are kept.
 * Threads: call before the task first runs on s (the scheduler's hand-off
 * then orders it before any fault on s).
 */
void rill__stack_set_owner(rill__stack_t *s, uint64_t task_id,
                           const char *name);

/*
 * rill__stack_overflow_install - install the process-wide SIGSEGV and
 * SIGBUS handler. A fault in the guard page of a stack from any pool
 * writes "rill: stack overflow in task <id> '<name>' (stack <size>
 * bytes)" to stderr, then the default action is restored and the signal
 * raised again, so the process dies as it would have (core dump
 * included). Any other fault goes to the handler that was installed
 * before (or the default action). Idempotent.
 * Returns: 0; RILL_ESYS if sigaction failed.
 * Threads: any. Faults are reported only on threads with an alternate
 *   signal stack (rill__stack_thread_init).
 */
int rill__stack_overflow_install(void);

/*
 * rill__stack_thread_init - give the calling thread an alternate signal
 * stack for the overflow handler, unless it already has one (then nothing
 * is changed). Call it on the thread's own stack, not in a fiber.
 * Returns: 0; RILL_ENOMEM; RILL_ESYS if sigaltstack failed.
 * Threads: per thread; pair with rill__stack_thread_fini on the same one.
 */
int rill__stack_thread_init(void);

/*
 * rill__stack_thread_fini - remove and unmap the alternate signal stack
 * rill__stack_thread_init made for the calling thread, if it made one.
 */
void rill__stack_thread_fini(void);

#endif /* RILL_RT_STACK_H */
