/* Event set/clear/wait with the pulse generation (src/sync/event.c) on the
 * parking core (src/park/park.c).
 *
 *   state        ct_event_t.ct__state: SET (1), PARKED (2), gen * GEN_ONE
 *   bl           the bucket lock; queued[i] / unparked[i] as in park.c
 *   setcount     ghost: how many set() calls turned the flag on (their CAS
 *                is the moment the flag is set)
 *
 * Threads:
 *   w0      ct_event_wait(ev, CT_FOREVER)
 *   w1      ct_event_wait(ev, timeout): its deadline may pass at any step
 *   pulser  waits until w0 is queued (as the pulse tests wait on
 *           ct__park_queued), then set() and clear() at once: a pulse.
 *           With -DSECOND another thread sets once more, and with
 *           -DCLEARER another clears once, each at any moment.
 *
 * Checked (safety):
 *   - no lost wake-up: w0 was waiting when set() ran, so Python says it
 *     returns True; if it slept on, it would be asleep when every other
 *     thread is done: an invalid end state.
 *   - no false True: a wait returns 0 (True) only if the flag was set when
 *     it began or a set() turned it on since (ghost setcount).
 *
 * Mutants:
 *   MUT_NO_GEN         the pulse as it was: set() does not bump the
 *                      generation, so a woken waiter that finds the flag
 *                      clear parks again and sleeps through the pulse
 *   MUT_WOKEN_IS_SET   a waiter takes being woken as "set": a wake-up of a
 *                      set() whose own waiters had left lands on a thread
 *                      that parked after the pulse, which returns True
 */
#define SET 1
#define PARKED 2
#define FLAGS 3
#define GEN_ONE 4
#define N 2

#define R_NONE 0
#define R_UNPARKED 1
#define R_INVALID 2
#define R_TIMEDOUT 3

byte state;
bool bl;
bool queued[N];
bool unparked[N];
byte setcount;
bool done0;

inline bucket_lock() { atomic { !bl -> bl = true } }
inline bucket_unlock() { bl = false }

/* was_set() */
#ifdef MUT_NO_GEN
#define WAS_SET(s) ((s & SET) != 0)
#else
#define WAS_SET(s) ((s & SET) != 0 || (parked != 0 && (s & ~FLAGS) != (parked & ~FLAGS)))
#endif

/* ct_event_set() */
inline event_set() {
	s = state;
	if
	:: (s & SET) == 0 ->
		do
		:: atomic {
			if
			:: state == s ->
#ifdef MUT_NO_GEN
				state = (s & ~FLAGS) | SET;
#else
				state = (s & ~FLAGS) + ((s & PARKED) != 0 -> GEN_ONE : 0) | SET;
#endif
				setcount++;
				break
			:: else -> s = state
			fi
		   }
		od;
		if
		:: (s & PARKED) != 0 ->	/* ct__unpark_all */
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
	:: else -> skip
	fi
}

/* ct_event_wait() */
proctype waiter(byte i; bool timed)
{
	byte s, parked, rc, c0;
	bool f0, ret;
	d_step { c0 = setcount; f0 = (state & SET) != 0 }	/* the call begins */
	do
	:: s = state;
		if
		:: WAS_SET(s) -> ret = true; break
		:: else -> skip
		fi;
		if
		:: (s & PARKED) == 0 ->
			atomic { if :: state == s -> state = s | PARKED :: else -> goto again fi }
		:: else -> skip
		fi;
		parked = (s & ~FLAGS) | PARKED;
		/* ct__park(event, still_parked, waiter_left) */
		rc = R_NONE;
		bucket_lock();
		if
		:: state != parked -> bucket_unlock(); rc = R_INVALID
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
					/* was_last: no other thread queued on the event */
					if :: !queued[1 - i] -> state = state & ~PARKED :: else -> skip fi;
					rc = R_TIMEDOUT
				:: else -> skip
				fi;
				bucket_unlock();
				if :: rc != R_TIMEDOUT -> unparked[i]; rc = R_UNPARKED :: else -> skip fi
			fi
		fi;
		if
		:: rc == R_TIMEDOUT -> s = state; ret = WAS_SET(s); break
#ifdef MUT_WOKEN_IS_SET
		:: rc == R_UNPARKED -> ret = true; break
#endif
		:: else -> skip
		fi;
again:		skip
	od;
	assert(!ret || f0 || setcount > c0);
	if :: i == 0 -> done0 = true :: else -> skip fi
}

proctype pulser()
{
	byte s, j;
	bool woke[N];
	queued[0] || done0;	/* w0 is waiting (or a second set() let it go) */
	event_set();
	state = state & ~SET	/* ct_event_clear: fetch_and */
}

proctype clearer()
{
	state = state & ~SET
}

proctype setter()
{
	byte s, j;
	bool woke[N];
	event_set()
}

init
{
	atomic {
		run waiter(0, false);
		run waiter(1, true);
		run pulser();
#ifdef SECOND
		run setter();
#endif
#ifdef CLEARER
		run clearer()
#endif
	}
}
