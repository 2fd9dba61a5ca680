/* Barrier: Python's state machine, on a Lock and an epoch word.
 *
 *   state       meaning                                 next
 *   ----------  --------------------------------------  --------------------------
 *   FILLING     threads arriving; count = inside        the last arrival runs the
 *                                                       action -> DRAINING
 *   DRAINING    the round is complete; its threads      the last one out -> FILLING
 *               are leaving; new arrivals wait
 *   RESETTING   reset() while threads were inside:      the last one out -> FILLING
 *               they leave with CT_EBROKEN; new
 *               arrivals wait
 *   BROKEN      timeout, stop, failed action, abort():  reset() -> RESETTING, or
 *               every wait gets CT_EBROKEN              FILLING if nobody is inside
 *
 * Everything is under the barrier's Lock. Waiting is a condition variable
 * made of the epoch word: a waiter reads it under the Lock, releases the
 * Lock and parks while the word still holds that value; every state change
 * bumps it under the Lock and wakes all its waiters after releasing the
 * Lock. A waiter re-checks the state each time, so spurious wake-ups (an
 * unrelated change) only cost a look.
 *
 * fork(). Every call carries a note (fork.h) from before it takes the Lock
 * until it has let it go. In a fork child, the note of a thread that is
 * gone starts the barrier over (forget_round()): its round cannot complete
 * without the parties that are gone, and the Lock may be held by one of
 * them. A broken barrier stays broken. (A fork from inside the action
 * keeps the round: the thread that runs it finishes it, alone.)
 */
#include "cthreading/barrier.h"

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/fork.h"
#include "park/park.h"

/* Memory orders: every access to the state, count and epoch words is
 * relaxed. All of them but the waiters' park check and the inline
 * observers (ct_barrier_broken, ct_barrier_n_waiting) happen under the
 * barrier's Lock, whose acquire and release order them; the park check
 * compares the epoch under the bucket lock, as every park validation does,
 * and the observers are snapshots. The words are atomic only so that
 * those unlocked reads are not data races. */
enum {
	FILLING = 0,
	DRAINING = 1,
	RESETTING = -1,
	BROKEN = -2,
};

struct barrier_note {
	struct ct__fork_note note;
	ct_barrier_t *barrier;
};

/* Whether the note list @p n has one for @p b. */
static bool noted(const struct ct__fork_note *n, void (*forget)(struct ct__fork_note *),
		  const ct_barrier_t *b)
{
	for (; n; n = n->outer)
		if (n->forget == forget && ((const struct barrier_note *)n)->barrier == b)
			return true;
	return false;
}

/* In a fork child, for a thread that was in a call on the barrier. */
static void forget_round(struct ct__fork_note *note)
{
	ct_barrier_t *b = ((struct barrier_note *)note)->barrier;
	struct ct__waiter *self = ct__tls_waiter;
	if (self && noted(atomic_load(&self->notes), forget_round, b)) {
		/* The forking thread runs the action, holding the Lock: it
		 * ends the round, the only party left in it. Relaxed: in the
		 * one-thread fork child. */
		atomic_store_explicit(&b->ct__count, 1, memory_order_relaxed);
		return;
	}
	ct_lock_init(&b->ct__lock);
	/* Relaxed: in the one-thread fork child, like the stores below. */
	if (atomic_load_explicit(&b->ct__state, memory_order_relaxed) != BROKEN)
		/* Relaxed: fork child, as above. */
		atomic_store_explicit(&b->ct__state, FILLING, memory_order_relaxed);
	/* Relaxed: fork child, as above. */
	atomic_store_explicit(&b->ct__count, 0, memory_order_relaxed);
	/* Relaxed: fork child, as above. */
	atomic_fetch_add_explicit(&b->ct__epoch, 1, memory_order_relaxed);
}

static void note_push(struct barrier_note *n, ct_barrier_t *b)
{
	n->barrier = b;
	ct__note_push(ct__waiter_self(), &n->note, forget_round);
}

static void note_pop(struct barrier_note *n)
{
	ct__note_pop(ct__tls_waiter, &n->note);
}

int ct_barrier_init(ct_barrier_t *barrier, unsigned parties, ct_barrier_action_fn action, void *arg,
		    double timeout)
{
	if (!barrier || parties == 0)
		return CT_EINVAL;
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline); /* checks NaN and the maximum */
	if (rc < 0)
		return rc;
	ct_lock_init(&barrier->ct__lock);
	atomic_init(&barrier->ct__epoch, 0);
	atomic_init(&barrier->ct__state, FILLING);
	atomic_init(&barrier->ct__count, 0);
	barrier->ct__parties = parties;
	barrier->ct__action = action;
	barrier->ct__arg = arg;
	barrier->ct__timeout = timeout;
	return 0;
}

static int32_t get_state(ct_barrier_t *b)
{
	/* Relaxed: read under the Lock, which orders every change of the state (the atomics only
	 * serve the lock-free snapshots of barrier.h). */
	return atomic_load_explicit(&b->ct__state, memory_order_relaxed);
}

/* Under the Lock: a state change that waiters must see. They are woken by
 * wake_all() once the Lock is released. */
static void set_state(ct_barrier_t *b, int32_t state, bool *wake)
{
	/* Relaxed: under the Lock, which publishes the change to the waiters: they retake it
	 * after waking. */
	atomic_store_explicit(&b->ct__state, state, memory_order_relaxed);
	/* Relaxed: under the Lock, as above. */
	atomic_fetch_add_explicit(&b->ct__epoch, 1, memory_order_relaxed);
	*wake = true;
}

static void wake_all(ct_barrier_t *b)
{
	ct__park_wake(&b->ct__epoch, ~0u);
}

/* Under the Lock: waits for the next state change. Returns with the Lock
 * held: 0, CT_ETIMEDOUT or CT_ESTOPPED. */
static int wait_change(ct_barrier_t *b, int64_t deadline)
{
	/* Relaxed: under the Lock; park_wait re-checks the epoch under the bucket lock, so a
	 * change after this read is not missed. */
	uint32_t epoch = atomic_load_explicit(&b->ct__epoch, memory_order_relaxed);
	ct_lock_release(&b->ct__lock);
	CT__DEBUG_HOOK(waits_on(b, CT__OBJ_BARRIER));
	int rc = ct__park_wait(&b->ct__epoch, epoch, deadline, CT__PARK_INTERRUPTIBLE);
	ct__lock_acquire_nonnull(&b->ct__lock);
	return rc;
}

/* Python's _enter: waits while the previous round drains or a reset
 * completes. Not bounded by the wait's timeout (neither is Python's):
 * draining only takes the time the leaving threads need to get out. */
static int enter(ct_barrier_t *b)
{
	while (get_state(b) == DRAINING || get_state(b) == RESETTING)
		if (wait_change(b, CT__NO_DEADLINE) == CT_ESTOPPED)
			return CT_ESTOPPED;
	return get_state(b) == BROKEN ? CT_EBROKEN : 0;
}

/* Python's _release: the last arrival runs the action and opens the way. */
static int trip(ct_barrier_t *b, bool *wake)
{
	if (b->ct__action && b->ct__action(b->ct__arg) != 0) {
		set_state(b, BROKEN, wake);
		return CT_EBROKEN;
	}
	set_state(b, DRAINING, wake);
	return 0;
}

/* Python's _wait: until the round completes, breaks or is reset. */
static int await_trip(ct_barrier_t *b, int64_t deadline, bool *wake)
{
	while (get_state(b) == FILLING) {
		int rc = wait_change(b, deadline);
		/* GCOVR_EXCL_BR_START: the barrier filled in the instant the wait timed out: a race
		 * no test can aim at */
		if (rc < 0 && get_state(b) == FILLING) {
			/* GCOVR_EXCL_BR_STOP */
			/* This party will not be there: nobody can complete
			 * the round any more. */
			set_state(b, BROKEN, wake);
			return rc;
		}
	}
	return get_state(b) == DRAINING ? 0 : CT_EBROKEN;
}

int ct_barrier_wait(ct_barrier_t *barrier, double timeout)
{
	if (CT__UNLIKELY(!barrier))
		return CT_EINVAL;
	if (barrier->ct__parties == 0)
		return CT_EINVAL;
	if (timeout == CT_BARRIER_DEFAULT)
		timeout = barrier->ct__timeout;
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	if (rc < 0)
		return rc;
	bool wake = false;
	struct barrier_note n;
	note_push(&n, barrier);
	ct__lock_acquire_nonnull(&barrier->ct__lock);
	rc = enter(barrier);
	if (rc == 0) {
		/* Relaxed: under the Lock, as every access to the count. */
		uint32_t index = atomic_load_explicit(&barrier->ct__count, memory_order_relaxed);
		/* Relaxed: under the Lock. */
		atomic_store_explicit(&barrier->ct__count, index + 1, memory_order_relaxed);
		if (index + 1 == barrier->ct__parties)
			rc = trip(barrier, &wake);
		else
			rc = await_trip(barrier, deadline, &wake);
		/* Python's _exit: the last one out of a finished round. */
		/* Relaxed: under the Lock (retaken by the wait), as above. */
		uint32_t left = atomic_load_explicit(&barrier->ct__count, memory_order_relaxed) - 1;
		/* Relaxed: under the Lock. */
		atomic_store_explicit(&barrier->ct__count, left, memory_order_relaxed);
		if (left == 0 &&
		    (get_state(barrier) == DRAINING || get_state(barrier) == RESETTING))
			set_state(barrier, FILLING, &wake);
		if (rc == 0)
			rc = (int)index;
	}
	ct_lock_release(&barrier->ct__lock);
	if (wake)
		wake_all(barrier);
	note_pop(&n);
	return rc;
}

/* The state a reset leads to from @p s, with @p count threads inside. */
static int32_t after_reset(int32_t s, uint32_t count)
{
	if (count == 0)
		return FILLING;
	return s == FILLING || s == BROKEN ? RESETTING : s;
}

/* Reset and abort: one state change under the Lock, the waiters woken
 * after it, and a note for fork while the Lock is held. */
static void change_state(ct_barrier_t *barrier, bool reset)
{
	bool wake = false;
	struct barrier_note n;
	note_push(&n, barrier);
	ct__lock_acquire_nonnull(&barrier->ct__lock);
	int32_t s =
		reset ? after_reset(get_state(barrier),
				    /* Relaxed: under the Lock. */
				    atomic_load_explicit(&barrier->ct__count, memory_order_relaxed))
		      : BROKEN;
	set_state(barrier, s, &wake);
	ct_lock_release(&barrier->ct__lock);
	wake_all(barrier); /* a state set: there is always a change to see */
	note_pop(&n);
}

void ct_barrier_reset(ct_barrier_t *barrier)
{
	if (CT__UNLIKELY(!barrier))
		return;
	change_state(barrier, true);
}

void ct_barrier_abort(ct_barrier_t *barrier)
{
	if (CT__UNLIKELY(!barrier))
		return;
	change_state(barrier, false);
}
