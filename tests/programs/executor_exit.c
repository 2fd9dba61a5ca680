/* Child program for the executor's exit rule: main returns with work still
 * queued (or workers idle) and never shuts its pool down.
 *
 *   executor_exit pending   five queued tasks print after main returned
 *   executor_exit idle      one task done, the worker idle: exits at once
 *   executor_exit cancel    shutdown(cancel_futures) first: nothing prints
 *   executor_exit late      a task waits until the exit hook closed its
 *                           pool, then finds a new pool closed too
 */
#include <cthreading.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static ct_event_t go = CT_EVENT_INIT;

static int print_task(void *arg, void **result)
{
	(void)result;
	ct_event_wait(&go, CT_FOREVER);
	printf("task %d\n", (int)(intptr_t)arg);
	return 0;
}

static ct_executor_t ex;

static int nothing(void *arg, void **result)
{
	(void)arg;
	(void)result;
	return 0;
}

/* Runs past main's return: submits to its own pool until the exit hook
 * has closed it, then makes a pool and submits there. */
static int late_task(void *arg, void **result)
{
	(void)arg;
	(void)result;
	while (ct_executor_submit(&ex, nothing, NULL, NULL) == 0)
		sched_yield();
	ct_executor_t late;
	if (ct_executor_init(&late, NULL) < 0)
		return 1;
	printf("late pool refuses: %d\n",
	       ct_executor_submit(&late, nothing, NULL, NULL) == CT_ESHUTDOWN);
	ct_executor_destroy(&late);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	if (ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 1}) < 0)
		return 1;
	if (strcmp(argv[1], "idle") == 0) {
		ct_future_t *f;
		ct_executor_submit(&ex, print_task, (void *)0, &f);
		ct_event_set(&go);
		ct_future_result(f, CT_FOREVER, NULL);
		ct_future_release(f);
		return 0;
	}
	if (strcmp(argv[1], "late") == 0) {
		if (ct_executor_submit(&ex, late_task, NULL, NULL) < 0)
			return 1;
		printf("main returns\n");
		fflush(stdout);
		return 0;
	}
	for (intptr_t i = 0; i < 5; i++)
		if (ct_executor_submit(&ex, print_task, (void *)i, NULL) < 0)
			return 1;
	if (strcmp(argv[1], "cancel") == 0)
		ct_executor_shutdown(&ex, false, true);
	printf("main returns\n");
	ct_event_set(&go);
	return 0;
}
