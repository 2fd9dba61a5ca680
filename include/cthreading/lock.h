/** @file
 * cthreading: Lock (Python's threading.Lock).
 */
#ifndef CTHREADING_LOCK_H
#define CTHREADING_LOCK_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup lock Lock
 *
 * Python's `threading.Lock`: not recursive, released by any thread.
 *
 * One 32-bit word. `acquire` is one compare-and-swap inline; contention goes
 * out of line: brief spinning (skipped when a thread already sleeps), then
 * parking. `release` is one compare-and-swap and makes the wake call only
 * when a thread is parked. Eventual fairness: about every 0.5 ms on average,
 * a release hands the lock straight to the longest-parked waiter, so no
 * waiter starves while barging keeps throughput high.
 *
 * @code
 * static ct_lock_t lock = CT_LOCK_INIT;   // lock = Lock()
 * CT_WITH_LOCK(&lock) {                   // with lock:
 *     num -= 1;
 * }
 * @endcode
 *
 * In C++, a ct_lock_t has no lock() and unlock() of its own; a few lines
 * of adaptor let std::lock_guard, std::unique_lock and std::scoped_lock
 * hold it for a scope, released however the scope is left
 * (tests/consumer/hello.cpp):
 *
 * @code
 * struct ct_lockable {
 *     ct_lock_t *target;
 *     void lock() { ct_lock_acquire(target); }
 *     bool try_lock() { return ct_lock_try_acquire(target); }
 *     void unlock() { (void)ct_lock_release(target); }
 * };
 * static ct_lockable sale_lock{&lock};
 * {
 *     std::lock_guard<ct_lockable> hold(sale_lock);   // with lock:
 *     num -= 1;
 * }                                                   // released here
 * @endcode
 * @{
 */

/** A lock. Treat the member as private; at most 8 bytes. */
typedef struct ct_lock {
	/** private: see the state table in src/sync/lock.c */
	CT__ATOMIC(uint32_t) ct__state;
} ct_lock_t;

/** @cond internal */
/* The lock word (the state table is in src/sync/lock.c):
 *
 *   0                  free, nobody parked
 *   LOCKED             held, nobody parked
 *   PARKED             free, threads parked (one was just woken to retry)
 *   LOCKED | PARKED    held, threads parked: release must unpark one
 */
#define CT__LOCK_LOCKED 1u
#define CT__LOCK_PARKED 2u
/** @endcond */

/** Static initializer: `static ct_lock_t lock = CT_LOCK_INIT;`. */
#define CT_LOCK_INIT \
	{            \
		0    \
	}

/** Initialises a lock (unlocked). Cannot fail; NULL does nothing. */
static inline void ct_lock_init(ct_lock_t *lock)
{
	if (CT__UNLIKELY(lock == NULL))
		return;
	CT__ATOMIC_INIT(&lock->ct__state, 0);
}

/** Releases a lock's resources (it has none; for symmetry). NULL does
 *  nothing. */
static inline void ct_lock_destroy(ct_lock_t *lock)
{
	CT__DEBUG_DESTROYED(lock);
}

/** Out-of-line contention path of ct_lock_acquire(): internal, exported only because the
 *  inline fast path calls it (part of the ABI, see docs/architecture.md). */
CT_API void ct__lock_acquire_slow(ct_lock_t *lock);
/** Out-of-line path of ct_lock_release(): internal, exported only because the
 *  inline fast path calls it (part of the ABI, see docs/architecture.md). */
CT_API int ct__lock_release_slow(ct_lock_t *lock) CT__NOEXCEPT;
/** Out-of-line ct_lock_try_acquire() while debugging is on: internal, exported only
 *  because the inline fast path calls it. */
CT_API bool ct__lock_try_acquire_slow(ct_lock_t *lock);

/** @cond internal */
/* ct_lock_acquire() and ct_lock_try_acquire() without their NULL check:
 * for callers inside the library, whose locks are never NULL (their
 * address is a struct member or a static), so no branch of theirs tests
 * a case that cannot happen. */
static inline CT__ALWAYS_INLINE void ct__lock_acquire_nonnull(ct_lock_t *lock)
{
	uint32_t expected = 0;
	/* Acquire: pairs with the release that freed the word, so the last
	 * holder's writes are visible; a failed CAS takes nothing. */
	if (CT__UNLIKELY(CT__DEBUG_ON(CT__DEBUG_LOCKS) ||
			 !CT__ATOMIC_CAS_WEAK(&lock->ct__state, &expected, CT__LOCK_LOCKED, acquire,
					      relaxed)))
		ct__lock_acquire_slow(lock);
}

static inline CT__ALWAYS_INLINE bool ct__lock_try_acquire_nonnull(ct_lock_t *lock)
{
	if (CT__DEBUG_ON(CT__DEBUG_LOCKS))
		return ct__lock_try_acquire_slow(lock);
	/* Relaxed: the CAS's guess; the CAS itself acquires, as above. */
	uint32_t s = CT__ATOMIC_LOAD(&lock->ct__state, relaxed);
	while (!(s & CT__LOCK_LOCKED)) {
		/* Acquire on success, as in ct_lock_acquire(); a failed CAS only refreshes the
		 * guess. */
		if (CT__ATOMIC_CAS_WEAK(&lock->ct__state, &s, s | CT__LOCK_LOCKED, acquire,
					relaxed))
			return true;
	}
	return false;
}
/** @endcond */

/** `Lock.acquire()`: blocks until the lock is held.
 *
 * Not interruptible by stop requests (a lock is held briefly; use
 * ct_lock_acquire_timeout() for a wait that can be stopped). Releases the
 * caller's GIL while it sleeps. NULL does nothing (ct_lock_acquire_timeout()
 * reports it: CT_EINVAL). */
static inline CT__ALWAYS_INLINE void ct_lock_acquire(ct_lock_t *lock)
{
	if (CT__UNLIKELY(lock == NULL))
		return;
	ct__lock_acquire_nonnull(lock);
}

/** `Lock.acquire(blocking=False)`: true if the lock was free and is now held;
 *  false for NULL. */
static inline CT__ALWAYS_INLINE bool ct_lock_try_acquire(ct_lock_t *lock)
{
	if (CT__UNLIKELY(lock == NULL))
		return false;
	return ct__lock_try_acquire_nonnull(lock);
}

/** `Lock.acquire(timeout=...)`: 0 once held, CT_ETIMEDOUT if the timeout
 *  expired (0: try once; CT_FOREVER: no limit).
 *
 * Errors: CT_EINVAL (NaN), CT_ETOOLARGE. Interruptible: CT_ESTOPPED.
 * Releases the caller's GIL while it sleeps. */
CT_API int ct_lock_acquire_timeout(ct_lock_t *lock, double timeout);

/** `Lock.release()`, from any thread.
 *
 * Errors: CT_EUNLOCKED ("release unlocked lock"), CT_EINVAL (NULL). */
static inline int ct_lock_release(ct_lock_t *lock)
{
	if (CT__UNLIKELY(lock == NULL))
		return CT_EINVAL;
	uint32_t expected = CT__LOCK_LOCKED;
	/* Release: publishes the critical section to the next acquire. */
	if (CT__LIKELY(!CT__DEBUG_ON(CT__DEBUG_LOCKS) &&
		       CT__ATOMIC_CAS_STRONG(&lock->ct__state, &expected, 0, release, relaxed)))
		return 0;
	return ct__lock_release_slow(lock);
}

/** `Lock.locked()`; false for NULL. */
static inline bool ct_lock_locked(const ct_lock_t *lock)
{
	if (CT__UNLIKELY(lock == NULL))
		return false;
	/* Relaxed: a snapshot that orders nothing (as Python's locked()). */
	return CT__ATOMIC_LOAD(&lock->ct__state, relaxed) & CT__LOCK_LOCKED;
}

/** @cond internal */
static inline void ct__lock_guard_release(ct_lock_t **guard)
{
	if (*guard)
		(void)ct_lock_release(*guard);
}
/** @endcond */

/** `with lock:` — runs the block holding @p lock (acquired as ct_lock_acquire()).
 *
 * Leaving the block by its end, break or continue releases the lock; with
 * GCC and Clang, return and goto out of the block do too. longjmp() out of
 * it never does, nor do return and goto with other compilers.
 *
 * break and continue inside the block act on the block, not on a loop
 * around it (the block is the body of a for loop run once): unlike
 * Python's, a break leaves the block and the enclosing loop goes on, and
 * a continue leaves the block and the rest of that turn still runs. No
 * C macro can make them reach the enclosing loop (see CT__WITH in
 * common.h). To leave it, set a flag in the block and break after the
 * block, or, with GCC and Clang, goto past the loop (the lock is
 * released): examples/ex6c_with_break.c shows both. A NULL @p lock skips
 * the block. In C++, an exception leaving the block releases the lock
 * too (GCC, Clang). */
#define CT_WITH_LOCK(lock) \
	CT__WITH(ct_lock_t *, ct__lock_guard_release, (ct_lock_acquire(lock), (lock)))

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_LOCK_H */
