/* 线程锁: ten buyers, three items, one Lock.
 *
 * The seed's Python:
 *
 *     num = 3
 *     lock = Lock()
 *     def buy(i):
 *         global num
 *         with lock:
 *             if num > 0:
 *                 num -= 1
 *                 print(f'子线程{i}抢购成功')
 *             else:
 *                 print(f'子线程{i}抢购失败')
 *     for i in range(10):
 *         t = Thread(target=buy, args=(i,))
 *         t.start()
 *
 * The check and the decrement happen under the lock, so exactly three
 * buyers succeed and seven fail; which three depends on the order the
 * threads get the lock (often 0, 1 and 2; Python's, which starts each
 * thread while the others wait for the GIL, nearly always).
 */
#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>

static int num = 3;
static ct_lock_t lock = CT_LOCK_INIT; /* lock = Lock() */

static int buy(void *arg)
{
	int i = (int)(intptr_t)arg;
	/* with lock: */
	CT_WITH_LOCK(&lock)
	{
		if (num > 0) {
			num -= 1;
			printf("子线程%d抢购成功\n", i);
		} else {
			printf("子线程%d抢购失败\n", i);
		}
	}
	return 0;
}

int main(void)
{
	for (int i = 0; i < 10; i++) {
		int rc = ct_thread_spawn(buy, (void *)(intptr_t)i, NULL);
		if (rc < 0) {
			fprintf(stderr, "ct_thread_spawn: %s\n", ct_strerror(rc));
			return 1;
		}
	}
	return 0;
}
