/* The contention profile and the timeline trace.
 *
 * Profile: a table keyed by object address, under one raw lock, updated on
 * each acquire, release and wait while `profile` is on; a named object's
 * entry moves, when it is destroyed, to a table of the destroyed objects
 * keyed by kind and name.
 *
 * Trace: each thread writes its own ring of events without any lock (its
 * record's buffer; when full, the oldest events are overwritten and
 * counted as dropped). The writer reads every ring at exit or on demand
 * and emits Chrome's Trace Event Format: one "X" (complete) event per span,
 * one thread_name metadata event per thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug/debug_internal.h"

static struct ct__rawlock interned_lock = CT__RAWLOCK_INIT, gone_lock = CT__RAWLOCK_INIT;

/* ---- profile ------------------------------------------------------------- */

#define PROF_LOG2 12
#define PROF_SLOTS (1u << PROF_LOG2)
#define GONE_MIN_LOG2 8

struct prof {
	const void *obj; /* NULL: empty (in the table of the destroyed: its first object) */
	unsigned kind;
	/* A join's: the joined thread's name at the last join, the thread's
	 * record (compared only) and whether that join saw it end. The
	 * destroyed objects' table: their name (its key, with the kind). */
	char name[DBG_NAME_MAX];
	const void *thread;
	bool ended;
	uint64_t objects; /* the destroyed objects' table: how many */
	void *site;	  /* first taken at */
	uint64_t acquisitions, contended, waits;
	uint64_t timed_out, stopped; /* contended waits that gave up */
	int64_t wait_total, wait_max, hold_total;
	/* Which waits (of `waits`): a queue's gets on empty and puts on full;
	 * an RWLock's readers, and its writer waiting for readers to leave. */
	uint64_t waits_empty, waits_full, read_waits, drain_waits;
	/* An executor's tasks: their queueing delay (submit to start) is the
	 * entry's wait; their run time here. */
	uint64_t tasks;
	int64_t run_total, run_max;
};

/* Two tables under one raw lock: the live objects' by address (fixed:
 * beyond its room, updates are counted as lost), and the destroyed named
 * objects' by kind and name, which a destroy moves an entry into (merged
 * with those of the same kind and name) and which grows as needed: a
 * live object's slot is never taken by dead ones. */
static struct {
	struct ct__rawlock lock;
	struct prof *table;
	unsigned used;
	uint64_t lost; /* updates for objects beyond the table's room */
	struct prof *gone;
	unsigned gone_log2, gone_used;
} prof = {.lock = CT__RAWLOCK_INIT};

/* The hashes of this file: a string's FNV-1a from @p basis, and a
 * Fibonacci multiply that spreads any 64-bit value over the top bits (a
 * bijection: distinct values stay distinct). */
static uint64_t fnv1a(const char *s, uint64_t basis)
{
	uint64_t h = basis;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

static uint64_t mix(uint64_t h)
{
	return h * UINT64_C(0x9E3779B97F4A7C15);
}

#define FNV_BASIS UINT64_C(14695981039346656037)

static unsigned hash_ptr(const void *p, unsigned log2)
{
	return (unsigned)(mix((uint64_t)(uintptr_t)p) >> (64 - log2));
}

/* The slot of @p obj's entry, or the empty slot that ends its search. At
 * most 3/4 of the slots are used: an empty slot ends every search. Under
 * prof.lock, with the table made. */
static struct prof *prof_slot(const void *obj)
{
	for (unsigned i = hash_ptr(obj, PROF_LOG2);; i = (i + 1) & (PROF_SLOTS - 1)) {
		struct prof *p = &prof.table[i];
		if (p->obj == obj || !p->obj)
			return p;
	}
}

/* Empties @p p's slot; the entries after it in its run move back where
 * their search finds them (linear probing's deletion). */
static void prof_remove(struct prof *p)
{
	unsigned i = (unsigned)(p - prof.table);
	for (unsigned j = (i + 1) & (PROF_SLOTS - 1); prof.table[j].obj;
	     j = (j + 1) & (PROF_SLOTS - 1)) {
		unsigned home = hash_ptr(prof.table[j].obj, PROF_LOG2);
		/* Stays if its home lies in (i, j], cyclically. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		prof.table[i] = prof.table[j];
		i = j;
	}
	memset(&prof.table[i], 0, sizeof prof.table[i]);
	prof.used--;
}

/* The entry of @p obj, made if needed; NULL when full. Under prof.lock. */
static struct prof *prof_entry(const void *obj, unsigned kind)
{
	if (!prof.table && !(prof.table = ct__dbg_alloc(PROF_SLOTS * sizeof *prof.table)))
		return NULL;
	struct prof *p = prof_slot(obj);
	if (p->obj)
		return p;
	if (prof.used >= PROF_SLOTS * 3 / 4) {
		prof.lost++;
		return NULL;
	}
	prof.used++;
	p->obj = obj;
	p->kind = kind;
	return p;
}

static unsigned hash_name(const char *name, unsigned kind, unsigned log2)
{
	return (unsigned)(mix(fnv1a(name, FNV_BASIS ^ kind)) >> (64 - log2));
}

/* The destroyed objects' slot of @p name and @p kind in @p table, or the
 * empty slot that ends its search. */
static struct prof *gone_slot(struct prof *table, unsigned log2, const char *name, unsigned kind)
{
	unsigned mask = (1u << log2) - 1;
	for (unsigned i = hash_name(name, kind, log2);; i = (i + 1) & mask) {
		struct prof *p = &table[i];
		if (!p->obj || (p->kind == kind && strcmp(p->name, name) == 0))
			return p;
	}
}

/* Doubles the destroyed objects' table (or makes it); false without
 * memory. */
static bool gone_grow(void)
{
	unsigned log2 = prof.gone ? prof.gone_log2 + 1 : GONE_MIN_LOG2;
	struct prof *table = ct__dbg_alloc(((size_t)1 << log2) * sizeof *table);
	if (!table)
		return false;
	for (unsigned i = 0; prof.gone && i < 1u << prof.gone_log2; i++)
		if (prof.gone[i].obj)
			*gone_slot(table, log2, prof.gone[i].name, prof.gone[i].kind) =
				prof.gone[i];
	free(prof.gone);
	prof.gone = table;
	prof.gone_log2 = log2;
	return true;
}

static void add_wait(struct prof *p, int64_t waited_ns)
{
	p->wait_total += waited_ns;
	if (waited_ns > p->wait_max)
		p->wait_max = waited_ns;
}

/* @p from's figures added to @p to's. */
static void merge(struct prof *to, const struct prof *from)
{
	if (!to->site)
		to->site = from->site;
	to->acquisitions += from->acquisitions;
	to->contended += from->contended;
	to->waits += from->waits;
	to->timed_out += from->timed_out;
	to->stopped += from->stopped;
	to->wait_total += from->wait_total;
	to->wait_max = from->wait_max > to->wait_max ? from->wait_max : to->wait_max;
	to->hold_total += from->hold_total;
	to->waits_empty += from->waits_empty;
	to->waits_full += from->waits_full;
	to->read_waits += from->read_waits;
	to->drain_waits += from->drain_waits;
	to->tasks += from->tasks;
	to->run_total += from->run_total;
	to->run_max = from->run_max > to->run_max ? from->run_max : to->run_max;
}

/* The live entry @p p, of an object now gone that was named @p name,
 * moves to the destroyed objects' table: its slot is free for others.
 * Without memory for that table, it stays as it was. Under prof.lock. */
static void prof_retire(struct prof *p, const char *name)
{
	char key[DBG_NAME_MAX];
	snprintf(key, sizeof key, "%s", name); /* cut as a join's name is */
	if (prof.gone_used >= (prof.gone ? 3u << prof.gone_log2 >> 2 : 0) && !gone_grow())
		return;
	struct prof *g = gone_slot(prof.gone, prof.gone_log2, key, p->kind);
	if (!g->obj) {
		prof.gone_used++;
		g->obj = p->obj;
		g->kind = p->kind;
		memcpy(g->name, key, sizeof key);
	}
	g->objects++;
	merge(g, p);
	prof_remove(p);
}

void ct__dbg_profile_fork(int phase)
{
	ct__dbg_fork_lock(&prof.lock, phase);
	ct__dbg_fork_lock(&interned_lock, phase);
	ct__dbg_fork_lock(&gone_lock, phase);
}

void ct__dbg_profile_acquired(const void *obj, unsigned kind, void *site, int64_t waited_ns,
			      bool contended, int rc)
{
	ct__rawlock_lock(&prof.lock);
	struct prof *p = prof_entry(obj, kind);
	if (p) {
		if (!p->site)
			p->site = site;
		p->acquisitions += rc == 0;
		p->timed_out += rc == CT_ETIMEDOUT;
		p->stopped += rc == CT_ESTOPPED;
		if (contended) {
			p->contended++;
			add_wait(p, waited_ns);
		}
	}
	ct__rawlock_unlock(&prof.lock);
}

void ct__dbg_profile_released(const void *obj, unsigned kind, int64_t held_ns)
{
	ct__rawlock_lock(&prof.lock);
	struct prof *p = prof_entry(obj, kind);
	if (p)
		p->hold_total += held_ns;
	ct__rawlock_unlock(&prof.lock);
}

void ct__dbg_profile_waited(const void *obj, unsigned kind, int64_t waited_ns)
{
	bool queue = kind == CT__OBJ_QUEUE_EMPTY || kind == CT__OBJ_QUEUE_FULL;
	bool rwlock = kind == CT__OBJ_RWLOCK_READERS;
	ct__rawlock_lock(&prof.lock);
	struct prof *p = prof_entry(obj, queue ? CT__OBJ_QUEUE : rwlock ? CT__OBJ_RWLOCK : kind);
	if (p) {
		p->waits++;
		p->waits_empty += kind == CT__OBJ_QUEUE_EMPTY;
		p->waits_full += kind == CT__OBJ_QUEUE_FULL;
		p->read_waits += kind == CT__OBJ_RWLOCK; /* a writer's waits are acquisitions */
		p->drain_waits += rwlock;
		add_wait(p, waited_ns);
	}
	ct__rawlock_unlock(&prof.lock);
}

/* Whether the entry @p p of a join's handle counted another thread than
 * @p thread, named @p name: another record, or the same address for a new
 * record (the one it counted ended) under another name. A thread that
 * renames itself while it runs keeps its entry. */
static bool another_thread(const struct prof *p, const void *thread, const char *name)
{
	return p->name[0] &&
	       (p->thread != thread || (p->ended && strncmp(p->name, name, DBG_NAME_MAX - 1) != 0));
}

void ct__dbg_profile_joined(const void *handle, const void *thread, const char *name, bool ended,
			    int64_t waited_ns)
{
	ct__rawlock_lock(&prof.lock);
	struct prof *p = prof_entry(handle, CT__OBJ_THREAD);
	/* Another thread's handle at the address of one joined before: an
	 * entry of its own (the old one goes with the destroyed objects). */
	if (p && another_thread(p, thread, name)) {
		char old[DBG_NAME_MAX];
		memcpy(old, p->name, sizeof old);
		prof_retire(p, old);
		p = prof_entry(handle, CT__OBJ_THREAD);
	}
	if (p) {
		snprintf(p->name, sizeof p->name, "%s", name);
		p->thread = thread;
		p->ended = ended;
		p->waits++;
		add_wait(p, waited_ns);
	}
	ct__rawlock_unlock(&prof.lock);
}

/* @p obj, named @p name, is destroyed: its live entry, if any, retires. */
static void profile_retire(const void *obj, const char *name)
{
	ct__rawlock_lock(&prof.lock);
	struct prof *p = prof.table ? prof_slot(obj) : NULL;
	if (p && p->obj)
		prof_retire(p, name);
	ct__rawlock_unlock(&prof.lock);
}

/* A task of @p executor waited @p delay from its submit to its start, then
 * ran for @p run (ticks). */
static void profile_task(const void *executor, int64_t delay, int64_t run)
{
	ct__rawlock_lock(&prof.lock);
	struct prof *p = prof_entry(executor, CT__OBJ_EXECUTOR);
	if (p) {
		p->tasks++;
		add_wait(p, delay);
		p->run_total += run;
		if (run > p->run_max)
			p->run_max = run;
	}
	ct__rawlock_unlock(&prof.lock);
}

/* The details of an entry's waits, after "N waits". */
static void print_waits(FILE *out, const struct prof *p)
{
	if (p->waits_empty || p->waits_full)
		fprintf(out, " (%llu on empty, %llu on full)", (unsigned long long)p->waits_empty,
			(unsigned long long)p->waits_full);
	if (p->read_waits || p->drain_waits)
		fprintf(out, " (%llu by readers, %llu by a writer for readers to leave)",
			(unsigned long long)p->read_waits, (unsigned long long)p->drain_waits);
}

/* " N acquisitions, M contended," and how many of those waits gave up. */
static void print_acquisitions(FILE *out, const struct prof *p)
{
	fprintf(out, " %llu acquisitions, %llu contended", (unsigned long long)p->acquisitions,
		(unsigned long long)p->contended);
	if (p->timed_out)
		fprintf(out, ", %llu timed out", (unsigned long long)p->timed_out);
	if (p->stopped)
		fprintf(out, ", %llu stopped", (unsigned long long)p->stopped);
	fputc(',', out);
}

/* "lock \"name\"" from a copy of the name. */
static void named(unsigned kind, const char *name, char *buf, size_t size)
{
	char copy[DBG_NAME_MAX];
	snprintf(copy, sizeof copy, "%s", name);
	ct__dbg_printable(copy);
	snprintf(buf, size, "%s \"%s\"", ct__dbg_kind_name(kind), copy);
}

static int by_total_wait(const void *a, const void *b)
{
	const struct prof *x = a, *y = b;
	return (x->wait_total < y->wait_total) - (x->wait_total > y->wait_total);
}

/* Copies of every entry (the live ones, then the destroyed objects', which
 * alone have a count of objects), in *@p copy (to free), *@p n of them;
 * NULL for none, or without memory (false). Under prof.lock. */
static bool prof_copy_locked(struct prof **copy, unsigned *n)
{
	unsigned gone_slots = prof.gone ? 1u << prof.gone_log2 : 0;
	*n = 0;
	*copy = NULL;
	if (!prof.used && !prof.gone_used)
		return true;
	*copy = ct__dbg_alloc((prof.used + prof.gone_used) * sizeof **copy);
	if (!*copy)
		return false;
	/* GCOVR_EXCL_BR_START: entries to copy but no table cannot be: a destroyed object's
	 * entry (gone_used) was first a live one in the table, which is never freed */
	for (unsigned i = 0; prof.table && i < PROF_SLOTS; i++)
		/* GCOVR_EXCL_BR_STOP */
		if (prof.table[i].obj)
			(*copy)[(*n)++] = prof.table[i];
	for (unsigned i = 0; i < gone_slots; i++)
		if (prof.gone[i].obj)
			(*copy)[(*n)++] = prof.gone[i];
	return true;
}

/* What the report calls @p p: a live object by its name now (a join by
 * its handle's name, else its thread's), a destroyed one by the name it
 * had, with how many there were of that kind and name. */
static void prof_label(const struct prof *p, bool gone, char *buf, size_t size)
{
	char what[160];
	if (gone || (p->name[0] && !ct_object_get_name(p->obj, NULL, 0)))
		named(p->kind, p->name, what, sizeof what);
	else
		ct__dbg_describe(p->obj, p->kind, what, sizeof what);
	if (gone && p->objects > 1)
		snprintf(buf, size, "%s (%llu destroyed)", what, (unsigned long long)p->objects);
	else
		snprintf(buf, size, "%s", what);
}

/* One entry's line. */
static void print_entry(FILE *out, const struct prof *p, bool gone, double ms)
{
	char what[200], site[160];
	prof_label(p, gone, what, sizeof what);
	fprintf(out, "%s:", what);
	if (p->acquisitions || p->contended)
		print_acquisitions(out, p);
	if (p->waits) {
		fprintf(out, " %llu waits", (unsigned long long)p->waits);
		print_waits(out, p);
		fputc(',', out);
	}
	if (p->tasks)
		fprintf(out,
			" %llu tasks, run time %.3f ms, longest %.3f ms, queueing delay"
			" (submit to start) %.3f ms, longest %.3f ms",
			(unsigned long long)p->tasks, (double)p->run_total * ms,
			(double)p->run_max * ms, (double)p->wait_total * ms,
			(double)p->wait_max * ms);
	else
		fprintf(out, " total wait %.3f ms, longest %.3f ms", (double)p->wait_total * ms,
			(double)p->wait_max * ms);
	if (p->acquisitions || p->hold_total)
		fprintf(out, ", held %.3f ms", (double)p->hold_total * ms);
	if (p->site) {
		ct__dbg_site(p->site, site, sizeof site);
		fprintf(out, "; first taken at %s", site);
	}
	fputc('\n', out);
}

int ct_profile_report(FILE *out)
{
	if (!out)
		return CT_EINVAL;
	struct prof *copy;
	unsigned n;
	ct__rawlock_lock(&prof.lock);
	bool ok = prof_copy_locked(&copy, &n);
	uint64_t lost = prof.lost;
	ct__rawlock_unlock(&prof.lock);
	if (!ok)
		return CT_ENOMEM;
	if (n > 0)
		qsort(copy, n, sizeof *copy, by_total_wait);
	double ms = ct__dbg_scale() / 1e6; /* per tick */
	flockfile(out);
	fprintf(out, "cthreading contention profile: %u object%s, by total wait\n", n,
		n == 1 ? "" : "s");
	for (unsigned i = 0; i < n; i++)
		print_entry(out, &copy[i], copy[i].objects > 0, ms);
	if (lost)
		fprintf(out, "(%llu updates for objects beyond the table's room not counted)\n",
			(unsigned long long)lost);
	fflush(out);
	funlockfile(out);
	free(copy);
	return 0;
}

/* ---- trace --------------------------------------------------------------- */

#define TRACE_EVENTS 16384 /* per thread: 768 KiB (48-byte events) */

/* One event: a span [begin, end] of a wait, hold or task, or a counter's
 * value (aux) at begin. A task's obj is its function or, when its future
 * was named, the interned name; obj2 its executor; aux its queueing delay;
 * rc says which (TASK_*). */
enum { TASK_FUNCTION, TASK_NAMED, TASK_MAP };
struct tevent {
	_Atomic int64_t begin, end, aux;
	_Atomic(const void *) obj, obj2;
	_Atomic uint32_t kind_type; /* kind << 8 | type */
	_Atomic int32_t rc;
};

struct tbuf {
	_Atomic uint64_t n; /* events ever written */
	struct tevent ev[TRACE_EVENTS];
};

/* The next event slot of @p me's ring (made on first use), or NULL. Its
 * writer fills it, then publishes it with commit(). Only the owner writes;
 * the release store of n is the one ordering the ring needs (plain stores
 * on x86-64 and one barrier on Arm). */
static struct tevent *slot(struct dthread *me, struct tbuf **bp)
{
	struct tbuf *b = me->trace;
	if (CT__UNLIKELY(!b)) {
		b = ct__dbg_alloc(sizeof *b);
		if (!b)
			return NULL;
		/* Release: the buffer before a reader finds it. */
		__atomic_store_n(&me->trace, b, __ATOMIC_RELEASE);
	}
	*bp = b;
	/* Relaxed: the owner's own count. */
	return &b->ev[atomic_load_explicit(&b->n, memory_order_relaxed) % TRACE_EVENTS];
}

static void put(struct tevent *e, int type, unsigned kind, int64_t begin, int64_t end,
		const void *obj, int rc)
{
	/* Relaxed: published by commit()'s release of the count. */
	atomic_store_explicit(&e->begin, begin, memory_order_relaxed);
	atomic_store_explicit(&e->end, end, memory_order_relaxed); /* relaxed: as above */
	atomic_store_explicit(&e->obj, obj, memory_order_relaxed); /* relaxed: as above */
	/* Relaxed: as above. */
	atomic_store_explicit(&e->kind_type, kind << 8 | (unsigned)type, memory_order_relaxed);
	/* Relaxed: published by commit()'s release of the count. */
	atomic_store_explicit(&e->rc, rc, memory_order_relaxed);
}

static void commit(struct tbuf *b)
{
	/* Relaxed: the owner's own count. */
	atomic_store_explicit(&b->n, atomic_load_explicit(&b->n, memory_order_relaxed) + 1,
			      memory_order_release);
}

void ct__dbg_trace_span(struct dthread *me, int type, const void *obj, unsigned kind, int64_t begin,
			int64_t end, int rc)
{
	struct tbuf *b;
	struct tevent *e = slot(me, &b);
	if (!e)
		return;
	put(e, type, kind, begin, end, obj, rc);
	commit(b);
}

/* ---- the recording hooks ------------------------------------------------- */

/* The recording's epoch: a span begun in another ended unseen. */
static uint32_t record_epoch(void)
{
	/* Relaxed: compared only, as the settings' generation (debug_internal.h). */
	return atomic_load_explicit(&dbg.record_epoch, memory_order_relaxed);
}

void ct__dbg_gil_wait(const void *gil)
{
	(void)gil;
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	me->gil_wait_since = ct__dbg_now();
	me->gil_wait_epoch = record_epoch();
	ct__dbg_leave(me);
}

/* A wait for or hold of @p gil from *@p since (begun in recording epoch
 * @p epoch) to @p now, into the profile and the trace, unless it began
 * before recording was last off; *@p since is then 0 (nothing under
 * way). */
static void gil_span(struct dthread *me, int type, const void *gil, int64_t *since, uint32_t epoch,
		     int64_t now)
{
	int64_t begun = *since;
	*since = 0;
	if (!begun || epoch != record_epoch())
		return;
	/* Relaxed: a switch (debug_internal.h). */
	uint32_t mode = atomic_load_explicit(&dbg.mode, memory_order_relaxed);
	if ((mode & DBG_PROFILE) && type == DBG_SPAN_WAIT)
		ct__dbg_profile_waited(gil, CT__OBJ_GIL, now - begun);
	else if (mode & DBG_PROFILE)
		ct__dbg_profile_released(gil, CT__OBJ_GIL, now - begun);
	if (mode & DBG_TRACE)
		ct__dbg_trace_span(me, type, gil, CT__OBJ_GIL, begun, now, 0);
}

void ct__dbg_gil_taken(const void *gil)
{
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	int64_t now = ct__dbg_now();
	gil_span(me, DBG_SPAN_WAIT, gil, &me->gil_wait_since, me->gil_wait_epoch, now);
	me->gil_hold_since = now;
	me->gil_hold_epoch = record_epoch();
	ct__dbg_leave(me);
}

void ct__dbg_gil_given(const void *gil)
{
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	if (me->gil_hold_since)
		gil_span(me, DBG_SPAN_HOLD, gil, &me->gil_hold_since, me->gil_hold_epoch,
			 ct__dbg_now());
	ct__dbg_leave(me);
}

void ct__dbg_task_begin(const void *executor, int64_t queued)
{
	(void)executor;
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	me->task_queued = queued;
	me->task_since = ct__dbg_now();
	ct__dbg_leave(me);
}

/* A chained hash table whose buckets double as it fills: the interned
 * names and the notes of destroyed objects, both kept to the end. */
struct hnode {
	struct hnode *next;
	uint64_t hash; /* well mixed: its high bits pick the bucket */
};
struct htab {
	struct hnode **bucket;
	unsigned log2;
	size_t n;
};

/* The chain @p hash is in (NULL: empty, or no table yet). */
static struct hnode *htab_chain(const struct htab *t, uint64_t hash)
{
	return t->bucket ? t->bucket[hash >> (64 - t->log2)] : NULL;
}

/* Twice the buckets (256 to begin with); false without memory. */
static bool htab_grow(struct htab *t)
{
	unsigned log2 = t->bucket ? t->log2 + 1 : 8;
	struct hnode **bucket = ct__dbg_alloc(sizeof *bucket << log2);
	if (!bucket)
		return false;
	for (size_t i = 0; t->bucket && i < (size_t)1 << t->log2; i++)
		for (struct hnode *n = t->bucket[i], *next; n; n = next) {
			next = n->next;
			n->next = bucket[n->hash >> (64 - log2)];
			bucket[n->hash >> (64 - log2)] = n;
		}
	free(t->bucket);
	t->bucket = bucket;
	t->log2 = log2;
	return true;
}

/* Adds @p node (its hash set); false without memory for a first table (a
 * table that cannot grow keeps its buckets, with longer chains). */
static bool htab_add(struct htab *t, struct hnode *node)
{
	if ((!t->bucket || t->n >= (size_t)1 << t->log2) && !htab_grow(t) && !t->bucket)
		return false;
	struct hnode **head = &t->bucket[node->hash >> (64 - t->log2)];
	node->next = *head;
	*head = node;
	t->n++;
	return true;
}

/* Names copied for the trace, written when their objects may be gone:
 * futures' (when their task ends), and destroyed objects'; kept to the
 * end, each once. Under interned_lock. */
struct interned {
	struct hnode node;
	char name[];
};
static struct htab interned;

static uint64_t hash_string(const char *s)
{
	return mix(fnv1a(s, FNV_BASIS));
}

static const char *intern(const char *name)
{
	uint64_t hash = hash_string(name);
	ct__rawlock_lock(&interned_lock);
	struct interned *i = NULL;
	for (struct hnode *n = htab_chain(&interned, hash); n && !i; n = n->next)
		if (n->hash == hash &&
		    /* GCOVR_EXCL_BR_START: equal hashes of unequal names: a collision of 64-bit
		     * FNV-1a (mix() is a bijection), which no test can make */
		    strcmp(((struct interned *)n)->name, name) == 0)
			/* GCOVR_EXCL_BR_STOP */
			i = (struct interned *)n;
	size_t len = strlen(name);
	if (!i && (i = ct__dbg_alloc(sizeof *i + len + 1))) {
		memcpy(i->name, name, len + 1);
		i->node.hash = hash;
		if (!htab_add(&interned, &i->node)) {
			free(i);
			i = NULL;
		}
	}
	ct__rawlock_unlock(&interned_lock);
	return i ? i->name : NULL;
}

/* The names objects destroyed while the trace was on had, and until when:
 * the trace names each event's object by the name it had then (the name
 * table forgot it, and a later object may have its address). One entry
 * per address, its notes in the order of the destroys. Under gone_lock. */
struct gone_note {
	int64_t until;
	const char *name; /* interned */
};
struct gone {
	struct hnode node;
	const void *obj;
	unsigned n, room;
	struct gone_note *notes;
};
static struct htab gone;

/* The entry of @p obj, made if @p make; NULL if none or no memory. */
static struct gone *gone_of(const void *obj, bool make)
{
	uint64_t hash = mix((uint64_t)(uintptr_t)obj);
	for (struct hnode *n = htab_chain(&gone, hash); n; n = n->next)
		if (((struct gone *)n)->obj == obj)
			return (struct gone *)n;
	struct gone *g = make ? ct__dbg_alloc(sizeof *g) : NULL;
	if (g) {
		g->obj = obj;
		g->node.hash = hash;
		if (!htab_add(&gone, &g->node)) {
			free(g);
			g = NULL;
		}
	}
	return g;
}

/* Notes that @p obj was named @p name (interned) until @p until. */
static void gone_note(const void *obj, const char *name, int64_t until)
{
	ct__rawlock_lock(&gone_lock);
	struct gone *g = gone_of(obj, true);
	if (g && g->n == g->room) {
		unsigned room = g->room ? 2 * g->room : 1;
		struct gone_note *notes = ct__dbg_alloc(room * sizeof *notes);
		if (notes) {
			if (g->n)
				memcpy(notes, g->notes, g->n * sizeof *notes);
			free(g->notes);
			g->notes = notes;
			g->room = room;
		}
	}
	if (g && g->n < g->room) {
		/* In order even if another CPU's clock read a little behind. */
		/* GCOVR_EXCL_START: a clock behind the last note's: another thread's destroy at
		 * this address that read the clock after this one's and took gone_lock first (or
		 * another CPU's TSC a little behind): a race no test can aim at */
		if (g->n && until < g->notes[g->n - 1].until)
			until = g->notes[g->n - 1].until;
		/* GCOVR_EXCL_STOP */
		g->notes[g->n++] = (struct gone_note){until, name};
	}
	ct__rawlock_unlock(&gone_lock);
}

void ct__dbg_name_dropped(const void *obj, const char *name)
{
	/* Relaxed: a switch (debug_internal.h). */
	uint32_t mode = atomic_load_explicit(&dbg.mode, memory_order_relaxed);
	if (mode & DBG_PROFILE)
		profile_retire(obj, name);
	const char *kept = mode & DBG_TRACE ? intern(name) : NULL;
	if (kept)
		gone_note(obj, kept, ct__dbg_now());
}

/* The name of @p obj, destroyed since @p when, at that time; or NULL: the
 * first destroy of that address since then (a binary search). */
static const char *name_then(const void *obj, int64_t when)
{
	const char *name = NULL;
	ct__rawlock_lock(&gone_lock);
	struct gone *g = gone_of(obj, false);
	if (g) {
		unsigned lo = 0, hi = g->n; /* the first note with until >= when is in [lo, hi] */
		while (lo < hi) {
			unsigned mid = lo + (hi - lo) / 2;
			if (g->notes[mid].until < when)
				lo = mid + 1;
			else
				hi = mid;
		}
		name = lo < g->n ? g->notes[lo].name : NULL;
	}
	ct__rawlock_unlock(&gone_lock);
	return name;
}

void ct__dbg_task_end(const void *executor, const void *future, void (*fn)(void))
{
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	if (me->task_since) {
		int64_t now = ct__dbg_now();
		int64_t delay = me->task_queued ? me->task_since - me->task_queued : 0;
		/* Relaxed: a switch (debug_internal.h). */
		uint32_t mode = atomic_load_explicit(&dbg.mode, memory_order_relaxed);
		if (mode & DBG_PROFILE)
			profile_task(executor, delay > 0 ? delay : 0, now - me->task_since);
		struct tbuf *b;
		struct tevent *e = (mode & DBG_TRACE) ? slot(me, &b) : NULL;
		if (e) {
			char name[DBG_NAME_MAX];
			const char *named = future && ct_object_get_name(future, name, sizeof name)
						    ? intern(name)
						    : NULL;
			/* A function's address becomes a name at write time. */
			put(e, DBG_SPAN_TASK, CT__OBJ_EXECUTOR, me->task_since, now,
			    named ? (const void *)named : (const void *)(uintptr_t)fn,
			    named    ? TASK_NAMED
			    : future ? TASK_FUNCTION
				     : TASK_MAP);
			/* Relaxed: published by commit()'s release of the count. */
			atomic_store_explicit(&e->obj2, executor, memory_order_relaxed);
			/* Relaxed: published by commit()'s release of the count. */
			atomic_store_explicit(&e->aux, delay, memory_order_relaxed);
			commit(b);
		}
		me->task_since = 0;
	}
	ct__dbg_leave(me);
}

/* A counter event: @p object holds @p depth items now. */
static void record_depth(struct dthread *me, const void *object, unsigned kind, size_t depth)
{
	struct tbuf *b;
	struct tevent *e = slot(me, &b);
	if (e) {
		int64_t now = ct__dbg_now();
		put(e, DBG_COUNTER, kind, now, now, object, 0);
		/* Relaxed: published by commit()'s release of the count. */
		atomic_store_explicit(&e->aux, (int64_t)depth, memory_order_relaxed);
		commit(b);
	}
}

void ct__dbg_depth(const void *object, unsigned kind, size_t depth)
{
	/* Relaxed: a switch (debug_internal.h). */
	if (!(atomic_load_explicit(&dbg.mode, memory_order_relaxed) & DBG_TRACE))
		return;
	struct dthread *me = ct__dbg_enter();
	if (!me)
		return;
	record_depth(me, object, kind, depth);
	ct__dbg_leave(me);
}

/* From a lock-free, reentrant put: no record or buffer is made here
 * (that takes a lock and allocates), so a thread that has neither yet
 * records nothing; the busy count keeps a put from a signal handler out
 * of an event its thread is writing. */
void ct__dbg_depth_reentrant(const void *object, unsigned kind, size_t depth)
{
	/* Relaxed: a switch (debug_internal.h). */
	if (!(atomic_load_explicit(&dbg.mode, memory_order_relaxed) & DBG_TRACE))
		return;
	struct dthread *me = ct__dbg_self();
	if (!me || me->busy || !me->trace)
		return;
	me->busy++;
	record_depth(me, object, kind, depth);
	me->busy--;
}

/* ---- the writer ---------------------------------------------------------- */

/* The length of the well-formed UTF-8 character at @p s (RFC 3629: no
 * overlong form, no surrogate, nothing past U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *s)
{
	size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
	if (s[0] < 0xC2 || s[0] > 0xF4)
		return 0;
	uint32_t cp = s[0] & (0x7Fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) /* the terminator stops here too */
			return 0;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
	if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* A JSON string: JSON text must be UTF-8, so a byte that does not start a
 * well-formed character (a name that is not UTF-8, or one cut inside a
 * character) is written as U+FFFD. */
static void json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', f);
	while (*s) {
		unsigned char c = *s;
		size_t n = 1;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else if (c < 0x80)
			fputc(c, f);
		else if ((n = utf8_length(s)) != 0)
			fwrite(s, 1, n, f);
		else {
			fputs("\\ufffd", f);
			n = 1;
		}
		s += n;
	}
	fputc('"', f);
}

static const char *outcome(int rc)
{
	if (rc == 0)
		return "ok";
	if (rc == CT_ETIMEDOUT)
		return "timed out";
	if (rc == CT_ESTOPPED)
		return "stopped";
	/* Every wait ends in 0, CT_ETIMEDOUT, CT_ESTOPPED or CT_EDEADLK (park,
	 * the lock, a join); a code added later would be named as it is. */
	/* GCOVR_EXCL_BR_START: no other code ends a wait (above) */
	return rc == CT_EDEADLK ? "deadlock" : ct_err_name(rc);
	/* GCOVR_EXCL_BR_STOP */
}

/* The label of an event at @p when: "lock \"name\"" (the name the object
 * had then, if it was destroyed since), "lock 0x..." or "sleep". */
static void label(const void *obj, unsigned kind, int64_t when, char *buf, size_t size)
{
	const char *then = kind == CT__OBJ_SLEEP ? NULL : name_then(obj, when);
	if (kind == CT__OBJ_SLEEP)
		snprintf(buf, size, "sleep");
	else if (then)
		named(kind, then, buf, size);
	else
		ct__dbg_describe(obj, kind, buf, size);
}

/* What the kind is called in an event's args (the timeline script's key). */
static const char *kind_key(unsigned kind)
{
	switch (kind) {
	case CT__OBJ_QUEUE_EMPTY:
	case CT__OBJ_QUEUE_FULL:
	case CT__OBJ_QUEUE:
	case CT__OBJ_SIMPLEQUEUE:
		return "queue";
	case CT__OBJ_GIL:
		return "gil";
	default:
		return ct__dbg_kind_name(kind);
	}
}

/* One event, after the ",\n{" that opens it. */
static void write_event(FILE *f, long pid, long tid, double scale, const struct tevent *e)
{
	/* Relaxed: after the count's acquire in write_trace(). */
	int64_t begin = atomic_load_explicit(&e->begin, memory_order_relaxed);
	/* Relaxed: after the count's acquire in write_trace(). */
	int64_t end = atomic_load_explicit(&e->end, memory_order_relaxed);
	/* Relaxed: after the count's acquire in write_trace(). */
	int64_t aux = atomic_load_explicit(&e->aux, memory_order_relaxed);
	/* Relaxed: after the count's acquire in write_trace(). */
	const void *obj = atomic_load_explicit(&e->obj, memory_order_relaxed);
	/* Relaxed: after the count's acquire in write_trace(). */
	uint32_t kt = atomic_load_explicit(&e->kind_type, memory_order_relaxed);
	/* Relaxed: after the count's acquire in write_trace(). */
	int rc = atomic_load_explicit(&e->rc, memory_order_relaxed);
	unsigned kind = kt >> 8, type = kt & 0xff;
	char what[200], name[240], address[32];
	double ts = (double)ct__dbg_to_ns(begin, scale) / 1e3;
	if (type == DBG_COUNTER) {
		label(obj, kind, begin, what, sizeof what);
		snprintf(name, sizeof name, "%s depth", what);
		fprintf(f,
			"\"ph\":\"C\",\"cat\":\"depth\",\"pid\":%ld,\"tid\":%ld,\"ts\":%.3f,"
			"\"name\":",
			pid, tid, ts);
		json_string(f, name);
		fprintf(f, ",\"args\":{\"depth\":%lld}}", (long long)aux);
		return;
	}
	static const char *const cats[] = {"wait", "hold", "task"};
	fprintf(f, "\"ph\":\"X\",\"cat\":\"%s\",\"pid\":%ld,\"tid\":%ld,\"ts\":%.3f,\"dur\":%.3f,",
		cats[type], pid, tid, ts, (double)(end - begin) * scale / 1e3);
	if (type == DBG_SPAN_TASK) {
		if (rc == TASK_NAMED)
			snprintf(what, sizeof what, "%s", (const char *)obj);
		else
			ct__dbg_site((void *)(uintptr_t)obj, what, sizeof what);
		snprintf(name, sizeof name, "%s %s", rc == TASK_MAP ? "map" : "task", what);
		fprintf(f, "\"name\":");
		json_string(f, name);
		/* Relaxed: after the count's acquire in write_trace(). */
		label(atomic_load_explicit(&e->obj2, memory_order_relaxed), CT__OBJ_EXECUTOR, begin,
		      what, sizeof what);
		fprintf(f, ",\"args\":{\"kind\":\"task\",\"executor\":");
		json_string(f, what);
		fprintf(f, ",\"queued_us\":%.3f}}", (double)aux * scale / 1e3);
		return;
	}
	label(obj, kind, begin, what, sizeof what);
	snprintf(name, sizeof name, "%s %s", type == DBG_SPAN_HOLD ? "hold" : "wait", what);
	fprintf(f, "\"name\":");
	json_string(f, name);
	snprintf(address, sizeof address, "%p", obj);
	fprintf(f, ",\"args\":{\"kind\":\"%s\",\"address\":", kind_key(kind));
	json_string(f, address);
	if (kind == CT__OBJ_QUEUE_EMPTY || kind == CT__OBJ_QUEUE_FULL)
		fprintf(f, ",\"side\":\"%s\"", kind == CT__OBJ_QUEUE_EMPTY ? "get" : "put");
	if (type == DBG_SPAN_WAIT)
		fprintf(f, ",\"outcome\":\"%s\"", outcome(rc));
	fprintf(f, "}}");
}

static int write_trace(FILE *f)
{
	long pid = (long)getpid();
	uint64_t dropped = 0;
	bool first = true;
	char tname[DBG_NAME_MAX];
	double scale = ct__dbg_scale();
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
	/* Acquire: the list of records (debug_internal.h). */
	for (struct dthread *t = atomic_load_explicit(&dbg.threads, memory_order_acquire); t;
	     t = t->next) {
		/* Acquire: pairs with the release in ct__dbg_trace_span(). */
		struct tbuf *b = __atomic_load_n(&t->trace, __ATOMIC_ACQUIRE);
		/* Relaxed: a snapshot. */
		long tid = atomic_load_explicit(&t->native_id, memory_order_relaxed);
		ct__dbg_thread_name(t, tname);
		fprintf(f,
			"%s{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%ld,\"tid\":%ld,"
			"\"args\":{\"name\":",
			first ? "" : ",\n", pid, tid);
		json_string(f, tname);
		fprintf(f, "}}");
		first = false;
		if (!b)
			continue;
		/* Acquire: pairs with the count's release. */
		uint64_t n = atomic_load_explicit(&b->n, memory_order_acquire);
		uint64_t from = n > TRACE_EVENTS ? n - TRACE_EVENTS : 0;
		dropped += from;
		for (uint64_t i = from; i < n; i++) {
			fprintf(f, ",\n{");
			write_event(f, pid, tid, scale, &b->ev[i % TRACE_EVENTS]);
		}
	}
	fprintf(f, "\n],\"otherData\":{\"droppedEvents\":%llu}}\n", (unsigned long long)dropped);
	return ferror(f) ? -EIO : 0;
}

int ct_trace_write(const char *path)
{
	if (!path)
		return CT_EINVAL;
	struct dthread *me = ct__dbg_self();
	if (me)
		me->busy++;
	int rc = 0;
	FILE *f = fopen(path, "w");
	if (!f) {
		rc = -errno;
	} else {
		rc = write_trace(f);
		if (fclose(f) != 0 && rc == 0)
			rc = -errno;
	}
	if (me)
		me->busy--;
	return rc;
}

void ct__dbg_write_at_exit(void)
{
	uint32_t mode = atomic_load(&dbg.mode);
	/* trace= is on only with its path (debug.c's apply()). */
	if ((mode & DBG_TRACE) && ct_trace_write(dbg.trace_path) < 0)
		fprintf(stderr, "cthreading: could not write the trace to %s\n", dbg.trace_path);
	if (mode & DBG_PROFILE) {
		if (dbg.profile_stderr) {
			(void)ct_profile_report(stderr);
			return;
		}
		FILE *f = fopen(dbg.profile_path, "w");
		if (!f) {
			fprintf(stderr, "cthreading: could not write the profile to %s\n",
				dbg.profile_path);
			return;
		}
		(void)ct_profile_report(f);
		fclose(f);
	}
}
