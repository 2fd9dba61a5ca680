/* Threads: records, creation, start and join, stop requests, sleeping.
 *
 * Ownership. A started thread's record is reference-counted: one reference
 * for the handle (dropped by ct_thread_destroy) and one for the running
 * thread (dropped as its last act). The registry of live threads
 * (registry.c) holds no reference: a thread leaves it, under the registry
 * lock, before it drops its own. Whoever needs a record beyond the
 * registry lock (the exit rule waiting for a thread) takes a reference
 * under that lock.
 *
 * The thread layer's other files: names.c (Python's names, the OS's
 * names), registry.c (live threads, the main and dummy records, fork and
 * load time), exit.c (the exit rule), local.c, timer.c.
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
#include "core/internal.h"
#include "park/park.h"
#include "thread/thread_private.h"

#define STACK_MIN 32768u

atomic_bool ct__exiting;

/* The GIL layer's hooks (thread_internal.h), NULL until it sets them. */
const struct ct__thread_gil_hooks *_Atomic ct__gil_hooks;

void ct__thread_set_gil_hooks(const struct ct__thread_gil_hooks *hooks)
{
	/* Release: pairs with the acquire in ct__gil_hook() (thread_private.h), so the hooks'
	 * table is seen fully built. */
	atomic_store_explicit(&ct__gil_hooks, hooks, memory_order_release);
}

/* Heap records allocated and not yet freed; the tests check that it comes
 * back to where it was (a leak check that works in every build). */
static atomic_size_t records_live;
static _Atomic size_t default_stack_size;
static _Atomic(ct_excepthook_fn) excepthook = ct_excepthook_default;
static struct {
	_Atomic(ct_thread_hook_fn) on_start, on_exit;
	_Atomic(void *) arg;
} hooks;

/* ---- small helpers ------------------------------------------------------ */

long ct__native_id_now(void)
{
#if defined(__linux__)
	return (long)syscall(SYS_gettid);
#else
	return (long)(uintptr_t)pthread_self();
#endif
}

void ct__rec_setup(struct ct__thread *rec, uint8_t kind, struct ct__waiter *w)
{
	if (w) {
		w->owner = rec;
	} else {
		w = &rec->own_waiter;
		ct__waiter_init(w, rec);
	}
	rec->w = w;
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
		/* Relaxed: a count for leak checks; whoever reads it has joined the threads it
		 * counts. */
		atomic_fetch_add_explicit(&records_live, 1, memory_order_relaxed);
	return rec;
}

static void rec_free(struct ct__thread *rec)
{
	atomic_fetch_sub_explicit(&records_live, 1, memory_order_relaxed); /* relaxed: as above */
	ct__free(rec);
}

size_t ct__thread_records_live(void)
{
	/* Relaxed: see rec_alloc(). */
	return atomic_load_explicit(&records_live, memory_order_relaxed);
}

void ct__rec_unref(struct ct__thread *rec)
{
	/* Acq_rel: the usual reference count; release so that this holder's uses come before the
	 * free, acquire so that the last one sees every other holder's. */
	if (atomic_fetch_sub_explicit(&rec->refs, 1, memory_order_acq_rel) != 1)
		return;
	ct__waiter_destroy(&rec->own_waiter);
	ct__free(atomic_load(&rec->name));
	rec_free(rec);
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
						 : ct__default_name("Thread", target, target_name);
	if (!name) {
		rec_free(rec);
		return CT_ENOMEM;
	}
	ct__rec_setup(rec, CT__KIND_STARTED, NULL);
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
	t->ct__impl = NULL; /* a failed init leaves an object destroy accepts */
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
	struct ct__thread *rec = ct__rec_of(t);
	if (rec && rec->kind == CT__KIND_STARTED)
		ct__rec_unref(rec);
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
	struct ct__thread *rec = ct__rec_of(t);
	if (rec && rec->kind == CT__KIND_STARTED)
		/* Relaxed: the caller already holds a reference, so the count cannot reach 0
		 * meanwhile. */
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
	/* Acquire: pairs with the release in ct_set_thread_hooks(), so the hook's argument
	 * stored before it is seen. */
	ct_thread_hook_fn fn = atomic_load_explicit(slot, memory_order_acquire);
	if (fn)
		/* Relaxed: ordered by the acquire above. */
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
	ct__waiter_attach(rec->w);
	atomic_store(&rec->ident, (unsigned long)pthread_self());
	atomic_store(&rec->native_id, (uint32_t)ct__native_id_now());
	ct__park_wake(&rec->native_id, ~0u);
	ct__os_name_own(rec, true);
	if (rec->run_gil)
		/* GCOVR_EXCL_BR_START: the GIL layer installs these hooks at load and the library
		 * is one object, so they are never NULL here */
		ct__gil_hook(begin, rec);
	/* GCOVR_EXCL_BR_STOP */

	run_hook(&hooks.on_start, rec);
	int status = run(rec);
	if (status != 0)
		report_failure(rec, status);
	run_hook(&hooks.on_exit, rec);
	ct__locals_thread_exit(rec);
	/* GCOVR_EXCL_BR_START: the GIL layer installs these hooks at load and the library is one
	 * object, so they are never NULL here */
	ct__gil_hook(end, rec);
	/* GCOVR_EXCL_BR_STOP */

	/* Leave the registry before announcing the end, so that a joiner who
	 * then counts live threads no longer counts this one. */
	ct__os_name_own(rec, false); /* no rename reaches this thread from here */
	ct__registry_leave(rec);
	/* Release: pairs with the joiners' acquire (ct__thread_wait_finished()), so a join sees
	 * everything the thread did. */
	atomic_store_explicit(&rec->state, CT__T_FINISHED, memory_order_release);
	ct__park_wake(&rec->state, ~0u);
	ct__waiter_detach(rec->w);
	ct__rec_unref(rec);
	return NULL;
}

/* The attributes for the thread's stack size: NULL for the system's
 * default, or @p attr set up. *@p err is CT_EAGAIN when pthreads refuses
 * the size: the thread must not start on a stack it was not asked for. */
static pthread_attr_t *thread_attr(struct ct__thread *rec, pthread_attr_t *attr, int *err)
{
	size_t size = rec->stack_size ? rec->stack_size : atomic_load(&default_stack_size);
	if (size == 0)
		return NULL;
	long page = sysconf(_SC_PAGESIZE);
	/* Rounded up to whole pages, unless that would wrap round to a small
	 * size: unrounded, such a size is one no system can map, and the
	 * start fails as for any other stack the OS cannot give. */
	/* GCOVR_EXCL_BR_START: sysconf(_SC_PAGESIZE) does not fail on Linux */
	if (page > 0 &&
	    /* GCOVR_EXCL_BR_STOP */
	    size <= SIZE_MAX - ((size_t)page - 1))
		size = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	pthread_attr_init(attr);
	/* GCOVR_EXCL_BR_START: glibc refuses only sizes below PTHREAD_STACK_MIN, 16 KiB on x86-64,
	 * and sizes below STACK_MIN (32 KiB) are refused before: reachable only where
	 * PTHREAD_STACK_MIN is larger (aarch64: 128 KiB), not on the machine that measures */
	if (pthread_attr_setstacksize(attr, size) != 0)
		*err = CT_EAGAIN;
	/* GCOVR_EXCL_BR_STOP */
	return attr;
}

int ct_thread_start(ct_thread_t *t)
{
	struct ct__thread *rec = ct__rec_of(t);
	if (!rec)
		return CT_EINVAL;
	uint32_t expected = CT__T_NEW;
	if (rec->kind != CT__KIND_STARTED ||
	    !atomic_compare_exchange_strong(&rec->state, &expected, CT__T_RUNNING))
		return CT_ESTARTED;
	ct__exit_rule_arm();

	atomic_fetch_add(&rec->refs, 1); /* the running thread's */
	bool exiting = !ct__registry_enter(rec);
	int err = 0;
	if (exiting) {
		err = CT_EEXITING;
	} else {
		pthread_attr_t attr, *attrp = thread_attr(rec, &attr, &err);
		pthread_t pt;
		/* GCOVR_EXCL_BR_START: thread_attr() fails only where glibc refuses the stack size
		 * (see there) */
		if (err == 0 &&
		    /* GCOVR_EXCL_BR_STOP */
		    (ct__fault_hit(CT__FAULT_THREAD_CREATE) ||
		     pthread_create(&pt, attrp, trampoline, rec) != 0))
			err = CT_EAGAIN;
		if (attrp)
			pthread_attr_destroy(attrp);
		if (err == 0) {
			atomic_store(&rec->ident, (unsigned long)pt);
			pthread_detach(pt);
			return 0;
		}
		ct__registry_leave(rec);
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

int ct__thread_wait_finished(struct ct__thread *rec, int64_t deadline, unsigned flags)
{
	for (;;) {
		/* Acquire: pairs with the release that marks the thread FINISHED. */
		uint32_t s = atomic_load_explicit(&rec->state, memory_order_acquire);
		if (s != CT__T_RUNNING)
			return s == CT__T_FINISHED ? 0 : CT_ENOTSTARTED;
		CT__DEBUG_HOOK(waits_on_thread(rec->self, atomic_load(&rec->ident)));
		int rc = ct__park_wait(&rec->state, s, deadline, flags);
		if (rc < 0) {
			/* Acquire: as above. */
			s = atomic_load_explicit(&rec->state, memory_order_acquire);
			/* GCOVR_EXCL_BR_START: the thread finishing in the instant the join times
			 * out: a race */
			return s == CT__T_RUNNING ? rc : s == CT__T_FINISHED ? 0 : CT_ENOTSTARTED;
			/* GCOVR_EXCL_BR_STOP */
		}
	}
}

int ct__thread_join_until(ct_thread_t *t, int64_t deadline, unsigned flags)
{
	struct ct__thread *rec = ct__rec_of(t);
	/* GCOVR_EXCL_BR_START: both callers pass a thread (ct_thread_join checked it) */
	if (!rec)
		return CT_EINVAL;
	/* GCOVR_EXCL_BR_STOP */
	if (atomic_load(&rec->state) == CT__T_NEW)
		return CT_ENOTSTARTED;
	if (rec == ct__self_peek())
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
			rc = ct__thread_wait_finished(rec, deadline, flags | CT__PARK_NO_SPIN);
		h->acquired(t, CT__OBJ_THREAD, site, rc, true, true);
		return rc;
	}
	return ct__thread_wait_finished(rec, deadline, flags | CT__PARK_NO_SPIN);
}

int ct_thread_join(ct_thread_t *t, double timeout)
{
	if (!ct__rec_of(t))
		return CT_EINVAL;
	int64_t deadline;
	int rc = ct__deadline(timeout, &deadline);
	return rc < 0 ? rc : ct__thread_join_until(t, deadline, CT__PARK_INTERRUPTIBLE);
}

/* ---- accessors ---------------------------------------------------------- */

bool ct_thread_is_alive(const ct_thread_t *t)
{
	struct ct__thread *rec = ct__rec_of(t);
	return rec && atomic_load(&rec->state) == CT__T_RUNNING;
}

bool ct_thread_daemon(const ct_thread_t *t)
{
	struct ct__thread *rec = ct__rec_of(t);
	return rec && atomic_load(&rec->daemon);
}

int ct_thread_set_daemon(ct_thread_t *t, bool daemon)
{
	struct ct__thread *rec = ct__rec_of(t);
	if (!rec)
		return CT_EINVAL;
	if (atomic_load(&rec->state) != CT__T_NEW ||
	    /* GCOVR_EXCL_BR_START: only ct_thread_new() makes a record in state NEW, of kind
	     * STARTED; the main thread's and dummies' records begin RUNNING */
	    rec->kind != CT__KIND_STARTED)
		/* GCOVR_EXCL_BR_STOP */
		return CT_EDAEMON;
	atomic_store(&rec->daemon, daemon);
	return 0;
}

unsigned long ct_thread_ident(const ct_thread_t *t)
{
	struct ct__thread *rec = ct__rec_of(t);
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
	struct ct__thread *rec = ct__rec_of(t);
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
	struct ct__thread *rec = ct__rec_of(t);
	if (!rec)
		return CT_EINVAL;
	ct__waiter_request_stop(rec->w);
	return 0;
}

bool ct_stop_requested(void)
{
	/* Relaxed: a flag that carries no data; seeing it late only moves the stop to the next
	 * check. */
	return atomic_load_explicit(&ct__waiter_self()->stop, memory_order_relaxed) != 0;
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
		/* GCOVR_EXCL_BR_START: the GIL layer installs these hooks at load and the library
		 * is one object, so they are never NULL here */
		ct__gil_hook(yield, ct__self());
		/* GCOVR_EXCL_BR_STOP */
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

unsigned long ct_get_ident(void)
{
	return (unsigned long)pthread_self();
}

long ct_get_native_id(void)
{
	struct ct__thread *self = ct__self_peek();
	return self ? (long)atomic_load(&self->native_id) : ct__native_id_now();
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
	/* Relaxed: published by the releases below, which the loads in run_hook() acquire. */
	atomic_store_explicit(&hooks.arg, arg, memory_order_relaxed);
	/* Release: pairs with run_hook()'s acquire. */
	atomic_store_explicit(&hooks.on_start, on_start, memory_order_release);
	/* Release: as above. */
	atomic_store_explicit(&hooks.on_exit, on_exit, memory_order_release);
}
