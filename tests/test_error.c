/* Error codes, messages, versions and the timeout conversion every
 * blocking call shares. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

TEST(every_code_has_a_distinct_message)
{
	for (int a = CT_ERROR_MIN; a <= 0; a++) {
		CHECK(strcmp(ct_strerror(a), "unknown error") != 0);
		for (int b = CT_ERROR_MIN; b < a; b++)
			CHECK(strcmp(ct_strerror(a), ct_strerror(b)) != 0);
	}
	CHECK_STR(ct_strerror(1), "unknown error");
	CHECK_STR(ct_strerror(CT_ERROR_MIN - 1), "unknown error");
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
}

TEST(deadline_conversion)
{
	int64_t d;
	CHECK_OK(ct__deadline(-1, &d));
	CHECK(d == CT__NO_DEADLINE);
	CHECK_OK(ct__deadline(-0.5, &d));
	CHECK(d == CT__NO_DEADLINE);
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
