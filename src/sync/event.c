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

#define GEN_ONE 4u
#define FLAGS (CT__EVENT_SET | CT__EVENT_PARKED)

void ct_event_set(ct_event_t *event)
{
	if (CT__UNLIKELY(!event))
		return;
	uint32_t s = atomic_load_explicit(&event->ct__state, memory_order_relaxed);
	if (s & CT__EVENT_SET)
		return;
	uint32_t want;
	do {
		uint32_t gen = (s & ~FLAGS) + (s & CT__EVENT_PARKED ? GEN_ONE : 0);
		want = gen | CT__EVENT_SET;
	} while (!atomic_compare_exchange_weak_explicit(
		&event->ct__state, &s, want, memory_order_acq_rel, memory_order_relaxed));
	if (s & CT__EVENT_PARKED)
		ct__unpark_all(event, CT__TOKEN_NORMAL);
}

void ct_event_clear(ct_event_t *event)
{
	if (CT__UNLIKELY(!event))
		return;
	atomic_fetch_and_explicit(&event->ct__state, ~CT__EVENT_SET, memory_order_relaxed);
}

struct event_wait {
	ct_event_t *event;
	uint32_t parked; /* the word this waiter published: gen | PARKED */
};

static bool still_parked(void *ctx)
{
	struct event_wait *w = ctx;
	return atomic_load_explicit(&w->event->ct__state, memory_order_relaxed) == w->parked;
}

static void waiter_left(void *ctx, const void *key, bool was_last)
{
	struct event_wait *w = ctx;
	(void)key;
	if (was_last)
		atomic_fetch_and_explicit(&w->event->ct__state, ~CT__EVENT_PARKED,
					  memory_order_relaxed);
}

static const struct ct__park_ops event_park_ops = {
	.validate = still_parked,
	.timed_out = waiter_left,
};

/* True once the event is set, or was set since @p w published its wait. */
static bool was_set(const struct event_wait *w, uint32_t s)
{
	return (s & CT__EVENT_SET) || (w->parked && (s & ~FLAGS) != (w->parked & ~FLAGS));
}

int ct_event_wait(ct_event_t *event, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(event, timeout, &deadline);
	if (rc < 0)
		return rc;
	struct event_wait w = {.event = event, .parked = 0};
	for (;;) {
		uint32_t s = atomic_load_explicit(&event->ct__state, memory_order_acquire);
		if (was_set(&w, s))
			return 0;
		if (deadline == 0)
			return CT_ETIMEDOUT;
		if (!(s & CT__EVENT_PARKED) && !atomic_compare_exchange_weak_explicit(
						       &event->ct__state, &s, s | CT__EVENT_PARKED,
						       memory_order_relaxed, memory_order_relaxed))
			continue;
		w.parked = (s & ~FLAGS) | CT__EVENT_PARKED;
		uintptr_t token;
		CT__DEBUG_HOOK(waits_on(event, CT__OBJ_EVENT));
		rc = ct__park(event, &event_park_ops, &w, deadline, CT__PARK_INTERRUPTIBLE, &token);
		if (rc < 0)
			return was_set(&w, atomic_load_explicit(&event->ct__state,
								memory_order_acquire))
				       ? 0
				       : rc;
	}
}
