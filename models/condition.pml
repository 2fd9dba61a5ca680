/* Condition wait and notify with the requeue onto the lock
 * (src/sync/condition.c over src/sync/lock.c and src/park/park.c).
 *
 *   lstate        the Lock word: LOCKED 1, PARKED 2
 *   cwaiters      cond->ct__waiters
 *   cq[i], lq[i]  thread i is queued on the condition's key / the lock's
 *   bc, bl        the two bucket locks (lock_pair takes bc, then bl)
 *   un[i]         thread i's parker is UNPARKED
 *   notified[i]   ghost: a notify took thread i off the condition's queue
 *   incs          ghost: threads holding the lock
 * The lock's fair hand-off is left out here (lock.pml checks it): every
 * release lets the woken thread compete again.
 *
 * Threads: w0 waits with no timeout, w1 with one that may pass at any step
 * (both hold the lock when they call wait, as they must); the notifier
 * takes the lock once w0 is in its wait, calls notify(1), releases; then
 * takes it again, calls notify_all(), releases.
 *
 * Checked (safety): mutual exclusion of the lock; notify(1) finds w0 (it
 * queued itself before giving the lock up, so a notifier that holds the
 * lock sees it) and moves exactly one thread; a wait returns 0 iff a
 * notify took that thread; the counts of both notifies add up to the
 * threads they took; every thread ends (a waiter requeued onto the lock
 * and never woken by the lock's release is an invalid end state).
 *
 * Mutants:
 *   MUT_RELEASE_FIRST  the waiter releases the lock before it queues on
 *                      the condition: a notify in between finds nobody
 *   MUT_NO_MARK        notify requeues onto a held lock without marking it
 *                      PARKED: its release takes the fast path, the
 *                      requeued waiter sleeps for ever
 */
#define LOCKED 1
#define PARKED 2
#define NONE 255

byte lstate;
byte cwaiters;
bool cq[2], lq[3];
bool bc, bl;
bool un[3];
bool notified[2];
byte incs;
bool waiting0;
byte r1, r2;

inline lock(b) { atomic { !b -> b = true } }

/* ct__lock_acquire_until without the fair hand-off */
inline lock_acquire() {
	s = lstate;
	do
	:: (s & LOCKED) == 0 ->
		atomic { if :: lstate == s -> lstate = s | LOCKED; ok = true :: else -> s = lstate; ok = false fi };
		if :: ok -> break :: else -> skip fi
	:: else ->
		ok = true;
		if
		:: (s & PARKED) == 0 ->
			atomic { if :: lstate == s -> lstate = s | PARKED :: else -> s = lstate; ok = false fi }
		:: else -> skip
		fi;
		if
		:: ok ->
			lock(bl);
			if
			:: lstate != (LOCKED | PARKED) -> bl = false
			:: else -> un[me] = false; lq[me] = true; bl = false; un[me]; un[me] = false
			fi;
			s = lstate
		:: else -> skip
		fi
	od;
	incs++;
	assert(incs == 1)
}

/* ct_lock_release: the fast CAS, or ct__lock_release_parked */
inline lock_release() {
	incs--;
	atomic { if :: lstate == LOCKED -> lstate = 0; ok = true :: else -> ok = false fi };
	if
	:: !ok ->
		lock(bl);
		w = NONE;
		if :: lq[0] -> w = 0 :: lq[1] -> w = 1 :: lq[2] -> w = 2 :: else -> skip fi;
		if :: w != NONE -> lq[w] = false :: else -> skip fi;
		lstate = ((lq[0] || lq[1] || lq[2]) -> PARKED : 0);
		bl = false;
		if :: w != NONE -> un[w] = true :: else -> skip fi;
		w = 0
	:: else -> skip
	fi
}

/* ct_condition_notify(cond, n) with the lock held; the count into r */
inline notify(n) {
	r = 0;
	if
	:: cwaiters > 0 ->
		lock(bc); lock(bl);
		/* plan_notify: ct__lock_mark_parked_if_locked */
#ifdef MUT_NO_MARK
		held = (lstate & LOCKED) != 0;
#else
		atomic { held = (lstate & LOCKED) != 0; if :: held -> lstate = lstate | PARKED :: else -> skip fi };
#endif
		k = 0;
		do
		:: k < 2 && r < n ->
			if
			:: cq[k] ->
				cq[k] = false; notified[k] = true; r++;
				if
				:: held || r > 1 -> lq[k] = true	/* requeued onto the lock */
				:: else -> woken = k		/* woken at once */
				fi
			:: else -> skip
			fi;
			k++
		:: else -> break
		od;
		/* notified(): the counts, and PARKED for a free lock */
		cwaiters = cwaiters - r;
		if :: !held && (lq[0] || lq[1] || lq[2]) -> lstate = lstate | PARKED :: else -> skip fi;
		bl = false; bc = false;
		if :: woken != NONE -> un[woken] = true; woken = NONE :: else -> skip fi
	:: else -> skip
	fi
}

proctype waiter(byte me; bool timed)
{
	byte s, w, rc, k;
	bool ok, requeued, gone;
	lock_acquire();
	if :: me == 0 -> waiting0 = true :: else -> skip fi;
	/* ct__park(cond, wait_ops): validate = enqueue, then before_sleep */
#ifdef MUT_RELEASE_FIRST
	lock_release();
#endif
	lock(bc);
	cwaiters++;
	un[me] = false; cq[me] = true;
	bc = false;
#ifndef MUT_RELEASE_FIRST
	lock_release();	/* release_lock: before_sleep */
#endif
	rc = 0;
	if
	:: un[me] -> skip
	:: timed ->
		/* lock_node_bucket: on the condition, or requeued onto the lock */
		lock(bc);
		if
		:: cq[me] -> cq[me] = false; cwaiters--; gone = true
		:: else -> skip
		fi;
		bc = false;
		if
		:: !gone ->
			lock(bl);
			if
			:: lq[me] ->
				lq[me] = false; requeued = true; gone = true;
				/* ct__lock_waiter_left(lock, was_last) */
				if :: !(lq[0] || lq[1] || lq[2]) -> lstate = lstate & ~PARKED :: else -> skip fi
			:: else -> skip
			fi;
			bl = false
		:: else -> skip
		fi;
		if
		:: gone && !requeued -> rc = 1	/* CT_ETIMEDOUT */
		:: gone && requeued -> skip
		:: else -> un[me]	/* a waker took it: wait for its unpark */
		fi
	fi;
	un[me] = false;
	/* wait_until: take the lock back */
	lock_acquire();
	assert((rc == 0) == notified[me]);
	lock_release()
}

proctype notifier()
{
	byte s, w, r, k, me = 2, woken = NONE;
	bool ok, held;
	waiting0;
	lock_acquire();
	notify(1);
	r1 = r;
	assert(r1 == 1);
	lock_release();
	lock_acquire();
	notify(2);
	r2 = r;
	lock_release()
}

init
{
	atomic { run waiter(0, false); run waiter(1, true); run notifier() }
	(_nr_pr == 1);
	assert(r1 + r2 == notified[0] + notified[1])
}
