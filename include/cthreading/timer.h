/** @file
 * cthreading: Timer (Python's threading.Timer).
 */
#ifndef CTHREADING_TIMER_H
#define CTHREADING_TIMER_H

#include "common.h"
#include "event.h"
#include "thread.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup timer Timer
 *
 * Python's `threading.Timer(interval, function, args)`: a thread that waits
 * @p interval seconds, then calls the function, unless cancelled first.
 *
 * A timer *is* a thread, as in Python, where Timer subclasses Thread: its
 * `thread` member is a ct_thread_t, so it has a name ("Thread-N" by
 * default), a daemon flag (inherited, or set through the options or with
 * ct_thread_set_daemon() before start), and obeys the exit rule: a
 * non-daemon timer still waiting when `main` returns keeps the process
 * alive until it fires, as in Python. Use any ct_thread_ function on
 * `&timer.thread`.
 *
 * A stop request for the timer's thread cancels it.
 *
 * @code
 * static ct_timer_t reminder;
 * ct_timer_init(&reminder, 30.0, remind, NULL, NULL);   // Timer(30, remind)
 * ct_timer_start(&reminder);
 * ...
 * ct_timer_cancel(&reminder);
 * ct_timer_join(&reminder, CT_FOREVER);
 * ct_timer_destroy(&reminder);
 * @endcode
 * @{
 */

/** A timer. `thread` is public; treat the other members as private. The
 *  object must stay valid until its thread has ended (a join returned),
 *  even after ct_timer_destroy(). */
typedef struct ct_timer {
	ct_thread_t thread;	   /**< the timer's thread */
	ct_event_t ct__finished;   /**< private: set by cancel, and when done */
	double ct__interval;	   /**< private */
	ct_target_fn ct__function; /**< private */
	void *ct__arg;		   /**< private */
} ct_timer_t;

/** `Timer(interval, function, args)`: sets up the timer (not started).
 *
 * @p function is called with @p arg in the timer's thread; a non-zero
 * return is reported through the excepthook as for any thread. A negative
 * @p interval fires at once (Python waits no time either). @p opts are the
 * thread's options (NULL: Python's defaults); `opts->run` must be NULL.
 *
 * Errors: CT_EINVAL (NULL timer or function, NaN interval, opts->run set),
 * CT_ETOOLARGE, and those of ct_thread_init() (CT_ESTACKSIZE, CT_ENOMEM).
 * After a failure ct_timer_destroy() does nothing on the timer and the
 * other functions report CT_EINVAL. */
CT_API int ct_timer_init(ct_timer_t *timer, double interval, ct_target_fn function, void *arg,
			 const ct_thread_opts *opts);

/** `Timer.start()`: ct_thread_start() of its thread. */
CT_API int ct_timer_start(ct_timer_t *timer);

/** `Timer.cancel()`: the function will not be called if the timer is still
 *  waiting; no effect once it has fired. Any thread, any number of times. */
CT_API void ct_timer_cancel(ct_timer_t *timer);

/** `Timer.join(timeout)`: ct_thread_join() of its thread. */
CT_API int ct_timer_join(ct_timer_t *timer, double timeout);

/** Drops the caller's handle (ct_thread_destroy() of its thread). A running
 *  timer goes on; its memory must stay valid until it has ended. */
CT_API void ct_timer_destroy(ct_timer_t *timer);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_TIMER_H */
