/* CPython's Lib/test/test_concurrent_futures/ (the thread half), ported to
 * C: executor.py and test_thread_pool.py (threadpoolexecutortest_),
 * test_shutdown.py (threadpoolshutdowntest_), test_wait.py
 * (threadpoolwaittest_), test_as_completed.py (threadpoolascompletedtest_),
 * test_future.py (futuretests_) and test_init.py
 * (threadpoolinitializertest_, threadpoolfailinginitializertest_), named
 * after the classes create_executor_tests() makes for ThreadPoolMixin.
 * Scripts run in a fresh interpreter are modes of
 * tests/programs/cpython_futures.c. Each case makes its own pool of
 * worker_count (5) workers, as ExecutorMixin.setUp does.
 *
 * util.py's ready-made futures (PENDING_FUTURE, ...) are built with
 * ct_future_new() and its setters. Tasks that sleep in the originals
 * ("time.sleep(1.5)") here wait on a gate the case opens once the main
 * thread is parked in the wait under test.
 *
 * Not ported, and why:
 *   ExecutorTest.test_submit_keyword     keyword arguments; a task gets one
 *                                        void *.
 *   ExecutorTest.test_no_stale_references, test_free_reference,
 *   AsCompletedTests.test_free_reference_yielded_future
 *                                        weak references (GC); here a
 *                                        future lives until released, and
 *                                        as_completed holds its futures
 *                                        until destroyed (documented).
 *   ThreadPoolExecutorTest.test_hang_global_shutdown_lock
 *                                        ProcessPoolExecutor.
 *   ThreadPoolShutdownTest.test_del_shutdown
 *                                        `del executor` (garbage
 *                                        collection); the end of a C
 *                                        executor is ct_executor_destroy,
 *                                        covered by
 *                                        test_context_manager_shutdown.
 *   FutureTests.test_done_callback_raises,
 *   test_done_callback_raises_already_succeeded
 *                                        a callback that raises: C
 *                                        callbacks cannot.
 *   FutureTests.test_repr                __repr__.
 *   test_pool.py (test_map_buffersize)   map(buffersize=), Python 3.14: no
 *                                        counterpart (docs/python-to-c.md).
 *   test_deadlock.py, test_process_pool.py, test_interpreter_pool.py, and
 *   every ProcessPool* class               process and interpreter pools.
 * Also left out inside ported methods: map(chunksize=3) (no counterpart).
 */
#include <sched.h>
#include <stdint.h>
#include <sys/wait.h>

#include "cpython_helpers.h"
#include "executor_helpers.h"

#define WORKER_COUNT 5
#define FUTURES_PROG "cpython_futures"
#define EXC_STATUS 5 /* OSError() of EXCEPTION_FUTURE */

static ct_executor_t *make_pool(int max_workers)
{
	return new_pool(max_workers);
}

/* ---- util.py's futures --------------------------------------------------- */

enum fstate { PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, EXCEPTION, SUCCESSFUL };

static ct_future_t *create_future(enum fstate state)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	switch (state) {
	case PENDING:
		break;
	case RUNNING:
		CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
		break;
	case CANCELLED: /* cancelled, its waiters not yet told (no worker took it) */
		CHECK(ct_future_cancel(f));
		break;
	case CANCELLED_AND_NOTIFIED:
		CHECK(ct_future_cancel(f));
		CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 0);
		break;
	case EXCEPTION:
		CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
		CHECK_OK(ct_future_set_exception(f, EXC_STATUS));
		break;
	case SUCCESSFUL:
		CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
		CHECK_OK(ct_future_set_result(f, (void *)(intptr_t)42));
		break;
	}
	return f;
}

/* ---- tasks ------------------------------------------------------------------ */

/* pow(2, arg) */
static int pow2(void *arg, void **result)
{
	*result = (void *)((intptr_t)1 << (intptr_t)arg);
	return 0;
}

/* pow(i, i) */
static int pow_self(void *arg, void **result)
{
	intptr_t x = (intptr_t)arg, r = 1;
	for (intptr_t i = 0; i < x; i++)
		r *= x;
	*result = (void *)r;
	return 0;
}

/* abs(x) */
static int abs_task(void *arg, void **result)
{
	intptr_t x = (intptr_t)arg;
	*result = (void *)(x < 0 ? -x : x);
	return 0;
}

#define ZERO_DIVISION 33

/* divmod(1, x): the remainder as the value; ZeroDivisionError for 0. */
static int divmod_1(void *arg, void **result)
{
	intptr_t x = (intptr_t)arg;
	if (x == 0)
		return ZERO_DIVISION;
	*result = (void *)(1 % x);
	return 0;
}

/* time.sleep(arg): 0 returns at once; a gate waits until opened. */
static int sleep_task(void *arg, void **result)
{
	*result = NULL;
	if (arg)
		ct_event_wait(&((struct gate *)arg)->go, CT_FOREVER);
	return 0;
}

static int wait_on_event(void *arg, void **result)
{
	(void)result;
	return ct_event_wait(arg, CT_FOREVER);
}

static int acquire_sem(void *arg, void **result)
{
	(void)result;
	return ct_semaphore_acquire(arg, CT_FOREVER);
}

/* Opens a gate once a thread is parked (in the wait under test). */
struct opener {
	ct_event_t *go;
	ct_thread_t *waiter;
};

static int open_when_parked(void *arg)
{
	struct opener *o = arg;
	ht_wait_parked(o->waiter);
	ct_event_set(o->go);
	return 0;
}

static ct_thread_t *open_gate_when_main_parked(struct opener *o, struct gate *g)
{
	o->go = &g->go;
	o->waiter = ct_main_thread();
	return cp_start(open_when_parked, o);
}

static void release_all(ct_future_t **fs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ct_future_release(fs[i]);
}

/* ==== ExecutorTest / ThreadPoolExecutorTest ================================= */

TEST(threadpoolexecutortest_submit)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	ct_future_t *f = submit(ex, pow2, (void *)8);
	void *v;
	CHECK_OK(ct_future_result(f, CT_FOREVER, &v));
	CHECK_EQ((intptr_t)v, 256);
	ct_future_release(f);
	ct_executor_destroy(ex);
}

TEST(threadpoolexecutortest_map)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	void *args[10], *results[10];
	for (intptr_t i = 0; i < 10; i++)
		args[i] = (void *)i;
	CHECK_OK(ct_executor_map(ex, pow_self, args, 10, CT_FOREVER, results, NULL));
	for (intptr_t i = 0; i < 10; i++) {
		void *want;
		pow_self((void *)i, &want);
		CHECK_EQ((intptr_t)results[i], (intptr_t)want);
	}
	ct_executor_destroy(ex);
}

TEST(threadpoolexecutortest_map_exception)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	void *args[4] = {(void *)2, (void *)3, (void *)0, (void *)5};
	void *results[4] = {NULL};
	/* The first two items, then the ZeroDivisionError of the third. */
	CHECK_RC(ct_executor_map(ex, divmod_1, args, 4, CT_FOREVER, results, NULL), ZERO_DIVISION);
	CHECK_EQ((intptr_t)results[0], 1);
	CHECK_EQ((intptr_t)results[1], 1);
	ct_executor_destroy(ex);
}

TEST(threadpoolexecutortest_map_timeout)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	struct gate g;
	gate_init(&g, 0, NULL);
	/* map(time.sleep, [0, 0, 6], timeout=5): the third outlasts it. */
	void *args[3] = {NULL, NULL, &g};
	void *results[3] = {(void *)1, (void *)1, (void *)1};
	double t0 = ht_now();
	CHECK_RC(ct_executor_map(ex, sleep_task, args, 3, 0.5, results, NULL), CT_ETIMEDOUT);
	CP_CHECK_NOT_EARLY(t0, 0.5);
	/* [None, None], the values before the item that timed out; on a
	 * machine too slow for the two sleep(0) items to be done within the
	 * timeout, the values stop at the first of them not done in time
	 * (the timeout hit that one). Item 2 never has a value. */
	size_t done = 0;
	while (done < 2 && results[done] == NULL)
		done++;
	for (size_t i = done; i < 3; i++)
		CHECK(results[i] == (void *)1);
	ct_event_set(&g.go);
	ct_executor_destroy(ex);
}

static int to_str(void *arg, void **result)
{
	*result = arg;
	return 0;
}

/* Issue #12456: shutdown right after a map. */
TEST(threadpoolexecutortest_shutdown_race_issue12456)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	void *args[WORKER_COUNT + 1] = {NULL};
	for (int i = 0; i < WORKER_COUNT + 1; i++)
		args[i] = (void *)2;
	CHECK_OK(ct_executor_map(ex, to_str, args, WORKER_COUNT + 1, CT_FOREVER, NULL, NULL));
	CHECK_OK(ct_executor_shutdown(ex, true, false));
	ct_executor_destroy(ex);
}

/* Python: max_workers 0 or -1 is ValueError. Here 0 means Python's default
 * (min(32, CPUs + 4), documented in executor.h) and -1 is CT_EINVAL. */
TEST(threadpoolexecutortest_max_workers_negative)
{
	ct_executor_t ex;
	CHECK_RC(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = -1}), CT_EINVAL);
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 0}));
	CHECK(ct_executor_max_workers(&ex) > 0);
	ct_executor_destroy(&ex);
}

/* Issue 11777: map submits everything without being iterated. C's map
 * returns when all is done, so the port checks every item ran by the end
 * of the shutdown. */
TEST(threadpoolexecutortest_map_submits_without_iteration)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	atomic_long finished = 0;
	void *args[10];
	for (int i = 0; i < 10; i++)
		args[i] = &finished;
	CHECK_OK(ct_executor_map(ex, count_call, args, 10, CT_FOREVER, NULL, NULL));
	CHECK_OK(ct_executor_shutdown(ex, true, false));
	CHECK_EQ(atomic_load(&finished), 10);
	ct_executor_destroy(ex);
}

TEST(threadpoolexecutortest_default_workers)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	cpu_set_t set;
	CHECK_EQ(sched_getaffinity(0, sizeof set, &set), 0);
	int cpus = CPU_COUNT(&set); /* os.process_cpu_count() */
	int expected = cpus + 4 < 32 ? cpus + 4 : 32;
	CHECK_EQ(ct_executor_max_workers(&ex), expected);
	ct_executor_destroy(&ex);
}

TEST(threadpoolexecutortest_saturation)
{
	ct_executor_t *ex = make_pool(4);
	ct_semaphore_t sem = CT_SEMAPHORE_INIT(0);
	int n = 15 * ct_executor_max_workers(ex);
	for (int i = 0; i < n; i++)
		CHECK_OK(ct_executor_submit(ex, acquire_sem, &sem, NULL));
	CHECK_EQ(ct_executor_workers(ex), ct_executor_max_workers(ex));
	for (int i = 0; i < n; i++)
		CHECK_OK(ct_semaphore_release(&sem, 1));
	CHECK_OK(ct_executor_shutdown(ex, true, false));
	ct_executor_destroy(ex);
}

TEST(threadpoolexecutortest_idle_thread_reuse)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, NULL));
	CHECK_EQ((intptr_t)run_one(&ex, square, (void *)6), 36);
	CHECK_EQ((intptr_t)run_one(&ex, square, (void *)7), 49);
	CHECK_EQ((intptr_t)run_one(&ex, square, (void *)8), 64);
	CHECK_EQ(ct_executor_workers(&ex), 1);
	CHECK_OK(ct_executor_shutdown(&ex, true, false));
	ct_executor_destroy(&ex);
}

/* LeakSanitizer, in a fork child, cannot see the stacks of the parent's
 * other threads, so what only they point to looks leaked: the child skips
 * the leak check (a weak hook LSan calls; unused otherwise). */
static volatile int forked_child;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return forked_child;
}

/* bpo-43944: a process forked from a pool task exits normally: its exit
 * does not wait for the parent's workers. */
static int fork_process_and_return_exitcode(void *arg, void **result)
{
	(void)arg;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		alarm(30); /* a hang fails with SIGALRM */
		forked_child = 1;
		exit(0); /* the full exit, exit rule included */
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return 2;
	*result = (void *)(intptr_t)(WIFEXITED(status) ? WEXITSTATUS(status)
						       : 128 + WTERMSIG(status));
	return 0;
}

TEST(threadpoolexecutortest_process_fork_from_a_threadpool)
{
	ct_executor_t *ex = make_pool(1);
	CHECK_EQ((intptr_t)run_one(ex, fork_process_and_return_exitcode, NULL), 0);
	ct_executor_destroy(ex);
}

struct log {
	ct_lock_t lock;
	char lines[8][32];
	int n;
	ct_event_t stop_event, first_started;
};

struct log_arg {
	struct log *log;
	const char *ident;
};

static void log_add(struct log *l, const char *ident, const char *what)
{
	CT_WITH_LOCK(&l->lock)
	{
		if (l->n < 8)
			snprintf(l->lines[l->n++], sizeof l->lines[0], "%s %s", ident, what);
	}
}

static int log_n_wait(void *arg, void **result)
{
	struct log_arg *a = arg;
	(void)result;
	log_add(a->log, a->ident, "started");
	ct_event_set(&a->log->first_started);
	ct_event_wait(&a->log->stop_event, CT_FOREVER);
	log_add(a->log, a->ident, "stopped");
	return 0;
}

TEST(threadpoolexecutortest_executor_map_current_future_cancel)
{
	struct log l = {.lock = CT_LOCK_INIT, .n = 0};
	ct_event_init(&l.stop_event);
	ct_event_init(&l.first_started);
	ct_executor_t *ex = make_pool(1);
	/* Saturate the pool. */
	struct log_arg first = {&l, "first"}, second = {&l, "second"}, third = {&l, "third"};
	ct_future_t *fut = submit(ex, log_n_wait, &first);
	CHECK_OK(ct_event_wait(&l.first_started, CT_FOREVER));
	void *args[2] = {&second, &third};
	CHECK_RC(ct_executor_map(ex, log_n_wait, args, 2, 0, NULL, NULL), CT_ETIMEDOUT);
	ct_event_set(&l.stop_event);
	CHECK_OK(ct_future_result(fut, CT_FOREVER, NULL));
	ct_future_release(fut);
	ct_executor_destroy(ex);
	/* "second" was cancelled by the timeout, "third" with the rest. */
	CHECK_EQ(l.n, 2);
	CHECK_STR(l.lines[0], "first started");
	CHECK_STR(l.lines[1], "first stopped");
}

/* ==== ThreadPoolShutdownTest ================================================= */

TEST(threadpoolshutdowntest_run_after_shutdown)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	CHECK_OK(ct_executor_shutdown(ex, true, false));
	CHECK_RC(ct_executor_submit(ex, pow2, (void *)5, NULL), CT_ESHUTDOWN);
	ct_executor_destroy(ex);
}

TEST(threadpoolshutdowntest_interpreter_shutdown)
{
	cp_check_mode(FUTURES_PROG, "interpreter_shutdown", "apple\n");
}

TEST(threadpoolshutdowntest_submit_after_interpreter_shutdown)
{
	cp_check_mode(FUTURES_PROG, "submit_after_interpreter_shutdown", "runtime-error\n");
}

static int yield_task(void *arg, void **result)
{
	(void)arg;
	(void)result;
	sched_yield();
	return 0;
}

TEST(threadpoolshutdowntest_hang_issue12364)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	ct_future_t *fs[50];
	for (int i = 0; i < 50; i++)
		fs[i] = submit(ex, yield_task, NULL);
	CHECK_OK(ct_executor_shutdown(ex, true, false));
	for (int i = 0; i < 50; i++)
		CHECK_OK(ct_future_result(fs[i], CT_FOREVER, NULL));
	release_all(fs, 50);
	ct_executor_destroy(ex);
}

struct cancel_watch {
	ct_future_t *last;
	ct_event_t *go;
};

/* Lets the running tasks end once the shutdown has cancelled the queue. */
static int open_after_cancel(void *arg)
{
	struct cancel_watch *w = arg;
	ct_poll_until(ct_future_cancelled(w->last));
	ct_event_set(w->go);
	return 0;
}

static int count_then_wait(void *arg, void **result)
{
	struct gate *g = arg;
	(void)result;
	atomic_fetch_add(&g->runs, 1);
	return ct_event_wait(&g->go, CT_FOREVER);
}

TEST(threadpoolshutdowntest_cancel_futures)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	struct gate g;
	gate_init(&g, 0, NULL);
	ct_future_t *fs[50];
	for (int i = 0; i < 50; i++)
		fs[i] = submit(ex, count_then_wait, &g);
	ct_poll_until(atomic_load(&g.runs) == WORKER_COUNT);
	struct cancel_watch w = {.last = fs[49], .go = &g.go};
	ct_thread_t *t = cp_start(open_after_cancel, &w);
	CHECK_OK(ct_executor_shutdown(ex, true, true));
	cp_join(t);
	int cancelled = 0, others = 0;
	for (int i = 0; i < 50; i++) {
		if (ct_future_cancelled(fs[i])) {
			cancelled++;
			continue;
		}
		others++;
		CHECK(ct_future_done(fs[i]));
		int status = -1;
		CHECK_OK(ct_future_exception(fs[i], CT_FOREVER, &status));
		CHECK_EQ(status, 0); /* exception() is None */
	}
	CHECK(cancelled > 20);
	CHECK(others > 0);
	release_all(fs, 50);
	ct_executor_destroy(ex);
}

TEST(threadpoolshutdowntest_hang_gh83386)
{
	cp_check_mode(FUTURES_PROG, "hang_gh83386", "apple\n");
}

/* gh-94440: shutdown(wait=True) right after a submit and a cancel. */
TEST(threadpoolshutdowntest_hang_gh94440)
{
	ct_executor_t *ex = make_pool(1);
	(void)run_one(ex, square, (void *)0);
	ct_future_t *f = submit(ex, square, (void *)0);
	(void)ct_future_cancel(f);
	CHECK_OK(ct_executor_shutdown(ex, true, false));
	ct_future_release(f);
	ct_executor_destroy(ex);
}

TEST(threadpoolshutdowntest_threads_terminate)
{
	size_t before = ct_active_count();
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	ct_semaphore_t sem = CT_SEMAPHORE_INIT(0);
	for (int i = 0; i < 3; i++)
		CHECK_OK(ct_executor_submit(ex, acquire_sem, &sem, NULL));
	CHECK_EQ(ct_executor_workers(ex), 3);
	for (int i = 0; i < 3; i++)
		CHECK_OK(ct_semaphore_release(&sem, 1));
	CHECK_OK(ct_executor_shutdown(ex, true, false));
	/* "for t in executor._threads: t.join()": every worker has ended. */
	CHECK_EQ(ct_active_count(), before);
	ct_executor_destroy(ex);
}

static void map_abs(ct_executor_t *ex)
{
	void *args[10], *results[10];
	for (intptr_t i = 0; i < 10; i++)
		args[i] = (void *)(i - 5);
	CHECK_OK(ct_executor_map(ex, abs_task, args, 10, CT_FOREVER, results, NULL));
	static const intptr_t want[10] = {5, 4, 3, 2, 1, 0, 1, 2, 3, 4};
	for (int i = 0; i < 10; i++)
		CHECK_EQ((intptr_t)results[i], want[i]);
}

/* `with ThreadPoolExecutor(5) as e:` ... the end of the block (destroy) has
 * joined every worker. Python checks it once; the block is repeated here
 * so that a worker outliving the end now and then fails the case. */
TEST(threadpoolshutdowntest_context_manager_shutdown)
{
	size_t before = ct_active_count();
	for (int round = 0; round < 20; round++) {
		ct_executor_t ex;
		CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 5}));
		map_abs(&ex);
		ct_executor_destroy(&ex);
		size_t after = ct_active_count();
		if (after != before)
			ht_fail(__FILE__, __LINE__,
				"round %d: %zu threads alive after the end of the block, %zu "
				"before",
				round, after, before);
	}
}

/* shutdown(wait=False): the workers still end by themselves. */
TEST(threadpoolshutdowntest_shutdown_no_wait)
{
	size_t before = ct_active_count();
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 5}));
	map_abs(&ex);
	CHECK_OK(ct_executor_shutdown(&ex, false, false));
	ct_poll_until(ct_active_count() == before);
	ct_executor_destroy(&ex);
}

struct names {
	char list[64][64];
	int n;
	const char *prefix;
};

static void collect_names(ct_thread_t *t, void *arg)
{
	struct names *n = arg;
	const char *name = ct_thread_name(t);
	if (n->n < 64 && strncmp(name, n->prefix, strlen(n->prefix)) == 0)
		snprintf(n->list[n->n++], sizeof n->list[0], "%s", name);
}

TEST(threadpoolshutdowntest_thread_names_assigned)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(
		&ex, &(ct_executor_opts){.max_workers = 5, .thread_name_prefix = "SpecialPool"}));
	map_abs(&ex);
	struct names n = {.n = 0, .prefix = "SpecialPool"};
	ct_enumerate(collect_names, &n);
	CHECK(n.n >= 1);
	for (int i = 0; i < n.n; i++) {
		/* ^SpecialPool_[0-4]$ */
		const char *s = n.list[i];
		CHECK(strlen(s) == strlen("SpecialPool_0"));
		CHECK(strncmp(s, "SpecialPool_", 12) == 0);
		CHECK(s[12] >= '0' && s[12] <= '4');
	}
	ct_executor_destroy(&ex);
}

TEST(threadpoolshutdowntest_thread_names_default)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 5}));
	map_abs(&ex);
	struct names n = {.n = 0, .prefix = "ThreadPoolExecutor-"};
	ct_enumerate(collect_names, &n);
	CHECK(n.n >= 1);
	for (int i = 0; i < n.n; i++) {
		/* ThreadPoolExecutor-\d+_[0-4]$ */
		unsigned k, w;
		int end = 0;
		const char *s = n.list[i];
		CHECK(sscanf(s, "ThreadPoolExecutor-%u_%u%n", &k, &w, &end) == 2);
		CHECK_EQ(end, (int)strlen(s));
		CHECK(w <= 4);
		CHECK(s[strlen(s) - 2] == '_');
	}
	ct_executor_destroy(&ex);
}

TEST(threadpoolshutdowntest_cancel_futures_wait_false)
{
	char *out, *err;
	cp_run_mode(FUTURES_PROG, "cancel_futures_wait_false", 0, &out, &err);
	CHECK_STR(err, "");
	/* gh-116682: empty if the shutdown came before the task started. */
	CHECK(strcmp(out, "apple\n") == 0 || strcmp(out, "") == 0);
	free(out);
	free(err);
}

/* ==== ThreadPoolWaitTest ===================================================== */

/* issue 20369: a future given twice. */
TEST(threadpoolwaittest_20369)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	struct gate g;
	ct_future_t *future = submit_started(ex, &g, 0, NULL);
	struct opener o;
	ct_thread_t *t = open_gate_when_main_parked(&o, &g);
	ct_future_t *fs[2] = {future, future};
	bool done[2] = {false, false};
	CHECK_OK(ct_wait(fs, 2, CT_FOREVER, CT_ALL_COMPLETED, done));
	CHECK(done[0] && done[1]);
	cp_join(t);
	ct_future_release(future);
	ct_executor_destroy(ex);
}

/* Python: done {future1}, not_done {CANCELLED_FUTURE, future2}. Here a
 * cancelled future counts as done at once, notified or not (documented for
 * ct_future_cancel), so CANCELLED_FUTURE is done too. future1 is waited for
 * first so that the answer does not depend on its speed. */
TEST(threadpoolwaittest_first_completed)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	ct_future_t *cancelled = create_future(CANCELLED);
	ct_future_t *future1 = submit(ex, square, (void *)21);
	struct gate g;
	ct_future_t *future2 = submit_started(ex, &g, 0, NULL);
	CHECK_OK(ct_future_result(future1, CT_FOREVER, NULL));
	ct_future_t *fs[3] = {cancelled, future1, future2};
	bool done[3];
	CHECK_OK(ct_wait(fs, 3, CT_FOREVER, CT_FIRST_COMPLETED, done));
	CHECK(done[0]); /* documented difference */
	CHECK(done[1]);
	CHECK(!done[2]);
	ct_event_set(&g.go);
	release_all(fs, 3);
	ct_executor_destroy(ex);
}

TEST(threadpoolwaittest_first_completed_some_already_completed)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	struct gate g;
	ct_future_t *future1 = submit_started(ex, &g, 0, NULL);
	ct_future_t *fs[3] = {create_future(CANCELLED_AND_NOTIFIED), create_future(SUCCESSFUL),
			      future1};
	bool done[3];
	CHECK_OK(ct_wait(fs, 3, CT_FOREVER, CT_FIRST_COMPLETED, done));
	CHECK(done[0] && done[1]);
	CHECK(!done[2]);
	ct_event_set(&g.go);
	release_all(fs, 3);
	ct_executor_destroy(ex);
}

TEST(threadpoolwaittest_first_exception)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	ct_future_t *future1 = submit(ex, square, (void *)21);
	struct gate g2, g3;
	ct_future_t *future2 = submit_started(ex, &g2, 9, NULL); /* sleep_and_raise */
	ct_future_t *future3 = submit_started(ex, &g3, 0, NULL);
	CHECK_OK(ct_future_result(future1, CT_FOREVER, NULL));
	struct opener o;
	ct_thread_t *t = open_gate_when_main_parked(&o, &g2);
	ct_future_t *fs[3] = {future1, future2, future3};
	bool done[3];
	CHECK_OK(ct_wait(fs, 3, CT_FOREVER, CT_FIRST_EXCEPTION, done));
	CHECK(done[0] && done[1]);
	CHECK(!done[2]);
	cp_join(t);
	ct_event_set(&g3.go);
	release_all(fs, 3);
	ct_executor_destroy(ex);
}

/* Python: finished {SUCCESSFUL, CANCELLED_AND_NOTIFIED, future1}, pending
 * {CANCELLED, future2}; here CANCELLED counts as done (documented). */
TEST(threadpoolwaittest_first_exception_some_already_complete)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	ct_future_t *future1 = submit(ex, fail_with, (void *)ZERO_DIVISION); /* divmod(21, 0) */
	struct gate g;
	ct_future_t *future2 = submit_started(ex, &g, 0, NULL);
	ct_future_t *fs[5] = {create_future(SUCCESSFUL), create_future(CANCELLED),
			      create_future(CANCELLED_AND_NOTIFIED), future1, future2};
	bool done[5];
	CHECK_OK(ct_wait(fs, 5, CT_FOREVER, CT_FIRST_EXCEPTION, done));
	CHECK(done[0]);
	CHECK(done[1]); /* documented difference */
	CHECK(done[2]);
	CHECK(done[3]);
	CHECK(!done[4]);
	ct_event_set(&g.go);
	release_all(fs, 5);
	ct_executor_destroy(ex);
}

TEST(threadpoolwaittest_first_exception_one_already_failed)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	struct gate g;
	ct_future_t *future1 = submit_started(ex, &g, 0, NULL);
	ct_future_t *fs[2] = {create_future(EXCEPTION), future1};
	bool done[2];
	CHECK_OK(ct_wait(fs, 2, CT_FOREVER, CT_FIRST_EXCEPTION, done));
	CHECK(done[0]);
	CHECK(!done[1]);
	ct_event_set(&g.go);
	release_all(fs, 2);
	ct_executor_destroy(ex);
}

TEST(threadpoolwaittest_all_completed)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	ct_future_t *future1 = submit(ex, fail_with, (void *)ZERO_DIVISION); /* divmod(2, 0) */
	ct_future_t *future2 = submit(ex, square, (void *)21);
	ct_future_t *fs[5] = {create_future(SUCCESSFUL), create_future(CANCELLED_AND_NOTIFIED),
			      create_future(EXCEPTION), future1, future2};
	bool done[5];
	CHECK_OK(ct_wait(fs, 5, CT_FOREVER, CT_ALL_COMPLETED, done));
	for (int i = 0; i < 5; i++)
		CHECK(done[i]);
	release_all(fs, 5);
	ct_executor_destroy(ex);
}

TEST(threadpoolwaittest_timeout)
{
	double short_timeout = 0.050;
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	struct gate g;
	ct_future_t *future = submit_started(ex, &g, 0, NULL);
	ct_future_t *fs[4] = {create_future(CANCELLED_AND_NOTIFIED), create_future(EXCEPTION),
			      create_future(SUCCESSFUL), future};
	bool done[4];
	double t0 = ht_now();
	CHECK_RC(ct_wait(fs, 4, short_timeout, CT_ALL_COMPLETED, done), CT_ETIMEDOUT);
	CP_CHECK_NOT_EARLY(t0, short_timeout);
	CHECK(done[0] && done[1] && done[2]);
	CHECK(!done[3]);
	ct_event_set(&g.go);
	release_all(fs, 4);
	ct_executor_destroy(ex);
}

/* Issue #14406: many futures completing while waited on. */
TEST(threadpoolwaittest_pending_calls_race)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	ct_event_t event = CT_EVENT_INIT;
	ct_future_t *fs[100];
	for (int i = 0; i < 100; i++)
		fs[i] = submit(ex, wait_on_event, &event);
	ct_event_set(&event);
	CHECK_OK(ct_wait(fs, 100, CT_FOREVER, CT_ALL_COMPLETED, NULL));
	release_all(fs, 100);
	ct_executor_destroy(ex);
}

/* ==== ThreadPoolAsCompletedTest =============================================== */

/* Collects what an as_completed iteration yields until its end or an
 * error; returns that error (0 at the end). */
static int drain(ct_as_completed_t *it, ct_future_t **got, size_t *n)
{
	*n = 0;
	for (;;) {
		ct_future_t *f;
		int rc = ct_as_completed_next(it, &f);
		if (rc != 0)
			return rc;
		if (f == NULL)
			return 0;
		got[(*n)++] = f;
	}
}

static bool contains(ct_future_t **set, size_t n, const ct_future_t *f)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == f)
			return true;
	return false;
}

TEST(threadpoolascompletedtest_no_timeout)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	ct_future_t *fs[5] = {create_future(CANCELLED_AND_NOTIFIED), create_future(EXCEPTION),
			      create_future(SUCCESSFUL), submit(ex, square, (void *)21),
			      submit(ex, square, (void *)7)};
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, fs, 5, CT_FOREVER));
	ct_future_t *got[5];
	size_t n;
	CHECK_OK(drain(&it, got, &n));
	CHECK_EQ(n, 5);
	for (int i = 0; i < 5; i++)
		CHECK(contains(got, n, fs[i]));
	ct_as_completed_destroy(&it);
	release_all(fs, 5);
	ct_executor_destroy(ex);
}

TEST(threadpoolascompletedtest_zero_timeout)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	struct gate g;
	ct_future_t *fs[4] = {create_future(CANCELLED_AND_NOTIFIED), create_future(EXCEPTION),
			      create_future(SUCCESSFUL), submit_started(ex, &g, 0, NULL)};
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, fs, 4, 0));
	ct_future_t *got[4];
	size_t n;
	CHECK_RC(drain(&it, got, &n), CT_ETIMEDOUT);
	CHECK_EQ(n, 3);
	for (int i = 0; i < 3; i++)
		CHECK(contains(got, n, fs[i]));
	ct_as_completed_destroy(&it);
	ct_event_set(&g.go);
	release_all(fs, 4);
	ct_executor_destroy(ex);
}

/* Issue 20367: a future given three times is yielded once. */
TEST(threadpoolascompletedtest_duplicate_futures)
{
	ct_executor_t *ex = make_pool(WORKER_COUNT);
	struct gate g;
	ct_future_t *future1 = submit_started(ex, &g, 0, NULL);
	ct_future_t *fs[3] = {future1, future1, future1};
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, fs, 3, CT_FOREVER));
	struct opener o;
	ct_thread_t *t = open_gate_when_main_parked(&o, &g);
	ct_future_t *got[3];
	size_t n;
	CHECK_OK(drain(&it, got, &n));
	CHECK_EQ(n, 1);
	cp_join(t);
	ct_as_completed_destroy(&it);
	ct_future_release(future1);
	ct_executor_destroy(ex);
}

/* The TimeoutError says "2 (of 4) futures unfinished". */
TEST(threadpoolascompletedtest_correct_timeout_exception_msg)
{
	ct_future_t *fs[4] = {create_future(CANCELLED_AND_NOTIFIED), create_future(PENDING),
			      create_future(RUNNING), create_future(SUCCESSFUL)};
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, fs, 4, 0));
	ct_future_t *got[4];
	size_t n;
	CHECK_RC(drain(&it, got, &n), CT_ETIMEDOUT);
	CHECK_EQ(ct_as_completed_remaining(&it), 2);
	ct_as_completed_destroy(&it);
	release_all(fs, 4);
}

/* ==== FutureTests ============================================================= */

struct cb_probe {
	int calls;
	int rc;
	void *value;
	int status;
	bool cancelled;
};

static void cb_result(ct_future_t *f, void *arg)
{
	struct cb_probe *p = arg;
	p->calls++;
	p->rc = ct_future_result(f, 0, &p->value);
}

static void cb_exception(ct_future_t *f, void *arg)
{
	struct cb_probe *p = arg;
	p->calls++;
	p->rc = ct_future_exception(f, 0, &p->status);
}

static void cb_cancelled(ct_future_t *f, void *arg)
{
	struct cb_probe *p = arg;
	p->calls++;
	p->cancelled = ct_future_cancelled(f);
}

/* Python's set_result and set_exception also take a pending future; here
 * the future is set running first (documented for ct_future_set_result). */
static void finish(ct_future_t *f, bool ok, int status_or_value)
{
	CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
	if (ok)
		CHECK_OK(ct_future_set_result(f, (void *)(intptr_t)status_or_value));
	else
		CHECK_OK(ct_future_set_exception(f, status_or_value));
}

TEST(futuretests_done_callback_with_result)
{
	ct_future_t *f = create_future(PENDING);
	struct cb_probe p = {0};
	CHECK_OK(ct_future_add_done_callback(f, cb_result, &p));
	finish(f, true, 5);
	CHECK_EQ(p.calls, 1);
	CHECK_OK(p.rc);
	CHECK_EQ((intptr_t)p.value, 5);
	ct_future_release(f);
}

TEST(futuretests_done_callback_with_exception)
{
	ct_future_t *f = create_future(PENDING);
	struct cb_probe p = {0};
	CHECK_OK(ct_future_add_done_callback(f, cb_exception, &p));
	finish(f, false, 77); /* Exception('test') */
	CHECK_EQ(p.calls, 1);
	CHECK_OK(p.rc);
	CHECK_EQ(p.status, 77);
	ct_future_release(f);
}

TEST(futuretests_done_callback_with_cancel)
{
	ct_future_t *f = create_future(PENDING);
	struct cb_probe p = {0};
	CHECK_OK(ct_future_add_done_callback(f, cb_cancelled, &p));
	CHECK(ct_future_cancel(f));
	CHECK_EQ(p.calls, 1);
	CHECK(p.cancelled);
	ct_future_release(f);
}

TEST(futuretests_done_callback_already_successful)
{
	ct_future_t *f = create_future(PENDING);
	struct cb_probe p = {0};
	finish(f, true, 5);
	CHECK_OK(ct_future_add_done_callback(f, cb_result, &p));
	CHECK_EQ(p.calls, 1);
	CHECK_OK(p.rc);
	CHECK_EQ((intptr_t)p.value, 5);
	ct_future_release(f);
}

TEST(futuretests_done_callback_already_failed)
{
	ct_future_t *f = create_future(PENDING);
	struct cb_probe p = {0};
	finish(f, false, 77);
	CHECK_OK(ct_future_add_done_callback(f, cb_exception, &p));
	CHECK_EQ(p.calls, 1);
	CHECK_OK(p.rc);
	CHECK_EQ(p.status, 77);
	ct_future_release(f);
}

TEST(futuretests_done_callback_already_cancelled)
{
	ct_future_t *f = create_future(PENDING);
	struct cb_probe p = {0};
	CHECK(ct_future_cancel(f));
	CHECK_OK(ct_future_add_done_callback(f, cb_cancelled, &p));
	CHECK_EQ(p.calls, 1);
	CHECK(p.cancelled);
	ct_future_release(f);
}

/* The state is seen through cancelled(), running() and done(). */
TEST(futuretests_cancel)
{
	ct_future_t *f1 = create_future(PENDING);
	ct_future_t *f2 = create_future(RUNNING);
	ct_future_t *f3 = create_future(CANCELLED);
	ct_future_t *f4 = create_future(CANCELLED_AND_NOTIFIED);
	ct_future_t *f5 = create_future(EXCEPTION);
	ct_future_t *f6 = create_future(SUCCESSFUL);

	CHECK(ct_future_cancel(f1));
	CHECK(ct_future_cancelled(f1));

	CHECK(!ct_future_cancel(f2));
	CHECK(ct_future_running(f2));

	CHECK(ct_future_cancel(f3));
	CHECK(ct_future_cancelled(f3));

	CHECK(ct_future_cancel(f4));
	CHECK(ct_future_cancelled(f4));

	CHECK(!ct_future_cancel(f5));
	CHECK(ct_future_done(f5) && !ct_future_cancelled(f5));

	CHECK(!ct_future_cancel(f6));
	CHECK(ct_future_done(f6) && !ct_future_cancelled(f6));

	ct_future_t *fs[6] = {f1, f2, f3, f4, f5, f6};
	release_all(fs, 6);
}

/* PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, EXCEPTION, SUCCESSFUL */
static void check_table(bool (*probe)(const ct_future_t *), const bool want[6])
{
	for (int s = PENDING; s <= SUCCESSFUL; s++) {
		ct_future_t *f = create_future((enum fstate)s);
		if (probe(f) != want[s])
			ht_fail(__FILE__, __LINE__, "state %d: %d, expected %d", s, probe(f),
				want[s]);
		ct_future_release(f);
	}
}

TEST(futuretests_cancelled)
{
	check_table(ct_future_cancelled, (const bool[6]){false, false, true, true, false, false});
}

TEST(futuretests_done)
{
	check_table(ct_future_done, (const bool[6]){false, false, true, true, true, true});
}

TEST(futuretests_running)
{
	check_table(ct_future_running, (const bool[6]){false, true, false, false, false, false});
}

TEST(futuretests_result_with_timeout)
{
	static const int want[6] = {CT_ETIMEDOUT,  CT_ETIMEDOUT, CT_ECANCELLED,
				    CT_ECANCELLED, EXC_STATUS,	 0};
	for (int s = PENDING; s <= SUCCESSFUL; s++) {
		ct_future_t *f = create_future((enum fstate)s);
		void *v = NULL;
		CHECK_RC(ct_future_result(f, 0, &v), want[s]);
		if (s == SUCCESSFUL)
			CHECK_EQ((intptr_t)v, 42);
		ct_future_release(f);
	}
}

/* What a notifier thread does once the main thread waits. */
enum notify_kind { N_RESULT, N_CANCEL, N_EXCEPTION };

struct notifier {
	ct_future_t *f;
	enum notify_kind kind;
};

static int notification(void *arg)
{
	struct notifier *n = arg;
	ht_wait_parked(ct_main_thread()); /* the main thread is waiting */
	switch (n->kind) {
	case N_RESULT:
		finish(n->f, true, 42);
		break;
	case N_CANCEL:
		CHECK(ct_future_cancel(n->f));
		break;
	case N_EXCEPTION:
		finish(n->f, false, EXC_STATUS);
		break;
	}
	return 0;
}

TEST(futuretests_result_with_success)
{
	struct notifier n = {.f = create_future(PENDING), .kind = N_RESULT};
	ct_thread_t *t = cp_start(notification, &n);
	void *v = NULL;
	CHECK_OK(ct_future_result(n.f, 5, &v));
	CHECK_EQ((intptr_t)v, 42);
	cp_join(t);
	ct_future_release(n.f);
}

TEST(futuretests_result_with_cancel)
{
	struct notifier n = {.f = create_future(PENDING), .kind = N_CANCEL};
	ct_thread_t *t = cp_start(notification, &n);
	CHECK_RC(ct_future_result(n.f, 300, NULL), CT_ECANCELLED);
	cp_join(t);
	ct_future_release(n.f);
}

TEST(futuretests_exception_with_timeout)
{
	static const int want_rc[6] = {
		CT_ETIMEDOUT, CT_ETIMEDOUT, CT_ECANCELLED, CT_ECANCELLED, 0, 0};
	static const int want_status[6] = {0, 0, 0, 0, EXC_STATUS, 0};
	for (int s = PENDING; s <= SUCCESSFUL; s++) {
		ct_future_t *f = create_future((enum fstate)s);
		int status = -1;
		CHECK_RC(ct_future_exception(f, 0, &status), want_rc[s]);
		if (want_rc[s] == 0)
			CHECK_EQ(status, want_status[s]);
		ct_future_release(f);
	}
}

TEST(futuretests_exception_with_success)
{
	struct notifier n = {.f = create_future(PENDING), .kind = N_EXCEPTION};
	ct_thread_t *t = cp_start(notification, &n);
	int status = 0;
	CHECK_OK(ct_future_exception(n.f, 300, &status));
	CHECK_EQ(status, EXC_STATUS); /* isinstance(..., OSError) */
	cp_join(t);
	ct_future_release(n.f);
}

TEST(futuretests_multiple_set_result)
{
	ct_future_t *f = create_future(PENDING);
	finish(f, true, 1);
	CHECK_RC(ct_future_set_result(f, (void *)2), CT_EFUTURESTATE); /* InvalidStateError */
	CHECK(ct_future_done(f));
	void *v = NULL;
	CHECK_OK(ct_future_result(f, CT_FOREVER, &v));
	CHECK_EQ((intptr_t)v, 1);
	ct_future_release(f);
}

TEST(futuretests_multiple_set_exception)
{
	ct_future_t *f = create_future(PENDING);
	finish(f, false, 11); /* ValueError() */
	CHECK_RC(ct_future_set_exception(f, 12), CT_EFUTURESTATE);
	int status = 0;
	CHECK_OK(ct_future_exception(f, CT_FOREVER, &status));
	CHECK_EQ(status, 11);
	ct_future_release(f);
}

/* ==== ThreadPoolInitializerTest, ThreadPoolFailingInitializerTest ============= */

static atomic_int initializer_status; /* 0: 'uninitialized', 1: 'initialized' */

static int init(void *x)
{
	atomic_store(&initializer_status, (int)(intptr_t)x);
	return 0;
}

static int get_init_status(void *arg, void **result)
{
	(void)arg;
	*result = (void *)(intptr_t)atomic_load(&initializer_status);
	return 0;
}

TEST(threadpoolinitializertest_initializer)
{
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(
		&ex,
		&(ct_executor_opts){.max_workers = 2, .initializer = init, .initarg = (void *)1}));
	ct_future_t *fs[2];
	for (int i = 0; i < 2; i++)
		fs[i] = submit(&ex, get_init_status, NULL);
	for (int i = 0; i < 2; i++) {
		void *v = NULL;
		CHECK_OK(ct_future_result(fs[i], CT_FOREVER, &v));
		CHECK_EQ((intptr_t)v, 1);
	}
	release_all(fs, 2);
	ct_executor_destroy(&ex);
}

#define INIT_FAILED 17 /* ValueError('error in initializer') */

static int init_fail(void *arg)
{
	(void)arg;
	return INIT_FAILED;
}

/* The failure is "logged": the worker reports it through the excepthook. */
static struct {
	atomic_int calls, status;
} logged;

static void log_hook(const ct_excepthook_args *args)
{
	atomic_store(&logged.status, args->status);
	atomic_fetch_add(&logged.calls, 1);
}

TEST(threadpoolfailinginitializertest_initializer)
{
	ct_excepthook_fn old = ct_set_excepthook(log_hook);
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex,
				  &(ct_executor_opts){.max_workers = 2, .initializer = init_fail}));
	ct_future_t *f = NULL;
	int rc = ct_executor_submit(&ex, get_init_status, NULL, &f);
	if (rc == 0) {
		CHECK_RC(ct_future_result(f, CT_FOREVER, NULL), CT_EBROKEN); /* BrokenExecutor */
		ct_future_release(f);
	} else {
		CHECK_RC(rc, CT_EBROKEN); /* perhaps already broken */
	}
	/* At some point the executor breaks, and from then on submit fails. */
	ct_poll_until(ct_executor_submit(&ex, get_init_status, NULL, NULL) == CT_EBROKEN);
	CHECK_RC(ct_executor_submit(&ex, get_init_status, NULL, NULL), CT_EBROKEN);
	/* Python logs the failure before the pool is seen broken, so the log
	 * is there by now (the end of _assert_logged's block). */
	int calls = atomic_load(&logged.calls), status = atomic_load(&logged.status);
	ct_executor_destroy(&ex);
	ct_set_excepthook(old);
	if (calls < 1)
		ht_fail(__FILE__, __LINE__,
			"the pool is broken but the initializer's failure was not reported yet");
	CHECK_EQ(status, INIT_FAILED);
}
