/** @file
 * cthreading: the thread pool (Python's concurrent.futures.ThreadPoolExecutor).
 */
#ifndef CTHREADING_EXECUTOR_H
#define CTHREADING_EXECUTOR_H

#include "common.h"
#include "future.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup executor Executor (thread pool)
 *
 * Python's `concurrent.futures.ThreadPoolExecutor`, with the same meaning:
 *
 * @code
 * // with ThreadPoolExecutor(max_workers=4) as ex:
 * //     f = ex.submit(task, arg)
 * ct_executor_t ex;
 * ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4});
 * ct_future_t *f;
 * ct_executor_submit(&ex, task, arg, &f);
 * ...
 * ct_future_release(f);
 * ct_executor_destroy(&ex);   // shutdown(wait=True), then free
 * @endcode
 *
 * **Workers** are cthreading threads named `PREFIX_N` (N from 0), started
 * lazily: a submit starts a new one only when no worker is free to take
 * the task, up to `max_workers`; free workers are reused. They are not
 * daemon threads (as in Python 3.9+), so the exit rule covers them: when
 * `main` returns or `exit()` is called, every executor still open is shut
 * down (Python's `_python_exit`): its queued tasks still run, unless they
 * were cancelled, and the process exits after them.
 *
 * **Tasks** start in the order they were submitted (FIFO), each on one
 * worker. A task or a done callback may submit more work. Once the pool
 * has all its workers, what a task submits to its own pool goes to its
 * worker's own queue (work stealing: idle workers take from it, so a task
 * that waits for its children does not hold them up): such tasks start in
 * the order their task submitted them, and may start before tasks other
 * threads submitted earlier. The items of a map are started in input
 * order, at most max_workers of them at once, as Python's one future per
 * item, and before anything submitted after the map's first item started.
 * Unlike Python's pool, a map does not hand its items to every free
 * worker at once: it starts on one worker and brings more while they
 * pay, because a trivial function runs fastest on one. Items of about
 * 150 ns or more bring more workers within a few items (when what is
 * left is worth their wake-up); items that wait or run long bring them
 * within 100 us without a new item starting (the count doubles each
 * time); so items that wait for one another never deadlock where
 * Python's pool would not. ct_executor_workers() counts the workers a
 * map may use once it is called, as Python starts a thread per item.
 *
 * **A failing initializer** (non-zero status) breaks the pool, as Python's
 * BrokenThreadPool: the worker reports it through the excepthook (see
 * ct_set_excepthook()), queued tasks finish with status CT_EBROKEN and
 * later submits fail with CT_EBROKEN.
 *
 * **After fork()** an executor inherited from the parent works in the
 * child: it has no worker there, and starts them as it needs them (the
 * next submit, or a shutdown or destroy while tasks are queued, which then
 * run). A task that was running in the parent never finishes in the child
 * (its future stays running, as in Python). Nothing hangs: destroying the
 * executor in the child returns once the queued tasks have run (or, if no
 * worker can start, ended with CT_EBROKEN).
 * @{
 */

/** An executor. Treat the member as private. Set up with
 *  ct_executor_init(), released with ct_executor_destroy(). */
typedef struct ct_executor {
	struct ct__executor *ct__impl; /**< private */
} ct_executor_t;

/** An initializer: `initializer(*initargs)`, run once by each worker before
 *  its first task. Non-zero means failure and breaks the pool. */
typedef int (*ct_initializer_fn)(void *initarg);

/** Options of ct_executor_init(); all zero means Python's defaults. */
typedef struct ct_executor_opts {
	/** Most workers at once; 0 gives Python's `min(32, CPUs + 4)`, CPUs
	 *  being those the process may run on (its affinity mask, as
	 *  `taskset` sets it: Python 3.13's `os.process_cpu_count()`).
	 *  Negative is CT_EINVAL (Python: "max_workers must be greater than
	 *  0"). */
	int max_workers;
	/** Worker names are "PREFIX_N"; NULL or "" gives Python's
	 *  "ThreadPoolExecutor-K", K counting the pools so named. */
	const char *thread_name_prefix;
	/** Run by each worker before its first task (NULL for none). */
	ct_initializer_fn initializer;
	/** The initializer's argument. */
	void *initarg;
} ct_executor_opts;

/** `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer,
 *  initargs)`: sets up an executor. No thread starts until the first
 *  submit. @p opts may be NULL (the defaults).
 *
 * Errors: CT_EINVAL (ex NULL, max_workers < 0), CT_ENOMEM. */
CT_API int ct_executor_init(ct_executor_t *ex, const ct_executor_opts *opts);

/** `Executor.submit(fn, arg)`: queues `fn(arg)` and, if @p future is not
 *  NULL, gives a new future for it (the caller owns one reference: drop it
 *  with ct_future_release()). With @p future NULL, the task runs
 *  unobserved ("fire and forget").
 *
 * Starts a worker if none is free and fewer than max_workers exist. If that
 * start fails but other workers exist, the task is queued for them anyway
 * (Python would raise from submit, with the task already queued); if no
 * worker exists at all, the submit fails and nothing is queued.
 *
 * Errors: CT_EINVAL (NULL), CT_ESHUTDOWN (after shutdown, or once the
 * process began to exit: Python's "cannot schedule new futures after
 * shutdown"),
 * CT_EBROKEN (a worker's initializer failed), CT_ENOMEM, CT_EAGAIN (no
 * worker exists and none could start). Never blocks. */
CT_API int ct_executor_submit(ct_executor_t *ex, ct_task_fn fn, void *arg, ct_future_t **future);

/** `Executor.map(fn, args, timeout)`: runs `fn(args[i])` for the @p n
 *  arguments and stores the values in @p results (n slots; may be NULL) in
 *  input order. @p timeout bounds the whole call, measured from its start.
 *
 * Returns 0 when every task succeeded. Otherwise it returns the first
 * failure in input order: a task's non-zero status, or CT_ETIMEDOUT /
 * CT_ESTOPPED if the wait for that item ended first, or CT_ECANCELLED /
 * CT_EBROKEN if a shutdown with cancel_futures or a broken pool took it.
 *
 * With @p statuses NULL, map behaves as Python's iterator: it stops at the
 * first failure and cancels the items not yet started; the values before
 * it are in @p results. With @p statuses (n slots), map collects
 * everything: each item's status (or CT_ECANCELLED for an item cancelled
 * after a timeout, CT_ETIMEDOUT / CT_ESTOPPED for one still running then)
 * and, for those that ran, its value.
 *
 * After a timeout or stop, items that were already running go on (as in
 * Python); map copies the arguments, so @p args may be freed at once, but
 * what they point to must outlive those tasks.
 *
 * Errors (nothing runs): CT_EINVAL (ex or fn NULL, args NULL with n > 0,
 * NaN timeout), CT_ETOOLARGE, CT_ESHUTDOWN, CT_EBROKEN, CT_ENOMEM,
 * CT_EAGAIN. Interruptible: CT_ESTOPPED. Releases the caller's GIL while it
 * waits. */
CT_API int ct_executor_map(ct_executor_t *ex, ct_task_fn fn, void *const *args, size_t n,
			   double timeout, void **results, int *statuses);

/** `Executor.shutdown(wait, cancel_futures)`: accepts no more work
 *  (CT_ESHUTDOWN); queued tasks still run, unless @p cancel_futures, which
 *  cancels every task not yet started. Idle workers end once the queue is
 *  empty. With @p wait, returns after every worker has ended. Safe to call
 *  more than once, from any thread.
 *
 * Returns 0, or CT_EJOINSELF if called with @p wait from one of the pool's
 * own tasks (the other workers are waited for; the caller's cannot be, as
 * Python's "cannot join current thread"). Errors: CT_EINVAL.
 * Interruptible (the wait only; the shutdown itself is done): CT_ESTOPPED.
 * Releases the caller's GIL while it waits. */
CT_API int ct_executor_shutdown(ct_executor_t *ex, bool wait, bool cancel_futures);

/** ct_executor_shutdown(ex, true, cancel_futures) with a bound on the wait
 *  (beyond Python): returns CT_ETIMEDOUT if a worker is still running
 *  after @p timeout seconds. The pool is shut down either way and its
 *  workers go on with what they had taken or was queued; call it again,
 *  or ct_executor_destroy(), to wait for them.
 *
 * Errors: CT_EINVAL (NULL executor, NaN timeout), CT_ETOOLARGE,
 * CT_EJOINSELF as ct_executor_shutdown(). Interruptible (the wait only):
 * CT_ESTOPPED. Releases the caller's GIL while it waits. */
CT_API int ct_executor_shutdown_timeout(ct_executor_t *ex, bool cancel_futures, double timeout);

/** Shuts the executor down as ct_executor_shutdown(ex, true, false) unless
 *  that was done, waits until no task of it runs any more (even if a stop
 *  was requested for the caller), then frees it: Python's `with` block end.
 *  Futures stay valid until released. From one of the pool's own tasks it
 *  cannot wait for itself: the pool is then freed when its last worker
 *  ends. Safe on an executor whose init failed. */
CT_API void ct_executor_destroy(ct_executor_t *ex);

/** `ThreadPoolExecutor._max_workers`: the most workers the pool runs;
 *  CT_EINVAL for NULL or a destroyed executor. */
CT_API int ct_executor_max_workers(const ct_executor_t *ex);

/** How many workers the pool has started so far (Python's
 *  `len(executor._threads)`); CT_EINVAL for NULL or a destroyed executor. */
CT_API int ct_executor_workers(const ct_executor_t *ex);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_EXECUTOR_H */
