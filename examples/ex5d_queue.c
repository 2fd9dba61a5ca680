/* 线程间通信 (queue): the seed's producer and consumer, through a Queue.
 *
 * The seed passes data through a global counter (`num += 1` in a producer
 * thread, `num -= 1` in a consumer thread, the producer joined before the
 * consumer starts) and prints 生产前数量 / 生产后数量 / 消费前数量 /
 * 消费后数量. The Python programmer's next step is queue.Queue, which also
 * carries the products themselves, lets several threads produce and
 * consume, and says when everything is done:
 *
 *     from queue import Queue, ShutDown
 *     from threading import Thread
 *
 *     q = Queue()
 *
 *     def producer(i):
 *         for j in range(1, 4):
 *             q.put(f'产品{i}-{j}')
 *             print(f'生产者{i} 生产了 产品{i}-{j}')
 *
 *     def consumer(i):
 *         while True:
 *             try:
 *                 item = q.get()
 *             except ShutDown:
 *                 print(f'消费者{i} 退出: 队列已关闭')
 *                 return
 *             print(f'消费者{i} 消费了 {item}')
 *             q.task_done()
 *
 *     print(f'生产前数量 : {q.qsize()}')
 *     ps = [Thread(target=producer, args=(i,)) for i in (1, 2)]
 *     [t.start() for t in ps]; [t.join() for t in ps]
 *     print(f'生产后数量 : {q.qsize()}')
 *     print(f'消费前数量 : {q.qsize()}')
 *     cs = [Thread(target=consumer, args=(i,)) for i in (1, 2, 3)]
 *     [t.start() for t in cs]
 *     q.join()                       # 等待所有产品都被处理 (task_done)
 *     print(f'消费后数量 : {q.qsize()}')
 *     q.shutdown()                   # 关闭队列: 阻塞在 get 的消费者退出
 *     [t.join() for t in cs]
 *
 * The counts print as in the seed (0, 6, 6, 0); which producer's line comes
 * first and which consumer gets which product changes from run to run.
 * The products are strings the producers allocate and the consumers free;
 * a queue shut down with items left would free them itself (free_item).
 */
#include <cthreading.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static ct_queue_t q;

static int producer(void *arg)
{
	int i = (int)(intptr_t)arg;
	for (int j = 1; j <= 3; j++) {
		char *item = malloc(32);
		if (!item)
			return 1;
		snprintf(item, 32, "产品%d-%d", i, j);
		if (ct_queue_put(&q, item, CT_FOREVER) != 0) {
			free(item);
			return 1;
		}
		printf("生产者%d 生产了 %s\n", i, item);
	}
	return 0;
}

static int consumer(void *arg)
{
	int i = (int)(intptr_t)arg;
	for (;;) {
		void *item;
		int rc = ct_queue_get(&q, &item, CT_FOREVER);
		if (rc == CT_ESHUTDOWN) {
			printf("消费者%d 退出: 队列已关闭\n", i);
			return 0;
		}
		if (rc != 0)
			return 1;
		printf("消费者%d 消费了 %s\n", i, (char *)item);
		free(item);
		ct_queue_task_done(&q);
	}
}

/* Starts n threads running fn(1..n). */
static int start_all(ct_thread_t **ts, int n, ct_target_fn fn)
{
	for (int i = 0; i < n; i++)
		if (ct_thread_new(&ts[i], fn, (void *)(intptr_t)(i + 1), NULL) < 0 ||
		    ct_thread_start(ts[i]) < 0)
			return -1;
	return 0;
}

static void join_all(ct_thread_t **ts, int n)
{
	for (int i = 0; i < n; i++) {
		ct_thread_join(ts[i], CT_FOREVER);
		ct_thread_release(ts[i]);
	}
}

int main(void)
{
	ct_thread_t *ps[2], *cs[3];
	setvbuf(stdout, NULL, _IOLBF, 0); /* one line at a time, even into a pipe */
	if (ct_queue_init(&q, &(ct_queue_opts){.free_item = free}) < 0)
		return 1;

	printf("生产前数量 : %zu\n", ct_queue_qsize(&q));
	if (start_all(ps, 2, producer) < 0)
		return 1;
	join_all(ps, 2);
	printf("生产后数量 : %zu\n", ct_queue_qsize(&q));

	printf("消费前数量 : %zu\n", ct_queue_qsize(&q));
	if (start_all(cs, 3, consumer) < 0)
		return 1;
	ct_queue_join(&q, CT_FOREVER); /* 等待所有产品都被处理 (task_done) */
	printf("消费后数量 : %zu\n", ct_queue_qsize(&q));
	ct_queue_shutdown(&q, false); /* 关闭队列: 阻塞在 get 的消费者退出 */
	join_all(cs, 3);
	return ct_queue_destroy(&q) == 0 ? 0 : 1;
}
