/* The binary heap of a priority queue: lowest first by the caller's
 * comparison, then by insertion number, so the order is total and equal
 * priorities come out first in, first out (Python's PriorityQueue gives no
 * such promise for equal items; callers of ours can rely on it).
 *
 * Sifting moves a "hole" instead of swapping: one write per level.
 */
#include "queue/queue_heap.h"

static bool before(const ct_queue_t *q, const struct ct__qentry *a, const struct ct__qentry *b)
{
	int c = q->ct__compare(a->item, b->item);
	return c < 0 || (c == 0 && a->seq < b->seq);
}

void ct__qheap_push(ct_queue_t *q, void *item, size_t n)
{
	struct ct__qentry *heap = q->ct__buf;
	struct ct__qentry e = {item, q->ct__seq++};
	size_t hole = n;
	while (hole > 0) {
		size_t parent = (hole - 1) / 2;
		if (!before(q, &e, &heap[parent]))
			break;
		heap[hole] = heap[parent];
		hole = parent;
	}
	heap[hole] = e;
}

void *ct__qheap_pop(ct_queue_t *q, size_t n)
{
	struct ct__qentry *heap = q->ct__buf;
	void *first = heap[0].item;
	struct ct__qentry last = heap[--n];
	size_t hole = 0;
	for (;;) {
		size_t child = 2 * hole + 1;
		if (child >= n)
			break;
		if (child + 1 < n && before(q, &heap[child + 1], &heap[child]))
			child++;
		if (!before(q, &heap[child], &last))
			break;
		heap[hole] = heap[child];
		hole = child;
	}
	if (n > 0)
		heap[hole] = last;
	return first;
}
