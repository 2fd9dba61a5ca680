/* CPython's Lib/test/test_queue.py, ported to C. The BaseQueueTestMixin
 * methods run once per kind: queuetest_ (Queue), lifoqueuetest_
 * (LifoQueue), priorityqueuetest_ (PriorityQueue); Python runs each twice,
 * for its pure-Python and C queue modules, which here are one. The
 * BaseSimpleQueueTest methods are simplequeuetest_. Items are small
 * integers stored in the void pointers.
 *
 * The originals let a trigger thread sleep 0.1 s "to give the blocking
 * function a chance at actually blocking"; here it waits until the main
 * thread is parked in the blocking call.
 *
 * Not ported, and why:
 *   BaseQueueTestMixin.test_shrinking_queue   assigning q.maxsize: the
 *                                             bound is fixed at init here.
 *   FailingQueueTest.test_failing_queue       subclass hooks (_put, _get)
 *                                             that raise: no subclassing,
 *                                             no exceptions
 *                                             (docs/python-to-c.md).
 *   BaseSimpleQueueTest.test_references       weak references (GC).
 *   CSimpleQueueTest.test_is_default          which Python class is the
 *                                             default.
 *   CSimpleQueueTest.test_reentrancy          a put re-entered from __del__
 *                                             run by the GC in the middle
 *                                             of a put: C has no such
 *                                             asynchronous finalizers.
 * Also left out inside ported methods: the q.unfinished_tasks assertions
 * (no counterpart).
 */
#include <stdint.h>

#include "cpython_helpers.h"

#define QUEUE_SIZE 5
#define V(x) ((void *)(intptr_t)(x))
#define I(p) ((intptr_t)(p))

static int compare_ints(const void *a, const void *b)
{
	intptr_t x = I(a), y = I(b);
	return (x > y) - (x < y);
}

static ct_queue_t *new_queue(ct_queue_t *q, ct_queue_kind kind, long maxsize)
{
	CHECK_OK(ct_queue_init(
		q, &(ct_queue_opts){.maxsize = maxsize, .kind = kind, .compare = compare_ints}));
	return q;
}

static bool qfull(const ct_queue_t *q)
{
	return ct_queue_maxsize(q) > 0 && ct_queue_qsize(q) == (size_t)ct_queue_maxsize(q);
}

static void *get_ok(ct_queue_t *q)
{
	void *item = NULL;
	CHECK_OK(ct_queue_get(q, &item, CT_FOREVER));
	return item;
}

/* ---- BlockingTestMixin --------------------------------------------------- */

enum qop { OP_GET, OP_PUT };

struct trigger {
	ct_queue_t *q;
	enum qop op;
	void *item;
	ct_event_t started;
};

static int trigger_run(void *arg)
{
	struct trigger *t = arg;
	/* Until the blocking call in the main thread really blocks. */
	ht_wait_parked(ct_main_thread());
	ct_event_set(&t->started);
	if (t->op == OP_GET)
		(void)get_ok(t->q);
	else
		CHECK_OK(ct_queue_put(t->q, t->item, CT_FOREVER));
	return 0;
}

/* Makes the blocking call @p block_op in this thread while a trigger
 * thread unblocks it with @p trigger_op; checks the call did block. */
static void *do_blocking_test(ct_queue_t *q, enum qop block_op, void *block_item, double timeout,
			      enum qop trigger_op, void *trigger_item)
{
	struct trigger t = {.q = q, .op = trigger_op, .item = trigger_item};
	ct_event_init(&t.started);
	ct_thread_t *th = cp_start(trigger_run, &t);
	void *result = NULL;
	if (block_op == OP_GET)
		CHECK_OK(ct_queue_get(q, &result, timeout));
	else
		CHECK_OK(ct_queue_put(q, block_item, timeout));
	if (!ct_event_is_set(&t.started))
		ht_fail(__FILE__, __LINE__, "blocking %s appeared not to block",
			block_op == OP_GET ? "get" : "put");
	cp_join(th);
	return result;
}

/* ---- BaseQueueTestMixin --------------------------------------------------- */

static void basic_queue_test(ct_queue_t *q, ct_queue_kind kind)
{
	CHECK_EQ(ct_queue_qsize(q), 0);
	CHECK(ct_queue_empty(q));
	CHECK(!ct_queue_full(q));
	/* Things queue in the right order. */
	CHECK_OK(ct_queue_put(q, V(111), CT_FOREVER));
	CHECK_OK(ct_queue_put(q, V(333), CT_FOREVER));
	CHECK_OK(ct_queue_put(q, V(222), CT_FOREVER));
	static const intptr_t order[3][3] = {
		[CT_QUEUE_FIFO] = {111, 333, 222},
		[CT_QUEUE_LIFO] = {222, 333, 111},
		[CT_QUEUE_PRIORITY] = {111, 222, 333},
	};
	for (int i = 0; i < 3; i++)
		CHECK_EQ(I(get_ok(q)), order[kind][i]);
	for (int i = 0; i < QUEUE_SIZE - 1; i++) {
		CHECK_OK(ct_queue_put(q, V(i), CT_FOREVER));
		CHECK(ct_queue_qsize(q) > 0);
	}
	CHECK(!qfull(q));
	intptr_t last = 2 * QUEUE_SIZE, full = 3 * 2 * QUEUE_SIZE;
	CHECK_OK(ct_queue_put(q, V(last), CT_FOREVER));
	CHECK(qfull(q));
	CHECK(!ct_queue_empty(q));
	CHECK(ct_queue_full(q));
	CHECK_RC(ct_queue_put(q, V(full), 0), CT_EFULL);
	CHECK_RC(ct_queue_put(q, V(full), 0.01), CT_EFULL);
	/* A blocking put. */
	do_blocking_test(q, OP_PUT, V(full), CT_FOREVER, OP_GET, NULL);
	do_blocking_test(q, OP_PUT, V(full), 10, OP_GET, NULL);
	/* Empty it. */
	for (int i = 0; i < QUEUE_SIZE; i++)
		(void)get_ok(q);
	CHECK_EQ(ct_queue_qsize(q), 0);
	void *item;
	CHECK_RC(ct_queue_get(q, &item, 0), CT_EEMPTY);
	CHECK_RC(ct_queue_get(q, &item, 0.01), CT_EEMPTY);
	/* A blocking get. */
	CHECK_EQ(I(do_blocking_test(q, OP_GET, NULL, CT_FOREVER, OP_PUT, V(-7))), -7);
	CHECK_EQ(I(do_blocking_test(q, OP_GET, NULL, 10, OP_PUT, V(-7))), -7);
}

struct join_state {
	ct_queue_t *q;
	ct_lock_t cumlock;
	long cum;
};

static int queue_worker(void *arg)
{
	struct join_state *s = arg;
	for (;;) {
		intptr_t x = I(get_ok(s->q));
		if (x < 0) {
			CHECK_OK(ct_queue_task_done(s->q));
			return 0;
		}
		CT_WITH_LOCK(&s->cumlock)
		{
			s->cum += x;
		}
		CHECK_OK(ct_queue_task_done(s->q));
	}
}

static void queue_join_test(ct_queue_t *q)
{
	struct join_state s = {.q = q, .cumlock = CT_LOCK_INIT, .cum = 0};
	ct_thread_t *threads[2];
	for (int i = 0; i < 2; i++)
		threads[i] = cp_start(queue_worker, &s);
	for (int i = 0; i < 100; i++)
		CHECK_OK(ct_queue_put(q, V(i), CT_FOREVER));
	CHECK_OK(ct_queue_join(q, CT_FOREVER));
	CT_WITH_LOCK(&s.cumlock)
	{
		CHECK_EQ(s.cum, 99 * 100 / 2); /* join waited for every task */
	}
	for (int i = 0; i < 2; i++)
		CHECK_OK(ct_queue_put(q, V(-1), CT_FOREVER)); /* the workers end */
	CHECK_OK(ct_queue_join(q, CT_FOREVER));		      /* join works twice */
	for (int i = 0; i < 2; i++)
		cp_join(threads[i]);
}

static void t_queue_task_done(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, 0);
	CHECK_RC(ct_queue_task_done(&q), CT_ETASKDONE); /* ValueError */
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_queue_join(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, 0);
	queue_join_test(&q);
	queue_join_test(&q);
	CHECK_RC(ct_queue_task_done(&q), CT_ETASKDONE);
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_basic(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, QUEUE_SIZE);
	basic_queue_test(&q, kind);
	basic_queue_test(&q, kind);
	CHECK_OK(ct_queue_destroy(&q));
}

/* Python rejects a negative timeout with ValueError: CT_EINVAL here, and
 * nothing is put or taken. The one exception is CT_FOREVER, which is -1.0
 * (Python's None): put(timeout=-1) has no C spelling of its own. */
static void t_negative_timeout_raises_exception(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, QUEUE_SIZE);
	CHECK_RC(ct_queue_put(&q, V(1), -0.5), CT_EINVAL);
	CHECK_EQ(ct_queue_qsize(&q), 0);
	CHECK_OK(ct_queue_put(&q, V(1), CT_FOREVER));
	void *item = NULL;
	CHECK_RC(ct_queue_get(&q, &item, -2), CT_EINVAL);
	CHECK_EQ(ct_queue_qsize(&q), 1);
	CHECK_OK(ct_queue_get(&q, &item, CT_FOREVER));
	CHECK_EQ(I(item), 1);
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_nowait(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, QUEUE_SIZE);
	for (int i = 0; i < QUEUE_SIZE; i++)
		CHECK_OK(ct_queue_put_nowait(&q, V(1)));
	CHECK_RC(ct_queue_put_nowait(&q, V(1)), CT_EFULL);
	void *item;
	for (int i = 0; i < QUEUE_SIZE; i++)
		CHECK_OK(ct_queue_get_nowait(&q, &item));
	CHECK_RC(ct_queue_get_nowait(&q, &item), CT_EEMPTY);
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_shutdown_empty(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, 0);
	ct_queue_shutdown(&q, false);
	CHECK_RC(ct_queue_put(&q, V('d'), CT_FOREVER), CT_ESHUTDOWN);
	void *item;
	CHECK_RC(ct_queue_get(&q, &item, CT_FOREVER), CT_ESHUTDOWN);
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_shutdown_nonempty(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, 0);
	CHECK_OK(ct_queue_put(&q, V('d'), CT_FOREVER));
	ct_queue_shutdown(&q, false);
	CHECK_EQ(I(get_ok(&q)), 'd');
	void *item;
	CHECK_RC(ct_queue_get(&q, &item, CT_FOREVER), CT_ESHUTDOWN);
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_shutdown_immediate(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, 0);
	CHECK_OK(ct_queue_put(&q, V('d'), CT_FOREVER));
	ct_queue_shutdown(&q, true);
	void *item;
	CHECK_RC(ct_queue_get(&q, &item, CT_FOREVER), CT_ESHUTDOWN);
	CHECK_OK(ct_queue_destroy(&q));
}

/* From alive, through shutdown, to immediate. */
static void t_shutdown_allowed_transitions(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, 0);
	CHECK(!ct_queue_is_shutdown(&q));
	ct_queue_shutdown(&q, false);
	CHECK(ct_queue_is_shutdown(&q));
	ct_queue_shutdown(&q, true);
	CHECK(ct_queue_is_shutdown(&q));
	ct_queue_shutdown(&q, false);
	CHECK(ct_queue_is_shutdown(&q));
	CHECK_OK(ct_queue_destroy(&q));
}

static bool is_l_or_o(void *item)
{
	return I(item) == 'L' || I(item) == 'O';
}

static void shutdown_all_methods_in_one_thread(ct_queue_kind kind, bool immediate)
{
	ct_queue_t q;
	new_queue(&q, kind, 2);
	CHECK_OK(ct_queue_put(&q, V('L'), CT_FOREVER));
	CHECK_OK(ct_queue_put_nowait(&q, V('O')));
	ct_queue_shutdown(&q, immediate);
	CHECK_RC(ct_queue_put(&q, V('E'), CT_FOREVER), CT_ESHUTDOWN);
	CHECK_RC(ct_queue_put_nowait(&q, V('W')), CT_ESHUTDOWN);
	void *item;
	if (immediate) {
		CHECK_RC(ct_queue_get(&q, &item, CT_FOREVER), CT_ESHUTDOWN);
		CHECK_RC(ct_queue_get_nowait(&q, &item), CT_ESHUTDOWN);
		CHECK_RC(ct_queue_task_done(&q), CT_ETASKDONE);
		CHECK_OK(ct_queue_join(&q, CT_FOREVER));
	} else {
		CHECK(is_l_or_o(get_ok(&q)));
		CHECK_OK(ct_queue_task_done(&q));
		CHECK(is_l_or_o(get_ok(&q)));
		CHECK_OK(ct_queue_task_done(&q));
		CHECK_OK(ct_queue_join(&q, CT_FOREVER));
		/* Shut down and empty: ShutDown, blocking or not. */
		CHECK_RC(ct_queue_get(&q, &item, CT_FOREVER), CT_ESHUTDOWN);
		CHECK_RC(ct_queue_get_nowait(&q, &item), CT_ESHUTDOWN);
		CHECK_RC(ct_queue_get(&q, &item, 1.0), CT_ESHUTDOWN);
	}
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_shutdown_all_methods_in_one_thread(ct_queue_kind kind)
{
	shutdown_all_methods_in_one_thread(kind, false);
}

static void t_shutdown_immediate_all_methods_in_one_thread(ct_queue_kind kind)
{
	shutdown_all_methods_in_one_thread(kind, true);
}

/* ---- many threads: producers, consumers, joiners and one shutdown ---------- */

struct many {
	ct_queue_t *q;
	bool immediate;
	int nb_msgs_w, when_exec_shutdown;
	ct_barrier_t barrier_start;
	ct_event_t event_shutdown;
	atomic_int puts_true, puts_false, gets_true, shutdown_true, shutdown_false;
	atomic_flag shutdown_taken;
};

static int write_msg_thread(void *arg)
{
	struct many *m = arg;
	for (int i = 0; i < m->when_exec_shutdown / 2; i++)
		CHECK_OK(ct_queue_put(m->q, V(i), CT_FOREVER));
	CHECK(ct_barrier_wait(&m->barrier_start, CT_FOREVER) >= 0);
	for (int i = m->when_exec_shutdown / 2; i < m->nb_msgs_w; i++) {
		int rc = ct_queue_put(m->q, V(i), CT_FOREVER);
		if (rc == CT_ESHUTDOWN) {
			atomic_fetch_add(&m->puts_false, 1);
			break;
		}
		CHECK_OK(rc);
		/* Only one thread triggers the shutdown. */
		if (i == m->when_exec_shutdown && !atomic_flag_test_and_set(&m->shutdown_taken)) {
			ct_event_set(&m->event_shutdown);
			atomic_fetch_add(&m->puts_true, 1);
		}
	}
	return 0;
}

static int read_msg_thread(void *arg)
{
	struct many *m = arg;
	(void)get_ok(m->q); /* at least one item */
	CHECK_OK(ct_queue_task_done(m->q));
	CHECK(ct_barrier_wait(&m->barrier_start, CT_FOREVER) >= 0);
	for (;;) {
		void *item;
		int rc = ct_queue_get(m->q, &item, 0);
		if (rc == 0) {
			CHECK_OK(ct_queue_task_done(m->q));
		} else if (rc == CT_ESHUTDOWN) {
			atomic_fetch_add(&m->gets_true, 1);
			return 0;
		} else {
			CHECK_RC(rc, CT_EEMPTY);
			sched_yield();
		}
	}
}

static int shutdown_thread(void *arg)
{
	struct many *m = arg;
	CHECK_OK(ct_event_wait(&m->event_shutdown, CT_FOREVER));
	ct_queue_shutdown(m->q, m->immediate);
	if (ct_queue_qsize(m->q) == 0)
		atomic_fetch_add(&m->shutdown_true, 1);
	else
		atomic_fetch_add(&m->shutdown_false, 1);
	return 0;
}

static int join_thread(void *arg)
{
	struct many *m = arg;
	CHECK(ct_barrier_wait(&m->barrier_start, CT_FOREVER) >= 0);
	CHECK_OK(ct_queue_join(m->q, CT_FOREVER));
	return 0;
}

static void shutdown_all_methods_in_many_threads(ct_queue_kind kind, bool immediate)
{
	enum { WRITE_THREADS = 4, READ_THREADS = 6, JOIN_THREADS = 2 };
	ct_queue_t q;
	static struct many m;
	memset(&m, 0, sizeof m);
	m.q = new_queue(&q, kind, 0);
	m.immediate = immediate;
	int nb_msgs = ht_slowed() ? 1024 * 8 : 1024 * 64;
	m.nb_msgs_w = nb_msgs / WRITE_THREADS;
	m.when_exec_shutdown = m.nb_msgs_w / 2;
	/* Every writer has put its first items and every reader got at least
	 * one before the rest goes on; the joiners only with immediate. */
	unsigned nparties = WRITE_THREADS + READ_THREADS + (immediate ? JOIN_THREADS : 0);
	CHECK_OK(ct_barrier_init(&m.barrier_start, nparties, NULL, NULL, CT_FOREVER));
	ct_event_init(&m.event_shutdown);
	atomic_flag_clear(&m.shutdown_taken);
	ct_thread_t *ps[WRITE_THREADS + READ_THREADS + 1 + JOIN_THREADS];
	int n = 0;
	for (int i = 0; i < WRITE_THREADS; i++)
		ps[n++] = cp_start(write_msg_thread, &m);
	for (int i = 0; i < READ_THREADS; i++)
		ps[n++] = cp_start(read_msg_thread, &m);
	ps[n++] = cp_start(shutdown_thread, &m);
	if (immediate)
		for (int i = 0; i < JOIN_THREADS; i++)
			ps[n++] = cp_start(join_thread, &m);
	for (int i = 0; i < n; i++)
		cp_join(ps[i]);
	CHECK(atomic_load(&m.puts_true) >= 1);
	CHECK_EQ(atomic_load(&m.gets_true), READ_THREADS);
	if (immediate) {
		CHECK_EQ(atomic_load(&m.shutdown_true), 1);
		CHECK_EQ(atomic_load(&m.shutdown_false), 0);
		CHECK(ct_queue_empty(&q));
	}
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_shutdown_all_methods_in_many_threads(ct_queue_kind kind)
{
	shutdown_all_methods_in_many_threads(kind, false);
}

static void t_shutdown_immediate_all_methods_in_many_threads(ct_queue_kind kind)
{
	shutdown_all_methods_in_many_threads(kind, true);
}

/* ---- _get, _put, _join helpers of the shutdown cases ------------------------ */

struct sd {
	ct_queue_t *q;
	ct_event_t go;
	void *msg;
	bool shutdown; /* the call is expected to see ShutDown */
	ct_lock_t lock;
	int results[8], n;
	int res[8], nres; /* the _get_task_done helpers' own list */
};

static void add_result(struct sd *s, int *list, int *n, bool value)
{
	CT_WITH_LOCK(&s->lock)
	{
		list[(*n)++] = value;
	}
}

/* _get: True when the outcome is the expected one. */
static int sd_get(void *arg)
{
	struct sd *s = arg;
	ct_event_wait(&s->go, CT_FOREVER);
	void *item;
	int rc = ct_queue_get(s->q, &item, CT_FOREVER);
	if (rc == 0)
		add_result(s, s->results, &s->n, !s->shutdown);
	else {
		CHECK_RC(rc, CT_ESHUTDOWN);
		add_result(s, s->results, &s->n, s->shutdown);
	}
	return 0;
}

static int sd_get_task_done(void *arg)
{
	struct sd *s = arg;
	ct_event_wait(&s->go, CT_FOREVER);
	void *item;
	int rc = ct_queue_get(s->q, &item, CT_FOREVER);
	if (rc == 0) {
		CHECK_OK(ct_queue_task_done(s->q));
		add_result(s, s->res, &s->nres, true);
	} else {
		CHECK_RC(rc, CT_ESHUTDOWN);
		add_result(s, s->res, &s->nres, false);
	}
	return 0;
}

/* _get_task_done recording into the main list (get_task_done_join). */
static int sd_get_task_done_main(void *arg)
{
	struct sd *s = arg;
	ct_event_wait(&s->go, CT_FOREVER);
	void *item;
	int rc = ct_queue_get(s->q, &item, CT_FOREVER);
	if (rc == 0) {
		CHECK_OK(ct_queue_task_done(s->q));
		add_result(s, s->results, &s->n, true);
	} else {
		CHECK_RC(rc, CT_ESHUTDOWN);
		add_result(s, s->results, &s->n, false);
	}
	return 0;
}

static int sd_put(void *arg)
{
	struct sd *s = arg;
	ct_event_wait(&s->go, CT_FOREVER);
	int rc = ct_queue_put(s->q, s->msg, CT_FOREVER);
	if (rc == 0)
		add_result(s, s->results, &s->n, !s->shutdown);
	else {
		CHECK_RC(rc, CT_ESHUTDOWN);
		add_result(s, s->results, &s->n, s->shutdown);
	}
	return 0;
}

/* _join: Python 3.13's join() returns on shutdown, it does not raise. */
static int sd_join(void *arg)
{
	struct sd *s = arg;
	CHECK_OK(ct_queue_join(s->q, CT_FOREVER));
	add_result(s, s->results, &s->n, true);
	return 0;
}

static void sd_init(struct sd *s, ct_queue_t *q, bool shutdown)
{
	memset(s, 0, sizeof *s);
	s->q = q;
	s->shutdown = shutdown;
	ct_event_init(&s->go);
	ct_lock_init(&s->lock);
}

static void check_all_true(const int *list, int n, int want_n)
{
	CHECK_EQ(n, want_n);
	for (int i = 0; i < n; i++)
		CHECK_EQ(list[i], 1);
}

static void shutdown_get(ct_queue_kind kind, bool immediate)
{
	ct_queue_t q;
	new_queue(&q, kind, 2);
	struct sd s;
	sd_init(&s, &q, immediate);
	CHECK_OK(ct_queue_put(&q, V('Y'), CT_FOREVER));
	CHECK_OK(ct_queue_put(&q, V('D'), CT_FOREVER)); /* full */
	/* Immediate: both getters see ShutDown. Otherwise one of three does. */
	int nthreads = immediate ? 2 : 3;
	ct_thread_t *threads[3];
	for (int i = 0; i < nthreads; i++)
		threads[i] = cp_start(sd_get, &s);
	ct_queue_shutdown(&q, immediate);
	ct_event_set(&s.go);
	for (int i = 0; i < nthreads; i++)
		cp_join(threads[i]);
	CHECK_EQ(s.n, nthreads);
	int trues = 0;
	for (int i = 0; i < s.n; i++)
		trues += s.results[i];
	/* [True, True], or sorted [False, True, True]. */
	CHECK_EQ(trues, 2);
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_shutdown_get(ct_queue_kind kind)
{
	shutdown_get(kind, false);
}

static void t_shutdown_immediate_get(ct_queue_kind kind)
{
	shutdown_get(kind, true);
}

static void shutdown_put(ct_queue_kind kind, bool immediate)
{
	ct_queue_t q;
	new_queue(&q, kind, 2);
	struct sd s;
	sd_init(&s, &q, true);
	CHECK_OK(ct_queue_put(&q, V('Y'), CT_FOREVER));
	CHECK_OK(ct_queue_put(&q, V('D'), CT_FOREVER)); /* full */
	s.msg = V('E');					/* (Python's second putter puts "W") */
	ct_thread_t *threads[2];
	for (int i = 0; i < 2; i++)
		threads[i] = cp_start(sd_put, &s);
	ct_queue_shutdown(&q, immediate);
	ct_event_set(&s.go);
	for (int i = 0; i < 2; i++)
		cp_join(threads[i]);
	check_all_true(s.results, s.n, 2);
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_shutdown_put(ct_queue_kind kind)
{
	shutdown_put(kind, false);
}

static void t_shutdown_immediate_put(ct_queue_kind kind)
{
	shutdown_put(kind, true);
}

static void shutdown_join(ct_queue_kind kind, bool immediate)
{
	ct_queue_t q;
	new_queue(&q, kind, 0);
	struct sd s;
	sd_init(&s, &q, false);
	CHECK_OK(ct_queue_put(&q, V('Y'), CT_FOREVER));
	size_t nb = ct_queue_qsize(&q);
	ct_thread_t *threads[4];
	int n = 0;
	for (int i = 0; i < 2; i++)
		threads[n++] = cp_start(sd_join, &s);
	if (!immediate)
		for (size_t i = 0; i < nb; i++)
			threads[n++] = cp_start(sd_get_task_done, &s);
	ct_queue_shutdown(&q, immediate);
	ct_event_set(&s.go);
	for (int i = 0; i < n; i++)
		cp_join(threads[i]);
	check_all_true(s.results, s.n, 2);
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_shutdown_join(ct_queue_kind kind)
{
	shutdown_join(kind, false);
}

static void t_shutdown_immediate_join(ct_queue_kind kind)
{
	shutdown_join(kind, true);
}

static void shutdown_put_join(ct_queue_kind kind, bool immediate)
{
	ct_queue_t q;
	new_queue(&q, kind, 2);
	struct sd s;
	sd_init(&s, &q, true);
	s.msg = V('E');
	CHECK_OK(ct_queue_put(&q, V('Y'), CT_FOREVER)); /* not full */
	ct_thread_t *threads[2];
	threads[0] = cp_start(sd_put, &s);
	threads[1] = cp_start(sd_join, &s);
	/* (q.unfinished_tasks == 1: no counterpart.) */
	ct_queue_shutdown(&q, immediate);
	ct_event_set(&s.go);
	void *item;
	if (immediate) {
		CHECK_RC(ct_queue_get_nowait(&q, &item), CT_ESHUTDOWN);
	} else {
		CHECK_EQ(I(get_ok(&q)), 'Y');
		CHECK_OK(ct_queue_task_done(&q));
	}
	for (int i = 0; i < 2; i++)
		cp_join(threads[i]);
	check_all_true(s.results, s.n, 2);
	CHECK_OK(ct_queue_destroy(&q));
}

static void t_shutdown_put_join(ct_queue_kind kind)
{
	shutdown_put_join(kind, false);
}

static void t_shutdown_immediate_put_join(ct_queue_kind kind)
{
	shutdown_put_join(kind, true);
}

static void t_shutdown_get_task_done_join(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, 2);
	struct sd s;
	sd_init(&s, &q, false);
	CHECK_OK(ct_queue_put(&q, V('Y'), CT_FOREVER));
	CHECK_OK(ct_queue_put(&q, V('D'), CT_FOREVER));
	/* (q.unfinished_tasks == q.qsize(): no counterpart.) */
	ct_thread_t *threads[4];
	threads[0] = cp_start(sd_get_task_done_main, &s);
	threads[1] = cp_start(sd_get_task_done_main, &s);
	threads[2] = cp_start(sd_join, &s);
	threads[3] = cp_start(sd_join, &s);
	ct_event_set(&s.go);
	ct_queue_shutdown(&q, false);
	for (int i = 0; i < 4; i++)
		cp_join(threads[i]);
	check_all_true(s.results, s.n, 4);
	CHECK_OK(ct_queue_destroy(&q));
}

struct pending_get {
	ct_queue_t *q;
	int rc;
};

static int pending_get(void *arg)
{
	struct pending_get *p = arg;
	void *item;
	p->rc = ct_queue_get(p->q, &item, CT_FOREVER);
	return 0;
}

static void t_shutdown_pending_get(ct_queue_kind kind)
{
	ct_queue_t q;
	new_queue(&q, kind, 0);
	struct pending_get p = {.q = &q, .rc = 1};
	ct_thread_t *t = cp_start(pending_get, &p);
	ht_wait_parked(t); /* the get is pending */
	ct_queue_shutdown(&q, false);
	CHECK_OK(ct_thread_join(t, 10.0));
	CHECK(!ct_thread_is_alive(t));
	ct_thread_release(t);
	CHECK_RC(p.rc, CT_ESHUTDOWN);
	CHECK_OK(ct_queue_destroy(&q));
}

/* ---- BaseSimpleQueueTest ------------------------------------------------------ */

enum consume_kind { CONSUME, CONSUME_NONBLOCK, CONSUME_TIMEOUT };

struct sq_run {
	ct_simplequeue_t *q;
	intptr_t n_inputs;
	atomic_long next; /* the shared input sequence, popped in order */
	enum consume_kind consume;
	intptr_t *results;
	atomic_long nresults;
};

/* The sentinel is NULL; the inputs are 1..n (Python's range(n) shifted so
 * that none is the sentinel). */
static int feed(void *arg)
{
	struct sq_run *r = arg;
	for (;;) {
		long i = atomic_fetch_add(&r->next, 1);
		if (i >= r->n_inputs) {
			CHECK_OK(ct_simplequeue_put(r->q, NULL));
			return 0;
		}
		CHECK_OK(ct_simplequeue_put(r->q, V(i + 1)));
	}
}

static int consume(void *arg)
{
	struct sq_run *r = arg;
	for (;;) {
		void *val;
		int rc;
		switch (r->consume) {
		case CONSUME:
			CHECK_OK(ct_simplequeue_get(r->q, &val, CT_FOREVER));
			break;
		case CONSUME_NONBLOCK:
			while ((rc = ct_simplequeue_get(r->q, &val, 0)) == CT_EEMPTY)
				sched_yield();
			CHECK_OK(rc);
			break;
		case CONSUME_TIMEOUT:
			while ((rc = ct_simplequeue_get(r->q, &val, 1e-5)) == CT_EEMPTY)
				;
			CHECK_OK(rc);
			break;
		}
		if (val == NULL)
			return 0;
		r->results[atomic_fetch_add(&r->nresults, 1)] = I(val);
	}
}

static int cmp_intptr(const void *a, const void *b)
{
	intptr_t x = *(const intptr_t *)a, y = *(const intptr_t *)b;
	return (x > y) - (x < y);
}

/* Runs n feeders and n consumers over 1..n_inputs; checks every input came
 * out once (in order when @p ordered) and the queue is left empty. */
static void run_threads(int n, intptr_t n_inputs, enum consume_kind kind, bool ordered)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	struct sq_run r = {.q = &q, .n_inputs = n_inputs, .consume = kind};
	r.results = calloc((size_t)n_inputs, sizeof *r.results);
	CHECK(r.results != NULL);
	ct_thread_t *threads[2 * 50];
	CHECK(n <= 50);
	for (int i = 0; i < n; i++)
		threads[i] = cp_start(feed, &r);
	for (int i = 0; i < n; i++)
		threads[n + i] = cp_start(consume, &r);
	for (int i = 0; i < 2 * n; i++)
		cp_join(threads[i]);
	CHECK(ct_simplequeue_empty(&q));
	CHECK_EQ(ct_simplequeue_qsize(&q), 0);
	CHECK_EQ(atomic_load(&r.nresults), n_inputs);
	if (!ordered)
		qsort(r.results, (size_t)n_inputs, sizeof *r.results, cmp_intptr);
	for (intptr_t i = 0; i < n_inputs; i++)
		CHECK_EQ(r.results[i], i + 1);
	free(r.results);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

TEST(simplequeuetest_basic)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	CHECK(ct_simplequeue_empty(&q));
	CHECK_EQ(ct_simplequeue_qsize(&q), 0);
	CHECK_OK(ct_simplequeue_put(&q, V(1)));
	CHECK(!ct_simplequeue_empty(&q));
	CHECK_EQ(ct_simplequeue_qsize(&q), 1);
	CHECK_OK(ct_simplequeue_put(&q, V(2)));
	CHECK_OK(ct_simplequeue_put_nowait(&q, V(3)));
	CHECK_OK(ct_simplequeue_put(&q, V(4)));
	CHECK(!ct_simplequeue_empty(&q));
	CHECK_EQ(ct_simplequeue_qsize(&q), 4);
	void *v;
	CHECK_OK(ct_simplequeue_get(&q, &v, CT_FOREVER));
	CHECK_EQ(I(v), 1);
	CHECK_EQ(ct_simplequeue_qsize(&q), 3);
	CHECK_OK(ct_simplequeue_get_nowait(&q, &v));
	CHECK_EQ(I(v), 2);
	CHECK_EQ(ct_simplequeue_qsize(&q), 2);
	CHECK_OK(ct_simplequeue_get(&q, &v, 0)); /* block=False */
	CHECK_EQ(I(v), 3);
	CHECK(!ct_simplequeue_empty(&q));
	CHECK_EQ(ct_simplequeue_qsize(&q), 1);
	CHECK_OK(ct_simplequeue_get(&q, &v, 0.1));
	CHECK_EQ(I(v), 4);
	CHECK(ct_simplequeue_empty(&q));
	CHECK_EQ(ct_simplequeue_qsize(&q), 0);
	CHECK_RC(ct_simplequeue_get(&q, &v, 0), CT_EEMPTY);
	CHECK_RC(ct_simplequeue_get(&q, &v, 1e-3), CT_EEMPTY);
	CHECK_RC(ct_simplequeue_get_nowait(&q, &v), CT_EEMPTY);
	CHECK(ct_simplequeue_empty(&q));
	CHECK_EQ(ct_simplequeue_qsize(&q), 0);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

/* Python rejects get(timeout=-1) with ValueError: CT_EINVAL for any
 * negative timeout but CT_FOREVER (-1.0, Python's None), and the item
 * stays queued. */
TEST(simplequeuetest_negative_timeout_raises_exception)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	CHECK_OK(ct_simplequeue_put(&q, V(1)));
	void *v;
	CHECK_RC(ct_simplequeue_get(&q, &v, -0.5), CT_EINVAL);
	CHECK_EQ(ct_simplequeue_qsize(&q), 1);
	CHECK_OK(ct_simplequeue_get(&q, &v, CT_FOREVER));
	CHECK_EQ(I(v), 1);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

/* One producer, one consumer: the order is kept. */
TEST(simplequeuetest_order)
{
	run_threads(1, 100, CONSUME, true);
}

TEST(simplequeuetest_many_threads)
{
	run_threads(50, 10000, CONSUME, false);
}

TEST(simplequeuetest_many_threads_nonblock)
{
	run_threads(50, 10000, CONSUME_NONBLOCK, false);
}

TEST(simplequeuetest_many_threads_timeout)
{
	run_threads(50, 1000, CONSUME_TIMEOUT, false);
}

/* ---- one case per queue kind ------------------------------------------------ */
TEST(queuetest_queue_task_done)
{
	t_queue_task_done(CT_QUEUE_FIFO);
}

TEST(queuetest_queue_join)
{
	t_queue_join(CT_QUEUE_FIFO);
}

TEST(queuetest_basic)
{
	t_basic(CT_QUEUE_FIFO);
}

TEST(queuetest_negative_timeout_raises_exception)
{
	t_negative_timeout_raises_exception(CT_QUEUE_FIFO);
}

TEST(queuetest_nowait)
{
	t_nowait(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_empty)
{
	t_shutdown_empty(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_nonempty)
{
	t_shutdown_nonempty(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_immediate)
{
	t_shutdown_immediate(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_allowed_transitions)
{
	t_shutdown_allowed_transitions(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_all_methods_in_one_thread)
{
	t_shutdown_all_methods_in_one_thread(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_immediate_all_methods_in_one_thread)
{
	t_shutdown_immediate_all_methods_in_one_thread(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_all_methods_in_many_threads)
{
	t_shutdown_all_methods_in_many_threads(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_immediate_all_methods_in_many_threads)
{
	t_shutdown_immediate_all_methods_in_many_threads(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_get)
{
	t_shutdown_get(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_immediate_get)
{
	t_shutdown_immediate_get(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_put)
{
	t_shutdown_put(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_immediate_put)
{
	t_shutdown_immediate_put(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_join)
{
	t_shutdown_join(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_immediate_join)
{
	t_shutdown_immediate_join(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_put_join)
{
	t_shutdown_put_join(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_immediate_put_join)
{
	t_shutdown_immediate_put_join(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_get_task_done_join)
{
	t_shutdown_get_task_done_join(CT_QUEUE_FIFO);
}

TEST(queuetest_shutdown_pending_get)
{
	t_shutdown_pending_get(CT_QUEUE_FIFO);
}

TEST(lifoqueuetest_queue_task_done)
{
	t_queue_task_done(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_queue_join)
{
	t_queue_join(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_basic)
{
	t_basic(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_negative_timeout_raises_exception)
{
	t_negative_timeout_raises_exception(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_nowait)
{
	t_nowait(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_empty)
{
	t_shutdown_empty(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_nonempty)
{
	t_shutdown_nonempty(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_immediate)
{
	t_shutdown_immediate(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_allowed_transitions)
{
	t_shutdown_allowed_transitions(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_all_methods_in_one_thread)
{
	t_shutdown_all_methods_in_one_thread(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_immediate_all_methods_in_one_thread)
{
	t_shutdown_immediate_all_methods_in_one_thread(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_all_methods_in_many_threads)
{
	t_shutdown_all_methods_in_many_threads(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_immediate_all_methods_in_many_threads)
{
	t_shutdown_immediate_all_methods_in_many_threads(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_get)
{
	t_shutdown_get(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_immediate_get)
{
	t_shutdown_immediate_get(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_put)
{
	t_shutdown_put(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_immediate_put)
{
	t_shutdown_immediate_put(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_join)
{
	t_shutdown_join(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_immediate_join)
{
	t_shutdown_immediate_join(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_put_join)
{
	t_shutdown_put_join(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_immediate_put_join)
{
	t_shutdown_immediate_put_join(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_get_task_done_join)
{
	t_shutdown_get_task_done_join(CT_QUEUE_LIFO);
}

TEST(lifoqueuetest_shutdown_pending_get)
{
	t_shutdown_pending_get(CT_QUEUE_LIFO);
}

TEST(priorityqueuetest_queue_task_done)
{
	t_queue_task_done(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_queue_join)
{
	t_queue_join(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_basic)
{
	t_basic(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_negative_timeout_raises_exception)
{
	t_negative_timeout_raises_exception(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_nowait)
{
	t_nowait(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_empty)
{
	t_shutdown_empty(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_nonempty)
{
	t_shutdown_nonempty(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_immediate)
{
	t_shutdown_immediate(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_allowed_transitions)
{
	t_shutdown_allowed_transitions(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_all_methods_in_one_thread)
{
	t_shutdown_all_methods_in_one_thread(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_immediate_all_methods_in_one_thread)
{
	t_shutdown_immediate_all_methods_in_one_thread(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_all_methods_in_many_threads)
{
	t_shutdown_all_methods_in_many_threads(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_immediate_all_methods_in_many_threads)
{
	t_shutdown_immediate_all_methods_in_many_threads(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_get)
{
	t_shutdown_get(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_immediate_get)
{
	t_shutdown_immediate_get(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_put)
{
	t_shutdown_put(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_immediate_put)
{
	t_shutdown_immediate_put(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_join)
{
	t_shutdown_join(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_immediate_join)
{
	t_shutdown_immediate_join(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_put_join)
{
	t_shutdown_put_join(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_immediate_put_join)
{
	t_shutdown_immediate_put_join(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_get_task_done_join)
{
	t_shutdown_get_task_done_join(CT_QUEUE_PRIORITY);
}

TEST(priorityqueuetest_shutdown_pending_get)
{
	t_shutdown_pending_get(CT_QUEUE_PRIORITY);
}
