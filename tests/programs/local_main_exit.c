/* The main thread's thread-local values are destroyed when the process
 * exits, as every other thread's are when it ends. Usage:
 * local_main_exit [thread]  (with "thread": a thread was started too) */
#include <cthreading.h>
#include <stdio.h>
#include <string.h>

static void say(void *value)
{
	printf("destroyed %s\n", (const char *)value);
	fflush(stdout);
}

static ct_local_t local = CT_LOCAL_INIT(say);

static int worker(void *arg)
{
	return ct_local_set(&local, arg);
}

int main(int argc, char **argv)
{
	if (ct_local_set(&local, "main") < 0)
		return 1;
	if (argc > 1 && strcmp(argv[1], "thread") == 0) {
		ct_thread_t *t;
		if (ct_thread_new(&t, worker, "worker", NULL) < 0 || ct_thread_start(t) < 0)
			return 1;
		ct_thread_join(t, CT_FOREVER);
		ct_thread_release(t);
	}
	printf("main returns\n");
	return 0;
}
