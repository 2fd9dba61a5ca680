/* How the non-blocking peers (spin queues) wait when their queue is full or
 * empty, where cthreading's blocking queues park the thread: a few pauses,
 * then a sched_yield() per retry, so that on a machine with fewer CPUs than
 * threads the thread they wait for can run. The same policy for every such
 * peer, C and C++ alike; the rows that use it say "busy-waits". */
#ifndef CT_BENCH_SPIN_H
#define CT_BENCH_SPIN_H

#include <sched.h>

#define BENCH_SPIN_PAUSES 64
#define BENCH_SPIN_NOTE "busy-waits (64 pauses, then yields)"

static inline void bench_spin_wait(unsigned *tries)
{
	if (++*tries < BENCH_SPIN_PAUSES) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ __volatile__("yield");
#endif
	} else {
		sched_yield();
	}
}

#endif /* CT_BENCH_SPIN_H */
