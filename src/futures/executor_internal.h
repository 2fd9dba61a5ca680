/* What map (executor_map.c) needs from the pool (executor.c). */
#ifndef CT_EXECUTOR_INTERNAL_H
#define CT_EXECUTOR_INTERNAL_H

#include <stdint.h>

#include "cthreading/executor.h"
#include "futures/future_internal.h"

struct ct__executor;

/* The pool behind a handle, or NULL. */
struct ct__executor *ct__executor_of(const ct_executor_t *ex);

uint32_t ct__executor_max_workers(const struct ct__executor *ex);

/* A map that holds helpers back, on its pool's list (see
 * ct__executor_enqueue()). */
struct ct__held {
	struct ct__held *prev, *next; /* under the pool's held_lock; next NULL: not listed */
};

/* Queues the @p count entries first..last (already linked through their
 * `next`), starting workers as needed. @p held more entries (a map's
 * helpers, whose map is @p node; 0 and NULL for none, and never one
 * without the other) are accepted now
 * and held back: queued later by ct__executor_release(), or given up by
 * ct__executor_unreserve(); a shutdown waits for them, and workers are
 * started for them as if they were queued. Every entry queued before is
 * queued ahead of these: first the helpers other maps hold back
 * (ct__map_release_held()), so that work starts in the order it came.
 * 0, or CT_ESHUTDOWN, CT_EBROKEN, CT_ENOMEM, CT_EAGAIN, CT_EEXITING with
 * nothing queued nor held. */
int ct__executor_enqueue(struct ct__executor *ex, struct ct__work *first, struct ct__work *last,
			 uint32_t count, uint32_t held, struct ct__held *node);

/* Takes a map off the pool's list, if it is there: after this returns, the
 * pool no longer touches it. */
void ct__executor_unlist(struct ct__executor *ex, struct ct__held *node);

/* Queues every helper the map of @p node still holds back
 * (executor_map.c); called with the pool's list locked. */
void ct__map_release_held(struct ct__held *node);

/* In a fork child: the map of @p node (a gone thread's) holds nothing back
 * any more, and will neither queue nor give up a held helper. */
void ct__map_forget_held(struct ct__held *node);

/* Queues one entry held back by ct__executor_enqueue(), even in a pool
 * shut down since. 0, or CT_EBROKEN with nothing queued (the pool broke:
 * the caller abandons the entry). */
int ct__executor_release(struct ct__executor *ex, struct ct__work *w);

/* Gives up @p count entries held back and never released. */
void ct__executor_unreserve(struct ct__executor *ex, uint32_t count);

/* 0 while queued work may run; once the pool was shut down with
 * cancel_futures or broke, the code unstarted work must end with
 * (CT_ECANCELLED or CT_EBROKEN). */
int ct__executor_abandoned(const struct ct__executor *ex);

/* Entries queued and not yet taken (for tests). */
uint64_t ct__executor_pending(struct ct__executor *ex);

/* A map helper taken off the queue: run items (executor_map.c). */
void ct__map_run(struct ct__work *w, struct ct__executor *ex);

/* A map helper drained from the queue: its items that have not started end
 * with @p code. */
void ct__map_abandon(struct ct__work *w, int code);

#endif /* CT_EXECUTOR_INTERNAL_H */
