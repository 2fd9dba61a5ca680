/* 停止线程 (1): stopping a thread with a flag, as the seed does.
 *
 * The seed's Python:
 *
 *     def run(self):
 *         while not self.is_stop:
 *             print(f'线程{self.name}')
 *             time.sleep(1)
 *     def stop(self):
 *         self.is_stop = True
 *     t = Foo(1); t.start(); t.stop()
 *
 * It prints 线程1 once: Python's start() returns only once the thread runs,
 * and the GIL lets the new thread reach its print before the main thread's
 * stop(). C threads truly run in parallel, so main here waits for that
 * first print (the `printed` event) before calling stop.
 *
 * The weakness the seed works around: the thread only sees the flag after
 * its sleep, so stopping takes up to a whole second. ex3b_stop_request.c
 * shows the cthreading way.
 */
#include <cthreading.h>
#include <stdatomic.h>
#include <stdio.h>

struct foo {
	ct_thread_t thread;
	atomic_bool is_stop;
	ct_event_t printed;
};

static int foo_run(ct_thread_t *self)
{
	struct foo *f = ct_container_of(self, struct foo, thread);
	while (!atomic_load(&f->is_stop)) {
		printf("线程%s\n", ct_thread_name(self));
		ct_event_set(&f->printed);
		ct_sleep(1);
	}
	return 0;
}

static void foo_stop(struct foo *f)
{
	atomic_store(&f->is_stop, true);
}

int main(void)
{
	static struct foo t;
	ct_event_init(&t.printed);
	int rc = ct_thread_init(&t.thread, NULL, NULL,
				&(ct_thread_opts){.run = foo_run, .name = "1"});
	if (rc == 0)
		rc = ct_thread_start(&t.thread);
	if (rc < 0) {
		fprintf(stderr, "%s\n", ct_strerror(rc));
		return 1;
	}
	ct_event_wait(&t.printed, CT_FOREVER);
	foo_stop(&t);
	return 0; /* the exit rule waits for the thread: up to a second */
}
