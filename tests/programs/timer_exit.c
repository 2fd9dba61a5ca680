/* A timer still waiting when main returns: a non-daemon one keeps the
 * process alive until it fires (Python's exit rule); a daemon one is
 * abandoned. Usage: timer_exit [daemon] */
#include <cthreading.h>
#include <stdio.h>
#include <string.h>

static ct_timer_t timer; /* must outlive main: the exit rule runs after it */

static int fire(void *arg)
{
	(void)arg;
	printf("fired\n");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	bool daemon = argc > 1 && strcmp(argv[1], "daemon") == 0;
	ct_thread_opts opts = {.daemon = daemon ? CT_DAEMON : CT_NOT_DAEMON};
	if (ct_timer_init(&timer, 0.1, fire, NULL, &opts) < 0 || ct_timer_start(&timer) < 0)
		return 1;
	ct_timer_destroy(&timer); /* our handle only: the thread keeps its own */
	printf("main returns\n");
	return 0;
}
