/* Futures, wait and as_completed: Python's concurrent.futures, case by case. */
#include <math.h>
#include <stdlib.h>

#include "core/fault.h"
#include "executor_helpers.h"
#include "fork_helpers.h"
#include "futures/future_internal.h"
#include "ht_internal.h"

/* A pool with one worker, held by a gated task, so that the futures
 * submitted after stay pending until the test lets the gate go. */
struct held {
	ct_executor_t ex;
	struct gate gate;
	ct_future_t *holder;
};

static void hold(struct held *h, int workers)
{
	CHECK_OK(ct_executor_init(&h->ex, &(ct_executor_opts){.max_workers = workers}));
	h->holder = submit_started(&h->ex, &h->gate, 0, NULL);
}

static void unhold(struct held *h)
{
	ct_event_set(&h->gate.go);
	ct_future_release(h->holder);
	ct_executor_destroy(&h->ex);
}

/* ---- result, exception, states ---------------------------------------------- */

TEST(result_waits_with_a_timeout)
{
	struct held h;
	hold(&h, 1);
	double t0 = ht_now();
	CHECK_RC(ct_future_result(h.holder, 0.05, NULL), CT_ETIMEDOUT);
	CHECK(ht_now() - t0 >= 0.05);
	CHECK_RC(ct_future_result(h.holder, 0, NULL), CT_ETIMEDOUT);
	int status;
	CHECK_RC(ct_future_exception(h.holder, 0, &status), CT_ETIMEDOUT);
	CHECK(ct_future_running(h.holder));
	CHECK(!ct_future_done(h.holder));
	ct_event_set(&h.gate.go);
	CHECK_OK(ct_future_result(h.holder, CT_FOREVER, NULL));
	CHECK(!ct_future_running(h.holder));
	CHECK(ct_future_done(h.holder));
	unhold(&h);
}

TEST(result_gives_status_and_value)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	struct gate g;
	gate_init(&g, 4, (void *)44);
	ct_event_set(&g.go);
	ct_future_t *f = submit(&ex, gated, &g);
	void *v = NULL;
	/* A failing task's value comes back too. */
	CHECK_RC(ct_future_result(f, CT_FOREVER, &v), 4);
	CHECK_EQ((intptr_t)v, 44);
	int status = 0;
	CHECK_OK(ct_future_exception(f, CT_FOREVER, &status));
	CHECK_EQ(status, 4);
	/* A task whose status looks like a library code: exception() tells. */
	ct_future_t *g2 = submit(&ex, fail_with, (void *)(intptr_t)CT_ETIMEDOUT);
	CHECK_RC(ct_future_result(g2, CT_FOREVER, NULL), CT_ETIMEDOUT);
	CHECK(ct_future_done(g2));
	CHECK_OK(ct_future_exception(g2, CT_FOREVER, &status));
	CHECK_EQ(status, CT_ETIMEDOUT);
	ct_future_release(f);
	ct_future_release(g2);
	ct_executor_destroy(&ex);
}

static int wait_result(void *f)
{
	return ct_future_result(f, CT_FOREVER, NULL);
}

TEST(many_threads_wait_for_one_result)
{
	struct held h;
	hold(&h, 1);
	struct blocker b[4];
	for (int i = 0; i < 4; i++)
		blocker_start(&b[i], wait_result, h.holder);
	ct_event_set(&h.gate.go);
	for (int i = 0; i < 4; i++)
		CHECK_OK(blocker_join(&b[i]));
	unhold(&h);
}

TEST(stop_request_interrupts_result)
{
	struct held h;
	hold(&h, 1);
	struct blocker b;
	blocker_start(&b, wait_result, h.holder);
	CHECK_RC(blocker_stop(&b), CT_ESTOPPED);
	unhold(&h);
}

/* ---- cancel -------------------------------------------------------------------- */

TEST(cancel_a_pending_future)
{
	struct held h;
	hold(&h, 1);
	atomic_long calls = 0;
	ct_future_t *f = submit(&h.ex, count_call, &calls);
	CHECK(!ct_future_running(f));
	CHECK(ct_future_cancel(f));
	CHECK(ct_future_cancelled(f));
	CHECK(ct_future_done(f));
	CHECK(ct_future_cancel(f)); /* again: still true */
	CHECK_RC(ct_future_result(f, CT_FOREVER, NULL), CT_ECANCELLED);
	int status;
	CHECK_RC(ct_future_exception(f, CT_FOREVER, &status), CT_ECANCELLED);
	unhold(&h); /* the worker takes the cancelled task and skips it */
	CHECK_EQ(atomic_load(&calls), 0);
	ct_future_release(f);
}

TEST(cannot_cancel_running_or_finished)
{
	struct held h;
	hold(&h, 1);
	CHECK(!ct_future_cancel(h.holder));
	CHECK(ct_future_running(h.holder));
	CHECK(!ct_future_cancelled(h.holder));
	ct_event_set(&h.gate.go);
	CHECK_OK(ct_future_result(h.holder, CT_FOREVER, NULL));
	CHECK(!ct_future_cancel(h.holder));
	CHECK(!ct_future_cancelled(h.holder));
	unhold(&h);
}

/* ---- callbacks ----------------------------------------------------------------- */

struct calls {
	int order[8];
	int n;
	ct_future_t *seen;
	unsigned long thread;
};

static struct calls cb_calls;

static void record_callback(ct_future_t *f, void *arg)
{
	cb_calls.order[cb_calls.n++] = (int)(intptr_t)arg;
	cb_calls.seen = f;
	cb_calls.thread = ct_get_ident();
}

TEST(callbacks_run_in_the_order_added)
{
	struct held h;
	hold(&h, 1);
	for (intptr_t i = 1; i <= 3; i++)
		CHECK_OK(ct_future_add_done_callback(h.holder, record_callback, (void *)i));
	CHECK_EQ(cb_calls.n, 0);
	ct_event_set(&h.gate.go);
	CHECK_OK(ct_future_result(h.holder, CT_FOREVER, NULL));
	ct_executor_shutdown(&h.ex, true, false); /* the callbacks have run */
	CHECK_EQ(cb_calls.n, 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(cb_calls.order[i], i + 1);
	CHECK(cb_calls.seen == h.holder);
	CHECK(cb_calls.thread != ct_get_ident()); /* in the worker */
	unhold(&h);
}

TEST(callback_on_a_done_future_runs_at_once)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	ct_future_t *f = submit(&ex, square, (void *)2);
	CHECK_OK(ct_future_result(f, CT_FOREVER, NULL));
	CHECK_OK(ct_future_add_done_callback(f, record_callback, (void *)7));
	CHECK_EQ(cb_calls.n, 1);
	CHECK_EQ(cb_calls.order[0], 7);
	CHECK(cb_calls.thread == ct_get_ident());
	ct_future_release(f);
	ct_executor_destroy(&ex);
}

TEST(cancel_runs_callbacks_in_the_cancelling_thread)
{
	struct held h;
	hold(&h, 1);
	ct_future_t *f = submit(&h.ex, square, NULL);
	CHECK_OK(ct_future_add_done_callback(f, record_callback, (void *)5));
	CHECK(ct_future_cancel(f));
	CHECK_EQ(cb_calls.n, 1);
	CHECK(cb_calls.thread == ct_get_ident());
	CHECK(!ct_future_cancel(h.holder));
	unhold(&h);
	CHECK_EQ(cb_calls.n, 1);
	ct_future_release(f);
}

TEST(callback_allocation_failure)
{
	struct held h;
	hold(&h, 1);
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_RC(ct_future_add_done_callback(h.holder, record_callback, (void *)1), CT_ENOMEM);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	CHECK_OK(ct_future_add_done_callback(h.holder, record_callback, (void *)2));
	ct_event_set(&h.gate.go);
	ct_executor_shutdown(&h.ex, true, false);
	CHECK_EQ(cb_calls.n, 1);
	CHECK_EQ(cb_calls.order[0], 2);
	unhold(&h);
}

/* ---- references ------------------------------------------------------------------ */

TEST(release_before_the_task_runs)
{
	struct held h;
	hold(&h, 1);
	atomic_long calls = 0;
	ct_future_t *f = submit(&h.ex, count_call, &calls);
	ct_future_t *g = ct_future_ref(f);
	CHECK(g == f);
	ct_future_release(f);
	ct_future_release(g); /* gone for the caller; the task still runs */
	ct_future_release(NULL);
	unhold(&h);
	CHECK_EQ(atomic_load(&calls), 1);
}

/* ---- wait --------------------------------------------------------------------------- */

/* n futures held pending behind one worker; release them with the gate,
 * one by one with steps. */
struct batch {
	struct held h;
	struct gate g[40];
	ct_future_t *f[40];
	int n;
};

static void batch_init(struct batch *b, int n, int workers)
{
	hold(&b->h, workers);
	b->n = n;
	for (int i = 0; i < n; i++) {
		gate_init(&b->g[i], 0, (void *)(intptr_t)i);
		b->f[i] = submit(&b->h.ex, gated, &b->g[i]);
	}
}

/* Lets task i run and waits until it is done. */
static void finish(struct batch *b, int i)
{
	ct_event_set(&b->g[i].go);
	ct_future_result(b->f[i], CT_FOREVER, NULL);
}

static void batch_destroy(struct batch *b)
{
	for (int i = 0; i < b->n; i++)
		ct_event_set(&b->g[i].go);
	unhold(&b->h);
	for (int i = 0; i < b->n; i++)
		ct_future_release(b->f[i]);
}

TEST(wait_all_completed)
{
	struct batch b;
	batch_init(&b, 3, 4);
	bool done[3];
	double t0 = ht_now();
	CHECK_RC(ct_wait(b.f, 3, 0.05, CT_ALL_COMPLETED, done), CT_ETIMEDOUT);
	CHECK(ht_now() - t0 >= 0.05);
	CHECK(!done[0] && !done[1] && !done[2]);
	finish(&b, 1);
	CHECK_RC(ct_wait(b.f, 3, 0, CT_ALL_COMPLETED, done), CT_ETIMEDOUT);
	CHECK(!done[0] && done[1] && !done[2]);
	ct_event_set(&b.g[0].go);
	ct_event_set(&b.g[2].go);
	CHECK_OK(ct_wait(b.f, 3, CT_FOREVER, CT_ALL_COMPLETED, done));
	CHECK(done[0] && done[1] && done[2]);
	batch_destroy(&b);
}

TEST(wait_first_completed)
{
	struct batch b;
	batch_init(&b, 3, 4);
	bool done[3];
	CHECK_RC(ct_wait(b.f, 3, 0.02, CT_FIRST_COMPLETED, done), CT_ETIMEDOUT);
	ct_event_set(&b.g[2].go);
	CHECK_OK(ct_wait(b.f, 3, CT_FOREVER, CT_FIRST_COMPLETED, done));
	CHECK(done[2]);
	/* Already true: returns at once. */
	CHECK_OK(ct_wait(b.f, 3, 0, CT_FIRST_COMPLETED, NULL));
	batch_destroy(&b);
}

TEST(wait_first_exception)
{
	struct batch b;
	batch_init(&b, 3, 4);
	b.g[1].status = 5; /* task 1 will fail */
	bool done[3];
	finish(&b, 0); /* a success does not end the wait */
	CHECK_RC(ct_wait(b.f, 3, 0.02, CT_FIRST_EXCEPTION, done), CT_ETIMEDOUT);
	ct_event_set(&b.g[1].go);
	CHECK_OK(ct_wait(b.f, 3, CT_FOREVER, CT_FIRST_EXCEPTION, done));
	CHECK(done[0] && done[1] && !done[2]);
	batch_destroy(&b);

	/* Without a failure it is ALL_COMPLETED. */
	batch_init(&b, 2, 4);
	finish(&b, 0);
	CHECK_RC(ct_wait(b.f, 2, 0.02, CT_FIRST_EXCEPTION, NULL), CT_ETIMEDOUT);
	ct_event_set(&b.g[1].go);
	CHECK_OK(ct_wait(b.f, 2, CT_FOREVER, CT_FIRST_EXCEPTION, done));
	CHECK(done[0] && done[1]);
	batch_destroy(&b);
}

TEST(wait_counts_a_cancelled_future_as_done)
{
	struct batch b;
	batch_init(&b, 2, 1);
	CHECK(ct_future_cancel(b.f[1]));
	ct_event_set(&b.h.gate.go);
	finish(&b, 0);
	CHECK_OK(ct_wait(b.f, 2, CT_FOREVER, CT_ALL_COMPLETED, NULL));
	/* A cancelled future is no exception. */
	CHECK_RC(ct_wait(&b.f[1], 1, 0, CT_FIRST_EXCEPTION, NULL), 0);
	batch_destroy(&b);
}

TEST(wait_for_nothing_and_for_duplicates)
{
	CHECK_OK(ct_wait(NULL, 0, CT_FOREVER, CT_ALL_COMPLETED, NULL));
	CHECK_OK(ct_wait(NULL, 0, CT_FOREVER, CT_FIRST_COMPLETED, NULL));
	struct batch b;
	batch_init(&b, 1, 4);
	ct_future_t *twice[2] = {b.f[0], b.f[0]};
	CHECK_RC(ct_wait(twice, 2, 0.01, CT_ALL_COMPLETED, NULL), CT_ETIMEDOUT);
	ct_event_set(&b.g[0].go);
	CHECK_OK(ct_wait(twice, 2, CT_FOREVER, CT_ALL_COMPLETED, NULL));
	batch_destroy(&b);
}

/* More futures than wait() handles without allocating. */
TEST(wait_for_many)
{
	struct batch b;
	batch_init(&b, 40, 1);
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_RC(ct_wait(b.f, 40, CT_FOREVER, CT_ALL_COMPLETED, NULL), CT_ENOMEM);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	for (int i = 0; i < 40; i++)
		ct_event_set(&b.g[i].go);
	ct_event_set(&b.h.gate.go);
	CHECK_OK(ct_wait(b.f, 40, CT_FOREVER, CT_ALL_COMPLETED, NULL));
	batch_destroy(&b);
}

static ct_future_t **wait_fs;

static int wait_all(void *n)
{
	return ct_wait(wait_fs, (size_t)(intptr_t)n, CT_FOREVER, CT_ALL_COMPLETED, NULL);
}

TEST(stop_request_interrupts_wait)
{
	struct batch b;
	batch_init(&b, 2, 4);
	wait_fs = b.f;
	struct blocker w;
	blocker_start(&w, wait_all, (void *)2);
	CHECK_RC(blocker_stop(&w), CT_ESTOPPED);
	batch_destroy(&b);
}

/* ---- as_completed ----------------------------------------------------------------------- */

TEST(as_completed_yields_in_completion_order)
{
	struct batch b;
	batch_init(&b, 4, 5);
	finish(&b, 3); /* done before the iteration: comes first */
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, b.f, 4, CT_FOREVER));
	CHECK_EQ(ct_as_completed_remaining(&it), 4);
	ct_future_t *f;
	CHECK_OK(ct_as_completed_next(&it, &f));
	CHECK(f == b.f[3]);
	int order[3] = {2, 0, 1};
	for (int k = 0; k < 3; k++) {
		ct_event_set(&b.g[order[k]].go);
		CHECK_OK(ct_as_completed_next(&it, &f));
		CHECK(f == b.f[order[k]]);
	}
	CHECK_EQ(ct_as_completed_remaining(&it), 0);
	CHECK_OK(ct_as_completed_next(&it, &f));
	CHECK(f == NULL);
	ct_as_completed_destroy(&it);
	batch_destroy(&b);
}

TEST(as_completed_finished_ones_first_in_input_order)
{
	struct batch b;
	batch_init(&b, 4, 5);
	finish(&b, 2);
	finish(&b, 0);
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, b.f, 4, CT_FOREVER));
	ct_event_set(&b.g[3].go);
	ct_future_result(b.f[3], CT_FOREVER, NULL);
	ct_future_t *f;
	CHECK_OK(ct_as_completed_next(&it, &f));
	CHECK(f == b.f[0]);
	CHECK_OK(ct_as_completed_next(&it, &f));
	CHECK(f == b.f[2]);
	CHECK_OK(ct_as_completed_next(&it, &f));
	CHECK(f == b.f[3]);
	ct_as_completed_destroy(&it); /* before the end: fine */
	batch_destroy(&b);
}

TEST(as_completed_timeout_covers_the_whole_iteration)
{
	struct batch b;
	batch_init(&b, 2, 4);
	ct_as_completed_t it;
	double t0 = ht_now();
	CHECK_OK(ct_as_completed_init(&it, b.f, 2, 0.05));
	finish(&b, 1);
	ct_future_t *f;
	CHECK_OK(ct_as_completed_next(&it, &f));
	CHECK(f == b.f[1]);
	CHECK_RC(ct_as_completed_next(&it, &f), CT_ETIMEDOUT);
	CHECK(ht_now() - t0 >= 0.05);
	CHECK(f == NULL);
	CHECK_EQ(ct_as_completed_remaining(&it), 1);
	/* A future done after the timeout still comes out. */
	finish(&b, 0);
	CHECK_OK(ct_as_completed_next(&it, &f));
	CHECK(f == b.f[0]);
	ct_as_completed_destroy(&it);
	batch_destroy(&b);
}

TEST(as_completed_yields_duplicates_once)
{
	struct batch b;
	batch_init(&b, 2, 4);
	ct_future_t *fs[5] = {b.f[1], b.f[0], b.f[1], b.f[1], b.f[0]};
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, fs, 5, CT_FOREVER));
	CHECK_EQ(ct_as_completed_remaining(&it), 2);
	finish(&b, 0);
	finish(&b, 1);
	ct_future_t *f;
	int seen = 0;
	while (ct_as_completed_next(&it, &f) == 0 && f)
		seen++;
	CHECK_EQ(seen, 2);
	ct_as_completed_destroy(&it);
	batch_destroy(&b);
}

TEST(as_completed_keeps_its_futures_alive)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	ct_future_t *f = submit(&ex, square, (void *)9);
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, &f, 1, CT_FOREVER));
	ct_future_release(f); /* the iterator still holds it */
	ct_future_t *g;
	CHECK_OK(ct_as_completed_next(&it, &g));
	void *v;
	CHECK_OK(ct_future_result(g, 0, &v));
	CHECK_EQ((intptr_t)v, 81);
	ct_as_completed_destroy(&it);
	ct_executor_destroy(&ex);
}

TEST(as_completed_allocation_failures)
{
	struct batch b;
	batch_init(&b, 3, 4);
	ct_future_t *fs[3] = {b.f[0], b.f[1], b.f[2]};
	for (long skip = 0; skip < 3; skip++) {
		ct_as_completed_t it;
		ct__fault_set(CT__FAULT_ALLOC, skip, 1);
		CHECK_RC(ct_as_completed_init(&it, fs, 3, CT_FOREVER), CT_ENOMEM);
		ct__fault_set(CT__FAULT_ALLOC, 0, 0);
		ct_as_completed_destroy(&it);
	}
	batch_destroy(&b);
}

static int next_of(void *it)
{
	ct_future_t *f;
	return ct_as_completed_next(it, &f);
}

TEST(stop_request_interrupts_as_completed)
{
	struct batch b;
	batch_init(&b, 1, 4);
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, b.f, 1, CT_FOREVER));
	struct blocker w;
	blocker_start(&w, next_of, &it);
	CHECK_RC(blocker_stop(&w), CT_ESTOPPED);
	ct_as_completed_destroy(&it);
	batch_destroy(&b);
}

/* Many futures completing on several workers while one thread iterates
 * and another waits for them all. */
TEST(stress_as_completed_and_wait)
{
	enum { N = 2000 };
	static ct_future_t *fs[N];
	static bool seen[N];
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	for (intptr_t i = 0; i < N; i++)
		fs[i] = submit(&ex, square, (void *)i);
	wait_fs = fs;
	struct blocker w;
	blocker_start(&w, wait_all, (void *)N);
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, fs, N, CT_FOREVER));
	ct_future_t *f;
	int count = 0;
	while (ct_as_completed_next(&it, &f) == 0 && f) {
		CHECK(ct_future_done(f));
		long i = 0;
		while (fs[i] != f)
			i++;
		CHECK(!seen[i]);
		seen[i] = true;
		count++;
	}
	CHECK_EQ(count, N);
	ct_as_completed_destroy(&it);
	CHECK_OK(blocker_join(&w));
	for (int i = 0; i < N; i++)
		ct_future_release(fs[i]);
	ct_executor_destroy(&ex);
}

/* ---- futures made by their caller (custom executors) -------------------- */

TEST(own_future_runs_then_finishes_with_a_result)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	CHECK(!ct_future_running(f) && !ct_future_done(f));
	CHECK_RC(ct_future_result(f, 0, NULL), CT_ETIMEDOUT);
	CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
	CHECK(ct_future_running(f));
	CHECK(!ct_future_cancel(f)); /* running: too late */
	cb_calls = (struct calls){0};
	CHECK_OK(ct_future_add_done_callback(f, record_callback, (void *)1));
	struct blocker b;
	blocker_start(&b, wait_result, f);
	CHECK_OK(ct_future_set_result(f, (void *)42));
	CHECK_OK(blocker_join(&b)); /* a waiter woke */
	CHECK_EQ(cb_calls.n, 1);    /* the callback ran in the setter */
	CHECK(cb_calls.thread == ct_get_ident());
	void *v;
	CHECK_OK(ct_future_result(f, 0, &v));
	CHECK_EQ((intptr_t)v, 42);
	int status;
	CHECK_OK(ct_future_exception(f, 0, &status));
	CHECK_EQ(status, 0);
	CHECK_RC(ct_future_set_result(f, NULL), CT_EFUTURESTATE);
	CHECK_RC(ct_future_set_exception(f, 5), CT_EFUTURESTATE);
	CHECK_RC(ct_future_set_running_or_notify_cancel(f), CT_EFUTURESTATE);
	ct_future_release(f);
}

TEST(own_future_finishes_with_an_exception)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
	CHECK_OK(ct_future_set_exception(f, 7));
	void *v = &v;
	CHECK_EQ(ct_future_result(f, 0, &v), 7);
	CHECK(v == NULL);
	bool done;
	CHECK_OK(ct_wait(&f, 1, 0, CT_FIRST_EXCEPTION, &done));
	CHECK(done);
	ct_future_release(f);
}

TEST(own_future_cancelled_before_it_runs)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	cb_calls = (struct calls){0};
	CHECK_OK(ct_future_add_done_callback(f, record_callback, (void *)1));
	CHECK(ct_future_cancel(f));
	CHECK_EQ(cb_calls.n, 1); /* told at the cancel */
	CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 0);
	CHECK_RC(ct_future_set_result(f, NULL), CT_EFUTURESTATE);
	CHECK_RC(ct_future_result(f, 0, NULL), CT_ECANCELLED);
	CHECK_EQ(cb_calls.n, 1);
	ct_future_release(f);
}

/* Unlike Python, a pending future cannot take a result: a cancel could
 * race with it. */
TEST(own_future_must_run_before_its_result)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	CHECK_RC(ct_future_set_result(f, NULL), CT_EFUTURESTATE);
	CHECK(!ct_future_done(f));
	CHECK(ct_future_cancel(f));
	ct_future_release(f);
}

static int set_result_41(void *f)
{
	return ct_future_set_result(f, (void *)41);
}

/* Of racing setters, exactly one wins; the future holds its value. */
TEST(own_future_racing_setters_one_wins)
{
	for (int round = 0; round < 200; round++) {
		ct_future_t *f;
		CHECK_OK(ct_future_new(&f));
		CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
		struct blocker b;
		blocker_start(&b, set_result_41, f);
		int mine = ct_future_set_result(f, (void *)41);
		int theirs = blocker_join(&b);
		CHECK((mine == 0) != (theirs == 0));
		CHECK_EQ(mine + theirs, CT_EFUTURESTATE);
		void *v;
		CHECK_OK(ct_future_result(f, 0, &v));
		CHECK_EQ((intptr_t)v, 41);
		ct_future_release(f);
	}
}

/* An executor's future is its worker's to run and finish. */
static int set_result_of_pool_future(void)
{
	struct held h;
	hold(&h, 1);
	int rc = ct_future_set_result(h.holder, NULL);
	CHECK_RC(ct_future_set_running_or_notify_cancel(h.holder), CT_EINVAL);
	unhold(&h);
	return rc;
}

static int own_future_allocation_failure(void)
{
	ct_future_t *f = NULL;
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	int rc = ct_future_new(&f);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	CHECK(f == NULL);
	return rc;
}

static int set_result_twice(void)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
	CHECK_OK(ct_future_set_result(f, NULL));
	int rc = ct_future_set_result(f, NULL);
	ct_future_release(f);
	return rc;
}

static int exception_with_status_zero(void)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
	int rc = ct_future_set_exception(f, 0);
	CHECK(!ct_future_done(f));
	CHECK_OK(ct_future_set_result(f, NULL));
	ct_future_release(f);
	return rc;
}

/* ---- waiters and callbacks on one future ------------------------------------------------ */

static void count_callback(ct_future_t *f, void *arg)
{
	(void)f;
	atomic_fetch_add((atomic_int *)arg, 1);
}

/* A wait that gives up takes only its own link off the future: a done
 * callback added before keeps the future hooked, and an as_completed
 * iterator registered before (the next link on the future's list) still
 * hears of the completion. */
TEST(wait_gives_up_leaving_callbacks_and_other_waiters)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	atomic_int calls = 0;
	CHECK_OK(ct_future_add_done_callback(f, count_callback, &calls));
	/* Alone on the list: its link goes, the callback stays. */
	CHECK_RC(ct_wait(&f, 1, 0.001, CT_ALL_COMPLETED, NULL), CT_ETIMEDOUT);
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, &f, 1, CT_FOREVER));
	/* Registered after the iterator: first on the list, the iterator's
	 * link after it. */
	CHECK_RC(ct_wait(&f, 1, 0.001, CT_FIRST_COMPLETED, NULL), CT_ETIMEDOUT);
	CHECK_EQ(calls, 0);
	CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
	CHECK_OK(ct_future_set_result(f, (void *)7));
	CHECK_EQ(calls, 1);
	ct_future_t *out = NULL;
	CHECK_OK(ct_as_completed_next(&it, &out));
	CHECK(out == f);
	CHECK_EQ(ct_as_completed_remaining(&it), 0);
	ct_as_completed_destroy(&it);
	int status = -1;
	CHECK_OK(ct_future_exception(f, 0, &status));
	CHECK_EQ(status, 0);
	CHECK_OK(ct_future_exception(f, 0, NULL)); /* the status is optional */
	ct_future_release(f);
}

/* A future cancelled while queued is done, and told its callbacks, once:
 * a shutdown with cancel_futures that then finds it on the queue leaves it
 * as it is. */
TEST(shutdown_cancel_leaves_a_cancelled_future_alone)
{
	struct held h;
	hold(&h, 1);
	atomic_int calls = 0;
	ct_future_t *f = submit(&h.ex, square, (void *)2);
	CHECK_OK(ct_future_add_done_callback(f, count_callback, &calls));
	CHECK(ct_future_cancel(f));
	CHECK_EQ(calls, 1);
	CHECK_OK(ct_executor_shutdown(&h.ex, false, true));
	CHECK_EQ(calls, 1);
	CHECK(ct_future_cancelled(f));
	CHECK_RC(ct_future_result(f, 0, NULL), CT_ECANCELLED);
	ct_future_release(f);
	unhold(&h);
}

/* A thread keeps at most 1024 freed futures for its next ones; the rest
 * go back to malloc (the leak check of the AddressSanitizer build sees a
 * future lost on the way). */
TEST(futures_freed_beyond_the_thread_cache)
{
	enum { N = 1100 };
	static ct_future_t *fs[N];
	for (int round = 0; round < 2; round++) {
		for (intptr_t i = 0; i < N; i++) {
			CHECK_OK(ct_future_new(&fs[i]));
			CHECK_EQ(ct_future_set_running_or_notify_cancel(fs[i]), 1);
			CHECK_OK(ct_future_set_result(fs[i], (void *)i));
		}
		for (intptr_t i = 0; i < N; i++) {
			void *v = NULL;
			CHECK_OK(ct_future_result(fs[i], 0, &v));
			CHECK_EQ((intptr_t)v, i);
			ct_future_release(fs[i]);
		}
	}
}

/* The thread's cache of freed futures is where a new one comes from
 * first; an allocation failing there still fails the call, and the cached
 * future stays for the next. */
TEST(allocation_failure_with_a_cached_future)
{
	ct_future_t *f = NULL;
	CHECK_OK(ct_future_new(&f));
	ct_future_release(f); /* into this thread's cache */
	ct_future_t *g = NULL;
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_RC(ct_future_new(&g), CT_ENOMEM);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	CHECK(g == NULL);
	CHECK_OK(ct_future_new(&g));
	CHECK(g == f); /* the cached one */
	CHECK_EQ(ct_future_set_running_or_notify_cancel(g), 1);
	CHECK_OK(ct_future_set_result(g, NULL));
	ct_future_release(g);
}

/* ---- fork ------------------------------------------------------------------------------- */

static ct_future_t *fork_fs[2];

static int wait_for_both(void *arg)
{
	(void)arg;
	return ct_wait(fork_fs, 2, CT_FOREVER, CT_ALL_COMPLETED, NULL);
}

/* Whether a wait is registered on @p f (under its lock, as the lists are). */
static bool has_waiter(ct_future_t *f)
{
	ct__future_lock(f);
	bool any = f->waiters != NULL;
	ct__future_unlock(f);
	return any;
}

static int child_finds_no_waiter(void *arg)
{
	(void)arg;
	CK(!has_waiter(fork_fs[1]));
	CK(ct_future_set_running_or_notify_cancel(fork_fs[1]) == 1);
	CK(ct_future_set_result(fork_fs[1], NULL) == 0);
	CK(ct_wait(fork_fs, 2, 0, CT_ALL_COMPLETED, NULL) == 0);
	return 0;
}

/* A thread in wait() when another forks is gone in the child: its link
 * leaves the future it waits for, and it had none on the future done
 * before it came. */
TEST(wait_forgotten_in_a_fork_child)
{
	for (int i = 0; i < 2; i++)
		CHECK_OK(ct_future_new(&fork_fs[i]));
	CHECK_EQ(ct_future_set_running_or_notify_cancel(fork_fs[0]), 1);
	CHECK_OK(ct_future_set_result(fork_fs[0], NULL));
	struct blocker b;
	blocker_start(&b, wait_for_both, NULL);
	ht_wait_parked(b.thread);
	CHECK(has_waiter(fork_fs[1]));
	FH_CHECK_CHILD(child_finds_no_waiter, NULL);
	CHECK(has_waiter(fork_fs[1]));
	CHECK_EQ(ct_future_set_running_or_notify_cancel(fork_fs[1]), 1);
	CHECK_OK(ct_future_set_result(fork_fs[1], NULL));
	CHECK_OK(blocker_join(&b));
	for (int i = 0; i < 2; i++)
		ct_future_release(fork_fs[i]);
}

/* ---- a wait notified while it sleeps ------------------------------------------------ */

static ct_future_t *fe_fs[2];
static bool fe_done[2];

static int wait_for_two(void *arg)
{
	return ct_wait(fe_fs, 2, CT_FOREVER, (int)(intptr_t)arg, fe_done);
}

/* Two running futures, and a thread that waits for them in @p mode: returns
 * once it sleeps, registered with both. */
static void start_waiting_for_two(struct blocker *b, int mode)
{
	for (int i = 0; i < 2; i++) {
		CHECK_OK(ct_future_new(&fe_fs[i]));
		CHECK_EQ(ct_future_set_running_or_notify_cancel(fe_fs[i]), 1);
		fe_done[i] = false;
	}
	blocker_start(b, wait_for_two, (void *)(intptr_t)mode);
	ht_wait_parked(b->thread);
	CHECK(has_waiter(fe_fs[0]) && has_waiter(fe_fs[1]));
}

/* A success while a FIRST_EXCEPTION wait sleeps counts it down and does not
 * end it; the failure after it does. */
TEST(wait_first_exception_sleeps_through_a_success)
{
	struct blocker b;
	start_waiting_for_two(&b, CT_FIRST_EXCEPTION);
	CHECK_OK(ct_future_set_result(fe_fs[0], NULL));
	/* Still waiting: a wait the success ended would be over within this. */
	CHECK_RC(ct_thread_join(b.thread, 0.05), CT_ETIMEDOUT);
	CHECK_OK(ct_future_set_exception(fe_fs[1], 7));
	CHECK_OK(blocker_join(&b));
	/* A wait ended by the success would have found the second not done. */
	CHECK(fe_done[0] && fe_done[1]);
	for (int i = 0; i < 2; i++)
		ct_future_release(fe_fs[i]);
}

/* A success while a FIRST_COMPLETED wait sleeps ends it (a notification,
 * not a look at a future done before the wait registered). */
TEST(wait_first_completed_woken_by_a_success)
{
	struct blocker b;
	start_waiting_for_two(&b, CT_FIRST_COMPLETED);
	CHECK_OK(ct_future_set_result(fe_fs[1], NULL));
	/* A lost notification fails here, not at the test's time limit. */
	CHECK_OK(ct_thread_join(b.thread, 30));
	CHECK_OK(blocker_join(&b));
	CHECK(!fe_done[0] && fe_done[1]);
	CHECK_OK(ct_future_set_result(fe_fs[0], NULL));
	for (int i = 0; i < 2; i++)
		ct_future_release(fe_fs[i]);
}

/* ---- misuse ------------------------------------------------------------------------------- */

static int result_nan_timeout(void)
{
	struct held h;
	hold(&h, 1);
	int rc = ct_future_result(h.holder, NAN, NULL);
	unhold(&h);
	return rc;
}

static int wait_bad_mode(void)
{
	struct held h;
	hold(&h, 1);
	int rc = ct_wait(&h.holder, 1, CT_FOREVER, 7, NULL);
	unhold(&h);
	return rc;
}

static int wait_null_future(void)
{
	ct_future_t *fs[1] = {NULL};
	return ct_wait(fs, 1, CT_FOREVER, CT_ALL_COMPLETED, NULL);
}

static int cancelled_result(void)
{
	struct held h;
	hold(&h, 1);
	ct_future_t *f = submit(&h.ex, square, NULL);
	CHECK(ct_future_cancel(f));
	int rc = ct_future_result(f, CT_FOREVER, NULL);
	ct_future_release(f);
	unhold(&h);
	return rc;
}

MISUSE(result_null, CT_EINVAL, "invalid argument", ct_future_result(NULL, CT_FOREVER, NULL))
MISUSE(result_nan_timeout, CT_EINVAL, "invalid argument", result_nan_timeout())
MISUSE(exception_null, CT_EINVAL, "invalid argument", ct_future_exception(NULL, 0, NULL))
MISUSE(callback_null, CT_EINVAL, "invalid argument",
       ct_future_add_done_callback(NULL, record_callback, NULL))
MISUSE(wait_null_array, CT_EINVAL, "invalid argument",
       ct_wait(NULL, 2, CT_FOREVER, CT_ALL_COMPLETED, NULL))
MISUSE(wait_null_future, CT_EINVAL, "invalid argument", wait_null_future())
MISUSE(wait_bad_return_when, CT_EINVAL, "invalid argument", wait_bad_mode())
MISUSE(wait_negative_return_when, CT_EINVAL, "invalid argument",
       ct_wait(NULL, 0, CT_FOREVER, -1, NULL))
MISUSE(wait_timeout_too_large, CT_ETOOLARGE, "timeout value is too large",
       ct_wait(NULL, 0, CT_TIMEOUT_MAX * 2, CT_ALL_COMPLETED, NULL))
MISUSE(as_completed_null, CT_EINVAL, "invalid argument",
       ct_as_completed_init(NULL, NULL, 0, CT_FOREVER))
MISUSE(as_completed_null_array, CT_EINVAL, "invalid argument",
       ct_as_completed_init(&(ct_as_completed_t){NULL}, NULL, 2, CT_FOREVER))
MISUSE(as_completed_next_uninitialised, CT_EINVAL, "invalid argument",
       ct_as_completed_next(&(ct_as_completed_t){NULL}, &(ct_future_t *){NULL}))
MISUSE(cancelled_result, CT_ECANCELLED, "cancelled", cancelled_result())
MISUSE(new_future_null, CT_EINVAL, "invalid argument", ct_future_new(NULL))
MISUSE(new_future_no_memory, CT_ENOMEM, "out of memory", own_future_allocation_failure())
MISUSE(set_result_null, CT_EINVAL, "invalid argument", ct_future_set_result(NULL, NULL))
MISUSE(set_running_null, CT_EINVAL, "invalid argument",
       ct_future_set_running_or_notify_cancel(NULL))
MISUSE(set_result_of_a_pool_future, CT_EINVAL, "invalid argument", set_result_of_pool_future())
MISUSE(set_exception_status_zero, CT_EINVAL, "invalid argument", exception_with_status_zero())
MISUSE(set_result_done, CT_EFUTURESTATE, "Future in unexpected state", set_result_twice())

/* Python: set_running_or_notify_cancel() on a cancelled future returns
 * False once (CANCELLED -> CANCELLED_AND_NOTIFIED), then raises
 * RuntimeError. Found by the differential test (tests/diff). */
TEST(set_running_twice_after_cancel)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	CHECK(ct_future_cancel(f));
	CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 0);
	CHECK_RC(ct_future_set_running_or_notify_cancel(f), CT_EFUTURESTATE);
	CHECK(ct_future_cancelled(f));
	CHECK(ct_future_cancel(f));
	CHECK_RC(ct_future_result(f, 0, NULL), CT_ECANCELLED);
	ct_future_release(f);
}
