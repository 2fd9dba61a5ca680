/** @file
 * cthreading: Latch (beyond Python: C++20's std::latch).
 */
#ifndef CTHREADING_LATCH_H
#define CTHREADING_LATCH_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup latch Latch
 *
 * A single-use countdown, as C++20's `std::latch` (Python has none; a
 * Barrier is its reusable cousin): threads count it down, and wait() returns
 * once it reaches zero, for good. Typical use: the main thread waits until
 * N workers have finished their set-up.
 *
 * One 32-bit word, the count and a "threads parked" bit; count_down makes
 * the wake call only when the count reaches zero and someone waits.
 *
 * @code
 * static ct_latch_t ready = CT_LATCH_INIT(4);
 * // in each of 4 workers:   ct_latch_count_down(&ready, 1);
 * // in the main thread:     ct_latch_wait(&ready, CT_FOREVER);
 * @endcode
 * @{
 */

/** A latch. Treat the member as private. */
typedef struct ct_latch {
	CT__ATOMIC(uint32_t) ct__state; /**< private: count << 1 | PARKED */
} ct_latch_t;

/** The largest initial count (2^31 - 1). */
#define CT_LATCH_COUNT_MAX 0x7fffffffu

/** @cond internal */
#define CT__LATCH_PARKED 1u
#define CT__LATCH_ONE 2u
/** @endcond */

/** Static initializer with a count from 0 to CT_LATCH_COUNT_MAX. */
#define CT_LATCH_INIT(count)                      \
	{                                         \
		(uint32_t)(count) * CT__LATCH_ONE \
	}

/** `std::latch(count)`. Errors: CT_ENEGATIVE ("initial value must be >=
 *  0"), CT_EINVAL (NULL, or above CT_LATCH_COUNT_MAX). */
CT_API int ct_latch_init(ct_latch_t *latch, long count);

/** Releases a latch's resources (it has none; for symmetry). NULL does
 *  nothing. */
static inline void ct_latch_destroy(ct_latch_t *latch)
{
	CT__DEBUG_DESTROYED(latch);
}

/** `count_down(n)`: lowers the count by @p n; reaching zero wakes every
 *  waiter. Errors: CT_EINVAL (n is 0 or larger than the count: the count
 *  is left unchanged; C++ leaves this undefined). */
CT_API int ct_latch_count_down(ct_latch_t *latch, unsigned n);

/** `try_wait()`: true once the count is zero. Never blocks. False for
 *  NULL. */
static inline bool ct_latch_try_wait(const ct_latch_t *latch)
{
	if (CT__UNLIKELY(latch == NULL))
		return false;
	/* Acquire: zero is reached by a chain of release RMWs (count_down), so
	 * true means every counter's earlier writes are visible. */
	return CT__ATOMIC_LOAD(&latch->ct__state, acquire) < CT__LATCH_ONE;
}

/** `wait()`, with a timeout: 0 once the count is zero (at once if it is),
 *  CT_ETIMEDOUT if it is not at the timeout (CT_FOREVER: no limit).
 *
 * Errors: CT_EINVAL (NaN), CT_ETOOLARGE. Interruptible: CT_ESTOPPED.
 * Releases the caller's GIL while it sleeps. */
CT_API int ct_latch_wait(ct_latch_t *latch, double timeout);

/** `arrive_and_wait(n)`: ct_latch_count_down() then ct_latch_wait(). The
 *  count-down happens even if the wait then times out or is stopped.
 *  Errors: those of both. */
CT_API int ct_latch_arrive_and_wait(ct_latch_t *latch, unsigned n, double timeout);

/** The current count: a snapshot, for tests and diagnostics; 0 for NULL. */
static inline unsigned ct_latch_count(const ct_latch_t *latch)
{
	if (CT__UNLIKELY(latch == NULL))
		return 0;
	return CT__ATOMIC_LOAD(&latch->ct__state, relaxed) / CT__LATCH_ONE; /* a snapshot */
}

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_LATCH_H */
