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

#endif /* CT_TEST_EXECUTOR_HELPERS_H */
