/* Queue throughput: P producers move N items to C consumers.
 *
 *   queue_1p1c, queue_2p2c, queue_4p4c   a queue bounded to 1024 items
 *   simplequeue_1p1c                     an unbounded SimpleQueue
 *
 * Peers: a pthread mutex + two condition variables around a ring (bounded
 * like ours, signalling only when someone waits), GLib's GAsyncQueue (a
 * mutex, a condition and a linked list; it has no bound, which only spares
 * its producers from ever waiting), and Python's queue.Queue(1024) and
 * queue.SimpleQueue (bench/peer_queue.py). Every implementation runs on
 * the same plain pthreads; the time runs from the moment all threads are
 * ready to the last join, and each run checks that the consumers received
 * every item exactly once (count and sum).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cthreading.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define BOUND 1024
#define MAX_SIDE 4

/* One implementation: a queue object and its blocking put and get. */
struct qimpl {
	void *(*create)(long bound); /* bound <= 0: unbounded */
	void (*put)(void *q, void *item);
	void *(*get)(void *q);
	void (*destroy)(void *q);
};

struct run {
	const struct qimpl *impl;
	void *q;
	long per_producer, per_consumer;
	atomic_int ready;
	atomic_bool go;
	_Atomic uint64_t sum;
	atomic_long count;
};

struct worker {
	struct run *run;
	long first; /* producers: the first item value */
};

static void wait_go(struct run *r)
{
	atomic_fetch_add(&r->ready, 1);
	while (!atomic_load_explicit(&r->go, memory_order_acquire))
		sched_yield();
}

static void *producer(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	wait_go(r);
	for (long i = 0; i < r->per_producer; i++)
		r->impl->put(r->q, (void *)(uintptr_t)(w->first + i));
	return NULL;
}

static void *consumer(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	uint64_t sum = 0;
	wait_go(r);
	for (long i = 0; i < r->per_consumer; i++)
		sum += (uintptr_t)r->impl->get(r->q);
	atomic_fetch_add(&r->sum, sum);
	atomic_fetch_add(&r->count, r->per_consumer);
	return NULL;
}

/* Moves n items (1..n) from np producers to nc consumers; ns, or -1. */
static double mpmc(const struct qimpl *impl, int np, int nc, long bound, long n)
{
	struct run r = {.impl = impl, .per_producer = n / np, .per_consumer = n / nc};
	struct worker w[2 * MAX_SIDE];
	pthread_t t[2 * MAX_SIDE];
	r.q = impl->create(bound);
	if (!r.q)
		return -1;
	for (int i = 0; i < np + nc; i++) {
		w[i] = (struct worker){&r, 1 + (long)i * r.per_producer};
		if (pthread_create(&t[i], NULL, i < np ? producer : consumer, &w[i]) != 0)
			abort();
	}
	while (atomic_load(&r.ready) < np + nc)
		sched_yield();
	int64_t t0 = bench_now();
	atomic_store_explicit(&r.go, true, memory_order_release);
	for (int i = 0; i < np + nc; i++)
		pthread_join(t[i], NULL);
	int64_t t1 = bench_now();
	impl->destroy(r.q);
	uint64_t total = (uint64_t)r.per_producer * (uint64_t)np;
	if ((uint64_t)atomic_load(&r.count) != total ||
	    atomic_load(&r.sum) != total * (total + 1) / 2) {
		fprintf(stderr, "bench_queue: items lost or duplicated\n");
		return -1;
	}
	return (double)(t1 - t0);
}

/* ---- cthreading --------------------------------------------------------- */

static void *ct_create(long bound)
{
	ct_queue_t *q = malloc(sizeof *q);
	if (q && ct_queue_init(q, &(ct_queue_opts){.maxsize = bound}) < 0) {
		free(q);
		return NULL;
	}
	return q;
}

static void ct_put(void *q, void *item)
{
	if (ct_queue_put(q, item, CT_FOREVER) < 0)
		abort();
}

static void *ct_get(void *q)
{
	void *item;
	if (ct_queue_get(q, &item, CT_FOREVER) < 0)
		abort();
	return item;
}

static void ct_free(void *q)
{
	ct_queue_destroy(q);
	free(q);
}

static const struct qimpl ct_queue_impl = {ct_create, ct_put, ct_get, ct_free};

static void *ct_sq_create(long bound)
{
	(void)bound;
	ct_simplequeue_t *q = malloc(sizeof *q);
	if (q)
		ct_simplequeue_init(q);
	return q;
}

static void ct_sq_put(void *q, void *item)
{
	if (ct_simplequeue_put(q, item) < 0)
		abort();
}

static void *ct_sq_get(void *q)
{
	void *item;
	if (ct_simplequeue_get(q, &item, CT_FOREVER) < 0)
		abort();
	return item;
}

static void ct_sq_free(void *q)
{
	ct_simplequeue_destroy(q);
	free(q);
}

static const struct qimpl ct_simplequeue_impl = {ct_sq_create, ct_sq_put, ct_sq_get, ct_sq_free};

/* ---- pthread: mutex + two condition variables around a ring ------------- */

struct pq {
	pthread_mutex_t mutex;
	pthread_cond_t not_empty, not_full;
	void **ring;
	long cap, head, count, bound;
	int getters, putters; /* waiting; signal only when someone does */
};

static void *pq_create(long bound)
{
	struct pq *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->bound = bound;
	q->cap = bound > 0 ? bound : 1024;
	q->ring = malloc((size_t)q->cap * sizeof *q->ring);
	pthread_mutex_init(&q->mutex, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	return q;
}

static void pq_grow(struct pq *q)
{
	void **ring = malloc((size_t)q->cap * 2 * sizeof *ring);
	if (!ring)
		abort();
	for (long i = 0; i < q->count; i++)
		ring[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	q->ring = ring;
	q->head = 0;
	q->cap *= 2;
}

static void pq_put(void *arg, void *item)
{
	struct pq *q = arg;
	pthread_mutex_lock(&q->mutex);
	while (q->bound > 0 && q->count == q->bound) {
		q->putters++;
		pthread_cond_wait(&q->not_full, &q->mutex);
		q->putters--;
	}
	if (q->count == q->cap)
		pq_grow(q);
	q->ring[(q->head + q->count++) % q->cap] = item;
	if (q->getters)
		pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mutex);
}

static void *pq_get(void *arg)
{
	struct pq *q = arg;
	pthread_mutex_lock(&q->mutex);
	while (q->count == 0) {
		q->getters++;
		pthread_cond_wait(&q->not_empty, &q->mutex);
		q->getters--;
	}
	void *item = q->ring[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	if (q->putters)
		pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->mutex);
	return item;
}

static void pq_free(void *arg)
{
	struct pq *q = arg;
	pthread_mutex_destroy(&q->mutex);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q->ring);
	free(q);
}

static const struct qimpl pthread_impl = {pq_create, pq_put, pq_get, pq_free};

/* ---- GLib: GAsyncQueue (unbounded) -------------------------------------- */

#ifdef CT_BENCH_HAVE_GLIB
static void *gq_create(long bound)
{
	(void)bound;
	return g_async_queue_new();
}

static void gq_put(void *q, void *item)
{
	g_async_queue_push(q, item);
}

static void *gq_get(void *q)
{
	return g_async_queue_pop(q);
}

static void gq_free(void *q)
{
	g_async_queue_unref(q);
}

static const struct qimpl glib_impl = {gq_create, gq_put, gq_get, gq_free};
#endif

/* ---- the workloads ------------------------------------------------------- */

#define RUNNER(name, impl, np, nc, bound)                       \
	static double name(long ops, char *note)                \
	{                                                       \
		(void)note;                                     \
		return mpmc(&(impl), (np), (nc), (bound), ops); \
	}

RUNNER(ct_1p1c, ct_queue_impl, 1, 1, BOUND)
RUNNER(ct_2p2c, ct_queue_impl, 2, 2, BOUND)
RUNNER(ct_4p4c, ct_queue_impl, 4, 4, BOUND)
RUNNER(ct_sq_1p1c, ct_simplequeue_impl, 1, 1, 0)
RUNNER(pthread_1p1c, pthread_impl, 1, 1, BOUND)
RUNNER(pthread_2p2c, pthread_impl, 2, 2, BOUND)
RUNNER(pthread_4p4c, pthread_impl, 4, 4, BOUND)
RUNNER(pthread_sq_1p1c, pthread_impl, 1, 1, 0)
#ifdef CT_BENCH_HAVE_GLIB
RUNNER(glib_1p1c, glib_impl, 1, 1, 0)
RUNNER(glib_2p2c, glib_impl, 2, 2, 0)
RUNNER(glib_4p4c, glib_impl, 4, 4, 0)
#define GLIB_IMPL(fn) {"glib", fn},
#else
#define GLIB_IMPL(fn)
#endif

/* The SPEC's targets: >= 3x GAsyncQueue's throughput, >= 50x Python's
 * queue.Queue. The SimpleQueue row shows its ratio to Python's
 * queue.SimpleQueue without a target: that one is C, and under the GIL its
 * producer and consumer run in turns, each alone on its cache lines. */
#define QUEUE_WORKLOAD(var, wname, desc, py_target, ct_fn, pthread_fn, glib_fn)                \
	static const struct bench_workload var = {                                             \
		.name = wname,                                                                 \
		.what = desc,                                                                  \
		.ops = 200000,                                                                 \
		.goal = BENCH_SPEEDUP,                                                         \
		.target = 3.0,                                                                 \
		.target_peer = "glib",                                                         \
		.python = wname,                                                               \
		.python_target = py_target,                                                    \
		.impls = {{"cthreading", ct_fn}, {"pthread", pthread_fn}, GLIB_IMPL(glib_fn)}, \
	};                                                                                     \
	BENCH_REGISTER(var)

QUEUE_WORKLOAD(w1, "queue_1p1c", "1 producer -> 1 consumer, queue bounded to 1024, ns per item", 50,
	       ct_1p1c, pthread_1p1c, glib_1p1c)
QUEUE_WORKLOAD(w2, "queue_2p2c", "2 producers -> 2 consumers, queue bounded to 1024, ns per item",
	       50, ct_2p2c, pthread_2p2c, glib_2p2c)
QUEUE_WORKLOAD(w4, "queue_4p4c", "4 producers -> 4 consumers, queue bounded to 1024, ns per item",
	       50, ct_4p4c, pthread_4p4c, glib_4p4c)
QUEUE_WORKLOAD(ws, "simplequeue_1p1c",
	       "1 producer -> 1 consumer, unbounded SimpleQueue (peers: unbounded), ns per item", 0,
	       ct_sq_1p1c, pthread_sq_1p1c, glib_1p1c)
