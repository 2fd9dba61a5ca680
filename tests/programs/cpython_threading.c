/* The parts of CPython's test_threading.py that run a whole interpreter
 * (assert_python_ok): each mode is one such script written in C, and
 * test_cpython_threading.c checks its output and exit status.
 *
 * Where the script sleeps so that work is still pending when the program
 * ends, the mode instead blocks its threads on `release`, which an atexit
 * handler sets: cthreading registers its exit rule when the first thread
 * starts, so a handler registered after that runs first, with main already
 * returned and only the exit rule left before the process ends. A handler
 * registered before any thread starts runs after the exit rule.
 *
 * alarm() bounds every mode: a program that wrongly waits forever fails
 * with SIGALRM instead of outliving its test.
 */
#include <cthreading.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static ct_event_t release = CT_EVENT_INIT;

/* LeakSanitizer, in a fork child, cannot see the stacks of the parent's
 * other threads, so what only they point to looks leaked: the children
 * skip the leak check (a weak hook LSan calls; unused otherwise). So does
 * a process that gave up root, which may no longer read its own /proc
 * entries as LSan needs. */
static volatile int forked_child, dropped_root;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return forked_child || dropped_root;
}

static void set_release(void)
{
	ct_event_set(&release);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "%s: %s\n", what, ct_strerror(rc));
	exit(90);
}

static ct_thread_t *start(ct_target_fn fn, void *arg, const ct_thread_opts *opts)
{
	ct_thread_t *t;
	int rc = ct_thread_new(&t, fn, arg, opts);
	if (rc == 0)
		rc = ct_thread_start(t);
	if (rc != 0)
		die("start", rc);
	return t;
}

static int nothing(void *arg)
{
	(void)arg;
	return 0;
}

/* ---- ThreadJoinOnShutdown ------------------------------------------------ */

/* A thread that waits for the main program to end. */
static int joiningfunc(void *mainthread)
{
	int rc = ct_thread_join(mainthread, CT_FOREVER);
	if (rc != 0)
		die("join of the main thread", rc);
	printf("end of thread\n");
	fflush(stdout);
	return 0;
}

/* test_1_join_on_shutdown: on exit, wait for a non-daemon thread (which
 * itself waits for the main thread to end). */
static int join_on_shutdown(void)
{
	ct_thread_release(start(joiningfunc, ct_current_thread(), NULL)); /* the thread goes on */
	printf("end of main\n");
	return 0;
}

/* test_2_join_in_forked_process: the same in a fork child. */
static int join_in_forked_process(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 91;
	if (pid != 0) {
		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			return 92;
		exit(0);
	}
	alarm(60); /* not inherited by the child */
	forked_child = 1;
	ct_thread_release(start(joiningfunc, ct_current_thread(), NULL)); /* the thread goes on */
	printf("end of main\n");
	return 0;
}

/* test_3_join_in_forked_from_thread: fork() from a worker; in the child the
 * main thread of the parent is gone, so a join of it returns at once. */
static ct_thread_t *original_main;

static int fork_from_worker(void *arg)
{
	(void)arg;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		exit(93);
	if (pid != 0) {
		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			exit(94);
		return 0; /* sys.exit(0) in a thread just ends the thread */
	}
	alarm(60); /* not inherited by the child */
	forked_child = 1;
	ct_thread_t *t;
	int rc = ct_thread_new(&t, joiningfunc, original_main, NULL);
	if (rc != 0)
		die("new", rc);
	printf("end of main\n");
	if ((rc = ct_thread_start(t)) != 0)
		die("start", rc);
	if ((rc = ct_thread_join(t, CT_FOREVER)) != 0) /* must not block */
		die("join", rc);
	ct_thread_release(t);
	exit(0);
}

static int join_in_forked_from_thread(void)
{
	original_main = ct_current_thread();
	ct_thread_release(start(fork_from_worker, NULL, NULL)); /* the thread goes on */
	return 0;
}

/* test_4_daemon_threads: daemon threads doing I/O while the process exits
 * cannot crash it. */
static atomic_int has_run;

static int random_io(void *arg)
{
	(void)arg;
	bool counted = false;
	for (;;) {
		FILE *in = fopen("/proc/self/exe", "rb");
		FILE *null = fopen("/dev/null", "wb");
		if (in && null) {
			char stuff[200];
			size_t n = fread(stuff, 1, sizeof stuff, in);
			fwrite(stuff, 1, n, null);
		}
		if (in)
			fclose(in);
		if (null)
			fclose(null);
		if (!counted) {
			atomic_fetch_add(&has_run, 1);
			counted = true;
		}
		ct_sleep(0.0005);
	}
	return 0;
}

static int daemon_threads(void)
{
	enum { N = 40 };
	for (int i = 0; i < N; i++) {
		int rc = ct_thread_spawn(random_io, NULL, &(ct_thread_opts){.daemon = CT_DAEMON});
		if (rc != 0)
			die("spawn", rc);
	}
	while (atomic_load(&has_run) < N)
		ct_sleep(0.001); /* a poll interval: until every thread has run */
	exit(0);
}

/* test_thread_from_thread: a non-daemon thread starts another one after
 * main has returned; both are waited for. */
static int thread2(void *arg)
{
	(void)arg;
	printf("OK\n");
	return 0;
}

static int thread1(void *arg)
{
	(void)arg;
	ct_event_wait(&release, CT_FOREVER);
	int rc = ct_thread_spawn(thread2, NULL, NULL);
	if (rc != 0)
		die("spawn", rc);
	return 0;
}

static int thread_from_thread(void)
{
	ct_thread_release(start(thread1, NULL, NULL)); /* the thread goes on */
	atexit(set_release);
	/* no join: the exit rule waits for non-daemon threads */
	return 0;
}

/* ---- ThreadTests ------------------------------------------------------------ */

/* test_join_nondaemon_on_shutdown: exit() (Python's SystemExit) still
 * waits for a non-daemon thread, which wakes up to a whole process. */
static int child_wakes_up(void *arg)
{
	(void)arg;
	ct_event_wait(&release, CT_FOREVER);
	printf("Woke up, sleep function is: %s\n", ct_sleep(0) == 0 ? "ct_sleep" : "broken");
	return 0;
}

static int join_nondaemon_on_shutdown(void)
{
	ct_thread_release(start(child_wakes_up, NULL, NULL)); /* the thread goes on */
	atexit(set_release);
	exit(0);
}

/* test_main_thread_during_shutdown: after the exit rule, the current thread
 * is still the main thread and the only one listed. */
static void print_gc_line(void)
{
	printf("GC: %d %d %d\n", ct_current_thread() == ct_main_thread(),
	       ct_main_thread() == ct_main_thread(), ct_active_count() == 1);
}

static int main_thread_during_shutdown(void)
{
	atexit(print_gc_line); /* before any thread: runs after the exit rule */
	ct_thread_t *t = start(nothing, NULL, NULL);
	ct_thread_join(t, CT_FOREVER);
	ct_thread_release(t);
	print_gc_line();
	return 0;
}

/* test_finalization_shutdown: the exit rule waits until a thread has
 * completely ended, its thread-local destructors included. */
static void sleeper_dtor(void *value)
{
	(void)value;
	printf("thread-local destructor ran\n");
}

static ct_local_t tls = CT_LOCAL_INIT(sleeper_dtor);

static int set_local_then_wait(void *arg)
{
	(void)arg;
	ct_event_wait(&release, CT_FOREVER);
	ct_local_set(&tls, &tls);
	return 0;
}

static int finalization_shutdown(void)
{
	ct_thread_release(start(set_local_then_wait, NULL, NULL)); /* the thread goes on */
	atexit(set_release);
	return 0;
}

/* test_locals_at_exit: thread-locals of the main thread are still there
 * when atexit handlers run. */
static ct_local_t thread_dict = CT_LOCAL_INIT(NULL);

static void print_local(void)
{
	const char *v = ct_local_get(&thread_dict);
	printf("thread_dict.atexit = '%s'\n", v ? v : "(none)");
}

static int locals_at_exit(void)
{
	atexit(print_local);
	ct_local_set(&thread_dict, "value");
	ct_thread_t *t = start(nothing, NULL, NULL);
	ct_thread_join(t, CT_FOREVER);
	ct_thread_release(t);
	return 0;
}

/* test_import_from_another_thread: the first use of cthreading is in a
 * thread it did not start; main does not wait for that thread to end. */
static atomic_int imported;

static void *use_from_foreign(void *arg)
{
	(void)arg;
	(void)ct_current_thread();
	atomic_store(&imported, 1);
	return NULL;
}

static int import_from_another_thread(void)
{
	pthread_t pt;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&pt, &attr, use_from_foreign, NULL) != 0)
		return 91;
	pthread_attr_destroy(&attr);
	while (!atomic_load(&imported))
		sched_yield();
	return 0;
}

/* test_start_new_thread_at_finalization: a thread started once the exit
 * rule has run is refused. */
static void start_at_finalization(void)
{
	printf("OK\n");
	int rc = ct_thread_spawn(nothing, NULL, NULL);
	printf("%s\n", rc == 0 ? "started" : ct_strerror(rc));
}

static int start_new_thread_at_finalization(void)
{
	atexit(start_at_finalization); /* runs after the exit rule */
	ct_thread_t *t = start(nothing, NULL, NULL);
	ct_thread_join(t, CT_FOREVER);
	ct_thread_release(t);
	return 0;
}

/* test_join_finished_daemon_thread_in_finalization: joining a finished
 * daemon thread after the exit rule succeeds. */
static ct_event_t done = CT_EVENT_INIT;
static ct_thread_t *finished_daemon;

static int set_done(void *arg)
{
	(void)arg;
	ct_event_set(&done);
	return 0;
}

static void join_finished_daemon(void)
{
	if (!ct_event_is_set(&done) || ct_thread_is_alive(finished_daemon))
		return;
	if (ct_thread_join(finished_daemon, CT_FOREVER) != 0)
		return;
	if (ct_thread_is_alive(finished_daemon))
		return;
	ct_thread_release(finished_daemon);
	printf("all clear!\n");
}

static int join_finished_daemon_thread_in_finalization(void)
{
	atexit(join_finished_daemon);
	finished_daemon = start(set_done, NULL, &(ct_thread_opts){.daemon = CT_DAEMON});
	ct_thread_join(finished_daemon, CT_FOREVER);
	return 0;
}

/* test_start_new_thread_failed: when the OS refuses the thread, start fails
 * cleanly (and nothing is left to clean up twice). */
static int start_new_thread_failed(void)
{
	/* The superuser ignores RLIMIT_NPROC: drop to "nobody" first (this
	 * process only), so that the case runs in CI, which runs as root. */
	if (geteuid() == 0) {
		dropped_root = 1;
		if (setgid(65534) != 0 || setuid(65534) != 0)
			return 90;
	}
	struct rlimit lim;
	if (getrlimit(RLIMIT_NPROC, &lim) != 0)
		return 91;
	lim.rlim_cur = 0;
	if (setrlimit(RLIMIT_NPROC, &lim) != 0)
		return 92;
	ct_thread_t *t;
	if (ct_thread_new(&t, nothing, NULL, NULL) != 0)
		return 93;
	int rc = ct_thread_start(t);
	if (rc == CT_EAGAIN) {
		printf("ok\n");
	} else if (rc == 0) {
		printf("!skip!\n");
		ct_thread_join(t, CT_FOREVER);
	} else {
		printf("start: %s\n", ct_strerror(rc));
	}
	ct_thread_release(t);
	return 0;
}

/* ---- ThreadingExceptionTests, ExceptHookTests ------------------------------- */

static int return_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

static void run_failing(const char *name, int status)
{
	ct_thread_t *t = start(return_arg, (void *)(intptr_t)status,
			       name ? &(ct_thread_opts){.name = name} : NULL);
	ct_thread_join(t, CT_FOREVER);
	ct_thread_release(t);
}

/* test_print_exception: a failing thread is reported on stderr. */
static int print_exception(void)
{
	run_failing(NULL, 1);
	return 0;
}

/* test_excepthook */
static int excepthook(void)
{
	run_failing("excepthook thread", 3);
	return 0;
}

/* test_excepthook_thread_None: without a thread, the default hook names the
 * calling thread by its identifier. */
static int excepthook_thread_none(void)
{
	printf("%lu\n", ct_get_ident());
	fflush(stdout);
	ct_excepthook_default(&(ct_excepthook_args){.thread = NULL, .status = 3});
	return 0;
}

/* test_original_excepthook: three runs, separated on stderr by "--". */
static void threading_hook(const ct_excepthook_args *args)
{
	(void)args;
	fprintf(stderr, "Running a thread failed\n");
}

static int original_excepthook(void)
{
	run_failing("excepthook thread", 3);
	fprintf(stderr, "--\n");
	ct_set_excepthook(threading_hook);
	run_failing("excepthook thread", 3);
	fprintf(stderr, "--\n");
	ct_set_excepthook(ct_excepthook_default);
	run_failing("excepthook thread", 3);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} modes[] = {
	{"join_on_shutdown", join_on_shutdown},
	{"join_in_forked_process", join_in_forked_process},
	{"join_in_forked_from_thread", join_in_forked_from_thread},
	{"daemon_threads", daemon_threads},
	{"thread_from_thread", thread_from_thread},
	{"join_nondaemon_on_shutdown", join_nondaemon_on_shutdown},
	{"main_thread_during_shutdown", main_thread_during_shutdown},
	{"finalization_shutdown", finalization_shutdown},
	{"locals_at_exit", locals_at_exit},
	{"import_from_another_thread", import_from_another_thread},
	{"start_new_thread_at_finalization", start_new_thread_at_finalization},
	{"join_finished_daemon_thread_in_finalization",
	 join_finished_daemon_thread_in_finalization},
	{"start_new_thread_failed", start_new_thread_failed},
	{"print_exception", print_exception},
	{"excepthook", excepthook},
	{"excepthook_thread_none", excepthook_thread_none},
	{"original_excepthook", original_excepthook},
};

int main(int argc, char **argv)
{
	alarm(60);
	for (size_t i = 0; argc == 2 && i < sizeof modes / sizeof *modes; i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].fn();
	fprintf(stderr, "usage: cpython_threading MODE\n");
	return 2;
}
