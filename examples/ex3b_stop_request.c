/* 停止线程 (2): the same thread, stopped with a stop request.
 *
 * ct_thread_request_stop() wakes the thread out of its sleep at once
 * (ct_sleep returns CT_ESTOPPED), instead of the flag being seen only after
 * the sleep. The program prints how long the stop took: well under a
 * millisecond here, up to a whole second with the flag.
 */
#define _POSIX_C_SOURCE 200809L
#include <cthreading.h>
#include <stdio.h>
#include <time.h>

static ct_event_t printed = CT_EVENT_INIT;

static int foo_run(ct_thread_t *self)
{
	while (!ct_stop_requested()) {
		printf("线程%s\n", ct_thread_name(self));
		ct_event_set(&printed);
		if (ct_sleep(1) == CT_ESTOPPED)
			break;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
	ct_thread_t *t;
	int rc = ct_thread_new(&t, NULL, NULL, &(ct_thread_opts){.run = foo_run, .name = "1"});
	if (rc == 0)
		rc = ct_thread_start(t);
	if (rc < 0) {
		fprintf(stderr, "%s\n", ct_strerror(rc));
		return 1;
	}
	ct_event_wait(&printed, CT_FOREVER); /* the thread is in its sleep */
	double t0 = now();
	ct_thread_request_stop(t);
	ct_thread_join(t, CT_FOREVER);
	double ms = (now() - t0) * 1e3;
	printf("停止用时 %.3f 毫秒（标志位方式最多要等 1000 毫秒）\n", ms);
	ct_thread_release(t);
	return 0;
}
