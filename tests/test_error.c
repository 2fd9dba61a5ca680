/* Error codes, messages, versions and the timeout conversion every
 * blocking call shares. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "harness.h"

/* Every code, written out here independently of the library's table. */
static const struct {
	int code;
	const char *name;
	int posix; /* the errno it equals, 0 for cthreading's own */
} codes[] = {
	{CT_OK, "CT_OK", 0},
	{CT_EINVAL, "CT_EINVAL", EINVAL},
	{CT_ENOMEM, "CT_ENOMEM", ENOMEM},
	{CT_EAGAIN, "CT_EAGAIN", EAGAIN},
	{CT_ETIMEDOUT, "CT_ETIMEDOUT", ETIMEDOUT},
	{CT_EBUSY, "CT_EBUSY", EBUSY},
	{CT_EDEADLK, "CT_EDEADLK", EDEADLK},
	{CT_ECANCELLED, "CT_ECANCELLED", ECANCELED},
	{CT_ESTOPPED, "CT_ESTOPPED", 0},
	{CT_EBROKEN, "CT_EBROKEN", 0},
	{CT_EFULL, "CT_EFULL", 0},
	{CT_EEMPTY, "CT_EEMPTY", 0},
	{CT_ESHUTDOWN, "CT_ESHUTDOWN", 0},
	{CT_ESTARTED, "CT_ESTARTED", 0},
	{CT_EJOINSELF, "CT_EJOINSELF", 0},
	{CT_ENOTSTARTED, "CT_ENOTSTARTED", 0},
	{CT_EDAEMON, "CT_EDAEMON", 0},
	{CT_ESTACKSIZE, "CT_ESTACKSIZE", 0},
	{CT_ETOOLARGE, "CT_ETOOLARGE", 0},
	{CT_EUNLOCKED, "CT_EUNLOCKED", 0},
	{CT_ENOTOWNER, "CT_ENOTOWNER", 0},
	{CT_EWAITUNOWNED, "CT_EWAITUNOWNED", 0},
	{CT_ENOTIFYUNOWNED, "CT_ENOTIFYUNOWNED", 0},
	{CT_EOVERRELEASE, "CT_EOVERRELEASE", 0},
	{CT_ENEGATIVE, "CT_ENEGATIVE", 0},
	{CT_ETASKDONE, "CT_ETASKDONE", 0},
	{CT_EEXITING, "CT_EEXITING", 0},
	{CT_EGILNOTHELD, "CT_EGILNOTHELD", 0},
	{CT_EGILHELD, "CT_EGILHELD", 0},
	{CT_EFUTURESTATE, "CT_EFUTURESTATE", 0},
	{CT_EJOINDUMMY, "CT_EJOINDUMMY", 0},
};
#define NCODES (sizeof codes / sizeof codes[0])

TEST(every_code_has_a_distinct_message_and_its_name)
{
	for (size_t a = 0; a < NCODES; a++) {
		CHECK(strcmp(ct_strerror(codes[a].code), "unknown error") != 0);
		CHECK_STR(ct_err_name(codes[a].code), codes[a].name);
		for (size_t b = 0; b < a; b++) {
			CHECK(codes[a].code != codes[b].code);
			CHECK(strcmp(ct_strerror(codes[a].code), ct_strerror(codes[b].code)) != 0);
		}
	}
	CHECK_STR(ct_strerror(1), "unknown error");
	CHECK_STR(ct_strerror(-3999), "unknown error");
	CHECK_STR(ct_err_name(1), "CT_EUNKNOWN");
	CHECK_STR(ct_err_name(-EPERM), "CT_EUNKNOWN");
	/* The library's own test for a code of its own. */
	CHECK(ct__is_error_code(CT_EINVAL));
	CHECK(!ct__is_error_code(-3999));
	CHECK(!ct__is_error_code(-EPERM));
	CHECK(!ct__is_error_code(0));
}

/* As in libuv: a POSIX condition is its negated errno, so code mixing
 * cthreading with errno or libuv never misreads one; cthreading's own
 * codes lie where no errno does (the largest Linux errno is 133). */
TEST(codes_are_negated_errno_or_our_own_range)
{
	for (size_t i = 1; i < NCODES; i++) {
		if (codes[i].posix)
			CHECK_EQ(codes[i].code, -codes[i].posix);
		else
			CHECK(codes[i].code <= -4000 && codes[i].code > -5000);
	}
}

TEST(pythons_wording)
{
	CHECK_STR(ct_strerror(CT_ESTARTED), "threads can only be started once");
	CHECK_STR(ct_strerror(CT_EJOINSELF), "cannot join current thread");
	CHECK_STR(ct_strerror(CT_ENOTSTARTED), "cannot join thread before it is started");
	CHECK_STR(ct_strerror(CT_EDAEMON), "cannot set daemon status of active thread");
	CHECK_STR(ct_strerror(CT_EUNLOCKED), "release unlocked lock");
	CHECK_STR(ct_strerror(CT_ENOTOWNER), "cannot release un-acquired lock");
	CHECK_STR(ct_strerror(CT_EOVERRELEASE), "semaphore released too many times");
	CHECK_STR(ct_strerror(CT_ETASKDONE), "task_done() called too many times");
	CHECK_STR(ct_strerror(CT_ETOOLARGE), "timeout value is too large");
}

TEST(version)
{
	CHECK_EQ(ct_version(), CT_VERSION);
	CHECK_STR(ct_version_string(), CT_VERSION_STRING);
	CHECK(CT_CHECK_VERSION(0, 0, 0));
	CHECK(CT_CHECK_VERSION(CT_VERSION_MAJOR, CT_VERSION_MINOR, CT_VERSION_PATCH));
	CHECK(!CT_CHECK_VERSION(CT_VERSION_MAJOR, CT_VERSION_MINOR, CT_VERSION_PATCH + 1));
	CHECK(!CT_CHECK_VERSION(CT_VERSION_MAJOR, CT_VERSION_MINOR + 1, 0));
	CHECK(!CT_CHECK_VERSION(CT_VERSION_MAJOR + 1, 0, 0));
#if !CT_CHECK_VERSION(0, 1, 0)
#error "CT_CHECK_VERSION must work in #if"
#endif
}

TEST(deadline_conversion)
{
	int64_t d;
	CHECK_OK(ct__deadline(-1, &d));
	CHECK(d == CT__NO_DEADLINE);
	CHECK_RC(ct__deadline(-0.5, &d), CT_EINVAL);
	CHECK_RC(ct__deadline(-2, &d), CT_EINVAL);
	CHECK_RC(ct__deadline(-INFINITY, &d), CT_EINVAL);
	CHECK_OK(ct__deadline(0, &d));
	CHECK(ct__expired(d));
	int64_t before = ct__now_ns();
	CHECK_OK(ct__deadline(2.0, &d));
	CHECK(d >= before + 2000000000);
	/* The largest timeout saturates instead of overflowing. */
	CHECK_OK(ct__deadline(CT_TIMEOUT_MAX, &d));
	CHECK(d > ct__now_ns() && d < CT__NO_DEADLINE);
	CHECK_RC(ct__deadline(CT_TIMEOUT_MAX * 2, &d), CT_ETOOLARGE);
	CHECK_RC(ct__deadline(NAN, &d), CT_EINVAL);
	CHECK_RC(ct__deadline(INFINITY, &d), CT_ETOOLARGE);
}

/* One rule for every blocking call: CT_FOREVER waits without a limit, any
 * other negative timeout is CT_EINVAL (Python's ValueError), never a silent
 * wait forever. */
TEST(negative_timeouts_other_than_forever_are_einval)
{
	static ct_lock_t lock = CT_LOCK_INIT;
	static ct_event_t event = CT_EVENT_INIT;
	static ct_semaphore_t sem = CT_SEMAPHORE_INIT(0);
	static ct_barrier_t barrier = CT_BARRIER_INIT(2);
	static ct_rlock_t rlock = CT_RLOCK_INIT;
	ct_lock_acquire(&lock);
	double bad[] = {-0.001, -2, -1e9, -INFINITY};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_RC(ct_lock_acquire_timeout(&lock, bad[i]), CT_EINVAL);
		CHECK_RC(ct_event_wait(&event, bad[i]), CT_EINVAL);
		CHECK_RC(ct_semaphore_acquire(&sem, bad[i]), CT_EINVAL);
		CHECK_RC(ct_barrier_wait(&barrier, bad[i] == -2 ? -3 : bad[i]), CT_EINVAL);
		CHECK_RC(ct_rlock_acquire_timeout(&rlock, bad[i]), CT_EINVAL);
		CHECK_RC(ct_thread_join(ct_main_thread(), bad[i]), CT_EINVAL);
		CHECK_RC(ct_sleep(bad[i]), CT_EINVAL);
	}
	CHECK(!ct_barrier_broken(&barrier));
	CHECK(ct_rlock_acquire_timeout(&rlock, CT_FOREVER) == 0);
	CHECK_OK(ct_rlock_release(&rlock));
	CHECK_OK(ct_lock_release(&lock));
	CHECK_OK(ct_lock_acquire_timeout(&lock, CT_FOREVER));
	CHECK_OK(ct_lock_release(&lock));
}

/* The barrier's default timeout applies to CT_BARRIER_DEFAULT only. */
TEST(barrier_default_timeout)
{
	ct_barrier_t b;
	CHECK_OK(ct_barrier_init(&b, 2, NULL, NULL, 0.01));
	CHECK_RC(ct_barrier_wait(&b, CT_BARRIER_DEFAULT), CT_ETIMEDOUT);
	CHECK(ct_barrier_broken(&b));
	ct_barrier_destroy(&b);
	CHECK_RC(ct_barrier_init(&b, 2, NULL, NULL, -2), CT_EINVAL);
	CHECK_OK(ct_barrier_init(&b, 1, NULL, NULL, CT_FOREVER));
	CHECK_OK(ct_barrier_wait(&b, CT_BARRIER_DEFAULT));
	CHECK_OK(ct_barrier_wait(&b, CT_FOREVER));
}
