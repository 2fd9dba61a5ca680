/* Threads for the parking core's own tests, made of pthreads and the core's
 * waiter records alone: tests/test_park.c builds and runs both inside the
 * whole library and with only the core and parking layers linked (the
 * park_alone tests), which proves that the parking core stands alone.
 */
#ifndef CT_TEST_PARK_THREADS_H
#define CT_TEST_PARK_THREADS_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "harness.h"
#include "park/park.h"
#include "park/waiter.h"

/* A thread whose function has returned stays until pk_join(), waiting on a
 * pthread condition (not in the parking core, whose queues the tests
 * count): its waiter record, which lives in its TLS, stays valid for
 * pk_is_parked() and pk_stop() until then. */
typedef struct pk_thread {
	pthread_t pt;
	int (*fn)(void *arg);
	void *arg;
	struct ct__waiter *_Atomic w; /* the thread's record, once it has one */
	atomic_bool returned;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool released; /* under mu: pk_join() lets the thread end */
} pk_thread;

static void *pk_run(void *p)
{
	pk_thread *t = p;
	atomic_store(&t->w, ct__waiter_self());
	t->fn(t->arg);
	atomic_store(&t->returned, true);
	pthread_mutex_lock(&t->mu);
	while (!t->released)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static inline void pk_start(pk_thread **out, int (*fn)(void *arg), void *arg)
{
	pk_thread *t = calloc(1, sizeof *t);
	CHECK(t != NULL);
	t->fn = fn;
	t->arg = arg;
	CHECK_EQ(pthread_mutex_init(&t->mu, NULL), 0);
	CHECK_EQ(pthread_cond_init(&t->cv, NULL), 0);
	CHECK_EQ(pthread_create(&t->pt, NULL, pk_run, t), 0);
	*out = t;
}

/* True while @p t is queued or asleep in the parking core. A thread is
 * PARKED from the moment it is queued (under the bucket lock), so a waker
 * that comes after this returned true finds it in the queue. */
static inline bool pk_is_parked(pk_thread *t)
{
	struct ct__waiter *w = atomic_load(&t->w);
	uint32_t s = w ? atomic_load(&w->parker.state) : CT__PK_IDLE;
	return s == CT__PK_PARKED || s == CT__PK_SLEEPING || s == CT__PK_INTERRUPTED;
}

/* Waits until @p t is parked (its first park in the tests that use it), or
 * has returned: a park with a deadline may be over before this looks. */
static inline void pk_wait_parked(pk_thread *t)
{
	while (!pk_is_parked(t) && !atomic_load(&t->returned))
		sched_yield();
}

static inline bool pk_alive(pk_thread *t)
{
	return !atomic_load(&t->returned);
}

static inline void pk_stop(pk_thread *t)
{
	struct ct__waiter *w;
	while (!(w = atomic_load(&t->w)))
		sched_yield();
	ct__waiter_request_stop(w);
}

static inline pthread_t pk_pthread(pk_thread *t)
{
	return t->pt;
}

static inline void pk_join(pk_thread *t)
{
	pthread_mutex_lock(&t->mu);
	t->released = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	CHECK_EQ(pthread_join(t->pt, NULL), 0);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}

/* A one-shot flag a thread can wait for, made of the parking core. */
struct pk_flag {
	_Atomic uint32_t set;
};

static inline void pk_flag_set(struct pk_flag *f)
{
	atomic_store(&f->set, 1);
	ct__park_wake(&f->set, ~0u);
}

static inline void pk_flag_wait(struct pk_flag *f)
{
	while (!atomic_load(&f->set))
		ct__park_wait(&f->set, 0, CT__NO_DEADLINE, 0);
}

#endif /* CT_TEST_PARK_THREADS_H */
