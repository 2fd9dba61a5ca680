/** @file
 * cthreading: threads (Python's threading.Thread and the module functions),
 * stop requests and the exit rule.
 */
#ifndef CTHREADING_THREAD_H
#define CTHREADING_THREAD_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup thread Threads
 *
 * Python's `threading.Thread`, with the same meaning:
 *
 * @code
 * // t = Thread(target=foo, args=(1,)); t.start(); t.join()
 * ct_thread_t *t;
 * ct_thread_new(&t, foo, &arg, NULL);
 * ct_thread_start(t);
 * ct_thread_join(t, CT_FOREVER);
 * ct_thread_release(t);
 * @endcode
 *
 * A thread object comes from ct_thread_new() (heap, reference-counted) or
 * is embedded in a caller's structure and set up with ct_thread_init(), the
 * C form of subclassing Thread: the caller supplies `run` in the options
 * and reaches its own fields with ct_container_of(). The library's rule for
 * every object: what lives in the caller's memory is set up by `_init` and
 * torn down by `_destroy`; what the library allocates is reference-counted,
 * kept with `_ref` and dropped with `_release` (threads, futures). So a
 * thread from ct_thread_new() is dropped with ct_thread_release(), an
 * embedded one with ct_thread_destroy(). Either may come before the thread ends:
 * a started thread keeps what it needs alive until it finishes, so a thread
 * whose handle nobody keeps (ct_thread_spawn()) is reclaimed when it ends.
 * An embedded object's memory is the caller's: it must stay valid until the
 * thread has finished.
 *
 * **The exit rule.** As in Python, when `main` returns or `exit()` is
 * called, the process first waits for every live non-daemon thread; daemon
 * threads are abandoned. `_exit()` and `quick_exit()` skip the wait.
 * A thread started while the wait runs is waited for too, as in Python;
 * once the wait has found none left, new threads are refused (CT_EEXITING).
 *
 * **Stop requests**, which Python lacks: ct_thread_request_stop() asks a
 * thread to stop; every interruptible wait of that thread (sleep, join,
 * condition, event, semaphore, barrier, queue, future, executor) then
 * returns CT_ESTOPPED promptly, and ct_stop_requested() reports it. The
 * request is sticky: it stays set for the rest of the thread's life.
 * @{
 */

/** A thread. Treat the members as private. */
typedef struct ct_thread {
	struct ct__thread *ct__impl; /**< private */
} ct_thread_t;

/** The function a thread runs, Python's `target`; a non-zero return value is
 *  a failure, reported through the excepthook (ct_set_excepthook()). */
typedef int (*ct_target_fn)(void *arg);

/** A "subclass" run method: replaces the default run, which calls the
 *  target. @p self is the object given to ct_thread_init(). */
typedef int (*ct_run_fn)(ct_thread_t *self);

/** `daemon` value of ct_thread_opts: the thread is a daemon. */
#define CT_DAEMON 1
/** `daemon` value of ct_thread_opts: the thread is not a daemon. */
#define CT_NOT_DAEMON (-1)

struct ct_gil;

/** Options of a new thread; all zero means Python's defaults. */
typedef struct ct_thread_opts {
	/** The name; NULL or "" gives Python's "Thread-N" or "Thread-N (target)". */
	const char *name;
	/** 0 inherits the creating thread's daemon flag (Python's default),
	 *  CT_DAEMON or CT_NOT_DAEMON choose. */
	int daemon;
	/** Stack size in bytes; 0 uses ct_stack_size_get(). Must be 0 or at
	 *  least 32768 (CT_ESTACKSIZE). */
	size_t stack_size;
	/** "Subclass" style: the run method, instead of calling the target. */
	ct_run_fn run;
	/** Run the thread under this GIL: it takes it before run and releases
	 *  it when it ends (see gil.h). */
	struct ct_gil *gil;
} ct_thread_opts;

/** ct_thread_init() with the target's name given explicitly (it only
 *  serves Python's default name, "Thread-N (target_name)"; NULL for none). */
CT_API int ct_thread_init_named(ct_thread_t *t, ct_target_fn target, const char *target_name,
				void *arg, const ct_thread_opts *opts);
/** ct_thread_new() with the target's name given explicitly. */
CT_API int ct_thread_new_named(ct_thread_t **out, ct_target_fn target, const char *target_name,
			       void *arg, const ct_thread_opts *opts);
/** ct_thread_spawn() with the target's name given explicitly. */
CT_API int ct_thread_spawn_named(ct_target_fn target, const char *target_name, void *arg,
				 const ct_thread_opts *opts);

/** Initialises a caller-allocated thread object: `Thread.__init__`.
 *
 * Called as `ct_thread_init(t, target, arg, opts)`: @p target (may be NULL)
 * will be called with `arg` by the default run; `opts` may be NULL or a
 * compound literal, `&(ct_thread_opts){.name = "worker"}`. The default name
 * records the target's name, as Python does, which is why this is a macro
 * over ct_thread_init_named() (variadic, so that the commas of a compound
 * literal pass through).
 * Errors: CT_EINVAL (t NULL), CT_ESTACKSIZE, CT_ENOMEM. After a failure
 * @p t holds no thread: ct_thread_destroy() does nothing on it and the
 * other functions report CT_EINVAL. */
#define ct_thread_init(t, target, ...) ct_thread_init_named((t), (target), #target, __VA_ARGS__)

/** Allocates and initialises a thread object: `Thread(target=..., args=...)`.
 * Called as `ct_thread_new(&t, target, arg, opts)`. Drop it with
 * ct_thread_release(). Errors as ct_thread_init(). */
#define ct_thread_new(out, target, ...) ct_thread_new_named((out), (target), #target, __VA_ARGS__)

/** Creates and starts a thread whose handle nobody keeps (the seed's
 *  `Thread(target=foo, args=(i,)).start()`); it is reclaimed when it ends.
 *  Called as `ct_thread_spawn(target, arg, opts)`. Errors as
 *  ct_thread_new() and ct_thread_start(). */
#define ct_thread_spawn(target, ...) ct_thread_spawn_named((target), #target, __VA_ARGS__)

/** Starts the thread: `Thread.start`. Once only.
 *
 * On return the thread is alive (until it ends) and listed by
 * ct_enumerate(). Errors: CT_ESTARTED ("threads can only be started once"),
 * CT_EAGAIN ("can't start new thread": the OS refused; nothing leaks and the
 * object may be started again later), CT_EEXITING, CT_EINVAL. */
CT_API int ct_thread_start(ct_thread_t *t);

/** Waits until the thread ends: `Thread.join(timeout)`. Any number of times.
 *
 * Returns 0 once the thread has finished, CT_ETIMEDOUT if it is still alive
 * at the timeout (CT_FOREVER: no limit; 0: just check). Errors: CT_EJOINSELF
 * ("cannot join current thread"), CT_ENOTSTARTED ("cannot join thread before
 * it is started"), CT_EJOINDUMMY ("cannot join a dummy thread": one that
 * cthreading did not start), CT_ETOOLARGE, CT_EINVAL.
 * Interruptible: CT_ESTOPPED. Releases the caller's GIL while it waits. */
CT_API int ct_thread_join(ct_thread_t *t, double timeout);

/** Tears down a thread object set up with ct_thread_init(). The thread, if
 *  running, goes on; what it uses is freed when it ends (the object's own
 *  memory must stay valid until then). Safe on NULL. On a handle from
 *  ct_thread_new() it does what ct_thread_release() does (0.1's spelling). */
CT_API void ct_thread_destroy(ct_thread_t *t);

/** Takes one more reference to a thread from ct_thread_new() (returns @p t,
 *  NULL for NULL): another owner that will call ct_thread_release(). */
CT_API ct_thread_t *ct_thread_ref(ct_thread_t *t);

/** Drops one reference to a thread from ct_thread_new(); the last one frees
 *  the handle. The thread, if running, goes on; what it uses is freed when
 *  it ends. Safe on NULL. */
CT_API void ct_thread_release(ct_thread_t *t);

/** `Thread.is_alive()`: started and not yet finished. */
CT_API bool ct_thread_is_alive(const ct_thread_t *t);

/** `Thread.name`. Valid until the name is changed or the object destroyed. */
CT_API const char *ct_thread_name(const ct_thread_t *t);

/** Sets `Thread.name`; a running thread's OS-visible name (`top -H`, gdb,
 *  /proc) follows, truncated to the platform's limit without failing.
 *  Set a running thread's name from that thread itself, or while nobody
 *  reads it. Errors: CT_EINVAL, CT_ENOMEM. */
CT_API int ct_thread_set_name(ct_thread_t *t, const char *name);

/** `Thread.daemon`. */
CT_API bool ct_thread_daemon(const ct_thread_t *t);

/** Sets `Thread.daemon` before start. Errors: CT_EDAEMON ("cannot set daemon
 *  status of active thread") once started, CT_EINVAL. */
CT_API int ct_thread_set_daemon(ct_thread_t *t, bool daemon);

/** `Thread.ident` (the pthread id); 0 (Python's None) before start. */
CT_API unsigned long ct_thread_ident(const ct_thread_t *t);

/** `Thread.native_id` (the kernel's thread id); 0 before start. Once the
 *  thread is started it is always known: this waits the few instructions it
 *  may take the new thread to publish it. */
CT_API long ct_thread_native_id(const ct_thread_t *t);

/** Asks the thread to stop: its interruptible waits return CT_ESTOPPED from
 *  now on, and ct_stop_requested() is true in it. Works before start too.
 *  Errors: CT_EINVAL. */
CT_API int ct_thread_request_stop(ct_thread_t *t);

/** True once a stop was requested for the calling thread. */
CT_API bool ct_stop_requested(void);

/** Sleeps: `time.sleep(seconds)`, but interruptible (CT_ESTOPPED) and
 *  releasing the caller's GIL. Errors: CT_EINVAL (negative or NaN, Python's
 *  "sleep length must be non-negative"), CT_ETOOLARGE. */
CT_API int ct_sleep(double seconds);

/** `threading.current_thread()`. Never NULL: a thread cthreading did not
 *  start gets a "dummy" record (named "Dummy-N", daemon), as in Python.
 *  The pointer is borrowed: valid while the thread runs; never pass it to
 *  ct_thread_destroy (the thread's creator owns that reference). */
CT_API ct_thread_t *ct_current_thread(void);

/** `threading.main_thread()`: the thread that loaded the library ("MainThread"). */
CT_API ct_thread_t *ct_main_thread(void);

/** `threading.active_count()`: live threads, the main and dummy ones included. */
CT_API size_t ct_active_count(void);

/** `threading.enumerate()`: calls @p fn for every live thread, the main and
 *  dummy ones included, and returns how many. The list is locked during the
 *  calls: @p fn must not start threads, nor fork. */
CT_API size_t ct_enumerate(void (*fn)(ct_thread_t *t, void *arg), void *arg);

/** `threading.get_ident()`. */
CT_API unsigned long ct_get_ident(void);

/** `threading.get_native_id()`. */
CT_API long ct_get_native_id(void);

/** `threading.stack_size()`: the stack size new threads get (0: the system's). */
CT_API size_t ct_stack_size_get(void);

/** `threading.stack_size(size)`: 0 or at least 32768 bytes, else CT_ESTACKSIZE. */
CT_API int ct_stack_size_set(size_t size);

/** What the excepthook is told: `threading.ExceptHookArgs`. */
typedef struct ct_excepthook_args {
	ct_thread_t *thread; /**< the thread whose run failed; NULL: the calling thread,
				  named by its ident (Python's `thread=None`) */
	int status;	     /**< what run returned (non-zero) */
} ct_excepthook_args;

/** An excepthook: called in the failing thread, before it ends. */
typedef void (*ct_excepthook_fn)(const ct_excepthook_args *args);

/** Replaces `threading.excepthook`; NULL restores the default. Returns the
 *  previous one. */
CT_API ct_excepthook_fn ct_set_excepthook(ct_excepthook_fn fn);

/** `threading.__excepthook__`: prints "Exception in thread NAME: ..." to stderr
 *  (NAME is the caller's ident when `args->thread` is NULL; NULL @p args
 *  prints nothing). */
CT_API void ct_excepthook_default(const ct_excepthook_args *args);

/** A thread start or exit hook; runs in the thread itself. */
typedef void (*ct_thread_hook_fn)(ct_thread_t *t, void *arg);

/** Sets hooks for threads started from now on (the C analogue of
 *  `threading.settrace` / `setprofile`): @p on_start runs in each new thread
 *  before its run, @p on_exit after it (both may be NULL). */
CT_API void ct_set_thread_hooks(ct_thread_hook_fn on_start, ct_thread_hook_fn on_exit, void *arg);

/** Waits for every live non-daemon thread except the caller, as the exit rule
 *  does, but bounded: 0 when none is left, CT_ETIMEDOUT otherwise.
 *  Interruptible: CT_ESTOPPED. Releases the caller's GIL while it waits. */
CT_API int ct_shutdown(double timeout);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_THREAD_H */
