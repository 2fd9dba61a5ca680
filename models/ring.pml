/* The bounded ring's slot sequence protocol and how its waiters sleep
 * (src/queue/queue_ring.c), on the parking core; with -DSOLO its solo mode
 * (one producer and one consumer without read-modify-writes) and the
 * switch to the shared mode, with -DSHUTDOWN a shutdown.
 *
 * Positions are plain counts here (the C packs lap | index, which only
 * changes how the slot and the next position are computed); the slot of
 * position p is p % CAP. The fork repair is left out (the fork litmus
 * tests run it), and so are the memory orders: the model is sequentially
 * consistent, which the C's fences (ct__fence_light/heavy, Dekker's pairs
 * of section_open() with share() and of counted_park() with publish())
 * are there to give.
 *
 *   tail, head      r->tail (SHUT = bit 7), r->head (PUTWAIT = bit 7)
 *   head_seen       r->head_seen, the producers' cached head
 *   stamp[s]        a slot's stamp: p + 1 once written for position p
 *   item[s]         a slot's item (0: none)
 *   getters/putters the waiter counts (mark_and_park, counted_park)
 *   pq[i]           putter i queued on the shared putters' key (lock lp);
 *                   unpark_one takes any of them (FIFO in the C: any
 *                   order covers it)
 *   pun[i]          its parker is UNPARKED
 *   mode            r->mode: SOLO, SWITCHING, SHARED (SHARED throughout
 *                   without -DSOLO)
 *   producer, consumer  r->producer, r->consumer (_pid + 1; 0: NULL)
 *   put_busy, get_busy  r->put_busy, r->get_busy (the solo sections)
 *   sleep_get, sleep_put  sleepers[] of r->get_key (every getter, solo
 *                   or shared), r->put_key (the solo putter)
 *   sgq, sgu, sgt   getter i queued on r->get_key, unparked, and its token
 *                   TOKEN_UNCOUNTED; spq, spu, spt the same on r->put_key;
 *                   lsg, lsp their bucket locks
 *   posof, taken    ghosts: where item x was put, how many gets returned it
 *   shut            ghost: the shutdown has set SHUT
 *
 * Threads (CAP 1, so a put after the first meets a full ring):
 *   default     one putter of two items, an untimed getter and a timed one
 *               (its deadline may pass at any check or sleep)
 *   -DPUTTERS   an untimed putter and a timed one, one getter of two items
 *               (the second get timed: the timed put may not happen)
 *   -DSOLO      putter 0 (one item) and getter 0 (two) start the ring in
 *               solo mode; a second putter (one item) arrives at any
 *               moment and ends it. With -DGETTERS instead, putter 0 puts
 *               two items, getter 0 gets one and a second getter one.
 *   -DSHUTDOWN  one putter of two items and a getter of two, untimed, and
 *               a shutdown at any moment (-DIMMEDIATE: it drains the
 *               ring); with -DGETTERS, a putter of one item and two
 *               getters of one; with -DSOLO, the shutdown ends the solo
 *               mode of the putter and the getter.
 *   -DTWO_BY_TWO -DCAP=2  two putters of one item and two getters of one,
 *               untimed, shared from the start: the two puts may publish
 *               out of order, the second's wake-up going to a getter that
 *               still waits for the first position.
 * try_put, try_get, mark_and_park (with still_marked), pass_on_putters,
 * pass_on_getters, solo_mine, share, section_open, solo_try_put,
 * solo_try_get, counted_park (with solo_must_wait and
 * shared_get_must_wait), publish, wake_sleeper, drain and shutdown follow
 * the C step by step; the spinning before a wait only delays.
 *
 * Checked (safety): no item is got twice; a get returns the item put at
 * its position; at the end every item put was got (or drained) or is
 * still in the ring (puts - gets = tail - head); a shutdown's SHUT is
 * never lost; and every thread ends: no wake-up of a putter or a getter
 * is lost (through pass_on_*, across the switch from solo to shared, or
 * at a shutdown, which must release every blocked put and get).
 *
 * Mutants:
 *   MUT_NO_SLEEPER_CHECK a shared put that does not look at the getters'
 *                        count in sleepers[] after its stamp: a parked
 *                        getter is never woken
 *   MUT_GET_NO_PUTWAIT   a get that clears PUTWAIT with its claim but does
 *                        not wake a putter
 *   MUT_NO_PASS_ON       a waiter that slept and leaves does not pass on
 *                        (pass_on_getters, pass_on_putters): with two
 *                        puts publishing out of order, the getter woken
 *                        for the later one sleeps again, the other takes
 *                        the earlier item and leaves, and the later item
 *                        waits beside a sleeping getter (-DTWO_BY_TWO);
 *                        after a shutdown, the put claimed before it wakes
 *                        one getter and the other sleeps for ever
 *                        (-DSHUTDOWN -DGETTERS). No configuration here has
 *                        two putters waiting at once, so pass_on_putters
 *                        is followed but not shown to be needed.
 *   MUT_SHARE_NO_SECTIONS  share() does not wait for the solo sections to
 *                        close: the solo producer's plain store of the
 *                        tail undoes a shared put's claim
 *   MUT_SOLO_NO_WAKE     share() does not wake the solo waiters, which
 *                        sleep on a key no shared call wakes
 *   MUT_SHUT_NO_SHARE    a shutdown that does not end the solo mode: the
 *                        solo producer's plain store loses SHUT
 *   MUT_STILL_MARKED_NO_SHUT  still_marked() and shared_get_must_wait()
 *                        ignore the shutdown: a getter that counted itself
 *                        before the shutdown and parks after its wake-ups
 *                        sleeps for ever
 */
#ifndef CAP
#define CAP 1
#endif
#define PUTWAIT 128
#define SHUT 128
#define OK 0
#define FULL 1
#define EMPTY 2
#define RC_SHUTDOWN 3
#define NOT_SOLO 4
#define AGAIN 255
#define M_SOLO 0
#define M_SWITCHING 1
#define M_SHARED 2

#define room_between(t, h) ((h) >= (t) || (t) - (h) < CAP)

byte tail, head, head_seen;
byte stamp[CAP];
byte item[CAP];
byte getters, putters;
bool lp;
bool pq[2];
bool pun[2];
byte posof[5];
byte taken[5];
byte ngot, nput, finished;
bool shut;
byte sleep_get;
bool lsg;
bool sgq[2], sgu[2], sgt[2];
#ifdef SOLO
byte mode = M_SOLO;
byte producer, consumer;
bool put_busy, get_busy;
byte sleep_put;
bool lsp;
bool spq[2], spu[2], spt[2];
#else
byte mode = M_SHARED;
#endif

inline lock(l) { atomic { !l -> l = true } }

/* ct__unpark_one(key): any queued thread of that key; with @p count, the
 * wake_sleeper()'s uncount_woken() callback, under the bucket lock */
#define WAKE_ONE(name, l, q, un, UNCOUNT)				\
inline name() {								\
	lock(l);							\
	w = AGAIN;							\
	if								\
	:: q[0] -> w = 0						\
	:: q[1] -> w = 1						\
	:: else -> skip							\
	fi;								\
	if :: w != AGAIN -> q[w] = false; UNCOUNT :: else -> skip fi;	\
	l = false;							\
	if :: w != AGAIN -> un[w] = true; w = 0 :: else -> w = 0 fi	\
}
WAKE_ONE(wake_putter, lp, pq, pun, skip)
WAKE_ONE(wake_counted_getter, lsg, sgq, sgu, sleep_get--; sgt[w] = true)

/* ct__unpark_all(key, CT__TOKEN_NORMAL) */
#define WAKE_ALL(name, l, q, un)					\
inline name() {								\
	lock(l);							\
	for (w : 0 .. 1) {						\
		if :: q[w] -> q[w] = false; un[w] = true :: else -> skip fi \
	}								\
	w = 0;								\
	l = false							\
}
WAKE_ALL(wake_all_putters, lp, pq, pun)
WAKE_ALL(wake_all_counted_getters, lsg, sgq, sgu)

/* ct__park(key, validate): sleeps if @p must_wait holds under the bucket
 * lock; a timed thread may time out and leave the queue. woke: UNPARKED. */
#define PARK(name, l, q, un)						\
inline name(must_wait) {						\
	lock(l);							\
	if								\
	:: !(must_wait) -> l = false					\
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
		woke = un[i];						\
		un[i] = false						\
	fi								\
}
PARK(park_putter, lp, pq, pun)
PARK(park_counted_getter, lsg, sgq, sgu)

#ifdef SOLO
WAKE_ONE(wake_solo_putter, lsp, spq, spu, sleep_put--; spt[w] = true)
WAKE_ALL(wake_all_solo_putters, lsp, spq, spu)
PARK(park_solo_putter, lsp, spq, spu)

/* share() */
inline share() {
	atomic { if :: mode == M_SOLO -> mode = M_SWITCHING; won = true :: else -> skip fi };
	if
	:: won ->
#ifndef MUT_SOLO_NO_WAKE
		wake_all_counted_getters();
		wake_all_solo_putters();
#endif
#ifndef MUT_SHARE_NO_SECTIONS
		!put_busy;
		!get_busy;
#endif
		mode = M_SHARED;
		won = false
	:: else -> mode == M_SHARED
	fi
}

/* solo_mine(): solo = the caller may take the solo path as @p owner */
inline solo_mine(owner) {
	if
	:: mode != M_SOLO -> mode == M_SHARED	/* wait_until(is_shared) if SWITCHING */
	:: else ->
		atomic { if :: owner == _pid + 1 || owner == 0 -> owner = _pid + 1; solo = true :: else -> skip fi };
		if :: !solo -> share() :: else -> skip fi
	fi
}
#endif

/* try_get(): rc OK (item taken), EMPTY with h the position not written */
inline try_get() {
	h = head;
	do
	:: atomic { pos = h & ~PUTWAIT; st = stamp[pos % CAP] };
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
	od
}

/* pass_on_putters(): if putters still wait, wake one when there is room,
 * else see PUTWAIT set in the head */
inline pass_on_putters() {
	do
	:: putters == 0 -> break
	:: else ->
		pt = tail; ph = head;
		if
		:: pt & SHUT -> break
		:: else ->
			if
			:: room_between(pt, ph & ~PUTWAIT) -> wake_putter(); break
			:: (ph & PUTWAIT) != 0 -> break
			:: else ->
				atomic { if :: head == ph -> head = ph | PUTWAIT; prc = OK :: else -> prc = AGAIN fi };
				if :: prc == OK -> break :: else -> skip fi
			fi
		fi
	od;
	atomic { pt = 0; ph = 0; prc = 0 }
}

proctype putter(byte i; byte n; bool timed)
{
	byte t, h, w, rc, seen, k, x, pt, ph, prc;
	bool parked, passed, expired, woke, solo, won;
	for (k : 1 .. n) {
	x = i * 2 + k;
#ifdef SOLO
	solo_mine(producer);
	if
	:: solo ->
		/* solo_call(solo_try_put) */
		do
		:: /* solo_try_put: section_open */
			put_busy = true;
			if
			:: mode != M_SOLO -> put_busy = false; rc = NOT_SOLO; break
			:: else -> skip
			fi;
			t = tail;
			if
			:: room_between(t, head_seen) -> rc = OK
			:: else ->
				h = head & ~PUTWAIT;
				atomic { head_seen = h; rc = (room_between(t, h) -> OK : FULL) }
			fi;
			if
			:: rc == FULL ->
				put_busy = false;
				if :: timed -> expired = true :: true -> skip fi;
				if :: expired -> break :: else -> skip fi;
				/* counted_park(solo_must_wait) */
				sleep_put++;
				putters++;
				park_solo_putter(mode == M_SOLO && !room_between(t, head & ~PUTWAIT));
				putters--;
				if :: !(woke && spt[i]) -> sleep_put-- :: else -> skip fi;
				atomic { spt[i] = false; woke = false }
			:: else ->
				tail = t + 1;	/* a plain store: the claim */
				put_busy = false;
				item[t % CAP] = x;
				atomic { stamp[t % CAP] = t + 1; posof[x] = t; nput++ };	/* plain */
				/* wake_sleeper(&r->get_key) */
				if :: sleep_get != 0 -> wake_counted_getter() :: else -> skip fi;
				break
			fi
		od;
		if :: rc == NOT_SOLO -> mode == M_SHARED :: else -> skip fi
	:: else -> skip
	fi;
	if
	:: solo && rc != NOT_SOLO -> skip
	:: else ->
#endif
	do
	:: /* try_put */
		t = tail;
		do
		:: t & SHUT -> rc = RC_SHUTDOWN; break
		:: else ->
			/* has_room: head_seen first, then the real head */
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
#ifndef MUT_NO_PASS_ON
					/* a put that slept passes on before its stamp */
					if :: parked -> pass_on_putters(); passed = true :: else -> skip fi;
#endif
					item[t % CAP] = x;	/* the claimer's own until the stamp says written */
					/* publish(): a plain store of the stamp */
					atomic { stamp[t % CAP] = t + 1; posof[x] = t; nput++ };
#ifndef MUT_NO_SLEEPER_CHECK
					/* wake_sleeper(&r->get_key) */
					if :: sleep_get != 0 -> wake_counted_getter() :: else -> skip fi;
#endif
					break
				:: else -> skip
				fi
			fi
		od;
		if :: rc != FULL -> break :: else -> skip fi;
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
#ifdef MUT_STILL_MARKED_NO_SHUT
				park_putter(head == (seen | PUTWAIT));
#else
				park_putter(head == (seen | PUTWAIT) && !(tail & SHUT));
#endif
				atomic { putters--; woke = false };
				parked = true
			:: else -> skip
			fi;
			seen = 0
		fi
	od;
	atomic { t = 0; h = 0; rc = 0; expired = false; woke = false; solo = false }
#ifndef MUT_NO_PASS_ON
	/* a put that failed after it slept passes on as it leaves */
	if :: parked && !passed -> pass_on_putters() :: else -> skip fi;
#endif
#ifdef SOLO
	fi;
#endif
	atomic { t = 0; h = 0; rc = 0; parked = false; passed = false }
	}
	finished++
}

proctype getter(byte i; byte n; bool always_timed; bool last_timed)
{
	byte h, pos, st, it, w, rc, k, t;
	bool parked, expired, timed, woke, solo, won;
	for (k : 1 .. n) {
	timed = always_timed || (last_timed && k == n);
#ifdef SOLO
	solo_mine(consumer);
	if
	:: solo ->
		/* solo_call(solo_try_get) */
		do
		:: /* solo_try_get: section_open */
			get_busy = true;
			if
			:: mode != M_SOLO -> get_busy = false; rc = NOT_SOLO; break
			:: else -> skip
			fi;
			h = head;
			if
			:: stamp[h % CAP] != h + 1 ->
				get_busy = false;
				if :: timed -> expired = true :: true -> skip fi;
				if :: expired -> break :: else -> skip fi;
				/* counted_park(solo_must_wait) */
				sleep_get++;
				getters++;
				park_counted_getter(mode == M_SOLO && stamp[h % CAP] < h + 1);
				getters--;
				if :: !(woke && sgt[i]) -> sleep_get-- :: else -> skip fi;
				atomic { sgt[i] = false; woke = false }
			:: else ->
				it = item[h % CAP];
				head = h + 1;	/* a plain store */
				assert(posof[it] == h);
				d_step { taken[it]++; ngot++ };
				assert(taken[it] == 1);
				get_busy = false;
				/* wake_sleeper(&r->put_key) */
				if :: sleep_put != 0 -> wake_solo_putter() :: else -> skip fi;
				rc = OK;
				break
			fi
		od;
		if :: rc == NOT_SOLO -> mode == M_SHARED :: else -> skip fi
	:: else -> skip
	fi;
	if
	:: solo && rc != NOT_SOLO -> skip
	:: else ->
#endif
	do
	:: try_get();
		if :: rc == OK -> break :: else -> skip fi;
		atomic { st = 0; it = 0 }
		atomic { t = tail; if :: (t & SHUT) && (t & ~SHUT) == h -> rc = RC_SHUTDOWN :: else -> skip fi; t = 0 };
		if :: rc == RC_SHUTDOWN -> break :: else -> skip fi;
		/* empty at position h: the deadline, then counted_park */
		if :: timed -> expired = true :: true -> skip fi;
		if :: expired -> break :: else -> skip fi;
		sleep_get++;
		getters++;
#ifdef MUT_STILL_MARKED_NO_SHUT
		park_counted_getter(stamp[h % CAP] < h + 1);
#else
		park_counted_getter(stamp[h % CAP] < h + 1 && (!(tail & SHUT) || (tail & ~SHUT) != h));
#endif
		getters--;
		if :: !(woke && sgt[i]) -> sleep_get-- :: else -> skip fi;
		atomic { sgt[i] = false; woke = false };
		parked = true
	od;
	atomic { h = 0; pos = 0; st = 0; it = 0; rc = 0; expired = false; woke = false; solo = false }
#ifndef MUT_NO_PASS_ON
	/* pass_on_getters */
	if
	:: parked && getters != 0 && (tail & SHUT) -> wake_all_counted_getters()
	:: parked && getters != 0 && !(tail & SHUT) ->
		pos = head & ~PUTWAIT;
		if :: stamp[pos % CAP] >= pos + 1 -> wake_counted_getter() :: else -> skip fi
	:: else -> skip
	fi;
#endif
#ifdef SOLO
	fi;
#endif
	atomic { pos = 0; rc = 0; parked = false }
	}
	finished++
}

/* ring_shutdown(): share(), SHUT, the drain if immediate, the wake-ups */
proctype shutdown()
{
	byte h, pos, st, it, w, rc;
	bool won;
#if defined(SOLO) && !defined(MUT_SHUT_NO_SHARE)
	share();
#endif
	atomic { tail = tail | SHUT; shut = true };
#ifdef IMMEDIATE
	/* drain() */
	do
	:: try_get();
		if
		:: rc == OK -> skip
		:: (tail & ~SHUT) == h -> break
		:: else -> stamp[h % CAP] >= h + 1	/* spins for the put claimed before */
		fi
	od;
#endif
	wake_all_counted_getters();
	wake_all_putters();
	finished++
}

init
{
	byte k, nthreads;
	atomic {
#if defined(TWO_BY_TWO)
		run putter(0, 1, false);
		run putter(1, 1, false);
		run getter(0, 1, false, false);
		run getter(1, 1, false, false);
		nthreads = 4
#elif defined(SHUTDOWN) && defined(GETTERS)
		run putter(0, 1, false);
		run getter(0, 1, false, false);
		run getter(1, 1, false, false);
		run shutdown();
		nthreads = 4
#elif defined(SHUTDOWN)
		run putter(0, 2, false);
		run getter(0, 2, false, false);
		run shutdown();
		nthreads = 3
#elif defined(SOLO) && defined(GETTERS)
		run putter(0, 2, false);
		run getter(0, 1, false, false);
		run getter(1, 1, false, false);
		nthreads = 3
#elif defined(SOLO)
		run putter(0, 1, false);
		run getter(0, 2, false, false);
		run putter(1, 1, false);
		nthreads = 3
#elif defined(PUTTERS)
		run putter(0, 1, false);
		run putter(1, 1, true);
		run getter(0, 2, false, true);
		nthreads = 3
#else
		run putter(0, 2, false);
		run getter(0, 1, false, false);
		run getter(1, 1, true, false);
		nthreads = 3
#endif
	}
	finished == nthreads;
	/* nothing lost, nothing duplicated */
	assert(ngot + ((tail & ~SHUT) - (head & ~PUTWAIT)) == nput);
	for (k : 1 .. 4) { assert(taken[k] <= 1) }
	/* a shutdown is for good */
	assert(!shut || (tail & SHUT))
}
