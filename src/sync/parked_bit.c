/* Parking on a word with a PARKED bit (parked_bit.h). */
#include "sync/parked_bit.h"

static bool still_as_parked(void *ctx)
{
	const struct ct__parked_wait *w = ctx;
	/* Relaxed: under the bucket lock, which orders it against every PARKED change (the waker
	 * clears the bit under it too). */
	return (atomic_load_explicit(w->word, memory_order_relaxed) & w->mask) == w->want;
}

void ct__parked_wait_left(void *ctx, const void *key, bool was_last)
{
	const struct ct__parked_wait *w = ctx;
	(void)key;
	if (was_last)
		/* Relaxed: the hint only, under the bucket lock; the word's own value is
		 * published by its other accesses. */
		atomic_fetch_and_explicit(w->word, ~w->parked, memory_order_relaxed);
}

static const struct ct__park_ops parked_ops = {
	.validate = still_as_parked,
	.timed_out = ct__parked_wait_left,
};

int ct__park_parked(const void *key, struct ct__parked_wait *w, int64_t deadline, unsigned flags,
		    uintptr_t *token)
{
	return ct__park(key, &parked_ops, w, deadline, flags, token);
}
