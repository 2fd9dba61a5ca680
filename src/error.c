/* Error messages and the conversions every module shares at its boundary. */
#include <math.h>

#include "internal.h"

/* Indexed by -code. Python's wording wherever Python raises with a message. */
static const char *const messages[] = {
	[0] = "success",
	[-CT_EINVAL] = "invalid argument",
	[-CT_ENOMEM] = "out of memory",
	[-CT_EAGAIN] = "can't start new thread",
	[-CT_ETIMEDOUT] = "timed out",
	[-CT_ESTOPPED] = "stop requested",
	[-CT_EBROKEN] =
		"broken: a barrier was reset, aborted or timed out, or a pool initializer failed",
	[-CT_EFULL] = "queue is full",
	[-CT_EEMPTY] = "queue is empty",
	[-CT_ESHUTDOWN] = "shut down: no new items or tasks are accepted",
	[-CT_ECANCELLED] = "cancelled",
	[-CT_ESTARTED] = "threads can only be started once",
	[-CT_EJOINSELF] = "cannot join current thread",
	[-CT_ENOTSTARTED] = "cannot join thread before it is started",
	[-CT_EDAEMON] = "cannot set daemon status of active thread",
	[-CT_ESTACKSIZE] = "size not valid: the stack size must be 0 or at least 32768 bytes",
	[-CT_ETOOLARGE] = "timeout value is too large",
	[-CT_EUNLOCKED] = "release unlocked lock",
	[-CT_ENOTOWNER] = "cannot release un-acquired lock",
	[-CT_EWAITUNOWNED] = "cannot wait on un-acquired lock",
	[-CT_ENOTIFYUNOWNED] = "cannot notify on un-acquired lock",
	[-CT_EOVERRELEASE] = "semaphore released too many times",
	[-CT_ENEGATIVE] = "initial value must be >= 0",
	[-CT_ETASKDONE] = "task_done() called too many times",
	[-CT_EEXITING] = "can't create new thread at interpreter shutdown",
	[-CT_EGILNOTHELD] = "the GIL is not held by the calling thread",
	[-CT_EGILHELD] = "the GIL is already held by the calling thread",
	[-CT_EBUSY] = "the object is in use",
	[-CT_EDEADLK] = "the call would deadlock",
	[-CT_EFUTURESTATE] = "Future in unexpected state",
};

const char *ct_strerror(int code)
{
	if (code > 0 || code < CT_ERROR_MIN || !messages[-code])
		return "unknown error";
	return messages[-code];
}

int ct_version(void)
{
	return CT_VERSION;
}

const char *ct_version_string(void)
{
	return CT_VERSION_STRING;
}

int ct__deadline(double timeout, int64_t *deadline)
{
	if (isnan(timeout))
		return CT_EINVAL;
	if (timeout < 0) {
		*deadline = CT__NO_DEADLINE;
		return 0;
	}
	if (timeout > CT_TIMEOUT_MAX)
		return CT_ETOOLARGE;
	if (timeout == 0) {
		*deadline = 0; /* already past: try once */
		return 0;
	}
	double ns = ceil(timeout * 1e9);
	int64_t now = ct__now_ns();
	/* CT_TIMEOUT_MAX in ns is just under INT64_MAX, so only the sum can
	 * overflow; saturate to "effectively forever" instead. */
	if (ns >= (double)(CT__NO_DEADLINE - now))
		*deadline = CT__NO_DEADLINE - 1;
	else
		*deadline = now + (int64_t)ns;
	return 0;
}
