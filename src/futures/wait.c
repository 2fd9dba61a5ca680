/* wait() and as_completed(): waiting for one of many futures.
 *
 * As in Python, a waiter registers on each future it waits for (a link on
 * the future's list, under the future's lock) and the completion of a
 * future notifies its waiters. The waiter decides in the notification, in
 * the completing thread, whether its condition now holds, and only then
 * wakes the waiting thread: a wait for all of a thousand futures costs one
 * wake-up, not a thousand.
 *
 * A waiter lives on the waiting thread's stack (wait) or in the iterator
 * (as_completed). Completions notify it only under the future's lock, and
 * it deregisters from every future under that lock before it goes away, so
 * no completion can touch it after.
 *
 * fork(). A thread blocked in wait() when another forks is gone in the
 * child, but its links are still on the futures' lists, on its stack,
 * which the child's next thread may be given: a wait carries a note
 * (fork.h) whose forget() takes its links off in the child. (An
 * as_completed iterator lives on the heap: its links stay valid, unused.)
 */
#include <stdlib.h>

#include "futures/future_internal.h"
#include "park/park.h"

/* The mode of an as_completed waiter, beyond enum ct_return_when. */
#define AS_COMPLETED 3

/* Counts the futures of a wait still to complete; starts this high so that
 * completions during registration cannot bring it to zero early. */
#define BIAS ((size_t)1 << (sizeof(size_t) * 8 - 2))

/* Futures a wait() handles without allocating. */
#define STACK_LINKS 16

struct ct__wait_set {
	/* +2 on every signal; bit 0: the owner sleeps on it (or is about to),
	 * so a signal must wake it. */
	_Atomic uint32_t seq;
	int mode;
	_Atomic size_t remaining; /* ALL_COMPLETED, FIRST_EXCEPTION */
	/* as_completed: indexes + 1 of completed futures, in completion order. */
	_Atomic size_t ring_tail;
	_Atomic size_t *ring;
};

static void waiter_init(struct ct__wait_set *w, int mode, _Atomic size_t *ring)
{
	atomic_init(&w->seq, 0);
	w->mode = mode;
	atomic_init(&w->remaining, BIAS);
	atomic_init(&w->ring_tail, 0);
	w->ring = ring;
}

static void waiter_signal(struct ct__wait_set *w)
{
	/* Acq_rel: the release publishes the notifier's ring slot and counts to the waiter's
	 * acquire of seq; acquire orders the notifications among themselves. */
	if (atomic_fetch_add_explicit(&w->seq, 2, memory_order_acq_rel) & 1)
		ct__park_wake(&w->seq, 1);
}

void ct__waiter_notify(struct ct__waiter_link *link, bool failed)
{
	struct ct__wait_set *w = link->waiter;
	switch (w->mode) {
	case AS_COMPLETED: {
		/* Relaxed: only hands out ring slots; the slot's release store below publishes
		 * the index. */
		size_t i = atomic_fetch_add_explicit(&w->ring_tail, 1, memory_order_relaxed);
		/* Release: pairs with the waiter's acquire load of the slot (as_completed()). */
		atomic_store_explicit(&w->ring[i], link->index + 1, memory_order_release);
		waiter_signal(w);
		return;
	}
	case CT_FIRST_COMPLETED:
		waiter_signal(w);
		return;
	case CT_FIRST_EXCEPTION:
		if (failed) {
			waiter_signal(w);
			return;
		}
		break;
	default:
		break;
	}
	/* Acq_rel: the last of the futures to finish sees the others' notifications, and its
	 * signal publishes them all. */
	if (atomic_fetch_sub_explicit(&w->remaining, 1, memory_order_acq_rel) == 1)
		waiter_signal(w);
}

/* Sleeps until the waiter is signalled after @p seen (a seq value without
 * bit 0). 0, CT_ETIMEDOUT or CT_ESTOPPED. */
static int waiter_sleep(struct ct__wait_set *w, uint32_t seen, int64_t deadline)
{
	int rc = 0;
	for (;;) {
		/* Acquire: pairs with waiter_signal()'s release. */
		uint32_t s = atomic_load_explicit(&w->seq, memory_order_acquire);
		if ((s & ~1u) != seen)
			break;
		if (deadline == 0) {
			rc = CT_ETIMEDOUT;
			break;
		}
		/* Relaxed: the sleeping bit is a hint; park_wait() compares the whole word under
		 * the bucket lock. */
		/* GCOVR_EXCL_BR_START: a race no test can aim at: the sleeping bit is set already
		 * only after a wake-up without a signal, and the CAS fails only if a signal lands
		 * between the load and it */
		if (!(s & 1) &&
		    !atomic_compare_exchange_weak_explicit(&w->seq, &s, s | 1, memory_order_relaxed,
							   memory_order_relaxed))
			continue;
		/* GCOVR_EXCL_BR_STOP */
		rc = ct__park_wait(&w->seq, s | 1, deadline, CT__PARK_INTERRUPTIBLE);
		if (rc < 0) {
			/* Acquire: as above. */
			/* GCOVR_EXCL_BR_START: a race no test can aim at: a signal lands as the
			 * park times out or is stopped */
			if ((atomic_load_explicit(&w->seq, memory_order_acquire) & ~1u) != seen)
				/* GCOVR_EXCL_BR_STOP */
				rc = 0;
			break;
		}
	}
	/* Awake again: later signals need not make the wake call. Relaxed:
	 * the sleeping bit is a hint (see waiter_sleep()). */
	atomic_fetch_and_explicit(&w->seq, ~1u, memory_order_relaxed);
	return rc;
}

/* Links @p l (for @p w, future number @p index) on f unless f is done. */
static bool waiter_register(struct ct__wait_set *w, struct ct__waiter_link *l, size_t index,
			    struct ct_future *f)
{
	l->waiter = NULL;
	if (!ct__future_hook(f))
		return false;
	l->waiter = w;
	l->index = index;
	l->prev = NULL;
	l->next = f->waiters;
	if (f->waiters)
		f->waiters->prev = l;
	f->waiters = l;
	l->linked = true;
	ct__future_unlock(f);
	return true;
}

/* Takes @p l off f's list if it is on it. Under the future's lock. */
static void unlink_waiter(struct ct__waiter_link *l, struct ct_future *f)
{
	if (!l->linked)
		return;
	if (l->prev)
		l->prev->next = l->next;
	else
		f->waiters = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->linked = false;
	ct__future_unhook_if_idle(f);
}

/* Undoes waiter_register(); a no-op for a link that was never registered.
 * Takes the lock even if a completion unlinked it already: that completion
 * may still be notifying the waiter. */
static void waiter_deregister(struct ct__waiter_link *l, struct ct_future *f)
{
	if (!l->waiter)
		return;
	ct__future_lock(f);
	unlink_waiter(l, f);
	ct__future_unlock(f);
	l->waiter = NULL;
}

struct wait_note {
	struct ct__fork_note note;
	struct ct__waiter_link *links;
	ct_future_t *const *fs;
	size_t n;
};

/* In a fork child, for a thread that was in wait(): its links leave the
 * futures. No lock: nobody else runs, and the gate kept every future's
 * lock free and its list whole. */
static void forget_wait(struct ct__fork_note *note)
{
	struct wait_note *w = (struct wait_note *)note;
	for (size_t i = 0; i < w->n; i++)
		if (w->links[i].waiter)
			unlink_waiter(&w->links[i], w->fs[i]);
}

/* ---- wait --------------------------------------------------------------- */

static uint32_t state_of(struct ct_future *f)
{
	/* Acquire: pairs with the release of the future's phase change, so its outcome is seen. */
	return atomic_load_explicit(&f->state, memory_order_acquire);
}

/* Whether return_when already holds, looking at the futures only. */
static bool condition_holds(ct_future_t *const *fs, size_t n, int return_when)
{
	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t s = state_of(fs[i]);
		if (!ct__f_done(s))
			continue;
		done++;
		if (return_when == CT_FIRST_COMPLETED ||
		    (return_when == CT_FIRST_EXCEPTION && ct__future_failed(fs[i], s)))
			return true;
	}
	return done == n;
}

static void report_done(ct_future_t *const *fs, size_t n, bool *done)
{
	if (done)
		for (size_t i = 0; i < n; i++)
			done[i] = ct__f_done(state_of(fs[i]));
}

/* Registers on every future; true if the condition held meanwhile. */
static bool register_all(struct ct__wait_set *w, struct ct__waiter_link *links,
			 ct_future_t *const *fs, size_t n)
{
	size_t registered = 0;
	bool met = false;
	for (size_t i = 0; i < n; i++) {
		/* GCOVR_EXCL_BR_START: met only when a future completes during the registration,
		 * after the caller's look found the condition false: a race no test can aim at */
		if (met) {
			/* GCOVR_EXCL_BR_STOP */
			links[i].waiter = NULL;
		} else if (waiter_register(w, &links[i], i, fs[i])) {
			registered++;
		} else if (w->mode == CT_FIRST_EXCEPTION) {
			/* Done before the registration (or failed during it: a
			 * race): a failure meets the condition. */
			met = ct__future_failed(fs[i], state_of(fs[i]));
		} else {
			/* Done before the registration, one fewer to wait for (ALL_COMPLETED);
			 * FIRST_COMPLETED's look found none done, so its future completed
			 * during the registration (a race). Assigned, not branched on. */
			met = w->mode == CT_FIRST_COMPLETED;
		}
	}
	/* GCOVR_EXCL_BR_START: as above: met only by a race during the registration */
	if (met)
		return true;
	/* GCOVR_EXCL_BR_STOP */
	/* Remove the bias: what is left is the registered futures not yet
	 * done. Zero means they all completed during registration. */
	size_t unbias = BIAS - registered;
	/* Acq_rel: as in ct__waiter_notify(): whoever reaches zero sees the others'
	 * notifications. */
	size_t left =
		atomic_fetch_sub_explicit(&w->remaining, unbias, memory_order_acq_rel) - unbias;
	/* GCOVR_EXCL_BR_START: a race no test can aim at: as above, every registered future
	 * completes before the bias is removed */
	return w->mode != CT_FIRST_COMPLETED && left == 0;
	/* GCOVR_EXCL_BR_STOP */
}

/* The arguments every wait on many futures checks first. */
static int check_futures(ct_future_t *const *fs, size_t n, double timeout, int64_t *deadline)
{
	if (n && !fs)
		return CT_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!fs[i])
			return CT_EINVAL;
	return ct__deadline(timeout, deadline);
}

int ct_wait(ct_future_t *const *fs, size_t n, double timeout, int return_when, bool *done)
{
	if (return_when < CT_ALL_COMPLETED || return_when > CT_FIRST_EXCEPTION)
		return CT_EINVAL;
	int64_t deadline;
	int rc = check_futures(fs, n, timeout, &deadline);
	if (rc < 0)
		return rc;
	if (condition_holds(fs, n, return_when)) {
		report_done(fs, n, done);
		return 0;
	}
	if (deadline == 0) {
		report_done(fs, n, done);
		return CT_ETIMEDOUT;
	}
	struct ct__waiter_link stack_links[STACK_LINKS], *links = stack_links;
	if (n > STACK_LINKS && !(links = ct__malloc(n * sizeof *links)))
		return CT_ENOMEM;
	struct ct__wait_set w;
	waiter_init(&w, return_when, NULL);
	for (size_t i = 0; i < n; i++)
		links[i].waiter = NULL; /* what forget_wait() looks at */
	struct ct__waiter *self = ct__waiter_self();
	struct wait_note note = {.links = links, .fs = fs, .n = n};
	ct__note_push(self, &note.note, forget_wait);
	/* GCOVR_EXCL_BR_START: a race no test can aim at: the condition comes true during the
	 * registration (see register_all()) */
	if (!register_all(&w, links, fs, n))
		/* GCOVR_EXCL_BR_STOP */
		rc = waiter_sleep(&w, 0, deadline);
	/* A future is done (its phase changed) a moment before its waiters
	 * hear of it: at the deadline, trust the futures themselves. */
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a future completes as the wait times out
	 */
	if (rc == CT_ETIMEDOUT && condition_holds(fs, n, return_when))
		/* GCOVR_EXCL_BR_STOP */
		rc = 0;
	for (size_t i = 0; i < n; i++)
		waiter_deregister(&links[i], fs[i]);
	ct__note_pop(self, &note.note);
	if (links != stack_links)
		ct__free(links);
	report_done(fs, n, done);
	return rc;
}

/* ---- as_completed ------------------------------------------------------- */

struct ct__as_completed {
	struct ct__wait_set w;
	int64_t deadline;
	size_t n;	   /* distinct futures */
	size_t yielded;	   /* handed out so far */
	size_t ndone_init; /* done at init: yielded first, from done_init */
	size_t ring_head;  /* next slot of w.ring to hand out */
	ct_future_t **fs;  /* n, in input order, one reference each */
	struct ct__waiter_link *links;
	size_t *done_init;
	_Atomic size_t *ring;
};

struct ptr_index {
	const void *p;
	size_t i;
};

static int by_pointer(const void *a, const void *b)
{
	const struct ptr_index *x = a, *y = b;
	if (x->p != y->p)
		return (uintptr_t)x->p < (uintptr_t)y->p ? -1 : 1;
	/* GCOVR_EXCL_BR_START: which of two equal entries qsort() passes first is its own order */
	return x->i < y->i ? -1 : x->i > y->i;
	/* GCOVR_EXCL_BR_STOP */
}

/* Copies the distinct futures of fs, in input order, into it->fs, with a
 * reference each. Python's as_completed takes a set. */
static int collect_distinct(struct ct__as_completed *it, ct_future_t *const *fs, size_t n)
{
	bool *dup = NULL;
	if (n > 1) {
		struct ptr_index *v = ct__malloc(n * sizeof *v);
		dup = ct__calloc(n, sizeof *dup);
		if (!v || !dup) {
			ct__free(v);
			ct__free(dup);
			return CT_ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			v[i] = (struct ptr_index){fs[i], i};
		qsort(v, n, sizeof *v, by_pointer);
		for (size_t i = 1; i < n; i++)
			dup[v[i].i] = v[i].p == v[i - 1].p;
		ct__free(v);
	}
	for (size_t i = 0; i < n; i++)
		if (!dup || !dup[i])
			it->fs[it->n++] = ct_future_ref(fs[i]);
	ct__free(dup);
	return 0;
}

int ct_as_completed_init(ct_as_completed_t *handle, ct_future_t *const *fs, size_t n,
			 double timeout)
{
	if (!handle)
		return CT_EINVAL;
	handle->ct__impl = NULL;
	int64_t deadline;
	int rc = check_futures(fs, n, timeout, &deadline);
	if (rc < 0)
		return rc;
	/* One block: the header, then n of each array. */
	size_t per = sizeof(ct_future_t *) + sizeof(struct ct__waiter_link) + sizeof(size_t) +
		     sizeof(_Atomic size_t);
	/* GCOVR_EXCL_BR_START: check_futures() has read all n pointers: an address space that holds
	 * them cannot make n * per overflow */
	if (n > (SIZE_MAX - sizeof(struct ct__as_completed)) / per)
		/* GCOVR_EXCL_BR_STOP */
		return CT_ENOMEM;
	struct ct__as_completed *it = ct__calloc(1, sizeof *it + n * per);
	if (!it)
		return CT_ENOMEM;
	it->links = (struct ct__waiter_link *)(it + 1);
	it->fs = (ct_future_t **)(it->links + n);
	it->done_init = (size_t *)(it->fs + n);
	it->ring = (_Atomic size_t *)(it->done_init + n);
	it->deadline = deadline;
	rc = collect_distinct(it, fs, n);
	if (rc < 0) {
		ct__free(it);
		return rc;
	}
	for (size_t i = 0; i < it->n; i++)
		atomic_init(&it->ring[i], 0);
	waiter_init(&it->w, AS_COMPLETED, it->ring);
	for (size_t i = 0; i < it->n; i++)
		if (!waiter_register(&it->w, &it->links[i], i, it->fs[i]))
			it->done_init[it->ndone_init++] = i;
	handle->ct__impl = it;
	return 0;
}

/* Whether more of the futures registered at init are done than the ring
 * has handed out. */
static bool done_not_in_ring(struct ct__as_completed *it)
{
	size_t done = 0;
	for (size_t i = 0; i < it->n; i++)
		done += it->links[i].waiter && ct__f_done(state_of(it->fs[i]));
	return done > it->ring_head;
}

int ct_as_completed_next(ct_as_completed_t *handle, ct_future_t **out)
{
	struct ct__as_completed *it = handle ? handle->ct__impl : NULL;
	if (!it || !out)
		return CT_EINVAL;
	*out = NULL;
	if (it->yielded < it->ndone_init) {
		*out = it->fs[it->done_init[it->yielded++]];
		return 0;
	}
	if (it->yielded == it->n)
		return 0;
	for (;;) {
		/* Read the signal count before the ring: a completion that
		 * lands after this look also moves the count, so the sleep
		 * below cannot miss it. Acquire: pairs with waiter_signal()'s
		 * release. */
		uint32_t seen = atomic_load_explicit(&it->w.seq, memory_order_acquire) & ~1u;
		/* Acquire: pairs with the notifier's release store of the slot; seq was read
		 * first (see above), so a slot still empty here is announced by a later change
		 * of seq. */
		size_t v = atomic_load_explicit(&it->ring[it->ring_head], memory_order_acquire);
		if (v) {
			it->ring_head++;
			it->yielded++;
			*out = it->fs[v - 1];
			return 0;
		}
		int rc = waiter_sleep(&it->w, seen, it->deadline);
		/* At the deadline, a future may be done but not yet in the
		 * ring (its completion is between the two): then it is on its
		 * way, and worth the short wait. */
		/* GCOVR_EXCL_BR_START: a race no test can aim at: a future done but not yet in the
		 * ring at the deadline */
		if (rc == CT_ETIMEDOUT && done_not_in_ring(it))
			/* GCOVR_EXCL_BR_STOP */
			rc = waiter_sleep(&it->w, seen, CT__NO_DEADLINE);
		if (rc < 0)
			return rc;
	}
}

size_t ct_as_completed_remaining(const ct_as_completed_t *handle)
{
	const struct ct__as_completed *it = handle ? handle->ct__impl : NULL;
	return it ? it->n - it->yielded : 0;
}

void ct_as_completed_destroy(ct_as_completed_t *handle)
{
	struct ct__as_completed *it = handle ? handle->ct__impl : NULL;
	if (!it)
		return;
	for (size_t i = 0; i < it->n; i++) {
		waiter_deregister(&it->links[i], it->fs[i]);
		ct_future_release(it->fs[i]);
	}
	ct__free(it);
	handle->ct__impl = NULL;
}
