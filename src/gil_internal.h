/* How the parking core gives up the caller's GIL while it sleeps.
 *
 * Every blocking call of the library ends in ct__park() or
 * ct__park_sleep(); those two call ct__gil_suspend() right before the
 * thread sleeps and ct__gil_resume() right after, which is the whole of
 * CPython's Py_BEGIN_ALLOW_THREADS for cthreading's own calls.
 */
#ifndef CT_GIL_INTERNAL_H
#define CT_GIL_INTERNAL_H

#include <stdint.h>

#include "thread_internal.h"

/* Releases the GIL the calling thread holds, if any and if allowed, and
 * returns it (NULL when nothing was released). */
static inline struct ct_gil *ct__gil_suspend(struct ct__thread *self, unsigned flags,
					     int64_t deadline)
{
	(void)self;
	(void)flags;
	(void)deadline;
	return NULL;
}

/* Takes back what ct__gil_suspend() released. */
static inline void ct__gil_resume(struct ct__thread *self, struct ct_gil *gil)
{
	(void)self;
	(void)gil;
}

/* A thread started with opts.gil takes it before running and gives it back
 * when it ends. */
static inline void ct__gil_thread_begin(struct ct__thread *self)
{
	(void)self;
}

static inline void ct__gil_thread_end(struct ct__thread *self)
{
	(void)self;
}

/* ct_sleep(0) under a GIL: let another GIL thread run, as time.sleep(0). */
static inline void ct__gil_yield_for_sleep(struct ct__thread *self)
{
	(void)self;
}

/* In a fork child: the GIL is free, or held by the forking thread. */
static inline void ct__gil_after_fork_child(struct ct__thread *self)
{
	(void)self;
}

#endif /* CT_GIL_INTERNAL_H */
