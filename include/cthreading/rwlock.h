/** @file
 * cthreading: reader-writer lock (beyond Python).
 */
#ifndef CTHREADING_RWLOCK_H
#define CTHREADING_RWLOCK_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"
#include "lock.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup rwlock Reader-writer lock
 *
 * Many readers or one writer. Python has none; this is the lock that a
 * read-mostly table wants.
 *
 * Fair in both directions. A writer that arrives stops new readers from
 * entering and waits only for the readers already inside, so writers are
 * not starved by a stream of readers; and a writer's release admits every
 * reader that was waiting, all at once, before the next writer, so readers
 * are not starved by a stream of writers either. Writers queue on a Lock
 * among themselves.
 *
 * Readers take a share with one compare-and-swap when no writer is inside
 * or waiting; the read lock is not recursive in a useful way: a thread that
 * holds it and asks again while a writer waits deadlocks (as with POSIX's
 * writer-preferring locks). Any thread may release.
 *
 * @code
 * static ct_rwlock_t table_lock = CT_RWLOCK_INIT;
 * CT_WITH_READ_LOCK(&table_lock) { lookup(); }
 * CT_WITH_WRITE_LOCK(&table_lock) { insert(); }
 * @endcode
 * @{
 */

/** A reader-writer lock. Treat the members as private; 8 bytes. */
typedef struct ct_rwlock {
	ct_lock_t ct__writers;		/**< private: the writers' queue */
	CT__ATOMIC(uint32_t) ct__state; /**< private: readers << 2 | PARKED | WRITER */
} ct_rwlock_t;

/** @cond internal */
#define CT__RW_WRITER 1u
#define CT__RW_PARKED 2u
#define CT__RW_READER 4u
/** @endcond */

/** Static initializer (unlocked). */
#define CT_RWLOCK_INIT          \
	{                       \
		CT_LOCK_INIT, 0 \
	}

/** Initialises a reader-writer lock (unlocked). Cannot fail; NULL does
 *  nothing. */
static inline void ct_rwlock_init(ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(rw == NULL))
		return;
	ct_lock_init(&rw->ct__writers);
	CT__ATOMIC_INIT(&rw->ct__state, 0);
}

/** Releases its resources (it has none; for symmetry). NULL does nothing. */
static inline void ct_rwlock_destroy(ct_rwlock_t *rw)
{
	CT__DEBUG_DESTROYED(rw);
}

/** Takes a read share if no writer holds the lock or waits for it; true if
 *  it did. Never blocks. (At most 2^30 - 1 shares are held at once.) False
 *  for NULL. */
static inline bool ct_rwlock_read_try_acquire(ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(rw == NULL))
		return false;
	/* Relaxed guess; joining the readers acquires, pairing with the
	 * release of the last writer, whose writes the reader then sees. */
	uint32_t s = CT__ATOMIC_LOAD(&rw->ct__state, relaxed);
	while (!(s & CT__RW_WRITER)) {
		if (CT__ATOMIC_CAS_WEAK(
			    &rw->ct__state, &s, s + CT__RW_READER, acquire,
			    relaxed)) /* acquire: see above; a failure only refreshes s */
			return true;
	}
	return false;
}

/** Out-of-line path of ct_rwlock_read_acquire(): internal, exported only because the
 *  inline fast path calls it (part of the ABI, see docs/architecture.md). */
CT_API void ct__rwlock_read_acquire_slow(ct_rwlock_t *rw);

/** Takes a read share, waiting while a writer holds the lock or waits for
 *  it. Not interruptible (use ct_rwlock_read_acquire_timeout() for a wait
 *  that can be stopped). Releases the caller's GIL while it sleeps. NULL
 *  does nothing (ct_rwlock_read_acquire_timeout() reports it: CT_EINVAL). */
static inline void ct_rwlock_read_acquire(ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(rw == NULL))
		return;
	if (CT__UNLIKELY(!ct_rwlock_read_try_acquire(rw)))
		ct__rwlock_read_acquire_slow(rw);
}

/** Takes a read share within @p timeout: 0, or CT_ETIMEDOUT (CT_FOREVER: no
 *  limit; 0: try once). Errors: CT_EINVAL (NaN), CT_ETOOLARGE.
 *  Interruptible: CT_ESTOPPED. Releases the caller's GIL while it sleeps. */
CT_API int ct_rwlock_read_acquire_timeout(ct_rwlock_t *rw, double timeout);

/** Out-of-line path of ct_rwlock_read_release(): internal, exported only because the
 *  inline fast path calls it (part of the ABI, see docs/architecture.md). */
CT_API int ct__rwlock_read_release_slow(ct_rwlock_t *rw) CT__NOEXCEPT;

/** Gives back a read share. The last reader out lets a waiting writer in.
 *  Errors: CT_EUNLOCKED ("release unlocked lock": no read share is held),
 *  CT_EINVAL (NULL). */
static inline int ct_rwlock_read_release(ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(rw == NULL))
		return CT_EINVAL;
	/* Relaxed: the CAS's guess; the CAS below releases. */
	uint32_t s = CT__ATOMIC_LOAD(&rw->ct__state, relaxed);
	/* Fast: another reader stays, or nobody at all waits. */
	/* Release: the reader's reads happen before the next writer's writes
	 * (whose acquire pairs with it), so it never reads a later write. */
	while (s >= 2 * CT__RW_READER || s == CT__RW_READER) {
		if (CT__ATOMIC_CAS_WEAK(
			    &rw->ct__state, &s, s - CT__RW_READER, release,
			    relaxed)) /* release: see above; a failure only refreshes s */
			return 0;
	}
	return ct__rwlock_read_release_slow(rw);
}

/** Takes the lock for writing: waits for the writers before it, then for
 *  the readers inside. Not interruptible. Releases the caller's GIL while
 *  it sleeps. */
CT_API void ct_rwlock_write_acquire(ct_rwlock_t *rw);

/** Takes the lock for writing if nobody holds it and no writer waits; true
 *  if it did. Never blocks. */
CT_API bool ct_rwlock_write_try_acquire(ct_rwlock_t *rw);

/** Takes the lock for writing within @p timeout: 0, or CT_ETIMEDOUT.
 *  Errors: CT_EINVAL (NaN), CT_ETOOLARGE. Interruptible: CT_ESTOPPED.
 *  Releases the caller's GIL while it sleeps. */
CT_API int ct_rwlock_write_acquire_timeout(ct_rwlock_t *rw, double timeout);

/** Releases the write lock, admitting every waiting reader first.
 *  Errors: CT_EUNLOCKED ("release unlocked lock": not write-locked). */
CT_API int ct_rwlock_write_release(ct_rwlock_t *rw) CT__NOEXCEPT;

/** True while a writer holds the lock or waits for the readers inside;
 *  false for NULL. */
static inline bool ct_rwlock_write_locked(const ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(rw == NULL))
		return false;
	return CT__ATOMIC_LOAD(&rw->ct__state, relaxed) & CT__RW_WRITER; /* a snapshot */
}

/** The number of read shares held: a snapshot; 0 for NULL. */
static inline unsigned ct_rwlock_readers(const ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(rw == NULL))
		return 0;
	return CT__ATOMIC_LOAD(&rw->ct__state, relaxed) / CT__RW_READER; /* a snapshot */
}

/** @cond internal */
static inline void ct__rwlock_guard_read_release(ct_rwlock_t **guard)
{
	if (*guard)
		(void)ct_rwlock_read_release(*guard);
}
static inline void ct__rwlock_guard_write_release(ct_rwlock_t **guard)
{
	if (*guard)
		(void)ct_rwlock_write_release(*guard);
}
/** @endcond */

/** Runs the block holding a read share of @p rw (taken as
 *  ct_rwlock_read_acquire()); released as CT_WITH_LOCK() releases. As
 *  there, break and continue leave the block, not a loop around it. */
#define CT_WITH_READ_LOCK(rw) \
	CT__WITH(ct_rwlock_t *, ct__rwlock_guard_read_release, (ct_rwlock_read_acquire(rw), (rw)))

/** Runs the block holding @p rw for writing (taken as
 *  ct_rwlock_write_acquire()); released as CT_WITH_LOCK() releases. As
 *  there, break and continue leave the block, not a loop around it. */
#define CT_WITH_WRITE_LOCK(rw) \
	CT__WITH(ct_rwlock_t *, ct__rwlock_guard_write_release, (ct_rwlock_write_acquire(rw), (rw)))

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_RWLOCK_H */
