/* fork(): what the library does so that a child can use every object.
 *
 * In the child of fork() only the forking thread exists. Every other
 * thread is gone wherever it was: blocked in an object, or half-way
 * through an operation. Three tools, each for one kind of leftover:
 *
 * 1. The gate, for critical sections (an internal lock held, or a short
 *    lock-free sequence such as the executor's two-step push). Those
 *    would leave an object torn, and nothing can repair a half-sifted
 *    heap. A thread enters the gate before such a section and leaves it
 *    after; fork() closes the gate and waits until nobody but the forking
 *    thread is inside, so the child never sees a critical section half
 *    done and never finds an internal lock held. The sections are short
 *    and never wait for anything outside the gate, so fork() waits for a
 *    few microseconds at most, never for a thread that is blocked. (The
 *    comparison function of a priority queue runs inside: it must not
 *    block.) Entering costs a store to the thread's own record, a compiler
 *    barrier and a load of the gate: the forking side pays for the memory
 *    ordering with membarrier() (asymmetric fences; a full fence on each
 *    entry where membarrier is missing).
 *
 * 2. Notes, for what a thread leaves in an object while it waits (a waiter
 *    count, a lock held across the wait, a registration on a future). A
 *    thread that starts such a wait pushes a note on its record, on its
 *    own stack, and pops it when done. In the child, fork's handler walks
 *    the notes of every thread that is gone and calls each note's forget(),
 *    which makes the object drop what that thread left. It runs before the
 *    child has other threads, while the gone threads' stacks are intact.
 *
 * 3. The generation, for the lock-free queues (the bounded FIFO ring and
 *    the SimpleQueue), whose fast paths must stay free of both: a put may
 *    have claimed a slot and not written it. ct__fork_gen counts the forks
 *    since the process began (the child's is its parent's plus one); such
 *    a queue keeps the generation it was last valid in, compares it on
 *    every call (one relaxed load of a global), and repairs itself the
 *    first time it is used in a new one (see queue_ring.c, simplequeue.c).
 */
#ifndef CT_FORK_H
#define CT_FORK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"
#include "park/waiter.h"

/* ---- the generation ------------------------------------------------------ */

extern _Atomic uint32_t ct__fork_gen;

/* Forks since the process began: bumped by fork's child handler. */
static inline uint32_t ct__fork_generation(void)
{
	/* Relaxed: bumped only in fork's child handler, before the child has a second thread
	 * (thread start orders it for the threads started later). */
	return atomic_load_explicit(&ct__fork_gen, memory_order_relaxed);
}

/* ---- the gate ------------------------------------------------------------ */

#if defined(__SANITIZE_THREAD__)
#define CT__FORK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CT__FORK_TSAN 1
#endif
#endif

/* Asymmetric fences, for a store-load pair whose one side runs often and
 * the other rarely: the frequent side pays ct__fence_light() (a compiler
 * barrier where membarrier() is registered, else a full fence), the rare
 * side ct__fence_heavy() (a membarrier(), which makes every running thread
 * of the process pass a full barrier; else a full fence). Under
 * ThreadSanitizer, which models no fences, both are nothing: the stores
 * and loads of such a pair must be sequentially consistent there. */
extern bool ct__gate_asymmetric;
void ct__fence_heavy(void);

static inline void ct__fence_light(void)
{
#ifndef CT__FORK_TSAN
	/* GCOVR_EXCL_BR_START: membarrier is available on every kernel the tests run on; the fence
	 * path is the fallback build's */
	if (ct__gate_asymmetric)
		/* Seq_cst on purpose: a compiler barrier between the count store and the gate
		 * load of ct__gate_come_in(); the forking side's membarrier() makes it a full
		 * one. */
		atomic_signal_fence(memory_order_seq_cst);
	/* GCOVR_EXCL_BR_STOP */
	else
		/* Seq_cst on purpose: the store-load order itself. */
		atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* How many forks are under way: the gate is closed while it is not 0. */
extern _Atomic uint32_t ct__gate_closed;

void ct__gate_wait(struct ct__waiter *self);

/* A thread coming in: its count goes up, then it looks at the gate. This
 * is Dekker's with the forking thread, which closes the gate, then looks
 * at every thread's count: one of the two sees the other's store. The
 * store-load order costs the forking side a membarrier() and this side a
 * compiler barrier; a full fence where membarrier is missing. (Under
 * ThreadSanitizer, which models no fences, the plain C11 way: both sides'
 * stores and loads sequentially consistent.) */
static inline bool ct__gate_come_in(struct ct__waiter *self)
{
#ifdef CT__FORK_TSAN
	/* Seq_cst on purpose: the plain C11 Dekker under ThreadSanitizer (see above). */
	atomic_store_explicit(&self->gate, 1, memory_order_seq_cst);
#else
	/* Relaxed: ct__fence_light() below orders it before the gate load (see above). */
	atomic_store_explicit(&self->gate, 1, memory_order_relaxed);
	ct__fence_light();
#endif
	/* Seq_cst on purpose: the load half of this side's Dekker with close_gate(). */
	return !atomic_load_explicit(&ct__gate_closed, memory_order_seq_cst);
}

/* Enters the gate (nesting is allowed); waits while a fork is under way. */
static inline void ct__gate_enter(void)
{
	struct ct__waiter *self = ct__waiter_self();
	/* Relaxed: the thread's own count; only the fork reads it, with the gate's ordering. */
	uint32_t depth = atomic_load_explicit(&self->gate, memory_order_relaxed);
	if (depth != 0)
		/* Relaxed: nested, so already inside: the fork waits for the count to reach 0,
		 * and only this thread's exit publishes that. */
		atomic_store_explicit(&self->gate, depth + 1, memory_order_relaxed);
	else if (CT__UNLIKELY(!ct__gate_come_in(self)))
		ct__gate_wait(self);
}

static inline void ct__gate_exit(void)
{
	struct ct__waiter *self = ct__tls_waiter;
	/* Relaxed: the thread's own count (only it writes it). */
	uint32_t depth = atomic_load_explicit(&self->gate, memory_order_relaxed);
	/* Release: a fork that sees 0 sees the whole section done. */
	atomic_store_explicit(&self->gate, depth - 1, memory_order_release);
}

/* ---- notes --------------------------------------------------------------- */

struct ct__fork_note {
	struct ct__fork_note *outer; /* the thread's previous note */
	/* In the child, for a thread that is gone: make the object forget
	 * what this thread left in it. Runs in fork's child handler, with no
	 * other thread in the process; takes no lock anyone could hold. */
	void (*forget)(struct ct__fork_note *note);
};

/* The note must reach memory before the object's changes do, for the
 * child's copy of memory to hold it whenever it holds them: a release
 * fence (free on x86, whose stores are seen in program order anyway).
 * ThreadSanitizer does not model fences, and GCC refuses this one there. */
#ifdef CT__FORK_TSAN
#define CT__NOTE_FENCE() ((void)0)
#else
/* Release fence: orders the note's stores before the object's later stores (see above). */
#define CT__NOTE_FENCE() atomic_thread_fence(memory_order_release)
#endif

/* Pushes @p note (usually inside a struct that says which object) before
 * the first change the wait makes to the object. */
static inline void ct__note_push(struct ct__waiter *self, struct ct__fork_note *note,
				 void (*forget)(struct ct__fork_note *note))
{
	note->forget = forget;
	/* Relaxed: the thread's own list (only it writes it). */
	note->outer = atomic_load_explicit(&self->notes, memory_order_relaxed);
	/* Release: the note's fields before it is seen in the list; the fork's child reads it
	 * with acquire (fork.c's forget()). */
	atomic_store_explicit(&self->notes, note, memory_order_release);
	CT__NOTE_FENCE();
}

/* Pops @p note (the thread's last) after the wait's last change. */
static inline void ct__note_pop(struct ct__waiter *self, struct ct__fork_note *note)
{
	/* Release: the wait's last changes before the note leaves the list. */
	atomic_store_explicit(&self->notes, note->outer, memory_order_release);
}

/* ---- fork's handlers ---------------------------------------------------- */

/* The parking core registers the process's fork handlers itself (fork.c),
 * so that everything built on it works in a fork child even in a program
 * that links nothing above it. A layer above with its own repairs to make
 * plugs them in here, at load (at most a few; thread.c does). prepare
 * runs first, before the gate closes, and parent and child last, each in
 * the reverse order of prepare. In the child, the parking core is already
 * whole again when child runs: the gate open, the queues empty, the gone
 * threads' notes forgotten. */
struct ct__fork_hooks {
	void (*prepare)(void);
	void (*parent)(void);
	void (*child)(void);
};
void ct__fork_add_hooks(const struct ct__fork_hooks *hooks);

/* Registers the handlers: at load, from waiter.c, whose records are what
 * they walk. (Called from there, not from a constructor here, so that a
 * statically linked program gets them with the first object that parks,
 * even if it calls nothing of this file.) */
void ct__fork_load(void);

#endif /* CT_FORK_H */
