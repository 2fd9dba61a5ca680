/* Event: one word, SET and PARKED bits.
 *
 *   0              clear, nobody parked
 *   PARKED         clear, threads parked (or about to)
 *   SET            set; nobody parks on a set event
 *
 * set() exchanges the word for SET: if PARKED was in it, wake everyone. A
 * waiter sets PARKED and parks only while the word is still exactly PARKED
 * (checked under the bucket lock that set()'s wake-up takes too), so a set
 * can never slip between its check and its sleep.
 */
#include "cthreading/event.h"

#include "internal.h"
#include "park/park.h"

void ct_event_set(ct_event_t *event)
{
	if (atomic_load_explicit(&event->ct__state, memory_order_relaxed) == CT__EVENT_SET)
		return;
	uint32_t old =
		atomic_exchange_explicit(&event->ct__state, CT__EVENT_SET, memory_order_acq_rel);
	if (old & CT__EVENT_PARKED)
		ct__unpark_all(event, CT__TOKEN_NORMAL);
}

void ct_event_clear(ct_event_t *event)
{
	atomic_fetch_and_explicit(&event->ct__state, ~CT__EVENT_SET, memory_order_relaxed);
}

static bool still_parked(void *ctx)
{
	ct_event_t *event = ctx;
	return atomic_load_explicit(&event->ct__state, memory_order_relaxed) == CT__EVENT_PARKED;
}

static void waiter_left(void *ctx, const void *key, bool was_last)
{
	ct_event_t *event = ctx;
	(void)key;
	if (was_last)
		atomic_fetch_and_explicit(&event->ct__state, ~CT__EVENT_PARKED,
					  memory_order_relaxed);
}

static const struct ct__park_ops event_park_ops = {
	.validate = still_parked,
	.timed_out = waiter_left,
};

int ct_event_wait(ct_event_t *event, double timeout)
{
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	if (rc < 0)
		return rc;
	for (;;) {
		uint32_t s = atomic_load_explicit(&event->ct__state, memory_order_acquire);
		if (s & CT__EVENT_SET)
			return 0;
		if (deadline == 0)
			return CT_ETIMEDOUT;
		if (!(s & CT__EVENT_PARKED) && !atomic_compare_exchange_weak_explicit(
						       &event->ct__state, &s, s | CT__EVENT_PARKED,
						       memory_order_relaxed, memory_order_relaxed))
			continue;
		uintptr_t token;
		rc = ct__park(event, &event_park_ops, event, deadline, CT__PARK_INTERRUPTIBLE,
			      &token);
		if (rc < 0)
			return ct_event_is_set(event) ? 0 : rc;
	}
}
