/* SPDX-License-Identifier: MIT */
/*
 * reactor_epoll.c - the reactor on Linux: one epoll instance per runtime,
 * every fd registered once, edge-triggered, for both directions
 * (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET).
 *
 * Who polls. There is no reactor thread. A worker that has nothing to run
 * and would sleep on its futex sleeps in epoll_wait instead, if no other
 * worker does (the `poller` word: worker index + 1, taken by CAS), with
 * the time to its next timer as the timeout: epoll_pwait2's nanoseconds
 * where the kernel has it (5.11+), else a timerfd in the epoll set armed
 * at the deadline (so sub-millisecond timers keep their precision either
 * way), else milliseconds rounded up. A wake for that
 * worker (work arrived elsewhere) writes the eventfd that sits in the
 * epoll set. Busy workers poll with timeout 0 every few scheduler ticks
 * (sched.c), so a hot task does not starve I/O.
 *
 * The wake race. The poller stores `poller` then reads its sleep word; a
 * waker exchanges the sleep word then reads `poller` (both seq_cst): one
 * of them sees the other, so either the poller does not wait or the
 * waker writes the eventfd (which epoll reports even if written before
 * the wait begins).
 *
 * Readiness (reactor.h): events set bits in the registration's readiness
 * word and bump its tick, then wake the waiters of those directions.
 * Setting the bits before taking the registration's lock, and a waiter
 * reading them after taking it, means a waiter either sees the bits or is
 * on the list the event walks.
 *
 * Registrations sit in a slab of chunks that are freed only with the
 * reactor. An event names its slot and the slot's generation (bumped at
 * each free), so a late event for a registration that is gone - its fd
 * closed, maybe its number reused by a new registration - is dropped. A
 * free racing with a dispatch that already checked the generation can at
 * worst mark the slot's next registration ready spuriously: the next call
 * then meets EAGAIN and clears it.
 */
#include "rt_int.h"

#include "reactor.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SLOTS_PER_CHUNK 256
#define MAX_CHUNKS 4096 /* a million registrations per runtime */
#define EVFD_TAG UINT64_MAX
#define TFD_TAG (UINT64_MAX - 1)
#define TICK_ONE ((uint64_t)1 << 8)
#define EVENTS_PER_POLL 128
#define NO_SLOT UINT32_MAX

struct rill__ioreg {
    _Atomic uint64_t ready; /* RILL__IO_* bits | tick * TICK_ONE */
    _Atomic uint32_t gen;   /* bumped at each free (release) */
    uint32_t index;         /* slot number */
    int fd;                 /* -1 while the slot is free */
    rill__reactor_t *r;
    pthread_mutex_t lock;
    rill__list_t waiters; /* rill__io_waiter_t.link, under lock */
    uint32_t next_free;   /* under r->lock, while free */
};

bool rill__reactor_no_pwait2;

struct rill__reactor {
    int epfd, evfd;
    /* Without epoll_pwait2: a timerfd in the epoll set (-1 if none) and
     * the deadline it is armed at. Only the poller touches them (taking
     * and dropping the role orders one poller after the next). */
    int tfd;
    rill_instant_t tfd_armed;
    struct rill_runtime *rt;
    /* Worker index + 1 polling now, 0 if none. seq_cst against the
     * sleep word (file comment). */
    _Atomic uint32_t poller;
    _Atomic int64_t waiters; /* linked waiters, all registrations */
    _Atomic uint64_t nregs;  /* live registrations */
    bool pwait2;             /* epoll_pwait2 works (probed at creation) */
    pthread_mutex_t lock;    /* slab growth and the free list */
    uint32_t nslots;         /* slots made (under lock) */
    uint32_t free_head;      /* under lock */
    /* Chunks, published with release once made (dispatch reads them
     * without the lock). */
    _Atomic(rill__ioreg_t *) chunks[MAX_CHUNKS];
};

/* ---- creation ---- */

int rill__reactor_new(struct rill_runtime *rt, rill__reactor_t **out)
{
    rill__reactor_t *r = rill__calloc(1, sizeof *r);
    if (!r)
        return RILL_ENOMEM;
    r->rt = rt;
    r->free_head = NO_SLOT;
    r->tfd = -1;
    pthread_mutex_init(&r->lock, NULL);
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EVFD_TAG};
    if (r->epfd < 0 || r->evfd < 0 ||
        epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->evfd, &ev) != 0) {
        int e = errno;
        rill__reactor_free(r);
        return e == EMFILE || e == ENFILE ? RILL_EMFILE : RILL_ESYS;
    }
#ifdef SYS_epoll_pwait2
    struct epoll_event none[1];
    struct timespec zero = {0, 0};
    r->pwait2 =
        !rill__reactor_no_pwait2 &&
        syscall(SYS_epoll_pwait2, r->epfd, none, 1, &zero, NULL, 0) >= 0;
#endif
    if (!r->pwait2) {
        /* Without a timerfd (out of fds) timeouts round up to
         * milliseconds: late, never early. */
        r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct epoll_event tev = {.events = EPOLLIN, .data.u64 = TFD_TAG};
        if (r->tfd >= 0 &&
            epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->tfd, &tev) != 0) {
            close(r->tfd);
            r->tfd = -1;
        }
        r->tfd_armed = RILL_FOREVER;
    }
    *out = r;
    return 0;
}

void rill__reactor_free(rill__reactor_t *r)
{
    if (!r)
        return;
    for (unsigned c = 0; c < MAX_CHUNKS; c++) {
        rill__ioreg_t *chunk = rill__load(&r->chunks[c], RILL_RELAXED);
        if (!chunk)
            break;
        for (unsigned i = 0; i < SLOTS_PER_CHUNK; i++)
            pthread_mutex_destroy(&chunk[i].lock);
        rill__free(chunk);
    }
    if (r->epfd >= 0)
        close(r->epfd);
    if (r->evfd >= 0)
        close(r->evfd);
    if (r->tfd >= 0)
        close(r->tfd);
    pthread_mutex_destroy(&r->lock);
    rill__free(r);
}

rill__reactor_t *rill__runtime_reactor(struct rill_runtime *rt)
{
    return rt->reactor;
}

int64_t rill__reactor_waiters(const rill__reactor_t *r)
{
    /* seq_cst: the deadlock detector reads it in its single order with
     * the workers' idle state (deadlock.c). */
    return r ? rill__load(&r->waiters, RILL_SEQ_CST) : 0;
}

uint64_t rill__reactor_regs(const rill__reactor_t *r)
{
    /* relaxed: a hint whether polling is worth a system call; a
     * registration made meanwhile is served by the next poll. */
    return r ? rill__load(&r->nregs, RILL_RELAXED) : 0;
}

/* ---- registrations ---- */

static rill__ioreg_t *slot_at(rill__reactor_t *r, uint32_t index)
{
    if (index / SLOTS_PER_CHUNK >= MAX_CHUNKS)
        return NULL;
    /* acquire: pairs with the release that published the chunk. */
    rill__ioreg_t *chunk =
        rill__load(&r->chunks[index / SLOTS_PER_CHUNK], RILL_ACQUIRE);
    return chunk ? &chunk[index % SLOTS_PER_CHUNK] : NULL;
}

/* r->lock held: a free slot, or NULL when out of memory or slots. */
static rill__ioreg_t *slot_take(rill__reactor_t *r)
{
    if (r->free_head != NO_SLOT) {
        rill__ioreg_t *reg = slot_at(r, r->free_head);
        r->free_head = reg->next_free;
        return reg;
    }
    uint32_t c = r->nslots / SLOTS_PER_CHUNK;
    if (c >= MAX_CHUNKS)
        return NULL;
    if (r->nslots % SLOTS_PER_CHUNK == 0) {
        rill__ioreg_t *chunk = rill__calloc(SLOTS_PER_CHUNK, sizeof *chunk);
        if (!chunk)
            return NULL;
        for (unsigned i = 0; i < SLOTS_PER_CHUNK; i++) {
            chunk[i].index = c * SLOTS_PER_CHUNK + i;
            chunk[i].fd = -1;
            chunk[i].r = r;
            pthread_mutex_init(&chunk[i].lock, NULL);
            rill__list_init(&chunk[i].waiters);
        }
        /* release: the slots' initialisation before the chunk is seen. */
        rill__store(&r->chunks[c], chunk, RILL_RELEASE);
    }
    return slot_at(r, r->nslots++);
}

static void slot_put(rill__reactor_t *r, rill__ioreg_t *reg)
{
    pthread_mutex_lock(&r->lock);
    reg->fd = -1;
    reg->next_free = r->free_head;
    r->free_head = reg->index;
    pthread_mutex_unlock(&r->lock);
}

int rill__ioreg_new(rill__reactor_t *r, int fd, rill__ioreg_t **out)
{
    pthread_mutex_lock(&r->lock);
    rill__ioreg_t *reg = slot_take(r);
    pthread_mutex_unlock(&r->lock);
    if (!reg)
        return RILL_ENOMEM;
    reg->fd = fd;
    /* Optimistic: the first call tries its system call before waiting
     * (EAGAIN then clears the bit). relaxed: the registration is not
     * shared yet; the epoll_ctl below orders it before any event. */
    rill__store(&reg->ready, RILL__IO_READABLE | RILL__IO_WRITABLE,
                RILL_RELAXED);
    uint64_t gen = rill__load(&reg->gen, RILL_RELAXED);
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.u64 = gen << 32 | reg->index,
    };
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int e = errno;
        slot_put(r, reg);
        return e == ENOMEM || e == ENOSPC ? RILL_ENOMEM : RILL_EINVAL;
    }
    rill__fetch_add(&r->nregs, 1, RILL_RELAXED); /* a hint: see regs() */
    *out = reg;
    return 0;
}

/* reg->lock held: take every waiter matching `bits` (all if bits has
 * CLOSED) off the list, their wakers into out[0..max). Returns how many;
 * *more if some matched but did not fit. */
static size_t take_waiters(rill__ioreg_t *reg, uint64_t bits, rill_waker_t *out,
                           size_t max, bool *more)
{
    size_t n = 0;
    *more = false;
    rill__list_t *l = reg->waiters.next;
    while (l != &reg->waiters) {
        rill__io_waiter_t *wt = RILL_CONTAINER_OF(l, rill__io_waiter_t, link);
        l = l->next;
        bool match =
            (bits & (RILL__IO_CLOSED | RILL__IO_HUP)) ||
            ((wt->interest & RILL__WANT_READ) &&
             (bits & (RILL__IO_READABLE | RILL__IO_RDHUP))) ||
            ((wt->interest & RILL__WANT_WRITE) && (bits & RILL__IO_WRITABLE));
        if (!match)
            continue;
        if (n == max) {
            *more = true;
            break;
        }
        rill__list_remove(&wt->link);
        out[n++] = wt->waker;
        wt->waker = RILL_WAKER_NONE;
        /* release: the owner that sees false (acquire, fast path) sees
         * the node off the list and its waker taken. */
        rill__store(&wt->linked, false, RILL_RELEASE);
        /* relaxed: a count; the lock and the wake order the rest. */
        rill__fetch_sub(&reg->r->waiters, 1, RILL_RELAXED);
    }
    return n;
}

/* Wake the waiters that `bits` concern; returns how many. */
static size_t wake_waiters(rill__ioreg_t *reg, uint64_t bits)
{
    size_t total = 0;
    bool more = true;
    while (more) {
        rill_waker_t wk[16];
        pthread_mutex_lock(&reg->lock);
        size_t n = take_waiters(reg, bits, wk, 16, &more);
        pthread_mutex_unlock(&reg->lock);
        /* Outside the lock: a waker may take the scheduler's locks. */
        for (size_t i = 0; i < n; i++)
            rill_waker_wake(&wk[i]);
        total += n;
    }
    return total;
}

/* Add bits to the readiness word and bump its tick. */
static void set_ready(rill__ioreg_t *reg, uint64_t bits)
{
    uint64_t cur = rill__load(&reg->ready, RILL_RELAXED);
    /* release: a waiter that sees these bits (acquire) also sees what the
     * kernel's readiness stands for, in the sense that its next system
     * call comes after the event; acq_rel keeps ticks in order. */
    while (!rill__cas_weak(&reg->ready, &cur, (cur | bits) + TICK_ONE,
                           RILL_ACQ_REL, RILL_RELAXED))
        ;
}

void rill__ioreg_mark_closed(rill__ioreg_t *reg)
{
    set_ready(reg, RILL__IO_CLOSED);
}

void rill__ioreg_close(rill__ioreg_t *reg)
{
    set_ready(reg, RILL__IO_CLOSED);
    wake_waiters(reg, RILL__IO_CLOSED);
}

void rill__ioreg_free(rill__ioreg_t *reg)
{
    rill__reactor_t *r = reg->r;
    /* The fd is still open: a DEL cannot hit another file. */
    epoll_ctl(r->epfd, EPOLL_CTL_DEL, reg->fd, NULL);
    rill__ioreg_close(reg);
    /* release: pairs with the dispatcher's acquire of gen; events tagged
     * with the old generation are dropped from now on. */
    rill__fetch_add(&reg->gen, 1, RILL_RELEASE);
    rill__fetch_sub(&r->nregs, 1, RILL_RELAXED); /* a hint: see regs() */
    slot_put(r, reg);
}

/* What of `interest` the readiness word s allows (RILL_IO_* bits). */
static int ready_for(uint64_t s, int interest)
{
    int out = 0;
    if ((interest & RILL__WANT_READ) &&
        (s & (RILL__IO_READABLE | RILL__IO_RDHUP | RILL__IO_HUP)))
        out |= RILL__WANT_READ;
    if ((interest & RILL__WANT_WRITE) &&
        (s & (RILL__IO_WRITABLE | RILL__IO_HUP)))
        out |= RILL__WANT_WRITE;
    return out;
}

static void unlink_locked(rill__ioreg_t *reg, rill__io_waiter_t *wt)
{
    if (!rill__load(&wt->linked, RILL_RELAXED)) /* under the lock */
        return;
    rill__list_remove(&wt->link);
    rill__store(&wt->linked, false, RILL_RELAXED); /* under the lock */
    rill_waker_release(&wt->waker);
    rill__fetch_sub(&reg->r->waiters, 1, RILL_RELAXED); /* a count */
}

/*
 * A waiter was just linked: make sure some worker will poll. A task's own
 * worker does (it polls when it parks, and every few tasks while busy),
 * but a plain thread (or another runtime's task) that waits while every
 * worker of r sleeps on its futex - they went to sleep before any fd was
 * registered, or none of them is the poller - would wait forever: wake
 * one, which parks again as the poller.
 *
 * The waiter count's seq_cst increment comes before this seq_cst load of
 * `poller`; a worker takes the role by a seq_cst CAS before it waits. If
 * this load sees no poller, the wake below makes one; if it sees one,
 * that worker polls until it is woken for work, and a worker that runs
 * tasks polls while busy and again when it parks.
 */
static void ensure_poller(rill__reactor_t *r)
{
    if (rill__current_runtime() == r->rt ||
        rill__load(&r->poller, RILL_SEQ_CST) != 0)
        return;
    rill__notify_work(r->rt);
}

int rill__ioreg_poll_ready(rill__ioreg_t *reg, int interest,
                           rill__io_waiter_t *wt, rill_cx_t *cx, uint64_t *tick)
{
    /* acquire: pairs with set_ready's release. */
    uint64_t s = rill__load(&reg->ready, RILL_ACQUIRE);
    /* acquire: see rill__io_waiter_t.linked. */
    if (!(s & RILL__IO_CLOSED) && ready_for(s, interest) &&
        !rill__load(&wt->linked, RILL_ACQUIRE)) {
        *tick = s;
        return 0;
    }
    pthread_mutex_lock(&reg->lock);
    /* Under the lock: an event that set bits after this load walks the
     * list after we unlock, and finds wt there (file comment). */
    s = rill__load(&reg->ready, RILL_ACQUIRE);
    int r;
    bool linked_now = false;
    if (s & RILL__IO_CLOSED) {
        unlink_locked(reg, wt);
        r = RILL_ECLOSED;
    } else if (ready_for(s, interest)) {
        unlink_locked(reg, wt);
        *tick = s;
        r = 0;
    } else {
        if (!rill__load(&wt->linked, RILL_RELAXED)) { /* under the lock */
            wt->interest = interest;
            wt->waker = RILL_WAKER_NONE;
            rill__list_push_back(&reg->waiters, &wt->link);
            rill__store(&wt->linked, true, RILL_RELAXED); /* under the lock */
            /* seq_cst: the deadlock detector must see this waiter before
             * the worker that polls goes idle (deadlock.c). */
            rill__fetch_add(&reg->r->waiters, 1, RILL_SEQ_CST);
            linked_now = true;
        }
        rill_waker_set(&wt->waker, cx->waker);
        r = RILL_PENDING;
    }
    pthread_mutex_unlock(&reg->lock);
    if (linked_now)
        ensure_poller(reg->r);
    return r;
}

/* Clear `bits` unless an event bumped the tick since `tick` was read. */
static void clear_bits(rill__ioreg_t *reg, uint64_t bits, uint64_t tick)
{
    uint64_t cur = rill__load(&reg->ready, RILL_RELAXED);
    /* relaxed: clearing publishes nothing; the CAS only has to fail when
     * an event bumped the tick since `tick` was read. */
    while (cur / TICK_ONE == tick / TICK_ONE &&
           !rill__cas_weak(&reg->ready, &cur, cur & ~bits, RILL_RELAXED,
                           RILL_RELAXED))
        ;
}

void rill__ioreg_clear(rill__ioreg_t *reg, int interest, uint64_t tick)
{
    /* EAGAIN proves every bit that let this direction through stale,
     * hang-ups too: a socket really hung up answers 0 or an error, never
     * EAGAIN (an unconnected socket reports EPOLLHUP when it is
     * registered, before its connect: that bit must not stick). */
    uint64_t bits = 0;
    if (interest & RILL__WANT_READ)
        bits |= RILL__IO_READABLE | RILL__IO_RDHUP | RILL__IO_HUP;
    if (interest & RILL__WANT_WRITE)
        bits |= RILL__IO_WRITABLE | RILL__IO_HUP;
    clear_bits(reg, bits, tick);
}

void rill__ioreg_clear_drained(rill__ioreg_t *reg, int interest, uint64_t tick)
{
    /* A short read or write on a stream socket: the kernel had no more
     * (room) at that moment, and anything that comes later raises a new
     * edge. Only the data bits go: a hang-up that arrived with the last
     * bytes is reported once, and the next read must still see it (0). */
    uint64_t bits = 0;
    if (interest & RILL__WANT_READ)
        bits |= RILL__IO_READABLE;
    if (interest & RILL__WANT_WRITE)
        bits |= RILL__IO_WRITABLE;
    clear_bits(reg, bits, tick);
}

void rill__ioreg_unwait(rill__ioreg_t *reg, rill__io_waiter_t *wt)
{
    pthread_mutex_lock(&reg->lock); /* linked is the event's to clear too */
    unlink_locked(reg, wt);
    pthread_mutex_unlock(&reg->lock);
}

/* ---- polling ---- */

static uint64_t bits_of(uint32_t ev)
{
    uint64_t b = 0;
    if (ev & (EPOLLIN | EPOLLPRI))
        b |= RILL__IO_READABLE;
    if (ev & EPOLLOUT)
        b |= RILL__IO_WRITABLE;
    if (ev & EPOLLRDHUP)
        b |= RILL__IO_RDHUP;
    if (ev & (EPOLLHUP | EPOLLERR))
        b |= RILL__IO_HUP;
    return b;
}

static size_t dispatch(rill__reactor_t *r, const struct epoll_event *ev, int n)
{
    size_t woke = 0;
    for (int i = 0; i < n; i++) {
        uint64_t tag = ev[i].data.u64;
        if (tag == EVFD_TAG || tag == TFD_TAG) {
            uint64_t v;
            /* Drain the wake counter or the expirations (non-blocking;
             * nothing to check: the caller looks at the clock). */
            if (read(tag == EVFD_TAG ? r->evfd : r->tfd, &v, sizeof v) < 0)
                continue;
            continue;
        }
        rill__ioreg_t *reg = slot_at(r, (uint32_t)tag);
        /* acquire: pairs with the release in rill__ioreg_free. */
        if (!reg ||
            rill__load(&reg->gen, RILL_ACQUIRE) != (uint32_t)(tag >> 32))
            continue; /* a registration that is gone */
        uint64_t bits = bits_of(ev[i].events);
        set_ready(reg, bits);
        woke += wake_waiters(reg, bits);
    }
    return woke;
}

/* epoll_wait until `until` (RILL_FOREVER: no limit; 0: do not wait). */
static int wait_events(rill__reactor_t *r, struct epoll_event *ev,
                       rill_instant_t until)
{
    if (until == 0)
        return epoll_wait(r->epfd, ev, EVENTS_PER_POLL, 0);
    int64_t ns = -1;
    if (until != RILL_FOREVER) {
        ns = until - rill__mono_now();
        if (ns <= 0) /* due: look without waiting (and never rely on a
                      * timerfd that fired at this deadline already) */
            return epoll_wait(r->epfd, ev, EVENTS_PER_POLL, 0);
    }
#ifdef SYS_epoll_pwait2
    if (r->pwait2) {
        struct timespec ts = {(time_t)(ns / 1000000000),
                              (long)(ns % 1000000000)};
        return (int)syscall(SYS_epoll_pwait2, r->epfd, ev, EVENTS_PER_POLL,
                            ns < 0 ? NULL : &ts, NULL, 0);
    }
#endif
    if (r->tfd >= 0) {
        /* Arm at the deadline itself (CLOCK_MONOTONIC, as
         * rill__mono_now), only when it changed. An earlier deadline left
         * armed only wakes a later wait spuriously, which the caller's
         * loop absorbs. */
        if (ns > 0 && until != r->tfd_armed) {
            struct itimerspec its = {.it_value = {(time_t)(until / 1000000000),
                                                  (long)(until % 1000000000)}};
            if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
                r->tfd_armed = until;
            else
                r->tfd_armed = RILL_FOREVER; /* fall through to ms */
        }
        if (ns < 0 || r->tfd_armed == until)
            return epoll_wait(r->epfd, ev, EVENTS_PER_POLL, -1);
    }
    /* Milliseconds, rounded up so a timer is never early. */
    int ms = ns < 0 ? -1 : (int)((ns + 999999) / 1000000);
    return epoll_wait(r->epfd, ev, EVENTS_PER_POLL, ms);
}

static bool take_poller(rill__reactor_t *r, unsigned index)
{
    uint32_t none = 0;
    /* seq_cst: see the file comment (the wake race). */
    return rill__cas(&r->poller, &none, index + 1, RILL_SEQ_CST, RILL_RELAXED);
}

static void drop_poller(rill__reactor_t *r)
{
    /* release: the next poller sees our dispatch done. */
    rill__store(&r->poller, 0, RILL_RELEASE);
}

bool rill__reactor_park(rill__reactor_t *r, struct rill__worker *w,
                        _Atomic uint32_t *sleep_word, rill_instant_t until,
                        size_t *woke)
{
    *woke = 0;
    if (!r || rill__reactor_regs(r) == 0 || !take_poller(r, w->index))
        return false;
    /* seq_cst: after publishing ourselves as the poller (file comment). */
    if (rill__load(sleep_word, RILL_SEQ_CST) == 0) {
        drop_poller(r);
        return true;
    }
    struct epoll_event ev[EVENTS_PER_POLL];
    int n = wait_events(r, ev, until);
    if (n > 0)
        *woke = dispatch(r, ev, n);
    drop_poller(r);
    return true;
}

size_t rill__reactor_poll_now(rill__reactor_t *r, struct rill__worker *w)
{
    if (!r || rill__reactor_regs(r) == 0 || !take_poller(r, w->index))
        return 0;
    struct epoll_event ev[EVENTS_PER_POLL];
    int n = wait_events(r, ev, 0);
    size_t woke = n > 0 ? dispatch(r, ev, n) : 0;
    drop_poller(r);
    return woke;
}

void rill__reactor_unpark(rill__reactor_t *r, unsigned worker_index)
{
    /* seq_cst: after the sleep word's exchange (file comment). */
    if (r && rill__load(&r->poller, RILL_SEQ_CST) == worker_index + 1) {
        uint64_t one = 1;
        /* Cannot fail short of a counter at 2^64 - 2. */
        if (write(r->evfd, &one, sizeof one) < 0)
            return;
    }
}
