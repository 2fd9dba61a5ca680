/* executor_tiny_tasks and executor_map: a thread pool running a trivial task
 * (x -> x + 1), in batches, with every result collected.
 *
 * Every implementation gets the same work: the same number of workers
 * (Python's default, min(32, CPUs + 4); the executor_map_Nw curve: N),
 * batches of BATCH tasks, every result brought back to the submitting
 * thread and summed (the sum is checked), each in its own idiomatic way:
 *
 *   cthreading  submit -> future -> result (tiny tasks); map (map)
 *   glib        GThreadPool; results back through a GAsyncQueue (tiny
 *               tasks) or into an array with a counter and a condition
 *               variable (map)
 *   libuv       uv_queue_work with after_work callbacks on a loop (its pool
 *               is sized once per process: not on the curve)
 *   tbb         oneTBB in a task_arena of N threads (the caller joins in:
 *               the caller and N - 1 TBB workers): task_group run + wait,
 *               results into an array (tiny tasks); parallel_for over a
 *               blocked_range of grain 1 with the simple_partitioner, one
 *               task per item (map), and tbb_auto, TBB's default
 *               auto_partitioner, which splits the range into a few chunks
 *               (peer_tbb.cpp)
 *   python      ThreadPoolExecutor.submit + result; executor.map
 *
 * Pools are created and their workers warmed up before the clock starts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "bench_peers.h"

#define BATCH BENCH_BATCH

static int workers(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus + 4 < 32 ? (int)cpus + 4 : 32;
}

/* Runs one batch of BATCH tasks with arguments 0..BATCH-1 and returns the
 * sum of their results (x + 1 each), or -1. */
typedef long long (*batch_fn)(void *ctx);

/* Runs one batch to warm the pool up, then times ops / BATCH batches and
 * checks their sums; the ns for ops tasks, or -1. */
static double time_batches(batch_fn batch, void *ctx, long ops, char *note)
{
	batch(ctx);
	long batches = ops / BATCH;
	long long sum = 0;
	int64_t t0 = bench_now();
	for (long b = 0; b < batches; b++)
		sum += batch(ctx);
	int64_t t = bench_now() - t0;
	if (sum != batches * ((long long)BATCH * (BATCH + 1) / 2)) {
		snprintf(note, 120, "WRONG SUM %lld", sum);
		return -1;
	}
	return (double)t * ops / (batches * BATCH);
}

/* ---- cthreading ---------------------------------------------------------- */

static int inc(void *arg, void **result)
{
	*result = (void *)((intptr_t)arg + 1);
	return 0;
}

static long long ct_submit_batch(void *ex)
{
	static ct_future_t *fs[BATCH];
	long long sum = 0;
	for (intptr_t i = 0; i < BATCH; i++)
		if (ct_executor_submit(ex, inc, (void *)i, &fs[i]) < 0)
			return -1;
	for (int i = 0; i < BATCH; i++) {
		void *v;
		ct_future_result(fs[i], CT_FOREVER, &v);
		sum += (intptr_t)v;
		ct_future_release(fs[i]);
	}
	return sum;
}

static long long ct_map_batch(void *ex)
{
	static void *args[BATCH], *results[BATCH];
	for (intptr_t i = 0; i < BATCH; i++)
		args[i] = (void *)i;
	if (ct_executor_map(ex, inc, args, BATCH, CT_FOREVER, results, NULL) != 0)
		return -1;
	long long sum = 0;
	for (int i = 0; i < BATCH; i++)
		sum += (intptr_t)results[i];
	return sum;
}

static double ct_run(batch_fn batch, int nworkers, long ops, char *note)
{
	ct_executor_t ex;
	if (ct_executor_init(&ex, &(ct_executor_opts){.max_workers = nworkers}) < 0)
		return -1;
	double t = time_batches(batch, &ex, ops, note);
	ct_executor_destroy(&ex);
	return t;
}

static double ct_tiny_tasks(long ops, char *note)
{
	return ct_run(ct_submit_batch, workers(), ops, note);
}

static double ct_map_n(int nworkers, long ops, char *note)
{
	return ct_run(ct_map_batch, nworkers, ops, note);
}

/* ---- GLib ----------------------------------------------------------------- */

#ifdef CT_BENCH_HAVE_GLIB
/* Tiny tasks: results come back through a GAsyncQueue. */
struct g_item {
	intptr_t arg, result;
};

static struct {
	GThreadPool *pool;
	GAsyncQueue *done;
	struct g_item items[BATCH];
} gq;

static void g_inc_to_queue(gpointer data, gpointer user)
{
	struct g_item *it = data;
	it->result = it->arg + 1;
	g_async_queue_push(user, it);
}

static long long glib_queue_batch(void *ctx)
{
	(void)ctx;
	long long sum = 0;
	for (int i = 0; i < BATCH; i++) {
		gq.items[i].arg = i;
		g_thread_pool_push(gq.pool, &gq.items[i], NULL);
	}
	for (int i = 0; i < BATCH; i++)
		sum += ((struct g_item *)g_async_queue_pop(gq.done))->result;
	return sum;
}

static double glib_tiny_tasks(long ops, char *note)
{
	gq.done = g_async_queue_new();
	gq.pool = g_thread_pool_new(g_inc_to_queue, gq.done, workers(), FALSE, NULL);
	double t = time_batches(glib_queue_batch, NULL, ops, note);
	g_thread_pool_free(gq.pool, FALSE, TRUE);
	g_async_queue_unref(gq.done);
	return t;
}

/* Map: results into an array, a counter and a condition for the batch. */
static struct {
	GThreadPool *pool;
	GMutex mutex;
	GCond cond;
	int left;
	intptr_t results[BATCH];
} gm;

static void g_inc_to_array(gpointer data, gpointer user)
{
	(void)user;
	intptr_t i = (intptr_t)data - 1;
	gm.results[i] = i + 1;
	g_mutex_lock(&gm.mutex);
	if (--gm.left == 0)
		g_cond_signal(&gm.cond);
	g_mutex_unlock(&gm.mutex);
}

static long long glib_array_batch(void *ctx)
{
	(void)ctx;
	gm.left = BATCH;
	for (intptr_t i = 0; i < BATCH; i++)
		g_thread_pool_push(gm.pool, (gpointer)(i + 1), NULL); /* NULL is not allowed */
	g_mutex_lock(&gm.mutex);
	while (gm.left > 0)
		g_cond_wait(&gm.cond, &gm.mutex);
	g_mutex_unlock(&gm.mutex);
	long long sum = 0;
	for (int i = 0; i < BATCH; i++)
		sum += gm.results[i];
	return sum;
}

static double glib_map_n(int nworkers, long ops, char *note)
{
	gm.pool = g_thread_pool_new(g_inc_to_array, NULL, nworkers, FALSE, NULL);
	double t = time_batches(glib_array_batch, NULL, ops, note);
	g_thread_pool_free(gm.pool, FALSE, TRUE);
	return t;
}
#endif

/* ---- libuv ---------------------------------------------------------------- */

#ifdef CT_BENCH_HAVE_LIBUV
/* Both workloads: uv_queue_work, results collected by after_work callbacks
 * on the loop, in an array by argument. */
struct uv_item {
	uv_work_t req;
	intptr_t arg, result;
};

static struct {
	uv_loop_t loop;
	struct uv_item items[BATCH];
	intptr_t results[BATCH];
	long long sum;
} uq;

static void uv_inc(uv_work_t *req)
{
	struct uv_item *it = (struct uv_item *)req;
	it->result = it->arg + 1;
}

static void uv_collect(uv_work_t *req, int status)
{
	struct uv_item *it = (struct uv_item *)req;
	(void)status;
	uq.results[it->arg] = it->result;
	uq.sum += it->result;
}

static long long uv_batch(void *ctx)
{
	(void)ctx;
	uq.sum = 0;
	for (int i = 0; i < BATCH; i++) {
		uq.items[i].arg = i;
		uv_queue_work(&uq.loop, &uq.items[i].req, uv_inc, uv_collect);
	}
	uv_run(&uq.loop, UV_RUN_DEFAULT);
	return uq.sum;
}

static double libuv_run(long ops, char *note)
{
	uv_loop_init(&uq.loop);
	double t = time_batches(uv_batch, NULL, ops, note);
	uv_loop_close(&uq.loop);
	return t;
}

/* libuv's pool is process-wide and sized once, from UV_THREADPOOL_SIZE, at
 * its first use: give it the same number of workers as the others. */
__attribute__((constructor)) static void uv_pool_size(void)
{
	char n[16];
	snprintf(n, sizeof n, "%d", workers());
	setenv("UV_THREADPOOL_SIZE", n, 0);
}
#endif

#ifdef CT_BENCH_HAVE_TBB
static double tbb_tiny_tasks(long ops, char *note)
{
	return bench_tbb_task_group(workers(), ops, note);
}

static double tbb_map_n(int nworkers, long ops, char *note)
{
	return bench_tbb_parallel_for(nworkers, true, ops, note);
}

static double tbb_auto_map_n(int nworkers, long ops, char *note)
{
	return bench_tbb_parallel_for(nworkers, false, ops, note);
}
#endif

/* Defines NAME_map_W(ops, note) from NAME_map_n(workers, ops, note), W
 * being `workers()` (the default row) or the curve's counts. */
#define MAP_AT(name, w, count)                             \
	static double name##_map_##w(long ops, char *note) \
	{                                                  \
		return name##_map_n(count, ops, note);     \
	}
#define MAP_AT_EVERY_COUNT(name)         \
	MAP_AT(name, default, workers()) \
	MAP_AT(name, 1, 1)               \
	MAP_AT(name, 2, 2)               \
	MAP_AT(name, 3, 3)               \
	MAP_AT(name, 4, 4)               \
	MAP_AT(name, 5, 5) MAP_AT(name, 6, 6) MAP_AT(name, 7, 7) MAP_AT(name, 8, 8)

MAP_AT_EVERY_COUNT(ct)
#ifdef CT_BENCH_HAVE_GLIB
MAP_AT_EVERY_COUNT(glib)
#define GLIB_MAP(w) {"glib", glib_map_##w},
#else
#define GLIB_MAP(w)
#endif
#ifdef CT_BENCH_HAVE_TBB
MAP_AT_EVERY_COUNT(tbb)
MAP_AT_EVERY_COUNT(tbb_auto)
#define TBB_MAP(w) {"tbb", tbb_map_##w}, {"tbb_auto", tbb_auto_map_##w},
#else
#define TBB_MAP(w)
#endif

/* The first generation's targets: >= 3x the best of GThreadPool and libuv,
 * >= 50x Python. The second's, against oneTBB: submit + result within half
 * of a task_group's time per task; map within 2x parallel_for with grain 1. */
static const struct bench_workload tiny_tasks = {
	.name = "executor_tiny_tasks",
	.what = "submit a trivial task and get its result, in batches of 1000",
	.family = "executor",
	.ops = 200000,
	.targets = {{BENCH_SPEEDUP, 3.0, "glib,libuv"},
		    {BENCH_TIME, 0.5, "tbb"},
		    {BENCH_SPEEDUP, 50.0, "python"}},
	.python = "executor_tiny_tasks",
	.python_ops = 50000,
	.impls =
		{
			{"cthreading", ct_tiny_tasks},
#ifdef CT_BENCH_HAVE_GLIB
			{"glib", glib_tiny_tasks},
#endif
#ifdef CT_BENCH_HAVE_LIBUV
			{"libuv", libuv_run},
#endif
#ifdef CT_BENCH_HAVE_TBB
			{"tbb", tbb_tiny_tasks},
#endif
		},
};
BENCH_REGISTER(tiny_tasks)

static const struct bench_workload map = {
	.name = "executor_map",
	.what = "map a trivial function over 1000 arguments, results in order",
	.family = "executor",
	.ops = 200000,
	.targets = {{BENCH_SPEEDUP, 3.0, "glib,libuv"},
		    {BENCH_TIME, 2.0, "tbb"},
		    {BENCH_SPEEDUP, 50.0, "python"}},
	.python = "executor_map",
	.python_ops = 50000,
	.impls = {{"cthreading", ct_map_default},
		  GLIB_MAP(default)
#ifdef CT_BENCH_HAVE_LIBUV
			  {"libuv", libuv_run},
#endif
		  TBB_MAP(default)},
};
BENCH_REGISTER(map)

/* The curve: map with 1 to 8 workers. */
#define MAP_WORKLOAD(n, workers_text)                                                \
	static const struct bench_workload map_##n = {                               \
		.name = "executor_map_" #n "w",                                      \
		.what = "map a trivial function over 1000 arguments, " workers_text, \
		.family = "executor_map",                                            \
		.curve = "executor_map",                                             \
		.threads = n,                                                        \
		.ops = 100000,                                                       \
		.targets = {{BENCH_TIME, 2.0, "tbb"}},                               \
		.python = "executor_map_" #n "w",                                    \
		.python_ops = 20000,                                                 \
		.impls = {{"cthreading", ct_map_##n}, GLIB_MAP(n) TBB_MAP(n)},       \
	};                                                                           \
	BENCH_REGISTER(map_##n)

MAP_WORKLOAD(1, "1 worker")
MAP_WORKLOAD(2, "2 workers")
MAP_WORKLOAD(3, "3 workers")
MAP_WORKLOAD(4, "4 workers")
MAP_WORKLOAD(5, "5 workers")
MAP_WORKLOAD(6, "6 workers")
MAP_WORKLOAD(7, "7 workers")
MAP_WORKLOAD(8, "8 workers")
