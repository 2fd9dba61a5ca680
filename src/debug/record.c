/* The contention profile and the timeline trace.
 *
 * Profile: a table keyed by object address, under one raw lock, updated on
 * each acquire, release and wait while `profile` is on.
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

/* ---- profile ------------------------------------------------------------- */

#define PROF_LOG2 12
#define PROF_SLOTS (1u << PROF_LOG2)

struct prof {
	const void *obj; /* NULL: empty */
	unsigned kind;
	void *site; /* first taken at */
	uint64_t acquisitions, contended, waits;
	int64_t wait_total, wait_max, hold_total;
};

static struct {
	struct ct__rawlock lock;
	struct prof *table;
	unsigned used;
	uint64_t lost; /* updates for objects beyond the table's room */
} prof = {.lock = CT__RAWLOCK_INIT};

/* The entry of @p obj, made if needed; NULL when full. Under prof.lock. */
static struct prof *prof_entry(const void *obj, unsigned kind)
{
	if (!prof.table && !(prof.table = calloc(PROF_SLOTS, sizeof *prof.table)))
		return NULL;
	uint64_t h = (uint64_t)(uintptr_t)obj * UINT64_C(0x9E3779B97F4A7C15);
	for (unsigned i = (unsigned)(h >> (64 - PROF_LOG2)), n = 0; n < PROF_SLOTS;
	     i = (i + 1) & (PROF_SLOTS - 1), n++) {
		struct prof *p = &prof.table[i];
		if (p->obj == obj)
			return p;
		if (!p->obj) {
			if (prof.used >= PROF_SLOTS * 3 / 4)
				break;
			prof.used++;
			p->obj = obj;
			p->kind = kind;
			return p;
		}
	}
	prof.lost++;
	return NULL;
}

void ct__dbg_profile_fork(int phase)
{
	ct__dbg_fork_lock(&prof.lock, phase);
}

static void add_wait(struct prof *p, int64_t waited_ns)
{
	p->wait_total += waited_ns;
	if (waited_ns > p->wait_max)
		p->wait_max = waited_ns;
}

void ct__dbg_profile_acquired(const void *obj, unsigned kind, void *site, int64_t waited_ns,
			      bool contended)
{
	ct__rawlock_lock(&prof.lock);
	struct prof *p = prof_entry(obj, kind);
	if (p) {
		if (!p->site)
			p->site = site;
		p->acquisitions++;
		if (contended) {
			p->contended++;
			add_wait(p, waited_ns);
		}
	}
	ct__rawlock_unlock(&prof.lock);
}

void ct__dbg_profile_released(const void *obj, int64_t held_ns)
{
	ct__rawlock_lock(&prof.lock);
	struct prof *p = prof_entry(obj, CT__OBJ_LOCK);
	if (p)
		p->hold_total += held_ns;
	ct__rawlock_unlock(&prof.lock);
}

void ct__dbg_profile_waited(const void *obj, unsigned kind, int64_t waited_ns)
{
	ct__rawlock_lock(&prof.lock);
	struct prof *p = prof_entry(obj, kind);
	if (p) {
		p->waits++;
		add_wait(p, waited_ns);
	}
	ct__rawlock_unlock(&prof.lock);
}

static int by_total_wait(const void *a, const void *b)
{
	const struct prof *x = a, *y = b;
	return (x->wait_total < y->wait_total) - (x->wait_total > y->wait_total);
}

int ct_profile_report(FILE *out)
{
	if (!out)
		return CT_EINVAL;
	ct__rawlock_lock(&prof.lock);
	unsigned n = 0;
	struct prof *copy = prof.used ? malloc(prof.used * sizeof *copy) : NULL;
	if (copy)
		for (unsigned i = 0; i < PROF_SLOTS; i++)
			if (prof.table[i].obj)
				copy[n++] = prof.table[i];
	uint64_t lost = prof.lost;
	ct__rawlock_unlock(&prof.lock);
	if (prof.used && !copy)
		return CT_ENOMEM;
	if (n > 0)
		qsort(copy, n, sizeof *copy, by_total_wait);
	double ms = ct__dbg_scale() / 1e6; /* per tick */
	char what[160], site[160];
	flockfile(out);
	fprintf(out, "cthreading contention profile: %u object%s, by total wait\n", n,
		n == 1 ? "" : "s");
	for (unsigned i = 0; i < n; i++) {
		struct prof *p = &copy[i];
		ct__dbg_describe_stored(p->obj, p->kind, what, sizeof what);
		fprintf(out, "%s:", what);
		if (p->acquisitions)
			fprintf(out, " %llu acquisitions, %llu contended,",
				(unsigned long long)p->acquisitions,
				(unsigned long long)p->contended);
		if (p->waits)
			fprintf(out, " %llu waits,", (unsigned long long)p->waits);
		fprintf(out, " total wait %.3f ms, longest %.3f ms", (double)p->wait_total * ms,
			(double)p->wait_max * ms);
		if (p->acquisitions)
			fprintf(out, ", held %.3f ms", (double)p->hold_total * ms);
		if (p->site) {
			ct__dbg_site(p->site, site, sizeof site);
			fprintf(out, "; first taken at %s", site);
		}
		fputc('\n', out);
	}
	if (lost)
		fprintf(out, "(%llu updates for objects beyond the table's room not counted)\n",
			(unsigned long long)lost);
	fflush(out);
	funlockfile(out);
	free(copy);
	return 0;
}

/* ---- trace --------------------------------------------------------------- */

#define TRACE_EVENTS 16384 /* per thread: 512 KiB */

struct tevent {
	_Atomic int64_t begin, end;
	_Atomic(const void *) obj;
	_Atomic uint32_t kind_type; /* kind << 8 | type */
	_Atomic int32_t rc;
};

struct tbuf {
	_Atomic uint64_t n; /* events ever written */
	struct tevent ev[TRACE_EVENTS];
};

void ct__dbg_trace_span(struct dthread *me, int type, const void *obj, unsigned kind, int64_t begin,
			int64_t end, int rc)
{
	struct tbuf *b = me->trace;
	if (!b) {
		b = calloc(1, sizeof *b);
		if (!b)
			return;
		__atomic_store_n(&me->trace, b, __ATOMIC_RELEASE);
	}
	uint64_t n = atomic_load_explicit(&b->n, memory_order_relaxed);
	struct tevent *e = &b->ev[n % TRACE_EVENTS];
	atomic_store_explicit(&e->begin, begin, memory_order_relaxed);
	atomic_store_explicit(&e->end, end, memory_order_relaxed);
	atomic_store_explicit(&e->obj, obj, memory_order_relaxed);
	atomic_store_explicit(&e->kind_type, kind << 8 | (unsigned)type, memory_order_relaxed);
	atomic_store_explicit(&e->rc, rc, memory_order_relaxed);
	atomic_store_explicit(&b->n, n + 1, memory_order_release);
}

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
	switch (rc) {
	case 0:
		return "ok";
	case CT_ETIMEDOUT:
		return "timed out";
	case CT_ESTOPPED:
		return "stopped";
	case CT_EDEADLK:
		return "deadlock";
	default:
		return rc > 0 ? "ok" : ct_err_name(rc);
	}
}

/* The span's label: "lock \"name\"", "lock 0x..." or "sleep". */
static void label(const void *obj, unsigned kind, char *buf, size_t size)
{
	if (kind == CT__OBJ_SLEEP)
		snprintf(buf, size, "sleep");
	else
		ct__dbg_describe_stored(obj, kind, buf, size);
}

static int write_trace(FILE *f)
{
	long pid = (long)getpid();
	uint64_t dropped = 0;
	bool first = true;
	char tname[DBG_NAME_MAX], what[200], full[200];
	double scale = ct__dbg_scale();
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
	for (struct dthread *t = atomic_load_explicit(&dbg.threads, memory_order_acquire); t;
	     t = t->next) {
		struct tbuf *b = __atomic_load_n(&t->trace, __ATOMIC_ACQUIRE);
		long tid = atomic_load_explicit(&t->native_id, memory_order_relaxed);
		ct__dbg_thread_name(t, tname, sizeof tname);
		fprintf(f,
			"%s{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%ld,\"tid\":%ld,"
			"\"args\":{\"name\":",
			first ? "" : ",\n", pid, tid);
		json_string(f, tname);
		fprintf(f, "}}");
		first = false;
		if (!b)
			continue;
		uint64_t n = atomic_load_explicit(&b->n, memory_order_acquire);
		uint64_t from = n > TRACE_EVENTS ? n - TRACE_EVENTS : 0;
		dropped += from;
		for (uint64_t i = from; i < n; i++) {
			struct tevent *e = &b->ev[i % TRACE_EVENTS];
			int64_t begin = atomic_load_explicit(&e->begin, memory_order_relaxed);
			int64_t end = atomic_load_explicit(&e->end, memory_order_relaxed);
			const void *obj = atomic_load_explicit(&e->obj, memory_order_relaxed);
			uint32_t kt = atomic_load_explicit(&e->kind_type, memory_order_relaxed);
			int rc = atomic_load_explicit(&e->rc, memory_order_relaxed);
			unsigned kind = kt >> 8, type = kt & 0xff;
			label(obj, kind, what, sizeof what);
			snprintf(full, sizeof full, "%p", obj);
			fprintf(f,
				",\n{\"ph\":\"X\",\"cat\":\"%s\",\"pid\":%ld,\"tid\":%ld,"
				"\"ts\":%.3f,\"dur\":%.3f,\"name\":",
				type == DBG_SPAN_HOLD ? "hold" : "wait", pid, tid,
				(double)ct__dbg_to_ns(begin, scale) / 1e3,
				(double)(end - begin) * scale / 1e3);
			char name[220];
			snprintf(name, sizeof name, "%s %s",
				 type == DBG_SPAN_HOLD ? "hold" : "wait", what);
			json_string(f, name);
			fprintf(f, ",\"args\":{\"address\":");
			json_string(f, full);
			if (type == DBG_SPAN_WAIT)
				fprintf(f, ",\"outcome\":\"%s\"", outcome(rc));
			fprintf(f, "}}");
		}
	}
	fprintf(f, "\n],\"otherData\":{\"droppedEvents\":%llu}}\n", (unsigned long long)dropped);
	return ferror(f) ? CT_EINVAL : 0;
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
	if ((mode & DBG_TRACE) && dbg.trace_path && ct_trace_write(dbg.trace_path) < 0)
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
