/* Input of conventions.memory_order_accepts: every explicit memory order
 * below carries a comment as docs/architecture.md ("Memory ordering") asks,
 * in each of the places the check accepts: 6 lines with orders, none
 * reported. This file is never compiled. */
#include <stdatomic.h>

#include "cthreading/common.h"

static _Atomic unsigned word;
static CT__ATOMIC(unsigned) pub;

unsigned on_the_line(void)
{
	return atomic_load_explicit(&word, memory_order_acquire); /* acquire: pairs with set() */
}

void above_the_statement(unsigned v)
{
	/* Release: pairs with on_the_line()'s acquire, so v's writer's writes
	 * are seen with it. */
	atomic_store_explicit(&word, v, memory_order_release);
}

unsigned above_a_split_statement(unsigned e)
{
	/* Acquire on success, relaxed on failure: a failure reads nothing. */
	if (!atomic_compare_exchange_strong_explicit(&word, &e, e + 1, memory_order_acquire,
						     memory_order_relaxed))
		return e;
	/* Relaxed: a snapshot. */
	return CT__ATOMIC_LOAD(&pub, relaxed) + CT__ATOMIC_LOAD(&pub, relaxed);
}

void fence(void)
{
	/* Seq_cst on purpose: orders the store before it with the load after
	 * it (a Dekker pair with another thread). */
	atomic_thread_fence(memory_order_seq_cst);
}
