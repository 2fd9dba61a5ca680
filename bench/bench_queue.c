/* Queue throughput: N producers move items to N consumers.
 *
 *   queue_1p1c ... queue_16p16c        a queue bounded to 1024 items, at
 *                                       1, 2, 4, 8 and 16 of each (a curve)
 *   simplequeue_1p1c, _2p2c, _4p4c     an unbounded queue
 *
 * Peers, each run on the same plain pthreads:
 *   pthread       a mutex + two condition variables around a ring (bounded
 *                 like ours, signalling only when someone waits)
 *   glib          GAsyncQueue (a mutex, a condition and a linked list; it
 *                 has no bound, which only spares its producers any wait)
 *   tbb           oneTBB's concurrent_bounded_queue (blocks both ways)
 *   ck, ck_spsc   Concurrency Kit's ck_ring, MPMC and SPSC (1 -> 1 only)
 *   boost, boost_spsc     Boost.Lockfree's queue and spsc_queue (1 -> 1)
 *   moodycamel    ConcurrentQueue (unbounded, no tokens)
 *   moodycamel_blocking   BlockingConcurrentQueue (unbounded; consumers
 *                 block, producers never wait)
 *   atomic_queue  AtomicQueue<uintptr_t, 1024>
 *   python        queue.Queue(1024), queue.SimpleQueue (peer_queue.py)
 * The spin queues (ck, boost, moodycamel, atomic_queue) cannot block: their
 * threads busy-wait where cthreading's park (bench_spin.h); their rows say
 * so. The time runs from the moment all threads are ready to the last
 * join. Each run checks what the consumers received: every item once
 * (count and sum), and each producer's items in the order it put them, as
 * each consumer saw them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cthreading.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "bench_peers.h"
#include "bench_spin.h"

#define BOUND 1024
#define MAX_SIDE 16

/* An item: the producer's index in the top 8 bits, its sequence number
 * (from 1) below, so that a consumer can check each producer's order. */
#define SEQ_BITS (sizeof(uintptr_t) * CHAR_BIT - 8)
#define SEQ_MASK (((uintptr_t)1 << SEQ_BITS) - 1)

struct run {
	const struct bench_queue_impl *impl;
	void *q;
	int producers;
	long per_thread; /* items each producer puts, each consumer gets */
	atomic_int ready;
	atomic_bool go;
	_Atomic uint64_t sum;
	atomic_long count;
	atomic_bool out_of_order;
};

struct worker {
	struct run *run;
	uintptr_t producer; /* producers: their index */
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
	uintptr_t base = w->producer << SEQ_BITS;
	wait_go(r);
	for (long i = 1; i <= r->per_thread; i++)
		r->impl->put(r->q, base | (uintptr_t)i);
	return NULL;
}

static void *consumer(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	uintptr_t last[MAX_SIDE] = {0};
	uint64_t sum = 0;
	bool disorder = false;
	wait_go(r);
	for (long i = 0; i < r->per_thread; i++) {
		uintptr_t item = r->impl->get(r->q);
		uintptr_t p = item >> SEQ_BITS, seq = item & SEQ_MASK;
		if (p >= (uintptr_t)r->producers || seq <= last[p])
			disorder = true;
		else
			last[p] = seq;
		sum += seq;
	}
	atomic_fetch_add(&r->sum, sum);
	atomic_fetch_add(&r->count, r->per_thread);
	if (disorder)
		atomic_store(&r->out_of_order, true);
	return NULL;
}

/* Moves about `ops` items from n producers to n consumers; the ns, or -1. */
static double mpmc(const struct bench_queue_impl *impl, int n, long bound, long ops, char *note)
{
	struct run r = {.impl = impl, .producers = n, .per_thread = ops / n};
	struct worker w[2 * MAX_SIDE];
	pthread_t t[2 * MAX_SIDE];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (impl->note)
		snprintf(note, 120, "%s", impl->note);
	if ((impl->flags & BENCH_QUEUE_CPU_PER_THREAD) && 2 * n > cpus) {
		snprintf(note, 120, "not run: needs a CPU per thread (%d threads, %ld CPUs)", 2 * n,
			 cpus);
		return -1;
	}
	r.q = impl->create(bound);
	if (!r.q)
		return -1;
	for (int i = 0; i < 2 * n; i++) {
		w[i] = (struct worker){&r, (uintptr_t)i};
		if (pthread_create(&t[i], NULL, i < n ? producer : consumer, &w[i]) != 0)
			abort();
	}
	while (atomic_load(&r.ready) < 2 * n)
		sched_yield();
	int64_t t0 = bench_now();
	atomic_store_explicit(&r.go, true, memory_order_release);
	for (int i = 0; i < 2 * n; i++)
		pthread_join(t[i], NULL);
	int64_t t1 = bench_now();
	impl->destroy(r.q);
	uint64_t per = (uint64_t)r.per_thread;
	if ((uint64_t)atomic_load(&r.count) != per * (uint64_t)n ||
	    atomic_load(&r.sum) != (uint64_t)n * (per * (per + 1) / 2)) {
		snprintf(note, 120, "WRONG SUM: items lost or duplicated");
		return -1;
	}
	if (atomic_load(&r.out_of_order) && !(impl->flags & BENCH_QUEUE_UNORDERED)) {
		snprintf(note, 120, "WRONG ORDER: a producer's items out of order");
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

static void ct_put(void *q, uintptr_t item)
{
	if (ct_queue_put(q, (void *)item, CT_FOREVER) < 0)
		abort();
}

static uintptr_t ct_get(void *q)
{
	void *item;
	if (ct_queue_get(q, &item, CT_FOREVER) < 0)
		abort();
	return (uintptr_t)item;
}

static void ct_free(void *q)
{
	ct_queue_destroy(q);
	free(q);
}

static const struct bench_queue_impl ct_queue_impl = {NULL, ct_create, ct_put, ct_get, ct_free, 0};

static void *ct_sq_create(long bound)
{
	(void)bound;
	ct_simplequeue_t *q = malloc(sizeof *q);
	if (q)
		ct_simplequeue_init(q);
	return q;
}

static void ct_sq_put(void *q, uintptr_t item)
{
	if (ct_simplequeue_put(q, (void *)item) < 0)
		abort();
}

static uintptr_t ct_sq_get(void *q)
{
	void *item;
	if (ct_simplequeue_get(q, &item, CT_FOREVER) < 0)
		abort();
	return (uintptr_t)item;
}

static void ct_sq_free(void *q)
{
	ct_simplequeue_destroy(q);
	free(q);
}

static const struct bench_queue_impl ct_simplequeue_impl = {NULL,      ct_sq_create, ct_sq_put,
							    ct_sq_get, ct_sq_free,   0};

/* ---- pthread: mutex + two condition variables around a ring ------------- */

struct pq {
	pthread_mutex_t mutex;
	pthread_cond_t not_empty, not_full;
	uintptr_t *ring;
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
	uintptr_t *ring = malloc((size_t)q->cap * 2 * sizeof *ring);
	if (!ring)
		abort();
	for (long i = 0; i < q->count; i++)
		ring[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	q->ring = ring;
	q->head = 0;
	q->cap *= 2;
}

static void pq_put(void *arg, uintptr_t item)
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

static uintptr_t pq_get(void *arg)
{
	struct pq *q = arg;
	pthread_mutex_lock(&q->mutex);
	while (q->count == 0) {
		q->getters++;
		pthread_cond_wait(&q->not_empty, &q->mutex);
		q->getters--;
	}
	uintptr_t item = q->ring[q->head];
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

static const struct bench_queue_impl pthread_impl = {NULL, pq_create, pq_put, pq_get, pq_free, 0};

/* ---- GLib: GAsyncQueue (unbounded) -------------------------------------- */

#ifdef CT_BENCH_HAVE_GLIB
static void *gq_create(long bound)
{
	(void)bound;
	return g_async_queue_new();
}

static void gq_put(void *q, uintptr_t item)
{
	g_async_queue_push(q, (gpointer)item);
}

static uintptr_t gq_get(void *q)
{
	return (uintptr_t)g_async_queue_pop(q);
}

static void gq_free(void *q)
{
	g_async_queue_unref(q);
}

static const struct bench_queue_impl glib_impl = {"unbounded", gq_create, gq_put,
						  gq_get,      gq_free,	  0};
#endif

/* ---- Concurrency Kit: ck_ring, SPSC and MPMC ----------------------------- */

#ifdef CT_BENCH_HAVE_CK
struct ckq {
	ck_ring_t ring;
	ck_ring_buffer_t slots[BOUND]; /* a ring of 1024 slots holds 1023 */
};

static void *ckq_create(long bound)
{
	if (bound <= 0)
		return NULL; /* bounded only */
	struct ckq *q = aligned_alloc(64, (sizeof(struct ckq) + 63) / 64 * 64);
	if (q)
		ck_ring_init(&q->ring, BOUND);
	return q;
}

static void ckq_put_spsc(void *arg, uintptr_t item)
{
	struct ckq *q = arg;
	unsigned tries = 0;
	while (!ck_ring_enqueue_spsc(&q->ring, q->slots, (void *)item))
		bench_spin_wait(&tries);
}

static uintptr_t ckq_get_spsc(void *arg)
{
	struct ckq *q = arg;
	void *item;
	unsigned tries = 0;
	while (!ck_ring_dequeue_spsc(&q->ring, q->slots, &item))
		bench_spin_wait(&tries);
	return (uintptr_t)item;
}

static void ckq_put_mpmc(void *arg, uintptr_t item)
{
	struct ckq *q = arg;
	unsigned tries = 0;
	while (!ck_ring_enqueue_mpmc(&q->ring, q->slots, (void *)item))
		bench_spin_wait(&tries);
}

static uintptr_t ckq_get_mpmc(void *arg)
{
	struct ckq *q = arg;
	void *item;
	unsigned tries = 0;
	while (!ck_ring_dequeue_mpmc(&q->ring, q->slots, &item))
		bench_spin_wait(&tries);
	return (uintptr_t)item;
}

static void ckq_free(void *q)
{
	free(q);
}

static const struct bench_queue_impl ck_spsc_impl = {BENCH_SPIN_NOTE, ckq_create, ckq_put_spsc,
						     ckq_get_spsc,    ckq_free,	  0};
/* Its producers publish in ticket order, each spinning (never yielding)
 * until the one before it has written its item: a producer preempted in
 * between stalls every other for a time slice, so with more threads than
 * CPUs a run takes minutes. */
static const struct bench_queue_impl ck_mpmc_impl = {BENCH_SPIN_NOTE, ckq_create,
						     ckq_put_mpmc,    ckq_get_mpmc,
						     ckq_free,	      BENCH_QUEUE_CPU_PER_THREAD};
#endif

/* ---- the workloads ------------------------------------------------------- */

#define RUNNER(name, impl, n, bound)                           \
	static double name##_##n(long ops, char *note)         \
	{                                                      \
		return mpmc(&(impl), (n), (bound), ops, note); \
	}
/* A runner for each point of the curve (1, 2, 4, 8, 16 of each side). */
#define RUNNERS(name, impl, bound)   \
	RUNNER(name, impl, 1, bound) \
	RUNNER(name, impl, 2, bound) \
	RUNNER(name, impl, 4, bound) RUNNER(name, impl, 8, bound) RUNNER(name, impl, 16, bound)
/* The SimpleQueue rows' (1, 2, 4). */
#define RUNNERS_SQ(name, impl) \
	RUNNER(name, impl, 1, 0) RUNNER(name, impl, 2, 0) RUNNER(name, impl, 4, 0)

RUNNERS(ct, ct_queue_impl, BOUND)
RUNNERS_SQ(ct_sq, ct_simplequeue_impl)
RUNNERS(pthread, pthread_impl, BOUND)
RUNNERS_SQ(pthread_sq, pthread_impl)
#ifdef CT_BENCH_HAVE_GLIB
RUNNERS(glib, glib_impl, 0)
#define GLIB_IMPL(n) {"glib", glib_##n},
#define GLIB_SQ_IMPL(n) {"glib", glib_##n},
#else
#define GLIB_IMPL(n)
#define GLIB_SQ_IMPL(n)
#endif
#ifdef CT_BENCH_HAVE_TBB
RUNNERS(tbb, bench_tbb_queue, BOUND)
RUNNERS_SQ(tbb_sq, bench_tbb_queue)
#define TBB_IMPL(n) {"tbb", tbb_##n},
#define TBB_SQ_IMPL(n) {"tbb", tbb_sq_##n},
#else
#define TBB_IMPL(n)
#define TBB_SQ_IMPL(n)
#endif
#ifdef CT_BENCH_HAVE_CK
RUNNERS(ck, ck_mpmc_impl, BOUND)
RUNNER(ck_spsc, ck_spsc_impl, 1, BOUND)
#define CK_IMPL(n) {"ck", ck_##n},
#define CK_SPSC_IMPL {"ck_spsc", ck_spsc_1},
#else
#define CK_IMPL(n)
#define CK_SPSC_IMPL
#endif
#ifdef CT_BENCH_HAVE_BOOST
RUNNERS(boost, bench_boost_queue, BOUND)
RUNNERS_SQ(boost_sq, bench_boost_queue)
RUNNER(boost_spsc, bench_boost_spsc_queue, 1, BOUND)
#define BOOST_IMPL(n) {"boost", boost_##n},
#define BOOST_SQ_IMPL(n) {"boost", boost_sq_##n},
#define BOOST_SPSC_IMPL {"boost_spsc", boost_spsc_1},
#else
#define BOOST_IMPL(n)
#define BOOST_SQ_IMPL(n)
#define BOOST_SPSC_IMPL
#endif
#ifdef CT_BENCH_HAVE_MOODYCAMEL
RUNNERS(mc, bench_moodycamel_queue, 0)
RUNNERS(mcb, bench_moodycamel_blocking_queue, 0)
#define MOODYCAMEL_IMPL(n) {"moodycamel", mc_##n}, {"moodycamel_blocking", mcb_##n},
#else
#define MOODYCAMEL_IMPL(n)
#endif
#ifdef CT_BENCH_HAVE_ATOMIC_QUEUE
RUNNERS(aq, bench_atomic_queue, BOUND)
#define ATOMIC_QUEUE_IMPL(n) {"atomic_queue", aq_##n},
#else
#define ATOMIC_QUEUE_IMPL(n)
#endif

/* One point of the bounded queue's curve; `...`: its targets. */
#define QUEUE_WORKLOAD(n, desc, extra_impls, ...)                                       \
	static const struct bench_workload queue_##n = {                                \
		.name = "queue_" #n "p" #n "c",                                         \
		.what = desc ", queue bounded to 1024, ns per item",                    \
		.family = "queue",                                                      \
		.curve = "queue",                                                       \
		.threads = n,                                                           \
		.ops = 200000,                                                          \
		.targets = {__VA_ARGS__},                                               \
		.python = "queue_" #n "p" #n "c",                                       \
		.python_ops = 50000,                                                    \
		.impls = {{"cthreading", ct_##n},                                       \
			  {"pthread", pthread_##n},                                     \
			  GLIB_IMPL(n) TBB_IMPL(n) extra_impls CK_IMPL(n) BOOST_IMPL(n) \
				  MOODYCAMEL_IMPL(n) ATOMIC_QUEUE_IMPL(n)},             \
	};                                                                              \
	BENCH_REGISTER(queue_##n)

/* The first generation's targets: >= 3x GAsyncQueue's throughput, >= 50x
 * Python's queue.Queue. The second's: 1 -> 1 within 1.5x Boost's
 * spsc_queue (which busy-waits where ours blocks); 2 -> 2 and 4 -> 4 the
 * fastest of all. */
#define FIRST_GENERATION                      \
	{BENCH_SPEEDUP, 3.0, "glib"},         \
	{                                     \
		BENCH_SPEEDUP, 50.0, "python" \
	}
QUEUE_WORKLOAD(1, "1 producer -> 1 consumer", CK_SPSC_IMPL BOOST_SPSC_IMPL, FIRST_GENERATION,
	       {BENCH_TIME, 1.5, "boost_spsc"})
QUEUE_WORKLOAD(2, "2 producers -> 2 consumers", , FIRST_GENERATION, {BENCH_TIME, 1.0, NULL})
QUEUE_WORKLOAD(4, "4 producers -> 4 consumers", , FIRST_GENERATION, {BENCH_TIME, 1.0, NULL})
QUEUE_WORKLOAD(8, "8 producers -> 8 consumers", , {0})
QUEUE_WORKLOAD(16, "16 producers -> 16 consumers", , {0})

/* SimpleQueue: unbounded, and so are its peers here. The row shows its ratio
 * to Python's queue.SimpleQueue without a target: that one is C, and under
 * the GIL its producer and consumer run in turns, each alone on its cache
 * lines. With more threads it should scale as a queue does: 2 -> 2 and
 * 4 -> 4 within 1.5x its own 1 -> 1 time per item. */
#define SIMPLEQUEUE_WORKLOAD(n, desc, ...)                                                     \
	static const struct bench_workload simplequeue_##n = {                                 \
		.name = "simplequeue_" #n "p" #n "c",                                          \
		.what = desc ", unbounded SimpleQueue (peers: unbounded), ns per item",        \
		.family = "simplequeue",                                                       \
		.threads = n,                                                                  \
		.ops = 200000,                                                                 \
		.targets = {__VA_ARGS__},                                                      \
		.python = "simplequeue_" #n "p" #n "c",                                        \
		.python_ops = 50000,                                                           \
		.impls = {{"cthreading", ct_sq_##n},                                           \
			  {"pthread", pthread_sq_##n},                                         \
			  GLIB_SQ_IMPL(n) TBB_SQ_IMPL(n) BOOST_SQ_IMPL(n) MOODYCAMEL_IMPL(n)}, \
	};                                                                                     \
	BENCH_REGISTER(simplequeue_##n)

SIMPLEQUEUE_WORKLOAD(1, "1 producer -> 1 consumer", {BENCH_SPEEDUP, 3.0, "glib"})
SIMPLEQUEUE_WORKLOAD(2, "2 producers -> 2 consumers", {BENCH_SCALE, 1.5, "simplequeue_1p1c"})
SIMPLEQUEUE_WORKLOAD(4, "4 producers -> 4 consumers", {BENCH_SCALE, 1.5, "simplequeue_1p1c"})
