/* The debugging layer's shared state (include/cthreading/debug.h).
 *
 * It sits at the top (rank 5, beside the GIL): it reads threads and
 * objects, and the layers below reach it only through the hooks of
 * core/debug_hooks.h, installed when debugging is switched on.
 *
 * Each thread that passes a hook gets a record of its own (struct dthread),
 * allocated here, on a list that only grows; a record whose thread ended is
 * reused by a later thread unless a trace keeps its events. The owner
 * writes its record; dumps and the deadlock check read everyone's, so every
 * field another thread reads is atomic (relaxed). Internal locks are the
 * parking core's raw locks, which no hook sees.
 *
 * Memory orders. What another thread reads of a record is a snapshot for
 * a report: relaxed, and a report may pair a field with a neighbour one
 * update older. Where a report must not do that, the owner stores the
 * field that says "this entry is there" last, with release (a held
 * object, the awaited object, the trace's count, the name's sequence
 * number), and the dumps load it first, with acquire. The deadlock check
 * reads relaxed too, and confirms a cycle by a second look 20 ms later
 * (deadlock.c). The list of records only grows: a new record is pushed
 * with release under threads_lock, and walked from an acquire load of its
 * head. The settings (dbg.mode) are switches read relaxed: a thread that
 * sees one late misses one event of a report. In the comments, "own
 * record" means the owner reads or writes its own field, and "snapshot"
 * the relaxed read of another thread's, as said here.
 */
#ifndef CT_DEBUG_INTERNAL_H
#define CT_DEBUG_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/debug_hooks.h"
#include "cthreading/debug.h"
#include "park/parker.h"
#include "thread/thread_internal.h" /* CT__TLS_MODEL */

/* What the settings asked for (cfg.mode bits). */
enum {
	DBG_DEADLOCK = 1u << 0,
	DBG_PROFILE = 1u << 1,
	DBG_TRACE = 1u << 2,
	DBG_KEEP_WAITING = 1u << 3, /* deadlock=report */
	DBG_DUMP = 1u << 4,	    /* dump=SIGNAL: record waits and holds for its dumps */
};

#define DBG_HELD_BLOCK 16 /* hold slots in a record, and in each block added */
#define DBG_NAME_MAX 64

struct dheld {
	_Atomic(const void *) obj; /* NULL: a free slot */
	_Atomic uint32_t kind;
	_Atomic(void *) site;
	_Atomic int64_t since;	/* when taken (profile and trace only) */
	_Atomic uint32_t epoch; /* dbg.holds_epoch when taken */
};

/* A thread's hold slots: a block in its record, then as many more as it
 * needs, each added by the owner (published with release) when the ones
 * before are full and kept as long as the record: a reader may walk them
 * at any time, and every hold is recorded. */
struct dheld_block {
	struct dheld slot[DBG_HELD_BLOCK];
	struct dheld_block *_Atomic next;
};

/* The block after @p b, or NULL. */
static inline struct dheld_block *ct__dbg_held_more(struct dheld_block *b)
{
	/* Acquire: pairs with the owner's release of a new block: its slots are seen cleared. */
	return atomic_load_explicit(&b->next, memory_order_acquire);
}

/* Every hold slot of record @p t, as `struct dheld *h`:
 * `DBG_FOR_HELD(t, h) { ... }`. Two loops: leave with return, not break. */
#define DBG_FOR_HELD(t, h)                                                                         \
	for (struct dheld_block *h##_block = &(t)->held; h##_block;                                \
	     h##_block = ct__dbg_held_more(h##_block))                                             \
		for (struct dheld * (h) = h##_block->slot; (h) < h##_block->slot + DBG_HELD_BLOCK; \
		     (h)++)

struct tbuf; /* a thread's trace events (record.c) */

struct dthread {
	struct dthread *next; /* all records, append-only, under dbg.threads_lock */
	_Atomic bool live;
	_Atomic unsigned long ident; /* pthread_self() of its thread */
	_Atomic long native_id;	     /* gettid() */
	_Atomic(uint32_t) name_seq;  /* odd while the name below is written */
	char name[DBG_NAME_MAX];     /* the thread's name when last seen */
	struct dheld_block held;
	/* What the thread waits for now (wait_obj NULL: nothing). */
	_Atomic(const void *) wait_obj;
	_Atomic uint32_t wait_kind;
	_Atomic int64_t wait_since;
	_Atomic(void *) wait_site;
	_Atomic unsigned long wait_ident; /* a wait for a thread: its ident */
	_Atomic uint32_t wait_epoch;	  /* dbg.holds_epoch when the wait began */
	/* An acquire's or join's deadline (CT__NO_DEADLINE: none): a wait
	 * that will end by itself. */
	_Atomic int64_t wait_deadline;
	/* Inside a condition's wait: the lock word it was moved onto by a
	 * notify (it waits to take the lock back), else NULL. Set by the
	 * notifier (the requeued hook, which finds the record through the
	 * thread's waiter record, park/waiter.h), cleared by the owner when
	 * it says what it will wait on (before the wait is queued, so that
	 * a notify coming before park_begin stays) and at park_end. */
	_Atomic(const void *) requeued_to;
	/* Owner only. */
	const void *pending_obj; /* from waits_on, for the next park */
	uint32_t pending_kind;
	bool acquiring; /* the wait is an acquire's: the park does not end it */
	/* While acquiring: the acquire's own wait, given back when a wait
	 * inside it on another object (its GIL's) ends. */
	struct {
		const void *obj;
		uint32_t kind;
		void *site;
		int64_t since, deadline;
	} acq;
	/* Inside a park that began a wait: its start, which a release made
	 * by the park before it sleeps (a condition's lock) takes as its
	 * time instead of reading the clock again; else 0. */
	int64_t park_at;
	/* The end of a condition's wait (its park_end's reading) and the
	 * settings' generation then: the hold of the lock the wait takes back
	 * next begins there, which spares that acquire a clock read (0:
	 * none pending). */
	int64_t resume_at;
	uint32_t resume_gen;
	unsigned busy; /* inside the debugging layer: hooks do nothing */
	struct tbuf *trace;
	/* Recording (record.c): since when the thread waits for / holds the
	 * GIL (0: it does not), in which dbg.record_epoch, runs an executor's
	 * task, and when that task was submitted. */
	int64_t gil_wait_since, gil_hold_since;
	uint32_t gil_wait_epoch, gil_hold_epoch;
	int64_t task_since, task_queued;
};

struct dbg_state {
	_Atomic uint32_t mode; /* DBG_* */
	_Atomic uint32_t gen;  /* raised by every ct_debug_configure() */
	/* Raised when the Lock's hooks come back on after being off: a hold
	 * recorded before may have been released unseen, and a wait may have
	 * ended unseen, so they count no more (ct__dbg_held_obj(),
	 * ct__dbg_wait_obj()). */
	_Atomic uint32_t holds_epoch;
	/* Raised when recording (trace, profile) comes back on after being
	 * off: a GIL wait or hold seen to begin before may have ended unseen
	 * (record.c). */
	_Atomic uint32_t record_epoch;
	struct ct__rawlock threads_lock;
	struct dthread *_Atomic threads;
	struct ct__rawlock report_lock; /* one report at a time */
	FILE *log;			/* reports; NULL: stderr */
	char *trace_path, *profile_path;
	bool profile_stderr;
};
extern struct dbg_state dbg;

/* calloc(1, @p size), failing when a test injects allocation failures
 * (core/fault.h): the layer's allocations (copies of strings use
 * ct__strdup(), which does the same). */
void *ct__dbg_alloc(size_t size);

/* The calling thread's record (NULL until its first hook). */
extern _Thread_local struct dthread *ct__dbg_tls CT__TLS_MODEL;
struct dthread *ct__dbg_new_record(void);

/* The calling thread's record, made on first use; NULL if it could not be
 * made or the thread is inside this layer already (hooks then do
 * nothing). Pair a non-NULL result of enter() with leave(). */
static inline struct dthread *ct__dbg_enter(void)
{
	struct dthread *me = ct__dbg_tls;
	if (CT__UNLIKELY(!me) && !(me = ct__dbg_new_record()))
		return NULL;
	if (me->busy)
		return NULL;
	me->busy++;
	return me;
}

static inline void ct__dbg_leave(struct dthread *me)
{
	me->busy--;
}

/* The calling thread's record without the reentrancy check (may be NULL). */
static inline struct dthread *ct__dbg_self(void)
{
	return ct__dbg_tls;
}

/* Copies the calling thread's name into its record. */
void ct__dbg_refresh_name(struct dthread *me);
/* Copies @p t's name into @p buf (a consistent copy, or "?"). */
void ct__dbg_thread_name(struct dthread *t, char buf[DBG_NAME_MAX]);
/* Replaces each control character of @p s by '?': a name cannot add or
 * fake a line of a report. */
void ct__dbg_printable(char *s);

/* "lock \"name\"" or "lock 0x...": never reads the object, which may be
 * gone (trace, profile). (A join, kind thread, is reported by the names
 * of the threads, from their records.) */
void ct__dbg_describe(const void *obj, unsigned kind, char *buf, size_t size);
const char *ct__dbg_kind_name(unsigned kind);
/* "function+0x1c (program)" for a return address. */
void ct__dbg_site(void *pc, char *buf, size_t size);
/* The stream reports go to. */
FILE *ct__dbg_log(void);
/* The layer's clock, in ticks (see debug.c); ticks * ct__dbg_scale() are
 * ns, ct__dbg_to_ns() gives CLOCK_MONOTONIC ns. Inline: a hook reads it
 * up to twice per event; ct__dbg_clock() is the same as a function. */
#if defined(__x86_64__)
#include <x86intrin.h>
static inline int64_t ct__dbg_now(void)
{
	return (int64_t)__rdtsc();
}
#else
#include "core/internal.h"
static inline int64_t ct__dbg_now(void)
{
	return ct__now_ns();
}
#endif
int64_t ct__dbg_clock(void);
double ct__dbg_scale(void);
int64_t ct__dbg_to_ns(int64_t ticks, double scale);
extern int64_t ct__dbg_hold_span_ticks;

/* The destroyed hook: forgets the object's name and lock orders. */
void ct__dbg_destroyed(const void *obj);
/* True for the signal dumper's thread (left out of dumps). */
bool ct__dbg_is_dumper(unsigned long ident);

/* fork(): each file's internal locks, taken (CT__DBG_FORK_PREPARE), given
 * back in the parent (CT__DBG_FORK_PARENT) or made anew in the child
 * (CT__DBG_FORK_CHILD). */
enum { CT__DBG_FORK_PREPARE, CT__DBG_FORK_PARENT, CT__DBG_FORK_CHILD };
void ct__dbg_fork_lock(struct ct__rawlock *l, int phase);
void ct__dbg_orders_fork(int phase);
void ct__dbg_profile_fork(int phase);

/* deadlock.c */
extern const struct ct__debug_hooks ct__dbg_hooks;
void ct__dbg_forget_orders(const void *obj);
/* The thread holding @p obj of @p kind (a lock-like kind) that @p waiter
 * waits for, or NULL (for a join: the joined thread, by the ident @p waiter
 * noted, so that the handle is never read). Under dbg.threads_lock. */
struct dthread *ct__dbg_holder_locked(struct dthread *waiter, const void *obj, unsigned kind);
bool ct__dbg_lock_like(unsigned kind);
/* What @p t waits for as the cycle check follows it, into *@p obj and
 * *@p kind: a lock-like object, or the lock a thread notified on a
 * condition waits to take back (of the kind its holder holds it as).
 * False when it waits for nothing followed. Under dbg.threads_lock. */
bool ct__dbg_followed_wait_locked(struct dthread *t, const void **obj, unsigned *kind);
/* The object a hold slot records (loaded with @p order), or NULL for a
 * free slot or one from before the hooks were last off. */
static inline const void *ct__dbg_held_obj(const struct dheld *h, memory_order order)
{
	const void *obj = atomic_load_explicit(&h->obj, order);
	/* Relaxed: published with obj (debug_internal.h); the epoch is a counter compared
	 * only. */
	return obj && atomic_load_explicit(&h->epoch, memory_order_relaxed) ==
				       atomic_load_explicit(&dbg.holds_epoch, memory_order_relaxed)
		       ? obj
		       : NULL;
}

/* What @p t waits for (loaded with @p order), or NULL for no wait or one
 * that began before the hooks were last off (it may have ended unseen). */
static inline const void *ct__dbg_wait_obj(struct dthread *t, memory_order order)
{
	const void *obj = atomic_load_explicit(&t->wait_obj, order);
	/* Relaxed: published with obj (debug_internal.h); the epoch is a counter compared
	 * only. */
	return obj && atomic_load_explicit(&t->wait_epoch, memory_order_relaxed) ==
				       atomic_load_explicit(&dbg.holds_epoch, memory_order_relaxed)
		       ? obj
		       : NULL;
}

/* The held slot of @p obj in @p t, or NULL. */
struct dheld *ct__dbg_held_slot(struct dthread *t, const void *obj);

/* record.c: profile and trace. */
/* An acquire ended in @p rc: 0 (an acquisition), CT_ETIMEDOUT or
 * CT_ESTOPPED (a wait that gave up: @p contended). */
void ct__dbg_profile_acquired(const void *obj, unsigned kind, void *site, int64_t waited_ns,
			      bool contended, int rc);
/* A join of the thread @p handle waited that long: @p thread its record
 * (compared only), @p name its name then, @p ended whether it had ended. */
void ct__dbg_profile_joined(const void *handle, const void *thread, const char *name, bool ended,
			    int64_t waited_ns);
/* @p obj, named @p name, is destroyed: the profile and the trace keep the
 * name for what they recorded of it. */
void ct__dbg_name_dropped(const void *obj, const char *name);
void ct__dbg_profile_released(const void *obj, unsigned kind, int64_t held_ns);
void ct__dbg_profile_waited(const void *obj, unsigned kind, int64_t waited_ns);
void ct__dbg_trace_span(struct dthread *me, int type, const void *obj, unsigned kind, int64_t begin,
			int64_t end, int rc);
enum { DBG_SPAN_WAIT, DBG_SPAN_HOLD, DBG_SPAN_TASK, DBG_COUNTER };
/* The recording hooks (debug_hooks.h). */
void ct__dbg_gil_wait(const void *gil);
void ct__dbg_gil_taken(const void *gil);
void ct__dbg_gil_given(const void *gil);
void ct__dbg_task_begin(const void *executor, int64_t queued);
void ct__dbg_task_end(const void *executor, const void *future, void (*fn)(void));
void ct__dbg_depth(const void *object, unsigned kind, size_t depth);
void ct__dbg_depth_reentrant(const void *object, unsigned kind, size_t depth);
/* Holds at least this long become trace spans. */
#define DBG_HOLD_SPAN_NS 10000
void ct__dbg_write_at_exit(void);

#endif /* CT_DEBUG_INTERNAL_H */
