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

#define BATCH 1000

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

static double ct_run(batch_fn batch, long ops, char *note)
{
	ct_executor_t ex;
	if (ct_executor_init(&ex, &(ct_executor_opts){.max_workers = workers()}) < 0)
		return -1;
	double t = time_batches(batch, &ex, ops, note);
	ct_executor_destroy(&ex);
	return t;
}

static double ct_tiny_tasks(long ops, char *note)
{
	return ct_run(ct_submit_batch, ops, note);
}

static double ct_map(long ops, char *note)
{
	return ct_run(ct_map_batch, ops, note);
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

static double glib_map(long ops, char *note)
{
	gm.pool = g_thread_pool_new(g_inc_to_array, NULL, workers(), FALSE, NULL);
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
