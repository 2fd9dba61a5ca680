/* Tasks and gates shared by the executor and future tests. */
#ifndef CT_TEST_EXECUTOR_HELPERS_H
#define CT_TEST_EXECUTOR_HELPERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "harness.h"

/* A task that says it started, then waits until the test lets it go, then
 * returns `status` with `value`. */
struct gate {
	ct_event_t started, go;
	int status;
	void *value;
	atomic_int runs;
};

static inline void gate_init(struct gate *g, int status, void *value)
{
	ct_event_init(&g->started);
	ct_event_init(&g->go);
	g->status = status;
	g->value = value;
	atomic_init(&g->runs, 0);
}

static inline int gated(void *arg, void **result)
{
	struct gate *g = arg;
	atomic_fetch_add(&g->runs, 1);
	ct_event_set(&g->started);
	ct_event_wait(&g->go, CT_FOREVER);
	*result = g->value;
	return g->status;
}

/* Returns arg * arg as the value. */
static inline int square(void *arg, void **result)
{
	intptr_t x = (intptr_t)arg;
	*result = (void *)(x * x);
	return 0;
}

/* Fails with the status given as its argument. */
static inline int fail_with(void *arg, void **result)
{
	(void)result;
	return (int)(intptr_t)arg;
}

static inline int count_call(void *arg, void **result)
{
	(void)result;
	atomic_fetch_add((atomic_long *)arg, 1);
	return 0;
}

static inline ct_executor_t *new_pool(int max_workers)
{
	static ct_executor_t pools[16];
	static int used;
	ct_executor_t *ex = &pools[used++ % 16];
	CHECK_OK(ct_executor_init(ex, &(ct_executor_opts){.max_workers = max_workers}));
	return ex;
}

/* Submits fn(arg) and returns the future, checking that the submit worked. */
static inline ct_future_t *submit(ct_executor_t *ex, ct_task_fn fn, void *arg)
{
	ct_future_t *f = NULL;
	CHECK_OK(ct_executor_submit(ex, fn, arg, &f));
	CHECK(f != NULL);
	return f;
}

/* Submits a gated task (see gate_init) and returns its future once it has
 * started: its worker stays busy until the test opens the gate. */
static inline ct_future_t *submit_started(ct_executor_t *ex, struct gate *g, int status,
					  void *value)
{
	gate_init(g, status, value);
	ct_future_t *f = submit(ex, gated, g);
	CHECK_OK(ct_event_wait(&g->started, CT_FOREVER));
	return f;
}

/* Runs fn(arg) on the pool and waits: the task must succeed; gives its
 * value. */
static inline void *run_one(ct_executor_t *ex, ct_task_fn fn, void *arg)
{
	ct_future_t *f = submit(ex, fn, arg);
	void *value = NULL;
	CHECK_OK(ct_future_result(f, CT_FOREVER, &value));
	ct_future_release(f);
	return value;
}

/* A thread making one blocking call, so that a test can stop it (or let it
 * finish) and look at what the call returned. */
struct blocker {
	int (*call)(void *arg);
	void *arg;
	ct_event_t ready;
	int rc;
	ct_thread_t *thread;
};

static inline int blocker_main(void *p)
{
	struct blocker *b = p;
	ct_event_set(&b->ready);
	b->rc = b->call(b->arg);
	return 0;
}

/* Starts the call and returns once the thread is about to make it. A stop
 * request is sticky: one sent before the call starts waiting still ends it. */
static inline void blocker_start(struct blocker *b, int (*call)(void *), void *arg)
{
	b->call = call;
	b->arg = arg;
	b->rc = 1;
	ct_event_init(&b->ready);
	CHECK_OK(ct_thread_new(&b->thread, blocker_main, b, NULL));
	CHECK_OK(ct_thread_start(b->thread));
	CHECK_OK(ct_event_wait(&b->ready, CT_FOREVER));
}

/* Waits for the call to return; gives what it returned. */
static inline int blocker_join(struct blocker *b)
{
	CHECK_OK(ct_thread_join(b->thread, CT_FOREVER));
	ct_thread_release(b->thread);
	return b->rc;
}

/* Asks the thread to stop, then as blocker_join(). */
static inline int blocker_stop(struct blocker *b)
{
	CHECK_OK(ct_thread_request_stop(b->thread));
	return blocker_join(b);
}

#endif /* CT_TEST_EXECUTOR_HELPERS_H */
