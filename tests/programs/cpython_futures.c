/* The parts of CPython's test_concurrent_futures that run a whole
 * interpreter (assert_python_ok), written in C: each mode is one script,
 * and test_cpython_futures.c checks its output and exit status.
 *
 * Where the script sleeps so that a task is still pending when the program
 * ends, the task here waits on `release`, set by an atexit handler
 * registered after the pool started a worker: it runs before the exit
 * rule, once main has returned. A handler registered before any thread
 * starts runs after the exit rule. alarm() bounds every mode.
 */
#include <cthreading.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ct_event_t release = CT_EVENT_INIT;

static void set_release(void)
{
	ct_event_set(&release);
}

/* sleep_and_print(t, msg): here, wait for the end of main, then print. */
static int wait_and_print(void *msg, void **result)
{
	(void)result;
	ct_event_wait(&release, CT_FOREVER);
	printf("%s\n", (const char *)msg);
	fflush(stdout);
	return 0;
}

static int print_now(void *msg, void **result)
{
	(void)result;
	printf("%s\n", (const char *)msg);
	fflush(stdout);
	return 0;
}

static int nothing(void *arg, void **result)
{
	(void)arg;
	(void)result;
	return 0;
}

static void submit_or_die(ct_executor_t *ex, ct_task_fn fn, void *arg)
{
	int rc = ct_executor_submit(ex, fn, arg, NULL);
	if (rc != 0) {
		fprintf(stderr, "submit: %s\n", ct_strerror(rc));
		exit(90);
	}
}

static ct_executor_t pool;

/* test_interpreter_shutdown: a task still pending when main returns runs
 * before the process exits. */
static int interpreter_shutdown(void)
{
	if (ct_executor_init(&pool, &(ct_executor_opts){.max_workers = 5}) != 0)
		return 91;
	submit_or_die(&pool, wait_and_print, "apple");
	atexit(set_release);
	return 0;
}

/* test_submit_after_interpreter_shutdown: a submit from an atexit handler
 * that runs after the exit rule is refused ("cannot schedule new futures
 * after interpreter shutdown"). */
static void run_last(void)
{
	int rc = ct_executor_submit(&pool, nothing, NULL, NULL);
	if (rc == CT_ESHUTDOWN)
		printf("runtime-error\n");
	else
		printf("submit: %s\n", ct_strerror(rc));
}

static int submit_after_interpreter_shutdown(void)
{
	atexit(run_last);
	if (ct_executor_init(&pool, &(ct_executor_opts){.max_workers = 5}) != 0)
		return 91;
	return 0;
}

/* test_hang_gh83386: shutdown(wait=False) with a running task does not
 * hang at exit; the task still completes. */
static int hang_gh83386(void)
{
	if (ct_executor_init(&pool, &(ct_executor_opts){.max_workers = 3}) != 0)
		return 91;
	submit_or_die(&pool, wait_and_print, "apple");
	atexit(set_release);
	if (ct_executor_shutdown(&pool, false, false) != 0)
		return 92;
	return 0;
}

/* test_cancel_futures_wait_false: shutdown(wait=False, cancel_futures=True)
 * right after a submit: the task either ran or was cancelled. */
static int cancel_futures_wait_false(void)
{
	if (ct_executor_init(&pool, NULL) != 0)
		return 91;
	submit_or_die(&pool, print_now, "apple");
	if (ct_executor_shutdown(&pool, false, true) != 0)
		return 92;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} modes[] = {
	{"interpreter_shutdown", interpreter_shutdown},
	{"submit_after_interpreter_shutdown", submit_after_interpreter_shutdown},
	{"hang_gh83386", hang_gh83386},
	{"cancel_futures_wait_false", cancel_futures_wait_false},
};

int main(int argc, char **argv)
{
	alarm(60);
	for (size_t i = 0; argc == 2 && i < sizeof modes / sizeof *modes; i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].fn();
	fprintf(stderr, "usage: cpython_futures MODE\n");
	return 2;
}
