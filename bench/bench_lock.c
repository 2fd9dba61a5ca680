/* Locks: uncontended acquire+release pairs, and 1, 2, 4, 8 and 16 threads
 * contending for a tiny critical section: throughput, fairness and the
 * longest single wait together (bench_contend.h), so that an unfair lock
 * cannot look fast.
 *
 * Each implementation's loop is written out with direct calls (no function
 * pointers), so that inline fast paths count as they would in a program.
 * Peers: pthread_mutex_t, C11 mtx_t, GLib's GMutex, libuv's uv_mutex_t,
 * Concurrency Kit's ck_spinlock_fas (a test-and-set spinlock: it never
 * sleeps), oneTBB's spin_mutex (spins, then yields) and Abseil's Mutex
 * (peer_tbb.cpp, peer_absl.cpp).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cthreading.h>
#include <pthread.h>
#include <threads.h>

#include "bench.h"
#include "bench_contend.h"
#include "bench_peers.h"

/* ---- uncontended -------------------------------------------------------- */

/* Defines NAME_uncontended(ops, note): ops acquire+release pairs. */
#define UNCONTENDED(name, type, init, lock, unlock)            \
	static double name##_uncontended(long ops, char *note) \
	{                                                      \
		static type l;                                 \
		(void)note;                                    \
		init;                                          \
		int64_t t0 = bench_now();                      \
		for (long i = 0; i < ops; i++) {               \
			lock;                                  \
			unlock;                                \
		}                                              \
		return (double)(bench_now() - t0);             \
	}

UNCONTENDED(ct, ct_lock_t, ct_lock_init(&l), ct_lock_acquire(&l), ct_lock_release(&l))
UNCONTENDED(pthread, pthread_mutex_t, pthread_mutex_init(&l, NULL), pthread_mutex_lock(&l),
	    pthread_mutex_unlock(&l))
UNCONTENDED(c11, mtx_t, mtx_init(&l, mtx_plain), mtx_lock(&l), mtx_unlock(&l))
#ifdef CT_BENCH_HAVE_GLIB
UNCONTENDED(glib, GMutex, g_mutex_init(&l), g_mutex_lock(&l), g_mutex_unlock(&l))
#endif
#ifdef CT_BENCH_HAVE_LIBUV
UNCONTENDED(uv, uv_mutex_t, uv_mutex_init(&l), uv_mutex_lock(&l), uv_mutex_unlock(&l))
#endif
#ifdef CT_BENCH_HAVE_CK
UNCONTENDED(ck, ck_spinlock_fas_t, ck_spinlock_fas_init(&l), ck_spinlock_fas_lock(&l),
	    ck_spinlock_fas_unlock(&l))
#endif

static const struct bench_workload lock_uncontended = {
	.name = "lock_uncontended",
	.what = "acquire + release of a free lock, one thread",
	.family = "lock",
	.ops = 5000000,
	.targets = {{BENCH_TIME, 1.0, "pthread"}},
	.python = "lock_uncontended",
	.impls =
		{
			{"cthreading", ct_uncontended},
			{"pthread", pthread_uncontended},
			{"c11", c11_uncontended},
#ifdef CT_BENCH_HAVE_GLIB
			{"glib", glib_uncontended},
#endif
#ifdef CT_BENCH_HAVE_LIBUV
			{"libuv", uv_uncontended},
#endif
#ifdef CT_BENCH_HAVE_TBB
			{"tbb", bench_tbb_lock_uncontended},
#endif
#ifdef CT_BENCH_HAVE_CK
			{"ck", ck_uncontended},
#endif
#ifdef CT_BENCH_HAVE_ABSL
			{"absl", bench_absl_lock_uncontended},
#endif
		},
};
BENCH_REGISTER(lock_uncontended)

/* ---- RLock, uncontended -------------------------------------------------- */

static void pthread_rec_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

UNCONTENDED(ct_r, ct_rlock_t, ct_rlock_init(&l), ct_rlock_acquire(&l), ct_rlock_release(&l))
UNCONTENDED(pthread_r, pthread_mutex_t, pthread_rec_init(&l), pthread_mutex_lock(&l),
	    pthread_mutex_unlock(&l))
UNCONTENDED(c11_r, mtx_t, mtx_init(&l, mtx_plain | mtx_recursive), mtx_lock(&l), mtx_unlock(&l))
#ifdef CT_BENCH_HAVE_GLIB
UNCONTENDED(glib_r, GRecMutex, g_rec_mutex_init(&l), g_rec_mutex_lock(&l), g_rec_mutex_unlock(&l))
#endif

static const struct bench_workload rlock_uncontended = {
	.name = "rlock_uncontended",
	.what = "acquire + release of a free reentrant lock, one thread",
	.family = "lock",
	.ops = 5000000,
	.targets = {{BENCH_TIME, 1.0, "pthread"}},
	.python = "rlock_uncontended",
	.impls =
		{
			{"cthreading", ct_r_uncontended},
			{"pthread", pthread_r_uncontended},
			{"c11", c11_r_uncontended},
#ifdef CT_BENCH_HAVE_GLIB
			{"glib", glib_r_uncontended},
#endif
		},
};
BENCH_REGISTER(rlock_uncontended)

/* ---- contended ---------------------------------------------------------- */

/* Defines NAME_contended(threads, ops, note): the lock and the counter it
 * guards on one cache line, and the worker's loop with direct calls. */
#define CONTENDED(name, type, init, TRY, LOCK, UNLOCK)                                        \
	static _Alignas(64) struct {                                                          \
		long counter;                                                                 \
		type l;                                                                       \
	} name##_guarded;                                                                     \
	static void *name##_worker(void *arg)                                                 \
	{                                                                                     \
		struct bench_contender *c = arg;                                              \
		type *l = c->lock;                                                            \
		BENCH_CONTEND_LOOP(c, TRY, LOCK, UNLOCK);                                     \
		return NULL;                                                                  \
	}                                                                                     \
	static double name##_contended(int threads, long ops, char *note)                     \
	{                                                                                     \
		type *l = &name##_guarded.l;                                                  \
		init;                                                                         \
		return bench_contend(threads, ops, l, &name##_guarded.counter, name##_worker, \
				     note);                                                   \
	}

CONTENDED(ct, ct_lock_t, ct_lock_init(l), ct_lock_try_acquire(l), ct_lock_acquire(l),
	  ct_lock_release(l))
CONTENDED(pthread, pthread_mutex_t, pthread_mutex_init(l, NULL), pthread_mutex_trylock(l) == 0,
	  pthread_mutex_lock(l), pthread_mutex_unlock(l))
CONTENDED(c11, mtx_t, mtx_init(l, mtx_plain), mtx_trylock(l) == thrd_success, mtx_lock(l),
	  mtx_unlock(l))
#ifdef CT_BENCH_HAVE_GLIB
CONTENDED(glib, GMutex, g_mutex_init(l), g_mutex_trylock(l), g_mutex_lock(l), g_mutex_unlock(l))
#endif
#ifdef CT_BENCH_HAVE_LIBUV
CONTENDED(uv, uv_mutex_t, uv_mutex_init(l), uv_mutex_trylock(l) == 0, uv_mutex_lock(l),
	  uv_mutex_unlock(l))
#endif
#ifdef CT_BENCH_HAVE_CK
CONTENDED(ck, ck_spinlock_fas_t, ck_spinlock_fas_init(l), ck_spinlock_fas_trylock(l),
	  ck_spinlock_fas_lock(l), ck_spinlock_fas_unlock(l))
#endif

/* Defines NAME_contended_Nt(ops, note) for each thread count. */
#define AT(name, fn, n)                                             \
	static double name##_contended_##n##t(long ops, char *note) \
	{                                                           \
		return fn(n, ops, note);                            \
	}
#define AT_EVERY_COUNT(name, fn) \
	AT(name, fn, 1) AT(name, fn, 2) AT(name, fn, 4) AT(name, fn, 8) AT(name, fn, 16)

AT_EVERY_COUNT(ct, ct_contended)
AT_EVERY_COUNT(pthread, pthread_contended)
AT_EVERY_COUNT(c11, c11_contended)
#ifdef CT_BENCH_HAVE_GLIB
AT_EVERY_COUNT(glib, glib_contended)
#define GLIB_IMPL(n) {"glib", glib_contended_##n},
#else
#define GLIB_IMPL(n)
#endif
#ifdef CT_BENCH_HAVE_LIBUV
AT_EVERY_COUNT(uv, uv_contended)
#define UV_IMPL(n) {"libuv", uv_contended_##n},
#else
#define UV_IMPL(n)
#endif
#ifdef CT_BENCH_HAVE_TBB
AT_EVERY_COUNT(tbb, bench_tbb_lock_contended)
#define TBB_IMPL(n) {"tbb", tbb_contended_##n},
#else
#define TBB_IMPL(n)
#endif
#ifdef CT_BENCH_HAVE_CK
AT_EVERY_COUNT(ck, ck_contended)
#define CK_IMPL(n) {"ck", ck_contended_##n},
#else
#define CK_IMPL(n)
#endif
#ifdef CT_BENCH_HAVE_ABSL
AT_EVERY_COUNT(absl, bench_absl_lock_contended)
#define ABSL_IMPL(n) {"absl", absl_contended_##n},
#else
#define ABSL_IMPL(n)
#endif

/* One point of the curve; `...` its targets. */
#define CONTENDED_WORKLOAD(n, who, ...)                                               \
	static const struct bench_workload lock_contended_##n##t = {                  \
		.name = "lock_contended_" #n "t",                                     \
		.what = "4M increments of one counter under one lock, shared by " who \
			" (ns per increment)",                                        \
		.family = "lock_contended",                                           \
		.curve = "lock_contended",                                            \
		.threads = n,                                                         \
		.ops = 4000000,                                                       \
		.targets = {__VA_ARGS__},                                             \
		.python = "lock_contended_" #n "t",                                   \
		.python_ops = 400000,                                                 \
		.impls = {{"cthreading", ct_contended_##n##t},                        \
			  {"pthread", pthread_contended_##n##t},                      \
			  {"c11", c11_contended_##n##t},                              \
			  GLIB_IMPL(n##t) UV_IMPL(n##t) TBB_IMPL(n##t) CK_IMPL(n##t)  \
				  ABSL_IMPL(n##t)},                                   \
	};                                                                            \
	BENCH_REGISTER(lock_contended_##n##t)

/* The targets: at 2 threads, twice the best peer's throughput (the first
 * generation: twice pthread's), read twice: against every peer, and
 * against the best of those that let each thread have at least half the
 * share of the luckiest (a lock that lets one thread run alone has the
 * highest throughput of all); at 4 and 8 threads on 2 CPUs no collapse (no
 * more than twice its own time per increment at 2 threads); and never a
 * longer single wait than pthread's. */
#define NO_COLLAPSE                                   \
	{                                             \
		BENCH_SCALE, 2.0, "lock_contended_2t" \
	}
#define WAIT_VS_PTHREAD                    \
	{                                  \
		BENCH_WAIT, 1.0, "pthread" \
	}
CONTENDED_WORKLOAD(1, "1 thread: no contention", {0})
CONTENDED_WORKLOAD(2, "2 threads", {BENCH_SPEEDUP, 2.0, "pthread"}, {BENCH_SPEEDUP, 2.0, NULL},
		   {BENCH_FAIR_SPEEDUP, 2.0, NULL}, WAIT_VS_PTHREAD)
CONTENDED_WORKLOAD(4, "4 threads", NO_COLLAPSE, WAIT_VS_PTHREAD)
CONTENDED_WORKLOAD(8, "8 threads", NO_COLLAPSE, WAIT_VS_PTHREAD)
CONTENDED_WORKLOAD(16, "16 threads", {0})
