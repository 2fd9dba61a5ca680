/* 线程间通信 (1): two threads share a counter, one after the other.
 *
 * The seed's Python:
 *
 *     num = 0
 *     def producer():
 *         global num
 *         print(f"生产前数量 : {num}")
 *         for i in range(3):
 *             num += 1
 *         print(f"生产后数量 : {num}")
 *     def consumer():
 *         global num
 *         print(f"消费前数量 : {num}")
 *         for i in range(num):
 *             num -= 1
 *         print(f"消费后数量 : {num}")
 *     t1 = threading.Thread(target=producer)
 *     t1.start()
 *     t1.join()
 *     t2 = threading.Thread(target=consumer)
 *     t2.start()
 *
 * The threads communicate through a global, and the join orders them: the
 * consumer starts only once the producer has finished, so no lock is
 * needed (join's return makes the producer's writes visible, in C as in
 * Python). main returns right after starting the consumer; the exit rule
 * waits for it.
 */
#include <cthreading.h>
#include <stdio.h>

static int num = 0;

static int producer(void *arg)
{
	(void)arg;
	printf("生产前数量 : %d\n", num);
	for (int i = 0; i < 3; i++)
		num += 1;
	printf("生产后数量 : %d\n", num);
	return 0;
}

static int consumer(void *arg)
{
	(void)arg;
	printf("消费前数量 : %d\n", num);
	for (int i = 0, n = num; i < n; i++)
		num -= 1;
	printf("消费后数量 : %d\n", num);
	return 0;
}

int main(void)
{
	ct_thread_t *t1;
	int rc = ct_thread_new(&t1, producer, NULL, NULL);
	if (rc == 0)
		rc = ct_thread_start(t1);
	if (rc == 0)
		rc = ct_thread_join(t1, CT_FOREVER);
	ct_thread_release(t1);
	if (rc == 0)
		rc = ct_thread_spawn(consumer, NULL, NULL);
	if (rc < 0) {
		fprintf(stderr, "%s\n", ct_strerror(rc));
		return 1;
	}
	return 0;
}
