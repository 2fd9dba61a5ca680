/* Helpers shared by the synchronisation tests: starting and joining
 * threads (ht_internal.h has the waits for a parked thread). */
#ifndef CT_TEST_SYNC_HELPERS_H
#define CT_TEST_SYNC_HELPERS_H

#include <sched.h>
#include <stdatomic.h>

#include "harness.h"
#include "ht_internal.h"

/* Starts fn(arg) in a new thread. */
static inline ct_thread_t *sh_start(ct_target_fn fn, void *arg)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, fn, arg, NULL));
	CHECK_OK(ct_thread_start(t));
	return t;
}

/* Joins and destroys a thread started by sh_start(). */
static inline void sh_join(ct_thread_t *t)
{
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_release(t);
}

/* Checks that a call that timed out did not return before its timeout. */
#define SH_CHECK_NOT_EARLY(t0, timeout) CHECK(ht_now() - (t0) >= (timeout))

#endif /* CT_TEST_SYNC_HELPERS_H */
