/* Event: one word, SET and PARKED bits and a generation above them.
 *
 *   gen | 0              clear, nobody parked
 *   gen | PARKED         clear, threads parked (or about to)
 *   gen | SET            set; nobody parks on a set event
 *
 * set() turns the word into SET; if PARKED was in it, it also bumps the
 * generation and wakes everyone. A waiter sets PARKED and parks only while
 * the word is still exactly what it published (checked under the bucket
 * lock that set()'s wake-up takes too), so a set can never slip between
 * its check and its sleep.
 *
 * The generation is what makes a pulse (set, then clear at once) wake every
 * thread that was waiting when set() ran, as Python guarantees: a woken
 * waiter may find the flag already clear, but it finds the generation
 * changed since it published PARKED, and returns true. Being woken is not
 * enough to say so: a set() whose waiters left before its wake-up ran (they
 * saw SET first) may still wake a thread that parked after it, and that
 * thread must park again. Such a thread recorded the bumped generation, so
 * it sees no change. 30 bits: a waiter is misled only if 2^30 sets that
 * find waiters pass while it sleeps once.
 */
#include "cthreading/event.h"

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/park.h"
#include "sync/parked_bit.h"

#define GEN_ONE 4u
#define FLAGS (CT__EVENT_SET | CT__EVENT_PARKED)

/* Memory orders. What an event publishes is the setter's writes before
 * set(): set()'s CAS is a release, and every read a waiter returns on
 * (wait()'s loads, is_set()'s) an acquire, so the waiter sees them. (A
 * set() that finds the event already set writes nothing, so it publishes
 * nothing either: a waiter sees the writes made before the set() that set
 * it.) PARKED and the generation are hints for set(): they change by
 * relaxed CASes and are checked again under the bucket lock (validate)
 * before anyone sleeps, which is what makes a wake-up impossible to miss.
 * clear() publishes nothing: relaxed. */

void ct_event_set(ct_event_t *event)
{
	if (CT__UNLIKELY(!event))
		return;
	/* Relaxed: a guess for the CAS, or the early return above. */
	uint32_t s = atomic_load_explicit(&event->ct__state, memory_order_relaxed);
	if (s & CT__EVENT_SET)
		return;
	uint32_t want;
	do {
		uint32_t gen = (s & ~FLAGS) + (s & CT__EVENT_PARKED ? GEN_ONE : 0);
		want = gen | CT__EVENT_SET;
		/* Release: publishes the setter's writes to the waiters'
		 * acquire loads. The acquire half orders this set() after the
		 * clear() or set() whose word it replaces, as a lock would. */
	} while (!atomic_compare_exchange_weak_explicit(
		&event->ct__state, &s, want, memory_order_acq_rel, memory_order_relaxed));
	if (s & CT__EVENT_PARKED)
		ct__unpark_all(event, CT__TOKEN_NORMAL);
}

void ct_event_clear(ct_event_t *event)
{
	if (CT__UNLIKELY(!event))
		return;
	/* Relaxed: clear() publishes nothing (see "Memory orders" above). */
	atomic_fetch_and_explicit(&event->ct__state, ~CT__EVENT_SET, memory_order_relaxed);
}

/* True once the event is set, or was set since the waiter published
 * @p parked (gen | PARKED; 0 before it parked). */
static bool was_set(uint32_t parked, uint32_t s)
{
	return (s & CT__EVENT_SET) || (parked && (s & ~FLAGS) != (parked & ~FLAGS));
}

int ct_event_wait(ct_event_t *event, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(event, timeout, &deadline);
	if (rc < 0)
		return rc;
	struct ct__parked_wait w = {&event->ct__state, ~0u, 0, CT__EVENT_PARKED};
	for (;;) {
		/* Acquire: pairs with set()'s release, so a waiter that returns sees the
		 * setter's writes. */
		uint32_t s = atomic_load_explicit(&event->ct__state, memory_order_acquire);
		if (was_set(w.want, s))
			return 0;
		if (deadline == 0)
			return CT_ETIMEDOUT;
		/* Relaxed: PARKED is a hint, checked again under the bucket lock before
		 * sleeping. */
		if (!(s & CT__EVENT_PARKED) && !atomic_compare_exchange_weak_explicit(
						       &event->ct__state, &s, s | CT__EVENT_PARKED,
						       memory_order_relaxed, memory_order_relaxed))
			continue;
		w.want = (s & ~FLAGS) | CT__EVENT_PARKED;
		uintptr_t token;
		CT__DEBUG_HOOK(waits_on(event, CT__OBJ_EVENT));
		rc = ct__park_parked(event, &w, deadline, CT__PARK_INTERRUPTIBLE, &token);
		if (rc < 0)
			/* Acquire: as the load at the top of the loop. */
			/* GCOVR_EXCL_BR_START: the event set in the instant the wait times out: a
			 * race no test can aim at (stress cases hit it in some runs) */
			return was_set(w.want, atomic_load_explicit(&event->ct__state,
								    memory_order_acquire))
				       ? 0
				       : rc;
		/* GCOVR_EXCL_BR_STOP */
	}
}
