/* Thread-local values.
 *
 * A ct_local_t owns a slot number, taken on first use. Each thread keeps a
 * table indexed by slot in its own record, touched only by that thread, so
 * get and set take no lock. A slot carries a generation, bumped when its
 * ct_local_t is destroyed: a thread's entry from an earlier generation is
 * stale and reads as NULL, yet its destructor (kept in the entry) still runs
 * when that thread ends. So destroying a local never reaches into another
 * thread's table.
 */
#include "cthreading/local.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "cthreading/lock.h"
#include "park/fork.h"
#include "thread/thread_internal.h"

#define MAX_SLOTS 4096u

/* Taken inside fork's gate (fork.h): a fork child never finds it held. */
static ct_lock_t slots_lock = CT_LOCK_INIT;
static bool slot_used[MAX_SLOTS + 1];		 /* under slots_lock */
static _Atomic uint32_t slot_gen[MAX_SLOTS + 1]; /* slot 0 is never used */

void ct_local_init(ct_local_t *local, void (*dtor)(void *))
{
	if (CT__UNLIKELY(!local))
		return;
	atomic_init(&local->ct__slot, 0);
	local->ct__dtor = dtor;
}

/* The local's slot, taking one on first use; 0 when none is free. */
static uint32_t slot_of(ct_local_t *local)
{
	/* Acquire: pairs with the release below, so the slot's generation, bumped under
	 * slots_lock by the local that had the slot before, is seen. */
	uint32_t slot = atomic_load_explicit(&local->ct__slot, memory_order_acquire);
	if (CT__LIKELY(slot != 0))
		return slot;
	ct__gate_enter();
	ct__lock_acquire_nonnull(&slots_lock);
	/* Relaxed: under slots_lock, which orders every store of a slot. */
	slot = atomic_load_explicit(&local->ct__slot, memory_order_relaxed);
	for (uint32_t i = 1; slot == 0 && i <= MAX_SLOTS; i++) {
		if (!slot_used[i]) {
			slot_used[i] = true;
			slot = i;
			/* Release: pairs with the acquire loads of the slot (above and in
			 * ct_local_get()). */
			atomic_store_explicit(&local->ct__slot, slot, memory_order_release);
		}
	}
	ct_lock_release(&slots_lock);
	ct__gate_exit();
	return slot;
}

static struct ct__local_entry *entry_of(struct ct__thread *self, uint32_t slot)
{
	if (slot == 0 || slot > self->nlocals)
		return NULL;
	return &self->locals[slot - 1];
}

void *ct_local_get(ct_local_t *local)
{
	if (CT__UNLIKELY(!local))
		return NULL;
	/* Acquire: as in slot_of(). */
	uint32_t slot = atomic_load_explicit(&local->ct__slot, memory_order_acquire);
	struct ct__local_entry *e = entry_of(ct__self(), slot);
	/* Relaxed: the slot's acquire above orders the bump of an earlier local's destroy; a
	 * destroy concurrent with a get is the program's race. */
	if (!e || e->gen != atomic_load_explicit(&slot_gen[slot], memory_order_relaxed))
		return NULL;
	return e->value;
}

static int grow(struct ct__thread *self, uint32_t slot)
{
	uint32_t n = self->nlocals ? self->nlocals : 8;
	while (n < slot)
		n *= 2;
	struct ct__local_entry *t = ct__realloc(self->locals, n * sizeof *t);
	if (!t)
		return CT_ENOMEM;
	memset(t + self->nlocals, 0, (n - self->nlocals) * sizeof *t);
	self->locals = t;
	self->nlocals = n;
	return 0;
}

/* The main thread ends when the process exits. Its values are destroyed
 * by a handler registered at load time, before the program can register
 * any: exit handlers run in reverse order, so this one runs after all of
 * the program's, which still find the main thread's values there (as
 * Python's thread-locals outlive its atexit callbacks). */
static void destroy_main_values(void)
{
	struct ct__thread *self = ct__self_peek();
	if (self && self->kind == CT__KIND_MAIN)
		ct__locals_thread_exit(self);
}

__attribute__((constructor)) static void register_main_exit(void)
{
	atexit(destroy_main_values);
}

int ct_local_set(ct_local_t *local, void *value)
{
	if (!local)
		return CT_EINVAL;
	struct ct__thread *self = ct__self();
	uint32_t slot = slot_of(local);
	if (slot == 0)
		return CT_ENOMEM;
	if (slot > self->nlocals && grow(self, slot) < 0)
		return CT_ENOMEM;
	struct ct__local_entry *e = &self->locals[slot - 1];
	/* Relaxed: as in ct_local_get(). */
	uint32_t gen = atomic_load_explicit(&slot_gen[slot], memory_order_relaxed);
	if (e->gen != gen && e->value && e->dtor) {
		/* A value left by a destroyed local that had this slot. */
		e->dtor(e->value);
	}
	e->gen = gen;
	e->value = value;
	e->dtor = local->ct__dtor;
	return 0;
}

void ct_local_destroy(ct_local_t *local)
{
	if (CT__UNLIKELY(!local))
		return;
	/* Acquire: as in slot_of(). */
	uint32_t slot = atomic_load_explicit(&local->ct__slot, memory_order_acquire);
	if (slot == 0)
		return;
	struct ct__local_entry *e = entry_of(ct__self(), slot);
	/* Relaxed: as in ct_local_get(). */
	if (e && e->gen == atomic_load_explicit(&slot_gen[slot], memory_order_relaxed)) {
		void *value = e->value;
		e->value = NULL;
		if (value && e->dtor)
			e->dtor(value);
	}
	ct__gate_enter();
	ct__lock_acquire_nonnull(&slots_lock);
	/* Relaxed: under slots_lock; the next owner of the slot publishes it with the slot's
	 * release (slot_of()). */
	atomic_fetch_add_explicit(&slot_gen[slot], 1, memory_order_relaxed);
	slot_used[slot] = false;
	/* Relaxed: under slots_lock, as above. */
	atomic_store_explicit(&local->ct__slot, 0, memory_order_relaxed);
	ct_lock_release(&slots_lock);
	ct__gate_exit();
}

void ct__locals_thread_exit(struct ct__thread *self)
{
	/* A destructor may set other locals: go round again, a bounded number
	 * of times, as POSIX does for thread-specific data. */
	for (int round = 0; round < 4 && self->locals; round++) {
		bool ran = false;
		for (uint32_t i = 0; i < self->nlocals; i++) {
			struct ct__local_entry *e = &self->locals[i];
			void *value = e->value;
			e->value = NULL;
			if (value && e->dtor) {
				e->dtor(value);
				ran = true;
			}
		}
		if (!ran)
			break;
	}
	ct__free(self->locals);
	self->locals = NULL;
	self->nlocals = 0;
}
