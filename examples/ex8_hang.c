/* When your program hangs: a lock-order report, a thread dump and a
 * deadlock report, from the dining philosophers with two forks.
 *
 * Python has no switch for this (its faulthandler dumps only the stacks);
 * in cthreading it is CTHREADING=deadlock in the environment, or the same
 * from C, as here, with the reports on stdout:
 *
 *   1. Plato takes the left fork then the right, Kant the right then the
 *      left, one after the other: they never meet, yet the two orders can
 *      deadlock, and the first inversion is reported.
 *   2. The main thread holds the left fork while Plato, holding the right
 *      one, waits for it: ct_dump() shows who waits on what, for how long,
 *      and who holds it.
 *   3. The main thread then asks for the right fork with a timeout: that
 *      would close a cycle of waits, so the call is reported and returns
 *      CT_EDEADLK at once instead of waiting out its timeout.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <cthreading.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ct_lock_t left = CT_LOCK_INIT, right = CT_LOCK_INIT;

static int left_then_right(void *arg)
{
	(void)arg;
	CT_WITH_LOCK(&left)
	CT_WITH_LOCK(&right)
	printf("%s eats\n", ct_thread_name(ct_current_thread()));
	return 0;
}

static int right_then_left(void *arg)
{
	(void)arg;
	CT_WITH_LOCK(&right)
	CT_WITH_LOCK(&left)
	printf("%s eats\n", ct_thread_name(ct_current_thread()));
	return 0;
}

static void run(ct_target_fn fn, const char *name, ct_thread_t **out)
{
	ct_thread_opts opts = {.name = name};
	if (ct_thread_new(out, fn, NULL, &opts) != 0 || ct_thread_start(*out) != 0)
		exit(1);
	fflush(stdout);
}

/* Waits until a dump shows @p what: the other thread gets there in its own
 * time. */
static void wait_for_dump_to_show(const char *what)
{
	for (;;) {
		char *text = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&text, &size);
		ct_dump(f);
		fclose(f);
		int shown = strstr(text, what) != NULL;
		free(text);
		if (shown)
			return;
		ct_sleep(0.01);
	}
}

int main(void)
{
	ct_debug_configure("deadlock,log=stdout");
	ct_object_set_name(&left, "left fork");
	ct_object_set_name(&right, "right fork");
	ct_thread_t *t;

	printf("== 1. two orders, no deadlock yet ==\n");
	run(left_then_right, "Plato", &t);
	ct_thread_join(t, CT_FOREVER);
	ct_thread_release(t);
	run(right_then_left, "Kant", &t);
	ct_thread_join(t, CT_FOREVER);
	ct_thread_release(t);

	printf("\n== 2. a thread dump ==\n");
	ct_lock_acquire(&left);
	run(right_then_left, "Plato", &t);
	wait_for_dump_to_show("waiting on lock \"left fork\"");
	fflush(stdout);
	ct_dump(stdout);

	printf("\n== 3. a deadlock, reported instead of waited out ==\n");
	fflush(stdout);
	int rc = ct_lock_acquire_timeout(&right, 10);
	printf("main: ct_lock_acquire_timeout(right fork) = %s\n", ct_err_name(rc));
	ct_lock_release(&left); /* the cycle opens: Plato eats */
	ct_thread_join(t, CT_FOREVER);
	ct_thread_release(t);
	return 0;
}
