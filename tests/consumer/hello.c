/* The README's first program: the seed's flash sale (线程锁), ten buyers and
 * three items, in cthreading. Also built by the install tests against an
 * installed cthreading, through pkg-config, find_package, add_subdirectory
 * and FetchContent. */
#include <cthreading.h>
#include <stdio.h>

static ct_lock_t lock = CT_LOCK_INIT; /* lock = Lock() */
static int stock = 3, sold;

static int buy(void *arg) /* def buy(i): */
{
	(void)arg;
	CT_WITH_LOCK(&lock) { /* with lock: */
		if (stock > 0) {
			stock--;
			sold++;
		}
	}
	return 0;
}

int main(void)
{
	ct_thread_t *buyers[10];
	for (int i = 0; i < 10; i++) {
		if (ct_thread_new(&buyers[i], buy, NULL, NULL) < 0 || ct_thread_start(buyers[i]) < 0)
			return 1;
	}
	for (int i = 0; i < 10; i++) {
		ct_thread_join(buyers[i], CT_FOREVER);
		ct_thread_destroy(buyers[i]);
	}
	printf("sold %d, left %d (cthreading %s)\n", sold, stock, ct_version_string());
	return sold == 3 && stock == 0 ? 0 : 1;
}
