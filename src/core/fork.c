/* fork(): the gate, notes and the generation (see fork.h). thread.c's
 * fork handlers call these, in the order its comments give. */
#include "core/fork.h"

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

void ct__fork_init(void)
{
#ifdef HAVE_MEMBARRIER
	/* Registered once, for the process and (the kernel copies it) its
	 * children; without it every entry pays for a full fence. The
	 * fallback build keeps the fences, so that path is tested too. */
	ct__gate_asymmetric =
		syscall(SYS_membarrier, CT__MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}

/* The forking side's half of the Dekker in ct__gate_come_in(). */
static void heavy_fence(void)
{
#if defined(CT__FORK_TSAN)
	/* Nothing: the sequentially consistent stores and loads do it. */
#elif defined(HAVE_MEMBARRIER)
	/* A full barrier on every CPU that runs one of our threads: each
	 * entering thread's count store is then visible, or its load of the
	 * gate comes after ours. (Once registered, the call cannot fail.) */
	if (ct__gate_asymmetric)
		syscall(SYS_membarrier, CT__MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	else
		atomic_thread_fence(memory_order_seq_cst);
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

void ct__gate_wait(struct ct__thread *self)
{
	do {
		/* Out of the gate while the fork is under way: it waits for
		 * nobody but the threads inside. */
		atomic_store_explicit(&self->gate, 0, memory_order_release);
		uint32_t forks;
		while ((forks = atomic_load_explicit(&ct__gate_closed, memory_order_acquire)) != 0)
			ct__park_wait(&ct__gate_closed, forks, CT__NO_DEADLINE, CT__PARK_NO_SPIN);
	} while (!ct__gate_come_in(self));
}

/* A count, not a flag: two threads may fork at once, and the gate must
 * stay closed until both forks are done. */
/* Sequentially consistent (the default): the Dekker with each entering
 * thread's count store (ct__gate_come_in) needs a total order, which the
 * heavy fence completes. */
void ct__fork_close_gate(void)
{
	atomic_fetch_add(&ct__gate_closed, 1);
	heavy_fence();
}

void ct__fork_open_gate(void)
{
	if (atomic_fetch_sub(&ct__gate_closed, 1) == 1)
		ct__unpark_all(&ct__gate_closed, CT__TOKEN_NORMAL);
}

void ct__fork_child_begin(void)
{
	atomic_fetch_add(&ct__fork_gen, 1);
	/* Those who waited at the gate are gone with the parking core's
	 * queues; the forking thread keeps its own count (a fork from inside
	 * a section, such as a priority queue's comparison, goes on there). */
	atomic_store(&ct__gate_closed, 0);
}

void ct__fork_forget(struct ct__thread *rec)
{
	/* Acquire: pairs with the release that pushed the note, so its
	 * contents are visible; the stores below are in a one-thread child. */
	struct ct__fork_note *n = atomic_load_explicit(&rec->notes, memory_order_acquire);
	for (; n; n = n->outer)
		n->forget(n);
	atomic_store_explicit(&rec->notes, NULL, memory_order_relaxed);
	atomic_store_explicit(&rec->gate, 0, memory_order_relaxed);
}
