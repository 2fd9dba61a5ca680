/* ct_dump(): every thread, what it waits for and holds, then the cycles. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cthreading/gil.h"
#include "cthreading/rlock.h"
#include "cthreading/rwlock.h"
#include "debug/debug_internal.h"
#include "thread/thread_internal.h"

/* One thread as the registry shows it, copied under the registry's lock. */
struct row {
	char name[DBG_NAME_MAX];
	unsigned long ident;
	long native_id;
	bool daemon;
	const void *gil;
	const void *parked_on; /* the parking core's hint (waiter.h) */
	struct dthread *d;     /* its record here, if it has one */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static void collect(ct_thread_t *t, void *arg)
{
	struct rows *rows = arg;
	struct ct__thread *rec = t->ct__impl;
	/* GCOVR_EXCL_BR_START: room for 4096 rows: a test would need more than 4096 threads alive
	 * at once, which the suite does not start (time, memory and the sanitizer and QEMU builds)
	 */
	if (rows->n == rows->cap) /* a thread in the registry has its record */
		return;
	/* GCOVR_EXCL_BR_STOP */
	unsigned long ident = atomic_load(&rec->ident);
	if (ct__dbg_is_dumper(ident))
		return;
	struct row *r = &rows->v[rows->n++];
	/* Under the lock renames take: a thread renaming itself frees its
	 * old name. */
	ct__thread_name_copy(t, r->name, sizeof r->name);
	ct__dbg_printable(r->name);
	r->ident = ident;
	r->native_id = (long)atomic_load(&rec->native_id);
	r->daemon = atomic_load(&rec->daemon);
	/* Relaxed: a snapshot (debug_internal.h). */
	r->gil = __atomic_load_n(&rec->w->holds, __ATOMIC_RELAXED);
	/* Relaxed: a hint (waiter.h). */
	r->parked_on = atomic_load_explicit(&rec->w->parked_on, memory_order_relaxed);
	r->d = NULL;
}

static const char *state_name(const struct row *r)
{
	/* Every thread in the registry has started and not yet finished: a
	 * thread enters it once started and leaves before it is marked
	 * finished (a fork child takes out the threads it lost). */
	/* Relaxed: a snapshot (debug_internal.h). */
	const void *obj = r->d ? ct__dbg_wait_obj(r->d, memory_order_relaxed) : NULL;
	if (obj)
		/* Relaxed: a snapshot. */
		return atomic_load_explicit(&r->d->wait_kind, memory_order_relaxed) == CT__OBJ_SLEEP
			       ? "sleeping"
			       : "waiting";
	/* The hooks are off (or the thread has no record here yet, or its
	 * wait began while they were off): the parking core still knows
	 * whether it is parked. */
	if (!r->parked_on)
		return "running";
	return r->parked_on == &ct__sleep_key ? "sleeping" : "waiting";
}

/* "ident 1234, native id 56": a thread started a moment ago has not stored
 * them yet (its start stores the ident after pthread_create() returns, and
 * the thread its native id when it begins), and no thread has 0 for
 * either. */
static void print_ids(FILE *out, const struct row *r)
{
	/* GCOVR_EXCL_BR_START: a thread dumped in the instant between its pthread_create() and its
	 * start storing the ident: a race no test can aim at */
	if (r->ident)
		fprintf(out, "ident %lu, ", r->ident);
	else
		fprintf(out, "ident not yet known, ");
	/* GCOVR_EXCL_BR_STOP */
	if (r->native_id)
		fprintf(out, "native id %ld", r->native_id);
	else
		fprintf(out, "native id not yet known");
}

/* A parked thread the hooks did not follow: where it is parked. While
 * they record (@p recording), its wait began before they were last on. */
static void print_parked(FILE *out, const struct row *r, bool recording)
{
	if (!r->parked_on || r->parked_on == &ct__sleep_key)
		return;
	char what[160];
	ct__dbg_describe(r->parked_on, CT__OBJ_UNKNOWN, what, sizeof what);
	fprintf(out, "    parked on %s (%s)\n", what,
		recording ? "its wait began while waits were not recorded"
			  : "with dump, deadlock, trace or profile on: what it waits for, "
			    "how long, and who holds it");
}

static struct row *row_of(struct rows *rows, struct dthread *d)
{
	for (size_t i = 0; i < rows->n; i++)
		if (rows->v[i].d == d)
			return &rows->v[i];
	return NULL;
}

static void print_holds(FILE *out, const struct row *r)
{
	char what[160], site[160];
	if (r->gil) {
		ct__dbg_describe(r->gil, CT__OBJ_GIL, what, sizeof what);
		fprintf(out, "    holds %s\n", what);
	}
	if (!r->d)
		return;
	DBG_FOR_HELD (r->d, h) {
		/* Acquire: pairs with the holder's release of the object (debug_internal.h). */
		const void *obj = ct__dbg_held_obj(h, memory_order_acquire);
		if (!obj)
			continue;
		/* Relaxed: published with obj (acquired above). */
		unsigned kind = atomic_load_explicit(&h->kind, memory_order_relaxed);
		ct__dbg_describe(obj, kind, what, sizeof what);
		/* Relaxed: as above. */
		ct__dbg_site(atomic_load_explicit(&h->site, memory_order_relaxed), site,
			     sizeof site);
		fprintf(out, "    holds %s", what);
		if (kind == CT__OBJ_RLOCK)
			/* Relaxed: a snapshot of the depth. */
			fprintf(out, ", depth %u",
				(unsigned)__atomic_load_n(&((const ct_rlock_t *)obj)->ct__depth,
							  __ATOMIC_RELAXED));
		else if (kind == CT__OBJ_RWLOCK)
			fprintf(out, ", write side");
		fprintf(out, ", taken\n        at %s\n", site);
	}
}

/* The row of the thread holding GIL @p gil, or NULL: the parking core
 * knows each thread's GIL, recorded or not. */
static struct row *gil_holder(struct rows *rows, const void *gil)
{
	/* GCOVR_EXCL_BR_START: no row holds it only while the GIL passes from one holder to the
	 * next (the waiter is woken as the new holder takes it): a race no test can aim at */
	for (size_t i = 0; i < rows->n; i++)
		if (rows->v[i].gil == gil)
			return &rows->v[i];
	/* GCOVR_EXCL_BR_STOP */
	return NULL;
}

static void print_wait(FILE *out, struct rows *rows, const struct row *r, int64_t now, double scale,
		       bool recording)
{
	/* Acquire: pairs with the waiter's release of the object (debug_internal.h). */
	const void *obj = r->d ? ct__dbg_wait_obj(r->d, memory_order_acquire) : NULL;
	if (!obj) {
		print_parked(out, r, recording);
		return;
	}
	/* Relaxed: published with obj. */
	unsigned kind = atomic_load_explicit(&r->d->wait_kind, memory_order_relaxed);
	/* Relaxed: published with obj. */
	int64_t since = atomic_load_explicit(&r->d->wait_since, memory_order_relaxed);
	char what[160];
	if (kind == CT__OBJ_SLEEP) {
		fprintf(out, "    sleeping for %.3f s\n", (double)(now - since) * scale / 1e9);
		return;
	}
	ct__rawlock_lock(&dbg.threads_lock);
	struct dthread *h = ct__dbg_holder_locked(r->d, obj, kind);
	ct__rawlock_unlock(&dbg.threads_lock);
	struct row *hr = kind == CT__OBJ_GIL ? gil_holder(rows, obj) : h ? row_of(rows, h) : NULL;
	if (kind == CT__OBJ_THREAD) { /* the handle may be gone: the name from its row */
		/* GCOVR_EXCL_BR_START: a joined thread with no row: it left the registry as it
		 * ended, before its joiner woke; a race no test can aim at (some runs hit it) */
		fprintf(out, "    joining thread \"%s\" for %.3f s\n", hr ? hr->name : "?",
			(double)(now - since) * scale / 1e9);
		/* GCOVR_EXCL_BR_STOP */
		return;
	}
	ct__dbg_describe(obj, kind, what, sizeof what);
	fprintf(out, "    waiting on %s%s for %.3f s", what,
		kind == CT__OBJ_QUEUE_EMPTY  ? " (empty)"
		: kind == CT__OBJ_QUEUE_FULL ? " (full)"
					     : "",
		(double)(now - since) * scale / 1e9);
	/* The object is alive while a thread waits on it. Readers are
	 * counted, not named: the read side's inline fast path is one CAS
	 * that no hook sees. */
	unsigned readers = kind == CT__OBJ_RWLOCK || kind == CT__OBJ_RWLOCK_READERS
				   ? ct_rwlock_readers(obj)
				   : 0;
	if (hr)
		fprintf(out, ", held by \"%s\" (ident %lu)", hr->name, hr->ident);
	else if (readers)
		fprintf(out, ", held for reading by %u thread%s (readers are counted, not named)",
			readers, readers == 1 ? "" : "s");
	else if (ct__dbg_lock_like(kind))
		fprintf(out, ", holder not known");
	fputc('\n', out);
}

/* Prints each cycle of the waits-for graph once (from its first row). */
static unsigned print_cycles(FILE *out, struct rows *rows)
{
	unsigned found = 0;
	char what[160];
	for (size_t i = 0; i < rows->n; i++) {
		struct dthread *path[32];
		const void *objs[32];
		unsigned kinds[32], n = 0;
		struct dthread *t = rows->v[i].d;
		bool cycle = false;
		while (t && n < 32) {
			const void *obj;
			unsigned kind;
			ct__rawlock_lock(&dbg.threads_lock);
			bool follows = ct__dbg_followed_wait_locked(t, &obj, &kind);
			struct dthread *holder =
				follows ? ct__dbg_holder_locked(t, obj, kind) : NULL;
			ct__rawlock_unlock(&dbg.threads_lock);
			if (!follows)
				break;
			path[n] = t;
			objs[n] = obj;
			kinds[n++] = kind;
			t = holder;
			if (t == rows->v[i].d) {
				cycle = true;
				break;
			}
			bool seen = false;
			for (unsigned k = 0; k < n; k++)
				seen |= path[k] == t;
			if (seen)
				break; /* a cycle further on: printed from its own rows */
		}
		if (!cycle)
			continue;
		/* Print it from the row of its earliest thread only. */
		bool first = true;
		for (unsigned k = 1; k < n; k++) {
			struct row *r = row_of(rows, path[k]);
			if (r && r < &rows->v[i])
				first = false;
		}
		if (!first)
			continue;
		found++;
		fprintf(out, "\nDeadlock: %u thread%s waiting for each other:\n", n,
			n == 1 ? "" : "s");
		for (unsigned k = 0; k < n; k++) {
			struct row *r = row_of(rows, path[k]);
			struct row *h = row_of(rows, path[(k + 1) % n]);
			ct__dbg_describe(objs[k], kinds[k], what, sizeof what);
			if (kinds[k] == CT__OBJ_THREAD) {
				/* GCOVR_EXCL_BR_START: every thread of a join cycle is joined, so
				 * cthreading started it and it has a row; none only if it left the
				 * registry after the cycle was found: a race no test can aim at */
				fprintf(out, "  \"%s\" joins thread \"%s\"\n", r ? r->name : "?",
					h ? h->name : "?");
				/* GCOVR_EXCL_BR_STOP */
			} else {
				fprintf(out, "  \"%s\" waits for %s, held by \"%s\"\n",
					r ? r->name : "?", what, h ? h->name : "?");
			}
		}
	}
	return found;
}

/* Gives each row its thread's record. */
static void attach_records(struct rows *rows)
{
	ct__rawlock_lock(&dbg.threads_lock);
	/* Acquire: the list of records (debug_internal.h). */
	for (struct dthread *d = atomic_load_explicit(&dbg.threads, memory_order_acquire); d;
	     d = d->next) {
		if (!atomic_load_explicit(&d->live, memory_order_relaxed)) /* relaxed: a snapshot */
			continue;
		/* Relaxed: a snapshot. */
		unsigned long ident = atomic_load_explicit(&d->ident, memory_order_relaxed);
		for (size_t i = 0; i < rows->n; i++)
			if (rows->v[i].ident == ident) /* no two live threads share one */
				rows->v[i].d = d;
	}
	ct__rawlock_unlock(&dbg.threads_lock);
}

int ct_dump(FILE *out)
{
	if (!out)
		return CT_EINVAL;
	struct dthread *me = ct__dbg_self();
	if (me)
		me->busy++; /* the registry's lock is not the program's */
	struct rows rows = {.cap = 4096};
	rows.v = ct__dbg_alloc(rows.cap * sizeof *rows.v);
	if (!rows.v) {
		if (me)
			me->busy--;
		return CT_ENOMEM;
	}
	size_t total = ct_enumerate(collect, &rows);
	/* Relaxed: a switch, read once for this dump. */
	bool recording =
		atomic_load_explicit(&ct__debug_flags, memory_order_relaxed) & CT__DEBUG_LOCKS;
	/* Off, the records are not kept up to date (a wait or hold may have
	 * ended unseen): none is shown, only what the parking core knows. */
	if (recording)
		attach_records(&rows);

	int64_t now = ct__dbg_now();
	double scale = ct__dbg_scale();
	flockfile(out);
	fprintf(out, "cthreading thread dump (pid %ld, %zu thread%s)\n", (long)getpid(), rows.n,
		rows.n == 1 ? "" : "s");
	/* GCOVR_EXCL_BR_START: as in collect(): more than 4096 threads alive at once */
	if (total > rows.n + 1)
		fprintf(out, "(%zu more not shown)\n", total - rows.n);
	/* GCOVR_EXCL_BR_STOP */
	if (!recording)
		fprintf(out, "(waits and holds are not recorded: CTHREADING=dump=..., deadlock, "
			     "trace or profile records them; a parked thread shows where)\n");
	for (size_t i = 0; i < rows.n; i++) {
		struct row *r = &rows.v[i];
		fprintf(out, "\n\"%s\" ", r->name);
		print_ids(out, r);
		fprintf(out, ", %s, %s\n", r->daemon ? "daemon" : "not daemon", state_name(r));
		print_wait(out, &rows, r, now, scale, recording);
		print_holds(out, r);
	}
	if (!print_cycles(out, &rows))
		fprintf(out, "\nNo deadlock found.\n");
	fflush(out);
	funlockfile(out);
	free(rows.v);
	if (me)
		me->busy--;
	return 0;
}
