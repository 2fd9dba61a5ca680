/** @file
 * cthreading: Condition (Python's threading.Condition).
 */
#ifndef CTHREADING_CONDITION_H
#define CTHREADING_CONDITION_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"
#include "lock.h"
#include "rlock.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup condition Condition
 *
 * Python's `threading.Condition`, over a Lock, an RLock, or (the default, as
 * in Python) an RLock of its own. An RLock is fully released during a wait,
 * whatever its depth, and its depth is restored after.
 *
 * notify and notify_all wake nobody on the spot: the notified threads are
 * moved onto the lock's own queue (the notifier holds the lock, so they
 * could not run yet anyway) and each is woken by the release that lets it
 * have the lock. No thundering herd, and no wake-up that only finds the
 * lock taken.
 *
 * @code
 * static ct_lock_t lock = CT_LOCK_INIT;
 * static ct_condition_t cond = CT_CONDITION_INIT_LOCK(&lock);
 * CT_WITH_CONDITION(&cond) {
 *     while (items == 0)
 *         ct_condition_wait(&cond, CT_FOREVER);
 *     items--;
 * }
 * @endcode
 * @{
 */

/** A condition variable. Treat the members as private. */
typedef struct ct_condition {
	CT__ATOMIC(uint32_t) ct__waiters; /**< private: threads queued on the condition */
	uint32_t ct__kind;		  /**< private: CT__COND_OWN / _LOCK / _RLOCK */
	void *ct__lock;			  /**< private: the Lock or RLock, unless own */
	ct_rlock_t ct__own;		  /**< private: the RLock of a default condition */
} ct_condition_t;

/** @cond internal */
#define CT__COND_OWN 0u
#define CT__COND_LOCK 1u
#define CT__COND_RLOCK 2u
/** @endcond */

/** Static initializer of `Condition()`: with an RLock of its own. */
#define CT_CONDITION_INIT                            \
	{                                            \
		0, CT__COND_OWN, NULL, CT_RLOCK_INIT \
	}
/** Static initializer of `Condition(lock)` over a ct_lock_t (NULL: an
 *  RLock of its own, as `CT_CONDITION_INIT`). */
#define CT_CONDITION_INIT_LOCK(lock)                    \
	{                                               \
		0, CT__COND_LOCK, (lock), CT_RLOCK_INIT \
	}
/** Static initializer of `Condition(rlock)` over a ct_rlock_t (NULL: an
 *  RLock of its own, as `CT_CONDITION_INIT`). */
#define CT_CONDITION_INIT_RLOCK(rlock)                    \
	{                                                 \
		0, CT__COND_RLOCK, (rlock), CT_RLOCK_INIT \
	}

/** `Condition(lock)` over a Lock; NULL gives it an RLock of its own, as
 *  `Condition()` does. Cannot fail. */
CT_API void ct_condition_init(ct_condition_t *cond, ct_lock_t *lock);

/** `Condition(rlock)` over an RLock; NULL gives it an RLock of its own,
 *  as `Condition()` does. Cannot fail. */
CT_API void ct_condition_init_rlock(ct_condition_t *cond, ct_rlock_t *rlock);

/** Releases a condition's resources (it has none; for symmetry). */
CT_API void ct_condition_destroy(ct_condition_t *cond);

/** `Condition.acquire()`: acquires the underlying lock (not interruptible). */
CT_API void ct_condition_acquire(ct_condition_t *cond);

/** `Condition.acquire(timeout=...)`: as ct_lock_acquire_timeout() or
 *  ct_rlock_acquire_timeout() on the underlying lock. */
CT_API int ct_condition_acquire_timeout(ct_condition_t *cond, double timeout);

/** `Condition.release()`: releases the underlying lock; its errors. */
CT_API int ct_condition_release(ct_condition_t *cond) CT__NOEXCEPT;

/** `Condition.wait(timeout)`: releases the lock, waits to be notified, and
 *  takes the lock back before returning (always, whatever the result).
 *
 * Returns 0 when notified, CT_ETIMEDOUT when the timeout expired first
 * (CT_FOREVER: no limit; 0: release and take back at once). Errors:
 * CT_EWAITUNOWNED ("cannot wait on un-acquired lock") if the caller does not
 * hold the lock (for a Lock: if it is not held), CT_EINVAL, CT_ETOOLARGE.
 * Interruptible: CT_ESTOPPED (the lock is taken back first). Releases the
 * caller's GIL while it waits. */
CT_API int ct_condition_wait(ct_condition_t *cond, double timeout);

/** `Condition.wait_for(predicate, timeout)`: waits until @p predicate(arg)
 *  is true, checking it first and after every wake-up, with the lock held.
 *
 * Returns the predicate's last value (1 or 0: 0 means the timeout expired
 * with it still false), or a negative error as ct_condition_wait(). */
CT_API int ct_condition_wait_for(ct_condition_t *cond, bool (*predicate)(void *arg), void *arg,
				 double timeout);

/** `Condition.notify(n)`: wakes at most @p n waiting threads, the longest
 *  waiting first. Returns how many were notified (0 if none waited).
 *  Errors: CT_ENOTIFYUNOWNED ("cannot notify on un-acquired lock"). */
CT_API int ct_condition_notify(ct_condition_t *cond, unsigned n);

/** `Condition.notify_all()`: as ct_condition_notify() for every waiter. */
CT_API int ct_condition_notify_all(ct_condition_t *cond);

/** @cond internal */
static inline void ct__condition_guard_release(ct_condition_t **guard)
{
	if (*guard)
		(void)ct_condition_release(*guard);
}
/** @endcond */

/** `with cond:` — runs the block holding the condition's lock. Which ways
 *  out release it, and break and continue (which leave the block, not a
 *  loop around it): as CT_WITH_LOCK. */
#define CT_WITH_CONDITION(cond)                                 \
	CT__WITH(ct_condition_t *, ct__condition_guard_release, \
		 (ct_condition_acquire(cond), (cond)))

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_CONDITION_H */
