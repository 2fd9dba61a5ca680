/* The registry of live threads, the records of the threads cthreading did
 * not start (the main thread's, static; a "dummy" one in the TLS of any
 * other, removed by a pthread key destructor when it ends), and what the
 * thread layer does at fork and load time.
 */
#include <pthread.h>
#include <string.h>

#include "core/internal.h"
#include "park/fork.h"
#include "thread/thread_private.h"

static struct ct__thread main_storage;
struct ct__thread *ct__main_rec = &main_storage;

static _Thread_local struct ct__thread dummy_storage;
static pthread_key_t dummy_key;

/* The registry: live threads in a circular list around `head`. */
static struct {
	ct_lock_t lock;
	struct ct__thread head;
	size_t count;
} reg = {.lock = CT_LOCK_INIT, .head = {.prev = &reg.head, .next = &reg.head}};

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

void ct__registry_leave(struct ct__thread *rec)
{
	ct__lock_acquire_nonnull(&reg.lock);
	registry_remove_locked(rec);
	ct_lock_release(&reg.lock);
}

bool ct__registry_enter(struct ct__thread *rec)
{
	ct__lock_acquire_nonnull(&reg.lock);
	bool open = !atomic_load(&ct__exiting);
	if (open)
		registry_insert_locked(rec);
	ct_lock_release(&reg.lock);
	return open;
}

struct ct__thread *ct__registry_next_non_daemon(struct ct__thread *self, bool final)
{
	struct ct__thread *found = NULL;
	ct__lock_acquire_nonnull(&reg.lock);
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

static void dummy_exit(void *p)
{
	struct ct__thread *rec = p;
	/* The key's value is cleared before this runs; locals' destructors
	 * may still use cthreading, which finds the record through the TLS
	 * pointer, kept until the end. */
	ct__locals_thread_exit(rec);
	/* A thread that ends holding a GIL (an ensure never released) would
	 * leave every other thread of that GIL blocked forever. */
	/* GCOVR_EXCL_BR_START: the GIL layer installs these hooks at load and the library is one
	 * object, so they are never NULL here */
	ct__gil_hook(end, rec);
	/* GCOVR_EXCL_BR_STOP */
	ct__registry_leave(rec);
	/* The waiter record is the parking core's: it stays, without us. */
	rec->w->owner = NULL;
	ct__free(atomic_load(&rec->name));
	atomic_store(&rec->name, NULL);
}

struct ct__thread *ct__self_slow(struct ct__waiter *w)
{
	struct ct__thread *rec = &dummy_storage;
	memset(rec, 0, sizeof *rec);
	ct__rec_setup(rec, CT__KIND_DUMMY, w);
	atomic_init(&rec->state, CT__T_RUNNING);
	atomic_init(&rec->daemon, true);
	atomic_store(&rec->ident, (unsigned long)pthread_self());
	atomic_store(&rec->native_id, (uint32_t)ct__native_id_now());
	/* Without memory for a name, the thread is just nameless. */
	char *name = ct__default_name("Dummy", NULL, NULL);
	atomic_init(&rec->name, name);
	pthread_setspecific(dummy_key, rec);
	ct__lock_acquire_nonnull(&reg.lock);
	registry_insert_locked(rec);
	ct_lock_release(&reg.lock);
	return rec;
}

ct_thread_t *ct_main_thread(void)
{
	return ct__main_rec->self;
}

size_t ct_active_count(void)
{
	ct__self(); /* Python counts the caller, a dummy thread included */
	ct__lock_acquire_nonnull(&reg.lock);
	size_t n = reg.count;
	ct_lock_release(&reg.lock);
	return n;
}

size_t ct_enumerate(void (*fn)(ct_thread_t *t, void *arg), void *arg)
{
	ct__self();
	ct__lock_acquire_nonnull(&reg.lock);
	size_t n = reg.count;
	if (fn)
		for (struct ct__thread *r = reg.head.next; r != &reg.head; r = r->next)
			fn(r->self, arg);
	ct_lock_release(&reg.lock);
	return n;
}

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
	rec->w = ct__waiter_self();
	rec->w->owner = rec;
	atomic_store(&rec->state, CT__T_RUNNING);
	atomic_store(&rec->ident, (unsigned long)pthread_self());
	registry_insert_locked(rec);
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

/* The registry must be whole in the child: no other thread may be
 * half-way through adding or removing itself at the fork. So its lock is
 * taken before the parking core closes fork's gate, and kept until the
 * fork is done. (So a fork from inside a ct_enumerate() callback, which
 * holds the lock, would deadlock.) */
static void before_fork(void)
{
	ct__lock_acquire_nonnull(&reg.lock);
}

static void after_fork_parent(void)
{
	ct_lock_release(&reg.lock);
}

/* In the child only the forking thread exists, and the parking core has
 * forgotten what the others left in objects. Every other record is dead,
 * the original main thread's and dummies' included (Python stops them
 * all): mark them finished (so join returns and is_alive is false) and
 * drop them from the registry. The forking thread becomes the main thread,
 * as in Python. */
static void after_fork_child(void)
{
	ct_lock_init(&reg.lock); /* held by this thread since before_fork() */
	ct__names_after_fork_child();
	struct ct__thread *self = ct__self_peek();
	for (struct ct__thread *r = reg.head.next, *next; r != &reg.head; r = next) {
		next = r->next;
		if (r == self)
			continue;
		registry_remove_locked(r);
		r->os_named = false;
		atomic_store(&r->state, CT__T_FINISHED);
	}
	if (!self)
		self = adopt_main_record();
	else if (self->kind == CT__KIND_DUMMY)
		promote_dummy_to_main(self);
	atomic_store(&self->native_id, (uint32_t)ct__native_id_now());
	ct__main_rec = self;
	/* GCOVR_EXCL_BR_START: the GIL layer installs these hooks at load and the library is one
	 * object, so they are never NULL here */
	ct__gil_hook(after_fork_child, self);
	/* GCOVR_EXCL_BR_STOP */
}

static const struct ct__fork_hooks fork_hooks = {before_fork, after_fork_parent, after_fork_child};

__attribute__((constructor)) static void ct__load(void)
{
	pthread_key_create(&dummy_key, dummy_exit);
	struct ct__thread *rec = &main_storage;
	ct__rec_setup(rec, CT__KIND_MAIN, ct__waiter_self());
	atomic_init(&rec->state, CT__T_RUNNING);
	atomic_init(&rec->daemon, false);
	atomic_init(&rec->name, NULL);
	atomic_store(&rec->name, ct__strdup("MainThread"));
	atomic_store(&rec->ident, (unsigned long)pthread_self());
	/* GCOVR_EXCL_BR_START: the slow path of the lock's acquire (gcov puts it on the line
	 * before): at load only this thread runs, so the lock is free; and debugging is on
	 * here only if the constructor that reads CTHREADING ran first, which the library's
	 * link order never makes it do */
	atomic_store(&rec->native_id, (uint32_t)ct__native_id_now());
	ct__lock_acquire_nonnull(&reg.lock);
	/* GCOVR_EXCL_BR_STOP */
	registry_insert_locked(rec);
	ct_lock_release(&reg.lock);
	ct__fork_add_hooks(&fork_hooks);
}
