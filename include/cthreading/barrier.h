/** @file
 * cthreading: Barrier (Python's threading.Barrier).
 */
#ifndef CTHREADING_BARRIER_H
#define CTHREADING_BARRIER_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"
#include "lock.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup barrier Barrier
 *
 * Python's `threading.Barrier(parties, action, timeout)`: `parties` threads
 * meet at ct_barrier_wait(); when the last one arrives it runs the action
 * (if any) and all of them go on. Reusable for any number of rounds.
 *
 * The barrier breaks when a wait times out or is stopped, when the action
 * fails, or on ct_barrier_abort(): every thread waiting on it, and every
 * later ct_barrier_wait(), gets CT_EBROKEN until ct_barrier_reset(). A reset
 * while threads wait breaks their round (they get CT_EBROKEN, as Python's
 * BrokenBarrierError), and the barrier is usable again as soon as they have
 * left.
 *
 * @code
 * static ct_barrier_t start_line = CT_BARRIER_INIT(4);  // Barrier(4)
 * int index = ct_barrier_wait(&start_line, CT_FOREVER);
 * if (index == 0) puts("all four are here");
 * @endcode
 * @{
 */

/** The action of a barrier: runs in the last arriving thread of each round,
 *  before any of them goes on, while the barrier's internal lock is held
 *  (so it must not call the barrier's own functions). Non-zero breaks the
 *  barrier. */
typedef int (*ct_barrier_action_fn)(void *arg);

/** A barrier. Treat the members as private. */
typedef struct ct_barrier {
	ct_lock_t ct__lock;		 /**< private: guards the fields below */
	CT__ATOMIC(uint32_t) ct__epoch;	 /**< private: bumped on each state change */
	CT__ATOMIC(int32_t) ct__state;	 /**< private: filling, draining, ... */
	CT__ATOMIC(uint32_t) ct__count;	 /**< private: threads inside */
	uint32_t ct__parties;		 /**< private */
	ct_barrier_action_fn ct__action; /**< private */
	void *ct__arg;			 /**< private */
	double ct__timeout;		 /**< private: the default timeout */
} ct_barrier_t;

/** Static initializer: `Barrier(parties)` (no action, no default timeout). */
#define CT_BARRIER_INIT(parties) CT_BARRIER_INIT_ACTION(parties, NULL, NULL, CT_FOREVER)

/** Static initializer: `Barrier(parties, action, timeout)`; CT_FOREVER
 *  means no default timeout, as Python's None. */
#define CT_BARRIER_INIT_ACTION(parties, action, arg, timeout)                \
	{                                                                    \
		CT_LOCK_INIT, 0, 0, 0, (parties), (action), (arg), (timeout) \
	}

/** `Barrier(parties, action, timeout)`: @p action (may be NULL) is called
 *  with @p arg once per round; @p timeout is the default of every wait
 *  (CT_FOREVER: none, as Python's None).
 *
 * Errors: CT_EINVAL (NULL, parties 0, a negative timeout other than
 * CT_FOREVER, NaN), CT_ETOOLARGE. */
CT_API int ct_barrier_init(ct_barrier_t *barrier, unsigned parties, ct_barrier_action_fn action,
			   void *arg, double timeout);

/** Releases a barrier's resources (it has none; for symmetry). NULL does
 *  nothing. */
static inline void ct_barrier_destroy(ct_barrier_t *barrier)
{
	CT__DEBUG_DESTROYED(barrier);
}

/** The timeout of ct_barrier_wait() that means "the barrier's default",
 *  Python's `wait(timeout=None)`. */
#define CT_BARRIER_DEFAULT (-2.0)

/** `Barrier.wait(timeout)`: waits until `parties` threads have called it.
 *
 * Returns the caller's arrival index, from 0 (first) to parties - 1 (last,
 * which ran the action), Python's return value. CT_BARRIER_DEFAULT uses
 * the barrier's default timeout, as Python's None; CT_FOREVER waits
 * without a limit whatever the default; 0 gives up at once unless the
 * caller is the last.
 *
 * Errors: CT_EBROKEN (the barrier is or became broken, was reset while
 * waiting, or the action failed), CT_ETIMEDOUT (this wait timed out; the
 * barrier is now broken for the others), CT_EINVAL (a negative timeout
 * other than CT_FOREVER and CT_BARRIER_DEFAULT, NaN), CT_ETOOLARGE.
 * Interruptible: CT_ESTOPPED, which breaks the barrier as a timeout does
 * (its round can no longer be completed). Releases the caller's GIL while
 * it sleeps. */
CT_API int ct_barrier_wait(ct_barrier_t *barrier, double timeout);

/** `Barrier.reset()`: back to the initial, empty state. Threads waiting in
 *  the current round get CT_EBROKEN. */
CT_API void ct_barrier_reset(ct_barrier_t *barrier);

/** `Barrier.abort()`: breaks the barrier; waiting threads and every later
 *  wait get CT_EBROKEN until ct_barrier_reset(). */
CT_API void ct_barrier_abort(ct_barrier_t *barrier);

/** `Barrier.broken`; false for NULL. */
static inline bool ct_barrier_broken(const ct_barrier_t *barrier)
{
	if (CT__UNLIKELY(barrier == NULL))
		return false;
	return CT__ATOMIC_LOAD(&barrier->ct__state, relaxed) == -2; /* a snapshot */
}

/** `Barrier.n_waiting`: threads waiting in the current round (a snapshot);
 *  0 for NULL. */
static inline unsigned ct_barrier_n_waiting(const ct_barrier_t *barrier)
{
	if (CT__UNLIKELY(barrier == NULL))
		return 0;
	/* Relaxed: snapshots for diagnostics, as Python's n_waiting. */
	if (CT__ATOMIC_LOAD(&barrier->ct__state, relaxed) != 0)
		return 0;
	return CT__ATOMIC_LOAD(&barrier->ct__count, relaxed); /* a relaxed snapshot, as above */
}

/** `Barrier.parties`; 0 for NULL. */
static inline unsigned ct_barrier_parties(const ct_barrier_t *barrier)
{
	if (CT__UNLIKELY(barrier == NULL))
		return 0;
	return barrier->ct__parties;
}

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_BARRIER_H */
