/* Queue, LifoQueue, PriorityQueue: every semantic of Python 3.13's queue
 * module, case by case, on both implementations: the lock-free ring of a
 * bounded FIFO queue ("ring") and the locked store of the other kinds
 * ("locked": unbounded FIFO, LIFO, PRIORITY, FIFO bounded beyond the ring's
 * limit). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"
#include "harness.h"
#include "queue/queue_internal.h"

#define P(x) ((void *)(uintptr_t)(x))
#define U(p) ((uintptr_t)(p))

static const ct_queue_opts RING = {.maxsize = 8};
static const ct_queue_opts LOCKED = {.maxsize = 8, .kind = CT_QUEUE_LIFO};

static int cmp_int(const void *a, const void *b)
{
	return (U(a) > U(b)) - (U(a) < U(b));
}

/* ---- threads used by the tests ------------------------------------------ */

static ct_thread_t *start(ct_target_fn fn, void *arg)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, fn, arg, NULL));
	CHECK_OK(ct_thread_start(t));
	return t;
}

static void finish(ct_thread_t *t)
{
	CHECK_OK(ct_thread_join(t, 60));
	ct_thread_release(t);
}

/* Waits (polling) until @p n threads wait in the queue. */
static void until_waiting(ct_queue_t *q, unsigned n)
{
	while (ct__queue_waiters(q) < n)
		ct_sleep(0.001);
}

/* A call made by another thread, and what it returned. */
struct call {
	ct_queue_t *q;
	void *item;
	double timeout;
	int rc;
	ct_event_t done;
};

static int do_get(void *arg)
{
	struct call *c = arg;
	c->rc = ct_queue_get(c->q, &c->item, c->timeout);
	ct_event_set(&c->done);
	return 0;
}

static int do_put(void *arg)
{
	struct call *c = arg;
	c->rc = ct_queue_put(c->q, c->item, c->timeout);
	ct_event_set(&c->done);
	return 0;
}

static int do_join(void *arg)
{
	struct call *c = arg;
	c->rc = ct_queue_join(c->q, c->timeout);
	ct_event_set(&c->done);
	return 0;
}

/* ---- order ---------------------------------------------------------------- */

static void check_fifo(const ct_queue_opts *opts, int n)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	for (int round = 0; round < 5; round++) { /* several laps of the ring */
		for (int i = 1; i <= n; i++)
			CHECK_OK(ct_queue_put_nowait(&q, P(i)));
		CHECK_EQ(ct_queue_qsize(&q), n);
		for (int i = 1; i <= n; i++) {
			CHECK_OK(ct_queue_get_nowait(&q, &item));
			CHECK_EQ(U(item), i);
		}
		CHECK(ct_queue_empty(&q));
	}
	CHECK_OK(ct_queue_destroy(&q));
}

/* A destroyed queue still in the caller's memory refuses every operation
 * (CT_EINVAL) instead of taking items nobody would free; init makes it a
 * queue again. */
static void check_destroyed(ct_queue_opts opts)
{
	ct_queue_t q;
	int a = 1, b = 2;
	void *item;
	CHECK_OK(ct_queue_init(&q, &opts));
	CHECK_OK(ct_queue_put(&q, &a, 0));
	CHECK_OK(ct_queue_destroy(&q));
	CHECK_RC(ct_queue_put(&q, &b, 0), CT_EINVAL);
	CHECK_RC(ct_queue_put_nowait(&q, &b), CT_EINVAL);
	CHECK_RC(ct_queue_put(&q, &b, CT_FOREVER), CT_EINVAL);
	CHECK_RC(ct_queue_get(&q, &item, 0), CT_EINVAL);
	CHECK_RC(ct_queue_get(&q, &item, CT_FOREVER), CT_EINVAL);
	CHECK_RC(ct_queue_get_nowait(&q, &item), CT_EINVAL);
	/* The item put above was never task_done: join must not wait for it. */
	CHECK_RC(ct_queue_task_done(&q), CT_EINVAL);
	CHECK_RC(ct_queue_join(&q, 0), CT_EINVAL);
	CHECK_RC(ct_queue_join(&q, CT_FOREVER), CT_EINVAL);
	CHECK_EQ(ct_queue_qsize(&q), 0);
	ct_queue_shutdown(&q, true);
	CHECK_RC(ct_queue_put(&q, &b, 0), CT_EINVAL);
	CHECK_OK(ct_queue_destroy(&q)); /* a second time: nothing */
	CHECK_OK(ct_queue_init(&q, &opts));
	CHECK_OK(ct_queue_put(&q, &b, 0));
	CHECK_OK(ct_queue_get(&q, &item, 0));
	CHECK(item == &b);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(destroyed_queue_refuses_operations)
{
	check_destroyed((ct_queue_opts){0});
	check_destroyed((ct_queue_opts){.maxsize = 4});
	check_destroyed((ct_queue_opts){.maxsize = 1000000});
	check_destroyed((ct_queue_opts){.kind = CT_QUEUE_LIFO});
	check_destroyed((ct_queue_opts){.kind = CT_QUEUE_PRIORITY, .compare = cmp_int});
	static ct_queue_t st = CT_QUEUE_INIT;
	CHECK_OK(ct_queue_destroy(&st));
	CHECK_RC(ct_queue_put(&st, &st, 0), CT_EINVAL);
}

/* Whatever the memory held before, a queue whose init failed reads as
 * destroyed: the usual clean-up path (init failed, destroy) and any later
 * call are reported, never undefined. */
static void check_failed_init(ct_queue_opts opts, bool alloc_fails)
{
	ct_queue_t q;
	void *item;
	memset(&q, 0xAB, sizeof q);
	if (alloc_fails)
		ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	int rc = ct_queue_init(&q, &opts);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	CHECK_RC(rc, alloc_fails ? CT_ENOMEM : CT_EINVAL);
	CHECK_RC(ct_queue_put(&q, &q, 0), CT_EINVAL);
	CHECK_RC(ct_queue_get(&q, &item, 0), CT_EINVAL);
	CHECK_EQ(ct_queue_qsize(&q), 0);
	CHECK_OK(ct_queue_destroy(&q));
	CHECK_OK(ct_queue_destroy(&q));
	CHECK_OK(ct_queue_init(&q, &(ct_queue_opts){.maxsize = 2}));
	CHECK_OK(ct_queue_put(&q, &q, 0));
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(failed_init_leaves_a_destroyed_queue)
{
	check_failed_init((ct_queue_opts){.kind = 99}, false);
	check_failed_init((ct_queue_opts){.kind = CT_QUEUE_PRIORITY}, false);
	check_failed_init((ct_queue_opts){.maxsize = 4}, true);
	check_failed_init((ct_queue_opts){.maxsize = 4, .kind = CT_QUEUE_LIFO}, true);
}

TEST(fifo_order_unbounded)
{
	check_fifo(NULL, 1000);
}

TEST(fifo_order_ring)
{
	/* Capacities that are and are not powers of two. */
	check_fifo(&(ct_queue_opts){.maxsize = 1}, 1);
	check_fifo(&(ct_queue_opts){.maxsize = 5}, 5);
	check_fifo(&(ct_queue_opts){.maxsize = 8}, 8);
	check_fifo(&(ct_queue_opts){.maxsize = 1000}, 1000);
}

TEST(fifo_order_bound_beyond_ring)
{
	check_fifo(&(ct_queue_opts){.maxsize = CT__QUEUE_PREALLOC_MAX + 1}, 1000);
}

TEST(fifo_interleaved_keeps_order_across_laps)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, &(ct_queue_opts){.maxsize = 3}));
	uintptr_t next_in = 1, next_out = 1;
	for (int i = 0; i < 1000; i++) {
		while (ct_queue_put_nowait(&q, P(next_in)) == 0)
			next_in++;
		CHECK_EQ(ct_queue_qsize(&q), 3);
		CHECK(ct_queue_full(&q));
		for (int k = 0; k < 1 + i % 3; k++) {
			CHECK_OK(ct_queue_get_nowait(&q, &item));
			CHECK_EQ(U(item), next_out++);
		}
	}
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(lifo_order)
{
	for (long maxsize = 0; maxsize <= 5; maxsize += 5) {
		ct_queue_t q;
		void *item;
		CHECK_OK(ct_queue_init(
			&q, &(ct_queue_opts){.maxsize = maxsize, .kind = CT_QUEUE_LIFO}));
		for (int i = 1; i <= 5; i++)
			CHECK_OK(ct_queue_put_nowait(&q, P(i)));
		for (int i = 5; i >= 3; i--) {
			CHECK_OK(ct_queue_get_nowait(&q, &item));
			CHECK_EQ(U(item), i);
		}
		CHECK_OK(ct_queue_put_nowait(&q, P(9)));
		int want[] = {9, 2, 1};
		for (int i = 0; i < 3; i++) {
			CHECK_OK(ct_queue_get_nowait(&q, &item));
			CHECK_EQ(U(item), want[i]);
		}
		CHECK_RC(ct_queue_get_nowait(&q, &item), CT_EEMPTY);
		CHECK_OK(ct_queue_destroy(&q));
	}
}

TEST(lifo_order_through_growth)
{
	ct_queue_t q = CT_LIFOQUEUE_INIT;
	void *item;
	for (int i = 1; i <= 5000; i++)
		CHECK_OK(ct_queue_put(&q, P(i), CT_FOREVER));
	for (int i = 5000; i >= 1; i--) {
		CHECK_OK(ct_queue_get(&q, &item, CT_FOREVER));
		CHECK_EQ(U(item), i);
	}
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(priority_order_lowest_first)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(
		ct_queue_init(&q, &(ct_queue_opts){.kind = CT_QUEUE_PRIORITY, .compare = cmp_int}));
	srand(42);
	for (int i = 0; i < 2000; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(1 + rand() % 500)));
	uintptr_t last = 0;
	for (int i = 0; i < 2000; i++) {
		CHECK_OK(ct_queue_get_nowait(&q, &item));
		CHECK(U(item) >= last);
		last = U(item);
	}
	CHECK(ct_queue_empty(&q));
	CHECK_OK(ct_queue_destroy(&q));
}

struct job {
	int prio;
	int id;
};

static int cmp_job(const void *a, const void *b)
{
	const struct job *x = a, *y = b;
	return (x->prio > y->prio) - (x->prio < y->prio);
}

TEST(priority_ties_come_out_in_insertion_order)
{
	enum { N = 3000 };
	static struct job jobs[N];
	ct_queue_t q = CT_PRIORITYQUEUE_INIT(cmp_job);
	srand(7);
	for (int i = 0; i < N; i++) {
		jobs[i] = (struct job){rand() % 5, i};
		CHECK_OK(ct_queue_put_nowait(&q, &jobs[i]));
	}
	struct job *prev = NULL;
	void *item;
	for (int i = 0; i < N; i++) {
		CHECK_OK(ct_queue_get_nowait(&q, &item));
		struct job *j = item;
		if (prev)
			CHECK(prev->prio < j->prio || (prev->prio == j->prio && prev->id < j->id));
		prev = j;
	}
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(priority_bounded)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(
		&q, &(ct_queue_opts){.maxsize = 3, .kind = CT_QUEUE_PRIORITY, .compare = cmp_int}));
	CHECK_OK(ct_queue_put_nowait(&q, P(30)));
	CHECK_OK(ct_queue_put_nowait(&q, P(10)));
	CHECK_OK(ct_queue_put_nowait(&q, P(20)));
	CHECK(ct_queue_full(&q));
	CHECK_RC(ct_queue_put_nowait(&q, P(5)), CT_EFULL);
	CHECK_OK(ct_queue_get_nowait(&q, &item));
	CHECK_EQ(U(item), 10);
	CHECK_OK(ct_queue_put_nowait(&q, P(5)));
	int want[] = {5, 20, 30};
	for (int i = 0; i < 3; i++) {
		CHECK_OK(ct_queue_get_nowait(&q, &item));
		CHECK_EQ(U(item), want[i]);
	}
	CHECK_OK(ct_queue_destroy(&q));
}

/* ---- sizes, options, initializers ---------------------------------------- */

TEST(qsize_empty_full_maxsize)
{
	const ct_queue_opts *all[] = {&RING, &LOCKED};
	for (int k = 0; k < 2; k++) {
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, all[k]));
		CHECK_EQ(ct_queue_maxsize(&q), 8);
		CHECK(ct_queue_empty(&q));
		CHECK(!ct_queue_full(&q));
		for (int i = 0; i < 8; i++) {
			CHECK(!ct_queue_full(&q));
			CHECK_OK(ct_queue_put_nowait(&q, P(i)));
			CHECK_EQ(ct_queue_qsize(&q), i + 1);
			CHECK(!ct_queue_empty(&q));
		}
		CHECK(ct_queue_full(&q));
		CHECK(!ct_queue_is_shutdown(&q));
		CHECK_OK(ct_queue_destroy(&q));
	}
}

TEST(maxsize_zero_or_negative_is_unbounded)
{
	long sizes[] = {0, -1, -100};
	for (int k = 0; k < 3; k++) {
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, &(ct_queue_opts){.maxsize = sizes[k]}));
		CHECK_EQ(ct_queue_maxsize(&q), 0);
		for (int i = 0; i < 3000; i++)
			CHECK_OK(ct_queue_put_nowait(&q, P(i)));
		CHECK(!ct_queue_full(&q));
		CHECK_OK(ct_queue_destroy(&q));
	}
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, NULL));
	CHECK_EQ(ct_queue_maxsize(&q), 0);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(static_initializers)
{
	static ct_queue_t fifo = CT_QUEUE_INIT, lifo = CT_LIFOQUEUE_INIT,
			  prio = CT_PRIORITYQUEUE_INIT(cmp_int);
	void *item;
	for (int i = 1; i <= 3; i++) {
		CHECK_OK(ct_queue_put(&fifo, P(i), CT_FOREVER));
		CHECK_OK(ct_queue_put(&lifo, P(i), CT_FOREVER));
		CHECK_OK(ct_queue_put(&prio, P(4 - i), CT_FOREVER));
	}
	CHECK_OK(ct_queue_get(&fifo, &item, 0));
	CHECK_EQ(U(item), 1);
	CHECK_OK(ct_queue_get(&lifo, &item, 0));
	CHECK_EQ(U(item), 3);
	CHECK_OK(ct_queue_get(&prio, &item, 0));
	CHECK_EQ(U(item), 1);
	CHECK_OK(ct_queue_destroy(&fifo));
	CHECK_OK(ct_queue_destroy(&lifo));
	CHECK_OK(ct_queue_destroy(&prio));
}

TEST(reinit_after_destroy)
{
	ct_queue_t q;
	void *item;
	for (int k = 0; k < 3; k++) {
		CHECK_OK(ct_queue_init(&q, k == 1 ? &RING : k == 2 ? &LOCKED : NULL));
		CHECK_OK(ct_queue_put_nowait(&q, P(k + 1)));
		CHECK_OK(ct_queue_get_nowait(&q, &item));
		CHECK_EQ(U(item), k + 1);
		CHECK_OK(ct_queue_destroy(&q));
	}
}

/* ---- non-blocking forms and timeouts -------------------------------------- */

static void check_nowait(const ct_queue_opts *opts)
{
	ct_queue_t q;
	void *item = P(99);
	CHECK_OK(ct_queue_init(&q, opts));
	CHECK_RC(ct_queue_get_nowait(&q, &item), CT_EEMPTY);
	CHECK_RC(ct_queue_get(&q, &item, 0), CT_EEMPTY);
	CHECK_EQ(U(item), 99); /* untouched */
	for (int i = 0; i < 8; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	CHECK_RC(ct_queue_put_nowait(&q, P(8)), CT_EFULL);
	CHECK_RC(ct_queue_put(&q, P(8), 0), CT_EFULL);
	CHECK_EQ(ct_queue_qsize(&q), 8);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(nowait_ring)
{
	check_nowait(&RING);
}

TEST(nowait_locked)
{
	check_nowait(&LOCKED);
}

static void check_get_timeout(const ct_queue_opts *opts)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	double t0 = ht_now();
	CHECK_RC(ct_queue_get(&q, &item, 0.05), CT_EEMPTY);
	CHECK(ht_now() - t0 >= 0.05);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(get_timeout_never_early_ring)
{
	check_get_timeout(&RING);
}

TEST(get_timeout_never_early_locked)
{
	check_get_timeout(&LOCKED);
	check_get_timeout(NULL);
}

static void check_put_timeout(const ct_queue_opts *opts)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	while (ct_queue_put_nowait(&q, P(1)) == 0)
		;
	double t0 = ht_now();
	CHECK_RC(ct_queue_put(&q, P(2), 0.05), CT_EFULL);
	CHECK(ht_now() - t0 >= 0.05);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(put_timeout_never_early_ring)
{
	check_put_timeout(&RING);
}

TEST(put_timeout_never_early_locked)
{
	check_put_timeout(&LOCKED);
}

/* ---- blocking ---------------------------------------------------------------- */

static void check_get_blocks_until_put(const ct_queue_opts *opts)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	struct call c = {.q = &q, .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
	ct_thread_t *t = start(do_get, &c);
	until_waiting(&q, 1);
	CHECK(!ct_event_is_set(&c.done));
	CHECK_OK(ct_queue_put(&q, P(42), CT_FOREVER));
	finish(t);
	CHECK_OK(c.rc);
	CHECK_EQ(U(c.item), 42);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(get_blocks_until_put_ring)
{
	check_get_blocks_until_put(&RING);
}

TEST(get_blocks_until_put_locked)
{
	check_get_blocks_until_put(&LOCKED);
	check_get_blocks_until_put(NULL);
}

static void check_put_blocks_until_get(const ct_queue_opts *opts)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	for (int i = 1; i <= 8; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	struct call c = {.q = &q, .item = P(9), .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
	ct_thread_t *t = start(do_put, &c);
	until_waiting(&q, 1);
	CHECK(!ct_event_is_set(&c.done));
	CHECK_OK(ct_queue_get(&q, &item, CT_FOREVER));
	finish(t);
	CHECK_OK(c.rc);
	CHECK_EQ(ct_queue_qsize(&q), 8);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(put_blocks_until_get_ring)
{
	check_put_blocks_until_get(&RING);
}

TEST(put_blocks_until_get_locked)
{
	check_put_blocks_until_get(&LOCKED);
}

/* Many blocked getters, one item at a time: each put wakes exactly the
 * getter it needs; none is lost. */
static void check_many_getters(const ct_queue_opts *opts)
{
	enum { N = 6 };
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	struct call c[N];
	ct_thread_t *t[N];
	for (int i = 0; i < N; i++) {
		c[i] = (struct call){.q = &q, .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
		t[i] = start(do_get, &c[i]);
	}
	until_waiting(&q, N);
	uintptr_t sum = 0;
	for (int i = 1; i <= N; i++)
		CHECK_OK(ct_queue_put(&q, P(i), CT_FOREVER));
	for (int i = 0; i < N; i++) {
		finish(t[i]);
		CHECK_OK(c[i].rc);
		sum += U(c[i].item);
	}
	CHECK_EQ(sum, N * (N + 1) / 2);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(many_blocked_getters_ring)
{
	check_many_getters(&RING);
}

TEST(many_blocked_getters_locked)
{
	check_many_getters(&LOCKED);
}

static void check_many_putters(const ct_queue_opts *opts)
{
	enum { N = 5 };
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	for (int i = 0; i < 8; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(100)));
	struct call c[N];
	ct_thread_t *t[N];
	for (int i = 0; i < N; i++) {
		c[i] = (struct call){
			.q = &q, .item = P(i + 1), .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
		t[i] = start(do_put, &c[i]);
	}
	until_waiting(&q, N);
	uintptr_t sum = 0;
	for (int i = 0; i < 8 + N; i++) {
		CHECK_OK(ct_queue_get(&q, &item, CT_FOREVER));
		sum += U(item);
	}
	for (int i = 0; i < N; i++) {
		finish(t[i]);
		CHECK_OK(c[i].rc);
	}
	CHECK_EQ(sum, 800 + N * (N + 1) / 2);
	CHECK(ct_queue_empty(&q));
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(many_blocked_putters_ring)
{
	check_many_putters(&RING);
}

TEST(many_blocked_putters_locked)
{
	check_many_putters(&LOCKED);
}

/* ---- task_done and join ----------------------------------------------------- */

static void check_task_done_join(const ct_queue_opts *opts)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	CHECK_OK(ct_queue_join(&q, CT_FOREVER)); /* nothing put: at once */
	for (int i = 0; i < 3; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	struct call j = {.q = &q, .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
	ct_thread_t *t = start(do_join, &j);
	until_waiting(&q, 1);
	for (int i = 0; i < 3; i++) {
		CHECK_OK(ct_queue_get_nowait(&q, &item));
		CHECK(!ct_event_is_set(&j.done)); /* got is not done */
		if (i < 2) {
			CHECK_OK(ct_queue_task_done(&q));
			CHECK(!ct_event_is_set(&j.done));
		}
	}
	CHECK_OK(ct_queue_task_done(&q));
	finish(t);
	CHECK_OK(j.rc);
	CHECK_RC(ct_queue_task_done(&q), CT_ETASKDONE);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(task_done_and_join_ring)
{
	check_task_done_join(&RING);
}

TEST(task_done_and_join_locked)
{
	check_task_done_join(&LOCKED);
	check_task_done_join(NULL);
}

static void check_join_timeout(const ct_queue_opts *opts)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	CHECK_OK(ct_queue_put_nowait(&q, P(1)));
	CHECK_RC(ct_queue_join(&q, 0), CT_ETIMEDOUT);
	double t0 = ht_now();
	CHECK_RC(ct_queue_join(&q, 0.05), CT_ETIMEDOUT);
	CHECK(ht_now() - t0 >= 0.05);
	void *item;
	CHECK_OK(ct_queue_get_nowait(&q, &item));
	CHECK_OK(ct_queue_task_done(&q));
	CHECK_OK(ct_queue_join(&q, 0));
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(join_timeout_ring)
{
	check_join_timeout(&RING);
}

TEST(join_timeout_locked)
{
	check_join_timeout(&LOCKED);
}

/* task_done() before any get is allowed while tasks are unfinished, as in
 * Python (it counts tasks, not gets). */
TEST(task_done_counts_puts_not_gets)
{
	const ct_queue_opts *all[] = {&RING, &LOCKED};
	for (int k = 0; k < 2; k++) {
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, all[k]));
		CHECK_OK(ct_queue_put_nowait(&q, P(1)));
		CHECK_OK(ct_queue_put_nowait(&q, P(2)));
		CHECK_OK(ct_queue_task_done(&q));
		CHECK_OK(ct_queue_task_done(&q));
		CHECK_RC(ct_queue_task_done(&q), CT_ETASKDONE);
		CHECK_OK(ct_queue_join(&q, 0));
		CHECK_EQ(ct_queue_qsize(&q), 2);
		CHECK_OK(ct_queue_destroy(&q));
	}
}

/* ---- shutdown (Python 3.13) ----------------------------------------------- */

static int freed_count;
static uintptr_t freed_order[64];

static void count_free(void *item)
{
	freed_order[freed_count++] = U(item);
}

static void check_shutdown_drains(const ct_queue_opts *opts, bool lifo)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	for (int i = 1; i <= 3; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	ct_queue_shutdown(&q, false);
	CHECK(ct_queue_is_shutdown(&q));
	CHECK_RC(ct_queue_put_nowait(&q, P(4)), CT_ESHUTDOWN);
	CHECK_RC(ct_queue_put(&q, P(4), CT_FOREVER), CT_ESHUTDOWN);
	CHECK_EQ(ct_queue_qsize(&q), 3);
	for (int i = 1; i <= 3; i++) {
		CHECK_OK(ct_queue_get(&q, &item, CT_FOREVER));
		CHECK_EQ(U(item), lifo ? 4 - i : i);
	}
	CHECK_RC(ct_queue_get(&q, &item, CT_FOREVER), CT_ESHUTDOWN);
	CHECK_RC(ct_queue_get_nowait(&q, &item), CT_ESHUTDOWN);
	/* join still waits for the tasks that were got. */
	CHECK_RC(ct_queue_join(&q, 0), CT_ETIMEDOUT);
	for (int i = 0; i < 3; i++)
		CHECK_OK(ct_queue_task_done(&q));
	CHECK_OK(ct_queue_join(&q, 0));
	ct_queue_shutdown(&q, false); /* twice is fine */
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(shutdown_lets_getters_drain_ring)
{
	check_shutdown_drains(&RING, false);
}

TEST(shutdown_lets_getters_drain_locked)
{
	check_shutdown_drains(&LOCKED, true);
	check_shutdown_drains(NULL, false);
}

static void check_shutdown_immediate(ct_queue_opts opts, bool lifo)
{
	ct_queue_t q;
	void *item;
	opts.free_item = count_free;
	freed_count = 0;
	CHECK_OK(ct_queue_init(&q, &opts));
	for (int i = 1; i <= 5; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	CHECK_OK(ct_queue_get_nowait(&q, &item)); /* got, not done */
	ct_queue_shutdown(&q, true);
	CHECK(ct_queue_is_shutdown(&q));
	CHECK_EQ(freed_count, 4); /* dropped items are freed, in queue order */
	for (int i = 0; i < 4; i++)
		CHECK_EQ(freed_order[i], lifo ? 4 - i : 2 + i);
	CHECK(ct_queue_empty(&q));
	CHECK_RC(ct_queue_get_nowait(&q, &item), CT_ESHUTDOWN);
	CHECK_RC(ct_queue_put_nowait(&q, P(9)), CT_ESHUTDOWN);
	/* The dropped items count as done; the one got does not. */
	CHECK_RC(ct_queue_join(&q, 0), CT_ETIMEDOUT);
	CHECK_OK(ct_queue_task_done(&q));
	CHECK_OK(ct_queue_join(&q, 0));
	CHECK_RC(ct_queue_task_done(&q), CT_ETASKDONE);
	ct_queue_shutdown(&q, true);
	CHECK_OK(ct_queue_destroy(&q));
	CHECK_EQ(freed_count, 4);
}

TEST(shutdown_immediate_drops_ring)
{
	check_shutdown_immediate(RING, false);
}

TEST(shutdown_immediate_drops_locked)
{
	check_shutdown_immediate(LOCKED, true);
	check_shutdown_immediate((ct_queue_opts){0}, false);
	check_shutdown_immediate((ct_queue_opts){.kind = CT_QUEUE_PRIORITY, .compare = cmp_int},
				 false);
}

/* free_item runs without the queue's lock: it may call the queue itself
 * (here a put, refused because the queue is shut down). */
static ct_queue_t *reentered;
static int reentered_rc[8], reentered_n;

static void put_back(void *item)
{
	reentered_rc[reentered_n++] = ct_queue_put_nowait(reentered, item);
}

TEST(free_item_may_call_the_queue)
{
	const ct_queue_opts *all[] = {&RING, &LOCKED};
	for (int k = 0; k < 2; k++) {
		ct_queue_opts opts = *all[k];
		opts.free_item = put_back;
		ct_queue_t q;
		reentered = &q;
		reentered_n = 0;
		CHECK_OK(ct_queue_init(&q, &opts));
		CHECK_OK(ct_queue_put_nowait(&q, P(1)));
		CHECK_OK(ct_queue_put_nowait(&q, P(2)));
		ct_queue_shutdown(&q, true);
		CHECK_EQ(reentered_n, 2);
		CHECK_RC(reentered_rc[0], CT_ESHUTDOWN);
		CHECK_RC(reentered_rc[1], CT_ESHUTDOWN);
		CHECK(ct_queue_empty(&q));
		CHECK_OK(ct_queue_destroy(&q));
	}
}

/* An immediate shutdown after a plain one still drops what is left. */
TEST(shutdown_then_immediate)
{
	const ct_queue_opts *all[] = {&RING, &LOCKED};
	for (int k = 0; k < 2; k++) {
		ct_queue_opts opts = *all[k];
		opts.free_item = count_free;
		freed_count = 0;
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, &opts));
		CHECK_OK(ct_queue_put_nowait(&q, P(1)));
		CHECK_OK(ct_queue_put_nowait(&q, P(2)));
		ct_queue_shutdown(&q, false);
		CHECK_EQ(freed_count, 0);
		ct_queue_shutdown(&q, true);
		CHECK_EQ(freed_count, 2);
		CHECK_OK(ct_queue_join(&q, 0));
		CHECK_OK(ct_queue_destroy(&q));
	}
}

static void check_shutdown_wakes_getters(const ct_queue_opts *opts, bool immediate)
{
	enum { N = 3 };
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	struct call c[N];
	ct_thread_t *t[N];
	for (int i = 0; i < N; i++) {
		c[i] = (struct call){.q = &q, .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
		t[i] = start(do_get, &c[i]);
	}
	until_waiting(&q, N);
	ct_queue_shutdown(&q, immediate);
	for (int i = 0; i < N; i++) {
		finish(t[i]);
		CHECK_RC(c[i].rc, CT_ESHUTDOWN);
	}
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(shutdown_wakes_blocked_getters_ring)
{
	check_shutdown_wakes_getters(&RING, false);
	check_shutdown_wakes_getters(&RING, true);
}

TEST(shutdown_wakes_blocked_getters_locked)
{
	check_shutdown_wakes_getters(&LOCKED, false);
	check_shutdown_wakes_getters(NULL, true);
}

static void check_shutdown_wakes_putters(const ct_queue_opts *opts, bool immediate)
{
	enum { N = 3 };
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	for (int i = 1; i <= 8; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	struct call c[N];
	ct_thread_t *t[N];
	for (int i = 0; i < N; i++) {
		c[i] = (struct call){
			.q = &q, .item = P(100), .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
		t[i] = start(do_put, &c[i]);
	}
	until_waiting(&q, N);
	ct_queue_shutdown(&q, immediate);
	for (int i = 0; i < N; i++) {
		finish(t[i]);
		CHECK_RC(c[i].rc, CT_ESHUTDOWN);
	}
	/* A plain shutdown leaves the items to drain; none of the putters'. */
	CHECK_EQ(ct_queue_qsize(&q), immediate ? 0 : 8);
	for (int i = 0; i < (immediate ? 0 : 8); i++) {
		CHECK_OK(ct_queue_get_nowait(&q, &item));
		CHECK(U(item) <= 8);
	}
	CHECK_RC(ct_queue_get_nowait(&q, &item), CT_ESHUTDOWN);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(shutdown_wakes_blocked_putters_ring)
{
	check_shutdown_wakes_putters(&RING, false);
	check_shutdown_wakes_putters(&RING, true);
}

TEST(shutdown_wakes_blocked_putters_locked)
{
	check_shutdown_wakes_putters(&LOCKED, false);
	check_shutdown_wakes_putters(&LOCKED, true);
}

struct joiner {
	ct_queue_t *q;
	int rc;
	int freed_when_woken;
};

static int join_and_look(void *arg)
{
	struct joiner *j = arg;
	j->rc = ct_queue_join(j->q, CT_FOREVER);
	j->freed_when_woken = freed_count;
	return 0;
}

/* A join blocked on items still queued returns when an immediate shutdown
 * drops them, and finds them freed already. */
static void check_immediate_wakes_joiner(ct_queue_opts opts)
{
	ct_queue_t q;
	opts.free_item = count_free;
	freed_count = 0;
	CHECK_OK(ct_queue_init(&q, &opts));
	for (int i = 1; i <= 4; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	struct joiner j = {.q = &q};
	ct_thread_t *t = start(join_and_look, &j);
	until_waiting(&q, 1);
	ct_queue_shutdown(&q, true);
	finish(t);
	CHECK_OK(j.rc);
	CHECK_EQ(j.freed_when_woken, 4);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(shutdown_immediate_wakes_joiner_ring)
{
	check_immediate_wakes_joiner(RING);
}

TEST(shutdown_immediate_wakes_joiner_locked)
{
	check_immediate_wakes_joiner(LOCKED);
}

/* ---- a bound beyond the storage allocated at init ---------------------------- */

/* A bound above what is allocated at init: the storage doubles up to the
 * bound and not past it, and the queue is full there. */
TEST(growth_stops_at_the_bound)
{
	enum { BOUND = CT__QUEUE_PREALLOC_MAX + 1000 };
	const ct_queue_kind kinds[] = {CT_QUEUE_FIFO, CT_QUEUE_LIFO};
	for (int k = 0; k < 2; k++) {
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, &(ct_queue_opts){.kind = kinds[k], .maxsize = BOUND}));
		for (uintptr_t i = 1; i <= BOUND; i++)
			CHECK_OK(ct_queue_put_nowait(&q, P(i)));
		CHECK_EQ(q.ct__cap, BOUND);
		CHECK(ct_queue_full(&q));
		CHECK_RC(ct_queue_put_nowait(&q, P(0)), CT_EFULL);
		for (uintptr_t i = 1; i <= BOUND; i++) {
			void *item;
			CHECK_OK(ct_queue_get_nowait(&q, &item));
			CHECK_EQ(U(item), kinds[k] == CT_QUEUE_FIFO ? i : BOUND + 1 - i);
		}
		CHECK_OK(ct_queue_destroy(&q));
	}
}

/* ---- debugging -------------------------------------------------------------- */

/* With waits recorded (profile), each wait in a locked queue counts as
 * what it waits for: an item, room, or the tasks (join). */
TEST(profile_counts_the_waits_of_a_locked_queue)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	static ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, &LOCKED));
	CHECK_OK(ct_object_set_name(&q, "locked"));
	struct call c = {.q = &q, .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
	ct_thread_t *t = start(do_get, &c);
	until_waiting(&q, 1);
	CHECK_OK(ct_queue_put_nowait(&q, P(1)));
	finish(t);
	CHECK_OK(c.rc);
	CHECK_OK(ct_queue_task_done(&q));
	int n = 0;
	for (; ct_queue_put_nowait(&q, P(2)) == 0; n++)
		;
	c.item = P(3);
	t = start(do_put, &c);
	until_waiting(&q, 1);
	void *item;
	CHECK_OK(ct_queue_get_nowait(&q, &item));
	finish(t);
	CHECK_OK(c.rc);
	t = start(do_join, &c);
	until_waiting(&q, 1);
	for (int i = 0; i <= n; i++)
		CHECK_OK(ct_queue_task_done(&q));
	finish(t);
	CHECK_OK(c.rc);
	/* Each side waited at least once (a waiter woken may wait again);
	 * the waits neither on empty nor on full are the join's. */
	char *text = ht_report_text(ct_profile_report);
	const char *row = strstr(text, "queue \"locked\": ");
	int waits = 0, empty = 0, full = 0;
	if (!row ||
	    sscanf(row, "queue \"locked\": %d waits (%d on empty, %d on full)", &waits, &empty,
		   &full) != 3 ||
	    empty < 1 || full < 1 || waits <= empty + full)
		ht_fail(__FILE__, __LINE__, "the profile:\n%s", text);
	free(text);
	CHECK_OK(ct_queue_destroy(&q));
}

/* ---- stop requests ---------------------------------------------------------- */

static void check_stop_wakes(const ct_queue_opts *opts, ct_target_fn fn, bool fill)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	if (fill)
		while (ct_queue_put_nowait(&q, P(1)) == 0)
			;
	struct call c = {.q = &q, .item = P(7), .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
	ct_thread_t *t = start(fn, &c);
	until_waiting(&q, 1);
	CHECK_OK(ct_thread_request_stop(t));
	finish(t);
	CHECK_RC(c.rc, CT_ESTOPPED);
	/* The queue is unharmed. */
	void *item;
	if (fill)
		CHECK_OK(ct_queue_get_nowait(&q, &item));
	CHECK_OK(ct_queue_put_nowait(&q, P(8)));
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(stop_wakes_get)
{
	check_stop_wakes(&RING, do_get, false);
	check_stop_wakes(&LOCKED, do_get, false);
}

/* A getter of a ring that two consumers share (no longer on the one-
 * consumer path) stopped while it waits. */
TEST(stop_wakes_get_of_a_shared_ring)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, &RING));
	void *item;
	CHECK_RC(ct_queue_get_nowait(&q, &item), CT_EEMPTY); /* the first consumer */
	struct call c = {.q = &q, .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
	ct_thread_t *t = start(do_get, &c);
	until_waiting(&q, 1);
	CHECK_OK(ct_thread_request_stop(t));
	finish(t);
	CHECK_RC(c.rc, CT_ESTOPPED);
	CHECK_OK(ct_queue_put_nowait(&q, P(8)));
	CHECK_OK(ct_queue_get_nowait(&q, &item));
	CHECK_EQ(U(item), 8);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(stop_wakes_put)
{
	check_stop_wakes(&RING, do_put, true);
	check_stop_wakes(&LOCKED, do_put, true);
}

TEST(stop_wakes_join)
{
	check_stop_wakes(&RING, do_join, true);
	check_stop_wakes(&LOCKED, do_join, true);
}

static int stopped_self_gets(void *arg)
{
	ct_queue_t *q = arg;
	void *item;
	ct_thread_request_stop(ct_current_thread());
	/* An item already there is still returned; an empty queue reports
	 * the stop at once instead of waiting. */
	if (ct_queue_get(q, &item, CT_FOREVER) != 0 || U(item) != 5)
		return 1;
	if (ct_queue_get(q, &item, CT_FOREVER) != CT_ESTOPPED)
		return 2;
	return ct_queue_join(q, CT_FOREVER) == CT_ESTOPPED ? 0 : 3;
}

TEST(stopped_thread_still_gets_what_is_there)
{
	const ct_queue_opts *all[] = {&RING, &LOCKED};
	for (int k = 0; k < 2; k++) {
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, all[k]));
		CHECK_OK(ct_queue_put_nowait(&q, P(5)));
		ct_thread_t *t;
		CHECK_OK(ct_thread_new(&t, stopped_self_gets, &q, NULL));
		CHECK_OK(ct_thread_start(t));
		CHECK_OK(ct_thread_join(t, 60));
		ct_thread_release(t);
		CHECK_OK(ct_queue_destroy(&q));
	}
}

/* ---- under a GIL ---------------------------------------------------------------- */

/* Producer and consumer both run under one GIL: a put or get that must
 * wait gives the GIL up while it waits (and does not spin holding it), or
 * the other could never run and this would hang. */
struct gil_pair {
	ct_queue_t *q;
	long n;
	uint64_t sum;
};

static int gil_producer(void *arg)
{
	struct gil_pair *g = arg;
	for (long i = 1; i <= g->n; i++)
		if (ct_queue_put(g->q, P(i), CT_FOREVER) != 0)
			return 1;
	return 0;
}

static int gil_consumer(void *arg)
{
	struct gil_pair *g = arg;
	void *item;
	for (long i = 0; i < g->n; i++) {
		if (ct_queue_get(g->q, &item, CT_FOREVER) != 0)
			return 1;
		g->sum += U(item);
	}
	return 0;
}

TEST(waits_release_the_gil)
{
	static ct_gil_t gil = CT_GIL_INIT;
	const ct_queue_opts *all[] = {&(ct_queue_opts){.maxsize = 2}, &LOCKED, NULL};
	for (int k = 0; k < 3; k++) {
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, all[k]));
		struct gil_pair g = {.q = &q, .n = 5000};
		ct_thread_t *c, *p;
		CHECK_OK(ct_thread_new(&c, gil_consumer, &g, &(ct_thread_opts){.gil = &gil}));
		CHECK_OK(ct_thread_new(&p, gil_producer, &g, &(ct_thread_opts){.gil = &gil}));
		CHECK_OK(ct_thread_start(c));
		CHECK_OK(ct_thread_start(p));
		finish(p);
		finish(c);
		CHECK(g.sum == (uint64_t)g.n * (uint64_t)(g.n + 1) / 2);
		CHECK_OK(ct_queue_destroy(&q));
	}
}

/* ---- destroy ------------------------------------------------------------------ */

TEST(destroy_frees_left_items)
{
	const ct_queue_opts *all[] = {&RING, &LOCKED};
	for (int k = 0; k < 2; k++) {
		ct_queue_opts opts = *all[k];
		opts.free_item = count_free;
		freed_count = 0;
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, &opts));
		for (int i = 1; i <= 3; i++)
			CHECK_OK(ct_queue_put_nowait(&q, P(i)));
		CHECK_OK(ct_queue_destroy(&q));
		CHECK_EQ(freed_count, 3);
	}
	/* Heap items: the priority queue frees what it holds (ASan checks). */
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, &(ct_queue_opts){.kind = CT_QUEUE_PRIORITY,
						    .compare = cmp_int,
						    .free_item = free}));
	for (int i = 0; i < 100; i++)
		CHECK_OK(ct_queue_put_nowait(&q, malloc(16)));
	CHECK_OK(ct_queue_destroy(&q));
}

/* Destroy refuses a queue while a thread waits in it: a getter (on an
 * empty queue), a putter (on a full one) or a joiner (tasks unfinished).
 * Once that thread is let go, the queue is destroyed. */
static int destroy_while_waited(const ct_queue_opts *opts, ct_target_fn fn)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	int n = 0;
	if (fn != do_get)
		for (; ct_queue_put_nowait(&q, P(1)) == 0; n++)
			;
	struct call c = {.q = &q, .item = P(2), .timeout = CT_FOREVER, .done = CT_EVENT_INIT};
	ct_thread_t *t = start(fn, &c);
	until_waiting(&q, 1);
	int rc = ct_queue_destroy(&q);
	void *item;
	if (fn == do_get)
		CHECK_OK(ct_queue_put_nowait(&q, P(1)));
	else if (fn == do_put)
		CHECK_OK(ct_queue_get_nowait(&q, &item));
	else
		for (int i = 0; i < n; i++)
			CHECK_OK(ct_queue_task_done(&q));
	finish(t);
	CHECK_OK(c.rc);
	CHECK_OK(ct_queue_destroy(&q));
	return rc;
}

/* ---- allocation failures -------------------------------------------------- */

static void check_growth_failure(const ct_queue_opts *opts)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	/* The first put allocates (16 slots), the 17th grows. */
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_RC(ct_queue_put_nowait(&q, P(1)), CT_ENOMEM);
	CHECK_EQ(ct_queue_qsize(&q), 0);
	for (int i = 1; i <= CT__QUEUE_MIN_CAP; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_RC(ct_queue_put(&q, P(99), CT_FOREVER), CT_ENOMEM);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	CHECK_EQ(ct_queue_qsize(&q), CT__QUEUE_MIN_CAP);
	CHECK_OK(ct_queue_join(&q, 0) == CT_ETIMEDOUT ? 0 : 1);
	CHECK_OK(ct_queue_put_nowait(&q, P(CT__QUEUE_MIN_CAP + 1)));
	uintptr_t sum = 0;
	for (int i = 0; i <= CT__QUEUE_MIN_CAP; i++) {
		CHECK_OK(ct_queue_get_nowait(&q, &item));
		sum += U(item);
		CHECK_OK(ct_queue_task_done(&q));
	}
	/* The failed puts were not counted as tasks. */
	CHECK_OK(ct_queue_join(&q, 0));
	CHECK_EQ(sum, (CT__QUEUE_MIN_CAP + 1) * (CT__QUEUE_MIN_CAP + 2) / 2);
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(alloc_failure_growing_fifo)
{
	check_growth_failure(NULL);
}

TEST(alloc_failure_growing_lifo)
{
	check_growth_failure(&(ct_queue_opts){.kind = CT_QUEUE_LIFO});
}

TEST(alloc_failure_growing_heap)
{
	check_growth_failure(&(ct_queue_opts){.kind = CT_QUEUE_PRIORITY, .compare = cmp_int});
}

TEST(alloc_failure_at_init)
{
	ct_queue_t q;
	const ct_queue_opts *all[] = {&RING, &LOCKED};
	for (int k = 0; k < 2; k++) {
		ct__fault_set(CT__FAULT_ALLOC, 0, 1);
		CHECK_RC(ct_queue_init(&q, all[k]), CT_ENOMEM);
		ct__fault_set(CT__FAULT_ALLOC, 0, 0);
		CHECK_OK(ct_queue_init(&q, all[k]));
		CHECK_OK(ct_queue_destroy(&q));
	}
}

/* A shrink that cannot get memory keeps the larger store. */
TEST(alloc_failure_while_shrinking_is_harmless)
{
	ct_queue_t q = CT_QUEUE_INIT;
	void *item;
	for (int i = 0; i < 1000; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	ct__fault_set(CT__FAULT_ALLOC, 0, 1000000);
	for (int i = 0; i < 1000; i++) {
		CHECK_OK(ct_queue_get_nowait(&q, &item));
		CHECK_EQ(U(item), i);
	}
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	CHECK_OK(ct_queue_destroy(&q));
}

/* ---- misuse table --------------------------------------------------------------- */

static int task_done_too_often(const ct_queue_opts *opts)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	CHECK_OK(ct_queue_put_nowait(&q, P(1)));
	CHECK_OK(ct_queue_get_nowait(&q, &item));
	CHECK_OK(ct_queue_task_done(&q));
	int rc = ct_queue_task_done(&q);
	CHECK_OK(ct_queue_destroy(&q));
	return rc;
}

static int put_after_shutdown(const ct_queue_opts *opts)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	ct_queue_shutdown(&q, false);
	int rc = ct_queue_put(&q, P(1), CT_FOREVER);
	CHECK_OK(ct_queue_destroy(&q));
	return rc;
}

static int get_with_timeout(double timeout)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, &RING));
	int rc = ct_queue_get(&q, &item, timeout);
	CHECK_OK(ct_queue_destroy(&q));
	return rc;
}

static int put_with_timeout(double timeout)
{
	ct_queue_t q = CT_QUEUE_INIT;
	int rc = ct_queue_put(&q, P(1), timeout);
	CHECK_OK(ct_queue_destroy(&q));
	return rc;
}

static int join_with_timeout(double timeout)
{
	ct_queue_t q = CT_QUEUE_INIT;
	return ct_queue_join(&q, timeout);
}

static int get_nowait_empty(const ct_queue_opts *opts)
{
	ct_queue_t q;
	void *item;
	CHECK_OK(ct_queue_init(&q, opts));
	int rc = ct_queue_get_nowait(&q, &item);
	CHECK_OK(ct_queue_destroy(&q));
	return rc;
}

static int put_nowait_full(const ct_queue_opts *opts)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	for (int i = 0; i < 8; i++)
		CHECK_OK(ct_queue_put_nowait(&q, P(i)));
	int rc = ct_queue_put_nowait(&q, P(9));
	CHECK_OK(ct_queue_destroy(&q));
	return rc;
}

static int get_into_null(void)
{
	ct_queue_t q = CT_QUEUE_INIT;
	return ct_queue_get(&q, NULL, 0);
}

MISUSE(task_done_too_many_times_ring, CT_ETASKDONE, "task_done() called too many times",
       task_done_too_often(&RING))
MISUSE(task_done_too_many_times_locked, CT_ETASKDONE, "task_done() called too many times",
       task_done_too_often(&LOCKED))
MISUSE(put_after_shutdown_ring, CT_ESHUTDOWN, "shut down: no new items or tasks are accepted",
       put_after_shutdown(&RING))
MISUSE(put_after_shutdown_locked, CT_ESHUTDOWN, "shut down: no new items or tasks are accepted",
       put_after_shutdown(&LOCKED))
MISUSE(get_nowait_empty_ring, CT_EEMPTY, "queue is empty", get_nowait_empty(&RING))
MISUSE(get_nowait_empty_locked, CT_EEMPTY, "queue is empty", get_nowait_empty(&LOCKED))
MISUSE(put_nowait_full_ring, CT_EFULL, "queue is full", put_nowait_full(&RING))
MISUSE(put_nowait_full_locked, CT_EFULL, "queue is full", put_nowait_full(&LOCKED))
MISUSE(priority_without_compare, CT_EINVAL, "invalid argument",
       ct_queue_init(&(ct_queue_t){0}, &(ct_queue_opts){.kind = CT_QUEUE_PRIORITY}))
MISUSE(unknown_kind, CT_EINVAL, "invalid argument",
       ct_queue_init(&(ct_queue_t){0}, &(ct_queue_opts){.kind = (ct_queue_kind)7}))
MISUSE(init_null, CT_EINVAL, "invalid argument", ct_queue_init(NULL, NULL))
MISUSE(task_done_null, CT_EINVAL, "invalid argument", ct_queue_task_done(NULL))
MISUSE(join_null, CT_EINVAL, "invalid argument", ct_queue_join(NULL, 0))
MISUSE(get_into_null, CT_EINVAL, "invalid argument", get_into_null())
MISUSE(get_nan_timeout, CT_EINVAL, "invalid argument", get_with_timeout(0.0 / 0.0))
MISUSE(get_timeout_too_large, CT_ETOOLARGE, "timeout value is too large",
       get_with_timeout(CT_TIMEOUT_MAX * 2))
MISUSE(put_timeout_too_large, CT_ETOOLARGE, "timeout value is too large", put_with_timeout(1e300))
MISUSE(join_nan_timeout, CT_EINVAL, "invalid argument", join_with_timeout(0.0 / 0.0))
MISUSE(destroy_while_waited_on_ring, CT_EBUSY, "the object is in use",
       destroy_while_waited(&RING, do_get))
MISUSE(destroy_while_waited_on_locked, CT_EBUSY, "the object is in use",
       destroy_while_waited(&LOCKED, do_get))
MISUSE(destroy_while_put_waits_ring, CT_EBUSY, "the object is in use",
       destroy_while_waited(&RING, do_put))
MISUSE(destroy_while_put_waits_locked, CT_EBUSY, "the object is in use",
       destroy_while_waited(&LOCKED, do_put))
MISUSE(destroy_while_joined_ring, CT_EBUSY, "the object is in use",
       destroy_while_waited(&RING, do_join))
MISUSE(destroy_while_joined_locked, CT_EBUSY, "the object is in use",
       destroy_while_waited(&LOCKED, do_join))

/* ---- stress ---------------------------------------------------------------------- */

struct stress {
	ct_queue_t *q;
	long per_producer, per_consumer;
	int first;
	bool task_done;
	_Atomic uint64_t sum;
	atomic_long got;
};

struct producer_arg {
	struct stress *s;
	uint64_t first;
};

static int stress_producer(void *arg)
{
	struct producer_arg *p = arg;
	for (long i = 0; i < p->s->per_producer; i++)
		if (ct_queue_put(p->s->q, P(p->first + (uint64_t)i), CT_FOREVER) != 0)
			return 1;
	return 0;
}

static int stress_consumer(void *arg)
{
	struct stress *s = arg;
	uint64_t sum = 0;
	void *item;
	for (long i = 0; i < s->per_consumer; i++) {
		if (ct_queue_get(s->q, &item, CT_FOREVER) != 0)
			return 1;
		sum += U(item);
		if (s->task_done && ct_queue_task_done(s->q) != 0)
			return 2;
	}
	atomic_fetch_add(&s->sum, sum);
	atomic_fetch_add(&s->got, s->per_consumer);
	return 0;
}

/* np producers put the values 1..n, nc consumers get them all: nothing
 * lost, nothing duplicated (count and sum); with task_done, join returns
 * once all are done. */
static void stress(const ct_queue_opts *opts, int np, int nc, long n, bool task_done)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, opts));
	struct stress s = {
		.q = &q, .per_producer = n / np, .per_consumer = n / nc, .task_done = task_done};
	struct producer_arg pa[8];
	ct_thread_t *t[16];
	for (int i = 0; i < nc; i++)
		t[np + i] = start(stress_consumer, &s);
	for (int i = 0; i < np; i++) {
		pa[i] = (struct producer_arg){&s, 1 + (uint64_t)i * (uint64_t)s.per_producer};
		t[i] = start(stress_producer, &pa[i]);
	}
	/* Producers first: once all is put, join waits for the consumers. */
	for (int i = 0; i < np + nc; i++) {
		if (i == np && task_done)
			CHECK_OK(ct_queue_join(&q, CT_FOREVER));
		CHECK_OK(ct_thread_join(t[i], CT_FOREVER));
		ct_thread_release(t[i]);
	}
	uint64_t total = (uint64_t)n;
	CHECK_EQ(atomic_load(&s.got), n);
	CHECK(atomic_load(&s.sum) == total * (total + 1) / 2);
	CHECK(ct_queue_empty(&q));
	CHECK_OK(ct_queue_join(&q, 0) == (task_done ? 0 : CT_ETIMEDOUT) ? 0 : 1);
	CHECK_OK(ct_queue_destroy(&q));
}

static long stress_items(long n)
{
	return ht_slowed() ? n / 10 : n;
}

/* The stress: 4 producers and 4 consumers move 2,000,000 items
 * through a queue bounded to 64. */
TEST(stress_4p4c_bounded_64)
{
	stress(&(ct_queue_opts){.maxsize = 64}, 4, 4, stress_items(2000000), false);
}

TEST(stress_4p4c_task_done_join)
{
	stress(&(ct_queue_opts){.maxsize = 64}, 4, 4, stress_items(400000), true);
}

TEST(stress_4p4c_tiny_ring)
{
	stress(&(ct_queue_opts){.maxsize = 1}, 4, 4, stress_items(200000), true);
}

TEST(stress_4p4c_locked)
{
	stress(&(ct_queue_opts){.maxsize = 64, .kind = CT_QUEUE_LIFO}, 4, 4, stress_items(400000),
	       true);
	stress(NULL, 4, 4, stress_items(400000), false);
}

/* Shutdown under load: every item put is either got or dropped. */
struct shut_load {
	ct_queue_t *q;
	atomic_long put, got;
	atomic_long freed;
};

static struct shut_load *shut_load_state;

static void count_dropped(void *item)
{
	(void)item;
	atomic_fetch_add(&shut_load_state->freed, 1);
}

static int load_producer(void *arg)
{
	struct shut_load *s = arg;
	for (long i = 1;; i++) {
		int rc = ct_queue_put(s->q, P(i), CT_FOREVER);
		if (rc == CT_ESHUTDOWN)
			return 0;
		if (rc != 0)
			return 1;
		atomic_fetch_add(&s->put, 1);
	}
}

static int load_consumer(void *arg)
{
	struct shut_load *s = arg;
	void *item;
	for (;;) {
		int rc = ct_queue_get(s->q, &item, CT_FOREVER);
		if (rc == CT_ESHUTDOWN)
			return 0;
		if (rc != 0)
			return 1;
		atomic_fetch_add(&s->got, 1);
	}
}

static void check_shutdown_under_load(ct_queue_opts opts, bool immediate)
{
	ct_queue_t q;
	struct shut_load s = {.q = &q};
	shut_load_state = &s;
	opts.free_item = count_dropped;
	CHECK_OK(ct_queue_init(&q, &opts));
	ct_thread_t *t[6];
	for (int i = 0; i < 6; i++)
		t[i] = start(i < 3 ? load_producer : load_consumer, &s);
	while (atomic_load(&s.got) < 20000)
		ct_sleep(0.001);
	ct_queue_shutdown(&q, immediate);
	for (int i = 0; i < 6; i++) {
		CHECK_OK(ct_thread_join(t[i], 60));
		ct_thread_release(t[i]);
	}
	/* A put that succeeded was counted after it returned: count after
	 * every thread has ended. */
	CHECK_EQ(atomic_load(&s.put), atomic_load(&s.got) + atomic_load(&s.freed));
	CHECK(immediate || atomic_load(&s.freed) == 0);
	CHECK(ct_queue_empty(&q));
	CHECK_OK(ct_queue_destroy(&q));
}

TEST(shutdown_under_load_ring)
{
	check_shutdown_under_load((ct_queue_opts){.maxsize = 16}, false);
	check_shutdown_under_load((ct_queue_opts){.maxsize = 16}, true);
}

TEST(shutdown_under_load_locked)
{
	check_shutdown_under_load((ct_queue_opts){.maxsize = 16, .kind = CT_QUEUE_LIFO}, false);
	check_shutdown_under_load((ct_queue_opts){.maxsize = 16, .kind = CT_QUEUE_LIFO}, true);
}

/* ---- one producer and one consumer, then more ------------------------------ */

/* A bounded FIFO queue with one producer and one consumer runs without
 * read-modify-writes (the solo mode of queue_ring.c) until a second
 * producer or consumer comes: then it switches to the shared rules, with
 * the first two in the middle of their calls, perhaps asleep. */

TEST(stress_1p1c_solo)
{
	stress(&(ct_queue_opts){.maxsize = 4}, 1, 1, stress_items(400000), false);
	stress(&(ct_queue_opts){.maxsize = 64}, 1, 1, stress_items(400000), true);
}

#define SWITCH_ITEMS 20000L
/* An item is its producer's id above 16 bits of sequence number (which
 * SWITCH_ITEMS fits), so that it fits a 32-bit pointer too. */
#define SEQ_OF(p) (U(p) & 0xffffu)
#define PRODUCER_OF(p) (U(p) >> 16)

struct switching {
	ct_queue_t q;
	ct_event_t half; /* the first producer has put half its items */
	_Atomic uint64_t sum;
	atomic_long got;
	atomic_bool disorder;
};

struct switching_producer {
	struct switching *s;
	uint64_t id; /* 1 or 2 */
};

static int switching_producer(void *arg)
{
	struct switching_producer *p = arg;
	if (p->id != 1)
		CHECK_OK(ct_event_wait(&p->s->half, CT_FOREVER));
	for (uint64_t i = 1; i <= (uint64_t)SWITCH_ITEMS; i++) {
		if (ct_queue_put(&p->s->q, P(p->id << 16 | i), CT_FOREVER) != 0)
			return 1;
		if (p->id == 1 && i == SWITCH_ITEMS / 2)
			ct_event_set(&p->s->half);
	}
	return 0;
}

/* Gets until the end mark (NULL): every item once, each producer's in
 * order. The second consumer starts at the half-way mark. */
static int switching_consumer(void *arg)
{
	struct switching *s = arg;
	uint64_t last[3] = {0}, sum = 0;
	long got = 0;
	void *item;
	for (;;) {
		if (ct_queue_get(&s->q, &item, CT_FOREVER) != 0)
			return 1;
		if (item == NULL)
			break;
		uint64_t who = PRODUCER_OF(item), seq = SEQ_OF(item);
		if (who < 1 || who > 2 || seq <= last[who])
			atomic_store(&s->disorder, true);
		else
			last[who] = seq;
		sum += seq;
		got++;
	}
	atomic_fetch_add(&s->sum, sum);
	atomic_fetch_add(&s->got, got);
	return 0;
}

static int late_consumer(void *arg)
{
	struct switching *s = arg;
	CHECK_OK(ct_event_wait(&s->half, CT_FOREVER));
	return switching_consumer(s);
}

static void check_switch_mid_run(long maxsize)
{
	struct switching s = {0};
	CHECK_OK(ct_queue_init(&s.q, &(ct_queue_opts){.maxsize = maxsize}));
	ct_event_init(&s.half);
	struct switching_producer p1 = {&s, 1}, p2 = {&s, 2};
	ct_thread_t *c1 = start(switching_consumer, &s), *c2 = start(late_consumer, &s);
	ct_thread_t *t1 = start(switching_producer, &p1), *t2 = start(switching_producer, &p2);
	finish(t1);
	finish(t2);
	CHECK_OK(ct_queue_put(&s.q, NULL, CT_FOREVER)); /* one end mark per consumer */
	CHECK_OK(ct_queue_put(&s.q, NULL, CT_FOREVER));
	finish(c1);
	finish(c2);
	uint64_t per = (uint64_t)SWITCH_ITEMS;
	CHECK_EQ(atomic_load(&s.got), 2 * SWITCH_ITEMS);
	CHECK(atomic_load(&s.sum) == 2 * (per * (per + 1) / 2));
	CHECK(!atomic_load(&s.disorder));
	CHECK(ct_queue_empty(&s.q));
	CHECK_OK(ct_queue_destroy(&s.q));
}

TEST(solo_switches_to_shared_mid_run)
{
	/* Rounds, for the switch to catch the first two at different points. */
	for (int round = 0; round < (ht_slowed() ? 3 : 10); round++) {
		check_switch_mid_run(4); /* often full and empty: the first two sleep */
		check_switch_mid_run(1024);
	}
}

/* A second consumer arrives while the first sleeps in its solo get: the
 * switch wakes it to wait by the shared rules; both get an item. */
TEST(switch_wakes_a_sleeping_solo_getter)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, &RING));
	struct call a = {.q = &q, .timeout = CT_FOREVER}, b = a;
	ct_event_init(&a.done);
	ct_event_init(&b.done);
	ct_thread_t *ta = start(do_get, &a);
	until_waiting(&q, 1);
	ct_thread_t *tb = start(do_get, &b);
	until_waiting(&q, 2);
	CHECK_OK(ct_queue_put(&q, P(1), CT_FOREVER));
	CHECK_OK(ct_queue_put(&q, P(2), CT_FOREVER));
	finish(ta);
	finish(tb);
	CHECK_OK(a.rc);
	CHECK_OK(b.rc);
	CHECK_EQ(U(a.item) + U(b.item), 3);
	CHECK_OK(ct_queue_destroy(&q));
}

/* The same with putters: the first fills the ring and sleeps in its solo
 * put; a second putter comes; a consumer then gets all of it. */
static int fill_then_put(void *arg)
{
	struct call *c = arg;
	for (uintptr_t i = 1; i <= 8; i++)
		CHECK_OK(ct_queue_put(c->q, P(i), 0));
	return do_put(c);
}

TEST(switch_wakes_a_sleeping_solo_putter)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, &RING)); /* 8 slots */
	struct call a = {.q = &q, .item = P(9), .timeout = CT_FOREVER};
	struct call b = {.q = &q, .item = P(10), .timeout = CT_FOREVER};
	ct_event_init(&a.done);
	ct_event_init(&b.done);
	ct_thread_t *ta = start(fill_then_put, &a);
	until_waiting(&q, 1);
	ct_thread_t *tb = start(do_put, &b);
	until_waiting(&q, 2);
	uintptr_t sum = 0;
	void *item;
	for (int i = 0; i < 10; i++) {
		CHECK_OK(ct_queue_get(&q, &item, CT_FOREVER));
		sum += U(item);
	}
	finish(ta);
	finish(tb);
	CHECK_OK(a.rc);
	CHECK_OK(b.rc);
	CHECK_EQ(sum, 55);
	CHECK(ct_queue_empty(&q));
	CHECK_OK(ct_queue_destroy(&q));
}
