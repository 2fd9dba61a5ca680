/** @file
 * cthreading: one-time initialisation (beyond Python; pthread_once with an
 * argument, a result and recursion detection).
 */
#ifndef CTHREADING_ONCE_H
#define CTHREADING_ONCE_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup once Once
 *
 * Runs an initialisation function exactly once however many threads ask
 * for it at the same time; the others wait until it has finished, and
 * everything it wrote is visible to them afterwards. Once done, a call is
 * one load.
 *
 * The function reports success (0) or failure (non-zero). A failure leaves
 * the once not done: that call returns the function's value and the next
 * call, or one of the threads that were waiting, runs the function again
 * (as C++'s std::call_once does when the function throws). So does a run
 * cut short by fork(): in the child, a function that was running in
 * another thread of the parent runs again at the next call.
 *
 * @code
 * static ct_once_t table_once = CT_ONCE_INIT;
 * ct_once(&table_once, build_table, NULL);
 * @endcode
 * @{
 */

/** A once flag. Treat the members as private. */
typedef struct ct_once {
	CT__ATOMIC(uint32_t) ct__state; /**< private: see src/sync/once.c */
	CT__ATOMIC(void *) ct__runner;	/**< private: the thread running the function */
} ct_once_t;

/** @cond internal */
#define CT__ONCE_DONE 2u
/** @endcond */

/** Static initializer: not done. */
#define CT_ONCE_INIT    \
	{               \
		0, NULL \
	}

/** Initialises a once flag (not done). Cannot fail; NULL does nothing. */
static inline void ct_once_init(ct_once_t *once)
{
	if (CT__UNLIKELY(once == NULL))
		return;
	CT__ATOMIC_INIT(&once->ct__state, 0);
	CT__ATOMIC_INIT(&once->ct__runner, NULL);
}

/** Out-of-line path of ct_once(): internal, exported only because the
 *  inline fast path calls it (part of the ABI, see docs/architecture.md). */
CT_API int ct__once_slow(ct_once_t *once, int (*fn)(void *arg), void *arg);

/** Runs `fn(arg)` if no call has completed it yet; returns once it has.
 *
 * Returns 0 when the function has run successfully (in this call or an
 * earlier one), or the non-zero value this call's run of it returned.
 * Errors: CT_EDEADLK when called from inside the function itself on the
 * same flag (which would wait for itself forever), CT_EINVAL (@p once
 * NULL).
 *
 * Waiting for another thread's run is not interruptible by stop requests
 * (a caller must not go on with the work half initialised). Releases the
 * caller's GIL while it sleeps. */
#if defined(__cplusplus) && defined(__GNUC__)
/* In C++ this function hides the struct of the same name, which is only
 * ever named through its typedef; g++'s -Wshadow would say so. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
static inline int ct_once(ct_once_t *once, int (*fn)(void *arg), void *arg)
{
	if (CT__UNLIKELY(once == NULL))
		return CT_EINVAL;
	/* Acquire: pairs with the release that marks it DONE, so the caller
	 * sees everything the function wrote. */
	if (CT__LIKELY(CT__ATOMIC_LOAD(&once->ct__state, acquire) == CT__ONCE_DONE))
		return 0;
	return ct__once_slow(once, fn, arg);
}
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/** True once a call has completed the function successfully; false for
 *  NULL. */
static inline bool ct_once_done(const ct_once_t *once)
{
	if (CT__UNLIKELY(once == NULL))
		return false;
	return CT__ATOMIC_LOAD(&once->ct__state, acquire) == CT__ONCE_DONE; /* as in ct_once */
}

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_ONCE_H */
