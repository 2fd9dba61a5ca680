/* The binary heap of a priority queue (queue_heap.c). */
#ifndef CT_QUEUE_HEAP_H
#define CT_QUEUE_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "cthreading/queue.h"

/* One heap slot: the item and its insertion number, which breaks ties so
 * that equal priorities come out in the order they were put. */
struct ct__qentry {
	void *item;
	uint64_t seq;
};

/* Adds @p item to the heap of @p q, which holds @p n entries and has room
 * for one more. */
void ct__qheap_push(ct_queue_t *q, void *item, size_t n);

/* Removes and returns the first item of the heap of @p q (n >= 1 entries). */
void *ct__qheap_pop(ct_queue_t *q, size_t n);

#endif /* CT_QUEUE_HEAP_H */
