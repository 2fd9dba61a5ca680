/* Threads: records, start and join, names, the registry and the exit rule.
 *
 * Ownership. A started thread's record is reference-counted: one reference
 * for the handle (dropped by ct_thread_destroy) and one for the running
 * thread (dropped as its last act). The registry of live threads holds no
 * reference: a thread leaves it, under the registry lock, before it drops
 * its own. Whoever needs a record beyond the registry lock (the exit rule
 * waiting for a thread) takes a reference under that lock.
 *
 * The main thread's record is static; a thread started by someone else
 * gets a "dummy" record in its own TLS, removed from the registry by a
 * pthread key destructor when it ends.
 */
#include "cthreading/thread.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "core/debug_hooks.h"
#include "core/fault.h"
#include "core/fork.h"
#include "core/internal.h"
#include "cthreading/lock.h"
#include "park/park.h"
#include "thread/thread_internal.h"

#define STACK_MIN 32768u
/* Linux keeps 15 bytes of a thread's name (16 with the NUL). */
#define OS_NAME_MAX 15
#define MAX_BEFORE_EXIT 8

_Thread_local struct ct__thread *ct__tls_self CT__TLS_MODEL;
atomic_bool ct__exiting;

static _Thread_local struct ct__thread dummy_storage;
static pthread_key_t dummy_key;

/* The GIL layer's hooks (thread_internal.h), NULL until it sets them. */
static const struct ct__thread_gil_hooks *_Atomic gil_hooks;

void ct__thread_set_gil_hooks(const struct ct__thread_gil_hooks *hooks)
{
	atomic_store_explicit(&gil_hooks, hooks, memory_order_release);
}

/* Calls the GIL layer's @p what hook on @p rec, if a GIL layer is there. */
#define gil_hook(what, rec)                                                     \
	do {                                                                    \
		const struct ct__thread_gil_hooks *h_ =                         \
			atomic_load_explicit(&gil_hooks, memory_order_acquire); \
		if (h_)                                                         \
			h_->what(rec);                                          \
	} while (0)

static struct ct__thread main_storage;
static struct ct__thread *main_rec = &main_storage;

/* The registry: live threads in a circular list around `head`. */
static struct {
	ct_lock_t lock;
	struct ct__thread head;
	size_t count;
} reg = {.lock = CT_LOCK_INIT, .head = {.prev = &reg.head, .next = &reg.head}};

/* Renames against the library's own readers of a name: a new thread
 * copying its name for the OS, and a rename reaching a running thread's OS
 * name. Under this lock the old name is never freed while one of those
 * reads it, and another thread's OS name is set only while its `os_named`
 * says it runs (so its pthread id is valid). */
static ct_lock_t names_lock = CT_LOCK_INIT;
static atomic_uint name_counter; /* Python's _counter: Thread-N and Dummy-N */
/* Heap records allocated and not yet freed; the tests check that it comes
 * back to where it was (a leak check that works in every build). */
static atomic_size_t records_live;
static _Atomic size_t default_stack_size;
static _Atomic(ct_excepthook_fn) excepthook = ct_excepthook_default;
static struct {
	_Atomic(ct_thread_hook_fn) on_start, on_exit;
	_Atomic(void *) arg;
} hooks;
static void (*before_exit[MAX_BEFORE_EXIT])(void);
static atomic_uint n_before_exit;
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;

/* ---- small helpers ------------------------------------------------------ */

static long current_native_id(void)
{
#if defined(__linux__)
	return (long)syscall(SYS_gettid);
#else
	return (long)(uintptr_t)pthread_self();
#endif
}

static struct ct__thread *rec_of(const ct_thread_t *t)
{
	return t ? t->ct__impl : NULL;
}

static void registry_insert_locked(struct ct__thread *rec)
{
	rec->next = &reg.head;
	rec->prev = reg.head.prev;
	reg.head.prev->next = rec;
	reg.head.prev = rec;
	reg.count++;
}

static void registry_remove_locked(struct ct__thread *rec)
{
	rec->prev->next = rec->next;
	rec->next->prev = rec->prev;
	rec->prev = rec->next = NULL;
	reg.count--;
}

static void registry_remove(struct ct__thread *rec)
{
	ct_lock_acquire(&reg.lock);
	registry_remove_locked(rec);
	ct_lock_release(&reg.lock);
}

/* Copies a name for the OS, cut at a character boundary so that a UTF-8
 * name (the seed's are Chinese) never ends in half a character. */
static void os_name(char dst[OS_NAME_MAX + 1], const char *src)
{
	size_t n = strlen(src);
	if (n > OS_NAME_MAX) {
		n = OS_NAME_MAX;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void apply_os_name(struct ct__thread *rec, bool from_self)
{
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__)
	char buf[OS_NAME_MAX + 1];
	os_name(buf, atomic_load(&rec->name));
	pthread_t pt = from_self ? pthread_self() : (pthread_t)atomic_load(&rec->ident);
	pthread_setname_np(pt, buf);
#elif defined(__APPLE__)
	if (from_self) {
		char buf[OS_NAME_MAX + 1];
		os_name(buf, atomic_load(&rec->name));
		pthread_setname_np(buf);
	}
#else
	(void)rec;
	(void)from_self;
#endif
}

/* The default name, Python's _newname(): "Thread-N" or "Thread-N (target)".
 * The target's name comes from the macro's #target text; keep its trailing
 * identifier, so that "(ct_target_fn)foo" or "&foo" name it "foo". */
static char *default_name(const char *prefix, ct_target_fn target, const char *target_name)
{
	unsigned n = atomic_fetch_add(&name_counter, 1) + 1;
	const char *id = "";
	size_t len = 0;
	if (target && target_name) {
		const char *end = target_name + strlen(target_name);
		const char *p = end;
		while (p > target_name && (p[-1] == '_' || (p[-1] >= '0' && p[-1] <= '9') ||
					   ((p[-1] | 0x20) >= 'a' && (p[-1] | 0x20) <= 'z')))
			p--;
		id = p;
		len = (size_t)(end - p);
	}
	char buf[64];
	int k = len ? snprintf(buf, sizeof buf, "%s-%u (%.*s)", prefix, n, (int)len, id)
		    : snprintf(buf, sizeof buf, "%s-%u", prefix, n);
	if (k < 0 || (size_t)k >= sizeof buf) {
		/* A target name longer than the buffer: allocate exactly. */
		char *s = ct__malloc((size_t)k + 1);
		if (s)
			snprintf(s, (size_t)k + 1, "%s-%u (%.*s)", prefix, n, (int)len, id);
		return s;
	}
	return ct__strdup(buf);
}

static void rec_setup(struct ct__thread *rec, uint8_t kind)
{
	ct__parker_init(&rec->parker);
	atomic_init(&rec->stop, 0);
	atomic_init(&rec->native_id, 0);
	atomic_init(&rec->ident, 0);
	rec->kind = kind;
	rec->own.ct__impl = rec;
	rec->self = &rec->own;
}

static struct ct__thread *rec_alloc(void)
{
	struct ct__thread *rec = ct__calloc(1, sizeof *rec);
	if (rec)
		atomic_fetch_add_explicit(&records_live, 1, memory_order_relaxed);
	return rec;
}

static void rec_free(struct ct__thread *rec)
{
	atomic_fetch_sub_explicit(&records_live, 1, memory_order_relaxed);
	ct__free(rec);
}

size_t ct__thread_records_live(void)
{
	return atomic_load_explicit(&records_live, memory_order_relaxed);
}

static void rec_unref(struct ct__thread *rec)
{
	if (atomic_fetch_sub_explicit(&rec->refs, 1, memory_order_acq_rel) != 1)
		return;
	ct__parker_destroy(&rec->parker);
	ct__free(atomic_load(&rec->name));
	rec_free(rec);
}

/* ---- records of threads cthreading did not start ------------------------- */

static void dummy_exit(void *p)
{
	struct ct__thread *rec = p;
	/* The key's value is cleared before this runs; locals' destructors
	 * may still use cthreading, which finds the record through the TLS
	 * pointer, kept until the end. */
	ct__locals_thread_exit(rec);
	/* A thread that ends holding a GIL (an ensure never released) would
	 * leave every other thread of that GIL blocked forever. */
	gil_hook(end, rec);
	registry_remove(rec);
	ct__tls_self = NULL;
	ct__parker_destroy(&rec->parker);
	ct__free(atomic_load(&rec->name));
	atomic_store(&rec->name, NULL);
}

struct ct__thread *ct__self_slow(void)
{
	struct ct__thread *rec = &dummy_storage;
	memset(rec, 0, sizeof *rec);
	rec_setup(rec, CT__KIND_DUMMY);
	atomic_init(&rec->state, CT__T_RUNNING);
	atomic_init(&rec->daemon, true);
	atomic_store(&rec->ident, (unsigned long)pthread_self());
	atomic_store(&rec->native_id, (uint32_t)current_native_id());
	/* Without memory for a name, the thread is just nameless. */
	char *name = default_name("Dummy", NULL, NULL);
	atomic_init(&rec->name, name);
	/* Published before taking the registry lock, which may park, which
	 * needs this very record. */
	ct__tls_self = rec;
	pthread_setspecific(dummy_key, rec);
	ct_lock_acquire(&reg.lock);
	registry_insert_locked(rec);
	ct_lock_release(&reg.lock);
	return rec;
}

/* ---- creation ----------------------------------------------------------- */

static int check_opts(const ct_thread_opts *opts)
{
	if (opts->stack_size != 0 && opts->stack_size < STACK_MIN)
		return CT_ESTACKSIZE;
	return 0;
}

static bool inherit_daemon(int choice)
{
	if (choice != 0)
		return choice > 0;
	return atomic_load(&ct__self()->daemon);
}

static int thread_create(ct_thread_t *embedded, ct_target_fn target, const char *target_name,
			 void *arg, const ct_thread_opts *opts, struct ct__thread **out)
{
	static const ct_thread_opts defaults;
	if (!opts)
		opts = &defaults;
	int rc = check_opts(opts);
	if (rc < 0)
		return rc;
	struct ct__thread *rec = rec_alloc();
	if (!rec)
		return CT_ENOMEM;
	/* Python's Thread(name="") takes the default name too. */
	char *name = opts->name && opts->name[0] ? ct__strdup(opts->name)
						 : default_name("Thread", target, target_name);
	if (!name) {
		rec_free(rec);
		return CT_ENOMEM;
	}
	rec_setup(rec, CT__KIND_STARTED);
	if (embedded) {
		embedded->ct__impl = rec;
		rec->self = embedded;
	}
	atomic_init(&rec->refs, 1);
	atomic_init(&rec->state, CT__T_NEW);
	atomic_init(&rec->daemon, inherit_daemon(opts->daemon));
	atomic_init(&rec->name, name);
	rec->target = target;
	rec->arg = arg;
	rec->run = opts->run;
	rec->stack_size = opts->stack_size;
	rec->run_gil = opts->gil;
	*out = rec;
	return 0;
}

int ct_thread_init_named(ct_thread_t *t, ct_target_fn target, const char *target_name, void *arg,
			 const ct_thread_opts *opts)
{
	if (!t)
		return CT_EINVAL;
	struct ct__thread *rec;
	return thread_create(t, target, target_name, arg, opts, &rec);
}

int ct_thread_new_named(ct_thread_t **out, ct_target_fn target, const char *target_name, void *arg,
			const ct_thread_opts *opts)
{
	if (!out)
		return CT_EINVAL;
	struct ct__thread *rec;
	int rc = thread_create(NULL, target, target_name, arg, opts, &rec);
	if (rc == 0)
		*out = &rec->own;
	return rc;
}

int ct_thread_spawn_named(ct_target_fn target, const char *target_name, void *arg,
			  const ct_thread_opts *opts)
{
	ct_thread_t *t;
	int rc = ct_thread_new_named(&t, target, target_name, arg, opts);
	if (rc < 0)
		return rc;
	rc = ct_thread_start(t);
	ct_thread_destroy(t);
	return rc;
}

void ct_thread_release(ct_thread_t *t)
{
	struct ct__thread *rec = rec_of(t);
	if (rec && rec->kind == CT__KIND_STARTED)
		rec_unref(rec);
}

/* An embedded object holds the same one reference as a handle: tearing it
 * down is dropping that reference. */
void ct_thread_destroy(ct_thread_t *t)
{
	CT__DEBUG_DESTROYED(t);
	ct_thread_release(t);
}

ct_thread_t *ct_thread_ref(ct_thread_t *t)
{
	struct ct__thread *rec = rec_of(t);
	if (rec && rec->kind == CT__KIND_STARTED)
		atomic_fetch_add_explicit(&rec->refs, 1, memory_order_relaxed);
	return t;
}

/* ---- the life of a started thread --------------------------------------- */

static void report_failure(struct ct__thread *rec, int status)
{
	ct_excepthook_args args = {rec->self, status};
	ct_excepthook_fn hook = atomic_load(&excepthook);
	hook(&args);
}

void ct__thread_report_failure(int status)
{
	report_failure(ct__self(), status);
}

static void run_hook(_Atomic(ct_thread_hook_fn) *slot, struct ct__thread *rec)
{
	ct_thread_hook_fn fn = atomic_load_explicit(slot, memory_order_acquire);
	if (fn)
		fn(rec->self, atomic_load_explicit(&hooks.arg, memory_order_relaxed));
}

static int run(struct ct__thread *rec)
{
	if (rec->run)
		return rec->run(rec->self);
	return rec->target ? rec->target(rec->arg) : 0;
}

static void *trampoline(void *p)
{
	struct ct__thread *rec = p;
	ct__tls_self = rec;
	atomic_store(&rec->ident, (unsigned long)pthread_self());
	atomic_store(&rec->native_id, (uint32_t)current_native_id());
	ct__park_wake(&rec->native_id, ~0u);
	ct_lock_acquire(&names_lock);
	apply_os_name(rec, true);
	rec->os_named = true;
	ct_lock_release(&names_lock);
	if (rec->run_gil)
		gil_hook(begin, rec);

	run_hook(&hooks.on_start, rec);
	int status = run(rec);
	if (status != 0)
		report_failure(rec, status);
	run_hook(&hooks.on_exit, rec);
	ct__locals_thread_exit(rec);
	gil_hook(end, rec);

	/* Leave the registry before announcing the end, so that a joiner who
	 * then counts live threads no longer counts this one. */
	ct_lock_acquire(&names_lock); /* no rename reaches this thread from here */
	rec->os_named = false;
	ct_lock_release(&names_lock);
	registry_remove(rec);
	atomic_store_explicit(&rec->state, CT__T_FINISHED, memory_order_release);
	ct__park_wake(&rec->state, ~0u);
	ct__tls_self = NULL;
	rec_unref(rec);
	return NULL;
}

static pthread_attr_t *thread_attr(struct ct__thread *rec, pthread_attr_t *attr)
{
	size_t size = rec->stack_size ? rec->stack_size : atomic_load(&default_stack_size);
	if (size == 0)
		return NULL;
	long page = sysconf(_SC_PAGESIZE);
	if (page > 0)
		size = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	pthread_attr_init(attr);
	pthread_attr_setstacksize(attr, size);
	return attr;
}

int ct_thread_start(ct_thread_t *t)
{
	struct ct__thread *rec = rec_of(t);
	if (!rec)
		return CT_EINVAL;
	uint32_t expected = CT__T_NEW;
	if (rec->kind != CT__KIND_STARTED ||
	    !atomic_compare_exchange_strong(&rec->state, &expected, CT__T_RUNNING))
		return CT_ESTARTED;
	ct__exit_rule_arm();

	atomic_fetch_add(&rec->refs, 1); /* the running thread's */
	ct_lock_acquire(&reg.lock);
	bool exiting = atomic_load(&ct__exiting);
	if (!exiting)
		registry_insert_locked(rec);
	ct_lock_release(&reg.lock);
	int err = 0;
	if (exiting) {
		err = CT_EEXITING;
	} else {
		pthread_attr_t attr, *attrp = thread_attr(rec, &attr);
		pthread_t pt;
		if (ct__fault_hit(CT__FAULT_THREAD_CREATE))
			err = CT_EAGAIN;
		else if (pthread_create(&pt, attrp, trampoline, rec) != 0)
			err = CT_EAGAIN;
		if (attrp)
			pthread_attr_destroy(attrp);
		if (err == 0) {
			atomic_store(&rec->ident, (unsigned long)pt);
			pthread_detach(pt);
			return 0;
		}
		registry_remove(rec);
	}
	/* Nothing happened: the object is as it was, and may start later.
	 * Whoever began waiting for it meanwhile (the exit rule saw it in the
	 * registry) must learn that it will never finish. */
	atomic_fetch_sub(&rec->refs, 1);
	atomic_store(&rec->state, CT__T_NEW);
	ct__park_wake(&rec->state, ~0u);
	/* ct_thread_native_id() may be waiting too. */
	ct__park_wake(&rec->native_id, ~0u);
	return err;
}

/* Waits until rec finishes or the deadline passes; CT_ENOTSTARTED if its
 * start failed meanwhile. */
static int wait_finished(struct ct__thread *rec, int64_t deadline, unsigned flags)
{
	for (;;) {
		uint32_t s = atomic_load_explicit(&rec->state, memory_order_acquire);
		if (s != CT__T_RUNNING)
			return s == CT__T_FINISHED ? 0 : CT_ENOTSTARTED;
		CT__DEBUG_HOOK(waits_on(rec->self, CT__OBJ_THREAD));
		int rc = ct__park_wait(&rec->state, s, deadline, flags);
		if (rc < 0) {
			s = atomic_load_explicit(&rec->state, memory_order_acquire);
			return s == CT__T_RUNNING ? rc : s == CT__T_FINISHED ? 0 : CT_ENOTSTARTED;
		}
	}
}

int ct__thread_join_until(ct_thread_t *t, int64_t deadline, unsigned flags)
{
	struct ct__thread *rec = rec_of(t);
	if (!rec)
		return CT_EINVAL;
	if (atomic_load(&rec->state) == CT__T_NEW)
		return CT_ENOTSTARTED;
	if (rec == ct__tls_self)
		return CT_EJOINSELF;
	/* Python: a thread cthreading did not start has no end to wait for
	 * that the library could see ("cannot join a dummy thread"). */
	if (rec->kind == CT__KIND_DUMMY)
		return CT_EJOINDUMMY;
	if (CT__DEBUG_ON(CT__DEBUG_LOCKS)) { /* debugging: a join is watched as an acquire */
		const struct ct__debug_hooks *h = ct__debug();
		void *site = CT__CALLER();
		int rc = h->acquiring(t, CT__OBJ_THREAD, deadline, site);
		if (rc == 0)
			rc = wait_finished(rec, deadline, flags | CT__PARK_NO_SPIN);
		h->acquired(t, CT__OBJ_THREAD, site, rc, true, true);
		return rc;
	}
	return wait_finished(rec, deadline, flags | CT__PARK_NO_SPIN);
}

int ct_thread_join(ct_thread_t *t, double timeout)
{
	if (!rec_of(t))
		return CT_EINVAL;
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	return rc < 0 ? rc : ct__thread_join_until(t, deadline, CT__PARK_INTERRUPTIBLE);
}

/* ---- accessors ---------------------------------------------------------- */

bool ct_thread_is_alive(const ct_thread_t *t)
{
	struct ct__thread *rec = rec_of(t);
	return rec && atomic_load(&rec->state) == CT__T_RUNNING;
}

const char *ct_thread_name(const ct_thread_t *t)
{
	struct ct__thread *rec = rec_of(t);
	const char *name = rec ? atomic_load(&rec->name) : NULL;
	return name ? name : "";
}

int ct_thread_set_name(ct_thread_t *t, const char *name)
{
	struct ct__thread *rec = rec_of(t);
	if (!rec || !name)
		return CT_EINVAL;
	char *copy = ct__strdup(name);
	if (!copy)
		return CT_ENOMEM;
	bool from_self = rec == ct__tls_self;
	ct_lock_acquire(&names_lock);
	char *old = atomic_exchange(&rec->name, copy);
	/* A new thread that has yet to name itself in the OS will do it with
	 * the new name. A thread renaming itself is running by definition: the
	 * main thread and threads cthreading did not start, which never name
	 * themselves, take the name here (Python's name setter does the same
	 * for the current thread). */
	if (rec->os_named || from_self)
		apply_os_name(rec, from_self);
	ct_lock_release(&names_lock);
	ct__free(old);
	return 0;
}

bool ct_thread_daemon(const ct_thread_t *t)
{
	struct ct__thread *rec = rec_of(t);
	return rec && atomic_load(&rec->daemon);
}

int ct_thread_set_daemon(ct_thread_t *t, bool daemon)
{
	struct ct__thread *rec = rec_of(t);
	if (!rec)
		return CT_EINVAL;
	if (atomic_load(&rec->state) != CT__T_NEW || rec->kind != CT__KIND_STARTED)
		return CT_EDAEMON;
	atomic_store(&rec->daemon, daemon);
	return 0;
}

unsigned long ct_thread_ident(const ct_thread_t *t)
{
	struct ct__thread *rec = rec_of(t);
	return rec ? atomic_load(&rec->ident) : 0;
}

/* Under the bucket lock: the id is still unknown and the thread started.
 * Both words matter: the new thread publishes the id, a failed start
 * resets the state, and each wakes this key after its store. */
static bool native_id_pending(void *ctx)
{
	struct ct__thread *rec = ctx;
	return atomic_load(&rec->native_id) == 0 && atomic_load(&rec->state) != CT__T_NEW;
}

long ct_thread_native_id(const ct_thread_t *t)
{
	static const struct ct__park_ops ops = {.validate = native_id_pending};
	struct ct__thread *rec = rec_of(t);
	if (!rec)
		return 0;
	/* Started but maybe not yet running its first instructions. */
	while (native_id_pending(rec)) {
		uintptr_t token;
		ct__park(&rec->native_id, &ops, rec, CT__NO_DEADLINE, CT__PARK_NO_SPIN, &token);
	}
	return (long)atomic_load(&rec->native_id);
}

int ct_thread_request_stop(ct_thread_t *t)
{
	struct ct__thread *rec = rec_of(t);
	if (!rec)
		return CT_EINVAL;
	/* Pairs with the fence in ct__park(): set the flag, then interrupt.
	 * Either the waiter sees the flag before sleeping, or we see its
	 * parker armed. */
	atomic_store(&rec->stop, 1);
	ct__parker_interrupt(&rec->parker);
	return 0;
}

bool ct_stop_requested(void)
{
	return atomic_load_explicit(&ct__self()->stop, memory_order_relaxed) != 0;
}

int ct_sleep(double seconds)
{
	if (!(seconds >= 0))
		return CT_EINVAL;
	int64_t deadline;
	int rc = ct__deadline(seconds, &deadline);
	if (rc < 0)
		return rc;
	if (seconds == 0) {
		/* time.sleep(0): give up the CPU (and the GIL) for a moment. */
		if (ct_stop_requested())
			return CT_ESTOPPED;
		gil_hook(yield, ct__self());
		sched_yield();
		return 0;
	}
	return ct__park_sleep(deadline, CT__PARK_INTERRUPTIBLE);
}

/* ---- module functions --------------------------------------------------- */

ct_thread_t *ct_current_thread(void)
{
	return ct__self()->self;
}

ct_thread_t *ct_main_thread(void)
{
	return main_rec->self;
}

size_t ct_active_count(void)
{
	ct__self(); /* Python counts the caller, a dummy thread included */
	ct_lock_acquire(&reg.lock);
	size_t n = reg.count;
	ct_lock_release(&reg.lock);
	return n;
}

size_t ct_enumerate(void (*fn)(ct_thread_t *t, void *arg), void *arg)
{
	ct__self();
	ct_lock_acquire(&reg.lock);
	size_t n = reg.count;
	if (fn)
		for (struct ct__thread *r = reg.head.next; r != &reg.head; r = r->next)
			fn(r->self, arg);
	ct_lock_release(&reg.lock);
	return n;
}

unsigned long ct_get_ident(void)
{
	return (unsigned long)pthread_self();
}

long ct_get_native_id(void)
{
	struct ct__thread *self = ct__tls_self;
	return self ? (long)atomic_load(&self->native_id) : current_native_id();
}

size_t ct_stack_size_get(void)
{
	return atomic_load(&default_stack_size);
}

int ct_stack_size_set(size_t size)
{
	if (size != 0 && size < STACK_MIN)
		return CT_ESTACKSIZE;
	atomic_store(&default_stack_size, size);
	return 0;
}

ct_excepthook_fn ct_set_excepthook(ct_excepthook_fn fn)
{
	return atomic_exchange(&excepthook, fn ? fn : ct_excepthook_default);
}

/* Python's excepthook names the thread, or, when args.thread is None, the
 * calling thread by its ident. */
void ct_excepthook_default(const ct_excepthook_args *args)
{
	if (!args)
		return;
	char ident[32];
	const char *name = ident;
	if (args->thread)
		name = ct_thread_name(args->thread);
	else
		snprintf(ident, sizeof ident, "%lu", ct_get_ident());
	if (ct__is_error_code(args->status))
		fprintf(stderr, "Exception in thread %s: run returned %d (%s)\n", name,
			args->status, ct_strerror(args->status));
	else
		fprintf(stderr, "Exception in thread %s: run returned %d\n", name, args->status);
}

void ct_set_thread_hooks(ct_thread_hook_fn on_start, ct_thread_hook_fn on_exit, void *arg)
{
	atomic_store_explicit(&hooks.arg, arg, memory_order_relaxed);
	atomic_store_explicit(&hooks.on_start, on_start, memory_order_release);
	atomic_store_explicit(&hooks.on_exit, on_exit, memory_order_release);
}

/* ---- the exit rule ------------------------------------------------------ */

int ct__before_exit_wait(void (*fn)(void))
{
	unsigned i = atomic_fetch_add(&n_before_exit, 1);
	if (i >= MAX_BEFORE_EXIT)
		return CT_ENOMEM;
	before_exit[i] = fn;
	return 0;
}

/* A live non-daemon started thread other than the caller, with a reference
 * taken; NULL when none is left. With @p final, finding none also closes
 * the door to new threads, in the same critical section, so that no
 * thread can slip in after the last look. */
static struct ct__thread *next_non_daemon(struct ct__thread *self, bool final)
{
	struct ct__thread *found = NULL;
	ct_lock_acquire(&reg.lock);
	for (struct ct__thread *r = reg.head.next; r != &reg.head; r = r->next) {
		if (r != self && r->kind == CT__KIND_STARTED && !atomic_load(&r->daemon)) {
			atomic_fetch_add(&r->refs, 1);
			found = r;
			break;
		}
	}
	if (!found && final)
		atomic_store(&ct__exiting, true);
	ct_lock_release(&reg.lock);
	return found;
}

static int wait_non_daemon(int64_t deadline, unsigned flags, bool final)
{
	struct ct__thread *self = ct__self();
	for (;;) {
		struct ct__thread *rec = next_non_daemon(self, final);
		if (!rec)
			return 0;
		int rc = wait_finished(rec, deadline, flags);
		rec_unref(rec);
		if (rc < 0 && rc != CT_ENOTSTARTED)
			return rc;
	}
}

/* Python's _shutdown() stops the main thread's record before anything
 * else: a thread joining the main thread returns, and is_alive() is false.
 * Only when the main thread itself is exiting; a worker calling exit()
 * leaves the main thread running until the process ends. */
static void mark_main_finished(void)
{
	struct ct__thread *self = ct__tls_self;
	if (!self || self != main_rec)
		return;
	atomic_store_explicit(&self->state, CT__T_FINISHED, memory_order_release);
	ct__park_wake(&self->state, ~0u);
}

static void exit_rule(void)
{
	mark_main_finished();
	unsigned n = atomic_load(&n_before_exit);
	for (unsigned i = 0; i < n && i < MAX_BEFORE_EXIT; i++)
		before_exit[i]();
	/* Not interruptible: a stop request must not cut the exit rule short.
	 * The GIL, if the exiting thread holds it, is released while it waits
	 * (the parking core does it), so GIL threads can finish. */
	wait_non_daemon(CT__NO_DEADLINE, CT__PARK_NO_SPIN, true);
	/* The main thread's locals outlive the program's exit handlers
	 * (local.c destroys them last). */
}

/* Registered when the first thread starts (or a pool is created) rather
 * than at load time: exit handlers run in reverse order of registration,
 * so whatever the program registered before it had threads is torn down
 * only after they are gone. */
static void register_exit_rule(void)
{
	atexit(exit_rule);
}

void ct__exit_rule_arm(void)
{
	pthread_once(&atexit_once, register_exit_rule);
}

int ct_shutdown(double timeout)
{
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	if (rc < 0)
		return rc;
	return wait_non_daemon(deadline, CT__PARK_INTERRUPTIBLE | CT__PARK_NO_SPIN, false);
}

/* ---- fork and load time ------------------------------------------------- */

/* A fork from a thread cthreading never saw (no record). Python gives such
 * a thread a new _MainThread; here it takes over the static main record,
 * whose thread does not exist in the child. That thread's locals are
 * dropped without their destructors (they belong to nobody here). */
static struct ct__thread *adopt_main_record(void)
{
	struct ct__thread *rec = &main_storage;
	ct__free(rec->locals);
	rec->locals = NULL;
	rec->nlocals = 0;
	atomic_store(&rec->stop, 0);
	atomic_store(&rec->state, CT__T_RUNNING);
	atomic_store(&rec->ident, (unsigned long)pthread_self());
	registry_insert_locked(rec);
	ct__tls_self = rec;
	return rec;
}

/* A fork from a thread cthreading did not start but has seen: Python's
 * _after_fork turns its _DummyThread into the _MainThread, named
 * "MainThread" and not a daemon. Its record stays in its TLS. */
static void promote_dummy_to_main(struct ct__thread *rec)
{
	rec->kind = CT__KIND_MAIN;
	atomic_store(&rec->daemon, false);
	char *name = ct__strdup("MainThread");
	if (name)
		ct__free(atomic_exchange(&rec->name, name));
}

/* Whether a thread other than @p self is inside fork's gate (fork.h).
 * Under the registry lock. */
static bool gate_busy_locked(const struct ct__thread *self)
{
	for (const struct ct__thread *r = reg.head.next; r != &reg.head; r = r->next)
		if (r != self && ct__gate_busy(r))
			return true;
	return false;
}

/* The registry must be whole in the child: no other thread may be
 * half-way through adding or removing itself at the fork. So the lock is
 * taken first, and kept until the fork is done. (So a fork from inside a
 * ct_enumerate() callback, which holds the lock, would deadlock.)
 *
 * Then fork's gate is closed, and this waits until no other thread is
 * inside, so that the child finds no critical section half done (fork.h).
 * The sections are short, wait for nothing outside the gate and never
 * take the registry lock: this waits microseconds. */
static void before_fork(void)
{
	const struct ct__thread *self = ct__tls_self;
	ct_lock_acquire(&reg.lock);
	ct__fork_close_gate();
	while (gate_busy_locked(self))
		sched_yield();
}

static void after_fork_parent(void)
{
	ct_lock_release(&reg.lock);
	ct__fork_open_gate();
}

/* In the child only the forking thread exists. Every other record is dead,
 * the original main thread's and dummies' included (Python stops them
 * all): mark them finished (so join returns and is_alive is false) and
 * forget them. The forking thread becomes the main thread, as in Python. */
static void after_fork_child(void)
{
	ct__fork_child_begin(); /* a new generation; the gate open */
	ct__park_after_fork_child();
	ct_lock_init(&reg.lock); /* held by this thread since before_fork() */
	ct_lock_init(&names_lock);
	struct ct__thread *self = ct__tls_self;
	for (struct ct__thread *r = reg.head.next, *next; r != &reg.head; r = next) {
		next = r->next;
		if (r == self)
			continue;
		/* What it left in objects, while its stack is still whole (the
		 * child's next threads may be given it). */
		ct__fork_forget(r);
		registry_remove_locked(r);
		r->os_named = false;
		atomic_store(&r->state, CT__T_FINISHED);
	}
	if (!self)
		self = adopt_main_record();
	else if (self->kind == CT__KIND_DUMMY)
		promote_dummy_to_main(self);
	atomic_store(&self->native_id, (uint32_t)current_native_id());
	/* Re-initialised, not just reset: with the fallback parker, a thread
	 * of the parent may have held its mutex (a stop request) at the fork. */
	ct__parker_init(&self->parker);
	main_rec = self;
	gil_hook(after_fork_child, self);
}

__attribute__((constructor)) static void ct__load(void)
{
	pthread_key_create(&dummy_key, dummy_exit);
	struct ct__thread *rec = &main_storage;
	rec_setup(rec, CT__KIND_MAIN);
	atomic_init(&rec->state, CT__T_RUNNING);
	atomic_init(&rec->daemon, false);
	atomic_init(&rec->name, NULL);
	atomic_store(&rec->name, ct__strdup("MainThread"));
	atomic_store(&rec->ident, (unsigned long)pthread_self());
	atomic_store(&rec->native_id, (uint32_t)current_native_id());
	ct__tls_self = rec;
	ct_lock_acquire(&reg.lock);
	registry_insert_locked(rec);
	ct_lock_release(&reg.lock);
	ct__fork_init();
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
