/* 多线程实现 (1): threads in function style.
 *
 * The seed's Python:
 *
 *     def foo(name):
 *         print(f'线程{name}')
 *     for i in range(5):
 *         t = Thread(target=foo, args=(i,))
 *         t.start()
 *
 * Nobody keeps a handle and main returns at once: the exit rule still waits
 * for the five threads (as Python does), and each is reclaimed when it ends.
 */
#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>

static int foo(void *name)
{
	printf("线程%d\n", (int)(intptr_t)name);
	return 0;
}

int main(void)
{
	for (int i = 0; i < 5; i++) {
		int rc = ct_thread_spawn(foo, (void *)(intptr_t)i, NULL);
		if (rc < 0) {
			fprintf(stderr, "ct_thread_spawn: %s\n", ct_strerror(rc));
			return 1;
		}
	}
	return 0;
}
