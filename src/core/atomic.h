/* SPDX-License-Identifier: MIT */
/*
 * atomic.h - the one way rill code touches shared memory.
 *
 * Thin names over C11 <stdatomic.h> with the memory order always spelled
 * out at the call site (no sequentially consistent defaults sneaking in).
 * House rule: every acquire names its release partner in a comment, every
 * relaxed access says why relaxed is enough.
 *
 * This header is also the seam of the model tests (tests/model): built
 * with RILL_MODEL defined, every operation and fence below goes to the
 * relacy-backed checker in tests/model/rill_model.h instead, which
 * explores the orderings the C11 memory model allows. Without RILL_MODEL
 * (every real build) nothing here changes.
 */
#ifndef RILL_CORE_ATOMIC_H
#define RILL_CORE_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define RILL_RELAXED memory_order_relaxed
#define RILL_ACQUIRE memory_order_acquire
#define RILL_RELEASE memory_order_release
#define RILL_ACQ_REL memory_order_acq_rel
#define RILL_SEQ_CST memory_order_seq_cst

#ifdef RILL_MODEL
#include "rill_model.h"
#else
#define rill__load(p, mo) atomic_load_explicit((p), (mo))
#define rill__store(p, v, mo) atomic_store_explicit((p), (v), (mo))
#define rill__xchg(p, v, mo) atomic_exchange_explicit((p), (v), (mo))
#define rill__fetch_add(p, v, mo) atomic_fetch_add_explicit((p), (v), (mo))
#define rill__fetch_sub(p, v, mo) atomic_fetch_sub_explicit((p), (v), (mo))
#define rill__fetch_or(p, v, mo) atomic_fetch_or_explicit((p), (v), (mo))
#define rill__fetch_and(p, v, mo) atomic_fetch_and_explicit((p), (v), (mo))
/* Strong CAS; on failure *expected gets the current value. */
#define rill__cas(p, expected, desired, mo_ok, mo_fail)                        \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired),        \
                                            (mo_ok), (mo_fail))
/* Weak CAS for retry loops. */
#define rill__cas_weak(p, expected, desired, mo_ok, mo_fail)                   \
    atomic_compare_exchange_weak_explicit((p), (expected), (desired), (mo_ok), \
                                          (mo_fail))
#define rill__fence(mo) atomic_thread_fence(mo)

/* Spin-wait hint for busy loops. */
static inline void rill__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}
#endif /* RILL_MODEL */

/* The size of a cache line, for padding hot shared fields apart. */
#define RILL_CACHELINE 64
#define RILL_ALIGN_CL _Alignas(RILL_CACHELINE)

#endif /* RILL_CORE_ATOMIC_H */
