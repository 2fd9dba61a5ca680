/* atomic_queue's side of the benchmark (libatomic-queue-dev): AtomicQueue,
 * a bounded ring of 1024 atomic slots for any number of producers and
 * consumers. It cannot block: try_push and try_pop, and a busy-wait
 * between tries (bench_spin.h), as for the other spin queues (its push and
 * pop spin inside without ever yielding).
 *
 * Its README says the try_ functions do not keep FIFO order, and they do
 * not: when a consumer is preempted between taking a slot's ticket and
 * emptying the slot, the consumer of the next lap around the ring can take
 * the older item, so a consumer can see one producer's items out of order
 * (the run's order check finds it within a few runs of 2 -> 2). The rows
 * check its count and sum only, and say so. */
#include <atomic_queue/atomic_queue.h>

#include <cstdint>
#include <new>

#include "bench_peers.h"
#include "bench_spin.h"

namespace
{

using ring = atomic_queue::AtomicQueue<uintptr_t, 1024>; /* 0 is its empty slot */

void *ring_create(long bound)
{
	if (bound <= 0)
		return nullptr; /* bounded only */
	return new (std::nothrow) ring;
}

void ring_put(void *q, uintptr_t item)
{
	unsigned tries = 0;
	while (!static_cast<ring *>(q)->try_push(item))
		bench_spin_wait(&tries);
}

uintptr_t ring_get(void *q)
{
	uintptr_t item = 0;
	unsigned tries = 0;
	while (!static_cast<ring *>(q)->try_pop(item))
		bench_spin_wait(&tries);
	return item;
}

void ring_destroy(void *q)
{
	delete static_cast<ring *>(q);
}

} // namespace

extern "C" {
const struct bench_queue_impl bench_atomic_queue = {BENCH_SPIN_NOTE
						    "; not FIFO per producer: order not checked",
						    ring_create,
						    ring_put,
						    ring_get,
						    ring_destroy,
						    BENCH_QUEUE_UNORDERED};
}
