/* Boost.Lockfree's side of the benchmark (libboost-dev): queue for the
 * queue rows, spsc_queue for the 1 -> 1 row. Neither can block: a thread
 * that finds the queue full or empty busy-waits (bench_spin.h). */
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>

#include <cstdint>
#include <new>

#include "bench_peers.h"
#include "bench_spin.h"

namespace
{

/* queue: a node-based Michael-Scott queue over a free list. Bounded (the
 * queue rows), it takes nodes only from a free list of `bound` nodes
 * (bounded_push); unbounded (the SimpleQueue rows), push allocates. */
struct mpmc {
	boost::lockfree::queue<uintptr_t> q;
	bool bounded;
	mpmc(size_t nodes, bool b) : q(nodes), bounded(b)
	{
	}
};

void *mpmc_create(long bound)
{
	return new (std::nothrow) mpmc(bound > 0 ? (size_t)bound : 1024, bound > 0);
}

void mpmc_put(void *arg, uintptr_t item)
{
	auto *m = static_cast<mpmc *>(arg);
	unsigned tries = 0;
	while (!(m->bounded ? m->q.bounded_push(item) : m->q.push(item)))
		bench_spin_wait(&tries);
}

uintptr_t mpmc_get(void *arg)
{
	auto *m = static_cast<mpmc *>(arg);
	uintptr_t item = 0;
	unsigned tries = 0;
	while (!m->q.pop(item))
		bench_spin_wait(&tries);
	return item;
}

void mpmc_destroy(void *arg)
{
	delete static_cast<mpmc *>(arg);
}

/* spsc_queue: a ring of 1024 slots fixed at compile time. */
using spsc = boost::lockfree::spsc_queue<uintptr_t, boost::lockfree::capacity<1024>>;

void *spsc_create(long bound)
{
	(void)bound;
	return new (std::nothrow) spsc;
}

void spsc_put(void *arg, uintptr_t item)
{
	auto *q = static_cast<spsc *>(arg);
	unsigned tries = 0;
	while (!q->push(item))
		bench_spin_wait(&tries);
}

uintptr_t spsc_get(void *arg)
{
	auto *q = static_cast<spsc *>(arg);
	uintptr_t item = 0;
	unsigned tries = 0;
	while (!q->pop(item))
		bench_spin_wait(&tries);
	return item;
}

void spsc_destroy(void *arg)
{
	delete static_cast<spsc *>(arg);
}

} // namespace

extern "C" {
const struct bench_queue_impl bench_boost_queue = {BENCH_SPIN_NOTE, mpmc_create,  mpmc_put,
						   mpmc_get,	    mpmc_destroy, 0};
const struct bench_queue_impl bench_boost_spsc_queue = {BENCH_SPIN_NOTE, spsc_create,  spsc_put,
							spsc_get,	 spsc_destroy, 0};
}
