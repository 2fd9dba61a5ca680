/* moodycamel's side of the benchmark (libconcurrentqueue-dev):
 * ConcurrentQueue, whose consumers busy-wait (bench_spin.h), and
 * BlockingConcurrentQueue, whose consumers block on a semaphore. Both are
 * unbounded (producers never wait) and used without tokens, as a program
 * passing one queue around would. */
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/concurrentqueue.h>

#include <cstdint>
#include <cstdlib>
#include <new>

#include "bench_peers.h"
#include "bench_spin.h"

namespace
{

using spin_queue = moodycamel::ConcurrentQueue<uintptr_t>;
using blocking_queue = moodycamel::BlockingConcurrentQueue<uintptr_t>;

void *spin_create(long bound)
{
	(void)bound;
	return new (std::nothrow) spin_queue;
}

void spin_put(void *q, uintptr_t item)
{
	if (!static_cast<spin_queue *>(q)->enqueue(item))
		abort();
}

uintptr_t spin_get(void *q)
{
	uintptr_t item = 0;
	unsigned tries = 0;
	while (!static_cast<spin_queue *>(q)->try_dequeue(item))
		bench_spin_wait(&tries);
	return item;
}

void spin_destroy(void *q)
{
	delete static_cast<spin_queue *>(q);
}

void *blocking_create(long bound)
{
	(void)bound;
	return new (std::nothrow) blocking_queue;
}

void blocking_put(void *q, uintptr_t item)
{
	if (!static_cast<blocking_queue *>(q)->enqueue(item))
		abort();
}

uintptr_t blocking_get(void *q)
{
	uintptr_t item = 0;
	static_cast<blocking_queue *>(q)->wait_dequeue(item);
	return item;
}

void blocking_destroy(void *q)
{
	delete static_cast<blocking_queue *>(q);
}

} // namespace

extern "C" {
const struct bench_queue_impl bench_moodycamel_queue = {
	"unbounded; " BENCH_SPIN_NOTE, spin_create, spin_put, spin_get, spin_destroy, 0};
const struct bench_queue_impl bench_moodycamel_blocking_queue = {"unbounded; consumers block",
								 blocking_create,
								 blocking_put,
								 blocking_get,
								 blocking_destroy,
								 0};
}
