/* 线程锁 (2): the flash sale, on a thread pool.
 *
 * The seed's lesson starts ten threads that race for three items under a
 * lock. A Python programmer's next step is concurrent.futures:
 *
 *     with ThreadPoolExecutor() as ex:
 *         futures = [ex.submit(buy, i) for i in range(10)]
 *         for f in as_completed(futures):
 *             sold += f.result()
 *
 * The same in C: each buyer is a task whose value says whether it got an
 * item, and the futures are collected as they complete. Exactly three
 * buyers succeed and seven fail, in whatever order the pool runs them.
 */
#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>

#define BUYERS 10

static int num = 3; /* items left */
static ct_lock_t lock = CT_LOCK_INIT;

static int buy(void *arg, void **result)
{
	int i = (int)(intptr_t)arg;
	intptr_t got = 0;
	CT_WITH_LOCK(&lock)
	{
		if (num > 0) {
			num -= 1;
			got = 1;
			printf("子线程%d抢购成功\n", i);
		} else {
			printf("子线程%d抢购失败\n", i);
		}
	}
	*result = (void *)got;
	return 0;
}

int main(void)
{
	ct_executor_t ex;
	ct_future_t *futures[BUYERS];
	int rc = ct_executor_init(&ex, NULL);
	for (int i = 0; rc == 0 && i < BUYERS; i++)
		rc = ct_executor_submit(&ex, buy, (void *)(intptr_t)i, &futures[i]);
	ct_as_completed_t it;
	if (rc == 0)
		rc = ct_as_completed_init(&it, futures, BUYERS, CT_FOREVER);
	if (rc < 0) {
		fprintf(stderr, "%s\n", ct_strerror(rc));
		return 1;
	}
	int sold = 0, done = 0;
	ct_future_t *f;
	while (ct_as_completed_next(&it, &f) == 0 && f != NULL) {
		void *got;
		if (ct_future_result(f, 0, &got) == 0)
			sold += (int)(intptr_t)got;
		done++;
	}
	ct_as_completed_destroy(&it);
	for (int i = 0; i < BUYERS; i++)
		ct_future_release(futures[i]);
	ct_executor_destroy(&ex);
	printf("%d 位买家：%d 人抢购成功，%d 人抢购失败，剩余 %d 件\n", done, sold, done - sold,
	       num);
	return 0;
}
