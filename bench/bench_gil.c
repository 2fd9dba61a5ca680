/* The GIL's workloads.
 *
 *   gil_checkpoint    the eval loop's check with no request pending
 *   gil_io_latency    a thread sleeping 100 µs at a time next to a CPU-bound
 *                     thread: how much longer than 100 µs each sleep takes
 *   gil_cpu_fairness  4 CPU-bound threads: their shares, and their total
 *                     against one thread alone
 *   gil_handoff       two threads passing the GIL back and forth
 *   gil_resume_bound  a thread releasing and retaking the GIL in a tight
 *                     loop next to a CPU-bound one: how often it gets it,
 *                     and what the CPU-bound thread keeps (the bound on the
 *                     convoy policy, MIN_SLICE in src/gil/gil.c)
 *
 * Python's side (peer_gil.py) runs the same shapes on CPython's GIL.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cthreading.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "bench.h"

/* Starts fn(arg) in a thread under @p gil; NULL if it could not. */
static ct_thread_t *start_under(ct_target_fn fn, void *arg, ct_gil_t *gil)
{
	ct_thread_t *t;
	if (ct_thread_new(&t, fn, arg, &(ct_thread_opts){.gil = gil}) < 0)
		return NULL;
	if (ct_thread_start(t) < 0) {
		ct_thread_destroy(t);
		return NULL;
	}
	return t;
}

static void join(ct_thread_t *t)
{
	ct_thread_join(t, CT_FOREVER);
	ct_thread_destroy(t);
}

/* ---- gil_checkpoint ----------------------------------------------------- */

static double ct_checkpoint(long ops, char *note)
{
	static ct_gil_t gil = CT_GIL_INIT;
	if (ct_gil_acquire(&gil) < 0)
		return -1;
	/* As an interpreter calls it: through the header, inline, from
	 * another translation unit than the library's. */
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++)
		if (CT__UNLIKELY(ct_gil_checkpoint(&gil) < 0))
			return -1;
	double ns = (double)(bench_now() - t0);
	ct_gil_release(&gil);
	double per_op = ns / (double)ops;
	snprintf(note, 120, "target <= 1 ns: %s", per_op <= 1.0 ? "met" : "MISSED");
	return ns;
}

static atomic_int eval_breaker;

static __attribute__((noinline)) void handle_breaker(void)
{
	atomic_store_explicit(&eval_breaker, 0, memory_order_relaxed);
}

/* The floor: CPython's own check, a relaxed load of a global flag. */
static double c11_checkpoint(long ops, char *note)
{
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++)
		if (CT__UNLIKELY(atomic_load_explicit(&eval_breaker, memory_order_relaxed)))
			handle_breaker();
	snprintf(note, 120, "a relaxed load of a global flag");
	return (double)(bench_now() - t0);
}

static const struct bench_workload checkpoint = {
	.name = "gil_checkpoint",
	.what = "ct_gil_checkpoint() with no drop request pending (CPython's eval-breaker check)",
	.family = "gil",
	.ops = 200000000,
	.no_best_peer = true,
	.impls =
		{
			{"cthreading", ct_checkpoint},
			{"c11", c11_checkpoint},
		},
};
BENCH_REGISTER(checkpoint)

/* ---- gil_io_latency ----------------------------------------------------- */

#define SLEEP_NS 100000

static atomic_int cpu_stop;

static int ct_cpu_bound(void *arg)
{
	while (!atomic_load_explicit(&cpu_stop, memory_order_relaxed))
		ct_gil_checkpoint(arg);
	return 0;
}

/* ops sleeps of 100 µs next to a CPU-bound GIL thread: returns the sum of
 * what each took beyond 100 µs. */
static double ct_io_latency(long ops, char *note)
{
	static ct_gil_t gil = CT_GIL_INIT;
	atomic_store(&cpu_stop, 0);
	ct_thread_t *t = start_under(ct_cpu_bound, &gil, &gil);
	if (!t)
		return -1;
	ct_gil_acquire(&gil);
	ct_gil_stats_t before, after;
	ct_gil_stats(&gil, &before);
	int64_t extra = 0, worst = 0;
	for (long i = 0; i < ops; i++) {
		int64_t t0 = bench_now();
		ct_sleep(SLEEP_NS / 1e9);
		int64_t e = bench_now() - t0 - SLEEP_NS;
		extra += e;
		worst = e > worst ? e : worst;
	}
	ct_gil_stats(&gil, &after);
	atomic_store(&cpu_stop, 1);
	ct_gil_release(&gil);
	join(t);
	snprintf(note, 120, "worst %.0f µs; %llu priority requests", (double)worst / 1e3,
		 (unsigned long long)(after.priority_requests - before.priority_requests));
	return (double)extra;
}

static void *pthread_cpu_bound(void *arg)
{
	while (!atomic_load_explicit(&cpu_stop, memory_order_relaxed))
		BENCH_KEEP(arg);
	return NULL;
}

/* The floor: the same sleeps with no GIL at all (the OS's timer slack). */
static double pthread_io_latency(long ops, char *note)
{
	atomic_store(&cpu_stop, 0);
	pthread_t t;
	if (pthread_create(&t, NULL, pthread_cpu_bound, NULL) != 0)
		return -1;
	int64_t extra = 0;
	for (long i = 0; i < ops; i++) {
		int64_t t0 = bench_now();
		struct timespec ts = {0, SLEEP_NS};
		nanosleep(&ts, NULL);
		extra += bench_now() - t0 - SLEEP_NS;
	}
	atomic_store(&cpu_stop, 1);
	pthread_join(t, NULL);
	snprintf(note, 120, "no GIL: the OS's own overshoot");
	return (double)extra;
}

static const struct bench_workload io_latency = {
	.name = "gil_io_latency",
	.what = "extra time per 100 us sleep of a GIL thread next to a CPU-bound one",
	.family = "gil",
	.ops = 200,
	.no_best_peer = true,
	.targets = {{BENCH_TIME, 0.1, "python"}},
	.python = "gil_io_latency",
	.impls =
		{
			{"cthreading", ct_io_latency},
			{"pthread", pthread_io_latency},
		},
};
BENCH_REGISTER(io_latency)

/* ---- gil_cpu_fairness --------------------------------------------------- */

#define FAIR_THREADS 4

struct counter {
	_Alignas(64) atomic_long n;
	ct_gil_t *gil;
};

static int ct_count(void *arg)
{
	struct counter *c = arg;
	long n = 0;
	while (!atomic_load_explicit(&cpu_stop, memory_order_relaxed)) {
		n++;
		if ((n & 255) == 0)
			atomic_store_explicit(&c->n, n, memory_order_relaxed);
		ct_gil_checkpoint(c->gil);
	}
	atomic_store_explicit(&c->n, n, memory_order_relaxed);
	return 0;
}

/* Runs `nthreads` counting threads under the GIL for `ms` milliseconds;
 * adds their counts to counts[] and the ns from the first start to the
 * last join to *ns. */
static int run_counters(ct_gil_t *gil, int nthreads, long ms, long counts[], int64_t *ns)
{
	struct counter c[FAIR_THREADS];
	ct_thread_t *t[FAIR_THREADS];
	int64_t t0 = bench_now();
	atomic_store(&cpu_stop, 0);
	for (int i = 0; i < nthreads; i++) {
		atomic_init(&c[i].n, 0);
		c[i].gil = gil;
		if (!(t[i] = start_under(ct_count, &c[i], gil)))
			return -1;
	}
	ct_sleep((double)ms / 1e3);
	atomic_store(&cpu_stop, 1);
	for (int i = 0; i < nthreads; i++) {
		join(t[i]);
		counts[i] += atomic_load(&c[i].n);
	}
	*ns += bench_now() - t0;
	return 0;
}

/* ops = milliseconds to run; returns ns per unit of work (so that the
 * runner's division by ops gives it). The four threads and the one alone
 * take turns in FAIR_SLICES slices each, so that the machine's drift in
 * speed (a virtual machine's CPU share moves by tens of percent from one
 * second to the next) hits both sides of total/alone alike. */
#define FAIR_SLICES 4

static double ct_fairness(long ops, char *note)
{
	static ct_gil_t gil = CT_GIL_INIT;
	long counts[FAIR_THREADS] = {0}, alone[1] = {0};
	int64_t together_ns = 0, alone_ns = 0;
	for (int k = 0; k < FAIR_SLICES; k++)
		if (run_counters(&gil, FAIR_THREADS, ops / FAIR_SLICES, counts, &together_ns) < 0 ||
		    run_counters(&gil, 1, ops / FAIR_SLICES, alone, &alone_ns) < 0)
			return -1;
	long total = 0, lo = counts[0], hi = counts[0];
	for (int i = 0; i < FAIR_THREADS; i++) {
		total += counts[i];
		lo = counts[i] < lo ? counts[i] : lo;
		hi = counts[i] > hi ? counts[i] : hi;
	}
	double share = hi ? (double)lo / (double)hi : 0;
	/* Work per second together over work per second alone. */
	double vs_alone = alone[0] ? ((double)total / (double)together_ns) /
					     ((double)alone[0] / (double)alone_ns)
				   : 0;
	snprintf(note, 120, "min/max share %.2f (>= 0.8: %s), total/alone %.2f (>= 0.9: %s)", share,
		 share >= 0.8 ? "met" : "MISSED", vs_alone, vs_alone >= 0.9 ? "met" : "MISSED");
	return (double)ops * 1e6 * (double)ops / (double)total;
}

static const struct bench_workload cpu_fairness = {
	.name = "gil_cpu_fairness",
	.what = "4 CPU-bound GIL threads for 1 s: ns per unit of work, shares",
	.family = "gil",
	.ops = 1000,
	.no_best_peer = true,
	.python = "gil_cpu_fairness",
	.impls =
		{
			{"cthreading", ct_fairness},
		},
};
BENCH_REGISTER(cpu_fairness)

/* ---- gil_handoff -------------------------------------------------------- */

struct player {
	ct_gil_t *gil;
	int me;
	long rounds;
};

static int turn; /* guarded by the GIL */

static int ct_play(void *arg)
{
	struct player *p = arg;
	for (long i = 0; i < p->rounds; i++) {
		while (turn != p->me)
			ct_gil_yield(p->gil);
		turn = !p->me;
	}
	return 0;
}

static double ct_handoff(long ops, char *note)
{
	static ct_gil_t gil = CT_GIL_INIT;
	struct player p[2] = {{&gil, 0, ops}, {&gil, 1, ops}};
	ct_thread_t *t[2];
	turn = 0;
	int64_t t0 = bench_now();
	for (int i = 0; i < 2; i++)
		if (!(t[i] = start_under(ct_play, &p[i], &gil)))
			return -1;
	for (int i = 0; i < 2; i++)
		join(t[i]);
	snprintf(note, 120, "round trip: two hand-offs by ct_gil_yield()");
	return (double)(bench_now() - t0);
}

static const struct bench_workload handoff = {
	.name = "gil_handoff",
	.what = "two GIL threads passing the GIL back and forth (round trip)",
	.family = "gil",
	.ops = 20000,
	.no_best_peer = true,
	.python = "gil_handoff",
	.impls =
		{
			{"cthreading", ct_handoff},
		},
};
BENCH_REGISTER(handoff)

/* ---- gil_resume_bound --------------------------------------------------- */

static atomic_long loop_turns;

static int ct_release_loop(void *arg)
{
	(void)arg;
	long n = 0;
	while (!atomic_load_explicit(&cpu_stop, memory_order_relaxed)) {
		CT_GIL_ALLOW_THREADS
		{
			n++; /* a blocking call that returns at once */
		}
		atomic_store_explicit(&loop_turns, n, memory_order_relaxed);
	}
	return 0;
}

/* Runs a counting thread, with the releasing loop beside it or not, and
 * samples both counts over `ms` once they are under way. */
static int sample(ct_gil_t *gil, bool with_loop, long ms, long *counted, long *turns)
{
	struct counter c = {.gil = gil};
	ct_thread_t *t[2];
	atomic_init(&c.n, 0);
	atomic_store(&loop_turns, 0);
	atomic_store(&cpu_stop, 0);
	int n = with_loop ? 2 : 1;
	for (int i = 0; i < n; i++)
		if (!(t[i] = i ? start_under(ct_release_loop, gil, gil)
			       : start_under(ct_count, &c, gil)))
			return -1;
	ct_sleep(0.02); /* both under way */
	long c0 = atomic_load(&c.n), l0 = atomic_load(&loop_turns);
	ct_sleep((double)ms / 1e3);
	*counted = atomic_load(&c.n) - c0;
	*turns = atomic_load(&loop_turns) - l0;
	atomic_store(&cpu_stop, 1);
	for (int i = 0; i < n; i++)
		join(t[i]);
	return 0;
}

/* ops = milliseconds; returns ns per turn of the releasing loop. */
static double ct_resume_bound(long ops, char *note)
{
	static ct_gil_t gil = CT_GIL_INIT;
	long alone, counted, turns;
	if (sample(&gil, false, ops, &alone, &turns) < 0 ||
	    sample(&gil, true, ops, &counted, &turns) < 0 || turns <= 0 || alone <= 0)
		return -1;
	snprintf(note, 120, "the CPU-bound thread keeps %.2f of its throughput; %.0f turns/s",
		 (double)counted / (double)alone, (double)turns * 1e3 / (double)ops);
	return (double)ops * 1e6 * (double)ops / (double)turns;
}

static const struct bench_workload resume_bound = {
	.name = "gil_resume_bound",
	.what = "a GIL thread releasing and retaking it in a loop next to a CPU-bound one "
		"(ns per turn)",
	.family = "gil",
	.ops = 500,
	.no_best_peer = true,
	.python = "gil_resume_bound",
	.impls =
		{
			{"cthreading", ct_resume_bound},
		},
};
BENCH_REGISTER(resume_bound)
