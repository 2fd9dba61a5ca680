/* The main thread's thread-local values are destroyed when the process
 * exits, as every other thread's are when it ends. Usage:
 * local_main_exit [thread] [foreign]  (with "thread": a thread was started
 * too; with "foreign": then a thread started with pthread_create(), unknown
 * to the library, calls exit()) */
#include <cthreading.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A thread the library never met ends the process: the main thread's
 * values are not its own to destroy. */
static void *foreign_exit(void *arg)
{
	printf("%s exits\n", (const char *)arg);
	fflush(stdout);
	exit(0);
}

static bool has(int argc, char **argv, const char *word)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], word) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	if (ct_local_set(&local, "main") < 0)
		return 1;
	if (has(argc, argv, "thread")) {
		ct_thread_t *t;
		if (ct_thread_new(&t, worker, "worker", NULL) < 0 || ct_thread_start(t) < 0)
			return 1;
		ct_thread_join(t, CT_FOREVER);
		ct_thread_release(t);
	}
	if (has(argc, argv, "foreign")) {
		pthread_t pt;
		if (pthread_create(&pt, NULL, foreign_exit, "foreign") != 0)
			return 1;
		pthread_join(pt, NULL); /* never returns: the process ends */
		return 1;
	}
	printf("main returns\n");
	return 0;
}
