/* Threads: both styles, start/join/is_alive, names (Python's and the OS's),
 * ident and native_id, daemon flags, the module functions, hooks, the
 * excepthook, stop requests, sleep, fork, injected failures, fire-and-forget
 * reclaim and the misuse table. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "core/fault.h"
#include "harness.h"
#include "ht_internal.h"

#if defined(__SANITIZE_THREAD__)
#define HT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HT_TSAN 1
#endif
#endif
#ifdef HT_TSAN
/* The fork test starts threads in the child of a threaded process, which
 * ThreadSanitizer refuses by default. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "die_after_fork=0";
}
#endif

/* ---- targets and helpers ------------------------------------------------ */

static int nothing(void *arg)
{
	(void)arg;
	return 0;
}

static int store_42(void *arg)
{
	*(int *)arg = 42;
	return 0;
}

/* Blocks until the event is set. */
static int wait_event(void *event)
{
	return ct_event_wait(event, CT_FOREVER);
}

static ct_thread_t *start_blocked(ct_event_t *event, const ct_thread_opts *opts)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, wait_event, event, opts));
	CHECK_OK(ct_thread_start(t));
	return t;
}

/* A thread that says it runs (so it is past its start), then waits. */
struct gate {
	ct_event_t ready, go;
};

static int signal_then_wait(void *arg)
{
	struct gate *g = arg;
	ct_event_set(&g->ready);
	return ct_event_wait(&g->go, CT_FOREVER);
}

static ct_thread_t *start_gated(struct gate *g, const ct_thread_opts *opts)
{
	ct_event_init(&g->ready);
	ct_event_init(&g->go);
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, signal_then_wait, g, opts));
	CHECK_OK(ct_thread_start(t));
	CHECK_OK(ct_event_wait(&g->ready, CT_FOREVER));
	return t;
}

static void join_destroy(ct_thread_t *t)
{
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_release(t);
}

/* Runs @p target(arg) in a new thread and waits for it. */
static void run_in_thread(ct_target_fn target, void *arg, const ct_thread_opts *opts)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, target, arg, opts));
	CHECK_OK(ct_thread_start(t));
	join_destroy(t);
}

struct listing {
	ct_thread_t *seen[64];
	size_t n;
};

static void collect(ct_thread_t *t, void *arg)
{
	struct listing *l = arg;
	if (l->n < 64)
		l->seen[l->n++] = t;
}

static bool enumerated(const ct_thread_t *t)
{
	struct listing l = {.n = 0};
	size_t n = ct_enumerate(collect, &l);
	CHECK_EQ(n, l.n);
	for (size_t i = 0; i < l.n; i++)
		if (l.seen[i] == t)
			return true;
	return false;
}

static long gettid_now(void)
{
	return (long)syscall(SYS_gettid);
}

/* ---- the two styles ----------------------------------------------------- */

TEST(function_style_calls_target_with_arg)
{
	int value = 0;
	run_in_thread(store_42, &value, NULL);
	CHECK_EQ(value, 42);
}

/* class Counter(Thread): the thread object is not the first member, so
 * ct_container_of really has to subtract its offset. */
struct counter_thread {
	int start;
	ct_thread_t thread;
	int result;
	ct_thread_t *current;
};

static int counter_run(ct_thread_t *self)
{
	struct counter_thread *c = ct_container_of(self, struct counter_thread, thread);
	c->result = c->start + 1;
	c->current = ct_current_thread();
	return 0;
}

TEST(subclass_style_run_gets_embedding_object)
{
	struct counter_thread c = {.start = 41};
	int target_ran = 0;
	/* A run method replaces the target, as overriding Thread.run does. */
	CHECK_OK(ct_thread_init(&c.thread, store_42, &target_ran,
				&(ct_thread_opts){.run = counter_run}));
	CHECK_OK(ct_thread_start(&c.thread));
	CHECK_OK(ct_thread_join(&c.thread, CT_FOREVER));
	CHECK_EQ(c.result, 42);
	CHECK(c.current == &c.thread);
	CHECK_EQ(target_ran, 0);
	ct_thread_destroy(&c.thread);
}

TEST(subclass_style_on_the_heap)
{
	struct counter_thread *c = calloc(1, sizeof *c);
	CHECK(c);
	c->start = 1;
	CHECK_OK(ct_thread_init(&c->thread, NULL, NULL, &(ct_thread_opts){.run = counter_run}));
	CHECK_OK(ct_thread_start(&c->thread));
	/* Destroying the handle before the end is allowed; the memory of an
	 * embedded object must outlive the thread, hence the join first. */
	CHECK_OK(ct_thread_join(&c->thread, CT_FOREVER));
	ct_thread_destroy(&c->thread);
	CHECK_EQ(c->result, 2);
	free(c);
}

/* ---- start, join, is_alive ---------------------------------------------- */

struct counted {
	atomic_int runs;
	ct_event_t go;
};

static int count_then_wait(void *arg)
{
	struct counted *c = arg;
	atomic_fetch_add(&c->runs, 1);
	return ct_event_wait(&c->go, CT_FOREVER);
}

TEST(start_only_once)
{
	struct counted c = {.go = CT_EVENT_INIT};
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, count_then_wait, &c, NULL));
	CHECK_OK(ct_thread_start(t));
	CHECK_RC(ct_thread_start(t), CT_ESTARTED); /* while it runs */
	ct_event_set(&c.go);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK_RC(ct_thread_start(t), CT_ESTARTED); /* after it ended */
	CHECK_EQ(atomic_load(&c.runs), 1);
	ct_thread_release(t);
}

struct joiner {
	ct_thread_t *target;
	int rc;
};

static int join_it(void *arg)
{
	struct joiner *j = arg;
	j->rc = ct_thread_join(j->target, CT_FOREVER);
	return 0;
}

TEST(join_with_timeout_any_number_of_times)
{
	ct_event_t ev = CT_EVENT_INIT;
	ct_thread_t *t = start_blocked(&ev, NULL);
	CHECK_RC(ct_thread_join(t, 0), CT_ETIMEDOUT);
	double t0 = ht_now();
	CHECK_RC(ct_thread_join(t, 0.05), CT_ETIMEDOUT);
	CHECK(ht_now() - t0 >= 0.05);
	CHECK(ct_thread_is_alive(t));

	/* Several threads join it at once; all return when it ends. */
	struct joiner j[3];
	ct_thread_t *jt[3];
	for (int i = 0; i < 3; i++) {
		j[i] = (struct joiner){t, 1};
		CHECK_OK(ct_thread_new(&jt[i], join_it, &j[i], NULL));
		CHECK_OK(ct_thread_start(jt[i]));
		ht_wait_parked(jt[i]);
	}
	ct_event_set(&ev);
	for (int i = 0; i < 3; i++) {
		join_destroy(jt[i]);
		CHECK_OK(j[i].rc);
	}
	for (int i = 0; i < 3; i++)
		CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK_OK(ct_thread_join(t, 0));
	CHECK_OK(ct_thread_join(t, 2.5));
	ct_thread_release(t);
}

TEST(is_alive_before_while_after)
{
	ct_event_t ev = CT_EVENT_INIT;
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, wait_event, &ev, NULL));
	CHECK(!ct_thread_is_alive(t));
	CHECK_OK(ct_thread_start(t));
	CHECK(ct_thread_is_alive(t));
	ht_wait_parked(t);
	CHECK(ct_thread_is_alive(t));
	ct_event_set(&ev);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK(!ct_thread_is_alive(t));
	ct_thread_release(t);
	CHECK(ct_thread_is_alive(ct_main_thread()));
}

/* ---- names -------------------------------------------------------------- */

static int foo(void *arg)
{
	return nothing(arg);
}

/* Checks that t is named prefix, n, suffix ("Thread-", 3, " (foo)"). */
static void check_name(ct_thread_t *t, const char *prefix, unsigned n, const char *suffix)
{
	char want[128];
	snprintf(want, sizeof want, "%s%u%s", prefix, n, suffix);
	CHECK_STR(ct_thread_name(t), want);
}

/* A handle shared by two owners: each drops its own reference, one before
 * the thread ends and one after (ASan sees a double free or a leak). */
TEST(ref_and_release_share_a_handle)
{
	size_t live = ct__thread_records_live();
	struct gate g;
	ct_thread_t *t = start_gated(&g, NULL);
	CHECK(ct_thread_ref(t) == t);
	CHECK(ct__thread_records_live() == live + 1);
	ct_thread_release(t); /* the first owner; the thread waits at the gate */
	CHECK(ct_thread_is_alive(t));
	ct_event_set(&g.go);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_release(t); /* the second owner (the thread may still hold its own) */
}

TEST(default_names_follow_python)
{
	ct_thread_t *a, *b, *c, *d, *named;
	struct counter_thread e;
	CHECK_OK(ct_thread_new(&a, foo, NULL, NULL));
	unsigned k;
	CHECK(sscanf(ct_thread_name(a), "Thread-%u", &k) == 1);
	check_name(a, "Thread-", k, " (foo)");
	/* No target: "Thread-N" alone. */
	CHECK_OK(ct_thread_new(&b, NULL, NULL, NULL));
	check_name(b, "Thread-", k + 1, "");
	/* The target's name is its identifier, however the argument is
	 * written. */
	CHECK_OK(ct_thread_new(&c, (ct_target_fn)foo, NULL, NULL));
	check_name(c, "Thread-", k + 2, " (foo)");
	CHECK_OK(ct_thread_new(&d, &store_42, NULL, NULL));
	check_name(d, "Thread-", k + 3, " (store_42)");
	/* An explicit name uses no number. */
	CHECK_OK(ct_thread_new(&named, foo, NULL, &(ct_thread_opts){.name = "worker"}));
	CHECK_STR(ct_thread_name(named), "worker");
	/* A subclass with its own run and no target. */
	CHECK_OK(ct_thread_init(&e.thread, NULL, NULL, &(ct_thread_opts){.run = counter_run}));
	check_name(&e.thread, "Thread-", k + 4, "");
	/* A target whose name is not given: "Thread-N" alone. */
	ct_thread_t *unnamed;
	CHECK_OK(ct_thread_new_named(&unnamed, foo, NULL, NULL, NULL));
	check_name(unnamed, "Thread-", k + 5, "");
	ct_thread_release(unnamed);
	ct_thread_release(a);
	ct_thread_release(b);
	ct_thread_release(c);
	ct_thread_release(d);
	ct_thread_release(named);
	ct_thread_destroy(&e.thread);
	CHECK_STR(ct_thread_name(ct_main_thread()), "MainThread");
}

TEST(default_name_with_a_long_target_name)
{
	char target[201];
	memset(target, 'x', 200);
	target[200] = '\0';
	ct_thread_t *t;
	CHECK_OK(ct_thread_new_named(&t, foo, target, NULL, NULL));
	unsigned k;
	CHECK(sscanf(ct_thread_name(t), "Thread-%u (", &k) == 1);
	char want[256];
	snprintf(want, sizeof want, "Thread-%u (%s)", k, target);
	CHECK_STR(ct_thread_name(t), want);
	ct_thread_release(t);
}

struct name_probe {
	char name[64];
};

static int copy_own_name(void *arg)
{
	struct name_probe *p = arg;
	snprintf(p->name, sizeof p->name, "%s", ct_thread_name(ct_current_thread()));
	return 0;
}

TEST(set_name)
{
	struct name_probe p;
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, copy_own_name, &p, NULL));
	CHECK_OK(ct_thread_set_name(t, "renamed"));
	CHECK_STR(ct_thread_name(t), "renamed");
	CHECK_OK(ct_thread_start(t));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK_STR(p.name, "renamed");
	CHECK_OK(ct_thread_set_name(t, "after the end"));
	CHECK_STR(ct_thread_name(t), "after the end");
	ct_thread_release(t);
}

/* The OS thread name, as /proc shows it (without the newline). */
static void read_comm(long tid, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%ld/comm", tid);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

TEST(os_name_follows_the_name)
{
	struct gate g;
	ct_thread_t *t = start_gated(&g, &(ct_thread_opts){.name = "worker-1"});
	char comm[64];
	read_comm(ct_thread_native_id(t), comm, sizeof comm);
	CHECK_STR(comm, "worker-1");
	/* Renamed by another thread while it waits. */
	CHECK_OK(ct_thread_set_name(t, "worker-2"));
	read_comm(ct_thread_native_id(t), comm, sizeof comm);
	CHECK_STR(comm, "worker-2");
	ct_event_set(&g.go);
	join_destroy(t);
}

/* The main thread renaming itself: its OS name follows, as for any thread
 * renaming itself (Python's name setter on the current thread). */
TEST(main_thread_renaming_itself_renames_the_os_thread)
{
	CHECK_OK(ct_thread_set_name(ct_main_thread(), "renamed-main"));
	CHECK_STR(ct_thread_name(ct_current_thread()), "renamed-main");
	char comm[64];
	read_comm(ct_get_native_id(), comm, sizeof comm);
	CHECK_STR(comm, "renamed-main");
}

/* A thread that cthreading did not start, renaming itself. */
static void *foreign_renames_itself(void *arg)
{
	char *comm = arg;
	if (ct_thread_set_name(ct_current_thread(), "foreign-named") == 0)
		read_comm(ct_get_native_id(), comm, 64);
	return NULL;
}

TEST(foreign_thread_renaming_itself_renames_the_os_thread)
{
	char comm[64] = "";
	pthread_t pt;
	CHECK(pthread_create(&pt, NULL, foreign_renames_itself, comm) == 0);
	CHECK(pthread_join(pt, NULL) == 0);
	CHECK_STR(comm, "foreign-named");
}

/* Python's Thread(name="") takes the default name, as name=None does. */
TEST(empty_name_gives_the_default_name)
{
	ct_thread_t *a, *b;
	CHECK_OK(ct_thread_new(&a, foo, NULL, NULL));
	unsigned k;
	CHECK(sscanf(ct_thread_name(a), "Thread-%u", &k) == 1);
	CHECK_OK(ct_thread_new(&b, foo, NULL, &(ct_thread_opts){.name = ""}));
	check_name(b, "Thread-", k + 1, " (foo)");
	ct_thread_release(a);
	ct_thread_release(b);
}

/* Renames racing with a thread's start (before it has named itself in the
 * OS) and with its end: the OS name ends up as the last one set while the
 * thread lives, and the old names are freed only once unread (ASan, TSan). */
TEST(rename_racing_with_start_and_end)
{
	for (int i = 0; i < 100; i++) {
		struct gate g = {.ready = CT_EVENT_INIT, .go = CT_EVENT_INIT};
		ct_thread_t *t;
		CHECK_OK(ct_thread_new(&t, signal_then_wait, &g,
				       &(ct_thread_opts){.name = "before"}));
		CHECK_OK(ct_thread_start(t));
		char name[16], comm[64];
		snprintf(name, sizeof name, "after-%d", i);
		CHECK_OK(ct_thread_set_name(t, name));
		CHECK_OK(ct_event_wait(&g.ready, CT_FOREVER));
		read_comm(ct_thread_native_id(t), comm, sizeof comm);
		CHECK_STR(comm, name);
		ct_event_set(&g.go);
		for (int k = 0; ct_thread_is_alive(t); k++)
			CHECK_OK(ct_thread_set_name(t, k % 2 ? "ending" : "ended"));
		join_destroy(t);
	}
}

/* 1 + 8 * 3 bytes: the 15-byte limit falls inside the fifth character. */
#define LONG_CHINESE "a线程名字很长很长"

struct comm_probe {
	const char *rename_to;
	int rc;
	char comm[64];
};

static int rename_self(void *arg)
{
	struct comm_probe *p = arg;
	p->rc = ct_thread_set_name(ct_current_thread(), p->rename_to);
	read_comm(ct_get_native_id(), p->comm, sizeof p->comm);
	return 0;
}

TEST(os_name_truncated_at_a_character_boundary)
{
	/* Started with a long UTF-8 name: never fails, cut to a whole
	 * character, while the thread keeps its full name. */
	struct gate g;
	ct_thread_t *t = start_gated(&g, &(ct_thread_opts){.name = LONG_CHINESE});
	char comm[64];
	read_comm(ct_thread_native_id(t), comm, sizeof comm);
	CHECK_STR(comm, "a线程名字");
	CHECK_STR(ct_thread_name(t), LONG_CHINESE);
	ct_event_set(&g.go);
	join_destroy(t);

	/* Renamed from inside: 5 characters are exactly 15 bytes. */
	struct comm_probe p = {.rename_to = "线程线程线程线程", .rc = 1};
	run_in_thread(rename_self, &p, NULL);
	CHECK_OK(p.rc);
	CHECK_STR(p.comm, "线程线程线");

	/* Plain ASCII: 15 bytes kept, the 16th dropped. */
	p = (struct comm_probe){.rename_to = "0123456789abcdefgh", .rc = 1};
	run_in_thread(rename_self, &p, NULL);
	CHECK_OK(p.rc);
	CHECK_STR(p.comm, "0123456789abcde");

	/* No character boundary at all (continuation bytes only): nothing
	 * of it is a whole character, so the OS name is empty. */
	p = (struct comm_probe){.rename_to = "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80"
					     "\x80\x80\x80\x80\x80\x80\x80\x80",
				.rc = 1};
	run_in_thread(rename_self, &p, NULL);
	CHECK_OK(p.rc);
	CHECK_STR(p.comm, "");
}

/* ---- ident, native_id ----------------------------------------------------- */

struct ids {
	unsigned long ident, pthread;
	long native, gettid;
};

static int record_ids(void *arg)
{
	struct ids *ids = arg;
	ids->ident = ct_get_ident();
	ids->pthread = (unsigned long)pthread_self();
	ids->native = ct_get_native_id();
	ids->gettid = gettid_now();
	return 0;
}

TEST(ident_and_native_id)
{
	struct ids ids;
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, record_ids, &ids, NULL));
	CHECK_EQ(ct_thread_ident(t), 0);
	CHECK_EQ(ct_thread_native_id(t), 0);
	CHECK_OK(ct_thread_start(t));
	/* Known as soon as start returns, whether or not the thread ran. */
	long native = ct_thread_native_id(t);
	unsigned long ident = ct_thread_ident(t);
	CHECK(native > 0);
	CHECK(ident != 0);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK_EQ(ids.ident, ident);
	CHECK_EQ(ids.pthread, ident);
	CHECK_EQ(ids.native, native);
	CHECK_EQ(ids.gettid, native);
	/* Kept after the end, as Python does. */
	CHECK_EQ(ct_thread_ident(t), ident);
	CHECK_EQ(ct_thread_native_id(t), native);
	ct_thread_release(t);

	CHECK_EQ(ct_get_ident(), (unsigned long)pthread_self());
	CHECK_EQ(ct_get_native_id(), gettid_now());
	CHECK_EQ(ct_thread_ident(ct_main_thread()), (unsigned long)pthread_self());
	CHECK_EQ(ct_thread_native_id(ct_main_thread()), gettid_now());
}

/* A thread the library never met has no record: its native id comes
 * straight from the OS, and asking for it does not register it. */
static void *foreign_native_id(void *arg)
{
	long *ids = arg;
	ids[0] = ct_get_native_id();
	ids[1] = gettid_now();
	return NULL;
}

TEST(native_id_of_a_foreign_thread)
{
	size_t before = ct_active_count();
	long ids[2] = {0, 0};
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, foreign_native_id, ids), 0);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	CHECK(ids[1] > 0);
	CHECK_EQ(ids[0], ids[1]);
	CHECK_EQ(ct_active_count(), before);
}

/* A thread the library never met, waiting from a thread-specific data
 * destructor that runs after the library's own (its key is newer): its
 * waiter, detached by then, is attached again for the wait and detached
 * again after it. */
static pthread_key_t late_key;
static ct_event_t never_set = CT_EVENT_INIT;
static atomic_int late_rc = 1;

static void wait_in_destructor(void *value)
{
	(void)value;
	atomic_store(&late_rc, ct_event_wait(&never_set, 0.001));
}

static void *wait_then_exit(void *arg)
{
	(void)arg;
	CHECK_RC(ct_event_wait(&never_set, 0.001), CT_ETIMEDOUT);
	CHECK_EQ(pthread_key_create(&late_key, wait_in_destructor), 0);
	CHECK_EQ(pthread_setspecific(late_key, &late_key), 0);
	return NULL;
}

TEST(foreign_thread_waiting_in_a_tls_destructor)
{
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, wait_then_exit, NULL), 0);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	CHECK_RC(atomic_load(&late_rc), CT_ETIMEDOUT);
}

/* A fork from a thread the library has seen but did not start: in the
 * child it becomes the main thread, named "MainThread" as in Python; with
 * no memory for the new name it keeps its old one, and is the main
 * thread all the same. */
static void *fork_from_dummy(void *arg)
{
	int *status = arg;
	const char *name = ct_thread_name(ct_current_thread());
	bool dummy = strncmp(name, "Dummy-", 6) == 0;
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	pid_t pid = fork();
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	if (pid == 0) {
		ct_thread_t *self = ct_current_thread();
		HT_CHILD_EXIT(dummy && self == ct_main_thread() &&
					      strncmp(ct_thread_name(self), "Dummy-", 6) == 0 &&
					      !ct_thread_daemon(self)
				      ? 0
				      : 1);
	}
	if (pid < 0 || waitpid(pid, status, 0) != pid)
		*status = -1;
	return NULL;
}

TEST(fork_from_a_dummy_thread_without_memory)
{
	int status = -1;
	ht_in_foreign_thread(fork_from_dummy, &status);
	HT_CHECK_EXITED_OK(status);
}

/* The main thread's handle is not counted: a reference to it is the
 * handle itself, and a release leaves it whole. */
TEST(ref_and_release_of_the_main_thread)
{
	ct_thread_t *main_thread = ct_main_thread();
	CHECK(ct_thread_ref(main_thread) == main_thread);
	ct_thread_release(main_thread);
	ct_thread_release(main_thread);
	CHECK(ct_thread_is_alive(main_thread));
	CHECK_STR(ct_thread_name(main_thread), "MainThread");
	CHECK(ct_current_thread() == main_thread);
}

/* ---- daemon ------------------------------------------------------------- */

static bool new_thread_is_daemon(const ct_thread_opts *opts)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, nothing, NULL, opts));
	bool daemon = ct_thread_daemon(t);
	ct_thread_release(t);
	return daemon;
}

struct daemon_probe {
	bool self, child_default, child_not_daemon;
};

static int probe_daemon(void *arg)
{
	struct daemon_probe *p = arg;
	p->self = ct_thread_daemon(ct_current_thread());
	p->child_default = new_thread_is_daemon(NULL);
	p->child_not_daemon = new_thread_is_daemon(&(ct_thread_opts){.daemon = CT_NOT_DAEMON});
	return 0;
}

TEST(daemon_inherited_from_the_creator)
{
	CHECK(!ct_thread_daemon(ct_main_thread()));
	CHECK(!new_thread_is_daemon(NULL));
	CHECK(new_thread_is_daemon(&(ct_thread_opts){.daemon = CT_DAEMON}));
	CHECK(!new_thread_is_daemon(&(ct_thread_opts){.daemon = CT_NOT_DAEMON}));

	struct daemon_probe p;
	run_in_thread(probe_daemon, &p, &(ct_thread_opts){.daemon = CT_DAEMON});
	CHECK(p.self);
	CHECK(p.child_default);
	CHECK(!p.child_not_daemon);

	run_in_thread(probe_daemon, &p, NULL);
	CHECK(!p.self);
	CHECK(!p.child_default);
}

TEST(daemon_settable_only_before_start)
{
	ct_event_t ev = CT_EVENT_INIT;
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, wait_event, &ev, NULL));
	CHECK_OK(ct_thread_set_daemon(t, true));
	CHECK(ct_thread_daemon(t));
	CHECK_OK(ct_thread_set_daemon(t, false));
	CHECK(!ct_thread_daemon(t));
	CHECK_OK(ct_thread_set_daemon(t, true));
	CHECK_OK(ct_thread_start(t));
	CHECK_RC(ct_thread_set_daemon(t, false), CT_EDAEMON);
	CHECK(ct_thread_daemon(t));
	ct_event_set(&ev);
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK_RC(ct_thread_set_daemon(t, false), CT_EDAEMON); /* Python: also after */
	CHECK(ct_thread_daemon(t));
	ct_thread_release(t);
}

/* ---- current_thread, dummies, enumerate, active_count ----------------------- */

static int report_current(void *arg)
{
	*(ct_thread_t **)arg = ct_current_thread();
	return 0;
}

TEST(current_thread)
{
	ct_thread_t *main_t = ct_current_thread();
	CHECK(main_t == ct_main_thread());
	CHECK_STR(ct_thread_name(main_t), "MainThread");
	CHECK(ct_thread_is_alive(main_t));
	CHECK(!ct_thread_daemon(main_t));

	ct_thread_t *t, *seen = NULL;
	CHECK_OK(ct_thread_new(&t, report_current, &seen, NULL));
	CHECK_OK(ct_thread_start(t));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK(seen == t);
	ct_thread_release(t);
}

struct dummy_probe {
	ct_event_t ready, done;
	ct_thread_t *self;
	char name[32];
	bool daemon, alive, stable, child_daemon;
	unsigned long ident;
	long native;
};

static void *foreign_thread(void *arg)
{
	struct dummy_probe *p = arg;
	p->self = ct_current_thread();
	p->stable = ct_current_thread() == p->self;
	snprintf(p->name, sizeof p->name, "%s", ct_thread_name(p->self));
	p->daemon = ct_thread_daemon(p->self);
	p->alive = ct_thread_is_alive(p->self);
	p->ident = ct_thread_ident(p->self);
	p->native = ct_thread_native_id(p->self);
	p->child_daemon = new_thread_is_daemon(NULL);
	CHECK(p->native == gettid_now());
	ct_event_set(&p->ready);
	ct_event_wait(&p->done, CT_FOREVER);
	return NULL;
}

TEST(dummy_record_for_a_foreign_thread)
{
	size_t base = ct_active_count();
	CHECK_EQ(base, 1);
	struct dummy_probe p = {.ready = CT_EVENT_INIT, .done = CT_EVENT_INIT};
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, foreign_thread, &p), 0);
	CHECK_OK(ct_event_wait(&p.ready, CT_FOREVER));
	unsigned n;
	CHECK(sscanf(p.name, "Dummy-%u", &n) == 1);
	check_name(p.self, "Dummy-", n, "");
	CHECK(p.stable);
	CHECK(p.daemon);
	CHECK(p.alive);
	CHECK(p.child_daemon);
	CHECK_EQ(p.ident, (unsigned long)pt);
	CHECK(p.self != ct_main_thread());
	CHECK_EQ(ct_active_count(), base + 1);
	CHECK(enumerated(p.self));
	ct_event_set(&p.done);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	/* Gone with its thread (p.self is compared, never dereferenced). */
	CHECK_EQ(ct_active_count(), base);
	CHECK(!enumerated(p.self));
}

TEST(enumerate_and_active_count)
{
	CHECK_EQ(ct_active_count(), 1);
	CHECK(enumerated(ct_main_thread()));
	ct_event_t ev = CT_EVENT_INIT;
	ct_thread_t *t[3], *unstarted;
	for (int i = 0; i < 3; i++)
		t[i] = start_blocked(&ev, NULL);
	CHECK_OK(ct_thread_new(&unstarted, nothing, NULL, NULL));
	CHECK_EQ(ct_active_count(), 4);
	CHECK_EQ(ct_enumerate(NULL, NULL), 4);
	CHECK(enumerated(ct_main_thread()));
	for (int i = 0; i < 3; i++)
		CHECK(enumerated(t[i]));
	CHECK(!enumerated(unstarted));
	ct_event_set(&ev);
	for (int i = 0; i < 3; i++) {
		CHECK_OK(ct_thread_join(t[i], CT_FOREVER));
		/* A joined thread is no longer counted (the others may have
		 * ended too). */
		CHECK(!enumerated(t[i]));
		CHECK(ct_active_count() <= (size_t)(3 - i));
		ct_thread_release(t[i]);
	}
	ct_thread_release(unstarted);
}

/* ---- stack size ---------------------------------------------------------- */

static int report_stack_size(void *arg)
{
	pthread_attr_t attr;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstacksize(&attr, &size);
		pthread_attr_destroy(&attr);
	}
	*(size_t *)arg = size;
	return 0;
}

TEST(stack_size)
{
	CHECK_EQ(ct_stack_size_get(), 0);
	CHECK_OK(ct_stack_size_set(32768));
	CHECK_EQ(ct_stack_size_get(), 32768);
	CHECK_RC(ct_stack_size_set(32767), CT_ESTACKSIZE);
	CHECK_EQ(ct_stack_size_get(), 32768); /* unchanged by the error */

	size_t got = 0;
	CHECK_OK(ct_stack_size_set(4u << 20));
	run_in_thread(report_stack_size, &got, NULL);
	CHECK(got >= (4u << 20));
	/* A thread's own size wins over the default, rounded up to pages. */
	run_in_thread(report_stack_size, &got, &(ct_thread_opts){.stack_size = 300001});
	CHECK(got >= 300001);
	CHECK(got < (4u << 20));
	CHECK_OK(ct_stack_size_set(0));
	CHECK_EQ(ct_stack_size_get(), 0);
}

/* A size too large to round up to whole pages must not wrap round to a
 * small one that pthreads refuses, leaving the thread on the default stack:
 * the OS cannot give such a stack, so the start fails (CT_EAGAIN), as a
 * merely too large size does, and the object may start later. */
TEST(stack_size_too_large_to_round_is_refused_not_ignored)
{
	size_t huge[] = {SIZE_MAX, SIZE_MAX - 1};
	for (size_t i = 0; i < sizeof huge / sizeof *huge; i++) {
		ct_thread_t *t;
		size_t got = 0;
		CHECK_OK(ct_thread_new(&t, report_stack_size, &got,
				       &(ct_thread_opts){.stack_size = huge[i]}));
		CHECK_RC(ct_thread_start(t), CT_EAGAIN);
		ct_thread_release(t);

		CHECK_OK(ct_stack_size_set(huge[i]));
		CHECK_OK(ct_thread_new(&t, report_stack_size, &got, NULL));
		CHECK_RC(ct_thread_start(t), CT_EAGAIN);
		CHECK_OK(ct_stack_size_set(0));
		CHECK_OK(ct_thread_start(t)); /* nothing leaked: it starts later */
		CHECK_OK(ct_thread_join(t, CT_FOREVER));
		CHECK(got > 0);
		ct_thread_release(t);
	}
}

/* A thread object whose init failed can be destroyed (the usual clean-up
 * path), and the thread functions report it, whatever the memory held. */
TEST(failed_init_then_destroy)
{
	ct_thread_t t;
	memset(&t, 0xAB, sizeof t);
	CHECK_RC(ct_thread_init(&t, nothing, NULL, &(ct_thread_opts){.stack_size = 1}),
		 CT_ESTACKSIZE);
	CHECK_RC(ct_thread_start(&t), CT_EINVAL);
	CHECK_RC(ct_thread_join(&t, 0), CT_EINVAL);
	CHECK(!ct_thread_is_alive(&t));
	ct_thread_destroy(&t);
	ct_thread_destroy(&t);
}

/* ---- hooks and the excepthook ---------------------------------------------- */

static struct {
	atomic_int step;
	int start_step, run_step, exit_step;
	ct_thread_t *start_t, *start_current, *exit_t, *exit_current;
	unsigned long start_ident;
	void *start_arg, *exit_arg;
} hooked;

static void on_start(ct_thread_t *t, void *arg)
{
	hooked.start_step = atomic_fetch_add(&hooked.step, 1);
	hooked.start_t = t;
	hooked.start_current = ct_current_thread();
	hooked.start_ident = ct_get_ident();
	hooked.start_arg = arg;
}

static void on_exit_hook(ct_thread_t *t, void *arg)
{
	hooked.exit_step = atomic_fetch_add(&hooked.step, 1);
	hooked.exit_t = t;
	hooked.exit_current = ct_current_thread();
	hooked.exit_arg = arg;
}

static int hooked_run(void *arg)
{
	(void)arg;
	hooked.run_step = atomic_fetch_add(&hooked.step, 1);
	return 0;
}

TEST(start_and_exit_hooks)
{
	ct_set_thread_hooks(on_start, on_exit_hook, &hooked);
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, hooked_run, NULL, NULL));
	CHECK_OK(ct_thread_start(t));
	CHECK_OK(ct_thread_join(t, CT_FOREVER)); /* the exit hook ran before */
	CHECK_EQ(hooked.start_step, 0);
	CHECK_EQ(hooked.run_step, 1);
	CHECK_EQ(hooked.exit_step, 2);
	CHECK(hooked.start_t == t && hooked.start_current == t);
	CHECK(hooked.exit_t == t && hooked.exit_current == t);
	CHECK_EQ(hooked.start_ident, ct_thread_ident(t));
	CHECK(hooked.start_arg == &hooked && hooked.exit_arg == &hooked);
	ct_thread_release(t);

	ct_set_thread_hooks(NULL, NULL, NULL);
	run_in_thread(hooked_run, NULL, NULL);
	CHECK_EQ(atomic_load(&hooked.step), 4); /* only the run counted */
}

static struct {
	atomic_int calls;
	ct_thread_t *thread, *current;
	int status;
} excepted;

static void custom_excepthook(const ct_excepthook_args *args)
{
	excepted.thread = args->thread;
	excepted.current = ct_current_thread();
	excepted.status = args->status;
	atomic_fetch_add(&excepted.calls, 1);
}

static int return_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

TEST(excepthook_custom_and_restored)
{
	CHECK(ct_set_excepthook(custom_excepthook) == ct_excepthook_default);
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, return_arg, (void *)(intptr_t)42, NULL));
	CHECK_OK(ct_thread_start(t));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK_EQ(atomic_load(&excepted.calls), 1);
	CHECK(excepted.thread == t);
	CHECK(excepted.current == t); /* called in the failing thread */
	CHECK_EQ(excepted.status, 42);
	ct_thread_release(t);

	run_in_thread(return_arg, (void *)0, NULL); /* success: no call */
	CHECK_EQ(atomic_load(&excepted.calls), 1);

	CHECK(ct_set_excepthook(NULL) == custom_excepthook);
	CHECK(ct_set_excepthook(NULL) == ct_excepthook_default);
}

TEST(excepthook_default_prints_to_stderr)
{
	const char *argv[] = {CT_TEST_PROGRAMS "/excepthook", NULL};
	char *out, *err;
	CHECK_EQ(ht_run(argv, &out, &err), 0);
	/* The custom hook saw "first"; after ct_set_excepthook(NULL) the
	 * default reported "second" and "stopper". */
	CHECK_STR(out, "custom hook: first 3\n");
	CHECK(strstr(err, "Exception in thread first") == NULL);
	CHECK(strstr(err, "Exception in thread second: run returned 7\n") != NULL);
	CHECK(strstr(err, "Exception in thread stopper: run returned -4001 (stop requested)\n") !=
	      NULL);
	CHECK(strstr(err, "Exception in thread fine") == NULL);
	free(out);
	free(err);
}

/* Runs ct_excepthook_default(args) with stderr going to a file; returns
 * what it printed, to free. */
static char *default_hook_output(const ct_excepthook_args *args)
{
	FILE *tmp = tmpfile();
	CHECK(tmp != NULL);
	fflush(stderr);
	int saved = dup(2);
	CHECK(saved >= 0 && dup2(fileno(tmp), 2) == 2);
	ct_excepthook_default(args);
	fflush(stderr);
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	long n = ftell(tmp);
	CHECK(n >= 0);
	char *out = calloc(1, (size_t)n + 1);
	CHECK(out != NULL);
	rewind(tmp);
	CHECK(fread(out, 1, (size_t)n, tmp) == (size_t)n);
	fclose(tmp);
	return out;
}

/* Python's excepthook with thread=None names the caller by its ident. */
TEST(excepthook_default_with_no_thread_names_the_caller)
{
	char want[96];
	snprintf(want, sizeof want, "Exception in thread %lu: run returned 7\n", ct_get_ident());
	char *out = default_hook_output(&(ct_excepthook_args){.thread = NULL, .status = 7});
	CHECK_STR(out, want);
	free(out);
	out = default_hook_output(NULL);
	CHECK_STR(out, "");
	free(out);
}

/* ---- stop requests ------------------------------------------------------- */

struct stop_probe {
	bool before, after;
	int rc, again, event_rc, sleep0;
};

/* An enormous sleep: if the stop did not end it, the test times out. */
static int sleep_until_stopped(void *arg)
{
	struct stop_probe *p = arg;
	p->before = ct_stop_requested();
	p->rc = ct_sleep(CT_TIMEOUT_MAX);
	p->after = ct_stop_requested();
	/* Sticky: every interruptible wait from now on ends at once. */
	p->again = ct_sleep(CT_TIMEOUT_MAX);
	ct_event_t never = CT_EVENT_INIT;
	p->event_rc = ct_event_wait(&never, CT_FOREVER);
	p->sleep0 = ct_sleep(0);
	return 0;
}

TEST(stop_wakes_a_sleeping_thread)
{
	struct stop_probe p = {.rc = 1};
	ct_thread_t *t = ht_stop_when_parked(sleep_until_stopped, &p);
	CHECK(!p.before);
	CHECK_RC(p.rc, CT_ESTOPPED);
	CHECK(p.after);
	CHECK_RC(p.again, CT_ESTOPPED);
	CHECK_RC(p.event_rc, CT_ESTOPPED);
	CHECK_RC(p.sleep0, CT_ESTOPPED);
	/* A second request changes nothing. */
	CHECK_OK(ct_thread_request_stop(t));
	ct_thread_release(t);
	CHECK(!ct_stop_requested()); /* the main thread's own flag */
}

TEST(stop_requested_before_start_is_seen_at_the_first_wait)
{
	struct stop_probe p = {.rc = 1};
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, sleep_until_stopped, &p, NULL));
	CHECK_OK(ct_thread_request_stop(t));
	CHECK_OK(ct_thread_start(t));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK(p.before);
	CHECK_RC(p.rc, CT_ESTOPPED);
	ct_thread_release(t);
}

TEST(stop_wakes_a_thread_blocked_in_join)
{
	ct_event_t ev = CT_EVENT_INIT;
	ct_thread_t *blocked = start_blocked(&ev, NULL);
	struct joiner j = {blocked, 1};
	ct_thread_release(ht_stop_when_parked(join_it, &j));
	CHECK_RC(j.rc, CT_ESTOPPED);
	CHECK(ct_thread_is_alive(blocked)); /* only the joiner was stopped */
	ct_event_set(&ev);
	join_destroy(blocked);
}

struct lock_probe {
	ct_lock_t lock;
	atomic_bool released;
	bool saw_release, stopped;
};

static int acquire_plain(void *arg)
{
	struct lock_probe *p = arg;
	ct_lock_acquire(&p->lock);
	p->saw_release = atomic_load(&p->released);
	p->stopped = ct_stop_requested();
	ct_lock_release(&p->lock);
	return 0;
}

TEST(stop_does_not_cut_a_plain_wait_short)
{
	struct lock_probe p = {.lock = CT_LOCK_INIT};
	ct_lock_acquire(&p.lock);
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, acquire_plain, &p, NULL));
	CHECK_OK(ct_thread_start(t));
	ht_wait_parked(t);
	CHECK_OK(ct_thread_request_stop(t));
	/* Still waiting for the lock a while after the stop. */
	CHECK_RC(ct_thread_join(t, 0.1), CT_ETIMEDOUT);
	atomic_store(&p.released, true);
	ct_lock_release(&p.lock);
	join_destroy(t);
	CHECK(p.saw_release);
	CHECK(p.stopped);
}

/* ---- sleep --------------------------------------------------------------- */

TEST(sleep_never_returns_early)
{
	const double lengths[] = {1e-6, 0.001, 0.01, 0.05};
	for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
		double t0 = ht_now();
		CHECK_OK(ct_sleep(lengths[i]));
		CHECK(ht_now() - t0 >= lengths[i]);
	}
	CHECK_OK(ct_sleep(0));
	CHECK_OK(ct_sleep(-0.0));
}

/* ---- fork ---------------------------------------------------------------- */

struct fork_probe {
	ct_thread_t *waiting, *sleeping, *original_main;
	ct_event_t *event;
	bool foreign;
	int status;
};

static int sleep_forever(void *arg)
{
	(void)arg;
	ct_sleep(CT_TIMEOUT_MAX);
	return 0;
}

/* In the child: what must hold; returns a distinct code per failure. */
static int child_checks(struct fork_probe *p)
{
	if (ct_current_thread() != ct_main_thread())
		return 10;
	if (ct_thread_is_alive(p->waiting) || ct_thread_is_alive(p->sleeping))
		return 11;
	if (p->original_main && ct_thread_is_alive(p->original_main))
		return 12;
	if (ct_active_count() != 1)
		return 13;
	if (ct_thread_join(p->waiting, CT_FOREVER) != 0)
		return 14;
	if (ct_thread_native_id(ct_current_thread()) != gettid_now())
		return 15;
	/* A thread cthreading never saw becomes a "MainThread", as in Python. */
	if (p->foreign && (strcmp(ct_thread_name(ct_main_thread()), "MainThread") != 0 ||
			   ct_thread_daemon(ct_main_thread())))
		return 19;
	/* The queues the parent's threads were parked in are usable. */
	ct_event_set(p->event);
	int value = 0;
	ct_thread_t *t;
	if (ct_thread_new(&t, store_42, &value, NULL) != 0 || ct_thread_start(t) != 0)
		return 16;
	if (ct_thread_join(t, CT_FOREVER) != 0 || value != 42)
		return 17;
	ct_thread_release(t);
	if (ct_active_count() != 1)
		return 18;
	return 0;
}

static int fork_and_check(void *arg)
{
	struct fork_probe *p = arg;
	pid_t pid = fork();
	if (pid == 0)
		HT_CHILD_EXIT(child_checks(p));
	p->status = -1;
	if (pid > 0)
		waitpid(pid, &p->status, 0);
	return 0;
}

static void *fork_from_foreign(void *arg)
{
	fork_and_check(arg);
	return NULL;
}

static void fork_test(bool from_foreign)
{
	ct_event_t ev = CT_EVENT_INIT;
	struct fork_probe p = {.event = &ev, .foreign = from_foreign, .status = -1};
	p.waiting = start_blocked(&ev, NULL);
	CHECK_OK(ct_thread_new(&p.sleeping, sleep_forever, NULL, NULL));
	CHECK_OK(ct_thread_start(p.sleeping));
	ht_wait_parked(p.waiting);
	ht_wait_parked(p.sleeping);
	/* From a foreign thread, the static main record is taken over by the
	 * forking thread, so only the other case can check it is not alive. */
	p.original_main = from_foreign ? NULL : ct_main_thread();
	if (from_foreign) {
		pthread_t pt;
		CHECK_EQ(pthread_create(&pt, NULL, fork_from_foreign, &p), 0);
		CHECK_EQ(pthread_join(pt, NULL), 0);
	} else {
		run_in_thread(fork_and_check, &p, NULL);
	}
	CHECK(WIFEXITED(p.status));
	CHECK_EQ(WEXITSTATUS(p.status), 0);
	/* The parent is untouched. */
	CHECK(ct_thread_is_alive(p.waiting) && ct_thread_is_alive(p.sleeping));
	CHECK(ct_current_thread() == ct_main_thread());
	ct_event_set(&ev);
	CHECK_OK(ct_thread_request_stop(p.sleeping));
	join_destroy(p.waiting);
	join_destroy(p.sleeping);
}

TEST(fork_child_can_use_threads)
{
	fork_test(false);
}

TEST(fork_from_a_foreign_thread)
{
	fork_test(true);
}

/* The registry must be whole in a fork child, so fork() waits while
 * another thread holds the registry lock (here inside an enumerate
 * callback; otherwise a thread being added or removed), and the child then
 * finds itself alone. */
struct enum_blocker {
	ct_event_t inside, release, go, forked;
	int status;
};

static void block_in_enumerate(ct_thread_t *t, void *arg)
{
	struct enum_blocker *b = arg;
	(void)t;
	ct_event_set(&b->inside);
	ct_event_wait(&b->release, CT_FOREVER);
}

static int enumerate_blocked(void *arg)
{
	ct_enumerate(block_in_enumerate, arg);
	return 0;
}

static int fork_alone(void *arg)
{
	struct enum_blocker *b = arg;
	ct_event_wait(&b->go, CT_FOREVER);
	pid_t pid = fork();
	if (pid == 0)
		HT_CHILD_EXIT(
			ct_active_count() == 1 && ct_current_thread() == ct_main_thread() ? 0 : 20);
	if (pid > 0)
		waitpid(pid, &b->status, 0);
	ct_event_set(&b->forked);
	return 0;
}

TEST(fork_waits_for_the_registry)
{
	struct enum_blocker b = {CT_EVENT_INIT, CT_EVENT_INIT, CT_EVENT_INIT, CT_EVENT_INIT, -1};
	/* Started first: starting a thread takes the registry lock too. */
	ct_thread_t *e, *f;
	CHECK_OK(ct_thread_new(&f, fork_alone, &b, NULL));
	CHECK_OK(ct_thread_start(f));
	CHECK_OK(ct_thread_new(&e, enumerate_blocked, &b, NULL));
	CHECK_OK(ct_thread_start(e));
	CHECK_OK(ct_event_wait(&b.inside, CT_FOREVER));
	ct_event_set(&b.go);
	CHECK_RC(ct_event_wait(&b.forked, 0.1), CT_ETIMEDOUT); /* held in fork() */
	ct_event_set(&b.release);
	CHECK_OK(ct_event_wait(&b.forked, CT_FOREVER));
	join_destroy(f);
	join_destroy(e);
	CHECK(WIFEXITED(b.status));
	CHECK_EQ(WEXITSTATUS(b.status), 0);
}

/* ---- injected failures ---------------------------------------------------- */

TEST(thread_creation_failure)
{
	size_t live = ct__thread_records_live();
	int value = 0;
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, store_42, &value, NULL));
	ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 1);
	CHECK_RC(ct_thread_start(t), CT_EAGAIN);
	CHECK_STR(ct_strerror(CT_EAGAIN), "can't start new thread");
	CHECK(!ct_thread_is_alive(t));
	CHECK(!enumerated(t));
	CHECK_EQ(ct_active_count(), 1);
	CHECK_EQ(ct_thread_ident(t), 0);
	CHECK_EQ(ct_thread_native_id(t), 0);
	CHECK_RC(ct_thread_join(t, CT_FOREVER), CT_ENOTSTARTED);
	CHECK_OK(ct_thread_set_daemon(t, false)); /* still unstarted */
	/* The same object starts later and runs. */
	CHECK_OK(ct_thread_start(t));
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	CHECK_EQ(value, 42);
	ct_thread_release(t);

	ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 1);
	CHECK_RC(ct_thread_spawn(store_42, &value, NULL), CT_EAGAIN);
	ht_wait_records(live);
	CHECK_EQ(ct_active_count(), 1);
}

struct failing_starts {
	ct_thread_t *t;
	atomic_bool done;
	atomic_long joins, shutdowns, ids;
};

/* Joins a thread whose starts keep failing: each join sees it unstarted,
 * or catches it inside a failing start and must then learn that it did
 * not start (a join left asleep there would never end). */
static int join_failing(void *arg)
{
	struct failing_starts *f = arg;
	while (!atomic_load(&f->done)) {
		int rc = ct_thread_join(f->t, CT_FOREVER);
		if (rc != CT_ENOTSTARTED)
			ht_fail(__FILE__, __LINE__, "join returned %d", rc);
		atomic_fetch_add(&f->joins, 1);
	}
	return 0;
}

/* The same for the exit rule's wait, through ct_shutdown. */
static int shutdown_failing(void *arg)
{
	struct failing_starts *f = arg;
	while (!atomic_load(&f->done)) {
		CHECK_OK(ct_shutdown(CT_FOREVER));
		atomic_fetch_add(&f->shutdowns, 1);
	}
	return 0;
}

/* And for native_id, which waits for a started thread to publish it. */
static int native_id_failing(void *arg)
{
	struct failing_starts *f = arg;
	while (!atomic_load(&f->done)) {
		CHECK_EQ(ct_thread_native_id(f->t), 0);
		atomic_fetch_add(&f->ids, 1);
	}
	return 0;
}

TEST(waits_racing_with_a_failing_start)
{
	struct failing_starts f = {.joins = 0};
	CHECK_OK(ct_thread_new(&f.t, nothing, NULL, NULL));
	/* Daemons, so that the shutdown loop waits for neither of them. */
	const ct_thread_opts daemon = {.daemon = CT_DAEMON};
	ct_target_fn racers[3] = {join_failing, shutdown_failing, native_id_failing};
	ct_thread_t *t[3];
	for (int i = 0; i < 3; i++) {
		CHECK_OK(ct_thread_new(&t[i], racers[i], &f, &daemon));
		CHECK_OK(ct_thread_start(t[i]));
	}
	/* Enough rounds for both waiters to have raced many starts. */
	for (long i = 0; i < 20000 || atomic_load(&f.joins) < 1000 ||
			 atomic_load(&f.shutdowns) < 1000 || atomic_load(&f.ids) < 1000;
	     i++) {
		ct__fault_set(CT__FAULT_THREAD_CREATE, 0, 1);
		CHECK_RC(ct_thread_start(f.t), CT_EAGAIN);
	}
	atomic_store(&f.done, true);
	for (int i = 0; i < 3; i++)
		join_destroy(t[i]);
	ct_thread_release(f.t);
}

/* Makes the @p nth allocation from now (0: the next) fail, once. */
static void fail_alloc(long nth)
{
	ct__fault_set(CT__FAULT_ALLOC, nth, 1);
}

TEST(allocation_failure_in_new_and_init)
{
	size_t live = ct__thread_records_live();
	const ct_thread_opts named = {.name = "worker"};
	for (long nth = 0; nth < 2; nth++) { /* the record, then the name */
		ct_thread_t *t = NULL;
		fail_alloc(nth);
		CHECK_RC(ct_thread_new(&t, foo, NULL, NULL), CT_ENOMEM);
		CHECK_EQ(ct__thread_records_live(), live);
		fail_alloc(nth);
		CHECK_RC(ct_thread_new(&t, foo, NULL, &named), CT_ENOMEM);
		CHECK_EQ(ct__thread_records_live(), live);
		struct counter_thread c = {.start = 0};
		fail_alloc(nth);
		CHECK_RC(ct_thread_init(&c.thread, NULL, NULL,
					&(ct_thread_opts){.run = counter_run}),
			 CT_ENOMEM);
		CHECK_EQ(ct__thread_records_live(), live);
		/* The object can be initialised again and used. */
		CHECK_OK(ct_thread_init(&c.thread, NULL, NULL,
					&(ct_thread_opts){.run = counter_run}));
		CHECK_OK(ct_thread_start(&c.thread));
		CHECK_OK(ct_thread_join(&c.thread, CT_FOREVER));
		CHECK_EQ(c.result, 1);
		ct_thread_destroy(&c.thread);
		ht_wait_records(live);
	}
	/* A target name too long for the name buffer takes another path. */
	char target[201];
	memset(target, 'y', 200);
	target[200] = '\0';
	ct_thread_t *t;
	fail_alloc(1);
	CHECK_RC(ct_thread_new_named(&t, foo, target, NULL, NULL), CT_ENOMEM);
	ht_wait_records(live);
}

TEST(allocation_failure_in_spawn)
{
	size_t live = ct__thread_records_live();
	int value = 0;
	for (long nth = 0; nth < 2; nth++) {
		fail_alloc(nth);
		CHECK_RC(ct_thread_spawn(store_42, &value, NULL), CT_ENOMEM);
		CHECK_EQ(ct__thread_records_live(), live);
	}
	CHECK_EQ(ct_active_count(), 1);
	CHECK_EQ(value, 0);
	CHECK_OK(ct_thread_spawn(store_42, &value, NULL));
	CHECK_OK(ct_shutdown(CT_FOREVER));
	CHECK_EQ(value, 42);
	ht_wait_records(live);
}

TEST(allocation_failure_in_set_name)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, foo, NULL, &(ct_thread_opts){.name = "kept"}));
	fail_alloc(0);
	CHECK_RC(ct_thread_set_name(t, "lost"), CT_ENOMEM);
	CHECK_STR(ct_thread_name(t), "kept");
	ct_thread_release(t);
}

/* ---- fire-and-forget ---------------------------------------------------- */

static atomic_long spawned_ran;

static int count_run(void *arg)
{
	(void)arg;
	atomic_fetch_add_explicit(&spawned_ran, 1, memory_order_relaxed);
	return 0;
}

/* Threads whose handle nobody keeps are reclaimed when they end: every
 * record comes back (checked here in every build, and by LeakSanitizer at
 * the exit of the ASan build). */
TEST(fire_and_forget_threads_are_reclaimed)
{
	size_t live = ct__thread_records_live();
	const long n = ht_slowed() ? 1000 : 10000, batch = 500;
	for (long i = 0; i < n; i++) {
		CHECK_OK(ct_thread_spawn(count_run, NULL, NULL));
		/* Bounded in flight, so thread limits are never the question. */
		if (i % batch == batch - 1)
			CHECK_OK(ct_shutdown(CT_FOREVER));
	}
	CHECK_OK(ct_shutdown(CT_FOREVER));
	CHECK_EQ(atomic_load(&spawned_ran), n);
	CHECK_EQ(ct_active_count(), 1);
	ht_wait_records(live);
}

/* ---- misuse: every error, with Python's wording ------------------------- */

/* Calls op(t, x) on a thread that is running (blocked) and returns what op
 * returned. */
static int on_running_thread(int (*op)(ct_thread_t *t, double x), double x)
{
	ct_event_t ev = CT_EVENT_INIT;
	ct_thread_t *t = start_blocked(&ev, NULL);
	int rc = op(t, x);
	ct_event_set(&ev);
	join_destroy(t);
	return rc;
}

static int start_op(ct_thread_t *t, double unused)
{
	(void)unused;
	return ct_thread_start(t);
}

static int join_op(ct_thread_t *t, double timeout)
{
	return ct_thread_join(t, timeout);
}

static int set_daemon_op(ct_thread_t *t, double unused)
{
	(void)unused;
	return ct_thread_set_daemon(t, true);
}

static int join_self_target(void *arg)
{
	*(int *)arg = ct_thread_join(ct_current_thread(), CT_FOREVER);
	return 0;
}

static int join_self(void)
{
	int rc = 1;
	run_in_thread(join_self_target, &rc, NULL);
	return rc;
}

static int join_unstarted(double timeout)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, nothing, NULL, NULL));
	int rc = ct_thread_join(t, timeout);
	ct_thread_release(t);
	return rc;
}

static int new_with_stack(size_t size)
{
	ct_thread_t *t = NULL;
	int rc = ct_thread_new(&t, nothing, NULL, &(ct_thread_opts){.stack_size = size});
	if (rc == 0)
		ct_thread_release(t);
	return rc;
}

static int set_name_null(void)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, nothing, NULL, NULL));
	int rc = ct_thread_set_name(t, NULL);
	ct_thread_release(t);
	return rc;
}

#define STACK_MSG "size not valid: the stack size must be 0 or at least 32768 bytes"

MISUSE(start_twice, CT_ESTARTED, "threads can only be started once", on_running_thread(start_op, 0))
MISUSE(start_main_thread, CT_ESTARTED, "threads can only be started once",
       ct_thread_start(ct_main_thread()))
MISUSE(join_self, CT_EJOINSELF, "cannot join current thread", join_self())
MISUSE(join_main_from_main, CT_EJOINSELF, "cannot join current thread",
       ct_thread_join(ct_main_thread(), CT_FOREVER))
MISUSE(join_before_start, CT_ENOTSTARTED, "cannot join thread before it is started",
       join_unstarted(CT_FOREVER))
MISUSE(join_before_start_timeout, CT_ENOTSTARTED, "cannot join thread before it is started",
       join_unstarted(0.5))
MISUSE(daemon_after_start, CT_EDAEMON, "cannot set daemon status of active thread",
       on_running_thread(set_daemon_op, 0))
MISUSE(daemon_of_main_thread, CT_EDAEMON, "cannot set daemon status of active thread",
       ct_thread_set_daemon(ct_main_thread(), true))
MISUSE(stack_size_set_too_small, CT_ESTACKSIZE, STACK_MSG, ct_stack_size_set(32767))
MISUSE(stack_size_set_one, CT_ESTACKSIZE, STACK_MSG, ct_stack_size_set(1))
MISUSE(stack_size_opts_too_small, CT_ESTACKSIZE, STACK_MSG, new_with_stack(32767))
MISUSE(join_timeout_too_large, CT_ETOOLARGE, "timeout value is too large",
       on_running_thread(join_op, CT_TIMEOUT_MAX * 2))
MISUSE(join_timeout_infinite, CT_ETOOLARGE, "timeout value is too large",
       on_running_thread(join_op, INFINITY))
MISUSE(join_timeout_nan, CT_EINVAL, "invalid argument", on_running_thread(join_op, NAN))
MISUSE(sleep_too_long, CT_ETOOLARGE, "timeout value is too large", ct_sleep(CT_TIMEOUT_MAX * 2))
MISUSE(sleep_negative, CT_EINVAL, "invalid argument", ct_sleep(-1))
MISUSE(sleep_nan, CT_EINVAL, "invalid argument", ct_sleep(NAN))
MISUSE(init_null, CT_EINVAL, "invalid argument", ct_thread_init(NULL, nothing, NULL, NULL))
MISUSE(new_null, CT_EINVAL, "invalid argument", ct_thread_new(NULL, nothing, NULL, NULL))
MISUSE(start_null, CT_EINVAL, "invalid argument", ct_thread_start(NULL))
MISUSE(join_null, CT_EINVAL, "invalid argument", ct_thread_join(NULL, CT_FOREVER))
MISUSE(set_name_null_thread, CT_EINVAL, "invalid argument", ct_thread_set_name(NULL, "x"))
MISUSE(set_name_null_name, CT_EINVAL, "invalid argument", set_name_null())
MISUSE(set_daemon_null, CT_EINVAL, "invalid argument", ct_thread_set_daemon(NULL, true))
MISUSE(request_stop_null, CT_EINVAL, "invalid argument", ct_thread_request_stop(NULL))

/* The accessors that cannot report an error are safe on NULL. */
TEST(accessors_on_null)
{
	CHECK(!ct_thread_is_alive(NULL));
	CHECK_STR(ct_thread_name(NULL), "");
	CHECK(!ct_thread_daemon(NULL));
	CHECK_EQ(ct_thread_ident(NULL), 0);
	CHECK_EQ(ct_thread_native_id(NULL), 0);
	ct_thread_destroy(NULL);
}
