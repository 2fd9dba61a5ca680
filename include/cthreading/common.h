/** @file
 * cthreading: conventions shared by every module.
 *
 * Errors, timeouts, the version and a few helper macros. Every other public
 * header includes this one. Every convention of the API (lifetimes, error
 * codes, timeouts, what returns void, the version) is listed on one page:
 * docs/python-to-c.md, "The conventions behind every row".
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
 *
 * Misuse is reported, never undefined. A NULL object pointer in
 * particular: a function that returns an error code returns CT_EINVAL, one
 * that returns a bool or a count returns false or 0, and one that returns
 * nothing does nothing. The inline fast paths check it too, with one
 * well-predicted branch that vanishes when the compiler can see the
 * pointer is not NULL (`&lock`).
 *
 * C++: every header compiles as C++ (C++11 and later) with GCC or Clang,
 * whose __atomic builtins it needs, and declares everything extern "C".
 * The structs have the same layout, and the inline fast paths the same
 * atomic operations, in both languages. What differs is inside: the
 * private atomic members are plain integers and pointers in C++, and some
 * static initializers are spelt differently (to the same effect). The
 * functions that only release (ct_lock_release()'s slow path,
 * ct_rlock_release(), ct_condition_release(), ct_semaphore_release(),
 * ct_rwlock_read_release()'s slow path, ct_rwlock_write_release()) are
 * noexcept, so that a with-block or a std::lock_guard over a cthreading
 * lock compiles to the same instructions as in C. An exception that
 * leaves a with-block releases its object. Holding a lock for a C++
 * scope: see @ref lock.
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
	(CT_VERSION >= ((major)*10000) + ((minor)*100) + (patch))
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
	CT_OK = 0,		    /**< success */
	CT_EINVAL = -EINVAL,	    /**< invalid argument (NULL, NaN, out of range) */
	CT_ENOMEM = -ENOMEM,	    /**< out of memory */
	CT_EAGAIN = -EAGAIN,	    /**< can't start new thread (the OS refused) */
	CT_ETIMEDOUT = -ETIMEDOUT,  /**< the timeout expired (or a try found it busy) */
	CT_EBUSY = -EBUSY,	    /**< the object is in use (e.g. destroy while waited on) */
	CT_EDEADLK = -EDEADLK,	    /**< the call would deadlock */
	CT_ECANCELLED = -ECANCELED, /**< the future was cancelled */
	CT_ESTOPPED = -4001,	    /**< a stop was requested for the waiting thread */
	CT_EBROKEN = -4002,	    /**< barrier broken, or thread pool broken */
	CT_EFULL = -4003,	    /**< queue full (non-blocking put) */
	CT_EEMPTY = -4004,	    /**< queue empty (non-blocking get) */
	CT_ESHUTDOWN = -4005,	    /**< queue or executor shut down */
	CT_ESTARTED = -4006,	    /**< threads can only be started once */
	CT_EJOINSELF = -4007,	    /**< cannot join current thread */
	CT_ENOTSTARTED = -4008,	    /**< cannot join thread before it is started */
	CT_EDAEMON = -4009,	    /**< cannot set daemon status of active thread */
	CT_ESTACKSIZE = -4010,	    /**< stack size not valid */
	CT_ETOOLARGE = -4011,	    /**< timeout value is too large */
	CT_EUNLOCKED = -4012,	    /**< release unlocked lock */
	CT_ENOTOWNER = -4013,	    /**< cannot release un-acquired lock */
	CT_EWAITUNOWNED = -4014,    /**< cannot wait on un-acquired lock */
	CT_ENOTIFYUNOWNED = -4015,  /**< cannot notify on un-acquired lock */
	CT_EOVERRELEASE = -4016,    /**< semaphore released too many times */
	CT_ENEGATIVE = -4017,	    /**< initial value must be >= 0 */
	CT_ETASKDONE = -4018,	    /**< task_done() called too many times */
	CT_EEXITING = -4019,	    /**< can't create new thread at interpreter shutdown */
	CT_EGILNOTHELD = -4020,	    /**< the GIL is not held by the calling thread */
	CT_EGILHELD = -4021,	    /**< the GIL is already held by the calling thread */
	CT_EFUTURESTATE = -4022,    /**< Future in unexpected state */
	CT_EJOINDUMMY = -4023,	    /**< cannot join a dummy thread */
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

/* Atomics, one layout and one memory ordering in C and C++.
 *
 * In C the private atomic members are C11 atomic objects, CT__ATOMIC(T) =
 * _Alignas(sizeof(T)) _Atomic(T), and the inline fast paths use <stdatomic.h>, as the library
 * itself does. C++ has no _Atomic (C++23's <stdatomic.h> maps it to
 * std::atomic<T>, whose layout is not promised to match), so there the
 * members are plain integers and pointers of the same size, aligned as
 * GCC and Clang align the _Atomic type (to its size), and the operations
 * are GCC's and Clang's __atomic builtins with the same memory orders,
 * which compile to the same instructions as <stdatomic.h>'s. Both
 * languages therefore see the same bytes, and each operation is the same
 * instruction, with the same ordering, in either.
 * The orders are spelt relaxed, acquire, release, acq_rel, seq_cst. */
#ifdef __cplusplus
#if !defined(__GNUC__)
#error "cthreading's headers need GCC or Clang (their __atomic builtins) in C++"
#endif
#define CT__ATOMIC(T) alignas(sizeof(T)) T
#define CT__MO_relaxed __ATOMIC_RELAXED /* a name; each use says why */
#define CT__MO_acquire __ATOMIC_ACQUIRE /* a name, as above */
#define CT__MO_release __ATOMIC_RELEASE /* a name, as above */
#define CT__MO_acq_rel __ATOMIC_ACQ_REL /* a name, as above */
#define CT__MO_seq_cst __ATOMIC_SEQ_CST /* a name, as above */
#define CT__ATOMIC_INIT(p, v) \
	__atomic_store_n((p), (v), __ATOMIC_RELAXED) /* relaxed: not yet shared */
#define CT__ATOMIC_LOAD(p, mo) __atomic_load_n((p), CT__MO_##mo)
#define CT__ATOMIC_CAS_WEAK(p, expected, desired, success, failure)                     \
	__atomic_compare_exchange_n((p), (expected), (desired), true, CT__MO_##success, \
				    CT__MO_##failure)
#define CT__ATOMIC_CAS_STRONG(p, expected, desired, success, failure)                    \
	__atomic_compare_exchange_n((p), (expected), (desired), false, CT__MO_##success, \
				    CT__MO_##failure)
#else
/* The _Alignas pins what C++'s alignas above says: GCC before 11 aligned an
 * _Atomic 64-bit member of a struct to 4 on i386, GCC 11 and Clang to 8
 * (GCC notes the change at every use without it). */
#define CT__ATOMIC(T) _Alignas(sizeof(T)) _Atomic(T)
#define CT__MO_relaxed memory_order_relaxed /* a name; each use says why */
#define CT__MO_acquire memory_order_acquire /* a name, as above */
#define CT__MO_release memory_order_release /* a name, as above */
#define CT__MO_acq_rel memory_order_acq_rel /* a name, as above */
#define CT__MO_seq_cst memory_order_seq_cst /* a name, as above */
#define CT__ATOMIC_INIT(p, v) atomic_init((p), (v))
#define CT__ATOMIC_LOAD(p, mo) atomic_load_explicit((p), CT__MO_##mo)
#define CT__ATOMIC_CAS_WEAK(p, expected, desired, success, failure)                         \
	atomic_compare_exchange_weak_explicit((p), (expected), (desired), CT__MO_##success, \
					      CT__MO_##failure)
#define CT__ATOMIC_CAS_STRONG(p, expected, desired, success, failure)                         \
	atomic_compare_exchange_strong_explicit((p), (expected), (desired), CT__MO_##success, \
						CT__MO_##failure)
#endif

/* In C++, the out-of-line functions that only release (they neither block
 * nor call back into the program) are noexcept: the cleanup of a
 * with-block and a std::lock_guard's destructor then need no exception
 * landing pad around them, and keep C's instruction count. */
#ifdef __cplusplus
#define CT__NOEXCEPT noexcept
#else
#define CT__NOEXCEPT
#endif

/* The debugging switch (cthreading/debug.h). The inline fast paths test
 * CT__DEBUG_LOCKS with one load and one predictable branch, and take their
 * out-of-line path while it is set, so that the debugging layer sees every
 * acquire and release; the inline destroy functions call
 * ct__debug_destroyed() while CT__DEBUG_OBJECTS is set (names or lock
 * orders are kept for objects). Both are 0 unless debugging was asked for. */
#define CT__DEBUG_LOCKS 1u
#define CT__DEBUG_OBJECTS 2u
#ifdef __cplusplus
CT_API extern uint32_t ct__debug_flags;
#else
CT_API extern _Atomic(uint32_t) ct__debug_flags;
#endif
/* Relaxed: a switch that orders nothing; the out-of-line path it selects reads the hooks with
 * acquire (core/debug_hooks.h), and seeing the switch late only leaves an operation unobserved
 * by the debugging layer. */
#define CT__DEBUG_ON(bits) CT__UNLIKELY(CT__ATOMIC_LOAD(&ct__debug_flags, relaxed) & (bits))
CT_API void ct__debug_destroyed(const void *object) CT__NOEXCEPT;
#define CT__DEBUG_DESTROYED(object)                  \
	do {                                         \
		if (CT__DEBUG_ON(CT__DEBUG_OBJECTS)) \
			ct__debug_destroyed(object); \
	} while (0)

#define CT__CAT2(a, b) a##b
#define CT__CAT(a, b) CT__CAT2(a, b)
#define CT__UNIQUE(name) CT__CAT(name, __LINE__)

/* The scoped form behind CT_WITH_LOCK and its kin (Python's `with`): runs
 * the block once with a guard initialised from @p init (the acquired
 * object), and calls @p release(&guard) when the block is left.
 *
 * Covered: falling off the end, break and continue; with GCC and Clang
 * (the cleanup attribute) also return and goto out of the block, and in
 * C++ an exception. Not covered: longjmp() out of the block, and return or
 * goto on compilers without the cleanup attribute, which leave the object
 * held.
 *
 * break and continue act on the block, not on a loop around it (as they
 * would in Python): break leaves the block and the enclosing loop goes on;
 * continue does the same, and the rest of that turn of the enclosing loop
 * still runs. No C11 macro can do otherwise. The guard must be a variable
 * whose scope ends with the block, and the only C11 statement that
 * declares one for the statement after it is `for` (C++17's `if (init;
 * cond)` and C2y's if declarations are not C11), so the block is a loop
 * body, which captures both. A loop around it can tell a break (it leaves
 * before the release clause runs) and redirect it, with a goto, to a
 * `break;` placed before the block in an `if (0) { ...: break; } else`;
 * but that `break;` makes every use outside a loop or switch a compile
 * error, so it cannot be the general form. A continue cannot even be
 * told from the end of the block: both jump to the loop's next clause.
 * Nor can a macro make break or continue in the block fail to compile:
 * inside a for loop both are valid. The idioms that leave the enclosing
 * loop are a flag set in the block and tested after it, or (GCC, Clang)
 * a goto past the loop, which the cleanup attribute releases. */
#define CT__WITH_PORTABLE(type, release, init)                             \
	for (type CT__UNIQUE(ct__g_) = (init); CT__UNIQUE(ct__g_) != NULL; \
	     release(&CT__UNIQUE(ct__g_)), CT__UNIQUE(ct__g_) = NULL)      \
		for (int CT__UNIQUE(ct__once_) = 1; CT__UNIQUE(ct__once_); \
		     CT__UNIQUE(ct__once_) = 0)
#if defined(__GNUC__)
#define CT__WITH(type, release, init)                                            \
	for (type CT__UNIQUE(ct__g_) __attribute__((cleanup(release))) = (init); \
	     CT__UNIQUE(ct__g_) != NULL; release(&CT__UNIQUE(ct__g_)), CT__UNIQUE(ct__g_) = NULL)
#else
#define CT__WITH(type, release, init) CT__WITH_PORTABLE(type, release, init)
#endif
/** @endcond */

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_COMMON_H */
