/* Where the debugging layer (src/debug/, the top) plugs in.
 *
 * The layers below never include or call src/debug/: they call these
 * hooks, which the debugging layer sets once when debugging is switched on
 * (CTHREADING=..., ct_debug_configure()), as the GIL plugs into park's
 * sleep hook. While it is off every call site costs one load of
 * ct__debug_flags and a branch not taken; the lock fast paths stay inline.
 *
 * The kinds name what a thread waits on or holds, for the reports.
 */
#ifndef CT_CORE_DEBUG_HOOKS_H
#define CT_CORE_DEBUG_HOOKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cthreading/common.h"

enum ct__obj_kind {
	CT__OBJ_UNKNOWN,
	CT__OBJ_LOCK,
	CT__OBJ_RLOCK,
	CT__OBJ_RWLOCK,
	CT__OBJ_RWLOCK_READERS, /* a writer waiting for the readers to leave */
	CT__OBJ_CONDITION,
	CT__OBJ_SEMAPHORE,
	CT__OBJ_EVENT,
	CT__OBJ_BARRIER,
	CT__OBJ_LATCH,
	CT__OBJ_ONCE,
	CT__OBJ_QUEUE,	     /* a join of the queue */
	CT__OBJ_QUEUE_EMPTY, /* a get waiting for an item */
	CT__OBJ_QUEUE_FULL,  /* a put waiting for room */
	CT__OBJ_SIMPLEQUEUE,
	CT__OBJ_FUTURE,
	CT__OBJ_EXECUTOR,
	CT__OBJ_THREAD, /* a join: the object is the ct_thread_t joined */
	CT__OBJ_GIL,
	CT__OBJ_SLEEP, /* ct_sleep() and other waits with no object */
	CT__OBJ_KINDS
};

struct ct__debug_hooks {
	/* An object is destroyed: forget its name and what was learnt of it. */
	void (*destroyed)(const void *object);
	/* The caller is about to park for @p object of @p kind (the park key
	 * may be a word inside it): said before each ct__park() of a slow
	 * path, read by the next park_begin. */
	void (*waits_on)(const void *object, unsigned kind);
	/* As waits_on(), for a thread to finish (a join, or the exit rule's
	 * wait): @p handle is only a key (it may be gone), @p ident the thread's
	 * ident, by which the cycle check finds the thread waited for. */
	void (*waits_on_thread)(const void *handle, unsigned long ident);
	/* Around every sleep of the parking core (@p key NULL: ct_sleep). */
	void (*park_begin)(const void *key, int64_t deadline);
	void (*park_end)(int rc);
	/* A parked thread, known by its @p parker (the first member of its
	 * waiter record, park/waiter.h), was moved onto @p to by a requeue (a
	 * condition's notify: it now waits for the lock). Called by the
	 * mover, under both queues' locks: it takes no lock of the parking
	 * core and does not park. */
	void (*requeued)(const void *parker, const void *to);
	/* A lock-like object (Lock, RLock, RWLock writer, a join) is about to
	 * be waited for: checks the lock order and whether the wait closes a
	 * cycle of waits. Returns 0, or CT_EDEADLK for a timed wait that would
	 * never end (a plain one is reported and, unless configured to keep
	 * waiting, aborts the process). */
	int (*acquiring)(const void *object, unsigned kind, int64_t deadline, void *site);
	/* The acquire ended: @p rc 0 (now held) or the error; @p waited
	 * whether it had to wait (acquiring was called). @p blocking false
	 * for a try. */
	void (*acquired)(const void *object, unsigned kind, void *site, int rc, bool waited,
			 bool blocking);
	/* A lock-like object is released (by any thread). */
	void (*released)(const void *object);

	/* Recording (trace or profile on: CT__DEBUG_RECORD), by the thread
	 * concerned. The GIL: the caller starts waiting for @p gil, has
	 * taken it (after a gil_wait or at once), gives it up. */
	void (*gil_wait)(const void *gil);
	void (*gil_taken)(const void *gil);
	void (*gil_given)(const void *gil);
	/* The layer's clock, for a time kept below (a task's submit). */
	int64_t (*now)(void);
	/* A worker of @p executor (the handle) starts a task submitted at
	 * @p queued (a now() reading; 0: not known), and ends it: @p future
	 * names it (ct_object_set_name), else @p fn's address. A map's helper
	 * calls them around the items it claims, with @p future NULL. */
	void (*task_begin)(const void *executor, int64_t queued);
	void (*task_end)(const void *executor, const void *future, void (*fn)(void));
	/* @p object (a queue) holds @p depth items after a put or a get. */
	void (*depth)(const void *object, unsigned kind, size_t depth);
	/* The same from a call that promises to be lock-free and reentrant (a
	 * SimpleQueue's put): takes no lock and allocates nothing, so it
	 * records only into a trace buffer the thread has already. */
	void (*depth_reentrant)(const void *object, unsigned kind, size_t depth);
};

/* Set while trace or profile is on: the recording hooks above are called.
 * (CT__DEBUG_LOCKS 1u and CT__DEBUG_OBJECTS 2u are in cthreading/common.h.) */
#define CT__DEBUG_RECORD 4u

/* Set once, before the first flag is turned on; never unset. */
extern const struct ct__debug_hooks *_Atomic ct__debug_hooks_ptr;

/* Installs @p hooks (first call only) and sets ct__debug_flags to @p flags. */
void ct__debug_install(const struct ct__debug_hooks *hooks, uint32_t flags);

static inline const struct ct__debug_hooks *ct__debug(void)
{
	/* Acquire: pairs with the installing CAS's release, so the hooks' table is seen fully
	 * built. */
	return atomic_load_explicit(&ct__debug_hooks_ptr, memory_order_acquire);
}

/* Calls a hook when the lock hooks are on: `CT__DEBUG_HOOK(waits_on(q, CT__OBJ_QUEUE));` */
#define CT__DEBUG_HOOK(call)                       \
	do {                                       \
		if (CT__DEBUG_ON(CT__DEBUG_LOCKS)) \
			ct__debug()->call;         \
	} while (0)

/* Calls a recording hook when trace or profile is on. */
#define CT__DEBUG_RECORD_HOOK(call)                 \
	do {                                        \
		if (CT__DEBUG_ON(CT__DEBUG_RECORD)) \
			ct__debug()->call;          \
	} while (0)

/* The caller of the function this appears in: a call site for reports. */
#define CT__CALLER() __builtin_return_address(0)

#endif /* CT_CORE_DEBUG_HOOKS_H */
