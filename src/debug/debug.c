/* The switch (CTHREADING=..., ct_debug_configure()), the per-thread
 * records, object names and the signal dumper. */
#include "debug/debug_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/internal.h"
#include "cthreading/once.h"
#include "cthreading/thread.h"

struct dbg_state dbg = {.threads_lock = CT__RAWLOCK_INIT, .report_lock = CT__RAWLOCK_INIT};

/* ---- the clock ------------------------------------------------------------
 *
 * Every timestamp of this layer is in ticks: the CPU's time-stamp counter
 * on x86-64 (a few ns to read where clock_gettime() takes 20 to 50 on a
 * virtual machine), nanoseconds elsewhere. Ticks become CLOCK_MONOTONIC
 * nanoseconds only in output, through a scale measured over 2 ms when
 * debugging is first switched on and refined over the whole run since. */

/* The calibration is made once, by a ct_once_t rather than a
 * pthread_once_t: a fork child whose parent was making it makes it again,
 * which ct_once() does (and glibc's pthread_once(), but not every C
 * library's, nor ThreadSanitizer's: its child waited forever). */
static struct {
	int64_t ticks0, ns0;
	double scale; /* ns per tick, from the first 2 ms */
	ct_once_t once;
} clk = {.scale = 1.0, .once = CT_ONCE_INIT};

int64_t ct__dbg_hold_span_ticks = DBG_HOLD_SPAN_NS;

int64_t ct__dbg_clock(void)
{
	return ct__dbg_now();
}

#if defined(__x86_64__)
static int calibrate(void *arg)
{
	(void)arg;
	clk.ticks0 = ct__dbg_now();
	clk.ns0 = ct__now_ns();
	int64_t ns;
	while ((ns = ct__now_ns()) - clk.ns0 < 2000000)
		ct__cpu_relax();
	/* The TSC runs at a constant rate: it advanced over those 2 ms. */
	clk.scale = (double)(ns - clk.ns0) / (double)(ct__dbg_now() - clk.ticks0);
	ct__dbg_hold_span_ticks = (int64_t)(DBG_HOLD_SPAN_NS / clk.scale);
	return 0;
}
#else
static int calibrate(void *arg)
{
	(void)arg;
	clk.ticks0 = clk.ns0 = ct__now_ns();
	return 0;
}
#endif

double ct__dbg_scale(void)
{
	(void)ct_once(&clk.once, calibrate, NULL); /* never fails: calibrate() returns 0 */
	int64_t ticks = ct__dbg_now(), ns = ct__now_ns();
	/* More than 100 ms after the calibration: the rate over that whole span, finer than the
	 * first 2 ms gave (the ticks advanced with the nanoseconds). */
	if (ns - clk.ns0 > 100000000)
		return (double)(ns - clk.ns0) / (double)(ticks - clk.ticks0);
	return clk.scale;
}

int64_t ct__dbg_to_ns(int64_t ticks, double scale)
{
	return clk.ns0 + (int64_t)((double)(ticks - clk.ticks0) * scale);
}

void *ct__dbg_alloc(size_t size)
{
	return ct__fault_hit(CT__FAULT_ALLOC) ? NULL : calloc(1, size);
}

FILE *ct__dbg_log(void)
{
	return dbg.log ? dbg.log : stderr;
}

/* ---- per-thread records ------------------------------------------------- */

_Thread_local struct dthread *ct__dbg_tls CT__TLS_MODEL;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* The record of a thread that ended (or is gone in a fork child) says nothing more, and may serve
 * another thread unless a trace keeps its events. */
static void record_ends(struct dthread *t)
{
	/* Relaxed: clearing publishes nothing; the release of live below orders it for a reader
	 * that acquires live. */
	DBG_FOR_HELD (t, h)
		atomic_store_explicit(&h->obj, NULL, memory_order_relaxed);
	atomic_store_explicit(&t->wait_obj, NULL, memory_order_relaxed); /* relaxed: as above */
	atomic_store_explicit(&t->live, false, memory_order_release);	 /* release: see above */
}

/* At the thread's end (its key's destructor). */
static void thread_gone(void *p)
{
	record_ends(p);
	ct__dbg_tls = NULL;
}

static void make_exit_key(void)
{
	(void)pthread_key_create(&exit_key, thread_gone);
}

void ct__dbg_thread_name(struct dthread *t, char buf[DBG_NAME_MAX])
{
	/* GCOVR_EXCL_BR_START: 100 tries all finding a rename under way: a race no test can aim at
	 */
	for (int tries = 0; tries < 100; tries++) {
		/* GCOVR_EXCL_BR_STOP */
		/* Acquire: the name's sequence number (a seqlock): pairs with the writer's
		 * release of the even number. */
		uint32_t s = atomic_load_explicit(&t->name_seq, memory_order_acquire);
		/* GCOVR_EXCL_BR_START: the name read while its thread renames itself: a race no
		 * test can aim at */
		if (s & 1)
			continue;
		/* GCOVR_EXCL_BR_STOP */
		size_t i = 0;
		for (; i < DBG_NAME_MAX - 1; i++) {
			/* Relaxed: checked by the sequence number. */
			char c = __atomic_load_n(&t->name[i], __ATOMIC_RELAXED);
			if (!c)
				break;
			buf[i] = c;
		}
		buf[i] = 0;
		/* Acquire fence: the characters before the re-check. */
		atomic_thread_fence(memory_order_acquire);
		/* Relaxed: after the fence above. */
		/* GCOVR_EXCL_BR_START: as above: a rename during the read */
		if (atomic_load_explicit(&t->name_seq, memory_order_relaxed) == s) {
			/* GCOVR_EXCL_BR_STOP */
			ct__dbg_printable(buf);
			return;
		}
	}
	snprintf(buf, DBG_NAME_MAX, "?");
}

void ct__dbg_refresh_name(struct dthread *me)
{
	/* Never makes the thread's record: that takes the registry's lock,
	 * which the hook's caller may hold (fork's handler does). */
	struct ct__thread *rec = ct__self_peek();
	/* One byte more than is kept: it says whether the name goes on. */
	char name[DBG_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s",
		 rec ? ct_thread_name(rec->self) : "(a thread cthreading does not know yet)");
	/* Relaxed: only the owner writes its name; the fence below orders the odd number before
	 * the characters. */
	uint32_t s = atomic_load_explicit(&me->name_seq, memory_order_relaxed);
	atomic_store_explicit(&me->name_seq, s + 1, memory_order_relaxed); /* relaxed: see above */
	atomic_thread_fence(memory_order_release); /* release fence: seqlock, see above */
	size_t n = 0;
	while (n < DBG_NAME_MAX - 1 && name[n])
		n++;
	/* Cut before a whole UTF-8 character, not inside one. */
	if (name[n])
		while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
			n--;
	for (size_t i = 0; i < n; i++)
		__atomic_store_n(&me->name[i], name[i], __ATOMIC_RELAXED); /* relaxed: seqlock */
	__atomic_store_n(&me->name[n], 0, __ATOMIC_RELAXED);		   /* relaxed: seqlock */
	/* Release: the even number after the name. */
	atomic_store_explicit(&me->name_seq, s + 2, memory_order_release);
}

struct dthread *ct__dbg_new_record(void)
{
	pthread_once(&exit_key_once, make_exit_key);
	struct dthread *me = NULL;
	/* Relaxed: a switch (debug_internal.h). */
	bool keep_dead = atomic_load_explicit(&dbg.mode, memory_order_relaxed) & DBG_TRACE;
	ct__rawlock_lock(&dbg.threads_lock);
	/* Relaxed: under threads_lock, which every writer of the list holds. */
	for (struct dthread *t = atomic_load_explicit(&dbg.threads, memory_order_relaxed); t;
	     t = t->next)
		if (!keep_dead && !t->trace &&
		    /* Acquire: pairs with record_ends()'s release, which its thread makes
		     * without threads_lock: what it did with the record before (its last
		     * hook's busy count) comes before our use of it. */
		    !atomic_load_explicit(&t->live, memory_order_acquire)) {
			me = t;
			break;
		}
	if (!me) {
		me = ct__dbg_alloc(sizeof *me);
		if (me) {
			/* Relaxed: under threads_lock. */
			me->next = atomic_load_explicit(&dbg.threads, memory_order_relaxed);
			/* Release: walkers without the lock acquire it. */
			atomic_store_explicit(&dbg.threads, me, memory_order_release);
		}
	}
	if (me) {
		/* Relaxed: snapshots for reports (debug_internal.h); the record was published
		 * (or reused) under threads_lock. */
		atomic_store_explicit(&me->ident, (unsigned long)pthread_self(),
				      memory_order_relaxed);
		/* Relaxed: as above. */
		atomic_store_explicit(&me->native_id, (long)syscall(SYS_gettid),
				      memory_order_relaxed);
		/* Relaxed: as above. */
		atomic_store_explicit(&me->live, true, memory_order_relaxed);
	}
	ct__rawlock_unlock(&dbg.threads_lock);
	if (!me)
		return NULL;
	ct__dbg_tls = me;
	(void)pthread_setspecific(exit_key, me);
	me->busy++;
	ct__dbg_refresh_name(me); /* may take the registry's lock: hooks off */
	me->busy--;
	return me;
}

/* ---- names -------------------------------------------------------------- */

#define NAME_BUCKETS 256

struct name_entry {
	struct name_entry *next;
	const void *obj;
	char name[];
};

static struct {
	struct ct__rawlock lock;
	struct name_entry *buckets[NAME_BUCKETS];
	_Atomic size_t count;
} names = {.lock = CT__RAWLOCK_INIT};

static struct name_entry **name_bucket(const void *obj)
{
	uint64_t h = (uint64_t)(uintptr_t)obj * UINT64_C(0x9E3779B97F4A7C15);
	return &names.buckets[h >> 56];
}

/* Unlinks @p obj's entry; returns it (to free) or NULL. Under names.lock. */
static struct name_entry *name_unlink_locked(const void *obj)
{
	for (struct name_entry **p = name_bucket(obj); *p; p = &(*p)->next)
		if ((*p)->obj == obj) {
			struct name_entry *e = *p;
			*p = e->next;
			/* Relaxed: under names.lock; read as a hint. */
			atomic_fetch_sub_explicit(&names.count, 1, memory_order_relaxed);
			return e;
		}
	return NULL;
}

int ct_object_set_name(const void *object, const char *name)
{
	if (!object)
		return CT_EINVAL;
	struct name_entry *e = NULL;
	if (name) {
		size_t len = strlen(name);
		e = ct__dbg_alloc(sizeof *e + len + 1);
		if (!e)
			return CT_ENOMEM;
		e->obj = object;
		memcpy(e->name, name, len + 1);
	}
	ct__rawlock_lock(&names.lock);
	struct name_entry *old = name_unlink_locked(object);
	if (e) {
		struct name_entry **b = name_bucket(object);
		e->next = *b;
		*b = e;
		/* Relaxed: under names.lock; read as a hint. */
		atomic_fetch_add_explicit(&names.count, 1, memory_order_relaxed);
	}
	ct__rawlock_unlock(&names.lock);
	free(old);
	if (e) /* destroy functions now tell us to drop it */
		ct__debug_install(&ct__dbg_hooks,
				  atomic_load(&ct__debug_flags) | CT__DEBUG_OBJECTS);
	return 0;
}

size_t ct_object_get_name(const void *object, char *buf, size_t size)
{
	/* Relaxed: a hint that saves the lock when nothing is named; a name set concurrently
	 * with this call may or may not be seen, either way is right. */
	if (!object || atomic_load_explicit(&names.count, memory_order_relaxed) == 0)
		return 0;
	size_t len = 0;
	ct__rawlock_lock(&names.lock);
	for (struct name_entry *e = *name_bucket(object); e; e = e->next)
		if (e->obj == object) {
			len = strlen(e->name);
			if (buf && size) {
				size_t n = len < size - 1 ? len : size - 1;
				memcpy(buf, e->name, n);
				buf[n] = 0;
			}
			break;
		}
	ct__rawlock_unlock(&names.lock);
	return len;
}

static const char *const kind_names[CT__OBJ_KINDS] = {
	[CT__OBJ_UNKNOWN] = "object",
	[CT__OBJ_LOCK] = "lock",
	[CT__OBJ_RLOCK] = "rlock",
	[CT__OBJ_RWLOCK] = "rwlock",
	[CT__OBJ_RWLOCK_READERS] = "rwlock (its readers)",
	[CT__OBJ_CONDITION] = "condition",
	[CT__OBJ_SEMAPHORE] = "semaphore",
	[CT__OBJ_EVENT] = "event",
	[CT__OBJ_BARRIER] = "barrier",
	[CT__OBJ_LATCH] = "latch",
	[CT__OBJ_ONCE] = "once",
	[CT__OBJ_QUEUE] = "queue",
	[CT__OBJ_QUEUE_EMPTY] = "queue",
	[CT__OBJ_QUEUE_FULL] = "queue",
	[CT__OBJ_SIMPLEQUEUE] = "simple queue",
	[CT__OBJ_FUTURE] = "future",
	[CT__OBJ_EXECUTOR] = "executor",
	[CT__OBJ_THREAD] = "thread",
	[CT__OBJ_GIL] = "GIL",
	[CT__OBJ_SLEEP] = "sleep",
};

const char *ct__dbg_kind_name(unsigned kind)
{
	return kind_names[kind]; /* every kind is named above */
}

void ct__dbg_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void ct__dbg_describe(const void *obj, unsigned kind, char *buf, size_t size)
{
	char name[DBG_NAME_MAX];
	const char *k = ct__dbg_kind_name(kind);
	if (ct_object_get_name(obj, name, sizeof name)) {
		ct__dbg_printable(name);
		snprintf(buf, size, "%s \"%s\"", k, name);
	} else {
		snprintf(buf, size, "%s %p", k, obj);
	}
}

void ct__dbg_site(void *pc, char *buf, size_t size)
{
	Dl_info info;
	if (!pc) {
		snprintf(buf, size, "?");
		return;
	}
	if (dladdr(pc, &info) &&
	    /* GCOVR_EXCL_BR_START: glibc and musl name the main program by its argv[0], NULL
	     * only for a program started with an empty argv, which Linux has replaced by ""
	     * since 5.18: one kernel's property */
	    info.dli_fname) {
		/* GCOVR_EXCL_BR_STOP */
		const char *file = strrchr(info.dli_fname, '/');
		file = file ? file + 1 : info.dli_fname;
		if (info.dli_sname)
			snprintf(buf, size, "%s+0x%lx (%s)", info.dli_sname,
				 (unsigned long)((char *)pc - (char *)info.dli_saddr), file);
		else
			snprintf(buf, size, "%s+0x%lx", file,
				 (unsigned long)((char *)pc - (char *)info.dli_fbase));
		return;
	}
	snprintf(buf, size, "%p", pc);
}

/* The hook of every destroy function: the object's address may serve
 * another object from now on. */
static void forget_object(const void *obj)
{
	/* Relaxed: a hint, as in ct_object_get_name(); a destroy is not concurrent with the
	 * naming of its own object. */
	if (atomic_load_explicit(&names.count, memory_order_relaxed)) {
		ct__rawlock_lock(&names.lock);
		struct name_entry *e = name_unlink_locked(obj);
		ct__rawlock_unlock(&names.lock);
		if (e)
			ct__dbg_name_dropped(obj, e->name);
		free(e);
	}
	ct__dbg_forget_orders(obj);
}

/* Serialises ct_debug_configure() (and what runs under it, below). A fork
 * child makes it anew (after_fork_child()): a thread of the parent that
 * held it does not exist there. */
static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the signal dumper -------------------------------------------------- */

/* The pipe and the dumper thread reading it, made once per process (a fork
 * child makes its own: dumper_after_fork_child()); under config_lock, or
 * in a one-thread fork child. The handler writes to dump_wfd only in the
 * process that made it (dump_owner): a fork child's signal never wakes its
 * parent's dumper, even before the child has its own. Seq_cst (the
 * default) for these two: the handler may interrupt the very thread that
 * changes them, and must see the new descriptor before the new owner. */
static int dump_pipe[2] = {-1, -1};
static _Atomic int dump_wfd = -1;
static _Atomic pid_t dump_owner;
static _Atomic unsigned long dumper_ident;

/* The signal dumps are on: their signal, and what it did before (given
 * back by `off` or a dump= on another signal). Under config_lock. */
static int dump_sig;
static struct sigaction dump_prev;

static void on_dump_signal(int sig)
{
	(void)sig;
	int saved = errno;
	/* getpid() and write() are async-signal-safe; a full pipe drops the byte. */
	/* GCOVR_EXCL_BR_START: another process's pipe only in a fork child between the fork and
	 * its handler making the child's own (or after that failed): a window no test can aim at
	 */
	if (getpid() == atomic_load(&dump_owner)) {
		/* GCOVR_EXCL_BR_STOP */
		char c = 1;
		ssize_t n = write(atomic_load(&dump_wfd), &c, 1);
		(void)n;
	}
	errno = saved;
}

/* One dump to the log. Written to memory first, then to the log under
 * report_lock: a `log=` setting may close the log's FILE meanwhile (it
 * swaps it under that lock), and no other report cuts into the dump. */
static void dump_to_log(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	/* GCOVR_EXCL_BR_START: open_memstream() failing for want of memory, which the fault
	 * injection does not reach (libc allocates) */
	if (mem) {
		/* GCOVR_EXCL_BR_STOP */
		(void)ct_dump(mem);
		fclose(mem);
	}
	ct__rawlock_lock(&dbg.report_lock);
	FILE *out = ct__dbg_log();
	/* GCOVR_EXCL_BR_START: as above */
	if (text)
		/* GCOVR_EXCL_BR_STOP */
		fwrite(text, 1, len, out);
	else
		fputs("cthreading: no memory for a thread dump\n", out);
	fflush(out);
	ct__rawlock_unlock(&dbg.report_lock);
	free(text);
}

/* Reads the pipe's end @p arg. */
static void *dumper(void *arg)
{
	int fd = (int)(intptr_t)arg;
	atomic_store(&dumper_ident, (unsigned long)pthread_self());
	for (;;) {
		char c;
		/* A handler the program installed without SA_RESTART may
		 * interrupt the read (EINTR): read again. Anything else (the
		 * program closed our descriptor, as a daemon closing every
		 * descriptor does) ends the dumps rather than spinning. */
		ssize_t got = read(fd, &c, 1);
		/* Only a failed read sets errno: a read that found the pipe
		 * closed (0) with a stale EINTR in errno must end the dumps, not
		 * spin. */
		/* GCOVR_EXCL_BR_START: the dumper's read failing: a signal aimed at the dumper
		 * thread, or the program closing the descriptor while the dumper is between two
		 * reads; neither can a test aim at */
		if (got < 0 && errno == EINTR)
			continue;
		if (got != 1)
			return NULL;
		/* GCOVR_EXCL_BR_STOP */
		dump_to_log();
	}
}

bool ct__dbg_is_dumper(unsigned long ident)
{
	/* 0: a thread that has not stored its ident yet, which is no dumper
	 * (dumper_ident is 0 too while there is none). */
	/* GCOVR_EXCL_BR_START: as in dump.c's print_ids(): a thread dumped in the instant between
	 * its pthread_create() and its start storing the ident, a race no test can aim at */
	return ident &&
	       /* GCOVR_EXCL_BR_STOP */
	       atomic_load(&dumper_ident) == ident;
}

/* Every signal name of POSIX and Linux (the C library has no portable
 * table: sigabbrev_np() is glibc's); the real-time ones are RTMIN+n and
 * RTMAX-n (signal_number()). */
static const struct {
	const char *name;
	int sig;
} signals[] = {
	{"HUP", SIGHUP},       {"INT", SIGINT},	  {"QUIT", SIGQUIT}, {"ILL", SIGILL},
	{"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},
	{"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
	{"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
	{"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
	{"TTOU", SIGTTOU},     {"URG", SIGURG},	  {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
	{"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"SYS", SIGSYS},
#ifdef SIGIOT
	{"IOT", SIGIOT},
#endif
#ifdef SIGSTKFLT
	{"STKFLT", SIGSTKFLT},
#endif
#ifdef SIGCLD
	{"CLD", SIGCLD},
#endif
#ifdef SIGWINCH
	{"WINCH", SIGWINCH},
#endif
#ifdef SIGIO
	{"IO", SIGIO},
#endif
#ifdef SIGPOLL
	{"POLL", SIGPOLL},
#endif
#ifdef SIGPWR
	{"PWR", SIGPWR},
#endif
};

/* The n of "+n" or "-n" at @p s (@p sign), at most @p most; -1 if @p s is
 * not that. */
static int offset_of(const char *s, char sign, int most)
{
	if (*s != sign || s[1] < '0' || s[1] > '9')
		return -1;
	char *end;
	long n = strtol(s + 1, &end, 10);
	return !*end && n <= most ? (int)n : -1;
}

/* RTMIN, RTMIN+n, RTMAX, RTMAX-n: the signal, or 0. */
static int realtime_signal(const char *s)
{
	int span = SIGRTMAX - SIGRTMIN, n;
	if (strncmp(s, "RTMIN", 5) == 0)
		return !s[5] ? SIGRTMIN : (n = offset_of(s + 5, '+', span)) < 0 ? 0 : SIGRTMIN + n;
	if (strncmp(s, "RTMAX", 5) == 0)
		return !s[5] ? SIGRTMAX : (n = offset_of(s + 5, '-', span)) < 0 ? 0 : SIGRTMAX - n;
	return 0;
}

/* The signal @p s names (with or without SIG, or its number), or 0. */
static int signal_number(const char *s)
{
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (strcmp(s, signals[i].name) == 0)
			return signals[i].sig;
	int rt = realtime_signal(s);
	if (rt)
		return rt;
	char *end;
	long n = strtol(s, &end, 10);
	return *s >= '0' && *s <= '9' && !*end && n > 0 && n < NSIG ? (int)n : 0;
}

/* Makes the pipe and starts the dumper reading it. Under config_lock, or
 * in a one-thread fork child. 0 or -errno. */
static int open_dumper(void)
{
	if (pipe2(dump_pipe, O_CLOEXEC) != 0)
		return -errno;
	(void)fcntl(dump_pipe[1], F_SETFL, O_NONBLOCK);
	pthread_t th;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int err = ct__fault_hit(CT__FAULT_THREAD_CREATE)
			  ? EAGAIN
			  : pthread_create(&th, &attr, dumper, (void *)(intptr_t)dump_pipe[0]);
	pthread_attr_destroy(&attr);
	if (err) {
		close(dump_pipe[0]);
		close(dump_pipe[1]);
		dump_pipe[0] = dump_pipe[1] = -1;
		return -err;
	}
	/* The descriptor before the owner: see dump_owner. */
	atomic_store(&dump_wfd, dump_pipe[1]);
	atomic_store(&dump_owner, getpid());
	return 0;
}

/* In a fork child: the parent's pipe is the parent's (its dumper reads
 * it), and the child has no dumper thread. While the signal dumps are on,
 * the child gets a pipe and a dumper of its own; else a later dump= makes
 * them. Registered when the first dumper starts, after the library's own
 * handlers: the child's are run in that order, so the library is whole
 * again before the dumper can dump. */
static void dumper_after_fork_child(void)
{
	close(dump_pipe[0]);
	close(dump_pipe[1]);
	dump_pipe[0] = dump_pipe[1] = -1;
	atomic_store(&dumper_ident, 0);
	if (dump_sig)
		(void)open_dumper(); /* failing, the child's signal dumps nothing */
}

static void register_dumper_fork(void)
{
	pthread_atfork(NULL, NULL, dumper_after_fork_child);
}

/* The signal goes back to what it did before dump= (unless the program
 * has put a handler of its own since). Under config_lock. */
static void release_signal(void)
{
	if (!dump_sig)
		return;
	struct sigaction now = {0};
	(void)sigaction(dump_sig, NULL, &now); /* cannot fail: it was set */
	if (now.sa_handler == on_dump_signal)
		(void)sigaction(dump_sig, &dump_prev, NULL);
	dump_sig = 0;
}

/* Dumps on @p sig: the dumper started if need be, then the handler, which
 * keeps what the signal did before (the first time only: again, it would
 * find our own handler). Under config_lock. */
static int start_dumper(int sig)
{
	static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
	if (dump_pipe[0] < 0) {
		int rc = open_dumper();
		if (rc < 0)
			return rc;
		pthread_once(&fork_once, register_dumper_fork);
	}
	struct sigaction sa, prev;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_dump_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, &prev) != 0)
		return -errno;
	if (sig != dump_sig) {
		release_signal();
		dump_sig = sig;
		dump_prev = prev;
	}
	return 0;
}

/* ---- settings ----------------------------------------------------------- */

/* 0, or CT_ENOMEM when @p value cannot be copied (the slot is then NULL). */
/* The old path goes only once the new one is copied: a setting that
 * fails for want of memory leaves a trace or profile that was on with the
 * file it had. */
static int replace_path(char **slot, const char *value)
{
	char *copy = value ? ct__strdup(value) : NULL;
	if (value && !copy)
		return CT_ENOMEM;
	ct__free(*slot);
	*slot = copy;
	return 0;
}

/* Applies one setting to *@p mode; 0, or CT_EINVAL (not understood, or
 * refused: *@p why then says why), CT_ENOMEM or -errno (not applied). */
static int apply(const char *key, const char *value, uint32_t *mode, const char **why)
{
	if (strcmp(key, "off") == 0 && !value) {
		*mode = 0;
		release_signal();
		return 0;
	}
	if (strcmp(key, "deadlock") == 0) {
		if (!value || strcmp(value, "abort") == 0)
			*mode = (*mode | DBG_DEADLOCK) & ~DBG_KEEP_WAITING;
		else if (strcmp(value, "report") == 0)
			*mode |= DBG_DEADLOCK | DBG_KEEP_WAITING;
		else if (strcmp(value, "off") == 0)
			*mode &= ~(DBG_DEADLOCK | DBG_KEEP_WAITING);
		else
			return CT_EINVAL;
		return 0;
	}
	if (strcmp(key, "dump") == 0) {
		int sig = value ? signal_number(value) : SIGQUIT;
		if (!sig)
			return CT_EINVAL;
		if (sig == SIGKILL || sig == SIGSTOP) {
			*why = "SIGKILL and SIGSTOP cannot be caught";
			return CT_EINVAL;
		}
		int rc = start_dumper(sig);
		if (rc == CT_EINVAL) /* sigaction()'s: a signal the C library keeps */
			*why = "the system does not let it be caught";
		if (rc == 0)
			*mode |= DBG_DUMP; /* a dump without the waits would say little */
		return rc;
	}
	if (strcmp(key, "trace") == 0) {
		if (!value || !*value)
			return CT_EINVAL;
		if (replace_path(&dbg.trace_path, value) < 0)
			return CT_ENOMEM;
		*mode |= DBG_TRACE;
		return 0;
	}
	if (strcmp(key, "profile") == 0) {
		bool to_stderr = !value || strcmp(value, "-") == 0;
		if (replace_path(&dbg.profile_path, to_stderr ? NULL : value) < 0)
			return CT_ENOMEM;
		dbg.profile_stderr = to_stderr;
		*mode |= DBG_PROFILE;
		return 0;
	}
	if (strcmp(key, "log") == 0) {
		if (!value || !*value)
			return CT_EINVAL;
		bool std_stream = strcmp(value, "-") == 0 || strcmp(value, "stdout") == 0;
		FILE *f = strcmp(value, "stdout") == 0 ? stdout
			  : std_stream		       ? NULL
						       : fopen(value, "a");
		if (!f && !std_stream)
			return -errno;
		if (f && !std_stream)
			setvbuf(f, NULL, _IOLBF, 0);
		ct__rawlock_lock(&dbg.report_lock);
		FILE *old = dbg.log;
		dbg.log = f;
		ct__rawlock_unlock(&dbg.report_lock);
		if (old && old != stdout)
			fclose(old);
		return 0;
	}
	return CT_EINVAL;
}

/* @p s without the spaces around it (in place). */
static char *trim(char *s)
{
	while (*s == ' ')
		s++;
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		s[--n] = 0;
	return s;
}

/* The system's text for @p err, thread-safely (strerror_r, in glibc's
 * form or in POSIX's). */
static const char *errno_text(int err, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(err, buf, size);
#else
	return strerror_r(err, buf, size) == 0 ? buf : "unknown error";
#endif
}

/* A setting that was not applied, on stderr: not understood (CT_EINVAL),
 * refused (CT_EINVAL, @p refusal says why), or understood and failed (a
 * log file that cannot be opened...). */
static void report_setting(const char *key, const char *value, int rc, const char *refusal)
{
	const char *why = refusal	    ? "refused"
			  : rc == CT_EINVAL ? "not understood"
					    : "could not be applied";
	/* The others are errno values (a file's error), which may have no
	 * cthreading message: apply() returns no other code. */
	char buf[128];
	const char *detail = refusal	       ? refusal
			     : rc == CT_EINVAL ? ct_strerror(rc)
					       : errno_text(-rc, buf, sizeof buf);
	fprintf(stderr, "cthreading: CTHREADING: setting \"%s%s%s\" %s (%s)\n", key,
		value ? "=" : "", value ? value : "", why, detail);
}

static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;

static void register_at_exit(void)
{
	atexit(ct__dbg_write_at_exit);
}

int ct_debug_configure(const char *settings)
{
	if (!settings)
		return CT_EINVAL;
	pthread_mutex_lock(&config_lock);
	(void)ct__dbg_scale(); /* calibrates the clock, once */
	uint32_t mode = atomic_load(&dbg.mode);
	int result = 0;
	char *copy = ct__strdup(settings);
	if (!copy) {
		pthread_mutex_unlock(&config_lock);
		return CT_ENOMEM;
	}
	for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		char *value = NULL;
		if (eq) {
			*eq = 0;
			value = trim(eq + 1);
		}
		item = trim(item);
		if (!*item && !value)
			continue;
		const char *refusal = NULL;
		int rc = apply(item, value, &mode, &refusal);
		if (rc < 0) {
			report_setting(item, value, rc, refusal);
			result = rc == CT_EINVAL || result == 0 ? rc : result;
		}
	}
	ct__free(copy);
	atomic_store(&dbg.mode, mode);
	atomic_fetch_add(&dbg.gen, 1);
	if (mode & (DBG_TRACE | DBG_PROFILE))
		pthread_once(&atexit_once, register_at_exit);
	uint32_t was = atomic_load(&ct__debug_flags);
	uint32_t flags = was & CT__DEBUG_OBJECTS;
	if (mode & (DBG_DEADLOCK | DBG_TRACE | DBG_PROFILE | DBG_DUMP))
		flags |= CT__DEBUG_LOCKS | CT__DEBUG_OBJECTS;
	/* Releases made while the hooks were off went unseen: the holds
	 * recorded before count no more. */
	if ((flags & ~was) & CT__DEBUG_LOCKS)
		atomic_fetch_add(&dbg.holds_epoch, 1);
	if (mode & (DBG_TRACE | DBG_PROFILE))
		flags |= CT__DEBUG_RECORD;
	if ((flags & ~was) & CT__DEBUG_RECORD)
		atomic_fetch_add(&dbg.record_epoch, 1);
	ct__debug_install(&ct__dbg_hooks, flags);
	pthread_mutex_unlock(&config_lock);
	return result;
}

void ct__dbg_destroyed(const void *obj)
{
	forget_object(obj);
}

/* ---- fork() -------------------------------------------------------------- */

void ct__dbg_fork_lock(struct ct__rawlock *l, int phase)
{
	if (phase == CT__DBG_FORK_PREPARE)
		ct__rawlock_lock(l);
	else if (phase == CT__DBG_FORK_PARENT)
		ct__rawlock_unlock(l);
	else
		ct__rawlock_reinit(l);
}

/* Every internal lock, in the order the layer nests them (a report takes
 * names; a record walk takes the profile). */
static void fork_all(int phase)
{
	ct__dbg_fork_lock(&dbg.report_lock, phase);
	ct__dbg_fork_lock(&dbg.threads_lock, phase);
	ct__dbg_orders_fork(phase);
	ct__dbg_fork_lock(&names.lock, phase);
	ct__dbg_profile_fork(phase);
}

/* Registered before the thread layer's handlers, so this runs after
 * theirs: the gate is closed and no thread is inside a critical section
 * that could wait here. The forking thread's own hooks stay quiet until
 * the fork is over. */
static void before_fork(void)
{
	struct dthread *me = ct__dbg_tls;
	if (me)
		me->busy++;
	fork_all(CT__DBG_FORK_PREPARE);
}

static void after_fork_parent(void)
{
	fork_all(CT__DBG_FORK_PARENT);
	struct dthread *me = ct__dbg_tls;
	if (me)
		me->busy--;
}

/* In the child only the forking thread exists: the others' records hold
 * and wait for nothing, and a configure another thread was making is cut
 * where it stood (the child configures again as it needs). */
static void after_fork_child(void)
{
	pthread_mutex_init(&config_lock, NULL);
	fork_all(CT__DBG_FORK_CHILD);
	struct dthread *me = ct__dbg_tls;
	/* Relaxed: in the one-thread fork child. */
	for (struct dthread *t = atomic_load_explicit(&dbg.threads, memory_order_relaxed); t;
	     t = t->next)
		if (t != me)
			record_ends(t);
	if (me)
		me->busy--;
}

__attribute__((constructor(101))) static void register_fork_handlers(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

__attribute__((constructor)) static void read_environment(void)
{
	/* At load, before any thread of the library exists: nothing can
	 * change the environment under this read. */
	const char *env = getenv("CTHREADING"); /* NOLINT(concurrency-mt-unsafe) */
	if (env && *env)
		(void)ct_debug_configure(env);
}
