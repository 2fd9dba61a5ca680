#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>

static ct_lock_t lock = CT_LOCK_INIT; /* lock = Lock() */
static int num = 3;

static int buy(void *i) /* def buy(i): */
{
	CT_WITH_LOCK(&lock) /* with lock: */
	{
		printf("子线程%d%s\n", (int)(intptr_t)i, num > 0 ? "抢购成功" : "抢购失败");
		if (num > 0)
			num--;
	}
	return 0;
}

int main(void)
{
	for (intptr_t i = 0; i < 10; i++) /* Thread(target=buy, args=(i,)).start() */
		if (ct_thread_spawn(buy, (void *)i, NULL) < 0)
			return 1;
	return 0; /* as in Python, the process now waits for its threads */
}
