/* Latch: one word, count << 1 | PARKED.
 *
 *   count   PARKED   meaning
 *   ------  -------  ------------------------------------------------
 *   > 0     no       counting down, nobody waits
 *   > 0     yes      counting down, threads parked (or about to)
 *   0       no       open, for good: nobody parks any more
 *
 * The count-down that reaches zero clears PARKED in the same
 * compare-and-swap and, if it was set, wakes everyone. A waiter sleeps only
 * if, under the bucket lock that wake-up takes too, the count is still
 * positive and PARKED still set, so the last count-down cannot slip
 * between its check and its sleep (as in event.c).
 */
#include "cthreading/latch.h"

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/park.h"
#include "sync/parked_bit.h"

int ct_latch_init(ct_latch_t *latch, long count)
{
	if (!latch)
		return CT_EINVAL;
	if (count < 0)
		return CT_ENEGATIVE;
	if ((unsigned long)count > CT_LATCH_COUNT_MAX)
		return CT_EINVAL;
	atomic_init(&latch->ct__state, (uint32_t)count * CT__LATCH_ONE);
	return 0;
}

int ct_latch_count_down(ct_latch_t *latch, unsigned n)
{
	if (CT__UNLIKELY(!latch))
		return CT_EINVAL;
	/* Memory orders: each count-down is a release RMW, so all of them
	 * form one release sequence that the waiters' acquire loads of zero
	 * synchronise with: a waiter sees every counter's earlier writes. The
	 * acquire half gives the same to the thread whose count-down reaches
	 * zero (arrive_and_wait). The relaxed load is the CAS's first guess;
	 * PARKED moves by relaxed RMWs, re-validated under the bucket lock. */
	uint32_t s = atomic_load_explicit(&latch->ct__state, memory_order_relaxed);
	uint32_t next;
	do {
		if (n == 0 || n > s / CT__LATCH_ONE)
			return CT_EINVAL;
		next = s - n * CT__LATCH_ONE;
		if (next < CT__LATCH_ONE)
			next = 0;
		/* Acq_rel: each count-down a release RMW of one release sequence; acquire for the
		 * one reaching zero (see "Memory orders" above). */
		/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not something
		 * a test can force */
	} while (!atomic_compare_exchange_weak_explicit(
		&latch->ct__state, &s, next, memory_order_acq_rel, memory_order_relaxed));
	/* GCOVR_EXCL_BR_STOP */
	if (next == 0 && (s & CT__LATCH_PARKED))
		ct__unpark_all(latch, CT__TOKEN_NORMAL);
	return 0;
}

static bool still_counting_and_parked(void *ctx)
{
	const struct ct__parked_wait *w = ctx;
	/* Relaxed: under the bucket lock, which orders it against every PARKED change. */
	uint32_t s = atomic_load_explicit(w->word, memory_order_relaxed);
	/* GCOVR_EXCL_BR_START: the latch opened between the waiter's check and its parking: a race
	 */
	return s >= CT__LATCH_ONE && (s & CT__LATCH_PARKED);
	/* GCOVR_EXCL_BR_STOP */
}

static const struct ct__park_ops latch_park_ops = {
	.validate = still_counting_and_parked,
	.timed_out = ct__parked_wait_left,
};

static int wait_until(ct_latch_t *latch, int64_t deadline)
{
	for (;;) {
		/* Acquire: pairs with the count-downs' release sequence, so a waiter that sees
		 * zero sees every counter's writes. */
		uint32_t s = atomic_load_explicit(&latch->ct__state, memory_order_acquire);
		if (s < CT__LATCH_ONE)
			return 0;
		if (ct__expired(deadline))
			return CT_ETIMEDOUT;
		/* Relaxed: PARKED is a hint, re-validated under the bucket lock. */
		/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not something
		 * a test can force */
		if (!(s & CT__LATCH_PARKED) && !atomic_compare_exchange_weak_explicit(
						       &latch->ct__state, &s, s | CT__LATCH_PARKED,
						       memory_order_relaxed, memory_order_relaxed))
			continue;
		/* GCOVR_EXCL_BR_STOP */
		struct ct__parked_wait w = {.word = &latch->ct__state, .parked = CT__LATCH_PARKED};
		uintptr_t token;
		CT__DEBUG_HOOK(waits_on(latch, CT__OBJ_LATCH));
		int rc = ct__park(latch, &latch_park_ops, &w, deadline, CT__PARK_INTERRUPTIBLE,
				  &token);
		if (rc < 0)
			/* GCOVR_EXCL_BR_START: the object becoming ready in the instant the wait
			 * times out: a race no test can aim at */
			return ct_latch_try_wait(latch) ? 0 : rc;
		/* GCOVR_EXCL_BR_STOP */
	}
}

int ct_latch_wait(ct_latch_t *latch, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(latch, timeout, &deadline);
	return rc < 0 ? rc : wait_until(latch, deadline);
}

int ct_latch_arrive_and_wait(ct_latch_t *latch, unsigned n, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(latch, timeout, &deadline);
	if (rc == 0)
		rc = ct_latch_count_down(latch, n);
	return rc < 0 ? rc : wait_until(latch, deadline);
}
