/* The exit rule (Python's threading._shutdown): at exit, the main thread
 * waits for every non-daemon thread, after the work registered to happen
 * first (executors shut down), and new threads are refused from then on. */
#include <pthread.h>
#include <stdlib.h>

#include "core/internal.h"
#include "park/park.h"
#include "thread/thread_private.h"

#define MAX_BEFORE_EXIT 8

static void (*before_exit[MAX_BEFORE_EXIT])(void);
static atomic_uint n_before_exit;
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;

int ct__before_exit_wait(void (*fn)(void))
{
	unsigned i = atomic_fetch_add(&n_before_exit, 1);
	/* GCOVR_EXCL_BR_START: the library's own layers register a fixed, smaller number of waits
	 */
	if (i >= MAX_BEFORE_EXIT)
		return CT_ENOMEM;
	/* GCOVR_EXCL_BR_STOP */
	before_exit[i] = fn;
	return 0;
}

static int wait_non_daemon(int64_t deadline, unsigned flags, bool final)
{
	struct ct__thread *self = ct__self();
	for (;;) {
		struct ct__thread *rec = ct__registry_next_non_daemon(self, final);
		if (!rec)
			return 0;
		int rc = ct__thread_wait_finished(rec, deadline, flags);
		ct__rec_unref(rec);
		if (rc < 0 && rc != CT_ENOTSTARTED)
			return rc;
	}
}

/* Python's _shutdown() stops the main thread's record before anything
 * else: a thread joining the main thread returns, and is_alive() is false.
 * Only when the main thread itself is exiting; a worker calling exit()
 * leaves the main thread running until the process ends. */
static void mark_main_finished(void)
{
	struct ct__thread *self = ct__self_peek();
	if (!self || self != ct__main_rec)
		return;
	/* Release: pairs with the joiners' acquire (ct__thread_wait_finished()), so they see
	 * what the main thread did before finishing. */
	atomic_store_explicit(&self->state, CT__T_FINISHED, memory_order_release);
	ct__park_wake(&self->state, ~0u);
}

static void exit_rule(void)
{
	mark_main_finished();
	unsigned n = atomic_load(&n_before_exit);
	/* GCOVR_EXCL_BR_START: the library's own layers register a fixed, smaller number of waits
	 */
	for (unsigned i = 0; i < n && i < MAX_BEFORE_EXIT; i++)
		before_exit[i]();
	/* GCOVR_EXCL_BR_STOP */
	/* Not interruptible: a stop request must not cut the exit rule short.
	 * The GIL, if the exiting thread holds it, is released while it waits
	 * (the parking core does it), so GIL threads can finish. */
	wait_non_daemon(CT__NO_DEADLINE, CT__PARK_NO_SPIN, true);
	/* The main thread's locals outlive the program's exit handlers
	 * (local.c destroys them last). */
}

/* Registered when the first thread starts (or a pool is created) rather
 * than at load time: exit handlers run in reverse order of registration,
 * so whatever the program registered before it had threads is torn down
 * only after they are gone. */
static void register_exit_rule(void)
{
	atexit(exit_rule);
}

void ct__exit_rule_arm(void)
{
	pthread_once(&atexit_once, register_exit_rule);
}

int ct_shutdown(double timeout)
{
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	if (rc < 0)
		return rc;
	return wait_non_daemon(deadline, CT__PARK_INTERRUPTIBLE | CT__PARK_NO_SPIN, false);
}
