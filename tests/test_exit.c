/* The exit rule: returning from main or calling exit() waits for every live
 * non-daemon thread and abandons daemon ones (child programs in
 * programs/exit_rule.c, whose output and status are checked here), and its
 * bounded, explicit form ct_shutdown(). */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "ht_internal.h"

/* Runs programs/exit_rule in @p mode; checks its status and its stderr
 * (empty: no sanitizer report, no error) and returns its stdout. */
static char *run_mode(const char *mode, int want_status)
{
	const char *argv[] = {CT_TEST_PROGRAMS "/exit_rule", mode, NULL};
	char *out, *err;
	int status = ht_run(argv, &out, &err);
	if (status != want_status || err[0] != '\0')
		ht_fail(__FILE__, __LINE__,
			"exit_rule %s: status %d (expected %d)\nstdout:\n%s\nstderr:\n%s", mode,
			status, want_status, out, err);
	free(err);
	return out;
}

static void check_output(const char *mode, int want_status, const char *want)
{
	char *out = run_mode(mode, want_status);
	CHECK_STR(out, want);
	free(out);
}

TEST(main_returns_waits_for_non_daemon_threads)
{
	check_output("main_returns", 0, "worker finished\n");
}

TEST(no_handle_kept_every_line_appears)
{
	char *out = run_mode("no_handle_kept", 0);
	ht_sort_lines(out);
	char want[20 * 10 + 1], *p = want;
	for (int i = 0; i < 20; i++)
		p += sprintf(p, "thread %02d\n", i);
	CHECK_STR(out, want);
	free(out);
}

TEST(exit_from_a_worker_waits_for_the_others)
{
	check_output("exit_from_worker", 3, "other worker finished\n");
}

TEST(threads_started_during_the_exit_wait_are_waited_for)
{
	check_output("chain", 0, "first worker started the second: 0\nsecond worker finished\n");
}

TEST(daemon_threads_are_abandoned)
{
	check_output("daemon_forever", 0, "main returns\nworker finished\n");
}

TEST(a_stop_request_does_not_cut_the_exit_rule_short)
{
	check_output("stopped_main", 0, "worker finished\n");
}

TEST(a_thread_joining_main_returns_when_main_exits)
{
	check_output("joins_main", 0, "join of the main thread: success, alive: 0\n");
}

TEST(no_thread_starts_after_the_exit_rule)
{
	check_output("start_after_exit_rule", 0,
		     "worker finished\nstart during exit: can't create new thread at interpreter "
		     "shutdown\n");
}

/* ---- ct_shutdown ---------------------------------------------------------- */

static int wait_event(void *event)
{
	return ct_event_wait(event, CT_FOREVER);
}

static ct_thread_t *start_blocked(ct_event_t *event, int daemon)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, wait_event, event, &(ct_thread_opts){.daemon = daemon}));
	CHECK_OK(ct_thread_start(t));
	return t;
}

TEST(shutdown_waits_for_non_daemon_threads_only)
{
	ct_event_t work = CT_EVENT_INIT, forever = CT_EVENT_INIT;
	ct_thread_t *worker = start_blocked(&work, CT_NOT_DAEMON);
	ct_thread_t *daemon = start_blocked(&forever, CT_DAEMON);
	CHECK_RC(ct_shutdown(0), CT_ETIMEDOUT);
	double t0 = ht_now();
	CHECK_RC(ct_shutdown(0.1), CT_ETIMEDOUT);
	CHECK(ht_now() - t0 >= 0.1);
	CHECK(ct_thread_is_alive(worker));
	ct_event_set(&work);
	/* Returns with the daemon still blocked. */
	CHECK_OK(ct_shutdown(CT_FOREVER));
	CHECK(!ct_thread_is_alive(worker));
	CHECK(ct_thread_is_alive(daemon));
	CHECK_OK(ct_shutdown(0));
	ct_event_set(&forever);
	CHECK_OK(ct_thread_join(daemon, CT_FOREVER));
	ct_thread_release(worker);
	ct_thread_release(daemon);
}

struct shutdown_probe {
	int rc;
};

static int shutdown_forever(void *arg)
{
	((struct shutdown_probe *)arg)->rc = ct_shutdown(CT_FOREVER);
	return 0;
}

TEST(shutdown_is_interruptible_and_skips_its_caller)
{
	ct_event_t work = CT_EVENT_INIT;
	ct_thread_t *worker = start_blocked(&work, CT_NOT_DAEMON);
	struct shutdown_probe p = {1};
	ct_thread_release(ht_stop_when_parked(shutdown_forever, &p));
	CHECK_RC(p.rc, CT_ESTOPPED);

	/* A non-daemon thread's own shutdown does not wait for itself. */
	p.rc = 1;
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, shutdown_forever, &p, NULL));
	CHECK_OK(ct_thread_start(t));
	ct_event_set(&work);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK_OK(p.rc);
	CHECK_OK(ct_thread_join(worker, CT_FOREVER));
	ct_thread_release(t);
	ct_thread_release(worker);
}

MISUSE(shutdown_timeout_too_large, CT_ETOOLARGE, "timeout value is too large",
       ct_shutdown(CT_TIMEOUT_MAX * 2))
MISUSE(shutdown_timeout_nan, CT_EINVAL, "invalid argument", ct_shutdown(NAN))
