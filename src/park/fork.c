/* fork(): the gate, notes and the generation (see fork.h), and the
 * process's fork handlers, which put them to work. */
#include "park/fork.h"

#include <pthread.h>
#include <sched.h>

#include "core/fault.h"
#include "park/park.h"

#if defined(__linux__) && !defined(CT_PARK_FALLBACK)
#include <unistd.h>

#include "core/linux_abi.h"
#if defined(SYS_membarrier)
#define HAVE_MEMBARRIER 1
#endif
#endif

_Atomic uint32_t ct__fork_gen;
_Atomic uint32_t ct__gate_closed;
bool ct__gate_asymmetric;

static void gate_init(void)
{
#ifdef HAVE_MEMBARRIER
	/* Registered once, for the process and (the kernel copies it) its
	 * children; without it every entry pays for a full fence. The
	 * fallback build keeps the fences, so that path is tested too. */
	ct__gate_asymmetric =
		syscall(SYS_membarrier, CT__MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}

/* The forking side's half of the Dekker in ct__gate_come_in(), and the
 * heavy half of any other asymmetric pair (fork.h). */
void ct__fence_heavy(void)
{
#if defined(CT__FORK_TSAN)
	/* Nothing: the sequentially consistent stores and loads do it. */
#elif defined(HAVE_MEMBARRIER)
	/* A full barrier on every CPU that runs one of our threads: each
	 * entering thread's count store is then visible, or its load of the
	 * gate comes after ours. (Once registered, the call cannot fail.) */
	/* GCOVR_EXCL_BR_START: membarrier is available on every kernel the tests run on; the fence
	 * path is the fallback build's */
	if (ct__gate_asymmetric)
		syscall(SYS_membarrier, CT__MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	/* GCOVR_EXCL_BR_STOP */
	else
		/* Seq_cst on purpose: the forking side's store-load pair, between closing the
		 * gate and reading each thread's gate count. */
		atomic_thread_fence(memory_order_seq_cst);
#else
	atomic_thread_fence(memory_order_seq_cst); /* seq_cst on purpose: as above */
#endif
}

void ct__gate_wait(struct ct__waiter *self)
{
	do {
		/* Out of the gate while the fork is under way: it waits for
		 * nobody but the threads inside. */
		atomic_store_explicit(&self->gate, 0, memory_order_release);
		uint32_t forks;
		/* Acquire: pairs with open_gate()'s RMW, so what the fork did is seen before
		 * coming in again; ct__gate_come_in() re-checks with seq_cst. */
		while ((forks = atomic_load_explicit(&ct__gate_closed, memory_order_acquire)) != 0)
			ct__park_wait(&ct__gate_closed, forks, CT__NO_DEADLINE, CT__PARK_NO_SPIN);
		/* GCOVR_EXCL_BR_START: the gate closed again by another fork between this thread's
		 * wake and its coming in: a race */
	} while (!ct__gate_come_in(self));
	/* GCOVR_EXCL_BR_STOP */
}

/* A count, not a flag: two threads may fork at once, and the gate must
 * stay closed until both forks are done. Sequentially consistent (the
 * default): the Dekker with each entering thread's count store
 * (ct__gate_come_in) needs a total order, which the heavy fence completes. */
static void close_gate(void)
{
	atomic_fetch_add(&ct__gate_closed, 1);
	ct__fence_heavy();
}

static void open_gate(void)
{
	/* GCOVR_EXCL_BR_START: two forks overlapping in two threads: a race no test can aim at */
	if (atomic_fetch_sub(&ct__gate_closed, 1) == 1)
		ct__unpark_all(&ct__gate_closed, CT__TOKEN_NORMAL);
	/* GCOVR_EXCL_BR_STOP */
}

static bool inside_gate(struct ct__waiter *w)
{
	/* Seq_cst on purpose: the load half of the fork's Dekker with ct__gate_come_in()'s count
	 * store (see close_gate()). */
	return atomic_load_explicit(&w->gate, memory_order_seq_cst) != 0;
}

/* In the child, for a thread that is gone: what it left in objects, while
 * its stack is still whole (the child's next threads may be given it). */
static void forget(struct ct__waiter *w)
{
	/* Acquire: pairs with the release that pushed the note, so its
	 * contents are visible; the stores below are in a one-thread child. */
	struct ct__fork_note *n = atomic_load_explicit(&w->notes, memory_order_acquire);
	for (; n; n = n->outer)
		n->forget(n);
	/* Relaxed: the child has one thread. */
	atomic_store_explicit(&w->notes, NULL, memory_order_relaxed);
	atomic_store_explicit(&w->gate, 0, memory_order_relaxed); /* relaxed: one-thread child */
}

/* ---- the handlers --------------------------------------------------------- */

#define MAX_HOOKS 4
static const struct ct__fork_hooks *hooks[MAX_HOOKS];
static _Atomic unsigned nhooks;

void ct__fork_add_hooks(const struct ct__fork_hooks *h)
{
	unsigned i = atomic_fetch_add(&nhooks, 1);
	/* GCOVR_EXCL_BR_START: a fixed, smaller number of layers registers hooks (one today) */
	if (i < MAX_HOOKS)
		hooks[i] = h;
	/* GCOVR_EXCL_BR_STOP */
}

static unsigned hook_count(void)
{
	unsigned n = atomic_load(&nhooks);
	return n < MAX_HOOKS ? n : MAX_HOOKS;
}

/* The list of records must be whole in the child: no other thread may be
 * half-way through attaching or detaching at the fork, so its lock is
 * kept until the fork is done. Then the gate is closed, and this waits
 * until no other thread is inside, so that the child finds no critical
 * section half done. The sections are short, wait for nothing outside
 * the gate and never take the list's lock: this waits microseconds. */
static void before_fork(void)
{
	for (unsigned i = 0, n = hook_count(); i < n; i++)
		/* GCOVR_EXCL_BR_START: every registered table (registry.c's) has all three handlers
		 */
		if (hooks[i]->prepare)
			hooks[i]->prepare();
	/* GCOVR_EXCL_BR_STOP */
	ct__waiters_lock();
	close_gate();
	while (ct__waiters_any(inside_gate))
		sched_yield();
}

static void after_fork_parent(void)
{
	ct__waiters_unlock();
	open_gate();
	for (unsigned i = hook_count(); i-- > 0;)
		/* GCOVR_EXCL_BR_START: every registered table (registry.c's) has all three handlers
		 */
		if (hooks[i]->parent)
			hooks[i]->parent();
	/* GCOVR_EXCL_BR_STOP */
}

/* In the child only the forking thread exists: a new generation, the gate
 * open, the queues empty (their sleepers are gone), and what every other
 * thread left in objects forgotten. Then the layers above repair theirs. */
static void after_fork_child(void)
{
	atomic_fetch_add(&ct__fork_gen, 1);
	/* The forking thread keeps its own count (a fork from inside a
	 * section, such as a priority queue's comparison, goes on there). */
	atomic_store(&ct__gate_closed, 0);
	ct__park_after_fork_child();
	ct__waiters_after_fork_child(forget);
	for (unsigned i = hook_count(); i-- > 0;)
		/* GCOVR_EXCL_BR_START: every registered table (registry.c's) has all three handlers
		 */
		if (hooks[i]->child)
			hooks[i]->child();
	/* GCOVR_EXCL_BR_STOP */
}

#ifdef CT__FAULT_ASAN
static bool alloc_enter(void)
{
	if (ct__tls_waiter == NULL)
		return false; /* not before the thread has a record */
	ct__gate_enter();
	return true;
}

static const struct ct__alloc_guard alloc_guard = {alloc_enter, ct__gate_exit};
#endif

void ct__fork_load(void)
{
	gate_init();
#ifdef CT__FAULT_ASAN
	ct__fault_set_alloc_guard(&alloc_guard);
#endif
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
