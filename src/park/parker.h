/* The per-thread parker: how one thread sleeps and is woken.
 *
 * Every thread known to cthreading owns exactly one parker, inside its
 * thread record. The address-keyed queues of park.c decide *who* to wake;
 * the parker is only the sleeping mechanism, so it is the one part that
 * differs between the two backends:
 *
 *   futex (Linux)       the state word itself is a private futex;
 *   fallback (POSIX)    a mutex + condition variable per parker, for every
 *                       other POSIX system; selected by CT_PARK_FALLBACK.
 *
 * State of a parker (one 32-bit word):
 *
 *   IDLE         not waiting
 *   PARKED       queued (or sleeping without a queue), may be spinning
 *   SLEEPING     in the kernel: a waker must make the wake syscall
 *                (futex backend; without this state we could not skip it),
 *                and times how long the wake-up takes (both backends)
 *   UNPARKED     a waker dequeued us and published a token: stop waiting
 *   INTERRUPTED  a stop request for this thread arrived while waiting
 *
 *   prepare:      any      -> PARKED       (the waiter, under its bucket lock)
 *   wait:         PARKED   -> SLEEPING     (the waiter, before it sleeps)
 *   unpark:       any      -> UNPARKED     (a waker; wakes only if SLEEPING)
 *   interrupt:    PARKED|SLEEPING -> INTERRUPTED  (ct_thread_request_stop)
 *
 * A stop request is sticky (the thread's flag is never cleared), so an
 * INTERRUPTED state always means "stop": an uninterruptible wait treats it
 * like PARKED and keeps waiting.
 */
#ifndef CT_PARK_PARKER_H
#define CT_PARK_PARKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef CT_PARK_FALLBACK
#include <pthread.h>
#endif

#include "core/internal.h"

enum {
	CT__PK_IDLE = 0,
	CT__PK_PARKED = 1,
	CT__PK_SLEEPING = 2,
	CT__PK_UNPARKED = 3,
	CT__PK_INTERRUPTED = 4,
};

/* What ct__parker_wait() saw. */
enum ct__parker_result {
	CT__PKR_UNPARKED,
	CT__PKR_TIMEDOUT,
	CT__PKR_INTERRUPTED,
};

struct ct__parker {
	_Atomic uint32_t state;
	/* When a waker found the thread asleep and woke it (0: not since the
	 * thread last went to sleep): how long wake-ups take (ct__parker_learn). */
	_Atomic int64_t woken_at;
#ifdef CT_PARK_FALLBACK
	pthread_mutex_t mutex;
	pthread_cond_t cond;
#endif
};

void ct__parker_init(struct ct__parker *p);
void ct__parker_destroy(struct ct__parker *p);

/* Arms the parker. Called before the thread becomes visible to wakers. */
static inline void ct__parker_prepare(struct ct__parker *p)
{
	/* Relaxed: the thread is not visible to wakers yet; the bucket lock (or the seq_cst
	 * fence of ct__park_sleep()) publishes it with the node. */
	atomic_store_explicit(&p->state, CT__PK_PARKED, memory_order_relaxed);
}

/* True when state @p s ends a wait, with its result in *r: unparked, or
 * interrupted if the wait is interruptible (an uninterruptible one treats
 * INTERRUPTED like PARKED: a stop request is sticky). */
static inline bool ct__parker_settled(uint32_t s, bool interruptible, enum ct__parker_result *r)
{
	if (s == CT__PK_UNPARKED) {
		*r = CT__PKR_UNPARKED;
		return true;
	}
	if (s == CT__PK_INTERRUPTED && interruptible) {
		*r = CT__PKR_INTERRUPTED;
		return true;
	}
	return false;
}

/* Both backends' spin before sleeping: true, with the result in *r, if the
 * wait ended within @p rounds. */
static inline bool ct__parker_spin(struct ct__parker *p, bool interruptible, unsigned rounds,
				   enum ct__parker_result *r)
{
	for (unsigned i = 0; i < rounds; i++) {
		/* Acquire: pairs with the unparker's release, so the waker's writes are visible
		 * when the wait ends. */
		if (ct__parker_settled(atomic_load_explicit(&p->state, memory_order_acquire),
				       interruptible, r))
			return true;
		ct__cpu_relax();
	}
	return false;
}

/* How long wake-ups take on this machine (core/spin.c, ct__wake_ns): a
 * waker that finds the thread asleep stamps the time before it wakes it;
 * the thread, back from that sleep, reports how long it took to run
 * again. One clock read on each side, only where a system call is made
 * anyway. */
static inline void ct__parker_stamp(struct ct__parker *p)
{
	/* Relaxed: a measure, not a synchronisation; the unpark that follows publishes it. */
	atomic_store_explicit(&p->woken_at, ct__now_ns(), memory_order_relaxed);
}

/* Before the thread sleeps: no stamp left from an earlier wake-up. */
static inline void ct__parker_unstamp(struct ct__parker *p)
{
	/* Relaxed: ordered before any waker's stamp by what publishes the sleep (the futex
	 * parker's release of SLEEPING, the fallback's mutex). */
	atomic_store_explicit(&p->woken_at, 0, memory_order_relaxed);
}

/* Back from a sleep a waker ended: reports how long the wake-up took. */
static inline void ct__parker_learn(struct ct__parker *p)
{
	/* Relaxed: the unpark's release, which the wait acquired, orders the stamp before this. */
	int64_t t = atomic_load_explicit(&p->woken_at, memory_order_relaxed);
	if (t != 0)
		ct__wake_seen(ct__now_ns() - t);
}

/* Waits until unparked, until @p deadline (absolute CLOCK_MONOTONIC ns) or,
 * if @p interruptible, until interrupted. Spins up to @p spin rounds first:
 * on a machine where a futex wake-up costs tens of microseconds, most short
 * waits end during the spin and the waker then skips its syscall too.
 * *paid (if not NULL) says whether the wait ended while spinning.
 * Spurious wake-ups and EINTR never end the wait. */
enum ct__parker_result ct__parker_wait(struct ct__parker *p, int64_t deadline, bool interruptible,
				       unsigned spin, bool *paid);

/* Ends the wait of a parked thread (after its token is published). */
void ct__parker_unpark(struct ct__parker *p);

/* Interrupts the wait if the parker is waiting; no effect otherwise. */
void ct__parker_interrupt(struct ct__parker *p);

/* The lock of a bucket of wait queues: held for a few instructions, never
 * while sleeping on a parker, so it cannot be interrupted and never parks
 * through the queues itself. */
#ifdef CT_PARK_FALLBACK
struct ct__rawlock {
	pthread_mutex_t mutex;
};
#define CT__RAWLOCK_INIT                  \
	{                                 \
		PTHREAD_MUTEX_INITIALIZER \
	}
static inline void ct__rawlock_lock(struct ct__rawlock *l)
{
	pthread_mutex_lock(&l->mutex);
}
static inline void ct__rawlock_unlock(struct ct__rawlock *l)
{
	pthread_mutex_unlock(&l->mutex);
}
#else
/* 0 free, 1 held, 2 held and someone sleeps on it (Drepper's futex mutex). */
struct ct__rawlock {
	_Atomic uint32_t word;
};
#define CT__RAWLOCK_INIT \
	{                \
		0        \
	}
void ct__rawlock_lock_slow(struct ct__rawlock *l);
void ct__rawlock_wake(struct ct__rawlock *l);
static inline void ct__rawlock_lock(struct ct__rawlock *l)
{
	uint32_t expected = 0;
	/* Acquire: taking the bucket lock sees the previous holder's writes (its release below). */
	if (!atomic_compare_exchange_strong_explicit(&l->word, &expected, 1, memory_order_acquire,
						     memory_order_relaxed))
		ct__rawlock_lock_slow(l);
}
static inline void ct__rawlock_unlock(struct ct__rawlock *l)
{
	/* Release: publishes the bucket's changes to the next holder's acquire. */
	if (atomic_exchange_explicit(&l->word, 0, memory_order_release) == 2)
		ct__rawlock_wake(l);
}
#endif

/* Static initializers for tables of bucket locks: CT__REP64(m) expands to
 * 64 copies of m(). A zeroed pthread_mutex_t happens to be a valid mutex
 * on glibc and musl, but POSIX promises only PTHREAD_MUTEX_INITIALIZER.
 * (m is a function-like macro so that its commas appear only once the
 * repetition is done.) */
#define CT__REP4(m) m(), m(), m(), m()
#define CT__REP16(m) CT__REP4(m), CT__REP4(m), CT__REP4(m), CT__REP4(m)
#define CT__REP64(m) CT__REP16(m), CT__REP16(m), CT__REP16(m), CT__REP16(m)
#define CT__REP256(m) CT__REP64(m), CT__REP64(m), CT__REP64(m), CT__REP64(m)
#define CT__REP1024(m) CT__REP256(m), CT__REP256(m), CT__REP256(m), CT__REP256(m)

/* Re-initialises a bucket lock in a fork child, where its holder may be a
 * thread that no longer exists. */
void ct__rawlock_reinit(struct ct__rawlock *l);

#endif /* CT_PARK_PARKER_H */
