/* CPython's Lib/test/test_threading.py, ported to C (the classes that apply
 * lock_tests.py to each type are in test_cpython_lock_tests.c). Names:
 * <class>_<method>, lower case. The scripts CPython runs in a fresh
 * interpreter are modes of tests/programs/cpython_threading.c.
 *
 * Not ported, and why:
 *   ThreadTests.test_lazy_import, test_lock_no_args, test_lock_no_subclass,
 *   test_lock_or_none, test_old_threading_api, MiscTestCase.test__all__
 *                          Python imports, signatures, subclassing, union
 *                          types, deprecated aliases, __all__.
 *   ThreadTests.test_args_argument, test_boolean_target
 *                          argument packing and truthiness of Python
 *                          objects; a C target gets one void *.
 *   ThreadTests.test_PyThreadState_SetAsyncExc
 *                          asynchronous exceptions (the stop request is a
 *                          different, cooperative thing).
 *   ThreadTests.test_finalize_running_thread, test_finalize_daemon_thread_hang,
 *   test_stop_the_world_during_finalization, test_frame_tstate_tracing,
 *   ThreadingExceptionTests.test_dummy_thread_on_interpreter_shutdown
 *                          CPython's own finalization, C-API and GC.
 *   ThreadTests.test_finalize_with_trace, test_gettrace,
 *   test_gettrace_all_threads, test_getprofile, test_getprofile_all_threads
 *                          sys.settrace/setprofile; the C hooks cannot be
 *                          read back (docs/python-to-c.md).
 *   ThreadTests.test_no_refcycle_through_target
 *                          reference cycles and weak references.
 *   ThreadTests.test_repr_daemon, the repr checks of test_various_ops
 *                          __repr__.
 *   ThreadTests.test_join_daemon_thread_in_finalization,
 *   test_acquire_daemon_thread_lock_in_finalization
 *                          Py_Finalize stops other threads running Python
 *                          code; C threads keep running while atexit
 *                          handlers run, so nothing there is special.
 *   SubinterpThreadingTests (all)
 *                          subinterpreters.
 *   ThreadingExceptionTests.test_recursion_limit, test_print_exception_gh_102056,
 *   test_bare_raise_in_brand_new_thread, test_multithread_modify_file_noerror,
 *   test_keyboard_interrupt_during_threading_shutdown
 *                          RecursionError, bare raise, tracebacks,
 *                          KeyboardInterrupt.
 *   ThreadingExceptionTests.test_print_exception_stderr_is_none_1, _2
 *                          sys.stderr set to None.
 *   ExceptHookTests.test_system_exit, test_custom_excepthook_fail
 *                          SystemExit in a thread, a hook that raises.
 *   TimerTests.test_init_immutable_default_args
 *                          mutable default arguments.
 *   InterruptMainTests (all), AtexitTests (all)
 *                          _thread.interrupt_main, the private
 *                          threading._register_atexit.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "core/fault.h"
#include "cpython_helpers.h"

#if defined(__SANITIZE_THREAD__)
#define CP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CP_TSAN 1
#endif
#endif

/* CPython's skip_unless_reliable_fork: the fork cases are skipped under
 * ThreadSanitizer, which does not support threads after fork(). */
static void skip_unless_reliable_fork(void)
{
#ifdef CP_TSAN
	ht_skip("ThreadSanitizer doesn't support threads after fork");
#endif
}

#define PROG "cpython_threading"

static int nothing(void *arg)
{
	(void)arg;
	return 0;
}

static int wait_event(void *event)
{
	return ct_event_wait(event, CT_FOREVER);
}

/* Runs fn in a fork child and checks it exits with @p want. */
static void in_fork_child(int (*fn)(void *), void *arg, int want)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), want);
}

struct listing {
	unsigned long idents[256];
	ct_thread_t *threads[256];
	size_t n;
};

static void collect(ct_thread_t *t, void *arg)
{
	struct listing *l = arg;
	if (l->n < 256) {
		l->idents[l->n] = ct_thread_ident(t);
		l->threads[l->n] = t;
		l->n++;
	}
}

static bool listed(const ct_thread_t *t)
{
	struct listing l = {.n = 0};
	ct_enumerate(collect, &l);
	for (size_t i = 0; i < l.n; i++)
		if (l.threads[i] == t)
			return true;
	return false;
}

static bool ident_listed(unsigned long ident)
{
	struct listing l = {.n = 0};
	ct_enumerate(collect, &l);
	for (size_t i = 0; i < l.n; i++)
		if (l.idents[i] == ident)
			return true;
	return false;
}

/* ==== ThreadTests ========================================================= */

static int func(void *arg)
{
	(void)arg;
	return 0;
}

TEST(threadtests_name)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, NULL, NULL, &(ct_thread_opts){.name = "myname1"}));
	CHECK_STR(ct_thread_name(t), "myname1");
	ct_thread_release(t);
	/* (name=123, converted to "123", has no C form: names are strings.) */
	/* The target's name is ignored when a name is given. */
	CHECK_OK(ct_thread_new(&t, func, NULL, &(ct_thread_opts){.name = "myname2"}));
	CHECK_STR(ct_thread_name(t), "myname2");
	ct_thread_release(t);
	/* No name: "Thread-N"; the counter cannot be mocked, so N is read from
	 * the first one and the next ones follow it. */
	CHECK_OK(ct_thread_new(&t, NULL, NULL, NULL));
	unsigned n;
	CHECK(sscanf(ct_thread_name(t), "Thread-%u", &n) == 1);
	char want[64];
	snprintf(want, sizeof want, "Thread-%u", n);
	CHECK_STR(ct_thread_name(t), want);
	ct_thread_release(t);
	CHECK_OK(ct_thread_new(&t, func, NULL, NULL));
	snprintf(want, sizeof want, "Thread-%u (func)", n + 1);
	CHECK_STR(ct_thread_name(t), want);
	ct_thread_release(t);
	/* An empty name gets the default, "Thread-N", as no name does. */
	CHECK_OK(ct_thread_new(&t, NULL, NULL, &(ct_thread_opts){.name = ""}));
	snprintf(want, sizeof want, "Thread-%u", n + 2);
	CHECK_STR(ct_thread_name(t), want);
	ct_thread_release(t);
}

/* TestThread: a Thread subclass sharing a BoundedSemaphore(3), an RLock and
 * a counter: no more than 3 run at once. */
struct various_shared {
	ct_bounded_semaphore_t sema;
	ct_rlock_t mutex;
	int nrunning;
};

struct test_thread {
	ct_thread_t thread;
	struct various_shared *shared;
};

static int test_thread_run(ct_thread_t *self)
{
	struct test_thread *tt = ct_container_of(self, struct test_thread, thread);
	struct various_shared *s = tt->shared;
	CT_WITH_SEMAPHORE(&s->sema)
	{
		CT_WITH_RLOCK(&s->mutex)
		{
			s->nrunning++;
			CHECK(s->nrunning <= 3);
		}
		sched_yield(); /* some work while holding the unit */
		CT_WITH_RLOCK(&s->mutex)
		{
			s->nrunning--;
			CHECK(s->nrunning >= 0);
		}
	}
	return 0;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

static void various_ops(void)
{
	enum { NUMTASKS = 10 };
	static struct various_shared s;
	CHECK_OK(ct_bounded_semaphore_init(&s.sema, 3));
	ct_rlock_init(&s.mutex);
	s.nrunning = 0;
	static struct test_thread threads[NUMTASKS];
	for (int i = 0; i < NUMTASKS; i++) {
		char name[32];
		snprintf(name, sizeof name, "<thread %d>", i);
		threads[i].shared = &s;
		CHECK_OK(ct_thread_init(&threads[i].thread, NULL, NULL,
					&(ct_thread_opts){.name = name, .run = test_thread_run}));
		CHECK_EQ(ct_thread_ident(&threads[i].thread), 0); /* None */
		CHECK_OK(ct_thread_start(&threads[i].thread));
	}
	long native_ids[NUMTASKS + 1];
	for (int i = 0; i < NUMTASKS; i++) {
		native_ids[i] = ct_thread_native_id(&threads[i].thread);
		CHECK(native_ids[i] != 0);
	}
	native_ids[NUMTASKS] = ct_get_native_id();
	qsort(native_ids, NUMTASKS + 1, sizeof native_ids[0], cmp_long);
	for (int i = 0; i < NUMTASKS; i++)
		CHECK(native_ids[i] != native_ids[i + 1]);
	for (int i = 0; i < NUMTASKS; i++) {
		CHECK_OK(ct_thread_join(&threads[i].thread, CT_FOREVER));
		CHECK(!ct_thread_is_alive(&threads[i].thread));
		CHECK(ct_thread_ident(&threads[i].thread) != 0);
		ct_thread_destroy(&threads[i].thread);
	}
	CHECK_EQ(s.nrunning, 0);
}

TEST(threadtests_various_ops)
{
	various_ops();
}

struct foreign_probe {
	unsigned long ident;
	ct_thread_t *current;
	ct_event_t done, go;
	int daemon, alive, is_listed;
	char name[64];
};

static void *foreign_current(void *arg)
{
	struct foreign_probe *p = arg;
	p->current = ct_current_thread();
	p->ident = ct_thread_ident(p->current);
	p->daemon = ct_thread_daemon(p->current);
	p->alive = ct_thread_is_alive(p->current);
	p->is_listed = listed(p->current);
	snprintf(p->name, sizeof p->name, "%s", ct_thread_name(p->current));
	ct_event_set(&p->done);
	ct_event_wait(&p->go, CT_FOREVER);
	return NULL;
}

TEST(threadtests_ident_of_no_threading_threads)
{
	CHECK(ct_thread_ident(ct_current_thread()) != 0);
	struct foreign_probe p = {.done = CT_EVENT_INIT, .go = CT_EVENT_INIT};
	pthread_t tid;
	CHECK_EQ(pthread_create(&tid, NULL, foreign_current, &p), 0);
	CHECK_OK(ct_event_wait(&p.done, CT_FOREVER));
	CHECK_EQ(p.ident, (unsigned long)tid);
	ct_event_set(&p.go);
	CHECK_EQ(pthread_join(tid, NULL), 0);
}

/* Run with a small (256 KiB) thread stack. */
TEST(threadtests_various_ops_small_stack)
{
	CHECK_OK(ct_stack_size_set(262144));
	various_ops();
	CHECK_OK(ct_stack_size_set(0));
}

/* Run with a large (1 MiB) thread stack. */
TEST(threadtests_various_ops_large_stack)
{
	CHECK_OK(ct_stack_size_set(0x100000));
	various_ops();
	CHECK_OK(ct_stack_size_set(0));
}

/* A "foreign" thread can use the module: it gets a dummy record, listed,
 * alive, daemon; once it ends the record leaves the list. */
TEST(threadtests_foreign_thread)
{
	struct foreign_probe p = {.done = CT_EVENT_INIT, .go = CT_EVENT_INIT};
	pthread_t tid;
	CHECK_EQ(pthread_create(&tid, NULL, foreign_current, &p), 0);
	CHECK_OK(ct_event_wait(&p.done, CT_FOREVER));
	CHECK_EQ(p.ident, (unsigned long)tid);
	CHECK(p.is_listed);
	CHECK(p.alive);
	CHECK(p.daemon);
	CHECK(strncmp(p.name, "Dummy-", 6) == 0);
	/* gh-106236: a dummy thread cannot be joined: Python raises
	 * RuntimeError at once. Here: an error at once, not a wait (the
	 * record stays valid while its thread runs, so it is asked now). */
	int rc = ct_thread_join(p.current, 0);
	if (rc == 0 || rc == CT_ETIMEDOUT)
		ht_fail(__FILE__, __LINE__,
			"join of a dummy thread returned %d (%s); Python raises RuntimeError", rc,
			ct_strerror(rc));
	ct_event_set(&p.go);
	CHECK_EQ(pthread_join(tid, NULL), 0);
	/* After the thread dies its dummy record is no longer listed. */
	ct_poll_until(!ident_listed(p.ident));
}

/* Issue 7481: a thread that fails to start is not left listed. */
TEST(threadtests_limbo_cleanup)
{
	size_t before = ct_active_count();
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, nothing, NULL, NULL));
	ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 1);
	CHECK_RC(ct_thread_start(t), CT_EAGAIN); /* threading.ThreadError */
	ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 0);
	CHECK(!listed(t));
	CHECK(!ct_thread_is_alive(t));
	CHECK_EQ(ct_active_count(), before);
	ct_thread_release(t);
}

/* Issue 1722344: SystemExit (exit()) still waits for non-daemon threads. */
TEST(threadtests_join_nondaemon_on_shutdown)
{
	cp_check_mode(PROG, "join_nondaemon_on_shutdown", "Woke up, sleep function is: ct_sleep\n");
}

/* #1703448: a thread is not listed once a join of it returned. */
TEST(threadtests_enumerate_after_join)
{
	for (int i = 1; i < 100; i++) {
		ct_thread_t *t = cp_start(nothing, NULL);
		CHECK_OK(ct_thread_join(t, CT_FOREVER));
		if (listed(t))
			ht_fail(__FILE__, __LINE__, "#1703448 triggered after %d trials", i);
		ct_thread_release(t);
	}
}

/* Thread.join() is thread-safe. */
struct joiner_arg {
	ct_thread_t *target;
	int rc;
};

static int joiner(void *arg)
{
	struct joiner_arg *j = arg;
	j->rc = ct_thread_join(j->target, CT_FOREVER);
	return 0;
}

TEST(threadtests_join_from_multiple_threads)
{
	for (int n = 2; n < 20; n++) {
		ct_event_t go = CT_EVENT_INIT;
		ct_thread_t *worker, *joiners[20];
		struct joiner_arg args[20];
		CHECK_OK(ct_thread_new(&worker, wait_event, &go, NULL));
		for (int i = 0; i < n; i++) {
			args[i] = (struct joiner_arg){.target = worker, .rc = 1};
			CHECK_OK(ct_thread_new(&joiners[i], joiner, &args[i], NULL));
		}
		CHECK_OK(ct_thread_start(worker));
		for (int i = 0; i < n; i++)
			CHECK_OK(ct_thread_start(joiners[i]));
		/* Every joiner is waiting on the worker before it ends. */
		for (int i = 0; i < n; i++)
			ht_wait_parked(joiners[i]);
		ct_event_set(&go);
		for (int i = 0; i < n; i++) {
			cp_join(joiners[i]);
			CHECK_OK(args[i].rc);
		}
		cp_join(worker);
	}
}

static int acquire_lock(void *lock)
{
	ct_lock_acquire(lock);
	return 0;
}

TEST(threadtests_join_with_timeout)
{
	ct_lock_t lock = CT_LOCK_INIT;
	ct_lock_acquire(&lock);
	ct_thread_t *t = cp_start(acquire_lock, &lock);
	CHECK_RC(ct_thread_join(t, 0.01), CT_ETIMEDOUT);
	CHECK(ct_thread_is_alive(t));
	CHECK_OK(ct_lock_release(&lock));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK(!ct_thread_is_alive(t));
	ct_thread_release(t);
}

TEST(threadtests_daemon_param)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, NULL, NULL, NULL));
	CHECK(!ct_thread_daemon(t));
	ct_thread_release(t);
	CHECK_OK(ct_thread_new(&t, NULL, NULL, &(ct_thread_opts){.daemon = CT_NOT_DAEMON}));
	CHECK(!ct_thread_daemon(t));
	ct_thread_release(t);
	CHECK_OK(ct_thread_new(&t, NULL, NULL, &(ct_thread_opts){.daemon = CT_DAEMON}));
	CHECK(ct_thread_daemon(t));
	ct_thread_release(t);
}

/* Issue #14308: a dummy thread in the list does not upset fork. */
static void *register_dummy(void *arg)
{
	struct foreign_probe *p = arg;
	(void)ct_current_thread();
	ct_event_set(&p->done);
	ct_event_wait(&p->go, CT_FOREVER);
	return NULL;
}

static int child_active_count_is_1(void *arg)
{
	(void)arg;
	return ct_active_count() == 1 ? 0 : 1;
}

TEST(threadtests_dummy_thread_after_fork)
{
	skip_unless_reliable_fork();
	struct foreign_probe p = {.done = CT_EVENT_INIT, .go = CT_EVENT_INIT};
	pthread_t tid;
	CHECK_EQ(pthread_create(&tid, NULL, register_dummy, &p), 0);
	CHECK_OK(ct_event_wait(&p.done, CT_FOREVER));
	CHECK_EQ(ct_active_count(), 2);
	in_fork_child(child_active_count_is_1, NULL, 0);
	ct_event_set(&p.go);
	CHECK_EQ(pthread_join(tid, NULL), 0);
}

/* #18418: is_alive() is false in the child for threads that vanished. */
static int alive_code(void *t)
{
	return ct_thread_is_alive(t) ? 11 : 10;
}

TEST(threadtests_is_alive_after_fork)
{
	skip_unless_reliable_fork();
	for (int i = 0; i < 20; i++) {
		ct_thread_t *t = cp_start(nothing, NULL);
		in_fork_child(alive_code, t, 10);
		cp_join(t);
	}
}

struct main_probe {
	unsigned long main_ident, current_ident;
};

static int record_idents(void *arg)
{
	struct main_probe *p = arg;
	p->main_ident = ct_thread_ident(ct_main_thread());
	p->current_ident = ct_thread_ident(ct_current_thread());
	return 0;
}

TEST(threadtests_main_thread)
{
	ct_thread_t *main = ct_main_thread();
	CHECK_STR(ct_thread_name(main), "MainThread");
	CHECK_EQ(ct_thread_ident(main), ct_thread_ident(ct_current_thread()));
	CHECK_EQ(ct_thread_ident(main), ct_get_ident());
	struct main_probe p = {0};
	ct_thread_t *th = cp_start(record_idents, &p);
	cp_join(th);
	CHECK(p.main_ident != p.current_ident);
}

/* After fork(), in the child: the forking thread is the main thread. */
struct after_fork {
	unsigned long ident;
	char name[128];
	bool foreign, create_dummy;
	int status;
};

static int child_main_checks(void *arg)
{
	struct after_fork *a = arg;
	ct_thread_t *main = ct_main_thread();
	if (ct_get_ident() != a->ident)
		return 20; /* current ident */
	if (strcmp(ct_thread_name(main), a->name) != 0) {
		fprintf(stderr, "child: main thread named \"%s\", expected \"%s\"\n",
			ct_thread_name(main), a->name);
		return 21; /* main name */
	}
	if (ct_thread_ident(main) != a->ident)
		return 22; /* main ident */
	if (ct_current_thread() != main)
		return 23; /* current is main */
	if (a->foreign && ct_active_count() != 1)
		return 24; /* _dangling == ['MainThread'] */
	/* threading._shutdown() in the child: nothing to wait for. */
	if (ct_shutdown(0) != 0)
		return 25;
	return 0;
}

TEST(threadtests_main_thread_after_fork)
{
	skip_unless_reliable_fork();
	struct after_fork a = {.ident = ct_get_ident()};
	snprintf(a.name, sizeof a.name, "MainThread");
	in_fork_child(child_main_checks, &a, 0);
}

static int fork_from_thread(void *arg)
{
	struct after_fork *a = arg;
	a->ident = ct_get_ident();
	/* Python keeps the forking thread's own name: "Thread-1 (func)". */
	snprintf(a->name, sizeof a->name, "%s", ct_thread_name(ct_current_thread()));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child_main_checks(a));
	a->status = -1;
	if (pid > 0)
		waitpid(pid, &a->status, 0);
	return 0;
}

TEST(threadtests_main_thread_after_fork_from_nonmain_thread)
{
	skip_unless_reliable_fork();
	struct after_fork a = {0};
	ct_thread_t *th = cp_start(fork_from_thread, &a);
	cp_join(th);
	CHECK(WIFEXITED(a.status));
	CHECK_EQ(WEXITSTATUS(a.status), 0);
}

static void *fork_from_foreign(void *arg)
{
	struct after_fork *a = arg;
	if (a->create_dummy) {
		ct_thread_t *current = ct_current_thread();
		if (strncmp(ct_thread_name(current), "Dummy-", 6) != 0)
			a->status = -2;
	}
	a->ident = ct_get_ident();
	/* A thread cthreading did not start becomes "MainThread" in the
	 * child, dummy record or not. */
	snprintf(a->name, sizeof a->name, "MainThread");
	a->foreign = true;
	pid_t pid = fork();
	if (pid == 0)
		_exit(child_main_checks(a));
	if (a->status != -2 && pid > 0)
		waitpid(pid, &a->status, 0);
	return NULL;
}

static void main_thread_after_fork_from_foreign(bool create_dummy)
{
	struct after_fork a = {.create_dummy = create_dummy, .status = -1};
	pthread_t tid;
	CHECK_EQ(pthread_create(&tid, NULL, fork_from_foreign, &a), 0);
	CHECK_EQ(pthread_join(tid, NULL), 0);
	CHECK(a.status != -2);
	CHECK(WIFEXITED(a.status));
	CHECK_EQ(WEXITSTATUS(a.status), 0);
}

TEST(threadtests_main_thread_after_fork_from_foreign_thread)
{
	skip_unless_reliable_fork();
	main_thread_after_fork_from_foreign(false);
}

TEST(threadtests_main_thread_after_fork_from_dummy_thread)
{
	skip_unless_reliable_fork();
	main_thread_after_fork_from_foreign(true);
}

/* bpo-31516: during shutdown the current thread is still the main one. */
TEST(threadtests_main_thread_during_shutdown)
{
	cp_check_mode(PROG, "main_thread_during_shutdown", "GC: 1 1 1\nGC: 1 1 1\n");
}

/* bpo-36402: the exit waits until non-daemon threads have completely ended,
 * their thread-local destructors included. */
TEST(threadtests_finalization_shutdown)
{
	cp_check_mode(PROG, "finalization_shutdown", "thread-local destructor ran\n");
}

/* "stopped" shows up by itself: is_alive() turns false without a join. */
struct started_finish {
	ct_event_t started, finish;
};

static int started_then_finish(void *arg)
{
	struct started_finish *s = arg;
	ct_event_set(&s->started);
	return ct_event_wait(&s->finish, CT_FOREVER);
}

TEST(threadtests_repr_stopped)
{
	struct started_finish s = {CT_EVENT_INIT, CT_EVENT_INIT};
	ct_thread_t *t = cp_start(started_then_finish, &s);
	CHECK_OK(ct_event_wait(&s.started, CT_FOREVER));
	CHECK(ct_thread_is_alive(t)); /* "started" */
	ct_event_set(&s.finish);
	ct_poll_until(!ct_thread_is_alive(t)); /* "stopped" */
	cp_join(t);
}

/* BoundedSemaphore released too often: ValueError. */
static int bs_acquire(void *bs)
{
	return ct_bounded_semaphore_acquire(bs, CT_FOREVER);
}

static int bs_release(void *bs)
{
	return ct_bounded_semaphore_release(bs, 1);
}

TEST(threadtests_boundedsemaphore_limit)
{
	for (int limit = 1; limit < 10; limit++) {
		ct_bounded_semaphore_t bs;
		CHECK_OK(ct_bounded_semaphore_init(&bs, limit));
		ct_thread_t *threads[10];
		for (int i = 0; i < limit; i++)
			threads[i] = cp_start(bs_acquire, &bs);
		for (int i = 0; i < limit; i++)
			cp_join(threads[i]);
		for (int i = 0; i < limit; i++)
			threads[i] = cp_start(bs_release, &bs);
		for (int i = 0; i < limit; i++)
			cp_join(threads[i]);
		CHECK_RC(ct_bounded_semaphore_release(&bs, 1), CT_EOVERRELEASE);
	}
}

/* bpo-19466: thread-locals are still there for atexit handlers. */
TEST(threadtests_locals_at_exit)
{
	cp_check_mode(PROG, "locals_at_exit", "thread_dict.atexit = 'value'\n");
}

/* bpo-37788: a thread that is never joined does not leak. */
TEST(threadtests_leak_without_join)
{
	size_t before = ct_active_count();
	CHECK_OK(ct_thread_spawn(nothing, NULL, NULL));
	ct_poll_until(ct_active_count() == before);
}

/* bpo-1596321: the library first used from a thread it did not start. */
TEST(threadtests_import_from_another_thread)
{
	cp_check_mode(PROG, "import_from_another_thread", "");
}

TEST(threadtests_start_new_thread_at_finalization)
{
	cp_check_mode(PROG, "start_new_thread_at_finalization",
		      "OK\ncan't create new thread at interpreter shutdown\n");
}

TEST(threadtests_join_finished_daemon_thread_in_finalization)
{
	cp_check_mode(PROG, "join_finished_daemon_thread_in_finalization", "all clear!\n");
}

/* gh-109746: when the OS refuses the thread, start fails cleanly. */
TEST(threadtests_start_new_thread_failed)
{
	char *out, *err;
	cp_run_mode(PROG, "start_new_thread_failed", 0, &out, &err);
	if (strstr(out, "!skip!") != NULL)
		ht_skip("RLIMIT_NPROC had no effect; probably superuser");
	CHECK_STR(out, "ok\n");
	CHECK_STR(err, "");
	free(out);
	free(err);
}

static int native_id_code(void *arg)
{
	long parent = *(long *)arg;
	long mine = ct_thread_native_id(ct_current_thread());
	if (mine != ct_get_native_id())
		return 30;
	return mine != parent ? 0 : 31;
}

TEST(threadtests_native_id_after_fork)
{
	skip_unless_reliable_fork();
	long parent = ct_thread_native_id(ct_current_thread());
	CHECK_EQ(parent, ct_get_native_id());
	in_fork_child(native_id_code, &parent, 0);
	CHECK_EQ(ct_thread_native_id(ct_current_thread()), parent);
	CHECK_EQ(ct_get_native_id(), parent);
}

/* ==== ThreadJoinOnShutdown ================================================= */

TEST(threadjoinonshutdown_1_join_on_shutdown)
{
	cp_check_mode(PROG, "join_on_shutdown", "end of main\nend of thread\n");
}

TEST(threadjoinonshutdown_2_join_in_forked_process)
{
	skip_unless_reliable_fork();
	cp_check_mode(PROG, "join_in_forked_process", "end of main\nend of thread\n");
}

/* The fork is made by a thread, and the child starts a thread: what
 * qemu-user 7.2 aborts, or hangs (1 run in 300 on a loaded machine). */
TEST(threadjoinonshutdown_3_join_in_forked_from_thread)
{
	skip_unless_reliable_fork();
	ht_need_threads_after_fork();
	cp_check_mode(PROG, "join_in_forked_from_thread", "end of main\nend of thread\n");
}

TEST(threadjoinonshutdown_4_daemon_threads)
{
	cp_check_mode(PROG, "daemon_threads", "");
}

TEST(threadjoinonshutdown_thread_from_thread)
{
	cp_check_mode(PROG, "thread_from_thread", "OK\n");
}

/* Issue #13817: threads forking children do not deadlock. */
static int exit_50(void *arg)
{
	(void)arg;
	return 50;
}

static int do_fork_and_wait(void *arg)
{
	(void)arg;
	in_fork_child(exit_50, NULL, 50);
	return 0;
}

TEST(threadjoinonshutdown_reinit_tls_after_fork)
{
	skip_unless_reliable_fork();
	ct_thread_t *threads[16];
	for (int i = 0; i < 16; i++)
		threads[i] = cp_start(do_fork_and_wait, NULL);
	for (int i = 0; i < 16; i++)
		cp_join(threads[i]);
}

/* Issue #17094: the child has only its own thread. */
static int only_one_thread(void *arg)
{
	(void)arg;
	return ct_active_count() == 1 ? 51 : 52;
}

TEST(threadjoinonshutdown_clear_threads_states_after_fork)
{
	skip_unless_reliable_fork();
	ct_event_t go = CT_EVENT_INIT;
	ct_thread_t *threads[16];
	for (int i = 0; i < 16; i++)
		threads[i] = cp_start(wait_event, &go);
	in_fork_child(only_one_thread, NULL, 51);
	ct_event_set(&go);
	for (int i = 0; i < 16; i++)
		cp_join(threads[i]);
}

/* ==== ThreadingExceptionTests =============================================== */

TEST(threadingexceptiontests_start_thread_again)
{
	ct_thread_t *t = cp_start(nothing, NULL);
	CHECK_RC(ct_thread_start(t), CT_ESTARTED);
	cp_join(t);
}

TEST(threadingexceptiontests_joining_current_thread)
{
	CHECK_RC(ct_thread_join(ct_current_thread(), CT_FOREVER), CT_EJOINSELF);
}

TEST(threadingexceptiontests_joining_inactive_thread)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, NULL, NULL, NULL));
	CHECK_RC(ct_thread_join(t, CT_FOREVER), CT_ENOTSTARTED);
	ct_thread_release(t);
}

TEST(threadingexceptiontests_daemonize_active_thread)
{
	ct_event_t go = CT_EVENT_INIT;
	ct_thread_t *t = cp_start(wait_event, &go);
	CHECK_RC(ct_thread_set_daemon(t, true), CT_EDAEMON);
	ct_event_set(&go);
	cp_join(t);
}

TEST(threadingexceptiontests_releasing_unacquired_lock)
{
	ct_lock_t lock = CT_LOCK_INIT;
	CHECK_RC(ct_lock_release(&lock), CT_EUNLOCKED);
}

/* A failing thread is reported on stderr. Python prints a traceback; a C
 * thread fails with a status, which the default hook prints instead
 * (documented for ct_excepthook_default). */
TEST(threadingexceptiontests_print_exception)
{
	char *out, *err;
	cp_run_mode(PROG, "print_exception", 0, &out, &err);
	CHECK_STR(out, "");
	CHECK(strstr(err, "Exception in thread") != NULL);
	CHECK(strstr(err, "run returned 1") != NULL);
	CHECK(strstr(err, "Unhandled exception") == NULL);
	free(out);
	free(err);
}

/* ==== ExceptHookTests ======================================================== */

/* Python prints "Exception in thread NAME:" and a traceback; the C default
 * hook prints "Exception in thread NAME: run returned STATUS". */
TEST(excepthooktests_excepthook)
{
	char *out, *err;
	cp_run_mode(PROG, "excepthook", 0, &out, &err);
	CHECK(strstr(err, "Exception in thread excepthook thread: run returned 3\n") != NULL);
	free(out);
	free(err);
}

/* With no thread, the default hook names the caller by its identifier. */
TEST(excepthooktests_excepthook_thread_none)
{
	char *out, *err;
	cp_run_mode(PROG, "excepthook_thread_none", 0, &out, &err);
	unsigned long ident;
	CHECK(sscanf(out, "%lu", &ident) == 1);
	char want[64];
	snprintf(want, sizeof want, "Exception in thread %lu:", ident);
	if (strstr(err, want) == NULL)
		ht_fail(__FILE__, __LINE__, "stderr lacks \"%s\":\n%s", want, err);
	free(out);
	free(err);
}

static struct {
	atomic_int calls;
	ct_thread_t *thread;
	int status;
} hooked;

static void record_hook(const ct_excepthook_args *args)
{
	hooked.thread = args->thread;
	hooked.status = args->status;
	atomic_fetch_add(&hooked.calls, 1);
}

static int run_failed(void *arg)
{
	(void)arg;
	return 7; /* ValueError("run failed") */
}

/* The custom hook is given the thread and what its run returned (Python's
 * exc_type, exc_value and exc_traceback are one status in C). */
TEST(excepthooktests_custom_excepthook)
{
	ct_excepthook_fn old = ct_set_excepthook(record_hook);
	ct_thread_t *t = cp_start(run_failed, NULL);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_set_excepthook(old);
	CHECK_EQ(atomic_load(&hooked.calls), 1);
	CHECK(hooked.thread == t);
	CHECK_EQ(hooked.status, 7);
	ct_thread_release(t);
}

TEST(excepthooktests_original_excepthook)
{
	char *out, *err;
	cp_run_mode(PROG, "original_excepthook", 0, &out, &err);
	char *custom = strstr(err, "--\n");
	CHECK(custom != NULL);
	*custom = '\0';
	custom += 3;
	char *recovered = strstr(custom, "--\n");
	CHECK(recovered != NULL);
	*recovered = '\0';
	recovered += 3;
	const char *default_output = err;
	CHECK_STR(default_output, recovered);
	CHECK(strcmp(default_output, custom) != 0);
	CHECK_STR(custom, "Running a thread failed\n");
	free(out);
	free(err);
}

/* ==== MiscTestCase =========================================================== */

/* The OS-visible name of a thread (/proc/self/task/TID/comm), as bytes. */
static void read_comm(long tid, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%ld/comm", tid);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

/* Linux keeps 15 bytes of a thread name. Python encodes the name and keeps
 * its first 15 bytes, even if that cuts a character in two. cthreading
 * deliberately cuts at the last character boundary within 15 bytes
 * (thread.h, ct_thread_set_name): an OS name never ends in half a UTF-8
 * character, which tools then show as garbage. The expected names below
 * follow that rule; for ASCII names both rules agree. */
#define NAME_MAXLEN 15

/* The first 15 bytes of @p name, less a character cut in two. */
static void os_name_of(char *out, size_t size, const char *name)
{
	size_t n = strlen(name);
	if (n > NAME_MAXLEN) {
		n = NAME_MAXLEN;
		while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
			n--;
	}
	snprintf(out, size, "%.*s", (int)n, name);
}

struct comm_probe {
	char comm[64];
};

static int read_own_comm(void *arg)
{
	struct comm_probe *p = arg;
	read_comm(ct_get_native_id(), p->comm, sizeof p->comm);
	return 0;
}

TEST(misctestcase_set_name)
{
	char big[8][128];
	/* "x" * limit, "x" * (limit + 10), "x" * (limit - 1) + "é€",
	 * "x" + "🐍" * limit, "xx"..., "xxx"..., "xxxx"... */
	memset(big[0], 'x', NAME_MAXLEN);
	big[0][NAME_MAXLEN] = '\0';
	memset(big[1], 'x', NAME_MAXLEN + 10);
	big[1][NAME_MAXLEN + 10] = '\0';
	memset(big[2], 'x', NAME_MAXLEN - 1);
	strcpy(big[2] + NAME_MAXLEN - 1, "\xc3\xa9\xe2\x82\xac");
	for (int k = 1; k <= 4; k++) {
		char *s = big[2 + k];
		memset(s, 'x', (size_t)k);
		s[k] = '\0';
		for (int i = 0; i < NAME_MAXLEN; i++)
			strcat(s, "\xf0\x9f\x90\x8d");
	}
	const char *tests[] = {
		"CustomName", "nam\xc3\xa9\xe2\x82\xac", /* "namé€" */
		"embed",				 /* "embed\0null": cut at the NUL */
		big[0],	      big[1],
		big[2],	      big[3],
		big[4],	      big[5],
		big[6],
	};
	int failures = 0;
	for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
		char expected[64];
		os_name_of(expected, sizeof expected, tests[i]);
		/* In a worker given the name. */
		struct comm_probe p;
		ct_thread_t *t;
		CHECK_OK(ct_thread_new(&t, read_own_comm, &p, &(ct_thread_opts){.name = tests[i]}));
		CHECK_OK(ct_thread_start(t));
		cp_join(t);
		if (strcmp(p.comm, expected) != 0) {
			fprintf(stderr, "worker named \"%s\": OS name \"%s\", expected \"%s\"\n",
				tests[i], p.comm, expected);
			failures++;
		}
		/* The main thread renaming itself. */
		CHECK_OK(ct_thread_set_name(ct_main_thread(), tests[i]));
		char comm[64];
		read_comm(ct_get_native_id(), comm, sizeof comm);
		if (strcmp(comm, expected) != 0) {
			fprintf(stderr, "main renamed \"%s\": OS name \"%s\", expected \"%s\"\n",
				tests[i], comm, expected);
			failures++;
		}
	}
	CHECK_EQ(failures, 0);
}

/* A running thread renaming itself: the OS name follows. */
struct change_probe {
	char name1[64], name2[64];
};

static int rename_self(void *arg)
{
	struct change_probe *p = arg;
	read_comm(ct_get_native_id(), p->name1, sizeof p->name1);
	CHECK_OK(ct_thread_set_name(ct_current_thread(), "new name"));
	read_comm(ct_get_native_id(), p->name2, sizeof p->name2);
	return 0;
}

TEST(misctestcase_change_name)
{
	struct change_probe p;
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, rename_self, &p, &(ct_thread_opts){.name = "name"}));
	CHECK_OK(ct_thread_start(t));
	cp_join(t);
	CHECK_STR(p.name1, "name");
	CHECK_STR(p.name2, "new name");
}
