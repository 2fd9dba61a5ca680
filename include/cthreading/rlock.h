/** @file
 * cthreading: RLock (Python's threading.RLock).
 */
#ifndef CTHREADING_RLOCK_H
#define CTHREADING_RLOCK_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"
#include "lock.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup rlock RLock
 *
 * Python's `threading.RLock`: a lock its owner may acquire again; it is
 * free once released as many times as acquired. Only the owner releases.
 * @{
 */

/** A reentrant lock: a Lock, its owner and the depth. Treat the members as
 *  private. */
typedef struct ct_rlock {
	ct_lock_t ct__lock;		 /**< private */
	uint32_t ct__depth;		 /**< private: written by the owner only */
	CT__ATOMIC(uintptr_t) ct__owner; /**< private: the owner's record, 0 if free */
} ct_rlock_t;

/** Static initializer: `static ct_rlock_t lock = CT_RLOCK_INIT;`. */
#define CT_RLOCK_INIT              \
	{                          \
		CT_LOCK_INIT, 0, 0 \
	}

/** Initialises an RLock (free). Cannot fail. */
CT_API void ct_rlock_init(ct_rlock_t *rlock);

/** Releases an RLock's resources (it has none; for symmetry). */
CT_API void ct_rlock_destroy(ct_rlock_t *rlock);

/** `RLock.acquire()`: blocks until the caller owns it (at once, one level
 *  deeper, if it already does). Not interruptible. Releases the caller's GIL
 *  while it sleeps. */
CT_API void ct_rlock_acquire(ct_rlock_t *rlock);

/** `RLock.acquire(blocking=False)`: true if the caller now owns it. */
CT_API bool ct_rlock_try_acquire(ct_rlock_t *rlock);

/** `RLock.acquire(timeout=...)`: 0 once owned, CT_ETIMEDOUT at the timeout
 *  (0: try once; CT_FOREVER: no limit). Errors: CT_EINVAL (NaN), CT_ETOOLARGE.
 *  Interruptible: CT_ESTOPPED. Releases the caller's GIL while it sleeps. */
CT_API int ct_rlock_acquire_timeout(ct_rlock_t *rlock, double timeout);

/** `RLock.release()`: one level; the lock is free when the depth reaches 0.
 *  Errors: CT_ENOTOWNER ("cannot release un-acquired lock"). */
CT_API int ct_rlock_release(ct_rlock_t *rlock) CT__NOEXCEPT;

/** True if the calling thread owns the RLock (Python's `RLock._is_owned()`). */
CT_API bool ct_rlock_is_owned(const ct_rlock_t *rlock);

/** True if any thread owns the RLock (`RLock.locked()`); false for NULL. */
static inline bool ct_rlock_locked(const ct_rlock_t *rlock)
{
	if (CT__UNLIKELY(rlock == NULL))
		return false;
	return CT__ATOMIC_LOAD(&rlock->ct__owner, relaxed) != 0; /* a snapshot */
}

/** @cond internal */
static inline void ct__rlock_guard_release(ct_rlock_t **guard)
{
	if (*guard)
		(void)ct_rlock_release(*guard);
}
/** @endcond */

/** `with rlock:` — runs the block owning @p rlock; leaving it releases one
 *  level. Which ways out release it, and break and continue (which leave
 *  the block, not a loop around it): as CT_WITH_LOCK. */
#define CT_WITH_RLOCK(rlock) \
	CT__WITH(ct_rlock_t *, ct__rlock_guard_release, (ct_rlock_acquire(rlock), (rlock)))

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_RLOCK_H */
