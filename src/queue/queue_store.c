/* The storage of a ct_queue_t: a ring for FIFO and LIFO queues (the heap of
 * a priority queue is in queue_heap.c), and the capacity policy both share.
 *
 * Capacity: a bounded queue of at most CT__QUEUE_PREALLOC_MAX slots gets
 * its ring at init and keeps it: no put allocates. Any other queue starts
 * empty, doubles when full (up to its bound, if any) and halves when a pop
 * leaves it a quarter full, so that a burst does not pin its memory
 * forever; both are amortised O(1) per item. A failed growth leaves the
 * queue as it was (the put reports CT_ENOMEM); a failed shrink is ignored.
 */
#include <stdint.h>
#include <string.h>

#include "queue/queue_heap.h"
#include "queue/queue_internal.h"

static bool is_heap(const ct_queue_t *q)
{
	return q->ct__kind == CT_QUEUE_PRIORITY;
}

static size_t slot_size(const ct_queue_t *q)
{
	return is_heap(q) ? sizeof(struct ct__qentry) : sizeof(void *);
}

/* Sized once at init and never resized. */
static bool fixed_size(const ct_queue_t *q)
{
	return q->ct__maxsize != 0 && q->ct__maxsize <= CT__QUEUE_PREALLOC_MAX;
}

int ct__qstore_init(ct_queue_t *q)
{
	if (!fixed_size(q))
		return 0;
	q->ct__buf = ct__malloc(q->ct__maxsize * slot_size(q));
	if (!q->ct__buf)
		return CT_ENOMEM;
	q->ct__cap = q->ct__maxsize;
	return 0;
}

/* Copies the ring's items, oldest first, to the start of @p to. */
static void unwrap_ring(const ct_queue_t *q, void **to)
{
	void **ring = q->ct__buf;
	size_t n = ct__queue_count(q), first = q->ct__cap - q->ct__head;
	if (first > n)
		first = n;
	if (n == 0)
		return;
	memcpy(to, ring + q->ct__head, first * sizeof *ring);
	memcpy(to + first, ring, (n - first) * sizeof *ring);
}

/* Moves the items to new storage of @p cap slots (cap >= count). */
static int resize(ct_queue_t *q, size_t cap)
{
	/* GCOVR_EXCL_BR_START: would need more than SIZE_MAX / 16 items in memory first */
	if (cap > SIZE_MAX / slot_size(q))
		/* GCOVR_EXCL_BR_STOP */
		return CT_ENOMEM;
	void *buf = ct__malloc(cap * slot_size(q));
	if (!buf)
		return CT_ENOMEM;
	if (is_heap(q) && ct__queue_count(q) != 0)
		memcpy(buf, q->ct__buf, ct__queue_count(q) * slot_size(q));
	else if (!is_heap(q))
		unwrap_ring(q, buf);
	ct__free(q->ct__buf);
	q->ct__buf = buf;
	q->ct__cap = cap;
	q->ct__head = 0;
	return 0;
}

static int grow(ct_queue_t *q)
{
	size_t cap = q->ct__cap ? q->ct__cap * 2 : CT__QUEUE_MIN_CAP;
	/* GCOVR_EXCL_BR_START: the doubling wraps only past SIZE_MAX / 2 slots, which no memory
	 * holds */
	if (cap < q->ct__cap)
		/* GCOVR_EXCL_BR_STOP */
		return CT_ENOMEM;
	if (q->ct__maxsize && cap > q->ct__maxsize)
		cap = q->ct__maxsize;
	return resize(q, cap);
}

int ct__qstore_push(ct_queue_t *q, void *item)
{
	size_t n = ct__queue_count(q);
	if (n == q->ct__cap) {
		int rc = grow(q);
		if (rc < 0)
			return rc;
	}
	if (is_heap(q)) {
		ct__qheap_push(q, item, n);
	} else {
		size_t i = q->ct__head + n;
		((void **)q->ct__buf)[i < q->ct__cap ? i : i - q->ct__cap] = item;
	}
	/* Relaxed: under the queue's lock (see ct__queue_count()). */
	atomic_store_explicit(&q->ct__count, n + 1, memory_order_relaxed);
	return 0;
}

/* Pops without shrinking. */
static void *take(ct_queue_t *q)
{
	size_t n = ct__queue_count(q);
	void **ring = q->ct__buf;
	void *item;
	if (q->ct__kind == CT_QUEUE_FIFO) {
		item = ring[q->ct__head];
		q->ct__head = q->ct__head + 1 == q->ct__cap ? 0 : q->ct__head + 1;
	} else if (q->ct__kind == CT_QUEUE_LIFO) {
		size_t i = q->ct__head + n - 1;
		/* GCOVR_EXCL_BR_START: a LIFO ring keeps its head at 0 (only FIFO pops move it, a
		 * resize resets it): the index never wraps */
		item = ring[i < q->ct__cap ? i : i - q->ct__cap];
		/* GCOVR_EXCL_BR_STOP */
	} else {
		item = ct__qheap_pop(q, n);
	}
	/* Relaxed: under the queue's lock. */
	atomic_store_explicit(&q->ct__count, n - 1, memory_order_relaxed);
	return item;
}

void *ct__qstore_pop(ct_queue_t *q)
{
	void *item = take(q);
	size_t cap = q->ct__cap;
	if (!fixed_size(q) && cap > CT__QUEUE_MIN_CAP && ct__queue_count(q) <= cap / 4)
		(void)resize(q, cap / 2); /* on failure, keep the larger one */
	return item;
}

void ct__qstore_detach(ct_queue_t *q, ct_queue_t *to)
{
	to->ct__kind = q->ct__kind;
	to->ct__compare = q->ct__compare;
	to->ct__buf = q->ct__buf;
	to->ct__cap = q->ct__cap;
	to->ct__head = q->ct__head;
	atomic_init(&to->ct__count, ct__queue_count(q));
	q->ct__buf = NULL;
	q->ct__cap = 0;
	q->ct__head = 0;
	/* Relaxed: under the queue's lock. */
	atomic_store_explicit(&q->ct__count, 0, memory_order_relaxed);
}

void ct__qstore_drop_all(ct_queue_t *store, void (*fn)(void *item))
{
	while (ct__queue_count(store)) {
		void *item = take(store);
		if (fn)
			fn(item);
	}
	ct__free(store->ct__buf);
	store->ct__buf = NULL;
	store->ct__cap = 0;
}
