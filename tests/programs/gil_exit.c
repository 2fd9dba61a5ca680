/* main returns holding the GIL while non-daemon threads under it still
 * run: the exit rule must release the GIL while it waits for them. */
#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>

static int worker(void *arg)
{
	ct_gil_t *g = ct_gil_default();
	for (int i = 0; i < 100000; i++)
		ct_gil_checkpoint(g);
	ct_sleep(0.01);
	printf("worker %d done\n", (int)(intptr_t)arg);
	return 0;
}

int main(void)
{
	ct_gil_t *g = ct_gil_default();
	if (ct_gil_acquire(g) != 0)
		return 1;
	for (intptr_t i = 0; i < 3; i++)
		if (ct_thread_spawn(worker, (void *)i, &(ct_thread_opts){.gil = g}) != 0)
			return 2;
	return 0; /* holding the GIL */
}
