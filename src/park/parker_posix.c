/* The parker on a mutex + condition variable per thread: the portable
 * fallback for POSIX systems without futexes (CT_PARK_FALLBACK=ON). Built
 * and tested on Linux too, so it is never guesswork elsewhere. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "core/internal.h"
#include "park/parker.h"

void ct__parker_init(struct ct__parker *p)
{
	atomic_init(&p->state, CT__PK_IDLE);
	atomic_init(&p->woken_at, 0);
	pthread_mutex_init(&p->mutex, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	/* Deadlines are on CLOCK_MONOTONIC; so must the condition's clock be. */
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &attr);
	pthread_condattr_destroy(&attr);
}

void ct__parker_destroy(struct ct__parker *p)
{
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mutex);
}

enum ct__parker_result ct__parker_wait(struct ct__parker *p, int64_t deadline, bool interruptible,
				       unsigned spin, bool *paid)
{
	enum ct__parker_result r;
	bool done = ct__parker_spin(p, interruptible, spin, &r);
	if (paid)
		*paid = done;
	if (done) {
		/* The waker sets the state while holding the mutex: pass
		 * through it once so that our thread cannot end (and free the
		 * parker) while the waker is still inside. */
		pthread_mutex_lock(&p->mutex);
		pthread_mutex_unlock(&p->mutex);
		return r;
	}
	struct timespec ts;
	bool timed = ct__deadline_timespec(deadline, &ts);
	bool slept = false;
	pthread_mutex_lock(&p->mutex);
	for (;;) {
		/* Acquire: pairs with the unparker's release, so the waker's writes are visible. */
		if (ct__parker_settled(atomic_load_explicit(&p->state, memory_order_acquire),
				       interruptible, &r))
			break;
		if (!slept) {
			/* As the futex parker does: a waker that finds the
			 * thread asleep times its wake-up (see unpark). */
			ct__parker_unstamp(p);
			if (atomic_load(&p->state) == CT__PK_PARKED)
				atomic_store(&p->state, CT__PK_SLEEPING);
			slept = true;
		}
		if (!timed) {
			pthread_cond_wait(&p->cond, &p->mutex);
		} else if (ct__expired(deadline)) {
			r = CT__PKR_TIMEDOUT;
			break;
		} else {
			pthread_cond_timedwait(&p->cond, &p->mutex, &ts);
		}
	}
	pthread_mutex_unlock(&p->mutex);
	if (slept && r == CT__PKR_UNPARKED)
		ct__parker_learn(p);
	return r;
}

void ct__parker_unpark(struct ct__parker *p)
{
	/* The waiter re-checks the state under the mutex, so setting it under
	 * the mutex too means the signal cannot fall between its check and its
	 * wait. The waiter cannot return before we unlock. */
	pthread_mutex_lock(&p->mutex);
	if (atomic_load(&p->state) == CT__PK_SLEEPING)
		ct__parker_stamp(p);
	/* Release: pairs with the waiter's acquire load (the mutex orders it too). */
	atomic_store_explicit(&p->state, CT__PK_UNPARKED, memory_order_release);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mutex);
}

void ct__parker_interrupt(struct ct__parker *p)
{
	pthread_mutex_lock(&p->mutex);
	uint32_t s = atomic_load(&p->state);
	if (s == CT__PK_PARKED || s == CT__PK_SLEEPING) {
		atomic_store(&p->state, CT__PK_INTERRUPTED);
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->mutex);
}

void ct__rawlock_reinit(struct ct__rawlock *l)
{
	pthread_mutex_init(&l->mutex, NULL);
}
