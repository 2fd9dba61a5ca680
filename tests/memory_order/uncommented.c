/* Input of conventions.memory_order_catches: each function below but the
 * last has one line with an explicit memory order that the check must
 * report, and most have one that it must accept: 11 lines with orders, 5
 * of them without a comment. This file is never compiled. */
#include <stdatomic.h>

#include "cthreading/common.h"

static _Atomic unsigned word;
static CT__ATOMIC(unsigned) pub;

/* A comment above the function is not above the statement. */
unsigned bare_load(void)
{
	return atomic_load_explicit(&word, memory_order_acquire);
}

void after_other_statement(void)
{
	/* Release: says why, for the store just below. */
	atomic_store_explicit(&word, 1, memory_order_release);
	atomic_store_explicit(&word, 2, memory_order_relaxed);
}

void trailing_comment_of_the_statement_before(unsigned v)
{
	v++; /* a comment that belongs to v++ */
	atomic_store_explicit(&word, v, memory_order_relaxed);
}

void builtin(void)
{
	/* Relaxed: accepted, the comment is on the line above. */
	__atomic_store_n(&word, 3, __ATOMIC_RELAXED);
	__atomic_store_n(&word, 4, __ATOMIC_SEQ_CST);
}

unsigned macro_order(void)
{
	/* Acquire: accepted. */
	unsigned a = CT__ATOMIC_LOAD(&pub, acquire);
	return a + CT__ATOMIC_LOAD(&pub, relaxed);
}

void split_call(unsigned e)
{
	/* Acquire: accepted, the call's lines are one statement. */
	atomic_compare_exchange_strong_explicit(&word, &e, e + 1, memory_order_acquire,
						memory_order_relaxed);
	if (e)
		atomic_fetch_add_explicit(&word, 1, memory_order_acq_rel); /* acq_rel: accepted */
}
