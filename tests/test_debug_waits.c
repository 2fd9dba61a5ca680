/* The lower layers' debugging hooks: with the lock hooks on (`deadlock`),
 * every kind of wait shows in a thread dump, a try-acquire is seen, and a
 * destroyed object's name is forgotten. Each case turns debugging on for
 * its own process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cthreading/barrier.h"
#include "cthreading/condition.h"
#include "cthreading/debug.h"
#include "cthreading/gil.h"
#include "cthreading/latch.h"
#include "cthreading/once.h"
#include "cthreading/rlock.h"
#include "cthreading/semaphore.h"
#include "cthreading/thread.h"
#include "debug_helpers.h"
#include "sync_helpers.h"

static ct_latch_t latch;

static int wait_latch(void *arg)
{
	(void)arg;
	CHECK_OK(ct_latch_wait(&latch, CT_FOREVER));
	return 0;
}

TEST(latch_wait_shows_in_dump)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	CHECK_OK(ct_latch_init(&latch, 1));
	CHECK_OK(ct_object_set_name(&latch, "the latch"));
	ct_thread_t *t = sh_start(wait_latch, NULL);
	dump_until("waiting on latch \"the latch\"");
	CHECK_OK(ct_latch_count_down(&latch, 1));
	sh_join(t);
}

static ct_barrier_t barrier = CT_BARRIER_INIT(2);

static int wait_barrier(void *arg)
{
	(void)arg;
	CHECK_EQ(ct_barrier_wait(&barrier, CT_FOREVER), 0);
	return 0;
}

TEST(barrier_wait_shows_in_dump)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	CHECK_OK(ct_object_set_name(&barrier, "the barrier"));
	ct_thread_t *t = sh_start(wait_barrier, NULL);
	dump_until("waiting on barrier \"the barrier\"");
	CHECK_EQ(ct_barrier_wait(&barrier, CT_FOREVER), 1);
	sh_join(t);
}

static ct_semaphore_t sem;

static int wait_semaphore(void *arg)
{
	(void)arg;
	CHECK_OK(ct_semaphore_acquire(&sem, CT_FOREVER));
	return 0;
}

TEST(semaphore_wait_shows_in_dump)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	CHECK_OK(ct_semaphore_init(&sem, 0));
	CHECK_OK(ct_object_set_name(&sem, "the semaphore"));
	ct_thread_t *t = sh_start(wait_semaphore, NULL);
	dump_until("waiting on semaphore \"the semaphore\"");
	CHECK_OK(ct_semaphore_release(&sem, 1));
	sh_join(t);
	CHECK(!ct_semaphore_try_acquire(&sem));
}

static ct_once_t once = CT_ONCE_INIT;
static ct_event_t once_may_end;
static ct_event_t once_running;

static int slow_init(void *arg)
{
	(void)arg;
	ct_event_set(&once_running);
	CHECK_OK(ct_event_wait(&once_may_end, CT_FOREVER));
	return 0;
}

static int run_once(void *arg)
{
	(void)arg;
	CHECK_OK(ct_once(&once, slow_init, NULL));
	return 0;
}

TEST(once_wait_shows_in_dump)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_event_init(&once_may_end);
	ct_event_init(&once_running);
	CHECK_OK(ct_object_set_name(&once, "the once"));
	ct_thread_t *runner = sh_start(run_once, NULL);
	CHECK_OK(ct_event_wait(&once_running, CT_FOREVER));
	ct_thread_t *waiter = sh_start(run_once, NULL);
	dump_until("waiting on once \"the once\"");
	ct_event_set(&once_may_end);
	sh_join(runner);
	sh_join(waiter);
}

static ct_condition_t cond = CT_CONDITION_INIT;
static atomic_int notified;

static int wait_condition(void *arg)
{
	(void)arg;
	ct_condition_acquire(&cond);
	while (!atomic_load(&notified))
		CHECK_OK(ct_condition_wait(&cond, CT_FOREVER));
	CHECK_OK(ct_condition_release(&cond));
	return 0;
}

TEST(condition_wait_shows_in_dump)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	CHECK_OK(ct_object_set_name(&cond, "the condition"));
	ct_thread_t *t = sh_start(wait_condition, NULL);
	dump_until("waiting on condition \"the condition\"");
	ct_condition_acquire(&cond);
	atomic_store(&notified, 1);
	CHECK_EQ(ct_condition_notify(&cond, 1), 1);
	CHECK_OK(ct_condition_release(&cond));
	sh_join(t);
}

/* With the profile on, a holder yielding to a waiter records the hold's
 * end and its own wait: the GIL shows in the report. */
static ct_gil_t gil = CT_GIL_INIT;

static int under_gil(void *arg)
{
	(void)arg;
	CHECK(ct_gil_held(&gil));
	return 0;
}

TEST(gil_yield_recorded_in_profile)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	CHECK_OK(ct_object_set_name(&gil, "the gil"));
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, under_gil, NULL, &(ct_thread_opts){.gil = &gil}));
	CHECK_OK(ct_thread_start(t));
	ht_wait_parked(t);
	CHECK_EQ(ct_gil_yield(&gil), 1); /* it ran, and we have the GIL back */
	ct_gil_stats_t st;
	CHECK_OK(ct_gil_stats(&gil, &st));
	CHECK_EQ(st.yields, 1);
	CHECK_OK(ct_gil_release(&gil));
	sh_join(t);
	char *buf = ht_report_text(ct_profile_report);
	if (!strstr(buf, "the gil"))
		ht_fail(__FILE__, __LINE__, "the GIL is not in the profile:\n%s", buf);
	free(buf);
}

/* A thread holding a GIL that would close a cycle of waits: the detector
 * makes sure of the cycle (a short sleep that keeps the GIL), then the
 * timed acquire fails with CT_EDEADLK, the GIL still held. */
static ct_lock_t lock_a = CT_LOCK_INIT, lock_b = CT_LOCK_INIT;
static ct_gil_t cycle_gil = CT_GIL_INIT;
static ct_event_t a_held, may_close;
static atomic_int cycle_rc = 1;

static int hold_a_then_want_b(void *arg)
{
	(void)arg;
	ct_lock_acquire(&lock_a);
	ct_event_set(&a_held);
	CHECK_OK(ct_event_wait(&may_close, CT_FOREVER));
	int rc = ct_lock_acquire_timeout(&lock_b, 30);
	CHECK(ct_gil_held(&cycle_gil));
	atomic_store(&cycle_rc, rc);
	CHECK_OK(ct_lock_release(&lock_a));
	return 0;
}

static int hold_b_then_want_a(void *arg)
{
	(void)arg;
	ct_lock_acquire(&lock_b);
	CHECK_OK(ct_event_wait(&a_held, CT_FOREVER));
	ct_lock_acquire(&lock_a);
	CHECK_OK(ct_lock_release(&lock_a));
	CHECK_OK(ct_lock_release(&lock_b));
	return 0;
}

TEST(cycle_found_by_a_gil_holder)
{
	CHECK_OK(ct_debug_configure("deadlock,log=/dev/null"));
	ct_event_init(&a_held);
	ct_event_init(&may_close);
	ct_thread_t *t1;
	CHECK_OK(
		ct_thread_new(&t1, hold_a_then_want_b, NULL, &(ct_thread_opts){.gil = &cycle_gil}));
	CHECK_OK(ct_thread_start(t1));
	ct_thread_t *t2 = sh_start(hold_b_then_want_a, NULL);
	CHECK_OK(ct_event_wait(&a_held, CT_FOREVER));
	ht_wait_parked_on(t2, &lock_a); /* waiting for a, holding b */
	ct_event_set(&may_close);
	sh_join(t1);
	sh_join(t2);
	CHECK_RC(atomic_load(&cycle_rc), CT_EDEADLK);
}

static ct_lock_t lock;

static int try_lock(void *arg)
{
	*(bool *)arg = ct_lock_try_acquire(&lock);
	return 0;
}

/* With the hooks on, a try-acquire goes out of line: it still takes a
 * free lock and fails on a held one. */
TEST(lock_try_acquire_with_hooks)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_lock_init(&lock);
	CHECK(ct_lock_try_acquire(&lock));
	bool other = true;
	sh_join(sh_start(try_lock, &other));
	CHECK(!other);
	CHECK_OK(ct_lock_release(&lock));
	sh_join(sh_start(try_lock, &other));
	CHECK(other);
	CHECK_OK(ct_lock_release(&lock));
}

static int acquire_now(void *arg)
{
	*(int *)arg = ct_lock_acquire_timeout(&lock, 0);
	return 0;
}

/* A timeout of 0 fails at once on a held lock without asking the
 * deadlock detector, which would only see a wait. */
TEST(lock_timeout_zero_with_hooks)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_lock_init(&lock);
	ct_lock_acquire(&lock);
	int rc = 0;
	sh_join(sh_start(acquire_now, &rc));
	CHECK_RC(rc, CT_ETIMEDOUT);
	CHECK_OK(ct_lock_release(&lock));
	sh_join(sh_start(acquire_now, &rc));
	CHECK_OK(rc);
	CHECK_OK(ct_lock_release(&lock));
}

/* An RLock's acquire, blocking or not, is seen by the hooks. */
TEST(rlock_holder_shows_in_dump)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_rlock_t r;
	ct_rlock_init(&r);
	CHECK_OK(ct_object_set_name(&r, "the rlock"));
	ct_rlock_acquire(&r);
	CHECK(ct_rlock_try_acquire(&r));
	dump_until("holds rlock \"the rlock\"");
	CHECK_OK(ct_rlock_release(&r));
	CHECK_OK(ct_rlock_release(&r));
	ct_rlock_destroy(&r);
}

/* Names are kept for objects: destroying one forgets its name, so that
 * another object at the same address does not inherit it. */
TEST(destroy_forgets_the_name)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	char buf[32];
	ct_lock_t l;
	ct_lock_init(&l);
	ct_condition_t c;
	ct_condition_init(&c, &l);
	CHECK_OK(ct_object_set_name(&c, "the condition"));
	CHECK(ct_object_get_name(&c, buf, sizeof buf) > 0);
	ct_condition_destroy(&c);
	CHECK_EQ(ct_object_get_name(&c, buf, sizeof buf), 0);

	ct_rlock_t r;
	ct_rlock_init(&r);
	CHECK_OK(ct_object_set_name(&r, "the rlock"));
	CHECK(ct_object_get_name(&r, buf, sizeof buf) > 0);
	ct_rlock_destroy(&r);
	CHECK_EQ(ct_object_get_name(&r, buf, sizeof buf), 0);

	ct_gil_t g;
	ct_gil_init(&g);
	CHECK_OK(ct_object_set_name(&g, "the gil"));
	CHECK(ct_object_get_name(&g, buf, sizeof buf) > 0);
	CHECK_OK(ct_gil_destroy(&g));
	CHECK_EQ(ct_object_get_name(&g, buf, sizeof buf), 0);
}
