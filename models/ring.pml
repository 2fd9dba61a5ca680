/* The bounded ring's slot sequence protocol and its waiter marks
 * (src/queue/queue_ring.c), on the parking core.
 *
 * Positions are plain counts here (the C packs lap | index, which only
 * changes how the slot and the next position are computed); the slot of
 * position p is p % CAP. Shutdown and fork repair are left out.
 *
 *   tail, head      r->tail, r->head (PUTWAIT = bit 7 of head here)
 *   head_seen       r->head_seen, the producers' cached head
 *   stamp[s]        a slot's stamp: p + 1 once written for position p, with
 *                   WAITER (bit 6) when a getter waits for it
 *   item[s]         a slot's item (0: none)
 *   getters/putters the waiter counts (mark_and_park)
 *   gq[i], pq[i]    thread i queued on the getters' / putters' key; one
 *                   lock per key (lg, lp); unpark_one takes any of them
 *                   (FIFO in the C: any order covers it)
 *   gun[i], pun[i]  their parkers are UNPARKED
 *   posof, taken    ghosts: where item x was put, how many gets returned it
 *
 * Threads (CAP 1, so a put after the first meets a full ring):
 *   default     one putter of two items, an untimed getter and a timed one
 *               (its deadline may pass at any check or sleep)
 *   -DPUTTERS   an untimed putter and a timed one, one getter of two items
 *               (the second get timed: the timed put may not happen)
 * try_put, try_get, mark_and_park (with still_marked) and the pass_on_*
 * loops follow the C step by step; the spinning before a wait only delays.
 *
 * Checked (safety): no item is got twice; a get returns the item put at
 * its position; at the end every item put was got or is still in the ring
 * (puts - gets = tail - head); and every thread ends (no wake-up of a
 * putter or a getter is lost, including through pass_on_*).
 *
 * Mutants:
 *   MUT_NO_WAITER_CHECK  a put that does not look for WAITER in the stamp
 *                        it replaces: a parked getter is never woken
 *   MUT_GET_NO_PUTWAIT   a get that clears PUTWAIT with its claim but does
 *                        not wake a putter
 *   MUT_NO_PASS_ON       a waiter that parked and leaves by timeout does
 *                        not pass the mark on (pass_on_getters/_putters):
 *                        the mark it made is gone and a waiter still
 *                        parked sleeps for ever
 */
#ifndef CAP
#define CAP 1
#endif
#define PUTWAIT 128
#define WAITER 64
#define OK 0
#define FULL 1
#define EMPTY 2
#define AGAIN 255

#define room_between(t, h) ((h) >= (t) || (t) - (h) < CAP)

byte tail, head, head_seen;
byte stamp[CAP];
byte item[CAP];
byte getters, putters;
bool lg, lp;
bool gq[2], pq[2];
bool gun[2], pun[2];
byte posof[5];
byte taken[5];
byte ngot, nput, finished;

inline lock(l) { atomic { !l -> l = true } }

/* ct__unpark_one(key): any queued thread of that key */
#define WAKE_ONE(name, l, q, un)						\
inline name() {								\
	lock(l);							\
	w = AGAIN;							\
	if								\
	:: q[0] -> w = 0						\
	:: q[1] -> w = 1						\
	:: else -> skip							\
	fi;								\
	if :: w != AGAIN -> q[w] = false :: else -> skip fi;		\
	l = false;							\
	if :: w != AGAIN -> un[w] = true; w = 0 :: else -> w = 0 fi	\
}
WAKE_ONE(wake_getter, lg, gq, gun)
WAKE_ONE(wake_putter, lp, pq, pun)

/* ct__park(key, still_marked) after mark_and_park's mark: sleeps unless
 * the word moved on; a timed thread may time out and leave the queue. */
#define PARK_MARKED(name, l, q, un)					\
inline name(word, marked) {						\
	lock(l);							\
	if								\
	:: (word) != (marked) -> l = false				\
	:: else ->							\
		un[i] = false; q[i] = true; l = false;			\
		if							\
		:: un[i] -> skip					\
		:: timed ->						\
			lock(l);					\
			if :: q[i] -> q[i] = false; expired = true :: else -> skip fi; \
			l = false;					\
			if :: !expired -> un[i] :: else -> skip fi	\
		fi;							\
		un[i] = false						\
	fi								\
}
PARK_MARKED(park_getter, lg, gq, gun)
PARK_MARKED(park_putter, lp, pq, pun)

proctype putter(byte i; byte n; bool timed)
{
	byte t, h, old, w, rc, seen, k, x;
	bool parked, expired;
	for (k : 1 .. n) {
	x = i * 2 + k;
	do
	:: /* try_put */
		t = tail;
		do
		:: /* has_room: head_seen first, then the real head */
			if
			:: room_between(t, head_seen) -> rc = OK
			:: else ->
				h = head & ~PUTWAIT;
				atomic { head_seen = h; rc = (room_between(t, h) -> OK : FULL) }
			fi;
			if
			:: rc == FULL -> break
			:: else ->
				atomic { if :: tail == t -> tail = t + 1; rc = OK :: else -> t = tail; rc = AGAIN fi };
				if
				:: rc == OK ->
					item[t % CAP] = x;	/* the claimer's own until the stamp says written */
					atomic {	/* atomic_exchange of the stamp */
						old = stamp[t % CAP];
						stamp[t % CAP] = t + 1;
						posof[x] = t;
						nput++
					};
#ifndef MUT_NO_WAITER_CHECK
					if :: old & WAITER -> wake_getter() :: else -> skip fi;
#endif
					old = 0;
					break
				:: else -> skip
				fi
			fi
		od;
		if :: rc == OK -> break :: else -> skip fi;
		/* full: the deadline, the head again, then mark_and_park */
		if :: timed -> expired = true :: true -> skip fi;
		if :: expired -> break :: else -> skip fi;
		h = head;
		if
		:: room_between(t, h & ~PUTWAIT) -> skip
		:: else ->
			seen = h;
			rc = OK;
			if
			:: (seen & PUTWAIT) == 0 ->
				atomic { if :: head == seen -> head = seen | PUTWAIT :: else -> rc = AGAIN fi }
			:: else -> skip
			fi;
			if
			:: rc == OK ->
				putters++;
				park_putter(head, seen | PUTWAIT);
				putters--;
				parked = true
			:: else -> skip
			fi;
			seen = 0
		fi
	od;
	atomic { t = 0; h = 0; rc = 0; expired = false }
	}
#ifndef MUT_NO_PASS_ON
	/* pass_on_putters */
	do
	:: !parked || putters == 0 -> break
	:: else ->
		t = tail; h = head;
		if
		:: room_between(t, h & ~PUTWAIT) -> wake_putter(); break
		:: (h & PUTWAIT) != 0 -> break
		:: else ->
			atomic { if :: head == h -> head = h | PUTWAIT; rc = OK :: else -> rc = AGAIN fi };
			if :: rc == OK -> break :: else -> skip fi
		fi
	od;
#endif
	finished++
}

proctype getter(byte i; byte n; bool always_timed; bool last_timed)
{
	byte h, pos, st, raw, it, w, rc, k;
	bool parked, expired, timed;
	for (k : 1 .. n) {
	timed = always_timed || (last_timed && k == n);
	do
	:: /* try_get */
		h = head;
		do
		:: atomic { pos = h & ~PUTWAIT; st = stamp[pos % CAP] & ~WAITER };
			if
			:: st == pos + 1 ->
				it = item[pos % CAP];
				atomic { if :: head == h -> head = pos + 1; rc = OK :: else -> h = head; rc = AGAIN fi };
				if
				:: rc == OK ->
					assert(posof[it] == pos);
					d_step { taken[it]++; ngot++ };
					assert(taken[it] == 1);
					it = 0;
#ifndef MUT_GET_NO_PUTWAIT
					if :: h & PUTWAIT -> wake_putter() :: else -> skip fi;
#endif
					break
				:: else -> skip
				fi
			:: st < pos + 1 -> rc = EMPTY; h = pos; break
			:: else -> h = head
			fi
		od;
		if :: rc == OK -> break :: else -> skip fi;
		atomic { st = 0; it = 0 }
		/* empty at position h: the deadline, the stamp again, mark_and_park */
		if :: timed -> expired = true :: true -> skip fi;
		if :: expired -> break :: else -> skip fi;
		raw = stamp[h % CAP];
		if
		:: (raw & ~WAITER) >= h + 1 -> skip
		:: else ->
			rc = OK;
			if
			:: (raw & WAITER) == 0 ->
				atomic { if :: stamp[h % CAP] == raw -> stamp[h % CAP] = raw | WAITER :: else -> rc = AGAIN fi }
			:: else -> skip
			fi;
			if
			:: rc == OK ->
				getters++;
				park_getter(stamp[h % CAP], raw | WAITER);
				getters--;
				parked = true
			:: else -> skip
			fi;
			raw = 0
		fi
	od;
	atomic { h = 0; pos = 0; rc = 0; expired = false }
	}
#ifndef MUT_NO_PASS_ON
	/* pass_on_getters */
	do
	:: !parked || getters == 0 -> break
	:: else ->
		pos = head & ~PUTWAIT;
		raw = stamp[pos % CAP];
		if
		:: (raw & ~WAITER) == pos + 1 -> wake_getter(); break
		:: (raw & ~WAITER) < pos + 1 && (raw & WAITER) -> break
		:: (raw & ~WAITER) < pos + 1 && (raw & WAITER) == 0 ->
			atomic { if :: stamp[pos % CAP] == raw -> stamp[pos % CAP] = raw | WAITER; rc = OK :: else -> rc = AGAIN fi };
			if :: rc == OK -> break :: else -> skip fi
		:: else -> skip
		fi
	od;
#endif
	finished++
}

init
{
	byte k;
	atomic {
#ifdef PUTTERS
		run putter(0, 1, false);
		run putter(1, 1, true);
		run getter(0, 2, false, true)
#else
		run putter(0, 2, false);
		run getter(0, 1, false, false);
		run getter(1, 1, true, false)
#endif
	}
	finished == 3;
	/* nothing lost, nothing duplicated */
	assert(ngot + (tail - (head & ~PUTWAIT)) == nput);
	for (k : 1 .. 4) { assert(taken[k] <= 1) }
}
