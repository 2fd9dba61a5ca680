/* 线程锁 (3): leaving a loop from inside a with-block.
 *
 * Two buyers keep buying until the items run out. In Python:
 *
 *     def buy():
 *         bought = 0
 *         while True:
 *             with lock:
 *                 if num == 0:
 *                     break          # leaves the with-block and the loop
 *                 num -= 1
 *             bought += 1
 *
 * CT_WITH_LOCK is a for loop run once, so a break inside it leaves the
 * block only (releasing the lock), and the loop around it would go on for
 * ever. The first buyer sets a flag and breaks again after the block; the
 * second jumps past the loop with goto, which releases the lock with GCC
 * and Clang (with other compilers, use the flag).
 */
#include <cthreading.h>
#include <stdbool.h>
#include <stdio.h>

static ct_lock_t lock = CT_LOCK_INIT;
static int num = 1000; /* items left */
static int sold = 0;   /* items bought, added up by the buyers */

static int buy_with_a_flag(void *arg)
{
	(void)arg;
	int bought = 0;
	for (;;) {
		bool sold_out = false;
		CT_WITH_LOCK(&lock)
		{
			if (num == 0) {
				sold_out = true;
				break; /* leaves the block: the lock is released */
			}
			num -= 1;
		}
		if (sold_out)
			break; /* leaves the loop */
		bought += 1;
	}
	CT_WITH_LOCK(&lock)
	{
		sold += bought;
	}
	return 0;
}

static int buy_with_goto(void *arg)
{
	(void)arg;
	int bought = 0;
	for (;;) {
		CT_WITH_LOCK(&lock)
		{
			if (num == 0)
				goto sold_out; /* leaves block and loop: the lock is released */
			num -= 1;
		}
		bought += 1;
	}
sold_out:
	CT_WITH_LOCK(&lock)
	{
		sold += bought;
	}
	return 0;
}

int main(void)
{
	ct_thread_t *a, *b;
	if (ct_thread_new(&a, buy_with_a_flag, NULL, NULL) < 0 || ct_thread_start(a) < 0 ||
	    ct_thread_new(&b, buy_with_goto, NULL, NULL) < 0 || ct_thread_start(b) < 0)
		return 1;
	ct_thread_join(a, CT_FOREVER);
	ct_thread_join(b, CT_FOREVER);
	ct_thread_destroy(a);
	ct_thread_destroy(b);
	printf("卖出 %d 件, 剩余 %d 件, 锁%s\n", sold, num,
	       ct_lock_locked(&lock) ? "仍被持有" : "已释放");
	return 0;
}
