/* SimpleQueue: a lock-free put, a blocking get.
 *
 * Items live in a list of segments of CT__SQ_SEGMENT slots. A position
 * counts slots across segments, in laps of LAP = CT__SQ_SEGMENT + 1: the
 * offset p % LAP names a slot, except the last offset of a lap, which says
 * "the next segment is being linked".
 *
 * Put claims the slot at the tail position with a compare-and-swap of
 * ct__tail, then writes it. Whoever claims the last slot of a segment links
 * the next one (allocated, or taken from the spare, before the claim, so a
 * failed allocation claims nothing), then moves ct__tail_seg and ct__tail
 * past the linking offset. A put that sees the linking offset spins until
 * that is done: a few stores, the only moment one put waits for another.
 *
 * A put touches a segment only after claiming a slot in it, and a getter
 * retires a segment only after reading all its slots, so a segment is
 * never freed (or recycled) under a put, without hazard pointers.
 *
 * Getters take turns through ct__get_lock. The one holding it waits for
 * the slot at the head position to be written: it spins first, then sets
 * the slot's WAITER bit and parks on the slot. A put sets WRITTEN with one
 * fetch-or and wakes the slot only if WAITER was set: a put wakes exactly
 * the getter waiting for its item, and only when one waits.
 *
 * Slot state:
 *
 *   0                 empty, nobody waits
 *   WAITER            empty, the getter parked (or about to) on it
 *   WRITTEN           the item is there
 *   WRITTEN|WAITER    the item is there; its put woke the getter
 *
 * fork(). In a fork child, a put that is gone may have claimed a slot and
 * never written it (the getters would wait there forever), or claimed the
 * last slot of a segment and not linked the next (the puts would wait for
 * the link forever); a getter that is gone may have held the get lock
 * while it waited, or have stopped between its two stores at a segment's
 * end. So the two positions carry the fork generation (fork.h) in their
 * top bits: a put finds it in the tail it reads anyway, a get in the head
 * it reads before taking the lock, and the first call in a new generation
 * repairs the queue (after_fork()) while the others wait: no lock or fence
 * is added to either fast path, only one relaxed load of a global.
 *
 * Destroy. A destroyed queue left in the caller's memory must refuse every
 * call (CT_EINVAL), as a destroyed Queue does, not start a new list that
 * nobody would free. Destroy sets DEAD in both positions: a put and a get
 * already compare the top bits of the position they read with the
 * generation, so they land in the fork check's slow path, which says
 * CT_EINVAL; the fast paths pay nothing for it.
 */
#include <sched.h>

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "cthreading/queue.h"
#include "park/fork.h"
#include "park/park.h"
#include "queue/queue_internal.h"
#include "sync/lock_internal.h"

#define SEG CT__SQ_SEGMENT
#define LAP ((uint64_t)SEG + 1)

/* ct__tail and ct__head: a position in the low bits, the fork generation
 * it is valid in above, the mark of a destroyed queue, and in the head the
 * mark of a repair under way. */
#define POS_BITS 48
#define POS_MASK ((UINT64_C(1) << POS_BITS) - 1)
#define REPAIR (UINT64_C(1) << 63)
#define DEAD (UINT64_C(1) << 62)
#define GEN_MASK (~POS_MASK & ~REPAIR & ~DEAD)

enum { WRITTEN = 1u, WAITER = 2u };

struct ct__sq_slot {
	void *item;
	_Atomic uint32_t state;
};

struct ct__sq_segment {
	struct ct__sq_segment *_Atomic next;
	uint64_t base; /* the position of slots[0], set before it is linked */
	struct ct__sq_slot slots[SEG];
};

static uint64_t pos(uint64_t p)
{
	return p & POS_MASK;
}

/* The generation bits of this process. */
static uint64_t gen_now(void)
{
	return ((uint64_t)ct__fork_generation() << POS_BITS) & GEN_MASK;
}

/* How many items the positions before @p p hold. */
static uint64_t items_before(uint64_t p)
{
	uint64_t off = pos(p) % LAP;
	return pos(p) / LAP * SEG + (off < SEG ? off : SEG);
}

static void after_fork(ct_simplequeue_t *q);

/* The slow path of check_fork(), which read @p seen in one position:
 * CT_EINVAL if the queue is destroyed, else repairs it after a fork. */
static int destroyed_or_forked(ct_simplequeue_t *q, uint64_t seen)
{
	if (seen & DEAD)
		return CT_EINVAL;
	after_fork(q);
	return 0;
}

/* Whether the queue is valid in this process: repairs it if not, and says
 * CT_EINVAL if it was destroyed. Every call looks at the head (or, for a
 * put, the tail) first. Acquire: a call after another thread's repair sees
 * it whole. */
static inline int check_fork(ct_simplequeue_t *q, _Atomic uint64_t *word)
{
	uint64_t seen = atomic_load_explicit(word, memory_order_acquire); /* acquire: see above */
	if (CT__UNLIKELY((seen & ~POS_MASK) != gen_now()))
		return destroyed_or_forked(q, seen);
	return 0;
}

void ct_simplequeue_init(ct_simplequeue_t *q)
{
	if (CT__UNLIKELY(!q))
		return;
	*q = (ct_simplequeue_t)CT_SIMPLEQUEUE_INIT;
	/* Relaxed: not shared yet (an initialisation). */
	atomic_store_explicit(&q->ct__tail, gen_now(), memory_order_relaxed);
	/* Relaxed: as above. */
	atomic_store_explicit(&q->ct__head, gen_now(), memory_order_relaxed);
}

int ct_simplequeue_destroy(ct_simplequeue_t *q)
{
	if (!q)
		return CT_EINVAL;
	CT__DEBUG_DESTROYED(q);
	if (check_fork(q, &q->ct__head) < 0)
		return 0; /* destroyed already: nothing to do */
	if (ct_lock_locked(&q->ct__get_lock))
		return CT_EBUSY;
	struct ct__sq_segment *s = atomic_load(&q->ct__head_seg);
	while (s) {
		struct ct__sq_segment *next = atomic_load(&s->next);
		ct__free(s);
		s = next;
	}
	ct__free(atomic_load(&q->ct__spare));
	ct_simplequeue_init(q);
	/* Relaxed: destroy is not concurrent with other calls on the queue; whatever orders a
	 * later call after it orders these stores too. */
	atomic_store_explicit(&q->ct__tail, gen_now() | DEAD, memory_order_relaxed);
	/* Relaxed: as above. */
	atomic_store_explicit(&q->ct__head, gen_now() | DEAD, memory_order_relaxed);
	return 0;
}

/* A clean segment: the spare if there is one, else a new one (NULL when
 * out of memory). */
static struct ct__sq_segment *new_segment(ct_simplequeue_t *q)
{
	/* Acquire: pairs with recycle()'s release, so the spare's cleared slots are seen. */
	struct ct__sq_segment *s =
		atomic_exchange_explicit(&q->ct__spare, NULL, memory_order_acquire);
	return s ? s : ct__calloc(1, sizeof *s);
}

/* Keeps @p s (unlinked, nobody uses it) as the spare, or frees it. */
static void recycle(ct_simplequeue_t *q, struct ct__sq_segment *s)
{
	/* Relaxed: the segment is nobody's; the exchange's release below publishes it. */
	atomic_store_explicit(&s->next, NULL, memory_order_relaxed);
	for (unsigned i = 0; i < SEG; i++)
		/* Relaxed: as above. */
		atomic_store_explicit(&s->slots[i].state, 0, memory_order_relaxed);
	/* Acq_rel: release publishes the cleared segment to new_segment(); acquire orders the
	 * free of the old spare after its recycle(). */
	ct__free(atomic_exchange_explicit(&q->ct__spare, s, memory_order_acq_rel));
}

/* The first put of a queue: publishes its first segment, head side first
 * so that a getter never sees a tail segment without a head one. */
static int install_first(ct_simplequeue_t *q)
{
	/* Acquire: pairs with the CAS's release below, so the segment is seen initialised. */
	struct ct__sq_segment *s = atomic_load_explicit(&q->ct__head_seg, memory_order_acquire);
	/* GCOVR_EXCL_BR_START: a head segment there already: another first put installed it
	 * between our look at the tail and this one, a race no test can aim at */
	if (!s) {
		/* GCOVR_EXCL_BR_STOP */
		struct ct__sq_segment *fresh = new_segment(q);
		if (!fresh)
			return CT_ENOMEM;
		fresh->base = 0;
		/* Acq_rel: release publishes the fresh segment to the getters' acquire of
		 * ct__head_seg; acquire on failure too: the winner's segment is used below. */
		/* GCOVR_EXCL_BR_START: two first puts racing to install the first segment: a race
		 * no test can aim at */
		if (atomic_compare_exchange_strong_explicit(&q->ct__head_seg, &s, fresh,
							    memory_order_acq_rel,
							    memory_order_acquire)) {
			/* GCOVR_EXCL_BR_STOP */
			s = fresh;
			/* A getter may be parked waiting for this. */
			ct__unpark_all(&q->ct__head_seg, CT__TOKEN_NORMAL);
		} else {
			recycle(q, fresh);
		}
	}
	struct ct__sq_segment *none = NULL;
	/* Release: publishes the segment to the putters' acquire of ct__tail_seg; a failure
	 * means another put installed it, and reads nothing. */
	atomic_compare_exchange_strong_explicit(&q->ct__tail_seg, &none, s, memory_order_release,
						memory_order_relaxed);
	return 0;
}

static void publish(struct ct__sq_slot *slot, void *item)
{
	slot->item = item;
	/* Acq_rel: release publishes the item to the getter's acquire of the state; the acquire
	 * half is more than needed (nothing the getter wrote is read after it). */
	uint32_t old = atomic_fetch_or_explicit(&slot->state, WRITTEN, memory_order_acq_rel);
	/* From here the getter may take the item and retire the segment: the
	 * wake uses the slot's address as a key only. */
	if (old & WAITER)
		ct__park_wake(&slot->state, 1);
}

/* Another put is linking the next segment: a few stores away. Yield only
 * if it seems to have been preempted in between. */
static void wait_for_link(unsigned *spins)
{
	/* GCOVR_EXCL_BR_START: a race no test can aim at: the linking put (or the repair) preempted
	 * for a thousand spins */
	if (++*spins < 1000)
		ct__cpu_relax();
	else
		sched_yield();
	/* GCOVR_EXCL_BR_STOP */
}

int ct_simplequeue_put(ct_simplequeue_t *q, void *item)
{
	if (!q)
		return CT_EINVAL;
	struct ct__sq_segment *fresh = NULL; /* for the next segment, if we link it */
	unsigned spins = 0;
	for (;;) {
		/* Acquire: pairs with the linker's release store of the tail (the claims after
		 * it are RMWs of its release sequence), so ct__tail_seg read below is p's
		 * segment; and with a repair's release. */
		uint64_t p = atomic_load_explicit(&q->ct__tail, memory_order_acquire);
		if (CT__UNLIKELY((p & ~POS_MASK) != gen_now())) {
			if (destroyed_or_forked(q, p) < 0) {
				ct__free(fresh);
				return CT_EINVAL;
			}
			continue;
		}
		uint64_t off = pos(p) % LAP;
		/* GCOVR_EXCL_BR_START: a race no test can aim at: a put that comes while another
		 * links the next segment */
		if (off == SEG) {
			/* GCOVR_EXCL_BR_STOP */
			wait_for_link(&spins);
			continue;
		}
		/* Loaded after p, this is p's segment if the claim below
		 * succeeds: the tail segment changes only while the tail
		 * position sits on a linking offset. Acquire: pairs with the
		 * linker's release, so the segment is seen initialised. */
		struct ct__sq_segment *s =
			atomic_load_explicit(&q->ct__tail_seg, memory_order_acquire);
		if (!s) {
			int rc = install_first(q);
			if (rc < 0)
				return rc;
			continue;
		}
		if (off + 1 == SEG && !fresh && !(fresh = new_segment(q)))
			return CT_ENOMEM;
		/* Acq_rel (the acquire loads above already order what the put reads; the release
		 * keeps the linker's release sequence going, which any RMW would). */
		if (!atomic_compare_exchange_weak_explicit(
			    &q->ct__tail, &p, p + 1, memory_order_acq_rel, memory_order_relaxed))
			continue;
		if (off + 1 == SEG) {
			fresh->base = pos(p) + 2;
			/* Release: pairs with the getter's acquire of next (take()), so it sees
			 * the new segment's cleared slots. */
			atomic_store_explicit(&s->next, fresh, memory_order_release);
			/* Release: pairs with the putters' acquire of ct__tail_seg. */
			atomic_store_explicit(&q->ct__tail_seg, fresh, memory_order_release);
			/* Release: pairs with the putters' acquire of the tail, so whoever sees
			 * p + 2 sees the new ct__tail_seg. */
			atomic_store_explicit(&q->ct__tail, p + 2, memory_order_release);
			fresh = NULL;
		}
		publish(&s->slots[off], item);
		if (fresh)
			recycle(q, fresh);
		/* debugging: the depth, without a lock or an allocation */
		CT__DEBUG_RECORD_HOOK(
			depth_reentrant(q, CT__OBJ_SIMPLEQUEUE, ct_simplequeue_qsize(q)));
		return 0;
	}
}

int ct_simplequeue_put_nowait(ct_simplequeue_t *q, void *item)
{
	return ct_simplequeue_put(q, item);
}

static bool no_segment_yet(void *ctx)
{
	ct_simplequeue_t *q = ctx;
	/* Relaxed: under the bucket lock, which install_first() takes to wake the getters after
	 * installing the segment. */
	return atomic_load_explicit(&q->ct__head_seg, memory_order_relaxed) == NULL;
}

/* The head segment, waiting for the first put if there was none yet. */
static int head_segment(ct_simplequeue_t *q, int64_t deadline, struct ct__sq_segment **out)
{
	static const struct ct__park_ops ops = {.validate = no_segment_yet};
	for (;;) {
		/* Acquire: pairs with install_first()'s release; a retired segment's successor
		 * is stored under the get lock, which orders it too. */
		*out = atomic_load_explicit(&q->ct__head_seg, memory_order_acquire);
		if (*out)
			return 0;
		if (ct__expired(deadline))
			return CT_ETIMEDOUT;
		uintptr_t token;
		CT__DEBUG_HOOK(waits_on(q, CT__OBJ_SIMPLEQUEUE));
		int rc = ct__park(&q->ct__head_seg, &ops, q, deadline, CT__PARK_INTERRUPTIBLE,
				  &token);
		/* Acquire: as above. */
		/* GCOVR_EXCL_BR_START: a race no test can aim at: the first put lands as the wait
		 * times out or is stopped */
		if (rc < 0 && !atomic_load_explicit(&q->ct__head_seg, memory_order_acquire))
			/* GCOVR_EXCL_BR_STOP */
			return rc;
	}
}

static bool slot_written(const void *ctx)
{
	const struct ct__sq_slot *slot = ctx;
	/* Acquire: pairs with publish()'s release, so the item is seen. */
	return atomic_load_explicit(&slot->state, memory_order_acquire) & WRITTEN;
}

/* Waits until @p slot is written: spins, then parks on it. */
static int wait_written(struct ct__sq_slot *slot, int64_t deadline)
{
	if (deadline != 0)
		ct__spin_until(slot_written, slot);
	/* Acquire: as slot_written(). */
	uint32_t s = atomic_load_explicit(&slot->state, memory_order_acquire);
	for (;;) {
		if (s & WRITTEN)
			return 0;
		if (ct__expired(deadline))
			return CT_ETIMEDOUT;
		/* Acquire both ways: a failure may read WRITTEN and return on it (the success's
		 * acquire is more than needed). */
		/* GCOVR_EXCL_BR_START: a race no test can aim at: the put writes the slot between
		 * the load and the CAS */
		if (!(s & WAITER) && !atomic_compare_exchange_weak_explicit(
					     &slot->state, &s, s | WAITER, memory_order_acquire,
					     memory_order_acquire))
			continue;
		/* GCOVR_EXCL_BR_STOP */
		int rc = ct__park_wait(&slot->state, WAITER, deadline, CT__PARK_INTERRUPTIBLE);
		/* Acquire: as slot_written(). */
		s = atomic_load_explicit(&slot->state, memory_order_acquire);
		/* GCOVR_EXCL_BR_START: a race no test can aim at: the put lands as the wait times
		 * out or is stopped */
		if (rc < 0 && !(s & WRITTEN))
			/* GCOVR_EXCL_BR_STOP */
			return rc;
	}
}

/* Under the get lock: takes the item at the head position. */
static int take(ct_simplequeue_t *q, void **item, int64_t deadline)
{
	struct ct__sq_segment *s;
	int rc = head_segment(q, deadline, &s);
	if (rc < 0)
		return rc;
	/* Relaxed: the head is written only under the get lock, which we hold. */
	uint64_t h = atomic_load_explicit(&q->ct__head, memory_order_relaxed);
	uint64_t off = pos(h) % LAP;
	rc = wait_written(&s->slots[off], deadline);
	if (rc < 0)
		return rc;
	*item = s->slots[off].item;
	if (off + 1 < SEG) {
		/* Release: pairs with qsize()'s acquire of the head, so the put
		 * of this item, whose claim of the tail came before the state
		 * we acquired, is seen there too: it never finds the head past
		 * the tail. (Under the get lock, relaxed would do for getters.) */
		atomic_store_explicit(&q->ct__head, h + 1, memory_order_release);
		return 0;
	}
	/* The last slot: its put linked the next segment before writing it. */
	/* Acquire: pairs with the linker's release of next (put()), so the
	 * new segment is seen cleared; the store is relaxed, under the get
	 * lock, which orders it for the next getter. */
	atomic_store_explicit(&q->ct__head_seg,
			      atomic_load_explicit(&s->next, memory_order_acquire),
			      memory_order_relaxed);
	/* Release: as above, for qsize(). */
	atomic_store_explicit(&q->ct__head, h + 2, memory_order_release);
	recycle(q, s);
	return 0;
}

int ct_simplequeue_get(ct_simplequeue_t *q, void **item, double timeout)
{
	int64_t deadline;
	int rc = ct__queue_get_args(q, item, timeout, &deadline);
	if (rc < 0)
		return rc;
	if (check_fork(q, &q->ct__head) < 0)
		return CT_EINVAL;
	bool alone = ct__lock_try_acquire_nonnull(&q->ct__get_lock);
	if (!alone) {
		/* Another getter is inside: taking an item, or waiting for one
		 * (then the queue is empty). Either way, queue behind it. */
		rc = ct__lock_acquire_until(&q->ct__get_lock, deadline, CT__PARK_INTERRUPTIBLE);
		if (rc < 0)
			return rc == CT_ETIMEDOUT ? CT_EEMPTY : rc;
	}
	rc = take(q, item, deadline);
	ct_lock_release(&q->ct__get_lock);
	if (rc == 0) /* debugging: the depth */
		CT__DEBUG_RECORD_HOOK(depth(q, CT__OBJ_SIMPLEQUEUE, ct_simplequeue_qsize(q)));
	return rc == CT_ETIMEDOUT ? CT_EEMPTY : rc;
}

int ct_simplequeue_get_nowait(ct_simplequeue_t *q, void **item)
{
	return ct_simplequeue_get(q, item, 0);
}

size_t ct_simplequeue_qsize(const ct_simplequeue_t *q)
{
	if (CT__UNLIKELY(!q))
		return 0;
	if (check_fork((ct_simplequeue_t *)q, &((ct_simplequeue_t *)q)->ct__head) < 0)
		return 0;
	/* Head first: the tail read after it is at least as far along. Acquire:
	 * pairs with the getter's release of the head (take()), which came after
	 * it acquired the put's state, itself after the put's claim of the tail;
	 * so the tail read next is at least as far as every item got. */
	uint64_t h = atomic_load_explicit(&q->ct__head, memory_order_acquire);
	/* Acquire (more than needed: the head's acquire above orders it). */
	uint64_t t = atomic_load_explicit(&q->ct__tail, memory_order_acquire);
	return (size_t)(items_before(t) - items_before(h));
}

bool ct_simplequeue_empty(const ct_simplequeue_t *q)
{
	return ct_simplequeue_qsize(q) == 0;
}

/* ---- fork ---------------------------------------------------------------- */

/* Moves a cursor (a position and its segment) to the next slot; at a
 * segment's end, past the linking offset to the next segment, NULL if it
 * was never linked. */
static void advance(struct ct__sq_segment **seg, uint64_t *p)
{
	if (*p % LAP + 1 < SEG) {
		*p += 1;
		return;
	}
	*p += 2;
	/* Relaxed: only repair() walks the segments this way, alone (see there). */
	*seg = atomic_load_explicit(&(*seg)->next, memory_order_relaxed);
}

static void free_chain(struct ct__sq_segment *s)
{
	/* GCOVR_EXCL_BR_START: a fork that catches another thread mid-operation, which no test can
	 * aim at (the fork stress reaches it by chance): a put gone after it linked the next
	 * segment and before it wrote its slot, the last of its segment */
	while (s) {
		/* GCOVR_EXCL_BR_STOP */
		/* Relaxed: the queue's alone (destroy, or repair()). */
		struct ct__sq_segment *next = atomic_load_explicit(&s->next, memory_order_relaxed);
		ct__free(s);
		s = next;
	}
}

/* Moves the items written from position @p h (in @p hs) up to @p t down
 * over the slots that puts gone with a fork claimed and never wrote,
 * keeping their order. Leaves *w at the new tail and *ws its segment,
 * with nothing written after it, and frees the segments beyond. */
static void compact(struct ct__sq_segment *hs, uint64_t h, uint64_t t, uint64_t *w,
		    struct ct__sq_segment **ws)
{
	struct ct__sq_segment *rs = hs;
	*w = h;
	*ws = hs;
	/* GCOVR_EXCL_BR_START: rs is never NULL below the tail: a put moves the tail past a
	 * segment's end only after linking the next one */
	for (uint64_t p = h; p < t && rs; advance(&rs, &p)) {
		/* GCOVR_EXCL_BR_STOP */
		struct ct__sq_slot *src = &rs->slots[p % LAP];
		/* Relaxed: repair() runs alone, and after_fork()'s generation publishes its
		 * work. */
		/* GCOVR_EXCL_BR_START: a fork that catches another thread mid-operation, which no
		 * test can aim at (the fork stress reaches it by chance): a put gone between its
		 * claim and its write */
		if (!(atomic_load_explicit(&src->state, memory_order_relaxed) & WRITTEN))
			continue;
		/* GCOVR_EXCL_BR_STOP */
		struct ct__sq_slot *dst = &(*ws)->slots[*w % LAP];
		dst->item = src->item;
		/* Relaxed: alone. */
		atomic_store_explicit(&dst->state, WRITTEN, memory_order_relaxed);
		/* Past a written last slot, its put had linked the next one. */
		advance(ws, w);
	}
	for (uint64_t off = *w % LAP; off < SEG; off++)
		/* Relaxed: alone. */
		atomic_store_explicit(&(*ws)->slots[off].state, 0, memory_order_relaxed);
	free_chain(atomic_load_explicit(&(*ws)->next, memory_order_relaxed)); /* relaxed: alone */
	atomic_store_explicit(&(*ws)->next, NULL, memory_order_relaxed);      /* relaxed: alone */
}

/* Makes the queue what it would be had the threads gone with a fork never
 * started what they had not finished. Nobody else is in the queue: every
 * call looks at the generation first, and this sets it last. */
static void repair(ct_simplequeue_t *q, uint64_t gen, uint64_t h)
{
	/* A getter that is gone held it while it waited for a slot. */
	ct_lock_init(&q->ct__get_lock);
	/* Relaxed: alone; the release stores of the tail and head below publish the repair. */
	struct ct__sq_segment *hs = atomic_load_explicit(&q->ct__head_seg, memory_order_relaxed);
	/* Relaxed: alone. */
	uint64_t t = pos(atomic_load_explicit(&q->ct__tail, memory_order_relaxed));
	if (hs) {
		/* A getter gone between moving to the next segment and moving
		 * the head there: the last slot's item was its. */
		/* GCOVR_EXCL_BR_START: a fork that catches another thread mid-operation, which no
		 * test can aim at (the fork stress reaches it by chance): a getter gone between
		 * moving to the next segment and moving the head */
		if (h % LAP == SEG - 1 && hs->base == h + 2)
			/* GCOVR_EXCL_BR_STOP */
			h += 2;
		struct ct__sq_segment *ws;
		compact(hs, h, t, &t, &ws);
		/* Relaxed: published by the release stores below. */
		atomic_store_explicit(&q->ct__tail_seg, ws, memory_order_relaxed);
	}
	/* Release: pairs with check_fork()'s and put()'s acquire of the tail, so the repair is
	 * seen whole. */
	atomic_store_explicit(&q->ct__tail, gen | t, memory_order_release);
	/* Release: as above, for the head and the getters. */
	atomic_store_explicit(&q->ct__head, gen | h, memory_order_release);
}

/* The first call in a new fork generation repairs the queue; the others
 * wait for it. Inside the gate, so that a fork in the child never catches
 * a repair half done. */
static CT__NOINLINE CT__COLD void after_fork(ct_simplequeue_t *q)
{
	uint64_t gen = gen_now();
	unsigned tries = 0;
	ct__gate_enter();
	/* Acquire: pairs with repair()'s release of the head. */
	uint64_t h = atomic_load_explicit(&q->ct__head, memory_order_acquire);
	/* GCOVR_EXCL_BR_START: a race no test can aim at: two threads of a fork child calling into
	 * the queue at once, one finding the repair under way, done, or the CAS lost */
	while ((h & ~POS_MASK) != gen) {
		if (!(h & REPAIR)) {
			/* Acquire both ways: a failure may read the repaired head and leave on
			 * it. */
			if (atomic_compare_exchange_weak_explicit(&q->ct__head, &h, h | REPAIR,
								  memory_order_acquire,
								  memory_order_acquire)) {
				repair(q, gen, pos(h));
				break;
			}
			continue;
		}
		ct__gate_exit(); /* another thread repairs: a few microseconds */
		wait_for_link(&tries);
		ct__gate_enter();
		/* Acquire: as above. */
		h = atomic_load_explicit(&q->ct__head, memory_order_acquire);
		/* GCOVR_EXCL_BR_STOP */
	}
	ct__gate_exit();
}
