/* The contended-lock harness (bench_contend.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "bench_contend.h"

struct harness {
	atomic_int ready;
	atomic_bool go;
};

void bench_contend_ready(struct bench_contender *c)
{
	struct harness *h = c->harness;
	atomic_fetch_add(&h->ready, 1);
	while (!atomic_load_explicit(&h->go, memory_order_acquire))
		sched_yield();
}

double bench_contend(int threads, long ops, void *lock, long *counter, void *(*worker)(void *),
		     char *note)
{
	struct harness h = {0};
	struct bench_contender c[BENCH_MAX_CONTENDERS];
	pthread_t t[BENCH_MAX_CONTENDERS];
	if (threads < 1 || threads > BENCH_MAX_CONTENDERS)
		return -1;
	*counter = 0;
	for (int i = 0; i < threads; i++) {
		c[i] = (struct bench_contender){lock, counter, ops, 0, 0, &h};
		if (pthread_create(&t[i], NULL, worker, &c[i]) != 0) {
			snprintf(note, 120, "could not start thread %d", i + 1);
			atomic_store(&h.go, true);
			for (int j = 0; j < i; j++)
				pthread_join(t[j], NULL);
			return -1;
		}
	}
	while (atomic_load(&h.ready) < threads)
		sched_yield();
	int64_t t0 = bench_now();
	atomic_store_explicit(&h.go, true, memory_order_release);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double dt = (double)(bench_now() - t0);
	long sum = 0, lo = c[0].done, hi = c[0].done;
	int64_t longest = 0;
	for (int i = 0; i < threads; i++) {
		sum += c[i].done;
		lo = c[i].done < lo ? c[i].done : lo;
		hi = c[i].done > hi ? c[i].done : hi;
		longest = c[i].longest_wait > longest ? c[i].longest_wait : longest;
	}
	if (*counter != ops || sum != ops) {
		/* A lost or doubled update: the lock is broken. */
		snprintf(note, 120, "WRONG COUNT %ld (threads: %ld) of %ld", *counter, sum, ops);
		return -1;
	}
	bench_report_fairness(hi ? (double)lo / (double)hi : 0);
	bench_report_longest_wait((double)longest);
	return dt;
}
