/* Helpers shared by the synchronisation tests: starting and joining
 * threads, and waiting until a thread is parked (queued in the parking
 * core), which is how a test knows a thread is blocked without sleeping. */
#ifndef CT_TEST_SYNC_HELPERS_H
#define CT_TEST_SYNC_HELPERS_H

#include <sched.h>
#include <stdatomic.h>

#include "harness.h"
#include "park/parker.h"
#include "thread_internal.h"

/* Starts fn(arg) in a new thread. */
static inline ct_thread_t *sh_start(ct_target_fn fn, void *arg)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, fn, arg, NULL));
	CHECK_OK(ct_thread_start(t));
	return t;
}

/* Joins and destroys a thread started by sh_start(). */
static inline void sh_join(ct_thread_t *t)
{
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_destroy(t);
}

/* True while the thread is queued in the parking core (or sleeping in it):
 * its parker is armed. A parker is armed under the bucket lock, in the same
 * critical section that queues it, so once this is true a wake-up on the
 * key the thread waits on reaches it. */
static inline bool sh_parked(ct_thread_t *t)
{
	uint32_t s = atomic_load(&t->ct__impl->parker.state);
	return s == CT__PK_PARKED || s == CT__PK_SLEEPING;
}

/* Waits (yielding the CPU) until the thread is parked. */
static inline void sh_wait_parked(ct_thread_t *t)
{
	while (!sh_parked(t))
		sched_yield();
}

/* Waits until *counter reaches n (for "all n threads got this far"). */
static inline void sh_wait_count(atomic_int *counter, int n)
{
	while (atomic_load(counter) < n)
		sched_yield();
}

/* Checks that a call that timed out did not return before its timeout. */
#define SH_CHECK_NOT_EARLY(t0, timeout) CHECK(ht_now() - (t0) >= (timeout))

#endif /* CT_TEST_SYNC_HELPERS_H */
