/* What other primitives (the condition, the registry, the GIL's users)
 * need from the Lock beyond its public API. */
#ifndef CT_LOCK_INTERNAL_H
#define CT_LOCK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h" /* CT__NO_DEADLINE, <stdatomic.h> */
#include "cthreading/lock.h"

/* Acquires with an absolute deadline and park flags. */
int ct__lock_acquire_until(ct_lock_t *lock, int64_t deadline, unsigned flags);

/* Acquires @p lock on behalf of @p object of kind @p kind (core/debug_hooks.h:
 * the Lock itself, or the RLock or RWLock it serves) with an absolute
 * deadline (0: try once); while debugging is on the hooks see the acquire
 * as @p object's, asked for at @p site. */
int ct__lock_acquire_as(ct_lock_t *lock, const void *object, unsigned kind, int64_t deadline,
			unsigned flags, void *site);

/* A Lock the library takes for itself (a queue's; an RLock's inner Lock
 * while debugging is off): acquired and released
 * as ct_lock_acquire() and ct_lock_release() do, but the debugging hooks
 * never see it, so that it costs no clock reads while trace or profile is
 * on and shows in no report as the program's lock (a wait for it still
 * shows in a dump). */
static inline void ct__lock_acquire_quiet(ct_lock_t *lock)
{
	uint32_t expected = 0;
	/* Acquire, as ct_lock_acquire(). */
	if (!atomic_compare_exchange_weak_explicit(&lock->ct__state, &expected, CT__LOCK_LOCKED,
						   memory_order_acquire, memory_order_relaxed))
		(void)ct__lock_acquire_until(lock, CT__NO_DEADLINE, 0);
}

/* ct_lock_try_acquire() without the hooks, as ct__lock_acquire_quiet(),
 * also for a caller that found debugging off already. */
static inline bool ct__lock_try_acquire_quiet(ct_lock_t *lock)
{
	/* Relaxed: a guess for the CAS, which acquires. */
	uint32_t s = atomic_load_explicit(&lock->ct__state, memory_order_relaxed);
	while (!(s & CT__LOCK_LOCKED)) {
		/* Acquire: pairs with the release that freed the word; a failed CAS takes
		 * nothing. */
		if (atomic_compare_exchange_weak_explicit(&lock->ct__state, &s, s | CT__LOCK_LOCKED,
							  memory_order_acquire,
							  memory_order_relaxed))
			return true;
	}
	return false;
}

int ct__lock_release_quiet(ct_lock_t *lock);

/* Release when PARKED is set; @p force_fair hands the lock over. */
int ct__lock_release_parked(ct_lock_t *lock, bool force_fair);

/* A thread queued on the lock left by timeout or stop (possibly one that a
 * condition had requeued there); clears PARKED if it was the last. Call
 * under the lock's bucket lock, i.e. from a park timed_out callback. */
void ct__lock_waiter_left(ct_lock_t *lock, bool was_last);

/* For requeueing onto the lock: sets PARKED if the lock is held and says
 * whether it was. Call under the lock's bucket lock. */
bool ct__lock_mark_parked_if_locked(ct_lock_t *lock);

#endif /* CT_LOCK_INTERNAL_H */
