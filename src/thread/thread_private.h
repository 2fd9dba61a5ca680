/* What the thread layer's files share among themselves (thread.c, names.c,
 * registry.c, exit.c); nothing outside src/thread/ includes this. */
#ifndef CT_THREAD_PRIVATE_H
#define CT_THREAD_PRIVATE_H

#include "cthreading/lock.h"
#include "thread/thread_internal.h"

/* ---- records (thread.c) ---------------------------------------------------- */

static inline struct ct__thread *ct__rec_of(const ct_thread_t *t)
{
	return t ? t->ct__impl : NULL;
}

/* @p w: the thread's waiter record, NULL for the record's own (a started
 * thread's, attached when it starts). */
void ct__rec_setup(struct ct__thread *rec, uint8_t kind, struct ct__waiter *w);
void ct__rec_unref(struct ct__thread *rec);

/* Waits until @p rec finishes or the deadline passes; CT_ENOTSTARTED if its
 * start failed meanwhile. */
int ct__thread_wait_finished(struct ct__thread *rec, int64_t deadline, unsigned flags);

/* The calling thread's id in the kernel (gettid on Linux). */
long ct__native_id_now(void);

/* The GIL layer's hooks, NULL until it sets them. */
extern const struct ct__thread_gil_hooks *_Atomic ct__gil_hooks;

/* Calls the GIL layer's @p what hook on @p rec, if a GIL layer is there. */
#define ct__gil_hook(what, rec)                                                     \
	do {                                                                        \
		/* Acquire: pairs with ct__thread_set_gil_hooks()'s release. */     \
		const struct ct__thread_gil_hooks *h_ =                             \
			atomic_load_explicit(&ct__gil_hooks, memory_order_acquire); \
		if (h_)                                                             \
			h_->what(rec);                                              \
	} while (0)

/* ---- names (names.c) ------------------------------------------------------- */

/* The default name, Python's _newname(): "Thread-N" or "Thread-N (target)";
 * NULL without memory. */
char *ct__default_name(const char *prefix, ct_target_fn target, const char *target_name);

/* The calling thread, started by cthreading, takes its name in the OS
 * (@p named) as it starts, or stops taking renames (not @p named) as it
 * ends. */
void ct__os_name_own(struct ct__thread *rec, bool named);

void ct__names_after_fork_child(void);

/* ---- the registry (registry.c) --------------------------------------------- */

extern struct ct__thread *ct__main_rec;

/* Adds a thread about to start, unless the exit rule has begun (false). */
bool ct__registry_enter(struct ct__thread *rec);
void ct__registry_leave(struct ct__thread *rec);

/* A live non-daemon started thread other than @p self, with a reference
 * taken; NULL when none is left. With @p final, finding none also closes
 * the door to new threads, in the same critical section, so that no
 * thread can slip in after the last look. */
struct ct__thread *ct__registry_next_non_daemon(struct ct__thread *self, bool final);

#endif /* CT_THREAD_PRIVATE_H */
