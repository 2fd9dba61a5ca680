/* GIL 机制: the seed's last lesson, made measurable.
 *
 * The seed's Python:
 *
 *     num = 0
 *     lock = Lock()
 *     def inc(total):
 *         global num
 *         while total:
 *             num += 1
 *             total -= 1
 *     for i in range(5):
 *         t = Thread(target=inc, args=(100000,)); t.start(); ts.append(t)
 *     [t.join() for t in ts]
 *     print(f'num 值为：{num}')
 *
 * In Python this prints 500000: the GIL lets one thread at a time run, and
 * since 3.10 CPython only switches threads at calls and backward jumps
 * (the loop's jump back), never inside `num += 1`. In C the same five
 * threads really run at once, so here the program runs them four ways and
 * prints the seed's line for each, with the time it took:
 *
 *   - unsynchronised: each increment a relaxed atomic load then store (so
 *     the program has no undefined behaviour), yet on a multi-core machine
 *     two threads load the same value and one increment is lost;
 *   - under the GIL, with a checkpoint per increment, where CPython's eval
 *     loop checks at the loop's jump back: 500000, as in Python;
 *   - with a Lock around the increment (`with lock:`): 500000;
 *   - with an atomic add: 500000, and the fastest way.
 *
 * Then the other half of the lesson: the GIL also keeps CPU-bound threads
 * from running in parallel, so two of them take about twice as long under
 * the GIL as without it.
 */
#define _POSIX_C_SOURCE 200809L
#include <cthreading.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define THREADS 5
#define TOTAL 100000

static _Atomic long shared; /* the unsynchronised and atomic ways */
static long num;	    /* the GIL and Lock ways: plain, as in Python */
static ct_lock_t lock = CT_LOCK_INIT;
static ct_event_t go = CT_EVENT_INIT; /* all five start together */
static atomic_int arrived;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Waits for the start signal, then until all five are awake: woken threads
 * tend to queue on one CPU at first, and would then run one after the
 * other instead of at once (the GIL way just waits for the signal). */
static void start_line(void)
{
	ct_event_wait(&go, CT_FOREVER);
	atomic_fetch_add(&arrived, 1);
	while (atomic_load(&arrived) < THREADS)
		sched_yield();
}

static int inc_unsynchronised(void *arg)
{
	start_line();
	for (long total = (long)(intptr_t)arg; total; total--) {
		long v = atomic_load_explicit(&shared, memory_order_relaxed);
		atomic_store_explicit(&shared, v + 1, memory_order_relaxed);
	}
	return 0;
}

static int inc_under_gil(void *arg)
{
	ct_gil_t *gil = ct_gil_default();
	ct_event_wait(&go, CT_FOREVER); /* releases the GIL while it waits */
	for (long total = (long)(intptr_t)arg; total; total--) {
		num += 1;
		ct_gil_checkpoint(gil); /* the eval loop's check */
	}
	return 0;
}

static int inc_with_lock(void *arg)
{
	start_line();
	for (long total = (long)(intptr_t)arg; total; total--) {
		CT_WITH_LOCK(&lock)
		{
			num += 1;
		}
	}
	return 0;
}

static int inc_atomic(void *arg)
{
	start_line();
	for (long total = (long)(intptr_t)arg; total; total--)
		atomic_fetch_add_explicit(&shared, 1, memory_order_relaxed);
	return 0;
}

/* Runs five threads of `inc`, timed from the start signal to the last join. */
static double run_five(ct_target_fn inc, ct_gil_t *gil)
{
	ct_thread_t *ts[THREADS];
	ct_event_clear(&go);
	atomic_store(&arrived, 0);
	for (int i = 0; i < THREADS; i++) {
		if (ct_thread_new(&ts[i], inc, (void *)(intptr_t)TOTAL,
				  &(ct_thread_opts){.gil = gil}) < 0 ||
		    ct_thread_start(ts[i]) < 0) {
			fprintf(stderr, "cannot start a thread\n");
			return -1;
		}
	}
	double t0 = now();
	ct_event_set(&go);
	for (int i = 0; i < THREADS; i++) {
		ct_thread_join(ts[i], CT_FOREVER);
		ct_thread_release(ts[i]);
	}
	return now() - t0;
}

static void row(const char *how, double seconds, long result)
{
	printf("  %8.2f ms   %-44s num 值为：%ld\n", seconds * 1e3, how, result);
}

/* ---- the other half: CPU-bound work ------------------------------------ */

#define WORK 60000000L

static atomic_ulong sink;

static int cpu_work(void *arg)
{
	ct_gil_t *gil = arg;
	uint64_t x = 88172645463325252u;
	for (long i = 0; i < WORK; i++) {
		x ^= x << 13; /* xorshift: work the compiler cannot skip */
		x ^= x >> 7;
		x ^= x << 17;
		if (gil)
			ct_gil_checkpoint(gil);
	}
	atomic_fetch_add(&sink, x);
	return 0;
}

static double run_cpu(int nthreads, ct_gil_t *gil)
{
	ct_thread_t *ts[2];
	double t0 = now();
	for (int i = 0; i < nthreads; i++) {
		if (ct_thread_new(&ts[i], cpu_work, gil, &(ct_thread_opts){.gil = gil}) < 0 ||
		    ct_thread_start(ts[i]) < 0) {
			fprintf(stderr, "cannot start a thread\n");
			return -1;
		}
	}
	for (int i = 0; i < nthreads; i++) {
		ct_thread_join(ts[i], CT_FOREVER);
		ct_thread_release(ts[i]);
	}
	return now() - t0;
}

int main(void)
{
	ct_gil_t *gil = ct_gil_default();
	printf("five threads, each adding 1 to num %d times:\n", TOTAL);
	printf("  %8s      %-44s %s\n", "time", "how", "the seed's line");

	atomic_store(&shared, 0);
	double t = run_five(inc_unsynchronised, NULL);
	long unsynchronised = atomic_load(&shared);
	row("unsynchronised (relaxed load, then store)", t, unsynchronised);

	num = 0;
	t = run_five(inc_under_gil, gil);
	row("under the GIL, a checkpoint per increment", t, num);

	num = 0;
	t = run_five(inc_with_lock, NULL);
	row("with a Lock around the increment", t, num);

	atomic_store(&shared, 0);
	t = run_five(inc_atomic, NULL);
	row("with an atomic add", t, atomic_load(&shared));
	if (unsynchronised == THREADS * TOTAL)
		printf("  (no update was lost this time: the threads did not overlap, the machine"
		       " being busy\n   or single-core; on an idle multi-core machine they do)\n");

	printf("\nthe other half of the lesson: CPU-bound work, %ld steps per thread\n", WORK);
	double one = run_cpu(1, NULL);
	double two_free = run_cpu(2, NULL);
	double two_gil = run_cpu(2, gil);
	printf("  %8.1f ms   one thread\n", one * 1e3);
	printf("  %8.1f ms   two threads, no GIL (they run in parallel)\n", two_free * 1e3);
	printf("  %8.1f ms   two threads under the GIL: %.1fx as long, one runs at a time\n",
	       two_gil * 1e3, two_gil / two_free);
	if (two_free > 1.5 * one)
		printf("  (the two threads without a GIL did not run in parallel this time: the"
		       " machine is busy\n   or single-core)\n");
	ct_gil_stats_t s;
	ct_gil_stats(gil, &s);
	printf("  (the GIL changed hands %llu times, %llu of them forced at a checkpoint)\n",
	       (unsigned long long)s.switches, (unsigned long long)s.forced_drops);
	return 0;
}
