/* The GIL: mutual exclusion, switching, blocking calls releasing it, the
 * convoy policy, ensure/release, exit, fork and misuse. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "core/internal.h"
#include "cthreading/queue.h"
#include "harness.h"
#include "ht_internal.h"

static ct_gil_t gil = CT_GIL_INIT;

static ct_thread_t *start_under(ct_target_fn fn, void *arg, ct_gil_t *g)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, fn, arg, &(ct_thread_opts){.gil = g}));
	CHECK_OK(ct_thread_start(t));
	return t;
}

static void join(ct_thread_t *t)
{
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_release(t);
}

static ct_gil_stats_t stats(void)
{
	ct_gil_stats_t s;
	CHECK_OK(ct_gil_stats(&gil, &s));
	return s;
}

/* ---- basics ------------------------------------------------------------- */

TEST(acquire_release_and_held)
{
	CHECK(!ct_gil_held(&gil));
	CHECK_OK(ct_gil_acquire(&gil));
	CHECK(ct_gil_held(&gil));
	CHECK_EQ(ct_gil_checkpoint(&gil), 0);
	CHECK_EQ(ct_gil_yield(&gil), 0); /* nobody waits */
	CHECK_OK(ct_gil_release(&gil));
	CHECK(!ct_gil_held(&gil));
	ct_gil_stats_t s = stats();
	CHECK_EQ(s.acquisitions, 1);
	CHECK_EQ(s.switches, 1);
	CHECK_EQ(s.total_wait_ns, 0);
}

TEST(switch_interval)
{
	/* The casts matter on i386 (x87, FLT_EVAL_METHOD 2): there a constant
	 * is a long double, and the returned double would not equal it. */
	CHECK(ct_gil_get_switch_interval(&gil) == (double)0.005); /* CPython's default */
	CHECK_OK(ct_gil_set_switch_interval(&gil, 0.001));
	CHECK(ct_gil_get_switch_interval(&gil) == (double)0.001);
	CHECK_OK(ct_gil_set_switch_interval(&gil, 1e-9)); /* floor: 1 µs */
	CHECK(ct_gil_get_switch_interval(&gil) == (double)1e-6);
	CHECK(ct_gil_get_switch_interval(ct_gil_default()) == (double)0.005);
}

TEST(default_gil)
{
	ct_gil_t *g = ct_gil_default();
	CHECK(g != NULL && g == ct_gil_default());
	CHECK_OK(ct_gil_acquire(g));
	CHECK(ct_gil_held(g) && !ct_gil_held(&gil));
	CHECK_OK(ct_gil_release(g));
}

TEST(init_destroy_reuse)
{
	ct_gil_t *g = malloc(sizeof *g);
	CHECK(g);
	for (int i = 0; i < 3; i++) {
		ct_gil_init(g);
		CHECK_OK(ct_gil_acquire(g));
		CHECK_RC(ct_gil_destroy(g), CT_EBUSY);
		CHECK_OK(ct_gil_release(g));
		CHECK_OK(ct_gil_destroy(g));
	}
	free(g);
}

/* A GIL never taken was never listed for fork(): its destroy has
 * nothing to unlist. One taken after another is unlisted from behind it,
 * and the other stays usable. */
TEST(destroy_unused_and_in_any_order)
{
	ct_gil_t a, b, unused;
	ct_gil_init(&unused);
	CHECK_OK(ct_gil_destroy(&unused));
	ct_gil_init(&a);
	ct_gil_init(&b);
	CHECK_OK(ct_gil_acquire(&a));
	CHECK_OK(ct_gil_release(&a));
	CHECK_OK(ct_gil_acquire(&b)); /* listed in front of a */
	CHECK_OK(ct_gil_release(&b));
	CHECK_OK(ct_gil_destroy(&a));
	CHECK_OK(ct_gil_acquire(&b));
	CHECK(ct_gil_held(&b));
	CHECK_OK(ct_gil_release(&b));
	CHECK_OK(ct_gil_destroy(&b));
}

static int holds_its_gil(void *arg)
{
	CHECK(ct_gil_held(arg));
	CHECK_EQ(ct_gil_checkpoint(arg), 0);
	return 0;
}

TEST(thread_under_gil_holds_it_and_releases_it)
{
	join(start_under(holds_its_gil, &gil, &gil));
	/* Released when it ended: taking it now does not wait. */
	CHECK_OK(ct_gil_acquire(&gil));
	CHECK_EQ(stats().total_wait_ns, 0);
	CHECK_OK(ct_gil_release(&gil));
	CHECK_EQ(stats().acquisitions, 2);
}

static int release_early(void *arg)
{
	CHECK_OK(ct_gil_release(arg));
	return 0;
}

TEST(thread_may_release_its_gil_before_it_ends)
{
	join(start_under(release_early, &gil, &gil));
	CHECK_OK(ct_gil_acquire(&gil));
	CHECK_OK(ct_gil_release(&gil));
}

/* ---- mutual exclusion --------------------------------------------------- */

#define MX_THREADS 5
static atomic_int inside;
static long plain_counter; /* guarded by the GIL alone */
static long mx_iterations;

static atomic_int mx_started;

static int mx_worker(void *arg)
{
	/* Until every worker runs, the GIL changes hands by yields alone:
	 * a worker that starts later waits for the GIL, so the holder's yield
	 * hands it over, and the loop below starts with every worker there.
	 * (Otherwise, on a loaded machine, each worker could run its whole
	 * loop before the next one even started, and nothing would switch.) */
	atomic_fetch_add(&mx_started, 1);
	while (atomic_load(&mx_started) < MX_THREADS) {
		CHECK(ct_gil_yield(arg) >= 0);
		sched_yield();
	}
	for (long i = 0; i < mx_iterations; i++) {
		CHECK_EQ(atomic_fetch_add(&inside, 1), 0);
		CHECK(ct_gil_held(arg));
		plain_counter++;
		atomic_fetch_sub(&inside, 1);
		if (i % 4096 == 0)
			CHECK(ct_gil_yield(arg) >= 0);
		else if (i % 8191 == 0)
			CHECK_OK(ct_sleep(0.0001));
		else
			CHECK(ct_gil_checkpoint(arg) >= 0);
	}
	return 0;
}

TEST(mutual_exclusion_under_stress)
{
	/* A 50 µs interval makes forced switches frequent; yields and sleeps
	 * mix in the other two ways the GIL changes hands. */
	CHECK_OK(ct_gil_set_switch_interval(&gil, 50e-6));
	mx_iterations = ht_slowed() ? 100000 : 1000000;
	ct_thread_t *t[MX_THREADS];
	for (int i = 0; i < MX_THREADS; i++)
		t[i] = start_under(mx_worker, &gil, &gil);
	for (int i = 0; i < MX_THREADS; i++)
		join(t[i]);
	CHECK_EQ(plain_counter, MX_THREADS * mx_iterations);
	ct_gil_stats_t s = stats();
	CHECK(s.switches >= MX_THREADS);
	CHECK(s.yields > 0);
	CHECK(s.acquisitions >= s.switches);
	CHECK(s.total_wait_ns >= s.longest_wait_ns);
}

/* ---- switching ---------------------------------------------------------- */

static atomic_int got_it;

static int take_and_note(void *arg)
{
	(void)arg;
	atomic_store(&got_it, 1);
	return 0;
}

TEST(checkpoint_hands_over_after_one_interval)
{
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_t *t = start_under(take_and_note, NULL, &gil);
	int switched = 0;
	while (!atomic_load(&got_it)) {
		int rc = ct_gil_checkpoint(&gil);
		CHECK(rc == 0 || rc == 1);
		switched += rc;
	}
	/* Only a drop at a checkpoint could let it in, and it took one. */
	CHECK_EQ(switched, 1);
	CHECK_OK(ct_gil_release(&gil));
	join(t);
	ct_gil_stats_t s = stats();
	CHECK_EQ(s.forced_drops, 1);
	/* Asked once, after its first interval (main may ask again later, if
	 * the thread ran slowly on a loaded machine). */
	CHECK(s.drop_requests >= 1);
	CHECK_EQ(s.priority_requests, 0);
	/* CPython's rule: a waiter asks only after one interval. */
	CHECK(s.longest_wait_ns >= 5000000);
	CHECK_EQ(s.acquisitions, 3);
	CHECK_EQ(s.switches, 3);
}

#define FS_THREADS 3
#define FS_TARGET 150
static int last_runner = -1; /* guarded by the GIL */
static int fs_total;	     /* guarded by the GIL */
static int fs_switched[FS_THREADS];

static int fs_worker(void *arg)
{
	int me = (int)(intptr_t)arg;
	for (;;) {
		last_runner = me;
		if (fs_total >= FS_TARGET)
			return 0;
		int rc = ct_gil_checkpoint(&gil);
		CHECK(rc == 0 || rc == 1);
		if (rc == 1) {
			/* Forced switching: someone else held it meanwhile. */
			CHECK(last_runner != me);
			fs_switched[me]++;
			fs_total++;
		}
	}
}

TEST(forced_switching_and_stats_add_up)
{
	CHECK_OK(ct_gil_set_switch_interval(&gil, 200e-6));
	ct_thread_t *t[FS_THREADS];
	for (int i = 0; i < FS_THREADS; i++)
		t[i] = start_under(fs_worker, (void *)(intptr_t)i, &gil);
	for (int i = 0; i < FS_THREADS; i++)
		join(t[i]);
	int total = 0;
	for (int i = 0; i < FS_THREADS; i++)
		total += fs_switched[i];
	ct_gil_stats_t s = stats();
	/* Nothing but checkpoints: every hand-over was a forced drop, every
	 * acquisition after the threads' first was the return of one, and
	 * every acquisition was a switch to another thread. */
	CHECK_EQ(s.forced_drops, (uint64_t)total);
	CHECK_EQ(s.acquisitions, (uint64_t)(FS_THREADS + total));
	CHECK_EQ(s.switches, s.acquisitions);
	CHECK_EQ(s.yields, 0);
	CHECK(s.drop_requests >= s.forced_drops);
	CHECK(s.total_wait_ns >= s.longest_wait_ns);
}

/* ---- blocking calls release it ------------------------------------------ */

static atomic_int ran;

static int note_ran(void *arg)
{
	(void)arg;
	atomic_store(&ran, 1);
	return 0;
}

TEST(sleep_releases)
{
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_t *t = start_under(note_ran, NULL, &gil);
	/* No checkpoint: only the sleep can let the thread in. */
	for (int i = 0; i < 10000 && !atomic_load(&ran); i++)
		CHECK_OK(ct_sleep(0.001));
	CHECK(atomic_load(&ran));
	CHECK(ct_gil_held(&gil));
	CHECK_OK(ct_gil_release(&gil));
	join(t);
}

TEST(sleep_zero_yields)
{
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_t *t = start_under(note_ran, NULL, &gil);
	for (long i = 0; i < 100000000 && !atomic_load(&ran); i++)
		CHECK_OK(ct_sleep(0));
	CHECK(atomic_load(&ran));
	CHECK(stats().yields >= 1);
	CHECK_OK(ct_gil_release(&gil));
	join(t);
}

static int count_then_end(void *arg)
{
	for (int i = 0; i < 1000; i++)
		CHECK(ct_gil_checkpoint(arg) >= 0);
	atomic_store(&ran, 1);
	return 0;
}

TEST(join_releases)
{
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_t *t = start_under(count_then_end, &gil, &gil);
	CHECK_OK(ct_thread_join(t, CT_FOREVER)); /* would deadlock holding it */
	CHECK(atomic_load(&ran));
	CHECK(ct_gil_held(&gil));
	ct_thread_release(t);
	CHECK_OK(ct_gil_release(&gil));
}

static ct_event_t ev1 = CT_EVENT_INIT, ev2 = CT_EVENT_INIT;

static int sleep_until_stopped(void *arg)
{
	ct_event_set(&ev1);
	CHECK_RC(ct_sleep(60), CT_ESTOPPED);
	/* Back from an interrupted wait, it holds the GIL again. */
	CHECK(ct_gil_held(arg));
	return 0;
}

TEST(stopped_wait_takes_the_gil_back)
{
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_t *t = start_under(sleep_until_stopped, &gil, &gil);
	CHECK_OK(ct_event_wait(&ev1, CT_FOREVER));
	CHECK_OK(ct_thread_request_stop(t));
	join(t);
	CHECK(ct_gil_held(&gil));
	CHECK_OK(ct_gil_release(&gil));
}

static ct_lock_t lock = CT_LOCK_INIT;

static int hold_lock_until_told(void *arg)
{
	ct_lock_acquire(&lock);
	ct_event_set(&ev1);
	CHECK_OK(ct_event_wait(&ev2, CT_FOREVER));
	/* Needs the GIL to get here and to release the lock. */
	CHECK(ct_gil_held(arg));
	CHECK_OK(ct_lock_release(&lock));
	return 0;
}

TEST(lock_waits_release)
{
	CHECK_OK(ct_gil_acquire(&gil));
	for (int round = 0; round < 2; round++) {
		ct_event_clear(&ev1);
		ct_event_clear(&ev2);
		ct_thread_t *t = start_under(hold_lock_until_told, &gil, &gil);
		CHECK_OK(ct_event_wait(&ev1, CT_FOREVER));
		ct_event_set(&ev2);
		if (round == 0)
			CHECK_OK(ct_lock_acquire_timeout(&lock, 60));
		else
			ct_lock_acquire(&lock);
		CHECK(ct_gil_held(&gil));
		CHECK_OK(ct_lock_release(&lock));
		join(t);
	}
	CHECK_OK(ct_gil_release(&gil));
}

static int set_ev1(void *arg)
{
	CHECK(ct_gil_held(arg));
	ct_event_set(&ev1);
	return 0;
}

TEST(event_wait_releases)
{
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_t *t = start_under(set_ev1, &gil, &gil);
	CHECK_OK(ct_event_wait(&ev1, 60));
	CHECK(ct_gil_held(&gil));
	CHECK_OK(ct_gil_release(&gil));
	join(t);
}

static ct_condition_t cond = CT_CONDITION_INIT;
static int ready; /* guarded by the condition's lock */

static int notify_ready(void *arg)
{
	CT_WITH_CONDITION(&cond)
	{
		CHECK(ct_gil_held(arg));
		ready = 1;
		CHECK_EQ(ct_condition_notify(&cond, 1), 1);
	}
	return 0;
}

TEST(condition_wait_releases)
{
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_t *t = NULL;
	CT_WITH_CONDITION(&cond)
	{
		t = start_under(notify_ready, &gil, &gil);
		while (!ready)
			CHECK_OK(ct_condition_wait(&cond, 60));
		CHECK(ct_gil_held(&gil));
	}
	CHECK_OK(ct_gil_release(&gil));
	join(t);
}

/* A pool worker is no GIL thread: it takes the GIL as PyGILState_Ensure
 * would, from a callback of a library's own thread. */
static int task_needing_the_gil(void *arg, void **result)
{
	int st = ct_gil_state_ensure(arg);
	if (st < 0)
		return st;
	*result = (void *)(intptr_t)ct_gil_held(arg);
	return ct_gil_state_release(arg, st);
}

TEST(future_and_executor_waits_release)
{
	CHECK_OK(ct_gil_acquire(&gil));
	ct_executor_t ex;
	CHECK_OK(ct_executor_init(&ex, &(ct_executor_opts){.max_workers = 2}));
	ct_future_t *f;
	CHECK_OK(ct_executor_submit(&ex, task_needing_the_gil, &gil, &f));
	void *held = NULL;
	CHECK_OK(ct_future_result(f, 60, &held)); /* would deadlock holding it */
	CHECK(held == (void *)1);
	CHECK(ct_gil_held(&gil));
	ct_future_release(f);
	CHECK_OK(ct_executor_submit(&ex, task_needing_the_gil, &gil, NULL));
	CHECK_OK(ct_executor_shutdown(&ex, true, false)); /* waits for it */
	CHECK(ct_gil_held(&gil));
	ct_executor_destroy(&ex);
	CHECK_OK(ct_gil_release(&gil));
}

TEST(allow_threads_block_releases)
{
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_t *t = start_under(note_ran, NULL, &gil);
	CT_GIL_ALLOW_THREADS
	{
		CHECK(!ct_gil_held(&gil));
		/* A blocking call of the program's own, not cthreading's. */
		while (!atomic_load(&ran))
			sched_yield();
	}
	CHECK(ct_gil_held(&gil));
	CHECK_OK(ct_gil_release(&gil));
	/* Without a GIL the block just runs. */
	int runs = 0;
	CT_GIL_ALLOW_THREADS
	{
		runs++;
	}
	CHECK_EQ(runs, 1);
	CHECK(!ct_gil_held(&gil));
	join(t);
}

TEST(save_and_restore)
{
	CHECK(ct_gil_save() == NULL);
	CHECK_OK(ct_gil_restore(NULL));
	CHECK_OK(ct_gil_acquire(&gil));
	ct_gil_t *saved = ct_gil_save();
	CHECK(saved == &gil && !ct_gil_held(&gil));
	CHECK_OK(ct_gil_restore(saved));
	CHECK(ct_gil_held(&gil));
	CHECK_OK(ct_gil_release(&gil));
}

/* ---- the convoy policy -------------------------------------------------- */

static atomic_int cpu_stop;
static ct_event_t cpu_running = CT_EVENT_INIT;

static int cpu_bound(void *arg)
{
	ct_event_set(&cpu_running);
	while (!atomic_load_explicit(&cpu_stop, memory_order_relaxed))
		CHECK(ct_gil_checkpoint(arg) >= 0);
	return 0;
}

TEST(resuming_thread_asks_at_once)
{
	enum { SLEEPS = 20 };
	ct_thread_t *t = start_under(cpu_bound, &gil, &gil);
	CHECK_OK(ct_event_wait(&cpu_running, CT_FOREVER));
	CHECK_OK(ct_gil_acquire(&gil)); /* as a CPU-bound waiter: one request */
	for (int i = 0; i < SLEEPS; i++)
		CHECK_OK(ct_sleep(0.001));
	ct_gil_stats_t s = stats();
	/* Each return from a sleep asked the CPU-bound holder (whose slice
	 * was by then 1 ms old) once, and it dropped the GIL for it. */
	CHECK_EQ(s.priority_requests, SLEEPS);
	CHECK(s.drop_requests >= SLEEPS + 1);
	CHECK_EQ(s.forced_drops, SLEEPS + 1);
	atomic_store(&cpu_stop, 1);
	CHECK_OK(ct_gil_release(&gil));
	join(t);
}

TEST(resuming_thread_leaves_the_holder_a_minimum_slice)
{
	ct_thread_t *t = start_under(cpu_bound, &gil, &gil);
	CHECK_OK(ct_event_wait(&cpu_running, CT_FOREVER));
	CHECK_OK(ct_gil_acquire(&gil));
	for (int i = 0; i < 20; i++) {
		ct_gil_t *g = ct_gil_save(); /* hands it to the CPU-bound thread */
		int64_t slice_start = atomic_load(&gil.ct__slice_start);
		CHECK_OK(ct_gil_restore(g));
		/* Not before the holder had its 100 µs. */
		CHECK(ct__now_ns() >= slice_start + 100000);
	}
	atomic_store(&cpu_stop, 1);
	CHECK_OK(ct_gil_release(&gil));
	join(t);
}

/* ---- threads cthreading did not start ----------------------------------- */

static void *foreign(void *arg)
{
	(void)arg;
	int st = ct_gil_state_ensure(&gil);
	CHECK_EQ(st, CT_GIL_STATE_UNLOCKED);
	CHECK(ct_gil_held(&gil));
	CHECK_EQ(ct_gil_state_ensure(&gil), CT_GIL_STATE_LOCKED);
	CHECK_OK(ct_gil_state_release(&gil, CT_GIL_STATE_LOCKED));
	CHECK(ct_gil_held(&gil));
	CHECK_EQ(ct_gil_checkpoint(&gil), 0);
	ct_event_set(&ev1);
	CHECK_OK(ct_gil_state_release(&gil, st));
	CHECK(!ct_gil_held(&gil));
	return NULL;
}

TEST(ensure_from_a_raw_pthread)
{
	CHECK_OK(ct_gil_acquire(&gil));
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, foreign, NULL), 0);
	CHECK_OK(ct_event_wait(&ev1, 60)); /* lets it in */
	CHECK(ct_gil_held(&gil));
	CT_GIL_ALLOW_THREADS
	{
		pthread_join(pt, NULL);
	}
	CHECK_OK(ct_gil_release(&gil));
}

/* A thread the library never met holds no GIL: save has nothing to
 * give up. */
static void *save_in_foreign(void *arg)
{
	*(ct_gil_t **)arg = ct_gil_save();
	return NULL;
}

TEST(save_from_a_foreign_thread)
{
	ct_gil_t *saved = &gil;
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, save_in_foreign, &saved), 0);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	CHECK(saved == NULL);
}

/* A fork from a thread the library never met: the child's GILs are
 * reset as after any fork, and the forker can take one there. */
static void *fork_from_foreign(void *arg)
{
	int *status = arg;
	pid_t pid = fork();
	if (pid == 0) {
		int rc = ct_gil_acquire(&gil);
		if (rc == 0)
			rc = ct_gil_release(&gil);
		HT_CHILD_EXIT(rc == 0 && !ct_gil_held(&gil) ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, status, 0) != pid)
		*status = -1;
	return NULL;
}

TEST(fork_from_a_foreign_thread)
{
	ht_need_threads_after_fork();
	CHECK_OK(ct_gil_acquire(&gil));
	CHECK_OK(ct_gil_release(&gil));
	int status = -1;
	ht_in_foreign_thread(fork_from_foreign, &status);
	HT_CHECK_EXITED_OK(status);
}

/* A GIL holder waiting for a queue's own lock waits inside fork's gate:
 * it keeps its GIL (the lock's holder needs none to get out). The lock is
 * held by a thread whose comparison spins until told. */
static atomic_int cmp_spinning, cmp_may_end;

static int spinning_compare(const void *a, const void *b)
{
	atomic_store(&cmp_spinning, 1);
	while (!atomic_load(&cmp_may_end))
		sched_yield();
	return (int)((intptr_t)a - (intptr_t)b);
}

static int put_one(void *arg)
{
	return ct_queue_put(arg, (void *)(intptr_t)2, CT_FOREVER);
}

TEST(waiting_inside_the_fork_gate_keeps_the_gil)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(
		&q, &(ct_queue_opts){.kind = CT_QUEUE_PRIORITY, .compare = spinning_compare}));
	CHECK_OK(ct_queue_put(&q, (void *)(intptr_t)1, CT_FOREVER));
	ct_thread_t *comparer;
	CHECK_OK(ct_thread_new(&comparer, put_one, &q, NULL));
	CHECK_OK(ct_thread_start(comparer));
	while (!atomic_load(&cmp_spinning)) /* it holds the queue's lock now */
		sched_yield();
	ct_thread_t *holder = start_under(put_one, &q, &gil);
	ht_wait_parked(holder);
	CHECK(atomic_load(&gil.ct__state) & 2u); /* LOCKED: still held while it waits */
	atomic_store(&cmp_may_end, 1);
	join(comparer);
	join(holder);
	CHECK_EQ(ct_queue_qsize(&q), 3);
	CHECK_OK(ct_queue_destroy(&q));
}

static void *ensure_and_leave(void *arg)
{
	(void)arg;
	CHECK_EQ(ct_gil_state_ensure(&gil), CT_GIL_STATE_UNLOCKED);
	return NULL; /* ends holding it */
}

TEST(foreign_thread_ending_with_the_gil_releases_it)
{
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, ensure_and_leave, NULL), 0);
	pthread_join(pt, NULL);
	CHECK_OK(ct_gil_acquire(&gil));
	CHECK_OK(ct_gil_release(&gil));
}

/* ---- exit and fork ------------------------------------------------------ */

TEST(exit_waits_for_gil_threads_releasing_it)
{
	const char *argv[] = {CT_TEST_PROGRAMS "/gil_exit", NULL};
	char *out, *err;
	int rc = ht_run(argv, &out, &err);
	if (rc != 0)
		fprintf(stderr, "%s", err);
	CHECK_EQ(rc, 0);
	ht_sort_lines(out);
	CHECK_STR(out, "worker 0 done\nworker 1 done\nworker 2 done\n");
	free(out);
	free(err);
}

static int child_thread(void *arg)
{
	(void)arg;
	return ct_gil_held(&gil) ? 0 : 1;
}

/* The child's checks; its exit status says how they went. */
static int in_fork_child(bool held_by_forker)
{
	if (held_by_forker) {
		if (!ct_gil_held(&gil) || ct_gil_checkpoint(&gil) != 0)
			return 10;
		if (ct_gil_release(&gil) != 0)
			return 11;
	}
	if (ct_gil_acquire(&gil) != 0 || ct_gil_checkpoint(&gil) != 0)
		return 12;
	/* ThreadSanitizer ends a child of a multi-threaded process that
	 * starts threads (its die_after_fork). */
	if (!ht_sanitized()) {
		ct_thread_t *t;
		if (ct_thread_new(&t, child_thread, NULL, &(ct_thread_opts){.gil = &gil}) != 0 ||
		    ct_thread_start(t) != 0 || ct_thread_join(t, CT_FOREVER) != 0)
			return 13;
		ct_thread_release(t);
	}
	return ct_gil_release(&gil) == 0 ? 0 : 14;
}

static void fork_and_check(bool held_by_forker)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		HT_CHILD_EXIT(in_fork_child(held_by_forker));
	int status;
	CT_GIL_ALLOW_THREADS
	{
		CHECK_EQ(waitpid(pid, &status, 0), pid);
	}
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

TEST(fork_child_keeps_the_forkers_gil)
{
	ht_need_threads_after_fork();
	CHECK_OK(ct_gil_acquire(&gil));
	/* A thread queued for the GIL at fork time. */
	ct_thread_t *t = start_under(note_ran, NULL, &gil);
	fork_and_check(true);
	CHECK_OK(ct_gil_release(&gil));
	join(t);
}

static int hold_until_told(void *arg)
{
	(void)arg;
	ct_event_set(&ev1);
	while (!atomic_load(&ran)) /* holds the GIL, never checkpoints */
		sched_yield();
	return 0;
}

TEST(fork_child_gets_a_gil_another_thread_held)
{
	ht_need_threads_after_fork();
	ct_thread_t *t = start_under(hold_until_told, NULL, &gil);
	CHECK_OK(ct_event_wait(&ev1, CT_FOREVER));
	fork_and_check(false);
	atomic_store(&ran, 1);
	join(t);
}

static int hold_default_until_told(void *arg)
{
	(void)arg;
	ct_event_set(&ev1);
	while (!atomic_load(&ran))
		sched_yield();
	return 0;
}

TEST(fork_resets_gils_after_a_second_init)
{
	/* Both GILs in the list fork() resets, then `gil` initialised again
	 * without being destroyed: the list must still reach the default. */
	CHECK_OK(ct_gil_acquire(ct_gil_default()));
	CHECK_OK(ct_gil_release(ct_gil_default()));
	CHECK_OK(ct_gil_acquire(&gil));
	CHECK_OK(ct_gil_release(&gil));
	ct_gil_init(&gil);
	/* Taken again: still listed once (listed twice, the list would loop). */
	CHECK_OK(ct_gil_acquire(&gil));
	CHECK_OK(ct_gil_release(&gil));
	ct_thread_t *t = start_under(hold_default_until_told, NULL, ct_gil_default());
	CHECK_OK(ct_event_wait(&ev1, CT_FOREVER));
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) /* its holder does not exist here */
		HT_CHILD_EXIT(ct_gil_acquire(ct_gil_default()) == 0 ? 0 : 1);
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	atomic_store(&ran, 1);
	join(t);
}

/* ---- the seed's example 7 ---------------------------------------------- */

/* The line of one way of running the seed's five threads: exact where the
 * increments are synchronised. */
static long seed_result(const char *out, const char *how)
{
	const char *row = strstr(out, how);
	CHECK(row != NULL);
	const char *line = strstr(row, "num 值为：");
	CHECK(line != NULL && memchr(row, '\n', (size_t)(line - row)) == NULL);
	return strtol(line + strlen("num 值为："), NULL, 10);
}

TEST(example_7_prints_the_seeds_line)
{
	const char *argv[] = {CT_EXAMPLES_DIR "/ex7_gil", NULL};
	char *out, *err;
	CHECK_EQ(ht_run(argv, &out, &err), 0);
	CHECK_STR(err, "");
	CHECK_EQ(seed_result(out, "under the GIL"), 500000);
	CHECK_EQ(seed_result(out, "with a Lock"), 500000);
	CHECK_EQ(seed_result(out, "with an atomic add"), 500000);
	long lost = seed_result(out, "unsynchronised");
	CHECK(lost > 0 && lost <= 500000);
	CHECK(strstr(out, "two threads under the GIL") != NULL);
	free(out);
	free(err);
}

/* ---- misuse ------------------------------------------------------------- */

static int acquire_twice(void)
{
	CHECK_OK(ct_gil_acquire(&gil));
	return ct_gil_acquire(&gil);
}

static int acquire_a_second_gil(void)
{
	CHECK_OK(ct_gil_acquire(ct_gil_default()));
	return ct_gil_acquire(&gil);
}

static int checkpoint_holding_another(void)
{
	CHECK_OK(ct_gil_acquire(ct_gil_default()));
	return ct_gil_checkpoint(&gil);
}

static int ensure_holding_another(void)
{
	CHECK_OK(ct_gil_acquire(ct_gil_default()));
	return ct_gil_state_ensure(&gil);
}

static int restore_holding(void)
{
	CHECK_OK(ct_gil_acquire(&gil));
	return ct_gil_restore(&gil);
}

static int destroy_held(void)
{
	CHECK_OK(ct_gil_acquire(&gil));
	return ct_gil_destroy(&gil);
}

static void *try_release(void *arg)
{
	*(int *)arg = ct_gil_release(&gil);
	return NULL;
}

static int release_from_another_thread(void)
{
	CHECK_OK(ct_gil_acquire(&gil));
	int rc = 0;
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, try_release, &rc), 0);
	pthread_join(pt, NULL);
	CHECK(ct_gil_held(&gil));
	return rc;
}

#define NOT_HELD "the GIL is not held by the calling thread"
#define HELD "the GIL is already held by the calling thread"
MISUSE(release_not_held, CT_EGILNOTHELD, NOT_HELD, ct_gil_release(&gil))
MISUSE(release_from_another_thread, CT_EGILNOTHELD, NOT_HELD, release_from_another_thread())
MISUSE(checkpoint_not_held, CT_EGILNOTHELD, NOT_HELD, ct_gil_checkpoint(&gil))
MISUSE(checkpoint_holding_another, CT_EGILNOTHELD, NOT_HELD, checkpoint_holding_another())
MISUSE(yield_not_held, CT_EGILNOTHELD, NOT_HELD, ct_gil_yield(&gil))
MISUSE(state_release_not_held, CT_EGILNOTHELD, NOT_HELD,
       ct_gil_state_release(&gil, CT_GIL_STATE_UNLOCKED))
MISUSE(acquire_twice, CT_EGILHELD, HELD, acquire_twice())
MISUSE(acquire_a_second_gil, CT_EGILHELD, HELD, acquire_a_second_gil())
MISUSE(ensure_holding_another, CT_EGILHELD, HELD, ensure_holding_another())
MISUSE(restore_holding, CT_EGILHELD, HELD, restore_holding())
MISUSE(destroy_held, CT_EBUSY, "the object is in use", destroy_held())
MISUSE(state_release_bad_state, CT_EINVAL, "invalid argument", ct_gil_state_release(&gil, 7))
MISUSE(null_gil, CT_EINVAL, "invalid argument", ct_gil_acquire(NULL))
MISUSE(switch_interval_zero, CT_EINVAL, "invalid argument", ct_gil_set_switch_interval(&gil, 0))
MISUSE(switch_interval_negative, CT_EINVAL, "invalid argument",
       ct_gil_set_switch_interval(&gil, -1))
MISUSE(switch_interval_nan, CT_EINVAL, "invalid argument", ct_gil_set_switch_interval(&gil, NAN))
MISUSE(switch_interval_too_large, CT_ETOOLARGE, "timeout value is too large",
       ct_gil_set_switch_interval(&gil, CT_TIMEOUT_MAX * 2))
