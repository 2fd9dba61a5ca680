/* What debugging costs (cthreading/debug.h): the same loops with the switch
 * off and on, side by side, as rows whose "peers" are cthreading itself.
 *
 *  - lock_uncontended_debug: acquire + release of a free Lock, with
 *    `deadlock` on (the target: <= 100 ns a pair).
 *  - lock_contended_debug_2t: two threads on one Lock, with `deadlock` on.
 *  - queue_trace_1p1c: a producer and a consumer on a bounded queue, with
 *    `trace` on (every wait of either becomes a span).
 *  - trace_event: a condition wait with timeout 0 (it releases the lock,
 *    parks past its deadline and takes the lock back), with `trace` on:
 *    one wait span per operation, plus the lock's hooks; its extra time
 *    per operation bounds the cost of one recorded event (the target:
 *    <= 50 ns). Any setting turns on the recording of waits and holds
 *    (what a dump shows); two more columns split the cost: `dump` alone
 *    (that recording: the hooks, and the clock read when a wait begins)
 *    and `dump` with `trace` (the trace's own part: the clock read when
 *    the wait ends and the event written).
 *  - trace_counter_event: a put or a get on an unbounded queue, one
 *    thread, no waits: with `trace` on, each records one depth counter
 *    event (a hook, a clock read, a slot of the ring), and the put's or
 *    get's waits_on hook runs (no clock read). The queue's own Lock is
 *    the library's and not followed. So the extra time is about the cost
 *    of one recorded event.
 *
 * The switch is process-wide: each "on" run turns it on for its own loop
 * and off again before it returns.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cthreading.h>
#include <pthread.h>
#include <stdlib.h>

#include "bench.h"
#include "bench_contend.h"

static void debug_on(const char *settings)
{
	if (ct_debug_configure(settings) != 0)
		abort();
}

static void debug_off(void)
{
	(void)ct_debug_configure("off");
}

/* Defines NAME_on(ops, note): LOOP(ops) with SETTINGS on for the loop
 * only. */
#define ON(name, loop, settings)                      \
	static double name##_on(long ops, char *note) \
	{                                             \
		(void)note;                           \
		debug_on(settings);                   \
		double t = loop(ops);                 \
		debug_off();                          \
		return t;                             \
	}

/* Defines NAME_off and NAME_on(ops, note): LOOP(ops) with debugging off,
 * and with SETTINGS on for the loop only. */
#define OFF_ON(name, loop, settings)                   \
	static double name##_off(long ops, char *note) \
	{                                              \
		(void)note;                            \
		return loop(ops);                      \
	}                                              \
	ON(name, loop, settings)

/* ---- uncontended -------------------------------------------------------- */

static double lock_pairs(long ops)
{
	static ct_lock_t l = CT_LOCK_INIT;
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++) {
		ct_lock_acquire(&l);
		ct_lock_release(&l);
	}
	return (double)(bench_now() - t0);
}

OFF_ON(uncontended, lock_pairs, "deadlock")

static const struct bench_workload lock_uncontended_debug = {
	.name = "lock_uncontended_debug",
	.what = "acquire + release of a free lock, one thread, debugging off / deadlock on",
	.family = "debug",
	.ops = 2000000,
	.no_best_peer = true,
	.impls = {{"cthreading", uncontended_off}, {"deadlock_on", uncontended_on}},
};
BENCH_REGISTER(lock_uncontended_debug)

/* ---- contended ---------------------------------------------------------- */

static _Alignas(64) struct {
	long counter;
	ct_lock_t l;
} guarded;

static void *contender(void *arg)
{
	struct bench_contender *c = arg;
	ct_lock_t *l = c->lock;
	BENCH_CONTEND_LOOP(c, ct_lock_try_acquire(l), ct_lock_acquire(l), ct_lock_release(l));
	return NULL;
}

static double contended_off(long ops, char *note)
{
	ct_lock_init(&guarded.l);
	return bench_contend(2, ops, &guarded.l, &guarded.counter, contender, note);
}

static double contended_deadlock(long ops, char *note)
{
	ct_lock_init(&guarded.l);
	debug_on("deadlock");
	double t = bench_contend(2, ops, &guarded.l, &guarded.counter, contender, note);
	debug_off();
	return t;
}

static const struct bench_workload lock_contended_debug = {
	.name = "lock_contended_debug_2t",
	.what = "two threads increment under one lock, debugging off / deadlock on",
	.family = "debug",
	.ops = 1000000,
	.no_best_peer = true,
	.impls = {{"cthreading", contended_off}, {"deadlock_on", contended_deadlock}},
};
BENCH_REGISTER(lock_contended_debug)

/* ---- a queue, traced ---------------------------------------------------- */

static ct_queue_t traced_queue;

static int produce(void *arg)
{
	long n = (long)(intptr_t)arg;
	for (long i = 0; i < n; i++)
		if (ct_queue_put(&traced_queue, (void *)(intptr_t)(i + 1), CT_FOREVER) != 0)
			return 1;
	return 0;
}

static double queue_1p1c(long ops)
{
	ct_queue_opts o = {.maxsize = 1024};
	if (ct_queue_init(&traced_queue, &o) != 0)
		return -1;
	int64_t t0 = bench_now();
	ct_thread_t *p;
	if (ct_thread_new(&p, produce, (void *)(intptr_t)ops, NULL) != 0 || ct_thread_start(p) != 0)
		return -1;
	for (long i = 0; i < ops; i++) {
		void *item;
		if (ct_queue_get(&traced_queue, &item, CT_FOREVER) != 0)
			return -1;
		BENCH_KEEP(item);
	}
	ct_thread_join(p, CT_FOREVER);
	double t = (double)(bench_now() - t0);
	ct_thread_release(p);
	ct_queue_destroy(&traced_queue);
	return t;
}

OFF_ON(queue, queue_1p1c, "trace=/dev/null")

static const struct bench_workload queue_trace = {
	.name = "queue_trace_1p1c",
	.what = "1 producer -> 1 consumer, queue bounded to 1024, ns per item, trace off / on",
	.family = "debug",
	.ops = 200000,
	.no_best_peer = true,
	.impls = {{"cthreading", queue_off}, {"trace_on", queue_on}},
};
BENCH_REGISTER(queue_trace)

/* ---- one recorded event ------------------------------------------------- */

static double condition_waits(long ops)
{
	static ct_condition_t c = CT_CONDITION_INIT;
	ct_condition_acquire(&c);
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++)
		(void)ct_condition_wait(&c, 0);
	double t = (double)(bench_now() - t0);
	ct_condition_release(&c);
	return t;
}

OFF_ON(event, condition_waits, "trace=/dev/null")
ON(event_dump, condition_waits, "dump=SIGUSR2")
ON(event_dump_trace, condition_waits, "dump=SIGUSR2,trace=/dev/null")

static const struct bench_workload trace_event = {
	.name = "trace_event",
	.what = "condition wait with timeout 0 (one wait span each): off, trace, dump, dump + "
		"trace",
	.family = "debug",
	.ops = 1000000,
	.no_best_peer = true,
	.impls = {{"cthreading", event_off},
		  {"trace_on", event_on},
		  {"dump_on", event_dump_on},
		  {"dump_trace_on", event_dump_trace_on}},
};
BENCH_REGISTER(trace_event)

/* ---- one counter event, alone ------------------------------------------ */

static double put_get_pairs(long ops)
{
	ct_queue_t q;
	if (ct_queue_init(&q, NULL) != 0)
		return -1;
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++) {
		void *item;
		if (ct_queue_put(&q, (void *)(intptr_t)(i + 1), 0) != 0 ||
		    ct_queue_get(&q, &item, 0) != 0)
			return -1;
		BENCH_KEEP(item);
	}
	double t = (double)(bench_now() - t0);
	ct_queue_destroy(&q);
	return t / 2; /* per put or get: one event each */
}

OFF_ON(counter, put_get_pairs, "trace=/dev/null")

static const struct bench_workload trace_counter_event = {
	.name = "trace_counter_event",
	.what = "a put or a get on an unbounded queue, one thread, trace off / on (one depth "
		"counter event each)",
	.family = "debug",
	.ops = 2000000,
	.no_best_peer = true,
	.impls = {{"cthreading", counter_off}, {"trace_on", counter_on}},
};
BENCH_REGISTER(trace_counter_event)
