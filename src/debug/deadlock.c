/* The hooks: what each thread waits for and holds, lock orders, cycles of
 * waits.
 *
 * Lock order: whenever a thread asks for lock B while holding lock A, the
 * edge A -> B is remembered (with the thread's name and both call sites)
 * in a hash table of edges. When B -> A is already there, the two orders
 * are reported, once per pair, whether or not the threads ever met.
 *
 * Cycles: before a thread waits for a lock-like object (Lock, RLock,
 * RWLock's write side, a join), the graph "thread waits for object, object
 * held by thread" is followed from it. Coming back to the thread closes a
 * cycle: a deadlock, unless one of the others is about to move, which a
 * second look 20 ms later rules out (every other thread of the cycle still
 * waits for the same object since the same time).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cthreading/rlock.h"
#include "debug/debug_internal.h"
#include "park/park.h"
#include "park/waiter.h"
#include "thread/thread_internal.h"

bool ct__dbg_lock_like(unsigned kind)
{
	return kind == CT__OBJ_LOCK || kind == CT__OBJ_RLOCK || kind == CT__OBJ_RWLOCK ||
	       kind == CT__OBJ_THREAD;
}

struct dheld *ct__dbg_held_slot(struct dthread *t, const void *obj)
{
	DBG_FOR_HELD (t, h)
		/* Relaxed: a snapshot (debug_internal.h). */
		if (ct__dbg_held_obj(h, memory_order_relaxed) == obj)
			return h;
	return NULL;
}

/* ct__dbg_holder_locked(), and the holder's slot of @p obj in *@p slot
 * (NULL for a join). */
static struct dthread *holder_slot_locked(struct dthread *waiter, const void *obj, unsigned kind,
					  struct dheld **slot)
{
	*slot = NULL;
	if (!ct__dbg_lock_like(kind)) /* obj is never NULL: every caller looked */
		return NULL;
	unsigned long ident = 0;
	/* Relaxed: snapshots (debug_internal.h), below too. */
	if (kind == CT__OBJ_THREAD &&
	    !(ident = atomic_load_explicit(&waiter->wait_ident, memory_order_relaxed)))
		return NULL;
	/* Acquire: the list of records (debug_internal.h). */
	for (struct dthread *t = atomic_load_explicit(&dbg.threads, memory_order_acquire); t;
	     t = t->next) {
		if (!atomic_load_explicit(&t->live, memory_order_relaxed)) /* relaxed: a snapshot */
			continue;
		if (kind == CT__OBJ_THREAD /* relaxed: a snapshot */
			    ? atomic_load_explicit(&t->ident, memory_order_relaxed) == ident
			    : (*slot = ct__dbg_held_slot(t, obj)) != NULL)
			return t;
	}
	return NULL;
}

struct dthread *ct__dbg_holder_locked(struct dthread *waiter, const void *obj, unsigned kind)
{
	struct dheld *slot;
	return holder_slot_locked(waiter, obj, kind, &slot);
}

/* ---- lock order ---------------------------------------------------------- */

#define EDGES_LOG2 14
#define EDGES (1u << EDGES_LOG2)

struct edge {
	const void *from, *to; /* from NULL: empty; to NULL: deleted */
	void *site_from, *site_to;
	char thread[DBG_NAME_MAX];
};

static struct {
	struct ct__rawlock lock;
	struct edge *table;
	unsigned used; /* slots not empty (deleted ones included) */
	bool full_said;
} orders = {.lock = CT__RAWLOCK_INIT};

static unsigned edge_hash(const void *from, const void *to)
{
	uint64_t h = ((uint64_t)(uintptr_t)from * UINT64_C(0x9E3779B97F4A7C15)) ^
		     ((uint64_t)(uintptr_t)to * UINT64_C(0xC2B2AE3D27D4EB4F));
	return (unsigned)(h >> (64 - EDGES_LOG2));
}

/* The edge from -> to, or where it would go. At most 3/4 of the slots are
 * ever used (deleted ones included), so an empty slot ends every search. */
static struct edge *edge_find(const void *from, const void *to, bool *found)
{
	struct edge *free_slot = NULL;
	*found = false;
	for (unsigned i = edge_hash(from, to);; i = (i + 1) & (EDGES - 1)) {
		struct edge *e = &orders.table[i];
		if (!e->from)
			return free_slot ? free_slot : e;
		if (e->from == from && e->to == to) {
			*found = true;
			return e;
		}
		if (!e->to) /* deleted: any one on the way will do */
			free_slot = e;
	}
}

void ct__dbg_orders_fork(int phase)
{
	ct__dbg_fork_lock(&orders.lock, phase);
}

void ct__dbg_forget_orders(const void *obj)
{
	ct__rawlock_lock(&orders.lock);
	if (orders.used) /* used: the table exists */
		for (unsigned i = 0; i < EDGES; i++) {
			struct edge *e = &orders.table[i];
			if (e->from && e->to && (e->from == obj || e->to == obj))
				e->to = NULL; /* deleted: probing goes on past it */
		}
	ct__rawlock_unlock(&orders.lock);
}

struct inversion {
	struct edge first, second; /* copies, reported outside the lock */
};

/* @p kind_a: the kind of inv->first.from; @p kind_b: of inv->first.to. */
static void report_inversion(const struct inversion *inv, unsigned kind_a, unsigned kind_b)
{
	char a[160], b[160], s1[160], s2[160], s3[160], s4[160];
	ct__dbg_describe(inv->first.from, kind_a, a, sizeof a);
	ct__dbg_describe(inv->first.to, kind_b, b, sizeof b);
	ct__dbg_site(inv->first.site_from, s1, sizeof s1);
	ct__dbg_site(inv->first.site_to, s2, sizeof s2);
	ct__dbg_site(inv->second.site_from, s3, sizeof s3);
	ct__dbg_site(inv->second.site_to, s4, sizeof s4);
	ct__rawlock_lock(&dbg.report_lock);
	FILE *out = ct__dbg_log();
	fprintf(out,
		"cthreading: lock-order inversion (a possible deadlock) between %s and %s\n"
		"  thread \"%s\" took %s\n"
		"      at %s\n"
		"    then asked for %s\n"
		"      at %s\n"
		"  thread \"%s\" took %s\n"
		"      at %s\n"
		"    then asked for %s\n"
		"      at %s\n",
		a, b, inv->first.thread, a, s1, b, s2, inv->second.thread, b, s3, a, s4);
	fflush(out);
	ct__rawlock_unlock(&dbg.report_lock);
}

/* The calling thread asks for @p obj at @p site: an edge from each lock it
 * holds. */
static void check_order(struct dthread *me, const void *obj, unsigned kind, void *site)
{
	DBG_FOR_HELD (me, h) {
		/* Relaxed: the thread's own record (debug_internal.h). */
		const void *held = ct__dbg_held_obj(h, memory_order_relaxed);
		if (!held || held == obj)
			continue;
		struct inversion inv;
		bool report = false;
		ct__rawlock_lock(&orders.lock);
		if (!orders.table &&
		    !(orders.table = ct__dbg_alloc(EDGES * sizeof *orders.table))) {
			ct__rawlock_unlock(&orders.lock);
			return; /* no memory for the table: not checked this time */
		}
		bool found;
		struct edge *e = edge_find(held, obj, &found);
		if (found) {
			/* known already */
		} else if (orders.used < EDGES * 3 / 4) {
			if (!e->from)
				orders.used++;
			e->from = held;
			e->to = obj;
			e->site_from = /* relaxed: own record */
				atomic_load_explicit(&h->site, memory_order_relaxed);
			e->site_to = site;
			ct__dbg_thread_name(me, e->thread);
			bool back_found;
			struct edge *back = edge_find(obj, held, &back_found);
			/* Once per pair: from now on both edges are found. */
			if (back_found) {
				inv.first = *back;
				inv.second = *e;
				report = true;
			}
		} else if (!orders.full_said) {
			orders.full_said = true;
			fprintf(ct__dbg_log(),
				"cthreading: deadlock: %u lock orders known, no room "
				"for more; new orders are not checked\n",
				orders.used);
		}
		ct__rawlock_unlock(&orders.lock);
		/* The first edge is the other thread's, from obj to held. */
		if (report)
			report_inversion(&inv, kind, atomic_load(&h->kind));
	}
}

/* ---- cycles of waits ----------------------------------------------------- */

#define CYCLE_MAX 32

struct cycle_step {
	struct dthread *t; /* waits for obj ... */
	const void *obj;
	unsigned kind;
	int64_t since;
	/* The wait's deadline: CT__NO_DEADLINE for none, or for a wait that
	 * does not give up when it passes. */
	int64_t deadline;
	/* The condition t was notified on: it waits for obj, that
	 * condition's lock, to take it back (NULL: a wait of its own). */
	const void *via;
	struct dthread *holder; /* ... held by holder (the next step's t) */
};

/* What @p t waits for, into @p s, if the walk follows it: a lock-like
 * object, or the lock a notified condition's waiter takes back. Relaxed
 * loads: a snapshot, confirmed by the second look (debug_internal.h). */
static bool next_wait(struct dthread *t, struct cycle_step *s)
{
	s->t = t;
	/* Relaxed: a snapshot (above), and below. A wait from before the hooks
	 * were last off may have ended unseen: not followed. */
	s->obj = ct__dbg_wait_obj(t, memory_order_relaxed);
	s->kind = atomic_load_explicit(&t->wait_kind, memory_order_relaxed);   /* relaxed: above */
	s->since = atomic_load_explicit(&t->wait_since, memory_order_relaxed); /* relaxed: above */
	/* Relaxed: as above. */
	s->deadline = atomic_load_explicit(&t->wait_deadline, memory_order_relaxed);
	s->via = NULL;
	if (s->obj && s->kind == CT__OBJ_CONDITION) {
		/* Relaxed: as above. */
		const void *lock = atomic_load_explicit(&t->requeued_to, memory_order_relaxed);
		if (!lock)
			return false; /* not notified: it waits for a notify */
		/* Notified: it takes the lock back with a plain acquire, whatever
		 * its wait's timeout. Its kind is the holder's (find_cycle_locked). */
		s->via = s->obj;
		s->obj = lock;
		s->kind = CT__OBJ_LOCK;
		s->deadline = CT__NO_DEADLINE;
		return true;
	}
	return s->obj && ct__dbg_lock_like(s->kind);
}

bool ct__dbg_followed_wait_locked(struct dthread *t, const void **obj, unsigned *kind)
{
	struct cycle_step s;
	if (!next_wait(t, &s))
		return false;
	struct dheld *slot;
	if (s.via && holder_slot_locked(t, s.obj, s.kind, &slot))
		/* Relaxed: a snapshot (debug_internal.h). */
		s.kind = atomic_load_explicit(&slot->kind, memory_order_relaxed);
	*obj = s.obj;
	*kind = s.kind;
	return true;
}

/* Follows waits from @p me, which is about to wait for @p obj until
 * @p deadline. Returns the number of steps of the cycle back to @p me, or
 * 0. Under threads_lock. */
static unsigned find_cycle_locked(struct dthread *me, const void *obj, unsigned kind,
				  int64_t deadline, struct cycle_step *steps)
{
	struct cycle_step s = {me, obj, kind, 0, deadline, NULL, NULL};
	for (unsigned n = 0; n < CYCLE_MAX; n++) {
		struct dheld *slot;
		s.holder = holder_slot_locked(s.t, s.obj, s.kind, &slot);
		if (!s.holder)
			return 0;
		if (s.via) /* the lock as its holder holds it: a Lock or an RLock */
			/* Relaxed: a snapshot (debug_internal.h). */
			s.kind = atomic_load_explicit(&slot->kind, memory_order_relaxed);
		steps[n] = s;
		if (s.holder == me)
			return n + 1;
		for (unsigned i = 0; i < n; i++)
			if (steps[i].t == s.holder)
				return 0; /* a cycle that does not go through me */
		if (!next_wait(s.holder, &s))
			return 0;
	}
	return 0;
}

static bool same_cycle(const struct cycle_step *a, const struct cycle_step *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		/* GCOVR_EXCL_BR_START: the second look finding another cycle: a thread of it moved
		 * in the 20 ms between the looks, a race no test can aim at */
		if (a[i].t != b[i].t || a[i].obj != b[i].obj || a[i].since != b[i].since)
			return false;
	/* GCOVR_EXCL_BR_STOP */
	return true;
}

/* How a cycle's report ends: what the thread that closed it does now. */
static void report_outcome(FILE *out, const struct cycle_step *breaker, bool timed,
			   bool abort_after)
{
	char what[160], who[DBG_NAME_MAX];
	if (timed) {
		fprintf(out, "cthreading: the timed call returns CT_EDEADLK\n");
	} else if (breaker) {
		ct__dbg_describe(breaker->obj, breaker->kind, what, sizeof what);
		ct__dbg_thread_name(breaker->t, who);
		fprintf(out,
			"cthreading: not a certain deadlock: the timed wait of thread \"%s\" "
			"for %s will break it; the thread keeps waiting\n",
			who, what);
	} else if (abort_after) {
		fprintf(out, "cthreading: aborting (CTHREADING=deadlock=report reports and keeps "
			     "waiting instead)\n");
	} else {
		fprintf(out, "cthreading: the thread keeps waiting (deadlock=report)\n");
	}
}

/* "  thread \"W\" waits for lock \"L\"" and, for a notified condition's
 * waiter, why. */
static void print_step_wait(FILE *out, const struct cycle_step *s, const char *who)
{
	char what[160], cond[160];
	ct__dbg_describe(s->obj, s->kind, what, sizeof what);
	fprintf(out, "  thread \"%s\" waits for %s", who, what);
	if (s->via) {
		ct__dbg_describe(s->via, CT__OBJ_CONDITION, cond, sizeof cond);
		fprintf(out, " (to take it back after its wait on %s)", cond);
	}
	fputc('\n', out);
}

static void report_cycle(const struct cycle_step *steps, unsigned n, void *site, bool timed,
			 const struct cycle_step *breaker, bool abort_after)
{
	char what[160], who[DBG_NAME_MAX], whom[DBG_NAME_MAX], where[160], taken[160];
	ct__rawlock_lock(&dbg.report_lock);
	FILE *out = ct__dbg_log();
	if (n == 1) {
		ct__dbg_describe(steps[0].obj, steps[0].kind, what, sizeof what);
		ct__dbg_thread_name(steps[0].t, who);
		ct__dbg_site(site, where, sizeof where);
		struct dheld *h = ct__dbg_held_slot(steps[0].t, steps[0].obj);
		/* GCOVR_EXCL_BR_START: a self-deadlock's lock is held by the asking thread itself,
		 * which is here reporting, not releasing: its slot is there */
		ct__dbg_site(h ? atomic_load(&h->site) : NULL, taken, sizeof taken);
		/* GCOVR_EXCL_BR_STOP */
		fprintf(out,
			"cthreading: self-deadlock: thread \"%s\" asks for %s\n"
			"      at %s\n"
			"    which it already holds, taken\n"
			"      at %s\n",
			who, what, where, taken);
	} else {
		fprintf(out, "cthreading: deadlock: a cycle of %u threads waiting for each other\n",
			n);
		for (unsigned i = 0; i < n; i++) {
			ct__dbg_thread_name(steps[i].t, who);
			ct__dbg_thread_name(steps[i].holder, whom);
			void *at = i == 0 ? site : atomic_load(&steps[i].t->wait_site);
			ct__dbg_site(at, where, sizeof where);
			if (steps[i].kind == CT__OBJ_THREAD) { /* the handle may be gone */
				fprintf(out, "  thread \"%s\" joins thread \"%s\"\n      at %s\n",
					who, whom, where);
				continue;
			}
			struct dheld *h = ct__dbg_held_slot(steps[i].holder, steps[i].obj);
			/* GCOVR_EXCL_BR_START: the holder was found by this slot under
			 * threads_lock; the slot is gone only if the holder released in between: a
			 * race no test can aim at */
			ct__dbg_site(h ? atomic_load(&h->site) : NULL, taken, sizeof taken);
			/* GCOVR_EXCL_BR_STOP */
			print_step_wait(out, &steps[i], who);
			fprintf(out,
				"      at %s\n"
				"    held by thread \"%s\", taken\n"
				"      at %s\n",
				where, whom, taken);
		}
	}
	report_outcome(out, breaker, timed, abort_after);
	fflush(out);
	ct__rawlock_unlock(&dbg.report_lock);
}

#ifdef CT_TEST_GCOV_DUMP
void __gcov_dump(void);
#endif

/* Ends the process after a deadlock's report. */
static _Noreturn void report_abort(void)
{
#ifdef CT_TEST_GCOV_DUMP
	__gcov_dump(); /* coverage builds: abort() would drop the counts */
#endif
	abort();
}

/* A wait of the cycle's other threads that has a deadline: when it passes,
 * that thread gives up and may let go of what it holds. NULL if none. */
static const struct cycle_step *timed_wait_of(const struct cycle_step *steps, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		if (steps[i].deadline != CT__NO_DEADLINE)
			return &steps[i];
	return NULL;
}

/* 0, or CT_EDEADLK when the wait @p me is about to begin closes a cycle. */
static int check_cycle(struct dthread *me, const void *obj, unsigned kind, int64_t deadline,
		       void *site)
{
	struct cycle_step steps[CYCLE_MAX], again[CYCLE_MAX];
	ct__rawlock_lock(&dbg.threads_lock);
	unsigned n = find_cycle_locked(me, obj, kind, deadline, steps);
	ct__rawlock_unlock(&dbg.threads_lock);
	if (n == 0)
		return 0;
	if (n > 1) {
		/* Make sure: the others must still wait where they waited. */
		(void)ct__park_sleep(ct__now_ns() + 20000000, CT__PARK_KEEP_GIL);
		ct__rawlock_lock(&dbg.threads_lock);
		unsigned m = find_cycle_locked(me, obj, kind, deadline, again);
		ct__rawlock_unlock(&dbg.threads_lock);
		/* GCOVR_EXCL_BR_START: as in same_cycle(): the cycle changed between the two looks,
		 * a race no test can aim at */
		if (m != n || !same_cycle(steps, again, n))
			return 0;
		/* GCOVR_EXCL_BR_STOP */
	}
	bool timed = deadline != CT__NO_DEADLINE;
	/* A plain acquire waits on when another wait of the cycle will end:
	 * no certain deadlock. (A timed call gives up: it is a cycle now.) */
	const struct cycle_step *breaker = timed ? NULL : timed_wait_of(steps, n);
	/* Relaxed: a switch (debug_internal.h). */
	bool keep = (atomic_load_explicit(&dbg.mode, memory_order_relaxed) & DBG_KEEP_WAITING) ||
		    breaker;
	report_cycle(steps, n, site, timed, breaker, !keep);
	if (timed)
		return CT_EDEADLK;
	if (!keep)
		report_abort();
	return 0;
}

/* ---- the hooks ----------------------------------------------------------- */

static void set_wait_since(struct dthread *me, const void *obj, unsigned kind, void *site,
			   int64_t since)
{
	/* Relaxed: the fields read with the object; the object's release below publishes them to
	 * the dumps (debug_internal.h). */
	atomic_store_explicit(&me->wait_kind, kind, memory_order_relaxed);
	atomic_store_explicit(&me->wait_site, site, memory_order_relaxed); /* relaxed: as above */
	/* Relaxed: as above. */
	atomic_store_explicit(&me->wait_since, since, memory_order_relaxed);
	/* Relaxed: as above; the epoch is a counter, compared only. */
	atomic_store_explicit(&me->wait_epoch,
			      atomic_load_explicit(&dbg.holds_epoch, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&me->wait_obj, obj, memory_order_release); /* release: see above */
}

static void set_wait(struct dthread *me, const void *obj, unsigned kind, void *site)
{
	set_wait_since(me, obj, kind, site, ct__dbg_now());
}

/* Makes @p me the record the requeued hook finds from the calling
 * thread's waiter record, if it has one (every park has: park_begin()). */
static void publish_record(struct dthread *me)
{
	struct ct__waiter *w = ct__tls_waiter;
	/* Relaxed: the thread's own field, stored before it queues a wait, which the mover of
	 * that wait reads under the queue's lock (requeued()). */
	if (w && atomic_load_explicit(&w->debug, memory_order_relaxed) != me)
		atomic_store_explicit(&w->debug, me, memory_order_relaxed); /* relaxed: as above */
}

/* What the next park waits on: @p obj of @p kind, and for a thread to
 * finish, that thread's @p ident. */
static void note_wait(const void *obj, unsigned kind, unsigned long ident)
{
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	publish_record(me);
	/* Relaxed: own record. Cleared before the wait is queued: a notify may move it as soon as
	 * it is, before its park_begin(). A notify of an earlier wait whose end the hooks missed
	 * (off then) must not count. */
	atomic_store_explicit(&me->requeued_to, NULL, memory_order_relaxed);
	me->pending_obj = obj;
	me->pending_kind = kind;
	/* Relaxed: own record (debug_internal.h). Set for every wait for a
	 * thread, not only a join's (acquiring()): the exit rule's would
	 * otherwise be judged by the ident of the last thread this one joined. */
	if (kind == CT__OBJ_THREAD)
		atomic_store_explicit(&me->wait_ident, ident, memory_order_relaxed);
	ct__dbg_leave(me);
}

static void waits_on(const void *obj, unsigned kind)
{
	note_wait(obj, kind, 0);
}

static void waits_on_thread(const void *handle, unsigned long ident)
{
	note_wait(handle, CT__OBJ_THREAD, ident);
}

static void park_begin(const void *key, int64_t deadline)
{
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	publish_record(me);	    /* for a wait no waits_on() announced */
	static const char sleeping; /* what a sleep waits on */
	/* A sleep (no key) is a sleep whatever was said before it. */
	const void *pending = key ? me->pending_obj : NULL;
	const void *obj = pending ? pending : key ? key : &sleeping;
	unsigned kind = pending ? me->pending_kind : key ? CT__OBJ_UNKNOWN : CT__OBJ_SLEEP;
	me->pending_obj = NULL;
	me->resume_at = 0;
	/* An acquire's wait goes on across its parks; its start stays. (A
	 * park inside it on another object, its GIL's, is a wait of its own
	 * until park_end() gives the acquire's back.) */
	if (!(me->acquiring && obj == me->acq.obj)) {
		/* Relaxed: published with the object by set_wait() (debug_internal.h). */
		atomic_store_explicit(&me->wait_deadline, deadline, memory_order_relaxed);
		set_wait(me, obj, kind, NULL);
		/* Relaxed: the thread's own record (debug_internal.h). */
		me->park_at = atomic_load_explicit(&me->wait_since, memory_order_relaxed);
	}
	ct__dbg_leave(me);
}

/* The hold of @p obj (an RWLock's write side) begins @p now: its writer
 * had taken the writers' lock, then waited for the readers to leave. */
static void restart_hold(struct dthread *me, const void *obj, int64_t now)
{
	struct dheld *h = ct__dbg_held_slot(me, obj);
	/* GCOVR_EXCL_BR_START: a writer past the writers' lock has its hold recorded, unless it
	 * took that lock while the hooks were off or had no memory for a slot */
	if (h)
		/* GCOVR_EXCL_BR_STOP */
		/* Relaxed: own record; read by a report as a snapshot (debug_internal.h). */
		atomic_store_explicit(&h->since, now, memory_order_relaxed);
}

static void park_end(int rc)
{
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	/* Relaxed: the thread's own record (debug_internal.h). A wait from
	 * before the hooks were last off is no wait: this park began unseen. */
	const void *obj = ct__dbg_wait_obj(me, memory_order_relaxed);
	/* Relaxed: the thread's own record (debug_internal.h). */
	unsigned kind = atomic_load_explicit(&me->wait_kind, memory_order_relaxed);
	me->park_at = 0;
	/* Relaxed: the notifier's store came before our wake-up (it moved us under the queue's
	 * lock), and nobody sets it again before our next park. */
	atomic_store_explicit(&me->requeued_to, NULL, memory_order_relaxed);
	/* Relaxed: a switch (debug_internal.h). */
	uint32_t mode = atomic_load_explicit(&dbg.mode, memory_order_relaxed);
	/* A wait for the GIL is recorded whole by the GIL's own hooks. */
	if (kind == CT__OBJ_GIL)
		mode &= ~(uint32_t)(DBG_PROFILE | DBG_TRACE);
	if (obj && !me->acquiring) {
		if (mode & (DBG_PROFILE | DBG_TRACE)) {
			/* Relaxed: the thread's own record (debug_internal.h). */
			int64_t since = atomic_load_explicit(&me->wait_since, memory_order_relaxed);
			int64_t now = ct__dbg_now();
			if (mode & DBG_PROFILE)
				ct__dbg_profile_waited(obj, kind, now - since);
			if (mode & DBG_TRACE)
				ct__dbg_trace_span(me, DBG_SPAN_WAIT, obj, kind, since, now, rc);
			/* A writer holds an RWLock once its readers are gone. */
			if (kind == CT__OBJ_RWLOCK_READERS)
				restart_hold(me, obj, now);
			/* A condition's wait takes its lock back at once (the
			 * next acquired): its hold begins now. */
			if (kind == CT__OBJ_CONDITION) {
				me->resume_at = now;
				/* Relaxed: the settings' generation, compared only. */
				me->resume_gen =
					atomic_load_explicit(&dbg.gen, memory_order_relaxed);
			}
		}
		/* Relaxed: the thread's own record (debug_internal.h). */
		atomic_store_explicit(&me->wait_obj, NULL, memory_order_relaxed);
	} else if (me->acquiring && obj != me->acq.obj) {
		/* A wait inside an acquire (for its GIL) is over: the acquire's
		 * own goes on, with its site, start and deadline. */
		/* Relaxed: published with the object by set_wait_since() (debug_internal.h). */
		atomic_store_explicit(&me->wait_deadline, me->acq.deadline, memory_order_relaxed);
		set_wait_since(me, me->acq.obj, me->acq.kind, me->acq.site, me->acq.since);
	}
	ct__dbg_leave(me);
}

static int acquiring(const void *obj, unsigned kind, int64_t deadline, void *site)
{
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return 0;
	int rc = 0;
	if (kind == CT__OBJ_THREAD) { /* our own join: the handle is alive */
		struct ct__thread *rec = ((const ct_thread_t *)obj)->ct__impl;
		/* The join checked the handle: it has a record. */
		bool running = atomic_load(&rec->state) == CT__T_RUNNING;
		/* Relaxed: own record (debug_internal.h). */
		atomic_store_explicit(&me->wait_ident, running ? atomic_load(&rec->ident) : 0,
				      memory_order_relaxed);
	}
	/* Relaxed: published with the object by set_wait() (debug_internal.h). */
	atomic_store_explicit(&me->wait_deadline, deadline, memory_order_relaxed);
	set_wait(me, obj, kind, site);
	me->acquiring = true;
	me->acq.deadline = deadline;
	/* Relaxed: the thread's own record (debug_internal.h). */
	me->acq.since = atomic_load_explicit(&me->wait_since, memory_order_relaxed);
	me->acq.obj = obj;
	me->acq.kind = kind;
	me->acq.site = site;
	/* Relaxed: a switch (debug_internal.h). */
	if (atomic_load_explicit(&dbg.mode, memory_order_relaxed) & DBG_DEADLOCK) {
		ct__dbg_refresh_name(me);
		if (kind != CT__OBJ_THREAD)
			check_order(me, obj, kind, site);
		rc = check_cycle(me, obj, kind, deadline, site);
	}
	ct__dbg_leave(me);
	return rc;
}

/* True when this acquire takes back a condition's lock right after its
 * wait (park_end noted when), with no wait of its own, under the same
 * settings: no user code ran since that reading. */
static bool resumes(const struct dthread *me)
{
	return me->resume_at && !me->acquiring &&
	       /* GCOVR_EXCL_BR_START: the settings changed by another thread between this
		* thread's park_end and here, a window of a few instructions in which this
		* thread runs no user code: a race no test can aim at */
	       /* Relaxed: the settings' generation, compared only. */
	       me->resume_gen == atomic_load_explicit(&dbg.gen, memory_order_relaxed);
	/* GCOVR_EXCL_BR_STOP */
}

static bool gave_up(int rc)
{
	return rc == CT_ETIMEDOUT || rc == CT_ESTOPPED;
}

/* An acquire's or a join's end, into the profile: an acquisition, a wait
 * that gave up (a try that found the lock taken waited for nothing), a
 * join's wait under its thread's name. */
static void profile_acquire(const void *obj, unsigned kind, void *site, int rc, bool waited,
			    int64_t ticks)
{
	if (kind == CT__OBJ_THREAD) {
		if (rc == 0 || gave_up(rc)) { /* the joiner's handle is alive */
			/* A copy made under the renames' lock: a thread still running
			 * (a join timed out) may rename itself, and free the old name,
			 * meanwhile. */
			char name[DBG_NAME_MAX];
			ct__thread_name_copy(obj, name, sizeof name);
			ct__dbg_profile_joined(obj, ((const ct_thread_t *)obj)->ct__impl, name,
					       rc == 0, ticks);
		}
	} else if (rc == 0 || (waited && gave_up(rc))) {
		ct__dbg_profile_acquired(obj, kind, site, ticks, waited, rc);
	}
}

/* A free hold slot of @p me, in a block added if all are taken; NULL (said
 * once) when there is no memory for one. */
static struct dheld *free_slot(struct dthread *me)
{
	struct dheld_block *last = &me->held;
	DBG_FOR_HELD (me, h) {
		/* Relaxed: own record. A hold from before the hooks were last off is a free
		 * slot. */
		if (!ct__dbg_held_obj(h, memory_order_relaxed))
			return h;
		last = h_block;
	}
	struct dheld_block *more = ct__dbg_alloc(sizeof *more);
	if (!more) {
		static atomic_flag said = ATOMIC_FLAG_INIT;
		if (!atomic_flag_test_and_set(&said)) {
			/* One report at a time: not inside another's lines. */
			ct__rawlock_lock(&dbg.report_lock);
			fprintf(ct__dbg_log(), "cthreading: deadlock: no memory to record a hold; "
					       "cycles through it are not found\n");
			fflush(ct__dbg_log());
			ct__rawlock_unlock(&dbg.report_lock);
		}
		return NULL;
	}
	/* Release: the new block's cleared slots before a reader finds it. */
	atomic_store_explicit(&last->next, more, memory_order_release);
	return &more->slot[0];
}

static void acquired(const void *obj, unsigned kind, void *site, int rc, bool waited, bool blocking)
{
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	/* Relaxed: a switch (debug_internal.h). */
	uint32_t mode = atomic_load_explicit(&dbg.mode, memory_order_relaxed);
	int64_t now = 0;
	if (mode & (DBG_PROFILE | DBG_TRACE))
		now = resumes(me) ? me->resume_at : ct__dbg_now();
	me->resume_at = 0;
	int64_t waited_ticks = 0;
	if (me->acquiring) {
		/* From the acquire's start, whatever waits came inside it. */
		waited_ticks = now - me->acq.since;
		me->acquiring = false;
		if (mode & DBG_TRACE)
			ct__dbg_trace_span(me, DBG_SPAN_WAIT, obj, kind, me->acq.since, now, rc);
		/* Relaxed: nothing is published by clearing it. */
		atomic_store_explicit(&me->wait_obj, NULL, memory_order_relaxed);
	}
	if (rc == 0 && kind != CT__OBJ_THREAD) {
		if (blocking && !waited && (mode & DBG_DEADLOCK))
			check_order(me, obj, kind, site);
		struct dheld *h = free_slot(me);
		if (h) {
			/* Relaxed: published by the object's release store below
			 * (debug_internal.h). */
			atomic_store_explicit(&h->kind, kind, memory_order_relaxed);
			/* Relaxed: as above. */
			atomic_store_explicit(&h->site, site, memory_order_relaxed);
			/* Relaxed: as above. */
			atomic_store_explicit(&h->since, now, memory_order_relaxed);
			/* Relaxed: as above. */
			atomic_store_explicit(
				&h->epoch,
				atomic_load_explicit(&dbg.holds_epoch, memory_order_relaxed),
				memory_order_relaxed);
			/* Release: see above. */
			atomic_store_explicit(&h->obj, obj, memory_order_release);
		}
	}
	if (mode & DBG_PROFILE)
		profile_acquire(obj, kind, site, rc, waited, waited_ticks);
	ct__dbg_leave(me);
}

/* Takes @p obj out of @p t's held slots (any thread may release a Lock). */
static bool drop_held(struct dthread *me, struct dthread *t, const void *obj)
{
	struct dheld *h = ct__dbg_held_slot(t, obj);
	if (!h)
		return false;
	const void *expected = obj;
	/* Relaxed: snapshots (debug_internal.h), read by the releasing thread. */
	int64_t since = atomic_load_explicit(&h->since, memory_order_relaxed);
	/* Relaxed: as above. */
	unsigned kind = atomic_load_explicit(&h->kind, memory_order_relaxed);
	/* Relaxed: clearing publishes nothing. */
	if (t == me) /* its own slot: only a second release could race, a bug */
		atomic_store_explicit(&h->obj, NULL, memory_order_relaxed);
	/* Relaxed: only which thread clears the slot matters; clearing publishes nothing. */
	/* GCOVR_EXCL_BR_START: another thread clearing the slot first (two releases of one hold
	 * racing): a race no test can aim at */
	else if (!atomic_compare_exchange_strong_explicit(
			 &h->obj, &expected, NULL, memory_order_relaxed, memory_order_relaxed))
		return false;
	/* GCOVR_EXCL_BR_STOP */
	if (since) {
		/* Released by a park of ours (before it sleeps): when it began. */
		int64_t now = t == me && me->park_at ? me->park_at : ct__dbg_now();
		/* Relaxed: a switch (debug_internal.h). */
		uint32_t mode = atomic_load_explicit(&dbg.mode, memory_order_relaxed);
		if (mode & DBG_PROFILE)
			ct__dbg_profile_released(obj, kind, now - since);
		if ((mode & DBG_TRACE) && now - since >= ct__dbg_hold_span_ticks)
			ct__dbg_trace_span(me, DBG_SPAN_HOLD, obj, kind, since, now, 0);
	}
	return true;
}

static void released(const void *obj)
{
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	if (!drop_held(me, me, obj)) {
		ct__rawlock_lock(&dbg.threads_lock);
		/* Acquire: the list of records (debug_internal.h). */
		for (struct dthread *t = atomic_load_explicit(&dbg.threads, memory_order_acquire);
		     t; t = t->next)
			if (t != me && drop_held(me, t, obj))
				break;
		ct__rawlock_unlock(&dbg.threads_lock);
	}
	ct__dbg_leave(me);
}

/* A condition's notify moved the thread parked with @p parker onto @p to,
 * the lock's word: it now waits to take the lock back (next_wait()). The
 * parker is the first member of the thread's waiter record, alive while
 * the thread is queued; its record was published there before the
 * thread queued this wait (note_wait()). */
static void requeued(const void *parker, const void *to)
{
	struct ct__waiter *w = (struct ct__waiter *)(uintptr_t)parker;
	/* Relaxed: stored by the parked thread before it queued itself under the bucket lock
	 * the mover holds now, which orders the two. */
	struct dthread *t = atomic_load_explicit(&w->debug, memory_order_relaxed);
	if (t) /* NULL: a thread that has passed no hook (parked before they were on) */
		/* Relaxed: read as a snapshot by the cycle check (debug_internal.h). */
		atomic_store_explicit(&t->requeued_to, to, memory_order_relaxed);
}
_Static_assert(offsetof(struct ct__waiter, parker) == 0,
	       "requeued() finds the waiter record from its parker");

const struct ct__debug_hooks ct__dbg_hooks = {
	.destroyed = ct__dbg_destroyed,
	.waits_on = waits_on,
	.waits_on_thread = waits_on_thread,
	.park_begin = park_begin,
	.park_end = park_end,
	.requeued = requeued,
	.acquiring = acquiring,
	.acquired = acquired,
	.released = released,
	.gil_wait = ct__dbg_gil_wait,
	.gil_taken = ct__dbg_gil_taken,
	.gil_given = ct__dbg_gil_given,
	.now = ct__dbg_clock,
	.task_begin = ct__dbg_task_begin,
	.task_end = ct__dbg_task_end,
	.depth = ct__dbg_depth,
	.depth_reentrant = ct__dbg_depth_reentrant,
};
