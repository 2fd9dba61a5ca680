/* The thread record: what the library knows about one thread.
 *
 * Every thread that touches cthreading has one: threads it started (heap,
 * reference-counted), the main thread (static) and "dummy" records for
 * threads started by someone else (in that thread's TLS, as Python's
 * _DummyThread). What the parking core needs of a thread (its parker,
 * stop flag, fork gate and notes) is the thread's waiter record
 * (park/waiter.h), which points back here through its `owner`: a started
 * thread's is inside its record, any other thread's in the parking core's
 * TLS.
 */
#ifndef CT_THREAD_INTERNAL_H
#define CT_THREAD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/internal.h"
#include "cthreading/thread.h"
#include "park/waiter.h"

struct ct_gil;

enum ct__thread_kind {
	CT__KIND_STARTED, /* started by cthreading; heap, reference-counted */
	CT__KIND_MAIN,	  /* the thread that loaded the library; static */
	CT__KIND_DUMMY,	  /* started by someone else; lives in its own TLS */
};

/* Life of a thread, in `state`; join parks on this word. */
enum {
	CT__T_NEW = 0,	    /* initialised, not started (or start failed) */
	CT__T_RUNNING = 1,  /* started, run() not finished */
	CT__T_FINISHED = 2, /* run() returned and the exit work is done */
};

/* One thread-local value of a ct_local_t (see local.c). The destructor is
 * kept with the value so that it still runs at thread exit after the
 * ct_local_t itself was destroyed. */
struct ct__local_entry {
	uint32_t gen;
	void *value;
	void (*dtor)(void *);
};

struct ct__thread {
	struct ct__waiter *w;	    /* this thread's waiter record */
	_Atomic uint32_t state;	    /* CT__T_* */
	_Atomic uint32_t refs;	    /* STARTED records only */
	_Atomic uint32_t native_id; /* 0 until the thread published it */
	atomic_bool daemon;
	uint8_t kind;
	ct_thread_t own;   /* the handle of heap, main and dummy threads */
	ct_thread_t *self; /* what run() and ct_current_thread() see */
	ct_target_fn target;
	void *arg;
	ct_run_fn run;
	char *_Atomic name;
	bool os_named; /* the OS thread runs and bears the name; under thread.c's names_lock */
	size_t stack_size;
	struct ct_gil *run_gil; /* the GIL the thread runs under, if any */
	/* &ct__gil_tls_breaker of this thread, its eval breaker: set by the
	 * thread before it first takes a GIL, written by others only as
	 * gil.c says. */
	_Atomic uintptr_t *gil_breaker;
	_Atomic unsigned long ident;
	/* Thread-locals (local.c); only the thread itself touches them. */
	struct ct__local_entry *locals;
	uint32_t nlocals;
	/* The registry of live threads (thread.c), under its lock. */
	struct ct__thread *prev, *next;
	/* A started thread's waiter record (`w` points here); the others
	 * use the one the parking core keeps in their TLS. */
	struct ct__waiter own_waiter;
};

/* The calling thread's record: creates the main thread's or a dummy one
 * the first time a thread needs it. Never fails (a dummy record lives in
 * the thread's own TLS). */
struct ct__thread *ct__self_slow(struct ct__waiter *w);

static inline struct ct__thread *ct__self(void)
{
	struct ct__waiter *w = ct__waiter_self();
	struct ct__thread *self = w->owner;
	return CT__LIKELY(self != NULL) ? self : ct__self_slow(w);
}

/* The calling thread's record if it has one already, else NULL. */
static inline struct ct__thread *ct__self_peek(void)
{
	struct ct__waiter *w = ct__tls_waiter;
	return w ? w->owner : NULL;
}

/* The GIL the thread holds right now (gil.c): the parking core gives it up
 * around every sleep, through its sleep hook. */
static inline struct ct_gil *ct__thread_gil(const struct ct__thread *t)
{
	return t->w->holds;
}

/* Runs the destructors of a thread's locals and frees its table (local.c). */
void ct__locals_thread_exit(struct ct__thread *self);

/* Makes sure the exit rule runs at exit (once; ct_thread_start does it):
 * for a subsystem whose exit-time work must run even if no thread was
 * ever started, such as refusing submits to pools after the exit. */
void ct__exit_rule_arm(void);

/* Work that must happen before the exit rule waits for threads, such as
 * shutting executors down so their idle workers end (thread.c). At most
 * a few; registered once per subsystem. */
int ct__before_exit_wait(void (*fn)(void));

/* ct_thread_join with an absolute deadline (CLOCK_MONOTONIC ns), for a
 * caller that waits for several threads against one deadline. */
int ct__thread_join_until(ct_thread_t *t, int64_t deadline, unsigned flags);

/* Copies @p t's name into @p buf (@p size bytes, terminated) under the
 * lock renames take: safe while the thread renames itself, which
 * ct_thread_name()'s pointer is not (the debugging layer's joins). */
void ct__thread_name_copy(const ct_thread_t *t, char *buf, size_t size);

/* What the GIL layer, above this one, does at points of a thread's life;
 * it sets them once at load (thread.c calls them, it does not know the
 * GIL). begin runs in a new thread started with opts.gil before its run,
 * end as any thread ends (started or not by cthreading), yield in
 * ct_sleep(0), after_fork_child in the child of fork() once the registry
 * is repaired (@p self: the forking thread). */
struct ct__thread_gil_hooks {
	void (*begin)(struct ct__thread *self);
	void (*end)(struct ct__thread *self);
	void (*yield)(struct ct__thread *self);
	void (*after_fork_child)(struct ct__thread *self);
};
void ct__thread_set_gil_hooks(const struct ct__thread_gil_hooks *hooks);

/* Reports a failure of the calling thread through the excepthook now, as
 * its run returning @p status would at its end (an executor's worker whose
 * initializer failed: Python logs that before the pool breaks). */
void ct__thread_report_failure(int status);

/* How many heap thread records exist now (allocated, not yet freed): the
 * tests' leak check in builds without LeakSanitizer. */
size_t ct__thread_records_live(void);

/* Set once the exit rule has begun: new threads are refused. */
extern atomic_bool ct__exiting;

#endif /* CT_THREAD_INTERNAL_H */
