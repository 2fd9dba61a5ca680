/** @file
 * cthreading: conventions shared by every module.
 *
 * Errors, timeouts, the version and a few helper macros. Every other public
 * header includes this one.
 */
#ifndef CTHREADING_COMMON_H
#define CTHREADING_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup common Conventions: errors, timeouts, version
 *  @{
 */

/** Marks a symbol exported from the shared library (all others are hidden). */
#if defined(__GNUC__)
#define CT_API __attribute__((visibility("default")))
#else
#define CT_API
#endif

/** Major version of the headers. */
#define CT_VERSION_MAJOR 0
/** Minor version of the headers. */
#define CT_VERSION_MINOR 1
/** Patch version of the headers. */
#define CT_VERSION_PATCH 0
/** The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define CT_VERSION ((CT_VERSION_MAJOR * 10000) + (CT_VERSION_MINOR * 100) + CT_VERSION_PATCH)
/** True when the headers are at least version @p major.@p minor.@p patch
 *  (GLib's GLIB_CHECK_VERSION): `#if CT_CHECK_VERSION(0, 2, 0)`. While the
 *  major version is 0, each minor version may change the API. */
#define CT_CHECK_VERSION(major, minor, patch) \
	(CT_VERSION >= ((major) * 10000) + ((minor) * 100) + (patch))
/** The version as a string. */
#define CT_VERSION_STRING "0.1.0"

/** The version of the library actually linked, as CT_VERSION (compare it with
 *  the header's CT_VERSION to detect a mismatched shared library). */
CT_API int ct_version(void);
/** The version of the library actually linked, as a string ("0.1.0"). */
CT_API const char *ct_version_string(void);

/** Error codes. Functions that can fail return 0 or one of these (negative).
 *
 * As in libuv, where POSIX has the condition the code is its negated
 * `errno` value (`CT_EINVAL == -EINVAL`), so code that mixes cthreading
 * with libuv or with errno never misreads one; cthreading's own conditions
 * (empty, full, shut down, broken, stopped, Python's misuse errors...) are
 * numbered from -4000 down, a range no errno uses. ct_err_name() gives a
 * code's symbol, ct_strerror() its message: where Python raises with a
 * message, the same wording.
 *
 * A NULL object pointer (or a NULL out-pointer or callback that a function
 * needs) is never a crash: a function that returns `int` returns
 * CT_EINVAL, one that returns nothing does nothing, and a query returns its
 * neutral answer (false, 0, NULL; NaN for a double).
 */
enum ct_error {
	CT_OK = 0,		  /**< success */
	CT_EINVAL = -EINVAL,	  /**< invalid argument (NULL, NaN, out of range) */
	CT_ENOMEM = -ENOMEM,	  /**< out of memory */
	CT_EAGAIN = -EAGAIN,	  /**< can't start new thread (the OS refused) */
	CT_ETIMEDOUT = -ETIMEDOUT, /**< the timeout expired (or a try found it busy) */
	CT_EBUSY = -EBUSY,	  /**< the object is in use (e.g. destroy while waited on) */
	CT_EDEADLK = -EDEADLK,	  /**< the call would deadlock */
	CT_ECANCELLED = -ECANCELED, /**< the future was cancelled */
	CT_ESTOPPED = -4001,	  /**< a stop was requested for the waiting thread */
	CT_EBROKEN = -4002,	  /**< barrier broken, or thread pool broken */
	CT_EFULL = -4003,	  /**< queue full (non-blocking put) */
	CT_EEMPTY = -4004,	  /**< queue empty (non-blocking get) */
	CT_ESHUTDOWN = -4005,	  /**< queue or executor shut down */
	CT_ESTARTED = -4006,	  /**< threads can only be started once */
	CT_EJOINSELF = -4007,	  /**< cannot join current thread */
	CT_ENOTSTARTED = -4008,	  /**< cannot join thread before it is started */
	CT_EDAEMON = -4009,	  /**< cannot set daemon status of active thread */
	CT_ESTACKSIZE = -4010,	  /**< stack size not valid */
	CT_ETOOLARGE = -4011,	  /**< timeout value is too large */
	CT_EUNLOCKED = -4012,	  /**< release unlocked lock */
	CT_ENOTOWNER = -4013,	  /**< cannot release un-acquired lock */
	CT_EWAITUNOWNED = -4014,  /**< cannot wait on un-acquired lock */
	CT_ENOTIFYUNOWNED = -4015, /**< cannot notify on un-acquired lock */
	CT_EOVERRELEASE = -4016,  /**< semaphore released too many times */
	CT_ENEGATIVE = -4017,	  /**< initial value must be >= 0 */
	CT_ETASKDONE = -4018,	  /**< task_done() called too many times */
	CT_EEXITING = -4019,	  /**< can't create new thread at interpreter shutdown */
	CT_EGILNOTHELD = -4020,	  /**< the GIL is not held by the calling thread */
	CT_EGILHELD = -4021,	  /**< the GIL is already held by the calling thread */
	CT_EFUTURESTATE = -4022,  /**< Future in unexpected state */
};

/** A message for an error code, in Python's wording where Python has one.
 *  Never NULL; unknown codes give "unknown error". */
CT_API const char *ct_strerror(int code);

/** The name of an error code's symbol: "CT_EINVAL" for CT_EINVAL, "CT_OK"
 *  for 0 (libuv's uv_err_name()). Never NULL; unknown codes give
 *  "CT_EUNKNOWN". */
CT_API const char *ct_err_name(int code);

/** Wait without a time limit: the one negative timeout accepted. Any other
 *  negative value, NaN, is CT_EINVAL (Python raises ValueError), so that a
 *  computed timeout that went negative never turns into a wait forever;
 *  ct_barrier_wait() also takes CT_BARRIER_DEFAULT. */
#define CT_FOREVER (-1.0)

/** The largest accepted timeout, in seconds (Python's threading.TIMEOUT_MAX on
 *  64-bit Linux). A larger one is reported as CT_ETOOLARGE, never overflows. */
#define CT_TIMEOUT_MAX 9223372036.0

/** The address of the structure of type @p type whose member @p member is at
 *  @p ptr: how a "subclass" reaches its own fields from the embedded object. */
#define ct_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/** @cond internal */
#if defined(__GNUC__)
#define CT__LIKELY(x) __builtin_expect(!!(x), 1)
#define CT__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CT__LIKELY(x) (x)
#define CT__UNLIKELY(x) (x)
#endif
#define CT__CAT2(a, b) a##b
#define CT__CAT(a, b) CT__CAT2(a, b)
#define CT__UNIQUE(name) CT__CAT(name, __LINE__)

/* The scoped form behind CT_WITH_LOCK and its kin (Python's `with`): runs
 * the block once with a guard initialised from @p init (the acquired
 * object), and calls @p release(&guard) when the block is left.
 *
 * Covered: falling off the end, break and continue; with GCC and Clang
 * (the cleanup attribute) also return and goto out of the block. Not
 * covered: longjmp() out of the block, and return or goto on compilers
 * without the cleanup attribute, which leave the object held. */
#if defined(__GNUC__)
#define CT__WITH(type, release, init)                                            \
	for (type CT__UNIQUE(ct__g_) __attribute__((cleanup(release))) = (init); \
	     CT__UNIQUE(ct__g_) != NULL; release(&CT__UNIQUE(ct__g_)), CT__UNIQUE(ct__g_) = NULL)
#else
#define CT__WITH(type, release, init)                                      \
	for (type CT__UNIQUE(ct__g_) = (init); CT__UNIQUE(ct__g_) != NULL; \
	     release(&CT__UNIQUE(ct__g_)), CT__UNIQUE(ct__g_) = NULL)      \
		for (int CT__UNIQUE(ct__once_) = 1; CT__UNIQUE(ct__once_); \
		     CT__UNIQUE(ct__once_) = 0)
#endif
/** @endcond */

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_COMMON_H */
