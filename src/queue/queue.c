/* Queue, LifoQueue, PriorityQueue: Python 3.13's blocking rules.
 *
 * A bounded FIFO queue is a lock-free ring (queue_ring.c); the other kinds
 * keep their items (a growable ring, a heap: queue_store.c) under a lock,
 * with the blocking rules below. Each is a table of operations
 * (struct ct__queue_ops); init chooses one, and every public function
 * checks its arguments and calls through it.
 *
 * One Lock guards the state. A thread that must wait counts itself in one
 * of three counters (getters: "not empty", putters: "not full", joiners:
 * "all tasks done") and parks on that counter's address, holding the lock
 * until it is queued (the park's before_sleep releases it, as a condition
 * variable does), so that nobody can change the state between its check
 * and its sleep. It uncounts itself when it has the lock back.
 *
 * Whoever changes the state looks at the counter under the lock and, after
 * releasing it, wakes one thread (a put wakes a getter, a get a putter) or
 * all (the last task_done wakes the joiners, shutdown everyone). Nobody
 * waits: no wake-up call at all. The wake uses the counter's address only
 * as a key, never the queue's memory, so a queue may be destroyed as soon
 * as the last call that needs it has returned, even if another call is
 * still in its final wake.
 *
 * A counter may briefly include a thread already woken (it uncounts itself
 * once it has the lock): a second wake then goes to the next waiter, which
 * is right when a second item came, or to nobody, which costs one bucket
 * lock. No wake is ever lost: a counted thread is queued before anyone can
 * read the counter, and a thread that left by timeout or stop checks the
 * state once more before it gives up.
 *
 * Before parking, a getter that found the queue empty (a putter that found
 * it full) spins briefly without the lock, watching the item count: a
 * futex wake-up costs tens of microseconds on a virtual machine, so a
 * short wait that ends in the spin saves both sides their system call.
 */
#include "cthreading/queue.h"

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/fork.h"
#include "park/park.h"
#include "queue/queue_internal.h"
#include "queue/queue_ring.h"
#include "sync/lock_internal.h"

static bool is_full(const ct_queue_t *q)
{
	return q->ct__maxsize != 0 && ct__queue_count(q) >= q->ct__maxsize;
}

/* ct__shut: 0 open, SHUT after shutdown, DESTROYED after destroy. A
 * destroyed queue stays in the caller's memory: it reads as shut down, so
 * the paths that already look at ct__shut refuse it at no extra cost, and
 * report CT_EINVAL instead of accepting items nobody would free. */
enum { SHUT = 1, DESTROYED = 2 };

static bool is_shut(const ct_queue_t *q)
{
	/* Relaxed: read under the queue's lock, which orders it with the store in shutdown(), or
	 * as ct_queue_is_shutdown()'s snapshot. */
	return atomic_load_explicit(&q->ct__shut, memory_order_relaxed) != 0;
}

static bool is_destroyed(const ct_queue_t *q)
{
	/* Relaxed: as in is_shut(); using a queue concurrently with its destroy is the program's
	 * race. */
	return atomic_load_explicit(&q->ct__shut, memory_order_relaxed) == DESTROYED;
}

/* What a put or get on a shut queue reports. */
static int shut_code(const ct_queue_t *q)
{
	return is_destroyed(q) ? CT_EINVAL : CT_ESHUTDOWN;
}

static bool has_item_or_shut(const void *ctx)
{
	const ct_queue_t *q = ctx;
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a shutdown while a getter spins (the
	 * getter checked the state under the lock just before) */
	return ct__queue_count(q) != 0 || is_shut(q);
	/* GCOVR_EXCL_BR_STOP */
}

static bool has_room_or_shut(const void *ctx)
{
	const ct_queue_t *q = ctx;
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a shutdown while a putter spins (as
	 * above) */
	return !is_full(q) || is_shut(q);
	/* GCOVR_EXCL_BR_STOP */
}

/* The lock is taken inside fork's gate (fork.h): a fork waits until no
 * thread holds it, so the child never finds it held nor the storage half
 * changed (a heap half sifted cannot be repaired). */
static void qlock(ct_queue_t *q)
{
	ct__gate_enter();
	ct__lock_acquire_quiet(&q->ct__lock); /* the queue's own: not the program's */
}

static void qunlock(ct_queue_t *q)
{
	(void)ct__lock_release_quiet(&q->ct__lock);
	ct__gate_exit();
}

/* Called with the lock held; returns with it held. Lets the lock go and
 * spins until @p ready or the spin budget is spent. */
static void spin_unlocked(ct_queue_t *q, bool (*ready)(const void *q))
{
	if (!ct__spin_allowed())
		return;
	qunlock(q);
	ct__spin_until(ready, q);
	qlock(q);
}

static void release_queue_lock(void *ctx)
{
	ct_queue_t *q = ctx;
	qunlock(q);
}

static const struct ct__park_ops queue_park_ops = {.before_sleep = release_queue_lock};

/* A waiter's note (fork.h): in the child of a fork, every thread counted in
 * the three counters is gone (the forking thread waits in no queue). */
struct waiter_note {
	struct ct__fork_note note;
	ct_queue_t *q;
};

static void forget_waiters(struct ct__fork_note *note)
{
	ct_queue_t *q = ((struct waiter_note *)note)->q;
	q->ct__getters = q->ct__putters = q->ct__joiners = 0;
}

/* Called with the lock held; returns with it held. Parks on @p waiters (one
 * of the three counters) until woken, the deadline or a stop: 0,
 * CT_ETIMEDOUT or CT_ESTOPPED. Callers re-check the state either way.
 * Counting and the note happen together under the lock, hence inside the
 * gate: a fork sees both or neither. */
static int wait_on(ct_queue_t *q, uint32_t *waiters, int64_t deadline, unsigned flags)
{
	struct ct__waiter *self = ct__waiter_self();
	struct waiter_note n = {.q = q};
	uintptr_t token;
	ct__note_push(self, &n.note, forget_waiters);
	(*waiters)++;
	CT__DEBUG_HOOK(waits_on(q, waiters == &q->ct__getters	? CT__OBJ_QUEUE_EMPTY
				   : waiters == &q->ct__putters ? CT__OBJ_QUEUE_FULL
								: CT__OBJ_QUEUE));
	int rc = ct__park(waiters, &queue_park_ops, q, deadline, flags, &token);
	qlock(q);
	(*waiters)--;
	ct__note_pop(self, &n.note);
	return rc < 0 ? rc : 0;
}

/* ---- the locked store ---------------------------------------------------- */

static int locked_destroy(ct_queue_t *q)
{
	ct_queue_t left = CT_QUEUE_INIT;
	qlock(q);
	if (q->ct__getters || q->ct__putters || q->ct__joiners) {
		qunlock(q);
		return CT_EBUSY;
	}
	ct__qstore_detach(q, &left);
	q->ct__unfinished = 0; /* its items are dropped: no task is left to wait for */
	/* Relaxed: under the queue's lock, as in shutdown(). */
	atomic_store_explicit(&q->ct__shut, DESTROYED, memory_order_relaxed);
	void (*free_item)(void *) = q->ct__free_item;
	qunlock(q);
	ct__qstore_drop_all(&left, free_item);
	return 0;
}

/* Ends a put or get, which holds the lock and returned @p rc: releases the
 * lock and, if it succeeded, wakes one thread of the other side (counted
 * in @p other) if one waits. The wake uses the key only (see above). */
static int release_and_wake(ct_queue_t *q, int rc, uint32_t *other)
{
	bool wake = rc == 0 && *other != 0;
	qunlock(q);
	if (wake)
		ct__unpark_one(other, NULL, NULL);
	return rc;
}

/* Where a put or get stands in its wait. */
struct waiting {
	bool spun;  /* spun once already: park from now on */
	int waited; /* what the last park returned */
};

/* One turn of a wait, with the lock held: gives up with CT_ESTOPPED after
 * a stop, or with @p expired_rc at the deadline; else spins the first time
 * and parks on @p waiters after that, and returns 0 to look again. */
static int wait_turn(ct_queue_t *q, struct waiting *w, uint32_t *waiters,
		     bool (*ready)(const void *q), int64_t deadline, int expired_rc)
{
	if (w->waited == CT_ESTOPPED)
		return CT_ESTOPPED;
	if (ct__expired(deadline))
		return expired_rc;
	if (!w->spun) {
		w->spun = true;
		spin_unlocked(q, ready);
		return 0;
	}
	w->waited = wait_on(q, waiters, deadline, CT__PARK_INTERRUPTIBLE);
	return 0;
}

/* Python's Queue.put under the lock: shut down first, then room, then the
 * deadline. A thread woken by a stop still puts if there is room now. */
static int put_locked(ct_queue_t *q, void *item, int64_t deadline)
{
	struct waiting w = {0};
	for (;;) {
		if (is_shut(q))
			return shut_code(q);
		if (!is_full(q)) {
			int rc = ct__qstore_push(q, item);
			if (rc == 0)
				q->ct__unfinished++;
			return rc;
		}
		int rc = wait_turn(q, &w, &q->ct__putters, has_room_or_shut, deadline, CT_EFULL);
		if (rc < 0)
			return rc;
	}
}

static int locked_put(ct_queue_t *q, void *item, int64_t deadline)
{
	qlock(q);
	return release_and_wake(q, put_locked(q, item, deadline), &q->ct__getters);
}

/* Python's Queue.get under the lock: an item first, then shut down, then
 * the deadline. A thread woken by a stop still takes an item if one is
 * there now. */
static int get_locked(ct_queue_t *q, void **item, int64_t deadline)
{
	struct waiting w = {0};
	for (;;) {
		if (ct__queue_count(q) != 0) {
			*item = ct__qstore_pop(q);
			return 0;
		}
		if (is_shut(q))
			return shut_code(q);
		int rc = wait_turn(q, &w, &q->ct__getters, has_item_or_shut, deadline, CT_EEMPTY);
		if (rc < 0)
			return rc;
	}
}

static int locked_get(ct_queue_t *q, void **item, int64_t deadline)
{
	qlock(q);
	return release_and_wake(q, get_locked(q, item, deadline), &q->ct__putters);
}

static size_t locked_qsize(const ct_queue_t *q)
{
	return ct__queue_count(q);
}

static int locked_task_done(ct_queue_t *q)
{
	qlock(q);
	if (is_destroyed(q) || q->ct__unfinished == 0) {
		qunlock(q);
		return is_destroyed(q) ? CT_EINVAL : CT_ETASKDONE;
	}
	bool wake = --q->ct__unfinished == 0 && q->ct__joiners != 0;
	qunlock(q);
	if (wake)
		ct__unpark_all(&q->ct__joiners, CT__TOKEN_NORMAL);
	return 0;
}

static int locked_join(ct_queue_t *q, int64_t deadline)
{
	qlock(q);
	if (is_destroyed(q)) {
		qunlock(q);
		return CT_EINVAL;
	}
	int rc = 0, waited = 0;
	while (q->ct__unfinished != 0) {
		if (waited == CT_ESTOPPED || ct__expired(deadline)) {
			rc = waited == CT_ESTOPPED ? CT_ESTOPPED : CT_ETIMEDOUT;
			break;
		}
		/* Waiting for whole tasks to finish is long by nature: sleep at
		 * once instead of spinning on a CPU the workers need. */
		waited = wait_on(q, &q->ct__joiners, deadline,
				 CT__PARK_INTERRUPTIBLE | CT__PARK_NO_SPIN);
	}
	qunlock(q);
	return rc;
}

static void locked_shutdown(ct_queue_t *q, bool immediate)
{
	ct_queue_t dropped = CT_QUEUE_INIT;
	qlock(q);
	if (is_destroyed(q)) {
		qunlock(q);
		return;
	}
	/* Relaxed: under the queue's lock, as every read that acts on it. */
	atomic_store_explicit(&q->ct__shut, SHUT, memory_order_relaxed);
	bool wake_joiners = false;
	if (immediate) {
		/* Python: each dropped item counts as one task done. */
		size_t n = ct__queue_count(q);
		q->ct__unfinished -= n < q->ct__unfinished ? n : q->ct__unfinished;
		wake_joiners = q->ct__unfinished == 0 && q->ct__joiners != 0;
		ct__qstore_detach(q, &dropped);
	}
	bool wake_getters = q->ct__getters != 0, wake_putters = q->ct__putters != 0;
	void (*free_item)(void *) = q->ct__free_item;
	qunlock(q);
	/* Free the dropped items before anyone wakes: a join that returns
	 * because of them finds them freed. */
	ct__qstore_drop_all(&dropped, immediate ? free_item : NULL);
	if (wake_getters)
		ct__unpark_all(&q->ct__getters, CT__TOKEN_NORMAL);
	if (wake_putters)
		ct__unpark_all(&q->ct__putters, CT__TOKEN_NORMAL);
	if (wake_joiners)
		ct__unpark_all(&q->ct__joiners, CT__TOKEN_NORMAL);
}

static unsigned locked_waiters(ct_queue_t *q)
{
	qlock(q);
	unsigned n = q->ct__getters + q->ct__putters + q->ct__joiners;
	qunlock(q);
	return n;
}

static const struct ct__queue_ops locked_ops = {
	.put = locked_put,
	.get = locked_get,
	.qsize = locked_qsize,
	.is_shut = is_shut,
	.task_done = locked_task_done,
	.join = locked_join,
	.shutdown = locked_shutdown,
	.destroy = locked_destroy,
	.waiters = locked_waiters,
};

/* ---- the public functions ------------------------------------------------ */

static const struct ct__queue_ops *const storages[] = {
	[CT__QUEUE_LOCKED] = &locked_ops,
	[CT__QUEUE_RING] = &ct__qring_ops,
};

static const struct ct__queue_ops *ops(const ct_queue_t *q)
{
	return storages[q->ct__storage];
}

/* A queue whose init failed reads as destroyed, whatever its memory held
 * before: destroy does nothing, put and get report CT_EINVAL. */
static int init_failed(ct_queue_t *q, int rc)
{
	*q = (ct_queue_t){.ct__storage = CT__QUEUE_LOCKED};
	/* Relaxed: the object is not shared yet; whoever is given it later is
	 * given it by a release of the caller's. */
	atomic_store_explicit(&q->ct__shut, DESTROYED, memory_order_relaxed);
	return rc;
}

int ct_queue_init(ct_queue_t *q, const ct_queue_opts *opts)
{
	static const ct_queue_opts defaults = {0};
	if (!q)
		return CT_EINVAL;
	if (!opts)
		opts = &defaults;
	if (opts->kind != CT_QUEUE_FIFO && opts->kind != CT_QUEUE_LIFO &&
	    opts->kind != CT_QUEUE_PRIORITY)
		return init_failed(q, CT_EINVAL);
	if (opts->kind == CT_QUEUE_PRIORITY && !opts->compare)
		return init_failed(q, CT_EINVAL);
	*q = (ct_queue_t){
		.ct__kind = (uint8_t)opts->kind,
		.ct__storage = CT__QUEUE_LOCKED,
		.ct__maxsize = opts->maxsize > 0 ? (size_t)opts->maxsize : 0,
		.ct__compare = opts->compare,
		.ct__free_item = opts->free_item,
	};
	bool ring = q->ct__kind == CT_QUEUE_FIFO && q->ct__maxsize != 0 &&
		    q->ct__maxsize <= CT__QUEUE_PREALLOC_MAX;
	int rc = ring ? ct__qring_init(q) : ct__qstore_init(q);
	return rc < 0 ? init_failed(q, rc) : rc;
}

/* A destroyed queue uses the locked store's table, which refuses it. */
int ct_queue_destroy(ct_queue_t *q)
{
	if (!q)
		return CT_EINVAL;
	CT__DEBUG_DESTROYED(q);
	int rc = ops(q)->destroy(q);
	if (rc == 0) {
		q->ct__storage = CT__QUEUE_LOCKED;
		/* Relaxed: the destroyed queue is the caller's alone now. */
		atomic_store_explicit(&q->ct__shut, DESTROYED, memory_order_relaxed);
	}
	return rc;
}

/* After a put or a get that returned @p rc: the queue's depth into the
 * trace, while recording (debugging). Returns @p rc. */
static int depth_recorded(ct_queue_t *q, int rc)
{
	if (CT__DEBUG_ON(CT__DEBUG_RECORD) && rc == 0)
		ct__debug()->depth(q, CT__OBJ_QUEUE, ops(q)->qsize(q));
	return rc;
}

int ct_queue_put(ct_queue_t *q, void *item, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(q, timeout, &deadline);
	if (rc < 0)
		return rc;
	CT__DEBUG_HOOK(waits_on(q, CT__OBJ_QUEUE_FULL)); /* debugging: what a wait is for */
	return depth_recorded(q, ops(q)->put(q, item, deadline));
}

int ct_queue_put_nowait(ct_queue_t *q, void *item)
{
	return ct_queue_put(q, item, 0);
}

int ct_queue_get(ct_queue_t *q, void **item, double timeout)
{
	int64_t deadline;
	int rc = ct__queue_get_args(q, item, timeout, &deadline);
	if (rc < 0)
		return rc;
	CT__DEBUG_HOOK(waits_on(q, CT__OBJ_QUEUE_EMPTY)); /* debugging: what a wait is for */
	return depth_recorded(q, ops(q)->get(q, item, deadline));
}

int ct_queue_get_nowait(ct_queue_t *q, void **item)
{
	return ct_queue_get(q, item, 0);
}

size_t ct_queue_qsize(const ct_queue_t *q)
{
	return CT__UNLIKELY(!q) ? 0 : ops(q)->qsize(q);
}

bool ct_queue_empty(const ct_queue_t *q)
{
	return ct_queue_qsize(q) == 0;
}

bool ct_queue_full(const ct_queue_t *q)
{
	return q && q->ct__maxsize != 0 && ct_queue_qsize(q) >= q->ct__maxsize;
}

long ct_queue_maxsize(const ct_queue_t *q)
{
	return q ? (long)q->ct__maxsize : 0;
}

bool ct_queue_is_shutdown(const ct_queue_t *q)
{
	return CT__UNLIKELY(!q) ? false : ops(q)->is_shut(q);
}

int ct_queue_task_done(ct_queue_t *q)
{
	return q ? ops(q)->task_done(q) : CT_EINVAL;
}

int ct_queue_join(ct_queue_t *q, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(q, timeout, &deadline);
	if (rc < 0)
		return rc;
	CT__DEBUG_HOOK(waits_on(q, CT__OBJ_QUEUE)); /* debugging: what a wait is for */
	return ops(q)->join(q, deadline);
}

void ct_queue_shutdown(ct_queue_t *q, bool immediate)
{
	if (CT__UNLIKELY(!q))
		return;
	ops(q)->shutdown(q, immediate);
}

unsigned ct__queue_waiters(ct_queue_t *q)
{
	return ops(q)->waiters(q);
}
