/* Condition: waiters park on the condition's address; notify moves them.
 *
 * A waiter queues itself while it still holds the lock (the park's
 * validate), and releases the lock only once queued (before_sleep): a
 * notify, which must hold the lock, therefore sees exactly the waiters that
 * came before it, which is what makes notify(n) wake exactly n.
 *
 * notify(n) requeues up to n waiters from the condition onto the lock's
 * word and marks the lock PARKED, all under both bucket locks. They are
 * then ordinary waiters of the lock: each release wakes one (or hands it
 * the lock, when the lock's fairness clock says so). If the lock turns out
 * not to be held at that moment (a Lock may be released by any thread),
 * one waiter is woken directly instead and the rest requeued, so nobody is
 * left waiting for a release that will not come.
 *
 * ct__waiters counts the threads queued on the condition itself, only ever
 * changed under its bucket lock; notify reads it, with the lock held, to
 * skip the queues entirely when nobody waits.
 *
 * fork(). A waiter carries a note (fork.h): in a fork child, whoever was
 * queued on the condition is gone, so the count drops to 0 (the forking
 * thread was not waiting). A waiter that had not yet given the lock up
 * still holds it, and a held Lock stays held in the child.
 */
#include "cthreading/condition.h"

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/fork.h"
#include "park/park.h"
#include "sync/lock_internal.h"
#include "sync/rlock_internal.h"

void ct_condition_init(ct_condition_t *cond, ct_lock_t *lock)
{
	if (CT__UNLIKELY(!cond))
		return;
	atomic_init(&cond->ct__waiters, 0);
	cond->ct__kind = lock ? CT__COND_LOCK : CT__COND_OWN;
	cond->ct__lock = lock;
	ct_rlock_init(&cond->ct__own);
}

void ct_condition_init_rlock(ct_condition_t *cond, ct_rlock_t *rlock)
{
	if (CT__UNLIKELY(!cond))
		return;
	atomic_init(&cond->ct__waiters, 0);
	cond->ct__kind = CT__COND_RLOCK;
	cond->ct__lock = rlock;
	ct_rlock_init(&cond->ct__own);
}

void ct_condition_destroy(ct_condition_t *cond)
{
	if (CT__UNLIKELY(!cond))
		return;
	CT__DEBUG_DESTROYED(cond);
}

/* The RLock behind the condition, or NULL when it is over a plain Lock. */
static ct_rlock_t *rlock_of(ct_condition_t *cond)
{
	/* No lock given (ct_condition_init_rlock(c, NULL), the static
	 * initializers with NULL): an RLock of its own, as Condition(None)
	 * and ct_condition_init(c, NULL), never a condition whose acquire
	 * does nothing. */
	if (cond->ct__kind == CT__COND_OWN || !cond->ct__lock)
		return &cond->ct__own;
	return cond->ct__kind == CT__COND_RLOCK ? cond->ct__lock : NULL;
}

/* The Lock word waiters are requeued onto. */
static ct_lock_t *inner_lock(ct_condition_t *cond)
{
	ct_rlock_t *r = rlock_of(cond);
	return r ? &r->ct__lock : cond->ct__lock;
}

/* Python's _is_owned(): an RLock must be the caller's; a Lock, which has no
 * owner, must at least be held. */
static bool owned(ct_condition_t *cond)
{
	ct_rlock_t *r = rlock_of(cond);
	return r ? ct_rlock_is_owned(r) : ct_lock_locked(cond->ct__lock);
}

void ct_condition_acquire(ct_condition_t *cond)
{
	if (CT__UNLIKELY(!cond))
		return;
	ct_rlock_t *r = rlock_of(cond);
	if (r) {
		ct_rlock_acquire(r);
	} else {
		ct__lock_acquire_nonnull(cond->ct__lock);
	}
}

int ct_condition_acquire_timeout(ct_condition_t *cond, double timeout)
{
	if (CT__UNLIKELY(!cond))
		return CT_EINVAL;
	ct_rlock_t *r = rlock_of(cond);
	return r ? ct_rlock_acquire_timeout(r, timeout)
		 : ct_lock_acquire_timeout(cond->ct__lock, timeout);
}

int ct_condition_release(ct_condition_t *cond)
{
	if (CT__UNLIKELY(!cond))
		return CT_EINVAL;
	ct_rlock_t *r = rlock_of(cond);
	return r ? ct_rlock_release(r) : ct_lock_release(cond->ct__lock);
}

struct waiter {
	ct_condition_t *cond;
	uint32_t depth; /* the RLock depth released for the wait */
	bool requeued;	/* left the lock's queue by timeout or stop */
};

/* Memory orders: ct__waiters is relaxed everywhere. It is raised by a
 * waiter while it holds the condition's lock (enqueue runs before the
 * lock is let go) and read by notify, which Python requires to hold the
 * lock too: the lock's acquire and release order the two, so a notify
 * that reads 0 comes before any wait it could have woken. Lowering it
 * happens under the bucket lock. */
static bool enqueue(void *ctx)
{
	struct waiter *w = ctx;
	/* Relaxed: under the condition's lock (see "Memory orders" above). */
	atomic_fetch_add_explicit(&w->cond->ct__waiters, 1, memory_order_relaxed);
	return true;
}

static void release_lock(void *ctx)
{
	struct waiter *w = ctx;
	ct_rlock_t *r = rlock_of(w->cond);
	if (r)
		w->depth = ct__rlock_release_save(r);
	else
		(void)ct_lock_release(w->cond->ct__lock);
}

static void left_queue(void *ctx, const void *key, bool was_last)
{
	struct waiter *w = ctx;
	if (key == w->cond) {
		/* Relaxed: under the bucket lock (see above). */
		atomic_fetch_sub_explicit(&w->cond->ct__waiters, 1, memory_order_relaxed);
		return;
	}
	/* Notified, then requeued onto the lock: the wait itself succeeded;
	 * we only stop waiting for the lock, and take it the normal way. */
	w->requeued = true;
	ct__lock_waiter_left(inner_lock(w->cond), was_last);
}

static const struct ct__park_ops wait_ops = {
	.validate = enqueue,
	.before_sleep = release_lock,
	.timed_out = left_queue,
};

struct cond_note {
	struct ct__fork_note note;
	ct_condition_t *cond;
};

static void forget_waiters(struct ct__fork_note *note)
{
	ct_condition_t *cond = ((struct cond_note *)note)->cond;
	/* Relaxed: in the fork child, which has only this thread. */
	atomic_store_explicit(&cond->ct__waiters, 0, memory_order_relaxed);
}

/* Takes the condition's lock back after a wait (@p handed_off: the lock's
 * fair release gave it to us already). The hooks see the lock the program
 * gave (an RLock is an RLock, its depth restored next), taken at @p site,
 * the program's call of the wait. */
static void take_back(ct_condition_t *cond, bool handed_off, void *site)
{
	ct_rlock_t *r = rlock_of(cond);
	const void *object = r ? (const void *)r : (const void *)cond->ct__lock;
	unsigned kind = r ? CT__OBJ_RLOCK : CT__OBJ_LOCK;
	if (handed_off) /* debugging: a hand-off is an acquire too */
		CT__DEBUG_HOOK(acquired(object, kind, site, 0, false, true));
	else if (CT__DEBUG_ON(CT__DEBUG_LOCKS)) /* debugging: the hooks see the object */
		(void)ct__lock_acquire_as(inner_lock(cond), object, kind, CT__NO_DEADLINE, 0, site);
	else /* debugging off, as the check above found: nothing for the hooks to see */
		ct__lock_acquire_quiet(inner_lock(cond));
}

/* @p site: the program's call, for the debugging hooks. */
static int wait_until(ct_condition_t *cond, int64_t deadline, void *site)
{
	struct waiter w = {.cond = cond};
	uintptr_t token = CT__TOKEN_NORMAL;
	struct ct__waiter *self = ct__waiter_self();
	struct cond_note n = {.cond = cond};
	ct__note_push(self, &n.note, forget_waiters);
	CT__DEBUG_HOOK(waits_on(cond, CT__OBJ_CONDITION));
	int rc = ct__park(cond, &wait_ops, &w, deadline, CT__PARK_INTERRUPTIBLE, &token);
	ct__note_pop(self, &n.note);
	/* A hand-off from the lock's fair release means we hold it already. */
	take_back(cond, token == CT__TOKEN_HANDOFF, site);
	ct_rlock_t *r = rlock_of(cond);
	if (r)
		ct__rlock_restore(r, w.depth);
	return w.requeued ? 0 : rc;
}

int ct_condition_wait(ct_condition_t *cond, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(cond, timeout, &deadline);
	if (rc < 0)
		return rc;
	if (!owned(cond))
		return CT_EWAITUNOWNED;
	return wait_until(cond, deadline, CT__CALLER());
}

int ct_condition_wait_for(ct_condition_t *cond, bool (*predicate)(void *arg), void *arg,
			  double timeout)
{
	if (CT__UNLIKELY(!cond || !predicate))
		return CT_EINVAL;
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	if (rc < 0)
		return rc;
	if (!owned(cond))
		return CT_EWAITUNOWNED;
	/* As Python's wait_for: the first wait happens whatever the timeout;
	 * later ones only while time is left. */
	bool result = predicate(arg);
	for (bool first = true; !result; first = false) {
		if (!first && ct__expired(deadline))
			break;
		rc = wait_until(cond, deadline, CT__CALLER());
		if (rc == CT_ESTOPPED)
			return rc;
		result = predicate(arg);
	}
	return result ? 1 : 0;
}

struct notify {
	ct_condition_t *cond;
	unsigned n;
	bool held; /* the lock was held when the plan was made */
};

static struct ct__requeue_plan plan_notify(void *ctx)
{
	struct notify *nt = ctx;
	nt->held = ct__lock_mark_parked_if_locked(inner_lock(nt->cond));
	/* GCOVR_EXCL_BR_START: a plain Lock released by its holder while another thread notifies
	 * (its ownership is only 'locked'): a race */
	if (nt->held)
		return (struct ct__requeue_plan){0, nt->n};
	/* GCOVR_EXCL_BR_STOP */
	return (struct ct__requeue_plan){1, nt->n - 1};
}

static uintptr_t notified(void *ctx, struct ct__unpark_result r)
{
	struct notify *nt = ctx;
	/* Relaxed: under the bucket lock; see "Memory orders" above. */
	atomic_fetch_sub_explicit(&nt->cond->ct__waiters, r.unparked + r.requeued,
				  memory_order_relaxed);
	/* The lock was free: the woken thread will take it, and its release
	 * must wake the ones now queued there, so the lock must say they are.
	 * (Under the lock's bucket lock, like every change of that bit.) */
	/* GCOVR_EXCL_BR_START: true only after the race above */
	if (!nt->held && r.requeued)
		atomic_fetch_or_explicit(&inner_lock(nt->cond)->ct__state, CT__LOCK_PARKED,
					 memory_order_relaxed);
	/* GCOVR_EXCL_BR_STOP */
	return CT__TOKEN_NORMAL;
}

int ct_condition_notify(ct_condition_t *cond, unsigned n)
{
	if (CT__UNLIKELY(!cond))
		return CT_EINVAL;
	if (!owned(cond))
		return CT_ENOTIFYUNOWNED;
	/* Relaxed: the caller holds the lock, which orders it against the waiters' increments
	 * (see "Memory orders" above). */
	if (n == 0 || atomic_load_explicit(&cond->ct__waiters, memory_order_relaxed) == 0)
		return 0;
	struct notify nt = {cond, n, false};
	struct ct__unpark_result r =
		ct__unpark_requeue(cond, inner_lock(cond), plan_notify, notified, &nt);
	unsigned total = r.unparked + r.requeued;
	/* GCOVR_EXCL_BR_START: 2^31 waiters cannot exist at once */
	return total > (unsigned)INT32_MAX ? INT32_MAX : (int)total;
	/* GCOVR_EXCL_BR_STOP */
}

int ct_condition_notify_all(ct_condition_t *cond)
{
	if (CT__UNLIKELY(!cond))
		return CT_EINVAL;
	return ct_condition_notify(cond, ~0u);
}
