/* Error messages and the conversions every module shares at its boundary. */
#include <math.h>

#include "core/internal.h"

/* Every code with its symbol and its message: Python's wording wherever
 * Python raises with a message. The codes are errno values and a range of
 * our own, too sparse to index by: a lookup walks the 31 entries. */
#define E(code, message)             \
	{                            \
		code, #code, message \
	}
static const struct {
	int code;
	const char *name, *message;
} errors[] = {
	E(CT_OK, "success"),
	E(CT_EINVAL, "invalid argument"),
	E(CT_ENOMEM, "out of memory"),
	E(CT_EAGAIN, "can't start new thread"),
	E(CT_ETIMEDOUT, "timed out"),
	E(CT_EBUSY, "the object is in use"),
	E(CT_EDEADLK, "the call would deadlock"),
	E(CT_ECANCELLED, "cancelled"),
	E(CT_ESTOPPED, "stop requested"),
	E(CT_EBROKEN,
	  "broken: a barrier was reset, aborted or timed out, or a pool initializer failed"),
	E(CT_EFULL, "queue is full"),
	E(CT_EEMPTY, "queue is empty"),
	E(CT_ESHUTDOWN, "shut down: no new items or tasks are accepted"),
	E(CT_ESTARTED, "threads can only be started once"),
	E(CT_EJOINSELF, "cannot join current thread"),
	E(CT_ENOTSTARTED, "cannot join thread before it is started"),
	E(CT_EDAEMON, "cannot set daemon status of active thread"),
	E(CT_ESTACKSIZE, "size not valid: the stack size must be 0 or at least 32768 bytes"),
	E(CT_ETOOLARGE, "timeout value is too large"),
	E(CT_EUNLOCKED, "release unlocked lock"),
	E(CT_ENOTOWNER, "cannot release un-acquired lock"),
	E(CT_EWAITUNOWNED, "cannot wait on un-acquired lock"),
	E(CT_ENOTIFYUNOWNED, "cannot notify on un-acquired lock"),
	E(CT_EOVERRELEASE, "semaphore released too many times"),
	E(CT_ENEGATIVE, "initial value must be >= 0"),
	E(CT_ETASKDONE, "task_done() called too many times"),
	E(CT_EEXITING, "can't create new thread at interpreter shutdown"),
	E(CT_EGILNOTHELD, "the GIL is not held by the calling thread"),
	E(CT_EGILHELD, "the GIL is already held by the calling thread"),
	E(CT_EFUTURESTATE, "Future in unexpected state"),
	E(CT_EJOINDUMMY, "cannot join a dummy thread"),
};
#undef E

static int find(int code)
{
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
		if (errors[i].code == code)
			return (int)i;
	return -1;
}

const char *ct_strerror(int code)
{
	int i = find(code);
	return i < 0 ? "unknown error" : errors[i].message;
}

const char *ct_err_name(int code)
{
	int i = find(code);
	return i < 0 ? "CT_EUNKNOWN" : errors[i].name;
}

bool ct__is_error_code(int code)
{
	return code < 0 && find(code) >= 0;
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
	if (timeout == CT_FOREVER) {
		*deadline = CT__NO_DEADLINE;
		return 0;
	}
	if (!(timeout >= 0)) /* any other negative value, and NaN */
		return CT_EINVAL;
	if (timeout > CT_TIMEOUT_MAX)
		return CT_ETOOLARGE;
	if (timeout == 0) {
		*deadline = 0; /* already past: try once */
		return 0;
	}
	/* Rounded up to whole ns by hand, not with ceil(): the library needs
	 * no libm, so a static link needs no -lm. CT_TIMEOUT_MAX in ns is just
	 * under INT64_MAX, so the conversion fits and only the sum can
	 * overflow; saturate to "effectively forever" instead. */
	double x = timeout * 1e9;
	int64_t ns = (int64_t)x;
	ns += (double)ns < x;
	int64_t now = ct__now_ns();
	if (ns >= CT__NO_DEADLINE - now)
		*deadline = CT__NO_DEADLINE - 1;
	else
		*deadline = now + ns;
	return 0;
}
