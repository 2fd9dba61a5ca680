/* The side-by-side benchmark: every workload runs on cthreading and on its
 * peers in the same process, interleaved, and the table compares them.
 *
 * A workload file (bench_<area>.c) registers itself with BENCH_REGISTER;
 * the runner (main.c) owns timing, repetition, the table and the CSV.
 */
#ifndef CT_BENCH_H
#define CT_BENCH_H

#include <stdbool.h>
#include <stdint.h>

/* The peers' headers, when the build found them (bench/CMakeLists.txt). */
#ifdef CT_BENCH_HAVE_GLIB
#include <glib.h>
#endif
#ifdef CT_BENCH_HAVE_LIBUV
#include <uv.h>
#endif

/* Runs `ops` operations; returns the nanoseconds they took, or a negative
 * value if the implementation could not run. `note` (may be written, up
 * to 120 bytes) carries an extra figure for the table, e.g. a longest
 * wait. */
typedef double (*bench_run_fn)(long ops, char *note);

struct bench_impl {
	const char *name; /* cthreading, pthread, c11, glib, libuv */
	bench_run_fn run;
};

enum bench_goal {
	BENCH_TIME,    /* compare ns per operation; target: ratio <= target */
	BENCH_SPEEDUP, /* compare throughput; target: best peer / cthreading >= target */
	BENCH_REPORT,  /* a figure to show; no target */
};

#define BENCH_MAX_IMPLS 8

struct bench_workload {
	const char *name;
	const char *what; /* one line for the table heading */
	long ops;	  /* operations per run */
	enum bench_goal goal;
	double target;		 /* the SPEC's ratio */
	const char *target_peer; /* the peer the target is against ("pthread"), NULL: best */
	const char *python;	 /* the peer script's workload name, NULL for none */
	double python_target;	 /* e.g. 50 (x faster than Python); 0: none */
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

/* Keeps the compiler from optimising a value away. */
#define BENCH_KEEP(x) __asm__ __volatile__("" : : "r"(x) : "memory")

#endif /* CT_BENCH_H */
