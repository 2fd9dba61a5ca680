/* SimpleQueue (src/queue/simplequeue.c): the lock-free put over a list of
 * segments, the getters' turn-taking lock, the slot's WRITTEN/WAITER
 * word, on the parking core.
 *
 * Positions are plain counts in laps of LAP = SEG + 1 as in the C (SEG 2
 * here, so the third item crosses into a second segment); the offset SEG
 * of a lap is the linking offset. Segments are numbered in the order they
 * are linked; a slot is slots[segment * SEG + offset]. Not modelled: the
 * spare segment and recycle() (a segment is reused only after every slot
 * of it was read, which the C argues in its head comment), out of memory,
 * destroy, and the fork repair (the fork litmus tests run it).
 *
 *   tail, head        q->ct__tail, q->ct__head (positions; no generation)
 *   tailseg, headseg  q->ct__tail_seg, q->ct__head_seg (NONE: NULL)
 *   next[s]           segment s's next pointer (0: NULL; segment 0 is
 *                     nobody's next)
 *   state[i], item[i] a slot's state (WRITTEN 1, WAITER 2) and item
 *   glock             q->ct__get_lock (its own protocol is lock.pml's:
 *                     here an acquisition that may time out when timed)
 *   sl, sq[i], sk[i], su[i]   the parking core on the slots' keys: the
 *                     bucket lock, getter i queued, on which slot, unparked
 *   hl, hq[i], hu[i]  the same on &q->ct__head_seg (head_segment())
 *   posof, taken      ghosts: the position item x was put at, how many
 *                     gets returned it
 *
 * Threads: putter 0 puts items 1 and 2, putter 1 item 3 (they race for
 * the tail and for the linking offset); getter 0 gets two items with no
 * timeout, getter 1 one with a timeout, whose deadline may pass at every
 * check and every sleep (the lock's, the first segment's, the slot's).
 * put, install_first, publish, head_segment, wait_written and take follow
 * the C step by step; the spinning before a park only delays, and a put
 * at the linking offset waits (as its loop does) until the tail moves.
 *
 * Checked (safety): a get returns the item put at its head position; no
 * item is got twice; at the end every item put was got or is still
 * written between head and tail; every thread ends: no wake-up of a
 * getter (by its slot's put, or by the first segment's install) is lost.
 *
 * Mutants:
 *   MUT_NO_FETCH_OR   publish() reads the state, then stores WRITTEN,
 *                     instead of one fetch-or: a getter that marks WAITER
 *                     in between is never woken
 *   MUT_TAIL_FIRST    the put that links a segment moves the tail past
 *                     the linking offset before the tail segment: another
 *                     put claims a slot of the new segment and writes it
 *                     into the old one
 *   MUT_NO_INSTALL_WAKE  install_first() does not wake the getters parked
 *                     for the first segment
 */
#define SEG 2
#define LAP 3
#define NSEG 3
#define NONE 255
#define WRITTEN 1
#define WAITER 2
#define NG 2

byte tail, head;
byte tailseg = NONE, headseg = NONE;
byte next[NSEG];
byte state[NSEG * SEG];
byte item[NSEG * SEG];
bool glock;
bool sl, hl;
bool sq[NG], su[NG], hq[NG], hu[NG];
byte sk[NG];
byte posof[4];
byte taken[4];
byte nput, ngot, finished;

inline lock(l) { atomic { !l -> l = true } }

/* ct__unpark_all(&q->ct__head_seg) */
inline wake_head() {
	lock(hl);
	for (j : 0 .. NG - 1) {
		if :: hq[j] -> hq[j] = false; hu[j] = true :: else -> skip fi
	}
	j = 0;
	hl = false
}

/* ct__park_wake(&slot->state, 1): the getter parked on slot k, if any */
inline wake_slot(k) {
	lock(sl);
	for (j : 0 .. NG - 1) {
		if :: sq[j] && sk[j] == k -> sq[j] = false; su[j] = true :: else -> skip fi
	}
	j = 0;
	sl = false
}

/* install_first(): publish segment 0, head side first */
inline install_first() {
	atomic { if :: headseg == NONE -> headseg = 0; won = true :: else -> skip fi };
#ifndef MUT_NO_INSTALL_WAKE
	if :: won -> wake_head() :: else -> skip fi;
#endif
	won = false;
	atomic { if :: tailseg == NONE -> tailseg = headseg :: else -> skip fi }
}

proctype putter(byte first; byte n)
{
	byte p, off, s, old, x, j, k;
	bool won;
	for (k : 0 .. n - 1) {
	x = first + k;
	do
	:: p = tail;
		off = p % LAP;
		if
		:: off == SEG -> tail != p	/* another put is linking */
		:: else ->
			s = tailseg;
			if
			:: s == NONE -> install_first()
			:: else ->
				atomic { if :: tail == p -> tail = p + 1; won = true :: else -> skip fi };
				if
				:: won ->
					won = false;
					if
					:: off + 1 == SEG ->	/* link the next segment */
						next[s] = s + 1;
#ifdef MUT_TAIL_FIRST
						tail = p + 2;
						tailseg = s + 1;
#else
						tailseg = s + 1;
						tail = p + 2;
#endif
					:: else -> skip
					fi;
					/* publish() */
					item[s * SEG + off] = x;
#ifdef MUT_NO_FETCH_OR
					atomic { old = state[s * SEG + off]; posof[x] = p; nput++ };
					state[s * SEG + off] = WRITTEN;
#else
					atomic {
						old = state[s * SEG + off];
						state[s * SEG + off] = old | WRITTEN;
						posof[x] = p;
						nput++
					};
#endif
					if :: old & WAITER -> wake_slot(s * SEG + off) :: else -> skip fi;
					break
				:: else -> skip
				fi
			fi
		fi
	od;
	atomic { p = 0; off = 0; s = 0; old = 0 }
	}
	finished++
}

proctype getter(byte i; byte n; bool timed)
{
	byte s, h, off, st, it, k, slot;
	bool expired, locked;
	for (k : 1 .. n) {
	/* ct_lock_try_acquire, then ct__lock_acquire_until */
	if
	:: lock(glock); locked = true
	:: timed -> expired = true
	fi;
	if
	:: locked ->
		/* head_segment() */
		do
		:: s = headseg;
			if
			:: s != NONE -> break
			:: else ->
				if :: timed -> expired = true :: true -> skip fi;
				if :: expired -> break :: else -> skip fi;
				/* ct__park(&q->ct__head_seg), validate no_segment_yet */
				lock(hl);
				if
				:: headseg != NONE -> hl = false
				:: else ->
					hq[i] = true; hl = false;
					if
					:: hu[i] -> skip
					:: timed ->
						lock(hl);
						if :: hq[i] -> hq[i] = false :: else -> skip fi;
						hl = false
					fi;
					hu[i] = false
				fi
			fi
		od;
		if
		:: !expired ->
			h = head;
			off = h % LAP;
			slot = s * SEG + off;
			/* wait_written() */
			st = state[slot];
			do
			:: st & WRITTEN -> break
			:: else ->
				if :: timed -> expired = true :: true -> skip fi;
				if :: expired -> break :: else -> skip fi;
				if
				:: !(st & WAITER) ->
					atomic { if :: state[slot] == st -> state[slot] = st | WAITER; st = st | WAITER :: else -> st = state[slot] fi }
				:: else -> skip
				fi;
				if
				:: st & WAITER ->
					/* ct__park_wait(&slot->state, WAITER) */
					lock(sl);
					if
					:: state[slot] != WAITER -> sl = false
					:: else ->
						sk[i] = slot; sq[i] = true; sl = false;
						if
						:: su[i] -> skip
						:: timed ->
							lock(sl);
							if :: sq[i] -> sq[i] = false :: else -> skip fi;
							sl = false
						fi;
						su[i] = false
					fi;
					st = state[slot]
				:: else -> skip
				fi
			od;
			if
			:: !expired ->
				it = item[slot];
				assert(posof[it] == h);
				d_step { taken[it]++; ngot++ };
				assert(taken[it] == 1);
				if
				:: off + 1 < SEG -> head = h + 1
				:: else ->
					assert(next[s] != 0);
					headseg = next[s];
					head = h + 2
				fi
			:: else -> skip
			fi
		:: else -> skip
		fi;
		glock = false
	:: else -> skip
	fi;
	atomic { s = 0; h = 0; off = 0; st = 0; it = 0; slot = 0; expired = false; locked = false }
	}
	finished++
}

init
{
	byte k, t;
	atomic {
		run putter(1, 2);
		run putter(3, 1);
		run getter(0, 2, false);
		run getter(1, 1, true)
	}
	finished == 4;
	/* nothing lost, nothing duplicated */
	t = head;
	do
	:: t < tail && t % LAP == SEG -> t++
	:: t < tail && t % LAP != SEG ->
		assert(state[headseg * SEG + t % LAP] & WRITTEN);
		ngot++;
		t++
	:: t >= tail -> break
	od;
	assert(ngot == nput && nput == 3);
	for (k : 1 .. 3) { assert(taken[k] <= 1) }
}
