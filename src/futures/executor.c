/* The thread pool: workers, the work queue, submit, shutdown, the exit hook.
 *
 * The queue. Vyukov's intrusive multi-producer queue: a submit links its
 * entry with one atomic exchange on `tail` and takes no lock; workers pop
 * at `head` one at a time under `consumer_lock`, which only they (and a
 * drain) take. Entries are futures or map helpers (struct ct__work).
 *
 * Counts. Submitters and workers each write their own word, so that a
 * submit never waits for a cache line a worker holds:
 *
 *   submitted   entries accepted (counted before the push, so a worker
 *               that sees one may have to wait a moment for its link),
 *               and two flags: CLOSED (shut down: submits fail with
 *               CT_ESHUTDOWN) and BROKEN (an initializer failed: submits
 *               fail with CT_EBROKEN); only submitters and shutdown write it
 *   taken       entries taken off the queue; only workers and drains
 *   busy        workers running an entry
 *
 * pending = submitted - taken. A submit adds to `submitted` and gets the
 * flags in the same operation; it is refused once CLOSED or BROKEN is set.
 * While the pool has fewer than max_workers workers, it starts one when
 * pending + busy exceeds the workers there are (Python's "no idle thread").
 * A worker leaves only when CLOSED is set and nothing is pending, so every
 * accepted entry is taken by someone.
 *
 * Idle workers (libuv's idle count, Go's spinning threads). A worker with
 * nothing to do is first "spinning": awake, polling the counts for a few
 * microseconds; at most one spins at a time, the others park at once on
 * the key &sleepers. `spinning` and `sleepers` count them:
 *
 *   - a submit wakes a sleeper only when nobody spins: a spinner will find
 *     the entry, so a stream of submits makes no wake-up call at all;
 *   - the waker counts the woken worker as spinning (in the unpark
 *     callback, under the bucket lock), so the submits that follow do not
 *     wake a second worker for the same need;
 *   - a spinner that finds work stops spinning and, if more work is
 *     pending and nobody else spins, wakes the next sleeper: workers join
 *     one by one while work accumulates.
 *
 * No wake-up is lost: a parking worker counts itself a sleeper, stops
 * spinning, then reads the counts (all sequentially consistent, in its
 * validate callback, under the bucket lock); a submit adds to `submitted`,
 * links its entry, then reads spinning and sleepers. One of the two sees
 * the other.
 *
 * Workers' own queues (work stealing). Once the pool has all its workers
 * (before, take_batch() says why not), a worker takes entries off the
 * pool's queue a batch at a time (up to BATCH_MAX, one lock round and one
 * count for all) and keeps the rest of the batch in its own queue, a ring
 * (struct deque) that only it adds to and that every worker takes from at
 * the other end with one compare-and-swap, itself included: entries start
 * oldest first wherever they are. A worker looks for work in its own ring,
 * then steals half of another's (which it keeps in its own), then goes to
 * the pool's queue: everything in a ring was queued before what is still
 * on the pool's queue, so the pool still starts its tasks in submission
 * order (exactly, with one worker). A worker that puts more than one entry
 * in its ring wakes a sleeper as a submit does (when nobody spins), so a
 * worker held by a long task never holds the rest of its batch up: the
 * others take it. Entries in rings are no longer pending (taken counts
 * them); a worker parks, and leaves a closed pool, only once every ring
 * is empty too, which it checks as it checks the counts.
 *
 * Moves. An entry on its way into a ring is in no ring for a moment: a
 * thief has taken it from another's ring and not yet added it to its own,
 * or a task's submit has been accepted (the pool was not closed) and not
 * yet added. A worker of a closed pool that saw every ring empty then
 * would leave while the entry lands; if the worker it lands with is held
 * by a task waiting for it, nobody is left to take it. So each such move
 * is counted (moves_begun before, moves_done after), and a worker leaves
 * only once it saw the rings empty with no move under way from before it
 * looked to after (rings_settled_empty()); a drain waits for the moves
 * under way to land before it empties the rings. A task's submit counts
 * its move before it reads whether the pool is closed, and a shutdown
 * closes it before anyone looks at the moves: one of the two sees the
 * other (all sequentially consistent).
 *
 * Busy counts a worker from its first entry to the moment it runs out of
 * its own: a worker running a batch does not touch it per task.
 */
#include "cthreading/executor.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/debug_hooks.h"
#include "cthreading/thread.h"
#include "futures/executor_internal.h"
#include "park/fork.h"
#include "park/park.h"
#include "thread/thread_internal.h"

#define CLOSED (UINT64_C(1) << 62)
#define BROKEN (UINT64_C(1) << 63)
#define COUNT_MASK (CLOSED - 1)

/* Keeps the members written by submitters, by workers and by both on
 * different cache lines (by padding: the pool is malloc'ed, not aligned). */
#define PAD(name, used) char name[64 - (used)]

/* A worker's own queue (see above). */
#define DEQUE_CAP 256u /* a power of 2, more than 2 * BATCH_MAX */
#define BATCH_MAX 32u

struct deque {
	_Atomic uint64_t top;	 /* the next entry to take; everyone CASes it */
	_Atomic uint64_t bottom; /* where the owner adds; only it writes it */
	struct ct__work *_Atomic slot[DEQUE_CAP];
};

struct worker {
	struct ct__executor *ex;
	struct worker *next; /* the pool's list, newest first; never changes */
	bool spinning;	     /* counted in ex->spinning */
	bool busy;	     /* counted in ex->busy */
	PAD(pad, 2 * sizeof(void *) + 2 * sizeof(bool));
	struct deque dq;
};

struct ct__executor {
	/* Written by submitters. */
	_Atomic uint64_t submitted;
	struct ct__work *_Atomic tail;
	PAD(pad0, sizeof(uint64_t) + sizeof(void *));
	/* Written by workers. */
	ct_lock_t consumer_lock; /* head and the stub */
	struct ct__work *head;
	struct ct__work stub;
	_Atomic uint64_t taken;
	_Atomic uint32_t busy;
	/* Odd while a worker that was idle takes entries (it becomes busy,
	 * then they leave the pending count): see workers_needed(). Under
	 * consumer_lock. */
	_Atomic uint32_t take_seq;
	PAD(pad1,
	    2 * sizeof(void *) + sizeof(struct ct__work) + sizeof(uint64_t) + 2 * sizeof(uint32_t));
	_Atomic uint32_t spinning; /* idle workers awake (or woken, on their way) */
	_Atomic uint32_t sleepers; /* idle workers parked on &sleepers */
	atomic_bool long_spinner;  /* an idle worker is in the long spin */
	PAD(pad2, 2 * sizeof(uint32_t) + sizeof(atomic_bool));
	/* Entries on their way into a ring (see "Moves" above). */
	_Atomic uint64_t moves_begun, moves_done;
	PAD(pad3, 2 * sizeof(uint64_t));
	_Atomic int abandon; /* see ct__executor_abandoned() */
	/* Helpers that maps under way hold back (executor_map.c): a closed
	 * pool's workers stay for them. */
	_Atomic uint32_t reserved;
	_Atomic uint32_t refs; /* the handle's, and one per started worker */
	_Atomic uint32_t live; /* workers whose loop has not ended */
	_Atomic uint32_t nworkers;
	uint32_t max_workers;
	ct_initializer_fn initializer;
	void *initarg;
	char *prefix;
	const ct_executor_t *handle; /* debugging: the key of its name and profile */
	/* Every worker record, newest first (added under `lock`, freed with
	 * the pool): thieves and drains walk it without a lock. */
	struct worker *_Atomic workers;
	struct worker *spare; /* a record whose thread failed to start */
	/* Started workers' handles, under `lock`, which also serialises
	 * starting them. */
	ct_lock_t lock;
	ct_thread_t **threads;
	size_t nthreads, cap;
	/* The maps that hold helpers back (counted in `reserved`), oldest
	 * first, under held_lock: a submit queues their helpers before its
	 * own entry. */
	ct_lock_t held_lock;
	struct ct__held held;
	/* On the registry of pools (for the exit hook), under its lock. */
	struct pool_link {
		struct pool_link *prev, *next;
	} link;
};

/* The worker the calling thread is, if any. */
static _Thread_local struct worker *current_worker;

static struct {
	ct_lock_t lock;
	struct pool_link head;
	bool exiting; /* the exit hook ran: new pools start closed */
} registry = {
	.lock = CT_LOCK_INIT,
	.head = {&registry.head, &registry.head},
};

#define POOL_OF(l) ct_container_of(l, struct ct__executor, link)
static atomic_uint default_prefix_counter; /* Python's ThreadPoolExecutor._counter */
static pthread_once_t hook_once = PTHREAD_ONCE_INIT;
static int hook_rc;

/* Entries accepted and not yet taken, and in *flags CLOSED and BROKEN.
 * `taken` is read first: read in that order the difference can only
 * overstate what is pending (never below 0, since nothing is taken before
 * it is submitted), which errs on the safe side everywhere: a worker does
 * not park, nor leave, while work might be there. */
static uint64_t pending(struct ct__executor *ex, uint64_t *flags)
{
	uint64_t taken = atomic_load(&ex->taken);
	uint64_t sub = atomic_load(&ex->submitted);
	if (flags)
		*flags = sub & ~COUNT_MASK;
	return (sub & COUNT_MASK) - taken;
}

/* Whether a worker may leave once nothing is pending: the pool is closed
 * and no map under way holds helpers back (it queues them later, and
 * Python's pool would have run them). */
static bool closed_for_good(struct ct__executor *ex, uint64_t flags)
{
	/* Held back read first, pending again after: a release counts its
	 * entry pending before it stops holding it back, so a worker that
	 * read @p flags before a release and `reserved` after it still sees
	 * the entry. */
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a map's helper is released between a
	 * closed pool's worker's two looks */
	return (flags & CLOSED) && atomic_load(&ex->reserved) == 0 && pending(ex, NULL) == 0;
	/* GCOVR_EXCL_BR_STOP */
}

/* A short pause for a wait that ends within a few instructions of another
 * thread, unless that thread was preempted: then let it run. */
static void backoff(unsigned *tries)
{
	if (++*tries < 64)
		ct__cpu_relax();
	else
		sched_yield();
}

/* ---- the queue ---------------------------------------------------------- */

/* Vyukov's push is two steps: a fork between them would cut the queue in
 * the child. So it is made inside fork's gate (fork.h). */
static void queue_push(struct ct__executor *ex, struct ct__work *first, struct ct__work *last)
{
	/* Relaxed: published by the exchange's release below. */
	atomic_store_explicit(&last->next, NULL, memory_order_relaxed);
	ct__gate_enter();
	/* Acq_rel: release publishes the entry (and its NULL next) to whoever reaches it through
	 * the tail; acquire orders our store into prev after the push that linked prev. */
	struct ct__work *prev = atomic_exchange_explicit(&ex->tail, last, memory_order_acq_rel);
	/* Release: pairs with queue_pop()'s acquire of next, so the consumer sees the entry
	 * whole. */
	atomic_store_explicit(&prev->next, first, memory_order_release);
	ct__gate_exit();
}

/* Under consumer_lock. NULL when empty, or when a push is half done (the
 * pending count says which; the pusher finishes within instructions). */
static struct ct__work *queue_pop(struct ct__executor *ex)
{
	struct ct__work *head = ex->head;
	/* Acquire: pairs with queue_push()'s release of next, so the entry is seen whole. */
	struct ct__work *next = atomic_load_explicit(&head->next, memory_order_acquire);
	if (head == &ex->stub) {
		if (!next)
			return NULL;
		ex->head = head = next;
		/* Acquire: as above. */
		next = atomic_load_explicit(&head->next, memory_order_acquire);
	}
	if (!next) {
		/* Acquire: pairs with the exchange in queue_push(), so a half-done push is told
		 * apart from the last entry. */
		if (head != atomic_load_explicit(&ex->tail, memory_order_acquire))
			return NULL;
		/* head is the last entry: put the stub behind it so that
		 * head can leave without emptying the queue's links. */
		/* GCOVR_EXCL_BR_START: a race no test can aim at: a submit links its entry between
		 * the stub's push and this load */
		queue_push(ex, &ex->stub, &ex->stub);
		/* Acquire: as above. */
		next = atomic_load_explicit(&head->next, memory_order_acquire);
		if (!next)
			/* GCOVR_EXCL_BR_STOP */
			return NULL;
	}
	ex->head = next;
	return head;
}

/* ---- workers' own queues ------------------------------------------------ */

static uint64_t deque_size(struct deque *d)
{
	/* Seq_cst on purpose: with the bottom's seq_cst update in ring_filled(), the store-load
	 * pair of may_sleep() (see there). */
	uint64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
	/* Seq_cst on purpose: as above. */
	uint64_t b = atomic_load_explicit(&d->bottom, memory_order_seq_cst);
	return b > t ? b - t : 0;
}

/* The owner adds an entry; the ring has room (a batch goes only into an
 * empty ring, a task's submit only into one not full). */
static void deque_push(struct deque *d, struct ct__work *w)
{
	/* Relaxed: only the owner writes the bottom. */
	uint64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
	/* Relaxed: published by the bottom's release below. */
	atomic_store_explicit(&d->slot[b % DEQUE_CAP], w, memory_order_relaxed);
	/* Release: pairs with deque_take()'s acquire of the bottom, so a thief sees the slot. */
	atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
}

/* Takes the oldest entry, or with @p half the older half (at most
 * BATCH_MAX), into @p out; how many. The entries are read before the
 * compare-and-swap that takes them: the owner writes a slot again only
 * once `top` has passed it, and then the swap fails. */
static unsigned deque_take(struct deque *d, struct ct__work **out, bool half)
{
	/* Acquire: pairs with the other takers' CASes, for the first guess (the CAS re-checks). */
	uint64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
	for (;;) {
		/* Acquire: pairs with deque_push()'s release, so the slots below are seen. */
		uint64_t b = atomic_load_explicit(&d->bottom, memory_order_acquire);
		if (t >= b)
			return 0;
		uint64_t k = half ? (b - t + 1) / 2 : 1;
		if (k > BATCH_MAX)
			k = BATCH_MAX;
		/* Relaxed: read before the CAS, whose release half keeps them before it: the
		 * owner rewrites a slot only after seeing the top past it (acquire), so a read
		 * that could see the rewrite makes the CAS fail. */
		for (uint64_t i = 0; i < k; i++)
			out[i] = atomic_load_explicit(&d->slot[(t + i) % DEQUE_CAP],
						      memory_order_relaxed);
		/* Seq_cst on purpose: part of the pairs of may_sleep() and rings_settled_empty()
		 * (see "Moves"); the failure's acquire refreshes the guess. */
		if (atomic_compare_exchange_weak_explicit(&d->top, &t, t + k, memory_order_seq_cst,
							  memory_order_acquire))
			return (unsigned)k;
	}
}

static struct worker *first_worker(struct ct__executor *ex)
{
	/* Acquire: pairs with the release in worker_record(), so the worker's record is seen. */
	return atomic_load_explicit(&ex->workers, memory_order_acquire);
}

/* Whether any worker's ring holds an entry (sequentially consistent: see
 * may_sleep()). */
static bool rings_hold_work(struct ct__executor *ex)
{
	for (struct worker *v = first_worker(ex); v; v = v->next)
		if (deque_size(&v->dq) > 0)
			return true;
	return false;
}

static void move_begin(struct ct__executor *ex)
{
	atomic_fetch_add(&ex->moves_begun, 1);
}

static void move_end(struct ct__executor *ex)
{
	atomic_fetch_add(&ex->moves_done, 1);
}

/* Whether a move is under way. `done` is read first: if the two match,
 * every move begun by the second read had ended by the first. */
static bool moves_under_way(struct ct__executor *ex)
{
	uint64_t done = atomic_load(&ex->moves_done);
	return atomic_load(&ex->moves_begun) != done;
}

/* Whether every ring was empty while no entry was on its way into one: no
 * move under way before the look, none begun during it. Then an entry not
 * seen was not in any ring (see "Moves" above). */
static bool rings_settled_empty(struct ct__executor *ex)
{
	uint64_t done = atomic_load(&ex->moves_done);
	uint64_t begun = atomic_load(&ex->moves_begun);
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a move under way, or begun, as the rings
	 * are looked at */
	return begun == done && !rings_hold_work(ex) && atomic_load(&ex->moves_begun) == begun;
	/* GCOVR_EXCL_BR_STOP */
}

static void abandon_work(struct ct__work *w, int code)
{
	if (w->kind == CT__WORK_MAP) {
		ct__map_abandon(w, code);
		return;
	}
	struct ct_future *f = (struct ct_future *)w;
	ct__future_abandon(f, code);
	ct__future_unref(f);
}

/* Takes every queued entry off and ends it with @p code, including the
 * entries of submits accepted but not yet linked, and those in workers'
 * rings. (An entry a worker holds and has not started yet is ended by
 * that worker: it looks at ct__executor_abandoned() first.) */
static void drain(struct ct__executor *ex, int code)
{
	unsigned tries = 0;
	ct__lock_acquire_nonnull(&ex->consumer_lock);
	for (;;) {
		struct ct__work *w = queue_pop(ex);
		if (w) {
			atomic_fetch_add(&ex->taken, 1);
			abandon_work(w, code);
			/* GCOVR_EXCL_BR_START: a race no test can aim at: a submit counted but not
			 * yet linked (queue_push() between its two steps) as the drain looks */
		} else if (pending(ex, NULL) == 0) {
			/* GCOVR_EXCL_BR_STOP */
			break;
		} else {
			backoff(&tries);
		}
	}
	ct_lock_release(&ex->consumer_lock);
	/* A move begun now is a thief's (the pool is closed or broken: a
	 * task's submit is refused); its entries are ended by whoever takes
	 * them (run_work()). */
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a thief's move under way as the drain
	 * looks */
	while (moves_under_way(ex))
		/* GCOVR_EXCL_BR_STOP */
		backoff(&tries);
	for (struct worker *v = first_worker(ex); v; v = v->next)
		for (struct ct__work *w; deque_take(&v->dq, &w, false);)
			abandon_work(w, code);
}

/* ---- idle workers ------------------------------------------------------- */

static uintptr_t count_woken(void *ctx, struct ct__unpark_result r)
{
	struct ct__executor *ex = ctx;
	if (r.unparked) {
		atomic_fetch_add(&ex->spinning, 1);
		atomic_fetch_sub(&ex->sleepers, 1);
	}
	return CT__TOKEN_NORMAL;
}

static bool wake_one(struct ct__executor *ex)
{
	return ct__unpark_one(&ex->sleepers, count_woken, ex).unparked != 0;
}

static void wake_all(struct ct__executor *ex)
{
	while (wake_one(ex))
		;
}

/* After work was added: make sure someone awake will look at it. */
static void wake_if_nobody_looks(struct ct__executor *ex)
{
	if (atomic_load(&ex->spinning) == 0 && atomic_load(&ex->sleepers) > 0)
		wake_one(ex);
}

/* Whether work waits for an idle worker: pending on the pool's queue
 * (*flags gets CLOSED and BROKEN) or in a ring. */
static bool work_waits(struct ct__executor *ex, uint64_t *flags)
{
	return pending(ex, flags) > 0 || rings_hold_work(ex);
}

static void stop_spinning(struct worker *me, bool pass_on)
{
	if (!me->spinning)
		return;
	me->spinning = false;
	struct ct__executor *ex = me->ex;
	if (atomic_fetch_sub(&ex->spinning, 1) == 1 && pass_on && atomic_load(&ex->sleepers) > 0 &&
	    work_waits(ex, NULL))
		wake_one(ex);
}

/* The validate callback of an idle worker's park, under the bucket lock
 * that wakers take too: become a sleeper unless work or a shutdown came.
 * A worker filling its ring stores its bottom, then reads spinning and
 * sleepers, all sequentially consistent: this side or that one sees the
 * other, as with a submit. */
static bool may_sleep(void *ctx)
{
	struct worker *me = ctx;
	struct ct__executor *ex = me->ex;
	atomic_fetch_add(&ex->sleepers, 1);
	if (me->spinning)
		atomic_fetch_sub(&ex->spinning, 1);
	uint64_t flags;
	/* GCOVR_EXCL_BR_START: a race no test can aim at: work or a shutdown comes between the idle
	 * worker's spin and its park */
	if (!work_waits(ex, &flags) && !closed_for_good(ex, flags)) {
		me->spinning = false;
		return true;
	}
	if (me->spinning)
		/* GCOVR_EXCL_BR_STOP */
		atomic_fetch_add(&ex->spinning, 1);
	atomic_fetch_sub(&ex->sleepers, 1);
	return false;
}

static const struct ct__park_ops idle_ops = {.validate = may_sleep};

/* What an idle worker spins for: work to take, or the pool closing. */
static bool work_or_closed(const void *ctx)
{
	struct ct__executor *ex = (struct ct__executor *)ctx;
	uint64_t flags;
	/* GCOVR_EXCL_BR_START: a race no test can aim at: the pool closes while an idle worker
	 * spins */
	return pending(ex, &flags) > 0 || closed_for_good(ex, flags);
	/* GCOVR_EXCL_BR_STOP */
}

/* Whether the busy workers, one idle worker and the thread that submits
 * all have a CPU: then that idle worker may spin long (see idle_wait()).
 * In a pool smaller than the machine they always have; in a larger one,
 * while a map runs on fewer helpers than the CPUs (executor_map.c). */
static bool room_to_spin(const struct ct__executor *ex)
{
	/* Relaxed: a hint, read again while spinning. */
	return atomic_load_explicit(&((struct ct__executor *)ex)->busy, memory_order_relaxed) + 2 <=
	       ct__cpus;
}

/* What the long spin spins for: work, the pool closing, or a CPU it
 * would take from a worker that became busy meanwhile. */
static bool work_closed_or_crowded(const void *ctx)
{
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a worker gets busy while another spins
	 * long */
	return work_or_closed(ctx) || !room_to_spin(ctx);
	/* GCOVR_EXCL_BR_STOP */
}

/* The long spin, for one idle worker at a time and while there is room:
 * true if work came (or the pool closed). */
static bool spin_long(struct ct__executor *ex, int64_t *began)
{
	if (!room_to_spin(ex) || atomic_exchange(&ex->long_spinner, true))
		return ct__spin_until(work_or_closed, ex);
	bool done = ct__spin_wake_until(work_closed_or_crowded, ex, began);
	atomic_store(&ex->long_spinner, false);
	/* GCOVR_EXCL_BR_START: as in work_closed_or_crowded() */
	return done && work_or_closed(ex);
	/* GCOVR_EXCL_BR_STOP */
}

static void idle_wait(struct worker *me)
{
	struct ct__executor *ex = me->ex;
	if (!me->spinning) {
		uint32_t none = 0;
		me->spinning = atomic_compare_exchange_strong(&ex->spinning, &none, 1);
	}
	/* The spin looks at the counts only: a look at the rings, whose
	 * owners take from them with a compare-and-swap each, would pull
	 * their lines; a ring's work is found at the park (may_sleep()
	 * looks), within a spin. While the busy workers leave a CPU free for
	 * it and one for the thread that submits, it is the long spin (one
	 * worker at a time), up to about two wake-ups: work that comes within
	 * it would have waited for a sleeper's wake-up (one worker mapping
	 * over 1000 items, the caller on the other CPU of a 2-CPU VM whose
	 * wake-ups took up to 50 us: 33 ns an item, 90 with the short spin,
	 * medians of 9 runs). It stops when a worker gets busy meanwhile: it
	 * would take that worker's CPU (two workers busy on those 2 CPUs: 74
	 * ns an item with an idle third spinning, 67 without). Else the
	 * short spin. */
	int64_t began = 0;
	if (me->spinning && spin_long(ex, &began))
		return;
	uintptr_t token;
	/* Not interruptible: a stop request for a worker must not make it
	 * poll. Woken by a submit, the waker counted it as spinning. */
	CT__DEBUG_HOOK(waits_on(ex, CT__OBJ_EXECUTOR));
	if (ct__park(&ex->sleepers, &idle_ops, me, CT__NO_DEADLINE, CT__PARK_NO_SPIN, &token) ==
	    CT__PARK_UNPARKED)
		me->spinning = true;
	ct__spin_wake_lesson(began);
}

/* More than one entry went into the worker's ring: if nobody is awake to
 * see them, wake a sleeper (the order of the bottom's store and the loads
 * in may_sleep(): see there). */
static void ring_filled(struct worker *me, unsigned added)
{
	if (added == 0)
		return;
	/* A sequentially consistent update of the bottom (its value stays),
	 * ordered before the loads: a fence, in a form ThreadSanitizer sees. */
	atomic_fetch_add_explicit(&me->dq.bottom, 0, memory_order_seq_cst);
	wake_if_nobody_looks(me->ex);
}

static void set_busy(struct worker *me, bool busy)
{
	if (me->busy == busy)
		return;
	me->busy = busy;
	if (busy)
		atomic_fetch_add(&me->ex->busy, 1);
	else
		atomic_fetch_sub(&me->ex->busy, 1);
}

/* Up to BATCH_MAX entries off the pool's queue: the first to run, the
 * others into the ring (empty: the worker looks here only then). Inside
 * fork's gate, so that a child finds every entry linked or in a ring.
 * One entry only while the pool may still start workers: a submit decides
 * from the pending count whether one is needed, and entries in a ring
 * are not pending (with a batch in one ring, a task waiting for another
 * of the batch could wait for a worker that never starts). */
static struct ct__work *take_batch(struct worker *me)
{
	struct ct__executor *ex = me->ex;
	struct ct__work *first = NULL;
	/* Relaxed: a hint that only grows (but for a start that fails, undone at once, and a
	 * fork child's reset): a stale value changes the batch size, not what runs. */
	bool growing = atomic_load_explicit(&ex->nworkers, memory_order_relaxed) < ex->max_workers;
	unsigned k = 0, most = growing ? 1 : BATCH_MAX;
	ct__lock_acquire_nonnull(&ex->consumer_lock);
	ct__gate_enter();
	for (struct ct__work *w; k < most && (w = queue_pop(ex)) != NULL; k++) {
		if (k == 0)
			first = w;
		else
			deque_push(&me->dq, w);
	}
	if (k) {
		/* Busy before the entries leave the pending count: a submit
		 * must not miss both (it would see one worker fewer needed and
		 * start none: a task waiting for another would then wait for a
		 * worker that never comes). Nor count both: it would start a
		 * worker too many, where Python's pool starts one per task that
		 * finds none idle. take_seq tells it (workers_needed()). */
		atomic_fetch_add(&ex->take_seq, 1);
		set_busy(me, true);
		atomic_fetch_add(&ex->taken, k);
		atomic_fetch_add(&ex->take_seq, 1);
	}
	ct__gate_exit();
	ct_lock_release(&ex->consumer_lock);
	if (k)
		ring_filled(me, k - 1);
	return first;
}

/* Half of another worker's ring (older entries first): the first to run,
 * the others into the worker's own ring (empty). */
static struct ct__work *steal(struct worker *me)
{
	struct ct__work *got[BATCH_MAX];
	for (struct worker *v = first_worker(me->ex); v; v = v->next) {
		if (v == me || deque_size(&v->dq) == 0)
			continue;
		ct__gate_enter();
		move_begin(me->ex);
		unsigned k = deque_take(&v->dq, got, true);
		for (unsigned i = 1; i < k; i++)
			deque_push(&me->dq, got[i]);
		move_end(me->ex);
		ct__gate_exit();
		if (k) {
			ring_filled(me, k - 1);
			return got[0];
		}
	}
	return NULL;
}

/* The next entry to run, or NULL when the pool is closed and drained. */
static struct ct__work *next_work(struct worker *me)
{
	struct ct__executor *ex = me->ex;
	unsigned tries = 0;
	for (;;) {
		struct ct__work *w;
		if (deque_take(&me->dq, &w, false) || (w = steal(me)) || (w = take_batch(me))) {
			set_busy(me, true);
			stop_spinning(me, true);
			return w;
		}
		set_busy(me, false);
		uint64_t flags, left = pending(ex, &flags);
		if (left == 0 && rings_hold_work(ex))
			continue; /* raced with a thief or a drain */
		if (left == 0 && closed_for_good(ex, flags)) {
			/* GCOVR_EXCL_BR_START: a race no test can aim at: a move lands, or a thief
			 * takes the entry, as the last worker looks */
			if (!rings_settled_empty(ex)) {
				/* GCOVR_EXCL_BR_STOP */
				backoff(&tries); /* a move lands, or a thief took it */
				continue;
			}
			stop_spinning(me, false);
			return NULL;
		}
		if (left > 0) {
			/* A push half done, or an entry being taken. */
			backoff(&tries);
			continue;
		}
		tries = 0;
		idle_wait(me);
	}
}

/* ---- workers ------------------------------------------------------------ */

static void executor_unref(struct ct__executor *ex);

/* Runs an entry. A worker whose ring is empty counts itself idle again
 * before it publishes a future's result: whoever saw the result and
 * submits again finds this worker free, and no second one starts for
 * nothing. An entry taken before the pool was shut down with
 * cancel_futures (or broke) and not started ends as the drain ends those
 * it finds. */
static void run_work(struct worker *me, struct ct__work *w)
{
	struct ct__executor *ex = me->ex;
	if (w->kind == CT__WORK_MAP) {
		ct__map_run(w, ex);
		if (deque_size(&me->dq) == 0)
			set_busy(me, false);
		return;
	}
	struct ct_future *f = (struct ct_future *)w;
	int code = ct__executor_abandoned(ex);
	if (code) {
		ct__future_abandon(f, code);
	} else if (ct__future_start(f)) {
		void *result = NULL;
		bool recording = CT__DEBUG_ON(CT__DEBUG_RECORD); /* debugging: the task's span */
		if (recording)
			ct__debug()->task_begin(ex->handle, f->queued);
		int status = f->fn(f->arg, &result);
		if (recording)
			ct__debug()->task_end(ex->handle, f, (void (*)(void))f->fn);
		if (deque_size(&me->dq) == 0)
			set_busy(me, false);
		ct__future_finish_unref(f, status, result);
		return;
	}
	ct__future_unref(f);
}

/* Python's _initializer_failed(): no more submits, and every queued task
 * ends with CT_EBROKEN. */
static void pool_break(struct ct__executor *ex)
{
	atomic_fetch_or(&ex->submitted, BROKEN);
	int none = 0;
	atomic_compare_exchange_strong(&ex->abandon, &none, CT_EBROKEN);
	drain(ex, CT_EBROKEN);
}

static int worker_main(void *arg)
{
	struct worker *me = arg; /* its starter counted it spinning */
	struct ct__executor *ex = me->ex;
	current_worker = me;
	int status = ex->initializer ? ex->initializer(ex->initarg) : 0;
	if (status != 0) {
		/* Python logs "Exception in initializer" before it breaks the
		 * pool: whoever sees the pool broken finds the report made. */
		ct__thread_report_failure(status);
		stop_spinning(me, false);
		pool_break(ex);
	} else {
		for (struct ct__work *w; (w = next_work(me)) != NULL;)
			run_work(me, w);
	}
	current_worker = NULL;
	atomic_fetch_sub(&ex->live, 1);
	executor_unref(ex);
	return 0; /* a failed initializer was reported above */
}

/* A worker record, on the pool's list. Under ex->lock. */
static struct worker *worker_record(struct ct__executor *ex)
{
	struct worker *me = ex->spare;
	if (me) {
		ex->spare = NULL;
	} else {
		me = ct__calloc(1, sizeof *me);
		if (!me)
			return NULL;
		me->ex = ex;
		/* Relaxed: under ex->lock, which every writer of the list holds. */
		me->next = atomic_load_explicit(&ex->workers, memory_order_relaxed);
		/* Release: pairs with first_worker()'s acquire, read without the lock. */
		atomic_store_explicit(&ex->workers, me, memory_order_release);
	}
	me->spinning = true; /* counted by start_one() */
	me->busy = false;
	return me;
}

/* Under ex->lock. */
static int start_one(struct ct__executor *ex)
{
	if (ex->nthreads == ex->cap) {
		size_t cap = ex->cap ? ex->cap * 2 : 4;
		ct_thread_t **grown = ct__realloc(ex->threads, cap * sizeof *grown);
		if (!grown)
			return CT_ENOMEM;
		ex->threads = grown;
		ex->cap = cap;
	}
	struct worker *me = worker_record(ex);
	if (!me)
		return CT_ENOMEM;
	size_t len = strlen(ex->prefix) + 24;
	char *name = ct__malloc(len);
	if (!name) {
		ex->spare = me;
		return CT_ENOMEM;
	}
	snprintf(name, len, "%s_%zu", ex->prefix, ex->nthreads);
	ct_thread_t *t;
	int rc = ct_thread_new(&t, worker_main, me,
			       &(ct_thread_opts){.name = name, .daemon = CT_NOT_DAEMON});
	ct__free(name);
	if (rc < 0) {
		ex->spare = me;
		return rc;
	}
	/* Counted before it runs: it is awake and will look for work. */
	atomic_fetch_add(&ex->refs, 1);
	atomic_fetch_add(&ex->live, 1);
	atomic_fetch_add(&ex->spinning, 1);
	atomic_fetch_add(&ex->nworkers, 1);
	rc = ct_thread_start(t);
	if (rc < 0) {
		atomic_fetch_sub(&ex->nworkers, 1);
		atomic_fetch_sub(&ex->spinning, 1);
		atomic_fetch_sub(&ex->live, 1);
		atomic_fetch_sub(&ex->refs, 1);
		ct_thread_destroy(t);
		ex->spare = me;
		return rc;
	}
	ex->threads[ex->nthreads++] = t;
	return 0;
}

/* Starts workers until @p need are there (or max_workers). Fails only if
 * no worker exists at all: otherwise the queued work waits for the
 * workers there are. */
static int start_workers(struct ct__executor *ex, uint64_t need)
{
	int rc = 0;
	ct__lock_acquire_nonnull(&ex->lock);
	while (rc == 0 && need > atomic_load(&ex->nworkers) &&
	       atomic_load(&ex->nworkers) < ex->max_workers)
		rc = start_one(ex);
	bool none = atomic_load(&ex->nworkers) == 0;
	ct_lock_release(&ex->lock);
	return none ? rc : 0;
}

/* The list of maps holding helpers back changes inside fork's gate
 * (park/fork.h), so that a fork child finds it whole: its handler walks it
 * (after_fork_child()). */
static void lock_held(struct ct__executor *ex)
{
	ct__gate_enter();
	/* GCOVR_EXCL_BR_START: a race no test can aim at: two maps list themselves at once (the
	 * lock's contended path) */
	ct__lock_acquire_nonnull(&ex->held_lock);
	/* GCOVR_EXCL_BR_STOP */
}

static void unlock_held(struct ct__executor *ex)
{
	ct_lock_release(&ex->held_lock);
	ct__gate_exit();
}

/* Queues every helper that maps hold back: what is queued next came after
 * them. */
static void release_held(struct ct__executor *ex)
{
	lock_held(ex);
	for (struct ct__held *h; (h = ex->held.next) != &ex->held;) {
		ex->held.next = h->next;
		h->next->prev = &ex->held;
		h->next = h->prev = NULL;
		ct__map_release_held(h);
	}
	unlock_held(ex);
}

static void list_held(struct ct__executor *ex, struct ct__held *node)
{
	lock_held(ex);
	node->next = &ex->held;
	node->prev = ex->held.prev;
	ex->held.prev->next = node;
	ex->held.prev = node;
	unlock_held(ex);
}

void ct__executor_unlist(struct ct__executor *ex, struct ct__held *node)
{
	lock_held(ex);
	if (node->next) {
		node->prev->next = node->next;
		node->next->prev = node->prev;
		node->next = node->prev = NULL;
	}
	unlock_held(ex);
}

/* The workers that @p sub accepted entries need: those pending, and the
 * busy ones (Python's "no idle thread"). Read as a whole: not while a
 * worker that was idle moves its entries from pending to busy (take_seq
 * odd, or changed meanwhile), which would count them twice and start a
 * worker too many. That move is a few instructions under consumer_lock,
 * with nothing that waits: the read waits for it (backoff(), in case its
 * worker lost its CPU there). */
static uint64_t workers_needed(struct ct__executor *ex, uint64_t sub)
{
	for (unsigned tries = 0;;) {
		uint32_t seq = atomic_load(&ex->take_seq);
		uint64_t taken = atomic_load(&ex->taken);
		uint64_t busy = atomic_load(&ex->busy);
		/* GCOVR_EXCL_BR_START: a race no test can aim at: a submit reads the counts while a
		 * worker takes entries; taken never passes sub: nothing is taken before it is
		 * counted, and this entry is not linked yet */
		if (!(seq & 1) && atomic_load(&ex->take_seq) == seq)
			return (sub > taken ? sub - taken : 0) + busy;
		/* GCOVR_EXCL_BR_STOP */
		backoff(&tries);
	}
}

int ct__executor_enqueue(struct ct__executor *ex, struct ct__work *first, struct ct__work *last,
			 uint32_t count, uint32_t held, struct ct__held *node)
{
	/* FIFO: helpers maps hold back came first. One load when none does. */
	if (atomic_load(&ex->reserved))
		release_held(ex);
	/* Held back before the pool may close: a worker that sees it closed
	 * and nothing pending must see these too, or it would leave them. */
	if (held)
		atomic_fetch_add(&ex->reserved, held);
	uint64_t old = atomic_fetch_add(&ex->submitted, count);
	if (old & (CLOSED | BROKEN)) {
		atomic_fetch_sub(&ex->submitted, count);
		ct__executor_unreserve(ex, held);
		return (old & BROKEN) ? CT_EBROKEN : CT_ESHUTDOWN;
	}
	/* Once all workers are there (the usual case), a submit reads nothing
	 * the workers write but the idle counts. Relaxed: a hint, as in
	 * take_batch(); starting workers is decided again under ex->lock.
	 * Helpers held back count as entries: Python's pool starts a worker
	 * for each of a map's items that finds none idle. */
	uint32_t n = atomic_load_explicit(&ex->nworkers, memory_order_relaxed);
	if (n < ex->max_workers) {
		uint64_t need = workers_needed(ex, (old & COUNT_MASK) + count) + held;
		int rc = need > n ? start_workers(ex, need) : 0;
		if (rc < 0) {
			atomic_fetch_sub(&ex->submitted, count);
			ct__executor_unreserve(ex, held);
			return rc;
		}
	}
	/* Listed once accepted (a failure above frees what it holds back),
	 * before its first entry may start: whatever comes after that start
	 * queues these first. */
	if (node)
		list_held(ex, node);
	queue_push(ex, first, last);
	wake_if_nobody_looks(ex);
	return 0;
}

int ct__executor_release(struct ct__executor *ex, struct ct__work *w)
{
	/* Counted pending before it stops being held: a closed pool's worker
	 * never sees neither. */
	uint64_t old = atomic_fetch_add(&ex->submitted, 1);
	int rc = 0;
	/* GCOVR_EXCL_BR_START: a race no test can aim at: a worker's initializer fails (the pool
	 * breaks) between a map's start and the release of a helper it held back */
	if (old & BROKEN) {
		/* GCOVR_EXCL_BR_STOP */
		atomic_fetch_sub(&ex->submitted, 1);
		rc = CT_EBROKEN;
	} else {
		queue_push(ex, w, w);
		wake_if_nobody_looks(ex);
	}
	ct__executor_unreserve(ex, 1);
	return rc;
}

void ct__executor_unreserve(struct ct__executor *ex, uint32_t count)
{
	if (count == 0)
		return;
	uint32_t old = atomic_load(&ex->reserved), left;
	/* GCOVR_EXCL_BR_START: a race no test can aim at: two maps change the count at once (and
	 * more given up than held: only in a fork child, whose parent's maps hold none) */
	do
		left = old > count ? old - count : 0;
	while (!atomic_compare_exchange_weak(&ex->reserved, &old, left));
	/* GCOVR_EXCL_BR_STOP */
	/* The closed pool's idle workers may leave now. */
	if (left == 0 && (atomic_load(&ex->submitted) & CLOSED))
		wake_all(ex);
}

/* ---- the pool's life ---------------------------------------------------- */

/* The registry of pools is changed inside fork's gate (fork.h): the
 * child's handler walks it. */
static void registry_lock(void)
{
	ct__gate_enter();
	ct__lock_acquire_nonnull(&registry.lock);
}

static void registry_unlock(void)
{
	ct_lock_release(&registry.lock);
	ct__gate_exit();
}

static void close_pool(struct ct__executor *ex)
{
	atomic_fetch_or(&ex->submitted, CLOSED);
	wake_all(ex);
}

/* Python's _python_exit(): before the exit rule waits for non-daemon
 * threads, shut every open pool down (without waiting), so that its idle
 * workers end once the queued work is done. */
static void close_all_at_exit(void)
{
	registry_lock();
	registry.exiting = true;
	for (struct pool_link *l = registry.head.next; l != &registry.head; l = l->next)
		close_pool(POOL_OF(l));
	registry_unlock();
}

/* Entries linked in the queue, in a fork child (no push is half done:
 * they are made inside the gate). */
static uint64_t linked_entries(struct ct__executor *ex)
{
	uint64_t n = 0;
	for (struct ct__work *w = ex->head; w;
	     w = atomic_load_explicit(&w->next, memory_order_relaxed)) /* relaxed: fork child */
		n += w != &ex->stub;
	return n;
}

/* In a fork child: puts the entries the parent's workers kept in their
 * rings back at the head of the pool's queue (they were queued before
 * anything still on it), and empties the rings. */
static void requeue_rings(struct ct__executor *ex)
{
	struct ct__work *first = NULL, *last = NULL;
	for (struct worker *v = first_worker(ex); v; v = v->next) {
		/* Relaxed: in the one-thread fork child. */
		uint64_t b = atomic_load_explicit(&v->dq.bottom, memory_order_relaxed);
		/* Relaxed: as above. */
		for (uint64_t t = atomic_load_explicit(&v->dq.top, memory_order_relaxed); t < b;
		     t++) {
			/* Relaxed: as above. */
			struct ct__work *w = atomic_load_explicit(&v->dq.slot[t % DEQUE_CAP],
								  memory_order_relaxed);
			if (last)
				/* Relaxed: as above. */
				atomic_store_explicit(&last->next, w, memory_order_relaxed);
			else
				first = w;
			last = w;
		}
		atomic_store_explicit(&v->dq.top, b, memory_order_relaxed); /* relaxed: as above */
	}
	if (!first)
		return;
	atomic_store_explicit(&last->next, ex->head, memory_order_relaxed); /* relaxed: as above */
	ex->head = first;
}

/* In the child of fork() only the forking thread exists: no pool has a
 * worker any more, and a lock may have been held by a thread that is gone.
 * Each pool starts over with no workers and keeps its queue: the next
 * submit starts workers, and so does a shutdown or destroy (revive()) if
 * work is queued. Tasks that were running never finish in the child, as in
 * Python: their futures stay running. A submit that had counted its entry
 * and not linked it, or a worker that had taken one and not counted it,
 * is gone: what is pending is what is linked. */
static void after_fork_child(void)
{
	ct_lock_init(&registry.lock);
	for (struct pool_link *l = registry.head.next; l != &registry.head; l = l->next) {
		struct ct__executor *ex = POOL_OF(l);
		ct_lock_init(&ex->lock);
		ct_lock_init(&ex->consumer_lock);
		ct_lock_init(&ex->held_lock);
		/* The maps under way were the gone threads': they hold nothing
		 * back any more (a helper of theirs that runs in the child, as
		 * a worker that forked inside an item goes on with its own,
		 * must not give up what the child's own maps hold). */
		for (struct ct__held *h = ex->held.next; h != &ex->held; h = h->next)
			ct__map_forget_held(h);
		ex->held.prev = ex->held.next = &ex->held;
		requeue_rings(ex);
		uint64_t sub = atomic_load(&ex->submitted) & COUNT_MASK;
		atomic_store(&ex->taken, sub - linked_entries(ex));
		/* The references the gone workers held. */
		atomic_fetch_sub(&ex->refs, atomic_load(&ex->live));
		atomic_store(&ex->live, 0);
		atomic_store(&ex->nworkers, 0);
		atomic_store(&ex->busy, 0);
		atomic_store(&ex->spinning, 0);
		atomic_store(&ex->sleepers, 0);
		atomic_store(&ex->long_spinner, false);
		atomic_store(&ex->reserved, 0);
		/* A task's submit cut by the fork between its two counts. */
		atomic_store(&ex->moves_done, atomic_load(&ex->moves_begun));
	}
}

static void register_hook(void)
{
	/* A pool that never started a worker must still be closed at exit:
	 * Python refuses submits after interpreter shutdown. */
	ct__exit_rule_arm();
	hook_rc = ct__before_exit_wait(close_all_at_exit);
	if (hook_rc == 0)
		pthread_atfork(NULL, NULL, after_fork_child);
}

static void executor_free(struct ct__executor *ex)
{
	for (struct worker *v = first_worker(ex), *next; v; v = next) {
		next = v->next;
		ct__free(v);
	}
	for (size_t i = 0; i < ex->nthreads; i++)
		ct_thread_destroy(ex->threads[i]);
	ct__free(ex->threads);
	ct__free(ex->prefix);
	ct__free(ex);
}

static void executor_unref(struct ct__executor *ex)
{
	if (atomic_fetch_sub(&ex->refs, 1) != 1)
		return;
	registry_lock();
	ex->link.prev->next = ex->link.next;
	ex->link.next->prev = ex->link.prev;
	registry_unlock();
	executor_free(ex);
}

/* Python's min(32, (os.process_cpu_count() or 1) + 4): the CPUs the
 * process may run on, as `taskset` sets them, not the machine's. */
static unsigned default_max_workers(void)
{
	long cpus = ct__usable_cpus();
	/* GCOVR_EXCL_BR_START: the count is unknown only where sched_getaffinity() fails and
	 * sysconf(_SC_NPROCESSORS_ONLN) too */
	if (cpus < 1)
		/* GCOVR_EXCL_BR_STOP */
		cpus = 1;
	/* GCOVR_EXCL_BR_START: one machine's branch: 28 CPUs or more (the test machine has 2) */
	return cpus + 4 < 32 ? (unsigned)cpus + 4 : 32;
	/* GCOVR_EXCL_BR_STOP */
}

static char *make_prefix(const char *given)
{
	if (given && *given)
		return ct__strdup(given);
	char buf[48];
	snprintf(buf, sizeof buf, "ThreadPoolExecutor-%u",
		 atomic_fetch_add(&default_prefix_counter, 1));
	return ct__strdup(buf);
}

int ct_executor_init(ct_executor_t *handle, const ct_executor_opts *opts)
{
	static const ct_executor_opts defaults;
	if (!handle)
		return CT_EINVAL;
	handle->ct__impl = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->max_workers < 0)
		return CT_EINVAL;
	pthread_once(&hook_once, register_hook);
	if (hook_rc < 0)
		return hook_rc;
	struct ct__executor *ex = ct__calloc(1, sizeof *ex);
	if (!ex)
		return CT_ENOMEM;
	ex->prefix = make_prefix(opts->thread_name_prefix);
	if (!ex->prefix) {
		ct__free(ex);
		return CT_ENOMEM;
	}
	ex->max_workers = opts->max_workers ? (uint32_t)opts->max_workers : default_max_workers();
	ex->initializer = opts->initializer;
	ex->initarg = opts->initarg;
	ex->handle = handle;
	ct_lock_init(&ex->lock);
	ct_lock_init(&ex->consumer_lock);
	ct_lock_init(&ex->held_lock);
	ex->held.prev = ex->held.next = &ex->held;
	atomic_init(&ex->stub.next, NULL);
	ex->head = &ex->stub;
	atomic_init(&ex->tail, &ex->stub);
	atomic_init(&ex->refs, 1);
	registry_lock();
	if (registry.exiting)
		atomic_store(&ex->submitted, CLOSED);
	ex->link.next = &registry.head;
	ex->link.prev = registry.head.prev;
	registry.head.prev->next = &ex->link;
	registry.head.prev = &ex->link;
	registry_unlock();
	handle->ct__impl = ex;
	return 0;
}

/* A task's submit to its own pool, once every worker is there (no start
 * to decide): onto its worker's ring, where no other submitter contends;
 * the others steal from it as from any ring. 1 if queued there, 0 if the
 * pool's queue must take it (another pool, not a worker, a full ring), or
 * CT_ESHUTDOWN / CT_EBROKEN. A submit racing with a shutdown is accepted
 * or refused as a whole, and an accepted one is in the ring before the
 * shutdown's drain or the last worker looks at the rings (see "Moves"). */
static int submit_local(struct ct__executor *ex, struct ct__work *w)
{
	struct worker *me = current_worker;
	/* Relaxed: a hint, as in take_batch(): a stale value only sends the entry to the pool's
	 * queue. */
	if (!me || me->ex != ex ||
	    atomic_load_explicit(&ex->nworkers, memory_order_relaxed) < ex->max_workers)
		return 0;
	/* A map holds helpers back: they came first, and only the pool's
	 * queue puts them ahead (ct__executor_enqueue()). */
	if (atomic_load(&ex->reserved))
		return 0;
	struct deque *d = &me->dq;
	/* Relaxed: only this worker writes its bottom. */
	uint64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
	/* Acquire: pairs with the takers' CAS of the top, so the slot we are about to rewrite
	 * has been read. */
	if (b - atomic_load_explicit(&d->top, memory_order_acquire) >= DEQUE_CAP)
		return 0;
	move_begin(ex);
	uint64_t flags = atomic_load(&ex->submitted) & ~COUNT_MASK;
	if (!flags)
		deque_push(d, w);
	move_end(ex);
	if (flags)
		return (flags & BROKEN) ? CT_EBROKEN : CT_ESHUTDOWN;
	ring_filled(me, 1);
	return 1;
}

int ct_executor_submit(ct_executor_t *handle, ct_task_fn fn, void *arg, ct_future_t **future)
{
	struct ct__executor *ex = ct__executor_of(handle);
	if (!ex || !fn)
		return CT_EINVAL;
	struct ct_future *f = ct__future_new(fn, arg, future ? 2 : 1);
	if (!f)
		return CT_ENOMEM;
	if (CT__DEBUG_ON(CT__DEBUG_RECORD)) /* debugging: the start of its queueing delay */
		f->queued = ct__debug()->now();
	int rc = submit_local(ex, &f->work);
	if (rc == 0)
		rc = ct__executor_enqueue(ex, &f->work, &f->work, 1, 0, NULL);
	if (rc < 0) {
		ct__future_free(f);
		return rc;
	}
	if (future)
		*future = f;
	return 0;
}

/* Joins every worker, including any an accepted submit starts meanwhile,
 * until @p deadline (CT_ETIMEDOUT), with the parking core's @p flags. Skips
 * the caller if it is one of them (CT_EJOINSELF). A joined worker has left
 * the thread registry: ct_active_count() no longer counts it. */
static int join_workers(struct ct__executor *ex, int64_t deadline, unsigned flags)
{
	int rc = 0;
	unsigned tries = 0;
	for (size_t i = 0;;) {
		ct__lock_acquire_nonnull(&ex->lock);
		ct_thread_t *t = i < ex->nthreads ? ex->threads[i] : NULL;
		ct_lock_release(&ex->lock);
		if (t) {
			int r = ct__thread_join_until(t, deadline, flags);
			if (r == CT_EJOINSELF)
				rc = r;
			else if (r < 0)
				return r;
			i++;
			/* GCOVR_EXCL_BR_START: a race no test can aim at: every worker joined while
			 * an accepted submit is still starting one (work pending, a thread not yet
			 * listed) */
		} else if (pending(ex, NULL) == 0) {
			/* Nothing accepted is left: no worker can start. */
			return rc;
		} else if (ct__expired(deadline)) {
			/* GCOVR_EXCL_BR_STOP */
			return CT_ETIMEDOUT;
		} else {
			backoff(&tries);
		}
	}
}

/* In a fork child a pool has no worker, but may have work queued that the
 * parent's workers had not taken: a shutdown or destroy starts a worker to
 * run it (or, if none can start, ends it with CT_EBROKEN) rather than wait
 * for workers that are gone. Elsewhere a pool with work queued has a
 * worker (a submit that cannot start one is refused), so this does
 * nothing. */
static void revive(struct ct__executor *ex)
{
	if (atomic_load(&ex->nworkers) != 0 || pending(ex, NULL) == 0)
		return;
	if (start_workers(ex, 1) < 0)
		drain(ex, CT_EBROKEN);
}

/* Closes the pool (and cancels what is queued, if asked); with @p wait,
 * waits for the workers until @p deadline. */
static int shutdown_until(ct_executor_t *handle, bool wait, bool cancel_futures, int64_t deadline)
{
	struct ct__executor *ex = ct__executor_of(handle);
	if (!ex)
		return CT_EINVAL;
	atomic_fetch_or(&ex->submitted, CLOSED);
	if (cancel_futures) {
		int none = 0;
		atomic_compare_exchange_strong(&ex->abandon, &none, CT_ECANCELLED);
		drain(ex, CT_ECANCELLED);
	}
	wake_all(ex);
	revive(ex);
	return wait ? join_workers(ex, deadline, CT__PARK_INTERRUPTIBLE) : 0;
}

int ct_executor_shutdown(ct_executor_t *handle, bool wait, bool cancel_futures)
{
	return shutdown_until(handle, wait, cancel_futures, CT__NO_DEADLINE);
}

int ct_executor_shutdown_timeout(ct_executor_t *handle, bool cancel_futures, double timeout)
{
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	return rc < 0 ? rc : shutdown_until(handle, true, cancel_futures, deadline);
}

void ct_executor_destroy(ct_executor_t *handle)
{
	struct ct__executor *ex = ct__executor_of(handle);
	if (!ex)
		return;
	CT__DEBUG_DESTROYED(handle);
	handle->ct__impl = NULL;
	close_pool(ex);
	revive(ex);
	/* Python's shutdown(wait=True) joins every worker: once this returns
	 * they are gone, not only done with their work. Not interruptible:
	 * the caller may free what the tasks use as soon as this returns. A
	 * worker destroying its own pool cannot wait for itself. */
	if (!current_worker || current_worker->ex != ex)
		(void)join_workers(ex, CT__NO_DEADLINE, 0);
	executor_unref(ex);
}

struct ct__executor *ct__executor_of(const ct_executor_t *handle)
{
	return handle ? handle->ct__impl : NULL;
}

uint32_t ct__executor_max_workers(const struct ct__executor *ex)
{
	return ex->max_workers;
}

int ct__executor_abandoned(const struct ct__executor *ex)
{
	/* Relaxed: set once (pool_break()); a worker that misses it runs the task, as if it had
	 * started before. */
	return atomic_load_explicit(&((struct ct__executor *)ex)->abandon, memory_order_relaxed);
}

uint64_t ct__executor_pending(struct ct__executor *ex)
{
	return pending(ex, NULL);
}

int ct_executor_max_workers(const ct_executor_t *handle)
{
	struct ct__executor *ex = ct__executor_of(handle);
	return ex ? (int)ex->max_workers : CT_EINVAL;
}

int ct_executor_workers(const ct_executor_t *handle)
{
	struct ct__executor *ex = ct__executor_of(handle);
	return ex ? (int)atomic_load(&ex->nworkers) : CT_EINVAL;
}
