/* How the parking core gives up the caller's GIL while it sleeps.
 *
 * Every blocking call of the library ends in ct__park() or
 * ct__park_sleep(); those two call ct__gil_suspend() right before the
 * thread sleeps and ct__gil_resume() right after, which is the whole of
 * CPython's Py_BEGIN_ALLOW_THREADS for cthreading's own calls.
 *
 * The inline parts are one load and a branch: the parking core's slow path
 * is hot for every other primitive, which mostly runs without a GIL.
 */
#ifndef CT_GIL_INTERNAL_H
#define CT_GIL_INTERNAL_H

#include <stdint.h>

#include "park/park.h"
#include "thread/thread_internal.h"

/* Out-of-line parts (gil.c). */
struct ct_gil *ct__gil_release_for_block(struct ct__thread *self);
void ct__gil_take_after_block(struct ct__thread *self, struct ct_gil *gil);
void ct__gil_thread_begin_slow(struct ct__thread *self);
void ct__gil_thread_end_slow(struct ct__thread *self);
void ct__gil_yield_slow(struct ct__thread *self);

/* Releases the GIL the calling thread holds, if any and if allowed, and
 * returns it (NULL when nothing was released). Called with the caller's
 * parker armed: it never parks (the GIL's internal lock is a raw lock).
 *
 * A thread inside fork's gate (fork.h) keeps its GIL: it waits there only
 * for another thread inside, which needs no GIL to get out, whereas giving
 * the GIL up would make it wait for the GIL to come back, maybe from the
 * very thread that is forking and waits for it to leave the gate. */
static inline struct ct_gil *ct__gil_suspend(struct ct__thread *self, unsigned flags,
					     int64_t deadline)
{
	(void)deadline;
	if (CT__LIKELY(self->gil_held == NULL) || (flags & CT__PARK_KEEP_GIL) ||
	    atomic_load_explicit(&self->gate, memory_order_relaxed) != 0)
		return NULL;
	return ct__gil_release_for_block(self);
}

/* Takes back what ct__gil_suspend() released, as a thread coming back from
 * a blocking call: without waiting a switch interval (see gil.c). */
static inline void ct__gil_resume(struct ct__thread *self, struct ct_gil *gil)
{
	if (CT__UNLIKELY(gil != NULL))
		ct__gil_take_after_block(self, gil);
}

/* A thread started with opts.gil takes it before running and gives it back
 * when it ends (whichever GIL it holds then). */
static inline void ct__gil_thread_begin(struct ct__thread *self)
{
	if (self->run_gil)
		ct__gil_thread_begin_slow(self);
}

static inline void ct__gil_thread_end(struct ct__thread *self)
{
	if (self->gil_held)
		ct__gil_thread_end_slow(self);
}

/* ct_sleep(0) under a GIL: let another GIL thread run, as time.sleep(0). */
static inline void ct__gil_yield_for_sleep(struct ct__thread *self)
{
	if (self->gil_held)
		ct__gil_yield_slow(self);
}

/* In a fork child: every GIL is free, except the one the forking thread
 * (@p self, may be NULL) held, which it still holds. */
void ct__gil_after_fork_child(struct ct__thread *self);

#endif /* CT_GIL_INTERNAL_H */
