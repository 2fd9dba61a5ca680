/* thread_start_join: start a thread running an empty function, join it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cthreading.h>
#include <pthread.h>
#include <threads.h>

#include "bench.h"

static int empty_target(void *arg)
{
	BENCH_KEEP(arg);
	return 0;
}

static double ct_start_join(long ops, char *note)
{
	(void)note;
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++) {
		ct_thread_t *t;
		if (ct_thread_new(&t, empty_target, NULL, NULL) < 0 || ct_thread_start(t) < 0)
			return -1;
		ct_thread_join(t, CT_FOREVER);
		ct_thread_destroy(t);
	}
	return (double)(bench_now() - t0);
}

static void *empty_pthread(void *arg)
{
	return arg;
}

static double pthread_start_join(long ops, char *note)
{
	(void)note;
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, empty_pthread, NULL) != 0)
			return -1;
		pthread_join(t, NULL);
	}
	return (double)(bench_now() - t0);
}

static int empty_c11(void *arg)
{
	BENCH_KEEP(arg);
	return 0;
}

static double c11_start_join(long ops, char *note)
{
	(void)note;
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++) {
		thrd_t t;
		if (thrd_create(&t, empty_c11, NULL) != thrd_success)
			return -1;
		thrd_join(t, NULL);
	}
	return (double)(bench_now() - t0);
}

#ifdef CT_BENCH_HAVE_GLIB
static gpointer empty_glib(gpointer arg)
{
	return arg;
}

static double glib_start_join(long ops, char *note)
{
	(void)note;
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++)
		g_thread_join(g_thread_new(NULL, empty_glib, NULL));
	return (double)(bench_now() - t0);
}
#endif

static const struct bench_workload start_join = {
	.name = "thread_start_join",
	.what = "start a thread running an empty function, then join it",
	.family = "thread",
	.ops = 2000,
	.targets = {{BENCH_TIME, 1.1, "pthread"}},
	.python = "thread_start_join",
	.impls =
		{
			{"cthreading", ct_start_join},
			{"pthread", pthread_start_join},
			{"c11", c11_start_join},
#ifdef CT_BENCH_HAVE_GLIB
			{"glib", glib_start_join},
#endif
		},
};
BENCH_REGISTER(start_join)
