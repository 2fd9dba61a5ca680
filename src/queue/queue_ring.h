/* The lock-free ring of a bounded FIFO queue (queue_ring.c): what
 * ct_queue_t uses when its kind is FIFO and its bound at most
 * CT__QUEUE_PREALLOC_MAX. Every other queue takes the locked path of
 * queue.c. Its operations are the table ct__qring_ops (queue_internal.h).
 */
#ifndef CT_QUEUE_RING_H
#define CT_QUEUE_RING_H

#include "cthreading/queue.h"

/* Gives @p q (a FIFO queue, 1 <= maxsize <= CT__QUEUE_PREALLOC_MAX) its
 * ring and the ring's table. */
int ct__qring_init(ct_queue_t *q);

#endif /* CT_QUEUE_RING_H */
