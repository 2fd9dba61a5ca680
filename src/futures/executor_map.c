/* Executor.map: n calls of one function, results in input order.
 *
 * Python submits one future per item. Here a map is one job: an array of
 * items (each with its own state word, as a future's), a claim counter
 * and K = min(n, max_workers) helper entries; a worker that takes a
 * helper claims items one at a time, in input order, until none is left.
 * So K workers can run the items at once, as with n futures, but a map
 * costs one allocation however long it is.
 *
 * Why one at a time: the items start in input order, as Python's
 * futures leave its queue, and a helper never holds items it has not
 * started. An item that waits for a later one, which Python's pool runs
 * on another worker, would wait forever if that later item sat in the
 * same helper's claim; and a slow item would hold the rest of its claim
 * back while other workers idle.
 *
 * Helpers join as they pay. A map queues one helper and holds the other
 * K - 1 back (the pool counts them, see ct__executor_enqueue()). Items of
 * a trivial function run fastest on one worker: two helpers pass the
 * claim counter's line and the items' lines between their CPUs at every
 * item (a trivial function over 1000 items on a 2-CPU Intel VM: 60-70 ns
 * an item with every helper queued, 33-40 with one, medians of 5). More
 * are queued, each time as many as are queued already:
 *   - by a helper whose items are slow: ITEM_WORTH_A_HELPER_NS or more
 *     each, and what is left worth more than two wake-ups
 *     (look_at_pace());
 *   - by the caller, when no item was claimed for MAP_STALL_NS (the
 *     watch, await_items()): the items running wait, or take long, and
 *     Python's pool would have run the next ones on its other workers;
 *   - all at once by the caller when it waits item by item (after a
 *     failure), which it does without the watch;
 *   - all at once by the pool when anything else is queued after the map
 *     (release_held() in executor.c): work starts in the order it came,
 *     as with Python's one queue.
 * So nothing waits for a held helper for long where Python's pool would
 * have run it: at most MAP_STALL_NS per doubling while items wait.
 *
 * A claimed item has started: nothing can cancel it any more. A cancel
 * stops the claims (stop_claims(): the claim counter becomes n, and the
 * first item nobody claimed is kept) and moves the items from there on to
 * CANCELLED, exactly the ones a pending future's cancel would take. So
 * running an item costs its claim and the one atomic update of its state
 * word that publishes its outcome (and wakes a caller parked on it),
 * PENDING to FINISHED; a helper counts the items it finished in one
 * update when it runs out of them, or at once when one fails (the caller
 * may stop there). The caller cancels what is left after a failure or a
 * timeout (Python's iterator does it when it is dropped); the pool does on
 * shutdown with cancel_futures and when it breaks.
 *
 * The items are packed, 32 bytes each: the map mostly runs on one helper,
 * and packed items halve the line transfers from the caller, who fills
 * them, to the worker and back (one worker, a trivial function, both
 * threads spinning, on a 2-CPU Intel VM: 45-58 ns an item with a line
 * each, 28-29 packed). Helpers that share a map of slow items share
 * lines too, which costs little next to the items. The claim counter,
 * written at every claim, is kept off the line of what every item's run
 * reads (fn, n, items).
 */
#include <sched.h>
#include <stdalign.h>
#include <stddef.h>

#include "cthreading/executor.h"

#include "core/debug_hooks.h"
#include "futures/executor_internal.h"
#include "park/fork.h"
#include "park/park.h"

struct map_item {
	_Atomic uint32_t state;
	int status;
	void *arg;
	void *result;
};

/* The bytes between two items: a cache line each where helpers share
 * the map, packed where one runs it all (see above). */
#define ITEM_SIZE 32u
_Static_assert(sizeof(struct map_item) <= ITEM_SIZE, "an item fits its place");

struct map_helper {
	struct ct__work work; /* first */
	struct map_job *job;
};

/* How helpers join (see "Helpers join as they pay"). */
#define ITEM_WORTH_A_HELPER_NS 150
#define PACE_EVERY 32
#define FIRST_ITEM_NS 2000
#define MAP_STALL_NS 100000

/* The caller's wake-up word: WAITING while it sleeps (or is about to). */
#define WAITING 1u

struct map_job {
	_Atomic uint32_t refs;	/* the caller's and one per helper */
	_Atomic size_t settled; /* items finished or cancelled */
	atomic_bool failed;	/* an item finished with a non-zero status */
	_Atomic uint32_t wake;	/* see WAITING */
	/* Helpers queued so far (see "Helpers join as they pay" above);
	 * `nhelpers` once no more will be. */
	_Atomic uint32_t released;
	_Atomic int cancel_code; /* what cancelled items report */
	atomic_bool swept_by_pool;
	_Atomic size_t next; /* the next item to claim */
	/* Where the claims stopped: the first item nobody claimed, once a
	 * cancel stopped them (NOT_STOPPED until then, STOPPING meanwhile). */
	_Atomic size_t unclaimed;
	/* debugging: the map's handle (a key, never read) and when it was
	 * called, in the layer's clock (0: not known). From here on, read
	 * only once the map is queued. */
	alignas(64) const ct_executor_t *handle;
	int64_t queued;
	ct_task_fn fn;
	size_t n;
	struct ct__executor *ex;
	struct ct__held held; /* on the pool's list while it holds helpers */
	struct map_helper *helpers;
	uint32_t nhelpers; /* K = min(n, max_workers) */
	alignas(64) unsigned char items[];
};

static struct map_item *item_at(struct map_job *job, size_t i)
{
	return (struct map_item *)(job->items + i * ITEM_SIZE);
}

/* @p count more items are done: wakes the caller if they were the last,
 * or one failed. */
static void items_settled(struct map_job *job, size_t count, bool failed)
{
	if (failed)
		atomic_store(&job->failed, true);
	if ((atomic_fetch_add(&job->settled, count) + count == job->n || failed) &&
	    atomic_exchange(&job->wake, 0) == WAITING)
		ct__park_wake(&job->wake, 1);
}

static void job_unref(struct map_job *job)
{
	if (atomic_fetch_sub(&job->refs, 1) == 1)
		ct__free(job);
}

/* Queues helpers first..last-1, which the map held back. */
static void queue_helpers(struct map_job *job, uint32_t first, uint32_t last)
{
	for (uint32_t i = first; i < last; i++) {
		struct ct__work *w = &job->helpers[i].work;
		/* GCOVR_EXCL_BR_START: as in ct__executor_release(): the pool broke meanwhile */
		if (ct__executor_release(job->ex, w) < 0)
			/* GCOVR_EXCL_BR_STOP */
			ct__map_abandon(w, CT_EBROKEN);
	}
}

/* Queues more helpers, if any is held back: as many as are queued
 * already (or all the rest, if fewer), so that a map of slow items has
 * all its helpers after a few looks. */
static void release_helpers(struct map_job *job)
{
	/* Relaxed: the compare-and-swap decides; the queue publishes the helper. */
	uint32_t r = atomic_load_explicit(&job->released, memory_order_relaxed), more;
	do {
		if (r >= job->nhelpers)
			return;
		more = r < job->nhelpers - r ? r : job->nhelpers - r;
		/* GCOVR_EXCL_BR_START: a race no test can aim at: two helpers, or a helper and the
		 * caller, release at once */
	} while (!atomic_compare_exchange_weak(&job->released, &r, r + more));
	/* GCOVR_EXCL_BR_STOP */
	queue_helpers(job, r, r + more);
}

/* Queues every helper still held back. */
static void release_rest(struct map_job *job)
{
	uint32_t r = atomic_exchange(&job->released, job->nhelpers);
	if (r < job->nhelpers)
		queue_helpers(job, r, job->nhelpers);
}

static struct map_job *job_of(struct ct__held *node)
{
	return (struct map_job *)((char *)node - offsetof(struct map_job, held));
}

void ct__map_release_held(struct ct__held *node)
{
	release_rest(job_of(node));
}

void ct__map_forget_held(struct ct__held *node)
{
	struct map_job *job = job_of(node);
	/* Its held helpers' references stay: the job outlives the child's
	 * use of it, as a future a gone thread waited on does. */
	atomic_store(&job->released, job->nhelpers);
}

/* No helper will be queued any more (no item is left to claim, or the map
 * is over): the pool stops holding the rest back, and their references
 * go. Any number of calls. */
static void retire_helpers(struct map_job *job)
{
	uint32_t r = atomic_exchange(&job->released, job->nhelpers);
	if (r >= job->nhelpers)
		return;
	ct__executor_unreserve(job->ex, job->nhelpers - r);
	/* Never the last reference: the caller of this function holds one
	 * (the map's caller its own, a helper its own). */
	atomic_fetch_sub(&job->refs, job->nhelpers - r);
}

#define NOT_STOPPED SIZE_MAX
#define STOPPING (SIZE_MAX - 1)

/* Stops the claims: returns the first item nobody claimed (n when every
 * item was). The first cancel takes the claim counter's value as it sets
 * it to n; a second one, which finds the counter at n already, takes the
 * value the first kept. The STOPPING window is made inside fork's gate
 * (park/fork.h): a fork child never finds it open, where a shutdown's
 * drain or a worker's sweep would wait for it forever. */
static size_t stop_claims(struct map_job *job)
{
	size_t expected = NOT_STOPPED;
	ct__gate_enter();
	if (atomic_compare_exchange_strong(&job->unclaimed, &expected, STOPPING)) {
		size_t first = atomic_exchange(&job->next, job->n);
		atomic_store(&job->unclaimed, first < job->n ? first : job->n);
	}
	ct__gate_exit();
	size_t first;
	/* The other cancel is between its two stores above: a few instructions,
	 * unless its thread lost its CPU there. */
	/* GCOVR_EXCL_BR_START: a race no test can aim at: two cancels at once, one between the
	 * stores of the other */
	while ((first = atomic_load(&job->unclaimed)) == STOPPING)
		sched_yield();
	/* GCOVR_EXCL_BR_STOP */
	return first;
}

/* Cancels every item nobody claimed: a claimed one has started. Two
 * cancels may run at once (the caller's and the pool's): each settles
 * every such item, and the one that moved an item counts it. */
static void sweep(struct map_job *job, int code)
{
	int none = 0;
	atomic_compare_exchange_strong(&job->cancel_code, &none, code);
	size_t cancelled = 0;
	for (size_t i = stop_claims(job); i < job->n; i++) {
		_Atomic uint32_t *state = &item_at(job, i)->state;
		uint32_t old = ct__state_settle(state, CT__F_CANCELLED);
		if (ct__f_phase(old) == CT__F_PENDING) {
			ct__state_wake(state, old);
			cancelled++;
		}
	}
	if (cancelled)
		items_settled(job, cancelled, false);
}

/* Runs a claimed item (no cancel can take it); true if it failed.
 * PENDING + FINISHED = FINISHED: the flags (PARKED) come back with it. */
static bool run_item(struct map_job *job, struct map_item *it)
{
	void *result = NULL;
	int status = job->fn(it->arg, &result);
	it->result = result;
	it->status = status;
	/* Acq_rel: the release publishes the item's result and status with FINISHED (to
	 * item_outcome()'s acquire); the acquire orders it after the PARKED flag's setter,
	 * whose wait it must end. */
	ct__state_wake(&it->state,
		       atomic_fetch_add_explicit(&it->state, CT__F_FINISHED - CT__F_PENDING,
						 memory_order_acq_rel));
	return status != 0;
}

/* Claims the next item: false when none is left. */
static bool claim(struct map_job *job, size_t *i)
{
	/* Relaxed: only hands out indices. This and a cancel's exchange (stop_claims()) are
	 * read-modify-writes of one word, so each index goes to exactly one of them whatever
	 * the order; each item's state publishes its own outcome. */
	*i = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
	return *i < job->n;
}

/* Whether the pool gave up on its work (shutdown with cancel_futures, or
 * broken): then the items not started are cancelled, once for the job. */
static bool pool_gave_up(struct map_job *job, struct ct__executor *ex)
{
	int code = ct__executor_abandoned(ex);
	if (code && !atomic_exchange(&job->swept_by_pool, true))
		sweep(job, code);
	return code != 0;
}

/* Whether the map still holds helpers back. */
static bool helpers_held(struct map_job *job)
{
	/* Relaxed: a hint; release_helpers() decides. */
	return atomic_load_explicit(&job->released, memory_order_relaxed) < job->nhelpers;
}

/* A helper's look at its pace, after its item number @p ran. The map
 * queues more helpers when two looks in a row found the items since the
 * look before slow (ITEM_WORTH_A_HELPER_NS or more each; the first item
 * alone is allowed FIRST_ITEM_NS: it meets the lines the caller filled,
 * cold), and the items left would take longer at that pace than two
 * wake-ups (ct__spin_wake_ns()): the helper's, and the caller's, who
 * stops spinning once the helpers fill the CPUs. Else the helper would
 * come when the map is nearly over, and cost more than it saves. Two
 * looks, because one stretch of trivial items is now and then slow for a
 * reason of the machine's (an interrupt, the VM's host): a trivial map on
 * a 2-CPU VM took a second helper at about one map in five with one.
 * The looks come after items 1, 2, 4, 8, 16 and every PACE_EVERY items:
 * a clock read costs a trivial item's time. */
struct pace {
	int64_t since;
	size_t since_ran, next_look;
	bool slow; /* the last look found the items slow */
};

static bool items_slow(size_t ran, size_t items, int64_t took)
{
	return took >= (ran == 1 ? FIRST_ITEM_NS : (int64_t)items * ITEM_WORTH_A_HELPER_NS);
}

static void look_at_pace(struct map_job *job, struct pace *p, size_t ran)
{
	p->next_look = ran < PACE_EVERY ? 2 * ran : ran + PACE_EVERY;
	if (!helpers_held(job))
		return;
	int64_t now = ct__now_ns(), took = now - p->since;
	size_t items = ran - p->since_ran;
	bool was_slow = p->slow;
	p->slow = items_slow(ran, items, took);
	p->since = now;
	p->since_ran = ran;
	if (!p->slow || !was_slow)
		return;
	/* Relaxed: hints; a claim past n means none is left. */
	size_t claimed = atomic_load_explicit(&job->next, memory_order_relaxed);
	if (claimed < job->n &&
	    (double)(job->n - claimed) * (double)took / (double)items >= (double)ct__spin_wake_ns())
		release_helpers(job);
}

void ct__map_run(struct ct__work *w, struct ct__executor *ex)
{
	struct map_job *job = ((struct map_helper *)w)->job;
	size_t done = 0, ran = 0, i;
	struct pace pace = {.since = helpers_held(job) ? ct__now_ns() : 0, .next_look = 1};
	bool recording = false; /* debugging: a span over the items this helper claims */
	while (!pool_gave_up(job, ex) && claim(job, &i)) {
		if (!recording && (recording = CT__DEBUG_ON(CT__DEBUG_RECORD))) /* debugging */
			ct__debug()->task_begin(job->handle, job->queued);
		if (run_item(job, item_at(job, i))) {
			items_settled(job, done + 1, true);
			done = 0;
		} else {
			done++;
		}
		if (++ran == pace.next_look)
			look_at_pace(job, &pace, ran);
	}
	retire_helpers(job); /* no item is left to claim */
	if (recording)	     /* debugging: the span's end */
		ct__debug()->task_end(job->handle, NULL, (void (*)(void))job->fn);
	if (done)
		items_settled(job, done, false);
	job_unref(job);
}

void ct__map_abandon(struct ct__work *w, int code)
{
	struct map_job *job = ((struct map_helper *)w)->job;
	if (!atomic_exchange(&job->swept_by_pool, true))
		sweep(job, code);
	retire_helpers(job);
	job_unref(job);
}

static struct map_job *job_new(ct_task_fn fn, void *const *args, size_t n, uint32_t helpers)
{
	size_t head = sizeof(struct map_job);
	if (n > (SIZE_MAX - head - helpers * sizeof(struct map_helper)) / ITEM_SIZE)
		return NULL;
	struct map_job *job =
		ct__aligned_alloc(alignof(struct map_job),
				  head + n * ITEM_SIZE + helpers * sizeof(struct map_helper));
	if (!job)
		return NULL;
	atomic_init(&job->refs, 1 + helpers);
	atomic_init(&job->settled, 0);
	atomic_init(&job->failed, false);
	atomic_init(&job->wake, 0);
	atomic_init(&job->released, 1);
	job->held.next = job->held.prev = NULL;
	atomic_init(&job->cancel_code, 0);
	atomic_init(&job->swept_by_pool, false);
	atomic_init(&job->next, 0);
	atomic_init(&job->unclaimed, NOT_STOPPED);
	job->fn = fn;
	job->n = n;
	job->nhelpers = helpers;
	for (size_t i = 0; i < n; i++) {
		struct map_item *it = item_at(job, i);
		atomic_init(&it->state, CT__F_PENDING);
		it->status = 0;
		it->arg = args[i];
		it->result = NULL;
	}
	job->helpers = (struct map_helper *)(job->items + n * ITEM_SIZE);
	for (uint32_t i = 0; i < helpers; i++) {
		struct map_helper *h = &job->helpers[i];
		h->work.kind = CT__WORK_MAP;
		h->job = job;
		atomic_init(&h->work.next, NULL); /* each is queued alone */
	}
	return job;
}

/* What item i says once it is done: its status (its value in *result). */
static int item_outcome(struct map_job *job, size_t i, void **result)
{
	struct map_item *it = item_at(job, i);
	/* Acquire: pairs with the release of the item's phase change, so its outcome is seen. */
	if (ct__f_phase(atomic_load_explicit(&it->state, memory_order_acquire)) == CT__F_CANCELLED)
		return atomic_load(&job->cancel_code);
	*result = it->result;
	return it->status;
}

/* After the wait for item @p i ended with @p why (a timeout or a stop):
 * cancels what has not started and reports the rest as it stands. */
static void give_up(struct map_job *job, size_t i, int why, void **results, int *statuses)
{
	sweep(job, CT_ECANCELLED);
	if (!statuses)
		return;
	for (size_t j = i; j < job->n; j++) {
		void *value = NULL;
		/* Acquire: as in item_outcome(). */
		if (ct__f_done(
			    atomic_load_explicit(&item_at(job, j)->state, memory_order_acquire))) {
			statuses[j] = item_outcome(job, j, &value);
			if (results)
				results[j] = value;
		} else {
			statuses[j] = why;
		}
	}
}

struct watch {
	struct map_job *job;
	struct ct__waiter *self;
};

/* The caller's long spin ends when the map does, an item fails, a stop
 * is requested, or the helpers queued fill the CPUs. */
static bool map_over(const void *ctx)
{
	const struct watch *w = ctx;
	/* Relaxed: only decide when to stop spinning; await_items() and the park after it read
	 * them again. */
	/* GCOVR_EXCL_BR_START: a race no test can aim at: which of the four ends a spin of a few
	 * microseconds (a failure or a stop that comes after it ends the park instead) */
	return atomic_load_explicit(&w->job->settled, memory_order_relaxed) == w->job->n ||
	       atomic_load_explicit(&w->job->failed, memory_order_relaxed) ||
	       atomic_load_explicit(&w->self->stop, memory_order_relaxed) ||
	       atomic_load_explicit(&w->job->released, memory_order_relaxed) >= ct__cpus;
	/* GCOVR_EXCL_BR_STOP */
}

/* While the helpers queued leave a CPU free, the caller spins before it
 * sleeps (the long spin, ct__spin_wake_until): the map often ends within
 * it, and then the last helper skips the wake-up's system call and the
 * caller the sleep's. With the idle worker's long spin (executor.c,
 * idle_wait()), one worker mapping over 1000 items on the other CPU of a
 * 2-CPU VM whose wake-ups took up to 50 us: 33 ns an item, 90 without
 * either (medians of 9 runs). Once the helpers fill the CPUs, the spin
 * would take a CPU from one of them (two helpers there: 94 ns an item, 67
 * without it): it stops. Not when the deadline is nearer than the longest
 * spin, which must not delay a timeout. Returns when the spin began, for
 * the lesson of ct__spin_wake_lesson() (0: none). */
static int64_t watch_items(struct map_job *job, int64_t deadline)
{
	int64_t began = 0;
	/* Relaxed: a hint; the spin reads it again (map_over()). */
	if (atomic_load_explicit(&job->released, memory_order_relaxed) < ct__cpus &&
	    (deadline == CT__NO_DEADLINE || deadline - ct__now_ns() > CT__SPIN_MAX_NS))
		ct__spin_wake_until(map_over, &(struct watch){job, ct__waiter_self()}, &began);
	return began;
}

/* Sleeps until every item is done or, unless all are wanted, one failed:
 * one wake-up for the whole map. A timeout or a stop ends it too; the
 * item by item collection that follows sees them again. */
static void await_items(struct map_job *job, int64_t deadline, bool all)
{
	size_t claims = atomic_load(&job->next);
	for (;;) {
		atomic_store(&job->wake, WAITING);
		if (atomic_load(&job->settled) == job->n || (!all && atomic_load(&job->failed)))
			break;
		int64_t until = deadline;
		if (helpers_held(job)) {
			int64_t look = ct__now_ns() + MAP_STALL_NS;
			until = look < deadline ? look : deadline;
		}
		int rc = ct__park_wait(&job->wake, WAITING, until, CT__PARK_INTERRUPTIBLE);
		if (rc == CT_ETIMEDOUT && until != deadline) {
			/* The watch: no item started since the last look, and a
			 * helper is held back. */
			size_t now = atomic_load(&job->next);
			if (now == claims)
				release_helpers(job);
			claims = now;
		} else if (rc < 0) {
			break;
		}
	}
	atomic_store(&job->wake, 0);
}

static int collect(struct map_job *job, int64_t deadline, void **results, int *statuses)
{
	int first = 0;
	int64_t began = watch_items(job, deadline);
	await_items(job, deadline, statuses != NULL);
	ct__spin_wake_lesson(began);
	/* Items before a failure may wait for later ones, which Python's
	 * workers would run: from here on the caller waits item by item, with
	 * no watch, so every helper comes. */
	if (atomic_load(&job->settled) != job->n)
		release_rest(job);
	for (size_t i = 0; i < job->n; i++) {
		int rc = ct__state_wait(&item_at(job, i)->state, deadline);
		if (rc < 0) {
			give_up(job, i, rc, results, statuses);
			return first ? first : rc;
		}
		void *value = NULL;
		int status = item_outcome(job, i, &value);
		if (results)
			results[i] = value;
		if (statuses)
			statuses[i] = status;
		if (status != 0 && !first) {
			first = status;
			if (!statuses) {
				/* Python's iterator raises here; dropping it
				 * cancels the futures not yet started. */
				sweep(job, CT_ECANCELLED);
				return first;
			}
		}
	}
	return first;
}

int ct_executor_map(ct_executor_t *handle, ct_task_fn fn, void *const *args, size_t n,
		    double timeout, void **results, int *statuses)
{
	struct ct__executor *ex = ct__executor_of(handle);
	if (!ex || !fn || (n && !args))
		return CT_EINVAL;
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	if (rc < 0 || n == 0)
		return rc;
	uint32_t max = ct__executor_max_workers(ex);
	uint32_t helpers = n < max ? (uint32_t)n : max;
	struct map_job *job = job_new(fn, args, n, helpers);
	if (!job)
		return CT_ENOMEM;
	job->handle = handle; /* debugging: the span's key and its queueing delay's start */
	job->queued = CT__DEBUG_ON(CT__DEBUG_RECORD) ? ct__debug()->now() : 0;
	job->ex = ex;
	rc = ct__executor_enqueue(ex, &job->helpers[0].work, &job->helpers[0].work, 1, helpers - 1,
				  helpers > 1 ? &job->held : NULL);
	if (rc < 0) {
		ct__free(job);
		return rc;
	}
	rc = collect(job, deadline, results, statuses);
	retire_helpers(job); /* none is needed any more */
	if (helpers > 1)
		ct__executor_unlist(ex, &job->held);
	job_unref(job);
	return rc;
}
