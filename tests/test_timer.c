/* Timer: fires after its interval in its own named thread, cancel works
 * only while it waits, stop requests cancel it, and it obeys the exit
 * rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sync_helpers.h"

static int nop(void *arg)
{
	(void)arg;
	return 0;
}

static int init_nan(void)
{
	ct_timer_t t;
	return ct_timer_init(&t, 0.0 / 0.0, nop, NULL, NULL);
}

static int init_too_large(void)
{
	ct_timer_t t;
	return ct_timer_init(&t, CT_TIMEOUT_MAX * 2, nop, NULL, NULL);
}

static int init_no_function(void)
{
	ct_timer_t t;
	return ct_timer_init(&t, 1, NULL, NULL, NULL);
}

static int own_run(ct_thread_t *self)
{
	(void)self;
	return 0;
}

static int init_with_run(void)
{
	ct_timer_t t;
	return ct_timer_init(&t, 1, nop, NULL, &(ct_thread_opts){.run = own_run});
}

static int start_twice(void)
{
	ct_timer_t t;
	CHECK_OK(ct_timer_init(&t, 0, nop, NULL, NULL));
	CHECK_OK(ct_timer_start(&t));
	int rc = ct_timer_start(&t);
	CHECK_OK(ct_timer_join(&t, CT_FOREVER));
	ct_timer_destroy(&t);
	return rc;
}

MISUSE(init_nan, CT_EINVAL, "invalid argument", init_nan())
MISUSE(init_too_large, CT_ETOOLARGE, "timeout value is too large", init_too_large())
MISUSE(init_no_function, CT_EINVAL, "invalid argument", init_no_function())
MISUSE(init_with_run, CT_EINVAL, "invalid argument", init_with_run())
MISUSE(start_twice, CT_ESTARTED, "threads can only be started once", start_twice())

struct fired {
	atomic_int count;
	double at;
	ct_thread_t *thread;
	int status;
};

static int record(void *arg)
{
	struct fired *f = arg;
	f->at = ht_now();
	f->thread = ct_current_thread();
	atomic_fetch_add(&f->count, 1);
	return f->status;
}

/* A timer whose init failed can be destroyed (the usual clean-up path),
 * and its thread functions report it, whatever the memory held. */
TEST(failed_init_then_destroy)
{
	ct_timer_t tm;
	memset(&tm, 0xAB, sizeof tm);
	CHECK_RC(ct_timer_init(&tm, NAN, nop, NULL, NULL), CT_EINVAL);
	CHECK_RC(ct_timer_start(&tm), CT_EINVAL);
	CHECK_RC(ct_timer_join(&tm, 0), CT_EINVAL);
	ct_timer_cancel(&tm);
	ct_timer_destroy(&tm);
	memset(&tm, 0xAB, sizeof tm);
	CHECK_RC(ct_timer_init(&tm, 1, NULL, NULL, NULL), CT_EINVAL);
	ct_timer_destroy(&tm);
}

TEST(fires_after_interval_in_its_thread)
{
	ct_timer_t t;
	struct fired f = {0};
	CHECK_OK(ct_timer_init(&t, 0.05, record, &f, NULL));
	double t0 = ht_now();
	CHECK_OK(ct_timer_start(&t));
	CHECK_OK(ct_timer_join(&t, CT_FOREVER));
	CHECK_EQ(atomic_load(&f.count), 1);
	CHECK(f.at - t0 >= 0.05);
	CHECK(f.thread == &t.thread);
	CHECK(!ct_thread_is_alive(&t.thread));
	/* Cancelling after it fired changes nothing. */
	ct_timer_cancel(&t);
	CHECK_EQ(atomic_load(&f.count), 1);
	ct_timer_destroy(&t);
}

TEST(name_and_daemon_like_a_thread)
{
	ct_timer_t a, b;
	struct fired fa = {0}, fb = {0};
	CHECK_OK(ct_timer_init(&a, 0, record, &fa, NULL));
	const char *name = ct_thread_name(&a.thread);
	CHECK(strncmp(name, "Thread-", 7) == 0);
	CHECK(strchr(name, '(') == NULL); /* Python: no "(target)" for a Timer */
	CHECK(!ct_thread_daemon(&a.thread));
	CHECK_OK(ct_timer_init(&b, 0, record, &fb,
			       &(ct_thread_opts){.name = "reminder", .daemon = CT_DAEMON}));
	CHECK_STR(ct_thread_name(&b.thread), "reminder");
	CHECK(ct_thread_daemon(&b.thread));
	CHECK_OK(ct_thread_set_daemon(&a.thread, true));
	CHECK(ct_thread_daemon(&a.thread));
	CHECK_OK(ct_timer_start(&a));
	CHECK_OK(ct_timer_start(&b));
	CHECK_OK(ct_timer_join(&a, CT_FOREVER));
	CHECK_OK(ct_timer_join(&b, CT_FOREVER));
	CHECK_EQ(atomic_load(&fa.count) + atomic_load(&fb.count), 2);
	ct_timer_destroy(&a);
	ct_timer_destroy(&b);
}

/* Runs a timer of @p interval, meddling with it as @p what says, and
 * returns how many times its function ran. */
enum meddle { UNTOUCHED, CANCEL_FIRST, CANCEL_WAITING, STOP_WAITING };

static int fire_count(double interval, enum meddle what)
{
	ct_timer_t t;
	struct fired f = {0};
	CHECK_OK(ct_timer_init(&t, interval, record, &f, NULL));
	if (what == CANCEL_FIRST)
		ct_timer_cancel(&t);
	CHECK_OK(ct_timer_start(&t));
	if (what == CANCEL_WAITING || what == STOP_WAITING) {
		ht_wait_parked(&t.thread); /* waiting for the interval */
		if (what == CANCEL_WAITING)
			ct_timer_cancel(&t);
		else
			CHECK_OK(ct_thread_request_stop(&t.thread));
	}
	CHECK_OK(ct_timer_join(&t, CT_FOREVER));
	ct_timer_destroy(&t);
	return atomic_load(&f.count);
}

TEST(cancel_while_waiting)
{
	CHECK_EQ(fire_count(30, CANCEL_WAITING), 0);
}

TEST(cancel_before_start)
{
	CHECK_EQ(fire_count(0, CANCEL_FIRST), 0);
}

TEST(negative_interval_fires_at_once)
{
	CHECK_EQ(fire_count(-1, UNTOUCHED), 1);
}

TEST(stop_request_cancels)
{
	CHECK_EQ(fire_count(30, STOP_WAITING), 0);
}

static atomic_int hook_status;
static ct_thread_t *hook_thread;

static void hook(const ct_excepthook_args *args)
{
	hook_thread = args->thread;
	atomic_store(&hook_status, args->status);
}

TEST(failing_function_goes_to_excepthook)
{
	ct_set_excepthook(hook);
	ct_timer_t t;
	struct fired f = {.status = 7};
	CHECK_OK(ct_timer_init(&t, 0, record, &f, NULL));
	CHECK_OK(ct_timer_start(&t));
	CHECK_OK(ct_timer_join(&t, CT_FOREVER));
	CHECK_EQ(atomic_load(&hook_status), 7);
	CHECK(hook_thread == &t.thread);
	ct_set_excepthook(NULL);
	ct_timer_destroy(&t);
}

TEST(exit_rule_waits_for_a_pending_timer)
{
	const char *argv[] = {CT_TEST_PROGRAMS "/timer_exit", NULL};
	char *out;
	CHECK_EQ(ht_run(argv, &out, NULL), 0);
	CHECK_STR(out, "main returns\nfired\n");
	free(out);
	const char *argv_d[] = {CT_TEST_PROGRAMS "/timer_exit", "daemon", NULL};
	CHECK_EQ(ht_run(argv_d, &out, NULL), 0);
	CHECK_STR(out, "main returns\n");
	free(out);
}
