/** @file
 * cthreading: futures, wait and as_completed (Python's concurrent.futures).
 */
#ifndef CTHREADING_FUTURE_H
#define CTHREADING_FUTURE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup future Futures, wait and as_completed
 *
 * Python's `concurrent.futures.Future`, `wait` and `as_completed`.
 *
 * A future stands for one task given to an executor (see executor.h). It
 * comes from ct_executor_submit() and is reference-counted: the caller owns
 * one reference and drops it with ct_future_release(), at any time, even
 * before the task has run (the executor keeps what it needs).
 *
 * **Tasks, status and result.** A task is a ct_task_fn: it returns a
 * status, 0 for success and anything else for failure (the C form of a
 * Python exception), and may store a value in `*result`. ct_future_result()
 * returns that status and the value; ct_future_exception() gives the status
 * alone, apart from the wait's own errors.
 *
 * @code
 * // f = executor.submit(square, 7); print(f.result())
 * ct_future_t *f;
 * ct_executor_submit(&ex, square, (void *)7, &f);
 * void *value;
 * if (ct_future_result(f, CT_FOREVER, &value) == 0)
 *         printf("%ld\n", (long)value);
 * ct_future_release(f);
 * @endcode
 *
 * A future is PENDING (queued), RUNNING, then done: FINISHED (the task ran,
 * or the pool broke before it could) or CANCELLED.
 * @{
 */

/** A future (opaque; always handled through a pointer). */
typedef struct ct_future ct_future_t;

/** A task: `fn(arg)` in Python's `submit(fn, arg)`.
 *
 * Returns its status: 0 for success, non-zero for failure (what Python's
 * task would raise). It may store its value in `*result` (NULL if it does
 * not), which ct_future_result() hands back, on failure too. A status that
 * equals one of the library's own codes (CT_ETIMEDOUT...) is reported as
 * is: just as Python's result() re-raises whatever the task raised,
 * ct_future_result() cannot tell the two apart; ct_future_exception() can.
 */
typedef int (*ct_task_fn)(void *arg, void **result);

/** A done callback: `fn(future)` in Python's add_done_callback(fn), plus
 *  the argument given with it. */
typedef void (*ct_future_callback_fn)(ct_future_t *future, void *arg);

/** `Future.result(timeout)`: waits until the task is done and returns its
 *  status (0: success), storing its value in @p *result (may be NULL).
 *
 * Returns CT_ECANCELLED if the future was cancelled, CT_ETIMEDOUT if it is
 * not done at the timeout (0: just check; CT_FOREVER: no limit), CT_EBROKEN if
 * the pool broke (its initializer failed) before the task could run.
 * Errors: CT_EINVAL (NULL, NaN timeout), CT_ETOOLARGE.
 * Interruptible: CT_ESTOPPED. Releases the caller's GIL while it waits. */
CT_API int ct_future_result(ct_future_t *future, double timeout, void **result);

/** `Future.exception(timeout)`: waits until the task is done, then returns
 *  0 and stores its status in @p *status (0: it succeeded, Python's None).
 *
 * Unlike ct_future_result(), the return value is only ever the wait's own:
 * CT_ECANCELLED, CT_ETIMEDOUT, CT_EINVAL, CT_ETOOLARGE, CT_ESTOPPED. A pool
 * broken before the task ran gives status CT_EBROKEN. Releases the GIL. */
CT_API int ct_future_exception(ct_future_t *future, double timeout, int *status);

/** `Future.cancel()`: cancels the task if it has not started. True if the
 *  future is now cancelled (also if it already was), false if the task is
 *  running or done. Waiters are woken and done callbacks run at once, in
 *  the calling thread, as in Python. ct_wait() and as_completed count the
 *  future done at once too (Python tells them only when a worker later
 *  takes the cancelled task off the queue, and never for the tasks a
 *  shutdown with cancel_futures drains). */
CT_API bool ct_future_cancel(ct_future_t *future);

/** `Future.cancelled()`. */
CT_API bool ct_future_cancelled(const ct_future_t *future);

/** `Future.running()`: the task is running now. */
CT_API bool ct_future_running(const ct_future_t *future);

/** `Future.done()`: finished or cancelled. */
CT_API bool ct_future_done(const ct_future_t *future);

/** `Future.add_done_callback(fn)`: calls `fn(future, arg)` when the future
 *  is done (finished or cancelled), in the order callbacks were added, in
 *  the thread that completes it (a worker, or the one that cancels it). If
 *  the future is already done, calls it at once in the caller.
 *
 * A callback must not wait for another task of a pool whose workers may all
 * be busy: it runs on one of them. Errors: CT_EINVAL (NULL), CT_ENOMEM (the
 * callback is not added and will not run). */
CT_API int ct_future_add_done_callback(ct_future_t *future, ct_future_callback_fn fn, void *arg);

/** `Future()`, for those who write their own executor (Python's
 *  constructor, "for use by Executor implementations and unit tests"): a
 *  pending future with no task, owned by the caller (one reference). It
 *  waits, cancels, calls back and counts references as any other. Take it
 *  through ct_future_set_running_or_notify_cancel(), then
 *  ct_future_set_result() or ct_future_set_exception().
 *
 * Errors: CT_EINVAL (NULL), CT_ENOMEM. */
CT_API int ct_future_new(ct_future_t **future);

/** `Future.set_running_or_notify_cancel()`, on a future from
 *  ct_future_new(): returns 1 if it was pending and now runs (a cancel
 *  fails from then on), 0 if it was cancelled (its waiters and callbacks
 *  were told when it was).
 *
 * Errors: CT_EFUTURESTATE ("Future in unexpected state", as Python's
 * RuntimeError) if it already runs or is done, or was cancelled and this
 * call already returned 0 for it once; CT_EINVAL (NULL, or a
 * future of an executor's, which its worker runs). */
CT_API int ct_future_set_running_or_notify_cancel(ct_future_t *future);

/** `Future.set_result(value)`, on a running future from ct_future_new():
 *  it finishes with status 0 and @p value; waiters wake and callbacks run,
 *  in the caller.
 *
 * Errors: CT_EFUTURESTATE (Python's InvalidStateError) if it is not
 * running: pending (unlike Python, which also takes a pending future: here
 * ct_future_set_running_or_notify_cancel() comes first, so that no cancel
 * can race with the result), done, or being finished by another call;
 * CT_EINVAL as ct_future_set_running_or_notify_cancel(). */
CT_API int ct_future_set_result(ct_future_t *future, void *value);

/** `Future.set_exception(exc)`: as ct_future_set_result(), but the future
 *  finishes with the non-zero @p status (the C form of the exception) and
 *  a NULL value. Errors: as ct_future_set_result(); CT_EINVAL if @p status
 *  is 0. */
CT_API int ct_future_set_exception(ct_future_t *future, int status);

/** Takes one more reference to the future and returns it. */
CT_API ct_future_t *ct_future_ref(ct_future_t *future);

/** Drops one reference; the last frees the future. Safe on NULL, and before
 *  the task has run (it still runs; nobody can ask for its result). */
CT_API void ct_future_release(ct_future_t *future);

/** When ct_wait() returns: Python's `return_when`. All-zero is Python's
 *  default. */
enum ct_return_when {
	/** When all futures are done (finished or cancelled). */
	CT_ALL_COMPLETED = 0,
	/** When any future is done. */
	CT_FIRST_COMPLETED = 1,
	/** When any future finishes with a failure (non-zero status, including
	 *  CT_EBROKEN); if none does, as CT_ALL_COMPLETED. */
	CT_FIRST_EXCEPTION = 2,
};

/** `concurrent.futures.wait(fs, timeout, return_when)`.
 *
 * Waits until the condition @p return_when holds for the @p n futures of
 * @p fs (duplicates allowed). If @p done is not NULL it receives, for each
 * future, whether it was done when the wait ended: Python's `done` set (the
 * others are `not_done`).
 *
 * Returns 0 once the condition holds (at once if it already does), or
 * CT_ETIMEDOUT if it still does not at the timeout (Python returns its two
 * sets either way; here @p done tells the same). Errors: CT_EINVAL (fs NULL
 * with n > 0, a NULL future, an unknown return_when, NaN), CT_ETOOLARGE,
 * CT_ENOMEM (more than a few dozen futures need a small allocation).
 * Interruptible: CT_ESTOPPED. Releases the caller's GIL while it waits. */
CT_API int ct_wait(ct_future_t *const *fs, size_t n, double timeout, int return_when, bool *done);

/** `concurrent.futures.as_completed(fs, timeout)` as an iterator, used by
 *  one thread at a time (as a Python generator). Treat the member as
 *  private.
 *
 * @code
 * ct_as_completed_t it;
 * ct_as_completed_init(&it, fs, n, CT_FOREVER);
 * ct_future_t *f;
 * while (ct_as_completed_next(&it, &f) == 0 && f != NULL)
 *         use(f);
 * ct_as_completed_destroy(&it);
 * @endcode */
typedef struct ct_as_completed {
	struct ct__as_completed *ct__impl; /**< private */
} ct_as_completed_t;

/** Starts iterating over @p n futures (duplicates are yielded once). The
 *  futures done already come first, in input order; the others follow in
 *  the order they complete. @p timeout bounds the whole iteration, from this
 *  call on, as in Python. The iterator holds a reference to every future
 *  until it is destroyed, so the futures it yields stay valid.
 *
 * Errors: CT_EINVAL (it or fs NULL, a NULL future, NaN), CT_ETOOLARGE,
 * CT_ENOMEM. */
CT_API int ct_as_completed_init(ct_as_completed_t *it, ct_future_t *const *fs, size_t n,
				double timeout);

/** The next future to complete: returns 0 and stores it in @p *future, or
 *  stores NULL once every future has been yielded.
 *
 * Returns CT_ETIMEDOUT if the iteration's timeout has passed and no future
 * is ready (Python's TimeoutError; later calls may still yield futures
 * that complete after). Errors: CT_EINVAL. Interruptible: CT_ESTOPPED.
 * Releases the caller's GIL while it waits. */
CT_API int ct_as_completed_next(ct_as_completed_t *it, ct_future_t **future);

/** How many futures have not been yielded yet (Python's "%d (of %d) futures
 *  unfinished" count). */
CT_API size_t ct_as_completed_remaining(const ct_as_completed_t *it);

/** Ends the iteration (before or after its end) and drops its references.
 *  Safe on an iterator whose init failed. */
CT_API void ct_as_completed_destroy(ct_as_completed_t *it);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_FUTURE_H */
