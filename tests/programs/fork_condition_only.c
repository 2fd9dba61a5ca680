/* A program that uses nothing of cthreading but a Lock and a Condition,
 * linked statically: only the objects it calls come with it. A plain
 * pthread waits on the condition when the program forks; the child must
 * find the condition usable, its gone waiter forgotten. Exit status 0 when
 * it is (run by test_fork.c). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cthreading/condition.h>
#include <cthreading/lock.h>

static ct_condition_t cond;
static bool go;

static void *waiter(void *arg)
{
	(void)arg;
	ct_condition_acquire(&cond);
	while (!go)
		ct_condition_wait(&cond, CT_FOREVER);
	ct_condition_release(&cond);
	return NULL;
}

static int child(void)
{
	/* The waiter is gone: nobody counted, and a notify has no one to wake. */
	if (atomic_load(&cond.ct__waiters) != 0) {
		fprintf(stderr, "child: %u waiters left on the condition\n",
			(unsigned)atomic_load(&cond.ct__waiters));
		return 1;
	}
	ct_condition_acquire(&cond);
	ct_condition_notify_all(&cond);
	int rc = ct_condition_wait(&cond, 0.001);
	ct_condition_release(&cond);
	return rc == CT_ETIMEDOUT ? 0 : 2;
}

int main(void)
{
	ct_condition_init(&cond, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, waiter, NULL) != 0)
		return 4;
	while (atomic_load(&cond.ct__waiters) == 0)
		sched_yield();
	pid_t pid = fork();
	if (pid == 0)
		_exit(child());
	int status = 0;
	waitpid(pid, &status, 0);
	ct_condition_acquire(&cond);
	go = true;
	ct_condition_notify_all(&cond);
	ct_condition_release(&cond);
	pthread_join(t, NULL);
	ct_condition_destroy(&cond);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 5;
}
