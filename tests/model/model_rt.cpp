// SPDX-License-Identifier: MIT
/*
 * model_rt.cpp - the relacy side of the seam (see rill_model.h): one
 * relacy atomic ("shadow") per address that rill's code touches through
 * src/core/atomic.h, one relacy mutex per pthread mutex, a relacy futex
 * for rill__futex_wait/wake.
 *
 * Shadows live for one relacy iteration: a test suite derives from
 * rill_model::suite, whose destructor destroys them (relacy checks that
 * every atomic of an iteration is gone at its end).
 */
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <iostream>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "model.hpp"

// relacy.hpp renames new/delete/malloc/free for the code under test; the
// shadow table is ours, not under test.
#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free

#include "rill_model.h"

namespace
{

/* Relacy replaces the global operator new/delete with its own tracked
 * heap while a test runs (and checks it for leaks per iteration); the
 * model's own tables are not under test and use malloc. */
template <class T> struct plain_alloc {
    typedef T value_type;
    plain_alloc() = default;
    template <class U> plain_alloc(const plain_alloc<U> &)
    {
    }
    T *allocate(size_t n)
    {
        void *p = std::malloc(n * sizeof(T));
        if (!p)
            std::abort();
        return static_cast<T *>(p);
    }
    void deallocate(T *p, size_t)
    {
        std::free(p);
    }
    template <class U> bool operator==(const plain_alloc<U> &) const
    {
        return true;
    }
    template <class U> bool operator!=(const plain_alloc<U> &) const
    {
        return false;
    }
};

template <class T, class... A> T *make(A &&...a)
{
    return new (plain_alloc<T>().allocate(1)) T(std::forward<A>(a)...);
}

template <class T> void destroy(T *p)
{
    p->~T();
    plain_alloc<T>().deallocate(p, 1);
}

template <class K, class V>
using plain_map = std::unordered_map<K, V, std::hash<K>, std::equal_to<K>,
                                     plain_alloc<std::pair<const K, V>>>;

/* Relacy keeps an atomic's history private. A shadow must start with the
 * value the memory already holds, as if initialised before every thread
 * (generic_atomic<T, true> gives that, with the value T()): its history
 * slot and current value are set through member pointers obtained the way
 * the standard allows for private members (explicit instantiation). */
template <class T> struct hist_tag {
    typedef T (rl::generic_atomic<T, true>::*type)[rl::atomic_history_size];
    friend type get(hist_tag);
};
template <class T> struct value_tag {
    typedef T rl::generic_atomic<T, true>::*type;
    friend type get(value_tag);
};
template <class T> struct index_tag {
    typedef unsigned rl::generic_atomic<T, true>::*type;
    friend type get(index_tag);
};
template <class Tag, typename Tag::type M> struct rob {
    friend typename Tag::type get(Tag)
    {
        return M;
    }
};
/* For each width: the instantiations that define get(), and get()'s
 * declarations at namespace scope (a friend alone is not found by name). */
#define RILL_MODEL_ROB(T)                                                      \
    template struct rob<hist_tag<T>, &rl::generic_atomic<T, true>::history_>;  \
    template struct rob<value_tag<T>, &rl::generic_atomic<T, true>::value_>;   \
    template struct rob<index_tag<T>,                                          \
                        &rl::generic_atomic<T, true>::last_index_>;            \
    hist_tag<T>::type get(hist_tag<T>);                                        \
    value_tag<T>::type get(value_tag<T>);                                      \
    index_tag<T>::type get(index_tag<T>);
RILL_MODEL_ROB(uint8_t)
RILL_MODEL_ROB(uint16_t)
RILL_MODEL_ROB(uint32_t)
RILL_MODEL_ROB(uint64_t)

struct shadow_base {
    unsigned size;
    virtual ~shadow_base()
    {
    }
};

template <class T> struct shadow : shadow_base {
    rl::generic_atomic<T, true> a;
    explicit shadow(T init)
    {
        size = sizeof(T);
        (a.*get(hist_tag<T>()))[a.*get(index_tag<T>())] = init;
        a.*get(value_tag<T>()) = init;
    }
};

struct mutex_shadow {
    rl::mutex m;
};

plain_map<uintptr_t, shadow_base *> shadows;
plain_map<uintptr_t, mutex_shadow *> mutexes;

/* pthread keys: the destructors (for the process), the values (for one
 * iteration: per model thread). */
std::vector<void (*)(void *), plain_alloc<void (*)(void *)>> key_dtors;
std::map<
    std::pair<unsigned, pthread_key_t>, void *,
    std::less<std::pair<unsigned, pthread_key_t>>,
    plain_alloc<std::pair<const std::pair<unsigned, pthread_key_t>, void *>>>
    key_values;

/* C11's memory_order values (rill_model.h checks them). */
rl::memory_order mo_of(int mo)
{
    switch (mo) {
    case 0: /* memory_order_relaxed */
        return rl::mo_relaxed;
    case 1: /* memory_order_consume */
        return rl::mo_consume;
    case 2: /* memory_order_acquire */
        return rl::mo_acquire;
    case 3: /* memory_order_release */
        return rl::mo_release;
    case 4: /* memory_order_acq_rel */
        return rl::mo_acq_rel;
    default:
        return rl::mo_seq_cst;
    }
}

template <class T> shadow<T> &shadow_at(const volatile void *p)
{
    uintptr_t k = (uintptr_t)p;
    auto it = shadows.find(k);
    if (it == shadows.end()) {
        T init;
        std::memcpy(&init, (const void *)p, sizeof init);
        shadow<T> *s = make<shadow<T>>(init);
        shadows.emplace(k, s);
        return *s;
    }
    if (it->second->size != sizeof(T)) {
        std::cerr << "rill model: atomic at " << p << " used as " << sizeof(T)
                  << " bytes and as " << it->second->size << "\n";
        std::abort();
    }
    return *static_cast<shadow<T> *>(it->second);
}

template <class T> void write_back(volatile void *p, T v)
{
    std::memcpy((void *)p, &v, sizeof v);
}

template <class T>
uint64_t load_t(const volatile void *p, int mo, const rl::debug_info &in)
{
    return shadow_at<T>(p).a.load(mo_of(mo), in);
}

template <class T>
void store_t(volatile void *p, uint64_t v, int mo, const rl::debug_info &in)
{
    shadow_at<T>(p).a.store((T)v, mo_of(mo), in);
    write_back<T>(p, (T)v);
}

template <class T>
uint64_t rmw_t(volatile void *p, int op, uint64_t v, int mo,
               const rl::debug_info &in)
{
    auto &a = shadow_at<T>(p).a;
    rl::memory_order m = mo_of(mo);
    T old, nv;
    switch (op) {
    case RILL__MODEL_XCHG:
        old = a.exchange((T)v, m, in);
        nv = (T)v;
        break;
    case RILL__MODEL_ADD:
        old = a.fetch_add((T)v, m, in);
        nv = (T)(old + (T)v);
        break;
    case RILL__MODEL_SUB:
        old = a.fetch_sub((T)v, m, in);
        nv = (T)(old - (T)v);
        break;
    case RILL__MODEL_OR:
        old = a.fetch_or((T)v, m, in);
        nv = (T)(old | (T)v);
        break;
    default:
        old = a.fetch_and((T)v, m, in);
        nv = (T)(old & (T)v);
        break;
    }
    write_back<T>(p, nv);
    return old;
}

template <class T>
bool cas_t(volatile void *p, void *expected, uint64_t desired, int mo_ok,
           int mo_fail, bool weak, const rl::debug_info &in)
{
    auto &a = shadow_at<T>(p).a;
    T cmp;
    std::memcpy(&cmp, expected, sizeof cmp);
    bool ok = weak ? a.compare_exchange_weak(cmp, (T)desired, mo_of(mo_ok), in,
                                             mo_of(mo_fail), in)
                   : a.compare_exchange_strong(cmp, (T)desired, mo_of(mo_ok),
                                               in, mo_of(mo_fail), in);
    if (ok)
        write_back<T>(p, (T)desired);
    else
        std::memcpy(expected, &cmp, sizeof cmp);
    return ok;
}

[[noreturn]] void bad_size(unsigned size)
{
    std::cerr << "rill model: no atomic of " << size << " bytes\n";
    std::abort();
}

#define RILL_MODEL_BY_SIZE(size, call)                                         \
    switch (size) {                                                            \
    case 1: {                                                                  \
        typedef uint8_t T;                                                     \
        call;                                                                  \
    }                                                                          \
    case 2: {                                                                  \
        typedef uint16_t T;                                                    \
        call;                                                                  \
    }                                                                          \
    case 4: {                                                                  \
        typedef uint32_t T;                                                    \
        call;                                                                  \
    }                                                                          \
    case 8: {                                                                  \
        typedef uint64_t T;                                                    \
        call;                                                                  \
    }                                                                          \
    default:                                                                   \
        bad_size(size);                                                        \
    }

rl::debug_info at(const char *file, int line)
{
    return rl::debug_info("", file, (unsigned)line);
}

} // namespace

namespace rill_model
{

void reset_begin()
{
    /* Left over from an iteration that failed (relacy stopped it midway):
     * its context is gone, so they are dropped, not destroyed. */
    shadows.clear();
    mutexes.clear();
    key_values.clear();
}

void reset_end()
{
    /* The threads' pthread-key destructors, as at thread exit. */
    auto values = key_values;
    key_values.clear();
    for (auto &kv : values)
        if (kv.second && key_dtors[kv.first.second])
            key_dtors[kv.first.second](kv.second);
    for (auto &kv : shadows)
        destroy(kv.second);
    shadows.clear();
    for (auto &kv : mutexes)
        destroy(kv.second);
    mutexes.clear();
}

} // namespace rill_model

extern "C" {

uint64_t rill__model_load(const volatile void *p, unsigned size, int mo,
                          const char *file, int line)
{
    RILL_MODEL_BY_SIZE(size, return load_t<T>(p, mo, at(file, line)))
}

void rill__model_store(volatile void *p, unsigned size, uint64_t v, int mo,
                       const char *file, int line){
    RILL_MODEL_BY_SIZE(size, return store_t<T>(p, v, mo, at(file, line)))}

uint64_t rill__model_rmw(volatile void *p, unsigned size, int op, uint64_t v,
                         int mo, const char *file, int line)
{
    RILL_MODEL_BY_SIZE(size, return rmw_t<T>(p, op, v, mo, at(file, line)))
}

bool rill__model_cas(volatile void *p, unsigned size, void *expected,
                     uint64_t desired, int mo_ok, int mo_fail, bool weak,
                     const char *file, int line)
{
    RILL_MODEL_BY_SIZE(size, return cas_t<T>(p, expected, desired, mo_ok,
                                             mo_fail, weak, at(file, line)))
}

void rill__model_fence(int mo, const char *file, int line)
{
    rl::atomic_thread_fence(mo_of(mo), at(file, line));
}

int rill__model_yield(const char *file, int line)
{
    rl::yield(1, at(file, line));
    return 0;
}

int rill__model_mutex_lock(void *m, const char *file, int line)
{
    mutex_shadow *&s = mutexes[(uintptr_t)m];
    if (!s)
        s = make<mutex_shadow>();
    s->m.lock(at(file, line));
    return 0;
}

int rill__model_mutex_unlock(void *m, const char *file, int line)
{
    mutexes.at((uintptr_t)m)->m.unlock(at(file, line));
    return 0;
}

int rill__model_key_create(pthread_key_t *k, void (*dtor)(void *))
{
    *k = (pthread_key_t)key_dtors.size();
    key_dtors.push_back(dtor);
    return 0;
}

void *rill__model_getspecific(pthread_key_t k)
{
    auto it = key_values.find({rill__model_thread(), k});
    return it == key_values.end() ? nullptr : it->second;
}

int rill__model_setspecific(pthread_key_t k, const void *v)
{
    key_values[{rill__model_thread(), k}] = const_cast<void *>(v);
    return 0;
}

void rill__model_check(bool ok, const char *what, const char *file, int line)
{
    if (!ok)
        rl::ctx().fail_test(what, rl::test_result_user_assert_failed,
                            at(file, line));
}

unsigned rill__model_thread(void)
{
    return (unsigned)rl::ctx().threadx_->index_;
}

void rill__model_forget(const void *p, size_t n)
{
    for (auto it = shadows.begin(); it != shadows.end();) {
        if (it->first >= (uintptr_t)p && it->first < (uintptr_t)p + n) {
            destroy(it->second);
            it = shadows.erase(it);
        } else {
            ++it;
        }
    }
}

/* futex.c's three functions (futex.c is not part of a model build). A
 * futex call is a full barrier on Linux (the kernel orders the word's
 * read against the wake with smp_mb), as relacy's own futex models it. */
void rill__futex_wait(void *word, uint32_t expected, int64_t deadline_ns)
{
    rl::context &c = rl::ctx();
    rl::debug_info in = at("futex_wait", 0);
    auto &a = shadow_at<uint32_t>(word).a;
    c.sched();
    c.atomic_thread_fence_seq_cst();
    uint32_t v;
    {
        rl::preemption_disabler pd(c);
        v = a.load(rl::mo_acquire, in);
    }
    if (v != expected)
        return;
    /* A deadline: relacy may let the wait time out (then rill re-checks,
     * as after any early return). */
    a.wait(c, deadline_ns != INT64_MAX, false, in);
}

void rill__futex_wake(void *word, int n)
{
    rl::context &c = rl::ctx();
    rl::debug_info in = at("futex_wake", 0);
    auto &a = shadow_at<uint32_t>(word).a;
    c.sched();
    c.atomic_thread_fence_seq_cst();
    a.wake(c, (rl::thread_id_t)n, in);
}

/* No clock in a model: time stands still (a timed wait ends only by
 * relacy's choice to time it out). */
int64_t rill__mono_now(void)
{
    return 0;
}

} // extern "C"
