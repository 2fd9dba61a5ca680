/* The waiter record: what the parking core keeps for one thread.
 *
 * Every thread that waits in cthreading has exactly one: its parker, its
 * stop flag, its place in fork's gate and its fork notes (fork.h). The
 * parking core needs nothing else to know about a thread, so it keeps
 * these records itself and never looks at the thread layer above it:
 *
 *   - a thread started by cthreading brings its own, inside its thread
 *     record, and attaches it when it starts (ct__waiter_attach);
 *   - any other thread (the main thread, a thread started by someone
 *     else) gets one in its own TLS the first time it needs it
 *     (ct__waiter_self), removed by a pthread key destructor when it ends.
 *
 * The layer above finds its own record through `owner`, which it sets;
 * the parking core never reads it. Every attached record is in one list,
 * which fork's handlers walk: a fork waits until no other thread is inside
 * the gate, and the child forgets what the gone threads left in objects.
 */
#ifndef CT_PARK_WAITER_H
#define CT_PARK_WAITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"
#include "park/parker.h"

struct ct__fork_note;

struct ct__waiter {
	struct ct__parker parker;
	_Atomic uint32_t stop; /* a stop was requested; sticky */
	/* fork() support (fork.h): how deep the thread is in the gate, and
	 * its notes, innermost first. Written by the thread itself; read by
	 * the forking thread and by fork's child handler. */
	_Atomic uint32_t gate;
	struct ct__fork_note *_Atomic notes;
	/* Set by a layer above for as long as the thread must neither spin
	 * (ct__spin_allowed) nor sleep without telling that layer first (the
	 * sleep hook of park.h): the GIL the thread holds. Only the thread
	 * itself writes it; the parking core only tests it for NULL. */
	void *holds;
	/* This thread's spin budget, in rounds (ct__spin_budget); 0 until
	 * first used. Only the thread itself touches it. */
	unsigned spin;
	/* Its budget for the long spin (ct__spin_wake_until), likewise. */
	unsigned long_spin;
	/* When this thread's last wait that did not end while spinning was
	 * ended by another thread's wake-up (CLOCK_MONOTONIC ns; 0 for never):
	 * the threads it wakes learn of their waker (park.c, spin_lesson).
	 * Only the thread itself touches it. */
	int64_t woke_at;
	/* What the thread is parked on while it is: the key of ct__park(), or
	 * &ct__sleep_key in ct__park_sleep(); NULL otherwise. Written by the
	 * thread itself, read by thread dumps (which know a parked thread is
	 * not running, even with every debugging hook off): a hint, relaxed. */
	const void *_Atomic parked_on;
	/* The record of the layer above (the thread record), if it made one. */
	void *owner;
	/* The debugging layer's record of the thread, set by that layer (from
	 * the thread itself, before it queues a wait it may be moved from) so
	 * that a requeue's hook finds it at once; the parking core never reads
	 * it. */
	void *_Atomic debug;
	/* The list of attached records, under the parking core's lock. */
	struct ct__waiter *prev, *next;
	bool ready; /* initialised (a TLS record is set up once) */
};

/* What parked_on holds while a thread sleeps in ct__park_sleep(). */
extern const char ct__sleep_key;

/* The calling thread's record, or NULL before it first needs one. */
extern _Thread_local struct ct__waiter *ct__tls_waiter CT__TLS_MODEL;

/* Sets up and attaches the calling thread's TLS record. Never fails. */
struct ct__waiter *ct__waiter_self_slow(void);

static inline struct ct__waiter *ct__waiter_self(void)
{
	struct ct__waiter *w = ct__tls_waiter;
	return CT__LIKELY(w != NULL) ? w : ct__waiter_self_slow();
}

/* Initialises a record that a layer above keeps in its own memory (a
 * started thread's); others may interrupt it from then on. */
void ct__waiter_init(struct ct__waiter *w, void *owner);

/* Makes @p w the calling thread's record: at the start of a thread that
 * brought its own. */
void ct__waiter_attach(struct ct__waiter *w);

/* The calling thread is done with @p w, its record: it leaves the list.
 * The thread's last act before the memory may go; waiting afterwards
 * would give the thread a TLS record. */
void ct__waiter_detach(struct ct__waiter *w);

void ct__waiter_destroy(struct ct__waiter *w);

/* Requests a stop: the flag, then the parker interrupted (see ct__park). */
void ct__waiter_request_stop(struct ct__waiter *w);

/* Whether the calling thread may spin before it parks: never on one CPU,
 * where the thread it waits for cannot run meanwhile, and never while it
 * holds what others need to make progress (a GIL). The one spin policy of
 * the library: every spinning loop asks this first. */
static inline bool ct__spin_allowed(void)
{
	/* GCOVR_EXCL_BR_START: one machine's branch: ct__spin_limit is 0 only on a single CPU (the
	 * test machines have two or more) */
	return ct__spin_limit != 0 &&
	       /* GCOVR_EXCL_BR_STOP */
	       ct__waiter_self()->holds == NULL;
}

/* How many rounds @p w's thread may spin now: 0 where ct__spin_allowed()
 * says no. The limit (core/spin.c) is what a spin can be worth on an idle
 * machine, about CT__SPIN_NS; each thread keeps its own budget under it,
 * doubled each time a spin pays off (the wait ends within it) or would
 * have paid at the full limit (the thread slept, but the whole wait took
 * less than CT__SPIN_NS, or the waker had itself been woken from its
 * sleep during the wait: park.c, spin_lesson), and halved each time a
 * wait outlasts that.
 * Where more threads want to run than there are CPUs, the thread waited
 * for is often not running, waits are long and a spin only takes a CPU
 * from it: spins then dwindle to a few rounds. They grow back as soon as
 * waits get short again, even while the budget is too small to catch
 * them. (glibc's adaptive mutex adapts its spinning the same way.) */
static inline unsigned ct__spin_budget(struct ct__waiter *w)
{
	/* GCOVR_EXCL_BR_START: as in ct__spin_allowed(): a single CPU */
	if (ct__spin_limit == 0 ||
	    /* GCOVR_EXCL_BR_STOP */
	    w->holds != NULL)
		return 0;
	if (w->spin == 0)
		w->spin = ct__spin_limit;
	return w->spin;
}

/* A spin budget after a wait that says spinning pays (@p paid: doubled,
 * up to @p limit) or does not (halved, down to @p floor). */
static inline unsigned ct__spin_learn(unsigned budget, bool paid, unsigned limit, unsigned floor)
{
	if (paid)
		return budget > limit / 2 ? limit : budget * 2;
	return budget / 2 > floor ? budget / 2 : floor;
}

/* What the thread's last wait says about spinning (see ct__spin_budget):
 * it was worth it (@p paid) or not. */
static inline void ct__spin_paid(struct ct__waiter *w, bool paid)
{
	w->spin = ct__spin_learn(w->spin, paid, ct__spin_limit, ct__spin_limit / 64 + 1);
}

/* The one spin loop of the library, for a waiter about to park: until
 * done(ctx) or @p budget rounds are spent, looking less and less often,
 * because each look at a cache line the other side is writing pulls the
 * line back to us (a consumer that waits on the slot a producer is
 * filling would otherwise cost it a line transfer per item). True if
 * done. */
static inline bool ct__spin_rounds(bool (*done)(const void *ctx), const void *ctx, unsigned budget)
{
	unsigned step = 1;
	for (unsigned i = 0; i < budget; i += step) {
		for (unsigned j = 0; j < step; j++)
			ct__cpu_relax();
		if (step < 32)
			step *= 2;
		if (done(ctx))
			return true;
	}
	return false;
}

/* A waiter's spin before it parks, within its thread's budget (see
 * ct__spin_budget), which a spin that pays grows. */
static inline bool ct__spin_until(bool (*done)(const void *ctx), const void *ctx)
{
	struct ct__waiter *w = ct__waiter_self();
	unsigned budget = ct__spin_budget(w);
	if (done(ctx))
		return true;
	if (budget == 0 || !ct__spin_rounds(done, ctx, budget))
		/* Not a verdict yet: the caller parks next, and the parking
		 * core learns from how long that wait lasts. */
		return false;
	ct__spin_paid(w, true);
	return true;
}

/* The spin of a thread with nothing else to do, waiting for what it
 * cannot see coming (an idle worker, a map's caller), where spinning is
 * allowed at all: up to as long as two wake-ups take on this machine
 * (ct__spin_wake_rounds), within the thread's own budget for it, which
 * doubles when a spin pays and, once the thread has parked, learns from
 * the whole wait (ct__spin_wake_lesson). True if done(ctx); if not,
 * *began is when the spin began (0: it did not spin), for the lesson. */
static inline bool ct__spin_wake_until(bool (*done)(const void *ctx), const void *ctx,
				       int64_t *began)
{
	*began = 0;
	if (done(ctx))
		return true;
	struct ct__waiter *w = ct__waiter_self();
	/* As ct__spin_allowed(), with the record read once. */
	/* GCOVR_EXCL_BR_START: as in ct__spin_allowed(): a single CPU */
	if (ct__spin_limit == 0 ||
	    /* GCOVR_EXCL_BR_STOP */
	    w->holds != NULL)
		return false;
	unsigned limit = ct__spin_wake_rounds();
	if (w->long_spin == 0 || w->long_spin > limit)
		w->long_spin = limit;
	int64_t t0 = ct__now_ns();
	if (ct__spin_rounds(done, ctx, w->long_spin)) {
		w->long_spin = ct__spin_learn(w->long_spin, true, limit, ct__spin_limit);
		return true;
	}
	*began = t0;
	return false;
}

/* After the park that followed a long spin that did not pay (@p began,
 * from ct__spin_wake_until; 0: nothing to learn): a wait short enough
 * for a full long spin to have caught it grows the budget back; a longer
 * one halves it, down to the short spin's limit, so that a thread whose
 * waits are long burns no more than the short spin would. */
void ct__spin_wake_lesson(int64_t began);

/* ---- for fork's handlers (fork.c): the list of records ------------------ */

void ct__waiters_lock(void);
void ct__waiters_unlock(void);
/* Calls @p fn on every attached record but the caller's, who holds the
 * lock; stops early and returns true when @p fn does. */
bool ct__waiters_any(bool (*fn)(struct ct__waiter *w));
/* In the child: the lock re-made, and only the caller's record left (its
 * parker re-made: a gone thread may have held its mutex). Each removed
 * record goes through @p gone first. */
void ct__waiters_after_fork_child(void (*gone)(struct ct__waiter *w));

#endif /* CT_PARK_WAITER_H */
