/* The future's state word (src/futures/future.c, future_internal.h).
 *
 *   state     phase (PENDING 0, RUNNING 1, FINISHED 2, CANCELLED 3) | PARKED 4
 *             | CLAIMED 16 (HOOKED, the waiter lists under the future's
 *             lock, is left out: it is taken the same way as PARKED)
 *   bl, queued[i], unparked[i]   the parking core, as in event.pml
 *
 * Threads, default (a pool's future):
 *   worker    ct__future_start (settle RUNNING), then, if it won, runs the
 *             task and ct__future_finish (fetch_add 1, wake if PARKED)
 *   canceller ct_future_cancel (settle CANCELLED, wake if it won)
 *   w0        ct_future_result, no timeout (ct__state_wait)
 *   w1        the same with a timeout that may pass at any step
 * -DMANUAL (a future of ct_future_new): the worker is
 * ct_future_set_running_or_notify_cancel, then two threads race
 * ct_future_set_result (CLAIMED decides which one finishes it); w0 only.
 *
 * Checked (safety): the task runs at most once and never after cancel()
 * returned true; cancel() returns true iff the phase ends CANCELLED; at
 * most one set_result succeeds, and one does iff the future ran; a wait
 * returns 0 only once the phase is done; and every thread ends (a waiter
 * that would sleep through the completion is an invalid end state).
 *
 * Mutants:
 *   MUT_FINISH_STORE   finish reads the word, then stores FINISHED: a
 *                      waiter that sets PARKED in between is never woken
 *   MUT_CANCEL_STORE   cancel checks PENDING, then stores CANCELLED: the
 *                      worker starts the task in between, cancel says true
 *   MUT_NO_CLAIM       set_result checks RUNNING and finishes without the
 *                      CLAIMED compare-and-swap: two calls both succeed
 */
#define PENDING 0
#define RUNNING 1
#define FINISHED 2
#define CANCELLED 3
#define PHASE 3
#define PARKED 4
#define CLAIMED 16
#define N 2

#define R_NONE 0
#define R_UNPARKED 1
#define R_INVALID 2
#define R_TIMEDOUT 3

byte state;
bool bl;
bool queued[N];
bool unparked[N];
byte ran;		/* ghost: times the task ran */
bool cancel_true;	/* ghost: cancel() returned true */
byte set_ok;		/* ghost: set_result calls that returned 0 */
byte finished;

inline bucket_lock() { atomic { !bl -> bl = true } }
inline bucket_unlock() { bl = false }

/* ct__state_settle(state, phase): CAS while the phase is PENDING */
inline settle(phase) {
	atomic {
		old = state;
		if :: (old & PHASE) == PENDING -> state = old | phase :: else -> skip fi
	}
}

/* ct__state_wake: ct__unpark_all if the old word had PARKED */
inline wake(old) {
	if
	:: (old & PARKED) != 0 ->
		bucket_lock();
		d_step {
			j = 0;
			do
			:: j < N -> if :: queued[j] -> queued[j] = false; woke[j] = true :: else -> skip fi; j++
			:: else -> break
			od;
			j = 0
		}
		bucket_unlock();
		d_step {
			j = 0;
			do
			:: j < N -> if :: woke[j] -> unparked[j] = true; woke[j] = false :: else -> skip fi; j++
			:: else -> break
			od;
			j = 0
		}
	:: else -> skip
	fi
}

/* ct__future_finish */
inline finish() {
#ifdef MUT_FINISH_STORE
	old = state;
	state = (old & ~PHASE) | FINISHED;
#else
	d_step { old = state; state = old + 1 }	/* fetch_add: RUNNING + 1 */
#endif
	wake(old)
}

proctype worker()
{
	byte old, j;
	bool woke[N];
#ifdef MANUAL
	settle(RUNNING);	/* ct_future_set_running_or_notify_cancel */
	if :: (old & PHASE) == PENDING -> ran++ :: else -> skip fi;
#else
	settle(RUNNING);	/* ct__future_start */
	if
	:: (old & PHASE) == PENDING ->
		assert(!cancel_true);
		ran++;
		finish()
	:: else -> skip
	fi;
#endif
	finished++
}

/* ct_future_set_result of a ct_future_new future */
proctype setter()
{
	byte old, s, j;
	bool woke[N], ok;
	(ran > 0 || finished > 0);	/* after set_running (else: an error, nothing to race) */
#ifdef MUT_NO_CLAIM
	ok = (state & PHASE) == RUNNING;
#else
	atomic {
		s = state;
		if
		:: (s & PHASE) == RUNNING && (s & CLAIMED) == 0 -> state = s | CLAIMED; ok = true
		:: else -> ok = false
		fi
	}
#endif
	if
	:: ok -> set_ok++; finish()
	:: else -> skip
	fi;
	finished++
}

proctype canceller()
{
	byte old, j;
	bool woke[N];
#ifdef MUT_CANCEL_STORE
	old = state;
	if :: (old & PHASE) == PENDING -> state = old | CANCELLED :: else -> skip fi;
#else
	settle(CANCELLED);
#endif
	if
	:: (old & PHASE) == PENDING -> cancel_true = true; wake(old)
	:: (old & PHASE) == CANCELLED -> cancel_true = true
	:: else -> skip
	fi;
	finished++
}

/* ct__state_wait */
proctype waiter(byte i; bool timed)
{
	byte s, rc;
	bool done;
	do
	:: s = state;
		if :: (s & PHASE) >= FINISHED -> done = true; break :: else -> skip fi;
		if
		:: (s & PARKED) == 0 ->
			atomic { if :: state == s -> state = s | PARKED; s = s | PARKED :: else -> goto again fi }
		:: else -> skip
		fi;
		rc = R_NONE;
		bucket_lock();
		if
		:: state != s -> bucket_unlock(); rc = R_INVALID
		:: else ->
			unparked[i] = false; queued[i] = true;
			bucket_unlock();
			if
			:: unparked[i] -> rc = R_UNPARKED
			:: timed ->
				bucket_lock();
				if
				:: queued[i] ->
					queued[i] = false;
					if :: !queued[1 - i] -> state = state & ~PARKED :: else -> skip fi;
					rc = R_TIMEDOUT
				:: else -> skip
				fi;
				bucket_unlock();
				if :: rc != R_TIMEDOUT -> unparked[i]; rc = R_UNPARKED :: else -> skip fi
			fi
		fi;
		if :: rc == R_TIMEDOUT -> done = (state & PHASE) >= FINISHED; break :: else -> skip fi;
again:		skip
	od;
	assert(!done || (state & PHASE) >= FINISHED)
}

init
{
	atomic {
		run worker();
		run canceller();
#ifdef MANUAL
		run setter();
		run setter();
#endif
		run waiter(0, false)
#ifndef MANUAL
		; run waiter(1, true)
#endif
	}
#ifdef MANUAL
	finished == 4;
	assert(set_ok <= 1);
	assert((set_ok == 1) == (ran == 1));
#else
	finished == 2;
#endif
	assert(ran <= 1);
	assert(cancel_true == ((state & PHASE) == CANCELLED));
	assert(!cancel_true || ran == 0)
}
