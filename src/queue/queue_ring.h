/* The lock-free ring of a bounded FIFO queue (queue_ring.c): what
 * ct_queue_t uses when its kind is FIFO and its bound at most
 * CT__QUEUE_PREALLOC_MAX. Every other queue takes the locked path of
 * queue.c. Deadlines are absolute (ct__deadline()).
 */
#ifndef CT_QUEUE_RING_H
#define CT_QUEUE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct__qring;

/* A ring of @p cap slots (1 <= cap <= CT__QUEUE_PREALLOC_MAX). */
int ct__qring_new(struct ct__qring **out, size_t cap);

/* Frees the ring, calling @p free_item (may be NULL) on every item left.
 * CT_EBUSY (nothing done) while threads wait in it. */
int ct__qring_destroy(struct ct__qring *r, void (*free_item)(void *item));

int ct__qring_put(struct ct__qring *r, void *item, int64_t deadline);
int ct__qring_get(struct ct__qring *r, void **item, int64_t deadline);
size_t ct__qring_qsize(const struct ct__qring *r);
bool ct__qring_is_shut(const struct ct__qring *r);
int ct__qring_task_done(struct ct__qring *r);
int ct__qring_join(struct ct__qring *r, int64_t deadline);
void ct__qring_shutdown(struct ct__qring *r, bool immediate, void (*free_item)(void *item));

/* Threads waiting in the ring (see ct__queue_waiters()). */
unsigned ct__qring_waiters(struct ct__qring *r);

#endif /* CT_QUEUE_RING_H */
