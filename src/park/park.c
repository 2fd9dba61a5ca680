/* The parking core: address-keyed wait queues over per-thread parkers.
 *
 * A fixed table of buckets, each a lock and a FIFO list of wait nodes. A
 * node lives on the stack of its parked thread; it is on a bucket list
 * exactly while `queued` is true (read and written under the bucket lock).
 *
 * Lifetime rule: a woken thread returns only after its waker has set its
 * parker to UNPARKED, and the waker touches neither the node nor the parker
 * after that (see ct__parker_unpark). A thread whose wait ended by deadline
 * or stop leaves the queue itself, under the bucket lock; if a waker had
 * already dequeued it, it waits for that waker's unpark instead, so a node
 * never dies while a waker may still use it.
 *
 * Lock order: a bucket lock is never held while taking another, except in
 * a requeue, which takes its two in address order.
 */
#include "park/park.h"

#include <stdalign.h>
#include <stddef.h>

#include "core/debug_hooks.h"
#include "park/parker.h"
#include "park/waiter.h"

#define LOG2_BUCKETS 10
#define NBUCKETS (1u << LOG2_BUCKETS)

/* Fair hand-offs come on average every 0.5 ms per bucket (parking_lot's
 * figure): a random delay in [0, 1 ms) after each one. */
#define FAIR_SPAN_NS 1000000

struct wait_node {
	_Atomic(const void *) key; /* changed only by a requeue, under both locks */
	struct wait_node *next;
	struct ct__parker *parker;
	uintptr_t token;       /* published by the waker before it unparks */
	int64_t waker_woke_at; /* likewise: the waker's record's woke_at */
	bool queued;
};

struct bucket {
	alignas(64) struct ct__rawlock lock;
	struct wait_node *head, *tail;
	int64_t fair_at;
	uint64_t seed;
};

/* 64 KiB: collisions only share a lock and a list, never wake anyone wrongly. */
#define BUCKET_INIT()                    \
	{                                \
		.lock = CT__RAWLOCK_INIT \
	}
static struct bucket buckets[NBUCKETS] = {CT__REP1024(BUCKET_INIT)};
_Static_assert(NBUCKETS == 1024, "the initializer above repeats 1024 times");

static struct bucket *bucket_of(const void *key)
{
	/* Fibonacci hashing: the high bits of the product are well mixed even
	 * for word-aligned addresses. */
	uint64_t h = (uint64_t)(uintptr_t)key * UINT64_C(0x9E3779B97F4A7C15);
	return &buckets[h >> (64 - LOG2_BUCKETS)];
}

static const void *node_key(struct wait_node *n)
{
	/* Relaxed: read under the bucket lock, or as a guess that lock_node_bucket() re-checks
	 * under it; requeue() changes it under the lock. */
	return atomic_load_explicit(&n->key, memory_order_relaxed);
}

static void bucket_lock(struct bucket *b)
{
	ct__rawlock_lock(&b->lock);
}

static void bucket_unlock(struct bucket *b)
{
	ct__rawlock_unlock(&b->lock);
}

/* Locks the bucket a node is queued in now; a requeue may move it between
 * our reading its key and getting the lock, so check and retry. */
static struct bucket *lock_node_bucket(struct wait_node *n)
{
	for (;;) {
		const void *key = node_key(n);
		struct bucket *b = bucket_of(key);
		bucket_lock(b);
		/* GCOVR_EXCL_BR_START: the node requeued between reading its key and locking that
		 * bucket: a race */
		if (node_key(n) == key)
			return b;
		/* GCOVR_EXCL_BR_STOP */
		bucket_unlock(b);
	}
}

static void append(struct bucket *b, struct wait_node *n)
{
	n->next = NULL;
	if (b->tail)
		b->tail->next = n;
	else
		b->head = n;
	b->tail = n;
}

/* Unlinks n, whose predecessor is prev (NULL at the head). */
static void unlink_node(struct bucket *b, struct wait_node *prev, struct wait_node *n)
{
	if (prev)
		prev->next = n->next;
	else
		b->head = n->next;
	if (b->tail == n)
		b->tail = prev;
}

static bool key_queued_after(struct wait_node *n, const void *key)
{
	for (; n; n = n->next)
		if (node_key(n) == key)
			return true;
	return false;
}

/* Removes n from b (it must be queued there); true if it was the last
 * thread of its key. */
static bool remove_node(struct bucket *b, struct wait_node *n)
{
	const void *key = node_key(n);
	struct wait_node *prev = NULL, *cur = b->head;
	bool others = false;
	while (cur != n) {
		others |= node_key(cur) == key;
		prev = cur;
		cur = cur->next;
	}
	unlink_node(b, prev, n);
	n->queued = false;
	return !others && !key_queued_after(n->next, key);
}

static bool time_to_be_fair(struct bucket *b)
{
	int64_t now = ct__now_ns();
	if (now < b->fair_at)
		return false;
	/* xorshift64: cheap, and per bucket so it needs no lock of its own. */
	uint64_t x = b->seed ? b->seed : (uint64_t)(uintptr_t)b | 1;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	b->seed = x;
	b->fair_at = now + (int64_t)(x % FAIR_SPAN_NS);
	return true;
}

static const struct ct__sleep_hook *_Atomic sleep_hook;

/* When a wait that may spin begins (0 for one that may not: NO_SPIN, one
 * CPU, a deadline already past). Read before the thread is queued, so
 * that whatever a waker does after it finds the thread queued comes after
 * it on the clock. */
static int64_t spin_clock_start(unsigned flags, int64_t deadline)
{
	if ((flags & CT__PARK_NO_SPIN) ||
	    /* GCOVR_EXCL_BR_START: one machine's branch: ct__spin_limit is 0 only on a single CPU
	     * (the test machines have two or more) */
	    ct__spin_limit == 0)
		/* GCOVR_EXCL_BR_STOP */
		return 0;
	int64_t now = ct__now_ns();
	return deadline != CT__NO_DEADLINE && now >= deadline ? 0 : now;
}

/* What a wait that spun (since @p t0) says of spinning (waiter.h,
 * ct__spin_budget): it was worth it if it ended while spinning (@p paid),
 * or soon enough that a full spin would have caught it, or if the thread
 * that woke us had itself been woken from the OS's sleep during our wait
 * (@p waker_woke_at, after t0). That last case is what two threads passing
 * work back and forth look like once one of them has slept: each wait then
 * lasts the other's OS wake-up, tens of microseconds on some virtual
 * machines, and counting it against spinning made both threads stop
 * spinning for good: an event ping-pong went from 2-3 us to 23-34 us a
 * round trip on such a machine, pthread's own being 26-38 us. The wait
 * was long because the waker slept, not because spinning cannot pay. A
 * waker that slept before our wait began says nothing of it: where more
 * threads want to run than there are CPUs, every waker has slept at some
 * time, and spins must still shrink there. Records, in the thread's own
 * record, when it was woken from its sleep. */
static void spin_lesson(struct ct__waiter *self, unsigned spin, int64_t t0, bool paid,
			bool unparked, int64_t waker_woke_at)
{
	if (paid) {
		ct__spin_paid(self, true);
		return;
	}
	if (!unparked && !spin)
		return; /* a wait that timed out (or was stopped) without spinning */
	int64_t now = ct__now_ns();
	if (unparked)
		self->woke_at = now;
	if (spin)
		ct__spin_paid(self, (unparked && waker_woke_at > t0) || now - t0 < CT__SPIN_NS);
}

void ct__spin_wake_lesson(int64_t began)
{
	if (began == 0)
		return;
	struct ct__waiter *w = ct__waiter_self();
	/* When the wait ended: when the waker stamped the thread's parker if
	 * it woke the thread from its sleep (the thread's own wake-up came a
	 * wake-up later, and counting that would make every spin that missed
	 * look too short to have paid); else about now. Relaxed: the stamp
	 * was published by the unpark the park acquired; an older one, from
	 * a sleep before this spin, is earlier than it. */
	int64_t end = atomic_load_explicit(&w->parker.woken_at, memory_order_relaxed);
	if (end < began)
		end = ct__now_ns();
	bool would_have_paid = end - began < ct__spin_wake_ns();
	w->long_spin = ct__spin_learn(w->long_spin, would_have_paid, ct__spin_wake_rounds(),
				      ct__spin_limit);
}

void ct__park_set_sleep_hook(const struct ct__sleep_hook *hook)
{
	/* Release: pairs with sleep_begin()'s acquire, so the hook's table is seen fully built. */
	atomic_store_explicit(&sleep_hook, hook, memory_order_release);
}

/* Around every sleep: one load and a branch when nothing is plugged in. */
static void *sleep_begin(struct ct__waiter *self, unsigned flags)
{
	/* Acquire: pairs with the release in ct__park_set_sleep_hook(). */
	const struct ct__sleep_hook *h = atomic_load_explicit(&sleep_hook, memory_order_acquire);
	return CT__LIKELY(h == NULL || self->holds == NULL) ? NULL : h->suspend(self, flags);
}

static void sleep_end(struct ct__waiter *self, void *suspended)
{
	if (CT__UNLIKELY(suspended != NULL))
		/* Acquire: as in sleep_begin(). */
		atomic_load_explicit(&sleep_hook, memory_order_acquire)->resume(self, suspended);
}

int ct__park(const void *key, const struct ct__park_ops *ops, void *ctx, int64_t deadline,
	     unsigned flags, uintptr_t *token)
{
	struct ct__waiter *self = ct__waiter_self();
	struct ct__parker *p = &self->parker;
	struct wait_node node = {.parker = p};
	atomic_init(&node.key, key);
	int64_t t0 = spin_clock_start(flags, deadline);

	struct bucket *b = bucket_of(key);
	bucket_lock(b);
	if (ops->validate && !ops->validate(ctx)) {
		bucket_unlock(b);
		/* Debugging: no wait began, so what the caller said it would
		 * wait on must not label the next one (a sleep, say). */
		CT__DEBUG_HOOK(waits_on(NULL, 0));
		return CT__PARK_INVALID;
	}
	ct__parker_prepare(p);
	node.queued = true;
	append(b, &node);
	bucket_unlock(b);
	/* Relaxed: a hint for dumps (waiter.h). */
	atomic_store_explicit(&self->parked_on, key, memory_order_relaxed);
	CT__DEBUG_HOOK(park_begin(key, deadline)); /* debugging: a wait begins */

	if (ops->before_sleep)
		ops->before_sleep(ctx);

	bool interruptible = flags & CT__PARK_INTERRUPTIBLE;
	enum ct__parker_result r;
	/* Pairs with ct_thread_request_stop(), which sets the flag and then
	 * interrupts the parker: either we see the flag here, or it sees our
	 * parker armed. */
	atomic_thread_fence(memory_order_seq_cst);
	void *suspended = NULL;
	/* Relaxed: the seq_cst fence above orders it after arming the parker (the Dekker pair
	 * with ct_thread_request_stop()). */
	if (interruptible && atomic_load_explicit(&self->stop, memory_order_relaxed)) {
		r = CT__PKR_INTERRUPTED;
	} else {
		suspended = sleep_begin(self, flags);
		/* No spinning for a wait that had timed out when it began (a
		 * condition wait with timeout 0 releases the lock and takes it
		 * back), nor where spin_clock_start() says so. */
		unsigned spin = t0 ? ct__spin_budget(self) : 0;
		bool paid = false;
		r = ct__parker_wait(p, deadline, interruptible, spin, &paid);
		/* The waker's note is read only once it has unparked us: until
		 * then a waker may be writing it. */
		bool unparked = r == CT__PKR_UNPARKED;
		spin_lesson(self, spin, t0, paid, unparked, unparked ? node.waker_woke_at : 0);
	}

	int rc = CT__PARK_UNPARKED;
	if (r != CT__PKR_UNPARKED) {
		b = lock_node_bucket(&node);
		if (node.queued) {
			bool last = remove_node(b, &node);
			if (ops->timed_out)
				ops->timed_out(ctx, node_key(&node), last);
			rc = r == CT__PKR_TIMEDOUT ? CT_ETIMEDOUT : CT_ESTOPPED;
		}
		bucket_unlock(b);
		/* Dequeued by a waker first: its unpark is on its way, and
		 * must be waited for (see the lifetime rule above). */
		if (rc == CT__PARK_UNPARKED)
			ct__parker_wait(p, CT__NO_DEADLINE, false, ct__spin_limit, NULL);
	}
	if (rc == CT__PARK_UNPARKED)
		*token = node.token;
	/* Relaxed: the parker is this thread's own and nobody unparks it any more (the waker's
	 * unpark, if any, has arrived); prepare() rewrites it before the next wait. */
	atomic_store_explicit(&p->state, CT__PK_IDLE, memory_order_relaxed);
	/* Relaxed: a hint for dumps (waiter.h). */
	atomic_store_explicit(&self->parked_on, NULL, memory_order_relaxed);
	sleep_end(self, suspended);
	CT__DEBUG_HOOK(park_end(rc)); /* debugging: the wait is over */
	return rc;
}

/* Dequeues up to n threads of key from b, oldest first, into a private list
 * linked through their `next`. Returns how many; *have_more tells whether
 * threads of key remain queued. */
static unsigned take(struct bucket *b, const void *key, unsigned n, struct wait_node **list,
		     bool *have_more)
{
	struct wait_node *prev = NULL, *cur = b->head, *tail = NULL;
	unsigned taken = 0;
	*have_more = false;
	while (cur) {
		struct wait_node *next = cur->next;
		if (node_key(cur) != key) {
			prev = cur;
		} else if (taken == n) {
			*have_more = true;
			break;
		} else {
			unlink_node(b, prev, cur);
			cur->queued = false;
			cur->next = NULL;
			if (tail)
				tail->next = cur;
			else
				*list = cur;
			tail = cur;
			taken++;
		}
		cur = next;
	}
	return taken;
}

/* Unparks a private list built by take(). Called with no lock held. */
static void wake_list(struct wait_node *n)
{
	while (n) {
		/* Read everything we need first: once unparked, the node's
		 * thread may return and its stack frame vanish. */
		struct wait_node *next = n->next;
		ct__parker_unpark(n->parker);
		n = next;
	}
}

static void set_tokens(struct wait_node *n, uintptr_t token)
{
	struct ct__waiter *waker = ct__tls_waiter;
	int64_t woke_at = waker ? waker->woke_at : 0;
	for (; n; n = n->next) {
		n->token = token;
		n->waker_woke_at = woke_at;
	}
}

struct ct__unpark_result ct__unpark_one(const void *key, ct__unpark_fn fn, void *ctx)
{
	struct bucket *b = bucket_of(key);
	struct wait_node *list = NULL;
	struct ct__unpark_result r = {0};
	bucket_lock(b);
	r.unparked = take(b, key, 1, &list, &r.have_more);
	r.be_fair = r.unparked && time_to_be_fair(b);
	uintptr_t token = fn ? fn(ctx, r) : CT__TOKEN_NORMAL;
	set_tokens(list, token);
	bucket_unlock(b);
	wake_list(list);
	return r;
}

unsigned ct__unpark_n(const void *key, unsigned n, uintptr_t token)
{
	struct bucket *b = bucket_of(key);
	struct wait_node *list = NULL;
	bool more;
	bucket_lock(b);
	unsigned woken = take(b, key, n, &list, &more);
	set_tokens(list, token);
	bucket_unlock(b);
	wake_list(list);
	return woken;
}

static void lock_pair(struct bucket *a, struct bucket *b)
{
	if (a == b) {
		bucket_lock(a);
	} else if (a < b) {
		bucket_lock(a);
		bucket_lock(b);
	} else {
		bucket_lock(b);
		bucket_lock(a);
	}
}

static void unlock_pair(struct bucket *a, struct bucket *b)
{
	bucket_unlock(a);
	if (a != b)
		bucket_unlock(b);
}

struct ct__unpark_result ct__unpark_requeue(const void *from, const void *to,
					    struct ct__requeue_plan (*plan)(void *ctx),
					    ct__unpark_fn done, void *ctx)
{
	struct bucket *bf = bucket_of(from), *bt = bucket_of(to);
	struct wait_node *woken = NULL, *moved = NULL;
	struct ct__unpark_result r = {0};
	bool more;
	lock_pair(bf, bt);
	struct ct__requeue_plan p = plan(ctx);
	if (p.wake == 0 && p.requeue == 0) {
		r.have_more = key_queued_after(bf->head, from);
		unlock_pair(bf, bt);
		return r;
	}
	r.unparked = take(bf, from, p.wake, &woken, &more);
	/* take() leaves `queued` false: the moved nodes are queued again on
	 * the target below. */
	r.requeued = take(bf, from, p.requeue, &moved, &more);
	r.have_more = more;
	for (struct wait_node *n = moved, *next; n; n = next) {
		next = n->next;
		/* Relaxed: under both buckets' locks, where every reader of the key but
		 * lock_node_bucket()'s guess reads it. */
		atomic_store_explicit(&n->key, to, memory_order_relaxed);
		n->queued = true;
		append(bt, n);
		/* Debugging: the thread now waits for what @p to stands for. */
		CT__DEBUG_HOOK(requeued(n->parker, to));
	}
	/* GCOVR_EXCL_BR_START: every caller (Condition, RWLock) passes a done callback */
	uintptr_t token = done ? done(ctx, r) : CT__TOKEN_NORMAL;
	/* GCOVR_EXCL_BR_STOP */
	set_tokens(woken, token);
	unlock_pair(bf, bt);
	wake_list(woken);
	return r;
}

struct word_wait {
	const _Atomic uint32_t *word;
	uint32_t expected;
};

static bool word_still_expected(void *ctx)
{
	struct word_wait *w = ctx;
	/* Relaxed: under the bucket lock; the waker changes the word before it takes that lock,
	 * whose acquire orders the two. */
	return atomic_load_explicit(w->word, memory_order_relaxed) == w->expected;
}

int ct__park_wait(const _Atomic uint32_t *word, uint32_t expected, int64_t deadline, unsigned flags)
{
	static const struct ct__park_ops ops = {.validate = word_still_expected};
	struct word_wait w = {word, expected};
	uintptr_t token;
	int rc = ct__park(word, &ops, &w, deadline, flags, &token);
	return rc > 0 ? 0 : rc;
}

const char ct__sleep_key;

int ct__park_sleep(int64_t deadline, unsigned flags)
{
	struct ct__waiter *self = ct__waiter_self();
	struct ct__parker *p = &self->parker;
	bool interruptible = flags & CT__PARK_INTERRUPTIBLE;
	ct__parker_prepare(p);
	atomic_thread_fence(memory_order_seq_cst); /* see ct__park() */
	/* Relaxed: ordered after arming the parker by the fence above, as in ct__park(). */
	if (interruptible && atomic_load_explicit(&self->stop, memory_order_relaxed)) {
		/* Relaxed: this thread's own parker, not queued anywhere. */
		atomic_store_explicit(&p->state, CT__PK_IDLE, memory_order_relaxed);
		return CT_ESTOPPED;
	}
	void *suspended = sleep_begin(self, flags);
	/* Relaxed: a hint for dumps (waiter.h). */
	atomic_store_explicit(&self->parked_on, &ct__sleep_key, memory_order_relaxed);
	CT__DEBUG_HOOK(park_begin(NULL, deadline)); /* debugging: a sleep begins */
	/* Nobody unparks a sleeper: only the deadline or a stop ends this, so
	 * spinning would only burn the CPU. */
	enum ct__parker_result r = ct__parker_wait(p, deadline, interruptible, 0, NULL);
	/* Relaxed: as in ct__park(): nobody else touches it now. */
	atomic_store_explicit(&p->state, CT__PK_IDLE, memory_order_relaxed);
	/* Relaxed: a hint for dumps (waiter.h). */
	atomic_store_explicit(&self->parked_on, NULL, memory_order_relaxed);
	sleep_end(self, suspended);
	int rc = r == CT__PKR_INTERRUPTED ? CT_ESTOPPED : 0;
	CT__DEBUG_HOOK(park_end(rc)); /* debugging: the sleep is over */
	return rc;
}

unsigned ct__park_queued(const void *key)
{
	struct bucket *b = bucket_of(key);
	unsigned n = 0;
	bucket_lock(b);
	for (struct wait_node *w = b->head; w; w = w->next)
		n += node_key(w) == key;
	bucket_unlock(b);
	return n;
}

void ct__park_after_fork_child(void)
{
	for (unsigned i = 0; i < NBUCKETS; i++) {
		ct__rawlock_reinit(&buckets[i].lock);
		buckets[i].head = buckets[i].tail = NULL;
	}
}
