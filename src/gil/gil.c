/* The GIL: CPython's global interpreter lock, without its convoy effect.
 *
 * THE BASELINE: CPYTHON'S ALGORITHM (Python/ceval_gil.c)
 *
 * One thread at a time holds the GIL. A thread that wants it waits one
 * switch interval (5 ms by default); if the holder kept it all that time
 * (no switch meanwhile), the waiter asks it to drop it. The holder checks
 * for that request at every turn of its loop (the checkpoint) and drops the
 * GIL when it sees it. With forced switching, the thread that dropped on
 * request cannot take the GIL straight back before another thread has had
 * it: otherwise, on a multi-core machine, it would usually win the race
 * against the waiter it dropped for, which is still waking up.
 *
 * WHAT IS DIFFERENT HERE, AND WHY
 *
 * 1. Direct hand-off. A release with waiters never leaves the GIL free: it
 *    passes, still locked, to the chosen waiter, and a thread dropping on
 *    request (or yielding) queues behind, in the same critical section.
 *    Forced switching then costs one wake-up, the new holder's, where
 *    CPython pays two (the waiter's on gil_cond, then the dropper's on
 *    switch_cond), and no third thread can barge in between.
 *
 * 2. The queue of waiters is ours, in hand-off order, where CPython lets
 *    the OS pick whom a condition variable wakes. Each waiter parks on a
 *    word in its own node (struct ct__gil_waiter, on its stack), so a timer
 *    going off never costs it its place, as leaving a queue of the parking
 *    core would.
 *
 * 3. The convoy effect. In CPython a thread coming back from a blocking
 *    call waits like any other: a whole interval behind a CPU-bound thread
 *    before it even asks. An I/O thread next to one CPU-bound thread so
 *    gets the GIL back about 5 ms after each read; in a published
 *    measurement an echo server next to one CPU-bound thread fell from
 *    about 30,000 to about 100 requests per second (CPython issue 7946,
 *    "Convoy effect with I/O bound threads and New GIL"). Here a thread
 *    coming back from a blocking call (the parking core's resume hook,
 *    ct_gil_restore(), the end of CT_GIL_ALLOW_THREADS,
 *    ct_gil_state_ensure()) is "resuming", and:
 *      - asks for the GIL as soon as the holder has had it for MIN_SLICE
 *        (100 µs), instead of after an interval: usually at once, since
 *        the holder got the GIL when this thread blocked;
 *      - goes ahead of the CPU-bound waiters (its due time, the hand-off
 *        order below, is its arrival; theirs is arrival + interval).
 *    The holder drops at its next checkpoint, and the resuming thread runs
 *    a few microseconds later (4-40 µs measured on a 2-CPU virtual
 *    machine, mostly one futex wake-up). bench/bench_gil.c, gil_io_latency:
 *    a 100 µs sleep next to a CPU-bound thread overshoots by 0.1-0.2 ms
 *    here (the OS alone: 0.06-0.12 ms) and by 5.2-5.5 ms under python3.11.
 *
 *    MIN_SLICE is the bound on that privilege. Without it, a thread that
 *    blocks for a few microseconds in a loop would take the GIL from a
 *    CPU-bound thread at every return. Each such switch costs two futex
 *    wake-ups (the resuming thread's, then the CPU-bound thread's when the
 *    GIL comes back), 7-11 µs each on this kind of virtual machine, so
 *    the CPU-bound thread would run a few microseconds per 20 µs of
 *    switching. With MIN_SLICE = 100 µs a holder keeps the GIL at least
 *    100 µs whenever a resuming thread takes it, so even then a CPU-bound
 *    thread keeps 100 µs out of about 120 µs, over 80% of its time, while a
 *    resuming thread waits at most 100 µs (50 times less than CPython's
 *    5 ms). Ordinary blocking calls (I/O, sleeps, waits for other threads)
 *    last more than 100 µs and preempt at once. MIN_SLICE never exceeds
 *    the switch interval, if the user sets a shorter one. Measured
 *    (gil_resume_bound: a thread that gives the GIL up and takes it back in
 *    a tight loop next to a CPU-bound one): the loop gets the GIL 1,000 to
 *    4,800 times a second (python3.11's time.sleep(0) loop: about 190),
 *    and the CPU-bound thread keeps 0.75 to 1.0 of what it does alone
 *    (the spread is this virtual machine's wake-up times).
 *
 * 4. Fairness among CPU-bound threads is CPython's interval rule plus a
 *    definite order: they queue by due time = arrival + interval, which is
 *    first come, first served, and a thread that dropped on request queues
 *    last. N CPU-bound threads so take the GIL in turn, one interval each.
 *    Nobody starves: the hand-off goes to the earliest due time, so a
 *    CPU-bound waiter that has waited one interval goes before any
 *    resuming thread that arrives after that, and every thread is queued
 *    at most once. Measured (gil_cpu_fairness, 4 threads, 1 s): the
 *    smallest share is 0.94-0.98 of the largest (python3.11: 0.69-0.88).
 *
 * TIMERS. A waiter sleeps until its request time, max(due, slice start +
 * hold), where hold is the interval (CPU-bound) or MIN_SLICE (resuming).
 * Then, if no drop is pending, it asks the holder to drop (CPython's
 * gil_drop_request), and re-checks every interval after. A hand-off starts
 * a new slice; a resuming waiter whose timer now goes off too late (it had
 * asked already, and the GIL went to another waiter) is poked.
 *
 * THE EVAL BREAKER. A drop request reaches the holder through its eval
 * breaker (ct__gil_tls_breaker, a thread-local word, as in CPython 3.13):
 * the address of the GIL it holds, with bit 0 set when it must drop it; 0
 * when it holds none. ct_gil_checkpoint(gil) compares it with `gil`: one
 * load and one branch, and any other value (a request, or a caller that
 * does not hold this GIL) takes the slow path, so misuse is always caught.
 * Other threads write a holder's word only under the GIL's internal lock,
 * while that thread holds the GIL; a holder cannot complete a release
 * without that lock while anyone waits (the WAITERS bit makes its release
 * take the slow path), so the word is never written after its thread has
 * let the GIL go, let alone ended.
 *
 * THE STATE WORD
 *
 *   0                            never used (or destroyed); not yet in the
 *                                list of GILs that fork() resets
 *   REGISTERED                   free
 *   REGISTERED|LOCKED            held, nobody waits: release is one CAS
 *   REGISTERED|LOCKED|WAITERS    held, threads queued: release hands over
 *
 * Free with waiters never happens. WAITERS is set and cleared only under
 * the internal lock, and only a thread holding that lock queues or picks a
 * waiter. Acquire and release are a single compare-and-swap when nobody
 * waits.
 *
 * LOCKS. The internal lock of a GIL is a raw lock of the parking core's
 * kind, from a small table indexed by the GIL's address (so CT_GIL_INIT
 * stays all zero on every platform). It is held for a few dozen
 * instructions, never while parking, so the parking core's suspend hook,
 * which runs with the caller's parker armed, may take it. Order: internal
 * lock, then a bucket lock of the parking core (wake-ups); never the other
 * way round.
 */
#include "cthreading/gil.h"

#include <math.h>
#include <stdalign.h>
#include <string.h>

#include "core/debug_hooks.h"
#include "core/internal.h"
#include "park/park.h"
#include "park/parker.h"
#include "thread/thread_internal.h"

/* State bits. */
#define REGISTERED 1u
#define LOCKED 2u
#define WAITERS 4u

/* The eval breaker's request bit (a GIL is at least 4-byte aligned). */
#define DROP ((uintptr_t)1)

#define DEFAULT_INTERVAL_NS INT64_C(5000000) /* CPython's 5 ms */
#define MIN_INTERVAL_NS INT64_C(1000)	     /* CPython's floor: 1 µs */
#define MIN_SLICE_NS INT64_C(100000)	     /* see point 3 above */
/* A waiter that found the holder in the few instructions of publishing
 * itself retries this much later. */
#define RETRY_NS INT64_C(20000)

#define NLOCKS 64

/* Declared as gil.h does (with its _Alignas), as C requires. */
_Thread_local CT__ATOMIC(uintptr_t) ct__gil_tls_breaker CT__TLS_MODEL;

/* A waiter's signal word, which it parks on. */
enum {
	SIG_WAITING = 0,
	SIG_REARM = 1,	 /* the slice changed: recompute the timer */
	SIG_GRANTED = 2, /* the GIL is yours */
};

struct ct__gil_waiter {
	struct ct__gil_waiter *next;
	struct ct__thread *thread;
	int64_t since;	 /* when it began to wait */
	int64_t due;	 /* the hand-off order: earliest first */
	int64_t wake_at; /* when its timer goes off */
	bool resuming;	 /* back from a blocking call (point 3) */
	bool spin;	 /* expects the GIL soon: spin before sleeping */
	bool chosen;	 /* handed the GIL; the grant is on its way */
	_Atomic uint32_t signal;
};

enum why_switch { FORCED, YIELDED };

#define GIL_LOCK_INIT()                  \
	{                                \
		.lock = CT__RAWLOCK_INIT \
	}
static struct {
	alignas(64) struct ct__rawlock lock;
} locks[NLOCKS] = {CT__REP64(GIL_LOCK_INIT)};
_Static_assert(NLOCKS == 64, "the initializer above repeats 64 times");

/* Every GIL ever acquired, for fork(): under registry_lock. */
static struct ct__rawlock registry_lock = CT__RAWLOCK_INIT;
static ct_gil_t *registry;

static ct_gil_t default_gil = CT_GIL_INIT;

/* ---- small helpers ------------------------------------------------------ */

static struct ct__rawlock *lock_of(const ct_gil_t *g)
{
	uint64_t h = (uint64_t)(uintptr_t)g * UINT64_C(0x9E3779B97F4A7C15);
	return &locks[h >> 58].lock; /* 64 = 2^6 entries */
}

static void gil_lock(const ct_gil_t *g)
{
	ct__rawlock_lock(lock_of(g));
}

static void gil_unlock(const ct_gil_t *g)
{
	ct__rawlock_unlock(lock_of(g));
}

/* Memory orders of the words below, where the code does not say:
 *   - the interval (a setting) and the slice start (read by waiters to
 *     decide when to ask for a drop) are relaxed: a stale value shifts one
 *     request in time, and nothing else is read through them;
 *   - each statistic's writers are serialised by one lock: the GIL
 *     itself for what the new holder counts (acquisitions, switches,
 *     waits; the state word's acquire and release order the holders), the
 *     GIL's bucket lock for the rest (drop requests, forced drops,
 *     yields); so a relaxed load and store add up; readers get snapshots;
 *   - a thread's eval breaker is relaxed (see ct_gil_checkpoint in gil.h):
 *     its drop bit is a request, and the new holder's address is stored
 *     before the hand-off that wakes it;
 *   - WAITERS, a waiter's signal other than the grant, and ct__drop change
 *     under the GIL's bucket lock (gil_lock): relaxed, ordered by it;
 *   - REGISTERED changes under the registry lock; its accesses keep the
 *     default sequential consistency, on a path taken once per GIL. */
static int64_t interval_ns(const ct_gil_t *g)
{
	/* Relaxed: a setting (see above). */
	int64_t ns = atomic_load_explicit(&g->ct__interval_ns, memory_order_relaxed);
	return ns ? ns : DEFAULT_INTERVAL_NS;
}

static int64_t min_slice_ns(const ct_gil_t *g)
{
	int64_t interval = interval_ns(g);
	return interval < MIN_SLICE_NS ? interval : MIN_SLICE_NS;
}

static uint64_t stat_get(const ct_gil_t *g, int i)
{
	/* Relaxed: a snapshot, or the load of its one writer (see above). */
	return atomic_load_explicit(&g->ct__stats[i], memory_order_relaxed);
}

/* Counters have one writer at a time: the holder (serialised by the GIL
 * itself) or, for the request counters, a thread under the internal lock. */
static void stat_add(ct_gil_t *g, int i, uint64_t n)
{
	/* Relaxed: one writer at a time (see above). */
	atomic_store_explicit(&g->ct__stats[i], stat_get(g, i) + n, memory_order_relaxed);
}

static void set_breaker(_Atomic uintptr_t *breaker, uintptr_t value)
{
	/* Relaxed: see ct_gil_checkpoint() in gil.h and the notes above. */
	atomic_store_explicit(breaker, value, memory_order_relaxed);
}

static bool holds(const struct ct__thread *self, const ct_gil_t *g)
{
	return self && ct__thread_gil(self) == g;
}

/* ---- the list of GILs, for fork() --------------------------------------- */

static void register_gil(ct_gil_t *g)
{
	ct__rawlock_lock(&registry_lock);
	/* GCOVR_EXCL_BR_START: another thread registering the same GIL between the hint and the
	 * lock: a race */
	if (!(atomic_load(&g->ct__state) & REGISTERED)) {
		/* GCOVR_EXCL_BR_STOP */
		bool listed = false;
		/* GCOVR_EXCL_BR_START: a GIL in the list always has REGISTERED (init unlists it,
		 * destroy clears both): the list never has it here */
		for (ct_gil_t *r = registry; r && !listed; r = r->ct__next)
			listed = r == g;
		/* GCOVR_EXCL_BR_STOP */
		/* GCOVR_EXCL_BR_START: as above: never listed here */
		if (!listed) {
			/* GCOVR_EXCL_BR_STOP */
			g->ct__next = registry;
			registry = g;
		}
		atomic_fetch_or(&g->ct__state, REGISTERED);
	}
	ct__rawlock_unlock(&registry_lock);
}

static void unregister_gil(ct_gil_t *g)
{
	for (ct_gil_t **p = &registry; *p; p = &(*p)->ct__next) {
		if (*p == g) {
			*p = g->ct__next;
			break;
		}
	}
}

/* ---- becoming the holder ------------------------------------------------ */

/* Publishes a new holder: its eval breaker, then itself, then its slice. By
 * the thread taking a free GIL, or by the thread handing it over. */
static void publish_holder(ct_gil_t *g, struct ct__thread *t, int64_t now)
{
	set_breaker(t->gil_breaker, (uintptr_t)g);
	/* Release: a waiter that reads the holder (acquire) may then write
	 * to its breaker, after the store above. */
	atomic_store_explicit(&g->ct__holder, t, memory_order_release);
	/* Relaxed: the slice start (see above). */
	atomic_store_explicit(&g->ct__slice_start, now, memory_order_relaxed);
}

/* The new holder's own bookkeeping, while it holds the GIL. */
static void now_holding(ct_gil_t *g, struct ct__thread *self, int64_t waited_ns)
{
	self->w->holds = g;
	CT__DEBUG_RECORD_HOOK(gil_taken(g)); /* debugging: a hold begins */
	stat_add(g, CT__GIL_ACQUISITIONS, 1);
	if (g->ct__last_holder != self) {
		g->ct__last_holder = self;
		stat_add(g, CT__GIL_SWITCHES, 1);
	}
	if (waited_ns > 0) {
		stat_add(g, CT__GIL_TOTAL_WAIT_NS, (uint64_t)waited_ns);
		if ((uint64_t)waited_ns > stat_get(g, CT__GIL_LONGEST_WAIT_NS))
			/* Relaxed: a statistic (see above). */
			atomic_store_explicit(&g->ct__stats[CT__GIL_LONGEST_WAIT_NS],
					      (uint64_t)waited_ns, memory_order_relaxed);
	}
}

/* ---- the queue of waiters (all under the internal lock) ------------------ */

static void enqueue(ct_gil_t *g, struct ct__gil_waiter *w)
{
	struct ct__gil_waiter **p = &g->ct__waiters;
	while (*p && (*p)->due <= w->due)
		p = &(*p)->next;
	w->next = *p;
	*p = w;
	/* Relaxed: under gil_lock (see above). */
	atomic_fetch_or_explicit(&g->ct__state, WAITERS, memory_order_relaxed);
}

static void init_waiter(struct ct__gil_waiter *w, const ct_gil_t *g, struct ct__thread *self,
			bool resuming, int64_t now)
{
	memset(w, 0, sizeof *w);
	atomic_init(&w->signal, SIG_WAITING);
	w->thread = self;
	w->since = now;
	w->resuming = resuming;
	w->spin = resuming;
	w->due = resuming ? now : now + interval_ns(g);
}

/* When w should ask for a drop, given the current slice. */
static int64_t request_time(const ct_gil_t *g, const struct ct__gil_waiter *w)
{
	int64_t hold = w->resuming ? min_slice_ns(g) : interval_ns(g);
	/* Relaxed: the slice start (see above). */
	int64_t at = atomic_load_explicit(&g->ct__slice_start, memory_order_relaxed) + hold;
	return at > w->due ? at : w->due;
}

/* Sets the holder's eval breaker: it drops at its next checkpoint. False if
 * the holder is between its compare-and-swap and publishing itself. */
static bool ask_to_drop(ct_gil_t *g, const struct ct__gil_waiter *w)
{
	/* Acquire: pairs with publish_holder()'s release, so the holder's breaker address is
	 * seen. */
	struct ct__thread *h = atomic_load_explicit(&g->ct__holder, memory_order_acquire);
	/* GCOVR_EXCL_BR_START: the holder between its compare-and-swap and publishing itself: a
	 * race */
	if (!h)
		return false;
	/* GCOVR_EXCL_BR_STOP */
	g->ct__drop = 1;
	/* Relaxed: a request (see above); the holder acts on it at its next checkpoint. */
	atomic_fetch_or_explicit(h->gil_breaker, DROP, memory_order_relaxed);
	stat_add(g, CT__GIL_DROP_REQUESTS, 1);
	if (w->resuming)
		stat_add(g, CT__GIL_PRIORITY_REQUESTS, 1);
	return true;
}

/* A waiter's timer went off (or it just queued): asks for a drop if its
 * time has come, and says when to look again. */
static int64_t next_check(ct_gil_t *g, const struct ct__gil_waiter *w, int64_t now)
{
	int64_t at = request_time(g, w);
	if (now < at)
		return at;
	/* GCOVR_EXCL_BR_START: ask_to_drop() fails only in the race above */
	if (!g->ct__drop && !ask_to_drop(g, w))
		return now + RETRY_NS;
	/* GCOVR_EXCL_BR_STOP */
	/* Asked (by us or another waiter): CPython re-asks every interval
	 * without a switch; a switch pokes us if we must look sooner. */
	return now + interval_ns(g);
}

/* A new slice began at `now`: wake the waiters whose timers would go off
 * later than their new request time. */
static void rearm_waiters(ct_gil_t *g)
{
	for (struct ct__gil_waiter *w = g->ct__waiters; w; w = w->next) {
		/* GCOVR_EXCL_BR_START: time passing: a timer set for a later re-ask than the new
		 * slice's (a waiter back from a blocking call that has asked already, or an
		 * interval shortened after a waiter's timer fired): which side of the comparison a
		 * waiter is on depends on when its timer last fired, which no test chooses */
		if (request_time(g, w) < w->wake_at) {
			/* GCOVR_EXCL_BR_STOP */
			w->wake_at = 0;
			/* Relaxed: under gil_lock (see above); the wake takes the signal's
			 * bucket lock, which the waiter's park validates under. */
			atomic_store_explicit(&w->signal, SIG_REARM, memory_order_relaxed);
			ct__park_wake(&w->signal, 1);
		}
	}
}

/* Gives the GIL, still locked, to the first waiter, which the caller then
 * grants (after dropping the lock). */
static struct ct__gil_waiter *hand_over(ct_gil_t *g, int64_t now)
{
	struct ct__gil_waiter *w = g->ct__waiters;
	g->ct__waiters = w->next;
	if (!w->next)
		/* Relaxed: under gil_lock (see above). */
		atomic_fetch_and_explicit(&g->ct__state, ~WAITERS, memory_order_relaxed);
	w->chosen = true;
	g->ct__drop = 0;
	publish_holder(g, w->thread, now);
	rearm_waiters(g);
	return w;
}

static uintptr_t grant_under_bucket_lock(void *ctx, struct ct__unpark_result r)
{
	struct ct__gil_waiter *w = ctx;
	(void)r;
	/* The last touch of w: once it sees this, it may return. Release:
	 * pairs with wait_turn()'s acquire, so the new holder sees what the
	 * last one did. */
	atomic_store_explicit(&w->signal, SIG_GRANTED, memory_order_release);
	return CT__TOKEN_HANDOFF;
}

/* Tells a chosen waiter the GIL is its own. Under the bucket lock of its
 * signal word, which its park validates under, so it cannot miss it. */
static void grant(struct ct__gil_waiter *w)
{
	ct__unpark_one(&w->signal, grant_under_bucket_lock, w);
}

/* Waits until w is granted the GIL. Called with the internal lock held;
 * returns without it. @p to_grant (may be NULL) is a waiter the caller
 * chose, granted once the lock is dropped. */
static void wait_turn(ct_gil_t *g, struct ct__gil_waiter *w, struct ct__gil_waiter *to_grant)
{
	for (;;) {
		/* Our own wait must keep the GIL out of it: we hold none, and
		 * the parking core must not recurse into this file. Spinning
		 * pays when the GIL should come within a wake-up's time (a
		 * resuming or yielding waiter, a chosen one); a CPU-bound
		 * waiter expects to wait an interval. */
		unsigned flags = CT__PARK_KEEP_GIL;
		int64_t deadline = CT__NO_DEADLINE;
		if (!w->chosen) {
			/* Relaxed: the waiter's own signal, under gil_lock (see above). */
			atomic_store_explicit(&w->signal, SIG_WAITING, memory_order_relaxed);
			deadline = w->wake_at = next_check(g, w, ct__now_ns());
			if (!w->spin)
				flags |= CT__PARK_NO_SPIN;
		}
		/* Chosen, the grant may have come before we got the lock.
		 * Relaxed: under gil_lock; a grant read here is acquired again
		 * below before the GIL is used. */
		uint32_t sig = atomic_load_explicit(&w->signal, memory_order_relaxed);
		gil_unlock(g);
		if (to_grant) {
			grant(to_grant);
			to_grant = NULL;
		}
		/* GCOVR_EXCL_BR_START: the grant coming between dropping gil_lock and parking: a
		 * race */
		if (sig != SIG_GRANTED) {
			/* GCOVR_EXCL_BR_STOP */
			CT__DEBUG_HOOK(waits_on(g, CT__OBJ_GIL));
			ct__park_wait(&w->signal, sig, deadline, flags);
		}
		/* Acquire: pairs with the grant's release, so the last holder's writes are seen. */
		if (atomic_load_explicit(&w->signal, memory_order_acquire) == SIG_GRANTED)
			return;
		gil_lock(g);
	}
}

/* ---- take and give ------------------------------------------------------ */

static void take_slow(ct_gil_t *g, struct ct__thread *self, bool resuming)
{
	/* Relaxed: a hint; register_gil() decides under the registry lock. */
	if (!(atomic_load_explicit(&g->ct__state, memory_order_relaxed) & REGISTERED))
		register_gil(g);
	gil_lock(g);
	int64_t now = ct__now_ns();
	/* Relaxed: a guess for the CASes below, under gil_lock. */
	uint32_t s = atomic_load_explicit(&g->ct__state, memory_order_relaxed);
	for (;;) {
		if (!(s & LOCKED)) {
			/* Acquire: pairs with the release that freed the GIL, so the last
			 * holder's writes are seen. */
			/* GCOVR_EXCL_BR_START: a weak CAS failing (a race, or spuriously) is not
			 * something a test can force */
			if (atomic_compare_exchange_weak_explicit(&g->ct__state, &s, s | LOCKED,
								  memory_order_acquire,
								  memory_order_relaxed)) {
				/* GCOVR_EXCL_BR_STOP */
				publish_holder(g, self, now);
				gil_unlock(g);
				now_holding(g, self, 0);
				return;
			}
			continue;
		}
		/* Held: mark it so that its release takes the slow path.
		 * Acquire: it synchronises with the last release, so the
		 * holder we may read later is never an earlier one. */
		if ((s & WAITERS) ||
		    /* GCOVR_EXCL_BR_START: a weak CAS failing (a release or another waiter in
		     * between, or spuriously): no test can force it */
		    atomic_compare_exchange_weak_explicit(&g->ct__state, &s, s | WAITERS,
							  memory_order_acquire,
							  memory_order_relaxed))
			/* GCOVR_EXCL_BR_STOP */
			break;
	}
	struct ct__gil_waiter w;
	init_waiter(&w, g, self, resuming, now);
	enqueue(g, &w);
	CT__DEBUG_RECORD_HOOK(gil_wait(g)); /* debugging: a wait begins */
	wait_turn(g, &w, NULL);
	now_holding(g, self, ct__now_ns() - w.since);
}

/* Takes the GIL; the caller holds none. */
static void take(ct_gil_t *g, struct ct__thread *self, bool resuming)
{
	self->gil_breaker = &ct__gil_tls_breaker;
	uint32_t expected = REGISTERED;
	/* Acquire: as in take_slow(). */
	if (CT__LIKELY(atomic_compare_exchange_strong_explicit(
		    &g->ct__state, &expected, REGISTERED | LOCKED, memory_order_acquire,
		    memory_order_relaxed))) {
		publish_holder(g, self, ct__now_ns());
		now_holding(g, self, 0);
		return;
	}
	take_slow(g, self, resuming);
}

static void give_slow(ct_gil_t *g)
{
	struct ct__gil_waiter *w = NULL;
	gil_lock(g);
	/* A request may have reached our breaker since we cleared it. */
	set_breaker(&ct__gil_tls_breaker, 0);
	/* GCOVR_EXCL_BR_START: WAITERS is set and cleared under gil_lock together with the queue,
	 * and only WAITERS leads here: a waiter is queued */
	if (g->ct__waiters) {
		/* GCOVR_EXCL_BR_STOP */
		w = hand_over(g, ct__now_ns());
	} else {
		g->ct__drop = 0;
		/* Release: frees the GIL; pairs with the acquiring CAS of the next taker. */
		atomic_fetch_and_explicit(&g->ct__state, ~(LOCKED | WAITERS), memory_order_release);
	}
	gil_unlock(g);
	/* GCOVR_EXCL_BR_START: as above: a waiter is queued */
	if (w)
		grant(w);
	/* GCOVR_EXCL_BR_STOP */
}

/* Gives the GIL up; the caller holds it. */
static void give(ct_gil_t *g, struct ct__thread *self)
{
	CT__DEBUG_RECORD_HOOK(gil_given(g)); /* debugging: the hold ends */
	self->w->holds = NULL;
	/* Relaxed: a waiter that still reads this thread only sets a drop bit that it clears on
	 * its next take; the release below publishes what it did. */
	atomic_store_explicit(&g->ct__holder, NULL, memory_order_relaxed);
	set_breaker(&ct__gil_tls_breaker, 0);
	uint32_t expected = REGISTERED | LOCKED;
	/* Release: frees the GIL, as in give_slow(); a failure takes the slow path. */
	if (CT__LIKELY(atomic_compare_exchange_strong_explicit(&g->ct__state, &expected, REGISTERED,
							       memory_order_release,
							       memory_order_relaxed)))
		return;
	give_slow(g);
}

/* Hands the GIL to the first waiter and queues behind the others (forced
 * switching: this thread cannot be the next holder). Returns 1 once it has
 * the GIL back, 0 at once if nobody waits. */
static int switch_out(ct_gil_t *g, struct ct__thread *self, enum why_switch why)
{
	gil_lock(g);
	/* GCOVR_EXCL_BR_START: a drop request whose waiter was served meanwhile: a race */
	if (!g->ct__waiters) {
		/* GCOVR_EXCL_BR_STOP */
		/* A stale request (its waiter was served meanwhile) or nobody
		 * to yield to. */
		g->ct__drop = 0;
		set_breaker(&ct__gil_tls_breaker, (uintptr_t)g);
		gil_unlock(g);
		return 0;
	}
	stat_add(g, why == FORCED ? CT__GIL_FORCED_DROPS : CT__GIL_YIELDS, 1);
	if (CT__DEBUG_ON(CT__DEBUG_RECORD)) { /* debugging: the hold ends, a wait begins */
		ct__debug()->gil_given(g);
		ct__debug()->gil_wait(g);
	}
	int64_t now = ct__now_ns();
	self->w->holds = NULL;
	set_breaker(&ct__gil_tls_breaker, 0);
	struct ct__gil_waiter *next = hand_over(g, now);
	struct ct__gil_waiter w;
	init_waiter(&w, g, self, false, now);
	w.spin = why == YIELDED;
	enqueue(g, &w);
	wait_turn(g, &w, next);
	now_holding(g, self, ct__now_ns() - w.since);
	return 1;
}

/* ---- the public API ----------------------------------------------------- */

void ct_gil_init(ct_gil_t *gil)
{
	if (CT__UNLIKELY(!gil))
		return;
	/* Initialising a GIL twice without destroying it must not cut the
	 * list of GILs that runs through it. */
	ct__rawlock_lock(&registry_lock);
	unregister_gil(gil);
	ct__rawlock_unlock(&registry_lock);
	memset(gil, 0, sizeof *gil);
	atomic_init(&gil->ct__state, 0);
	atomic_init(&gil->ct__holder, NULL);
	atomic_init(&gil->ct__interval_ns, 0);
	atomic_init(&gil->ct__slice_start, 0);
	for (int i = 0; i < CT__GIL_NSTATS; i++)
		atomic_init(&gil->ct__stats[i], 0);
}

int ct_gil_destroy(ct_gil_t *gil)
{
	if (!gil)
		return CT_EINVAL;
	CT__DEBUG_DESTROYED(gil);
	int rc = 0;
	ct__rawlock_lock(&registry_lock);
	uint32_t s = atomic_load(&gil->ct__state);
	if (s & (LOCKED | WAITERS)) {
		rc = CT_EBUSY;
	} else if (s & REGISTERED) {
		unregister_gil(gil);
		atomic_store(&gil->ct__state, 0);
	}
	ct__rawlock_unlock(&registry_lock);
	return rc;
}

ct_gil_t *ct_gil_default(void)
{
	return &default_gil;
}

/* Takes the GIL for a caller that must hold none. */
static int take_holding_none(ct_gil_t *gil, bool resuming)
{
	struct ct__thread *self = ct__self();
	if (ct__thread_gil(self))
		return CT_EGILHELD;
	take(gil, self, resuming);
	return 0;
}

int ct_gil_acquire(ct_gil_t *gil)
{
	return gil ? take_holding_none(gil, false) : CT_EINVAL;
}

int ct_gil_release(ct_gil_t *gil)
{
	if (!gil)
		return CT_EINVAL;
	struct ct__thread *self = ct__self_peek();
	if (!holds(self, gil))
		return CT_EGILNOTHELD;
	give(gil, self);
	return 0;
}

int ct__gil_checkpoint_slow(ct_gil_t *gil)
{
	if (!gil)
		return CT_EINVAL;
	struct ct__thread *self = ct__self_peek();
	if (!holds(self, gil))
		return CT_EGILNOTHELD;
	/* Relaxed: the thread's own breaker (see ct_gil_checkpoint() in gil.h). */
	/* GCOVR_EXCL_BR_START: holding the GIL, this thread's breaker is the GIL's address plus
	 * DROP when asked: the inline checkpoint comes here only with DROP */
	if (!(atomic_load_explicit(&ct__gil_tls_breaker, memory_order_relaxed) & DROP))
		return 0;
	/* GCOVR_EXCL_BR_STOP */
	return switch_out(gil, self, FORCED);
}

int ct_gil_yield(ct_gil_t *gil)
{
	if (!gil)
		return CT_EINVAL;
	struct ct__thread *self = ct__self_peek();
	if (!holds(self, gil))
		return CT_EGILNOTHELD;
	/* Relaxed: a hint; switch_out() decides again under gil_lock. */
	if (!(atomic_load_explicit(&gil->ct__state, memory_order_relaxed) & WAITERS))
		return 0;
	return switch_out(gil, self, YIELDED);
}

int ct_gil_set_switch_interval(ct_gil_t *gil, double seconds)
{
	if (!gil || !(seconds > 0))
		return CT_EINVAL;
	if (seconds > CT_TIMEOUT_MAX)
		return CT_ETOOLARGE;
	/* Rounded to the nearest ns (seconds > 0 here) without libm: a static
	 * link of the library then needs no -lm. */
	double ns = seconds * 1e9 + 0.5;
	int64_t v = ns < (double)MIN_INTERVAL_NS ? MIN_INTERVAL_NS : (int64_t)ns;
	/* Relaxed: a setting (see the notes atop interval_ns()). */
	atomic_store_explicit(&gil->ct__interval_ns, v, memory_order_relaxed);
	return 0;
}

double ct_gil_get_switch_interval(const ct_gil_t *gil)
{
	return gil ? (double)interval_ns(gil) / 1e9 : NAN;
}

int ct_gil_stats(const ct_gil_t *gil, ct_gil_stats_t *out)
{
	if (!gil || !out)
		return CT_EINVAL;
	*out = (ct_gil_stats_t){
		.acquisitions = stat_get(gil, CT__GIL_ACQUISITIONS),
		.switches = stat_get(gil, CT__GIL_SWITCHES),
		.forced_drops = stat_get(gil, CT__GIL_FORCED_DROPS),
		.drop_requests = stat_get(gil, CT__GIL_DROP_REQUESTS),
		.priority_requests = stat_get(gil, CT__GIL_PRIORITY_REQUESTS),
		.yields = stat_get(gil, CT__GIL_YIELDS),
		.total_wait_ns = stat_get(gil, CT__GIL_TOTAL_WAIT_NS),
		.longest_wait_ns = stat_get(gil, CT__GIL_LONGEST_WAIT_NS),
	};
	return 0;
}

ct_gil_t *ct_gil_save(void)
{
	struct ct__thread *self = ct__self_peek();
	ct_gil_t *gil = self ? ct__thread_gil(self) : NULL;
	if (gil)
		give(gil, self);
	return gil;
}

int ct_gil_restore(ct_gil_t *gil)
{
	return gil ? take_holding_none(gil, true) : 0;
}

int ct_gil_state_ensure(ct_gil_t *gil)
{
	if (!gil)
		return CT_EINVAL;
	struct ct__thread *self = ct__self();
	if (ct__thread_gil(self) == gil)
		return CT_GIL_STATE_LOCKED;
	if (ct__thread_gil(self))
		return CT_EGILHELD;
	take(gil, self, true);
	return CT_GIL_STATE_UNLOCKED;
}

int ct_gil_state_release(ct_gil_t *gil, int state)
{
	if (!gil || (state != CT_GIL_STATE_LOCKED && state != CT_GIL_STATE_UNLOCKED))
		return CT_EINVAL;
	struct ct__thread *self = ct__self_peek();
	if (!holds(self, gil))
		return CT_EGILNOTHELD;
	if (state == CT_GIL_STATE_UNLOCKED)
		give(gil, self);
	return 0;
}

/* ---- how the GIL plugs into the layers below --------------------------- */

/* The parking core's sleep hook: gives the GIL up while its holder sleeps
 * (CPython's Py_BEGIN_ALLOW_THREADS for every blocking call of the
 * library), unless the caller keeps it (the GIL's own waits).
 *
 * A thread inside fork's gate (fork.h) keeps its GIL too: it waits there
 * only for another thread inside, which needs no GIL to get out, whereas
 * giving the GIL up would make it wait for the GIL to come back, maybe
 * from the very thread that is forking and waits for it to leave. */
static void *sleep_suspend(struct ct__waiter *w, unsigned park_flags)
{
	struct ct__thread *self = w->owner;
	ct_gil_t *gil = w->holds; /* not NULL: the parking core asks only a GIL's holder */
	/* Relaxed: the thread's own gate count. */
	if ((park_flags & CT__PARK_KEEP_GIL) ||
	    atomic_load_explicit(&w->gate, memory_order_relaxed) != 0)
		return NULL;
	give(gil, self);
	return gil;
}

/* Takes it back as a thread coming back from a blocking call: without
 * waiting a switch interval (see the policy atop this file). */
static void sleep_resume(struct ct__waiter *w, void *suspended)
{
	take(suspended, w->owner, true);
}

/* A thread started with opts.gil takes it before running... */
static void thread_begin(struct ct__thread *self)
{
	take(self->run_gil, self, false);
}

/* ...and gives back whichever GIL it holds when it ends. */
static void thread_end(struct ct__thread *self)
{
	if (ct__thread_gil(self))
		give(ct__thread_gil(self), self);
}

/* ct_sleep(0) under a GIL: lets another GIL thread run, as time.sleep(0). */
static void thread_yield(struct ct__thread *self)
{
	if (ct__thread_gil(self))
		(void)ct_gil_yield(ct__thread_gil(self));
}

/* In a fork child: every GIL is free, except the one the forking thread
 * (@p self, may be NULL) held, which it still holds. */
static void after_fork_child(struct ct__thread *self)
{
	/* Only the forking thread is left: its lock holders and queued
	 * waiters are gone. */
	for (unsigned i = 0; i < NLOCKS; i++)
		ct__rawlock_reinit(&locks[i].lock);
	ct__rawlock_reinit(&registry_lock);
	/* GCOVR_EXCL_BR_START: the registry's child handler always passes a record (it adopts one
	 * for a forker that had none) */
	ct_gil_t *mine = self ? ct__thread_gil(self) : NULL;
	/* GCOVR_EXCL_BR_STOP */
	int64_t now = ct__now_ns();
	for (ct_gil_t *g = registry; g; g = g->ct__next) {
		g->ct__waiters = NULL;
		g->ct__drop = 0;
		if (g == mine) {
			atomic_store(&g->ct__state, REGISTERED | LOCKED);
			publish_holder(g, self, now);
		} else {
			atomic_store(&g->ct__state, REGISTERED);
			atomic_store(&g->ct__holder, NULL);
		}
	}
}

static const struct ct__sleep_hook sleep_hook = {sleep_suspend, sleep_resume};
static const struct ct__thread_gil_hooks thread_hooks = {thread_begin, thread_end, thread_yield,
							 after_fork_child};

/* Plugged in at load: the layers below never call the GIL by name. */
__attribute__((constructor)) static void gil_load(void)
{
	ct__park_set_sleep_hook(&sleep_hook);
	ct__thread_set_gil_hooks(&thread_hooks);
}
