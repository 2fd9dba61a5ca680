/* The contended-lock harness, shared by the locks written in C
 * (bench_lock.c) and in C++ (peer_*.cpp).
 *
 * `threads` threads are started (plain pthreads for every implementation)
 * and released together; each repeats: acquire, and if the shared counter
 * is below the total, increment it and count the increment as its own;
 * release. The time runs from the release to the last join. Because the
 * total is shared, a lock that lets one thread take it again and again
 * finishes as fast as a fair one would, but its fairness (the smallest
 * per-thread count over the largest) shows it; an acquire that had to
 * block (its try failed) is timed, for the longest single wait. The run
 * checks that the counter and the threads' counts both reach the total.
 *
 * The implementation keeps its lock and the counter side by side, on one
 * cache line, as a program's lock and the data it guards usually are.
 */
#ifndef CT_BENCH_CONTEND_H
#define CT_BENCH_CONTEND_H

#include "bench.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_MAX_CONTENDERS 16

struct bench_contender {
	void *lock;	      /* the implementation's lock */
	long *counter;	      /* the critical section's data, next to the lock */
	long total;	      /* increments to make, all threads together */
	long done;	      /* out: this thread's increments */
	int64_t longest_wait; /* out: its longest blocking acquire, ns */
	void *harness;	      /* the runner's */
};

/* Announces the thread and waits for the common start. */
void bench_contend_ready(struct bench_contender *c);

/* Runs `worker` (which runs BENCH_CONTEND_LOOP) on `threads` threads;
 * returns the ns they took, or -1 (note: why). Reports the fairness and the
 * longest wait. */
double bench_contend(int threads, long ops, void *lock, long *counter, void *(*worker)(void *),
		     char *note);

#ifdef __cplusplus
}
#endif

/* One contender's loop, written out in each worker so that the lock's
 * inline fast paths count as they would in a program. */
#define BENCH_CONTEND_LOOP(c, try_lock, lock, unlock)                     \
	do {                                                              \
		long *counter_ = (c)->counter, total_ = (c)->total;       \
		long mine_ = 0;                                           \
		int64_t longest_ = 0;                                     \
		bench_contend_ready(c);                                   \
		for (;;) {                                                \
			if (!(try_lock)) {                                \
				int64_t t0_ = bench_now();                \
				lock;                                     \
				int64_t w_ = bench_now() - t0_;           \
				longest_ = w_ > longest_ ? w_ : longest_; \
			}                                                 \
			bool more_ = *counter_ < total_;                  \
			if (more_)                                        \
				++*counter_;                              \
			unlock;                                           \
			if (!more_)                                       \
				break;                                    \
			mine_++;                                          \
		}                                                         \
		(c)->done = mine_;                                        \
		(c)->longest_wait = longest_;                             \
	} while (0)

#endif /* CT_BENCH_CONTEND_H */
