/* Once: one word.
 *
 *   state              meaning                             next
 *   -----------------  ----------------------------------  ------------------------
 *   NEW                not done, nobody running            a caller CAS -> RUNNING
 *   RUNNING            a thread runs the function          done -> DONE;
 *                                                          failed -> NEW;
 *                                                          a waiter sets PARKED
 *   RUNNING | PARKED   running, threads parked             the runner wakes them all
 *   DONE               done, for good                      nothing
 *
 * The runner's final exchange tells it whether anyone parked: a caller that
 * finds the function done never touches a bucket. Waiters park only while
 * the word is still RUNNING | PARKED (futex semantics), and after a failed
 * run they all wake and race for the next turn.
 *
 * fork(). A function running in a thread gone with a fork never finishes
 * in the child: the runner carries a note (fork.h) from before it claims
 * the run, and in the child its forget() makes the once new again, as a
 * failed run would, so that the child's first caller runs the function.
 */
#include "cthreading/once.h"

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/fork.h"
#include "park/park.h"

enum {
	ONCE_NEW = 0,
	ONCE_RUNNING = 1,
	ONCE_PARKED = 4,
};

_Static_assert(CT__ONCE_DONE == 2, "CT__ONCE_DONE is the public header's DONE");

struct runner_note {
	struct ct__fork_note note;
	ct_once_t *once;
};

/* In a fork child, for a thread that claimed (or was claiming) the run.
 * Unless the forking thread itself runs the function (a fork from inside
 * it), nobody will finish it: NEW again. */
static void forget_run(struct ct__fork_note *note)
{
	ct_once_t *once = ((struct runner_note *)note)->once;
	/* Relaxed: in the one-thread fork child (see "Memory orders" below). */
	void *runner = atomic_load_explicit(&once->ct__runner, memory_order_relaxed);
	/* Relaxed: fork child, as above. */
	uint32_t s = atomic_load_explicit(&once->ct__state, memory_order_relaxed);
	/* GCOVR_EXCL_BR_START: the forker's own notes are never forgotten, so each case is a fork
	 * in the instant another thread's claim is under way (its note pushed, its CAS not yet
	 * failed, or its run just done): races */
	if (s == CT__ONCE_DONE || (runner && runner == (void *)ct__tls_waiter))
		return;
	/* GCOVR_EXCL_BR_STOP */
	/* Relaxed: fork child, as above. */
	atomic_store_explicit(&once->ct__runner, NULL, memory_order_relaxed);
	/* Relaxed: fork child, as above. */
	atomic_store_explicit(&once->ct__state, ONCE_NEW, memory_order_relaxed);
}

/* Memory orders: the function's writes are published by the exchange that
 * marks the once DONE (release), and taken by every load that returns on
 * DONE (acquire: here and in once.h's fast path). Its acquire half, and
 * the acquire CASes below, order a retry after a failed run (NEW again)
 * after that run's writes too. ct__runner is relaxed: a thread compares
 * it with its own id only (reading its own store, or a value that cannot
 * be its id); forget_run runs in a one-thread fork child. */
static int run(ct_once_t *once, int (*fn)(void *arg), void *arg)
{
	/* Relaxed: ct__runner is compared with a thread's own id only (see "Memory orders"
	 * above). */
	atomic_store_explicit(&once->ct__runner, (void *)ct__waiter_self(), memory_order_relaxed);
	int rc = fn(arg);
	/* Relaxed: as above. */
	atomic_store_explicit(&once->ct__runner, NULL, memory_order_relaxed);
	/* Acq_rel: the release publishes the function's writes to every DONE load; the acquire
	 * orders a retry after a failed run. */
	uint32_t old = atomic_exchange_explicit(
		&once->ct__state, rc == 0 ? CT__ONCE_DONE : ONCE_NEW, memory_order_acq_rel);
	if (old & ONCE_PARKED)
		ct__unpark_all(&once->ct__state, CT__TOKEN_NORMAL);
	return rc;
}

int ct__once_slow(ct_once_t *once, int (*fn)(void *arg), void *arg)
{
	if (CT__UNLIKELY(!once || !fn))
		return CT_EINVAL;
	/* Acquire: pairs with the exchange that marks DONE, so a return on DONE sees the
	 * function's writes. */
	uint32_t s = atomic_load_explicit(&once->ct__state, memory_order_acquire);
	for (;;) {
		if (s == CT__ONCE_DONE)
			return 0;
		if (s == ONCE_NEW) {
			struct runner_note n = {.once = once};
			struct ct__waiter *self = ct__waiter_self();
			ct__note_push(self, &n.note, forget_run);
			/* Acquire both ways: a success orders this run after a failed earlier
			 * one; a failure may read DONE and return on it. */
			bool mine = atomic_compare_exchange_weak_explicit(
				&once->ct__state, &s, ONCE_RUNNING, memory_order_acquire,
				memory_order_acquire);
			/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not
			 * something a test can force */
			int rc = mine ? run(once, fn, arg) : 0;
			/* GCOVR_EXCL_BR_STOP */
			ct__note_pop(self, &n.note);
			/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not
			 * something a test can force */
			if (mine)
				return rc;
			/* GCOVR_EXCL_BR_STOP */
			continue;
		}
		/* Running: our own function calling us back would wait forever. */
		/* Relaxed: compared with this thread's own id only (see above). */
		if (atomic_load_explicit(&once->ct__runner, memory_order_relaxed) ==
		    (void *)ct__waiter_self())
			return CT_EDEADLK;
		/* Acquire both ways: a failure may read DONE, and the loop returns on it. */
		/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not something
		 * a test can force */
		if (!(s & ONCE_PARKED) && !atomic_compare_exchange_weak_explicit(
						  &once->ct__state, &s, s | ONCE_PARKED,
						  memory_order_acquire, memory_order_acquire))
			continue;
		/* GCOVR_EXCL_BR_STOP */
		CT__DEBUG_HOOK(waits_on(once, CT__OBJ_ONCE));
		ct__park_wait(&once->ct__state, ONCE_RUNNING | ONCE_PARKED, CT__NO_DEADLINE, 0);
		/* Acquire: as at the top. */
		s = atomic_load_explicit(&once->ct__state, memory_order_acquire);
	}
}
