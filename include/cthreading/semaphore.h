/** @file
 * cthreading: Semaphore and BoundedSemaphore (Python's threading.Semaphore
 * and threading.BoundedSemaphore).
 */
#ifndef CTHREADING_SEMAPHORE_H
#define CTHREADING_SEMAPHORE_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup semaphore Semaphore and BoundedSemaphore
 *
 * Python's `threading.Semaphore(value)`: a counter that acquire() takes one
 * from, waiting while it is 0, and release(n) adds n to, waking up to n
 * waiters. `threading.BoundedSemaphore(value)` is the same object set up
 * with ct_bounded_semaphore_init() (or CT_BOUNDED_SEMAPHORE_INIT): a release
 * that would raise the value above the initial one is an error.
 *
 * One 32-bit word (the value and a "threads parked" bit) plus the bound.
 * acquire is one compare-and-swap when the value is positive; release makes
 * the wake call only when a thread is parked. Now and then (about every
 * 0.5 ms) a release hands its unit straight to the longest waiter, so no
 * waiter starves while others barge.
 *
 * @code
 * static ct_semaphore_t slots = CT_SEMAPHORE_INIT(3);  // Semaphore(3)
 * CT_WITH_SEMAPHORE(&slots) {                          // with slots:
 *     use_one_slot();
 * }
 * @endcode
 * @{
 */

/** A semaphore, bounded or not. Treat the members as private; 8 bytes. */
typedef struct ct_semaphore {
	CT__ATOMIC(uint32_t) ct__state; /**< private: value << 1 | PARKED */
	uint32_t ct__bound;		/**< private: initial value, or "unbounded" */
} ct_semaphore_t;

/** Python's BoundedSemaphore: the same type, initialised as bounded. */
typedef ct_semaphore_t ct_bounded_semaphore_t;

/** The largest value a semaphore can hold (2^31 - 1). */
#define CT_SEMAPHORE_VALUE_MAX 0x7fffffffu

/** @cond internal */
#define CT__SEM_PARKED 1u
#define CT__SEM_UNIT 2u
#define CT__SEM_UNBOUNDED 0xffffffffu
/** @endcond */

/** Static initializer: `Semaphore(value)`, value from 0 to
 *  CT_SEMAPHORE_VALUE_MAX (a constant; ct_semaphore_init() checks it). */
#define CT_SEMAPHORE_INIT(value)                                    \
	{                                                           \
		(uint32_t)(value) * CT__SEM_UNIT, CT__SEM_UNBOUNDED \
	}

/** Static initializer: `BoundedSemaphore(value)`. */
#define CT_BOUNDED_SEMAPHORE_INIT(value)                            \
	{                                                           \
		(uint32_t)(value) * CT__SEM_UNIT, (uint32_t)(value) \
	}

/** `Semaphore(value)`: initialises a semaphore holding @p value.
 *
 * Errors: CT_ENEGATIVE ("initial value must be >= 0"), CT_EINVAL (NULL, or
 * above CT_SEMAPHORE_VALUE_MAX). */
CT_API int ct_semaphore_init(ct_semaphore_t *sem, long value);

/** `BoundedSemaphore(value)`: as ct_semaphore_init(), and releasing it
 *  above @p value is an error. */
CT_API int ct_bounded_semaphore_init(ct_bounded_semaphore_t *sem, long value);

/** Releases a semaphore's resources (it has none; for symmetry). NULL does
 *  nothing. */
static inline void ct_semaphore_destroy(ct_semaphore_t *sem)
{
	CT__DEBUG_DESTROYED(sem);
}

/** `Semaphore.acquire(blocking=False)`: takes one unit if the value is
 *  positive; true if it did. Never blocks. False for NULL. */
static inline bool ct_semaphore_try_acquire(ct_semaphore_t *sem)
{
	if (CT__UNLIKELY(sem == NULL))
		return false;
	/* Relaxed guess; taking the unit acquires, pairing with the release
	 * that added it, so the releaser's writes are visible. */
	uint32_t s = CT__ATOMIC_LOAD(&sem->ct__state, relaxed);
	while (s >= CT__SEM_UNIT) {
		if (CT__ATOMIC_CAS_WEAK(
			    &sem->ct__state, &s, s - CT__SEM_UNIT, acquire,
			    relaxed)) /* acquire: see above; a failure only refreshes s */
			return true;
	}
	return false;
}

/** Out-of-line path of ct_semaphore_acquire(): internal, exported only because the
 *  inline fast path calls it (part of the ABI, see docs/architecture.md). */
CT_API int ct__semaphore_acquire_slow(ct_semaphore_t *sem, double timeout);

/** `Semaphore.acquire(timeout=...)`: takes one unit, waiting while the
 *  value is 0. Returns 0 once taken, CT_ETIMEDOUT if none came before the
 *  timeout (CT_FOREVER: no limit; 0: try once).
 *
 * Errors: CT_EINVAL (NaN, NULL), CT_ETOOLARGE. Interruptible: CT_ESTOPPED,
 * with no unit taken. Releases the caller's GIL while it sleeps. */
static inline int ct_semaphore_acquire(ct_semaphore_t *sem, double timeout)
{
	if (CT__UNLIKELY(sem == NULL))
		return CT_EINVAL;
	/* The comparison is false for NaN and too-large timeouts, which the
	 * slow path reports. */
	if (CT__LIKELY(timeout <= CT_TIMEOUT_MAX) && ct_semaphore_try_acquire(sem))
		return 0;
	return ct__semaphore_acquire_slow(sem, timeout);
}

/** `Semaphore.release(n)`: adds @p n units and wakes up to @p n waiters.
 *
 * Errors: CT_EINVAL (n < 1, Python's "n must be one or more"),
 * CT_EOVERRELEASE ("semaphore released too many times": above the initial
 * value of a bounded semaphore, or above CT_SEMAPHORE_VALUE_MAX); on error
 * the value is unchanged. */
CT_API int ct_semaphore_release(ct_semaphore_t *sem, unsigned n) CT__NOEXCEPT;

/** The current value (Python's private `_value`): a snapshot; 0 for NULL. */
static inline unsigned ct_semaphore_value(const ct_semaphore_t *sem)
{
	if (CT__UNLIKELY(sem == NULL))
		return 0;
	return CT__ATOMIC_LOAD(&sem->ct__state, relaxed) / CT__SEM_UNIT; /* a snapshot */
}

/** `BoundedSemaphore.acquire(timeout)`: ct_semaphore_acquire() (CT_EINVAL
 *  for NULL). */
static inline int ct_bounded_semaphore_acquire(ct_bounded_semaphore_t *sem, double timeout)
{
	return ct_semaphore_acquire(sem, timeout);
}

/** `BoundedSemaphore.release(n)`: ct_semaphore_release() (CT_EINVAL for
 *  NULL). */
static inline int ct_bounded_semaphore_release(ct_bounded_semaphore_t *sem, unsigned n)
{
	if (CT__UNLIKELY(sem == NULL))
		return CT_EINVAL;
	return ct_semaphore_release(sem, n);
}

/** `BoundedSemaphore.acquire(blocking=False)`: ct_semaphore_try_acquire()
 *  (false for NULL). */
static inline bool ct_bounded_semaphore_try_acquire(ct_bounded_semaphore_t *sem)
{
	return ct_semaphore_try_acquire(sem);
}

/** ct_semaphore_destroy(), by the bounded name (NULL does nothing). */
static inline void ct_bounded_semaphore_destroy(ct_bounded_semaphore_t *sem)
{
	ct_semaphore_destroy(sem);
}

/** @cond internal */
static inline void ct__semaphore_guard_release(ct_semaphore_t **guard)
{
	if (*guard)
		(void)ct_semaphore_release(*guard, 1);
}
static inline ct_semaphore_t *ct__semaphore_guard_acquire(ct_semaphore_t *sem)
{
	return ct_semaphore_acquire(sem, CT_FOREVER) == 0 ? sem : NULL;
}
/** @endcond */

/** `with sem:` — runs the block holding one unit of @p sem.
 *
 * The unit is taken with ct_semaphore_acquire(sem, CT_FOREVER); if a stop
 * is requested for the thread while it waits, the acquire fails and the
 * block is skipped (check ct_stop_requested() after it). Leaving the block
 * releases the unit as CT_WITH_LOCK() releases its lock, with the same
 * limits (no longjmp; return and goto only with GCC and Clang). As there,
 * break and continue leave the block, not a loop around it. */
#define CT_WITH_SEMAPHORE(sem) \
	CT__WITH(ct_semaphore_t *, ct__semaphore_guard_release, ct__semaphore_guard_acquire(sem))

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_SEMAPHORE_H */
