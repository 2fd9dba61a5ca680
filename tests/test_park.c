/* The parking core (src/park/park.h), used directly: futex-style waits,
 * exact wake counts, deadlines, EINTR, tokens, requeueing, stop requests
 * and the keyless sleep. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "fork_helpers.h"
#include "harness.h"
#include "park/fork.h"
#include "park/park.h"
#include "park_threads.h"

/* ---- a parked thread, as the tests see it -------------------------------- */

/* One thread in ct__park() on @p key (with @p ops) or, when @p word is set,
 * in ct__park_wait(word, expected). */
struct waiter {
	pk_thread *t;
	const void *key;
	const struct ct__park_ops *ops;
	void *ctx;
	_Atomic uint32_t *word;
	uint32_t expected;
	int64_t deadline;
	unsigned flags;
	int rc;
	uintptr_t token;
	int64_t returned_at;
};

static const struct ct__park_ops no_ops;

static int park_target(void *arg)
{
	struct waiter *w = arg;
	if (w->word)
		w->rc = ct__park_wait(w->word, w->expected, w->deadline, w->flags);
	else
		w->rc = ct__park(w->key, w->ops ? w->ops : &no_ops, w->ctx, w->deadline, w->flags,
				 &w->token);
	w->returned_at = ct__now_ns();
	return 0;
}

/* Starts the waiter and returns once it is queued: waiters started one
 * after another are queued in that order. */
static void park_in_thread(struct waiter *w)
{
	w->rc = 99;
	pk_start(&w->t, park_target, w);
	pk_wait_parked(w->t);
}

static void word_waiter(struct waiter *w, _Atomic uint32_t *word, int64_t deadline, unsigned flags)
{
	*w = (struct waiter){
		.word = word, .expected = atomic_load(word), .deadline = deadline, .flags = flags};
	park_in_thread(w);
}

static void key_waiter(struct waiter *w, const void *key, const struct ct__park_ops *ops, void *ctx,
		       unsigned flags)
{
	*w = (struct waiter){
		.key = key, .ops = ops, .ctx = ctx, .deadline = CT__NO_DEADLINE, .flags = flags};
	park_in_thread(w);
}

static void finish(struct waiter *w)
{
	pk_join(w->t);
}

static int64_t in_ms(int ms)
{
	return ct__now_ns() + (int64_t)ms * 1000000;
}

/* ---- futex semantics ----------------------------------------------------- */

TEST(park_wait_returns_at_once_when_the_word_differs)
{
	_Atomic uint32_t word = 1;
	/* A wait that slept here would never end: nobody wakes it. */
	CHECK_OK(ct__park_wait(&word, 0, CT__NO_DEADLINE, 0));
	CHECK_OK(ct__park_wait(&word, 0, CT__NO_DEADLINE, CT__PARK_NO_SPIN));
	CHECK_OK(ct__park_wait(&word, 2, in_ms(60000), CT__PARK_INTERRUPTIBLE));
	CHECK_EQ(ct__park_wake(&word, 1), 0); /* nobody was queued */
}

TEST(wake_one_wakes_exactly_one)
{
	_Atomic uint32_t word = 0;
	struct waiter w[4];
	for (int i = 0; i < 4; i++)
		word_waiter(&w[i], &word, CT__NO_DEADLINE, 0);
	CHECK_EQ(ct__park_wake(&word, 1), 1);
	/* The oldest first; the others stay queued. */
	finish(&w[0]);
	CHECK_OK(w[0].rc);
	for (int i = 1; i < 4; i++)
		CHECK(pk_alive(w[i].t) && pk_is_parked(w[i].t));
	CHECK_EQ(ct__park_wake(&word, 2), 2);
	CHECK_EQ(ct__park_wake(&word, 5), 1);
	CHECK_EQ(ct__park_wake(&word, 1), 0);
	for (int i = 1; i < 4; i++) {
		finish(&w[i]);
		CHECK_OK(w[i].rc);
	}
}

TEST(wake_all_wakes_all)
{
	_Atomic uint32_t word = 7;
	struct waiter w[5];
	for (int i = 0; i < 5; i++)
		word_waiter(&w[i], &word, CT__NO_DEADLINE, i % 2 ? CT__PARK_NO_SPIN : 0);
	CHECK_EQ(ct__unpark_all(&word, CT__TOKEN_NORMAL), 5);
	for (int i = 0; i < 5; i++) {
		finish(&w[i]);
		CHECK_OK(w[i].rc);
	}
	CHECK_EQ(ct__unpark_all(&word, CT__TOKEN_NORMAL), 0);
}

/* ---- deadlines ----------------------------------------------------------- */

TEST(a_deadline_never_ends_a_wait_early)
{
	static const int ms[] = {1, 5, 20, 50};
	static const unsigned flags[] = {0, CT__PARK_NO_SPIN, CT__PARK_INTERRUPTIBLE};
	_Atomic uint32_t word = 0;
	for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
		for (size_t f = 0; f < sizeof flags / sizeof *flags; f++) {
			int64_t deadline = in_ms(ms[i]);
			CHECK_RC(ct__park_wait(&word, 0, deadline, flags[f]), CT_ETIMEDOUT);
			CHECK(ct__now_ns() >= deadline);
		}
	}
	/* A deadline already past: one look, no sleep. */
	CHECK_RC(ct__park_wait(&word, 0, 0, 0), CT_ETIMEDOUT);
	uintptr_t token;
	int64_t deadline = in_ms(10);
	CHECK_RC(ct__park(&word, &no_ops, NULL, deadline, 0, &token), CT_ETIMEDOUT);
	CHECK(ct__now_ns() >= deadline);
	/* The timed-out thread left the queue. */
	CHECK_EQ(ct__park_wake(&word, ~0u), 0);
}

/* ---- signals (EINTR) ----------------------------------------------------- */

static void ignore_signal(int sig)
{
	(void)sig;
}

/* A handler without SA_RESTART: every signal makes a sleeping futex or
 * condvar wait return early (EINTR) to the parking core. */
static void install_signal_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ignore_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
}

struct hammer {
	pthread_t targets[2];
	int ntargets;
	atomic_bool stop;
	atomic_long sent;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	while (!atomic_load(&h->stop)) {
		for (int i = 0; i < h->ntargets; i++)
			pthread_kill(h->targets[i], SIGUSR1);
		atomic_fetch_add(&h->sent, 1);
		sched_yield();
	}
	return NULL;
}

/* A parked thread that stays alive (so that signalling it stays valid)
 * until `done` is set. With `wait_ms`, it first waits for `go`, and its
 * deadline is `wait_ms` from then. */
struct signalled {
	struct waiter w;
	int wait_ms;
	struct pk_flag go;
	atomic_bool returned;
	struct pk_flag done;
};

static int park_then_linger(void *arg)
{
	struct signalled *s = arg;
	if (s->wait_ms) {
		pk_flag_wait(&s->go);
		s->w.deadline = in_ms(s->wait_ms);
	}
	park_target(&s->w);
	atomic_store(&s->returned, true);
	pk_flag_wait(&s->done);
	return 0;
}

static void start_signalled(struct signalled *s, struct hammer *h)
{
	pk_start(&s->w.t, park_then_linger, s);
	h->targets[h->ntargets++] = pk_pthread(s->w.t);
	pk_wait_parked(s->w.t);
}

static void stop_hammer(struct hammer *h, pthread_t pt)
{
	atomic_store(&h->stop, true);
	CHECK_EQ(pthread_join(pt, NULL), 0);
}

TEST(eintr_never_ends_a_wait_early)
{
	install_signal_handler();
	_Atomic uint32_t word = 0;
	struct signalled timed = {0}, forever = {0};
	timed.w = (struct waiter){.word = &word, .flags = CT__PARK_NO_SPIN};
	timed.wait_ms = 200;
	forever.w = (struct waiter){.word = &word, .deadline = CT__NO_DEADLINE};
	struct hammer h = {.ntargets = 0};
	start_signalled(&timed, &h);
	start_signalled(&forever, &h);
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, hammer_run, &h), 0);
	/* The timed wait starts once the signals rain (its deadline counted
	 * from there, not from before the hammer ran); they rain on both
	 * until its deadline passes. */
	while (atomic_load(&h.sent) == 0)
		sched_yield();
	pk_flag_set(&timed.go);
	while (!atomic_load(&timed.returned))
		sched_yield();
	CHECK_RC(timed.w.rc, CT_ETIMEDOUT);
	CHECK(timed.w.returned_at >= timed.w.deadline);
	CHECK(!atomic_load(&forever.returned));
	/* The wait without deadline is still queued: exactly one to wake. */
	CHECK_EQ(ct__park_wake(&word, ~0u), 1);
	while (!atomic_load(&forever.returned))
		sched_yield();
	stop_hammer(&h, pt);
	CHECK_OK(forever.w.rc);
	pk_flag_set(&timed.done);
	pk_flag_set(&forever.done);
	finish(&timed.w);
	finish(&forever.w);
}

/* Ping-pong through one word under a rain of signals: a lost wake-up
 * would leave both sides asleep and the test would time out. */
struct pingpong {
	_Atomic uint32_t turn;
	long rounds;
	atomic_bool finished;
	struct pk_flag done;
};

static void play(struct pingpong *p, uint32_t parity, int64_t deadline)
{
	for (long i = 0; i < p->rounds; i++) {
		uint32_t mine = 2 * (uint32_t)i + parity;
		uint32_t s;
		while ((s = atomic_load(&p->turn)) != mine)
			CHECK_OK(ct__park_wait(&p->turn, s, deadline, CT__PARK_NO_SPIN));
		atomic_store(&p->turn, mine + 1);
		ct__park_wake(&p->turn, 1);
	}
}

static int play_odd(void *arg)
{
	struct pingpong *p = arg;
	play(p, 1, in_ms(600000));
	atomic_store(&p->finished, true);
	pk_flag_wait(&p->done);
	return 0;
}

TEST(eintr_never_loses_a_wakeup)
{
	install_signal_handler();
	struct pingpong p = {.rounds = ht_slowed() ? 3000 : 20000};
	pk_thread *t;
	pk_start(&t, play_odd, &p);
	struct hammer h = {.targets = {pk_pthread(t), pthread_self()}, .ntargets = 2};
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, hammer_run, &h), 0);
	play(&p, 0, CT__NO_DEADLINE);
	while (!atomic_load(&p.finished))
		sched_yield();
	stop_hammer(&h, pt);
	CHECK_EQ(atomic_load(&p.turn), 2 * (uint32_t)p.rounds);
	pk_flag_set(&p.done);
	pk_join(t);
}

/* ---- unpark_one: the deciding callback and tokens ------------------------- */

struct decider {
	int calls;
	struct ct__unpark_result seen[8];
	uintptr_t next_token;
};

static uintptr_t decide_token(void *ctx, struct ct__unpark_result r)
{
	struct decider *d = ctx;
	d->seen[d->calls++] = r;
	return d->next_token++;
}

TEST(unpark_one_callback_sees_have_more_and_passes_its_token)
{
	static int key;
	struct waiter w[3];
	for (int i = 0; i < 3; i++)
		key_waiter(&w[i], &key, NULL, NULL, 0);
	struct decider d = {.next_token = 100};
	for (int i = 0; i < 4; i++) {
		struct ct__unpark_result r = ct__unpark_one(&key, decide_token, &d);
		CHECK_EQ(d.calls, i + 1); /* runs even when nobody is queued */
		CHECK_EQ(r.unparked, i < 3 ? 1 : 0);
		CHECK_EQ(d.seen[i].unparked, r.unparked);
		CHECK_EQ(r.have_more, i < 2);
		CHECK_EQ(d.seen[i].have_more, i < 2);
		CHECK_EQ(r.requeued, 0);
	}
	/* Oldest first, each with the token its wake-up decided. */
	for (int i = 0; i < 3; i++) {
		finish(&w[i]);
		CHECK_EQ(w[i].rc, CT__PARK_UNPARKED);
		CHECK_EQ(w[i].token, 100 + (uintptr_t)i);
	}
}

TEST(unpark_n_passes_one_token_to_all)
{
	static int key;
	struct waiter w[3];
	for (int i = 0; i < 3; i++)
		key_waiter(&w[i], &key, NULL, NULL, 0);
	CHECK_EQ(ct__unpark_n(&key, 2, 55), 2);
	CHECK_EQ(ct__unpark_n(&key, 2, 66), 1);
	for (int i = 0; i < 3; i++) {
		finish(&w[i]);
		CHECK_EQ(w[i].token, i < 2 ? 55u : 66u);
	}
}

/* ---- validate, before_sleep, timed_out --------------------------------- */

static bool say_no(void *ctx)
{
	(void)ctx;
	return false;
}

static void wake_own_key(void *ctx)
{
	struct decider *d = ctx;
	ct__unpark_one(d, decide_token, d);
}

TEST(validate_and_before_sleep)
{
	static int key;
	uintptr_t token = 0;
	const struct ct__park_ops refuse = {.validate = say_no};
	CHECK_EQ(ct__park(&key, &refuse, NULL, CT__NO_DEADLINE, 0, &token), CT__PARK_INVALID);
	CHECK_EQ(ct__unpark_all(&key, 0), 0); /* it never queued */

	/* before_sleep runs once the thread is queued: a wake-up from there
	 * reaches it (one from before the queueing would be lost, and this
	 * wait would never end). */
	struct decider d = {.next_token = 9};
	const struct ct__park_ops self_wake = {.before_sleep = wake_own_key};
	CHECK_EQ(ct__park(&d, &self_wake, &d, CT__NO_DEADLINE, 0, &token), CT__PARK_UNPARKED);
	CHECK_EQ(d.calls, 1);
	CHECK_EQ(d.seen[0].unparked, 1);
	CHECK_EQ(token, 9);
}

struct departures {
	atomic_int calls;
	const void *key[4];
	bool was_last[4];
};

static void note_departure(void *ctx, const void *key, bool was_last)
{
	struct departures *d = ctx;
	int i = atomic_fetch_add(&d->calls, 1);
	d->key[i] = key;
	d->was_last[i] = was_last;
}

TEST(timed_out_callback_tells_who_was_last)
{
	static int key;
	struct departures d = {.calls = 0};
	const struct ct__park_ops ops = {.timed_out = note_departure};
	struct waiter w[2];
	for (int i = 0; i < 2; i++)
		key_waiter(&w[i], &key, &ops, &d, CT__PARK_INTERRUPTIBLE);
	for (int i = 0; i < 2; i++) {
		pk_stop(w[i].t);
		finish(&w[i]);
		CHECK_RC(w[i].rc, CT_ESTOPPED);
		CHECK_EQ(atomic_load(&d.calls), i + 1);
		CHECK(d.key[i] == &key);
		CHECK_EQ(d.was_last[i], i == 1);
	}
	/* A timeout leaves through the same callback. */
	uintptr_t token;
	CHECK_RC(ct__park(&key, &ops, &d, in_ms(5), 0, &token), CT_ETIMEDOUT);
	CHECK_EQ(atomic_load(&d.calls), 3);
	CHECK(d.was_last[2]);
}

/* ---- requeue ------------------------------------------------------------- */

struct requeuer {
	struct ct__requeue_plan plan;
	int calls;
	struct ct__unpark_result seen;
};

static struct ct__requeue_plan follow_plan(void *ctx)
{
	return ((struct requeuer *)ctx)->plan;
}

static uintptr_t requeue_done(void *ctx, struct ct__unpark_result r)
{
	struct requeuer *q = ctx;
	q->calls++;
	q->seen = r;
	return 7;
}

TEST(requeue_moves_waiters_to_another_key)
{
	static int key_a, key_b;
	struct waiter w[4];
	for (int i = 0; i < 4; i++)
		key_waiter(&w[i], &key_a, NULL, NULL, 0);

	/* An empty plan changes nothing. */
	struct requeuer q = {.plan = {0, 0}};
	struct ct__unpark_result r =
		ct__unpark_requeue(&key_a, &key_b, follow_plan, requeue_done, &q);
	CHECK_EQ(r.unparked + r.requeued, 0);
	CHECK(r.have_more);
	CHECK_EQ(q.calls, 0);

	/* Wake the oldest, move the next two, leave the last. */
	q.plan = (struct ct__requeue_plan){1, 2};
	r = ct__unpark_requeue(&key_a, &key_b, follow_plan, requeue_done, &q);
	CHECK_EQ(r.unparked, 1);
	CHECK_EQ(r.requeued, 2);
	CHECK(r.have_more);
	CHECK_EQ(q.calls, 1);
	CHECK_EQ(q.seen.requeued, 2);
	finish(&w[0]);
	CHECK_EQ(w[0].token, 7);

	/* The moved ones answer to the second key only. */
	CHECK_EQ(ct__unpark_n(&key_a, ~0u, 1), 1);
	finish(&w[3]);
	CHECK(pk_is_parked(w[1].t) && pk_is_parked(w[2].t));
	CHECK_EQ(ct__unpark_n(&key_a, ~0u, 1), 0);
	CHECK_EQ(ct__unpark_n(&key_b, ~0u, 8), 2);
	for (int i = 1; i < 3; i++) {
		finish(&w[i]);
		CHECK_EQ(w[i].rc, CT__PARK_UNPARKED);
		CHECK_EQ(w[i].token, 8);
	}
}

TEST(a_requeued_waiter_leaves_from_its_new_key)
{
	static int key_a, key_b;
	struct departures d = {.calls = 0};
	const struct ct__park_ops ops = {.timed_out = note_departure};
	struct waiter w;
	key_waiter(&w, &key_a, &ops, &d, CT__PARK_INTERRUPTIBLE);
	struct requeuer q = {.plan = {0, 1}};
	struct ct__unpark_result r =
		ct__unpark_requeue(&key_a, &key_b, follow_plan, requeue_done, &q);
	CHECK_EQ(r.requeued, 1);
	CHECK(!r.have_more);
	pk_stop(w.t);
	finish(&w);
	CHECK_RC(w.rc, CT_ESTOPPED);
	CHECK_EQ(atomic_load(&d.calls), 1);
	CHECK(d.key[0] == &key_b);
	CHECK(d.was_last[0]);
	CHECK_EQ(ct__unpark_all(&key_b, 0), 0);
	CHECK_EQ(ct__unpark_all(&key_a, 0), 0);
}

/* ---- stop requests -------------------------------------------------------- */

TEST(a_stop_interrupts_only_interruptible_parks)
{
	_Atomic uint32_t word = 0;
	struct waiter in, timed, plain;
	word_waiter(&in, &word, CT__NO_DEADLINE, CT__PARK_INTERRUPTIBLE);
	word_waiter(&timed, &word, in_ms(100), 0);
	word_waiter(&plain, &word, CT__NO_DEADLINE, CT__PARK_NO_SPIN);

	pk_stop(in.t);
	finish(&in);
	CHECK_RC(in.rc, CT_ESTOPPED);

	/* Uninterruptible with a deadline: it runs to the deadline. */
	pk_stop(timed.t);
	finish(&timed);
	CHECK_RC(timed.rc, CT_ETIMEDOUT);
	CHECK(timed.returned_at >= timed.deadline);

	/* Uninterruptible without one: only a wake-up ends it. */
	pk_stop(plain.t);
	CHECK_OK(ct__park_sleep(in_ms(50), 0));
	CHECK(pk_alive(plain.t));
	CHECK_EQ(ct__park_wake(&word, ~0u), 1);
	finish(&plain);
	CHECK_OK(plain.rc);
}

/* ---- the keyless sleep ---------------------------------------------------- */

struct sleeper {
	int64_t deadline;
	unsigned flags;
	int rc, second;
	int64_t returned_at;
};

static int park_sleep_target(void *arg)
{
	struct sleeper *s = arg;
	s->rc = ct__park_sleep(s->deadline, s->flags);
	s->returned_at = ct__now_ns();
	s->second = ct__park_sleep(s->deadline == CT__NO_DEADLINE ? s->deadline : 0, s->flags);
	return 0;
}

static pk_thread *start_sleeper(struct sleeper *s)
{
	pk_thread *t;
	pk_start(&t, park_sleep_target, s);
	pk_wait_parked(t);
	return t;
}

TEST(park_sleep)
{
	for (int ms = 1; ms <= 32; ms *= 2) {
		int64_t deadline = in_ms(ms);
		CHECK_OK(ct__park_sleep(deadline, CT__PARK_INTERRUPTIBLE));
		CHECK(ct__now_ns() >= deadline);
	}
	CHECK_OK(ct__park_sleep(0, 0)); /* already past */

	/* Interruptible: a stop ends it, and every later one at once. */
	struct sleeper in = {.deadline = CT__NO_DEADLINE, .flags = CT__PARK_INTERRUPTIBLE};
	pk_thread *t = start_sleeper(&in);
	pk_stop(t);
	pk_join(t);
	CHECK_RC(in.rc, CT_ESTOPPED);
	CHECK_RC(in.second, CT_ESTOPPED);

	/* Not interruptible: sleeps to its deadline regardless. */
	struct sleeper plain = {.deadline = in_ms(100), .flags = 0};
	t = start_sleeper(&plain);
	pk_stop(t);
	pk_join(t);
	CHECK_OK(plain.rc);
	CHECK(plain.returned_at >= plain.deadline);
	CHECK_OK(plain.second);
}

/* ---- the spin budget ------------------------------------------------------ */

TEST(the_spin_budget_shrinks_when_spins_do_not_pay_and_grows_back)
{
	struct ct__waiter *w = ct__waiter_self();
	if (ct__spin_limit == 0) {
		CHECK_EQ(ct__spin_budget(w), 0); /* one CPU: never */
		return;
	}
	CHECK_EQ(ct__spin_budget(w), ct__spin_limit);
	unsigned floor = ct__spin_limit / 64 + 1;
	for (int i = 0; i < 40; i++)
		ct__spin_paid(w, false);
	CHECK_EQ(ct__spin_budget(w), floor);
	ct__spin_paid(w, true);
	CHECK_EQ(ct__spin_budget(w), 2 * floor);
	for (int i = 0; i < 40; i++)
		ct__spin_paid(w, true);
	CHECK_EQ(ct__spin_budget(w), ct__spin_limit);
	/* A thread holding what others need never spins (a GIL). */
	int held;
	w->holds = &held;
	CHECK_EQ(ct__spin_budget(w), 0);
	CHECK(!ct__spin_allowed());
	w->holds = NULL;
	CHECK(ct__spin_allowed());
}

/* The waker of the test below: a thread woken from its sleep (NO_SPIN: it
 * sleeps at once) by the opener, which then wakes the main thread. */
struct relay {
	const void *first, *second;
};

static int relay_run(void *arg)
{
	struct relay *r = arg;
	uintptr_t token;
	CHECK_EQ(ct__park(r->first, &no_ops, NULL, CT__NO_DEADLINE, CT__PARK_NO_SPIN, &token),
		 CT__PARK_UNPARKED);
	/* The scenario is a long wait: one a full spin would not have caught
	 * (the sleeper's spin is down to its floor, a few pauses). */
	int64_t until = ct__now_ns() + 2 * CT__SPIN_NS;
	while (ct__now_ns() < until)
		sched_yield();
	CHECK_EQ(ct__unpark_n(r->second, 1, CT__TOKEN_NORMAL), 1);
	return 0;
}

/* Wakes the relay once the main thread is queued: so the relay's wake-up
 * comes after the main thread's wait began. */
static int opener_run(void *arg)
{
	struct relay *r = arg;
	while (ct__park_queued(r->second) == 0)
		sched_yield();
	CHECK_EQ(ct__unpark_n(r->first, 1, CT__TOKEN_NORMAL), 1);
	return 0;
}

/* Two threads passing work back and forth, once one has slept, each wait
 * for the other lasts an OS wake-up: that must not count against spinning,
 * or both stop spinning for good (park.c, spin_lesson). */
TEST(a_wait_ended_by_a_waker_woken_from_sleep_meanwhile_does_not_shrink_the_spin_budget)
{
	struct ct__waiter *w = ct__waiter_self();
	if (ct__spin_limit == 0)
		return; /* one CPU: nothing spins */
	unsigned floor = ct__spin_limit / 64 + 1;
	for (int i = 0; i < 40; i++)
		ct__spin_paid(w, false);
	CHECK_EQ(ct__spin_budget(w), floor);
	int first, second;
	struct relay r = {.first = &first, .second = &second};
	pk_thread *relay, *opener;
	pk_start(&relay, relay_run, &r);
	pk_wait_parked(relay);
	pk_start(&opener, opener_run, &r);
	uintptr_t token;
	CHECK_EQ(ct__park(&second, &no_ops, NULL, CT__NO_DEADLINE, 0, &token), CT__PARK_UNPARKED);
	CHECK_EQ(ct__spin_budget(w), 2 * floor);
	pk_join(relay);
	pk_join(opener);
}

/* A relay that says when it is awake, then wakes the main thread a long
 * while after that one is queued. */
struct early_relay {
	const void *first, *second;
	atomic_bool awake;
};

static int early_relay_run(void *arg)
{
	struct early_relay *r = arg;
	uintptr_t token;
	CHECK_EQ(ct__park(r->first, &no_ops, NULL, CT__NO_DEADLINE, CT__PARK_NO_SPIN, &token),
		 CT__PARK_UNPARKED);
	atomic_store(&r->awake, true);
	while (ct__park_queued(r->second) == 0)
		sched_yield();
	int64_t until = ct__now_ns() + 2 * CT__SPIN_NS;
	while (ct__now_ns() < until)
		sched_yield();
	CHECK_EQ(ct__unpark_n(r->second, 1, CT__TOKEN_NORMAL), 1);
	return 0;
}

/* A waker woken from its sleep before the wait began says nothing of it:
 * a long wait it ends still shrinks the budget, as where more threads want
 * to run than there are CPUs, where every waker has slept at some time. */
TEST(a_wait_ended_by_a_waker_that_slept_before_it_began_shrinks_the_spin_budget)
{
	struct ct__waiter *w = ct__waiter_self();
	if (ct__spin_limit == 0)
		return;
	unsigned floor = ct__spin_limit / 64 + 1;
	for (int i = 0; i < 40; i++)
		ct__spin_paid(w, false);
	ct__spin_paid(w, true);
	CHECK_EQ(ct__spin_budget(w), 2 * floor);
	int first, second;
	struct early_relay r = {.first = &first, .second = &second};
	atomic_init(&r.awake, false);
	pk_thread *relay;
	pk_start(&relay, early_relay_run, &r);
	pk_wait_parked(relay);
	CHECK_EQ(ct__unpark_n(&first, 1, CT__TOKEN_NORMAL), 1);
	while (!atomic_load(&r.awake))
		sched_yield();
	uintptr_t token;
	CHECK_EQ(ct__park(&second, &no_ops, NULL, CT__NO_DEADLINE, 0, &token), CT__PARK_UNPARKED);
	CHECK_EQ(ct__spin_budget(w), floor);
	pk_join(relay);
}

/* ---- how long wake-ups take (core/spin.c) -------------------------------- */

static bool parker_asleep(pk_thread *t)
{
	struct ct__waiter *w = atomic_load(&t->w);
	return w && atomic_load(&w->parker.state) == CT__PK_SLEEPING;
}

/* A thread woken from its sleep reports how long the wake-up took: the
 * average, reset to 0, is no longer 0. */
TEST(a_wake_from_sleep_is_timed)
{
	int key;
	struct waiter w;
	key_waiter(&w, &key, NULL, NULL, CT__PARK_NO_SPIN);
	while (!parker_asleep(w.t))
		sched_yield();
	atomic_store(&ct__wake.ns, 0);
	CHECK_EQ(ct__unpark_n(&key, 1, CT__TOKEN_NORMAL), 1);
	finish(&w);
	CHECK_EQ(w.rc, CT__PARK_UNPARKED);
	CHECK(atomic_load(&ct__wake.ns) > 0);
}

/* The average moves an eighth of the way to each wake-up, a wake-up
 * counts for CT__SPIN_MAX_NS at most, and the long spin lasts twice the
 * average, never less than the short one nor more than CT__SPIN_MAX_NS. */
TEST(the_wake_up_average_and_the_long_spin)
{
	atomic_store(&ct__wake.ns, 0);
	ct__wake_seen(8000);
	CHECK_EQ(atomic_load(&ct__wake.ns), 1000);
	ct__wake_seen(-5); /* a clock read on another CPU, a little behind */
	CHECK_EQ(atomic_load(&ct__wake.ns), 1000);
	CHECK_EQ(ct__spin_wake_ns(), CT__SPIN_NS); /* 2000: the short spin's length */
	CHECK_EQ(ct__spin_wake_rounds(), ct__spin_limit);
	atomic_store(&ct__wake.ns, 4000);
	CHECK_EQ(ct__spin_wake_ns(), 8000);
	CHECK_EQ(ct__spin_wake_rounds(), (unsigned)((uint64_t)ct__spin_limit * 8000 / CT__SPIN_NS));
	for (int i = 0; i < 200; i++)
		ct__wake_seen(1000 * CT__SPIN_MAX_NS);
	int64_t avg = atomic_load(&ct__wake.ns);
	CHECK(avg <= CT__SPIN_MAX_NS && avg > CT__SPIN_MAX_NS - 8);
	CHECK_EQ(ct__spin_wake_ns(), CT__SPIN_MAX_NS);
	CHECK_EQ(ct__spin_wake_rounds(),
		 (unsigned)((uint64_t)ct__spin_limit * CT__SPIN_MAX_NS / CT__SPIN_NS));
	atomic_store(&ct__wake.ns, 0);
}

/* Never done: a long spin that cannot pay. */
static bool never(const void *ctx)
{
	(void)ctx;
	return false;
}

static bool always(const void *ctx)
{
	(void)ctx;
	return true;
}

/* The long spin's budget: up to a wake-up's worth while waits end within
 * it, halved down to the short spin's limit by waits that outlast it, and
 * grown back by a wait a full long spin would have caught. */
TEST(the_long_spin_budget_learns_from_whole_waits)
{
	struct ct__waiter *w = ct__waiter_self();
	int64_t began;
	if (ct__spin_limit == 0) {
		CHECK(!ct__spin_wake_until(never, NULL, &began));
		CHECK_EQ(began, 0); /* one CPU: never spins */
		return;
	}
	atomic_store(&ct__wake.ns, 2 * CT__SPIN_NS); /* a long spin of 4 short ones */
	unsigned limit = ct__spin_wake_rounds();
	CHECK_EQ(limit, 4 * ct__spin_limit);
	CHECK(ct__spin_wake_until(always, NULL, &began));
	CHECK_EQ(began, 0); /* done at once: no spin */
	CHECK(!ct__spin_wake_until(never, NULL, &began));
	CHECK(began != 0);
	CHECK_EQ(w->long_spin, limit); /* the first long spin: a whole wake-up's worth */
	/* Waits far longer than a wake-up: down to the short spin. */
	for (int i = 0; i < 8; i++) {
		CHECK(!ct__spin_wake_until(never, NULL, &began));
		CHECK(began != 0);
		ct__spin_wake_lesson(began - 1000 * (int64_t)CT__SPIN_MAX_NS);
	}
	CHECK_EQ(w->long_spin, ct__spin_limit);
	/* A wait a full long spin would have caught (it began just now). */
	ct__spin_wake_lesson(ct__now_ns());
	CHECK_EQ(w->long_spin, 2 * ct__spin_limit);
	ct__spin_wake_lesson(0); /* no spin: nothing to learn */
	CHECK_EQ(w->long_spin, 2 * ct__spin_limit);
	/* Wake-ups got faster: the budget is cut to the new limit. */
	atomic_store(&ct__wake.ns, 0);
	CHECK(!ct__spin_wake_until(never, NULL, &began));
	CHECK_EQ(w->long_spin, ct__spin_limit);
	/* A thread that must not spin (it holds a GIL) does not. */
	int held;
	w->holds = &held;
	CHECK(!ct__spin_wake_until(never, NULL, &began));
	CHECK_EQ(began, 0);
	w->holds = NULL;
	atomic_store(&ct__wake.ns, 0);
}

/* ---- fork ------------------------------------------------------------------ */

/* A thread parked with a note on its record when the process forks. */
struct noted {
	struct ct__fork_note note;
	_Atomic uint32_t word;
	int forgotten; /* how many times the child's handler forgot the note */
};

static void forget_noted(struct ct__fork_note *note)
{
	((struct noted *)note)->forgotten++;
}

static int park_with_note(void *arg)
{
	struct noted *n = arg;
	ct__note_push(ct__waiter_self(), &n->note, forget_noted);
	ct__park_wait(&n->word, 0, CT__NO_DEADLINE, CT__PARK_NO_SPIN);
	ct__note_pop(ct__tls_waiter, &n->note);
	return 0;
}

static int child_after_fork(void *arg)
{
	struct noted *n = arg;
	/* The parked thread is gone: its note forgotten once, the queues
	 * empty, and the parking core works for the thread that is left. */
	CK(n->forgotten == 1);
	CK(ct__park_queued(&n->word) == 0);
	CK(ct__park_wake(&n->word, ~0u) == 0);
	CK(ct__park_wait(&n->word, 0, in_ms(5), 0) == CT_ETIMEDOUT);
	CK(ct__fork_generation() > 0);
	/* The gate is open: a section goes in and out at once. */
	ct__gate_enter();
	ct__gate_exit();
	return 0;
}

TEST(a_fork_child_parks_without_the_threads_it_lost)
{
	struct noted n = {0};
	pk_thread *t;
	pk_start(&t, park_with_note, &n);
	pk_wait_parked(t);
	while (ct__park_queued(&n.word) != 1)
		sched_yield();
	FH_CHECK_CHILD(child_after_fork, &n);
	CHECK_EQ(n.forgotten, 0); /* the parent's thread is still there */
	atomic_store(&n.word, 1);
	CHECK_EQ(ct__park_wake(&n.word, ~0u), 1);
	pk_join(t);
}
