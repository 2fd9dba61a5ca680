/* CPython's Lib/test/lock_tests.py, ported to C: the generic tests of the
 * synchronisation primitives, one case per type they are applied to in
 * test_threading.py (LockTests, RLockTests, ConditionAsRLockTests,
 * EventTests, ConditionTests, SemaphoreTests, BoundedSemaphoreTests,
 * BarrierTests). Names: <class>_<method>, lower case; the
 * BaseLockTests/BaseSemaphoreTests methods appear once per type
 * (locktests_, rlocktests_, conditionasrlocktests_, semaphoretests_,
 * boundedsemaphoretests_). The sleeps of the originals ("let the threads
 * block") are replaced by waiting until the threads are parked.
 *
 * Not ported, and why:
 *   BaseLockTests.test_constructor_noargs   the C signatures take no
 *                                           arguments (a compile error).
 *   BaseLockTests.test_repr, test_locked_repr, RLockTests.test_repr_count,
 *   EventTests.test_repr                    __repr__ has no C meaning.
 *   BaseLockTests.test_weakref_exists, test_weakref_deleted
 *                                           weak references (GC).
 *   LockTests.test_at_fork_reinit, EventTests.test_at_fork_reinit
 *                                           the private _at_fork_reinit
 *                                           has no counterpart.
 *   RLockTests.test_release_save_unacquired the private _release_save (a
 *                                           Condition internal) has none.
 *   RLockTests.test_recursion_count         _recursion_count() is not
 *                                           exposed (docs/python-to-c.md).
 *   ConditionAsRLockTests: test_locked, test_locked_with_2threads,
 *   test__is_owned                          a Condition exposes neither
 *                                           locked() nor _is_owned() in C.
 *   (Python skips test_constructor_noargs and test_recursion_count there
 *   too.)
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "cpython_helpers.h"

/* ==== Lock, RLock and Condition behind one set of operations ============ */

enum lock_kind { K_LOCK, K_RLOCK, K_COND };

struct anylock {
	enum lock_kind kind;
	union {
		ct_lock_t lock;
		ct_rlock_t rlock;
		ct_condition_t cond;
	} u;
};

static void al_init(struct anylock *l, enum lock_kind kind)
{
	l->kind = kind;
	switch (kind) {
	case K_LOCK:
		ct_lock_init(&l->u.lock);
		break;
	case K_RLOCK:
		ct_rlock_init(&l->u.rlock);
		break;
	case K_COND:
		ct_condition_init(&l->u.cond, NULL); /* Condition(): an RLock of its own */
		break;
	}
}

static void al_destroy(struct anylock *l)
{
	switch (l->kind) {
	case K_LOCK:
		ct_lock_destroy(&l->u.lock);
		break;
	case K_RLOCK:
		ct_rlock_destroy(&l->u.rlock);
		break;
	case K_COND:
		ct_condition_destroy(&l->u.cond);
		break;
	}
}

static void al_acquire(struct anylock *l)
{
	switch (l->kind) {
	case K_LOCK:
		ct_lock_acquire(&l->u.lock);
		break;
	case K_RLOCK:
		ct_rlock_acquire(&l->u.rlock);
		break;
	case K_COND:
		ct_condition_acquire(&l->u.cond);
		break;
	}
}

static int al_acquire_timeout(struct anylock *l, double timeout)
{
	switch (l->kind) {
	case K_LOCK:
		return ct_lock_acquire_timeout(&l->u.lock, timeout);
	case K_RLOCK:
		return ct_rlock_acquire_timeout(&l->u.rlock, timeout);
	case K_COND:
		return ct_condition_acquire_timeout(&l->u.cond, timeout);
	}
	return CT_EINVAL;
}

/* acquire(blocking=False) */
static bool al_try(struct anylock *l)
{
	switch (l->kind) {
	case K_LOCK:
		return ct_lock_try_acquire(&l->u.lock);
	case K_RLOCK:
		return ct_rlock_try_acquire(&l->u.rlock);
	case K_COND:
		return ct_condition_acquire_timeout(&l->u.cond, 0) == 0;
	}
	return false;
}

static int al_release(struct anylock *l)
{
	switch (l->kind) {
	case K_LOCK:
		return ct_lock_release(&l->u.lock);
	case K_RLOCK:
		return ct_rlock_release(&l->u.rlock);
	case K_COND:
		return ct_condition_release(&l->u.cond);
	}
	return CT_EINVAL;
}

/* `with lock:`, left by its end (raise_in_block false) or by a return out
 * of the block, the C form of an exception raised inside it. */
static int al_with(struct anylock *l, bool raise_in_block)
{
	switch (l->kind) {
	case K_LOCK:
		CT_WITH_LOCK(&l->u.lock)
		{
			if (raise_in_block)
				return 1;
		}
		break;
	case K_RLOCK:
		CT_WITH_RLOCK(&l->u.rlock)
		{
			if (raise_in_block)
				return 1;
		}
		break;
	case K_COND:
		CT_WITH_CONDITION(&l->u.cond)
		{
			if (raise_in_block)
				return 1;
		}
		break;
	}
	return 0;
}

static void acquire_release(void *arg)
{
	al_acquire(arg);
	CHECK_OK(al_release(arg));
}

/* ==== BaseLockTests ====================================================== */

static void base_constructor(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	al_destroy(&l);
}

static void base_acquire_destroy(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	al_acquire(&l);
	al_destroy(&l);
}

static void base_acquire_release(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	al_acquire(&l);
	CHECK_OK(al_release(&l));
	al_destroy(&l);
}

static void base_try_acquire(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	CHECK(al_try(&l));
	CHECK_OK(al_release(&l));
}

struct try_probe {
	struct anylock *l;
	atomic_int result;
};

static void try_once(void *arg)
{
	struct try_probe *p = arg;
	atomic_store(&p->result, al_try(p->l));
}

static void base_try_acquire_contended(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	al_acquire(&l);
	struct try_probe p = {.l = &l, .result = -1};
	bunch_run(try_once, &p, 1);
	CHECK_EQ(atomic_load(&p.result), false);
	CHECK_OK(al_release(&l));
}

static void base_acquire_contended(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	al_acquire(&l);
	enum { N = 5 };
	struct bunch b;
	bunch_start(&b, acquire_release, &l, N, false);
	/* The threads are blocked on acquire. */
	bunch_wait_blocked(&b);
	CHECK_EQ(atomic_load(&b.finished), 0);
	CHECK_OK(al_release(&l));
	bunch_join(&b);
	CHECK_EQ(atomic_load(&b.finished), N);
}

static void base_with(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	CHECK_EQ(al_with(&l, false), 0);
	/* The lock is free again: another thread can take it. */
	bunch_run(acquire_release, &l, 1);
	/* Leaving the block early (the raise) releases it too. */
	CHECK_EQ(al_with(&l, true), 1);
	bunch_run(acquire_release, &l, 1);
}

static void base_thread_leak(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	size_t n = ct_active_count();
	/* Many threads, in the hope that thread ids are not reused. */
	bunch_run(acquire_release, &l, 15);
	CHECK_EQ(ct_active_count(), n);
}

struct timed_probe {
	struct anylock *l;
	double timeout;
	int rc;
	double elapsed;
};

static void acquire_timed(void *arg)
{
	struct timed_probe *p = arg;
	double t0 = ht_now();
	p->rc = al_acquire_timeout(p->l, p->timeout);
	p->elapsed = ht_now() - t0;
}

static void base_timeout(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	/* acquire(False, 1), "can't set timeout if not blocking", has no C
	 * form: a timeout of 0 is the non-blocking acquire. timeout=-100 is
	 * Python's ValueError: CT_EINVAL, and the lock stays free. */
	CHECK_RC(al_acquire_timeout(&l, -100), CT_EINVAL);
	CHECK_OK(al_acquire_timeout(&l, CT_FOREVER));
	CHECK_OK(al_release(&l));
	/* OverflowError: CT_ETOOLARGE. */
	CHECK_RC(al_acquire_timeout(&l, 1e100), CT_ETOOLARGE);
	CHECK_RC(al_acquire_timeout(&l, CT_TIMEOUT_MAX + 1), CT_ETOOLARGE);
	/* TIMEOUT_MAX is fine. */
	CHECK_OK(al_acquire_timeout(&l, CT_TIMEOUT_MAX));
	CHECK_OK(al_release(&l));
	CHECK_OK(al_acquire_timeout(&l, 5));
	/* Held by this thread: another one times out, not early. */
	struct timed_probe p = {.l = &l, .timeout = 0.5, .rc = 1};
	bunch_run(acquire_timed, &p, 1);
	CHECK_RC(p.rc, CT_ETIMEDOUT);
	CHECK(p.elapsed >= 0.5);
	CHECK_OK(al_release(&l));
}

/* One case per type (BaseLockTests applied to Lock, RLock and Condition). */
TEST(locktests_constructor)
{
	base_constructor(K_LOCK);
}

TEST(locktests_acquire_destroy)
{
	base_acquire_destroy(K_LOCK);
}

TEST(locktests_acquire_release)
{
	base_acquire_release(K_LOCK);
}

TEST(locktests_try_acquire)
{
	base_try_acquire(K_LOCK);
}

TEST(locktests_try_acquire_contended)
{
	base_try_acquire_contended(K_LOCK);
}

TEST(locktests_acquire_contended)
{
	base_acquire_contended(K_LOCK);
}

TEST(locktests_with)
{
	base_with(K_LOCK);
}

TEST(locktests_thread_leak)
{
	base_thread_leak(K_LOCK);
}

TEST(locktests_timeout)
{
	base_timeout(K_LOCK);
}

TEST(rlocktests_constructor)
{
	base_constructor(K_RLOCK);
}

TEST(rlocktests_acquire_destroy)
{
	base_acquire_destroy(K_RLOCK);
}

TEST(rlocktests_acquire_release)
{
	base_acquire_release(K_RLOCK);
}

TEST(rlocktests_try_acquire)
{
	base_try_acquire(K_RLOCK);
}

TEST(rlocktests_try_acquire_contended)
{
	base_try_acquire_contended(K_RLOCK);
}

TEST(rlocktests_acquire_contended)
{
	base_acquire_contended(K_RLOCK);
}

TEST(rlocktests_with)
{
	base_with(K_RLOCK);
}

TEST(rlocktests_thread_leak)
{
	base_thread_leak(K_RLOCK);
}

TEST(rlocktests_timeout)
{
	base_timeout(K_RLOCK);
}

TEST(conditionasrlocktests_constructor)
{
	base_constructor(K_COND);
}

TEST(conditionasrlocktests_acquire_destroy)
{
	base_acquire_destroy(K_COND);
}

TEST(conditionasrlocktests_acquire_release)
{
	base_acquire_release(K_COND);
}

TEST(conditionasrlocktests_try_acquire)
{
	base_try_acquire(K_COND);
}

TEST(conditionasrlocktests_try_acquire_contended)
{
	base_try_acquire_contended(K_COND);
}

TEST(conditionasrlocktests_acquire_contended)
{
	base_acquire_contended(K_COND);
}

TEST(conditionasrlocktests_with)
{
	base_with(K_COND);
}

TEST(conditionasrlocktests_thread_leak)
{
	base_thread_leak(K_COND);
}

TEST(conditionasrlocktests_timeout)
{
	base_timeout(K_COND);
}

/* ==== LockTests ========================================================== */

struct reacquire_probe {
	ct_lock_t *lock;
	atomic_int phase;
};

static int lock_twice(void *arg)
{
	struct reacquire_probe *p = arg;
	ct_lock_acquire(p->lock);
	atomic_fetch_add(&p->phase, 1);
	ct_lock_acquire(p->lock); /* blocks: a Lock is not reentrant */
	atomic_fetch_add(&p->phase, 1);
	return 0;
}

TEST(locktests_reacquire)
{
	ct_lock_t lock = CT_LOCK_INIT;
	struct reacquire_probe p = {.lock = &lock, .phase = 0};
	ct_thread_t *t = cp_start(lock_twice, &p);
	/* The thread blocks in its second acquire. */
	ct_poll_until(atomic_load(&p.phase) >= 1);
	ht_wait_parked(t);
	CHECK_EQ(atomic_load(&p.phase), 1);
	/* Released by another thread, it goes on. */
	CHECK_OK(ct_lock_release(&lock));
	ct_poll_until(atomic_load(&p.phase) >= 2);
	CHECK_EQ(atomic_load(&p.phase), 2);
	cp_join(t);
	CHECK_OK(ct_lock_release(&lock));
}

static void release_lock(void *arg)
{
	CHECK_OK(ct_lock_release(arg));
}

TEST(locktests_different_thread)
{
	ct_lock_t lock = CT_LOCK_INIT;
	ct_lock_acquire(&lock);
	bunch_run(release_lock, &lock, 1);
	ct_lock_acquire(&lock);
	CHECK_OK(ct_lock_release(&lock));
}

TEST(locktests_state_after_timeout)
{
	ct_lock_t lock = CT_LOCK_INIT;
	ct_lock_acquire(&lock);
	CHECK_RC(ct_lock_acquire_timeout(&lock, 0.01), CT_ETIMEDOUT);
	CHECK_OK(ct_lock_release(&lock));
	CHECK(!ct_lock_locked(&lock));
	CHECK(ct_lock_try_acquire(&lock));
}

/* ==== RLockTests (RLock, and Condition as an RLock) ====================== */

static void rlock_reacquire(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	al_acquire(&l);
	al_acquire(&l);
	CHECK_OK(al_release(&l));
	al_acquire(&l);
	CHECK_OK(al_release(&l));
	CHECK_OK(al_release(&l));
}

TEST(rlocktests_reacquire)
{
	rlock_reacquire(K_RLOCK);
}

TEST(conditionasrlocktests_reacquire)
{
	rlock_reacquire(K_COND);
}

static void rlock_release_unacquired(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	CHECK_RC(al_release(&l), CT_ENOTOWNER); /* RuntimeError */
	al_acquire(&l);
	al_acquire(&l);
	CHECK_OK(al_release(&l));
	al_acquire(&l);
	CHECK_OK(al_release(&l));
	CHECK_OK(al_release(&l));
	CHECK_RC(al_release(&l), CT_ENOTOWNER);
}

TEST(rlocktests_release_unacquired)
{
	rlock_release_unacquired(K_RLOCK);
}

TEST(conditionasrlocktests_release_unacquired)
{
	rlock_release_unacquired(K_COND);
}

TEST(rlocktests_locked)
{
	ct_rlock_t lock = CT_RLOCK_INIT;
	CHECK(!ct_rlock_locked(&lock));
	ct_rlock_acquire(&lock);
	CHECK(ct_rlock_locked(&lock));
	ct_rlock_acquire(&lock);
	CHECK(ct_rlock_locked(&lock));
	CHECK_OK(ct_rlock_release(&lock));
	CHECK(ct_rlock_locked(&lock));
	CHECK_OK(ct_rlock_release(&lock));
	CHECK(!ct_rlock_locked(&lock));
}

struct locked_probe {
	ct_rlock_t *lock;
	bool before, after;
};

static void locked_then_acquire(void *arg)
{
	struct locked_probe *p = arg;
	p->before = ct_rlock_locked(p->lock);
	ct_rlock_acquire(p->lock);
	p->after = ct_rlock_locked(p->lock);
}

TEST(rlocktests_locked_with_2threads)
{
	ct_rlock_t lock = CT_RLOCK_INIT;
	CHECK(!ct_rlock_locked(&lock));
	struct locked_probe p = {.lock = &lock};
	/* The thread ends owning the lock: it is still locked here. */
	bunch_run(locked_then_acquire, &p, 1);
	CHECK(ct_rlock_locked(&lock));
	CHECK(!p.before);
	CHECK(p.after);
}

static void acquire_only(void *arg)
{
	al_acquire(arg);
}

static void rlock_different_thread(enum lock_kind kind)
{
	struct anylock l;
	al_init(&l, kind);
	struct bunch b;
	bunch_start(&b, acquire_only, &l, 1, true);
	ct_poll_until(atomic_load(&b.finished) == 1); /* the thread owns it */
	/* Only the owner may release. */
	CHECK_RC(al_release(&l), CT_ENOTOWNER);
	bunch_finish(&b);
	bunch_join(&b);
}

TEST(rlocktests_different_thread)
{
	rlock_different_thread(K_RLOCK);
}

TEST(conditionasrlocktests_different_thread)
{
	rlock_different_thread(K_COND);
}

struct owned_probe {
	ct_rlock_t *lock;
	int result;
};

static void is_owned_here(void *arg)
{
	struct owned_probe *p = arg;
	p->result = ct_rlock_is_owned(p->lock);
}

TEST(rlocktests__is_owned)
{
	ct_rlock_t lock = CT_RLOCK_INIT;
	CHECK(!ct_rlock_is_owned(&lock));
	ct_rlock_acquire(&lock);
	CHECK(ct_rlock_is_owned(&lock));
	ct_rlock_acquire(&lock);
	CHECK(ct_rlock_is_owned(&lock));
	struct owned_probe p = {.lock = &lock, .result = -1};
	bunch_run(is_owned_here, &p, 1);
	CHECK_EQ(p.result, 0);
	CHECK_OK(ct_rlock_release(&lock));
	CHECK(ct_rlock_is_owned(&lock));
	CHECK_OK(ct_rlock_release(&lock));
	CHECK(!ct_rlock_is_owned(&lock));
}

/* ==== EventTests ========================================================= */

TEST(eventtests_is_set)
{
	ct_event_t evt = CT_EVENT_INIT;
	CHECK(!ct_event_is_set(&evt));
	ct_event_set(&evt);
	CHECK(ct_event_is_set(&evt));
	ct_event_set(&evt);
	CHECK(ct_event_is_set(&evt));
	ct_event_clear(&evt);
	CHECK(!ct_event_is_set(&evt));
	ct_event_clear(&evt);
	CHECK(!ct_event_is_set(&evt));
}

struct event_probe {
	ct_event_t *evt;
	double timeout;
	atomic_int results1[8], results2[8];
	atomic_int n1, n2;
	double elapsed[8];
};

static void wait_twice(void *arg)
{
	struct event_probe *p = arg;
	int rc = ct_event_wait(p->evt, CT_FOREVER);
	atomic_store(&p->results1[atomic_fetch_add(&p->n1, 1)], rc);
	rc = ct_event_wait(p->evt, CT_FOREVER);
	atomic_store(&p->results2[atomic_fetch_add(&p->n2, 1)], rc);
}

static void check_notify(ct_event_t *evt)
{
	enum { N = 5 };
	struct event_probe p = {.evt = evt};
	struct bunch b;
	bunch_start(&b, wait_twice, &p, N, false);
	/* Blocked on the first wait. */
	bunch_wait_blocked(&b);
	CHECK_EQ(atomic_load(&p.n1), 0);
	ct_event_set(evt);
	bunch_join(&b);
	CHECK_EQ(atomic_load(&p.n1), N);
	CHECK_EQ(atomic_load(&p.n2), N);
	for (int i = 0; i < N; i++) {
		CHECK_OK(atomic_load(&p.results1[i]));
		CHECK_OK(atomic_load(&p.results2[i]));
	}
}

TEST(eventtests_notify)
{
	ct_event_t evt = CT_EVENT_INIT;
	check_notify(&evt);
	/* Again, after an explicit clear. */
	ct_event_set(&evt);
	ct_event_clear(&evt);
	check_notify(&evt);
}

static void wait_zero_then_timed(void *arg)
{
	struct event_probe *p = arg;
	int rc = ct_event_wait(p->evt, 0.0);
	atomic_store(&p->results1[atomic_fetch_add(&p->n1, 1)], rc);
	double t0 = ht_now();
	rc = ct_event_wait(p->evt, p->timeout);
	int i = atomic_fetch_add(&p->n2, 1);
	p->elapsed[i] = ht_now() - t0;
	atomic_store(&p->results2[i], rc);
}

TEST(eventtests_timeout)
{
	enum { N = 5 };
	ct_event_t evt = CT_EVENT_INIT;
	struct event_probe p = {.evt = &evt, .timeout = 0.5};
	bunch_run(wait_zero_then_timed, &p, N);
	for (int i = 0; i < N; i++) {
		CHECK_RC(atomic_load(&p.results1[i]), CT_ETIMEDOUT);
		CHECK_RC(atomic_load(&p.results2[i]), CT_ETIMEDOUT);
		CHECK(p.elapsed[i] >= 0.5);
	}
	/* The event is set. */
	struct event_probe q = {.evt = &evt, .timeout = 0.5};
	ct_event_set(&evt);
	bunch_run(wait_zero_then_timed, &q, N);
	for (int i = 0; i < N; i++) {
		CHECK_OK(atomic_load(&q.results1[i]));
		CHECK_OK(atomic_load(&q.results2[i]));
	}
}

static void wait_long(void *arg)
{
	struct event_probe *p = arg;
	int rc = ct_event_wait(p->evt, p->timeout);
	atomic_store(&p->results1[atomic_fetch_add(&p->n1, 1)], rc);
}

/* gh-57711: wait() returns true even when the event is cleared before the
 * waiting thread is woken up. Python pulses once; the pulse is repeated
 * here so that a wake-up lost now and then fails the case every time. */
TEST(eventtests_set_and_clear)
{
	enum { N = 5, ROUNDS = 50 };
	for (int round = 0; round < ROUNDS; round++) {
		ct_event_t evt = CT_EVENT_INIT;
		struct event_probe p = {.evt = &evt, .timeout = 60};
		struct bunch b;
		bunch_start(&b, wait_long, &p, N, false);
		/* The threads are blocked on the wait. */
		bunch_wait_blocked(&b);
		ct_event_set(&evt);
		ct_event_clear(&evt);
		bunch_join(&b);
		CHECK_EQ(atomic_load(&p.n1), N);
		for (int i = 0; i < N; i++) {
			int rc = atomic_load(&p.results1[i]);
			if (rc != 0)
				ht_fail(__FILE__, __LINE__,
					"round %d: a waiter of the pulse got %d (%s), not 0", round,
					rc, ct_strerror(rc));
		}
	}
}

/* ==== ConditionTests ===================================================== */

TEST(conditiontests_acquire)
{
	ct_condition_t cond;
	ct_condition_init(&cond, NULL);
	/* By default an RLock: acquired more than once. */
	ct_condition_acquire(&cond);
	ct_condition_acquire(&cond);
	CHECK_OK(ct_condition_release(&cond));
	CHECK_OK(ct_condition_release(&cond));
	ct_condition_destroy(&cond);

	ct_lock_t lock = CT_LOCK_INIT;
	ct_condition_init(&cond, &lock);
	ct_condition_acquire(&cond);
	CHECK(!ct_lock_try_acquire(&lock));
	CHECK_OK(ct_condition_release(&cond));
	CHECK(ct_lock_try_acquire(&lock));
	CHECK_RC(ct_condition_acquire_timeout(&cond, 0), CT_ETIMEDOUT);
	CHECK_OK(ct_lock_release(&lock));
	CT_WITH_CONDITION(&cond)
	{
		CHECK(!ct_lock_try_acquire(&lock));
	}
	ct_condition_destroy(&cond);
}

TEST(conditiontests_unacquired_wait)
{
	ct_condition_t cond = CT_CONDITION_INIT;
	CHECK_RC(ct_condition_wait(&cond, CT_FOREVER), CT_EWAITUNOWNED);
}

TEST(conditiontests_unacquired_notify)
{
	ct_condition_t cond = CT_CONDITION_INIT;
	CHECK_RC(ct_condition_notify(&cond, 1), CT_ENOTIFYUNOWNED);
}

struct notify_probe {
	ct_condition_t *cond;
	/* All under the condition's lock. */
	int phase;
	int ready;
	int results1[8], results2[8];
	int n1, n2;
};

static void wait_two_phases(void *arg)
{
	struct notify_probe *p = arg;
	ct_condition_acquire(p->cond);
	p->ready++;
	int rc = ct_condition_wait(p->cond, CT_FOREVER);
	CHECK_OK(rc);
	/* Read with the lock held: set by the notifier before it released. */
	p->results1[p->n1++] = p->phase;
	CHECK_OK(ct_condition_release(p->cond));

	ct_condition_acquire(p->cond);
	p->ready++;
	rc = ct_condition_wait(p->cond, CT_FOREVER);
	CHECK_OK(rc);
	p->results2[p->n2++] = p->phase;
	CHECK_OK(ct_condition_release(p->cond));
}

/* Reads a field of the probe under the condition's lock. */
static int locked_read(ct_condition_t *cond, const int *field)
{
	ct_condition_acquire(cond);
	int v = *field;
	CHECK_OK(ct_condition_release(cond));
	return v;
}

static void check_cond_notify(ct_condition_t *cond)
{
	enum { N = 5, COUNT1 = 3, COUNT2 = N - COUNT1 };
	struct notify_probe p = {.cond = cond};
	struct bunch b;
	bunch_start(&b, wait_two_phases, &p, N, false);
	/* Every worker is in its first wait once it said so under the lock
	 * and the lock is free again. */
	ct_poll_until(locked_read(cond, &p.ready) >= N);
	ct_condition_acquire(cond);
	p.ready = 0;
	CHECK_EQ(p.n1, 0);
	/* Notify 3 threads first. */
	CHECK_EQ(ct_condition_notify(cond, COUNT1), COUNT1);
	p.phase = 1;
	CHECK_OK(ct_condition_release(cond));
	ct_poll_until(locked_read(cond, &p.n1) >= COUNT1);
	ct_condition_acquire(cond);
	CHECK_EQ(p.n1, COUNT1);
	for (int i = 0; i < COUNT1; i++)
		CHECK_EQ(p.results1[i], 1);
	CHECK_EQ(p.n2, 0);
	CHECK_OK(ct_condition_release(cond));

	/* The woken workers are back in a wait (their second). */
	ct_poll_until(locked_read(cond, &p.ready) >= COUNT1);
	/* Notify 5: some are in their first wait, some in their second. */
	ct_condition_acquire(cond);
	CHECK_EQ(ct_condition_notify(cond, 5), N);
	p.phase = 2;
	CHECK_OK(ct_condition_release(cond));
	ct_poll_until(locked_read(cond, &p.n1) + locked_read(cond, &p.n2) >= N + COUNT1);
	ct_condition_acquire(cond);
	CHECK_EQ(p.n1, N);
	for (int i = 0; i < N; i++)
		CHECK_EQ(p.results1[i], i < COUNT1 ? 1 : 2);
	CHECK_EQ(p.n2, COUNT1);
	for (int i = 0; i < COUNT1; i++)
		CHECK_EQ(p.results2[i], 2);
	CHECK_OK(ct_condition_release(cond));

	/* All are in their second wait. */
	ct_poll_until(locked_read(cond, &p.ready) >= N);
	ct_condition_acquire(cond);
	CHECK_EQ(ct_condition_notify_all(cond), COUNT2);
	p.phase = 3;
	CHECK_OK(ct_condition_release(cond));
	ct_poll_until(locked_read(cond, &p.n2) >= N);
	bunch_join(&b);
	for (int i = 0; i < N; i++) {
		CHECK_EQ(p.results1[i], i < COUNT1 ? 1 : 2);
		CHECK_EQ(p.results2[i], i < COUNT1 ? 2 : 3);
	}
}

TEST(conditiontests_notify)
{
	ct_condition_t cond = CT_CONDITION_INIT;
	check_cond_notify(&cond);
	/* A second time, to check the internal state is still right. */
	check_cond_notify(&cond);
}

struct cond_timeout_probe {
	ct_condition_t *cond;
	atomic_int n;
	double elapsed[8];
	int rc[8];
};

static void cond_wait_timed(void *arg)
{
	struct cond_timeout_probe *p = arg;
	ct_condition_acquire(p->cond);
	double t0 = ht_now();
	int rc = ct_condition_wait(p->cond, 0.5);
	double dt = ht_now() - t0;
	CHECK_OK(ct_condition_release(p->cond));
	int i = atomic_fetch_add(&p->n, 1);
	p->elapsed[i] = dt;
	p->rc[i] = rc;
}

TEST(conditiontests_timeout)
{
	enum { N = 5 };
	ct_condition_t cond = CT_CONDITION_INIT;
	struct cond_timeout_probe p = {.cond = &cond, .n = 0};
	bunch_run(cond_wait_timed, &p, N);
	CHECK_EQ(atomic_load(&p.n), N);
	for (int i = 0; i < N; i++) {
		CHECK(p.elapsed[i] >= 0.5);
		/* No spurious wake-ups: the wait timed out. */
		CHECK_RC(p.rc[i], CT_ETIMEDOUT);
	}
}

struct waitfor_probe {
	ct_condition_t *cond;
	int state; /* under the lock */
	int result, seen;
	double elapsed;
};

static bool state_is_4(void *arg)
{
	return ((struct waitfor_probe *)arg)->state == 4;
}

static int wait_for_state(void *arg)
{
	struct waitfor_probe *p = arg;
	CT_WITH_CONDITION(p->cond)
	{
		p->result = ct_condition_wait_for(p->cond, state_is_4, p, CT_FOREVER);
		p->seen = p->state;
	}
	return 0;
}

TEST(conditiontests_waitfor)
{
	ct_condition_t cond = CT_CONDITION_INIT;
	struct waitfor_probe p = {.cond = &cond};
	ct_thread_t *t = cp_start(wait_for_state, &p);
	ht_wait_parked(t);
	for (int i = 0; i < 4; i++) {
		CT_WITH_CONDITION(&cond)
		{
			p.state++;
			CHECK(ct_condition_notify(&cond, 1) >= 0);
		}
	}
	cp_join(t);
	CHECK_EQ(p.result, 1);
	CHECK_EQ(p.seen, 4);
}

static int wait_for_state_timed(void *arg)
{
	struct waitfor_probe *p = arg;
	CT_WITH_CONDITION(p->cond)
	{
		double t0 = ht_now();
		p->result = ct_condition_wait_for(p->cond, state_is_4, p, 0.1);
		p->elapsed = ht_now() - t0;
	}
	return 0;
}

TEST(conditiontests_waitfor_timeout)
{
	ct_condition_t cond = CT_CONDITION_INIT;
	struct waitfor_probe p = {.cond = &cond, .result = -1};
	ct_thread_t *t = cp_start(wait_for_state_timed, &p);
	ht_wait_parked(t);
	/* Only three increments: state 4 is never reached. */
	for (int i = 0; i < 3; i++) {
		CT_WITH_CONDITION(&cond)
		{
			p.state++;
			CHECK(ct_condition_notify(&cond, 1) >= 0);
		}
	}
	cp_join(t);
	CHECK_EQ(p.result, 0);
	CHECK(p.elapsed >= 0.1);
}

/* ==== BaseSemaphoreTests (Semaphore and BoundedSemaphore) ================= */

static int sem_init_kind(ct_semaphore_t *sem, bool bounded, long value)
{
	return bounded ? ct_bounded_semaphore_init(sem, value) : ct_semaphore_init(sem, value);
}

static ct_semaphore_t *new_sem(ct_semaphore_t *sem, bool bounded, long value)
{
	CHECK_OK(sem_init_kind(sem, bounded, value));
	return sem;
}

static void sem_constructor(bool bounded)
{
	ct_semaphore_t sem;
	CHECK_RC(sem_init_kind(&sem, bounded, -1), CT_ENEGATIVE);
	CHECK_RC(sem_init_kind(&sem, bounded, -LONG_MAX), CT_ENEGATIVE);
}

static void sem_acquire(bool bounded)
{
	ct_semaphore_t s;
	ct_semaphore_t *sem = new_sem(&s, bounded, 1);
	CHECK_OK(ct_semaphore_acquire(sem, CT_FOREVER));
	CHECK_OK(ct_semaphore_release(sem, 1));
	sem = new_sem(&s, bounded, 2);
	CHECK_OK(ct_semaphore_acquire(sem, CT_FOREVER));
	CHECK_OK(ct_semaphore_acquire(sem, CT_FOREVER));
	CHECK_OK(ct_semaphore_release(sem, 1));
	CHECK_OK(ct_semaphore_release(sem, 1));
}

/* Python's default value is 1; C has no default argument. */
static void sem_acquire_destroy(bool bounded)
{
	ct_semaphore_t s;
	ct_semaphore_t *sem = new_sem(&s, bounded, 1);
	CHECK_OK(ct_semaphore_acquire(sem, CT_FOREVER));
	ct_semaphore_destroy(sem);
}

struct contended_probe {
	ct_semaphore_t *sem;
	atomic_int phase;
	atomic_int sem_results[32], nsem;
	atomic_int results[32], count; /* results1 + results2, in order */
	atomic_bool done_both[BUNCH_MAX];
	atomic_int next_id;
};

static void acquire_twice(void *arg)
{
	struct contended_probe *p = arg;
	int id = atomic_fetch_add(&p->next_id, 1);
	int rc = ct_semaphore_acquire(p->sem, CT_FOREVER);
	atomic_store(&p->sem_results[atomic_fetch_add(&p->nsem, 1)], rc);
	atomic_store(&p->results[atomic_fetch_add(&p->count, 1)], atomic_load(&p->phase));
	rc = ct_semaphore_acquire(p->sem, CT_FOREVER);
	atomic_store(&p->sem_results[atomic_fetch_add(&p->nsem, 1)], rc);
	atomic_store(&p->results[atomic_fetch_add(&p->count, 1)], atomic_load(&p->phase));
	atomic_store(&p->done_both[id], true);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The phases seen so far, sorted, are @p n0 zeros, @p n1 ones, @p n2 twos. */
static void check_phases(struct contended_probe *p, int n0, int n1, int n2)
{
	int total = n0 + n1 + n2, seen[32];
	CHECK_EQ(atomic_load(&p->count), total);
	for (int i = 0; i < total; i++)
		seen[i] = atomic_load(&p->results[i]);
	qsort(seen, (size_t)total, sizeof seen[0], cmp_int);
	for (int i = 0; i < total; i++)
		CHECK_EQ(seen[i], i < n0 ? 0 : i < n0 + n1 ? 1 : 2);
}

/* How many threads of @p b are blocked in an acquire or have taken both
 * their units. */
static int settled(struct bunch *b, struct contended_probe *p)
{
	int n = 0;
	for (int i = 0; i < b->n; i++)
		n += ht_is_parked(b->threads[i]) + atomic_load(&p->done_both[i]);
	return n;
}

/* Every thread is blocked or done: nothing more can happen until the next
 * release. */
static void wait_settled(struct bunch *b, struct contended_probe *p)
{
	ct_poll_until(settled(b, p) == b->n);
}

static void sem_acquire_contended(bool bounded, bool multirelease)
{
	enum { SEM_VALUE = 7, N = 10 };
	ct_semaphore_t s;
	struct contended_probe p = {.sem = new_sem(&s, bounded, SEM_VALUE)};
	CHECK_OK(ct_semaphore_acquire(p.sem, CT_FOREVER));
	struct bunch b;
	bunch_start(&b, acquire_twice, &p, N, false);
	/* Phase 0 */
	int count1 = SEM_VALUE - 1;
	ct_poll_until(atomic_load(&p.count) >= count1);
	wait_settled(&b, &p);
	check_phases(&p, count1, 0, 0);
	/* Phase 1 */
	atomic_store(&p.phase, 1);
	int count2 = SEM_VALUE;
	if (multirelease) {
		CHECK_OK(ct_semaphore_release(p.sem, (unsigned)count2));
	} else {
		for (int i = 0; i < count2; i++)
			CHECK_OK(ct_semaphore_release(p.sem, 1));
	}
	ct_poll_until(atomic_load(&p.count) >= count1 + count2);
	wait_settled(&b, &p);
	check_phases(&p, count1, count2, 0);
	/* Phase 2 */
	atomic_store(&p.phase, 2);
	int count3 = SEM_VALUE - 1;
	if (multirelease) {
		CHECK_OK(ct_semaphore_release(p.sem, (unsigned)count3));
	} else {
		for (int i = 0; i < count3; i++)
			CHECK_OK(ct_semaphore_release(p.sem, 1));
	}
	ct_poll_until(atomic_load(&p.count) >= count1 + count2 + count3);
	wait_settled(&b, &p);
	check_phases(&p, count1, count2, count3);
	/* The semaphore is still taken. */
	CHECK(!ct_semaphore_try_acquire(p.sem));
	/* A last release lets the last thread finish. */
	CHECK_OK(ct_semaphore_release(p.sem, 1));
	bunch_join(&b);
	CHECK_EQ(atomic_load(&p.nsem), count1 + count2 + count3 + 1);
	for (int i = 0; i < atomic_load(&p.nsem); i++)
		CHECK_OK(atomic_load(&p.sem_results[i]));
}

static void sem_try_acquire(bool bounded)
{
	ct_semaphore_t s;
	ct_semaphore_t *sem = new_sem(&s, bounded, 2);
	CHECK(ct_semaphore_try_acquire(sem));
	CHECK(ct_semaphore_try_acquire(sem));
	CHECK(!ct_semaphore_try_acquire(sem));
	CHECK_OK(ct_semaphore_release(sem, 1));
	CHECK(ct_semaphore_try_acquire(sem));
}

struct try_sem_probe {
	ct_semaphore_t *sem;
	atomic_int trues, falses;
};

static void try_sem_twice(void *arg)
{
	struct try_sem_probe *p = arg;
	for (int i = 0; i < 2; i++) {
		if (ct_semaphore_try_acquire(p->sem))
			atomic_fetch_add(&p->trues, 1);
		else
			atomic_fetch_add(&p->falses, 1);
	}
}

static void sem_try_acquire_contended(bool bounded)
{
	ct_semaphore_t s;
	struct try_sem_probe p = {.sem = new_sem(&s, bounded, 4)};
	CHECK_OK(ct_semaphore_acquire(p.sem, CT_FOREVER));
	bunch_run(try_sem_twice, &p, 5);
	CHECK_EQ(atomic_load(&p.falses), 7);
	CHECK_EQ(atomic_load(&p.trues), 3);
}

static void sem_acquire_timeout(bool bounded)
{
	ct_semaphore_t s;
	ct_semaphore_t *sem = new_sem(&s, bounded, 2);
	/* acquire(False, timeout=1.0), a ValueError, has no C form. */
	CHECK_OK(ct_semaphore_acquire(sem, 0.005));
	CHECK_OK(ct_semaphore_acquire(sem, 0.005));
	CHECK_RC(ct_semaphore_acquire(sem, 0.005), CT_ETIMEDOUT);
	CHECK_OK(ct_semaphore_release(sem, 1));
	CHECK_OK(ct_semaphore_acquire(sem, 0.005));
	double t0 = ht_now();
	CHECK_RC(ct_semaphore_acquire(sem, 0.5), CT_ETIMEDOUT);
	CP_CHECK_NOT_EARLY(t0, 0.5);
}

static void sem_acquire_release_one(void *arg)
{
	CHECK_OK(ct_semaphore_acquire(arg, CT_FOREVER));
	CHECK_OK(ct_semaphore_release(arg, 1));
}

/* Python's default initial value is 1; C has no default argument, so 1 is
 * written out. */
static void sem_default_value(bool bounded)
{
	ct_semaphore_t s;
	ct_semaphore_t *sem = new_sem(&s, bounded, 1);
	CHECK_OK(ct_semaphore_acquire(sem, CT_FOREVER));
	struct bunch b;
	bunch_start(&b, sem_acquire_release_one, sem, 1, false);
	bunch_wait_blocked(&b);
	CHECK_EQ(atomic_load(&b.finished), 0);
	CHECK_OK(ct_semaphore_release(sem, 1));
	bunch_join(&b);
}

/* Leaving the inner block early (by return) is the C form of the raise. */
static int sem_with_blocks(ct_semaphore_t *sem, bool raise_inside)
{
	CT_WITH_SEMAPHORE(sem)
	{
		CHECK(ct_semaphore_try_acquire(sem));
		CHECK_OK(ct_semaphore_release(sem, 1));
		CT_WITH_SEMAPHORE(sem)
		{
			CHECK(!ct_semaphore_try_acquire(sem));
			if (raise_inside)
				return 1;
		}
	}
	return 0;
}

static void sem_with(bool bounded)
{
	ct_semaphore_t s;
	ct_semaphore_t *sem = new_sem(&s, bounded, 2);
	CHECK_EQ(sem_with_blocks(sem, false), 0);
	CHECK(ct_semaphore_try_acquire(sem));
	CHECK_OK(ct_semaphore_release(sem, 1));
	CHECK_EQ(sem_with_blocks(sem, true), 1);
	CHECK(ct_semaphore_try_acquire(sem));
	CHECK_OK(ct_semaphore_release(sem, 1));
}

TEST(semaphoretests_constructor)
{
	sem_constructor(false);
}

TEST(semaphoretests_acquire)
{
	sem_acquire(false);
}

TEST(semaphoretests_acquire_destroy)
{
	sem_acquire_destroy(false);
}

TEST(semaphoretests_acquire_contended)
{
	sem_acquire_contended(false, false);
}

TEST(semaphoretests_multirelease)
{
	sem_acquire_contended(false, true);
}

TEST(semaphoretests_try_acquire)
{
	sem_try_acquire(false);
}

TEST(semaphoretests_try_acquire_contended)
{
	sem_try_acquire_contended(false);
}

TEST(semaphoretests_acquire_timeout)
{
	sem_acquire_timeout(false);
}

TEST(semaphoretests_default_value)
{
	sem_default_value(false);
}

TEST(semaphoretests_with)
{
	sem_with(false);
}

TEST(boundedsemaphoretests_constructor)
{
	sem_constructor(true);
}

TEST(boundedsemaphoretests_acquire)
{
	sem_acquire(true);
}

TEST(boundedsemaphoretests_acquire_destroy)
{
	sem_acquire_destroy(true);
}

TEST(boundedsemaphoretests_acquire_contended)
{
	sem_acquire_contended(true, false);
}

TEST(boundedsemaphoretests_multirelease)
{
	sem_acquire_contended(true, true);
}

TEST(boundedsemaphoretests_try_acquire)
{
	sem_try_acquire(true);
}

TEST(boundedsemaphoretests_try_acquire_contended)
{
	sem_try_acquire_contended(true);
}

TEST(boundedsemaphoretests_acquire_timeout)
{
	sem_acquire_timeout(true);
}

TEST(boundedsemaphoretests_default_value)
{
	sem_default_value(true);
}

TEST(boundedsemaphoretests_with)
{
	sem_with(true);
}

/* Unbounded releases are allowed and raise the value. */
TEST(semaphoretests_release_unacquired)
{
	ct_semaphore_t sem = CT_SEMAPHORE_INIT(1);
	CHECK_OK(ct_semaphore_release(&sem, 1));
	CHECK_OK(ct_semaphore_acquire(&sem, CT_FOREVER));
	CHECK_OK(ct_semaphore_acquire(&sem, CT_FOREVER));
	CHECK_OK(ct_semaphore_release(&sem, 1));
}

/* The repr shows the value ("value=3"); ct_semaphore_value() is that
 * number. */
TEST(semaphoretests_repr)
{
	ct_semaphore_t sem = CT_SEMAPHORE_INIT(3);
	CHECK_EQ(ct_semaphore_value(&sem), 3);
	CHECK_OK(ct_semaphore_acquire(&sem, CT_FOREVER));
	CHECK_EQ(ct_semaphore_value(&sem), 2);
	CHECK_OK(ct_semaphore_release(&sem, 1));
	CHECK_OK(ct_semaphore_release(&sem, 1));
	CHECK_EQ(ct_semaphore_value(&sem), 4);
}

/* A release past the initial value is an error (ValueError). */
TEST(boundedsemaphoretests_release_unacquired)
{
	ct_bounded_semaphore_t sem = CT_BOUNDED_SEMAPHORE_INIT(1);
	CHECK_RC(ct_bounded_semaphore_release(&sem, 1), CT_EOVERRELEASE);
	CHECK_OK(ct_bounded_semaphore_acquire(&sem, CT_FOREVER));
	CHECK_OK(ct_bounded_semaphore_release(&sem, 1));
	CHECK_RC(ct_bounded_semaphore_release(&sem, 1), CT_EOVERRELEASE);
}

/* "value=3/3", then "value=2/3". */
TEST(boundedsemaphoretests_repr)
{
	ct_bounded_semaphore_t sem = CT_BOUNDED_SEMAPHORE_INIT(3);
	CHECK_EQ(ct_semaphore_value(&sem), 3);
	CHECK_OK(ct_bounded_semaphore_acquire(&sem, CT_FOREVER));
	CHECK_EQ(ct_semaphore_value(&sem), 2);
}

/* ==== BarrierTests ======================================================== */

enum { BN = 5 };
#define DEFAULT_TIMEOUT 2.0

struct barrier_probe {
	ct_barrier_t barrier; /* Barrier(N, timeout=2.0), as setUp makes it */
	ct_barrier_t barrier2;
	int passes;
	atomic_int results0, results1, results2, results3;
	atomic_int index_sum;
	atomic_int action_calls;
	atomic_int rcs[BN], nrc;
};

static void barrier_setup(struct barrier_probe *p)
{
	memset(p, 0, sizeof *p);
	CHECK_OK(ct_barrier_init(&p->barrier, BN, NULL, NULL, DEFAULT_TIMEOUT));
	CHECK_OK(ct_barrier_init(&p->barrier2, BN, NULL, NULL, CT_FOREVER));
}

/* tearDown: abort. */
static void barrier_teardown(struct barrier_probe *p)
{
	ct_barrier_abort(&p->barrier);
}

static void multipass(void *arg)
{
	struct barrier_probe *p = arg;
	int m = (int)ct_barrier_parties(&p->barrier);
	CHECK_EQ(m, BN);
	for (int i = 0; i < p->passes; i++) {
		atomic_fetch_add(&p->results0, 1);
		CHECK_EQ(atomic_load(&p->results1), i * m);
		CHECK(ct_barrier_wait(&p->barrier, CT_FOREVER) >= 0);
		atomic_fetch_add(&p->results1, 1);
		CHECK_EQ(atomic_load(&p->results0), (i + 1) * m);
		CHECK(ct_barrier_wait(&p->barrier, CT_FOREVER) >= 0);
	}
	CHECK_EQ(ct_barrier_n_waiting(&p->barrier), 0);
	CHECK(!ct_barrier_broken(&p->barrier));
}

TEST(barriertests_constructor)
{
	ct_barrier_t b;
	/* parties=0; parties=-1 cannot be written (the count is unsigned). */
	CHECK_RC(ct_barrier_init(&b, 0, NULL, NULL, CT_FOREVER), CT_EINVAL);
}

static void barrier_passes(int passes)
{
	static struct barrier_probe p;
	barrier_setup(&p);
	p.passes = passes;
	bunch_run(multipass, &p, BN);
	barrier_teardown(&p);
}

TEST(barriertests_barrier)
{
	barrier_passes(1);
}

TEST(barriertests_barrier_10)
{
	barrier_passes(10);
}

static void wait_and_sum(void *arg)
{
	struct barrier_probe *p = arg;
	int r = ct_barrier_wait(&p->barrier, CT_FOREVER);
	CHECK(r >= 0);
	atomic_fetch_add(&p->index_sum, r);
}

TEST(barriertests_wait_return)
{
	static struct barrier_probe p;
	barrier_setup(&p);
	bunch_run(wait_and_sum, &p, BN);
	CHECK_EQ(atomic_load(&p.index_sum), 0 + 1 + 2 + 3 + 4);
	barrier_teardown(&p);
}

static int count_action(void *arg)
{
	atomic_fetch_add(&((struct barrier_probe *)arg)->action_calls, 1);
	return 0;
}

static void wait_check_action(void *arg)
{
	struct barrier_probe *p = arg;
	CHECK(ct_barrier_wait(&p->barrier2, CT_FOREVER) >= 0);
	CHECK_EQ(atomic_load(&p->action_calls), 1);
}

TEST(barriertests_action)
{
	static struct barrier_probe p;
	barrier_setup(&p);
	CHECK_OK(ct_barrier_init(&p.barrier2, BN, count_action, &p, CT_FOREVER));
	bunch_run(wait_check_action, &p, BN);
	barrier_teardown(&p);
}

/* The thread whose index is N/2 "raises" and aborts; the others are then
 * broken out of their second wait. */
static void abort_one(void *arg)
{
	struct barrier_probe *p = arg;
	int i = ct_barrier_wait(&p->barrier, CT_FOREVER);
	if (i == BN / 2) {
		ct_barrier_abort(&p->barrier);
		return;
	}
	if (i == CT_EBROKEN) { /* aborted before this thread left the round */
		atomic_fetch_add(&p->results2, 1);
		return;
	}
	CHECK(i >= 0);
	int rc = ct_barrier_wait(&p->barrier, CT_FOREVER);
	if (rc >= 0)
		atomic_fetch_add(&p->results1, 1);
	else if (rc == CT_EBROKEN)
		atomic_fetch_add(&p->results2, 1);
	else
		CHECK_RC(rc, CT_EBROKEN);
}

TEST(barriertests_abort)
{
	static struct barrier_probe p;
	barrier_setup(&p);
	bunch_run(abort_one, &p, BN);
	CHECK_EQ(atomic_load(&p.results1), 0);
	CHECK_EQ(atomic_load(&p.results2), BN - 1);
	CHECK(ct_barrier_broken(&p.barrier));
	barrier_teardown(&p);
}

static void reset_one(void *arg)
{
	struct barrier_probe *p = arg;
	int i = ct_barrier_wait(&p->barrier, CT_FOREVER);
	CHECK(i >= 0);
	if (i == BN / 2) {
		/* Until the others are all in the barrier. */
		ct_poll_until(ct_barrier_n_waiting(&p->barrier) >= BN - 1);
		ct_barrier_reset(&p->barrier);
	} else {
		int rc = ct_barrier_wait(&p->barrier, CT_FOREVER);
		if (rc >= 0)
			atomic_fetch_add(&p->results1, 1);
		else if (rc == CT_EBROKEN)
			atomic_fetch_add(&p->results2, 1);
		else
			CHECK_RC(rc, CT_EBROKEN);
	}
	/* Pass the barrier again. */
	CHECK(ct_barrier_wait(&p->barrier, CT_FOREVER) >= 0);
	atomic_fetch_add(&p->results3, 1);
}

TEST(barriertests_reset)
{
	static struct barrier_probe p;
	barrier_setup(&p);
	bunch_run(reset_one, &p, BN);
	CHECK_EQ(atomic_load(&p.results1), 0);
	CHECK_EQ(atomic_load(&p.results2), BN - 1);
	CHECK_EQ(atomic_load(&p.results3), BN);
	barrier_teardown(&p);
}

static void abort_then_reset(void *arg)
{
	struct barrier_probe *p = arg;
	int i = ct_barrier_wait(&p->barrier, CT_FOREVER);
	if (i == BN / 2) {
		ct_barrier_abort(&p->barrier);
	} else if (i == CT_EBROKEN) {
		atomic_fetch_add(&p->results2, 1);
	} else {
		CHECK(i >= 0);
		int rc = ct_barrier_wait(&p->barrier, CT_FOREVER);
		if (rc >= 0)
			atomic_fetch_add(&p->results1, 1);
		else if (rc == CT_EBROKEN)
			atomic_fetch_add(&p->results2, 1);
		else
			CHECK_RC(rc, CT_EBROKEN);
	}
	/* Everybody has left it when the reset comes, and nobody enters it
	 * before. */
	if (ct_barrier_wait(&p->barrier2, CT_FOREVER) == BN / 2)
		ct_barrier_reset(&p->barrier);
	CHECK(ct_barrier_wait(&p->barrier2, CT_FOREVER) >= 0);
	CHECK(ct_barrier_wait(&p->barrier, CT_FOREVER) >= 0);
	atomic_fetch_add(&p->results3, 1);
}

TEST(barriertests_abort_and_reset)
{
	static struct barrier_probe p;
	barrier_setup(&p);
	bunch_run(abort_then_reset, &p, BN);
	CHECK_EQ(atomic_load(&p.results1), 0);
	CHECK_EQ(atomic_load(&p.results2), BN - 1);
	CHECK_EQ(atomic_load(&p.results3), BN);
	barrier_teardown(&p);
}

/* One thread is late: it comes only once the others' shorter waits have
 * broken the barrier (Python sleeps half the default timeout instead).
 * Python raises BrokenBarrierError in every thread; here the thread whose
 * own wait timed out gets CT_ETIMEDOUT and the others CT_EBROKEN (as
 * documented for ct_barrier_wait). */
static void one_late(void *arg)
{
	struct barrier_probe *p = arg;
	int i = ct_barrier_wait(&p->barrier, CT_FOREVER);
	CHECK(i >= 0);
	if (i == BN / 2)
		ct_poll_until(ct_barrier_broken(&p->barrier));
	int rc = ct_barrier_wait(&p->barrier, DEFAULT_TIMEOUT / 4);
	CHECK(rc == CT_EBROKEN || rc == CT_ETIMEDOUT);
	if (i == BN / 2)
		CHECK_RC(rc, CT_EBROKEN);
	atomic_store(&p->rcs[atomic_fetch_add(&p->nrc, 1)], rc);
}

TEST(barriertests_timeout)
{
	static struct barrier_probe p;
	barrier_setup(&p);
	bunch_run(one_late, &p, BN);
	int timed_out = 0;
	for (int i = 0; i < BN; i++)
		timed_out += atomic_load(&p.rcs[i]) == CT_ETIMEDOUT;
	CHECK(timed_out >= 1);
	barrier_teardown(&p);
}

static ct_barrier_t short_barrier;

static void wait_default(void *arg)
{
	(void)arg;
	/* Python's BrokenBarrierError: this thread's own wait timed out,
	 * CT_ETIMEDOUT (the barrier is broken for the others). */
	CHECK_RC(ct_barrier_wait(&short_barrier, CT_BARRIER_DEFAULT), CT_ETIMEDOUT);
}

TEST(barriertests_default_timeout)
{
	double timeout = 0.100;
	CHECK_OK(ct_barrier_init(&short_barrier, 2, NULL, NULL, timeout));
	double t0 = ht_now();
	bunch_run(wait_default, NULL, 1);
	CP_CHECK_NOT_EARLY(t0, timeout);
	CHECK(ct_barrier_broken(&short_barrier));
}

TEST(barriertests_single_thread)
{
	ct_barrier_t b = CT_BARRIER_INIT(1);
	CHECK_EQ(ct_barrier_wait(&b, CT_FOREVER), 0);
	CHECK_EQ(ct_barrier_wait(&b, CT_FOREVER), 0);
}

static ct_barrier_t repr_barrier;

static void wait_repr_barrier(void *arg)
{
	(void)arg;
	CHECK(ct_barrier_wait(&repr_barrier, 300) >= 0);
}

/* The repr shows "waiters=0/3", "waiters=2/3", "broken": n_waiting,
 * parties and broken. */
TEST(barriertests_repr)
{
	CHECK_OK(ct_barrier_init(&repr_barrier, 3, NULL, NULL, CT_FOREVER));
	CHECK_EQ(ct_barrier_n_waiting(&repr_barrier), 0);
	CHECK_EQ(ct_barrier_parties(&repr_barrier), 3);
	struct bunch b;
	bunch_start(&b, wait_repr_barrier, NULL, 2, false);
	ct_poll_until(ct_barrier_n_waiting(&repr_barrier) >= 2);
	CHECK_EQ(ct_barrier_n_waiting(&repr_barrier), 2);
	CHECK(ct_barrier_wait(&repr_barrier, 300) >= 0);
	bunch_join(&b);
	CHECK_EQ(ct_barrier_n_waiting(&repr_barrier), 0);
	CHECK(!ct_barrier_broken(&repr_barrier));
	ct_barrier_abort(&repr_barrier);
	CHECK(ct_barrier_broken(&repr_barrier));
}
