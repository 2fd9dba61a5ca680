/* 多线程实现 (2): threads in "subclass" style.
 *
 * The seed's Python:
 *
 *     class Foo(Thread):
 *         def __init__(self, name):
 *             super().__init__()
 *             self.name = name
 *         def run(self):
 *             print(f'线程{self.name}')
 *
 * In C, struct foo embeds the thread object and supplies its own run; a
 * method reaches its struct with ct_container_of().
 */
#include <cthreading.h>
#include <stdio.h>

struct foo {
	ct_thread_t thread; /* class Foo(Thread) */
};

static int foo_run(ct_thread_t *self)
{
	printf("线程%s\n", ct_thread_name(self));
	return 0;
}

static int foo_init(struct foo *f, int name)
{
	int rc = ct_thread_init(&f->thread, NULL, NULL, &(ct_thread_opts){.run = foo_run});
	if (rc < 0)
		return rc;
	char buf[16];
	snprintf(buf, sizeof buf, "%d", name); /* self.name = name */
	return ct_thread_set_name(&f->thread, buf);
}

int main(void)
{
	static struct foo ts[5]; /* ts = [] ... ts.append(t) */
	for (int i = 0; i < 5; i++) {
		int rc = foo_init(&ts[i], i);
		if (rc == 0)
			rc = ct_thread_start(&ts[i].thread);
		if (rc < 0) {
			fprintf(stderr, "thread %d: %s\n", i, ct_strerror(rc));
			return 1;
		}
	}
	return 0;
}
