/* The thread pool: Python's ThreadPoolExecutor, case by case. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "executor_helpers.h"
#include "futures/executor_internal.h"
#include "thread/thread_internal.h"

/* ---- submit and result -------------------------------------------------- */

TEST(submit_and_result)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	ct_future_t *f = submit(&ex, square, (void *)7);
	void *value = NULL;
	CHECK_OK(ct_future_result(f, CT_FOREVER, &value));
	CHECK_EQ((intptr_t)value, 49);
	CHECK(ct_future_done(f));
	CHECK(!ct_future_cancelled(f));
	ct_future_release(f);
	ct_executor_destroy(&ex);
}

TEST(failing_task_reports_its_status)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	ct_future_t *f = submit(&ex, fail_with, (void *)7);
	CHECK_RC(ct_future_result(f, CT_FOREVER, NULL), 7);
	int status = 0;
	CHECK_OK(ct_future_exception(f, CT_FOREVER, &status));
	CHECK_EQ(status, 7);
	ct_future_release(f);
	ct_executor_destroy(&ex);
}

TEST(fire_and_forget)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	atomic_long calls = 0;
	for (int i = 0; i < 100; i++)
		CHECK_OK(ct_executor_submit(&ex, count_call, &calls, NULL));
	ct_executor_destroy(&ex); /* waits for them */
	CHECK_EQ(atomic_load(&calls), 100);
}

static ct_executor_t *spawner_pool;

static int spawn_child(void *arg, void **result)
{
	return ct_executor_submit(spawner_pool, square, arg, (ct_future_t **)result);
}

TEST(task_submits_a_task)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	spawner_pool = &ex;
	ct_future_t *outer = submit(&ex, spawn_child, (void *)5);
	void *inner = NULL;
	CHECK_OK(ct_future_result(outer, CT_FOREVER, &inner));
	void *value;
	CHECK_OK(ct_future_result(inner, CT_FOREVER, &value));
	CHECK_EQ((intptr_t)value, 25);
	ct_future_release(inner);
	ct_future_release(outer);
	ct_executor_destroy(&ex);
}

/* ---- workers ------------------------------------------------------------- */

TEST(default_max_workers_is_pythons)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	CHECK_EQ(ct_executor_max_workers(&ex), cpus + 4 < 32 ? cpus + 4 : 32);
	ct_executor_destroy(&ex);
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 3}));
	CHECK_EQ(ct_executor_max_workers(&ex), 3);
	ct_executor_destroy(&ex);
}

TEST(workers_start_lazily_and_are_reused)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	CHECK_EQ(ct_executor_workers(&ex), 0);
	CHECK_EQ(ct_active_count(), 1);
	for (intptr_t i = 0; i < 20; i++) {
		CHECK_EQ((intptr_t)run_one(&ex, square, (void *)i), i * i);
		/* One at a time: the worker that ran the last task is idle. */
		CHECK_EQ(ct_executor_workers(&ex), 1);
	}
	ct_executor_destroy(&ex);
}

static int open_gate(void *arg, void **result)
{
	(void)result;
	ct_event_set(&((struct gate *)arg)->go);
	return 0;
}

/* Python starts a new worker when no idle one is there: a task that needs
 * another one to run first can count on it. */
TEST(new_worker_when_none_is_idle)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4}));
	struct gate a;
	ct_future_t *fa = submit_started(&ex, &a, 0, NULL);
	/* The second task lets the first go: it must not queue behind it. */
	ct_future_t *fb = submit(&ex, open_gate, &a);
	CHECK_OK(ct_future_result(fa, CT_FOREVER, NULL));
	CHECK_OK(ct_future_result(fb, CT_FOREVER, NULL));
	CHECK_EQ(ct_executor_workers(&ex), 2);
	ct_future_release(fa);
	ct_future_release(fb);
	ct_executor_destroy(&ex);
}

static int record_name(void *arg, void **result)
{
	(void)arg;
	*result = strdup(ct_thread_name(ct_current_thread()));
	return 0;
}

static char *name_of_worker(ct_executor_t *ex)
{
	return run_one(ex, record_name, NULL);
}

TEST(worker_names_are_pythons)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.thread_name_prefix = "买家"}));
	char *name = name_of_worker(&ex);
	CHECK_STR(name, "买家_0");
	free(name);
	ct_executor_destroy(&ex);

	/* Default: "ThreadPoolExecutor-K_N", K counting such pools. */
	ct_executor_t a, b;
	CHECK_OK(ct_executor_init(&a, NULL));
	CHECK_OK(ct_executor_init(&b, &(ct_executor_opts){.thread_name_prefix = ""}));
	char *na = name_of_worker(&a), *nb = name_of_worker(&b);
	unsigned ka, kb;
	char tail[8];
	CHECK_EQ(sscanf(na, "ThreadPoolExecutor-%u_%7s", &ka, tail), 2);
	CHECK_STR(tail, "0");
	CHECK_EQ(sscanf(nb, "ThreadPoolExecutor-%u_%7s", &kb, tail), 2);
	CHECK_STR(tail, "0");
	CHECK_EQ(kb, ka + 1);
	free(na);
	free(nb);
	ct_executor_destroy(&a);
	ct_executor_destroy(&b);
}

TEST(second_worker_is_named_1)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.thread_name_prefix = "w"}));
	struct gate a;
	ct_future_t *fa = submit_started(&ex, &a, 0, NULL);
	char *name = name_of_worker(&ex); /* the first one is busy */
	CHECK_STR(name, "w_1");
	free(name);
	ct_event_set(&a.go);
	ct_future_release(fa);
	ct_executor_destroy(&ex);
}

struct order {
	atomic_int next;
	int seen[100];
};

static struct order order;

static int record_order(void *arg, void **result)
{
	(void)result;
	order.seen[atomic_fetch_add(&order.next, 1)] = (int)(intptr_t)arg;
	return 0;
}

/* A task that submits record_order(0..99) to its own pool. */
static int submit_in_order(void *ex, void **result)
{
	(void)result;
	for (intptr_t i = 0; i < 100; i++)
		if (ct_executor_submit(ex, record_order, (void *)i, NULL) < 0)
			return 1;
	return 0;
}

TEST(tasks_run_in_submission_order)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 1}));
	for (intptr_t i = 0; i < 100; i++)
		CHECK_OK(ct_executor_submit(&ex, record_order, (void *)i, NULL));
	ct_executor_destroy(&ex);
	CHECK_EQ(atomic_load(&order.next), 100);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(order.seen[i], i);
}

TEST(max_workers_bounds_the_pool)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 2}));
	struct gate g[3];
	ct_future_t *f[3];
	for (int i = 0; i < 3; i++) {
		gate_init(&g[i], 0, NULL);
		f[i] = submit(&ex, gated, &g[i]);
	}
	CHECK_OK(ct_event_wait(&g[0].started, CT_FOREVER));
	CHECK_OK(ct_event_wait(&g[1].started, CT_FOREVER));
	/* Both workers are busy: the third task waits in the queue. */
	CHECK_EQ(ct_executor_workers(&ex), 2);
	CHECK_RC(ct_event_wait(&g[2].started, 0.05), CT_ETIMEDOUT);
	CHECK(!ct_future_running(f[2]));
	ct_event_set(&g[0].go);
	CHECK_OK(ct_event_wait(&g[2].started, CT_FOREVER));
	ct_event_set(&g[1].go);
	ct_event_set(&g[2].go);
	for (int i = 0; i < 3; i++) {
		CHECK_OK(ct_future_result(f[i], CT_FOREVER, NULL));
		ct_future_release(f[i]);
	}
	CHECK_EQ(ct_executor_workers(&ex), 2);
	ct_executor_destroy(&ex);
}

static int is_daemon(void *arg, void **result)
{
	(void)arg;
	*result = (void *)(intptr_t)ct_thread_daemon(ct_current_thread());
	return 0;
}

static void *submit_from_foreign_thread(void *arg)
{
	/* A thread cthreading did not start is a daemon "dummy" thread. */
	return run_one(arg, is_daemon, NULL);
}

/* Python 3.9+: workers are not daemon threads, whoever starts them, so the
 * exit rule covers them. */
TEST(workers_are_not_daemons)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	pthread_t pt;
	CHECK(pthread_create(&pt, NULL, submit_from_foreign_thread, &ex) == 0);
	void *daemon = (void *)1;
	CHECK(pthread_join(pt, &daemon) == 0);
	CHECK(daemon == NULL);
	ct_executor_destroy(&ex);
}

static int stop_own_thread(void *arg, void **result)
{
	(void)arg;
	(void)result;
	return ct_thread_request_stop(ct_current_thread());
}

/* A task may ask its own worker to stop (its later waits say CT_ESTOPPED);
 * the worker still serves the pool. */
TEST(stop_request_for_a_worker_keeps_the_pool_working)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 1}));
	run_one(&ex, stop_own_thread, NULL);
	for (intptr_t i = 0; i < 100; i++)
		CHECK_EQ((intptr_t)run_one(&ex, square, (void *)i), i * i);
	CHECK_EQ(ct_executor_workers(&ex), 1);
	ct_executor_destroy(&ex);
}

/* ---- initializer ---------------------------------------------------------- */

static _Thread_local int initialised_here;

static int init_ok(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
	initialised_here = 1;
	return 0;
}

static int was_initialised(void *arg, void **result)
{
	(void)arg;
	*result = (void *)(intptr_t)initialised_here;
	return 0;
}

TEST(initializer_runs_once_per_worker_before_its_tasks)
{
	atomic_int inits = 0;
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(
		&ex,
		&(ct_executor_opts){.max_workers = 2, .initializer = init_ok, .initarg = &inits}));
	struct gate a;
	ct_future_t *fa = submit_started(&ex, &a, 0, NULL);
	for (int i = 0; i < 10; i++)
		CHECK_EQ((intptr_t)run_one(&ex, was_initialised, NULL), 1);
	ct_event_set(&a.go);
	ct_future_release(fa);
	ct_executor_destroy(&ex);
	CHECK_EQ(atomic_load(&inits), 2);
}

static ct_event_t init_may_fail;
static atomic_int hook_calls;
static int hook_status;

static int init_fails(void *arg)
{
	(void)arg;
	ct_event_wait(&init_may_fail, CT_FOREVER);
	return 3;
}

static void quiet_hook(const ct_excepthook_args *args)
{
	hook_status = args->status;
	atomic_fetch_add(&hook_calls, 1);
}

/* Python's BrokenThreadPool: a failing initializer breaks the pool; the
 * pending tasks and every later submit fail. */
TEST(failing_initializer_breaks_the_pool)
{
	ct_set_excepthook(quiet_hook);
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(
		&ex, &(ct_executor_opts){.max_workers = 1, .initializer = init_fails}));
	ct_future_t *f[3];
	for (int i = 0; i < 3; i++)
		f[i] = submit(&ex, square, (void *)3);
	ct_event_set(&init_may_fail);
	for (int i = 0; i < 3; i++) {
		CHECK_RC(ct_future_result(f[i], CT_FOREVER, NULL), CT_EBROKEN);
		int status;
		CHECK_OK(ct_future_exception(f[i], 0, &status));
		CHECK_EQ(status, CT_EBROKEN);
		ct_future_release(f[i]);
	}
	ct_future_t *later = NULL;
	CHECK_RC(ct_executor_submit(&ex, square, NULL, &later), CT_EBROKEN);
	CHECK(later == NULL);
	CHECK_RC(ct_executor_map(&ex, square, (void *[]){NULL}, 1, CT_FOREVER, NULL, NULL),
		 CT_EBROKEN);
	CHECK_OK(ct_executor_shutdown(&ex, true, false));
	/* The failure was reported once, through the excepthook. */
	CHECK_EQ(atomic_load(&hook_calls), 1);
	CHECK_EQ(hook_status, 3);
	ct_executor_destroy(&ex);
}

/* ---- shutdown ------------------------------------------------------------ */

TEST(submit_after_shutdown_fails)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	CHECK_OK(ct_executor_shutdown(&ex, false, false));
	ct_future_t *f = NULL;
	CHECK_RC(ct_executor_submit(&ex, square, NULL, &f), CT_ESHUTDOWN);
	CHECK(f == NULL);
	CHECK_RC(ct_executor_map(&ex, square, (void *[]){NULL}, 1, CT_FOREVER, NULL, NULL),
		 CT_ESHUTDOWN);
	CHECK_OK(ct_executor_shutdown(&ex, true, false)); /* again: fine */
	ct_executor_destroy(&ex);
}

/* A pool of one worker, held by a gated task (returned) that has started:
 * what is submitted next stays queued until the gate opens. */
static ct_future_t *one_busy_worker(ct_executor_t *ex, struct gate *a, int status, void *value)
{
	CHECK_OK(ct_executor_init(ex, &(ct_executor_opts){.max_workers = 1}));
	return submit_started(ex, a, status, value);
}

TEST(shutdown_without_cancel_runs_queued_tasks)
{
	ct_executor_t ex;
	struct gate a;
	ct_future_t *fa = one_busy_worker(&ex, &a, 0, NULL);
	ct_future_t *fb = submit(&ex, square, (void *)4);
	ct_future_t *fc = submit(&ex, square, (void *)5);
	CHECK_OK(ct_executor_shutdown(&ex, false, false));
	CHECK(!ct_future_done(fb));
	ct_event_set(&a.go);
	CHECK_OK(ct_executor_shutdown(&ex, true, false));
	/* Every worker has ended. */
	CHECK_EQ(ct_active_count(), 1);
	void *v;
	CHECK_OK(ct_future_result(fb, 0, &v));
	CHECK_EQ((intptr_t)v, 16);
	CHECK_OK(ct_future_result(fc, 0, &v));
	CHECK_EQ((intptr_t)v, 25);
	ct_future_release(fa);
	ct_future_release(fb);
	ct_future_release(fc);
	ct_executor_destroy(&ex);
}

TEST(shutdown_with_cancel_futures_cancels_queued_tasks)
{
	ct_executor_t ex;
	struct gate a;
	ct_future_t *fa = one_busy_worker(&ex, &a, 6, (void *)6);
	ct_future_t *fb = submit(&ex, square, (void *)4);
	ct_future_t *fc = submit(&ex, square, (void *)5);
	CHECK_OK(ct_executor_shutdown(&ex, false, true));
	CHECK(ct_future_cancelled(fb));
	CHECK(ct_future_cancelled(fc));
	CHECK_RC(ct_future_result(fc, CT_FOREVER, NULL), CT_ECANCELLED);
	/* The running one is not cancelled: it finishes. */
	CHECK(ct_future_running(fa));
	CHECK(!ct_future_cancel(fa));
	ct_event_set(&a.go);
	CHECK_OK(ct_executor_shutdown(&ex, true, false));
	void *v;
	CHECK_RC(ct_future_result(fa, 0, &v), 6);
	CHECK_EQ((intptr_t)v, 6);
	ct_future_release(fa);
	ct_future_release(fb);
	ct_future_release(fc);
	ct_executor_destroy(&ex);
}

static ct_executor_t *self_pool;

static int shut_own_pool(void *arg, void **result)
{
	(void)arg;
	(void)result;
	return ct_executor_shutdown(self_pool, true, false);
}

TEST(shutdown_wait_from_own_task_is_joinself)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	self_pool = &ex;
	ct_future_t *f = submit(&ex, shut_own_pool, NULL);
	CHECK_RC(ct_future_result(f, CT_FOREVER, NULL), CT_EJOINSELF);
	ct_future_release(f);
	ct_executor_destroy(&ex);
}

static int destroy_own_pool(void *arg, void **result)
{
	(void)result;
	ct_executor_destroy(arg);
	return 0;
}

/* Destroyed from its own task: the pool goes when its last worker ends. */
TEST(destroy_from_own_task)
{
	ct_executor_t *ex = malloc(sizeof *ex);
	CHECK_OK(ct_executor_init(ex, NULL));
	run_one(ex, destroy_own_pool, ex);
	CHECK_OK(ct_shutdown(CT_FOREVER)); /* its worker ends */
	free(ex);
}

TEST(destroy_waits_for_queued_tasks)
{
	atomic_long calls = 0;
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 2}));
	for (int i = 0; i < 1000; i++)
		CHECK_OK(ct_executor_submit(&ex, count_call, &calls, NULL));
	ct_executor_destroy(&ex);
	CHECK_EQ(atomic_load(&calls), 1000);
	ct_executor_destroy(&ex); /* a second time: nothing */
}

/* Python's shutdown(wait=True) joins the workers: once destroy returns,
 * none is counted alive (CPython's test_context_manager_shutdown). Before
 * the fix, a worker that had finished its loop but not yet left the thread
 * registry was still counted in most rounds. */
TEST(destroy_leaves_no_worker_alive)
{
	size_t before = ct_active_count();
	for (int round = 0; round < 40; round++) {
		atomic_long calls = 0;
		ct_executor_t ex;
		CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 5}));
		for (int i = 0; i < 20; i++)
			CHECK_OK(ct_executor_submit(&ex, count_call, &calls, NULL));
		ct_executor_destroy(&ex);
		CHECK_EQ(ct_active_count(), before);
		CHECK_EQ(atomic_load(&calls), 20);
	}
}

TEST(shutdown_wait_leaves_no_worker_alive)
{
	size_t before = ct_active_count();
	for (int round = 0; round < 40; round++) {
		atomic_long calls = 0;
		ct_executor_t ex;
		CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 5}));
		for (int i = 0; i < 20; i++)
			CHECK_OK(ct_executor_submit(&ex, count_call, &calls, NULL));
		CHECK_OK(ct_executor_shutdown(&ex, true, false));
		CHECK_EQ(ct_active_count(), before);
		CHECK_EQ(atomic_load(&calls), 20);
		ct_executor_destroy(&ex);
	}
}

static int shutdown_and_wait(void *ex)
{
	return ct_executor_shutdown(ex, true, false);
}

TEST(stop_request_interrupts_shutdown_wait)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	struct gate a;
	ct_future_t *fa = submit_started(&ex, &a, 0, NULL);
	struct blocker b;
	blocker_start(&b, shutdown_and_wait, &ex);
	CHECK_RC(blocker_stop(&b), CT_ESTOPPED);
	CHECK(!ct_future_done(fa));
	ct_event_set(&a.go);
	ct_future_release(fa);
	ct_executor_destroy(&ex);
}

/* ---- map ------------------------------------------------------------------ */

static void check_map_results_in_order(uint32_t workers)
{
	enum { N = 5000 };
	static void *args[N], *results[N];
	for (intptr_t i = 0; i < N; i++)
		args[i] = (void *)i;
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = workers}));
	CHECK_OK(ct_executor_map(&ex, square, args, N, CT_FOREVER, results, NULL));
	for (intptr_t i = 0; i < N; i++)
		CHECK_EQ((intptr_t)results[i], i * i);
	/* Again, collecting statuses. */
	int statuses[N];
	memset(results, 0, sizeof results);
	CHECK_OK(ct_executor_map(&ex, square, args, N, 5.0, results, statuses));
	for (intptr_t i = 0; i < N; i++) {
		CHECK_EQ((intptr_t)results[i], i * i);
		CHECK_EQ(statuses[i], 0);
	}
	CHECK_OK(ct_executor_map(&ex, square, args, 0, CT_FOREVER, NULL, NULL));
	ct_executor_destroy(&ex);
}

/* With the default pool (a cache line an item) and with one worker (items
 * packed). */
TEST(map_results_in_input_order)
{
	for (uint32_t workers = 0; workers <= 1; workers++)
		check_map_results_in_order(workers);
}

struct step {
	int kind; /* 0: wait for the gate, 1: open it, 2: fail with 9 */
	struct gate *gate;
	atomic_int *runs;
};

static int do_step(void *arg, void **result)
{
	struct step *st = arg;
	if (st->runs)
		atomic_fetch_add(st->runs, 1);
	switch (st->kind) {
	case 0:
		return gated(st->gate, result);
	case 1:
		return open_gate(st->gate, result);
	case 2:
		return 9;
	default:
		*result = st;
		return 0;
	}
}

/* Items that return themselves (kind 3), those from @p counted on counting
 * their runs in *runs. */
static void steps_init(struct step *steps, void **args, int n, struct gate *g, atomic_int *runs,
		       int counted)
{
	for (int i = 0; i < n; i++) {
		steps[i] = (struct step){3, g, i >= counted ? runs : NULL};
		args[i] = &steps[i];
	}
}

TEST(map_runs_items_on_several_workers)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4}));
	/* Item 0 waits until item 1 runs: with one worker, never. */
	struct gate g;
	gate_init(&g, 0, NULL);
	struct step steps[2] = {{0, &g, NULL}, {1, &g, NULL}};
	void *args[2] = {&steps[0], &steps[1]};
	CHECK_OK(ct_executor_map(&ex, do_step, args, 2, CT_FOREVER, NULL, NULL));
	ct_executor_destroy(&ex);
}

/* Item 0 waits until item 1 runs, in a map long enough that a helper
 * claiming several items at once would hold both: Python's pool runs item
 * 1 on the other worker, and so must this one. */
TEST(map_item_waiting_for_a_later_item_finishes)
{
	enum { N = 64 };
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 2}));
	struct gate g;
	gate_init(&g, 0, NULL);
	struct step steps[N];
	void *args[N], *results[N];
	steps_init(steps, args, N, &g, NULL, N);
	steps[0].kind = 0;
	steps[1].kind = 1;
	CHECK_OK(ct_executor_map(&ex, do_step, args, N, CT_FOREVER, results, NULL));
	for (int i = 2; i < N; i++)
		CHECK(results[i] == &steps[i]);
	ct_executor_destroy(&ex);
}

/* Items that each wait at a barrier for as many others as the pool has
 * workers: Python's pool runs them all at once, so this map ends only if
 * every worker gets to its items, however trivial the map looked when it
 * began (it starts with one helper, see executor_map.c). */
static ct_barrier_t meeting;

static int meet_barrier(void *arg, void **result)
{
	(void)arg;
	int index = ct_barrier_wait(&meeting, CT_FOREVER);
	*result = (void *)(intptr_t)index;
	return index < 0 ? index : 0;
}

static void map_items_meeting(unsigned workers, size_t n)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = workers}));
	CHECK_OK(ct_barrier_init(&meeting, workers, NULL, NULL, CT_FOREVER));
	void *args[64] = {0}, *results[64];
	CHECK_OK(ct_executor_map(&ex, meet_barrier, args, n, CT_FOREVER, results, NULL));
	CHECK_EQ(ct_executor_workers(&ex), (int)workers);
	ct_barrier_destroy(&meeting);
	ct_executor_destroy(&ex);
}

TEST(map_items_meeting_at_a_barrier_all_run_at_once)
{
	map_items_meeting(8, 8);
}

TEST(map_items_meeting_at_a_barrier_generation_after_generation)
{
	map_items_meeting(4, 64);
}

/* The same, with the pool shut down (without waiting) once the first item
 * runs: the helpers the map held back are still queued, and the closed
 * pool's workers stay for them, as Python's would run the queued items. */
static ct_event_t first_met, closed;

static int meet_after_close(void *arg, void **result)
{
	ct_event_set(&first_met);
	CHECK_OK(ct_event_wait(&closed, CT_FOREVER));
	return meet_barrier(arg, result);
}

static ct_executor_t *closing_pool;

static int map_meeting_after_close(void *arg)
{
	void *args[4] = {0}, *results[4];
	(void)arg;
	return ct_executor_map(closing_pool, meet_after_close, args, 4, CT_FOREVER, results, NULL);
}

TEST(map_helpers_held_back_run_after_a_shutdown)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4}));
	CHECK_OK(ct_barrier_init(&meeting, 4, NULL, NULL, CT_FOREVER));
	ct_event_init(&first_met);
	ct_event_init(&closed);
	closing_pool = &ex;
	struct blocker b;
	blocker_start(&b, map_meeting_after_close, NULL);
	CHECK_OK(ct_event_wait(&first_met, CT_FOREVER));
	CHECK_OK(ct_executor_shutdown(&ex, false, false));
	ct_event_set(&closed);
	CHECK_OK(blocker_join(&b));
	CHECK_OK(ct_executor_shutdown(&ex, true, false));
	ct_event_destroy(&closed);
	ct_event_destroy(&first_met);
	ct_barrier_destroy(&meeting);
	ct_executor_destroy(&ex);
}

/* A task submitted once a map's first item runs starts after every item
 * of the map has started, as Python's queue of futures would have it,
 * though the map began with one helper and held the other back (which
 * then kept the second worker idle: the task would have started first). */
static atomic_int starts;
static ct_event_t item_started, task_submitted;

static int count_start(void *arg, void **result)
{
	int began = atomic_fetch_add(&starts, 1);
	if (arg) { /* item 0 */
		ct_event_set(&item_started);
		CHECK_OK(ct_event_wait(&task_submitted, CT_FOREVER));
	}
	*result = (void *)(intptr_t)began;
	return 0;
}

static ct_executor_t *fifo_pool;

static int submit_after_first_item(void *arg)
{
	ct_future_t **f = arg;
	CHECK_OK(ct_event_wait(&item_started, CT_FOREVER));
	CHECK_OK(ct_executor_submit(fifo_pool, count_start, NULL, f));
	ct_event_set(&task_submitted);
	return 0;
}

TEST(task_submitted_during_a_map_starts_after_its_items)
{
	enum { N = 200 };
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 2}));
	atomic_store(&starts, 0);
	ct_event_init(&item_started);
	ct_event_init(&task_submitted);
	fifo_pool = &ex;
	ct_future_t *task;
	struct blocker b;
	blocker_start(&b, submit_after_first_item, &task);
	static void *args[N], *results[N];
	args[0] = &ex; /* marks item 0 */
	CHECK_OK(ct_executor_map(&ex, count_start, args, N, CT_FOREVER, results, NULL));
	CHECK_OK(blocker_join(&b));
	void *task_began;
	CHECK_OK(ct_future_result(task, CT_FOREVER, &task_began));
	/* The other worker may have claimed the last item and not yet run its
	 * first line when the task starts: in Python too, a worker that took
	 * an item off the queue may run it after the next worker's. */
	CHECK((int)(intptr_t)task_began >= N - 1);
	ct_future_release(task);
	ct_event_destroy(&task_submitted);
	ct_event_destroy(&item_started);
	ct_executor_destroy(&ex);
}

/* Items 0 and 2 to 8 meet at a barrier, item 1 fails at once: the map
 * reports item 1's failure once item 0 is done, which needs all eight
 * workers, though the caller, woken by the failure when only a few
 * helpers have come, then waits for item 0 alone. */
static int meet_or_fail(void *arg, void **result)
{
	return arg ? 7 : meet_barrier(arg, result);
}

TEST(map_failure_before_items_that_need_every_worker)
{
	enum { WORKERS = 8 };
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = WORKERS}));
	CHECK_OK(ct_barrier_init(&meeting, WORKERS, NULL, NULL, CT_FOREVER));
	void *args[WORKERS + 1] = {[1] = &ex}, *results[WORKERS + 1];
	CHECK_RC(ct_executor_map(&ex, meet_or_fail, args, WORKERS + 1, CT_FOREVER, results, NULL),
		 7);
	ct_barrier_destroy(&meeting);
	ct_executor_destroy(&ex);
}

/* A task that an item submits to its own pool, once every worker is
 * there, would go to its worker's own queue, where an idle worker steals
 * it at once: ahead of the map's helper held back, whose item the task
 * and the submitting item both wait for, and with no worker left for it.
 * Python queued the map's items first; so does the pool while a map holds
 * helpers back. */
static ct_executor_t *nesting_pool;
static ct_event_t second_item_ran;

static int wait_for_the_second_item(void *arg, void **result)
{
	(void)arg;
	*result = NULL;
	return ct_event_wait(&second_item_ran, CT_FOREVER);
}

static int submit_then_wait(void *arg, void **result)
{
	*result = NULL;
	if (!arg) { /* item 1 */
		ct_event_set(&second_item_ran);
		return 0;
	}
	ct_future_t *f;
	CHECK_OK(ct_executor_submit(nesting_pool, wait_for_the_second_item, NULL, &f));
	int rc = ct_event_wait(&second_item_ran, CT_FOREVER);
	ct_future_release(f);
	return rc;
}

TEST(task_an_item_submits_goes_behind_the_helpers_held_back)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 2}));
	CHECK_OK(ct_barrier_init(&meeting, 2, NULL, NULL, CT_FOREVER));
	void *none[2] = {0};
	CHECK_OK(ct_executor_map(&ex, meet_barrier, none, 2, CT_FOREVER, NULL, NULL));
	CHECK_EQ(ct_executor_workers(&ex), 2); /* a worker's submit would go to its queue */
	ct_event_init(&second_item_ran);
	nesting_pool = &ex;
	void *args[2] = {&ex, NULL};
	CHECK_OK(ct_executor_map(&ex, submit_then_wait, args, 2, CT_FOREVER, NULL, NULL));
	ct_executor_shutdown(&ex, true, false);
	ct_event_destroy(&second_item_ran);
	ct_barrier_destroy(&meeting);
	ct_executor_destroy(&ex);
}

/* A map with one worker whose item 0 holds it until the test lets it go. */
struct held_map {
	ct_executor_t ex;
	struct gate g;
	atomic_int runs_after; /* runs of items 1.. */
	struct step steps[50];
	void *args[50], *results[50];
	int statuses[50];
};

static void held_map_init(struct held_map *m, int n, int holder)
{
	CHECK_OK(ct_executor_init(&m->ex, &(ct_executor_opts){.max_workers = 1}));
	gate_init(&m->g, 0, NULL);
	atomic_init(&m->runs_after, 0);
	steps_init(m->steps, m->args, n, &m->g, &m->runs_after, holder + 1);
	m->steps[holder].kind = 0;
}

/* Lets the holder go (if it started: it may have been cancelled), ends the
 * pool; the items after it must not have run. */
static void held_map_check_and_destroy(struct held_map *m)
{
	ct_event_set(&m->g.go);
	ct_executor_destroy(&m->ex);
	CHECK_EQ(atomic_load(&m->runs_after), 0);
	CHECK(atomic_load(&m->g.runs) <= 1);
}

/* Python's map raises at the first failure (in input order); dropping the
 * iterator cancels the items not started. */
TEST(map_stops_at_the_first_failure)
{
	struct held_map m;
	held_map_init(&m, 50, 6); /* item 6 holds the only worker ... */
	m.steps[5].kind = 2;	  /* ... past the failing item 5 */
	CHECK_RC(ct_executor_map(&m.ex, do_step, m.args, 50, CT_FOREVER, m.results, NULL), 9);
	for (int i = 0; i < 5; i++)
		CHECK(m.results[i] == &m.steps[i]);
	held_map_check_and_destroy(&m);
}

TEST(map_with_statuses_collects_everything)
{
	enum { N = 40 };
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	struct step steps[N];
	void *args[N], *results[N] = {0};
	int statuses[N];
	steps_init(steps, args, N, NULL, NULL, N);
	for (int i = 3; i < N; i += 10)
		steps[i].kind = 2;
	CHECK_RC(ct_executor_map(&ex, do_step, args, N, CT_FOREVER, results, statuses), 9);
	for (int i = 0; i < N; i++) {
		CHECK_EQ(statuses[i], i % 10 == 3 ? 9 : 0);
		if (i % 10 != 3)
			CHECK(results[i] == &steps[i]);
	}
	ct_executor_destroy(&ex);
}

TEST(map_timeout_counts_from_the_call)
{
	struct held_map m;
	held_map_init(&m, 20, 0);
	double t0 = ht_now();
	CHECK_RC(ct_executor_map(&m.ex, do_step, m.args, 20, 0.1, NULL, m.statuses), CT_ETIMEDOUT);
	CHECK(ht_now() - t0 >= 0.1);
	for (int i = 1; i < 20; i++)
		CHECK_EQ(m.statuses[i], CT_ECANCELLED);
	held_map_check_and_destroy(&m);
	/* Item 0 was running when time was up, unless the worker (started by
	 * the call) had not picked it up yet, as under an emulator: then it
	 * was cancelled and never ran. Read once the pool is gone. */
	CHECK_EQ(m.statuses[0], atomic_load(&m.g.runs) == 1 ? CT_ETIMEDOUT : CT_ECANCELLED);
}

static struct held_map *mapping;

static int run_map(void *n)
{
	return ct_executor_map(&mapping->ex, do_step, mapping->args, (size_t)(intptr_t)n,
			       CT_FOREVER, NULL, NULL);
}

TEST(stop_request_interrupts_map)
{
	struct held_map m;
	held_map_init(&m, 3, 0);
	mapping = &m;
	struct blocker b;
	blocker_start(&b, run_map, (void *)3);
	CHECK_OK(ct_event_wait(&m.g.started, CT_FOREVER));
	CHECK_RC(blocker_stop(&b), CT_ESTOPPED);
	held_map_check_and_destroy(&m);
}

TEST(shutdown_with_cancel_futures_cancels_map_items)
{
	struct held_map m;
	held_map_init(&m, 30, 0);
	mapping = &m;
	struct blocker b;
	blocker_start(&b, run_map, (void *)30);
	CHECK_OK(ct_event_wait(&m.g.started, CT_FOREVER));
	CHECK_OK(ct_executor_shutdown(&m.ex, false, true));
	ct_event_set(&m.g.go);
	/* Item 0 ran; item 1 was cancelled, so map reports that. */
	CHECK_RC(blocker_join(&b), CT_ECANCELLED);
	held_map_check_and_destroy(&m);
}

/* A second map queued behind a running task, drained by the shutdown. */
TEST(shutdown_with_cancel_futures_cancels_queued_maps)
{
	struct held_map m;
	held_map_init(&m, 4, 0);
	mapping = &m;
	ct_future_t *holder = submit(&m.ex, gated, &m.g);
	CHECK_OK(ct_event_wait(&m.g.started, CT_FOREVER));
	m.steps[0].kind = 3; /* the map's items all count their runs */
	m.steps[0].runs = &m.runs_after;
	struct blocker b;
	blocker_start(&b, run_map, (void *)4);
	while (ct__executor_pending(ct__executor_of(&m.ex)) == 0) /* the map is queued */
		ct_sleep(0);
	CHECK_OK(ct_executor_shutdown(&m.ex, false, true));
	ct_event_set(&m.g.go);
	CHECK_RC(blocker_join(&b), CT_ECANCELLED);
	ct_future_release(holder);
	held_map_check_and_destroy(&m);
}

/* ---- work stealing ---------------------------------------------------------- */

/* A pool whose workers have all started: then a task's submits go to its
 * worker's own queue, where the others steal them. */
static ct_barrier_t all_started;

static int meet(void *arg, void **result)
{
	(void)arg;
	(void)result;
	return ct_barrier_wait(&all_started, CT_FOREVER) < 0;
}

static void start_every_worker(ct_executor_t *ex, int n)
{
	CHECK_OK(ct_barrier_init(&all_started, (unsigned)n, NULL, NULL, CT_FOREVER));
	ct_future_t *f[16];
	for (int i = 0; i < n; i++)
		f[i] = submit(ex, meet, NULL);
	for (int i = 0; i < n; i++) {
		CHECK_OK(ct_future_result(f[i], CT_FOREVER, NULL));
		ct_future_release(f[i]);
	}
	CHECK_EQ(ct_executor_workers(ex), n);
}

/* Tasks that wait for each other get a worker each, up to max_workers, as
 * with Python's one thread per task while none is idle: a worker must not
 * keep queued tasks to itself while the pool could still start one. */
TEST(tasks_waiting_for_each_other_start_every_worker)
{
	for (int round = 0; round < (ht_slowed() ? 20 : 200); round++) {
		ct_executor_t ex;
		CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4}));
		start_every_worker(&ex, 4);
		ct_executor_destroy(&ex);
	}
}

enum { CHILDREN = 5000 };

static struct {
	ct_executor_t *ex;
	ct_future_t *f[CHILDREN];
	atomic_int submitted, ran;
	int rc;		   /* the first failed submit */
	ct_event_t ran100; /* set by the 100th child to run */
} family;

static int child(void *arg, void **result)
{
	if (atomic_fetch_add(&family.ran, 1) == 99)
		ct_event_set(&family.ran100);
	*result = (void *)((intptr_t)arg * 2);
	return 0;
}

/* Submits CHILDREN children (more than a worker's own queue holds), then,
 * with @p arg, waits for each: the worker is held the whole time, so the
 * others must take the children from its queue. */
static int parent(void *arg, void **result)
{
	(void)result;
	int n = 0;
	for (; n < CHILDREN; n++) {
		int rc = ct_executor_submit(family.ex, child, (void *)(intptr_t)n, &family.f[n]);
		if (rc < 0) {
			family.rc = rc;
			break;
		}
		atomic_store(&family.submitted, n + 1);
	}
	if (!arg)
		return 0;
	for (int i = 0; i < n; i++) {
		void *v;
		if (ct_future_result(family.f[i], CT_FOREVER, &v) != 0 ||
		    (intptr_t)v != 2 * (intptr_t)i)
			return 1;
	}
	return 0;
}

static void family_init(ct_executor_t *ex)
{
	family.ex = ex;
	atomic_init(&family.submitted, 0);
	atomic_init(&family.ran, 0);
	family.rc = 0;
	ct_event_init(&family.ran100);
}

static void family_release(void)
{
	for (int i = 0; i < atomic_load(&family.submitted); i++)
		ct_future_release(family.f[i]);
}

TEST(task_submitting_thousands_of_children)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4}));
	start_every_worker(&ex, 4);
	family_init(&ex);
	/* The parent waits for its children on its own worker: the other
	 * three run them all. */
	ct_future_t *p = submit(&ex, parent, (void *)1);
	CHECK_OK(ct_future_result(p, CT_FOREVER, NULL));
	CHECK_OK(family.rc);
	CHECK_EQ(atomic_load(&family.ran), CHILDREN);
	ct_future_release(p);
	family_release();
	/* Again, not waiting: its worker runs what nobody took. */
	family_init(&ex);
	p = submit(&ex, parent, NULL);
	CHECK_OK(ct_future_result(p, CT_FOREVER, NULL));
	ct_future_release(p);
	ct_executor_destroy(&ex);
	CHECK_EQ(atomic_load(&family.ran), CHILDREN);
	for (int i = 0; i < CHILDREN; i++) {
		void *v;
		CHECK_OK(ct_future_result(family.f[i], 0, &v));
		CHECK_EQ((intptr_t)v, 2 * i);
	}
	family_release();
}

/* One worker: what a task submits runs after it, in the order submitted. */
TEST(children_of_a_task_start_in_order)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 1}));
	start_every_worker(&ex, 1);
	atomic_store(&order.next, 0);
	ct_future_t *p = submit(&ex, submit_in_order, &ex);
	CHECK_OK(ct_future_result(p, CT_FOREVER, NULL));
	ct_future_release(p);
	ct_executor_destroy(&ex);
	CHECK_EQ(atomic_load(&order.next), 100);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(order.seen[i], i);
}

static int fail_at_middle(void *arg, void **result)
{
	intptr_t i = (intptr_t)arg;
	*result = (void *)(i + 1);
	return i == 5000 ? 7 : 0;
}

/* A failure in the middle of a long map on several workers: items before
 * it are all there, items after it either ran or were cancelled. */
TEST(map_with_a_failing_item_in_the_middle)
{
	enum { N = 10001 };
	static void *args[N], *results[N];
	static int statuses[N];
	for (intptr_t i = 0; i < N; i++)
		args[i] = (void *)i;
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4}));
	for (int round = 0; round < 20; round++) {
		memset(results, 0, sizeof results);
		CHECK_RC(ct_executor_map(&ex, fail_at_middle, args, N, CT_FOREVER, results, NULL),
			 7);
		for (intptr_t i = 0; i < 5000; i++)
			CHECK_EQ((intptr_t)results[i], i + 1);
		CHECK_RC(ct_executor_map(&ex, fail_at_middle, args, N, CT_FOREVER, results,
					 statuses),
			 7);
		for (intptr_t i = 0; i < N; i++) {
			CHECK_EQ(statuses[i], i == 5000 ? 7 : 0);
			CHECK_EQ((intptr_t)results[i], i + 1);
		}
	}
	ct_executor_destroy(&ex);
}

/* Shut down while three workers steal a held parent's children: every
 * child submitted either ran or was cancelled, none is left pending, and
 * nothing runs after the shutdown returned. */
TEST(shutdown_while_stealing)
{
	for (int round = 0; round < 10; round++) {
		bool cancel = round % 2 == 0;
		ct_executor_t ex;
		CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4}));
		start_every_worker(&ex, 4);
		family_init(&ex);
		ct_future_t *p = submit(&ex, parent, (void *)1);
		CHECK_OK(ct_event_wait(&family.ran100, CT_FOREVER));
		CHECK_OK(ct_executor_shutdown(&ex, true, cancel));
		int ran = atomic_load(&family.ran), cancelled = 0;
		int submitted = atomic_load(&family.submitted);
		for (int i = 0; i < submitted; i++) {
			CHECK(ct_future_done(family.f[i]));
			cancelled += ct_future_cancelled(family.f[i]);
		}
		CHECK_EQ(ran + cancelled, submitted);
		if (!cancel)
			CHECK_EQ(cancelled, 0);
		if (submitted < CHILDREN)
			CHECK_RC(family.rc, CT_ESHUTDOWN);
		/* The parent waited for a cancelled child, or saw them all. */
		CHECK(ct_future_done(p));
		ct_future_release(p);
		family_release();
		ct_executor_destroy(&ex);
		CHECK_EQ(atomic_load(&family.ran), ran);
	}
}

/* A task submits to its own pool (onto its worker's ring) as fast as it
 * can while the pool is shut down, then waits for every child it got in.
 * Each submit is accepted or refused; an accepted child runs or is
 * cancelled, never left behind by the other worker leaving when it saw
 * the rings empty a moment before the child landed: the task's own worker
 * is held, so that child would never run. */
enum { RACING_CHILDREN = 100000 };

static struct {
	ct_executor_t *ex;
	ct_future_t **f;
	ct_event_t started;
	int n, refused_rc;
	bool ok;
} racer;

static int racing_child(void *arg, void **result)
{
	*result = arg;
	return 0;
}

static int submit_until_refused(void *arg, void **result)
{
	(void)arg;
	(void)result;
	ct_event_set(&racer.started);
	int n = 0, rc = 0;
	while (n < RACING_CHILDREN &&
	       (rc = ct_executor_submit(racer.ex, racing_child, &racer, &racer.f[n])) == 0)
		n++;
	racer.refused_rc = rc;
	racer.n = n;
	racer.ok = true;
	for (int i = 0; i < n; i++) {
		void *v = NULL;
		int r = ct_future_result(racer.f[i], CT_FOREVER, &v);
		racer.ok &= (r == 0 && v == &racer) || r == CT_ECANCELLED;
		ct_future_release(racer.f[i]);
	}
	return 0;
}

TEST(task_submits_racing_shutdown)
{
	racer.f = calloc(RACING_CHILDREN, sizeof *racer.f);
	CHECK(racer.f != NULL);
	for (int round = 0; round < 40; round++) {
		ct_executor_t ex;
		CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 2}));
		start_every_worker(&ex, 2);
		racer.ex = &ex;
		racer.n = -1;
		ct_event_init(&racer.started);
		ct_future_t *p = submit(&ex, submit_until_refused, NULL);
		CHECK_OK(ct_event_wait(&racer.started, CT_FOREVER));
		CHECK_OK(ct_executor_shutdown(&ex, true, round % 2 == 0));
		CHECK(ct_future_done(p));
		CHECK_EQ(racer.n >= 0, true);
		CHECK(racer.ok);
		if (racer.n < RACING_CHILDREN)
			CHECK_RC(racer.refused_rc, CT_ESHUTDOWN);
		ct_future_release(p);
		ct_executor_destroy(&ex);
		ct_event_destroy(&racer.started);
	}
	free(racer.f);
}

/* ---- pools used from another pool's tasks ------------------------------------- */

/* A task of one pool that makes a second pool, submits to it (not to its
 * own worker's ring: the pool is not its own) and destroys it, which
 * joins the second pool's worker from a worker of the first. */
static int use_another_pool(void *arg, void **result)
{
	(void)arg;
	ct_executor_t other;
	if (ct_executor_init(&other, &(ct_executor_opts){.max_workers = 1}) < 0)
		return 1;
	ct_future_t *f = NULL;
	void *v = NULL;
	int rc = ct_executor_submit(&other, square, (void *)6, &f);
	if (rc == 0)
		rc = ct_future_result(f, CT_FOREVER, &v);
	ct_future_release(f);
	ct_executor_destroy(&other);
	*result = v;
	return rc;
}

TEST(task_submits_to_and_destroys_another_pool)
{
	ct_executor_t *ex = new_pool(1);
	CHECK_EQ((intptr_t)run_one(ex, use_another_pool, NULL), 36);
	/* The other pool's worker was joined: only the first pool's is left. */
	CHECK_EQ(ct_active_count(), 2);
	ct_executor_destroy(ex);
	CHECK_EQ(ct_active_count(), 1);
}

/* A task's submit to its own pool once the pool is broken (a second
 * worker's initializer failed while the task ran) is refused. */
static atomic_int inits;
static int second_init_fails(void *arg)
{
	(void)arg;
	return atomic_fetch_add(&inits, 1) == 0 ? 0 : 5;
}

static ct_executor_t breaking_pool;
static ct_event_t task_running, pool_broken;
static int own_submit_rc;

static int submit_to_own_pool_later(void *arg, void **result)
{
	(void)arg;
	(void)result;
	ct_event_set(&task_running);
	ct_event_wait(&pool_broken, CT_FOREVER);
	own_submit_rc = ct_executor_submit(&breaking_pool, square, NULL, NULL);
	return 0;
}

TEST(task_submit_to_its_broken_pool_is_refused)
{
	ct_event_init(&task_running);
	ct_event_init(&pool_broken);
	CHECK_OK(ct_executor_init(
		&breaking_pool,
		&(ct_executor_opts){.max_workers = 2, .initializer = second_init_fails}));
	ct_future_t *first = submit(&breaking_pool, submit_to_own_pool_later, NULL);
	CHECK_OK(ct_event_wait(&task_running, CT_FOREVER));
	/* Starts the second worker, whose initializer fails: the pool breaks
	 * and this task, which nobody could take, ends with it. */
	ct_future_t *second = NULL;
	int rc = ct_executor_submit(&breaking_pool, square, NULL, &second);
	if (rc == 0) {
		rc = ct_future_result(second, CT_FOREVER, NULL);
		ct_future_release(second);
	}
	CHECK_RC(rc, CT_EBROKEN);
	ct_event_set(&pool_broken);
	CHECK_OK(ct_future_result(first, CT_FOREVER, NULL));
	CHECK_RC(own_submit_rc, CT_EBROKEN);
	ct_future_release(first);
	ct_executor_destroy(&breaking_pool);
}

/* ---- map: cancelled and stopped ------------------------------------------------ */

static ct_event_t item_started, item_go, item_three_ran;

/* Item 0 fails with 7, item 1 waits for item_go, item 3 says it ran. */
static int map_item(void *arg, void **result)
{
	(void)result;
	switch ((intptr_t)arg) {
	case 0:
		return 7;
	case 1:
		ct_event_set(&item_started);
		ct_event_wait(&item_go, CT_FOREVER);
		return 0;
	case 3:
		ct_event_set(&item_three_ran);
		return 0;
	default:
		return 0;
	}
}

struct map_call {
	ct_executor_t *ex;
	void *const *args;
	size_t n;
	void **results; /* NULL: statuses only */
	int statuses[64];
};

static int map_statuses(void *arg)
{
	struct map_call *c = arg;
	return ct_executor_map(c->ex, map_item, c->args, c->n, CT_FOREVER, c->results, c->statuses);
}

static void map_events_init(void)
{
	ct_event_init(&item_started);
	ct_event_init(&item_go);
	ct_event_init(&item_three_ran);
}

/* A map that collects statuses (with results or without) and whose caller
 * is stopped while item 1 runs: it returns the first failure (item 0's)
 * and reports the stop for item 1, and item 2 as it ended: whichever
 * worker item 1 does not hold ran item 2 before item 3. */
TEST(map_stopped_reports_each_status)
{
	static void *const args[4] = {(void *)0, (void *)1, (void *)2, (void *)3};
	for (int with_results = 0; with_results < 2; with_results++) {
		map_events_init();
		ct_executor_t *ex = new_pool(2);
		void *results[4] = {(void *)9, (void *)9, (void *)9, (void *)9};
		struct map_call c = {
			.ex = ex, .args = args, .n = 4, .results = with_results ? results : NULL};
		struct blocker b;
		blocker_start(&b, map_statuses, &c);
		CHECK_OK(ct_event_wait(&item_three_ran, CT_FOREVER));
		CHECK_EQ(blocker_stop(&b), 7);
		CHECK_EQ(c.statuses[0], 7);
		CHECK_RC(c.statuses[1], CT_ESTOPPED);
		CHECK_OK(c.statuses[2]);
		CHECK(c.statuses[3] == 0 || c.statuses[3] == CT_ESTOPPED);
		/* The values of the items done (map_item gives none). */
		CHECK(results[0] == (with_results ? NULL : (void *)9));
		CHECK(results[2] == (with_results ? NULL : (void *)9));
		ct_event_set(&item_go);
		ct_executor_destroy(ex);
	}
}

/* A shutdown with cancel_futures while one helper of a map runs item 0
 * (64 items, three helpers, each claiming one item at a time) and the
 * map's other helpers wait: the first helper ended sweeps the items not
 * started; the others, and the running one when its item is done, find
 * the job swept. */
TEST(map_helpers_ended_by_a_shutdown_sweep_once)
{
	map_events_init();
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 3}));
	struct gate a, b;
	ct_future_t *fa = submit_started(&ex, &a, 0, NULL);
	ct_future_t *fb = submit_started(&ex, &b, 0, NULL);
	/* Three helpers (one per worker), on the third worker only. */
	static void *args[64];
	args[0] = (void *)1;
	for (int i = 1; i < 64; i++)
		args[i] = (void *)2;
	struct map_call c = {.ex = &ex, .args = args, .n = 64};
	struct blocker m;
	blocker_start(&m, map_statuses, &c);
	CHECK_OK(ct_event_wait(&item_started, CT_FOREVER));
	CHECK_OK(ct_executor_shutdown(&ex, false, true));
	ct_event_set(&item_go);
	CHECK_RC(blocker_join(&m), CT_ECANCELLED);
	CHECK_OK(c.statuses[0]);
	for (int i = 1; i < 64; i++)
		CHECK_RC(c.statuses[i], CT_ECANCELLED);
	ct_event_set(&a.go);
	ct_event_set(&b.go);
	CHECK_OK(ct_future_result(fa, CT_FOREVER, NULL));
	CHECK_OK(ct_future_result(fb, CT_FOREVER, NULL));
	ct_future_release(fa);
	ct_future_release(fb);
	ct_executor_destroy(&ex);
}

/* A shutdown with cancel_futures (the pool's sweep) while a map's items
 * are being claimed, from another thread once item 8 has started, and the
 * caller's own sweep after a short timeout or at the first item cancelled,
 * round after round so that the cancels meet the claims and each other in
 * every order. Whatever the order, items are claimed in input order and a
 * claimed item is never cancelled: those that ran are a prefix of the
 * map, each run once, and the others never run (nor are left pending:
 * the map returns, and so does the pool's destroy). */
static atomic_int race_runs[64];
static ct_event_t race_midway; /* item 8 started, or the map returned */

static int count_race_run(void *arg, void **result)
{
	atomic_fetch_add(&race_runs[(intptr_t)arg], 1);
	if ((intptr_t)arg == 8)
		ct_event_set(&race_midway);
	/* Work: time for a cancel to meet the claims (no check depends on it). */
	for (volatile int spin = 0; spin < 20000; spin++)
		;
	*result = arg;
	return 0;
}

static int shutdown_midway(void *ex)
{
	CHECK_OK(ct_event_wait(&race_midway, CT_FOREVER));
	return ct_executor_shutdown(ex, false, true);
}

TEST(map_cancels_racing_claims_take_only_items_not_started)
{
	enum { N = 64 };
	static void *args[N];
	for (intptr_t i = 0; i < N; i++)
		args[i] = (void *)i;
	int rounds = ht_slowed() ? 60 : 400;
	for (int round = 0; round < rounds; round++) {
		ct_executor_t ex;
		CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 2}));
		start_every_worker(&ex, 2);
		ct_event_init(&race_midway);
		for (int i = 0; i < N; i++)
			atomic_store(&race_runs[i], 0);
		void *results[N] = {0};
		int statuses[N];
		struct blocker b;
		blocker_start(&b, shutdown_midway, &ex);
		/* Statuses, or Python's iterator (which stops at the first item
		 * cancelled); no timeout, or one that may end the wait early. */
		bool all = round % 2;
		double timeout = round % 4 < 2 ? CT_FOREVER : (round % 16) * 100e-6;
		int rc = ct_executor_map(&ex, count_race_run, args, N, timeout, results,
					 all ? statuses : NULL);
		ct_event_set(&race_midway);
		CHECK_OK(blocker_join(&b));
		ct_executor_destroy(&ex); /* every item claimed has run */
		CHECK(rc == 0 || rc == CT_ECANCELLED || rc == CT_ETIMEDOUT);
		int ran = 0;
		while (ran < N && atomic_load(&race_runs[ran]) == 1)
			ran++;
		for (int i = ran; i < N; i++)
			CHECK_EQ(atomic_load(&race_runs[i]), 0);
		if (!all)
			continue;
		for (int i = 0; i < N; i++) {
			if (i >= ran)
				CHECK_RC(statuses[i], CT_ECANCELLED);
			else if (statuses[i] == 0)
				CHECK(results[i] == args[i]);
			else /* still running when the wait ended */
				CHECK_RC(statuses[i], CT_ETIMEDOUT);
		}
	}
}

/* ---- the exit rule -------------------------------------------------------- */

static char *run_exit_program(const char *mode)
{
	const char *argv[] = {CT_TEST_PROGRAMS "/executor_exit", mode, NULL};
	char *out = NULL;
	CHECK_EQ(ht_run(argv, &out, NULL), 0);
	return out;
}

/* Python's _python_exit: the pool is shut down before the exit rule waits
 * for its (non-daemon) workers, which finish the queued work first. */
TEST(exit_rule_runs_pending_work)
{
	char *out = run_exit_program("pending");
	CHECK_STR(out, "main returns\ntask 0\ntask 1\ntask 2\ntask 3\ntask 4\n");
	free(out);
}

TEST(exit_rule_does_not_wait_for_idle_workers)
{
	char *out = run_exit_program("idle");
	CHECK_STR(out, "task 0\n");
	free(out);
}

/* A pool made once the exit hook has closed every pool (here by a task
 * still running then) starts closed: Python refuses submits after
 * interpreter shutdown. */
TEST(exit_rule_closes_pools_made_after_it)
{
	char *out = run_exit_program("late");
	CHECK_STR(out, "main returns\nlate pool refuses: 1\n");
	free(out);
}

TEST(exit_rule_skips_cancelled_work)
{
	char *out = run_exit_program("cancel");
	/* The first task was running (or about to) when the rest were
	 * cancelled: at most it prints. */
	CHECK(strcmp(out, "main returns\n") == 0 || strcmp(out, "main returns\ntask 0\n") == 0);
	free(out);
}

/* ---- resource failures ----------------------------------------------------- */

/* Every allocation a first submit makes (the future, the worker's slot,
 * name and thread record) can fail: the submit reports CT_ENOMEM, queues
 * nothing, leaks nothing, and the pool works after. */
TEST(allocation_failures_in_submit)
{
	int failures = 0;
	for (long skip = 0;; skip++) {
		ct_executor_t ex;
		CHECK_OK(ct_executor_init(&ex, NULL));
		ct_future_t *f = NULL;
		ct__fault_set(CT__FAULT_ALLOC, skip, 1);
		int rc = ct_executor_submit(&ex, square, (void *)3, &f);
		ct__fault_set(CT__FAULT_ALLOC, 0, 0);
		if (rc == 0) {
			CHECK_OK(ct_future_result(f, CT_FOREVER, NULL));
			ct_future_release(f);
			ct_executor_destroy(&ex);
			break;
		}
		CHECK_RC(rc, CT_ENOMEM);
		CHECK(f == NULL);
		CHECK_EQ(ct_executor_workers(&ex), 0);
		failures++;
		CHECK_EQ((intptr_t)run_one(&ex, square, (void *)3), 9);
		ct_executor_destroy(&ex);
	}
	CHECK(failures >= 4);
}

/* A future taken from the thread's cache of freed ones counts as an
 * allocation too. */
TEST(allocation_failure_with_a_cached_future)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	/* Its future goes to the cache of whichever thread drops it last, the
	 * worker's or this one's (future.allocation_failure_with_a_cached_future
	 * makes sure of this thread's). */
	run_one(&ex, square, (void *)3);
	ct_future_t *f = NULL;
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_RC(ct_executor_submit(&ex, square, (void *)3, &f), CT_ENOMEM);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	CHECK(f == NULL);
	CHECK_EQ((intptr_t)run_one(&ex, square, (void *)3), 9);
	ct_executor_destroy(&ex);
}

TEST(allocation_failures_in_init)
{
	for (long skip = 0; skip < 2; skip++) {
		ct_executor_t ex;
		ct__fault_set(CT__FAULT_ALLOC, skip, 1);
		CHECK_RC(ct_executor_init(&ex, NULL), CT_ENOMEM);
		ct__fault_set(CT__FAULT_ALLOC, 0, 0);
		ct_executor_destroy(&ex); /* safe after a failed init */
		CHECK_RC(ct_executor_submit(&ex, square, NULL, NULL), CT_EINVAL);
	}
}

TEST(allocation_failure_in_map)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	void *args[3] = {(void *)1, (void *)2, (void *)3}, *results[3];
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_RC(ct_executor_map(&ex, square, args, 3, CT_FOREVER, results, NULL), CT_ENOMEM);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	CHECK_OK(ct_executor_map(&ex, square, args, 3, CT_FOREVER, results, NULL));
	CHECK_EQ((intptr_t)results[2], 9);
	ct_executor_destroy(&ex);
}

TEST(thread_creation_failure_without_workers)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	ct_future_t *f = NULL;
	ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 1);
	CHECK_RC(ct_executor_submit(&ex, square, (void *)3, &f), CT_EAGAIN);
	CHECK(f == NULL);
	ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 1);
	CHECK_RC(ct_executor_map(&ex, square, (void *[]){NULL}, 1, CT_FOREVER, NULL, NULL),
		 CT_EAGAIN);
	ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 0);
	CHECK_EQ(ct_executor_workers(&ex), 0);
	CHECK_EQ((intptr_t)run_one(&ex, square, (void *)3), 9);
	ct_executor_destroy(&ex);
}

/* With a worker there, a submit whose new worker cannot start still
 * queues its task: the existing worker runs it when it is free. */
TEST(worker_start_failure_keeps_the_task)
{
	for (int kind = 0; kind < 2; kind++) {
		ct_executor_t ex;
		CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4}));
		struct gate a;
		ct_future_t *fa = submit_started(&ex, &a, 0, NULL);
		if (kind == 0)
			ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 1);
		else
			ct__fault_set(CT__FAULT_ALLOC, 1, 1); /* after the future */
		ct_future_t *fb = submit(&ex, square, (void *)6);
		ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 0);
		ct__fault_set(CT__FAULT_ALLOC, 0, 0);
		CHECK_EQ(ct_executor_workers(&ex), 1);
		CHECK(!ct_future_done(fb));
		ct_event_set(&a.go);
		void *v;
		CHECK_OK(ct_future_result(fb, CT_FOREVER, &v));
		CHECK_EQ((intptr_t)v, 36);
		ct_future_release(fa);
		ct_future_release(fb);
		ct_executor_destroy(&ex);
	}
}

/* ---- stress ------------------------------------------------------------------ */

struct submitter {
	ct_executor_t *ex;
	long tasks;
	long long sum;
	int rc;
};

static int inc(void *arg, void **result)
{
	*result = (void *)((intptr_t)arg + 1);
	return 0;
}

/* Submits in batches of 1000 and resolves every future. */
static int submit_batches(void *arg)
{
	struct submitter *s = arg;
	enum { BATCH = 1000 };
	ct_future_t *fs[BATCH];
	for (long done = 0; done < s->tasks; done += BATCH) {
		for (intptr_t i = 0; i < BATCH; i++)
			if ((s->rc = ct_executor_submit(s->ex, inc, (void *)i, &fs[i])) < 0)
				return 1;
		for (int i = 0; i < BATCH; i++) {
			void *v = NULL;
			if ((s->rc = ct_future_result(fs[i], CT_FOREVER, &v)) != 0)
				return 1;
			s->sum += (intptr_t)v;
			ct_future_release(fs[i]);
		}
	}
	return 0;
}

TEST(stress_a_million_tiny_tasks)
{
	/* Two submitters, 1,000,000 tasks in all. */
	long per = 500000;
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	struct submitter s[2] = {{&ex, per, 0, 0}, {&ex, per, 0, 0}};
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, submit_batches, &s[1], NULL));
	CHECK_OK(ct_thread_start(t));
	CHECK_OK(submit_batches(&s[0]));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_release(t);
	for (int i = 0; i < 2; i++) {
		CHECK_OK(s[i].rc);
		CHECK_EQ(s[i].sum, per / 1000 * (1000LL * 1001 / 2));
	}
	ct_executor_destroy(&ex);
}

struct mapper {
	ct_executor_t *ex;
	int maps;
	int rc;
};

/* Maps 1000 items at a time and checks every result. */
static int map_many(void *arg)
{
	struct mapper *m = arg;
	enum { N = 1000 };
	void *args[N], *results[N];
	for (intptr_t i = 0; i < N; i++)
		args[i] = (void *)i;
	for (int k = 0; k < m->maps; k++) {
		if ((m->rc = ct_executor_map(m->ex, inc, args, N, CT_FOREVER, results, NULL)) != 0)
			return 1;
		for (intptr_t i = 0; i < N; i++)
			if ((intptr_t)results[i] != i + 1)
				return m->rc = 1;
	}
	return 0;
}

/* Two threads map while a third submits: 1,000,000 items in all. */
TEST(stress_concurrent_maps_and_submits)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	struct mapper m[2] = {{&ex, 400, 0}, {&ex, 400, 0}};
	struct submitter s = {&ex, 200000, 0, 0};
	ct_thread_t *t[2];
	for (int i = 0; i < 2; i++) {
		CHECK_OK(ct_thread_new(&t[i], map_many, &m[i], NULL));
		CHECK_OK(ct_thread_start(t[i]));
	}
	CHECK_OK(submit_batches(&s));
	for (int i = 0; i < 2; i++) {
		CHECK_OK(ct_thread_join(t[i], CT_FOREVER));
		ct_thread_release(t[i]);
		CHECK_OK(m[i].rc);
	}
	CHECK_EQ(s.sum, 200 * (1000LL * 1001 / 2));
	ct_executor_destroy(&ex);
}

struct loader {
	ct_executor_t *ex;
	ct_future_t **fs;
	long max, n;
	atomic_long *runs;
	ct_event_t *started;
	int rc;
};

static atomic_int loaders_done;

/* A task a little slower than submitting one, so that the queue fills. */
static int count_run(void *arg, void **result)
{
	(void)result;
	for (volatile int i = 0; i < 300; i++)
		;
	atomic_fetch_add((atomic_long *)arg, 1);
	return 0;
}

static int load_until_shutdown(void *arg)
{
	struct loader *l = arg;
	while (l->n < l->max) {
		int rc = ct_executor_submit(l->ex, count_run, l->runs, &l->fs[l->n]);
		if (rc < 0) {
			l->rc = rc;
			break;
		}
		if (++l->n == 1000)
			ct_event_set(l->started);
	}
	ct_event_set(l->started);
	atomic_fetch_add(&loaders_done, 1);
	return 0;
}

/* Four threads keep submitting while the pool is shut down with
 * cancel_futures: every future ends done or cancelled, none forgotten, and
 * exactly the done ones ran. */
TEST(stress_shutdown_with_cancel_futures_under_load)
{
	enum { THREADS = 4 };
	long max = ht_slowed() ? 20000 : 100000;
	atomic_long runs = 0;
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	struct loader l[THREADS];
	ct_event_t started[THREADS];
	ct_thread_t *t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		ct_event_init(&started[i]);
		l[i] = (struct loader){
			&ex, calloc(max, sizeof(ct_future_t *)), max, 0, &runs, &started[i], 0};
		CHECK_OK(ct_thread_new(&t[i], load_until_shutdown, &l[i], NULL));
		CHECK_OK(ct_thread_start(t[i]));
	}
	for (int i = 0; i < THREADS; i++)
		CHECK_OK(ct_event_wait(&started[i], CT_FOREVER));
	/* Shut down with work queued, unless the submitters are done first. */
	while (ct__executor_pending(ct__executor_of(&ex)) < 1000 &&
	       atomic_load(&loaders_done) < THREADS)
		ct_sleep(0);
	CHECK_OK(ct_executor_shutdown(&ex, true, true));
	long finished = 0, cancelled = 0;
	for (int i = 0; i < THREADS; i++) {
		CHECK_OK(ct_thread_join(t[i], CT_FOREVER));
		ct_thread_release(t[i]);
		CHECK(l[i].rc == 0 || l[i].rc == CT_ESHUTDOWN);
		for (long k = 0; k < l[i].n; k++) {
			ct_future_t *f = l[i].fs[k];
			CHECK(ct_future_done(f));
			if (ct_future_cancelled(f)) {
				cancelled++;
			} else {
				CHECK_OK(ct_future_result(f, 0, NULL));
				finished++;
			}
			ct_future_release(f);
		}
		free(l[i].fs);
	}
	CHECK_EQ(finished, atomic_load(&runs));
	CHECK(finished + cancelled >= THREADS * 1000);
	printf("%ld finished, %ld cancelled\n", finished, cancelled);
	ct_executor_destroy(&ex);
}

/* ---- misuse ------------------------------------------------------------------ */

static int init_with_max(int max_workers)
{
	ct_executor_t ex;
	int rc = ct_executor_init(&ex, &(ct_executor_opts){.max_workers = max_workers});
	ct_executor_destroy(&ex);
	return rc;
}

static int submit_null_fn(void)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	int rc = ct_executor_submit(&ex, NULL, NULL, NULL);
	ct_executor_destroy(&ex);
	return rc;
}

static int submit_after_shutdown(void)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	CHECK_OK(ct_executor_shutdown(&ex, false, false));
	int rc = ct_executor_submit(&ex, square, NULL, NULL);
	ct_executor_destroy(&ex);
	return rc;
}

static int init_fails_now(void *arg)
{
	(void)arg;
	return 1;
}

static int submit_to_broken_pool(void)
{
	ct_set_excepthook(quiet_hook);
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.initializer = init_fails_now}));
	ct_future_t *f = submit(&ex, square, NULL);
	CHECK_RC(ct_future_result(f, CT_FOREVER, NULL), CT_EBROKEN);
	ct_future_release(f);
	int rc = ct_executor_submit(&ex, square, NULL, NULL);
	ct_executor_destroy(&ex);
	return rc;
}

static int map_with(void *const *args, size_t n, double timeout)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	int rc = ct_executor_map(&ex, square, args, n, timeout, NULL, NULL);
	ct_executor_destroy(&ex);
	return rc;
}

static int map_null_fn(void)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	int rc = ct_executor_map(&ex, NULL, (void *[]){NULL}, 1, CT_FOREVER, NULL, NULL);
	ct_executor_destroy(&ex);
	return rc;
}

static void nothing_before_exit(void)
{
}

/* The first pool of the process registers the exit hook (Python's
 * _python_exit); with the table of such hooks full, it cannot, and no
 * pool can be made. */
static int init_with_exit_table_full(void)
{
	while (ct__before_exit_wait(nothing_before_exit) == 0)
		;
	ct_executor_t ex;
	int rc = ct_executor_init(&ex, NULL);
	CHECK(ex.ct__impl == NULL);
	CHECK_RC(ct_executor_init(&ex, NULL), rc);
	return rc;
}

static int shutdown_in_own_task(void)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	self_pool = &ex;
	ct_future_t *f = submit(&ex, shut_own_pool, NULL);
	int rc = ct_future_result(f, CT_FOREVER, NULL);
	ct_future_release(f);
	ct_executor_destroy(&ex);
	return rc;
}

/* Beyond Python: the wait of a shutdown has a bound. The pool is shut
 * down at once; the running task goes on, and a later wait ends it. */
TEST(shutdown_timeout_expires_while_a_task_runs)
{
	ct_executor_t ex;
	struct gate a;
	ct_future_t *fa = one_busy_worker(&ex, &a, 0, NULL);
	ct_future_t *fb = submit(&ex, square, (void *)3);
	double t0 = ht_now();
	CHECK_RC(ct_executor_shutdown_timeout(&ex, false, 0.05), CT_ETIMEDOUT);
	CHECK(ht_now() - t0 >= 0.05);
	CHECK_RC(ct_executor_submit(&ex, square, NULL, NULL), CT_ESHUTDOWN);
	CHECK(!ct_future_done(fa));
	CHECK_RC(ct_executor_shutdown_timeout(&ex, false, 0), CT_ETIMEDOUT);
	ct_event_set(&a.go);
	CHECK_OK(ct_executor_shutdown_timeout(&ex, false, CT_FOREVER));
	CHECK_EQ(ct_active_count(), 1);
	void *v;
	CHECK_OK(ct_future_result(fb, 0, &v)); /* queued work still ran */
	CHECK_EQ((intptr_t)v, 9);
	ct_future_release(fa);
	ct_future_release(fb);
	ct_executor_destroy(&ex);
}

TEST(shutdown_timeout_of_an_idle_pool_returns_at_once)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	ct_future_t *f = submit(&ex, square, (void *)2);
	void *v;
	CHECK_OK(ct_future_result(f, CT_FOREVER, &v));
	ct_future_release(f);
	/* The worker ends once it sees the shutdown: a short bound is met. */
	CHECK_OK(ct_executor_shutdown_timeout(&ex, true, 10));
	CHECK_OK(ct_executor_shutdown_timeout(&ex, false, 0));
	ct_executor_destroy(&ex);
}

static int shutdown_timeout_with(double timeout)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	int rc = ct_executor_shutdown_timeout(&ex, false, timeout);
	ct_executor_destroy(&ex);
	return rc;
}

MISUSE(init_null, CT_EINVAL, "invalid argument", ct_executor_init(NULL, NULL))
MISUSE(init_negative_max_workers, CT_EINVAL, "invalid argument", init_with_max(-1))
MISUSE(submit_null_executor, CT_EINVAL, "invalid argument",
       ct_executor_submit(NULL, square, NULL, NULL))
MISUSE(submit_null_task, CT_EINVAL, "invalid argument", submit_null_fn())
MISUSE(submit_after_shutdown, CT_ESHUTDOWN, "shut down: no new items or tasks are accepted",
       submit_after_shutdown())
MISUSE(submit_to_broken_pool, CT_EBROKEN,
       "broken: a barrier was reset, aborted or timed out, or a pool initializer failed",
       submit_to_broken_pool())
MISUSE(map_null_executor, CT_EINVAL, "invalid argument",
       ct_executor_map(NULL, square, NULL, 0, CT_FOREVER, NULL, NULL))
MISUSE(map_null_args, CT_EINVAL, "invalid argument", map_with(NULL, 3, CT_FOREVER))
MISUSE(map_null_task, CT_EINVAL, "invalid argument", map_null_fn())
MISUSE(map_too_many_items, CT_ENOMEM, "out of memory", map_with((void *[]){NULL}, SIZE_MAX / 2, 0))
MISUSE(init_without_the_exit_hook, CT_ENOMEM, "out of memory", init_with_exit_table_full())
MISUSE(map_nan_timeout, CT_EINVAL, "invalid argument", map_with((void *[]){NULL}, 1, NAN))
MISUSE(map_timeout_too_large, CT_ETOOLARGE, "timeout value is too large",
       map_with((void *[]){NULL}, 1, CT_TIMEOUT_MAX * 2))
MISUSE(shutdown_null, CT_EINVAL, "invalid argument", ct_executor_shutdown(NULL, true, false))
MISUSE(shutdown_timeout_null, CT_EINVAL, "invalid argument",
       ct_executor_shutdown_timeout(NULL, false, 1))
MISUSE(shutdown_timeout_nan, CT_EINVAL, "invalid argument", shutdown_timeout_with(NAN))
MISUSE(shutdown_timeout_too_large, CT_ETOOLARGE, "timeout value is too large",
       shutdown_timeout_with(CT_TIMEOUT_MAX * 2))
MISUSE(shutdown_wait_in_own_task, CT_EJOINSELF, "cannot join current thread",
       shutdown_in_own_task())

/* ---- fork ------------------------------------------------------------------ */

#include <sys/wait.h>

/* ThreadSanitizer does not support threads started after a fork: there
 * the case only checks the pool before forking. */
#if defined(__SANITIZE_THREAD__)
#define FORK_WORKS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FORK_WORKS 0
#endif
#endif
#ifndef FORK_WORKS
#define FORK_WORKS 1
#endif

/* In a fork child a pool has no worker left; the work its parent had
 * queued is started by a shutdown, or, if no worker can start there, ends
 * with CT_EBROKEN instead of waiting for workers that are gone. */
TEST(fork_child_shutdown_breaks_queued_work_if_no_worker_starts)
{
	ct_executor_t ex;
	struct gate a;
	ct_future_t *fa = one_busy_worker(&ex, &a, 0, NULL);
	ct_future_t *fb = submit(&ex, square, (void *)3);
	pid_t pid = FORK_WORKS ? fork() : -1;
	if (pid == 0) {
		ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 1000);
		int ok = ct_executor_shutdown(&ex, false, false) == 0 &&
			 ct_future_result(fb, 0, NULL) == CT_EBROKEN && !ct_future_done(fa);
		HT_CHILD_EXIT(ok ? 0 : 1);
	}
	if (FORK_WORKS) {
		int status;
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ct_event_set(&a.go);
	void *v = NULL;
	CHECK_OK(ct_future_result(fb, CT_FOREVER, &v));
	CHECK_EQ((intptr_t)v, 9);
	ct_future_release(fa);
	ct_future_release(fb);
	ct_executor_destroy(&ex);
}

/* A pool used before fork() works in the child: new workers start there. */
TEST(pool_works_in_a_fork_child)
{
	ht_need_threads_after_fork();
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	run_one(&ex, square, (void *)3);
	pid_t pid = FORK_WORKS ? fork() : -1;
	if (pid == 0) {
		ct_future_t *g = NULL;
		void *v = NULL;
		int ok = ct_executor_submit(&ex, square, (void *)4, &g) == 0 &&
			 ct_future_result(g, 10.0, &v) == 0 && (intptr_t)v == 16;
		ct_future_release(g);
		ct_executor_destroy(&ex);
		ct_executor_t other;
		ok = ok && ct_executor_init(&other, NULL) == 0;
		ct_executor_destroy(&other);
		HT_CHILD_EXIT(ok ? 0 : 1);
	}
	if (FORK_WORKS) {
		int status;
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ct_executor_destroy(&ex);
}
