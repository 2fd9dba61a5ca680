/* Reader-writer lock: a Lock that writers queue on, and a word.
 *
 * The word is readers << 2 | PARKED | WRITER:
 *
 *   readers  PARKED WRITER  meaning
 *   -------  ------ ------  -----------------------------------------------
 *   n        no     no      n readers inside (0: free); readers enter by CAS
 *   n > 0    -      yes     a writer (holding the writers' Lock) waits for
 *                           the n readers inside to leave; new readers wait
 *   0        -      yes     a writer holds the lock
 *            yes            readers are parked (or about to) until WRITER
 *                           clears; PARKED is only ever set with WRITER
 *
 * Readers park on &state, while WRITER and PARKED are both still set (under
 * the bucket lock). The writer waiting for readers to leave parks on
 * &state + 1 while readers remain; only one writer can be there (it holds
 * the writers' Lock), and the last reader out wakes it.
 *
 * The write release clears WRITER and, when readers are parked, admits
 * them all in the same step under their bucket lock: their shares are
 * added to the word and each gets TOKEN_HANDOFF. Only then does it release
 * the writers' Lock, so the next writer queues behind those readers:
 * writers and batches of readers alternate, and neither starves.
 *
 * fork(). A read share or the write lock held by a thread gone with a fork
 * stays held in the child, as a Lock does. But a writer that was waiting
 * for the readers inside (maybe for the forking thread's own share), or
 * was between taking the writers' Lock and setting WRITER, or between
 * clearing WRITER and letting the Lock go, holds nothing yet (or any more)
 * and must not block the child: every write call carries a note (fork.h),
 * whose forget() in the child clears what such a writer left.
 */
#include "cthreading/rwlock.h"

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/fork.h"
#include "park/park.h"
#include "sync/lock_internal.h"
#include "sync/parked_bit.h"

static const void *readers_key(ct_rwlock_t *rw)
{
	return &rw->ct__state;
}

static const void *drain_key(ct_rwlock_t *rw)
{
	return (const char *)&rw->ct__state + 1;
}

static uint32_t state(ct_rwlock_t *rw)
{
	/* Relaxed: read under the bucket lock (park validation), as a CAS's
	 * first guess, or in a one-thread fork child; what the lock protects
	 * is ordered by the acquire and release CASes on the same word. */
	return atomic_load_explicit(&rw->ct__state, memory_order_relaxed);
}

/* ---- readers ------------------------------------------------------------ */

static int read_until(ct_rwlock_t *rw, int64_t deadline, unsigned flags)
{
	for (;;) {
		uint32_t s = state(rw);
		if (!(s & CT__RW_WRITER)) {
			/* Acquire: pairs with the release of the last writer, whose writes this
			 * reader then sees. */
			if (atomic_compare_exchange_weak_explicit(
				    &rw->ct__state, &s, s + CT__RW_READER, memory_order_acquire,
				    memory_order_relaxed))
				return 0;
			continue;
		}
		if (ct__expired(deadline))
			return CT_ETIMEDOUT;
		/* Relaxed: PARKED is a hint, re-validated under the bucket lock. */
		if (!(s & CT__RW_PARKED) && !atomic_compare_exchange_weak_explicit(
						    &rw->ct__state, &s, s | CT__RW_PARKED,
						    memory_order_relaxed, memory_order_relaxed))
			continue;
		/* Parked while a writer is in and PARKED still set. */
		uint32_t both = CT__RW_WRITER | CT__RW_PARKED;
		struct ct__parked_wait w = {&rw->ct__state, both, both, CT__RW_PARKED};
		uintptr_t token;
		CT__DEBUG_HOOK(waits_on(rw, CT__OBJ_RWLOCK));
		int rc = ct__park_parked(readers_key(rw), &w, deadline, flags, &token);
		/* Only a writer leaving unparks the readers, and it admits them
		 * as it does so (admit_readers(): TOKEN_HANDOFF): an unparked
		 * reader holds its share. */
		if (rc == CT__PARK_UNPARKED)
			return 0;
		if (rc < 0)
			/* GCOVR_EXCL_BR_START: the object becoming ready in the instant the wait
			 * times out: a race no test can aim at */
			return ct_rwlock_read_try_acquire(rw) ? 0 : rc;
		/* GCOVR_EXCL_BR_STOP */
	}
}

void ct__rwlock_read_acquire_slow(ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(!rw))
		return;
	(void)read_until(rw, CT__NO_DEADLINE, 0);
}

int ct_rwlock_read_acquire_timeout(ct_rwlock_t *rw, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(rw, timeout, &deadline);
	if (rc < 0)
		return rc;
	return read_until(rw, deadline, CT__PARK_INTERRUPTIBLE);
}

int ct__rwlock_read_release_slow(ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(!rw))
		return CT_EINVAL;
	uint32_t s = state(rw);
	do {
		if (s < CT__RW_READER)
			return CT_EUNLOCKED;
		/* Release: this reader's reads happen before the next writer's writes (whose
		 * acquire pairs with it). */
		/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not something
		 * a test can force */
	} while (!atomic_compare_exchange_weak_explicit(
		&rw->ct__state, &s, s - CT__RW_READER, memory_order_release, memory_order_relaxed));
	/* GCOVR_EXCL_BR_STOP */
	/* The last reader out, with a writer waiting for exactly that. */
	/* GCOVR_EXCL_BR_START: the inline release takes every release that leaves other readers;
	 * here is the last reader, and a writer gone meanwhile is a race */
	if (s - CT__RW_READER < CT__RW_READER && (s & CT__RW_WRITER))
		ct__unpark_one(drain_key(rw), NULL, NULL);
	/* GCOVR_EXCL_BR_STOP */
	return 0;
}

/* ---- writers ------------------------------------------------------------ */

struct writer_note {
	struct ct__fork_note note;
	ct_rwlock_t *rw;
};

/* In a fork child, for a thread that was in a write call. WRITER with no
 * reader inside is a writer holding the lock (maybe the forking thread):
 * it stays held. WRITER with readers inside is a writer waiting for them,
 * never the forking thread; and the writers' Lock held without WRITER is a
 * writer half-way in or out: let both go. Readers parked are gone too. */
static void forget_writer(struct ct__fork_note *note)
{
	ct_rwlock_t *rw = ((struct writer_note *)note)->rw;
	uint32_t s = state(rw);
	if ((s & CT__RW_WRITER) && s < CT__RW_READER)
		return;
	/* Relaxed: in the one-thread fork child. */
	atomic_store_explicit(&rw->ct__state, s & ~(CT__RW_WRITER | CT__RW_PARKED),
			      memory_order_relaxed);
	ct_lock_init(&rw->ct__writers);
}

static void writer_in(struct writer_note *n, ct_rwlock_t *rw)
{
	n->rw = rw;
	ct__note_push(ct__waiter_self(), &n->note, forget_writer);
}

static void writer_out(struct writer_note *n)
{
	ct__note_pop(ct__tls_waiter, &n->note);
}

static struct ct__requeue_plan wake_all_readers(void *ctx)
{
	(void)ctx;
	return (struct ct__requeue_plan){.wake = ~0u, .requeue = 0};
}

/* Under the readers' bucket lock, with every parked reader dequeued: give
 * them their shares and clear WRITER in one step. */
static uintptr_t admit_readers(void *ctx, struct ct__unpark_result r)
{
	ct_rwlock_t *rw = ctx;
	uint32_t s = state(rw);
	uint32_t next;
	do {
		next = (s & ~(CT__RW_WRITER | CT__RW_PARKED)) + r.unparked * CT__RW_READER;
		/* Release: the admitted readers see this writer's writes; they are woken
		 * through the parker, whose unpark is a release too. */
		/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not something
		 * a test can force */
	} while (!atomic_compare_exchange_weak_explicit(
		&rw->ct__state, &s, next, memory_order_release, memory_order_relaxed));
	/* GCOVR_EXCL_BR_STOP */
	return CT__TOKEN_HANDOFF;
}

/* Clears WRITER (the writer leaves, whether it got the lock or gave up
 * waiting for readers) and admits the parked readers. */
static void open_to_readers(ct_rwlock_t *rw)
{
	uint32_t s = state(rw);
	while (!(s & CT__RW_PARKED)) {
		/* Release: pairs with the acquire of the readers that join next, so they see
		 * this writer's writes. */
		if (atomic_compare_exchange_weak_explicit(&rw->ct__state, &s, s & ~CT__RW_WRITER,
							  memory_order_release,
							  memory_order_relaxed))
			return;
	}
	/* PARKED is set, so it stays set until this takes the bucket lock:
	 * only a waker or a reader leaving clears it, both under that lock. */
	ct__unpark_requeue(readers_key(rw), readers_key(rw), wake_all_readers, admit_readers, rw);
}

static bool readers_inside(void *ctx)
{
	uint32_t s = state(ctx);
	/* GCOVR_EXCL_BR_START: the waiting writer leaving between the reader's check and its
	 * parking: a race */
	return s >= CT__RW_READER && (s & CT__RW_WRITER);
	/* GCOVR_EXCL_BR_STOP */
}

static const struct ct__park_ops drain_park_ops = {.validate = readers_inside};

/* With the writers' Lock held: announce the writer, wait for the readers
 * inside to leave. */
static int drain_until(ct_rwlock_t *rw, int64_t deadline, unsigned flags)
{
	/* Relaxed: RMWs on one word are totally ordered, so each reader's
	 * joining CAS either comes first (and is counted below) or sees
	 * WRITER and stays out; the previous writer's data came with the
	 * writers' Lock. The acquire loads pair with the readers' release on
	 * leaving: their reads happen before this writer's writes. */
	atomic_fetch_or_explicit(&rw->ct__state, CT__RW_WRITER, memory_order_relaxed);
	for (;;) {
		/* Acquire: pairs with the leaving readers' release (see above). */
		if (atomic_load_explicit(&rw->ct__state, memory_order_acquire) < CT__RW_READER)
			return 0;
		uintptr_t token;
		CT__DEBUG_HOOK(waits_on(rw, CT__OBJ_RWLOCK_READERS));
		int rc = ct__expired(deadline) ? CT_ETIMEDOUT
					       : ct__park(drain_key(rw), &drain_park_ops, rw,
							  deadline, flags, &token);
		if (rc < 0) {
			/* Acquire: as above. */
			/* GCOVR_EXCL_BR_START: the object becoming ready in the instant the wait
			 * times out: a race no test can aim at */
			if (atomic_load_explicit(&rw->ct__state, memory_order_acquire) <
			    CT__RW_READER)
				return 0;
			/* GCOVR_EXCL_BR_STOP */
			open_to_readers(rw);
			ct_lock_release(&rw->ct__writers);
			return rc;
		}
	}
}

void ct_rwlock_write_acquire(ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(!rw))
		return;
	struct writer_note n;
	writer_in(&n, rw);
	(void)ct__lock_acquire_as(&rw->ct__writers, rw, CT__OBJ_RWLOCK, CT__NO_DEADLINE, 0,
				  CT__CALLER());
	(void)drain_until(rw, CT__NO_DEADLINE, 0);
	writer_out(&n);
}

static int write_until(ct_rwlock_t *rw, int64_t deadline, void *site)
{
	int rc = ct__lock_acquire_as(&rw->ct__writers, rw, CT__OBJ_RWLOCK, deadline,
				     CT__PARK_INTERRUPTIBLE, site);
	if (rc < 0)
		return rc;
	return drain_until(rw, deadline, CT__PARK_INTERRUPTIBLE);
}

int ct_rwlock_write_acquire_timeout(ct_rwlock_t *rw, double timeout)
{
	int64_t deadline;
	int rc = ct__object_deadline(rw, timeout, &deadline);
	if (rc < 0)
		return rc;
	struct writer_note n;
	writer_in(&n, rw);
	rc = write_until(rw, deadline, CT__CALLER());
	writer_out(&n);
	return rc;
}

/* @p site: the program's call, for the debugging hooks. */
static bool try_write(ct_rwlock_t *rw, void *site)
{
	if (CT__UNLIKELY(!rw))
		return false;
	/* Debugging: the hooks see the RWLock's write side, not its Lock; off,
	 * as the check found, nothing for them to see. */
	bool first =
		CT__DEBUG_ON(CT__DEBUG_LOCKS)
			? ct__lock_acquire_as(&rw->ct__writers, rw, CT__OBJ_RWLOCK, 0, 0, site) == 0
			: ct__lock_try_acquire_quiet(&rw->ct__writers);
	if (!first)
		return false;
	uint32_t s = state(rw);
	while (s < CT__RW_READER) {
		/* Acquire: pairs with the releases of the readers that left, so their reads come
		 * before this writer's writes. */
		/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not something
		 * a test can force */
		if (atomic_compare_exchange_weak_explicit(&rw->ct__state, &s, s | CT__RW_WRITER,
							  memory_order_acquire,
							  memory_order_relaxed))
			return true;
		/* GCOVR_EXCL_BR_STOP */
	}
	ct_lock_release(&rw->ct__writers);
	return false;
}

bool ct_rwlock_write_try_acquire(ct_rwlock_t *rw)
{
	struct writer_note n;
	writer_in(&n, rw);
	bool ok = try_write(rw, CT__CALLER());
	writer_out(&n);
	return ok;
}

int ct_rwlock_write_release(ct_rwlock_t *rw)
{
	if (CT__UNLIKELY(!rw))
		return CT_EINVAL;
	uint32_t s = state(rw);
	/* WRITER with readers inside is a writer still waiting for them,
	 * not one holding the lock. */
	if (!(s & CT__RW_WRITER) || s >= CT__RW_READER)
		return CT_EUNLOCKED;
	struct writer_note n;
	writer_in(&n, rw);
	open_to_readers(rw);
	ct_lock_release(&rw->ct__writers);
	writer_out(&n);
	return 0;
}
