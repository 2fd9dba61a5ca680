/* Semaphore and BoundedSemaphore: the contended paths. The fast paths are
 * inline in semaphore.h.
 *
 * The word is value << 1 | PARKED:
 *
 *   value   PARKED   meaning                          next
 *   ------  -------  -------------------------------  ---------------------------
 *   > 0     no       units free, nobody parked        acquire CAS value - 1
 *   0       no       none free, nobody parked         an acquirer sets PARKED,
 *                                                     then parks
 *   0       yes      threads parked (or about to)     release adds, wakes
 *   > 0     yes      a release added units and woke   the woken retry (and
 *                    as many parked threads (or one   barging threads may
 *                    is about to park and will see    take the units first)
 *                    the units when it validates)
 *
 * release(n) adds its n units and, if PARKED was set, wakes up to n parked
 * threads, oldest first, one unpark at a time: the callback of each runs
 * under the bucket lock, clears PARKED once nobody is left queued and, when
 * the bucket's fairness clock says so, takes a unit for the woken thread
 * itself (TOKEN_HANDOFF), so that barging cannot starve a waiter.
 *
 * A waiter sleeps only if, under the bucket lock, the value is still 0 and
 * PARKED still set. PARKED is cleared only under that lock (by a waker that
 * found nobody left, or a waiter leaving by timeout or stop as the last
 * one), so every unit added while a thread sleeps comes with a wake-up.
 */
#include "cthreading/semaphore.h"

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/park.h"
#include "sync/parked_bit.h"

static int init(ct_semaphore_t *sem, long value, bool bounded)
{
	if (!sem)
		return CT_EINVAL;
	if (value < 0)
		return CT_ENEGATIVE;
	if ((unsigned long)value > CT_SEMAPHORE_VALUE_MAX)
		return CT_EINVAL;
	atomic_init(&sem->ct__state, (uint32_t)value * CT__SEM_UNIT);
	sem->ct__bound = bounded ? (uint32_t)value : CT__SEM_UNBOUNDED;
	return 0;
}

int ct_semaphore_init(ct_semaphore_t *sem, long value)
{
	return init(sem, value, false);
}

int ct_bounded_semaphore_init(ct_bounded_semaphore_t *sem, long value)
{
	return init(sem, value, true);
}

/* Memory orders: a unit carries the releaser's writes to its taker.
 * release()'s CAS is a release and taking a unit (the CAS below and
 * try_acquire's) an acquire; a unit handed over by a fair release
 * (decide_after_unpark) travels through the parker instead, whose unpark
 * is a release and whose woken wait an acquire; the releaser takes it
 * with acquire, since it may have come from another thread's release().
 * PARKED is a hint moved by relaxed RMWs and re-validated under the bucket lock before anyone
 * sleeps; first loads are only the CAS's guesses: relaxed. */
int ct__semaphore_acquire_slow(ct_semaphore_t *sem, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(sem, timeout, &deadline);
	if (rc < 0)
		return rc;
	for (;;) {
		/* Relaxed: a guess for the CASes below (see "Memory orders" above). */
		uint32_t s = atomic_load_explicit(&sem->ct__state, memory_order_relaxed);
		if (s >= CT__SEM_UNIT) {
			/* Acquire: taking a unit pairs with the release that added it. */
			if (atomic_compare_exchange_weak_explicit(
				    &sem->ct__state, &s, s - CT__SEM_UNIT, memory_order_acquire,
				    memory_order_relaxed))
				return 0;
			continue;
		}
		if (ct__expired(deadline))
			return CT_ETIMEDOUT;
		/* Relaxed: PARKED is a hint, re-validated under the bucket lock. */
		if (s != CT__SEM_PARKED && !atomic_compare_exchange_weak_explicit(
						   &sem->ct__state, &s, CT__SEM_PARKED,
						   memory_order_relaxed, memory_order_relaxed))
			continue;
		uintptr_t token;
		CT__DEBUG_HOOK(waits_on(sem, CT__OBJ_SEMAPHORE));
		struct ct__parked_wait w = {&sem->ct__state, ~0u, CT__SEM_PARKED, CT__SEM_PARKED};
		rc = ct__park_parked(sem, &w, deadline, CT__PARK_INTERRUPTIBLE, &token);
		if (rc == CT__PARK_UNPARKED && token == CT__TOKEN_HANDOFF)
			return 0;
		/* Timed out or stopped: a unit that arrived meanwhile is still
		 * ours to take, as Python's loop would. */
		if (rc < 0)
			/* GCOVR_EXCL_BR_START: the object becoming ready in the instant the wait
			 * times out: a race no test can aim at */
			return ct_semaphore_try_acquire(sem) ? 0 : rc;
		/* GCOVR_EXCL_BR_STOP */
	}
}

/* Takes one unit for the thread being woken, when fairness asks for it. */
static uintptr_t decide_after_unpark(void *ctx, struct ct__unpark_result r)
{
	ct_semaphore_t *sem = ctx;
	uint32_t clear = r.have_more ? 0 : CT__SEM_PARKED;
	/* Relaxed: a guess for the CAS below, under the bucket lock. */
	uint32_t s = atomic_load_explicit(&sem->ct__state, memory_order_relaxed);
	if (r.unparked && r.be_fair) {
		/* GCOVR_EXCL_BR_START: the release just added a unit: none left means another
		 * thread took it in between, a race */
		while (s >= CT__SEM_UNIT) {
			/* GCOVR_EXCL_BR_STOP */
			/* Acquire: the unit taken may have come from another thread's release();
			 * reading it with acquire orders that release before ours, and the
			 * parker's unpark then carries both to the woken thread. */
			/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not
			 * something a test can force */
			if (atomic_compare_exchange_weak_explicit(
				    &sem->ct__state, &s, (s - CT__SEM_UNIT) & ~clear,
				    memory_order_acquire, memory_order_relaxed))
				return CT__TOKEN_HANDOFF;
			/* GCOVR_EXCL_BR_STOP */
		}
	}
	if (clear)
		/* Relaxed: PARKED is a hint, moved under the bucket lock. */
		atomic_fetch_and_explicit(&sem->ct__state, ~clear, memory_order_relaxed);
	return CT__TOKEN_NORMAL;
}

int ct_semaphore_release(ct_semaphore_t *sem, unsigned n)
{
	if (CT__UNLIKELY(!sem))
		return CT_EINVAL;
	if (n < 1)
		return CT_EINVAL;
	uint32_t max =
		sem->ct__bound < CT_SEMAPHORE_VALUE_MAX ? sem->ct__bound : CT_SEMAPHORE_VALUE_MAX;
	/* Relaxed: a guess for the CAS below. */
	uint32_t s = atomic_load_explicit(&sem->ct__state, memory_order_relaxed);
	do {
		if (n > max - s / CT__SEM_UNIT)
			return CT_EOVERRELEASE;
		/* Release: pairs with the acquire of whoever takes one of these units. */
	} while (!atomic_compare_exchange_weak_explicit(&sem->ct__state, &s, s + n * CT__SEM_UNIT,
							memory_order_release,
							memory_order_relaxed));
	if (!(s & CT__SEM_PARKED))
		return 0;
	for (unsigned i = 0; i < n; i++) {
		struct ct__unpark_result r = ct__unpark_one(sem, decide_after_unpark, sem);
		if (!r.have_more)
			break;
	}
	return 0;
}
