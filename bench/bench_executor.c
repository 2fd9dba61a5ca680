/* executor_tiny_tasks and executor_map: a thread pool running a trivial task
 * (x -> x + 1), in batches, with every result collected.
 *
 * Every implementation gets the same work: the same number of workers
 * (Python's default, min(32, CPUs + 4)), batches of BATCH tasks, every
 * result brought back to the submitting thread and summed (the sum is
 * checked), each in its own idiomatic way:
 *
 *   cthreading  submit -> future -> result (tiny tasks); map (map)
 *   glib        GThreadPool; results back through a GAsyncQueue (tiny
 *               tasks) or into an array with a counter and a condition
 *               variable (map)
 *   libuv       uv_queue_work with after_work callbacks on a loop
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
#ifdef CT_BENCH_HAVE_GLIB
#include <glib.h>
#endif
#ifdef CT_BENCH_HAVE_LIBUV
#include <uv.h>
#endif

#define BATCH 1000

static int workers(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus + 4 < 32 ? (int)cpus + 4 : 32;
}

/* The sum of x + 1 over a batch's arguments 0..BATCH-1. */
static long long batch_sum(void)
{
	return (long long)BATCH * (BATCH + 1) / 2;
}

static int check(long long sum, long batches, char *note)
{
	if (sum == batch_sum() * batches)
		return 0;
	snprintf(note, 120, "WRONG SUM %lld", sum);
	return -1;
}

/* ---- cthreading ---------------------------------------------------------- */

static int inc(void *arg, void **result)
{
	*result = (void *)((intptr_t)arg + 1);
	return 0;
}

static long long ct_batch(ct_executor_t *ex)
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

static double ct_tiny_tasks(long ops, char *note)
{
	ct_executor_t ex;
	if (ct_executor_init(&ex, NULL) < 0)
		return -1;
	ct_batch(&ex);
	long batches = ops / BATCH;
	long long sum = 0;
	int64_t t0 = bench_now();
	for (long b = 0; b < batches; b++)
		sum += ct_batch(&ex);
	int64_t t = bench_now() - t0;
	ct_executor_destroy(&ex);
	return check(sum, batches, note) < 0 ? -1 : (double)t * ops / (batches * BATCH);
}

static void *args[BATCH];

static double ct_map(long ops, char *note)
{
	ct_executor_t ex;
	if (ct_executor_init(&ex, NULL) < 0)
		return -1;
	for (intptr_t i = 0; i < BATCH; i++)
		args[i] = (void *)i;
	static void *results[BATCH];
	ct_executor_map(&ex, inc, args, BATCH, CT_FOREVER, results, NULL);
	long batches = ops / BATCH;
	long long sum = 0;
	int64_t t0 = bench_now();
	for (long b = 0; b < batches; b++) {
		if (ct_executor_map(&ex, inc, args, BATCH, CT_FOREVER, results, NULL) != 0)
			return -1;
		for (int i = 0; i < BATCH; i++)
			sum += (intptr_t)results[i];
	}
	int64_t t = bench_now() - t0;
	ct_executor_destroy(&ex);
	return check(sum, batches, note) < 0 ? -1 : (double)t * ops / (batches * BATCH);
}

/* ---- GLib ----------------------------------------------------------------- */

#ifdef CT_BENCH_HAVE_GLIB
struct g_item {
	intptr_t arg, result;
};

static void g_inc_to_queue(gpointer data, gpointer user)
{
	struct g_item *it = data;
	it->result = it->arg + 1;
	g_async_queue_push(user, it);
}

static long long glib_batch(GThreadPool *pool, GAsyncQueue *done, struct g_item *items)
{
	long long sum = 0;
	for (int i = 0; i < BATCH; i++) {
		items[i].arg = i;
		g_thread_pool_push(pool, &items[i], NULL);
	}
	for (int i = 0; i < BATCH; i++)
		sum += ((struct g_item *)g_async_queue_pop(done))->result;
	return sum;
}

static double glib_tiny_tasks(long ops, char *note)
{
	static struct g_item items[BATCH];
	GAsyncQueue *done = g_async_queue_new();
	GThreadPool *pool = g_thread_pool_new(g_inc_to_queue, done, workers(), FALSE, NULL);
	glib_batch(pool, done, items);
	long batches = ops / BATCH;
	long long sum = 0;
	int64_t t0 = bench_now();
	for (long b = 0; b < batches; b++)
		sum += glib_batch(pool, done, items);
	int64_t t = bench_now() - t0;
	g_thread_pool_free(pool, FALSE, TRUE);
	g_async_queue_unref(done);
	return check(sum, batches, note) < 0 ? -1 : (double)t * ops / (batches * BATCH);
}

/* map: results into an array, a counter and a condition for the batch. */
static struct {
	GMutex mutex;
	GCond cond;
	int left;
	intptr_t results[BATCH];
} gmap;

static void g_inc_to_array(gpointer data, gpointer user)
{
	(void)user;
	intptr_t i = (intptr_t)data - 1;
	gmap.results[i] = i + 1;
	g_mutex_lock(&gmap.mutex);
	if (--gmap.left == 0)
		g_cond_signal(&gmap.cond);
	g_mutex_unlock(&gmap.mutex);
}

static long long glib_map_batch(GThreadPool *pool)
{
	gmap.left = BATCH;
	for (intptr_t i = 0; i < BATCH; i++)
		g_thread_pool_push(pool, (gpointer)(i + 1), NULL); /* NULL is not allowed */
	g_mutex_lock(&gmap.mutex);
	while (gmap.left > 0)
		g_cond_wait(&gmap.cond, &gmap.mutex);
	g_mutex_unlock(&gmap.mutex);
	long long sum = 0;
	for (int i = 0; i < BATCH; i++)
		sum += gmap.results[i];
	return sum;
}

static double glib_map(long ops, char *note)
{
	GThreadPool *pool = g_thread_pool_new(g_inc_to_array, NULL, workers(), FALSE, NULL);
	glib_map_batch(pool);
	long batches = ops / BATCH;
	long long sum = 0;
	int64_t t0 = bench_now();
	for (long b = 0; b < batches; b++)
		sum += glib_map_batch(pool);
	int64_t t = bench_now() - t0;
	g_thread_pool_free(pool, FALSE, TRUE);
	return check(sum, batches, note) < 0 ? -1 : (double)t * ops / (batches * BATCH);
}
#endif

/* ---- libuv ---------------------------------------------------------------- */

#ifdef CT_BENCH_HAVE_LIBUV
struct uv_item {
	uv_work_t req;
	intptr_t arg, result;
};

static long long uv_sum;
static intptr_t uv_results[BATCH];

static void uv_inc(uv_work_t *req)
{
	struct uv_item *it = (struct uv_item *)req;
	it->result = it->arg + 1;
}

static void uv_collect(uv_work_t *req, int status)
{
	struct uv_item *it = (struct uv_item *)req;
	(void)status;
	uv_results[it->arg] = it->result;
	uv_sum += it->result;
}

static void uv_batch(uv_loop_t *loop, struct uv_item *items)
{
	for (int i = 0; i < BATCH; i++) {
		items[i].arg = i;
		uv_queue_work(loop, &items[i].req, uv_inc, uv_collect);
	}
	uv_run(loop, UV_RUN_DEFAULT);
}

static double libuv_run(long ops, char *note)
{
	static struct uv_item items[BATCH];
	uv_loop_t loop;
	uv_loop_init(&loop);
	uv_batch(&loop, items);
	long batches = ops / BATCH;
	uv_sum = 0;
	int64_t t0 = bench_now();
	for (long b = 0; b < batches; b++)
		uv_batch(&loop, items);
	int64_t t = bench_now() - t0;
	uv_loop_close(&loop);
	return check(uv_sum, batches, note) < 0 ? -1 : (double)t * ops / (batches * BATCH);
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

static const struct bench_workload tiny_tasks = {
	.name = "executor_tiny_tasks",
	.what = "submit a trivial task and get its result, in batches of 1000",
	.ops = 200000,
	.goal = BENCH_SPEEDUP,
	.target = 3,
	.python = "executor_tiny_tasks",
	.python_target = 50,
	.impls =
		{
			{"cthreading", ct_tiny_tasks},
#ifdef CT_BENCH_HAVE_GLIB
			{"glib", glib_tiny_tasks},
#endif
#ifdef CT_BENCH_HAVE_LIBUV
			{"libuv", libuv_run},
#endif
		},
};
BENCH_REGISTER(tiny_tasks)

static const struct bench_workload map = {
	.name = "executor_map",
	.what = "map a trivial function over 1000 arguments, results in order",
	.ops = 200000,
	.goal = BENCH_SPEEDUP,
	.target = 3,
	.python = "executor_map",
	.python_target = 50,
	.impls =
		{
			{"cthreading", ct_map},
#ifdef CT_BENCH_HAVE_GLIB
			{"glib", glib_map},
#endif
#ifdef CT_BENCH_HAVE_LIBUV
			{"libuv", libuv_run},
#endif
		},
};
BENCH_REGISTER(map)
