/* Thread dumps and the dump settings (cthreading/debug.h): what a dump
 * shows after the recording was switched off (and on again), the kinds,
 * depths and call sites of what a thread holds, the holder of a GIL a
 * thread waits for, a dump by signal in a fork child, and the `dump=`
 * setting's signal names and the handler `off` gives back. Each case turns
 * debugging on for its own process. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cthreading/condition.h"
#include "cthreading/debug.h"
#include "cthreading/gil.h"
#include "cthreading/rlock.h"
#include "cthreading/rwlock.h"
#include "cthreading/thread.h"
#include "debug/debug_internal.h"
#include "debug_helpers.h"
#include "fork_helpers.h"
#include "sync_helpers.h"

#define CHECK_HAS_NOT(text, needle)                                                            \
	do {                                                                                   \
		if (strstr((text), (needle)))                                                  \
			ht_fail(__FILE__, __LINE__, "\"%s\" found in:\n%s", (needle), (text)); \
	} while (0)

/* ---- the records after `off` ------------------------------------------- */

static ct_lock_t held = CT_LOCK_INIT;
static ct_event_t first, back;
static atomic_bool go_on;

/* Runs on, calling nothing of the library: no hook refreshes its record. */
static void run_until_told(void)
{
	while (!atomic_load(&go_on))
		sched_yield();
}

/* Takes `held` and waits on `first`, both recorded; lets both go while the
 * recording is off, says so on `back`, then runs. */
static int hold_then_wait(void *arg)
{
	(void)arg;
	ct_lock_acquire(&held);
	CHECK_OK(ct_event_wait(&first, CT_FOREVER));
	ct_lock_release(&held);
	ct_event_set(&back);
	run_until_told();
	return 0;
}

static void init_events(void)
{
	ct_event_init(&first);
	ct_event_init(&back);
	CHECK_OK(ct_object_set_name(&first, "first"));
	CHECK_OK(ct_object_set_name(&held, "held"));
}

/* Starts hold_then_wait() and lets it wait on `first` (recorded), then
 * switches the recording off and lets the thread go on. */
static ct_thread_t *waited_and_released_while_off(void)
{
	init_events();
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_thread_t *t = sh_start(hold_then_wait, NULL);
	dump_until("waiting on event \"first\"");
	CHECK_OK(ct_debug_configure("off"));
	ct_event_set(&first);
	CHECK_OK(ct_event_wait(&back, CT_FOREVER));
	return t;
}

/* Neither the wait nor the hold is current after `off`: the thread let
 * both go unseen. Failed before the fix: the dump said the thread waited
 * on "first" and held "held". */
TEST(dump_after_off_shows_no_stale_wait_or_hold)
{
	ct_thread_t *t = waited_and_released_while_off();
	char *text = ht_report_text(ct_dump);
	CHECK_HAS(text, "waits and holds are not recorded");
	CHECK_HAS_NOT(text, "event \"first\"");
	CHECK_HAS_NOT(text, "lock \"held\"");
	free(text);
	atomic_store(&go_on, true);
	sh_join(t);
}

/* Nor once the recording is on again: the thread's wait on "first" ended
 * while it was off. Failed before the fix: the dump said the thread still
 * waited on "first". */
TEST(dump_after_off_and_on_shows_no_stale_wait)
{
	ct_thread_t *t = waited_and_released_while_off();
	CHECK_OK(ct_debug_configure("deadlock"));
	char *text = ht_report_text(ct_dump);
	CHECK_HAS_NOT(text, "waits and holds are not recorded");
	CHECK_HAS_NOT(text, "event \"first\"");
	CHECK_HAS_NOT(text, "lock \"held\"");
	free(text);
	atomic_store(&go_on, true);
	sh_join(t);
}

static ct_event_t second;

/* Waits on `first` (recorded), then, woken while the recording is off, on
 * `second`: a wait the hooks did not see begin. */
static int wait_twice(void *arg)
{
	(void)arg;
	CHECK_OK(ct_event_wait(&first, CT_FOREVER));
	CHECK_OK(ct_event_wait(&second, CT_FOREVER));
	return 0;
}

/* A wait that began while nothing recorded shows where the thread is
 * parked, even once the recording is on again, and never the wait before
 * it. Failed before the fix: the dump said the thread waited on "first"
 * (after 30 s of polling). */
TEST(wait_begun_while_off_shows_where_it_is_parked)
{
	init_events();
	ct_event_init(&second);
	CHECK_OK(ct_object_set_name(&second, "second"));
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_thread_t *t = sh_start(wait_twice, NULL);
	dump_until("waiting on event \"first\"");
	CHECK_OK(ct_debug_configure("off"));
	ct_event_set(&first);
	dump_until("parked on object \"second\""); /* it parked while nothing recorded */
	CHECK_OK(ct_debug_configure("deadlock"));
	char *text = ht_report_text(ct_dump);
	CHECK_HAS(text,
		  "parked on object \"second\" (its wait began while waits were not recorded");
	CHECK_HAS_NOT(text, "event \"first\"");
	free(text);
	ct_event_set(&second);
	sh_join(t);
}

static ct_lock_t lock_a = CT_LOCK_INIT, cond_lock = CT_LOCK_INIT;
static ct_condition_t cond;
static ct_event_t holding;
static atomic_bool let_go;

/* Waits on `cond` (recorded), is notified and takes `cond_lock` back
 * while the recording is off, then, once it is on again, takes `lock_a`
 * without waiting: no hook has ended its condition wait. */
static int notified_while_off(void *arg)
{
	(void)arg;
	ct_lock_acquire(&cond_lock);
	CHECK_OK(ct_condition_wait(&cond, CT_FOREVER));
	ct_lock_release(&cond_lock);
	ct_event_set(&back);
	run_until_told();
	ct_lock_acquire(&lock_a);
	ct_event_set(&holding);
	while (!atomic_load(&let_go)) /* running: a wait would be recorded afresh */
		sched_yield();
	ct_lock_release(&lock_a);
	return 0;
}

/* A condition's wait that ended while the recording was off is not
 * followed to the lock it took back: no cycle through it. Failed before
 * the fix: the main thread, holding `cond_lock` and asking for `lock_a`
 * (held by the thread), got CT_EDEADLK for a cycle through the thread's
 * ended wait. */
TEST(condition_wait_ended_while_off_closes_no_cycle)
{
	init_events();
	ct_event_init(&holding);
	ct_condition_init(&cond, &cond_lock);
	CHECK_OK(ct_object_set_name(&cond, "C"));
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_thread_t *t = sh_start(notified_while_off, NULL);
	dump_until("waiting on condition \"C\"");
	ct_lock_acquire(&cond_lock);
	CHECK_EQ(ct_condition_notify(&cond, 1), 1); /* recorded: moved onto cond_lock */
	CHECK_OK(ct_debug_configure("off"));
	ct_lock_release(&cond_lock);
	CHECK_OK(ct_event_wait(&back, CT_FOREVER));
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_lock_acquire(&cond_lock);
	atomic_store(&go_on, true);
	CHECK_OK(ct_event_wait(&holding, CT_FOREVER));
	CHECK_RC(ct_lock_acquire_timeout(&lock_a, 0.05), CT_ETIMEDOUT);
	char *text = ht_report_text(ct_dump);
	CHECK_HAS(text, "No deadlock found.");
	free(text);
	ct_lock_release(&cond_lock);
	atomic_store(&let_go, true);
	sh_join(t);
}

static int wait_on_cond(void *arg)
{
	(void)arg;
	ct_lock_acquire(&cond_lock);
	CHECK_OK(ct_condition_wait(&cond, CT_FOREVER));
	ct_lock_release(&cond_lock);
	return 0;
}

static int take_cond_lock_and_end(void *arg)
{
	(void)arg;
	ct_lock_acquire(&cond_lock); /* a Lock may end held; any thread may release it */
	return 0;
}

/* True while a live record holds `cond_lock`: a thread's record ends
 * after its join returns (its key's destructor). */
static bool cond_lock_hold_recorded(void)
{
	bool found = false;
	ct__rawlock_lock(&dbg.threads_lock);
	/* Acquire: the list of records (debug_internal.h). */
	for (struct dthread *d = atomic_load_explicit(&dbg.threads, memory_order_acquire); d;
	     d = d->next)
		/* Relaxed: a snapshot (debug_internal.h). */
		found |= atomic_load_explicit(&d->live, memory_order_relaxed) &&
			 ct__dbg_held_slot(d, &cond_lock) != NULL;
	ct__rawlock_unlock(&dbg.threads_lock);
	return found;
}

/* A notified waiter, its wait recorded, whose lock's holder is not known
 * (it ended holding it): the walk stops there, no cycle. */
TEST(a_notified_waiter_whose_lock_holder_ended)
{
	ct_condition_init(&cond, &cond_lock);
	CHECK_OK(ct_object_set_name(&cond, "C"));
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_thread_t *w = sh_start(wait_on_cond, NULL);
	dump_until("waiting on condition \"C\"");
	sh_join(sh_start(take_cond_lock_and_end, NULL));
	while (cond_lock_hold_recorded())
		sched_yield(); /* its record ends on its own time */
	CHECK_EQ(ct_condition_notify(&cond, 1), 1);
	char *text = ht_report_text(ct_dump);
	CHECK_HAS(text, "No deadlock found.");
	free(text);
	ct_lock_release(&cond_lock);
	sh_join(w);
}

/* ---- kinds, depths and sites -------------------------------------------- */

/* Not static, so that the dump can name them (ENABLE_EXPORTS), and not
 * inlined, so that the call sites are theirs. */
__attribute__((noinline)) void wait_on_rlock_condition(ct_condition_t *c);
__attribute__((noinline)) void wait_on_lock_condition(ct_condition_t *c);
__attribute__((noinline)) bool try_write_side(ct_rwlock_t *rw);

void wait_on_rlock_condition(ct_condition_t *c)
{
	CHECK_RC(ct_condition_wait(c, 0.001), CT_ETIMEDOUT);
}

void wait_on_lock_condition(ct_condition_t *c)
{
	CHECK_RC(ct_condition_wait(c, 0.001), CT_ETIMEDOUT);
}

bool try_write_side(ct_rwlock_t *rw)
{
	bool ok = ct_rwlock_write_try_acquire(rw);
	__asm__ volatile("" ::: "memory"); /* no tail call: the site is this function's */
	return ok;
}

/* An RLock taken back by a Condition's wait is an RLock, with its depth,
 * taken where the program called the wait. Failed before the fix: "holds
 * lock "R", taken at" a place inside the library. */
TEST(rlock_taken_back_by_a_condition_shows_kind_depth_and_site)
{
	static ct_rlock_t r;
	static ct_condition_t c;
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_rlock_init(&r);
	ct_condition_init_rlock(&c, &r);
	CHECK_OK(ct_object_set_name(&r, "R"));
	ct_rlock_acquire(&r);
	ct_rlock_acquire(&r);
	wait_on_rlock_condition(&c);
	char *text = ht_report_text(ct_dump);
	CHECK_HAS(text, "holds rlock \"R\", depth 2, taken\n        at wait_on_rlock_condition+");
	CHECK_EQ(ht_count(text, "holds "), 1);
	free(text);
	CHECK_OK(ct_rlock_release(&r));
	CHECK_OK(ct_rlock_release(&r));
	text = ht_report_text(ct_dump);
	CHECK_HAS_NOT(text, "holds ");
	free(text);
}

/* A Lock taken back by a Condition's wait: where the program called the
 * wait. Failed before the fix: a site inside the library. */
TEST(lock_taken_back_by_a_condition_shows_the_callers_site)
{
	static ct_lock_t l = CT_LOCK_INIT;
	static ct_condition_t c;
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_condition_init(&c, &l);
	CHECK_OK(ct_object_set_name(&l, "L"));
	ct_lock_acquire(&l);
	wait_on_lock_condition(&c);
	char *text = ht_report_text(ct_dump);
	CHECK_HAS(text, "holds lock \"L\", taken\n        at wait_on_lock_condition+");
	free(text);
	ct_lock_release(&l);
}

/* A write side taken by a try is the RWLock's write side, taken where the
 * program tried. Failed before the fix: "holds lock "W"", at a site
 * inside the library. */
TEST(rwlock_write_try_shows_the_write_side_and_site)
{
	static ct_rwlock_t w = CT_RWLOCK_INIT;
	CHECK_OK(ct_debug_configure("deadlock"));
	CHECK_OK(ct_object_set_name(&w, "W"));
	CHECK(try_write_side(&w));
	CHECK(!try_write_side(&w)); /* held: a second try fails, and adds no hold */
	char *text = ht_report_text(ct_dump);
	CHECK_HAS(text, "holds rwlock \"W\", write side, taken\n        at try_write_side+");
	CHECK_EQ(ht_count(text, "holds "), 1);
	free(text);
	CHECK_OK(ct_rwlock_write_release(&w));
	text = ht_report_text(ct_dump);
	CHECK_HAS_NOT(text, "holds ");
	free(text);
	/* A try that fails (a reader inside) leaves nothing held either. */
	CHECK(ct_rwlock_read_try_acquire(&w));
	CHECK(!try_write_side(&w));
	text = ht_report_text(ct_dump);
	CHECK_HAS_NOT(text, "holds ");
	free(text);
	CHECK_OK(ct_rwlock_read_release(&w));
}

/* ---- a GIL's holder ------------------------------------------------------ */

static ct_gil_t gil;

/* Runs under the GIL until the test has seen it wait for it. The test's
 * dumps may give the GIL up (a dump that parks on a lock releases it, as
 * every sleep does), and this thread may then run: it yields the GIL back
 * until then, and so waits for it again. Done with only `nothing`, that
 * thread could end before any dump saw it wait (once in a TSan run). */
static atomic_bool gil_wait_seen;

static int yield_until_seen(void *arg)
{
	while (!atomic_load(&gil_wait_seen))
		CHECK(ct_gil_yield(arg) >= 0);
	return 0;
}

/* A thread waiting for a GIL is shown who holds it. Failed before the
 * fix: "waiting on GIL "G" for 0.000 s" and nothing more. */
TEST(gil_wait_shows_its_holder)
{
	CHECK_OK(ct_debug_configure("deadlock"));
	ct_gil_init(&gil);
	CHECK_OK(ct_object_set_name(&gil, "G"));
	CHECK_OK(ct_gil_acquire(&gil));
	ct_thread_opts o = {.name = "T", .gil = &gil};
	ct_thread_t *t;
	atomic_store(&gil_wait_seen, false);
	CHECK_OK(ct_thread_new(&t, yield_until_seen, &gil, &o));
	CHECK_OK(ct_thread_start(t));
	dump_until("waiting on GIL \"G\"");
	char *text = ht_report_text(ct_dump);
	char *line = strstr(text, "waiting on GIL \"G\"");
	CHECK(line);
	char *end = strchr(line, '\n');
	if (end)
		*end = 0;
	CHECK_HAS(line, ", held by \"MainThread\" (ident ");
	free(text);
	atomic_store(&gil_wait_seen, true);
	CHECK_OK(ct_gil_release(&gil));
	sh_join(t);
}

/* ---- a dump by signal in a fork child ------------------------------------ */

/* The fork tests' log and parent. */
static char fork_log[64];
static pid_t fork_parent;

/* In the child: the first dump in the log is its own (0), its parent's
 * (1), or none came within 30 s (2). */
static int whose_dump(void)
{
	char own[64], theirs[64];
	snprintf(own, sizeof own, "dump (pid %ld,", (long)getpid());
	snprintf(theirs, sizeof theirs, "dump (pid %ld,", (long)fork_parent);
	double limit = ht_now() + 30;
	while (ht_now() < limit) {
		char *text = read_file(fork_log);
		int who = strstr(text, own) ? 0 : strstr(text, theirs) ? 1 : -1;
		free(text);
		if (who >= 0)
			return who;
		(void)ct_sleep(0.001); /* another process writes it: nothing to wait on */
	}
	return 2;
}

/* Signal dumps on, and the parent's dumper seen at work: one dump by
 * signal into another log. AddressSanitizer's allocator (GCC 12's) takes
 * no lock around fork() (fork_helpers.h): a dumper still starting (it
 * allocates) when the parent forks would leave the child's allocator
 * locked, and the child's own dumper waiting on it for good. */
static void dumps_on_and_started(void)
{
	char warm[64], settings[128];
	snprintf(warm, sizeof warm, "/tmp/ct_debug_dump_%ld.warm", (long)getpid());
	unlink(warm);
	snprintf(settings, sizeof settings, "dump=USR1,log=%s", warm);
	CHECK_OK(ct_debug_configure(settings));
	CHECK(raise(SIGUSR1) == 0);
	double limit = ht_now() + 30;
	for (;;) {
		char *text = read_file(warm);
		bool dumped = strstr(text, "No deadlock found.") != NULL; /* the dump's end */
		free(text);
		if (dumped)
			break;
		CHECK(ht_now() < limit);
		(void)ct_sleep(0.001); /* the dumper thread writes it: nothing to wait on */
	}
	CHECK_OK(ct_debug_configure("log=-"));
	unlink(warm);
}

static void fork_setup(void)
{
	ht_need_threads_after_fork();
	snprintf(fork_log, sizeof fork_log, "/tmp/ct_debug_dump_%ld.log", (long)getpid());
	unlink(fork_log);
	fork_parent = getpid();
	dumps_on_and_started();
}

/* Fails the case unless the child passed and the parent did not dump. */
static void fork_check(int status)
{
	char *text = read_file(fork_log);
	char theirs[64];
	snprintf(theirs, sizeof theirs, "dump (pid %ld,", (long)fork_parent);
	if (status != 0 || strstr(text, theirs))
		ht_fail(__FILE__, __LINE__, "child status %d, log:\n%s", status, text);
	free(text);
	unlink(fork_log);
}

static int child_signals_itself(void *arg)
{
	(void)arg;
	return raise(SIGUSR1) == 0 ? whose_dump() : 3;
}

/* A signal to a fork child dumps the child, never its parent. Failed
 * before the fix: the child's signal woke the parent's dumper through the
 * pipe they shared, and the parent dumped itself (status 1). */
TEST(signal_in_a_fork_child_dumps_the_child)
{
	fork_setup();
	char settings[128];
	snprintf(settings, sizeof settings, "log=%s", fork_log);
	CHECK_OK(ct_debug_configure(settings));
	int status = fh_in_child(child_signals_itself, NULL);
	CHECK_OK(ct_debug_configure("log=-"));
	fork_check(status);
}

static int child_sets_dump(void *arg)
{
	(void)arg;
	char settings[128];
	snprintf(settings, sizeof settings, "dump=USR1,log=%s", fork_log);
	if (ct_debug_configure(settings) != 0)
		return 4;
	return child_signals_itself(NULL);
}

/* A fork child whose parent had the signal dumps and turned them off
 * starts its own dumper at its own dump=. Failed before the fix: the
 * child took the parent's pipe for its own, and its signal made the
 * parent dump (to the parent's stderr; the child found no dump, status 2
 * after 30 s). */
TEST(dump_set_in_a_fork_child_after_off_dumps_the_child)
{
	fork_setup();
	CHECK_OK(ct_debug_configure("off"));
	fork_check(fh_in_child(child_sets_dump, NULL));
}

/* ---- dump=: signal names, and the handler off gives back ----------------- */

/* False for a signal no program may handle here: an emulator (qemu-user)
 * keeps some real-time signals for itself. */
static bool catchable(int sig)
{
	struct sigaction sa;
	return sigaction(sig, NULL, &sa) == 0;
}

static void (*handler_of(int sig))(int)
{
	struct sigaction sa;
	CHECK(sigaction(sig, NULL, &sa) == 0);
	return sa.sa_handler;
}

/* Every signal name the system knows, with or without SIG, and the
 * real-time ones by RTMIN+n and RTMAX-n: dump= takes it and catches the
 * signal; off gives it back its default. Failed before the fix: ALRM,
 * TSTP and RTMIN were refused (CT_EINVAL). */
TEST(dump_takes_every_signal_name)
{
	static const struct {
		const char *name;
		int sig;
	} forms[] = {
		{"SIGALRM", SIGALRM}, {"TSTP", SIGTSTP},      {"SIGCHLD", SIGCHLD},
		{"CONT", SIGCONT},    {"SIGTTIN", SIGTTIN},   {"TTOU", SIGTTOU},
		{"SIGURG", SIGURG},   {"XCPU", SIGXCPU},      {"VTALRM", SIGVTALRM},
		{"SIGPROF", SIGPROF}, {"SYS", SIGSYS},	      {"SIGPIPE", SIGPIPE},
		{"HUP", SIGHUP},      {"SIGWINCH", SIGWINCH},
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		char s[64];
		snprintf(s, sizeof s, "dump=%s", forms[i].name);
		if (!catchable(forms[i].sig))
			continue;
		CHECK_OK(ct_debug_configure(s));
		CHECK(handler_of(forms[i].sig) != SIG_DFL);
		CHECK_OK(ct_debug_configure("off"));
		CHECK(handler_of(forms[i].sig) == SIG_DFL);
	}
	static const struct {
		const char *name;
		int offset; /* from SIGRTMIN (>= 0) or SIGRTMAX (< 0) */
	} rt[] = {{"SIGRTMIN", 0}, {"RTMIN+2", 2},  {"SIGRTMIN+0", 0},
		  {"RTMAX", -1},   {"RTMAX-1", -2}, {"SIGRTMAX-3", -4}};
	for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++) {
		char s[64];
		snprintf(s, sizeof s, "dump=%s", rt[i].name);
		int sig = rt[i].offset >= 0 ? SIGRTMIN + rt[i].offset : SIGRTMAX + 1 + rt[i].offset;
		if (!catchable(sig))
			continue;
		CHECK_OK(ct_debug_configure(s));
		CHECK(handler_of(sig) != SIG_DFL);
		CHECK_OK(ct_debug_configure("off"));
		CHECK(handler_of(sig) == SIG_DFL);
	}
	static const char *const wrong[] = {
		"RTMIN+",   "RTMIN+x", "RTMIN+1x", "RTMIN-1", "RTMAX+1", "RTMIN+99",
		"RTMAX-99", "SIG",     "NOPE",	   "0",	      "-1",
	};
	for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
		char s[64];
		snprintf(s, sizeof s, "dump=%s", wrong[i]);
		CHECK_RC(ct_debug_configure(s), CT_EINVAL);
	}
}

static char *stderr_of_configure(const char *settings, int *rc)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/ct_debug_dump_%ld.err", (long)getpid());
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen(path, "w");
	CHECK(saved >= 0 && f);
	CHECK(dup2(fileno(f), 2) == 2);
	fclose(f);
	*rc = ct_debug_configure(settings);
	fflush(stderr);
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	char *text = read_file(path);
	unlink(path);
	return text;
}

/* SIGKILL and SIGSTOP cannot be caught: refused, with that reason. Failed
 * before the fix: "not understood" or an errno's text, not the reason. */
TEST(dump_refuses_kill_and_stop_saying_why)
{
	static const char *const settings[] = {"dump=SIGKILL", "dump=STOP", "dump=9"};
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		int rc;
		char *text = stderr_of_configure(settings[i], &rc);
		CHECK_RC(rc, CT_EINVAL);
		CHECK_HAS(text, "SIGKILL and SIGSTOP cannot be caught");
		free(text);
	}
}

/* A signal the C library keeps for itself (glibc's and musl's 32, below
 * SIGRTMIN): refused, saying why. */
TEST(dump_on_a_signal_the_c_library_keeps_fails)
{
	int rc;
	char *text = stderr_of_configure("dump=32", &rc);
	CHECK_RC(rc, CT_EINVAL);
	CHECK_HAS(text, "setting \"dump=32\" refused (the system does not let it be caught)");
	free(text);
}

static void mine(int sig)
{
	(void)sig;
}

static void catch_with_mine(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = mine;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

/* off gives the signal back the handler it had before dump=, and so does
 * moving the dump to another signal. Failed before the fix: the dump's
 * handler stayed. */
TEST(off_restores_the_previous_handler)
{
	catch_with_mine(SIGUSR1);
	catch_with_mine(SIGUSR2);
	CHECK_OK(ct_debug_configure("dump=USR2"));
	CHECK(handler_of(SIGUSR2) != mine);
	CHECK_OK(ct_debug_configure("dump=USR2")); /* again: the first handler is still kept */
	CHECK_OK(ct_debug_configure("off"));
	CHECK(handler_of(SIGUSR2) == mine);
	/* Moved: the first signal gets its own back at once. */
	CHECK_OK(ct_debug_configure("dump=USR1"));
	CHECK(handler_of(SIGUSR1) != mine);
	CHECK_OK(ct_debug_configure("dump=USR2"));
	CHECK(handler_of(SIGUSR1) == mine);
	CHECK(handler_of(SIGUSR2) != mine);
	/* In one string, in order. */
	CHECK_OK(ct_debug_configure("dump=USR1,off"));
	CHECK(handler_of(SIGUSR1) == mine);
	CHECK(handler_of(SIGUSR2) == mine);
}

/* A handler the program put in place after dump= is its own to keep. */
TEST(off_keeps_a_handler_set_after_dump)
{
	CHECK_OK(ct_debug_configure("dump=USR2"));
	catch_with_mine(SIGUSR2);
	CHECK_OK(ct_debug_configure("off"));
	CHECK(handler_of(SIGUSR2) == mine);
}

static atomic_bool renaming_done;

static int rename_itself(void *arg)
{
	(void)arg;
	ct_thread_t *me = ct_current_thread();
	for (int i = 0; !atomic_load(&renaming_done); i++)
		CHECK_OK(ct_thread_set_name(me, i % 2 ? "renamer-odd" : "renamer-even"));
	return 0;
}

/* A dump reads the name of a thread that renames itself all along, which
 * frees its old name each time: ThreadSanitizer reports a read of a name
 * not ordered with its free (it did, every run, before the dump took the
 * names' lock); AddressSanitizer, one that lands after the free. Each
 * dump shows the thread's name whole. */
TEST(dump_while_a_thread_renames_itself)
{
	atomic_init(&renaming_done, false);
	ct_thread_t *t = sh_start(rename_itself, NULL);
	for (int i = 0; i < 1000; i++) {
		char *buf = ht_report_text(ct_dump);
		CHECK(strstr(buf, "renamer-odd") || strstr(buf, "renamer-even") ||
		      strstr(buf, "Thread-"));
		free(buf);
	}
	atomic_store(&renaming_done, true);
	sh_join(t);
}

/* ---- a fork while another thread configures ------------------------------ */

/* ct_debug_configure() takes a lock of its own: a fork while another
 * thread held it left it held in the child, whose first configure then
 * waited forever. */
static atomic_bool configuring_done;

static int configure_in_a_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&configuring_done))
		CHECK_OK(ct_debug_configure(""));
	return 0;
}

static int configure_in_the_child(void *arg)
{
	(void)arg;
	CK(ct_debug_configure("") == 0);
	return 0;
}

TEST(fork_while_another_thread_configures)
{
	atomic_init(&configuring_done, false);
	ct_thread_t *t = sh_start(configure_in_a_loop, NULL);
	for (int i = 0; i < 100; i++)
		FH_CHECK_CHILD(configure_in_the_child, NULL);
	atomic_store(&configuring_done, true);
	sh_join(t);
}
