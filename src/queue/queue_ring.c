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
 * back, and a put and a get each make one atomic read-modify-write, on
 * their own side's line.
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
 *  - Waiting without read-modify-writes on the slots. A getter that
 *    finds its slot not written sleeps as the solo consumer does (below):
 *    it counts itself in sleepers[], makes a heavy fence, and parks on
 *    the ring's get_key if the slot is still not written; the put that
 *    writes the slot stores its stamp, makes a light fence and wakes one
 *    getter only if the count is not 0. So the put's one read-modify-
 *    write is its claim of the tail: an exchange of the stamp, as a mark
 *    in it would need, stalls the producer until the slot's line, which
 *    the waiting consumer keeps reading, comes back (one producer and one
 *    consumer went from 90 to 40 ns an item without it, on a 2-CPU Intel
 *    Xeon virtual machine). Each put wakes one counted getter, whatever
 *    position it waits at: when two puts publish out of order, the later
 *    position's wake-up may go to a getter still waiting for the earlier
 *    one, which sleeps again. So a getter that slept passes on as it
 *    leaves (pass_on_getters()): if others still sleep and the slot at
 *    the head is written, it wakes one.
 *  - A putter that finds the ring full sets PUTWAIT in `head`; the get
 *    that moves the head clears it with its claim (a read-modify-write it
 *    makes anyway) and then wakes one putter. Joiners set JOINWAIT in
 *    `done`. So a put or a get reads no waiter state but a count outside
 *    the ring, makes no wake-up call unless someone waits, and after its
 *    claim (get) or stamp (put) touches nothing of the ring but a key
 *    address: the ring may be freed as soon as the last get has returned,
 *    even if that item's put is still in its wake-up. (A put that slept
 *    passes on before it publishes, for that reason. With the debugging
 *    layer recording, the queue's depth is read after a put, as before.)
 *  - A putter that parked and leaves while others still wait passes the
 *    mark on (pass_on_putters()): it marks the head they now wait on, or
 *    wakes one of them if there is room already, so no wake-up is lost to
 *    a thread that went away; a putter that leaves with its item in does
 *    so between its claim and its stamp.
 *  - Before it sleeps, a waiter spins briefly watching its slot (or the
 *    head): most waits on a busy queue end there, with no system call on
 *    either side.
 *
 * One producer, one consumer (the solo mode). A locked read-modify-write
 * costs several plain accesses even on a cache line the thread owns, and a
 * put and a get above make two. So a ring starts SOLO: the first thread
 * to put becomes its producer and the first to get its consumer, and as
 * long as no other thread comes, each side owns its index and moves it
 * with plain stores (solo_try_put(), solo_try_get()): the producer stores
 * the tail (its claim), then the item and the stamp; the consumer reads
 * the stamp and item and stores the head. The producer still reads the
 * head only when head_seen says "full"; the consumer reads no index of
 * the producer's at all, only the slot's stamp.
 *
 *  - Waking without read-modify-writes. A solo waiter (and every getter,
 *    solo or not) spins, then counts itself in sleepers[] (global, keyed
 *    by the address it parks on, the ring's get_key or put_key), makes a
 *    heavy fence (membarrier()) and looks again before it parks
 *    (counted_park()); the other side, after the store the waiter waits
 *    for, makes a light fence (a compiler barrier) and wakes the key only
 *    if the count is not 0, taking the woken waiter's count off as it
 *    wakes it. The count lives outside the ring, because a put must not
 *    read the ring once its item is published.
 *  - The end of the solo mode. A second producer or consumer, or a
 *    shutdown (whose SHUT bit a plain store of the tail would lose), ends
 *    it for good (share()): mode SWITCHING; a heavy fence; the solo
 *    waiters are woken; then it waits until neither solo thread is inside
 *    its section (a flag each sets around its check of the mode and its
 *    index's store: Dekker's again, light on the solo side); then SHARED.
 *    A solo put claimed before may write its stamp after that: its getter
 *    sleeps on the key that put wakes, shared or not. Those who find
 *    SWITCHING, or leave a section that found it, wait for SHARED; from
 *    SHARED on, everyone follows the rules above, which find the indices
 *    and stamps as the solo threads left them.
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

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/fork.h"
#include "park/park.h"
#include "queue/queue_internal.h"

#define SHUT (UINT64_C(1) << 63)     /* in tail */
#define PUTWAIT (UINT64_C(1) << 63)  /* in head */
#define JOINWAIT (UINT64_C(1) << 63) /* in done */

struct slot {
	_Atomic uint64_t stamp;
	_Atomic(void *) item;
};

struct ct__qring {
	/* Read-only after creation, plus the waiter counts (written only by
	 * waiting threads; nobody on the fast paths reads them). */
	const ct_queue_t *queue; /* debugging: what its waits are on */
	uint64_t cap, one_lap;
	unsigned lap_shift;
	_Atomic uint32_t gen; /* the fork generation it is valid in; see after_fork() */
	_Atomic uint32_t getters, putters, joiners;
	/* The solo mode (see "One producer, one consumer"): SOLO, SWITCHING
	 * or SHARED, and the one producer and consumer seen so far. */
	_Atomic uint32_t mode;
	struct ct__thread *_Atomic producer, *_Atomic consumer;
	/* The parking keys of the waiters counted in sleepers[] (their
	 * addresses only): every getter, and the solo producer. Apart from
	 * the shared putters' (&putters), so that a wake-up through
	 * sleepers[] never finds a thread it did not count. */
	char get_key, put_key;
	/* Producers' line. */
	alignas(64) _Atomic uint64_t tail;
	_Atomic uint64_t head_seen; /* a head position seen lately: <= head */
	_Atomic uint32_t put_busy;  /* the solo producer is in its section */
	/* Consumers' line. */
	alignas(64) _Atomic uint64_t head;
	_Atomic uint64_t done;
	_Atomic uint32_t get_busy; /* the solo consumer is in its section */
	alignas(64) struct slot slots[];
};

enum { SOLO = 0, SWITCHING = 1, SHARED = 2 };

int ct__qring_init(ct_queue_t *q)
{
	size_t cap = q->ct__maxsize;
	size_t size = sizeof(struct ct__qring) + cap * sizeof(struct slot);
	struct ct__qring *r = ct__aligned_alloc(alignof(struct ct__qring), size);
	if (!r)
		return CT_ENOMEM;
	r->queue = q;
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
	atomic_init(&r->mode, SOLO);
	atomic_init(&r->producer, NULL);
	atomic_init(&r->consumer, NULL);
	atomic_init(&r->put_busy, 0);
	atomic_init(&r->get_busy, 0);
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
	/* Acquire: pairs with the put's release of the stamp, so a written stamp comes with its
	 * item. */
	return atomic_load_explicit(&s->stamp, memory_order_acquire);
}

/* ---- sleeping counted ------------------------------------------------------ */

/* The store-load pairs of the puts and gets with the threads that sleep
 * counted (every getter, the solo producer) and with the end of the solo
 * mode use fork.h's asymmetric fences: every put and solo get pays
 * ct__fence_light(), the side about to sleep or to end the solo mode
 * ct__fence_heavy(). Under ThreadSanitizer, which models no
 * fences, the stores and loads of each pair are sequentially consistent
 * instead (DEKKER). */
#ifdef CT__FORK_TSAN
/* Seq_cst on purpose: under ThreadSanitizer each Dekker pair's stores and loads (see above). */
#define DEKKER(order) memory_order_seq_cst
#else
#define DEKKER(order) (order)
#endif

/* Who sleeps on a key, for the puts and solo gets, which must not read the
 * ring once they have published (the other side may free it then): counts
 * of the threads parked on the keys that hash to each entry, in memory
 * that is never freed. A collision costs an unpark that finds nobody. */
#define SLEEPER_SLOTS 64
static _Atomic uint32_t sleepers[SLEEPER_SLOTS];

static _Atomic uint32_t *sleepers_of(const void *key)
{
	uintptr_t k = (uintptr_t)key >> 3;
	return &sleepers[(k ^ (k >> 6) ^ (k >> 12)) % SLEEPER_SLOTS];
}

/* The token of a counted waiter whose waker took its count out of
 * sleepers[] (under the bucket lock, as it woke it): the puts or gets
 * that follow, before the waiter runs again, then make no wake-up call. */
#define TOKEN_UNCOUNTED ((uintptr_t)2)

static uintptr_t uncount_woken(void *count, struct ct__unpark_result res)
{
	if (res.unparked == 0)
		return CT__TOKEN_NORMAL;
	/* Relaxed: under the bucket lock; the count is a hint whose store-load pairs are ordered
	 * by the fences (see wake_sleeper()). */
	atomic_fetch_sub_explicit((_Atomic uint32_t *)count, 1, memory_order_relaxed);
	return TOKEN_UNCOUNTED;
}

/* Wakes one thread parked on @p key if one may be: called after a
 * ct__fence_light() that follows the store it waits for. */
static inline void wake_sleeper(const void *key)
{
	_Atomic uint32_t *count = sleepers_of(key);
	/* Relaxed: the caller's ct__fence_light() orders it after the store the sleeper waits
	 * for; counted_park() counts itself, then makes a heavy fence and looks again: one of
	 * the two sees the other. */
	if (CT__UNLIKELY(atomic_load_explicit(count, DEKKER(memory_order_relaxed)) != 0))
		ct__unpark_one(key, uncount_woken, (void *)count);
}

/* A counted waiter's note (fork.h): in a fork child, a thread that is gone
 * while it slept may have left its count in sleepers[]. Every sleeper is
 * gone there (the forking thread sleeps in no queue), so each note takes
 * one off, down to 0: a waiter already uncounted by its waker has no
 * count left, and the others' notes take what it would have taken. */
struct sleeper_note {
	struct ct__fork_note note;
	_Atomic uint32_t *count;
};

static void forget_sleeper(struct ct__fork_note *note)
{
	_Atomic uint32_t *count = ((struct sleeper_note *)note)->count;
	/* Relaxed: in the one-thread fork child. */
	uint32_t n = atomic_load_explicit(count, memory_order_relaxed);
	/* Relaxed: as above. */
	/* GCOVR_EXCL_BR_START: the fork child has one thread: the CAS fails only spuriously */
	while (n != 0 && !atomic_compare_exchange_weak_explicit(
				 count, &n, n - 1, memory_order_relaxed, memory_order_relaxed))
		;
	/* GCOVR_EXCL_BR_STOP */
}

/* Writes the stamp of slot @p s for position @p t (its item stored
 * before) and wakes a getter if one sleeps: the store half of the Dekker
 * with counted_park(). From the stamp on, a getter may take the item and
 * free the ring: only the key's address and sleepers[] are touched. (One
 * hazard is left, as in any wake-up by address: were the ring freed and
 * its memory reused, in that instant, by an object whose waiters park on
 * that very address, the wake-up could find one of them and take a count
 * of sleepers[] that is not its own.) */
static inline void publish(struct ct__qring *r, struct slot *s, uint64_t t)
{
	const char *key = &r->get_key;
	/* Release: pairs with stamp_of()'s acquire, so a getter that sees the stamp sees the
	 * item; the store half of the Dekker with counted_park(), with the light fence below. */
	atomic_store_explicit(&s->stamp, t + 1, DEKKER(memory_order_release));
	ct__fence_light(); /* pairs with counted_park() */
	wake_sleeper(key);
}

/* Whether the slot of tail position @p t is free: its item of the previous
 * lap has been got. Looks at the cached head first, at the real one (the
 * consumers' cache line) only when that says "full". */
static bool has_room(struct ct__qring *r, uint64_t t)
{
	/* Acquire: pairs with the release below, which passes on a head read with acquire. */
	if (room_between(r, t, atomic_load_explicit(&r->head_seen, memory_order_acquire)))
		return true;
	/* Acquire: the get that moved the head past the slot read its item
	 * before; our write of the slot comes after. */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire) & ~PUTWAIT;
	/* Release: a producer that reads it (acquire, above) is ordered after the get it saw, as
	 * we are. */
	atomic_store_explicit(&r->head_seen, h, memory_order_release);
	return room_between(r, t, h);
}

static void pass_on_putters(struct ct__qring *r);

/* One put without waiting: 0, CT_ESHUTDOWN, or CT_EFULL with *at the tail
 * position that found no room. A caller that @p slept passes on between
 * the claim and the stamp: once the stamp is out, the ring may be freed. */
static int try_put(struct ct__qring *r, void *item, bool slept, uint64_t *at)
{
	/* Relaxed: a guess for the CAS below. */
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (;;) {
		if (t & SHUT)
			return CT_ESHUTDOWN;
		if (!has_room(r, t)) {
			*at = t;
			return CT_EFULL;
		}
		/* Relaxed: the claim publishes nothing (the stamp's release below does), and
		 * has_room()'s acquire already ordered our slot writes after the get that freed
		 * it. */
		if (!atomic_compare_exchange_weak_explicit(&r->tail, &t, next_pos(r, t),
							   memory_order_relaxed,
							   memory_order_relaxed))
			continue;
		if (slept)
			pass_on_putters(r);
		struct slot *s = slot_of(r, t);
		/* Relaxed: published by the stamp's release below. */
		atomic_store_explicit(&s->item, item, memory_order_relaxed);
		publish(r, s, t);
		return 0;
	}
}

/* One get without waiting: 0, or CT_EEMPTY with *at the head position
 * whose slot is not written yet (empty, or that put is under way). The
 * item is read before the head moves: once it has, a put may reuse the
 * slot, so getters never write to slots at all. */
static int try_get(struct ct__qring *r, void **item, uint64_t *at)
{
	/* Relaxed: a guess for the CAS below. */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	for (;;) {
		uint64_t pos = h & ~PUTWAIT;
		struct slot *s = slot_of(r, pos);
		uint64_t st = stamp_of(s);
		if (st == pos + 1) {
			/* Relaxed: after stamp_of()'s acquire, which published it. */
			void *it = atomic_load_explicit(&s->item, memory_order_relaxed);
			/* Release: pairs with has_room()'s acquire: the item is read before the
			 * head moves, so a put that reuses the slot writes after it. A failure
			 * only retries. */
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
		/* Relaxed: a guess for the CAS, as above. */
		h = atomic_load_explicit(&r->head, memory_order_relaxed);
	}
}

/* A wait. A shared putter's: park while @p word (the head) still holds
 * @p marked (the value with our PUTWAIT bit), unless a shutdown ends it.
 * A counted waiter's (every getter, the solo putter): while it still has
 * to wait at @p pos. */
struct ring_wait {
	struct ct__qring *r;
	_Atomic uint64_t *word;
	uint64_t marked;
	uint64_t pos; /* counted waiters: the position waited at */
	bool getter;
};

static bool still_marked(void *ctx)
{
	struct ring_wait *w = ctx;
	/* Relaxed: under the bucket lock, which a waker takes after changing the word. */
	if (atomic_load_explicit(w->word, memory_order_relaxed) != w->marked)
		return false;
	/* Relaxed: under the bucket lock, which shutdown takes to wake everyone after setting
	 * SHUT. */
	uint64_t t = atomic_load_explicit(&w->r->tail, memory_order_relaxed);
	/* A putter stops at shutdown. */
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a shutdown between the mark and the park
	 */
	return !(t & SHUT);
	/* GCOVR_EXCL_BR_STOP */
}

/* A putter that found the ring full: sets PUTWAIT in the head, which
 * held @p seen, and parks on the putters' key. 0 to look again,
 * CT_ETIMEDOUT or CT_ESTOPPED. */
static int mark_and_park(struct ct__qring *r, uint64_t seen, int64_t deadline)
{
	_Atomic uint64_t *word = &r->head;
	_Atomic uint32_t *waiters = &r->putters;
	if (!(seen & PUTWAIT) &&
	    /* Acq_rel (more than the mark needs: an RMW of the word is already ordered against
	     * the waker's exchange or claim on it); a slow path. */
	    !atomic_compare_exchange_strong_explicit(word, &seen, seen | PUTWAIT,
						     memory_order_acq_rel, memory_order_relaxed))
		return 0; /* it moved on meanwhile */
	static const struct ct__park_ops ops = {.validate = still_marked};
	struct ring_wait w = {.r = r, .word = word, .marked = seen | PUTWAIT};
	uintptr_t token;
	/* Relaxed: read only by pass_on_putters() after a park, and destroy's busy check; the
	 * bucket lock and the parker order it. */
	atomic_fetch_add_explicit(waiters, 1, memory_order_relaxed);
	/* Debugging: each park says what it waits on; one call may park many times. */
	CT__DEBUG_HOOK(waits_on(r->queue, CT__OBJ_QUEUE_FULL));
	int rc = ct__park(waiters, &ops, &w, deadline, CT__PARK_INTERRUPTIBLE, &token);
	atomic_fetch_sub_explicit(waiters, 1, memory_order_relaxed); /* relaxed: as above */
	return rc < 0 ? rc : 0;
}

/* A getter that slept leaves (with an item or not). A put wakes one
 * counted getter whatever position it waits at, so a wake-up may have
 * gone to a getter still waiting for an earlier position, which slept
 * again: if others still sleep and the slot at the head is written, wake
 * one (if it is not written, its put will). Once the ring is shut down, no
 * put will come but those claimed before: every getter asleep must look
 * again. */
static void pass_on_getters(struct ct__qring *r)
{
	/* Acquire (more than needed): a waiter counts itself before the bucket lock that the
	 * unpark which woke us passes through, so its count is seen anyway. */
	if (atomic_load_explicit(&r->getters, memory_order_acquire) == 0)
		return;
	/* Acquire: pairs with shutdown's RMW. */
	if (atomic_load_explicit(&r->tail, memory_order_acquire) & SHUT) {
		ct__unpark_all(&r->get_key, CT__TOKEN_NORMAL);
		return;
	}
	/* Acquire: pairs with the gets' release (try_get()), as in has_room(). */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire) & ~PUTWAIT;
	if (stamp_of(slot_of(r, h)) >= h + 1)
		ct__unpark_one(&r->get_key, uncount_woken, (void *)sleepers_of(&r->get_key));
}

/* A putter that parked leaves: if others still wait, mark the head they
 * wait on, or wake one at once if there is room. */
static void pass_on_putters(struct ct__qring *r)
{
	/* Acquire: as in pass_on_getters(). */
	while (atomic_load_explicit(&r->putters, memory_order_acquire) != 0) {
		/* Acquire: pairs with shutdown's RMW, so SHUT comes with the drain before it. */
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (t & SHUT)
			return; /* shutdown wakes every putter */
		/* Acquire: pairs with the gets' release, as in has_room(). */
		uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
		if (room_between(r, t, h)) {
			ct__unpark_one(&r->putters, NULL, NULL);
			return;
		}
		/* GCOVR_EXCL_BR_START: a race no test can aim at: a get moves the head between the
		 * load and the CAS */
		if ((h & PUTWAIT) ||
		    /* Acq_rel: as in mark_and_park(). */
		    atomic_compare_exchange_weak_explicit(
			    &r->head, &h, h | PUTWAIT, memory_order_acq_rel, memory_order_relaxed))
			return;
		/* GCOVR_EXCL_BR_STOP */
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
	/* Relaxed: a spin's watch only; has_room() reads the head again with acquire before the
	 * room is used. */
	uint64_t h = atomic_load_explicit(&w->r->head, memory_order_relaxed);
	return room_between(w->r, w->pos, h);
}

/* What a solo putter that found the ring full spins for: room for a
 * batch (an eighth of the ring, up to 64 slots), not one slot. Taking a
 * slot the moment the consumer frees it would put the producer at the
 * consumer's heels, each put pulling back the cache lines the get just
 * took (the head, the slot); after a batch of gets, the next puts run on
 * their own lines. A consumer that stops short of a batch delays the put
 * by the spin at most: after it, one slot is enough. */
static bool room_for_batch(const void *ctx)
{
	const struct ring_spot *w = ctx;
	uint64_t batch = w->r->cap / 8 < 1 ? 1 : w->r->cap / 8 < 64 ? w->r->cap / 8 : 64;
	uint64_t put = count_before(w->r, w->pos);
	/* Relaxed: a watch, as in room_now(). */
	uint64_t got = count_before(w->r, atomic_load_explicit(&w->r->head, memory_order_relaxed));
	return got >= put || put - got + batch <= w->r->cap;
}

static bool written_now(const void *ctx)
{
	const struct ring_spot *w = ctx;
	return stamp_of(slot_of(w->r, w->pos)) >= w->pos + 1;
}

/* ---- one producer, one consumer ------------------------------------------ */

/* Waits for another thread's few instructions: spins, then yields in
 * case that thread was preempted in the middle of them. */
static void wait_until(bool (*done)(const struct ct__qring *r), const struct ct__qring *r)
{
	for (unsigned spins = 0; !done(r); spins++) {
		/* GCOVR_EXCL_BR_START: a race no test can aim at: the thread waited for preempted
		 * for a hundred spins */
		if (spins < 100)
			ct__cpu_relax();
		else
			sched_yield();
		/* GCOVR_EXCL_BR_STOP */
	}
}

static bool is_shared(const struct ct__qring *r)
{
	/* Acquire: pairs with share()'s release of SHARED, so the ring is seen as the switch
	 * left it. */
	return atomic_load_explicit(&r->mode, memory_order_acquire) == SHARED;
}

/* Neither solo thread is in a section. Acquire: we see what they stored
 * in it. */
static bool sections_closed(const struct ct__qring *r)
{
	/* Acquire: pairs with section_close()'s release (see above). */
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a solo thread inside its section as a
	 * switch looks */
	return !atomic_load_explicit(&r->put_busy, DEKKER(memory_order_acquire)) &&
	       !atomic_load_explicit(&r->get_busy, DEKKER(memory_order_acquire));
	/* GCOVR_EXCL_BR_STOP */
}

/* Ends the solo mode for good: a second producer or consumer came, or a
 * shutdown. Once SWITCHING is set, the solo threads leave their sections
 * and take the shared path, and the solo waiters are woken to do so; once
 * neither is inside a section, SHARED lets everyone go on. Threads that
 * find SWITCHING wait for SHARED. */
static CT__NOINLINE void share(struct ct__qring *r)
{
	uint32_t m = SOLO;
	/* Acq_rel: ordered after what the solo threads published before, and the store half of
	 * the Dekker with section_open(), completed by the heavy fence below. */
	if (!atomic_compare_exchange_strong_explicit(&r->mode, &m, SWITCHING,
						     DEKKER(memory_order_acq_rel),
						     DEKKER(memory_order_acquire))) {
		wait_until(is_shared, r);
		return;
	}
	ct__fence_heavy(); /* pairs with the ct__fence_light() in section_open() */
	ct__unpark_all(&r->get_key, CT__TOKEN_NORMAL);
	ct__unpark_all(&r->put_key, CT__TOKEN_NORMAL);
	wait_until(sections_closed, r);
	/* Release: pairs with the acquire in is_shared() and solo_mine(), so the threads that go
	 * on see the ring as the switch left it. */
	atomic_store_explicit(&r->mode, SHARED, memory_order_release);
}

/* Whether the calling thread may take the solo path as the producer (@p
 * owner = &r->producer) or consumer: it is the one seen so far, or the
 * first. A second one ends the solo mode. */
static inline bool solo_mine(struct ct__qring *r, struct ct__thread *_Atomic *owner)
{
	/* Acquire: pairs with share()'s release of SHARED. */
	uint32_t m = atomic_load_explicit(&r->mode, memory_order_acquire);
	if (m != SOLO) {
		/* GCOVR_EXCL_BR_START: a race no test can aim at: a call that comes while another
		 * ends the solo mode */
		if (CT__UNLIKELY(m == SWITCHING))
			/* GCOVR_EXCL_BR_STOP */
			wait_until(is_shared, r);
		return false;
	}
	struct ct__thread *self = ct__self();
	/* Relaxed: compared with this thread's own id only; no data goes with it. */
	struct ct__thread *seen = atomic_load_explicit(owner, memory_order_relaxed);
	if (CT__LIKELY(seen == self))
		return true;
	/* Relaxed: who wins is all that matters: the field carries no data. */
	/* GCOVR_EXCL_BR_START: a race no test can aim at: two threads becoming the first producer
	 * (or consumer) at once */
	if (seen == NULL && atomic_compare_exchange_strong_explicit(
				    owner, &seen, self, memory_order_relaxed, memory_order_relaxed))
		/* GCOVR_EXCL_BR_STOP */
		return true;
	share(r);
	return false;
}

/* Opens a solo section on @p busy: false (section closed) if the mode is
 * no longer SOLO. Pairs with share(): it sees our flag, or we its mode. */
static inline bool section_open(struct ct__qring *r, _Atomic uint32_t *busy)
{
	/* Relaxed: ct__fence_light() below orders it before the mode's load, the pair of
	 * share()'s CAS and heavy fence. */
	atomic_store_explicit(busy, 1, DEKKER(memory_order_relaxed));
	ct__fence_light();
	/* Relaxed: after the fence: it sees SWITCHING, or share() sees our flag. */
	if (CT__LIKELY(atomic_load_explicit(&r->mode, DEKKER(memory_order_relaxed)) == SOLO))
		return true;
	/* Release: as in section_close(). */
	atomic_store_explicit(busy, 0, memory_order_release);
	return false;
}

/* Release: share() that sees 0 sees the section's stores. */
static inline void section_close(_Atomic uint32_t *busy)
{
	atomic_store_explicit(busy, 0, memory_order_release); /* release: see above */
}

enum { NOT_SOLO = 1 };

/* One solo put of *@p item without waiting: 0, NOT_SOLO, or CT_EFULL with *at the
 * tail position that found no room. No read-modify-write: the tail is the
 * producer's alone. The section covers the claim only (the tail's store):
 * after it, the slot is a claimed one that the shared rules know how to
 * wait for. The stamp's store publishes the item; from there on only the
 * key and sleepers[] are touched. */
static int solo_try_put(struct ct__qring *r, void **item, uint64_t *at)
{
	if (!section_open(r, &r->put_busy))
		return NOT_SOLO;
	/* Relaxed: in solo mode the tail is the producer's alone. */
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (!has_room(r, t)) {
		section_close(&r->put_busy);
		*at = t;
		return CT_EFULL;
	}
	/* Relaxed: the producer's own index; others read it after section_close()'s release
	 * (share()) or the stamp's. */
	atomic_store_explicit(&r->tail, next_pos(r, t), memory_order_relaxed);
	section_close(&r->put_busy);
	struct slot *s = slot_of(r, t);
	/* Relaxed: published by the stamp's release (publish()). */
	atomic_store_explicit(&s->item, *item, memory_order_relaxed);
	publish(r, s, t);
	return 0;
}

/* One solo get without waiting: 0, NOT_SOLO, or CT_EEMPTY with *at the
 * head position whose slot is not written yet. No read-modify-write: the
 * head is the consumer's alone. */
static int solo_try_get(struct ct__qring *r, void **item, uint64_t *at)
{
	if (!section_open(r, &r->get_busy))
		return NOT_SOLO;
	/* Relaxed: in solo mode the head is the consumer's alone. */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	struct slot *s = slot_of(r, h);
	/* Acquire: pairs with the solo put's release of the stamp. */
	if (atomic_load_explicit(&s->stamp, memory_order_acquire) != h + 1) {
		section_close(&r->get_busy);
		*at = h;
		return CT_EEMPTY;
	}
	/* Relaxed: after the stamp's acquire. */
	*item = atomic_load_explicit(&s->item, memory_order_relaxed);
	/* Release: a put that sees the new head reuses the slot after our
	 * read of it. */
	atomic_store_explicit(&r->head, next_pos(r, h), DEKKER(memory_order_release));
	section_close(&r->get_busy);
	ct__fence_light(); /* pairs with counted_park() */
	wake_sleeper(&r->put_key);
	return 0;
}

/* Whether the slot of position @p pos is written, read as the load half of
 * a counted getter's Dekker pair with publish() (sequentially consistent
 * under ThreadSanitizer, which models no fences; see DEKKER). */
static bool stamp_seen(struct ct__qring *r, uint64_t pos)
{
	/* Acquire: as stamp_of(). */
	return atomic_load_explicit(&slot_of(r, pos)->stamp, DEKKER(memory_order_acquire)) >=
	       pos + 1;
}

/* What a solo waiter waits for, checked again under the bucket lock. */
static bool solo_must_wait(void *ctx)
{
	const struct ring_wait *w = ctx;
	/* Relaxed: under the bucket lock, which share() takes to wake the solo waiters after
	 * changing the mode. */
	/* GCOVR_EXCL_BR_START: a race no test can aim at: the solo mode ends between the waiter's
	 * spin and its park */
	if (atomic_load_explicit(&w->r->mode, memory_order_relaxed) != SOLO)
		/* GCOVR_EXCL_BR_STOP */
		return false;
	struct ring_spot spot = {w->r, w->pos};
	return w->getter ? !stamp_seen(w->r, w->pos) : !room_now(&spot);
}

/* What a shared getter waits for, checked again under the bucket lock:
 * its slot not written yet, and a put still to come (after a shutdown,
 * only a put claimed before it, writing there). */
static bool shared_get_must_wait(void *ctx)
{
	const struct ring_wait *w = ctx;
	if (stamp_seen(w->r, w->pos))
		return false;
	/* Relaxed: under the bucket lock, which shutdown takes to wake the getters after setting
	 * SHUT. */
	uint64_t t = atomic_load_explicit(&w->r->tail, memory_order_relaxed);
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a shutdown between the getter's look and
	 * its park */
	return !(t & SHUT) || (t & ~SHUT) != w->pos;
	/* GCOVR_EXCL_BR_STOP */
}

/* A counted waiter (every getter, the solo putter), counted in @p waiters
 * (the ring's getters or putters), sleeps on its side's key while
 * @p ops->validate says it still has to wait at @p pos. It counts itself
 * in sleepers[] first, then fences, then looks again: the other side's
 * light fence after its store makes one of the two see the other. 0 to
 * look again, CT_ETIMEDOUT or CT_ESTOPPED. */
static int counted_park(struct ct__qring *r, _Atomic uint32_t *waiters, uint64_t pos,
			int64_t deadline, const struct ct__park_ops *ops)
{
	struct ct__waiter *self = ct__waiter_self();
	bool getter = waiters == &r->getters;
	const char *key = getter ? &r->get_key : &r->put_key;
	struct sleeper_note n = {.count = sleepers_of(key)};
	struct ring_wait w = {.r = r, .pos = pos, .getter = getter};
	uintptr_t token;
	ct__note_push(self, &n.note, forget_sleeper);
	/* Relaxed: the heavy fence below orders it before the looks under the bucket lock (the
	 * pair of wake_sleeper()). */
	atomic_fetch_add_explicit(n.count, 1, DEKKER(memory_order_relaxed));
	/* Relaxed: as in mark_and_park(). */
	atomic_fetch_add_explicit(waiters, 1, memory_order_relaxed);
	ct__fence_heavy();
	/* Debugging: as in mark_and_park(). */
	CT__DEBUG_HOOK(waits_on(r->queue, getter ? CT__OBJ_QUEUE_EMPTY : CT__OBJ_QUEUE_FULL));
	int rc = ct__park(key, ops, &w, deadline, CT__PARK_INTERRUPTIBLE, &token);
	atomic_fetch_sub_explicit(waiters, 1, memory_order_relaxed); /* relaxed: as above */
	if (rc != CT__PARK_UNPARKED || token != TOKEN_UNCOUNTED)
		/* Relaxed: a hint; a stale count costs a wake-up call that finds nobody. */
		atomic_fetch_sub_explicit(n.count, 1, memory_order_relaxed);
	ct__note_pop(self, &n.note);
	return rc < 0 ? rc : 0;
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
		/* GCOVR_EXCL_BR_START: a fork that catches another thread mid-operation, which no
		 * test can aim at (the fork stress reaches it by chance): a put gone between its
		 * claim and its write */
		if (stamp_of(s) != p + 1)
			continue;
		/* GCOVR_EXCL_BR_STOP */
		/* Relaxed: repair() runs alone (see there). */
		atomic_store_explicit(&d->item,
				      atomic_load_explicit(&s->item, memory_order_relaxed),
				      memory_order_relaxed);
		atomic_store_explicit(&d->stamp, w + 1, memory_order_relaxed); /* relaxed: alone */
		w = next_pos(r, w);
	}
	/* GCOVR_EXCL_BR_START: a fork that catches another thread mid-operation, which no test can
	 * aim at (the fork stress reaches it by chance): as above */
	for (uint64_t p = w; p != t; p = next_pos(r, p))
		/* GCOVR_EXCL_BR_STOP */
		/* Relaxed: alone. */
		atomic_store_explicit(&slot_of(r, p)->stamp, 0, memory_order_relaxed);
	return w;
}

/* Makes the ring what it would be had the threads that are gone never
 * started what they had not finished. Nobody else is in the ring. */
static void repair(struct ct__qring *r)
{
	/* Relaxed here and below: nobody else is in the ring while it is REPAIRING, and
	 * after_fork() publishes the repair with the generation's release. */
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	/* Relaxed: alone. */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed) & ~PUTWAIT;
	uint64_t w = compact(r, h, t & ~SHUT);
	atomic_store_explicit(&r->tail, w | (t & SHUT), memory_order_relaxed); /* relaxed: alone */
	atomic_store_explicit(&r->head, h, memory_order_relaxed);	       /* relaxed: alone */
	atomic_store_explicit(&r->head_seen, h, memory_order_relaxed);	       /* relaxed: alone */
	/* The puts that never happened were never tasks either. Relaxed:
	 * alone, as above. */
	uint64_t done = atomic_load_explicit(&r->done, memory_order_relaxed) & ~JOINWAIT;
	uint64_t put = count_before(r, w);
	/* Relaxed: alone. */
	atomic_store_explicit(&r->done, done < put ? done : put, memory_order_relaxed);
	atomic_store_explicit(&r->getters, 0, memory_order_relaxed); /* relaxed: alone */
	atomic_store_explicit(&r->putters, 0, memory_order_relaxed); /* relaxed: alone */
	atomic_store_explicit(&r->joiners, 0, memory_order_relaxed); /* relaxed: alone */
	/* The solo threads may be gone, inside a section or a switch: the
	 * first put and get choose again; a switch half done is done.
	 * Relaxed: alone, as above. */
	atomic_store_explicit(&r->producer, NULL, memory_order_relaxed);
	atomic_store_explicit(&r->consumer, NULL, memory_order_relaxed); /* relaxed: alone */
	atomic_store_explicit(&r->put_busy, 0, memory_order_relaxed);	 /* relaxed: alone */
	atomic_store_explicit(&r->get_busy, 0, memory_order_relaxed);	 /* relaxed: alone */
	/* GCOVR_EXCL_BR_START: a fork that catches another thread mid-operation, which no test can
	 * aim at (the fork stress reaches it by chance): a switch to the shared mode under way */
	if (atomic_load_explicit(&r->mode, memory_order_relaxed) == SWITCHING) /* relaxed: alone */
		/* GCOVR_EXCL_BR_STOP */
		atomic_store_explicit(&r->mode, SHARED, memory_order_relaxed); /* relaxed: alone */
}

/* The first call in a new fork generation repairs the ring; the others
 * wait for it. Inside the gate, so that a fork in the child never catches
 * a repair half done. */
static CT__NOINLINE CT__COLD void after_fork(struct ct__qring *r)
{
	uint32_t now = ct__fork_generation();
	unsigned tries = 0;
	ct__gate_enter();
	/* Acquire: pairs with the release of a repaired generation below, so the repair is seen. */
	uint32_t g = atomic_load_explicit(&r->gen, memory_order_acquire);
	/* GCOVR_EXCL_BR_START: a race no test can aim at: two threads of a fork child calling into
	 * the ring at once, one finding the repair under way, done, or the CAS lost */
	while (g != now) {
		if (g != REPAIRING) {
			/* Acquire both ways: a failure may read the repaired generation and
			 * leave on it. */
			if (atomic_compare_exchange_weak_explicit(&r->gen, &g, REPAIRING,
								  memory_order_acquire,
								  memory_order_acquire)) {
				repair(r);
				/* Release: publishes the repair to the acquire loads of the
				 * generation. */
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
		/* Acquire: as above. */
		g = atomic_load_explicit(&r->gen, memory_order_acquire);
		/* GCOVR_EXCL_BR_STOP */
	}
	ct__gate_exit();
}

/* At the top of every call: is the ring valid in this process? Acquire,
 * for a call that comes after another thread's repair. */
static inline void check_fork(const struct ct__qring *r)
{
	/* Acquire: as said above the function. */
	if (CT__UNLIKELY(atomic_load_explicit(&((struct ct__qring *)r)->gen,
					      memory_order_acquire) != ct__fork_generation()))
		after_fork((struct ct__qring *)r);
}

static int shared_put(struct ct__qring *r, void *item, int64_t deadline)
{
	bool spun = false, parked = false;
	int rc, waited = 0;
	uint64_t t;
	while ((rc = try_put(r, item, parked, &t)) == CT_EFULL) {
		if (waited == CT_ESTOPPED || ct__expired(deadline)) {
			rc = waited == CT_ESTOPPED ? CT_ESTOPPED : CT_EFULL;
			break;
		}
		if (!spun) {
			spun = true;
			ct__spin_until(room_now, &(struct ring_spot){r, t});
			continue;
		}
		/* Acquire: as in has_room(). */
		uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
		if (room_between(r, t, h))
			continue;
		waited = mark_and_park(r, h, deadline);
		parked = true;
	}
	if (parked && rc != 0) /* a put that went in passed on in try_put() */
		pass_on_putters(r);
	return rc;
}

static int shared_get(struct ct__qring *r, void **item, int64_t deadline)
{
	bool spun = false, parked = false;
	int rc, waited = 0;
	uint64_t h;
	while ((rc = try_get(r, item, &h)) == CT_EEMPTY) {
		/* Acquire: pairs with shutdown's RMW, so a getter that returns CT_ESHUTDOWN is
		 * ordered after it. */
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
		/* GCOVR_EXCL_BR_START: a race no test can aim at: shut down while a put claimed
		 * before the shutdown is still writing its slot */
		if ((t & SHUT) && (t & ~SHUT) == h) {
			/* GCOVR_EXCL_BR_STOP */
			rc = CT_ESHUTDOWN;
			break;
		}
		if (waited == CT_ESTOPPED || ct__expired(deadline)) {
			rc = waited == CT_ESTOPPED ? CT_ESTOPPED : CT_EEMPTY;
			break;
		}
		if (!spun) {
			spun = true;
			ct__spin_until(written_now, &(struct ring_spot){r, h});
			continue;
		}
		static const struct ct__park_ops ops = {.validate = shared_get_must_wait};
		waited = counted_park(r, &r->getters, h, deadline, &ops);
		parked = true;
	}
	if (parked)
		pass_on_getters(r);
	return rc;
}

/* A solo put or get: @p try_once (solo_try_put() or solo_try_get()) until
 * it stops saying @p wait_rc (CT_EFULL or CT_EEMPTY); the first time it
 * says so, spin watching @p ready, then sleep on @p waiters. As the shared
 * loops, but a solo call never finds the ring shut down (a shutdown ends
 * the solo mode first). NOT_SOLO: go on by the shared rules. */
static inline int solo_call(struct ct__qring *r,
			    int (*try_once)(struct ct__qring *, void **, uint64_t *), void **item,
			    int wait_rc, bool (*ready)(const void *), _Atomic uint32_t *waiters,
			    int64_t deadline)
{
	bool spun = false;
	int rc, waited = 0;
	uint64_t at;
	while ((rc = try_once(r, item, &at)) == wait_rc) {
		if (waited == CT_ESTOPPED || ct__expired(deadline))
			return waited == CT_ESTOPPED ? CT_ESTOPPED : wait_rc;
		if (!spun) {
			spun = true;
			ct__spin_until(ready, &(struct ring_spot){r, at});
			continue;
		}
		static const struct ct__park_ops solo_ops = {.validate = solo_must_wait};
		waited = counted_park(r, waiters, at, deadline, &solo_ops);
	}
	return rc;
}

static int ring_put(ct_queue_t *q, void *item, int64_t deadline)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	if (solo_mine(r, &r->producer)) {
		int rc = solo_call(r, solo_try_put, &item, CT_EFULL, room_for_batch, &r->putters,
				   deadline);
		if (rc != NOT_SOLO)
			return rc;
		wait_until(is_shared, r); /* see share() */
	}
	return shared_put(r, item, deadline);
}

static int ring_get(ct_queue_t *q, void **item, int64_t deadline)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	if (solo_mine(r, &r->consumer)) {
		int rc = solo_call(r, solo_try_get, item, CT_EEMPTY, written_now, &r->getters,
				   deadline);
		if (rc != NOT_SOLO)
			return rc;
		wait_until(is_shared, r); /* see share() */
	}
	return shared_get(r, item, deadline);
}

static size_t ring_qsize(const ct_queue_t *q)
{
	const struct ct__qring *r = q->ct__ring;
	check_fork(r);
	/* Head first: the tail read after it is at least as far along.
	 * Acquire: pairs with the release of the get that moved the head,
	 * which came after the put of its item had claimed the tail. */
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	/* Acquire (more than needed): the head's acquire above is what orders it. */
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	return (size_t)(count_before(r, t) - count_before(r, h));
}

static bool ring_is_shut(const ct_queue_t *q)
{
	/* Relaxed: a snapshot that orders nothing. */
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
		 * only makes "last" true too early: a spurious wake-up.
		 * Acquire: see above. */
		uint64_t put =
			count_before(r, atomic_load_explicit(&r->tail, memory_order_acquire));
		uint64_t finished = d & ~JOINWAIT;
		if (finished >= put)
			return CT_ETASKDONE;
		uint64_t now = finished + n < put ? finished + n : put;
		bool last = now == put;
		/* Acq_rel: the release half carries the task's work to the joiners' acquire of
		 * done; the acquire half (and the failure's) as said above. */
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
	       /* Acquire: as in add_done(). */
	       count_before(r, atomic_load_explicit(&r->tail, memory_order_acquire));
}

static bool join_must_wait(void *ctx)
{
	struct ct__qring *r = ctx;
	/* Relaxed: under the bucket lock, which add_done() takes to wake after clearing
	 * JOINWAIT. */
	uint64_t d = atomic_load_explicit(&r->done, memory_order_relaxed);
	/* GCOVR_EXCL_BR_START: a race no test can aim at: the tasks finish between the joiner's
	 * mark and its park */
	return (d & JOINWAIT) && tasks_unfinished(r, d);
	/* GCOVR_EXCL_BR_STOP */
}

static int ring_join(ct_queue_t *q, int64_t deadline)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	static const struct ct__park_ops ops = {.validate = join_must_wait};
	int waited = 0;
	for (;;) {
		/* Acquire: pairs with add_done()'s release, so a join returns seeing the tasks'
		 * work. */
		uint64_t d = atomic_load_explicit(&r->done, memory_order_acquire);
		if (!tasks_unfinished(r, d))
			return 0;
		if (waited == CT_ESTOPPED || ct__expired(deadline))
			return waited == CT_ESTOPPED ? CT_ESTOPPED : CT_ETIMEDOUT;
		if (!(d & JOINWAIT) &&
		    !atomic_compare_exchange_weak_explicit(
			    /* Acq_rel: as in mark_and_park(). */
			    &r->done, &d, d | JOINWAIT, memory_order_acq_rel, memory_order_relaxed))
			continue;
		uintptr_t token;
		/* Relaxed: as the waiter counts of mark_and_park(). */
		atomic_fetch_add_explicit(&r->joiners, 1, memory_order_relaxed);
		/* Debugging: as in mark_and_park(). */
		CT__DEBUG_HOOK(waits_on(r->queue, CT__OBJ_QUEUE));
		/* Waiting for whole tasks is long by nature: do not spin. */
		int rc = ct__park(&r->joiners, &ops, r, deadline,
				  CT__PARK_INTERRUPTIBLE | CT__PARK_NO_SPIN, &token);
		/* Relaxed: as above. */
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
		/* Acquire: pairs with shutdown's RMW, as in get_wait(). */
		/* GCOVR_EXCL_BR_START: a race no test can aim at: the drain finds a put claimed
		 * before the shutdown still writing its slot */
		if ((atomic_load_explicit(&r->tail, memory_order_acquire) & ~SHUT) == h)
			return n;
		if (++spins < 1000)
			ct__cpu_relax();
		else
			sched_yield();
		/* GCOVR_EXCL_BR_STOP */
	}
}

static void ring_shutdown(ct_queue_t *q, bool immediate)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	/* The solo producer stores the tail without a read-modify-write, which
	 * would lose the SHUT bit: end the solo mode first. */
	share(r);
	/* Acq_rel: release so that a getter that sees SHUT sees what came before; acquire so
	 * that the drain below sees the puts claimed before it. */
	atomic_fetch_or_explicit(&r->tail, SHUT, memory_order_acq_rel);
	/* Drop first, wake after: a join that returns because of the drop
	 * finds the items freed. */
	if (immediate)
		add_done(r, drain(r, q->ct__free_item));
	ct__unpark_all(&r->get_key, CT__TOKEN_NORMAL);
	ct__unpark_all(&r->putters, CT__TOKEN_NORMAL);
}

static int ring_destroy(ct_queue_t *q)
{
	struct ct__qring *r = q->ct__ring;
	check_fork(r);
	if (atomic_load(&r->getters) || atomic_load(&r->putters) || atomic_load(&r->joiners))
		return CT_EBUSY;
	/* Relaxed: nobody else uses the ring (checked above); it is the caller's alone. */
	atomic_fetch_or_explicit(&r->tail, SHUT, memory_order_relaxed);
	drain(r, q->ct__free_item);
	ct__free(r);
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
