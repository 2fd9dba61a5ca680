/* The peers written in C++, each in its own file (peer_<name>.cpp) and
 * compiled only when CMake found its Debian development package and a C++
 * compiler (bench/CMakeLists.txt defines CT_BENCH_HAVE_<NAME>). The C
 * workload files register the functions declared here beside their own.
 *
 * Every function checks its own result (counts, sums, order) and returns
 * -1 with a note such as "WRONG SUM" when it is wrong, as the C ones do.
 */
#ifndef CT_BENCH_PEERS_H
#define CT_BENCH_PEERS_H

#include <stdint.h>

#include "bench.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A queue under test (bench_queue.c moves items through it). Items are
 * never 0. */
struct bench_queue_impl {
	const char *note;	     /* for the table: how it waits, its bound */
	void *(*create)(long bound); /* bound <= 0: unbounded */
	void (*put)(void *q, uintptr_t item);
	uintptr_t (*get)(void *q);
	void (*destroy)(void *q);
	int flags; /* BENCH_QUEUE_* */
};

/* It does not keep each producer's order (count and sum are checked, the
 * order is not). */
#define BENCH_QUEUE_UNORDERED 1
/* Its threads wait for each other's turn spinning, never yielding: it is
 * run only where every thread has a CPU of its own. */
#define BENCH_QUEUE_CPU_PER_THREAD 2

/* Executors (bench_executor.c): `workers` threads at work on batches of
 * BENCH_BATCH trivial tasks (x -> x + 1), results summed and checked. */
#define BENCH_BATCH 1000

#ifdef CT_BENCH_HAVE_TBB
double bench_tbb_lock_uncontended(long ops, char *note);
double bench_tbb_lock_contended(int threads, long ops, char *note);
extern const struct bench_queue_impl bench_tbb_queue;
double bench_tbb_task_group(int workers, long ops, char *note);
/* grain 1; simple: one task per item (simple_partitioner), else TBB's
 * default auto_partitioner */
double bench_tbb_parallel_for(int workers, bool simple, long ops, char *note);
#endif

#ifdef CT_BENCH_HAVE_BOOST
extern const struct bench_queue_impl bench_boost_queue;
extern const struct bench_queue_impl bench_boost_spsc_queue;
#endif

#ifdef CT_BENCH_HAVE_MOODYCAMEL
extern const struct bench_queue_impl bench_moodycamel_queue;
extern const struct bench_queue_impl bench_moodycamel_blocking_queue;
#endif

#ifdef CT_BENCH_HAVE_ATOMIC_QUEUE
extern const struct bench_queue_impl bench_atomic_queue;
#endif

#ifdef CT_BENCH_HAVE_ABSL
double bench_absl_lock_uncontended(long ops, char *note);
double bench_absl_lock_contended(int threads, long ops, char *note);
double bench_absl_condition_pingpong(long ops, char *note);
double bench_absl_event_pingpong(long ops, char *note);
double bench_absl_notification_pingpong(long ops, char *note);
double bench_absl_semaphore_pingpong(long ops, char *note);
#endif

#ifdef __cplusplus
}
#endif

#endif /* CT_BENCH_PEERS_H */
