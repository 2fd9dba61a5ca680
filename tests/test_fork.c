/* fork(): in the child, every object is usable and destroyable whatever
 * the parent's other threads were doing in it. Each case here puts threads
 * in one precise state (blocked in a get, a put, a join, a barrier, a
 * once, a wait for futures, a write acquire...), forks, and checks in the
 * child that the object works and can be destroyed. The one exception, as
 * in Python: a lock held by a thread that is gone stays held.
 *
 * test_fork_stress.c does the same with threads hammering each kind of
 * object while the parent forks hundreds of times.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "fork_helpers.h"
#include "harness.h"
#include "ht_internal.h"
#include "sync_helpers.h"

#define P(x) ((void *)(uintptr_t)(x))
#define U(p) ((uintptr_t)(p))

static int cmp_ptr(const void *a, const void *b)
{
	return U(a) < U(b) ? -1 : U(a) > U(b);
}

/* ---- queues -------------------------------------------------------------- */

/* The kinds of ct_queue_t, each with its own code path: the lock-free ring
 * (bounded FIFO), and the locked storage of the others. */
static const ct_queue_opts queue_kinds[] = {
	{.maxsize = 1, .kind = CT_QUEUE_FIFO},
	{.maxsize = 0, .kind = CT_QUEUE_FIFO},
	{.maxsize = 1, .kind = CT_QUEUE_LIFO},
	{.maxsize = 1, .kind = CT_QUEUE_PRIORITY, .compare = cmp_ptr},
};
#define NKINDS (sizeof queue_kinds / sizeof queue_kinds[0])

struct queue_call {
	ct_queue_t *q;
	void *item;
	int rc;
};

static int blocked_get(void *arg)
{
	struct queue_call *c = arg;
	c->rc = ct_queue_get(c->q, &c->item, CT_FOREVER);
	return 0;
}

static int blocked_put(void *arg)
{
	struct queue_call *c = arg;
	c->rc = ct_queue_put(c->q, c->item, CT_FOREVER);
	return 0;
}

static int blocked_join(void *arg)
{
	struct queue_call *c = arg;
	c->rc = ct_queue_join(c->q, CT_FOREVER);
	return 0;
}

/* In the child: the queue holds @p left items (what the parent left), takes
 * and gives back items, and can be destroyed. */
static int child_uses_queue(ct_queue_t *q, size_t left)
{
	void *item;
	CK(ct_queue_qsize(q) == left);
	for (size_t i = 0; i < left; i++)
		CK(ct_queue_get_nowait(q, &item) == 0);
	CK(ct_queue_get_nowait(q, &item) == CT_EEMPTY);
	CK(ct_queue_put_nowait(q, P(42)) == 0);
	CK(ct_queue_qsize(q) == 1);
	CK(ct_queue_get(q, &item, 1.0) == 0 && U(item) == 42);
	CK(ct_queue_get(q, &item, 0.001) == CT_EEMPTY);
	CK(ct_queue_destroy(q) == 0);
	return 0;
}

static int child_after_blocked_get(void *arg)
{
	return child_uses_queue(arg, 0);
}

/* Listed failure: a Queue of any kind with a getter blocked at the fork
 * could never be destroyed in the child (CT_EBUSY: the getter's count). */
TEST(queue_getter_blocked_at_fork)
{
	for (size_t k = 0; k < NKINDS; k++) {
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, &queue_kinds[k]));
		struct queue_call c = {.q = &q};
		ct_thread_t *t = sh_start(blocked_get, &c);
		ht_wait_parked(t);
		FH_CHECK_CHILD(child_after_blocked_get, &q);
		ct_queue_shutdown(&q, false);
		sh_join(t);
		CHECK_RC(c.rc, CT_ESHUTDOWN);
		CHECK_OK(ct_queue_destroy(&q));
	}
}

static int child_after_blocked_put(void *arg)
{
	return child_uses_queue(arg, 1);
}

TEST(queue_putter_blocked_at_fork)
{
	for (size_t k = 0; k < NKINDS; k++) {
		if (queue_kinds[k].maxsize == 0)
			continue; /* an unbounded queue has no putter to block */
		ct_queue_t q;
		CHECK_OK(ct_queue_init(&q, &queue_kinds[k]));
		CHECK_OK(ct_queue_put(&q, P(1), CT_FOREVER));
		struct queue_call c = {.q = &q, .item = P(2)};
		ct_thread_t *t = sh_start(blocked_put, &c);
		ht_wait_parked(t);
		FH_CHECK_CHILD(child_after_blocked_put, &q);
		void *item;
		CHECK_OK(ct_queue_get(&q, &item, CT_FOREVER));
		sh_join(t);
		CHECK_OK(c.rc);
		CHECK_OK(ct_queue_destroy(&q));
	}
}

static int child_after_blocked_join(void *arg)
{
	ct_queue_t *q = arg;
	CK(ct_queue_task_done(q) == 0);
	CK(ct_queue_join(q, 0) == 0);
	return child_uses_queue(q, 0);
}

TEST(queue_joiner_blocked_at_fork)
{
	for (size_t k = 0; k < NKINDS; k++) {
		ct_queue_t q;
		void *item;
		CHECK_OK(ct_queue_init(&q, &queue_kinds[k]));
		CHECK_OK(ct_queue_put(&q, P(1), CT_FOREVER));
		CHECK_OK(ct_queue_get(&q, &item, CT_FOREVER));
		struct queue_call c = {.q = &q};
		ct_thread_t *t = sh_start(blocked_join, &c);
		ht_wait_parked(t);
		FH_CHECK_CHILD(child_after_blocked_join, &q);
		CHECK_OK(ct_queue_task_done(&q));
		sh_join(t);
		CHECK_OK(c.rc);
		CHECK_OK(ct_queue_destroy(&q));
	}
}

/* ---- SimpleQueue --------------------------------------------------------- */

struct sq_call {
	ct_simplequeue_t *q;
	void *item;
	int rc;
};

static int blocked_sq_get(void *arg)
{
	struct sq_call *c = arg;
	c->rc = ct_simplequeue_get(c->q, &c->item, CT_FOREVER);
	return 0;
}

static int child_after_blocked_sq_get(void *arg)
{
	ct_simplequeue_t *q = arg;
	void *item = NULL;
	CK(ct_simplequeue_put(q, P(7)) == 0);
	CK(ct_simplequeue_get_nowait(q, &item) == 0 && U(item) == 7);
	CK(ct_simplequeue_get(q, &item, 0.001) == CT_EEMPTY);
	CK(ct_simplequeue_destroy(q) == 0);
	return 0;
}

/* Listed failure: with a getter blocked at the fork, the child's put
 * succeeded, then its get found the queue empty (the getter's lock was
 * still held) and destroy reported CT_EBUSY forever. */
TEST(simplequeue_getter_blocked_at_fork)
{
	ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;
	CHECK_OK(ct_simplequeue_put(&q, P(1)));
	void *item;
	CHECK_OK(ct_simplequeue_get(&q, &item, 0)); /* the first segment exists */
	struct sq_call c = {.q = &q};
	ct_thread_t *t = sh_start(blocked_sq_get, &c);
	ht_wait_parked(t);
	FH_CHECK_CHILD(child_after_blocked_sq_get, &q);
	CHECK_OK(ct_simplequeue_put(&q, P(9)));
	sh_join(t);
	CHECK_OK(c.rc);
	CHECK_EQ(U(c.item), 9);
	CHECK_OK(ct_simplequeue_destroy(&q));
}

/* ---- reader-writer lock --------------------------------------------------- */

static int write_then_release(void *arg)
{
	ct_rwlock_t *rw = arg;
	ct_rwlock_write_acquire(rw);
	return ct_rwlock_write_release(rw);
}

static int child_after_waiting_writer(void *arg)
{
	ct_rwlock_t *rw = arg;
	/* The child holds the read share it forked with; the writer that
	 * waited for it is gone and must not keep the lock. */
	CK(ct_rwlock_read_release(rw) == 0);
	CK(ct_rwlock_write_try_acquire(rw));
	CK(ct_rwlock_write_release(rw) == 0);
	CK(ct_rwlock_read_try_acquire(rw));
	CK(ct_rwlock_read_release(rw) == 0);
	CK(!ct_rwlock_write_locked(rw));
	return 0;
}

TEST(rwlock_writer_waiting_at_fork)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_rwlock_read_acquire(&rw);
	ct_thread_t *t = sh_start(write_then_release, &rw);
	ht_wait_parked(t); /* waiting for our read share to go */
	FH_CHECK_CHILD(child_after_waiting_writer, &rw);
	CHECK_OK(ct_rwlock_read_release(&rw));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_destroy(t);
}

/* ---- barrier ------------------------------------------------------------- */

static int barrier_party(void *arg)
{
	int rc = ct_barrier_wait(arg, 30.0);
	return rc < 0 ? rc : 0;
}

static int child_after_waiting_party(void *arg)
{
	ct_barrier_t *b = arg;
	CK(!ct_barrier_broken(b));
	CK(ct_barrier_n_waiting(b) == 0);
	/* Two parties of the child's own make a round, twice. */
	for (int round = 0; round < 2; round++) {
		ct_thread_t *t;
		CK(ct_thread_new(&t, barrier_party, b, NULL) == 0 && ct_thread_start(t) == 0);
		CK(ct_barrier_wait(b, 30.0) >= 0);
		CK(ct_thread_join(t, CT_FOREVER) == 0);
		ct_thread_destroy(t);
	}
	ct_barrier_abort(b);
	CK(ct_barrier_wait(b, 0) == CT_EBROKEN);
	ct_barrier_reset(b);
	CK(!ct_barrier_broken(b));
	return 0;
}

TEST(barrier_party_waiting_at_fork)
{
	ht_need_threads_after_fork();
	ct_barrier_t b;
	CHECK_OK(ct_barrier_init(&b, 2, NULL, NULL, CT_FOREVER));
	ct_thread_t *t = sh_start(barrier_party, &b);
	ht_wait_parked(t);
	FH_CHECK_CHILD(child_after_waiting_party, &b);
	CHECK(ct_barrier_wait(&b, CT_FOREVER) >= 0);
	sh_join(t);
}

/* ---- once ---------------------------------------------------------------- */

static ct_event_t once_release = CT_EVENT_INIT;
static int once_runs;

static int slow_init(void *arg)
{
	(void)arg;
	once_runs++;
	return ct_event_wait(&once_release, CT_FOREVER);
}

static int run_once(void *arg)
{
	return ct_once(arg, slow_init, NULL);
}

static int quick_init(void *arg)
{
	(void)arg;
	once_runs += 10;
	return 0;
}

static int child_after_running_once(void *arg)
{
	ct_once_t *once = arg;
	/* The function was running in a thread that is gone: it never
	 * finished, so the child runs it again. */
	CK(ct_once(once, quick_init, NULL) == 0);
	CK(ct_once_done(once) && once_runs == 11);
	CK(ct_once(once, quick_init, NULL) == 0 && once_runs == 11);
	return 0;
}

TEST(once_running_at_fork)
{
	static ct_once_t once = CT_ONCE_INIT;
	ct_thread_t *t = sh_start(run_once, &once);
	ht_wait_parked(t);
	FH_CHECK_CHILD(child_after_running_once, &once);
	ct_event_set(&once_release);
	sh_join(t);
	CHECK(ct_once_done(&once));
	CHECK_EQ(once_runs, 1);
}

/* ---- futures ------------------------------------------------------------- */

static int wait_for_future(void *arg)
{
	ct_future_t *f = arg;
	return ct_wait(&f, 1, CT_FOREVER, CT_ALL_COMPLETED, NULL);
}

/* Fills a good part of the calling thread's stack, which in the child may
 * be the very stack a thread of the parent waited on. */
static int scribble_stack(void *arg)
{
	volatile unsigned char junk[48 * 1024];
	(void)arg;
	memset((void *)junk, 0xA5, sizeof junk);
	return junk[100] == 0xA5 ? 0 : 1;
}

static int child_after_waiting_on_future(void *arg)
{
	ct_future_t *f = arg;
	ct_thread_t *t;
	CK(ct_thread_new(&t, scribble_stack, NULL, NULL) == 0 && ct_thread_start(t) == 0);
	CK(ct_thread_join(t, CT_FOREVER) == 0);
	ct_thread_destroy(t);
	/* Completing the future must not reach the waiter that is gone. */
	CK(ct_future_set_running_or_notify_cancel(f) == 1);
	CK(ct_future_set_result(f, P(5)) == 0);
	void *v = NULL;
	CK(ct_future_result(f, 0, &v) == 0 && U(v) == 5);
	CK(ct_wait(&f, 1, 0, CT_ALL_COMPLETED, NULL) == 0);
	ct_future_release(f);
	return 0;
}

/* A thread blocked in ct_wait() is registered on the future, with a link
 * on its own stack; glibc hands that stack to the child's next thread. */
TEST(wait_registered_on_a_future_at_fork)
{
	ht_need_threads_after_fork();
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	ct_thread_t *t = sh_start(wait_for_future, f);
	ht_wait_parked(t);
	FH_CHECK_CHILD(child_after_waiting_on_future, f);
	CHECK_EQ(ct_future_set_running_or_notify_cancel(f), 1);
	CHECK_OK(ct_future_set_result(f, P(1)));
	sh_join(t);
	ct_future_release(f);
}

/* ---- executor ------------------------------------------------------------ */

struct gate_task {
	ct_event_t started, release;
};

static int gated(void *arg, void **result)
{
	struct gate_task *g = arg;
	ct_event_set(&g->started);
	*result = P(1);
	return ct_event_wait(&g->release, CT_FOREVER);
}

static int plus_one(void *arg, void **result)
{
	*result = P(U(arg) + 1);
	return 0;
}

struct pool_probe {
	ct_executor_t ex;
	ct_future_t *running, *queued[2];
};

static int child_destroys_busy_pool(void *arg)
{
	struct pool_probe *p = arg;
	void *v;
	/* The task that was running is gone with its worker: it never
	 * finishes here, as in Python. The queued ones run in the child. */
	CK(ct_future_result(p->running, 0.01, &v) == CT_ETIMEDOUT);
	ct_executor_destroy(&p->ex);
	for (int i = 0; i < 2; i++)
		CK(ct_future_result(p->queued[i], 0, &v) == 0 && U(v) == (uintptr_t)i + 11);
	return 0;
}

TEST(executor_destroyed_in_child_with_queued_work)
{
	ht_need_threads_after_fork();
	struct pool_probe p;
	struct gate_task g = {CT_EVENT_INIT, CT_EVENT_INIT};
	CHECK_OK(ct_executor_init(&p.ex, &(ct_executor_opts){.max_workers = 1}));
	CHECK_OK(ct_executor_submit(&p.ex, gated, &g, &p.running));
	CHECK_OK(ct_event_wait(&g.started, CT_FOREVER));
	for (int i = 0; i < 2; i++)
		CHECK_OK(ct_executor_submit(&p.ex, plus_one, P(10 + i), &p.queued[i]));
	FH_CHECK_CHILD(child_destroys_busy_pool, &p);
	ct_event_set(&g.release);
	ct_executor_destroy(&p.ex);
	for (int i = 0; i < 2; i++)
		ct_future_release(p.queued[i]);
	ct_future_release(p.running);
}

static int child_submits(void *arg)
{
	struct pool_probe *p = arg;
	ct_future_t *f;
	void *v;
	CK(ct_executor_submit(&p->ex, plus_one, P(4), &f) == 0);
	CK(ct_future_result(f, 10.0, &v) == 0 && U(v) == 5);
	ct_future_release(f);
	ct_executor_destroy(&p->ex);
	return 0;
}

TEST(executor_used_in_child_while_a_task_runs)
{
	ht_need_threads_after_fork();
	struct pool_probe p;
	struct gate_task g = {CT_EVENT_INIT, CT_EVENT_INIT};
	CHECK_OK(ct_executor_init(&p.ex, &(ct_executor_opts){.max_workers = 2}));
	CHECK_OK(ct_executor_submit(&p.ex, gated, &g, &p.running));
	CHECK_OK(ct_event_wait(&g.started, CT_FOREVER));
	FH_CHECK_CHILD(child_submits, &p);
	ct_event_set(&g.release);
	ct_executor_destroy(&p.ex);
	ct_future_release(p.running);
}

/* A fork by a map's item at its start, while the map holds helpers back
 * (it starts on one: executor_map.c): in the child, the pool, whose maps
 * of the parent hold nothing back any more, runs new work. */
static ct_executor_t *forking_pool;

static int child_after_a_forking_item(void *arg)
{
	(void)arg;
	ct_future_t *f;
	void *v;
	CK(ct_executor_submit(forking_pool, plus_one, P(6), &f) == 0);
	CK(ct_future_result(f, 10.0, &v) == 0 && U(v) == 7);
	ct_future_release(f);
	return 0; /* (a worker of the pool: it cannot wait for the pool's end) */
}

static int fork_in_the_first_item(void *arg, void **result)
{
	if (arg)
		FH_CHECK_CHILD(child_after_a_forking_item, NULL);
	*result = P(1);
	return 0;
}

TEST(executor_map_item_forks_while_helpers_are_held_back)
{
	ht_need_threads_after_fork();
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 4}));
	/* Every worker started and idle first: a thread starting (or any
	 * thread inside malloc) when the process forks leaves
	 * AddressSanitizer's allocator locked in the child (fork_helpers.h). */
	struct gate_task g[4];
	ct_future_t *started[4];
	for (int i = 0; i < 4; i++) {
		g[i] = (struct gate_task){CT_EVENT_INIT, CT_EVENT_INIT};
		CHECK_OK(ct_executor_submit(&ex, gated, &g[i], &started[i]));
		CHECK_OK(ct_event_wait(&g[i].started, CT_FOREVER));
	}
	for (int i = 0; i < 4; i++) {
		void *v;
		ct_event_set(&g[i].release);
		CHECK_OK(ct_future_result(started[i], CT_FOREVER, &v));
		ct_future_release(started[i]);
	}
	forking_pool = &ex;
	void *args[16] = {&ex}, *results[16];
	CHECK_OK(ct_executor_map(&ex, fork_in_the_first_item, args, 16, CT_FOREVER, results, NULL));
	for (int i = 0; i < 16; i++)
		CHECK_EQ(U(results[i]), 1);
	ct_executor_destroy(&ex);
}

/* Tasks a task submitted to its own (full) pool wait in its worker's own
 * queue; a child of fork() finds them queued and runs them. */
struct ring_probe {
	ct_executor_t ex;
	struct gate_task hold[2];
	ct_future_t *holders[2], *kids[10];
};

static int queue_kids_then_hold(void *arg, void **result)
{
	struct ring_probe *p = arg;
	for (int i = 0; i < 10; i++)
		if (ct_executor_submit(&p->ex, plus_one, P(i), &p->kids[i]) < 0)
			return 1;
	return gated(&p->hold[1], result);
}

static int child_runs_kept_tasks(void *arg)
{
	struct ring_probe *p = arg;
	void *v;
	ct_executor_destroy(&p->ex);
	for (int i = 0; i < 10; i++)
		CK(ct_future_result(p->kids[i], 0, &v) == 0 && U(v) == (uintptr_t)i + 1);
	return 0;
}

TEST(executor_child_runs_tasks_a_worker_kept)
{
	ht_need_threads_after_fork();
	struct ring_probe p = {
		.hold = {{CT_EVENT_INIT, CT_EVENT_INIT}, {CT_EVENT_INIT, CT_EVENT_INIT}}};
	CHECK_OK(ct_executor_init(&p.ex, &(ct_executor_opts){.max_workers = 2}));
	/* Both workers held, the second after it queued ten tasks in its
	 * own queue, where nobody can take them. */
	CHECK_OK(ct_executor_submit(&p.ex, gated, &p.hold[0], &p.holders[0]));
	CHECK_OK(ct_event_wait(&p.hold[0].started, CT_FOREVER));
	CHECK_OK(ct_executor_submit(&p.ex, queue_kids_then_hold, &p, &p.holders[1]));
	CHECK_OK(ct_event_wait(&p.hold[1].started, CT_FOREVER));
	for (int i = 0; i < 10; i++)
		CHECK(!ct_future_done(p.kids[i]));
	FH_CHECK_CHILD(child_runs_kept_tasks, &p);
	ct_event_set(&p.hold[0].release);
	ct_event_set(&p.hold[1].release);
	ct_executor_destroy(&p.ex);
	void *v;
	for (int i = 0; i < 10; i++) {
		CHECK_OK(ct_future_result(p.kids[i], 0, &v));
		CHECK_EQ(U(v), (uintptr_t)i + 1);
		ct_future_release(p.kids[i]);
	}
	for (int i = 0; i < 2; i++)
		ct_future_release(p.holders[i]);
}

/* ---- locks and the simple waits ------------------------------------------ */

struct holder {
	ct_lock_t lock;
	ct_event_t held, release;
};

static int hold_lock(void *arg)
{
	struct holder *h = arg;
	ct_lock_acquire(&h->lock);
	ct_event_set(&h->held);
	ct_event_wait(&h->release, CT_FOREVER);
	return ct_lock_release(&h->lock);
}

static int child_sees_lock_held(void *arg)
{
	struct holder *h = arg;
	/* Held by a thread that is gone: it stays held, as in Python. */
	CK(ct_lock_locked(&h->lock));
	CK(!ct_lock_try_acquire(&h->lock));
	CK(ct_lock_acquire_timeout(&h->lock, 0.001) == CT_ETIMEDOUT);
	return 0;
}

TEST(lock_held_by_a_vanished_thread_stays_held)
{
	struct holder h = {CT_LOCK_INIT, CT_EVENT_INIT, CT_EVENT_INIT};
	ct_thread_t *t = sh_start(hold_lock, &h);
	CHECK_OK(ct_event_wait(&h.held, CT_FOREVER));
	FH_CHECK_CHILD(child_sees_lock_held, &h);
	ct_event_set(&h.release);
	sh_join(t);
}

struct waits {
	ct_lock_t lock;
	ct_condition_t cond;
	ct_semaphore_t sem;
	ct_event_t event;
	ct_latch_t latch;
	int turn;
};

static int wait_cond(void *arg)
{
	struct waits *w = arg;
	ct_lock_acquire(&w->lock);
	while (w->turn == 0)
		ct_condition_wait(&w->cond, CT_FOREVER);
	return ct_lock_release(&w->lock);
}

static int wait_sem(void *arg)
{
	return ct_semaphore_acquire(&((struct waits *)arg)->sem, CT_FOREVER);
}

static int wait_event(void *arg)
{
	return ct_event_wait(&((struct waits *)arg)->event, CT_FOREVER);
}

static int wait_latch(void *arg)
{
	return ct_latch_wait(&((struct waits *)arg)->latch, CT_FOREVER);
}

static int child_uses_waited_objects(void *arg)
{
	struct waits *w = arg;
	ct_lock_acquire(&w->lock);
	CK(ct_condition_notify_all(&w->cond) == 0); /* its waiter is gone */
	CK(ct_condition_wait(&w->cond, 0.001) == CT_ETIMEDOUT);
	CK(ct_lock_release(&w->lock) == 0);
	CK(!ct_semaphore_try_acquire(&w->sem));
	CK(ct_semaphore_release(&w->sem, 1) == 0 && ct_semaphore_try_acquire(&w->sem));
	CK(ct_event_wait(&w->event, 0.001) == CT_ETIMEDOUT);
	ct_event_set(&w->event);
	CK(ct_event_wait(&w->event, 0) == 0);
	CK(ct_latch_count_down(&w->latch, 1) == 0 && ct_latch_wait(&w->latch, 0) == 0);
	return 0;
}

TEST(simple_waits_in_progress_at_fork)
{
	struct waits w = {.lock = CT_LOCK_INIT,
			  .sem = CT_SEMAPHORE_INIT(0),
			  .event = CT_EVENT_INIT,
			  .latch = CT_LATCH_INIT(1)};
	ct_condition_init(&w.cond, &w.lock);
	ct_target_fn fns[] = {wait_cond, wait_sem, wait_event, wait_latch};
	ct_thread_t *t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = sh_start(fns[i], &w);
		ht_wait_parked(t[i]);
	}
	FH_CHECK_CHILD(child_uses_waited_objects, &w);
	ct_lock_acquire(&w.lock);
	w.turn = 1;
	ct_condition_notify_all(&w.cond);
	ct_lock_release(&w.lock);
	CHECK_OK(ct_semaphore_release(&w.sem, 1));
	ct_event_set(&w.event);
	CHECK_OK(ct_latch_count_down(&w.latch, 1));
	for (int i = 0; i < 4; i++)
		sh_join(t[i]);
}

/* A program linked statically that uses only a Lock and a Condition (so
 * that only their objects, the parking core's and the core's come with it)
 * still gets the fork handlers: the child forgets the gone waiter. */
TEST(a_program_using_only_a_condition_gets_the_fork_handlers)
{
	free(ht_run_program(CT_TEST_PROGRAMS, "fork_condition_only"));
}
