/* How the two threads of a ping-pong begin: together. Each announces
 * itself and waits (yielding) for the other, so that both are running when
 * the first turn is passed, as two busy threads of a program that talk to
 * each other would be. Without this, the first turn often finds the new
 * thread still being created, asleep, and a waiter that spins before it
 * sleeps then keeps missing its partner (each wake-up costs more than the
 * spin), which measures thread creation's after-effects, not the
 * primitive. */
#ifndef CT_BENCH_START_H
#define CT_BENCH_START_H

#include <sched.h>
#include <stdatomic.h>

struct bench_start {
	atomic_int arrived;
};

static inline void bench_start_reset(struct bench_start *s)
{
	atomic_store(&s->arrived, 0);
}

static inline void bench_start_together(struct bench_start *s)
{
	atomic_fetch_add(&s->arrived, 1);
	while (atomic_load(&s->arrived) < 2)
		sched_yield();
}

#endif /* CT_BENCH_START_H */
