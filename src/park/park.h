/* The parking core: the one primitive under every blocking call.
 *
 * A thread parks on an address (a "key"): it is queued under that key in a
 * global hash table of buckets, then sleeps on its own parker until another
 * thread unparks it through the same key, its deadline passes, or (for an
 * interruptible wait) a stop is requested for it. This is the design of
 * WebKit's ParkingLot and Rust's parking_lot. It gives every primitive, on
 * every platform:
 *
 *  - futex semantics for any word: ct__park_wait(word, expected, ...) sleeps
 *    only while the word still holds the expected value, checked under the
 *    bucket lock that wakers also take, so no wake-up is ever lost;
 *  - stop requests that wake any wait, without knowing what it waits on;
 *  - exact wake counts (a condition's notify(n) wakes exactly n);
 *  - requeueing (a condition's notify_all moves waiters onto the lock
 *    instead of waking them all to fight for it);
 *  - a per-bucket clock for eventual fairness in locks;
 *  - one place where a thread holding a GIL gives it up while it sleeps.
 *
 * Nothing else in the library calls the OS to sleep.
 *
 * Deadlines are absolute CLOCK_MONOTONIC nanoseconds (CT__NO_DEADLINE for
 * none); convert relative timeouts once, with ct__deadline().
 */
#ifndef CT_PARK_H
#define CT_PARK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"

enum ct__park_flags {
	/* A stop request for the waiting thread ends the wait (CT_ESTOPPED). */
	CT__PARK_INTERRUPTIBLE = 1u << 0,
	/* Do not release the calling thread's GIL while sleeping (the GIL's
	 * own waits, which would otherwise recurse). */
	CT__PARK_KEEP_GIL = 1u << 1,
	/* Sleep at once instead of spinning first: for waits that are long by
	 * nature (join, the exit rule), where spinning only delays the very
	 * thread being waited for if the scheduler put it on our CPU. */
	CT__PARK_NO_SPIN = 1u << 2,
};

/* A layer above that must act around every sleep (the GIL gives itself
 * up while its holder sleeps, as CPython's Py_BEGIN_ALLOW_THREADS) plugs in
 * here instead of being called: the parking core knows nothing of it.
 * suspend() runs on the thread about to sleep, with its parker armed (it
 * must not park), and returns what resume() gets once the sleep is over
 * (NULL for nothing to do). It is called only while the sleeper's record
 * says it holds something (waiter.h's `holds`). Set once, at load. */
struct ct__waiter;
struct ct__sleep_hook {
	void *(*suspend)(struct ct__waiter *self, unsigned park_flags);
	void (*resume)(struct ct__waiter *self, void *suspended);
};
void ct__park_set_sleep_hook(const struct ct__sleep_hook *hook);

/* ct__park() outcomes, besides the negative CT_ETIMEDOUT and CT_ESTOPPED. */
enum {
	CT__PARK_UNPARKED = 0, /* woken by an unpark; the token says how */
	CT__PARK_INVALID = 1,  /* validate() said no: never slept */
};

/* Tokens passed from the waker to the woken thread. */
#define CT__TOKEN_NORMAL ((uintptr_t)0)
#define CT__TOKEN_HANDOFF ((uintptr_t)1) /* the lock is yours already */

struct ct__park_ops {
	/* Under the bucket lock, before queueing: false aborts the park
	 * (CT__PARK_INVALID). NULL means always park. */
	bool (*validate)(void *ctx);
	/* After queueing, with the bucket unlocked, before sleeping: e.g. a
	 * condition releases its lock here, once it can no longer miss a
	 * notification. It must not block (it may unpark). NULL for nothing. */
	void (*before_sleep)(void *ctx);
	/* Under the bucket lock, when the wait ends by deadline or stop and the
	 * thread leaves the queue: @p key is where it was queued (a requeue may
	 * have moved it) and @p was_last whether no thread is left on that key.
	 * NULL for nothing. */
	void (*timed_out)(void *ctx, const void *key, bool was_last);
};

/* Parks the calling thread on @p key. Returns CT__PARK_UNPARKED with the
 * waker's token in *token, CT__PARK_INVALID, CT_ETIMEDOUT or CT_ESTOPPED.
 * EINTR and spurious wake-ups never end it. */
int ct__park(const void *key, const struct ct__park_ops *ops, void *ctx, int64_t deadline,
	     unsigned flags, uintptr_t *token);

/* What an unpark found, for the callbacks that decide tokens. */
struct ct__unpark_result {
	unsigned unparked; /* threads woken */
	unsigned requeued; /* threads moved to the other key */
	bool have_more;	   /* threads are still queued on the (first) key */
	bool be_fair;	   /* the bucket's fairness clock says: hand off now */
};

/* Decides the token given to the woken thread, under the bucket lock, so it
 * can update the primitive's state atomically with respect to parkers. */
typedef uintptr_t (*ct__unpark_fn)(void *ctx, struct ct__unpark_result r);

/* Wakes the longest-waiting thread on @p key. @p fn (may be NULL: token
 * NORMAL) runs under the bucket lock even if nobody was queued. */
struct ct__unpark_result ct__unpark_one(const void *key, ct__unpark_fn fn, void *ctx);

/* Wakes up to @p n threads on @p key, oldest first, all with @p token. */
unsigned ct__unpark_n(const void *key, unsigned n, uintptr_t token);

static inline unsigned ct__unpark_all(const void *key, uintptr_t token)
{
	return ct__unpark_n(key, ~0u, token);
}

/* A requeue: wake `wake` threads of the source key, then move up to
 * `requeue` more to the target key. {0, 0} does nothing. */
struct ct__requeue_plan {
	unsigned wake;
	unsigned requeue;
};

/* Under both bucket locks: @p plan decides (it may look at and update the
 * primitives' state), then @p done (may be NULL) sees the result and gives
 * the token for the woken threads. */
struct ct__unpark_result ct__unpark_requeue(const void *from, const void *to,
					    struct ct__requeue_plan (*plan)(void *ctx),
					    ct__unpark_fn done, void *ctx);

/* Futex semantics on a 32-bit word: sleeps while *word == expected. Returns
 * 0 when woken or when the word already differs (callers re-check their
 * condition either way), CT_ETIMEDOUT or CT_ESTOPPED. */
int ct__park_wait(const _Atomic uint32_t *word, uint32_t expected, int64_t deadline,
		  unsigned flags);

/* Wakes up to @p n threads parked on @p word. */
static inline unsigned ct__park_wake(const void *word, unsigned n)
{
	return ct__unpark_n(word, n, CT__TOKEN_NORMAL);
}

/* Sleeps until @p deadline with no key: only the deadline or (if
 * interruptible) a stop request ends it. Returns 0 or CT_ESTOPPED. */
int ct__park_sleep(int64_t deadline, unsigned flags);

/* How many threads are queued on @p key right now: for tests that must
 * know a thread waits on this very object before they act. */
unsigned ct__park_queued(const void *key);

/* Empties every queue and re-initialises every bucket lock. Only for the
 * child of fork(), where the queued threads no longer exist. */
void ct__park_after_fork_child(void);

#endif /* CT_PARK_H */
