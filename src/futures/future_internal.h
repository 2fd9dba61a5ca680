/* What futures (future.c), waiters (wait.c), the pool (executor.c) and map
 * (executor_map.c) share.
 *
 * The state word of a future (and of each item of a map) is a phase and
 * two flags:
 *
 *   phase      PENDING -> RUNNING -> FINISHED      the task ran
 *              PENDING -> CANCELLED                cancel() won the race
 *              PENDING -> FINISHED                 the pool broke first
 *              (A map's item skips RUNNING, as its claim starts it:
 *              PENDING -> FINISHED, a fetch_add of 2, once it ran, and
 *              PENDING -> CANCELLED when a cancel, a shutdown's or a
 *              broken pool's, found it unclaimed: see executor_map.c.)
 *   PARKED     a thread sleeps in result() on this word: completion wakes
 *   HOOKED     waiters or callbacks are attached: completion takes the
 *              future's lock to notify them (futures only)
 *   CLAIMED    a ct_future_set_result/_exception call won the right to
 *              finish a future made by ct_future_new (futures only); on a
 *              cancelled one, ct_future_set_running_or_notify_cancel has
 *              returned 0 once (Python's CANCELLED_AND_NOTIFIED)
 *
 * and, from CT__F_REF up, a future's reference count (the pool's one
 * among them while the task is queued or runs), so that a worker ends a
 * task nobody waits for with one update: FINISHED and its reference
 * dropped at once.
 *
 * Every phase change is one atomic read-modify-write that also returns the
 * flags, so a completion with nobody waiting costs that one operation, and
 * nobody can attach to a future in the instant it completes: attaching
 * sets HOOKED with a compare-and-swap that fails once the phase is done.
 * RUNNING -> FINISHED is a fetch_add of 1, which leaves the flags alone.
 */
#ifndef CT_FUTURE_INTERNAL_H
#define CT_FUTURE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"
#include "cthreading/future.h"
#include "cthreading/lock.h"
#include "park/fork.h"

enum {
	CT__F_PENDING = 0,
	CT__F_RUNNING = 1,
	CT__F_FINISHED = 2,
	CT__F_CANCELLED = 3,
	CT__F_PHASE = 3,
	CT__F_PARKED = 4,
	CT__F_HOOKED = 8,
	CT__F_CLAIMED = 16,
	CT__F_REF = 32, /* one reference: the bits from here up count them */
};

static inline uint32_t ct__f_phase(uint32_t s)
{
	return s & CT__F_PHASE;
}

static inline bool ct__f_done(uint32_t s)
{
	return ct__f_phase(s) >= CT__F_FINISHED;
}

/* An entry of a pool's work queue: a future, or one helper of a map. */
enum ct__work_kind { CT__WORK_FUTURE, CT__WORK_MAP };

struct ct__work {
	struct ct__work *_Atomic next;
	uint8_t kind;
};

struct ct__wait_set;

/* One waiter's registration on one future, on the future's list (wait.c). */
struct ct__waiter_link {
	struct ct__wait_set *waiter;
	struct ct__waiter_link *prev, *next;
	size_t index; /* which of the waiter's futures */
	bool linked;  /* on the future's list; under the future's lock */
};

struct ct__callback {
	struct ct__callback *next;
	ct_future_callback_fn fn;
	void *arg;
};

/* The members a task's submit, run and result touch come first: a future
 * starts on a cache line (future.c), so they travel between the threads
 * as one line. */
struct ct_future {
	struct ct__work work;	/* the pool's queue link; first */
	_Atomic uint32_t state; /* phase, flags and references */
	int status;
	void *result;
	ct_task_fn fn;
	void *arg;
	/* Under `lock`, and only once HOOKED is set. */
	ct_lock_t lock;
	struct ct__waiter_link *waiters;
	struct ct__callback *callbacks, **callbacks_tail;
	void *block;	/* what the allocation returned (the future is aligned in it) */
	int64_t queued; /* debugging: when submitted, in the layer's clock (0: not known) */
};

/* The future's lock, taken inside fork's gate (fork.h): a fork never
 * finds it held, nor a list of waiters or callbacks half linked. */
static inline void ct__future_lock(struct ct_future *f)
{
	ct__gate_enter();
	ct__lock_acquire_nonnull(&f->lock);
}

static inline void ct__future_unlock(struct ct_future *f)
{
	ct_lock_release(&f->lock);
	ct__gate_exit();
}

/* A new PENDING future for fn(arg) with @p refs references, or NULL. */
struct ct_future *ct__future_new(ct_task_fn fn, void *arg, uint32_t refs);

/* PENDING -> RUNNING: false if the future was cancelled while queued. */
bool ct__future_start(struct ct_future *f);

/* RUNNING -> FINISHED with the task's outcome; wakes and notifies. */
void ct__future_finish(struct ct_future *f, int status, void *result);

/* ct__future_finish(), then ct__future_unref(): a worker's end of a task. */
void ct__future_finish_unref(struct ct_future *f, int status, void *result);

/* Settles a future that will never run: CANCELLED for CT_ECANCELLED, else
 * FINISHED with @p code as its status. False if it was no longer pending. */
bool ct__future_abandon(struct ct_future *f, int code);

void ct__future_unref(struct ct_future *f);

/* Frees a future nobody else has seen (a submit that failed). */
void ct__future_free(struct ct_future *f);

/* Waits until the phase of @p state is done; 0, CT_ETIMEDOUT or
 * CT_ESTOPPED. For futures and map items alike. */
int ct__state_wait(_Atomic uint32_t *state, int64_t deadline);

/* Moves a state word from PENDING to @p phase; returns the old word, whose
 * phase says whether it worked. */
uint32_t ct__state_settle(_Atomic uint32_t *state, uint32_t phase);

/* Wakes the threads parked in ct__state_wait() if @p old had PARKED. */
void ct__state_wake(_Atomic uint32_t *state, uint32_t old);

/* Takes the future's lock (ct__future_lock) and sets HOOKED unless the
 * future is done; false (lock not held) if it is. */
bool ct__future_hook(struct ct_future *f);

/* Under the future's lock: clears HOOKED when nothing is attached. */
void ct__future_unhook_if_idle(struct ct_future *f);

/* Tells a waiter that the future of @p link is done; @p failed when it
 * finished with a non-zero status. Called under the future's lock (wait.c). */
void ct__waiter_notify(struct ct__waiter_link *link, bool failed);

/* True if the (done) future finished with a failure. */
static inline bool ct__future_failed(const struct ct_future *f, uint32_t s)
{
	return ct__f_phase(s) == CT__F_FINISHED && f->status != 0;
}

#endif /* CT_FUTURE_INTERNAL_H */
