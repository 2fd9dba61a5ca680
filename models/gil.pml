/* The GIL's drop request, forced switching and hand-off (src/gil/gil.c).
 *
 *   state        g->ct__state: LOCKED 2, WAITERS 4 (REGISTERED left out)
 *   il           the GIL's internal lock (gil_lock/gil_unlock)
 *   holder       g->ct__holder (NONE while free or between CAS and publish)
 *   breaker[i]   thread i's eval breaker: 0, G (holds this GIL) or G|DROP
 *   drop         g->ct__drop: a request is pending
 *   q, qlen      g->ct__waiters, in hand-off order (all CPU-bound here, so
 *                due order is arrival order; a resuming thread's earlier
 *                due only reorders the queue)
 *   chosen[i], signal[i]   the waiter record: chosen by a hand-over;
 *                WAITING / GRANTED (REARM only shortens a timer: left out)
 *   owns[i]      ghost: thread i was published as the holder and has not
 *                begun to give the GIL up
 *   running[i]   ghost: thread i holds the GIL and runs
 *   releasing[i] ghost: thread i is inside give(), not yet done
 * Timers are free: whenever a waiter is between sleeps, its time to ask
 * may have come (next_check), at the latest after ASKK looks (time goes
 * on), and a sleeping waiter may wake by timeout while no request is
 * pending. Once one is, the model lets it sleep until the hand-off: the
 * assumption that a holder reaches a checkpoint within an interval (the
 * C re-asks every interval; without the assumption a holder that never
 * checks would starve everyone, whatever the protocol).
 *
 * Threads run a loop: take the GIL, pass CHECKS checkpoints (each may
 * switch out on a request), give it up; ITER times, or for ever (ITER=0,
 * no give: CPU-bound threads that only leave when asked).
 *
 * Checked:
 *   safety   one thread holds and runs at a time; a drop request is written only to
 *            a thread that holds the GIL or is still in give() (the eval
 *            breaker rule); a thread's breaker is 0 whenever it holds
 *            nothing; a hand-over never picks the thread switching out;
 *            every thread ends
 *   ltl fair with two CPU-bound threads, under weak fairness, each of
 *            them runs again and again: forced switching works. (With
 *            three, spin finds a cycle in which one thread never gets the
 *            internal lock: a weak-fairness artefact of modelling that
 *            lock as a test-and-set, not of the protocol.)
 *
 * Mutants:
 *   MUT_GIVE_NO_CLEAR  give_slow does not clear the breaker again: a
 *                      request written during the release outlives it
 *   MUT_NO_DROP_CHECK  the checkpoint ignores the breaker: a CPU-bound
 *                      holder keeps the GIL for ever (ltl fair fails)
 */
#ifndef N
#define N 2
#endif
#ifndef ITER
#define ITER 1
#endif
#ifndef CHECKS
#define CHECKS 1
#endif
#ifndef ASKK
#define ASKK 1
#endif
#define LOCKED 2
#define WAITERS 4
#define G 2
#define DROP 1
#define NONE 255
#define WAITING 0
#define GRANTED 2

byte state;
bool il;
byte holder = NONE;
byte breaker[N];
bool drop;
byte q[N];
byte qlen;
bool chosen[N];
byte signal[N];
bool running[N];
bool owns[N];
byte nowners;
bool releasing[N];
byte nrunning;

inline lock_il() { atomic { !il -> il = true } }

inline publish_holder(t) {
	d_step { breaker[t] = G; holder = t; owns[t] = true; nowners++ };
	assert(nowners == 1)
}

/* ask_to_drop: under il */
inline ask_to_drop() {
	h = holder;
	if
	:: h != NONE ->
		assert(owns[h] || releasing[h]);
		drop = true;
		breaker[h] = breaker[h] | DROP
	:: else -> skip
	fi;
	h = 0
}

/* hand_over: under il; the chosen one into next */
inline hand_over() {
	next = q[0];
	d_step {
		k = 0;
		do :: k + 1 < qlen -> q[k] = q[k + 1]; k++ :: else -> break od;
		qlen--; q[qlen] = 0; k = 0
	}
	if :: qlen == 0 -> state = state & ~WAITERS :: else -> skip fi;
	chosen[next] = true;
	drop = false;
	publish_holder(next)
}

inline enqueue(t) { q[qlen] = t; qlen++; state = state | WAITERS }

/* wait_turn(me, next): entered with il held, returns without it */
inline wait_turn() {
	do
	:: true ->
		if
		:: !chosen[me] ->
			signal[me] = WAITING;
			/* next_check: the time to ask may have come; it has
			 * after ASKK looks at most (time goes on) */
			if
			:: !drop -> ask_to_drop(); looks = 0
			:: looks < ASKK -> looks++
			:: drop -> skip
			fi
		:: else -> skip
		fi;
		sig = signal[me];
		il = false;
		if
		:: next != NONE -> signal[next] = GRANTED; next = NONE	/* grant() */
		:: else -> skip
		fi;
		if
		:: sig != GRANTED ->
			if
			:: signal[me] != sig -> skip	/* woken */
			:: !chosen[me] && !drop -> skip	/* the timer went off */
			fi
		:: else -> skip
		fi;
		if :: signal[me] == GRANTED -> break :: else -> skip fi;
		lock_il()
	od;
	chosen[me] = false; signal[me] = WAITING; sig = 0; looks = 0
}

inline start_running() {
	assert((breaker[me] & G) != 0);	/* it holds this GIL (a request may already be there) */
	d_step { running[me] = true; nrunning++ };
	assert(nrunning == 1)
}

inline stop_running() {
	d_step { running[me] = false; nrunning--; owns[me] = false; nowners-- }
}

proctype thread(byte me)
{
	byte s, h, k, next = NONE, sig, n, c, looks;
	bool ok;
	do
	:: ITER > 0 && n == ITER -> break
	:: else ->
		/* take() */
		assert(breaker[me] == 0);
		atomic { if :: state == 0 -> state = LOCKED; ok = true :: else -> ok = false fi };
		if
		:: ok -> publish_holder(me)
		:: else ->	/* take_slow */
			lock_il();
			s = state;
			do
			:: (s & LOCKED) == 0 ->
				atomic { if :: state == s -> state = s | LOCKED; ok = true :: else -> s = state fi };
				if :: ok -> publish_holder(me); il = false; break :: else -> skip fi
			:: else ->
				atomic { if :: state == s || (s & WAITERS) -> state = state | WAITERS; ok = true :: else -> s = state fi };
				if :: ok -> ok = false; break :: else -> skip fi
			od;
			if
			:: !ok -> enqueue(me); wait_turn()	/* held: queue and wait */
			:: else -> ok = false
			fi
		fi;
		start_running();
		/* the checkpoints */
		c = 0;
		do
		:: ITER > 0 && c == CHECKS -> break
		:: else ->
progress:		skip;
#ifndef MUT_NO_DROP_CHECK
			if
			:: breaker[me] & DROP ->	/* switch_out(FORCED) */
				lock_il();
				if
				:: qlen == 0 -> drop = false; breaker[me] = G; il = false
				:: else ->
					stop_running();
					breaker[me] = 0;
					hand_over();
					assert(next != me);
					enqueue(me);
					wait_turn();
					start_running()
				fi
			:: else -> skip
			fi;
#endif
			if :: ITER > 0 -> c++ :: else -> skip fi
		od;
		if
		:: ITER > 0 ->
			/* give() */
			releasing[me] = true;
			stop_running();
			holder = NONE;
			breaker[me] = 0;
			atomic { if :: state == LOCKED -> state = 0; ok = true :: else -> ok = false fi };
			if
			:: !ok ->	/* give_slow */
				lock_il();
#ifndef MUT_GIVE_NO_CLEAR
				breaker[me] = 0;
#endif
				if
				:: qlen > 0 -> hand_over()
				:: else -> drop = false; state = state & ~(LOCKED | WAITERS)
				fi;
				releasing[me] = false;
				il = false;
				if :: next != NONE -> signal[next] = GRANTED; next = NONE :: else -> skip fi
			:: else -> releasing[me] = false
			fi;
			n++
		:: else -> skip
		fi
	od
}

ltl fair { []<> running[0] && []<> running[1] }

init
{
	atomic {
		byte k;
		for (k : 0 .. N - 1) { run thread(k) }
	}
}
