/* oneTBB's side of the benchmark (libtbb-dev): spin_mutex for the locks,
 * concurrent_bounded_queue for the queues, task_group and parallel_for for
 * the executor rows. The C workload files register these (bench_peers.h). */
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/spin_mutex.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <cstdint>
#include <cstdio>
#include <new>

#include "bench_contend.h"
#include "bench_peers.h"

namespace
{

/* ---- locks: spin_mutex (spins with a growing pause, then yields) --------- */

struct alignas(64) guarded {
	long counter;
	tbb::spin_mutex mutex;
};
guarded lock_guarded;

void *lock_worker(void *arg)
{
	auto *c = static_cast<bench_contender *>(arg);
	auto *m = static_cast<tbb::spin_mutex *>(c->lock);
	BENCH_CONTEND_LOOP(c, m->try_lock(), m->lock(), m->unlock());
	return nullptr;
}

/* ---- queues: concurrent_bounded_queue (push and pop block) ----------------
 */

using bounded_queue = tbb::concurrent_bounded_queue<uintptr_t>;

void *queue_create(long bound)
{
	auto *q = new (std::nothrow) bounded_queue;
	if (q && bound > 0)
		q->set_capacity(bound);
	return q;
}

void queue_put(void *q, uintptr_t item)
{
	static_cast<bounded_queue *>(q)->push(item);
}

uintptr_t queue_get(void *q)
{
	uintptr_t item = 0;
	static_cast<bounded_queue *>(q)->pop(item);
	return item;
}

void queue_destroy(void *q)
{
	delete static_cast<bounded_queue *>(q);
}

/* ---- executors ------------------------------------------------------------
 */

uintptr_t results[BENCH_BATCH];

long long sum_results()
{
	long long sum = 0;
	for (uintptr_t r : results)
		sum += (long long)r;
	return sum;
}

/* Runs one batch to warm up, then times ops / BENCH_BATCH batches inside an
 * arena of `workers` threads (the caller and workers - 1 of TBB's) and
 * checks their sums; the ns for ops tasks, or -1. */
template <class Batch> double time_batches(int workers, long ops, char *note, Batch batch)
{
	/* TBB's default is one thread per CPU; the others get `workers`. */
	tbb::global_control threads(tbb::global_control::max_allowed_parallelism, (size_t)workers);
	tbb::task_arena arena(workers);
	long batches = ops / BENCH_BATCH;
	long long sum = 0;
	int64_t t = 0;
	arena.execute([&] {
		batch();
		int64_t t0 = bench_now();
		for (long b = 0; b < batches; b++)
			sum += batch();
		t = bench_now() - t0;
	});
	if (sum != batches * ((long long)BENCH_BATCH * (BENCH_BATCH + 1) / 2)) {
		snprintf(note, 120, "WRONG SUM %lld", sum);
		return -1;
	}
	return (double)t * (double)ops / (double)(batches * BENCH_BATCH);
}

long long task_group_batch()
{
	tbb::task_group tasks;
	for (uintptr_t i = 0; i < BENCH_BATCH; i++)
		tasks.run([i] { results[i] = i + 1; });
	tasks.wait();
	return sum_results();
}

template <class Partitioner> long long parallel_for_batch()
{
	Partitioner partitioner;
	tbb::parallel_for(
		tbb::blocked_range<uintptr_t>(0, BENCH_BATCH, 1),
		[](const tbb::blocked_range<uintptr_t> &r) {
			for (uintptr_t i = r.begin(); i != r.end(); i++)
				results[i] = i + 1;
		},
		partitioner);
	return sum_results();
}

} // namespace

extern "C" {

double bench_tbb_lock_uncontended(long ops, char *note)
{
	static tbb::spin_mutex m;
	(void)note;
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++) {
		m.lock();
		m.unlock();
	}
	return (double)(bench_now() - t0);
}

double bench_tbb_lock_contended(int threads, long ops, char *note)
{
	return bench_contend(threads, ops, &lock_guarded.mutex, &lock_guarded.counter, lock_worker,
			     note);
}

const struct bench_queue_impl bench_tbb_queue = {nullptr,   queue_create,  queue_put,
						 queue_get, queue_destroy, 0};

double bench_tbb_task_group(int workers, long ops, char *note)
{
	snprintf(note, 120, "%d threads: the caller and %d TBB workers", workers, workers - 1);
	return time_batches(workers, ops, note, task_group_batch);
}

double bench_tbb_parallel_for(int workers, bool simple, long ops, char *note)
{
	snprintf(note, 120, "%s; %d threads: the caller and %d TBB workers",
		 simple ? "grain 1, simple_partitioner" : "grain 1, auto_partitioner", workers,
		 workers - 1);
	if (simple)
		return time_batches(workers, ops, note,
				    parallel_for_batch<tbb::simple_partitioner>);
	return time_batches(workers, ops, note, parallel_for_batch<tbb::auto_partitioner>);
}

} /* extern "C" */
