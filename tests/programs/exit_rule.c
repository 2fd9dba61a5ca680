/* The exit rule, watched from outside: each mode is a program whose output
 * and exit status test_exit.c checks.
 *
 * To make "still working when main returns" provable rather than likely,
 * the workers wait on `release`, which an atexit handler sets. Handlers run
 * in reverse order of registration, and cthreading registers its exit rule
 * when the first thread starts, so a handler registered after that runs
 * first: main has returned, the workers are blocked, and only the exit rule
 * stands between them and the end of the process.
 *
 * alarm() bounds every mode, so that a process that wrongly waits forever
 * fails its test with SIGALRM instead of outliving it.
 */
#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ct_event_t release = CT_EVENT_INIT;

static void set_release(void)
{
	ct_event_set(&release);
}

static int wait_then_print(void *msg)
{
	ct_event_wait(&release, CT_FOREVER);
	printf("%s\n", (const char *)msg);
	return 0;
}

static int spawn_or_die(ct_target_fn fn, void *arg, const ct_thread_opts *opts)
{
	int rc = ct_thread_spawn(fn, arg, opts);
	if (rc < 0) {
		fprintf(stderr, "spawn: %s\n", ct_strerror(rc));
		exit(90);
	}
	return rc;
}

/* main returns while a non-daemon thread is blocked. */
static int main_returns(void)
{
	spawn_or_die(wait_then_print, "worker finished", NULL);
	atexit(set_release);
	return 0;
}

/* The seed's example 1: many threads, no handle kept, main returns. */
static int no_handle_kept(void)
{
	static char lines[20][16];
	for (int i = 0; i < 20; i++) {
		snprintf(lines[i], sizeof lines[i], "thread %02d", i);
		spawn_or_die(wait_then_print, lines[i], NULL);
	}
	atexit(set_release);
	return 0;
}

/* A worker calls exit(3) while another worker is blocked and main waits in
 * a join that never returns: the exit rule runs in the exiting worker and
 * waits for the other one. */
static int call_exit(void *arg)
{
	(void)arg;
	exit(3);
}

static int exit_from_worker(void)
{
	spawn_or_die(wait_then_print, "other worker finished", NULL);
	atexit(set_release);
	ct_thread_t *t;
	if (ct_thread_new(&t, call_exit, NULL, NULL) < 0 || ct_thread_start(t) < 0)
		return 91;
	ct_thread_join(t, CT_FOREVER);
	printf("main: the join returned\n");
	return 92;
}

/* A non-daemon thread that starts another one during the exit wait: the
 * second is waited for too. It joins the first, so it is still working
 * when the first ends. */
static ct_thread_t *first;

static int second_run(void *arg)
{
	(void)arg;
	ct_thread_join(first, CT_FOREVER);
	printf("second worker finished\n");
	return 0;
}

static int first_run(void *arg)
{
	(void)arg;
	ct_event_wait(&release, CT_FOREVER);
	printf("first worker started the second: %d\n", ct_thread_spawn(second_run, NULL, NULL));
	return 0;
}

static int chain(void)
{
	if (ct_thread_new(&first, first_run, NULL, NULL) < 0 || ct_thread_start(first) < 0)
		return 91;
	atexit(set_release);
	return 0;
}

/* A daemon blocked forever is abandoned; a non-daemon is still waited for. */
static ct_event_t never = CT_EVENT_INIT;

static int daemon_run(void *arg)
{
	(void)arg;
	ct_event_wait(&never, CT_FOREVER);
	printf("the daemon woke up\n");
	return 0;
}

static int daemon_forever(void)
{
	spawn_or_die(daemon_run, NULL, &(ct_thread_opts){.daemon = CT_DAEMON});
	spawn_or_die(wait_then_print, "worker finished", NULL);
	atexit(set_release);
	printf("main returns\n");
	return 0;
}

/* A stop requested for the main thread does not cut the exit rule short. */
static int stopped_main(void)
{
	ct_thread_request_stop(ct_main_thread());
	return main_returns();
}

/* Once the exit rule has waited, new threads are refused. This handler is
 * registered before any thread starts, so it runs after the exit rule. */
static void start_too_late(void)
{
	int rc = ct_thread_spawn(wait_then_print, "too late", NULL);
	printf("start during exit: %s\n", ct_strerror(rc));
}

static int start_after_exit_rule(void)
{
	atexit(start_too_late);
	return main_returns();
}

/* A non-daemon thread joins the main thread (CPython's
 * test_threading ThreadTests.test_join_from_non_main_thread-style shutdown):
 * the exit rule marks the main thread finished before it waits, so that
 * join returns and the process exits, as in Python. */
static int join_main_run(void *arg)
{
	(void)arg;
	int rc = ct_thread_join(ct_main_thread(), CT_FOREVER);
	printf("join of the main thread: %s, alive: %d\n", ct_strerror(rc),
	       ct_thread_is_alive(ct_main_thread()));
	return 0;
}

static int joins_main(void)
{
	spawn_or_die(join_main_run, NULL, NULL);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} modes[] = {
	{"main_returns", main_returns},
	{"no_handle_kept", no_handle_kept},
	{"exit_from_worker", exit_from_worker},
	{"chain", chain},
	{"daemon_forever", daemon_forever},
	{"stopped_main", stopped_main},
	{"start_after_exit_rule", start_after_exit_rule},
	{"joins_main", joins_main},
};

int main(int argc, char **argv)
{
	alarm(60);
	for (size_t i = 0; argc == 2 && i < sizeof modes / sizeof *modes; i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].fn();
	fprintf(stderr, "usage: exit_rule MODE\n");
	return 2;
}
