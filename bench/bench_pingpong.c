/* Ping-pong round trips between two threads: one hands a turn to the other
 * and waits for it back, through an Event or a Semaphore (a Condition's is
 * in bench_condition.c). This is the wake-up latency a program feels: on a
 * virtual machine a sleeping thread takes tens of microseconds to wake, so
 * the primitives that keep the partner from sleeping win.
 *
 * The peers: Python's threading.Event is a flag under a mutex and a
 * condition variable, and that is how an event is written with pthreads,
 * C11 threads, GLib and libuv; with Abseil, a flag under an absl::Mutex
 * waited for with Mutex::Await, and absl::Notification (one-shot: a fresh
 * one per turn); a semaphore likewise (count, mutex, condition), plus
 * POSIX sem_t and libuv's uv_sem_t (peer_absl.cpp for Abseil's).
 *
 * Each run checks its turns: the main side numbers each ping and the
 * partner must see that number before it answers with its negation, so
 * that a primitive that wakes its waiter early cannot look fast.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cthreading.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <threads.h>

#include "bench.h"
#include "bench_peers.h"
#include "bench_start.h"

/* Runs partner(arg) in a pthread and main_side(arg) here; returns the time
 * main_side took, or -1 if either side saw a turn out of order (`wrong`).
 * The clock starts once both threads are running (see bench_start.h). */
static double pingpong(void *(*partner)(void *), bool (*main_side)(void *), void *arg,
		       struct bench_start *start, atomic_bool *wrong, char *note)
{
	pthread_t t;
	bench_start_reset(start);
	atomic_store(wrong, false);
	if (pthread_create(&t, NULL, partner, arg) != 0)
		return -1;
	bench_start_together(start);
	int64_t t0 = bench_now();
	bool ok = main_side(arg);
	double dt = (double)(bench_now() - t0);
	pthread_join(t, NULL);
	if (!ok || atomic_load(wrong)) {
		snprintf(note, 120, "WRONG ORDER: a turn seen before it was given");
		return -1;
	}
	return dt;
}

/* Defines the ping-pong of one implementation of a two-state turn:
 * T is the primitive's type, INIT(p), GIVE(p) and TAKE(p) its operations
 * (an event: GIVE sets, TAKE waits and clears; a semaphore: release and
 * acquire). */
#define PINGPONG(name, T, INIT, GIVE, TAKE)                                                    \
	struct name##_pp {                                                                     \
		T ping, pong;                                                                  \
		long rounds;                                                                   \
		atomic_long ball; /* i: ping i given; -i: answered */                          \
		atomic_bool wrong;                                                             \
		struct bench_start start;                                                      \
	};                                                                                     \
	static void *name##_partner(void *arg)                                                 \
	{                                                                                      \
		struct name##_pp *pp = arg;                                                    \
		bench_start_together(&pp->start);                                              \
		for (long i = 1; i <= pp->rounds; i++) {                                       \
			TAKE(&pp->ping);                                                       \
			if (atomic_load_explicit(&pp->ball, memory_order_relaxed) != i)        \
				atomic_store(&pp->wrong, true);                                \
			atomic_store_explicit(&pp->ball, -i, memory_order_relaxed);            \
			GIVE(&pp->pong);                                                       \
		}                                                                              \
		return NULL;                                                                   \
	}                                                                                      \
	static bool name##_main(void *arg)                                                     \
	{                                                                                      \
		struct name##_pp *pp = arg;                                                    \
		bool ok = true;                                                                \
		for (long i = 1; i <= pp->rounds; i++) {                                       \
			atomic_store_explicit(&pp->ball, i, memory_order_relaxed);             \
			GIVE(&pp->ping);                                                       \
			TAKE(&pp->pong);                                                       \
			ok &= atomic_load_explicit(&pp->ball, memory_order_relaxed) == -i;     \
		}                                                                              \
		return ok;                                                                     \
	}                                                                                      \
	static double name##_pingpong(long ops, char *note)                                    \
	{                                                                                      \
		static struct name##_pp pp;                                                    \
		pp.rounds = ops;                                                               \
		atomic_store(&pp.ball, 0);                                                     \
		INIT(&pp.ping);                                                                \
		INIT(&pp.pong);                                                                \
		return pingpong(name##_partner, name##_main, &pp, &pp.start, &pp.wrong, note); \
	}

/* ---- Event -------------------------------------------------------------- */

static void ct_ev_init(ct_event_t *e)
{
	ct_event_init(e);
}
static void ct_ev_take(ct_event_t *e)
{
	ct_event_wait(e, CT_FOREVER);
	ct_event_clear(e);
}
PINGPONG(ct_event, ct_event_t, ct_ev_init, ct_event_set, ct_ev_take)

/* Python's Event: a flag, a mutex and a condition variable. */
#define FLAG_EVENT(name, M, C, m_init, c_init, lock, unlock, wait, broadcast) \
	struct name##_event {                                                 \
		M m;                                                          \
		C c;                                                          \
		bool flag;                                                    \
	};                                                                    \
	static void name##_ev_init(struct name##_event *e)                    \
	{                                                                     \
		m_init;                                                       \
		c_init;                                                       \
		e->flag = false;                                              \
	}                                                                     \
	static void name##_ev_set(struct name##_event *e)                     \
	{                                                                     \
		lock;                                                         \
		e->flag = true;                                               \
		broadcast;                                                    \
		unlock;                                                       \
	}                                                                     \
	static void name##_ev_take(struct name##_event *e)                    \
	{                                                                     \
		lock;                                                         \
		while (!e->flag)                                              \
			wait;                                                 \
		e->flag = false;                                              \
		unlock;                                                       \
	}                                                                     \
	PINGPONG(name##_event, struct name##_event, name##_ev_init, name##_ev_set, name##_ev_take)

FLAG_EVENT(pthread, pthread_mutex_t, pthread_cond_t, pthread_mutex_init(&e->m, NULL),
	   pthread_cond_init(&e->c, NULL), pthread_mutex_lock(&e->m), pthread_mutex_unlock(&e->m),
	   pthread_cond_wait(&e->c, &e->m), pthread_cond_broadcast(&e->c))
FLAG_EVENT(c11, mtx_t, cnd_t, mtx_init(&e->m, mtx_plain), cnd_init(&e->c), mtx_lock(&e->m),
	   mtx_unlock(&e->m), cnd_wait(&e->c, &e->m), cnd_broadcast(&e->c))
#ifdef CT_BENCH_HAVE_GLIB
FLAG_EVENT(glib, GMutex, GCond, g_mutex_init(&e->m), g_cond_init(&e->c), g_mutex_lock(&e->m),
	   g_mutex_unlock(&e->m), g_cond_wait(&e->c, &e->m), g_cond_broadcast(&e->c))
#endif
#ifdef CT_BENCH_HAVE_LIBUV
FLAG_EVENT(uv, uv_mutex_t, uv_cond_t, uv_mutex_init(&e->m), uv_cond_init(&e->c),
	   uv_mutex_lock(&e->m), uv_mutex_unlock(&e->m), uv_cond_wait(&e->c, &e->m),
	   uv_cond_broadcast(&e->c))
#endif

static const struct bench_workload event_pingpong = {
	.name = "event_pingpong",
	.what = "round trip between two threads through two Events",
	.family = "pingpong",
	.ops = 100000,
	.targets = {{BENCH_TIME, 1.0, "pthread"}},
	.python = "event_pingpong",
	.impls =
		{
			{"cthreading", ct_event_pingpong},
			{"pthread", pthread_event_pingpong},
			{"c11", c11_event_pingpong},
#ifdef CT_BENCH_HAVE_GLIB
			{"glib", glib_event_pingpong},
#endif
#ifdef CT_BENCH_HAVE_LIBUV
			{"libuv", uv_event_pingpong},
#endif
#ifdef CT_BENCH_HAVE_ABSL
			{"absl", bench_absl_event_pingpong},
			{"absl_notification", bench_absl_notification_pingpong},
#endif
		},
};
BENCH_REGISTER(event_pingpong)

/* ---- Semaphore ---------------------------------------------------------- */

static void ct_sem_init(ct_semaphore_t *s)
{
	ct_semaphore_init(s, 0);
}
static void ct_sem_give(ct_semaphore_t *s)
{
	ct_semaphore_release(s, 1);
}
static void ct_sem_take(ct_semaphore_t *s)
{
	ct_semaphore_acquire(s, CT_FOREVER);
}
PINGPONG(ct_sem, ct_semaphore_t, ct_sem_init, ct_sem_give, ct_sem_take)

/* Python's Semaphore: a count under a mutex and a condition variable. */
#define COUNT_SEM(name, M, C, m_init, c_init, lock, unlock, wait, signal)            \
	struct name##_csem {                                                         \
		M m;                                                                 \
		C c;                                                                 \
		long value;                                                          \
	};                                                                           \
	static void name##_csem_init(struct name##_csem *s)                          \
	{                                                                            \
		m_init;                                                              \
		c_init;                                                              \
		s->value = 0;                                                        \
	}                                                                            \
	static void name##_csem_give(struct name##_csem *s)                          \
	{                                                                            \
		lock;                                                                \
		s->value++;                                                          \
		signal;                                                              \
		unlock;                                                              \
	}                                                                            \
	static void name##_csem_take(struct name##_csem *s)                          \
	{                                                                            \
		lock;                                                                \
		while (s->value == 0)                                                \
			wait;                                                        \
		s->value--;                                                          \
		unlock;                                                              \
	}                                                                            \
	PINGPONG(name##_sem, struct name##_csem, name##_csem_init, name##_csem_give, \
		 name##_csem_take)

COUNT_SEM(pthread, pthread_mutex_t, pthread_cond_t, pthread_mutex_init(&s->m, NULL),
	  pthread_cond_init(&s->c, NULL), pthread_mutex_lock(&s->m), pthread_mutex_unlock(&s->m),
	  pthread_cond_wait(&s->c, &s->m), pthread_cond_signal(&s->c))
COUNT_SEM(c11, mtx_t, cnd_t, mtx_init(&s->m, mtx_plain), cnd_init(&s->c), mtx_lock(&s->m),
	  mtx_unlock(&s->m), cnd_wait(&s->c, &s->m), cnd_signal(&s->c))
#ifdef CT_BENCH_HAVE_GLIB
COUNT_SEM(glib, GMutex, GCond, g_mutex_init(&s->m), g_cond_init(&s->c), g_mutex_lock(&s->m),
	  g_mutex_unlock(&s->m), g_cond_wait(&s->c, &s->m), g_cond_signal(&s->c))
#endif

static void posix_init(sem_t *s)
{
	sem_init(s, 0, 0);
}
static void posix_take(sem_t *s)
{
	while (sem_wait(s) != 0)
		; /* EINTR */
}
PINGPONG(posix_sem, sem_t, posix_init, sem_post, posix_take)

#ifdef CT_BENCH_HAVE_LIBUV
static void uv_sem_init0(uv_sem_t *s)
{
	uv_sem_init(s, 0);
}
PINGPONG(uv_sem, uv_sem_t, uv_sem_init0, uv_sem_post, uv_sem_wait)
#endif

static const struct bench_workload semaphore_pingpong = {
	.name = "semaphore_pingpong",
	.what = "round trip between two threads through two Semaphores",
	.family = "pingpong",
	.ops = 100000,
	.targets = {{BENCH_TIME, 1.0, "pthread"}},
	.python = "semaphore_pingpong",
	.impls =
		{
			{"cthreading", ct_sem_pingpong},
			{"pthread", pthread_sem_pingpong},
			{"posix_sem", posix_sem_pingpong},
			{"c11", c11_sem_pingpong},
#ifdef CT_BENCH_HAVE_GLIB
			{"glib", glib_sem_pingpong},
#endif
#ifdef CT_BENCH_HAVE_LIBUV
			{"libuv", uv_sem_pingpong},
#endif
#ifdef CT_BENCH_HAVE_ABSL
			{"absl", bench_absl_semaphore_pingpong},
#endif
		},
};
BENCH_REGISTER(semaphore_pingpong)
