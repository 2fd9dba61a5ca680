/* 线程间通信 (3): producer and consumer at the same time, through a
 * Condition.
 *
 * The seed's producer makes three items and then the consumer takes them,
 * one thread after the other. Here both run at once: the producer puts
 * each item on a shelf that holds one, and waits while the shelf is full;
 * the consumer waits while it is empty. The Condition tells each side when
 * the other has moved, so items change hands one by one, in the same
 * order every time:
 *
 *     with cond:
 *         cond.wait_for(lambda: num == 0)    # producer
 *         num += 1
 *         print(f"生产第{i}件, 数量 : {num}")
 *         cond.notify()
 */
#include <cthreading.h>
#include <stdbool.h>
#include <stdio.h>

#define ITEMS 3

static int num = 0;				/* items on the shelf: 0 or 1 */
static ct_condition_t cond = CT_CONDITION_INIT; /* cond = threading.Condition() */

static bool shelf_empty(void *arg)
{
	(void)arg;
	return num == 0;
}

static bool shelf_full(void *arg)
{
	(void)arg;
	return num > 0;
}

static int producer(void *arg)
{
	(void)arg;
	int rc = 0;
	for (int i = 1; i <= ITEMS && rc >= 0; i++) {
		CT_WITH_CONDITION(&cond)
		{
			rc = ct_condition_wait_for(&cond, shelf_empty, NULL, CT_FOREVER);
			if (rc < 0)
				break; /* leaves the block: the lock is released */
			num += 1;
			printf("生产第%d件, 数量 : %d\n", i, num);
			ct_condition_notify(&cond, 1);
		}
	}
	return rc < 0 ? rc : 0;
}

static int consumer(void *arg)
{
	(void)arg;
	int rc = 0;
	for (int i = 1; i <= ITEMS && rc >= 0; i++) {
		CT_WITH_CONDITION(&cond)
		{
			rc = ct_condition_wait_for(&cond, shelf_full, NULL, CT_FOREVER);
			if (rc < 0)
				break; /* leaves the block: the lock is released */
			num -= 1;
			printf("消费第%d件, 数量 : %d\n", i, num);
			ct_condition_notify(&cond, 1);
		}
	}
	return rc < 0 ? rc : 0;
}

int main(void)
{
	ct_thread_t *t1, *t2;
	if (ct_thread_new(&t1, consumer, NULL, NULL) < 0 || ct_thread_start(t1) < 0 ||
	    ct_thread_new(&t2, producer, NULL, NULL) < 0 || ct_thread_start(t2) < 0)
		return 1;
	ct_thread_join(t1, CT_FOREVER);
	ct_thread_join(t2, CT_FOREVER);
	printf("生产和消费同时进行, 最后数量 : %d\n", num);
	ct_thread_release(t1);
	ct_thread_release(t2);
	return 0;
}
