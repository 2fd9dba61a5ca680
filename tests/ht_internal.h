/* What some tests need to see inside the library: whether a thread is
 * asleep in the parking core, and whether thread records were all freed.
 *
 * Waiting until a thread is parked is how a test knows that a wake-up or a
 * stop request reaches a thread that is really waiting, not one that has
 * yet to start waiting (which would test another path). Both helpers poll
 * the real condition, yielding the CPU; they never sleep for a guessed
 * time.
 */
#ifndef CT_TEST_HT_INTERNAL_H
#define CT_TEST_HT_INTERNAL_H

#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>

#include "harness.h"
#include "park/parker.h"
#include "thread/thread_internal.h"

/* Runs @p fn(@p arg) on a plain pthread, one cthreading did not start,
 * and joins it. */
static inline void ht_in_foreign_thread(void *(*fn)(void *), void *arg)
{
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, fn, arg), 0);
	CHECK_EQ(pthread_join(pt, NULL), 0);
}

/* Checks that a child whose waitpid() status is @p status exited with 0. */
#define HT_CHECK_EXITED_OK(status)                \
	do {                                      \
		CHECK(WIFEXITED(status));         \
		CHECK_EQ(WEXITSTATUS(status), 0); \
	} while (0)

/* True while @p t is queued or asleep in the parking core. A thread is
 * PARKED from the moment it is queued (under the bucket lock), so a waker
 * that comes after this returned true finds it in the queue. */
static inline bool ht_is_parked(const ct_thread_t *t)
{
	uint32_t s = atomic_load(&t->ct__impl->w->parker.state);
	return s == CT__PK_PARKED || s == CT__PK_SLEEPING || s == CT__PK_INTERRUPTED;
}

/* Waits until @p t is parked (its first park in the tests that use it), or
 * has finished: a wait with a timeout may be over, and the thread gone,
 * before this looks, and then it would never be parked again. (A started
 * thread's waiter record is in its thread record, which the handle keeps.) */
static inline void ht_wait_parked(const ct_thread_t *t)
{
	while (!ht_is_parked(t) && ct_thread_is_alive(t))
		sched_yield();
}

/* Waits until @p t is parked on @p key (a lock's address, say), not merely
 * parked: a thread woken from an earlier wait may still look parked there
 * until its waker's unpark reaches it. */
static inline void ht_wait_parked_on(const ct_thread_t *t, const void *key)
{
	/* Relaxed: a hint, as the dumps read it (waiter.h). */
	while (atomic_load_explicit(&t->ct__impl->w->parked_on, memory_order_relaxed) != key)
		sched_yield();
}

/* Runs fn(arg) in a new thread, requests a stop for it once it is parked
 * (in its first wait) and joins it. Returns the finished thread, for the
 * caller to destroy. */
static inline ct_thread_t *ht_stop_when_parked(ct_target_fn fn, void *arg)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, fn, arg, NULL));
	CHECK_OK(ct_thread_start(t));
	ht_wait_parked(t);
	CHECK_OK(ct_thread_request_stop(t));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	return t;
}

/* Waits until the number of live heap thread records is back to @p want
 * and fails if it is not within 10 seconds. A thread drops its last
 * reference a few instructions after a join of it returns, so the count
 * lags behind by design; a leaked record never comes back. */
static inline void ht_wait_records(size_t want)
{
	double limit = ht_now() + 10;
	while (ct__thread_records_live() != want) {
		if (ht_now() > limit)
			ht_fail(__FILE__, __LINE__, "thread records: %zu live, %zu expected",
				ct__thread_records_live(), want);
		sched_yield();
	}
}

#endif /* CT_TEST_HT_INTERNAL_H */
