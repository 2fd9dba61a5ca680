/* Helpers shared by the ports of CPython's test files (test_cpython_*.c).
 *
 * CPython's tests synchronise with short sleeps ("let the threads get
 * there"). The ports never do: they wait for a real condition instead, a
 * thread parked in the parking core (ht_wait_parked), a counter reaching a
 * value, an event. ct_poll_until() is the one loop that polls such an
 * observable; it yields between looks and fails the case after a minute,
 * well inside the harness's time limit, so a hang is a named failure.
 */
#ifndef CT_TEST_CPYTHON_HELPERS_H
#define CT_TEST_CPYTHON_HELPERS_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "harness.h"
#include "ht_internal.h"

/* Polls @p cond until it holds; fails the case if it still does not after
 * 60 seconds. The sleep is a poll interval, not a guess. */
#define ct_poll_until(cond)                                                                       \
	do {                                                                                      \
		double cp_limit_ = ht_now() + 60;                                                 \
		for (unsigned cp_i_ = 0; !(cond); cp_i_++) {                                      \
			if (ht_now() > cp_limit_)                                                 \
				ht_fail(__FILE__, __LINE__, "still false after 60 s: %s", #cond); \
			if (cp_i_ < 1000)                                                         \
				sched_yield();                                                    \
			else                                                                      \
				ct_sleep(0.0005);                                                 \
		}                                                                                 \
	} while (0)

/* Lock tests' Bunch: @p n threads running the same function; with
 * wait_before_exit, they do not end until bunch_finish(). */
#define BUNCH_MAX 64

struct bunch {
	void (*fn)(void *arg);
	void *arg;
	int n;
	ct_thread_t *threads[BUNCH_MAX];
	atomic_int started, finished;
	ct_event_t can_exit;
};

static inline int bunch_task(void *p)
{
	struct bunch *b = p;
	atomic_fetch_add(&b->started, 1);
	b->fn(b->arg);
	atomic_fetch_add(&b->finished, 1);
	return ct_event_wait(&b->can_exit, CT_FOREVER);
}

/* Starts the threads and returns once every one of them runs. */
static inline void bunch_start(struct bunch *b, void (*fn)(void *), void *arg, int n,
			       bool wait_before_exit)
{
	CHECK(n > 0 && n <= BUNCH_MAX);
	b->fn = fn;
	b->arg = arg;
	b->n = n;
	atomic_init(&b->started, 0);
	atomic_init(&b->finished, 0);
	ct_event_init(&b->can_exit);
	if (!wait_before_exit)
		ct_event_set(&b->can_exit);
	for (int i = 0; i < n; i++) {
		CHECK_OK(ct_thread_new(&b->threads[i], bunch_task, b, NULL));
		CHECK_OK(ct_thread_start(b->threads[i]));
	}
	ct_poll_until(atomic_load(&b->started) >= n);
}

/* Waits until every thread of the bunch is blocked in its first wait. */
static inline void bunch_wait_blocked(struct bunch *b)
{
	for (int i = 0; i < b->n; i++)
		ht_wait_parked(b->threads[i]);
}

static inline void bunch_finish(struct bunch *b)
{
	ct_event_set(&b->can_exit);
}

/* Waits for every thread to end (Bunch.__exit__) and frees them. */
static inline void bunch_join(struct bunch *b)
{
	for (int i = 0; i < b->n; i++) {
		CHECK_OK(ct_thread_join(b->threads[i], CT_FOREVER));
		ct_thread_release(b->threads[i]);
	}
	CHECK_EQ(atomic_load(&b->finished), b->n);
}

/* Bunch(f, n) used as `with Bunch(f, n): pass`. */
static inline void bunch_run(void (*fn)(void *), void *arg, int n)
{
	struct bunch b;
	bunch_start(&b, fn, arg, n, false);
	bunch_join(&b);
}

/* Starts fn(arg) in a new thread. */
static inline ct_thread_t *cp_start(ct_target_fn fn, void *arg)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, fn, arg, NULL));
	CHECK_OK(ct_thread_start(t));
	return t;
}

static inline void cp_join(ct_thread_t *t)
{
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_release(t);
}

/* Checks that a wait that timed out did not return before its timeout. */
#define CP_CHECK_NOT_EARLY(t0, timeout) CHECK(ht_now() - (t0) >= (timeout))

/* Runs a program of tests/programs with one argument; fails the case
 * unless it exits with @p want_status. Gives its stdout and stderr (to
 * free). */
static inline void cp_run_mode(const char *prog, const char *mode, int want_status, char **out,
			       char **err)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", CT_TEST_PROGRAMS, prog);
	const char *argv[] = {path, mode, NULL};
	int status = ht_run(argv, out, err);
	if (status != want_status)
		ht_fail(__FILE__, __LINE__,
			"%s %s: status %d (expected %d)\nstdout:\n%s\nstderr:\n%s", prog, mode,
			status, want_status, *out, *err);
}

/* As cp_run_mode(), and the program must write nothing to stderr (no
 * error, no sanitizer report) and exactly @p want to stdout. */
static inline void cp_check_mode(const char *prog, const char *mode, const char *want)
{
	char *out, *err;
	cp_run_mode(prog, mode, 0, &out, &err);
	if (err[0] != '\0')
		ht_fail(__FILE__, __LINE__, "%s %s wrote to stderr:\n%s", prog, mode, err);
	CHECK_STR(out, want);
	free(out);
	free(err);
}

#endif /* CT_TEST_CPYTHON_HELPERS_H */
