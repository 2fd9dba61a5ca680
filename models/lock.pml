/* The lock word of src/sync/lock.c on the parking core of src/park/park.c.
 *
 * What is modelled, step by step as the C does it:
 *   state        ct_lock_t.ct__state: LOCKED and PARKED bits
 *   bl           the bucket's lock (park.c bucket_lock/bucket_unlock);
 *                everything park.c does "under the bucket lock" is between
 *                bucket_lock() and bucket_unlock() here, and the lock word
 *                is still changed by other threads' CAS meanwhile
 *   q, qlen      the bucket's FIFO of wait nodes for this lock
 *   queued[i]    wait_node.queued of thread i
 *   unparked[i]  thread i's parker is UNPARKED (ct__parker_unpark)
 *   token[i]     wait_node.token: NORMAL, or HANDOFF (the lock is yours)
 *   fair         park.c time_to_be_fair(): chosen freely by the model, but
 *                forced at least every FAIRK wake-ups (the clock's bound)
 * Spinning (ct__spin_limit) only delays a step and is left out; a weak CAS
 * failing spuriously only loops, and is left out too.
 *
 * Checked:
 *   safety      mutual exclusion (assert incs <= 1); a release finds the
 *               lock held; no lost wake-up: every thread ends (a thread
 *               asleep while all others are done is an invalid end state)
 *   progress    with ITER=0 (forever) and no timeouts, under weak
 *               fairness, some thread enters the critical section
 *               infinitely often (progress label)
 *   ltl woken   a parked thread is dequeued again eventually
 *
 * Mutants (-DMUT_...), each a bug spin must find:
 *   MUT_NO_VALIDATE   park without re-checking LOCKED|PARKED under the
 *                     bucket lock: a release slips in, a wake-up is lost
 *   MUT_CLEAR_ALWAYS  a waiter leaving by timeout clears PARKED even when
 *                     others still wait (ignores was_last): the next
 *                     release takes the fast path, a waiter sleeps for ever
 *   MUT_HANDOFF_FREE  a fair hand-off that leaves the word free instead of
 *                     LOCKED: a barging thread and the woken one both own it
 */
#ifndef N
#define N 2
#endif
#ifndef ITER
#define ITER 2
#endif
#ifndef FAIRK
#define FAIRK 2
#endif

#define LOCKED 1
#define PARKED 2
#define NORMAL 0
#define HANDOFF 1
#define NONE 255

/* ct__park's results */
#define R_NONE 0
#define R_UNPARKED 1
#define R_INVALID 2
#define R_TIMEDOUT 3

byte state;
bool bl;
byte q[N];
byte qlen;
bool queued[N];
bool unparked[N];
byte token[N];
byte incs;
byte fairclock;

inline bucket_lock() { atomic { !bl -> bl = true } }
inline bucket_unlock() { bl = false }

/* park.c append() */
inline enqueue(i) { q[qlen] = i; qlen++; queued[i] = true }

/* park.c remove_node()/take(): unlink i, keeping the order */
inline dequeue(i) {
	d_step {
		j = 0;
		do :: j < qlen && q[j] != i -> j++ :: else -> break od;
		do :: j + 1 < qlen -> q[j] = q[j + 1]; j++ :: else -> break od;
		qlen--; q[qlen] = 0; queued[i] = false; j = 0
	}
}

/* ct__park(lock, &lock_park_ops, ...): validate is still_locked_and_parked,
 * timed_out is waiter_timed_out (ct__lock_waiter_left). */
inline park(i) {
	rc = R_NONE;
	bucket_lock();
#ifndef MUT_NO_VALIDATE
	if
	:: state != (LOCKED | PARKED) -> bucket_unlock(); rc = R_INVALID
	:: else -> skip
	fi;
#endif
	if
	:: rc == R_INVALID -> skip
	:: else ->
		unparked[i] = false;	/* ct__parker_prepare */
		enqueue(i);
		bucket_unlock();
		/* ct__parker_wait: woken, or the deadline passes */
		if
		:: unparked[i] -> rc = R_UNPARKED
		:: timed ->
			bucket_lock();	/* lock_node_bucket */
			if
			:: queued[i] ->
				dequeue(i);
#ifdef MUT_CLEAR_ALWAYS
				state = state & ~PARKED;
#else
				if :: qlen == 0 -> state = state & ~PARKED :: else -> skip fi;
#endif
				rc = R_TIMEDOUT
			:: else -> skip
			fi;
			bucket_unlock();
			/* dequeued by a waker first: wait for its unpark */
			if :: rc != R_TIMEDOUT -> unparked[i]; rc = R_UNPARKED :: else -> skip fi
		fi
	fi
}

/* ct__lock_acquire_until (the inline fast path is its first CAS) */
inline acquire(i) {
	got = false;
	s = state;
	do
	:: (s & LOCKED) == 0 ->
		atomic { if :: state == s -> state = s | LOCKED; got = true :: else -> s = state fi };
		if :: got -> break :: else -> skip fi
	:: else ->
		ok = true;
		if
		:: (s & PARKED) == 0 ->
			atomic { if :: state == s -> state = s | PARKED :: else -> s = state; ok = false fi }
		:: else -> skip
		fi;
		if
		:: ok ->
			park(i);
			if
			:: rc == R_UNPARKED && token[i] == HANDOFF -> got = true; break
			:: rc == R_TIMEDOUT -> break
			:: else -> s = state
			fi
		:: else -> skip
		fi
	od
}

/* ct_lock_release: the inline CAS LOCKED -> 0, else ct__lock_release_slow,
 * whose parked case is ct__lock_release_parked: ct__unpark_one with
 * decide_after_unpark run under the bucket lock. */
inline release() {
	atomic { if :: state == LOCKED -> state = 0; ok = true :: else -> s = state; ok = false fi };
	do
	:: ok -> break
	:: else ->
		assert(s & LOCKED);
		if
		:: (s & PARKED) == 0 ->
			atomic { if :: state == s -> state = 0; ok = true :: else -> s = state fi }
		:: else ->
			bucket_lock();
			w = NONE;
			if :: qlen > 0 -> w = q[0]; dequeue(w) :: else -> skip fi;
			fair = false;
			if
			:: w != NONE ->
				if
				:: fairclock == FAIRK -> fair = true
				:: fairclock < FAIRK -> fairclock++
				:: fairclock < FAIRK -> fair = true
				fi;
				if :: fair -> fairclock = 0 :: else -> skip fi
			:: else -> skip
			fi;
			assert(state & LOCKED);
			if
			:: fair ->
#ifdef MUT_HANDOFF_FREE
				state = (qlen > 0 -> PARKED : 0);
#else
				if :: qlen == 0 -> state = LOCKED :: else -> skip fi;
#endif
				token[w] = HANDOFF
			:: else ->
				state = (qlen > 0 -> PARKED : 0);
				if :: w != NONE -> token[w] = NORMAL :: else -> skip fi
			fi;
			bucket_unlock();
			if :: w != NONE -> unparked[w] = true :: else -> skip fi;
			ok = true
		fi
	od
}

proctype thread(byte i)
{
	byte s, j, w, n, rc;
	bool got, ok, fair, timed;
	do
	:: ITER > 0 && n == ITER -> break
	:: else ->
#ifdef NOTIMEOUT
		timed = false;
#else
		if :: timed = true :: timed = false fi;
#endif
		acquire(i);
		if
		:: got ->
			incs++;
progress:		assert(incs <= 1);
			incs--;
			release()
		:: else -> skip
		fi;
		if :: ITER > 0 -> n++ :: else -> skip fi;
		d_step { s = 0; w = 0; rc = 0; got = false; ok = false; fair = false; timed = false }
	od
}

ltl woken { [] (queued[0] -> <> !queued[0]) }

init
{
	atomic {
		byte k;
		for (k : 0 .. N - 1) { run thread(k) }
	}
}
