/* A timer still waiting when main returns: a non-daemon one keeps the
 * process alive until it fires (Python's exit rule); a daemon one is
 * abandoned. Usage: timer_exit [daemon]
 *
 * Nothing here depends on how fast the machine is. The non-daemon timer's
 * function waits until main has returned (an exit handler registered after
 * the exit rule runs before it), so "fired" always comes after "main
 * returns", from a thread the exit rule has to wait for. The daemon timer
 * waits an hour: were it waited for, the run would hit its time limit. */
#include <cthreading.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ct_timer_t timer; /* must outlive main: the exit rule runs after it */
static ct_event_t main_returned = CT_EVENT_INIT;

static int fire(void *arg)
{
	(void)arg;
	ct_event_wait(&main_returned, CT_FOREVER);
	printf("fired\n");
	fflush(stdout);
	return 0;
}

static void after_main(void)
{
	ct_event_set(&main_returned);
}

int main(int argc, char **argv)
{
	bool daemon = argc > 1 && strcmp(argv[1], "daemon") == 0;
	ct_thread_opts opts = {.daemon = daemon ? CT_DAEMON : CT_NOT_DAEMON};
	if (ct_timer_init(&timer, daemon ? 3600 : 0.1, fire, NULL, &opts) < 0 ||
	    ct_timer_start(&timer) < 0)
		return 1;
	/* Registered after the timer started, so after the exit rule: it runs
	 * first. */
	if (atexit(after_main) != 0)
		return 1;
	ct_timer_destroy(&timer); /* our handle only: the thread keeps its own */
	printf("main returns\n");
	return 0;
}
