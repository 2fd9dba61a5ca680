/* Condition over a Lock, an RLock and its own RLock: Python's semantics,
 * the misuse table, timeouts, wait_for, notify(n) waking exactly n,
 * notify_all without a thundering herd, the RLock depth restored after a
 * wait, stop requests, and a producer-consumer stress. */
#include "sync_helpers.h"

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static bool flag_set(void *arg)
{
	return atomic_load((atomic_int *)arg) != 0;
}

static int wait_unowned_lock(void)
{
	ct_lock_t lock = CT_LOCK_INIT;
	ct_condition_t c = CT_CONDITION_INIT_LOCK(&lock);
	return ct_condition_wait(&c, 0);
}

static int wait_unowned_own(void)
{
	ct_condition_t c = CT_CONDITION_INIT;
	return ct_condition_wait(&c, CT_FOREVER);
}

static int wait_for_unowned(void)
{
	ct_condition_t c = CT_CONDITION_INIT;
	return ct_condition_wait_for(&c, never, NULL, 0);
}

static int notify_unowned(void)
{
	ct_condition_t c = CT_CONDITION_INIT;
	return ct_condition_notify(&c, 1);
}

static int notify_all_unowned(void)
{
	ct_rlock_t r = CT_RLOCK_INIT;
	ct_condition_t c = CT_CONDITION_INIT_RLOCK(&r);
	return ct_condition_notify_all(&c);
}

struct holder {
	ct_condition_t *c;
	ct_event_t held, done;
};

static int hold_rlock(void *arg)
{
	struct holder *h = arg;
	ct_condition_acquire(h->c);
	ct_event_set(&h->held);
	CHECK_OK(ct_event_wait(&h->done, CT_FOREVER));
	CHECK_OK(ct_condition_release(h->c));
	return 0;
}

/* An RLock held by another thread is not the caller's. */
static int wait_rlock_of_other_thread(void)
{
	ct_condition_t c = CT_CONDITION_INIT;
	struct holder h = {.c = &c, .held = CT_EVENT_INIT, .done = CT_EVENT_INIT};
	ct_thread_t *t = sh_start(hold_rlock, &h);
	CHECK_OK(ct_event_wait(&h.held, CT_FOREVER));
	int rc = ct_condition_wait(&c, 0);
	CHECK_RC(ct_condition_notify(&c, 1), CT_ENOTIFYUNOWNED);
	ct_event_set(&h.done);
	sh_join(t);
	return rc;
}

static int wait_nan(void)
{
	ct_condition_t c = CT_CONDITION_INIT;
	CT_WITH_CONDITION(&c)
	{
		return ct_condition_wait(&c, 0.0 / 0.0);
	}
	return 0;
}

static int wait_too_large(void)
{
	ct_condition_t c = CT_CONDITION_INIT;
	CT_WITH_CONDITION(&c)
	{
		return ct_condition_wait(&c, CT_TIMEOUT_MAX * 2);
	}
	return 0;
}

static int wait_for_no_predicate(void)
{
	ct_condition_t c = CT_CONDITION_INIT;
	CT_WITH_CONDITION(&c)
	{
		return ct_condition_wait_for(&c, NULL, NULL, 0);
	}
	return 0;
}

static int wait_for_nan(void)
{
	ct_condition_t c = CT_CONDITION_INIT;
	CT_WITH_CONDITION(&c)
	{
		return ct_condition_wait_for(&c, never, NULL, 0.0 / 0.0);
	}
	return 0;
}

static int release_unowned(void)
{
	ct_condition_t c = CT_CONDITION_INIT;
	return ct_condition_release(&c);
}

MISUSE(wait_unowned_lock, CT_EWAITUNOWNED, "cannot wait on un-acquired lock", wait_unowned_lock())
MISUSE(wait_unowned_own, CT_EWAITUNOWNED, "cannot wait on un-acquired lock", wait_unowned_own())
MISUSE(wait_for_unowned, CT_EWAITUNOWNED, "cannot wait on un-acquired lock", wait_for_unowned())
MISUSE(wait_rlock_of_other_thread, CT_EWAITUNOWNED, "cannot wait on un-acquired lock",
       wait_rlock_of_other_thread())
MISUSE(notify_unowned, CT_ENOTIFYUNOWNED, "cannot notify on un-acquired lock", notify_unowned())
MISUSE(notify_all_unowned, CT_ENOTIFYUNOWNED, "cannot notify on un-acquired lock",
       notify_all_unowned())
MISUSE(wait_nan, CT_EINVAL, "invalid argument", wait_nan())
MISUSE(wait_too_large, CT_ETOOLARGE, "timeout value is too large", wait_too_large())
MISUSE(wait_for_no_predicate, CT_EINVAL, "invalid argument", wait_for_no_predicate())
MISUSE(wait_for_nan, CT_EINVAL, "invalid argument", wait_for_nan())
MISUSE(release_unowned, CT_ENOTOWNER, "cannot release un-acquired lock", release_unowned())

/* The three kinds of condition, for the cases that run on each. */
struct kinds {
	ct_lock_t lock;
	ct_rlock_t rlock;
	ct_condition_t c[3];
};

static void kinds_init(struct kinds *k)
{
	ct_lock_init(&k->lock);
	ct_rlock_init(&k->rlock);
	ct_condition_init(&k->c[0], NULL);
	ct_condition_init(&k->c[1], &k->lock);
	ct_condition_init_rlock(&k->c[2], &k->rlock);
}

static bool held(struct kinds *k, int i)
{
	return i == 0	? ct_rlock_is_owned(&k->c[0].ct__own)
	       : i == 1 ? ct_lock_locked(&k->lock)
			: ct_rlock_is_owned(&k->rlock);
}

TEST(wait_times_out_not_early_and_lock_held_after)
{
	struct kinds k;
	kinds_init(&k);
	for (int i = 0; i < 3; i++) {
		ct_condition_acquire(&k.c[i]);
		double t0 = ht_now();
		CHECK_RC(ct_condition_wait(&k.c[i], 0.03), CT_ETIMEDOUT);
		SH_CHECK_NOT_EARLY(t0, 0.03);
		CHECK(held(&k, i));
		CHECK_RC(ct_condition_wait(&k.c[i], 0), CT_ETIMEDOUT);
		CHECK(held(&k, i));
		CHECK_EQ(atomic_load(&k.c[i].ct__waiters), 0);
		CHECK_OK(ct_condition_release(&k.c[i]));
		CHECK(!held(&k, i));
	}
	CHECK_EQ(atomic_load(&k.lock.ct__state), 0);
}

TEST(static_initializers)
{
	static ct_lock_t lock = CT_LOCK_INIT;
	static ct_rlock_t rlock = CT_RLOCK_INIT;
	static ct_condition_t a = CT_CONDITION_INIT;
	static ct_condition_t b = CT_CONDITION_INIT_LOCK(&lock);
	static ct_condition_t c = CT_CONDITION_INIT_RLOCK(&rlock);
	CT_WITH_CONDITION(&a)
	{
		CHECK_EQ(ct_condition_notify_all(&a), 0);
	}
	CT_WITH_CONDITION(&b)
	{
		CHECK(ct_lock_locked(&lock));
		CHECK_EQ(ct_condition_notify(&b, 3), 0);
	}
	CHECK(!ct_lock_locked(&lock));
	CT_WITH_CONDITION(&c)
	{
		CHECK(ct_rlock_is_owned(&rlock));
	}
	CHECK(!ct_rlock_locked(&rlock));
	ct_condition_destroy(&a);
}

static atomic_int other_thread_rc;

static int try_from_another_thread(void *arg)
{
	atomic_store(&other_thread_rc, ct_condition_acquire_timeout(arg, 0));
	return 0;
}

/* No lock given to the forms that take one: the condition gets an RLock of
 * its own, as Condition(None) does, not an acquire that does nothing
 * (before, ct_condition_init_rlock(c, NULL) and the static initializers
 * with NULL made such a condition: nothing excluded another thread). */
TEST(a_condition_given_no_lock_has_one_of_its_own)
{
	static ct_condition_t s1 = CT_CONDITION_INIT_LOCK(NULL);
	static ct_condition_t s2 = CT_CONDITION_INIT_RLOCK(NULL);
	ct_condition_t d;
	ct_condition_init_rlock(&d, NULL);
	ct_condition_t *all[] = {&s1, &s2, &d};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		ct_condition_t *c = all[i];
		ct_condition_acquire(c);
		ct_condition_acquire(c); /* an RLock: the owner may take it again */
		atomic_store(&other_thread_rc, 1);
		sh_join(sh_start(try_from_another_thread, c));
		/* held: the other thread timed out */
		CHECK_EQ(atomic_load(&other_thread_rc), CT_ETIMEDOUT);
		CHECK_RC(ct_condition_wait(c, 0), CT_ETIMEDOUT);
		CHECK_OK(ct_condition_release(c));
		CHECK_OK(ct_condition_release(c));
		CHECK_RC(ct_condition_release(c), CT_ENOTOWNER); /* an RLock's message */
	}
	ct_condition_destroy(&d);
}

/* ---- notify ------------------------------------------------------------- */

struct crowd {
	ct_condition_t *c;
	int waiting;	  /* under the condition's lock */
	atomic_int woken; /* wait() returned 0 */
	int kind;
};

static int crowd_member(void *arg)
{
	struct crowd *cr = arg;
	ct_condition_acquire(cr->c);
	cr->waiting++;
	int rc = ct_condition_wait(cr->c, CT_FOREVER);
	CHECK_OK(rc);
	atomic_fetch_add(&cr->woken, 1);
	CHECK_OK(ct_condition_release(cr->c));
	return 0;
}

/* Starts m waiters and returns once all are queued on the condition: a
 * waiter counts itself under the lock and queues before releasing it, so
 * seeing the count under the lock means it is queued. */
static void start_crowd(struct crowd *cr, ct_thread_t **t, int m)
{
	for (int i = 0; i < m; i++)
		t[i] = sh_start(crowd_member, cr);
	for (;;) {
		ct_condition_acquire(cr->c);
		int n = cr->waiting;
		ct_condition_release(cr->c);
		if (n == m)
			break;
		sched_yield();
	}
}

static void notify_n_of_m(ct_condition_t *c)
{
	enum { M = 5 };
	struct crowd cr = {.c = c};
	ct_thread_t *t[M];
	start_crowd(&cr, t, M);
	ct_condition_acquire(c);
	CHECK_EQ(atomic_load(&c->ct__waiters), M);
	CHECK_EQ(ct_condition_notify(c, 2), 2);
	/* Exactly two left the condition's queue; three still wait on it. */
	CHECK_EQ(atomic_load(&c->ct__waiters), M - 2);
	CHECK_OK(ct_condition_release(c));
	while (atomic_load(&cr.woken) < 2)
		sched_yield();
	ct_condition_acquire(c);
	CHECK_EQ(atomic_load(&cr.woken), 2);
	CHECK_EQ(atomic_load(&c->ct__waiters), M - 2);
	CHECK_EQ(ct_condition_notify(c, 1), 1);
	CHECK_EQ(ct_condition_notify(c, 10), 2); /* at most as many as wait */
	CHECK_EQ(ct_condition_notify(c, 1), 0);
	CHECK_OK(ct_condition_release(c));
	for (int i = 0; i < M; i++)
		sh_join(t[i]);
	CHECK_EQ(atomic_load(&cr.woken), M);
}

TEST(notify_n_wakes_exactly_n)
{
	struct kinds k;
	kinds_init(&k);
	for (int i = 0; i < 3; i++)
		notify_n_of_m(&k.c[i]);
	CHECK_EQ(atomic_load(&k.lock.ct__state), 0);
}

/* notify_all does not wake the waiters to fight for the lock: while the
 * notifier still holds it they are all moved onto the lock's queue, still
 * asleep, and the lock is marked as having parked waiters; they then get
 * the lock one release at a time. */
TEST(notify_all_requeues_instead_of_waking)
{
	enum { M = 4 };
	ct_lock_t lock = CT_LOCK_INIT;
	ct_condition_t c = CT_CONDITION_INIT_LOCK(&lock);
	struct crowd cr = {.c = &c};
	ct_thread_t *t[M];
	start_crowd(&cr, t, M);
	for (int i = 0; i < M; i++)
		ht_wait_parked(t[i]);
	ct_condition_acquire(&c);
	CHECK_EQ(ct_condition_notify_all(&c), M);
	CHECK_EQ(atomic_load(&c.ct__waiters), 0);
	CHECK_EQ(atomic_load(&lock.ct__state), CT__LOCK_LOCKED | CT__LOCK_PARKED);
	for (int i = 0; i < M; i++)
		CHECK(ht_is_parked(t[i])); /* none was woken */
	CHECK_EQ(atomic_load(&cr.woken), 0);
	CHECK_OK(ct_condition_release(&c));
	for (int i = 0; i < M; i++)
		sh_join(t[i]);
	CHECK_EQ(atomic_load(&cr.woken), M);
	CHECK_EQ(atomic_load(&lock.ct__state), 0);
}

/* A stop request that reaches a waiter after notify has moved it onto the
 * lock's queue: the wait was notified, so it succeeded (0, not
 * CT_ESTOPPED); the waiter leaves the lock's queue and takes the lock the
 * normal way once the notifier releases it. Fails if the stop turns the
 * notified wait into a failure, or if the wait returns without the lock. */
struct stopped_after_notify {
	ct_condition_t *c;
	atomic_int rc, released;
};

static int wait_then_release(void *arg)
{
	struct stopped_after_notify *s = arg;
	ct_condition_acquire(s->c);
	atomic_store(&s->rc, ct_condition_wait(s->c, CT_FOREVER));
	atomic_store(&s->released, ct_condition_release(s->c));
	return 0;
}

TEST(stop_after_notify_requeued_the_waiter_still_succeeds)
{
	ct_lock_t lock = CT_LOCK_INIT;
	ct_condition_t c = CT_CONDITION_INIT_LOCK(&lock);
	struct stopped_after_notify s = {.c = &c, .rc = 1, .released = 1};
	ct_thread_t *t = sh_start(wait_then_release, &s);
	ht_wait_parked(t);
	ct_condition_acquire(&c);
	CHECK_EQ(ct_condition_notify(&c, 1), 1);
	/* Requeued, still asleep: the lock has a parked waiter. */
	CHECK_EQ(atomic_load(&lock.ct__state), CT__LOCK_LOCKED | CT__LOCK_PARKED);
	CHECK_OK(ct_thread_request_stop(t));
	/* The stop ends its park on the lock's queue; it then waits for the
	 * lock afresh, parked on the lock itself (or, wrongly, returns). */
	while (atomic_load(&t->ct__impl->w->parked_on) != (const void *)&lock &&
	       ct_thread_is_alive(t))
		sched_yield();
	CHECK_OK(ct_condition_release(&c));
	sh_join(t);
	CHECK_EQ(atomic_load(&s.rc), 0);
	CHECK_EQ(atomic_load(&s.released), 0);
}

/* ---- wait_for ----------------------------------------------------------- */

struct setter {
	ct_condition_t *c;
	atomic_int flag;
};

static int set_flag(void *arg)
{
	struct setter *s = arg;
	ct_condition_acquire(s->c);
	atomic_store(&s->flag, 1);
	ct_condition_notify_all(s->c);
	ct_condition_release(s->c);
	return 0;
}

TEST(wait_for_returns_the_predicates_last_value)
{
	ct_condition_t c = CT_CONDITION_INIT;
	struct setter s = {.c = &c};
	ct_condition_acquire(&c);
	double t0 = ht_now();
	CHECK_EQ(ct_condition_wait_for(&c, flag_set, &s.flag, 0.03), 0);
	SH_CHECK_NOT_EARLY(t0, 0.03);
	CHECK_EQ(ct_condition_wait_for(&c, never, NULL, 0), 0);
	atomic_store(&s.flag, 1);
	CHECK_EQ(ct_condition_wait_for(&c, flag_set, &s.flag, 0), 1); /* no wait */
	atomic_store(&s.flag, 0);
	ct_thread_t *t = sh_start(set_flag, &s);
	CHECK_EQ(ct_condition_wait_for(&c, flag_set, &s.flag, CT_FOREVER), 1);
	CHECK(ct_rlock_is_owned(&c.ct__own));
	CHECK_OK(ct_condition_release(&c));
	sh_join(t);
}

static int wait_forever(void *arg)
{
	ct_condition_t *c = arg;
	ct_condition_acquire(c);
	int rc = ct_condition_wait(c, CT_FOREVER);
	CHECK_OK(ct_condition_release(c));
	return rc;
}

struct stopped_wait_for {
	ct_condition_t c;
	atomic_int rc;
};

static int wait_for_never(void *arg)
{
	struct stopped_wait_for *s = arg;
	ct_condition_acquire(&s->c);
	atomic_store(&s->rc, ct_condition_wait_for(&s->c, never, NULL, CT_FOREVER));
	CHECK(ct_rlock_is_owned(&s->c.ct__own));
	CHECK_OK(ct_condition_release(&s->c));
	return 0;
}

/* A stop request ends wait_for with CT_ESTOPPED, whatever the predicate
 * says, the lock taken back. */
TEST(stop_ends_wait_for)
{
	struct stopped_wait_for s = {.c = CT_CONDITION_INIT, .rc = 1};
	ct_thread_t *t = sh_start(wait_for_never, &s);
	ht_wait_parked(t);
	CHECK_OK(ct_thread_request_stop(t));
	sh_join(t);
	CHECK_RC(atomic_load(&s.rc), CT_ESTOPPED);
}

/* notify(0) wakes nobody, even with a waiter there. */
TEST(notify_zero_wakes_nobody)
{
	ct_condition_t c = CT_CONDITION_INIT;
	ct_condition_acquire(&c);
	CHECK_EQ(ct_condition_notify(&c, 0), 0);
	ct_thread_t *t = sh_start(wait_forever, &c);
	CHECK_OK(ct_condition_release(&c));
	for (;;) {
		ct_condition_acquire(&c);
		if (atomic_load(&c.ct__waiters) == 1)
			break;
		CHECK_OK(ct_condition_release(&c));
		CHECK_OK(ct_sleep(0));
	}
	CHECK_EQ(ct_condition_notify(&c, 0), 0);
	CHECK_EQ(atomic_load(&c.ct__waiters), 1);
	CHECK_EQ(ct_condition_notify(&c, 1), 1);
	CHECK_OK(ct_condition_release(&c));
	sh_join(t);
}

/* ---- RLock depth ---------------------------------------------------------- */

struct depth {
	ct_rlock_t rlock;
	ct_condition_t c;
	atomic_int flag;
	atomic_int other_got_it;
};

static int notify_through_rlock(void *arg)
{
	struct depth *d = arg;
	/* Only possible if the waiter released all three levels. */
	ct_rlock_acquire(&d->rlock);
	atomic_store(&d->other_got_it, 1);
	atomic_store(&d->flag, 1);
	CHECK_EQ(ct_condition_notify(&d->c, 1), 1);
	CHECK_OK(ct_rlock_release(&d->rlock));
	return 0;
}

TEST(rlock_depth_restored_after_wait_at_depth_3)
{
	struct depth d = {.rlock = CT_RLOCK_INIT};
	ct_condition_init_rlock(&d.c, &d.rlock);
	for (int i = 0; i < 3; i++)
		ct_rlock_acquire(&d.rlock);
	/* Timed out, then notified: both restore the depth. */
	CHECK_RC(ct_condition_wait(&d.c, 0.01), CT_ETIMEDOUT);
	ct_thread_t *t = sh_start(notify_through_rlock, &d);
	CHECK_EQ(ct_condition_wait_for(&d.c, flag_set, &d.flag, CT_FOREVER), 1);
	sh_join(t);
	CHECK(atomic_load(&d.other_got_it));
	for (int i = 0; i < 3; i++) {
		CHECK(ct_rlock_is_owned(&d.rlock));
		CHECK_OK(ct_rlock_release(&d.rlock));
	}
	CHECK(!ct_rlock_locked(&d.rlock));
	CHECK_RC(ct_rlock_release(&d.rlock), CT_ENOTOWNER);
}

/* ---- stop requests ---------------------------------------------------------- */

struct stopped {
	ct_condition_t *c;
	atomic_int rc;
	atomic_int held_after;
};

static int wait_to_be_stopped(void *arg)
{
	struct stopped *s = arg;
	ct_condition_acquire(s->c);
	atomic_store(&s->rc, ct_condition_wait(s->c, CT_FOREVER));
	atomic_store(&s->held_after, ct_rlock_is_owned(&s->c->ct__own));
	CHECK_OK(ct_condition_release(s->c));
	return 0;
}

TEST(stop_interrupts_wait_with_lock_taken_back)
{
	ct_condition_t c = CT_CONDITION_INIT;
	struct stopped s = {.c = &c, .rc = 1};
	ct_thread_release(ht_stop_when_parked(wait_to_be_stopped, &s));
	CHECK_RC(atomic_load(&s.rc), CT_ESTOPPED);
	CHECK(atomic_load(&s.held_after));
	CHECK_EQ(atomic_load(&c.ct__waiters), 0);
	CHECK(!ct_rlock_locked(&c.ct__own));
}

/* ---- stress ----------------------------------------------------------------- */

/* A bounded buffer of 4 slots between 2 producers and 2 consumers, over a
 * Lock: every item arrives exactly once (sum and count), and a consumer
 * sometimes waits with a short timeout. */
#define SLOTS 4

struct buffer {
	ct_lock_t lock;
	ct_condition_t not_empty, not_full;
	long items[SLOTS];
	int head, count;
	long per_producer;
	long consumed, sum;
	int producers_left;
};

static int produce(void *arg)
{
	struct buffer *b = arg;
	for (long i = 1; i <= b->per_producer; i++) {
		ct_lock_acquire(&b->lock);
		while (b->count == SLOTS)
			CHECK_OK(ct_condition_wait(&b->not_full, CT_FOREVER));
		b->items[(b->head + b->count) % SLOTS] = i;
		b->count++;
		CHECK_EQ(ct_condition_notify(&b->not_empty, 1) <= 1, 1);
		ct_lock_release(&b->lock);
	}
	ct_lock_acquire(&b->lock);
	b->producers_left--;
	ct_condition_notify_all(&b->not_empty);
	ct_lock_release(&b->lock);
	return 0;
}

static int consume(void *arg)
{
	struct buffer *b = arg;
	for (unsigned n = 0;; n++) {
		ct_lock_acquire(&b->lock);
		while (b->count == 0 && b->producers_left > 0) {
			int rc = ct_condition_wait(&b->not_empty, n % 8 == 0 ? 0.0001 : CT_FOREVER);
			CHECK(rc == 0 || rc == CT_ETIMEDOUT);
		}
		if (b->count == 0) {
			ct_lock_release(&b->lock);
			return 0;
		}
		b->sum += b->items[b->head];
		b->head = (b->head + 1) % SLOTS;
		b->count--;
		b->consumed++;
		ct_condition_notify(&b->not_full, 1);
		ct_lock_release(&b->lock);
	}
}

TEST(stress_bounded_buffer)
{
	static struct buffer b;
	ct_lock_init(&b.lock);
	ct_condition_init(&b.not_empty, &b.lock);
	ct_condition_init(&b.not_full, &b.lock);
	b.per_producer = ht_slowed() ? 20000 : 200000;
	b.producers_left = 2;
	ct_thread_t *t[4];
	t[0] = sh_start(consume, &b);
	t[1] = sh_start(produce, &b);
	t[2] = sh_start(consume, &b);
	t[3] = sh_start(produce, &b);
	for (int i = 0; i < 4; i++)
		sh_join(t[i]);
	CHECK_EQ(b.consumed, 2 * b.per_producer);
	CHECK_EQ(b.sum, 2 * (b.per_producer * (b.per_producer + 1) / 2));
	CHECK_EQ(atomic_load(&b.lock.ct__state), 0);
	CHECK_EQ(atomic_load(&b.not_empty.ct__waiters), 0);
	CHECK_EQ(atomic_load(&b.not_full.ct__waiters), 0);
}
