/* Lock: the contended paths. The fast paths are inline in lock.h.
 *
 * The lock word, and who moves it where:
 *
 *   state            meaning                          next
 *   ---------------  -------------------------------  -----------------------------
 *   0                free, nobody parked              acquire CAS -> LOCKED
 *   LOCKED           held, nobody parked              release CAS -> 0;
 *                                                     a waiter about to park
 *                                                     sets PARKED -> LOCKED|PARKED
 *   LOCKED|PARKED    held, threads parked             release -> unpark one (below)
 *   PARKED           free, threads still parked       acquire CAS -> LOCKED|PARKED
 *                    (the woken one is on its way)
 *
 * Release with PARKED set unparks the longest waiter under its bucket lock
 * and, in the same critical section, decides the new word:
 *
 *   - normally the lock becomes free (PARKED kept if others still wait) and
 *     the woken thread competes for it again: barging, which keeps the lock
 *     busy while the woken thread is still waking up;
 *   - when the bucket's fairness clock says so (about every 0.5 ms), the
 *     lock is handed over: it stays LOCKED and the woken thread owns it on
 *     return (TOKEN_HANDOFF). No waiter starves.
 *
 * PARKED is only ever cleared under the bucket lock (release's callback, a
 * waiter leaving by timeout), and a waiter only sleeps if, under that same
 * lock, the word is still LOCKED|PARKED: so no wake-up is lost.
 */
#include "cthreading/lock.h"

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/park.h"
#include "park/waiter.h"
#include "sync/lock_internal.h"

/* Memory orders: the lock's data is published by the release that frees
 * the word (release) and taken by the CAS that sets LOCKED (acquire); a
 * handed-over lock is published through the parker instead (its unpark is
 * a release, the woken waiter's load an acquire). Every other access only
 * moves the PARKED bit or reads the word to decide, under the bucket lock
 * or before a CAS that re-checks it: relaxed is enough for those. */

/* Under the bucket lock, which orders it against every PARKED change. */
static bool still_locked_and_parked(void *ctx)
{
	ct_lock_t *lock = ctx;
	/* Relaxed: under the bucket lock, which orders it against every PARKED change. */
	return atomic_load_explicit(&lock->ct__state, memory_order_relaxed) ==
	       (CT__LOCK_LOCKED | CT__LOCK_PARKED);
}

void ct__lock_waiter_left(ct_lock_t *lock, bool was_last)
{
	/* Relaxed: a hint for releasers, changed under the bucket lock; it
	 * publishes no data. */
	if (was_last)
		atomic_fetch_and_explicit(&lock->ct__state, ~CT__LOCK_PARKED, memory_order_relaxed);
}

static void waiter_timed_out(void *ctx, const void *key, bool was_last)
{
	(void)key;
	ct__lock_waiter_left(ctx, was_last);
}

static const struct ct__park_ops lock_park_ops = {
	.validate = still_locked_and_parked,
	.timed_out = waiter_timed_out,
};

/* How often a spinning waiter looks at the lock word, in pauses: about
 * every quarter of a microsecond at first, then every microsecond (the
 * spin limit is about CT__SPIN_NS = 5 us of pauses on this machine, see
 * core/spin.c). Each look pulls the word's cache line away from the
 * holder, and a look that finds the lock free between two of the holder's
 * critical sections takes it, which moves the lock and its data to the
 * other CPU: with two threads incrementing a counter under one lock, the
 * lock then changed hands every few increments. Looking from 1 pause on
 * (doubling up to 64) cost 50-65 ns per increment on a 2-CPU Intel Xeon
 * VM, pthread's mutex 73-88 ns; looking every 16 to 64 pauses, 23-25 ns,
 * with the threads' shares within 0.97 of each other and a longest wait
 * of about 0.1 ms (medians of 5 runs). The price: a waiter notices a
 * release up to a quarter of a microsecond late at first, up to a
 * microsecond once it has looked a few times. */
static unsigned backoff_first(void)
{
	return ct__spin_limit / 20 + 1;
}

static unsigned backoff_most(void)
{
	return ct__spin_limit / 5 + 1;
}

int ct__lock_acquire_until(ct_lock_t *lock, int64_t deadline, unsigned flags)
{
	struct ct__waiter *self = ct__waiter_self();
	unsigned spun = 0, backoff = backoff_first(), most = backoff_most(),
		 limit = ct__spin_budget(self);
	/* Relaxed reads: only a guess for the CAS, which re-checks. */
	uint32_t s = atomic_load_explicit(&lock->ct__state, memory_order_relaxed);
	for (;;) {
		if (!(s & CT__LOCK_LOCKED)) {
			/* Acquire: pairs with the release that freed the word, so
			 * the previous holder's writes are visible. A failed CAS
			 * takes nothing: relaxed. */
			if (atomic_compare_exchange_weak_explicit(
				    &lock->ct__state, &s, s | CT__LOCK_LOCKED, memory_order_acquire,
				    memory_order_relaxed)) {
				if (spun)
					ct__spin_paid(self, true);
				return 0;
			}
			continue;
		}
		/* Spin while nobody sleeps: the holder is likely running and
		 * about to release. Once someone is parked, queue behind it. */
		if (!(s & CT__LOCK_PARKED) && spun < limit) {
			for (unsigned i = 0; i < backoff; i++)
				ct__cpu_relax();
			spun += backoff;
			if (backoff < most)
				backoff *= 2;
			/* Relaxed: a guess, the CAS re-checks. */
			s = atomic_load_explicit(&lock->ct__state, memory_order_relaxed);
			continue;
		}
		/* Relaxed: PARKED publishes nothing; park() re-validates the
		 * word under the bucket lock before sleeping. */
		if (!(s & CT__LOCK_PARKED) && !atomic_compare_exchange_weak_explicit(
						      &lock->ct__state, &s, s | CT__LOCK_PARKED,
						      memory_order_relaxed, memory_order_relaxed))
			continue;
		uintptr_t token;
		CT__DEBUG_HOOK(waits_on(lock, CT__OBJ_LOCK));
		int rc = ct__park(lock, &lock_park_ops, lock, deadline, flags, &token);
		if (rc == CT__PARK_UNPARKED && token == CT__TOKEN_HANDOFF)
			return 0;
		if (rc < 0)
			return rc;
		spun = 0;
		backoff = backoff_first();
		limit = ct__spin_budget(self);
		/* Relaxed: a guess, the CAS re-checks. */
		s = atomic_load_explicit(&lock->ct__state, memory_order_relaxed);
	}
}

int ct__lock_acquire_as(ct_lock_t *lock, const void *object, unsigned kind, int64_t deadline,
			unsigned flags, void *site)
{
	/* The hooks are set before the flag is first turned on; a processor that
	 * reads them before the flag may still miss them then: no hooks, no
	 * debugging, one test for both. */
	const struct ct__debug_hooks *h = CT__DEBUG_ON(CT__DEBUG_LOCKS) ? ct__debug() : NULL;
	if (!h) {
		if (ct__lock_try_acquire_quiet(lock))
			return 0;
		return deadline == 0 ? CT_ETIMEDOUT : ct__lock_acquire_until(lock, deadline, flags);
	}
	/* Debugging: the hooks see the object (the RLock or RWLock a Lock
	 * serves), where it was asked for, and any wait before it is held. */
	int rc = 0;
	bool waited = false;
	if (!ct__lock_try_acquire_quiet(lock)) {
		rc = deadline == 0 ? CT_ETIMEDOUT : h->acquiring(object, kind, deadline, site);
		waited = deadline != 0;
		if (rc == 0)
			rc = ct__lock_acquire_until(lock, deadline, flags);
	}
	h->acquired(object, kind, site, rc, waited, deadline != 0);
	return rc;
}

void ct__lock_acquire_slow(ct_lock_t *lock)
{
	if (CT__UNLIKELY(!lock))
		return;
	if (CT__DEBUG_ON(CT__DEBUG_LOCKS)) {
		(void)ct__lock_acquire_as(lock, lock, CT__OBJ_LOCK, CT__NO_DEADLINE, 0,
					  CT__CALLER());
		return;
	}
	(void)ct__lock_acquire_until(lock, CT__NO_DEADLINE, 0);
}

bool ct__lock_try_acquire_slow(ct_lock_t *lock)
{
	if (CT__UNLIKELY(!lock))
		return false;
	bool held = ct__lock_try_acquire_quiet(lock);
	int rc = held ? 0 : CT_ETIMEDOUT;
	/* GCOVR_EXCL_BR_START: only the inline try's debugging branch calls this: debugging
	 * turned off in between is a race with ct_debug_configure() */
	CT__DEBUG_HOOK(acquired(lock, CT__OBJ_LOCK, CT__CALLER(), rc, false, false));
	/* GCOVR_EXCL_BR_STOP */
	return held;
}

int ct_lock_acquire_timeout(ct_lock_t *lock, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(lock, timeout, &deadline);
	if (rc < 0)
		return rc;
	return ct__lock_acquire_as(lock, lock, CT__OBJ_LOCK, deadline, CT__PARK_INTERRUPTIBLE,
				   CT__CALLER());
}

struct release_ctx {
	ct_lock_t *lock;
	bool force_fair;
	int rc;
};

static uintptr_t decide_after_unpark(void *ctx, struct ct__unpark_result r)
{
	struct release_ctx *c = ctx;
	/* Under the bucket lock: relaxed reads and the hand-off store below
	 * need no more, since the new owner is ordered after us by the
	 * parker's unpark (release) and its wait's load (acquire). */
	/* GCOVR_EXCL_BR_START: two threads releasing the lock at once: a race (the models check it)
	 */
	if (!(atomic_load_explicit(&c->lock->ct__state, memory_order_relaxed) & CT__LOCK_LOCKED)) {
		/* GCOVR_EXCL_BR_STOP */
		/* Two threads released concurrently: the other one won. The
		 * thread we woke (if any) just retries. */
		c->rc = CT_EUNLOCKED;
		return CT__TOKEN_NORMAL;
	}
	if (r.unparked && (r.be_fair || c->force_fair)) {
		if (!r.have_more)
			/* Relaxed: the new owner is ordered after us by the parker's unpark
			 * (release) and its wait's load (acquire); others only see LOCKED. */
			atomic_store_explicit(&c->lock->ct__state, CT__LOCK_LOCKED,
					      memory_order_relaxed);
		return CT__TOKEN_HANDOFF;
	}
	/* Release: frees the lock; the next acquiring CAS (acquire) sees the
	 * critical section that ends here. */
	atomic_store_explicit(&c->lock->ct__state, r.have_more ? CT__LOCK_PARKED : 0,
			      memory_order_release);
	return CT__TOKEN_NORMAL;
}

int ct__lock_release_parked(ct_lock_t *lock, bool force_fair)
{
	struct release_ctx c = {lock, force_fair, 0};
	ct__unpark_one(lock, decide_after_unpark, &c);
	return c.rc;
}

int ct__lock_release_slow(ct_lock_t *lock)
{
	if (CT__UNLIKELY(!lock))
		return CT_EINVAL;
	CT__DEBUG_HOOK(released(lock));
	return ct__lock_release_quiet(lock);
}

int ct__lock_release_quiet(ct_lock_t *lock)
{
	/* Relaxed: a guess; the CAS below releases. */
	uint32_t s = atomic_load_explicit(&lock->ct__state, memory_order_relaxed);
	for (;;) {
		if (!(s & CT__LOCK_LOCKED))
			return CT_EUNLOCKED;
		if (s & CT__LOCK_PARKED)
			return ct__lock_release_parked(lock, false);
		/* Release, as above; a failed CAS only reloads. */
		if (atomic_compare_exchange_weak_explicit(
			    &lock->ct__state, &s, 0, memory_order_release, memory_order_relaxed))
			return 0;
	}
}

/* Relaxed throughout: it sets the PARKED hint only (Condition calls it
 * under the bucket lock before requeueing waiters onto the lock). */
bool ct__lock_mark_parked_if_locked(ct_lock_t *lock)
{
	/* Relaxed: a guess for the CAS below. */
	uint32_t s = atomic_load_explicit(&lock->ct__state, memory_order_relaxed);
	/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not something a test
	 * can force */
	while (s & CT__LOCK_LOCKED) {
		/* Relaxed: only the PARKED hint moves, under the bucket lock (see above). */
		if (atomic_compare_exchange_weak_explicit(&lock->ct__state, &s, s | CT__LOCK_PARKED,
							  memory_order_relaxed,
							  memory_order_relaxed))
			return true;
	}
	/* GCOVR_EXCL_BR_STOP */
	return false;
}
