/* Litmus stress, in the spirit of jcstress: each scenario is 2-4 actor
 * threads, each doing a few operations on one shared object, released
 * together by a spinning barrier and run again and again; after each run
 * the outcome (what every actor saw, and the object's final state) is
 * counted. An outcome the semantics forbid fails the test at once, with
 * the histogram so far; the others are printed at the end, and those seen
 * in under 1% of the runs are marked rare.
 *
 * Fork: each fork_* scenario adds an actor that calls fork() in the middle
 * of the others' operations. The child, alone with the object as the
 * others left it, checks that it is consistent and usable (its child
 * function); it reports through its exit status what it found (0-9), or
 * a failure (with the reason on stderr), and the runner adds
 * "child=..." to the outcome: a child that failed or hung is forbidden.
 *
 * How long: CT_LITMUS_ITERS runs per scenario (default 20000, 2000 under a
 * sanitizer), stopped early after CT_LITMUS_SECONDS (default 3, and 1
 * for a fork scenario) so that the whole file stays within a minute on a
 * loaded machine. `make stress`
 * sets both far higher. The time only bounds the work; no check looks at
 * it.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "fork_helpers.h"
#include "harness.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define LITMUS_DEFAULT_ITERS 2000
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define LITMUS_DEFAULT_ITERS 2000
#endif
#endif
#ifndef LITMUS_DEFAULT_ITERS
#define LITMUS_DEFAULT_ITERS 20000
#endif

#define MAX_ACTORS 4
#define MAX_OUTCOMES 32
#define SHORT 1e-4 /* a timeout that often expires in the race */

struct scenario {
	const char *name;
	unsigned actors;
	void (*setup)(void);
	void (*act[MAX_ACTORS])(void);
	/* Writes the outcome into buf; returns NULL, or why it is forbidden. */
	const char *(*judge)(char *buf, size_t len);
	void (*teardown)(void);
	/* Fork scenarios: what the child checks (see fork_now()). */
	int (*child)(void);
};

/* ---- the runner ------------------------------------------------------------ */

static _Atomic unsigned arrived, generation;
static _Atomic bool quitting;
static const struct scenario *current;
static pid_t forked; /* the fork actor's child of this run, or 0 */

/* The child's verdict: CK (fork_helpers.h) returns 1 for a check that
 * failed; a child that passed exits with FOUND + what it found (0-9). */
#define FOUND 10

/* The fork actor: the child runs the scenario's check alone and leaves
 * with _exit() (none of the parent's exit handlers run twice). */
static void fork_now(void)
{
	pid_t pid = fork();
	if (pid == 0)
		HT_CHILD_EXIT(current->child());
	CHECK(pid > 0);
	forked = pid;
}

/* Adds the child's verdict to the outcome @p key; the reason if it is
 * forbidden. */
static const char *reap_child(char *key, size_t len)
{
	int status = ht_reap(forked, fh_child_limit());
	forked = 0;
	size_t used = strlen(key);
	if (status >= FOUND && status < FOUND + 10) {
		snprintf(key + used, len - used, " child=%d", status - FOUND);
		return NULL;
	}
	snprintf(key + used, len - used, " child=%s",
		 status == FH_HUNG ? "hung"
		 : status == 1	   ? "failed"
				   : "died");
	return status == FH_HUNG ? "the fork child hung"
				 : "the fork child found the object broken (its stderr says how)";
}

/* All actors and the runner: a sense-reversing barrier that spins, then
 * yields (there may be more threads than CPUs). */
static void spin_barrier(unsigned parties)
{
	unsigned g = atomic_load(&generation);
	if (atomic_fetch_add(&arrived, 1) + 1 == parties) {
		atomic_store(&arrived, 0);
		atomic_fetch_add(&generation, 1);
		return;
	}
	for (unsigned spins = 0; atomic_load(&generation) == g; spins++)
		if (spins > 200)
			sched_yield();
}

static void *actor_main(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	/* Known to the library from the start (a dummy thread record), so
	 * that ct_active_count() counts it in every run alike. */
	(void)ct_current_thread();
	spin_barrier(current->actors + 1); /* all known */
	for (;;) {
		spin_barrier(current->actors + 1); /* go */
		if (atomic_load(&quitting))
			return NULL;
		current->act[i]();
		spin_barrier(current->actors + 1); /* done */
	}
}

struct bin {
	char key[96];
	unsigned long n;
};

static void print_histogram(const struct scenario *s, const struct bin *bins, unsigned nbins,
			    unsigned long runs)
{
	printf("%s: %lu runs\n", s->name, runs);
	for (unsigned b = 0; b < nbins; b++)
		printf("  %10lu  %s%s\n", bins[b].n, bins[b].key,
		       bins[b].n * 100 < runs ? "   (rare)" : "");
}

static unsigned long env_or(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoul(v, NULL, 10) : dflt;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_scenario(const struct scenario *s)
{
	unsigned long iters = env_or("CT_LITMUS_ITERS", LITMUS_DEFAULT_ITERS);
	/* A fork scenario's run costs a process: one second of them in
	 * make test (60-500 runs), as long as the others under make stress. */
	double budget = (double)env_or("CT_LITMUS_SECONDS", s->child ? 1 : 3);
	static struct bin bins[MAX_OUTCOMES];
	unsigned nbins = 0;
	pthread_t tids[MAX_ACTORS];

#if defined(FH_TSAN) || defined(FH_ASAN)
	/* As test_fork_stress.c: the sanitizers' runtimes (GCC 12's) do not
	 * support a child forked while other threads run (ThreadSanitizer
	 * refuses the child's threads; AddressSanitizer's allocator may hang
	 * it). The fork scenarios run in the normal and fallback builds. */
	if (s->child)
		ht_skip("the sanitizer's runtime does not support a fork() while other threads "
			"run");
#endif
	current = s;
	atomic_store(&quitting, false);
	for (unsigned i = 0; i < s->actors; i++)
		CHECK_EQ(pthread_create(&tids[i], NULL, actor_main, (void *)(uintptr_t)i), 0);
	spin_barrier(s->actors + 1); /* all known */
	double start = now_s();
	unsigned long runs = 0;
	for (; runs < iters && (runs < 100 || now_s() - start < budget); runs++) {
		s->setup();
		spin_barrier(s->actors + 1); /* go */
		spin_barrier(s->actors + 1); /* done */
		char key[sizeof bins[0].key];
		const char *why = s->judge(key, sizeof key);
		const char *child_why = s->child ? reap_child(key, sizeof key) : NULL;
		why = why ? why : child_why;
		s->teardown();
		unsigned b = 0;
		while (b < nbins && strcmp(bins[b].key, key) != 0)
			b++;
		if (b == nbins) {
			CHECK(nbins < MAX_OUTCOMES);
			snprintf(bins[nbins].key, sizeof bins[nbins].key, "%s", key);
			bins[nbins++].n = 0;
		}
		bins[b].n++;
		if (why) {
			print_histogram(s, bins, nbins, runs + 1);
			ht_fail(__FILE__, __LINE__, "%s: forbidden outcome \"%s\" in run %lu: %s",
				s->name, key, runs + 1, why);
		}
	}
	atomic_store(&quitting, true);
	spin_barrier(s->actors + 1);
	for (unsigned i = 0; i < s->actors; i++)
		pthread_join(tids[i], NULL);
	print_histogram(s, bins, nbins, runs);
}

static const char *rc_name(int rc)
{
	return rc >= 0 ? (rc == 0 ? "0" : rc == 1 ? "1" : "n") : ct_err_name(rc);
}

/* ---- Event: set and clear against waiters ---------------------------------- */

static ct_event_t ev;
static int ev_forever, ev_poll, ev_timed;

static void ev_setup(void)
{
	ct_event_init(&ev);
	ev_forever = ev_poll = ev_timed = 99;
}
static void ev_teardown(void)
{
	ct_event_destroy(&ev);
}
static void ev_set(void)
{
	ct_event_set(&ev);
}
static void ev_wait_forever(void)
{
	ev_forever = ct_event_wait(&ev, CT_FOREVER);
}
static void ev_wait_poll(void)
{
	ev_poll = ct_event_wait(&ev, 0);
}
static void ev_wait_timed(void)
{
	ev_timed = ct_event_wait(&ev, SHORT);
}
static const char *ev_judge(char *buf, size_t len)
{
	snprintf(buf, len, "forever=%s poll=%s timed=%s set=%d", rc_name(ev_forever),
		 rc_name(ev_poll), rc_name(ev_timed), ct_event_is_set(&ev));
	if (ev_forever != 0)
		return "a wait without timeout returned without the event";
	if ((ev_poll != 0 && ev_poll != CT_ETIMEDOUT) ||
	    (ev_timed != 0 && ev_timed != CT_ETIMEDOUT))
		return "a wait returned an error";
	if (!ct_event_is_set(&ev))
		return "nobody cleared the event, yet it is clear";
	return NULL;
}

TEST(event_set_vs_waiters)
{
	run_scenario(&(struct scenario){"event_set_vs_waiters",
					4,
					ev_setup,
					{ev_set, ev_wait_forever, ev_wait_poll, ev_wait_timed},
					ev_judge,
					ev_teardown,
					NULL});
}

/* A pulse (set, then clear) against a timed waiter and a reader. */
static int ev_seen;
static void ev_pulse(void)
{
	ct_event_set(&ev);
	ct_event_clear(&ev);
}
static void ev_read(void)
{
	ev_seen = ct_event_is_set(&ev);
}
static const char *pulse_judge(char *buf, size_t len)
{
	snprintf(buf, len, "timed=%s read=%d set=%d", rc_name(ev_timed), ev_seen,
		 ct_event_is_set(&ev));
	if (ev_timed != 0 && ev_timed != CT_ETIMEDOUT)
		return "a wait returned an error";
	if (ct_event_is_set(&ev))
		return "the pulse left the event set";
	return NULL;
}

TEST(event_pulse_vs_waiter)
{
	run_scenario(&(struct scenario){"event_pulse_vs_waiter",
					3,
					ev_setup,
					{ev_pulse, ev_wait_timed, ev_read},
					pulse_judge,
					ev_teardown,
					NULL});
}

/* ---- Lock: a release (hand-off) against timing-out acquires ----------------- */

static ct_lock_t lk;
static int lk_a, lk_b, lk_c;

static void lk_setup(void)
{
	ct_lock_init(&lk);
	ct_lock_acquire(&lk);
	lk_a = lk_b = lk_c = 99;
}
static void lk_teardown(void)
{
	if (ct_lock_locked(&lk))
		CHECK_OK(ct_lock_release(&lk));
	ct_lock_destroy(&lk);
}
static void lk_release(void)
{
	CHECK_OK(ct_lock_release(&lk));
}
static void lk_acq_a(void)
{
	lk_a = ct_lock_acquire_timeout(&lk, SHORT);
}
static void lk_acq_b(void)
{
	lk_b = ct_lock_acquire_timeout(&lk, 0);
}
static void lk_acq_c(void)
{
	lk_c = ct_lock_acquire_timeout(&lk, 10 * SHORT);
}
static const char *lk_judge(char *buf, size_t len)
{
	int got = (lk_a == 0) + (lk_b == 0) + (lk_c == 0);
	snprintf(buf, len, "timed=%s try=%s longer=%s locked=%d", rc_name(lk_a), rc_name(lk_b),
		 rc_name(lk_c), ct_lock_locked(&lk));
	if (got > 1)
		return "two threads hold the lock";
	if (ct_lock_locked(&lk) != (got == 1))
		return "the lock word disagrees with who holds the lock";
	int rcs[] = {lk_a, lk_b, lk_c};
	for (int i = 0; i < 3; i++)
		if (rcs[i] != 0 && rcs[i] != CT_ETIMEDOUT)
			return "an acquire returned an error";
	return NULL;
}

TEST(lock_handoff_vs_timeout)
{
	run_scenario(&(struct scenario){"lock_handoff_vs_timeout",
					4,
					lk_setup,
					{lk_release, lk_acq_a, lk_acq_b, lk_acq_c},
					lk_judge,
					lk_teardown,
					NULL});
}

/* ---- Queue: put and get at the full and empty boundaries -------------------- */

static ct_queue_t q;
static int q_put, q_get, q_join;
static void *q_item;
static int item_a = 'A', item_b = 'B';

static void q_setup_n(long maxsize, bool prefill)
{
	CHECK_OK(ct_queue_init(&q, &(ct_queue_opts){.maxsize = maxsize}));
	if (prefill)
		CHECK_OK(ct_queue_put_nowait(&q, &item_a));
	q_put = q_get = q_join = 99;
	q_item = NULL;
}
static void q_setup_full(void)
{
	q_setup_n(1, true);
}
static void q_setup_empty(void)
{
	q_setup_n(1, false);
}
static void q_teardown(void)
{
	CHECK_OK(ct_queue_destroy(&q));
}
static void q_put_b(void)
{
	q_put = ct_queue_put(&q, &item_b, SHORT);
}
static void q_get_one(void)
{
	q_get = ct_queue_get(&q, &q_item, SHORT);
}
static const char *item_name(void *item)
{
	return item == &item_a ? "A" : item == &item_b ? "B" : item ? "?" : "-";
}
/* Items in = items out + items left. */
static const char *q_conserved(bool prefilled)
{
	size_t want = (size_t)prefilled + (q_put == 0) - (q_get == 0);
	return ct_queue_qsize(&q) == want ? NULL : "an item was lost or duplicated";
}
static const char *q_full_judge(char *buf, size_t len)
{
	snprintf(buf, len, "put=%s get=%s item=%s size=%zu", rc_name(q_put), rc_name(q_get),
		 item_name(q_item), ct_queue_qsize(&q));
	if (q_get != 0 || q_item != &item_a)
		return "a get on a queue that holds A did not return A";
	if (q_put != 0 && q_put != CT_EFULL)
		return "a put returned an error";
	return q_conserved(true);
}
static const char *q_empty_judge(char *buf, size_t len)
{
	snprintf(buf, len, "put=%s get=%s item=%s size=%zu", rc_name(q_put), rc_name(q_get),
		 item_name(q_item), ct_queue_qsize(&q));
	if (q_put != 0)
		return "a put into an empty queue of one slot failed";
	if (q_get != 0 && q_get != CT_EEMPTY)
		return "a get returned an error";
	if (q_get == 0 && q_item != &item_b)
		return "a get returned an item nobody put";
	return q_conserved(false);
}

TEST(queue_put_get_at_full)
{
	run_scenario(&(struct scenario){"queue_put_get_at_full",
					2,
					q_setup_full,
					{q_put_b, q_get_one},
					q_full_judge,
					q_teardown,
					NULL});
}

TEST(queue_put_get_at_empty)
{
	run_scenario(&(struct scenario){"queue_put_get_at_empty",
					2,
					q_setup_empty,
					{q_put_b, q_get_one},
					q_empty_judge,
					q_teardown,
					NULL});
}

/* ---- Queue: shutdown against put, get and join ------------------------------ */

static void q_setup_shut(void)
{
	q_setup_n(2, true);
}
static void q_shutdown(void)
{
	ct_queue_shutdown(&q, false);
}
static void q_get_done(void)
{
	q_get = ct_queue_get(&q, &q_item, SHORT);
	if (q_get == 0)
		CHECK_OK(ct_queue_task_done(&q));
}
static void q_join_short(void)
{
	q_join = ct_queue_join(&q, SHORT);
}
static const char *q_shut_judge(char *buf, size_t len)
{
	snprintf(buf, len, "put=%s get=%s item=%s join=%s size=%zu", rc_name(q_put), rc_name(q_get),
		 item_name(q_item), rc_name(q_join), ct_queue_qsize(&q));
	if (!ct_queue_is_shutdown(&q))
		return "the queue is not shut down";
	if (q_put != 0 && q_put != CT_ESHUTDOWN)
		return "a put returned an unexpected error";
	if (q_get != 0 || q_item != &item_a)
		return "a get after a non-immediate shutdown lost the queued item";
	if (q_join != 0 && q_join != CT_ETIMEDOUT)
		return "a join returned an error";
	return q_conserved(true);
}

TEST(queue_shutdown_vs_put_get_join)
{
	run_scenario(&(struct scenario){"queue_shutdown_vs_put_get_join",
					4,
					q_setup_shut,
					{q_shutdown, q_put_b, q_get_done, q_join_short},
					q_shut_judge,
					q_teardown,
					NULL});
}

/* ---- qsize against a put and a get ------------------------------------------- */

/* qsize() reads the head, then the tail: the get that moved the head came
 * after the put of its item, so the tail read after the head is at least
 * as far along. Were the head's store not ordered with that put (a
 * relaxed store where a release is needed), a weakly ordered CPU could
 * show qsize() a new head with an old tail, and a size that wrapped
 * around below zero. */
static ct_simplequeue_t sq;
static size_t size_max;
static _Atomic bool sizes_got;

/* Watches the size until the get has returned (a bounded number of
 * looks, in case the getter is not scheduled). */
static void see_sizes(size_t (*qsize)(void))
{
	size_t most = 0;
	for (long i = 0; i < 100000 && !atomic_load(&sizes_got); i++) {
		size_t n = qsize();
		most = n > most ? n : most;
	}
	size_max = most;
}
static size_t ring_qsize(void)
{
	return ct_queue_qsize(&q);
}
static size_t sq_qsize(void)
{
	return ct_simplequeue_qsize(&sq);
}
static void q_setup_sizes(void)
{
	q_setup_n(2, false);
	size_max = 99;
	atomic_store(&sizes_got, false);
}
static void q_get_forever(void)
{
	q_get = ct_queue_get(&q, &q_item, CT_FOREVER);
	atomic_store(&sizes_got, true);
}
static void q_see_sizes(void)
{
	see_sizes(ring_qsize);
}
static const char *q_sizes_judge(char *buf, size_t len)
{
	snprintf(buf, len, "put=%s get=%s size_max=%zu size=%zu", rc_name(q_put), rc_name(q_get),
		 size_max, ct_queue_qsize(&q));
	if (size_max > 1)
		return "qsize() saw more items than were ever in the queue";
	if (q_get != 0 || q_item != &item_b)
		return "the get did not return the one item";
	return q_conserved(false);
}

TEST(queue_qsize_vs_put_get)
{
	run_scenario(&(struct scenario){"queue_qsize_vs_put_get",
					3,
					q_setup_sizes,
					{q_put_b, q_get_forever, q_see_sizes},
					q_sizes_judge,
					q_teardown,
					NULL});
}

static void sizes_sq_setup(void)
{
	ct_simplequeue_init(&sq);
	q_put = q_get = 99;
	q_item = NULL;
	size_max = 99;
	atomic_store(&sizes_got, false);
}
static void sizes_sq_teardown(void)
{
	CHECK_OK(ct_simplequeue_destroy(&sq));
}
static void sizes_sq_put_b(void)
{
	q_put = ct_simplequeue_put(&sq, &item_b);
}
static void sizes_sq_get_one(void)
{
	q_get = ct_simplequeue_get(&sq, &q_item, CT_FOREVER);
	atomic_store(&sizes_got, true);
}
static void sq_see_sizes(void)
{
	see_sizes(sq_qsize);
}
static const char *sizes_sq_judge(char *buf, size_t len)
{
	size_t left = ct_simplequeue_qsize(&sq);
	snprintf(buf, len, "put=%s get=%s item=%s size_max=%zu size=%zu", rc_name(q_put),
		 rc_name(q_get), item_name(q_item), size_max, left);
	if (q_put != 0 || q_get != 0)
		return "a put or a get failed";
	if (q_item != &item_b)
		return "the get did not return the one item";
	if (size_max > 1)
		return "qsize() saw more items than were ever in the queue";
	if (left != 0)
		return "one put and one get left an item";
	return NULL;
}

TEST(simplequeue_qsize_vs_put_get)
{
	run_scenario(&(struct scenario){"simplequeue_qsize_vs_put_get",
					3,
					sizes_sq_setup,
					{sizes_sq_put_b, sizes_sq_get_one, sq_see_sizes},
					sizes_sq_judge,
					sizes_sq_teardown,
					NULL});
}

/* ---- Future: cancel against the worker starting it -------------------------- */

static ct_future_t *fut;
static bool fut_cancel;
static int fut_start;

static void fut_setup(void)
{
	CHECK_OK(ct_future_new(&fut));
	fut_cancel = false;
	fut_start = 99;
}
static void fut_teardown(void)
{
	ct_future_release(fut);
}
static void fut_do_cancel(void)
{
	fut_cancel = ct_future_cancel(fut);
}
static void fut_do_start(void)
{
	fut_start = ct_future_set_running_or_notify_cancel(fut);
	if (fut_start == 1)
		CHECK_OK(ct_future_set_result(fut, &item_a));
}
static const char *fut_judge(char *buf, size_t len)
{
	void *res = NULL;
	int rc = ct_future_result(fut, 0, &res);
	snprintf(buf, len, "cancel=%d start=%s result=%s", fut_cancel, rc_name(fut_start),
		 rc_name(rc));
	if (fut_cancel == (fut_start == 1))
		return "cancel and start both won, or both lost";
	if (ct_future_cancelled(fut) != fut_cancel)
		return "the future's state disagrees with cancel()";
	if (rc != (fut_cancel ? CT_ECANCELLED : 0))
		return "result() disagrees with the race's winner";
	return NULL;
}

TEST(future_cancel_vs_start)
{
	run_scenario(&(struct scenario){"future_cancel_vs_start",
					2,
					fut_setup,
					{fut_do_cancel, fut_do_start},
					fut_judge,
					fut_teardown,
					NULL});
}

/* ---- Barrier: abort against the last arrival --------------------------------- */

static ct_barrier_t bar;
static int bar_a, bar_b;

static void bar_setup(void)
{
	CHECK_OK(ct_barrier_init(&bar, 2, NULL, NULL, CT_FOREVER));
	bar_a = bar_b = 99;
}
static void bar_teardown(void)
{
	ct_barrier_destroy(&bar);
}
static void bar_wait_a(void)
{
	bar_a = ct_barrier_wait(&bar, CT_FOREVER);
}
static void bar_wait_b(void)
{
	bar_b = ct_barrier_wait(&bar, CT_FOREVER);
}
static void bar_abort(void)
{
	ct_barrier_abort(&bar);
}
static const char *bar_judge(char *buf, size_t len)
{
	snprintf(buf, len, "a=%s b=%s", rc_name(bar_a), rc_name(bar_b));
	bool ok_a = bar_a == 0 || bar_a == 1, ok_b = bar_b == 0 || bar_b == 1;
	if ((!ok_a && bar_a != CT_EBROKEN) || (!ok_b && bar_b != CT_EBROKEN))
		return "a wait returned an unexpected code";
	if (ok_a && ok_b && bar_a == bar_b)
		return "two threads of one round got the same index";
	/* One passing and one broken is allowed, as in CPython: an abort
	 * between the last arrival and the other's wake-up breaks the round
	 * for the one that has not yet left. */
	return NULL;
}

TEST(barrier_abort_vs_last_arrival)
{
	run_scenario(&(struct scenario){"barrier_abort_vs_last_arrival",
					3,
					bar_setup,
					{bar_wait_a, bar_wait_b, bar_abort},
					bar_judge,
					bar_teardown,
					NULL});
}

/* ---- A stop request against a wake-up ------------------------------------ */

static ct_thread_t *sleeper;
static int sleeper_rc;

static int sleeper_main(void *arg)
{
	(void)arg;
	sleeper_rc = ct_event_wait(&ev, CT_FOREVER);
	return 0;
}
static void stop_setup(void)
{
	ev_setup();
	sleeper_rc = 99;
	CHECK_OK(ct_thread_new(&sleeper, sleeper_main, NULL, NULL));
	CHECK_OK(ct_thread_start(sleeper));
}
static void stop_teardown(void)
{
	ct_thread_release(sleeper);
	ev_teardown();
}
static void stop_request(void)
{
	CHECK_OK(ct_thread_request_stop(sleeper));
}
static const char *stop_judge(char *buf, size_t len)
{
	CHECK_OK(ct_thread_join(sleeper, CT_FOREVER));
	snprintf(buf, len, "wait=%s", rc_name(sleeper_rc));
	if (sleeper_rc != 0 && sleeper_rc != CT_ESTOPPED)
		return "the wait ended neither by the event nor by the stop";
	return NULL;
}

TEST(stop_request_vs_wakeup)
{
	run_scenario(&(struct scenario){"stop_request_vs_wakeup",
					2,
					stop_setup,
					{ev_set, stop_request},
					stop_judge,
					stop_teardown,
					NULL});
}

/* ---- Executor: shutdown against submit ---------------------------------------- */

static ct_executor_t exe;
static ct_future_t *ex_f;
static int ex_submit, ex_shutdown;
static _Atomic int ex_ran;
static size_t ex_threads; /* ct_active_count() before the pool existed */

static int ex_task(void *arg, void **result)
{
	(void)arg;
	*result = NULL;
	atomic_fetch_add(&ex_ran, 1);
	return 0;
}
static void ex_setup(void)
{
	CHECK_OK(ct_executor_init(&exe, &(ct_executor_opts){.max_workers = 1}));
	ex_f = NULL;
	ex_submit = ex_shutdown = 99;
	atomic_store(&ex_ran, 0);
	ex_threads = ct_active_count();
}
static void ex_teardown(void)
{
	if (ex_f)
		ct_future_release(ex_f);
	ct_executor_destroy(&exe);
}
static void ex_do_shutdown(void)
{
	ex_shutdown = ct_executor_shutdown(&exe, true, false);
}
static void ex_do_submit(void)
{
	ex_submit = ct_executor_submit(&exe, ex_task, NULL, &ex_f);
}
static const char *ex_judge(char *buf, size_t len)
{
	size_t threads = ct_active_count();
	snprintf(buf, len, "submit=%s shutdown=%s ran=%d started=%d alive=%+ld", rc_name(ex_submit),
		 rc_name(ex_shutdown), atomic_load(&ex_ran), ct_executor_workers(&exe),
		 (long)threads - (long)ex_threads);
	if (ex_shutdown != 0)
		return "shutdown failed";
	if (ex_submit != 0 && ex_submit != CT_ESHUTDOWN)
		return "submit returned an unexpected error";
	if (ex_submit == 0 && (!ct_future_done(ex_f) || atomic_load(&ex_ran) != 1))
		return "shutdown(wait) returned before a task it accepted was done";
	if (threads != ex_threads)
		return "shutdown(wait) returned while a worker was still alive";
	return NULL;
}

TEST(executor_shutdown_vs_submit)
{
	run_scenario(&(struct scenario){"executor_shutdown_vs_submit",
					2,
					ex_setup,
					{ex_do_shutdown, ex_do_submit},
					ex_judge,
					ex_teardown,
					NULL});
}

/* ---- fork against each of these --------------------------------------------- */

/* Event: a fork during a set and clear and a timed wait. The child finds
 * the flag set or clear (1 or 0), and a wait, set and clear that agree. */
static int ev_child(void)
{
	bool was = ct_event_is_set(&ev);
	CK(ct_event_wait(&ev, 0) == (was ? 0 : CT_ETIMEDOUT));
	ct_event_set(&ev);
	CK(ct_event_wait(&ev, CT_FOREVER) == 0);
	ct_event_clear(&ev);
	CK(ct_event_wait(&ev, 0.001) == CT_ETIMEDOUT);
	return FOUND + was;
}
static const char *ev_fork_judge(char *buf, size_t len)
{
	snprintf(buf, len, "timed=%s set=%d", rc_name(ev_timed), ct_event_is_set(&ev));
	if (ev_timed != 0 && ev_timed != CT_ETIMEDOUT)
		return "a wait returned an error";
	return ct_event_is_set(&ev) ? "the pulse's clear came last, yet the event is set" : NULL;
}

TEST(fork_vs_event_set_clear)
{
	run_scenario(&(struct scenario){"fork_vs_event_set_clear",
					3,
					ev_setup,
					{ev_pulse, ev_wait_timed, fork_now},
					ev_fork_judge,
					ev_teardown,
					ev_child});
}

/* Lock: a fork during a hand-off to a timed acquire. The child finds the
 * lock free (0), or held (1) by a thread that is gone, which it stays, as
 * in Python; the lock word agrees with what an acquire gets. */
static int lk_child(void)
{
	bool locked = ct_lock_locked(&lk);
	bool got = ct_lock_try_acquire(&lk);
	CK(got == !locked);
	if (got) {
		CK(ct_lock_release(&lk) == 0);
		CK(ct_lock_acquire_timeout(&lk, 1.0) == 0);
		CK(ct_lock_release(&lk) == 0);
	} else {
		CK(ct_lock_acquire_timeout(&lk, 0.001) == CT_ETIMEDOUT);
	}
	return FOUND + locked;
}
static const char *lk_fork_judge(char *buf, size_t len)
{
	snprintf(buf, len, "timed=%s locked=%d", rc_name(lk_a), ct_lock_locked(&lk));
	if (lk_a != 0 && lk_a != CT_ETIMEDOUT)
		return "an acquire returned an error";
	if (ct_lock_locked(&lk) != (lk_a == 0))
		return "the lock word disagrees with who holds the lock";
	return NULL;
}

TEST(fork_vs_lock_handoff)
{
	run_scenario(&(struct scenario){"fork_vs_lock_handoff",
					3,
					lk_setup,
					{lk_release, lk_acq_a, fork_now},
					lk_fork_judge,
					lk_teardown,
					lk_child});
}

/* Queue of one slot: a fork during a put and a get at the full or the
 * empty boundary. The child finds n items (0-2), each A or B, A first,
 * none twice, as many as qsize() says; then the queue works to its bound
 * and can be destroyed. */
/* In a child: takes every item with @p take_nowait into @p got; whether
 * they are the @p n that qsize() said, at most A and B, each once. */
static bool drained_a_b(int (*take_nowait)(void **item), size_t n, void *got[2])
{
	void *item;
	size_t k = 0;
	while (take_nowait(&item) == 0) {
		if (k == 2 || (item != &item_a && item != &item_b) || (k == 1 && got[0] == item))
			return false;
		got[k++] = item;
	}
	return k == n;
}
static int q_take_nowait(void **item)
{
	return ct_queue_get_nowait(&q, item);
}
static int q_child(void)
{
	size_t n = ct_queue_qsize(&q);
	void *got[2] = {NULL, NULL}, *item;
	CK(drained_a_b(q_take_nowait, n, got));
	CK(n < 2 || got[0] == &item_a);
	CK(ct_queue_put_nowait(&q, &item_b) == 0);
	CK(ct_queue_put_nowait(&q, &item_a) == CT_EFULL);
	CK(ct_queue_get(&q, &item, 1.0) == 0 && item == &item_b);
	CK(ct_queue_get(&q, &item, 0.001) == CT_EEMPTY);
	CK(ct_queue_destroy(&q) == 0);
	return FOUND + (int)n;
}

TEST(fork_vs_queue_put_get_at_full)
{
	run_scenario(&(struct scenario){"fork_vs_queue_put_get_at_full",
					3,
					q_setup_full,
					{q_put_b, q_get_one, fork_now},
					q_full_judge,
					q_teardown,
					q_child});
}

TEST(fork_vs_queue_put_get_at_empty)
{
	run_scenario(&(struct scenario){"fork_vs_queue_put_get_at_empty",
					3,
					q_setup_empty,
					{q_put_b, q_get_one, fork_now},
					q_empty_judge,
					q_teardown,
					q_child});
}

/* SimpleQueue: a fork during two puts and a get at the empty boundary.
 * The child finds what qsize() says, A and B at most once each, and a
 * queue that works and can be destroyed. */
static ct_simplequeue_t sq;
static int sq_get;
static void *sq_item;

static void sq_setup(void)
{
	ct_simplequeue_init(&sq);
	sq_get = 99;
	sq_item = NULL;
}
static void sq_teardown(void)
{
	void *item;
	while (ct_simplequeue_get_nowait(&sq, &item) == 0)
		;
	CHECK_OK(ct_simplequeue_destroy(&sq));
}
static void sq_put_a(void)
{
	CHECK_OK(ct_simplequeue_put(&sq, &item_a));
}
static void sq_put_b(void)
{
	CHECK_OK(ct_simplequeue_put(&sq, &item_b));
}
static void sq_get_one(void)
{
	sq_get = ct_simplequeue_get(&sq, &sq_item, SHORT);
}
static const char *sq_judge(char *buf, size_t len)
{
	size_t n = ct_simplequeue_qsize(&sq);
	snprintf(buf, len, "get=%s item=%s size=%zu", rc_name(sq_get), item_name(sq_item), n);
	if (sq_get != 0 && sq_get != CT_EEMPTY)
		return "a get returned an error";
	if (sq_get == 0 && sq_item != &item_a && sq_item != &item_b)
		return "a get returned an item nobody put";
	return n == 2u - (sq_get == 0) ? NULL : "an item was lost or duplicated";
}
static int sq_take_nowait(void **item)
{
	return ct_simplequeue_get_nowait(&sq, item);
}
static int sq_child(void)
{
	size_t n = ct_simplequeue_qsize(&sq);
	void *got[2] = {NULL, NULL}, *item;
	CK(drained_a_b(sq_take_nowait, n, got));
	CK(ct_simplequeue_put(&sq, &item_b) == 0);
	CK(ct_simplequeue_get(&sq, &item, 1.0) == 0 && item == &item_b);
	CK(ct_simplequeue_get(&sq, &item, 0.001) == CT_EEMPTY);
	CK(ct_simplequeue_destroy(&sq) == 0);
	return FOUND + (int)n;
}

TEST(fork_vs_simplequeue_put_get)
{
	run_scenario(&(struct scenario){"fork_vs_simplequeue_put_get",
					4,
					sq_setup,
					{sq_put_a, sq_put_b, sq_get_one, fork_now},
					sq_judge,
					sq_teardown,
					sq_child});
}

/* Future: a fork during a cancel against the worker starting it. The
 * child finds it pending (0), cancelled (1), finished (2) or running (3:
 * its worker is gone between the start and the result), and every next
 * step it may take from there works. */
static int fut_child(void)
{
	void *res = NULL;
	if (ct_future_cancelled(fut)) {
		CK(ct_future_done(fut) && ct_future_result(fut, 0, &res) == CT_ECANCELLED);
		return FOUND + 1;
	}
	if (ct_future_done(fut)) {
		CK(ct_future_result(fut, 0, &res) == 0 && res == &item_a);
		return FOUND + 2;
	}
	CK(ct_future_result(fut, 0.001, &res) == CT_ETIMEDOUT);
	if (ct_future_running(fut)) {
		CK(!ct_future_cancel(fut));
		CK(ct_future_set_result(fut, &item_b) == 0);
		CK(ct_future_result(fut, 0, &res) == 0 && res == &item_b);
		return FOUND + 3;
	}
	CK(ct_future_cancel(fut) && ct_future_result(fut, 0, &res) == CT_ECANCELLED);
	return FOUND + 0;
}

TEST(fork_vs_future_cancel_start)
{
	run_scenario(&(struct scenario){"fork_vs_future_cancel_start",
					3,
					fut_setup,
					{fut_do_cancel, fut_do_start, fork_now},
					fut_judge,
					fut_teardown,
					fut_child});
}

/* Executor: a fork during a submit. The child's pool starts new workers
 * and runs a task of its own, then shuts down. */
static int ex_child(void)
{
	ct_future_t *g = NULL;
	void *res = (void *)1;
	CK(ct_executor_submit(&exe, ex_task, NULL, &g) == 0);
	CK(ct_future_result(g, 10.0, &res) == 0 && res == NULL);
	ct_future_release(g);
	CK(ct_executor_shutdown(&exe, true, false) == 0);
	return FOUND + 0;
}
static const char *ex_submit_judge(char *buf, size_t len)
{
	snprintf(buf, len, "submit=%s", rc_name(ex_submit));
	return ex_submit == 0 ? NULL : "a submit to an open pool failed";
}

TEST(fork_vs_executor_submit)
{
	ht_need_threads_after_fork();
	run_scenario(&(struct scenario){"fork_vs_executor_submit",
					2,
					ex_setup,
					{ex_do_submit, fork_now},
					ex_submit_judge,
					ex_teardown,
					ex_child});
}
