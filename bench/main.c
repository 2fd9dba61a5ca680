/* The benchmark runner.
 *
 *   ctbench [--csv FILE] [--no-plots] [--reps N] [--quick] [--list] [WORKLOAD...]
 *
 * Each repetition runs every implementation of a workload in turn (A B C,
 * A B C, ...) so that drift in the machine's speed hits them alike; the
 * table shows each one's median ns per operation with the smallest and
 * largest of its runs, its time over cthreading's, and the ratios the
 * targets are set on. Python's figures come from bench/peer.py, run by the
 * python3 found on PATH. Progress goes to stderr, one line per run.
 *
 * With --csv, the results go to FILE as each workload finishes, and the
 * plots (bench/plot.sh, when gnuplot is installed) next to it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_WORKLOADS 128
#define MAX_REPS 25

static const struct bench_workload *workloads[MAX_WORKLOADS];
static int nworkloads;

void bench_register(const struct bench_workload *w)
{
	if (nworkloads < MAX_WORKLOADS)
		workloads[nworkloads++] = w;
}

int64_t bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- one run's figures --------------------------------------------------- */

struct sample {
	double ns; /* per operation; NAN: the run failed */
	double fairness, wait;
	bool skipped; /* not run: an earlier run went over the budget */
};

static struct sample *current; /* the run in progress, for bench_report_* */

void bench_report_fairness(double min_over_max)
{
	if (current)
		current->fairness = min_over_max;
}

void bench_report_longest_wait(double ns)
{
	if (current)
		current->wait = ns;
}

/* ---- an implementation's figures over its runs --------------------------- */

struct result {
	const char *impl;
	long ops;
	int runs;
	double med, min, max;	     /* ns per operation; NAN: not measured */
	double fair_med, fair_worst; /* NAN: not reported */
	double wait_med, wait_worst; /* ns */
	char note[128];
};

struct row {
	const struct bench_workload *w;
	int n;
	struct result r[BENCH_MAX_IMPLS + 1];
};

static struct row rows[MAX_WORKLOADS];
static int nrows;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts the figures that are not NAN to the front; returns their count. */
static int sorted(double *v, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[k++] = v[i];
	qsort(v, (size_t)k, sizeof *v, cmp_double);
	return k;
}

static double median_of(const double *v, int n)
{
	return n == 0 ? NAN : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Fills r's figures from its samples; a single failed run makes the whole
 * row n/a (its note says why), so that a broken run cannot look fast. */
static void summarise(struct result *r, const struct sample *s, int reps)
{
	double ns[MAX_REPS], fair[MAX_REPS], wait[MAX_REPS];
	bool failed = false;
	int n = 0;
	for (int i = 0; i < reps; i++) {
		if (s[i].skipped)
			continue;
		ns[n] = s[i].ns;
		fair[n] = s[i].fairness;
		wait[n] = s[i].wait;
		failed |= isnan(s[i].ns);
		n++;
	}
	reps = n;
	int k = sorted(ns, reps);
	r->runs = k;
	r->med = failed || k == 0 ? NAN : median_of(ns, k);
	r->min = k ? ns[0] : NAN;
	r->max = k ? ns[k - 1] : NAN;
	k = sorted(fair, reps);
	r->fair_med = median_of(fair, k);
	r->fair_worst = k ? fair[0] : NAN;
	k = sorted(wait, reps);
	r->wait_med = median_of(wait, k);
	r->wait_worst = k ? wait[k - 1] : NAN;
}

/* ---- Python -------------------------------------------------------------- */

static char python_version[64];

static bool have_python(void)
{
	FILE *p = popen("python3 --version 2>&1", "r");
	if (!p)
		return false;
	if (!fgets(python_version, sizeof python_version, p))
		python_version[0] = 0;
	python_version[strcspn(python_version, "\n")] = 0;
	return pclose(p) == 0 && strncmp(python_version, "Python 3", 8) == 0;
}

/* Runs the Python peer: bench/peer.py prints one "sample NS FAIRNESS WAIT"
 * line per run (nan where it has no figure) and "note ..." lines. */
static void run_python(const char *workload, long ops, int reps, struct result *r)
{
	char cmd[1024];
	struct sample s[MAX_REPS];
	int n = 0;
	snprintf(cmd, sizeof cmd, "python3 '%s/peer.py' %s %ld %d", CT_BENCH_DIR, workload, ops,
		 reps);
	FILE *p = popen(cmd, "r");
	if (p) {
		char line[256];
		while (fgets(line, sizeof line, p)) {
			double ns, fair, wait;
			if (sscanf(line, "sample %lf %lf %lf", &ns, &fair, &wait) == 3 &&
			    n < MAX_REPS)
				s[n++] = (struct sample){ns, fair, wait, false};
			else if (strncmp(line, "note ", 5) == 0)
				snprintf(r->note, 120, "%.*s", (int)strcspn(line + 5, "\n"),
					 line + 5);
		}
		if (pclose(p) != 0) {
			/* an exception, e.g. its own check of the result */
			if (!r->note[0])
				snprintf(r->note, 120, "peer.py failed");
			n = 0;
		}
	}
	if (n == 0)
		s[n++] = (struct sample){NAN, NAN, NAN, false};
	summarise(r, s, n);
}

/* ---- the peers this build measures ---------------------------------------- */

#ifdef CT_BENCH_HAVE_GLIB
#define HAVE_GLIB true
#else
#define HAVE_GLIB false
#endif
#ifdef CT_BENCH_HAVE_LIBUV
#define HAVE_LIBUV true
#else
#define HAVE_LIBUV false
#endif
#ifdef CT_BENCH_HAVE_TBB
#define HAVE_TBB true
#else
#define HAVE_TBB false
#endif
#ifdef CT_BENCH_HAVE_CK
#define HAVE_CK true
#else
#define HAVE_CK false
#endif
#ifdef CT_BENCH_HAVE_BOOST
#define HAVE_BOOST true
#else
#define HAVE_BOOST false
#endif
#ifdef CT_BENCH_HAVE_MOODYCAMEL
#define HAVE_MOODYCAMEL true
#else
#define HAVE_MOODYCAMEL false
#endif
#ifdef CT_BENCH_HAVE_ATOMIC_QUEUE
#define HAVE_ATOMIC_QUEUE true
#else
#define HAVE_ATOMIC_QUEUE false
#endif
#ifdef CT_BENCH_HAVE_ABSL
#define HAVE_ABSL true
#else
#define HAVE_ABSL false
#endif
#ifndef CT_BENCH_VERSIONS
#define CT_BENCH_VERSIONS ""
#endif

static const struct peer {
	const char *name, *package;
	bool have, cxx;
} peers[] = {
	{"glib", "libglib2.0-dev", HAVE_GLIB, false},
	{"libuv", "libuv1-dev", HAVE_LIBUV, false},
	{"tbb", "libtbb-dev", HAVE_TBB, true},
	{"ck", "libck-dev", HAVE_CK, false},
	{"boost", "libboost-dev", HAVE_BOOST, true},
	{"moodycamel", "libconcurrentqueue-dev", HAVE_MOODYCAMEL, true},
	{"atomic_queue", "libatomic-queue-dev", HAVE_ATOMIC_QUEUE, true},
	{"absl", "libabsl-dev", HAVE_ABSL, true},
};

static void print_peers(bool python)
{
	for (size_t i = 0; i < sizeof peers / sizeof *peers; i++) {
		const struct peer *p = &peers[i];
		if (p->have)
			continue;
#ifdef CT_BENCH_NO_CXX
		if (p->cxx) {
			printf("%s: not measured (no C++ compiler: install g++, and %s if "
			       "missing, and rebuild)\n",
			       p->name, p->package);
			continue;
		}
#endif
		printf("%s: not measured (install %s and rebuild)\n", p->name, p->package);
	}
	if (!python)
		printf("python: not measured (python3 not found)\n");
	if (CT_BENCH_VERSIONS[0] || python)
		printf("peers: %s%s%s\n", CT_BENCH_VERSIONS,
		       CT_BENCH_VERSIONS[0] && python ? ", " : "", python ? python_version : "");
}

static void print_machine(int reps)
{
	struct utsname u;
	uname(&u);
	char model[256] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f))
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				if (c)
					snprintf(model, sizeof model, "%.*s",
						 (int)strcspn(c + 2, "\n"), c + 2);
				break;
			}
		fclose(f);
	}
	char date[64];
	time_t now = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("machine: %s, %ld CPUs, %s %s; %s\n", model, sysconf(_SC_NPROCESSORS_ONLN),
	       u.sysname, u.release, date);
	printf("each figure: median of %d runs [smallest .. largest], ns per operation (lower is "
	       "better)\n",
	       reps);
}

/* ---- targets ------------------------------------------------------------- */

static const struct result *find(const struct row *row, const char *impl)
{
	for (int i = 0; i < row->n; i++)
		if (strcmp(row->r[i].impl, impl) == 0)
			return &row->r[i];
	return NULL;
}

static const struct row *find_row(const char *name)
{
	for (int i = 0; i < nrows; i++)
		if (strcmp(rows[i].w->name, name) == 0)
			return &rows[i];
	return NULL;
}

static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

/* The best (lowest median) of the peers in `list` (NULL: every peer but
 * cthreading and Python); by longest wait if `by_wait`; only those at
 * least `fair` if fairness is measured. */
static const struct result *best_of(const struct row *row, const char *list, bool by_wait,
				    double fair)
{
	const struct result *best = NULL;
	for (int i = 0; i < row->n; i++) {
		const struct result *r = &row->r[i];
		double v = by_wait ? r->wait_med : r->med;
		if (strcmp(r->impl, "cthreading") == 0 || isnan(v))
			continue;
		if (!isnan(r->fair_med) && r->fair_med < fair)
			continue;
		if (list ? !in_list(list, r->impl) : strcmp(r->impl, "python") == 0)
			continue;
		if (!best || v < (by_wait ? best->wait_med : best->med))
			best = r;
	}
	return best;
}

static int targets_met, targets_missed;
static char missed_list[4096];

static void record(const struct row *row, bool met, const char *what)
{
	met ? targets_met++ : targets_missed++;
	if (!met) {
		size_t len = strlen(missed_list);
		snprintf(missed_list + len, sizeof missed_list - len, "  %s: %s\n", row->w->name,
			 what);
	}
}

static void verdicts(const struct row *row)
{
	const struct bench_workload *w = row->w;
	const struct result *ct = find(row, "cthreading");
	if (!ct || isnan(ct->med))
		return;
	const struct result *best = w->no_best_peer ? NULL : best_of(row, NULL, false, 0);
	if (best)
		printf("  -> best peer: %s; cthreading / %s = %.2f\n", best->impl, best->impl,
		       ct->med / best->med);
	for (int i = 0; i < BENCH_MAX_TARGETS && w->targets[i].ratio > 0; i++) {
		const struct bench_target *t = &w->targets[i];
		char what[256];
		double ratio;
		bool met;
		if (t->goal == BENCH_SCALE) {
			const struct row *ref = find_row(t->peers);
			const struct result *rct = ref ? find(ref, "cthreading") : NULL;
			if (!rct || isnan(rct->med)) {
				printf("  -> cthreading / its %s: not run\n", t->peers);
				continue;
			}
			ratio = ct->med / rct->med;
			met = ratio <= t->ratio;
			snprintf(what, sizeof what,
				 "cthreading / its own %s = %.2f (target <= %.2f)", t->peers, ratio,
				 t->ratio);
		} else {
			bool by_wait = t->goal == BENCH_WAIT;
			bool fair = t->goal == BENCH_FAIR_SPEEDUP;
			const struct result *p =
				best_of(row, t->peers, by_wait, fair ? BENCH_FAIR : 0);
			const char *whom = t->peers ? t->peers : "every peer";
			if (!p) {
				printf("  -> target against %s: not measured\n", whom);
				continue;
			}
			if (by_wait) {
				if (isnan(ct->wait_med))
					continue;
				ratio = p->wait_med > 0	   ? ct->wait_med / p->wait_med
					: ct->wait_med > 0 ? INFINITY
							   : 1;
				met = ratio <= t->ratio;
				snprintf(what, sizeof what,
					 "longest wait: cthreading %.0f us / %s %.0f us = %.2f "
					 "(target <= %.2f)",
					 ct->wait_med / 1e3, p->impl, p->wait_med / 1e3, ratio,
					 t->ratio);
			} else if (fair) {
				char unfair[128] = "";
				size_t len = 0;
				for (int k = 0; k < row->n; k++) {
					const struct result *r = &row->r[k];
					if (strcmp(r->impl, "cthreading") != 0 &&
					    strcmp(r->impl, "python") != 0 &&
					    r->fair_med < BENCH_FAIR && len < sizeof unfair)
						len += (size_t)snprintf(
							unfair + len, sizeof unfair - len,
							"%s%s %.2f", len ? ", " : "", r->impl,
							r->fair_med);
				}
				ratio = p->med / ct->med;
				met = ratio >= t->ratio && !(ct->fair_med < BENCH_FAIR);
				snprintf(what, sizeof what,
					 "cthreading is %.2fx %s, the best fair peer (target >= "
					 "%.2fx; "
					 "fairness < %.1f does not count: cthreading %.2f%s%s)",
					 ratio, p->impl, t->ratio, BENCH_FAIR, ct->fair_med,
					 len ? ", " : "", unfair);
			} else if (t->goal == BENCH_TIME) {
				ratio = ct->med / p->med;
				met = ratio <= t->ratio;
				snprintf(what, sizeof what,
					 "cthreading / %s = %.2f (target <= %.2f against %s)",
					 p->impl, ratio, t->ratio, whom);
			} else {
				ratio = p->med / ct->med;
				met = ratio >= t->ratio;
				snprintf(what, sizeof what,
					 "cthreading is %.2fx %s (target >= %.2fx against %s)",
					 ratio, p->impl, t->ratio, whom);
			}
		}
		printf("  -> %s: %s\n", what, met ? "met" : "MISSED");
		record(row, met, what);
	}
}

/* ---- output -------------------------------------------------------------- */

static void note_with_figures(const struct result *r, char *out, size_t size)
{
	size_t len = 0;
	out[0] = 0;
	if (!isnan(r->fair_med))
		len += (size_t)snprintf(out + len, size - len, "fairness %.2f (worst %.2f)",
					r->fair_med, r->fair_worst);
	if (!isnan(r->wait_med) && len < size)
		len += (size_t)snprintf(out + len, size - len,
					"%slongest wait %.0f us (worst %.0f us)", len ? ", " : "",
					r->wait_med / 1e3, r->wait_worst / 1e3);
	if (r->note[0] && len < size)
		snprintf(out + len, size - len, "%s%s", len ? "; " : "", r->note);
}

static void print_row(const struct row *row)
{
	const struct bench_workload *w = row->w;
	const struct result *ct = find(row, "cthreading");
	printf("\n%s: %s\n", w->name, w->what);
	for (int i = 0; i < row->n; i++) {
		const struct result *r = &row->r[i];
		char note[320];
		note_with_figures(r, note, sizeof note);
		if (isnan(r->med)) {
			printf("  %-20s %12s %26s  %s\n", r->impl, "n/a", "", note);
			continue;
		}
		printf("  %-20s %12.1f ns [%9.1f .. %9.1f]", r->impl, r->med, r->min, r->max);
		if (ct && !isnan(ct->med) && r != ct)
			printf(" %8.2fx", r->med / ct->med);
		else
			printf(" %9s", "");
		printf("  %s\n", note);
	}
	verdicts(row);
}

static void csv_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_number(FILE *f, double v, double scale)
{
	if (isnan(v))
		fputs(",", f);
	else
		fprintf(f, ",%.3f", v * scale);
}

static void csv_row(FILE *f, const struct row *row)
{
	const struct bench_workload *w = row->w;
	for (int i = 0; i < row->n; i++) {
		const struct result *r = &row->r[i];
		fprintf(f, "%s,%s,%s,%d,%s", w->name, w->family ? w->family : "",
			w->curve ? w->curve : "", w->threads, r->impl);
		csv_number(f, r->med, 1);
		csv_number(f, r->min, 1);
		csv_number(f, r->max, 1);
		fprintf(f, ",%d,%ld", r->runs, r->ops);
		csv_number(f, r->fair_med, 1);
		csv_number(f, r->fair_worst, 1);
		csv_number(f, r->wait_med, 1e-3);
		csv_number(f, r->wait_worst, 1e-3);
		fputc(',', f);
		csv_text(f, r->note);
		fputc('\n', f);
	}
	fflush(f);
}

/* Each curve as a small matrix: implementations by thread count. */
static void print_curves(void)
{
	for (int i = 0; i < nrows; i++) {
		const char *curve = rows[i].w->curve;
		bool first = true;
		if (!curve)
			continue;
		for (int j = 0; j < i && first; j++)
			first = !(rows[j].w->curve && strcmp(rows[j].w->curve, curve) == 0);
		if (!first)
			continue;
		const struct row *pts[16];
		int np = 0;
		for (int j = i; j < nrows && np < 16; j++)
			if (rows[j].w->curve && strcmp(rows[j].w->curve, curve) == 0)
				pts[np++] = &rows[j];
		printf("\ncurve %s: median ns per operation by threads\n  %-20s", curve, "");
		for (int k = 0; k < np; k++)
			printf(" %9d", pts[k]->w->threads);
		printf("\n");
		/* The implementations, in the order they first appear. */
		const char *names[64];
		int nn = 0;
		for (int k = 0; k < np; k++)
			for (int m = 0; m < pts[k]->n; m++) {
				bool seen = false;
				for (int q = 0; q < nn; q++)
					seen |= strcmp(names[q], pts[k]->r[m].impl) == 0;
				if (!seen && nn < 64)
					names[nn++] = pts[k]->r[m].impl;
			}
		for (int q = 0; q < nn; q++) {
			printf("  %-20s", names[q]);
			for (int k = 0; k < np; k++) {
				const struct result *r = find(pts[k], names[q]);
				if (!r)
					printf(" %9s", "");
				else if (isnan(r->med))
					printf(" %9s", "n/a");
				else
					printf(" %9.1f", r->med);
			}
			printf("\n");
		}
	}
}

/* ---- the run ------------------------------------------------------------- */

/* The order of the table: the families in this order (a workload file's
 * own order within each), whatever order the files were linked in. */
static const char *const family_order[] = {"lock",     "lock_contended", "pingpong",
					   "thread",   "queue",		 "simplequeue",
					   "executor", "executor_map",	 "gil"};

static int family_rank(const struct bench_workload *w)
{
	int n = (int)(sizeof family_order / sizeof *family_order);
	for (int i = 0; i < n; i++)
		if (w->family && strcmp(w->family, family_order[i]) == 0)
			return i;
	return n;
}

static void sort_workloads(void)
{
	for (int i = 1; i < nworkloads; i++) /* insertion sort: stable */
		for (int j = i; j > 0 && family_rank(workloads[j - 1]) > family_rank(workloads[j]);
		     j--) {
			const struct bench_workload *w = workloads[j];
			workloads[j] = workloads[j - 1];
			workloads[j - 1] = w;
		}
}

static void *no_work(void *arg)
{
	return arg;
}

/* glibc takes a single-threaded path (atomics without the lock prefix) in
 * pthread_mutex_lock and friends until the process has started a thread:
 * 3x faster than any threaded program ever sees. One thread started and
 * joined before the first workload puts every run on the threaded path,
 * whatever the order of the workloads. */
static void become_threaded(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, no_work, NULL) == 0)
		pthread_join(t, NULL);
}

static bool selected(const char *name, int argc, char **argv, int first)
{
	if (first >= argc)
		return true;
	for (int i = first; i < argc; i++)
		if (strcmp(argv[i], name) == 0 ||
		    (strchr(argv[i], '*') && strncmp(argv[i], name, strcspn(argv[i], "*")) == 0))
			return true;
	return false;
}

/* A run longer than this stops the implementation's runs of the workload
 * (a spin queue convoying on a machine with fewer CPUs than threads can
 * take minutes); the row says after how many. */
#define BUDGET_NS 10000000000LL

static void run_workload(const struct bench_workload *w, int index, int count, int reps,
			 double scale, bool python, struct row *row)
{
	long ops = (long)((double)w->ops * scale);
	if (ops < 1)
		ops = 1;
	static struct sample samples[BENCH_MAX_IMPLS][MAX_REPS];
	static char failure[BENCH_MAX_IMPLS][128];
	static int64_t over[BENCH_MAX_IMPLS];
	int n = 0;
	row->w = w;
	for (; n < BENCH_MAX_IMPLS && w->impls[n].name; n++) {
		row->r[n] = (struct result){.impl = w->impls[n].name, .ops = ops};
		failure[n][0] = 0;
		over[n] = 0;
	}
	for (int rep = 0; rep < reps; rep++)
		for (int i = 0; i < n; i++) {
			struct sample *s = &samples[i][rep];
			*s = (struct sample){NAN, NAN, NAN, over[i] != 0};
			if (s->skipped)
				continue;
			fprintf(stderr, "ctbench: [%d/%d] %s: %s, run %d of %d\n", index, count,
				w->name, w->impls[i].name, rep + 1, reps);
			current = s;
			int64_t t0 = bench_now();
			double t = w->impls[i].run(ops, row->r[i].note);
			int64_t took = bench_now() - t0;
			current = NULL;
			s->ns = t >= 0 ? t / (double)ops : NAN;
			if (t < 0 && !failure[i][0]) /* the first failure's reason stays */
				snprintf(failure[i], sizeof failure[i], "%s",
					 row->r[i].note[0] ? row->r[i].note : "failed");
			if (took > BUDGET_NS && rep + 1 < reps)
				over[i] = took;
		}
	for (int i = 0; i < n; i++) {
		struct result *r = &row->r[i];
		summarise(r, samples[i], reps);
		if (failure[i][0])
			snprintf(r->note, sizeof r->note, "%.127s", failure[i]);
		else if (over[i]) {
			size_t len = strlen(r->note);
			snprintf(r->note + len, sizeof r->note - len,
				 "%sstopped after %d of %d runs: one took %.0f s", len ? "; " : "",
				 r->runs, reps, (double)over[i] / 1e9);
		}
	}
	if (python && w->python) {
		long pops = w->python_ops ? (long)((double)w->python_ops * scale) : ops;
		pops = pops < 1 ? 1 : pops;
		fprintf(stderr, "ctbench: [%d/%d] %s: python, %d runs\n", index, count, w->name,
			reps);
		row->r[n] = (struct result){.impl = "python", .ops = pops};
		run_python(w->python, pops, reps, &row->r[n]);
		n++;
	}
	row->n = n;
}

/* Draws the plots next to the CSV (bench/plot.sh says what it wrote, or why
 * it drew nothing). */
static void plot(const char *csv_path)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "sh '%s/plot.sh' '%s'", CT_BENCH_DIR, csv_path);
	fflush(stdout);
	if (system(cmd) != 0)
		printf("plots: bench/plot.sh failed\n");
}

static int usage(void)
{
	fprintf(stderr, "usage: ctbench [--csv FILE] [--no-plots] [--reps N] [--quick] [--list] "
			"[WORKLOAD...]\n"
			"  WORKLOAD: a name from --list, or a prefix ending in '*' (\"queue_*\")\n"
			"  --csv FILE   write the results to FILE, and plots next to it\n"
			"  --no-plots   no plots\n"
			"  --reps N     runs per implementation (default 5)\n"
			"  --quick      a tenth of the operations, 3 runs\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *csv_path = NULL;
	int reps = 5, first = 1;
	bool plots = true, reps_given = false;
	double scale = 1.0;
	setvbuf(stderr, NULL, _IONBF, 0);
	sort_workloads();
	become_threaded();
	while (first < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "--csv") == 0 && first + 1 < argc) {
			csv_path = argv[first + 1];
			first += 2;
		} else if (strcmp(argv[first], "--reps") == 0 && first + 1 < argc) {
			reps = atoi(argv[first + 1]);
			reps = reps < 1 ? 1 : reps > MAX_REPS ? MAX_REPS : reps;
			reps_given = true;
			first += 2;
		} else if (strcmp(argv[first], "--quick") == 0) {
			scale = 0.1;
			if (!reps_given)
				reps = 3;
			first++;
		} else if (strcmp(argv[first], "--no-plots") == 0) {
			plots = false;
			first++;
		} else if (strcmp(argv[first], "--list") == 0) {
			for (int i = 0; i < nworkloads; i++)
				printf("%-24s %s\n", workloads[i]->name, workloads[i]->what);
			return 0;
		} else {
			return usage();
		}
	}
	for (int i = first; i < argc; i++) {
		bool known = false;
		for (int j = 0; j < nworkloads && !known; j++)
			known = selected(workloads[j]->name, 2, (char *[]){argv[0], argv[i]}, 1);
		if (!known) {
			fprintf(stderr, "ctbench: no workload %s (ctbench --list names them)\n",
				argv[i]);
			return 2;
		}
	}
	bool python = have_python();
	print_machine(reps);
	print_peers(python);
	fflush(stdout);

	FILE *csv = NULL;
	if (csv_path) {
		csv = fopen(csv_path, "w");
		if (!csv) {
			perror(csv_path);
			return 1;
		}
		fprintf(csv, "workload,family,curve,threads,implementation,ns_median,ns_min,ns_max,"
			     "runs,ops,fairness,fairness_worst,longest_wait_us,"
			     "longest_wait_us_worst,note\n");
	}
	int count = 0, index = 0;
	for (int i = 0; i < nworkloads; i++)
		count += selected(workloads[i]->name, argc, argv, first);
	int64_t t0 = bench_now();
	for (int i = 0; i < nworkloads; i++) {
		const struct bench_workload *w = workloads[i];
		if (!selected(w->name, argc, argv, first))
			continue;
		struct row *row = &rows[nrows++];
		run_workload(w, ++index, count, reps, scale, python, row);
		print_row(row);
		if (csv)
			csv_row(csv, row);
		fflush(stdout);
	}
	print_curves();
	printf("\ntargets: %d met, %d missed%s\n%s", targets_met, targets_missed,
	       targets_missed ? ":" : "", missed_list);
	printf("wall time: %.0f s\n", (double)(bench_now() - t0) / 1e9);
	if (csv) {
		fclose(csv);
		printf("wrote %s\n", csv_path);
		if (plots)
			plot(csv_path);
	}
	return 0;
}
