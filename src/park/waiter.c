/* Waiter records (waiter.h): the TLS ones, and the list fork walks. */
#include "park/waiter.h"

#include "park/fork.h"

#include <pthread.h>

_Thread_local struct ct__waiter *ct__tls_waiter CT__TLS_MODEL;

/* The record of a thread that did not bring its own. */
static _Thread_local struct ct__waiter tls_storage;
static pthread_key_t tls_key;
static pthread_once_t tls_key_once = PTHREAD_ONCE_INIT;

/* Every attached record, in a circular list around `head`. */
static struct {
	struct ct__rawlock lock;
	struct ct__waiter head;
} all = {.lock = CT__RAWLOCK_INIT, .head = {.prev = &all.head, .next = &all.head}};

void ct__waiters_lock(void)
{
	ct__rawlock_lock(&all.lock);
}

void ct__waiters_unlock(void)
{
	ct__rawlock_unlock(&all.lock);
}

static void link_locked(struct ct__waiter *w)
{
	w->next = &all.head;
	w->prev = all.head.prev;
	all.head.prev->next = w;
	all.head.prev = w;
}

static void unlink_locked(struct ct__waiter *w)
{
	w->prev->next = w->next;
	w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

void ct__waiter_init(struct ct__waiter *w, void *owner)
{
	ct__parker_init(&w->parker);
	atomic_init(&w->stop, 0);
	atomic_init(&w->gate, 0);
	atomic_init(&w->notes, NULL);
	w->holds = NULL;
	w->owner = owner;
	atomic_init(&w->debug, NULL);
	w->prev = w->next = NULL;
	w->ready = true;
}

void ct__waiter_attach(struct ct__waiter *w)
{
	ct__waiters_lock();
	link_locked(w);
	ct__waiters_unlock();
	ct__tls_waiter = w;
}

void ct__waiter_detach(struct ct__waiter *w)
{
	ct__waiters_lock();
	unlink_locked(w);
	ct__waiters_unlock();
	/* GCOVR_EXCL_BR_START: both callers (a started thread's end, the TLS destructor) detach
	 * their own thread's waiter */
	if (ct__tls_waiter == w)
		ct__tls_waiter = NULL;
	/* GCOVR_EXCL_BR_STOP */
}

void ct__waiter_destroy(struct ct__waiter *w)
{
	ct__parker_destroy(&w->parker);
}

void ct__waiter_request_stop(struct ct__waiter *w)
{
	/* Pairs with the fence in ct__park(): set the flag, then interrupt.
	 * Either the waiter sees the flag before sleeping, or this sees its
	 * parker armed. */
	atomic_store(&w->stop, 1);
	ct__parker_interrupt(&w->parker);
}

/* The thread ends. Its record stays as it is (the layer above may still
 * read it from its own TLS destructor, and a wait from there attaches it
 * again, which brings this destructor back for one more round). */
static void tls_exit(void *p)
{
	ct__waiter_detach(p);
}

static void make_key(void)
{
	pthread_key_create(&tls_key, tls_exit);
}

struct ct__waiter *ct__waiter_self_slow(void)
{
	struct ct__waiter *w = &tls_storage;
	if (!w->ready)
		ct__waiter_init(w, NULL);
	pthread_once(&tls_key_once, make_key);
	pthread_setspecific(tls_key, w);
	ct__waiter_attach(w);
	return w;
}

bool ct__waiters_any(bool (*fn)(struct ct__waiter *w))
{
	struct ct__waiter *self = ct__tls_waiter;
	for (struct ct__waiter *w = all.head.next; w != &all.head; w = w->next)
		if (w != self && fn(w))
			return true;
	return false;
}

void ct__waiters_after_fork_child(void (*gone)(struct ct__waiter *w))
{
	ct__rawlock_reinit(&all.lock);
	struct ct__waiter *self = ct__tls_waiter;
	for (struct ct__waiter *w = all.head.next, *next; w != &all.head; w = next) {
		next = w->next;
		if (w == self)
			continue;
		gone(w);
		unlink_locked(w);
	}
	/* Re-made, not just reset: with the fallback parker, a thread of the
	 * parent may have held its mutex (a stop request) at the fork. */
	if (self)
		ct__parker_init(&self->parker);
}

__attribute__((constructor)) static void waiter_load(void)
{
	ct__fork_load();
}
