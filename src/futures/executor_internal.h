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

/* Whether the pool has fewer workers than the machine has CPUs: then one
 * of them and a map's caller may spin longer (see idle_wait()). */
bool ct__executor_smaller_than_machine(const struct ct__executor *ex);

/* Queues the @p count entries first..last (already linked through their
 * `next`), starting workers as needed. 0, or CT_ESHUTDOWN, CT_EBROKEN,
 * CT_ENOMEM, CT_EAGAIN, CT_EEXITING with nothing queued. */
int ct__executor_enqueue(struct ct__executor *ex, struct ct__work *first, struct ct__work *last,
			 uint32_t count);

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
