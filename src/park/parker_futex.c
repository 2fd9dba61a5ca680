/* The parker and the bucket lock on Linux private futexes. */
#include <errno.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/linux_abi.h"
#include "park/parker.h"

/* Sleeps while *word == expected, until an absolute CLOCK_MONOTONIC deadline.
 * FUTEX_WAIT_BITSET takes an absolute time on CLOCK_MONOTONIC (plain
 * FUTEX_WAIT takes a relative one we would have to recompute after EINTR).
 * Returns without telling why: every caller re-checks its own condition. */
static void futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t deadline)
{
	struct timespec ts, *tsp = ct__deadline_timespec(deadline, &ts) ? &ts : NULL;
	syscall(CT__SYS_FUTEX, word, CT__FUTEX_WAIT_BITSET | CT__FUTEX_PRIVATE_FLAG, expected, tsp,
		NULL, CT__FUTEX_BITSET_MATCH_ANY);
}

static void futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(CT__SYS_FUTEX, word, CT__FUTEX_WAKE | CT__FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

void ct__parker_init(struct ct__parker *p)
{
	atomic_init(&p->state, CT__PK_IDLE);
	atomic_init(&p->woken_at, 0);
}

void ct__parker_destroy(struct ct__parker *p)
{
	(void)p;
}

enum ct__parker_result ct__parker_wait(struct ct__parker *p, int64_t deadline, bool interruptible,
				       unsigned spin, bool *paid)
{
	enum ct__parker_result r;
	bool done = ct__parker_spin(p, interruptible, spin, &r);
	if (paid)
		*paid = done;
	if (done)
		return r;
	bool slept = false;
	for (;;) {
		/* Acquire: pairs with unpark's release exchange, so what the
		 * waker wrote before unparking (a handed-over lock, a token,
		 * a queue item) is visible once we return. */
		uint32_t s = atomic_load_explicit(&p->state, memory_order_acquire);
		if (ct__parker_settled(s, interruptible, &r)) {
			if (slept && r == CT__PKR_UNPARKED)
				ct__parker_learn(p);
			return r;
		}
		/* Announce the syscall so the waker knows it must wake us; an
		 * ignored INTERRUPTED becomes SLEEPING too. The kernel orders
		 * the word's futex check against the waker's exchange (both
		 * are atomic on the word), so no wake is lost. */
		if (s != CT__PK_SLEEPING) {
			ct__parker_unstamp(p);
			/* Acquire on both sides for the same reason as the load: a failed CAS may
			 * have read UNPARKED, and we return on it; and release, so that a waker
			 * that sees SLEEPING stamps after the unstamp. */
			if (!atomic_compare_exchange_weak_explicit(&p->state, &s, CT__PK_SLEEPING,
								   memory_order_acq_rel,
								   memory_order_acquire))
				continue;
		}
		if (ct__expired(deadline))
			return CT__PKR_TIMEDOUT;
		slept = true;
		futex_wait(&p->state, CT__PK_SLEEPING, deadline);
	}
}

void ct__parker_unpark(struct ct__parker *p)
{
	/* After this store the waiter may return and its thread end; the wake
	 * below may then reach memory that is no longer a parker, which a
	 * futex wake tolerates (at worst a spurious wake-up elsewhere). */
	/* A waiter found asleep stays so until this exchange (a dequeued
	 * waiter that times out waits for its unpark, park.c): the stamp is
	 * safe to write, and the wake-up it times is this one. Acquire:
	 * pairs with the waiter's release of SLEEPING, after its unstamp. */
	if (atomic_load_explicit(&p->state, memory_order_acquire) == CT__PK_SLEEPING)
		ct__parker_stamp(p);
	/* Release: publishes the waker's writes to the waiter's acquire. It
	 * need not acquire: the waker reads nothing the waiter wrote. */
	if (atomic_exchange_explicit(&p->state, CT__PK_UNPARKED, memory_order_release) ==
	    CT__PK_SLEEPING)
		futex_wake(&p->state, 1);
}

void ct__parker_interrupt(struct ct__parker *p)
{
	/* Sequentially consistent (the default), more than needed: the
	 * stop request's flag is set before this with seq_cst too, and the
	 * woken waiter re-reads it; a rare path, kept simple. */
	uint32_t s = atomic_load(&p->state);
	while (s == CT__PK_PARKED || s == CT__PK_SLEEPING) {
		/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not something
		 * a test can force */
		if (atomic_compare_exchange_weak(&p->state, &s, CT__PK_INTERRUPTED)) {
			/* GCOVR_EXCL_BR_STOP */
			if (s == CT__PK_SLEEPING)
				futex_wake(&p->state, 1);
			return;
		}
	}
}

void ct__rawlock_lock_slow(struct ct__rawlock *l)
{
	/* Bucket critical sections are a few dozen instructions: spin first. */
	/* Acquire CAS and exchange: taking the bucket lock must see the
	 * previous holder's writes, which its release (park.c) published;
	 * the relaxed load only decides whether to try. */
	for (unsigned i = 0; i < 100; i++) {
		uint32_t expected = 0;
		/* Relaxed: only decides whether to try; the CAS acquires (see above). */
		if (atomic_load_explicit(&l->word, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(
			    &l->word, &expected, 1, memory_order_acquire, memory_order_relaxed))
			return;
		ct__cpu_relax();
	}
	/* Take it as "held with sleepers": we cannot know we are the last.
	 * Acquire, as the CAS above. */
	while (atomic_exchange_explicit(&l->word, 2, memory_order_acquire) != 0)
		futex_wait(&l->word, 2, CT__NO_DEADLINE);
}

void ct__rawlock_wake(struct ct__rawlock *l)
{
	futex_wake(&l->word, 1);
}

/* In a fork child, with one thread: any order would do. */
void ct__rawlock_reinit(struct ct__rawlock *l)
{
	atomic_store(&l->word, 0);
}
