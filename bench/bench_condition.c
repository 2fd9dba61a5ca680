/* condition_pingpong: two threads pass a turn back and forth under one lock
 * with one condition variable, the textbook use (Python's Condition over a
 * Lock, pthread_cond_t over a mutex, absl::CondVar over an absl::Mutex
 * in peer_absl.cpp): one round trip per operation. The turn variable is
 * the check: each side waits until it sees its own turn. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cthreading.h>
#include <pthread.h>
#include <threads.h>

#include "bench.h"
#include "bench_peers.h"
#include "bench_start.h"

/* Defines NAME_cond_pingpong: M and C are the lock and condition types.
 * Each side holds the lock throughout and waits on the condition for its
 * turn, as Python's `with cond: while turn != me: cond.wait()`. */
#define COND_PINGPONG(name, M, C, init, lock, unlock, wait, signal)        \
	struct name##_cpp {                                                \
		M m;                                                       \
		C c;                                                       \
		int turn;                                                  \
		long rounds;                                               \
		struct bench_start start;                                  \
	};                                                                 \
	static void *name##_cond_partner(void *arg)                        \
	{                                                                  \
		struct name##_cpp *p = arg;                                \
		bench_start_together(&p->start);                           \
		lock;                                                      \
		for (long i = 0; i < p->rounds; i++) {                     \
			while (p->turn != 1)                               \
				wait;                                      \
			p->turn = 0;                                       \
			signal;                                            \
		}                                                          \
		unlock;                                                    \
		return NULL;                                               \
	}                                                                  \
	static double name##_cond_pingpong(long ops, char *note)           \
	{                                                                  \
		static struct name##_cpp pp;                               \
		struct name##_cpp *p = &pp;                                \
		(void)note;                                                \
		p->rounds = ops;                                           \
		p->turn = 0;                                               \
		init;                                                      \
		bench_start_reset(&p->start);                              \
		pthread_t t;                                               \
		if (pthread_create(&t, NULL, name##_cond_partner, p) != 0) \
			return -1;                                         \
		bench_start_together(&p->start);                           \
		int64_t t0 = bench_now();                                  \
		lock;                                                      \
		for (long i = 0; i < p->rounds; i++) {                     \
			p->turn = 1;                                       \
			signal;                                            \
			while (p->turn != 0)                               \
				wait;                                      \
		}                                                          \
		unlock;                                                    \
		double dt = (double)(bench_now() - t0);                    \
		pthread_join(t, NULL);                                     \
		return dt;                                                 \
	}

COND_PINGPONG(ct, ct_lock_t, ct_condition_t, (ct_lock_init(&p->m), ct_condition_init(&p->c, &p->m)),
	      ct_lock_acquire(&p->m), ct_lock_release(&p->m), ct_condition_wait(&p->c, CT_FOREVER),
	      ct_condition_notify(&p->c, 1))
COND_PINGPONG(pthread, pthread_mutex_t, pthread_cond_t,
	      (pthread_mutex_init(&p->m, NULL), pthread_cond_init(&p->c, NULL)),
	      pthread_mutex_lock(&p->m), pthread_mutex_unlock(&p->m),
	      pthread_cond_wait(&p->c, &p->m), pthread_cond_signal(&p->c))
COND_PINGPONG(c11, mtx_t, cnd_t, (mtx_init(&p->m, mtx_plain), cnd_init(&p->c)), mtx_lock(&p->m),
	      mtx_unlock(&p->m), cnd_wait(&p->c, &p->m), cnd_signal(&p->c))
#ifdef CT_BENCH_HAVE_GLIB
COND_PINGPONG(glib, GMutex, GCond, (g_mutex_init(&p->m), g_cond_init(&p->c)), g_mutex_lock(&p->m),
	      g_mutex_unlock(&p->m), g_cond_wait(&p->c, &p->m), g_cond_signal(&p->c))
#endif
#ifdef CT_BENCH_HAVE_LIBUV
COND_PINGPONG(uv, uv_mutex_t, uv_cond_t, (uv_mutex_init(&p->m), uv_cond_init(&p->c)),
	      uv_mutex_lock(&p->m), uv_mutex_unlock(&p->m), uv_cond_wait(&p->c, &p->m),
	      uv_cond_signal(&p->c))
#endif

static const struct bench_workload condition_pingpong = {
	.name = "condition_pingpong",
	.what = "round trip between two threads through one lock and condition",
	.family = "pingpong",
	.ops = 100000,
	.targets = {{BENCH_TIME, 1.0, "pthread"}},
	.python = "condition_pingpong",
	.impls =
		{
			{"cthreading", ct_cond_pingpong},
			{"pthread", pthread_cond_pingpong},
			{"c11", c11_cond_pingpong},
#ifdef CT_BENCH_HAVE_GLIB
			{"glib", glib_cond_pingpong},
#endif
#ifdef CT_BENCH_HAVE_LIBUV
			{"libuv", uv_cond_pingpong},
#endif
#ifdef CT_BENCH_HAVE_ABSL
			{"absl", bench_absl_condition_pingpong},
#endif
		},
};
BENCH_REGISTER(condition_pingpong)
