/** @file
 * cthreading: a global interpreter lock (CPython's GIL, as a library).
 */
#ifndef CTHREADING_GIL_H
#define CTHREADING_GIL_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup gil GIL
 *
 * The lock CPython's threads run under, for any C program: an interpreter
 * keeps its state consistent by letting one thread at a time run "inside"
 * it, while threads blocked in I/O let the others in.
 *
 * - **Holding and switching.** A thread holds the GIL while it runs. It
 *   calls ct_gil_checkpoint() often (an interpreter: once per bytecode or
 *   per loop turn); the call costs one load of a thread-local word and a
 *   branch. When another thread has waited one switch interval (default
 *   5 ms, as CPython) the checkpoint hands the GIL over, and the thread that
 *   gave it up queues behind the others (forced switching: it cannot take
 *   it straight back).
 * - **Blocking calls release it.** Every blocking call of cthreading
 *   (sleep, join, lock, condition, event, semaphore, barrier, queue,
 *   future and executor waits) releases the calling thread's GIL while it
 *   is blocked and takes it back after, as CPython's
 *   `Py_BEGIN_ALLOW_THREADS` does; CT_GIL_ALLOW_THREADS does the same
 *   around the caller's own blocking calls.
 * - **No convoy effect.** A thread coming back from a blocking call does
 *   not wait a switch interval behind a CPU-bound thread, as it does in
 *   CPython: it asks for the GIL at once, and gets it at the holder's next
 *   checkpoint, provided the holder has had it for at least 100 µs (so a
 *   thread that blocks briefly and often cannot starve CPU-bound ones).
 *   The policy and its numbers are explained atop src/gil/gil.c.
 * - **Threads under a GIL.** A thread started with `.gil` in its options
 *   takes the GIL before it runs and releases it when it ends. Threads
 *   cthreading did not start use ct_gil_state_ensure() and
 *   ct_gil_state_release() (`PyGILState_Ensure` / `PyGILState_Release`).
 * - A thread holds at most one GIL at a time. When `main` returns, the
 *   exit rule's wait for non-daemon threads releases the GIL while it
 *   waits. After fork() every GIL is free in the child, except the one the
 *   forking thread held, which it still holds.
 *
 * @code
 * static int worker(void *arg)            // started with .gil = ct_gil_default()
 * {
 *         for (long i = 0; i < 100000; i++) {
 *                 num += 1;               // safe: only the GIL holder runs
 *                 ct_gil_checkpoint(ct_gil_default());
 *         }
 *         return 0;
 * }
 * @endcode
 * @{
 */

/** @cond internal */
struct ct__thread;
struct ct__gil_waiter;
/* Indices of ct_gil::ct__stats. */
enum {
	CT__GIL_ACQUISITIONS,
	CT__GIL_SWITCHES,
	CT__GIL_FORCED_DROPS,
	CT__GIL_DROP_REQUESTS,
	CT__GIL_PRIORITY_REQUESTS,
	CT__GIL_YIELDS,
	CT__GIL_TOTAL_WAIT_NS,
	CT__GIL_LONGEST_WAIT_NS,
	CT__GIL_NSTATS
};
/** @endcond */

/** A GIL. Caller-allocated; treat the members as private (see src/gil/gil.c). */
typedef struct ct_gil {
	/** @cond internal */
	CT__ATOMIC(uint32_t) ct__state;		    /* REGISTERED | LOCKED | WAITERS */
	uint32_t ct__drop;			    /* a drop was asked of this holder */
	CT__ATOMIC(struct ct__thread *) ct__holder; /* the thread holding it, or NULL */
	struct ct__gil_waiter *ct__waiters;	    /* in hand-off order */
	struct ct_gil *ct__next;		    /* the list of GILs fork() resets */
	CT__ATOMIC(int64_t) ct__interval_ns;	    /* 0: the default */
	CT__ATOMIC(int64_t) ct__slice_start;	    /* when the holder took it */
	struct ct__thread *ct__last_holder;	    /* for counting switches */
	CT__ATOMIC(uint64_t) ct__stats[CT__GIL_NSTATS];
	/** @endcond */
} ct_gil_t;

/** Static initializer: `static ct_gil_t gil = CT_GIL_INIT;` (free, 5 ms). */
#ifdef __cplusplus
#define CT_GIL_INIT \
	{           \
	}
#else
#define CT_GIL_INIT \
	{           \
		0   \
	}
#endif

/** Initialises a GIL: free, switch interval 5 ms, statistics zero. */
CT_API void ct_gil_init(ct_gil_t *gil);

/** Releases a GIL's resources. Required before the memory of a GIL that was
 *  ever acquired is reused (the library keeps a list of GILs to reset them
 *  after fork()).
 *
 * Errors: CT_EBUSY (held or waited for), CT_EINVAL. */
CT_API int ct_gil_destroy(ct_gil_t *gil);

/** The process-wide default GIL (never destroyed). */
CT_API ct_gil_t *ct_gil_default(void);

/** Takes the GIL, waiting as long as it takes (not interruptible: a GIL is
 *  never held across a wait that a stop request could end). The wait follows
 *  CPython's rule: after one switch interval with no switch, the holder is
 *  asked to drop the GIL at its next checkpoint. To take the GIL back after
 *  a blocking call of your own, use ct_gil_restore() or
 *  CT_GIL_ALLOW_THREADS instead, which do not wait an interval.
 *
 * Errors: CT_EGILHELD (the caller holds this GIL, or another one: a thread
 * holds at most one), CT_EINVAL. */
CT_API int ct_gil_acquire(ct_gil_t *gil);

/** Releases the GIL, handing it straight to the thread that has waited
 *  longest (threads back from blocking calls first).
 *
 * Errors: CT_EGILNOTHELD ("the GIL is not held by the calling thread"),
 * CT_EINVAL. */
CT_API int ct_gil_release(ct_gil_t *gil);

/** Out-of-line part of ct_gil_checkpoint(): internal, exported only because the
 *  inline fast path calls it (part of the ABI, see docs/architecture.md). */
CT_API int ct__gil_checkpoint_slow(ct_gil_t *gil);

/** Gives the GIL up to another thread and waits to get it back, whatever
 *  the switch interval: `time.sleep(0)` under the GIL. ct_sleep(0) does the
 *  same.
 *
 * Returns 1 once the GIL came back after another thread had it, 0 at once
 * if no thread was waiting for it. Errors: CT_EGILNOTHELD, CT_EINVAL. */
CT_API int ct_gil_yield(ct_gil_t *gil);

/** @cond internal */
/* The calling thread's "eval breaker", as CPython 3.13 calls it: the address
 * of the GIL it holds, with bit 0 set when it is asked to drop it; 0 when it
 * holds none. The checkpoint's fast path compares it with the GIL. */
#if defined(__cplusplus)
/* GNU __thread, which is C's _Thread_local: C++'s thread_local would make
 * every access to this extern variable call its dynamic-initialisation
 * wrapper first. */
CT_API extern __thread uintptr_t ct__gil_tls_breaker __attribute__((tls_model("initial-exec")));
#elif defined(__GNUC__)
CT_API extern _Thread_local CT__ATOMIC(uintptr_t) ct__gil_tls_breaker
	__attribute__((tls_model("initial-exec")));
#else
CT_API extern _Thread_local CT__ATOMIC(uintptr_t) ct__gil_tls_breaker;
#endif
/** @endcond */

/** The eval loop's check: gives the GIL to a waiting thread if one has asked
 *  for it (a switch interval passed, or a thread came back from a blocking
 *  call), and takes it back after; otherwise returns at once.
 *
 * The fast path, taken whenever no drop is requested, is one relaxed load
 * of a thread-local word and one well-predicted branch (under 1 ns), plus
 * the NULL test, another such branch that the compiler drops when it
 * knows @p gil is not NULL (the address of a variable).
 *
 * Returns 0 if the caller kept the GIL, 1 if it handed it over and got it
 * back (other threads ran meanwhile: re-read shared state). Errors:
 * CT_EGILNOTHELD if the caller does not hold @p gil, whether it holds no
 * GIL or another one; CT_EINVAL for NULL. */
static inline int ct_gil_checkpoint(ct_gil_t *gil)
{
	if (CT__UNLIKELY(gil == NULL))
		return CT_EINVAL;
	/* Relaxed: the word is this thread's own; another thread only sets
	 * its drop bit, and the slow path then synchronises through the
	 * GIL's state word. Seeing the bit a little late only delays the
	 * switch to the next checkpoint. */
	if (CT__LIKELY(CT__ATOMIC_LOAD(&ct__gil_tls_breaker, relaxed) == (uintptr_t)gil))
		return 0;
	return ct__gil_checkpoint_slow(gil);
}

/** True if the calling thread holds @p gil (`PyGILState_Check`); false for
 *  NULL. */
static inline bool ct_gil_held(const ct_gil_t *gil)
{
	/* Relaxed: the address part is written by this thread, or by the
	 * thread handing the GIL over to it before it wakes it (the wake-up
	 * orders that store before this load). */
	uintptr_t b = CT__ATOMIC_LOAD(&ct__gil_tls_breaker, relaxed);
	return gil != NULL && (b & ~(uintptr_t)1) == (uintptr_t)gil;
}

/** `sys.setswitchinterval(seconds)`: how long a thread waits for the GIL
 *  before it asks the holder to drop it. Values under a microsecond count as
 *  one microsecond, as in CPython.
 *
 * Errors: CT_EINVAL (not strictly positive, NaN, NULL), CT_ETOOLARGE (more
 * than CT_TIMEOUT_MAX). */
CT_API int ct_gil_set_switch_interval(ct_gil_t *gil, double seconds);

/** `sys.getswitchinterval()`, in seconds (0.005 by default); NaN for NULL. */
CT_API double ct_gil_get_switch_interval(const ct_gil_t *gil);

/** What a GIL has done since it was initialised. Each counter is exact once
 *  the threads using the GIL are quiet; read while they run, the counters
 *  may be a few events apart from one another. */
typedef struct ct_gil_stats {
	uint64_t acquisitions;	    /**< times a thread took the GIL */
	uint64_t switches;	    /**< acquisitions by a thread other than the previous holder */
	uint64_t forced_drops;	    /**< drops at a checkpoint, asked for by a waiting thread */
	uint64_t drop_requests;	    /**< drops asked for by waiting threads */
	uint64_t priority_requests; /**< of which by threads back from a blocking call */
	uint64_t yields;	    /**< ct_gil_yield() calls that handed the GIL over */
	uint64_t total_wait_ns;	    /**< time threads spent waiting for it, in ns */
	uint64_t longest_wait_ns;   /**< the longest single wait, in ns */
} ct_gil_stats_t;

/** Copies the statistics of @p gil into @p out. Errors: CT_EINVAL. */
#if defined(__cplusplus) && defined(__GNUC__)
/* In C++ this function hides the struct of the same name, which is only
 * ever named through its typedef; g++'s -Wshadow would say so. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
CT_API int ct_gil_stats(const ct_gil_t *gil, ct_gil_stats_t *out);
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/** `PyEval_SaveThread`: releases the GIL the calling thread holds, if any,
 *  before a blocking call of the caller's own; returns it (NULL if the
 *  thread held none) for ct_gil_restore(). */
CT_API ct_gil_t *ct_gil_save(void);

/** `PyEval_RestoreThread`: takes back the GIL ct_gil_save() returned (nothing
 *  for NULL), as a thread back from a blocking call: without waiting a
 *  switch interval.
 *
 * Errors: CT_EGILHELD (the caller holds a GIL already). */
CT_API int ct_gil_restore(ct_gil_t *gil);

/** @cond internal */
static inline ct_gil_t *ct__gil_nothing_saved(void)
{
	static ct_gil_t nothing; /* a sentinel: CT__WITH needs a non-NULL guard */
	return &nothing;
}

static inline ct_gil_t *ct__gil_allow_begin(void)
{
	ct_gil_t *gil = ct_gil_save();
	return gil ? gil : ct__gil_nothing_saved();
}

static inline void ct__gil_allow_end(ct_gil_t **guard)
{
	if (*guard && *guard != ct__gil_nothing_saved())
		(void)ct_gil_restore(*guard);
}
/** @endcond */

/** `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS`: runs the block with
 *  the calling thread's GIL released (if it holds one), and takes it back
 *  when the block is left, as a thread back from a blocking call.
 *
 * @code
 * CT_GIL_ALLOW_THREADS {
 *         n = read(fd, buf, sizeof buf);   // other GIL threads run meanwhile
 * }
 * @endcode
 *
 * Leaving the block by its end, break or continue takes the GIL back; with
 * GCC and Clang, return and goto out of the block do too. longjmp() out of
 * the block does not. As with CT_WITH_LOCK, break and continue leave the
 * block, not a loop around it. The block must not touch what the GIL
 * protects. */
#define CT_GIL_ALLOW_THREADS CT__WITH(ct_gil_t *, ct__gil_allow_end, ct__gil_allow_begin())

/** ct_gil_state_ensure() result: the caller already held the GIL. */
#define CT_GIL_STATE_LOCKED 0
/** ct_gil_state_ensure() result: the caller took the GIL now. */
#define CT_GIL_STATE_UNLOCKED 1

/** `PyGILState_Ensure`: makes sure the calling thread, whether cthreading
 *  started it or not, holds @p gil. Returns CT_GIL_STATE_LOCKED if it held
 *  it already, CT_GIL_STATE_UNLOCKED if it took it now (as a thread coming
 *  back from a blocking call: without waiting a switch interval). Pass the
 *  result to ct_gil_state_release(). Calls nest.
 *
 * Errors: CT_EGILHELD (the caller holds another GIL), CT_EINVAL. */
CT_API int ct_gil_state_ensure(ct_gil_t *gil);

/** `PyGILState_Release`: undoes the matching ct_gil_state_ensure(), releasing
 *  the GIL if that call took it.
 *
 * Errors: CT_EGILNOTHELD, CT_EINVAL (a state that is neither
 * CT_GIL_STATE_LOCKED nor CT_GIL_STATE_UNLOCKED). */
CT_API int ct_gil_state_release(ct_gil_t *gil, int state);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_GIL_H */
