/* The parking core's wake-versus-timeout race and requeue (src/park/park.c).
 *
 * One thread parks on key A with a deadline (ct__park). Two others race it:
 *   waker   ct__unpark_one(A)
 *   mover   ct__unpark_requeue(A -> B, wake 0, requeue all), as a
 *           Condition's notify moves its waiters onto its lock, then
 *           ct__unpark_one(B), as that lock's release would
 * and the deadline may pass at any moment, also after a waker dequeued the
 * node and before it unparked it.
 *
 *   key          wait_node.key (changed only by a requeue, under both
 *                bucket locks)
 *   where        the bucket list the node is on (0: none)
 *   queued       wait_node.queued
 *   bA, bB       the two bucket locks (lock_pair takes them in order)
 *   unparked     the waiter's parker is UNPARKED
 *   inflight     ghost: a waker took the node off a list and has not yet
 *                unparked it (it still uses node->parker and next)
 *   takers       ghost: how many wakers took the node
 *
 * Checked (safety): the lifetime rule of park.c, that a waiter returns
 * (its node, on its stack, dies) only when no waker still uses it; that a
 * timing-out waiter removes the node from the bucket it is really on, even
 * after a requeue moved it (lock_node_bucket); that the result is exact:
 * UNPARKED iff exactly one waker took it, CT_ETIMEDOUT iff none did; and
 * that every thread ends.
 *
 * Mutants:
 *   MUT_NO_WAIT     a waiter found dequeued by a waker returns at once
 *                   instead of waiting for that waker's unpark
 *   MUT_NO_RECHECK  lock_node_bucket without re-reading the key after
 *                   taking the bucket lock
 */
#define A 1
#define B 2
#define R_UNPARKED 1
#define R_TIMEDOUT 2

byte key = A;
byte where;
bool queued;
bool bA, bB;
bool unparked;
bool inflight;
byte takers;
byte rc;

inline lockb(k) { if :: k == A -> atomic { !bA -> bA = true } :: else -> atomic { !bB -> bB = true } fi }
inline unlockb(k) { if :: k == A -> bA = false :: else -> bB = false fi }

/* take(): under the lock of bucket k, dequeue the node if it waits on k */
inline take(k) {
	if
	:: queued && key == k -> queued = false; where = 0; takers++; inflight = true; got = true
	:: else -> got = false
	fi
}

/* wake_list(): with no lock held; after this the waker touches nothing */
inline wake() {
	if :: got -> d_step { unparked = true; inflight = false } :: else -> skip fi
}

proctype waiter()
{
	byte k;
	lockb(A);
	unparked = false;	/* ct__parker_prepare */
	queued = true; where = A;	/* append */
	unlockb(A);
	if
	:: unparked -> rc = R_UNPARKED
	:: true ->	/* ct__parker_wait returned TIMEDOUT (or INTERRUPTED) */
		do	/* lock_node_bucket */
		:: k = key; lockb(k);
#ifdef MUT_NO_RECHECK
			break
#else
			if :: key == k -> break :: else -> unlockb(k) fi
#endif
		od;
		if
		:: queued -> assert(where == k); queued = false; where = 0; rc = R_TIMEDOUT
		:: else -> skip
		fi;
		unlockb(k);
		if
		:: rc != R_TIMEDOUT ->
#ifndef MUT_NO_WAIT
			unparked;	/* ct__parker_wait(p, CT__NO_DEADLINE, ...) */
#endif
			rc = R_UNPARKED
		:: else -> skip
		fi
	fi;
	/* ct__park returns: the node dies with the stack frame */
	assert(!inflight);
	assert((rc == R_UNPARKED && takers == 1) || (rc == R_TIMEDOUT && takers == 0))
}

proctype waker()
{
	bool got;
	lockb(A); take(A); unlockb(A);
	wake()
}

proctype mover()
{
	bool got;
	/* ct__unpark_requeue: lock_pair in address order */
	lockb(A); lockb(B);
	if :: queued && key == A -> key = B; where = B :: else -> skip fi;
	unlockb(A); unlockb(B);
	lockb(B); take(B); unlockb(B);
	wake()
}

init
{
	atomic { run waiter(); run waker(); run mover() }
}
