/* Timer: a thread whose run waits on an Event for the interval, then calls
 * the function unless the event was set (cancel) meanwhile. The thread
 * supplies the name, the daemon flag, the exit rule and stop requests; the
 * Event supplies a cancellable, interruptible wait. */
#include "cthreading/timer.h"

#include "core/internal.h"

static int timer_run(ct_thread_t *self)
{
	ct_timer_t *timer = ct_container_of(self, ct_timer_t, thread);
	/* Set by cancel (0), not set at the end of the interval
	 * (CT_ETIMEDOUT), or a stop request (CT_ESTOPPED): only the
	 * interval's end fires. */
	int rc = ct_event_wait(&timer->ct__finished, timer->ct__interval);
	int status = 0;
	if (rc == CT_ETIMEDOUT &&
	    /* GCOVR_EXCL_BR_START: a cancel landing in the instant the interval ends: a race no
	     * test can aim at */
	    !ct_event_is_set(&timer->ct__finished))
		/* GCOVR_EXCL_BR_STOP */
		status = timer->ct__function(timer->ct__arg);
	ct_event_set(&timer->ct__finished);
	return status;
}

int ct_timer_init(ct_timer_t *timer, double interval, ct_target_fn function, void *arg,
		  const ct_thread_opts *opts)
{
	if (!timer)
		return CT_EINVAL;
	timer->thread.ct__impl = NULL; /* a failed init leaves a timer destroy accepts */
	if (!function || (opts && opts->run))
		return CT_EINVAL;
	/* Python's Timer fires at once when the interval is negative (its
	 * Event.wait treats a negative timeout as 0): a computed interval
	 * that went negative means "already due", not a mistake. */
	if (interval < 0)
		interval = 0;
	int64_t deadline;
	int rc = ct__deadline(interval, &deadline); /* NaN, too large */
	if (rc < 0)
		return rc;
	ct_thread_opts o = opts ? *opts : (ct_thread_opts){0};
	o.run = timer_run;
	ct_event_init(&timer->ct__finished);
	timer->ct__interval = interval;
	timer->ct__function = function;
	timer->ct__arg = arg;
	/* No target: Python names a Timer "Thread-N", without "(target)". */
	return ct_thread_init_named(&timer->thread, NULL, NULL, NULL, &o);
}

int ct_timer_start(ct_timer_t *timer)
{
	if (CT__UNLIKELY(!timer))
		return CT_EINVAL;
	return ct_thread_start(&timer->thread);
}

void ct_timer_cancel(ct_timer_t *timer)
{
	if (CT__UNLIKELY(!timer))
		return;
	ct_event_set(&timer->ct__finished);
}

int ct_timer_join(ct_timer_t *timer, double timeout)
{
	if (CT__UNLIKELY(!timer))
		return CT_EINVAL;
	return ct_thread_join(&timer->thread, timeout);
}

void ct_timer_destroy(ct_timer_t *timer)
{
	if (CT__UNLIKELY(!timer))
		return;
	ct_thread_destroy(&timer->thread);
}
