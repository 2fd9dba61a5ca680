/* RLock: a Lock plus its owner and depth, as CPython's RLock.
 *
 * The owner is the address of the owning thread's waiter record (the
 * parking core's, park/waiter.h), unique among live threads. Only the owner writes the depth;
 * anyone may read the owner (relaxed): a thread can only ever find its own address there if it put
 * it there itself, so the comparison needs no ordering.
 */
#include "cthreading/rlock.h"

#include "core/debug_hooks.h"
#include "park/park.h"
#include "park/waiter.h"
#include "sync/lock_internal.h"
#include "sync/rlock_internal.h"

static uintptr_t me(void)
{
	return (uintptr_t)ct__waiter_self();
}

static bool owned_by(const ct_rlock_t *rlock, uintptr_t self)
{
	/* Relaxed: only the owner stores its own id here, and a thread only
	 * asks whether the owner is itself: it reads its own store, or a value
	 * that cannot equal its id. The inner lock orders the data. */
	return atomic_load_explicit(&rlock->ct__owner, memory_order_relaxed) == self;
}

/* The depth: written by the owner only, read by the owner and by a thread
 * dump (debug/dump.c), which shows it as a snapshot. Relaxed atomics (the
 * public struct keeps a plain field; these compile to plain moves), so
 * that the dump's read is no data race. */
static uint32_t depth_of(const ct_rlock_t *rlock)
{
	/* Relaxed: the owner reads its own stores. */
	return __atomic_load_n(&rlock->ct__depth, __ATOMIC_RELAXED);
}

static void set_depth(ct_rlock_t *rlock, uint32_t depth)
{
	/* Relaxed: a snapshot for the dump; the inner lock orders the data. */
	__atomic_store_n(&rlock->ct__depth, depth, __ATOMIC_RELAXED);
}

static void take(ct_rlock_t *rlock, uintptr_t self, uint32_t depth)
{
	/* Relaxed: read only to compare with the reader's own id (see top); the inner lock
	 * orders the data. */
	atomic_store_explicit(&rlock->ct__owner, self, memory_order_relaxed);
	set_depth(rlock, depth);
}

void ct_rlock_init(ct_rlock_t *rlock)
{
	if (CT__UNLIKELY(!rlock))
		return;
	ct_lock_init(&rlock->ct__lock);
	set_depth(rlock, 0);
	atomic_init(&rlock->ct__owner, 0);
}

void ct_rlock_destroy(ct_rlock_t *rlock)
{
	if (CT__UNLIKELY(!rlock))
		return;
	CT__DEBUG_DESTROYED(rlock);
}

void ct_rlock_acquire(ct_rlock_t *rlock)
{
	if (CT__UNLIKELY(!rlock))
		return;
	uintptr_t self = me();
	if (owned_by(rlock, self)) {
		set_depth(rlock, depth_of(rlock) + 1);
		return;
	}
	if (CT__DEBUG_ON(CT__DEBUG_LOCKS)) /* debugging: the hooks see the RLock */
		(void)ct__lock_acquire_as(&rlock->ct__lock, rlock, CT__OBJ_RLOCK, CT__NO_DEADLINE,
					  0, CT__CALLER());
	else /* debugging off, as the check above found: nothing for the hooks to see */
		ct__lock_acquire_quiet(&rlock->ct__lock);
	take(rlock, self, 1);
}

bool ct_rlock_try_acquire(ct_rlock_t *rlock)
{
	if (CT__UNLIKELY(!rlock))
		return false;
	uintptr_t self = me();
	if (owned_by(rlock, self)) {
		set_depth(rlock, depth_of(rlock) + 1);
		return true;
	}
	if (ct__lock_acquire_as(&rlock->ct__lock, rlock, CT__OBJ_RLOCK, 0, 0, CT__CALLER()) < 0)
		return false;
	take(rlock, self, 1);
	return true;
}

int ct_rlock_acquire_timeout(ct_rlock_t *rlock, double timeout)
{
	if (CT__UNLIKELY(!rlock))
		return CT_EINVAL;
	uintptr_t self = me();
	if (owned_by(rlock, self)) {
		int64_t deadline;
		int rc = ct__deadline(timeout, &deadline); /* still validate it */
		if (rc < 0)
			return rc;
		set_depth(rlock, depth_of(rlock) + 1);
		return 0;
	}
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	if (rc == 0)
		rc = ct__lock_acquire_as(&rlock->ct__lock, rlock, CT__OBJ_RLOCK, deadline,
					 CT__PARK_INTERRUPTIBLE, CT__CALLER());
	if (rc == 0)
		take(rlock, self, 1);
	return rc;
}

int ct_rlock_release(ct_rlock_t *rlock)
{
	if (CT__UNLIKELY(!rlock))
		return CT_EINVAL;
	if (!owned_by(rlock, me()))
		return CT_ENOTOWNER;
	uint32_t depth = depth_of(rlock) - 1;
	set_depth(rlock, depth);
	if (depth == 0) {
		/* Relaxed: as in take(). */
		atomic_store_explicit(&rlock->ct__owner, 0, memory_order_relaxed);
		ct_lock_release(&rlock->ct__lock);
	}
	return 0;
}

bool ct_rlock_is_owned(const ct_rlock_t *rlock)
{
	if (CT__UNLIKELY(!rlock))
		return false;
	return owned_by(rlock, me());
}

uint32_t ct__rlock_release_save(ct_rlock_t *rlock)
{
	uint32_t depth = depth_of(rlock);
	set_depth(rlock, 0);
	/* Relaxed: as in take(). */
	atomic_store_explicit(&rlock->ct__owner, 0, memory_order_relaxed);
	ct_lock_release(&rlock->ct__lock);
	return depth;
}

void ct__rlock_restore(ct_rlock_t *rlock, uint32_t depth)
{
	take(rlock, me(), depth);
}
