/* The side-by-side benchmark: every workload runs on cthreading and on its
 * peers in the same process, interleaved, and the table compares them.
 *
 * A workload file (bench_<area>.c) registers itself with BENCH_REGISTER;
 * the runner (main.c) owns timing, repetition, the spread (min, median,
 * max), the targets, the table and the CSV. Peers written in C++ live in
 * their own files (peer_<name>.cpp) behind the C functions bench_peers.h
 * declares; this header is C and C++ alike for what they share.
 */
#ifndef CT_BENCH_H
#define CT_BENCH_H

#include <stdbool.h>
#include <stdint.h>

/* The peers' C headers, when the build found them (bench/CMakeLists.txt). */
#ifndef __cplusplus
#ifdef CT_BENCH_HAVE_GLIB
#include <glib.h>
#endif
#ifdef CT_BENCH_HAVE_LIBUV
#include <uv.h>
#endif
#ifdef CT_BENCH_HAVE_CK
#include <ck_ring.h>
#include <ck_spinlock.h>
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Runs `ops` operations; returns the nanoseconds they took, or a negative
 * value if the implementation could not run or its result was wrong (then
 * `note` says why, e.g. "WRONG SUM"). `note` (may be written, up to 120
 * bytes) carries an extra figure for the table, e.g. how a peer waits. */
typedef double (*bench_run_fn)(long ops, char *note);

struct bench_impl {
	const char *name; /* cthreading, pthread, c11, glib, libuv, tbb, ... */
	bench_run_fn run;
};

/* A target the SPEC or an issue sets on a row, read on the medians. */
enum bench_goal {
	BENCH_TIME,    /* cthreading's time / the peer's <= ratio */
	BENCH_SPEEDUP, /* the peer's time / cthreading's >= ratio */
	BENCH_SCALE,   /* cthreading's time / its own on workload `peers` <= ratio */
	BENCH_WAIT,    /* cthreading's longest wait / the peer's <= ratio */
	/* As BENCH_SPEEDUP among the fair: a peer whose fairness (smallest
	 * per-thread share / largest) is below BENCH_FAIR does not count as
	 * the best, and cthreading below it misses. */
	BENCH_FAIR_SPEEDUP,
};

#define BENCH_FAIR 0.5

struct bench_target {
	enum bench_goal goal;
	double ratio; /* 0 ends the list */
	/* The peers compared with: "glib,libuv" means the best of those;
	 * NULL the best of every peer but Python. BENCH_SCALE: the name of
	 * the workload whose cthreading time is the reference. */
	const char *peers;
};

#define BENCH_MAX_IMPLS 16
#define BENCH_MAX_TARGETS 4

struct bench_workload {
	const char *name;
	const char *what;   /* one line for the table heading */
	const char *family; /* rows plotted together: "lock", "queue", ... */
	const char *curve;  /* rows drawn as one curve over `threads`; NULL: none */
	int threads;	    /* the curve's x: threads, producers or workers */
	long ops;	    /* operations per run */
	bool no_best_peer;  /* the other rows are reference points, not peers */
	struct bench_target targets[BENCH_MAX_TARGETS];
	const char *python; /* the peer script's workload name, NULL for none */
	long python_ops;    /* Python's operations per run; 0: ops */
	struct bench_impl impls[BENCH_MAX_IMPLS];
};

void bench_register(const struct bench_workload *w);

#define BENCH_REGISTER(var)                                            \
	__attribute__((constructor)) static void bench_reg_##var(void) \
	{                                                              \
		bench_register(&var);                                  \
	}

/* Monotonic nanoseconds. */
int64_t bench_now(void);

/* Figures a run may report besides its time, for the table's note and the
 * CSV's columns: the smallest per-thread share of the work over the
 * largest (1: perfectly even), and the longest single wait any thread saw.
 * The runner shows their medians over the runs and the worst run's. */
void bench_report_fairness(double min_over_max);
void bench_report_longest_wait(double ns);

/* Keeps the compiler from optimising a value away. */
#define BENCH_KEEP(x) __asm__ __volatile__("" : : "r"(x) : "memory")

#ifdef __cplusplus
}
#endif

#endif /* CT_BENCH_H */
