/* 多线程实现 (3): join, is_alive and daemon threads.
 *
 * The seed's Python:
 *
 *     def foo(num):
 *         time.sleep(1)
 *         print(f'子线程{num}执行')
 *     print(f'主线程开始')
 *     t = Thread(target=foo, args=(1,)); t.start()
 *     print(f'子线程 1 阻塞')
 *     t.join()                                   # 阻塞主线程
 *     print(f'子线程 1 是否存活: {t.is_alive()}')
 *     t2 = Thread(target=foo, args=(2,))
 *     t2.daemon = True                           # 设置为守护线程
 *     t2.start()
 *     print(f'主线程结束')
 *
 * The daemon thread is still asleep when main returns: the exit rule does
 * not wait for it, so 子线程2执行 never appears, as in Python. (The seed's
 * comment shows "子线程 1 执行"; the code, in Python and here, prints
 * "子线程1执行".)
 */
#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>

static int foo(void *num)
{
	ct_sleep(1);
	printf("子线程%d执行\n", (int)(intptr_t)num);
	return 0;
}

int main(void)
{
	printf("主线程开始\n");
	ct_thread_t *t, *t2;
	if (ct_thread_new(&t, foo, (void *)1, NULL) < 0 || ct_thread_start(t) < 0)
		return 1;
	printf("子线程 1 阻塞\n");
	ct_thread_join(t, CT_FOREVER); /* 阻塞主线程 */
	printf("子线程 1 是否存活: %s\n", ct_thread_is_alive(t) ? "True" : "False");
	if (ct_thread_new(&t2, foo, (void *)2, NULL) < 0)
		return 1;
	ct_thread_set_daemon(t2, true); /* 设置为守护线程 */
	if (ct_thread_start(t2) < 0)
		return 1;
	printf("主线程结束\n");
	ct_thread_release(t);
	ct_thread_release(t2);
	return 0;
}
