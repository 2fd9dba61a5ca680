/* The benchmark runner.
 *
 *   ctbench [--csv FILE] [--reps N] [--quick] [WORKLOAD...]
 *
 * Each repetition runs every implementation of a workload in turn (A B C,
 * A B C, ...) so that drift in the machine's speed hits them alike; the
 * table shows each one's median ns per operation and the ratios the SPEC
 * sets targets on. Python's figures come from bench/peer.py, run by the
 * python3 found on PATH.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_WORKLOADS 64
#define MAX_REPS 15

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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct result {
	const char *impl;
	double ns_per_op; /* NAN: not run */
	long ops;
	char note[128];
};

static bool have_python(void)
{
	return system("python3 -c 'import sys; sys.exit(0)' >/dev/null 2>&1") == 0;
}

/* Runs the Python peer; returns its median ns per operation, or NAN. */
static double run_python(const char *workload, long ops, int reps, char *note)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "python3 '%s/peer.py' %s %ld %d", CT_BENCH_DIR, workload, ops,
		 reps);
	FILE *p = popen(cmd, "r");
	if (!p)
		return NAN;
	double ns = NAN;
	char line[256];
	while (fgets(line, sizeof line, p)) {
		double v;
		if (sscanf(line, "ns_per_op %lf", &v) == 1)
			ns = v;
		else if (strncmp(line, "note ", 5) == 0)
			snprintf(note, 120, "%.*s", (int)strcspn(line + 5, "\n"), line + 5);
	}
	pclose(p);
	return ns;
}

static double find(const struct result *r, int n, const char *impl)
{
	for (int i = 0; i < n; i++)
		if (strcmp(r[i].impl, impl) == 0)
			return r[i].ns_per_op;
	return NAN;
}

static void verdict(const struct bench_workload *w, const struct result *r, int n)
{
	double ct = find(r, n, "cthreading");
	if (w->goal == BENCH_REPORT || isnan(ct))
		return;
	const char *peer = w->target_peer;
	double best = NAN;
	if (peer) {
		best = find(r, n, peer);
	} else {
		for (int i = 0; i < n; i++) {
			if (strcmp(r[i].impl, "cthreading") == 0 ||
			    strcmp(r[i].impl, "python") == 0 || isnan(r[i].ns_per_op))
				continue;
			if (isnan(best) || r[i].ns_per_op < best) {
				best = r[i].ns_per_op;
				peer = r[i].impl;
			}
		}
	}
	if (!isnan(best)) {
		if (w->goal == BENCH_TIME) {
			double ratio = ct / best;
			printf("  -> cthreading / %s = %.2f (target <= %.2f): %s\n", peer, ratio,
			       w->target, ratio <= w->target ? "met" : "MISSED");
		} else {
			double speedup = best / ct;
			printf("  -> cthreading is %.2fx %s (target >= %.2fx): %s\n", speedup, peer,
			       w->target, speedup >= w->target ? "met" : "MISSED");
		}
	}
	double py = find(r, n, "python");
	if (w->python_target > 0 && !isnan(py)) {
		double speedup = py / ct;
		printf("  -> cthreading is %.1fx python (target >= %.0fx): %s\n", speedup,
		       w->python_target, speedup >= w->python_target ? "met" : "MISSED");
	}
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

static void print_machine(void)
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
	printf("machine: %s, %ld CPUs, %s %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), u.sysname,
	       u.release);
}

int main(int argc, char **argv)
{
	const char *csv_path = NULL;
	int reps = 5, first = 1;
	double scale = 1.0;
	while (first < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "--csv") == 0 && first + 1 < argc) {
			csv_path = argv[first + 1];
			first += 2;
		} else if (strcmp(argv[first], "--reps") == 0 && first + 1 < argc) {
			reps = atoi(argv[first + 1]);
			reps = reps < 1 ? 1 : reps > MAX_REPS ? MAX_REPS : reps;
			first += 2;
		} else if (strcmp(argv[first], "--quick") == 0) {
			scale = 0.1;
			reps = 3;
			first++;
		} else {
			fprintf(stderr,
				"usage: ctbench [--csv FILE] [--reps N] [--quick] [WORKLOAD...]\n");
			return 2;
		}
	}
	print_machine();
	bool python = have_python();
#ifndef CT_BENCH_HAVE_GLIB
	printf("glib: not measured (install libglib2.0-dev and rebuild)\n");
#endif
#ifndef CT_BENCH_HAVE_LIBUV
	printf("libuv: not measured (install libuv1-dev and rebuild)\n");
#endif
	if (!python)
		printf("python: not measured (python3 not found)\n");
	printf("each figure: median of %d runs, ns per operation (lower is better)\n", reps);

	FILE *csv = NULL;
	if (csv_path) {
		csv = fopen(csv_path, "w");
		if (!csv) {
			perror(csv_path);
			return 1;
		}
		fprintf(csv, "workload,implementation,ns_per_op,ops\n");
	}
	for (int wi = 0; wi < nworkloads; wi++) {
		const struct bench_workload *w = workloads[wi];
		if (!selected(w->name, argc, argv, first))
			continue;
		long ops = (long)((double)w->ops * scale);
		if (ops < 1)
			ops = 1;
		struct result res[BENCH_MAX_IMPLS + 1];
		double samples[BENCH_MAX_IMPLS][MAX_REPS];
		int n = 0;
		for (; n < BENCH_MAX_IMPLS && w->impls[n].name; n++) {
			res[n] = (struct result){.impl = w->impls[n].name, .ops = ops};
		}
		for (int rep = 0; rep < reps; rep++)
			for (int i = 0; i < n; i++)
				samples[i][rep] = w->impls[i].run(ops, res[i].note) / (double)ops;
		for (int i = 0; i < n; i++) {
			bool ok = true;
			for (int rep = 0; rep < reps; rep++)
				ok &= samples[i][rep] >= 0;
			res[i].ns_per_op = ok ? median(samples[i], reps) : NAN;
		}
		if (python && w->python) {
			res[n] = (struct result){.impl = "python", .ops = ops};
			res[n].ns_per_op = run_python(w->python, ops, reps, res[n].note);
			n++;
		}
		double ct = find(res, n, "cthreading");
		printf("\n%s: %s\n", w->name, w->what);
		for (int i = 0; i < n; i++) {
			if (isnan(res[i].ns_per_op)) {
				printf("  %-11s %12s\n", res[i].impl, "n/a");
				continue;
			}
			printf("  %-11s %12.1f ns", res[i].impl, res[i].ns_per_op);
			if (!isnan(ct) && strcmp(res[i].impl, "cthreading") != 0)
				printf("  %7.2fx cthreading's time", res[i].ns_per_op / ct);
			else
				printf("  %24s", "");
			if (res[i].note[0])
				printf("  %s", res[i].note);
			printf("\n");
			if (csv)
				fprintf(csv, "%s,%s,%.3f,%ld\n", w->name, res[i].impl,
					res[i].ns_per_op, res[i].ops);
		}
		verdict(w, res, n);
		fflush(stdout);
	}
	if (csv) {
		fclose(csv);
		printf("\nwrote %s\n", csv_path);
	}
	return 0;
}
