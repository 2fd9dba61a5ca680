/* SimpleQueue: FIFO order across segments, a put that never blocks (from a
 * destructor, under a lock, while getters wait), blocking gets with
 * timeouts and stop requests, allocation failures, stress. */
#include <stdint.h>
#include <stdlib.h>

#include "core/fault.h"
#include "harness.h"
#include "ht_internal.h"

#define P(x) ((void *)(uintptr_t)(x))
#define U(p) ((uintptr_t)(p))

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

/* Waits (polling) until a getter is inside the queue: it holds the getters'
 * lock from its first look until it returns. */
static void until_getter_inside(ct_simplequeue_t *q)
{
	while (!ct_lock_locked(&q->ct__get_lock))
		ct_sleep(0.001);
}

struct call {
	ct_simplequeue_t *q;
	void *item;
	double timeout;
	int rc;
};

static int do_get(void *arg)
{
	struct call *c = arg;
	c->rc = ct_simplequeue_get(c->q, &c->item, c->timeout);
	return 0;
}

/* With waits recorded (profile), a get before the first put counts as a
 * wait on the queue; destroy forgets the queue's name. */
TEST(profile_counts_a_wait_for_the_first_put)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	static ct_simplequeue_t q;
	ct_simplequeue_init(&q);
	CHECK_OK(ct_object_set_name(&q, "first"));
	struct call c = {.q = &q, .timeout = CT_FOREVER};
	ct_thread_t *t = start(do_get, &c);
	ht_wait_parked(t);
	CHECK_OK(ct_simplequeue_put(&q, P(5)));
	finish(t);
	CHECK_OK(c.rc);
	CHECK_EQ(U(c.item), 5);
	char *text = ht_report_text(ct_profile_report);
	if (!strstr(text, "simple queue \"first\": 1 waits"))
		ht_fail(__FILE__, __LINE__, "the profile:\n%s", text);
	free(text);
	CHECK_OK(ct_simplequeue_destroy(&q));
	char name[16];
	CHECK_EQ(ct_object_get_name(&q, name, sizeof name), 0);
}

TEST(fifo_order_across_segments)
{
	ct_simplequeue_t q;
	void *item;
	ct_simplequeue_init(&q);
	for (int round = 0; round < 3; round++) {
		int n = 5 * CT__SQ_SEGMENT + 3;
		for (int i = 1; i <= n; i++) {
			CHECK_OK(ct_simplequeue_put(&q, P(i)));
			CHECK_EQ(ct_simplequeue_qsize(&q), i);
		}
		for (int i = 1; i <= n; i++) {
			CHECK_OK(ct_simplequeue_get(&q, &item, CT_FOREVER));
			CHECK_EQ(U(item), i);
			CHECK_EQ(ct_simplequeue_qsize(&q), n - i);
		}
		CHECK(ct_simplequeue_empty(&q));
	}
	CHECK_OK(ct_simplequeue_destroy(&q));
}

TEST(static_initializer_and_nowait)
{
	static ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	void *item = P(5);
	CHECK(ct_simplequeue_empty(&q));
	CHECK_RC(ct_simplequeue_get_nowait(&q, &item), CT_EEMPTY); /* no segment yet */
	CHECK_EQ(U(item), 5);
	CHECK_OK(ct_simplequeue_put_nowait(&q, P(1)));
	CHECK(!ct_simplequeue_empty(&q));
	CHECK_OK(ct_simplequeue_get_nowait(&q, &item));
	CHECK_EQ(U(item), 1);
	CHECK_RC(ct_simplequeue_get_nowait(&q, &item), CT_EEMPTY); /* drained */
	CHECK_OK(ct_simplequeue_destroy(&q));
}

/* A destroyed SimpleQueue still in the caller's memory refuses puts and
 * gets (CT_EINVAL), as a destroyed Queue does, instead of starting a new
 * list nobody would free; init makes it a queue again. */
static void check_destroyed(bool segment_first)
{
	ct_simplequeue_t q;
	void *item = P(9);
	ct_simplequeue_init(&q);
	if (segment_first)
		CHECK_OK(ct_simplequeue_put(&q, P(1)));
	CHECK_OK(ct_simplequeue_destroy(&q));
	CHECK_RC(ct_simplequeue_put(&q, P(2)), CT_EINVAL);
	CHECK_RC(ct_simplequeue_put_nowait(&q, P(2)), CT_EINVAL);
	CHECK_RC(ct_simplequeue_get(&q, &item, 0), CT_EINVAL);
	CHECK_RC(ct_simplequeue_get(&q, &item, CT_FOREVER), CT_EINVAL);
	CHECK_RC(ct_simplequeue_get_nowait(&q, &item), CT_EINVAL);
	CHECK_EQ(U(item), 9); /* untouched */
	CHECK_EQ(ct_simplequeue_qsize(&q), 0);
	CHECK(ct_simplequeue_empty(&q));
	CHECK_OK(ct_simplequeue_destroy(&q)); /* a second time: nothing */
	CHECK_RC(ct_simplequeue_put(&q, P(2)), CT_EINVAL);
	ct_simplequeue_init(&q);
	CHECK_OK(ct_simplequeue_put(&q, P(3)));
	CHECK_OK(ct_simplequeue_get_nowait(&q, &item));
	CHECK_EQ(U(item), 3);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

TEST(destroyed_queue_refuses_operations)
{
	check_destroyed(false);
	check_destroyed(true);
	static ct_simplequeue_t st = CT_SIMPLEQUEUE_INIT;
	CHECK_OK(ct_simplequeue_destroy(&st));
	CHECK_RC(ct_simplequeue_put(&st, P(1)), CT_EINVAL);
}

TEST(get_timeout_never_early)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	void *item;
	for (int k = 0; k < 2; k++) { /* before any segment, then after one */
		double t0 = ht_now();
		CHECK_RC(ct_simplequeue_get(&q, &item, 0.05), CT_EEMPTY);
		CHECK(ht_now() - t0 >= 0.05);
		CHECK_OK(ct_simplequeue_put(&q, P(1)));
		CHECK_OK(ct_simplequeue_get_nowait(&q, &item));
	}
	CHECK_OK(ct_simplequeue_destroy(&q));
}

static void check_get_blocks(bool segment_first)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	void *item;
	if (segment_first) {
		CHECK_OK(ct_simplequeue_put(&q, P(1)));
		CHECK_OK(ct_simplequeue_get_nowait(&q, &item));
	}
	struct call c = {.q = &q, .timeout = CT_FOREVER};
	ct_thread_t *t = start(do_get, &c);
	until_getter_inside(&q);
	CHECK_OK(ct_simplequeue_put(&q, P(77)));
	finish(t);
	CHECK_OK(c.rc);
	CHECK_EQ(U(c.item), 77);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

TEST(get_blocks_until_first_put)
{
	check_get_blocks(false);
}

TEST(get_blocks_until_put)
{
	check_get_blocks(true);
}

/* Getters wait one behind the other; every put serves exactly one. */
TEST(many_blocked_getters)
{
	enum { N = 5 };
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	struct call c[N];
	ct_thread_t *t[N];
	for (int i = 0; i < N; i++) {
		c[i] = (struct call){.q = &q, .timeout = CT_FOREVER};
		t[i] = start(do_get, &c[i]);
	}
	until_getter_inside(&q);
	uintptr_t sum = 0;
	for (int i = 1; i <= N; i++)
		CHECK_OK(ct_simplequeue_put(&q, P(i)));
	for (int i = 0; i < N; i++) {
		finish(t[i]);
		CHECK_OK(c[i].rc);
		sum += U(c[i].item);
	}
	CHECK_EQ(sum, N * (N + 1) / 2);
	CHECK(ct_simplequeue_empty(&q));
	CHECK_OK(ct_simplequeue_destroy(&q));
}

/* A second getter waits behind the first (on the getters' lock): its
 * timeout still holds, and it is never early. */
TEST(queued_getter_times_out)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	struct call first = {.q = &q, .timeout = CT_FOREVER};
	ct_thread_t *t = start(do_get, &first);
	until_getter_inside(&q);
	void *item;
	double t0 = ht_now();
	CHECK_RC(ct_simplequeue_get(&q, &item, 0.05), CT_EEMPTY);
	CHECK(ht_now() - t0 >= 0.05);
	CHECK_RC(ct_simplequeue_get_nowait(&q, &item), CT_EEMPTY);
	CHECK_OK(ct_simplequeue_put(&q, P(3)));
	finish(t);
	CHECK_OK(first.rc);
	CHECK_EQ(U(first.item), 3);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

/* put never blocks: not under the caller's own locks, not while a getter
 * holds the getters' lock, not from a destructor. */
static ct_simplequeue_t *graveyard;

static void bury(void *item)
{
	CHECK_OK(ct_simplequeue_put(graveyard, item));
}

TEST(put_from_destructor_and_under_locks)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	void *item;
	graveyard = &q;
	struct call c = {.q = &q, .timeout = CT_FOREVER};
	ct_thread_t *t = start(do_get, &c);
	until_getter_inside(&q);
	/* The items a queue drops go to the SimpleQueue from its free_item. */
	ct_queue_t dying;
	CHECK_OK(ct_queue_init(&dying, &(ct_queue_opts){.maxsize = 4, .free_item = bury}));
	for (int i = 1; i <= 4; i++)
		CHECK_OK(ct_queue_put_nowait(&dying, P(i)));
	static ct_lock_t held = CT_LOCK_INIT;
	CT_WITH_LOCK(&held)
	{
		CHECK_OK(ct_queue_destroy(&dying));
		CHECK_OK(ct_simplequeue_put(&q, P(5)));
	}
	finish(t);
	CHECK_OK(c.rc);
	uintptr_t sum = U(c.item);
	while (ct_simplequeue_get_nowait(&q, &item) == 0)
		sum += U(item);
	CHECK_EQ(sum, 15);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

static void check_stop(bool segment_first, bool behind_another)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	void *item;
	if (segment_first) {
		CHECK_OK(ct_simplequeue_put(&q, P(1)));
		CHECK_OK(ct_simplequeue_get_nowait(&q, &item));
	}
	struct call first = {.q = &q, .timeout = CT_FOREVER};
	ct_thread_t *t0 = NULL;
	if (behind_another) {
		t0 = start(do_get, &first);
		until_getter_inside(&q);
	}
	struct call c = {.q = &q, .timeout = CT_FOREVER};
	ct_thread_t *t = start(do_get, &c);
	if (!behind_another)
		until_getter_inside(&q);
	else /* parked on the getters' lock */
		while (!(atomic_load(&q.ct__get_lock.ct__state) & CT__LOCK_PARKED))
			ct_sleep(0.001);
	CHECK_OK(ct_thread_request_stop(t));
	finish(t);
	CHECK_RC(c.rc, CT_ESTOPPED);
	CHECK_OK(ct_simplequeue_put(&q, P(2)));
	if (behind_another) {
		finish(t0);
		CHECK_OK(first.rc);
		CHECK_EQ(U(first.item), 2);
	} else {
		CHECK_OK(ct_simplequeue_get_nowait(&q, &item));
		CHECK_EQ(U(item), 2);
	}
	CHECK_OK(ct_simplequeue_destroy(&q));
}

TEST(stop_wakes_get_before_first_put)
{
	check_stop(false, false);
}

TEST(stop_wakes_get)
{
	check_stop(true, false);
}

TEST(stop_wakes_get_queued_behind_another)
{
	check_stop(true, true);
}

TEST(alloc_failure_first_segment)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	void *item;
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_RC(ct_simplequeue_put(&q, P(1)), CT_ENOMEM);
	CHECK(ct_simplequeue_empty(&q));
	CHECK_OK(ct_simplequeue_put(&q, P(2)));
	CHECK_OK(ct_simplequeue_get_nowait(&q, &item));
	CHECK_EQ(U(item), 2);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

TEST(alloc_failure_next_segment)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	void *item;
	/* The put that takes a segment's last slot links the next one. */
	for (int i = 1; i < CT__SQ_SEGMENT; i++)
		CHECK_OK(ct_simplequeue_put(&q, P(i)));
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_RC(ct_simplequeue_put(&q, P(999)), CT_ENOMEM);
	CHECK_EQ(ct_simplequeue_qsize(&q), CT__SQ_SEGMENT - 1);
	for (int i = CT__SQ_SEGMENT; i <= 3 * CT__SQ_SEGMENT; i++)
		CHECK_OK(ct_simplequeue_put(&q, P(i)));
	for (int i = 1; i <= 3 * CT__SQ_SEGMENT; i++) {
		CHECK_OK(ct_simplequeue_get_nowait(&q, &item));
		CHECK_EQ(U(item), i);
	}
	CHECK(ct_simplequeue_empty(&q));
	CHECK_OK(ct_simplequeue_destroy(&q));
}

/* Once a segment has been recycled, linking the next one needs no memory. */
TEST(recycled_segment_needs_no_allocation)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	void *item;
	for (int i = 0; i < 2 * CT__SQ_SEGMENT; i++)
		CHECK_OK(ct_simplequeue_put(&q, P(i)));
	for (int i = 0; i < 2 * CT__SQ_SEGMENT; i++)
		CHECK_OK(ct_simplequeue_get_nowait(&q, &item));
	ct__fault_set(CT__FAULT_ALLOC, 0, 1000000);
	for (int i = 0; i < CT__SQ_SEGMENT; i++)
		CHECK_OK(ct_simplequeue_put(&q, P(i)));
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

/* Getter and putter under one GIL: a get that waits gives the GIL up. */
static int gil_getter(void *arg)
{
	struct call *c = arg;
	uintptr_t sum = 0;
	for (int i = 0; i < 1000; i++) {
		if (ct_simplequeue_get(c->q, &c->item, CT_FOREVER) != 0)
			return 1;
		sum += U(c->item);
	}
	c->item = P(sum);
	return 0;
}

static int gil_putter(void *arg)
{
	struct call *c = arg;
	for (int i = 1; i <= 1000; i++) {
		if (ct_simplequeue_put(c->q, P(i)) != 0)
			return 1;
		if (i % 100 == 0)
			ct_sleep(0.001); /* let the getter run dry and wait */
	}
	return 0;
}

TEST(get_releases_the_gil)
{
	static ct_gil_t gil = CT_GIL_INIT;
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	struct call c = {.q = &q};
	ct_thread_t *g, *p;
	CHECK_OK(ct_thread_new(&g, gil_getter, &c, &(ct_thread_opts){.gil = &gil}));
	CHECK_OK(ct_thread_new(&p, gil_putter, &c, &(ct_thread_opts){.gil = &gil}));
	CHECK_OK(ct_thread_start(g));
	CHECK_OK(ct_thread_start(p));
	finish(p);
	finish(g);
	CHECK_EQ(U(c.item), 1000 * 1001 / 2);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

struct stress {
	ct_simplequeue_t *q;
	long per_producer, per_consumer;
	_Atomic uint64_t sum;
};

struct producer_arg {
	struct stress *s;
	uint64_t first;
};

static int producer(void *arg)
{
	struct producer_arg *p = arg;
	for (long i = 0; i < p->s->per_producer; i++)
		if (ct_simplequeue_put(p->s->q, P(p->first + (uint64_t)i)) != 0)
			return 1;
	return 0;
}

static int consumer(void *arg)
{
	struct stress *s = arg;
	uint64_t sum = 0;
	void *item;
	for (long i = 0; i < s->per_consumer; i++) {
		if (ct_simplequeue_get(s->q, &item, CT_FOREVER) != 0)
			return 1;
		sum += U(item);
	}
	atomic_fetch_add(&s->sum, sum);
	return 0;
}

TEST(stress_4p2c)
{
	long n = ht_slowed() ? 200000 : 2000000;
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	struct stress s = {.q = &q, .per_producer = n / 4, .per_consumer = n / 2};
	struct producer_arg pa[4];
	ct_thread_t *t[6];
	for (int i = 0; i < 2; i++)
		t[4 + i] = start(consumer, &s);
	for (int i = 0; i < 4; i++) {
		pa[i] = (struct producer_arg){&s, 1 + (uint64_t)i * (uint64_t)s.per_producer};
		t[i] = start(producer, &pa[i]);
	}
	for (int i = 0; i < 6; i++)
		finish(t[i]);
	uint64_t total = (uint64_t)n;
	CHECK(atomic_load(&s.sum) == total * (total + 1) / 2);
	CHECK(ct_simplequeue_empty(&q));
	CHECK_OK(ct_simplequeue_destroy(&q));
}

static int get_with_timeout(double timeout)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	void *item;
	return ct_simplequeue_get(&q, &item, timeout);
}

static int destroy_while_getter_waits(void)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	struct call c = {.q = &q, .timeout = CT_FOREVER};
	ct_thread_t *t = start(do_get, &c);
	until_getter_inside(&q);
	int rc = ct_simplequeue_destroy(&q);
	CHECK_OK(ct_simplequeue_put(&q, P(1)));
	finish(t);
	CHECK_OK(ct_simplequeue_destroy(&q));
	return rc;
}

MISUSE(get_nowait_empty, CT_EEMPTY, "queue is empty", get_with_timeout(0))
MISUSE(get_nan_timeout, CT_EINVAL, "invalid argument", get_with_timeout(0.0 / 0.0))
MISUSE(get_timeout_too_large, CT_ETOOLARGE, "timeout value is too large", get_with_timeout(1e300))
MISUSE(put_null_queue, CT_EINVAL, "invalid argument", ct_simplequeue_put(NULL, NULL))
MISUSE(destroy_while_getter_waits, CT_EBUSY, "the object is in use", destroy_while_getter_waits())
