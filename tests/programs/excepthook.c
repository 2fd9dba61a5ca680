/* The excepthook, watched from outside: test_thread.c reads what this
 * program prints to stdout (a custom hook) and stderr (the default one). */
#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static int return_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

static void custom(const ct_excepthook_args *args)
{
	printf("custom hook: %s %d\n", ct_thread_name(args->thread), args->status);
}

static int run(const char *name, int status)
{
	ct_thread_t *t = NULL;
	int rc = ct_thread_new(&t, return_arg, (void *)(intptr_t)status,
			       &(ct_thread_opts){.name = name});
	if (rc == 0)
		rc = ct_thread_start(t);
	if (rc == 0)
		rc = ct_thread_join(t, CT_FOREVER);
	ct_thread_release(t);
	return rc;
}

int main(void)
{
	alarm(60);
	ct_set_excepthook(custom);
	if (run("first", 3) < 0)
		return 1;
	ct_set_excepthook(NULL);
	if (run("second", 7) < 0 || run("stopper", CT_ESTOPPED) < 0 || run("fine", 0) < 0)
		return 1;
	return 0;
}
