/* Futures: the state word (see future_internal.h), result waits, cancel,
 * done callbacks and reference counting.
 *
 * Who touches a future, and when:
 *   - the worker that runs it: the phase (RUNNING, FINISHED), status and
 *     result, published by the release of the FINISHED update;
 *   - threads in result(): read-only, after the phase says done; they park
 *     on the state word and the completion wakes them (PARKED);
 *   - waiters (wait, as_completed) and callbacks: on lists under the
 *     future's lock, which completion takes only when HOOKED is set.
 */
#include "core/debug_hooks.h"
#include "futures/future_internal.h"

#include <pthread.h>
#include <stddef.h>

#include "core/fault.h"
#include "park/park.h"
#include "park/waiter.h"
#include "sync/parked_bit.h"

#if defined(__SANITIZE_ADDRESS__)
#define CT__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CT__ASAN 1
#endif
#endif
#ifdef CT__ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ---- allocation --------------------------------------------------------- */

/* Each thread keeps the futures it freed for its next submits: a batch of
 * submits then costs no trip through malloc, whose per-thread cache holds
 * only a handful of objects of a size. Bounded; emptied when the thread
 * ends. A cached future is poisoned for AddressSanitizer (but for its
 * link), so a use after release is still caught, and taking one counts as
 * an allocation for fault injection (fault.h), so that tests reach the
 * allocation-failure paths whatever the cache holds. */
#define CACHE_MAX 1024

static _Thread_local struct {
	struct ct_future *head;
	unsigned n;
	bool registered;
} cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_key_ok; /* without the key, nothing is cached */

static struct ct_future *cached_next(struct ct_future *f)
{
	/* Relaxed: the thread's own cache. */
	return (struct ct_future *)atomic_load_explicit(&f->work.next, memory_order_relaxed);
}

#define LINE 64

/* A new future at the start of a cache line, in a block from ct__malloc. */
static struct ct_future *future_malloc(void)
{
	void *block = ct__malloc(sizeof(struct ct_future) + LINE - 1);
	if (!block)
		return NULL;
	struct ct_future *f =
		(struct ct_future *)(((uintptr_t)block + LINE - 1) & ~(uintptr_t)(LINE - 1));
	f->block = block;
	return f;
}

static void future_mfree(struct ct_future *f)
{
	ct__free(f->block);
}

static void cache_empty(void *unused)
{
	(void)unused;
	while (cache.head) {
		struct ct_future *f = cache.head;
		cache.head = cached_next(f);
		UNPOISON(f, sizeof *f);
		future_mfree(f);
	}
	cache.n = 0;
	/* A later destructor that frees a future registers again, and
	 * pthreads then calls this once more. */
	cache.registered = false;
}

static void cache_key_create(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_empty) == 0;
}

static struct ct_future *future_alloc(void)
{
	struct ct_future *f = cache.head;
	if (!f)
		return future_malloc();
	if (ct__fault_hit(CT__FAULT_ALLOC))
		return NULL;
	UNPOISON(f, sizeof *f);
	cache.head = cached_next(f);
	cache.n--;
	return f;
}

void ct__future_free(struct ct_future *f)
{
	if (!cache.registered) {
		/* The key's destructor empties the cache when the thread ends. */
		pthread_once(&cache_once, cache_key_create);
		/* GCOVR_EXCL_BR_START: pthread_key_create() and pthread_setspecific() fail only out
		 * of keys or memory, which fault injection does not reach */
		cache.registered = cache_key_ok && pthread_setspecific(cache_key, &cache) == 0;
		/* GCOVR_EXCL_BR_STOP */
	}
	/* GCOVR_EXCL_BR_START: as above: registered fails only out of keys or memory */
	if (!cache.registered ||
	    /* GCOVR_EXCL_BR_STOP */
	    cache.n == CACHE_MAX) {
		future_mfree(f);
		return;
	}
	/* Relaxed: the thread's own cache. */
	atomic_store_explicit(&f->work.next, cache.head ? &cache.head->work : NULL,
			      memory_order_relaxed);
	/* Poisoned but for its link and where its block is. */
	POISON((char *)f + sizeof f->work.next,
	       offsetof(struct ct_future, block) - sizeof f->work.next);
	cache.head = f;
	cache.n++;
}

struct ct_future *ct__future_new(ct_task_fn fn, void *arg, uint32_t refs)
{
	struct ct_future *f = future_alloc();
	if (!f)
		return NULL;
	atomic_init(&f->work.next, NULL);
	f->work.kind = CT__WORK_FUTURE;
	atomic_init(&f->state, CT__F_PENDING + refs * CT__F_REF);
	f->status = 0;
	f->result = NULL;
	f->fn = fn;
	f->arg = arg;
	ct_lock_init(&f->lock);
	f->waiters = NULL;
	f->callbacks = NULL;
	f->callbacks_tail = &f->callbacks;
	f->queued = 0;
	return f;
}

/* ---- the state word, shared with map items ------------------------------ */

uint32_t ct__state_settle(_Atomic uint32_t *state, uint32_t phase)
{
	/* Relaxed: a guess for the CAS below. */
	uint32_t s = atomic_load_explicit(state, memory_order_relaxed);
	/* Acq_rel: the release publishes what the settling thread wrote (an abandon's status)
	 * with the phase; the acquire orders it after a cancel or start it replaces. */
	while (ct__f_phase(s) == CT__F_PENDING &&
	       !atomic_compare_exchange_weak_explicit(state, &s, s | phase, memory_order_acq_rel,
						      memory_order_relaxed))
		;
	return s;
}

void ct__state_wake(_Atomic uint32_t *state, uint32_t old)
{
	if (old & CT__F_PARKED)
		ct__unpark_all(state, CT__TOKEN_NORMAL);
}

/* Whether the phase is done: what a waiter spins on for a few microseconds
 * (park/waiter.h): most waits for a short task end there, and then the
 * completion finds PARKED clear and makes no call into the parking core. */
static bool phase_done(const void *state)
{
	/* Acquire: pairs with the release of the phase change, so a done future's result is
	 * seen. */
	return ct__f_done(atomic_load_explicit((_Atomic uint32_t *)state, memory_order_acquire));
}

int ct__state_wait(_Atomic uint32_t *state, int64_t deadline)
{
	/* Relaxed: only decides whether to spin; the loads below acquire. */
	if (deadline != 0 && !ct__f_done(atomic_load_explicit(state, memory_order_relaxed)))
		ct__spin_until(phase_done, state);
	for (;;) {
		/* Acquire: as phase_done(). */
		uint32_t s = atomic_load_explicit(state, memory_order_acquire);
		if (ct__f_done(s))
			return 0;
		if (deadline == 0)
			return CT_ETIMEDOUT;
		/* Relaxed: PARKED is a hint, re-validated under the bucket lock. */
		/* GCOVR_EXCL_BR_START: a race no test can aim at: another waiter sets PARKED, or
		 * the future completes, between the load and the CAS */
		if (!(s & CT__F_PARKED) && !atomic_compare_exchange_weak_explicit(
						   state, &s, s | CT__F_PARKED,
						   memory_order_relaxed, memory_order_relaxed))
			continue;
		/* GCOVR_EXCL_BR_STOP */
		struct ct__parked_wait w = {state, ~0u, s | CT__F_PARKED, CT__F_PARKED};
		uintptr_t token;
		CT__DEBUG_HOOK(waits_on(state, CT__OBJ_FUTURE));
		int rc = ct__park_parked(state, &w, deadline,
					 CT__PARK_INTERRUPTIBLE | CT__PARK_NO_SPIN, &token);
		if (rc < 0)
			/* Acquire: as above. */
			/* GCOVR_EXCL_BR_START: a race no test can aim at: the future completes as
			 * the wait times out or is stopped */
			return ct__f_done(atomic_load_explicit(state, memory_order_acquire)) ? 0
											     : rc;
		/* GCOVR_EXCL_BR_STOP */
	}
}

/* ---- completion --------------------------------------------------------- */

/* The future just became done (its old word was @p old): wake result()
 * sleepers, notify waiters, run callbacks. Callbacks run outside the lock,
 * in the order they were added; waiters are told under it, because a
 * waiter's registration lives only until it has deregistered under that
 * same lock. */
static void completed(struct ct_future *f, uint32_t old)
{
	ct__state_wake(&f->state, old);
	if (!(old & CT__F_HOOKED))
		return;
	ct__future_lock(f);
	/* Acquire: as phase_done() (under the future's lock, after the phase change we made or
	 * saw). */
	bool failed = ct__future_failed(f, atomic_load_explicit(&f->state, memory_order_acquire));
	for (struct ct__waiter_link *l = f->waiters, *next; l; l = next) {
		next = l->next;
		l->linked = false;
		ct__waiter_notify(l, failed);
	}
	f->waiters = NULL;
	struct ct__callback *cb = f->callbacks;
	f->callbacks = NULL;
	f->callbacks_tail = &f->callbacks;
	ct__future_unlock(f);
	while (cb) {
		struct ct__callback *next = cb->next;
		cb->fn(f, cb->arg);
		ct__free(cb);
		cb = next;
	}
}

bool ct__future_start(struct ct_future *f)
{
	/* Fails only if cancelled while queued: then already notified. */
	return ct__f_phase(ct__state_settle(&f->state, CT__F_RUNNING)) == CT__F_PENDING;
}

void ct__future_finish(struct ct_future *f, int status, void *result)
{
	f->result = result;
	f->status = status;
	/* RUNNING + 1 = FINISHED; the flags come back with it. Acq_rel: the
	 * release publishes the result and status to every acquire of a done
	 * phase; the acquire orders the completion after the flags' setters
	 * (their waits and hooks). */
	uint32_t old = atomic_fetch_add_explicit(&f->state, 1, memory_order_acq_rel);
	if (old & (CT__F_PARKED | CT__F_HOOKED))
		completed(f, old);
}

void ct__future_finish_unref(struct ct_future *f, int status, void *result)
{
	/* Relaxed: a guess for the CAS below, which re-reads the flags. */
	uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
	if (!(s & (CT__F_PARKED | CT__F_HOOKED))) {
		f->result = result;
		f->status = status;
		/* Nobody to wake or tell (a waiter that comes now finds it
		 * done): finish and drop the pool's reference at once.
		 * Acq_rel: the release publishes the result and status with
		 * FINISHED, as ct__future_finish() does; the acquire orders
		 * the free after every other holder's use. */
		/* GCOVR_EXCL_BR_START: a race no test can aim at: a waiter or a hook comes between
		 * the load and the CAS */
		while (!(s & (CT__F_PARKED | CT__F_HOOKED)))
			if (atomic_compare_exchange_weak_explicit(&f->state, &s, s + 1 - CT__F_REF,
								  memory_order_acq_rel,
								  memory_order_relaxed)) {
				/* GCOVR_EXCL_BR_STOP */
				if (s / CT__F_REF == 1)
					ct__future_free(f);
				return;
			}
	}
	ct__future_finish(f, status, result);
	ct__future_unref(f);
}

bool ct__future_abandon(struct ct_future *f, int code)
{
	/* Only the thread that took f off the queue gets here, so no worker
	 * writes the status concurrently; readers see it only after the
	 * release of the phase change below. */
	if (code != CT_ECANCELLED)
		f->status = code;
	uint32_t old = ct__state_settle(&f->state,
					code == CT_ECANCELLED ? CT__F_CANCELLED : CT__F_FINISHED);
	if (ct__f_phase(old) != CT__F_PENDING)
		return false;
	completed(f, old);
	return true;
}

bool ct__future_hook(struct ct_future *f)
{
	ct__future_lock(f);
	/* Acquire: as phase_done(): the loop returns on a done phase. */
	uint32_t s = atomic_load_explicit(&f->state, memory_order_acquire);
	for (;;) {
		if (ct__f_done(s)) {
			ct__future_unlock(f);
			return false;
		}
		if (s & CT__F_HOOKED)
			return true;
		/* Acquire both ways: a failure may read a done phase and return on it. */
		/* GCOVR_EXCL_BR_START: a race no test can aim at: the state changes (a waiter
		 * parks, the future completes) between the load and the CAS */
		if (atomic_compare_exchange_weak_explicit(&f->state, &s, s | CT__F_HOOKED,
							  memory_order_acquire,
							  memory_order_acquire))
			/* GCOVR_EXCL_BR_STOP */
			return true;
	}
}

void ct__future_unhook_if_idle(struct ct_future *f)
{
	if (!f->waiters && !f->callbacks)
		/* Relaxed: under the future's lock, which every reader of the lists holds. */
		atomic_fetch_and_explicit(&f->state, ~(uint32_t)CT__F_HOOKED, memory_order_relaxed);
}

/* ---- the public API ----------------------------------------------------- */

/* Waits until f is done; 0 (then *s is its word), CT_ECANCELLED or the
 * wait's error. */
static int wait_done(ct_future_t *f, double timeout, uint32_t *s)
{
	if (!f)
		return CT_EINVAL;
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	if (rc < 0)
		return rc;
	rc = ct__state_wait(&f->state, deadline);
	if (rc < 0)
		return rc;
	/* Acquire: as phase_done(), so the outcome is seen. */
	*s = atomic_load_explicit(&f->state, memory_order_acquire);
	return ct__f_phase(*s) == CT__F_CANCELLED ? CT_ECANCELLED : 0;
}

int ct_future_result(ct_future_t *f, double timeout, void **result)
{
	uint32_t s;
	int rc = wait_done(f, timeout, &s);
	if (rc < 0)
		return rc;
	if (result)
		*result = f->result;
	return f->status;
}

int ct_future_exception(ct_future_t *f, double timeout, int *status)
{
	uint32_t s;
	int rc = wait_done(f, timeout, &s);
	if (rc < 0)
		return rc;
	if (status)
		*status = f->status;
	return 0;
}

/* ---- futures made by their caller (for custom executors) ------------- */

int ct_future_new(ct_future_t **future)
{
	if (!future)
		return CT_EINVAL;
	/* No task: no pool's worker will ever start or finish it. */
	struct ct_future *f = ct__future_new(NULL, NULL, 1);
	if (!f)
		return CT_ENOMEM;
	*future = f;
	return 0;
}

int ct_future_set_running_or_notify_cancel(ct_future_t *f)
{
	if (!f || f->fn)
		return CT_EINVAL;
	switch (ct__f_phase(ct__state_settle(&f->state, CT__F_RUNNING))) {
	case CT__F_PENDING:
		return 1;
	case CT__F_CANCELLED:
		/* Python's CANCELLED -> CANCELLED_AND_NOTIFIED: the first call
		 * on a cancelled future says 0, a second one is in the wrong
		 * state. CLAIMED marks "notified" (no result can be set on a
		 * cancelled future, so the flag is free there). Relaxed: the
		 * flag carries no data; only one caller sees it clear. */
		return atomic_fetch_or_explicit(&f->state, CT__F_CLAIMED, memory_order_relaxed) &
				       CT__F_CLAIMED
			       ? CT_EFUTURESTATE
			       : 0;
	default:
		return CT_EFUTURESTATE;
	}
}

/* Finishes a running future of ct_future_new's. Of two racing calls, the
 * one that sets CLAIMED writes the outcome; the phase change publishes it. */
static int set_outcome(ct_future_t *f, int status, void *value)
{
	if (!f || f->fn)
		return CT_EINVAL;
	/* Relaxed: a guess for the CAS below. */
	uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
	do {
		if (ct__f_phase(s) != CT__F_RUNNING ||
		    /* GCOVR_EXCL_BR_START: another thread claimed the outcome and has yet to change
		     * the phase, a window of a few instructions: a race no test can aim at */
		    (s & CT__F_CLAIMED))
			/* GCOVR_EXCL_BR_STOP */
			return CT_EFUTURESTATE;
		/* Relaxed: CLAIMED only elects the writer of the outcome; the phase change after it
		 * publishes the outcome. */
		/* GCOVR_EXCL_BR_START: a weak CAS failing (another thread claiming the future in
		 * between, or spuriously) is not something a test can force */
	} while (!atomic_compare_exchange_weak_explicit(
		&f->state, &s, s | CT__F_CLAIMED, memory_order_relaxed, memory_order_relaxed));
	/* GCOVR_EXCL_BR_STOP */
	ct__future_finish(f, status, value);
	return 0;
}

int ct_future_set_result(ct_future_t *f, void *value)
{
	return set_outcome(f, 0, value);
}

int ct_future_set_exception(ct_future_t *f, int status)
{
	return status == 0 ? CT_EINVAL : set_outcome(f, status, NULL);
}

bool ct_future_cancel(ct_future_t *f)
{
	if (!f)
		return false;
	uint32_t old = ct__state_settle(&f->state, CT__F_CANCELLED);
	switch (ct__f_phase(old)) {
	case CT__F_PENDING:
		completed(f, old);
		return true;
	case CT__F_CANCELLED:
		return true;
	default:
		return false;
	}
}

static uint32_t phase_of(const ct_future_t *f)
{
	return f ? ct__f_phase(
			   /* Acquire: as phase_done(), for the callers that then read the
			    * outcome. */
			   atomic_load_explicit(&((ct_future_t *)f)->state, memory_order_acquire))
		 : CT__F_PENDING;
}

bool ct_future_cancelled(const ct_future_t *f)
{
	return phase_of(f) == CT__F_CANCELLED;
}

bool ct_future_running(const ct_future_t *f)
{
	return phase_of(f) == CT__F_RUNNING;
}

bool ct_future_done(const ct_future_t *f)
{
	return phase_of(f) >= CT__F_FINISHED;
}

int ct_future_add_done_callback(ct_future_t *f, ct_future_callback_fn fn, void *arg)
{
	if (!f || !fn)
		return CT_EINVAL;
	/* Acquire: as phase_done(): a done future's callback runs at once and reads the outcome. */
	if (!ct__f_done(atomic_load_explicit(&f->state, memory_order_acquire))) {
		struct ct__callback *cb = ct__malloc(sizeof *cb);
		if (!cb)
			return CT_ENOMEM;
		cb->next = NULL;
		cb->fn = fn;
		cb->arg = arg;
		/* GCOVR_EXCL_BR_START: a race no test can aim at: the future completes between the
		 * look above and the hook */
		if (ct__future_hook(f)) {
			/* GCOVR_EXCL_BR_STOP */
			*f->callbacks_tail = cb;
			f->callbacks_tail = &cb->next;
			ct__future_unlock(f);
			return 0;
		}
		ct__free(cb); /* it completed meanwhile */
	}
	fn(f, arg);
	return 0;
}

ct_future_t *ct_future_ref(ct_future_t *f)
{
	if (f)
		/* Relaxed: the caller already holds a reference, so the count cannot reach 0
		 * meanwhile. */
		atomic_fetch_add_explicit(&f->state, CT__F_REF, memory_order_relaxed);
	return f;
}

void ct__future_unref(struct ct_future *f)
{
	/* Acq_rel: the usual reference count: release so that this holder's uses come before the
	 * free, acquire so that the last one sees every other holder's. */
	if (atomic_fetch_sub_explicit(&f->state, CT__F_REF, memory_order_acq_rel) / CT__F_REF == 1)
		ct__future_free(f);
}

void ct_future_release(ct_future_t *f)
{
	if (f)
		ct__future_unref(f);
}
