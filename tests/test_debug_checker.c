/* The deadlock checker, the profile and the trace at their edges: a cycle
 * through a condition's lock taken back, a thread holding many locks, a
 * cycle that a timed wait will break, an RWLock writer's hold, waits that
 * time out and joins in the profile (of a thread renaming itself too),
 * the names of objects destroyed before the trace or profile is written,
 * and a profile's room with thousands of them destroyed.
 *
 * Cases whose process must abort run the scenario in a forked child
 * (forked before it starts any thread) and read the report it left in its
 * log. */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/debug_hooks.h"
#include "core/fault.h"
#include "cthreading/condition.h"
#include "cthreading/debug.h"
#include "cthreading/event.h"
#include "cthreading/rlock.h"
#include "cthreading/rwlock.h"
#include "cthreading/thread.h"
#include "debug_helpers.h"
#include "sync_helpers.h"

static ct_thread_t *start_named(ct_target_fn fn, void *arg, const char *name)
{
	ct_thread_t *t;
	ct_thread_opts o = {0};
	o.name = name;
	CHECK_OK(ct_thread_new(&t, fn, arg, &o));
	CHECK_OK(ct_thread_start(t));
	return t;
}

/* Turns the trace (to a fresh file, whose path it returns) on, after
 * @p settings ("" or ending in a comma). */
static char *traced(const char *settings, const char *name)
{
	char *trace = temp_path(name);
	char s[300];
	snprintf(s, sizeof s, "%strace=%s", settings, trace);
	CHECK_OK(ct_debug_configure(s));
	return trace;
}

/* Turns the profile and the trace (to a fresh file, whose path it
 * returns) on. */
static char *trace_and_profile(const char *name)
{
	return traced("profile=/dev/null,", name);
}

/* Writes the trace to @p trace and returns what it holds (to free); the
 * file is gone and @p trace freed. */
static char *trace_written(char *trace)
{
	CHECK_OK(ct_trace_write(trace));
	char *json = read_file(trace);
	unlink(trace);
	free(trace);
	return json;
}

/* Makes @p l a lock named @p name and holds it long enough for a span
 * (a ct_sleep of 1 ms: at least 10 µs). */
static void named_lock_held(ct_lock_t *l, const char *name)
{
	ct_lock_init(l);
	CHECK_OK(ct_object_set_name(l, name));
	ct_lock_acquire(l);
	CHECK_OK(ct_sleep(0.001));
	CHECK_OK(ct_lock_release(l));
}

/* ---- a cycle through a condition's lock taken back ---------------------- */

static ct_lock_t cond_lock = CT_LOCK_INIT, held_lock = CT_LOCK_INIT;
static ct_condition_t cond;

/* Holds M, then waits on C over L: once notified, it waits to take L
 * back, still holding M. */
static int hold_m_wait_on_c(void *arg)
{
	(void)arg;
	ct_lock_acquire(&held_lock);
	ct_lock_acquire(&cond_lock);
	CHECK_OK(ct_condition_wait(&cond, CT_FOREVER));
	CHECK_OK(ct_lock_release(&cond_lock));
	CHECK_OK(ct_lock_release(&held_lock));
	return 0;
}

/* The main thread takes L, notifies the waiter (which now waits for L
 * inside its wait on C) and then asks for M: main -> M (held by W) -> L
 * (held by main). */
static ct_thread_t *notified_waiter_waits_for_l(void)
{
	ct_condition_init(&cond, &cond_lock);
	CHECK_OK(ct_object_set_name(&cond_lock, "L"));
	CHECK_OK(ct_object_set_name(&held_lock, "M"));
	CHECK_OK(ct_object_set_name(&cond, "C"));
	ct_thread_t *w = start_named(hold_m_wait_on_c, NULL, "W");
	dump_until("waiting on condition \"C\"");
	ct_lock_acquire(&cond_lock);
	/* Requeues the waiter onto L under both queues' locks: when notify
	 * returns it waits for L. */
	CHECK_EQ(ct_condition_notify(&cond, 1), 1);
	return w;
}

/* Failed before the fix: CT_ETIMEDOUT after 30 s (the walk stopped at the
 * condition). */
TEST(timed_acquire_closing_a_cycle_through_a_condition_returns_edeadlk)
{
	char *log = configure_logged("deadlock", "cond.log");
	ct_thread_t *w = notified_waiter_waits_for_l();
	CHECK_RC(ct_lock_acquire_timeout(&held_lock, 30), CT_EDEADLK);
	CHECK_OK(ct_lock_release(&cond_lock));
	sh_join(w);
	char *text = logged(log);
	CHECK_HAS(text, "a cycle of 2 threads");
	CHECK_HAS(text, "thread \"MainThread\" waits for lock \"M\"");
	CHECK_HAS(text, "thread \"W\" waits for lock \"L\"");
	CHECK_HAS(text, "(to take it back after its wait on condition \"C\")");
	CHECK_HAS(text, "returns CT_EDEADLK");
	free(text);
}

static void plain_acquire_through_a_condition(void)
{
	(void)notified_waiter_waits_for_l();
	ct_lock_acquire(&held_lock); /* aborts */
}

/* Failed before the fix: the child hung (killed by the case's timeout). */
TEST(plain_acquire_closing_a_cycle_through_a_condition_aborts)
{
	int status;
	char *text = in_child("deadlock,log=", plain_acquire_through_a_condition, &status);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK_HAS(text, "thread \"W\" waits for lock \"L\"");
	CHECK_HAS(text, "aborting");
	free(text);
}

/* Polls the file at @p path until it holds @p needle (another thread
 * writes it: nothing to wait on but the file). */
static void log_until(const char *path, const char *needle)
{
	for (;;) {
		char *text = read_file(path);
		bool found = strstr(text, needle) != NULL;
		free(text);
		if (found)
			return;
		CHECK_OK(ct_sleep(0.001));
	}
}

static char *cond_log;

/* Lets the notified waiter go on (any thread may release a Lock) once
 * the main thread has reported the cycle and the dump shows it. */
static int release_l_when_dumped(void *arg)
{
	(void)arg;
	log_until(cond_log, "the thread keeps waiting (deadlock=report)");
	dump_until("Deadlock: 2 threads waiting for each other:");
	dump_until("\"W\" waits for lock \"L\", held by \"MainThread\"");
	CHECK_OK(ct_lock_release(&cond_lock));
	return 0;
}

/* The dump's deadlock section follows the same wait. Failed before: the
 * dump found no deadlock (the case hung). */
TEST(dump_shows_a_cycle_through_a_condition)
{
	cond_log = configure_logged("deadlock=report", "cond3.log");
	ct_thread_t *w = notified_waiter_waits_for_l();
	ct_thread_t *rescuer = sh_start(release_l_when_dumped, NULL);
	ct_lock_acquire(&held_lock); /* reported; waits until W lets M go */
	CHECK_OK(ct_lock_release(&held_lock));
	sh_join(rescuer);
	sh_join(w);
	free(logged(cond_log));
}

/* With L held: notifies @p w, which waits on C; the dump finds no cycle;
 * lets @p w end. */
static void notify_and_find_no_cycle(ct_thread_t *w)
{
	CHECK_EQ(ct_condition_notify(&cond, 1), 1);
	char *dump = ht_report_text(ct_dump);
	CHECK_HAS(dump, "No deadlock found.");
	free(dump);
	CHECK_OK(ct_lock_release(&cond_lock));
	sh_join(w);
}

/* Once @p w waits on C (not notified), takes L and asks for M, which @p w
 * holds: no cycle, the wait times out. Then lets @p w end. */
static void no_cycle_until_notified(ct_thread_t *w)
{
	ht_wait_parked_on(w, &cond);
	ct_lock_acquire(&cond_lock);
	CHECK_RC(ct_lock_acquire_timeout(&held_lock, 0.05), CT_ETIMEDOUT);
	CHECK_EQ(ct_condition_notify(&cond, 1), 1);
	CHECK_OK(ct_lock_release(&cond_lock));
	sh_join(w);
}

/* A notified waiter whose lock was taken while the hooks were off: its
 * wait began before they were last off, so the walk does not follow it
 * (a notified waiter whose lock's holder is not known, its wait recorded:
 * test_debug_dump.c's a_notified_waiter_whose_lock_holder_ended). */
TEST(a_notified_waiter_whose_lock_holder_is_not_known)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_condition_init(&cond, &cond_lock);
	CHECK_OK(ct_object_set_name(&cond, "C"));
	ct_thread_t *w = start_named(hold_m_wait_on_c, NULL, "W");
	dump_until("waiting on condition \"C\"");
	CHECK_OK(ct_debug_configure("off"));
	ct_lock_acquire(&cond_lock); /* not recorded */
	CHECK_OK(ct_debug_configure("deadlock"));
	notify_and_find_no_cycle(w);
}

static ct_event_t woke, wait_again;

/* Waits on C twice: between the two, says so, waits for the main
 * thread's word and takes M (the hooks see that hold). */
static int wait_on_c_twice(void *arg)
{
	(void)arg;
	ct_lock_acquire(&cond_lock);
	CHECK_OK(ct_condition_wait(&cond, CT_FOREVER));
	ct_event_set(&woke);
	CHECK_OK(ct_event_wait(&wait_again, CT_FOREVER));
	ct_lock_acquire(&held_lock);
	CHECK_OK(ct_condition_wait(&cond, CT_FOREVER));
	CHECK_OK(ct_lock_release(&cond_lock));
	CHECK_OK(ct_lock_release(&held_lock));
	return 0;
}

/* A notify seen by the hooks, whose wait then ended while they were off:
 * the next wait, not notified, closes no cycle. Failed before: CT_EDEADLK
 * (the first wait's notify was taken for the second's). */
TEST(a_notify_of_an_earlier_wait_does_not_count)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_condition_init(&cond, &cond_lock);
	ct_event_init(&woke);
	ct_event_init(&wait_again);
	ct_thread_t *w = start_named(wait_on_c_twice, NULL, "W");
	ht_wait_parked_on(w, &cond);
	ct_lock_acquire(&cond_lock);
	CHECK_EQ(ct_condition_notify(&cond, 1), 1);
	CHECK_OK(ct_debug_configure("off"));
	CHECK_OK(ct_lock_release(&cond_lock));
	CHECK_OK(ct_event_wait(&woke, CT_FOREVER));
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_event_set(&wait_again);
	no_cycle_until_notified(w);
}

/* A waiter that began its wait while the hooks were off has no record
 * the notify could mark: nothing is followed, nothing goes wrong. */
TEST(a_waiter_parked_before_the_hooks_were_on)
{
	ct_condition_init(&cond, &cond_lock);
	ct_thread_t *w = start_named(hold_m_wait_on_c, NULL, "W");
	ht_wait_parked_on(w, &cond);
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_lock_acquire(&cond_lock);
	notify_and_find_no_cycle(w);
}

/* A waiter not yet notified waits for a notify, not for the lock: no
 * cycle, and the timed acquire times out. */
TEST(a_condition_waiter_not_notified_closes_no_cycle)
{
	char *log = configure_logged("deadlock", "cond2.log");
	ct_condition_init(&cond, &cond_lock);
	ct_thread_t *w = start_named(hold_m_wait_on_c, NULL, "W");
	no_cycle_until_notified(w);
	char *text = logged(log);
	CHECK(!strstr(text, "cycle"));
	free(text);
}

/* ---- many holds ------------------------------------------------------------ */

#define MANY 40 /* more than one block of hold slots, twice over */

static ct_lock_t many[MANY];
static ct_event_t m_taken;

static int hold_m_want_last(void *arg)
{
	(void)arg;
	ct_lock_acquire(&held_lock);
	ct_event_set(&m_taken);
	ct_lock_acquire(&many[MANY - 1]); /* held by the main thread */
	CHECK_OK(ct_lock_release(&many[MANY - 1]));
	CHECK_OK(ct_lock_release(&held_lock));
	return 0;
}

/* Failed before the fix: CT_ETIMEDOUT (holds past the 16th were not
 * recorded) and a dump saying "holder not known". */
TEST(a_cycle_through_a_fortieth_hold_is_found)
{
	char *log = configure_logged("deadlock", "many.log");
	for (int i = 0; i < MANY; i++) {
		ct_lock_init(&many[i]);
		ct_lock_acquire(&many[i]);
	}
	CHECK_OK(ct_object_set_name(&many[MANY - 1], "last"));
	CHECK_OK(ct_object_set_name(&held_lock, "M"));
	ct_event_init(&m_taken);
	ct_thread_t *b = start_named(hold_m_want_last, NULL, "B");
	CHECK_OK(ct_event_wait(&m_taken, CT_FOREVER));
	dump_until("waiting on lock \"last\"");
	char *dump = ht_report_text(ct_dump);
	CHECK_HAS(dump, "waiting on lock \"last\"");
	CHECK(!strstr(dump, "holder not known"));
	CHECK_HAS(dump, "holds lock \"last\"");
	free(dump);
	CHECK_RC(ct_lock_acquire_timeout(&held_lock, 30), CT_EDEADLK);
	for (int i = MANY - 1; i >= 0; i--)
		CHECK_OK(ct_lock_release(&many[i]));
	sh_join(b);
	/* Every slot was given back: a dump shows no hold left. */
	dump = ht_report_text(ct_dump);
	CHECK(!strstr(dump, "holds lock"));
	free(dump);
	char *text = logged(log);
	CHECK_HAS(text, "thread \"B\" waits for lock \"last\"");
	free(text);
}

/* A hold with no memory for a block of slots is said, once, not dropped
 * silently. */
TEST(a_hold_without_memory_for_its_slot_is_said)
{
	char *log = configure_logged("deadlock", "nomem.log");
	for (int i = 0; i < 18; i++)
		ct_lock_init(&many[i]);
	CHECK_OK(ct_object_set_name(&many[16], "unrecorded"));
	for (int i = 0; i < 16; i++) /* a record's first block of slots */
		ct_lock_acquire(&many[i]);
	ct__fault_set(CT__FAULT_ALLOC, 0, 2);
	ct_lock_acquire(&many[16]);
	ct_lock_acquire(&many[17]);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	char *dump = ht_report_text(ct_dump);
	CHECK(!strstr(dump, "holds lock \"unrecorded\""));
	free(dump);
	for (int i = 17; i >= 0; i--)
		CHECK_OK(ct_lock_release(&many[i]));
	char *text = logged(log);
	CHECK_EQ(ht_count(text, "no memory to record a hold"), 1);
	free(text);
}

/* ---- a cycle a timed wait will break --------------------------------------- */

static ct_lock_t lock_a = CT_LOCK_INIT, lock_b = CT_LOCK_INIT;
static atomic_int backoff_rc = 1;

/* Holds A and asks for B with a deadline: the classic back-off. */
static int hold_a_want_b_timed(void *arg)
{
	(void)arg;
	ct_lock_acquire(&lock_a);
	int rc = ct_lock_acquire_timeout(&lock_b, 600);
	if (rc == 0)
		CHECK_OK(ct_lock_release(&lock_b));
	atomic_store(&backoff_rc, rc);
	CHECK_OK(ct_lock_release(&lock_a));
	return 0;
}

static char *backoff_log;
static ct_thread_t *backer;

/* Stops the timed wait (as its timeout would) once the main thread has
 * reported the cycle its plain acquire closed. */
static int break_the_timed_wait(void *arg)
{
	(void)arg;
	log_until(backoff_log, "will break it");
	CHECK_OK(ct_thread_request_stop(backer));
	return 0;
}

/* Failed before the fix: the process aborted at the plain acquire. */
TEST(plain_acquire_closing_a_cycle_a_timed_wait_breaks_keeps_waiting)
{
	backoff_log = configure_logged("deadlock", "backoff.log");
	CHECK_OK(ct_object_set_name(&lock_a, "A"));
	CHECK_OK(ct_object_set_name(&lock_b, "B"));
	ct_lock_acquire(&lock_b);
	backer = start_named(hold_a_want_b_timed, NULL, "T");
	dump_until("waiting on lock \"B\"");
	ct_thread_t *rescuer = sh_start(break_the_timed_wait, NULL);
	ct_lock_acquire(&lock_a); /* T lets A go when its wait ends */
	CHECK_RC(atomic_load(&backoff_rc), CT_ESTOPPED);
	CHECK_OK(ct_lock_release(&lock_a));
	CHECK_OK(ct_lock_release(&lock_b));
	sh_join(rescuer);
	sh_join(backer);
	char *text = read_file(backoff_log);
	CHECK_EQ(ht_count(text, "a cycle of 2 threads"), 1);
	CHECK_HAS(text, "thread \"T\" waits for lock \"B\"");
	CHECK_HAS(text, "not a certain deadlock: the timed wait of thread \"T\" for lock \"B\" "
			"will break it");
	CHECK(!strstr(text, "aborting"));
	free(text);
	unlink(backoff_log);
	free(backoff_log);
}

/* A timed call closing the same cycle still returns CT_EDEADLK: it is a
 * cycle now, and giving up is what that call can do about it. */
TEST(timed_acquire_closing_a_cycle_a_timed_wait_breaks_returns_edeadlk)
{
	char *log = configure_logged("deadlock", "backoff2.log");
	ct_lock_acquire(&lock_b);
	backer = start_named(hold_a_want_b_timed, NULL, "T");
	ht_wait_parked_on(backer, &lock_b);
	CHECK_RC(ct_lock_acquire_timeout(&lock_a, 30), CT_EDEADLK);
	CHECK_OK(ct_lock_release(&lock_b));
	sh_join(backer);
	CHECK_OK(atomic_load(&backoff_rc));
	char *text = logged(log);
	CHECK_HAS(text, "returns CT_EDEADLK");
	free(text);
}

/* A notified condition waiter's deadline breaks nothing: timed out or
 * not, it takes its lock back with a plain acquire. */
static int hold_m_wait_on_c_timed(void *arg)
{
	(void)arg;
	ct_lock_acquire(&held_lock);
	ct_lock_acquire(&cond_lock);
	CHECK_OK(ct_condition_wait(&cond, 600));
	CHECK_OK(ct_lock_release(&cond_lock));
	CHECK_OK(ct_lock_release(&held_lock));
	return 0;
}

static void plain_acquire_through_a_timed_condition_wait(void)
{
	ct_condition_init(&cond, &cond_lock);
	CHECK_OK(ct_object_set_name(&cond, "C"));
	(void)start_named(hold_m_wait_on_c_timed, NULL, "W");
	dump_until("waiting on condition \"C\"");
	ct_lock_acquire(&cond_lock);
	CHECK_EQ(ct_condition_notify(&cond, 1), 1);
	ct_lock_acquire(&held_lock); /* aborts */
}

TEST(a_notified_condition_waits_deadline_breaks_no_cycle)
{
	int status;
	char *text =
		in_child("deadlock,log=", plain_acquire_through_a_timed_condition_wait, &status);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK_HAS(text, "aborting");
	free(text);
}

/* ---- an RWLock writer's hold --------------------------------------------- */

static ct_rwlock_t rw = CT_RWLOCK_INIT;
static ct_event_t reader_in;

static int read_a_while(void *arg)
{
	(void)arg;
	ct_rwlock_read_acquire(&rw);
	ct_event_set(&reader_in);
	dump_until("waiting on rwlock (its readers) \"W\"");
	CHECK_OK(ct_sleep(0.3)); /* the writer waits at least this long */
	CHECK_OK(ct_rwlock_read_release(&rw));
	return 0;
}

/* The number after @p key ("\"ts\":", "\"dur\":", µs) in the first event
 * named @p name, or -1. */
static double event_field(const char *json, const char *name, const char *key)
{
	const char *p = strstr(json, name);
	if (!p)
		return -1;
	while (p > json && *p != '{')
		p--;
	const char *k = strstr(p, key);
	return k ? strtod(k + strlen(key), NULL) : -1;
}

/* The number after @p key in the line of @p text that starts with @p line. */
static double number_after(const char *text, const char *line, const char *key)
{
	const char *l = strstr(text, line);
	CHECK(l);
	const char *end = strchr(l, '\n');
	const char *k = strstr(l, key);
	CHECK(k && (!end || k < end));
	return strtod(k + strlen(key), NULL);
}

#define READERS_WAIT "\"wait rwlock (its readers) \\\"W\\\"\""

/* Failed before the fix: the hold began before the wait for the reader,
 * and lasted longer than it. Once the writer waits, the reader stays
 * 0.3 s more (a ct_sleep: at least that long); the writer then holds for a
 * ct_sleep of 1 ms, far less. */
TEST(rwlock_writer_hold_begins_when_the_readers_are_gone)
{
	char *trace = trace_and_profile("rw.json");
	CHECK_OK(ct_object_set_name(&rw, "W"));
	ct_event_init(&reader_in);
	ct_thread_t *r = start_named(read_a_while, NULL, "R");
	CHECK_OK(ct_event_wait(&reader_in, CT_FOREVER));
	ct_rwlock_write_acquire(&rw); /* waits for R to leave */
	CHECK_OK(ct_sleep(0.001));    /* a hold long enough to be a span */
	CHECK_OK(ct_rwlock_write_release(&rw));
	sh_join(r);
	CHECK_OK(ct_trace_write(trace));
	char *json = read_file(trace);
	double wait_ts = event_field(json, READERS_WAIT, "\"ts\":");
	double wait_dur = event_field(json, READERS_WAIT, "\"dur\":");
	double hold_ts = event_field(json, "\"hold rwlock \\\"W\\\"\"", "\"ts\":");
	CHECK(wait_ts >= 0 && hold_ts >= 0);
	CHECK(hold_ts >= wait_ts + wait_dur - 1); /* the JSON's µs are rounded to ns */
	free(json);
	unlink(trace);
	free(trace);
	char *prof = ht_report_text(ct_profile_report);
	double waited = number_after(prof, "rwlock \"W\":", "total wait ");
	double held = number_after(prof, "rwlock \"W\":", "held ");
	CHECK(waited >= 300);
	CHECK(held < waited);
	free(prof);
}

/* ---- the profile: waits that time out, joins ------------------------------- */

static int acquire_timing_out(void *arg)
{
	(void)arg;
	CHECK_RC(ct_lock_acquire_timeout(&lock_a, 0.2), CT_ETIMEDOUT);
	return 0;
}

static int acquire_timing_out_on_b(void *arg)
{
	(void)arg;
	CHECK_RC(ct_lock_acquire_timeout(&lock_b, 0.01), CT_ETIMEDOUT);
	return 0;
}

static int acquire_stopped(void *arg)
{
	(void)arg;
	CHECK_RC(ct_lock_acquire_timeout(&lock_a, 600), CT_ESTOPPED);
	return 0;
}

static ct_event_t may_end;

static int wait_to_end(void *arg)
{
	(void)arg;
	CHECK_OK(ct_event_wait(&may_end, CT_FOREVER));
	return 0;
}

static int do_nothing(void *arg)
{
	(void)arg;
	return 0;
}

/* Failed before the fix: "0 contended" and no total wait for the lock, and
 * no line for the joins. A wait that times out lasts at least its timeout
 * (0.2 s). */
TEST(profile_counts_waits_that_time_out_and_joins)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	CHECK_OK(ct_object_set_name(&lock_a, "L"));
	ct_lock_acquire(&lock_a);
	sh_join(start_named(acquire_timing_out, NULL, "U"));
	ct_thread_release(ht_stop_when_parked(acquire_stopped, NULL));
	CHECK_OK(ct_lock_release(&lock_a));
	/* A join that times out, then one that waits to the end. */
	ct_event_init(&may_end);
	ct_thread_t *t = start_named(wait_to_end, NULL, "waiter");
	CHECK_RC(ct_thread_join(t, 0.01), CT_ETIMEDOUT);
	ct_event_set(&may_end);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_release(t);
	char *prof = ht_report_text(ct_profile_report);
	CHECK_HAS(prof, "lock \"L\": 1 acquisitions, 2 contended, 1 timed out, 1 stopped,");
	CHECK(number_after(prof, "lock \"L\":", "total wait ") >= 200);
	CHECK_HAS(prof, "thread \"waiter\": 2 waits, total wait ");
	CHECK_HAS(prof, "thread \"U\": 1 waits,"); /* sh_join() joined it */
	free(prof);
}

/* What the profile leaves out: a try that found the lock taken (no wait),
 * a timed acquire and a join that closed a cycle (no wait either); a
 * lock only ever waited for in vain has its waits. A join is shown by the
 * name given to the handle, if any. */
static int acquire_a(void *arg)
{
	(void)arg;
	ct_lock_acquire(&lock_a);
	CHECK_OK(ct_lock_release(&lock_a));
	return 0;
}

TEST(profile_leaves_out_what_did_not_wait)
{
	ct_lock_acquire(&lock_b); /* before the profile: never counted */
	CHECK_OK(ct_debug_configure("deadlock,profile=/dev/null"));
	CHECK_OK(ct_object_set_name(&lock_a, "A"));
	CHECK_OK(ct_object_set_name(&lock_b, "B"));
	ct_lock_acquire(&lock_a);
	sh_join(start_named(acquire_timing_out_on_b, NULL, "U"));
	CHECK(!ct_lock_try_acquire(&lock_a));
	CHECK_RC(ct_lock_acquire_timeout(&lock_a, 30), CT_EDEADLK); /* held by this thread */
	ct_thread_t *t = start_named(acquire_a, NULL, "T");
	CHECK_OK(ct_object_set_name(t, "the handle"));
	ht_wait_parked_on(t, &lock_a);
	CHECK_RC(ct_thread_join(t, 30), CT_EDEADLK);
	CHECK_OK(ct_lock_release(&lock_a));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	char *prof = ht_report_text(ct_profile_report);
	CHECK_HAS(prof, "lock \"A\": 2 acquisitions, 1 contended,");
	CHECK_HAS(prof, "lock \"B\": 0 acquisitions, 1 contended, 1 timed out,");
	CHECK_HAS(prof, "thread \"the handle\": 1 waits,");
	free(prof);
	ct_thread_release(t);
	CHECK_OK(ct_lock_release(&lock_b));
}

/* Waits until @p t has ended (without joining it). */
static void wait_ended(ct_thread_t *t)
{
	while (ct_thread_is_alive(t))
		CHECK_OK(ct_sleep(0.001)); /* nothing to wait on but the flag */
}

/* A join needs no memory for its thread's name (the entry keeps a copy
 * of its own). */
TEST(profile_join_without_memory_names_its_thread)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	ct_thread_t *t = start_named(do_nothing, NULL, "unnamed");
	wait_ended(t);
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	ct_thread_release(t);
	char *prof = ht_report_text(ct_profile_report);
	CHECK_HAS(prof, "\nthread \"unnamed\": 1 waits,");
	free(prof);
}

#define PROFILED 3100 /* more than the 3072 objects profiled */

/* A join once the profile's table is full: counted as lost, as the rest. */
TEST(profile_join_with_the_table_full)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	ct_lock_t *locks = calloc(PROFILED, sizeof *locks);
	CHECK(locks);
	for (int i = 0; i < PROFILED; i++) {
		ct_lock_init(&locks[i]);
		ct_lock_acquire(&locks[i]);
		CHECK_OK(ct_lock_release(&locks[i]));
	}
	sh_join(start_named(do_nothing, NULL, "late"));
	char *prof = ht_report_text(ct_profile_report);
	CHECK(!strstr(prof, "late"));
	CHECK_HAS(prof, "updates for objects beyond the table's room not counted");
	free(prof);
	free(locks);
}

/* Destroyed without memory to keep its name: the profile keeps the entry
 * as it was (by address), the trace names what it can. */
TEST(names_of_destroyed_objects_without_memory)
{
	char *trace = trace_and_profile("nomem.json");
	ct_lock_t l;
	named_lock_held(&l, "x");
	ct__fault_set(CT__FAULT_ALLOC, 0, 2); /* the profile's table of the destroyed, the copy */
	ct_lock_destroy(&l);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	named_lock_held(&l, "y");
	ct__fault_set(CT__FAULT_ALLOC, 1, 1); /* the trace's copy, after that table */
	ct_lock_destroy(&l);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	char *prof = ht_report_text(ct_profile_report);
	CHECK_HAS(prof, "lock \"y\": 2 acquisitions"); /* x's entry was not retired */
	free(prof);
	CHECK_OK(ct_trace_write(trace));
	char *json = read_file(trace);
	CHECK(!strstr(json, "lock \\\"x\\\"") && !strstr(json, "lock \\\"y\\\""));
	free(json);
	unlink(trace);
	free(trace);
}

/* Three threads set up in turn in the same memory: three entries, each
 * under its own name. */
TEST(profile_joins_of_three_threads_at_one_address)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	static ct_thread_t t;
	const char *names[] = {"one", "two", "three"};
	for (int i = 0; i < 3; i++) {
		ct_thread_opts o = {0};
		o.name = names[i];
		CHECK_OK(ct_thread_init(&t, do_nothing, NULL, &o));
		CHECK_OK(ct_thread_start(&t));
		wait_ended(&t);
		CHECK_OK(ct_thread_join(&t, CT_FOREVER));
		ct_thread_destroy(&t);
	}
	char *prof = ht_report_text(ct_profile_report);
	CHECK_HAS(prof, "thread \"one\": 1 waits,");
	CHECK_HAS(prof, "thread \"two\": 1 waits,");
	CHECK_HAS(prof, "thread \"three\": 1 waits,");
	free(prof);
}

/* ---- names of objects destroyed before the writing -------------------------- */

/* Failed before the fix: "hold lock 0x..." and "lock 0x...: ...". A new
 * object at the same address is not given the old one's name. */
TEST(trace_and_profile_name_an_object_destroyed_before)
{
	char *trace = trace_and_profile("names.json");
	ct_lock_t l;
	named_lock_held(&l, "my lock");
	ct_lock_destroy(&l);
	CHECK_EQ(ct_object_get_name(&l, NULL, 0), 0); /* forgotten for lookups */
	ct_lock_init(&l);			      /* another lock, same address */
	ct_lock_acquire(&l);
	CHECK_OK(ct_sleep(0.001));
	CHECK_OK(ct_lock_release(&l));
	CHECK_OK(ct_trace_write(trace));
	char *json = read_file(trace);
	CHECK_EQ(ht_count(json, "\"hold lock \\\"my lock\\\"\""), 1);
	CHECK_EQ(ht_count(json, "\"hold lock 0x"), 1);
	free(json);
	char *prof = ht_report_text(ct_profile_report);
	CHECK_HAS(prof, "lock \"my lock\": 1 acquisitions");
	CHECK_HAS(prof, "\nlock 0x");
	free(prof);
	/* The second lock named and destroyed too: each span by its own
	 * lock's name, each lock its own entry. */
	CHECK_OK(ct_object_set_name(&l, "second"));
	ct_lock_destroy(&l);
	CHECK_OK(ct_trace_write(trace));
	json = read_file(trace);
	CHECK_EQ(ht_count(json, "\"hold lock \\\"my lock\\\"\""), 1);
	CHECK_EQ(ht_count(json, "\"hold lock \\\"second\\\"\""), 1);
	free(json);
	unlink(trace);
	free(trace);
	prof = ht_report_text(ct_profile_report);
	CHECK_HAS(prof, "lock \"my lock\": 1 acquisitions");
	CHECK_HAS(prof, "lock \"second\": 1 acquisitions");
	free(prof);
}

/* A named object destroyed before the profile has a table, or without an
 * entry in it: nothing to keep. */
TEST(destroying_a_named_object_the_profile_never_saw)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	ct_lock_t l;
	ct_lock_init(&l);
	CHECK_OK(ct_object_set_name(&l, "unseen"));
	ct_lock_destroy(&l); /* no table yet */
	ct_lock_acquire(&lock_a);
	CHECK_OK(ct_lock_release(&lock_a));
	ct_lock_init(&l);
	CHECK_OK(ct_object_set_name(&l, "unseen"));
	ct_lock_destroy(&l); /* a table, no entry */
	char *prof = ht_report_text(ct_profile_report);
	CHECK(!strstr(prof, "unseen"));
	free(prof);
}

/* ---- a join's name, and the profile's room ---------------------------------- */

static ct_event_t rename_now, renamed, may_stop;
static atomic_int renames_done;

/* Renames itself each time the main thread says so ("name-1", "name-2"),
 * then renames itself without pause until told to stop. */
static int rename_on_demand(void *arg)
{
	(void)arg;
	char name[64];
	for (int i = 1; i <= 2; i++) {
		CHECK_OK(ct_event_wait(&rename_now, CT_FOREVER));
		ct_event_clear(&rename_now);
		snprintf(name, sizeof name, "name-%d", i);
		CHECK_OK(ct_thread_set_name(ct_current_thread(), name));
		ct_event_set(&renamed);
	}
	for (int i = 0; !ct_event_is_set(&may_stop); i++) {
		snprintf(name, sizeof name, "renamed-%d-with-a-name-long-enough-for-the-heap", i);
		CHECK_OK(ct_thread_set_name(ct_current_thread(), name));
		atomic_fetch_add(&renames_done, 1);
	}
	CHECK_OK(ct_thread_set_name(ct_current_thread(), "last"));
	return 0;
}

/* A thread that renames itself while another joins it with a timeout:
 * one entry, under the name it had at the last join. Failed before the
 * fix: three entries ("name-1", "name-2" and the last name) in the normal
 * build; under AddressSanitizer, a heap-use-after-free in the join's copy
 * of a name the thread had just replaced. */
TEST(profile_join_of_a_thread_renaming_itself)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	ct_event_init(&rename_now);
	ct_event_init(&renamed);
	ct_event_init(&may_stop);
	ct_thread_t *t = start_named(rename_on_demand, NULL, "name-0");
	for (int i = 0; i < 2; i++) {
		CHECK_RC(ct_thread_join(t, 0.001), CT_ETIMEDOUT);
		ct_event_set(&rename_now);
		CHECK_OK(ct_event_wait(&renamed, CT_FOREVER));
		ct_event_clear(&renamed);
	}
	/* Timed joins while the thread renames itself without pause. */
	while (atomic_load(&renames_done) < 1000)
		CHECK_RC(ct_thread_join(t, 1e-6), CT_ETIMEDOUT);
	for (int i = 0; i < 2000; i++)
		CHECK_RC(ct_thread_join(t, 1e-6), CT_ETIMEDOUT);
	ct_event_set(&may_stop);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_release(t);
	char *prof = ht_report_text(ct_profile_report);
	CHECK_EQ(ht_count(prof, "\nthread "), 1);
	CHECK_HAS(prof, "\nthread \"last\": ");
	free(prof);
}

#define DESTROYED 4000 /* more named objects destroyed than the table has room */

/* Named objects created and destroyed by the thousand: a live object is
 * still counted, and each destroyed one's figures stay under its name
 * (two of one name on one line).
 * Failed before the fix: no line for "hot" ("2056 updates for objects
 * beyond the table's room not counted": 3072 slots held by dead
 * objects). */
TEST(profile_counts_a_live_object_after_many_destroyed)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	for (int i = 0; i < DESTROYED; i++) {
		ct_lock_t l;
		char name[32];
		ct_lock_init(&l);
		snprintf(name, sizeof name, "conn-%d", i);
		CHECK_OK(ct_object_set_name(&l, name));
		ct_lock_acquire(&l);
		CHECK_OK(ct_lock_release(&l));
		ct_lock_destroy(&l);
	}
	for (int i = 0; i < 2; i++) { /* two of one name: one line */
		ct_lock_t l;
		ct_lock_init(&l);
		CHECK_OK(ct_object_set_name(&l, "pooled"));
		ct_lock_acquire(&l);
		CHECK_OK(ct_lock_release(&l));
		ct_lock_destroy(&l);
	}
	CHECK_OK(ct_object_set_name(&lock_a, "hot"));
	for (int i = 0; i < 100; i++) {
		ct_lock_acquire(&lock_a);
		CHECK_OK(ct_lock_release(&lock_a));
	}
	char *prof = ht_report_text(ct_profile_report);
	CHECK_HAS(prof, "\nlock \"hot\": 100 acquisitions,");
	CHECK_HAS(prof, "\nlock \"conn-0\": 1 acquisitions,");
	CHECK_HAS(prof, "\nlock \"conn-3999\": 1 acquisitions,");
	CHECK_HAS(prof, "\nlock \"pooled\" (2 destroyed): 2 acquisitions,");
	CHECK(!strstr(prof, "not counted"));
	free(prof);
}

/* ---- the profile's slots freed by destroys, and its table of the destroyed - */

#define CANDIDATES (1 << 17) /* locks to pick from: about 32 for each slot */
#define PROF_SLOTS_SEEN 4096 /* the profile's slots (record.c) */

static ct_lock_t *candidates;

/* The slot the profile's search for @p obj begins at (record.c's
 * hash_ptr). */
static unsigned home_of(const void *obj)
{
	return (unsigned)(((uint64_t)(uintptr_t)obj * UINT64_C(0x9E3779B97F4A7C15)) >> 52);
}

/* A lock not taken before whose entry's search begins at slot @p home,
 * named @p name and taken once. */
static ct_lock_t *touched_at(unsigned home, const char *name)
{
	for (int i = 0; i < CANDIDATES; i++) {
		ct_lock_t *l = &candidates[i];
		if (home_of(l) != home || ct_object_get_name(l, NULL, 0))
			continue;
		ct_lock_init(l);
		CHECK_OK(ct_object_set_name(l, name));
		ct_lock_acquire(l);
		CHECK_OK(ct_lock_release(l));
		return l;
	}
	ht_fail(__FILE__, __LINE__, "no candidate lock for slot %u", home);
	return NULL;
}

static void take(ct_lock_t *l)
{
	ct_lock_acquire(l);
	CHECK_OK(ct_lock_release(l));
}

/* A destroy empties its object's slot; the entries after it in its run
 * move back when their search would no longer find them, and stay when it
 * still would (within the table and across its end). Each live lock taken
 * again is still counted on one line: an entry lost to a wrong move would
 * start anew (one line of 1 acquisitions and another of the rest). */
TEST(profile_destroys_keep_the_entries_after_theirs_found)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	candidates = calloc(CANDIDATES, sizeof *candidates);
	CHECK(candidates);
	/* b1 after a1, from a1's slot: it moves back. */
	ct_lock_t *a1 = touched_at(100, "a1"), *b1 = touched_at(100, "b1");
	ct_lock_destroy(a1);
	take(b1);
	/* b2 in its own slot after a2's: it stays. */
	ct_lock_t *a2 = touched_at(200, "a2"), *b2 = touched_at(201, "b2");
	ct_lock_destroy(a2);
	take(b2);
	/* y3, from the last slot, past w3 in the first: it moves back into w3's,
	 * then across the end into z3's. */
	ct_lock_t *z3 = touched_at(PROF_SLOTS_SEEN - 1, "z3"), *w3 = touched_at(0, "w3");
	ct_lock_t *y3 = touched_at(PROF_SLOTS_SEEN - 1, "y3");
	ct_lock_destroy(w3);
	take(y3);
	ct_lock_destroy(z3);
	take(y3);
	/* v4 in its own slot, the first, after y3's in the last: it stays. */
	ct_lock_t *v4 = touched_at(0, "v4");
	ct_lock_destroy(y3);
	take(v4);
	/* s5 and r5 from the last slot after t5's, r5 past the end (after v4):
	 * both stay. */
	ct_lock_t *t5 = touched_at(PROF_SLOTS_SEEN - 2, "t5"),
		  *s5 = touched_at(PROF_SLOTS_SEEN - 1, "s5");
	ct_lock_t *r5 = touched_at(PROF_SLOTS_SEEN - 1, "r5");
	ct_lock_destroy(t5);
	take(r5);
	take(s5);
	char *prof = ht_report_text(ct_profile_report);
	CHECK_HAS(prof, "\nlock \"b1\": 2 acquisitions,");
	CHECK_HAS(prof, "\nlock \"b2\": 2 acquisitions,");
	CHECK_HAS(prof, "\nlock \"y3\": 3 acquisitions,");
	CHECK_HAS(prof, "\nlock \"v4\": 2 acquisitions,");
	CHECK_HAS(prof, "\nlock \"r5\": 2 acquisitions,");
	CHECK_HAS(prof, "\nlock \"s5\": 2 acquisitions,");
	CHECK_HAS(prof, "\nlock \"t5\": 1 acquisitions,");
	CHECK_EQ(ht_count(prof, " 1 acquisitions,"), 5); /* a1, a2, z3, w3, t5 */
	free(prof);
	ct_lock_t *live[] = {b1, b2, v4, r5, s5};
	for (size_t i = 0; i < sizeof live / sizeof *live; i++)
		ct_lock_destroy(live[i]);
	free(candidates);
}

/* The slot of the table of the destroyed (256 slots at first) the search
 * for @p name of @p kind begins at (record.c's hash_name). */
static unsigned gone_home(const char *name, unsigned kind)
{
	uint64_t h = UINT64_C(14695981039346656037) ^ kind;
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * UINT64_C(1099511628211);
	return (unsigned)((h * UINT64_C(0x9E3779B97F4A7C15)) >> 56);
}

/* A lock and an rlock of one name whose searches in the table of the
 * destroyed begin at the same slot: two lines, each its own kind's. */
TEST(profile_keeps_destroyed_objects_of_one_name_and_two_kinds_apart)
{
	CHECK_OK(ct_debug_configure("profile=/dev/null"));
	char name[32];
	int i = 0;
	do
		snprintf(name, sizeof name, "c-%d", i++);
	while (gone_home(name, CT__OBJ_LOCK) != gone_home(name, CT__OBJ_RLOCK));
	ct_lock_t l;
	ct_lock_init(&l);
	CHECK_OK(ct_object_set_name(&l, name));
	take(&l);
	ct_lock_destroy(&l);
	ct_rlock_t r;
	ct_rlock_init(&r);
	CHECK_OK(ct_object_set_name(&r, name));
	for (int k = 0; k < 2; k++) {
		ct_rlock_acquire(&r);
		CHECK_OK(ct_rlock_release(&r));
	}
	ct_rlock_destroy(&r);
	char *prof = ht_report_text(ct_profile_report);
	char line[64];
	snprintf(line, sizeof line, "\nlock \"%s\": 1 acquisitions,", name);
	CHECK_HAS(prof, line);
	snprintf(line, sizeof line, "\nrlock \"%s\": 2 acquisitions,", name);
	CHECK_HAS(prof, line);
	CHECK(!strstr(prof, "destroyed)"));
	free(prof);
}

/* ---- the trace's names of destroyed objects --------------------------------- */

#define TRACE_NAMED 300 /* more names and destroyed objects than 256 */

/* Hundreds of named objects destroyed, then their names given in turn to
 * one more lock, destroyed each time: the tables of names and of destroyed
 * objects grow (once without memory for more buckets: longer chains), and
 * each span keeps its lock's name. */
TEST(trace_names_hundreds_of_destroyed_objects)
{
	char *trace = traced("", "many.json");
	ct_lock_t *locks = calloc(TRACE_NAMED, sizeof *locks);
	CHECK(locks);
	char name[32];
	for (int i = 0; i < TRACE_NAMED; i++) {
		snprintf(name, sizeof name, "many-%d", i);
		named_lock_held(&locks[i], name);
		if (i == 256) /* the names' 257th: its table's buckets, after the copy */
			ct__fault_set(CT__FAULT_ALLOC, 1, 1);
		ct_lock_destroy(&locks[i]);
		ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	}
	ct_lock_t other; /* the names found again, at another address */
	for (int i = 0; i < TRACE_NAMED; i++) {
		snprintf(name, sizeof name, "many-%d", i);
		ct_lock_init(&other);
		CHECK_OK(ct_object_set_name(&other, name));
		ct_lock_destroy(&other);
	}
	char *json = trace_written(trace);
	CHECK_EQ(ht_count(json, "\"hold lock \\\"many-"), TRACE_NAMED);
	CHECK_EQ(ht_count(json, "\"hold lock \\\"many-0\\\"\""), 1);
	CHECK_EQ(ht_count(json, "\"hold lock \\\"many-256\\\"\""), 1);
	CHECK_EQ(ht_count(json, "\"hold lock \\\"many-299\\\"\""), 1);
	CHECK(!strstr(json, "\"hold lock 0x"));
	free(json);
	free(locks);
}

/* Five locks in turn at one address, named and destroyed: each span by its
 * own lock's name, but the fifth's, destroyed without memory for one more
 * note, by its address. */
TEST(trace_names_objects_destroyed_in_turn_at_one_address)
{
	char *trace = traced("", "turns.json");
	ct_lock_t l;
	char name[32];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "turn-%d", i);
		named_lock_held(&l, name);
		if (i == 4) /* the notes' room, after the name's copy */
			ct__fault_set(CT__FAULT_ALLOC, 1, 1);
		ct_lock_destroy(&l);
		ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	}
	char *json = trace_written(trace);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof name, "\"hold lock \\\"turn-%d\\\"\"", i);
		CHECK_EQ(ht_count(json, name), 1);
	}
	CHECK(!strstr(json, "turn-4"));
	CHECK_EQ(ht_count(json, "\"hold lock 0x"), 1);
	free(json);
}

/* Without memory for the first buckets of the names' table, then of the
 * destroyed objects': those two locks' spans go by their addresses; a
 * third, once there is memory, by its name. */
TEST(trace_without_memory_for_its_first_tables)
{
	char *trace = traced("", "tables.json");
	ct_lock_t l[3];
	named_lock_held(&l[0], "first");
	ct__fault_set(CT__FAULT_ALLOC, 1, 1); /* the names' buckets, after the copy */
	ct_lock_destroy(&l[0]);
	named_lock_held(&l[1], "second");
	/* the destroyed objects' buckets, after the name's copy and buckets and
	 * the entry */
	ct__fault_set(CT__FAULT_ALLOC, 3, 1);
	ct_lock_destroy(&l[1]);
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	named_lock_held(&l[2], "third");
	ct_lock_destroy(&l[2]);
	char *json = trace_written(trace);
	CHECK(!strstr(json, "first") && !strstr(json, "second"));
	CHECK_EQ(ht_count(json, "\"hold lock \\\"third\\\"\""), 1);
	CHECK_EQ(ht_count(json, "\"hold lock 0x"), 2);
	free(json);
}

/* ---- promises of debug.h no case had tried ---------------------------------- */

static ct_thread_t *blocked_on_b;
static atomic_int join_rc;

static int acquire_b(void *arg)
{
	(void)arg;
	ct_lock_acquire(&lock_b);
	CHECK_OK(ct_lock_release(&lock_b));
	return 0;
}

/* Holds A and joins a thread that waits for B, with a timeout. */
static int hold_a_join_timed(void *arg)
{
	(void)arg;
	ct_lock_acquire(&lock_a);
	atomic_store(&join_rc, ct_thread_join(blocked_on_b, 600));
	CHECK_OK(ct_lock_release(&lock_a));
	return 0;
}

/* A plain acquire closing a cycle whose other wait is a timed join:
 * main -> A (held by T) -> T joins U (timed) -> U waits for B (held by
 * main). Reported once, naming the join, and the main thread keeps
 * waiting until the join ends (stopped here, as its timeout would). */
TEST(plain_acquire_closing_a_cycle_a_timed_join_breaks_keeps_waiting)
{
	backoff_log = configure_logged("deadlock", "join.log");
	CHECK_OK(ct_object_set_name(&lock_a, "A"));
	CHECK_OK(ct_object_set_name(&lock_b, "B"));
	ct_lock_acquire(&lock_b);
	blocked_on_b = start_named(acquire_b, NULL, "U");
	ht_wait_parked_on(blocked_on_b, &lock_b);
	backer = start_named(hold_a_join_timed, NULL, "T");
	dump_until("joining thread \"U\"");
	ct_thread_t *rescuer = sh_start(break_the_timed_wait, NULL);
	ct_lock_acquire(&lock_a); /* T lets A go when its join ends */
	CHECK_RC(atomic_load(&join_rc), CT_ESTOPPED);
	CHECK_OK(ct_lock_release(&lock_a));
	CHECK_OK(ct_lock_release(&lock_b));
	sh_join(rescuer);
	sh_join(backer);
	sh_join(blocked_on_b);
	char *text = read_file(backoff_log);
	CHECK_EQ(ht_count(text, "a cycle of 3 threads"), 1);
	CHECK_HAS(text, "thread \"T\" joins thread \"U\"");
	CHECK_HAS(text, "not a certain deadlock: the timed wait of thread \"T\" for thread ");
	CHECK(!strstr(text, "aborting"));
	free(text);
	unlink(backoff_log);
	free(backoff_log);
}

static ct_rlock_t cond_rlock;

/* As hold_m_wait_on_c(), on a condition over an RLock. */
static int hold_m_wait_on_rlock_c(void *arg)
{
	(void)arg;
	ct_lock_acquire(&held_lock);
	ct_rlock_acquire(&cond_rlock);
	CHECK_OK(ct_condition_wait(&cond, CT_FOREVER));
	CHECK_OK(ct_rlock_release(&cond_rlock));
	CHECK_OK(ct_lock_release(&held_lock));
	return 0;
}

/* A cycle through a Condition over an RLock: the notified waiter is moved
 * onto the RLock's inner Lock, which the walk follows as the RLock its
 * holder holds. */
TEST(timed_acquire_closing_a_cycle_through_an_rlock_condition_returns_edeadlk)
{
	char *log = configure_logged("deadlock", "rcond.log");
	ct_rlock_init(&cond_rlock);
	ct_condition_init_rlock(&cond, &cond_rlock);
	CHECK_OK(ct_object_set_name(&cond_rlock, "R"));
	CHECK_OK(ct_object_set_name(&held_lock, "M"));
	CHECK_OK(ct_object_set_name(&cond, "C"));
	ct_thread_t *w = start_named(hold_m_wait_on_rlock_c, NULL, "W");
	dump_until("waiting on condition \"C\"");
	ct_rlock_acquire(&cond_rlock);
	CHECK_EQ(ct_condition_notify(&cond, 1), 1);
	CHECK_RC(ct_lock_acquire_timeout(&held_lock, 30), CT_EDEADLK);
	CHECK_OK(ct_rlock_release(&cond_rlock));
	sh_join(w);
	char *text = logged(log);
	CHECK_HAS(text, "a cycle of 2 threads");
	CHECK_HAS(text, "thread \"W\" waits for rlock \"R\"");
	CHECK_HAS(text, "(to take it back after its wait on condition \"C\")");
	CHECK_HAS(text, "returns CT_EDEADLK");
	free(text);
}
