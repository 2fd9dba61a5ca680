/* The lock-free ring of a bounded FIFO queue.
 *
 * The ring is in the family of D. Vyukov's bounded MPMC queue: producers
 * claim positions with a compare-and-swap of `tail`, consumers with one of
 * `head`, each slot carries a stamp that says whether its item is there,
 * and the two sides share no cache line but the slots they hand over. A
 * position is lap | index, a lap being `one_lap` (a power of two above the
 * capacity), so advancing needs no division whatever the capacity.
 *
 *   stamp of the slot of position p   meaning
 *   -------------------------------   -----------------------------------
 *   < p + 1                           not written yet for p (empty, or its
 *                                     put is between claim and write)
 *   p + 1                             written: the get at p may take it
 *   > p + 1                           p is stale: a later lap wrote it
 *
 * Unlike Vyukov's queue, getters never write to slots: a getter reads the
 * item, then claims the position; if the claim fails, what it read is
 * dropped. A put learns that the slot of its position is free from the
 * head (the item of the previous lap has been claimed, hence read): from
 * `head_seen`, a recent head kept on the producers' own cache line, and
 * from the consumers' line only when that says "full". So on a busy queue
 * a slot's line moves once from producer to consumer and need not come
 * back, and a put and a get each make one atomic read-modify-write on
 * their own side's line plus, for the put, one on the slot.
 *
 * Python's rules on top of it, without a lock:
 *
 *  - Shutdown sets SHUT in `tail`. Puts claim with a compare-and-swap of
 *    `tail`, so none can claim once it is set; a put that claimed before
 *    still writes its item, and getters (and an immediate shutdown's
 *    drain) wait for it.
 *  - Tasks: `tail` counts the items ever put, `done` those marked done;
 *    unfinished = put - done. A put costs nothing extra for task_done and
 *    join. A dropped item counts as done.
 *  - Waiting without shared counters. A getter that finds its slot not
 *    written sets WAITER in the slot's stamp and parks on the ring's
 *    getters key; the put that writes the slot exchanges the stamp and
 *    wakes one getter only if it finds WAITER. A putter that finds the
 *    ring full sets PUTWAIT in `head`; the get that moves the head clears
 *    it with its claim and then wakes one putter. Joiners set JOINWAIT in
 *    `done`. So a put or a get reads no waiter state, makes no wake-up
 *    call unless someone waits, and after its claim (get) or exchange
 *    (put) touches nothing but a key address: the ring may be freed as
 *    soon as the last get has returned, even if that item's put is still
 *    in its wake-up.
 *  - A waiter that parked and leaves while others of its side still wait
 *    passes the mark on (pass_on_*()): it marks what they now wait for,
 *    or wakes one of them if it is there already, so no wake-up is lost
 *    to a thread that went away.
 *  - Before marking and parking, a waiter spins briefly watching its slot
 *    (or the head): most waits on a busy queue end there, with no system
 *    call on either side.
 *
 * fork(). A thread that is gone in a fork child may have left a position
 * claimed and never written (a getter would wait for it forever, and a
 * drain too), a waiter mark, and itself in a waiter count. The ring keeps
 * the fork generation it was last valid in (fork.h); every call compares
 * it with the process's, one relaxed load of a global that no fast path
 * writes, and the first call in a new generation repairs the ring
 * (after_fork()): the items written are moved down over the positions
 * that were never written, in order, and the marks and counts dropped.
 * Neither a lock nor a gate on the fast paths: the repair excludes the
 * other calls by the generation itself, which it sets last.
 */
#include "queue/queue_ring.h"

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>

#include "core/fork.h"
#include "core/internal.h"
#include "park/park.h"
#include "queue/queue_internal.h"

#define SHUT (UINT64_C(1) << 63)     /* in tail */
#define PUTWAIT (UINT64_C(1) << 63)  /* in head */
#define JOINWAIT (UINT64_C(1) << 63) /* in done */
#define WAITER (UINT64_C(1) << 62)   /* in a slot's stamp */

struct slot {
	_Atomic uint64_t stamp;
	_Atomic(void *) item;
};

struct ct__qring {
	/* Read-only after creation, plus the waiter counts (written only by
	 * waiting threads; nobody on the fast paths reads them). */
	void *mem; /* the allocation, for free() */
	uint64_t cap, one_lap;
	unsigned lap_shift;
	_Atomic uint32_t gen; /* the fork generation it is valid in; see after_fork() */
	_Atomic uint32_t getters, putters, joiners;
	/* Producers' line. */
	alignas(64) _Atomic uint64_t tail;
	_Atomic uint64_t head_seen; /* a head position seen lately: <= head */
	/* Consumers' line. */
	alignas(64) _Atomic uint64_t head;
	_Atomic uint64_t done;
	alignas(64) struct slot slots[];
};

int ct__qring_init(ct_queue_t *q)
{
	size_t cap = q->ct__maxsize;
	size_t size = sizeof(struct ct__qring) + cap * sizeof(struct slot);
	void *mem = ct__malloc(size + 63);
	if (!mem)
		return CT_ENOMEM;
	struct ct__qring *r = (void *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
	r->mem = mem;
	r->cap = cap;
	r->lap_shift = 0;
	while ((UINT64_C(1) << r->lap_shift) <= cap)
		r->lap_shift++;
	r->one_lap = UINT64_C(1) << r->lap_shift;
	atomic_init(&r->gen, ct__fork_generation());
	atomic_init(&r->getters, 0);
	atomic_init(&r->putters, 0);
	atomic_init(&r->joiners, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->head_seen, 0);
	atomic_init(&r->head, 0);
	atomic_init(&r->done, 0);
	for (size_t i = 0; i < cap; i++) {
		atomic_init(&r->slots[i].stamp, 0);
		atomic_init(&r->slots[i].item, NULL);
	}
	q->ct__ring = r;
	q->ct__storage = CT__QUEUE_RING;
	return 0;
}

static struct slot *slot_of(struct ct__qring *r, uint64_t pos)
{
	return &r->slots[pos & (r->one_lap - 1)];
}

/* The position after @p pos: the next index, or index 0 of the next lap. */
static uint64_t next_pos(const struct ct__qring *r, uint64_t pos)
{
	uint64_t index = pos & (r->one_lap - 1);
	return index + 1 < r->cap ? pos + 1 : (pos - index) + r->one_lap;
}

/* How many positions come before @p pos: items ever put (tail) or got (head). */
static uint64_t count_before(const struct ct__qring *r, uint64_t pos)
{
	pos &= ~(SHUT | PUTWAIT);
	return (pos >> r->lap_shift) * r->cap + (pos & (r->one_lap - 1));
}

/* Whether a put at tail position @p t has a free slot, the head being
 * @p h. A head ahead of t means t is stale (the thread was preempted
 * after reading it while others went on): "room", so that the caller
 * looks again, instead of an unsigned difference that wraps around and
 * says "full" to a putter that would then wait for gets that never come. */
static bool room_between(const struct ct__qring *r, uint64_t t, uint64_t h)
{
	uint64_t put = count_before(r, t), got = count_before(r, h);
	return got >= put || put - got < r->cap;
}

static uint64_t stamp_of(struct slot *s)
{
	return atomic_load_explicit(&s->stamp, memory_order_acquire) & ~WAITER;
}

/* Whether the slot of tail position @p t is free: its item of the previous
 * lap has been got. Looks at the cached head first, at the real one (the
 * consumers' cache line) only when that says "full". */
static bool has_room(struct ct__qring *r, uint64_t t)
{
	if (room_between(r, t, atomic_load_explicit(&r->head_seen, memory_order_acquire)))
		return true;
	/* Acquire: the get that moved the head past the slot read its item
	 * before; our write of the slot comes after. */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire) & ~PUTWAIT;
	atomic_store_explicit(&r->head_seen, h, memory_order_release);
	return room_between(r, t, h);
}

/* One put without waiting: 0, CT_ESHUTDOWN, or CT_EFULL with *at the tail
 * position that found no room. */
static int try_put(struct ct__qring *r, void *item, uint64_t *at)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (;;) {
		if (t & SHUT)
			return CT_ESHUTDOWN;
		if (!has_room(r, t)) {
			*at = t;
			return CT_EFULL;
		}
		if (!atomic_compare_exchange_weak_explicit(&r->tail, &t, next_pos(r, t),
							   memory_order_relaxed,
							   memory_order_relaxed))
			continue;
		struct slot *s = slot_of(r, t);
		atomic_store_explicit(&s->item, item, memory_order_relaxed);
		uint64_t old = atomic_exchange_explicit(&s->stamp, t + 1, memory_order_release);
		/* From here a getter may take the item and free the ring: use
		 * the key's address only. */
		if (old & WAITER)
			ct__unpark_one(&r->getters, NULL, NULL);
		return 0;
	}
}

/* One get without waiting: 0, or CT_EEMPTY with *at the head position
 * whose slot is not written yet (empty, or that put is under way). The
 * item is read before the head moves: once it has, a put may reuse the
 * slot, so getters never write to slots at all. */
static int try_get(struct ct__qring *r, void **item, uint64_t *at)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	for (;;) {
		uint64_t pos = h & ~PUTWAIT;
		struct slot *s = slot_of(r, pos);
		uint64_t st = stamp_of(s);
		if (st == pos + 1) {
			void *it = atomic_load_explicit(&s->item, memory_order_relaxed);
			if (!atomic_compare_exchange_weak_explicit(&r->head, &h, next_pos(r, pos),
								   memory_order_release,
								   memory_order_relaxed))
				continue;
			*item = it;
			if (h & PUTWAIT)
				ct__unpark_one(&r->putters, NULL, NULL);
			return 0;
		}
		if (st < pos + 1) {
			*at = pos;
			return CT_EEMPTY;
		}
		ct__cpu_relax(); /* another get took pos: look again */
		h = atomic_load_explicit(&r->head, memory_order_relaxed);
	}
}

/* A wait: park while @p word still holds @p marked (the value with our
 * WAITER or PUTWAIT bit), unless a shutdown ends this wait. */
struct ring_wait {
	struct ct__qring *r;
	_Atomic uint64_t *word;
	uint64_t marked;
	uint64_t pos; /* getters: the head position waited at */
	bool getter;
};

static bool still_marked(void *ctx)
{
	struct ring_wait *w = ctx;
	if (atomic_load_explicit(w->word, memory_order_relaxed) != w->marked)
		return false;
	uint64_t t = atomic_load_explicit(&w->r->tail, memory_order_relaxed);
	/* A putter stops at shutdown; a getter once nothing is left to come. */
	return !(t & SHUT) || (w->getter && (t & ~SHUT) != w->pos);
}

/* Sets @p bit in @p word, which held @p seen, and parks on @p waiters.
 * 0 to look again, CT_ETIMEDOUT or CT_ESTOPPED. */
static int mark_and_park(struct ct__qring *r, _Atomic uint32_t *waiters, _Atomic uint64_t *word,
			 uint64_t seen, uint64_t bit, uint64_t pos, int64_t deadline)
{
	if (!(seen & bit) &&
	    !atomic_compare_exchange_strong_explicit(word, &seen, seen | bit, memory_order_acq_rel,
						     memory_order_relaxed))
		return 0; /* it moved on meanwhile */
	static const struct ct__park_ops ops = {.validate = still_marked};
	struct ring_wait w = {r, word, seen | bit, pos, waiters == &r->getters};
	uintptr_t token;
	atomic_fetch_add_explicit(waiters, 1, memory_order_relaxed);
	int rc = ct__park(waiters, &ops, &w, deadline, CT__PARK_INTERRUPTIBLE, &token);
	atomic_fetch_sub_explicit(waiters, 1, memory_order_relaxed);
	return rc < 0 ? rc : 0;
}

/* A getter that parked leaves: if others still wait, mark the slot they
 * now wait for, or wake one at once if it is already written (all of
 * them, once the ring is shut down). */
static void pass_on_getters(struct ct__qring *r)
{
	while (atomic_load_explicit(&r->getters, memory_order_acquire) != 0) {
		/* Shut down: no put will write the next slot, so a mark there
		 * would wake nobody. Those still waiting (for puts claimed
		 * before the shutdown) must all look again. */
		if (atomic_load_explicit(&r->tail, memory_order_acquire) & SHUT) {
			ct__unpark_all(&r->getters, CT__TOKEN_NORMAL);
			return;
		}
		uint64_t pos = atomic_load_explicit(&r->head, memory_order_acquire) & ~PUTWAIT;
		struct slot *s = slot_of(r, pos);
		uint64_t raw = atomic_load_explicit(&s->stamp, memory_order_acquire);
		if ((raw & ~WAITER) == pos + 1) {
			ct__unpark_one(&r->getters, NULL, NULL);
			return;
		}
		if ((raw & ~WAITER) < pos + 1 &&
		    ((raw & WAITER) || atomic_compare_exchange_weak_explicit(
					       &s->stamp, &raw, raw | WAITER, memory_order_acq_rel,
					       memory_order_relaxed)))
			return;
	}
}

/* A putter that parked leaves: if others still wait, mark the head they
 * wait on, or wake one at once if there is room. */
static void pass_on_putters(struct ct__qring *r)
{
	while (atomic_load_explicit(&r->putters, memory_order_acquire) != 0) {
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (t & SHUT)
			return; /* shutdown wakes every putter */
		uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
		if (room_between(r, t, h)) {
			ct__unpark_one(&r->putters, NULL, NULL);
			return;
		}
		if ((h & PUTWAIT) ||
		    atomic_compare_exchange_weak_explicit(
			    &r->head, &h, h | PUTWAIT, memory_order_acq_rel, memory_order_relaxed))
			return;
	}
}

/* What a spinning waiter watches: the ring and the position it waits at. */
struct ring_spot {
	struct ct__qring *r;
	uint64_t pos;
};

static bool room_now(const void *ctx)
{
	const struct ring_spot *w = ctx;
	uint64_t h = atomic_load_explicit(&w->r->head, memory_order_relaxed);
	return room_between(w->r, w->pos, h);
}

static bool written_now(const void *ctx)
{
	const struct ring_spot *w = ctx;
	return stamp_of(slot_of(w->r, w->pos)) >= w->pos + 1;
}

/* ---- fork ---------------------------------------------------------------- */

#define REPAIRING UINT32_MAX /* in gen: a repair is under way */

/* Moves the items written from the head on down over the positions that
 * puts gone with a fork claimed and never wrote, keeping their order;
 * returns the new tail. The slots from there to the old tail hold nothing
 * any more: stamp 0 is "not written" for whatever position comes next. */
static uint64_t compact(struct ct__qring *r, uint64_t h, uint64_t t)
{
	uint64_t w = h;
	for (uint64_t p = h; p != t; p = next_pos(r, p)) {
		struct slot *s = slot_of(r, p), *d = slot_of(r, w);
		if (stamp_of(s) != p + 1)
			continue;
		atomic_store_explicit(&d->item,
				      atomic_load_explicit(&s->item, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(&d->stamp, w + 1, memory_order_relaxed);
		w = next_pos(r, w);
	}
	for (uint64_t p = w; p != t; p = next_pos(r, p))
		atomic_store_explicit(&slot_of(r, p)->stamp, 0, memory_order_relaxed);
	return w;
}

/* Makes the ring what it would be had the threads that are gone never
 * started what they had not finished. Nobody else is in the ring. */
static void repair(struct ct__qring *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed) & ~PUTWAIT;
	uint64_t w = compact(r, h, t & ~SHUT);
	for (size_t i = 0; i < r->cap; i++) { /* the getters that marked slots are gone */
		uint64_t st = atomic_load_explicit(&r->slots[i].stamp, memory_order_relaxed);
		atomic_store_explicit(&r->slots[i].stamp, st & ~WAITER, memory_order_relaxed);
	}
	atomic_store_explicit(&r->tail, w | (t & SHUT), memory_order_relaxed);
	atomic_store_explicit(&r->head, h, memory_order_relaxed);
	atomic_store_explicit(&r->head_seen, h, memory_order_relaxed);
	/* The puts that never happened were never tasks either. */
	uint64_t done = atomic_load_explicit(&r->done, memory_order_relaxed) & ~JOINWAIT;
	uint64_t put = count_before(r, w);
	atomic_store_explicit(&r->done, done < put ? done : put, memory_order_relaxed);
	atomic_store_explicit(&r->getters, 0, memory_order_relaxed);
	atomic_store_explicit(&r->putters, 0, memory_order_relaxed);
	atomic_store_explicit(&r->joiners, 0, memory_order_relaxed);
}

/* The first call in a new fork generation repairs the ring; the others
 * wait for it. Inside the gate, so that a fork in the child never catches
 * a repair half done. */
static CT__NOINLINE CT__COLD void after_fork(struct ct__qring *r)
{
	uint32_t now = ct__fork_generation();
	unsigned tries = 0;
	ct__gate_enter();
	uint32_t g = atomic_load_explicit(&r->gen, memory_order_acquire);
	while (g != now) {
		if (g != REPAIRING) {
			if (atomic_compare_exchange_weak_explicit(&r->gen, &g, REPAIRING,
								  memory_order_acquire,
								  memory_order_acquire)) {
				repair(r);
				atomic_store_explicit(&r->gen, now, memory_order_release);
				break;
			}
			continue;
		}
		ct__gate_exit(); /* another thread repairs: a few microseconds */
		if (++tries < 100)
			ct__cpu_relax();
		else
			sched_yield();
		ct__gate_enter();
		g = atomic_load_explicit(&r->gen, memory_order_acquire);
	}
	ct__gate_exit();
}

/* At the top of every call: is the ring valid in this process? Acquire,
 * for a call that comes after another thread's repair. */
static inline void check_fork(const struct ct__qring *r)
{
	if (CT__UNLIKELY(atomic_load_explicit(&((struct ct__qring *)r)->gen,
					      memory_order_acquire) != ct__fork_generation()))
		after_fork((struct ct__qring *)r);
}

static int ring_put(ct_queue_t *q, void *item, int64_t deadline)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	bool spun = false, parked = false;
	int rc, waited = 0;
	uint64_t t;
	while ((rc = try_put(r, item, &t)) == CT_EFULL) {
		if (waited == CT_ESTOPPED || ct__expired(deadline)) {
			rc = waited == CT_ESTOPPED ? CT_ESTOPPED : CT_EFULL;
			break;
		}
		if (!spun) {
			spun = true;
			ct__queue_spin(room_now, &(struct ring_spot){r, t});
			continue;
		}
		uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
		if (room_between(r, t, h))
			continue;
		waited = mark_and_park(r, &r->putters, &r->head, h, PUTWAIT, t, deadline);
		parked = true;
	}
	if (parked)
		pass_on_putters(r);
	return rc;
}

static int ring_get(ct_queue_t *q, void **item, int64_t deadline)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	bool spun = false, parked = false;
	int rc, waited = 0;
	uint64_t h;
	while ((rc = try_get(r, item, &h)) == CT_EEMPTY) {
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
		if ((t & SHUT) && (t & ~SHUT) == h) {
			rc = CT_ESHUTDOWN;
			break;
		}
		if (waited == CT_ESTOPPED || ct__expired(deadline)) {
			rc = waited == CT_ESTOPPED ? CT_ESTOPPED : CT_EEMPTY;
			break;
		}
		if (!spun) {
			spun = true;
			ct__queue_spin(written_now, &(struct ring_spot){r, h});
			continue;
		}
		struct slot *s = slot_of(r, h);
		uint64_t raw = atomic_load_explicit(&s->stamp, memory_order_acquire);
		if ((raw & ~WAITER) >= h + 1)
			continue;
		waited = mark_and_park(r, &r->getters, &s->stamp, raw, WAITER, h, deadline);
		parked = true;
	}
	if (parked)
		pass_on_getters(r);
	return rc;
}

static size_t ring_qsize(const ct_queue_t *q)
{
	const struct ct__qring *r = q->ct__ring;
	check_fork(r);
	/* Head first: the tail read after it is at least as far along. */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	return (size_t)(count_before(r, t) - count_before(r, h));
}

static bool ring_is_shut(const ct_queue_t *q)
{
	return atomic_load_explicit(&q->ct__ring->tail, memory_order_relaxed) & SHUT;
}

/* Adds @p n to the tasks done, capped at the items put; wakes the joiners
 * if that finishes every task. CT_ETASKDONE if no task was unfinished. */
static int add_done(struct ct__qring *r, uint64_t n)
{
	if (n == 0)
		return 0;
	/* Acquire (and acquire on a failed exchange): the tail read below is
	 * then at least as far as the one every earlier task_done saw, so the
	 * tasks counted done never outnumber the items we count as put. */
	uint64_t d = atomic_load_explicit(&r->done, memory_order_acquire);
	for (;;) {
		/* The tail is read before the update: once the update is
		 * visible, a joiner may free the ring. A stale (smaller) tail
		 * only makes "last" true too early: a spurious wake-up. */
		uint64_t put =
			count_before(r, atomic_load_explicit(&r->tail, memory_order_acquire));
		uint64_t finished = d & ~JOINWAIT;
		if (finished >= put)
			return CT_ETASKDONE;
		uint64_t now = finished + n < put ? finished + n : put;
		bool last = now == put;
		if (atomic_compare_exchange_weak_explicit(
			    &r->done, &d, now | (last ? 0 : d & JOINWAIT), memory_order_acq_rel,
			    memory_order_acquire)) {
			if (last && (d & JOINWAIT))
				ct__unpark_all(&r->joiners, CT__TOKEN_NORMAL);
			return 0;
		}
	}
}

static int ring_task_done(ct_queue_t *q)
{
	check_fork(q->ct__ring);
	return add_done(q->ct__ring, 1);
}

static bool tasks_unfinished(struct ct__qring *r, uint64_t done)
{
	return (done & ~JOINWAIT) <
	       count_before(r, atomic_load_explicit(&r->tail, memory_order_acquire));
}

static bool join_must_wait(void *ctx)
{
	struct ct__qring *r = ctx;
	uint64_t d = atomic_load_explicit(&r->done, memory_order_relaxed);
	return (d & JOINWAIT) && tasks_unfinished(r, d);
}

static int ring_join(ct_queue_t *q, int64_t deadline)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	static const struct ct__park_ops ops = {.validate = join_must_wait};
	int waited = 0;
	for (;;) {
		uint64_t d = atomic_load_explicit(&r->done, memory_order_acquire);
		if (!tasks_unfinished(r, d))
			return 0;
		if (waited == CT_ESTOPPED || ct__expired(deadline))
			return waited == CT_ESTOPPED ? CT_ESTOPPED : CT_ETIMEDOUT;
		if (!(d & JOINWAIT) &&
		    !atomic_compare_exchange_weak_explicit(
			    &r->done, &d, d | JOINWAIT, memory_order_acq_rel, memory_order_relaxed))
			continue;
		uintptr_t token;
		atomic_fetch_add_explicit(&r->joiners, 1, memory_order_relaxed);
		/* Waiting for whole tasks is long by nature: do not spin. */
		int rc = ct__park(&r->joiners, &ops, r, deadline,
				  CT__PARK_INTERRUPTIBLE | CT__PARK_NO_SPIN, &token);
		atomic_fetch_sub_explicit(&r->joiners, 1, memory_order_relaxed);
		waited = rc < 0 ? rc : 0;
	}
}

/* Takes every item left, calling @p free_item on each; returns how many. A
 * put that claimed its slot before the shutdown is still writing it: wait
 * for it (a few instructions, unless it was preempted there). */
static uint64_t drain(struct ct__qring *r, void (*free_item)(void *item))
{
	uint64_t n = 0, h;
	unsigned spins = 0;
	void *item;
	for (;;) {
		if (try_get(r, &item, &h) == 0) {
			if (free_item)
				free_item(item);
			n++;
			continue;
		}
		if ((atomic_load_explicit(&r->tail, memory_order_acquire) & ~SHUT) == h)
			return n;
		if (++spins < 1000)
			ct__cpu_relax();
		else
			sched_yield();
	}
}

static void ring_shutdown(ct_queue_t *q, bool immediate)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	atomic_fetch_or_explicit(&r->tail, SHUT, memory_order_acq_rel);
	/* Drop first, wake after: a join that returns because of the drop
	 * finds the items freed. */
	if (immediate)
		add_done(r, drain(r, q->ct__free_item));
	ct__unpark_all(&r->getters, CT__TOKEN_NORMAL);
	ct__unpark_all(&r->putters, CT__TOKEN_NORMAL);
}

static int ring_destroy(ct_queue_t *q)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	if (atomic_load(&r->getters) || atomic_load(&r->putters) || atomic_load(&r->joiners))
		return CT_EBUSY;
	atomic_fetch_or_explicit(&r->tail, SHUT, memory_order_relaxed);
	drain(r, q->ct__free_item);
	ct__free(r->mem);
	q->ct__ring = NULL;
	return 0;
}

static unsigned ring_waiters(ct_queue_t *q)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	return atomic_load(&r->getters) + atomic_load(&r->putters) + atomic_load(&r->joiners);
}

const struct ct__queue_ops ct__qring_ops = {
	.put = ring_put,
	.get = ring_get,
	.qsize = ring_qsize,
	.is_shut = ring_is_shut,
	.task_done = ring_task_done,
	.join = ring_join,
	.shutdown = ring_shutdown,
	.destroy = ring_destroy,
	.waiters = ring_waiters,
};
