/* 线程间通信 (2): the same two threads, started together, talking through
 * an Event instead of being ordered by join.
 *
 * Both threads run at once. The consumer waits on the Event until the
 * producer has produced and set it: the Event carries the message "the
 * goods are there" (and, like join, makes the producer's writes visible to
 * the consumer). The output is the seed's, line for line:
 *
 *     生产前数量 : 0
 *     生产后数量 : 3
 *     消费前数量 : 3
 *     消费后数量 : 0
 */
#include <cthreading.h>
#include <stdio.h>

static int num = 0;
static ct_event_t produced = CT_EVENT_INIT; /* produced = threading.Event() */

static int producer(void *arg)
{
	(void)arg;
	printf("生产前数量 : %d\n", num);
	for (int i = 0; i < 3; i++)
		num += 1;
	printf("生产后数量 : %d\n", num);
	ct_event_set(&produced);
	return 0;
}

static int consumer(void *arg)
{
	(void)arg;
	int rc = ct_event_wait(&produced, CT_FOREVER);
	if (rc < 0)
		return rc;
	printf("消费前数量 : %d\n", num);
	for (int i = 0, n = num; i < n; i++)
		num -= 1;
	printf("消费后数量 : %d\n", num);
	return 0;
}

int main(void)
{
	/* The consumer first: it must wait for the producer whatever order
	 * the threads happen to run in. */
	int rc = ct_thread_spawn(consumer, NULL, NULL);
	if (rc == 0)
		rc = ct_thread_spawn(producer, NULL, NULL);
	if (rc < 0) {
		fprintf(stderr, "%s\n", ct_strerror(rc));
		return 1;
	}
	return 0;
}
