/* The storage behind a ct_queue_t: a ring (FIFO and LIFO) or a binary heap
 * (PRIORITY), in queue_store.c. The blocking rules live in queue.c.
 *
 * Every function here is called with the queue's lock held (or on a queue
 * nobody else can see), and none of them blocks.
 */
#ifndef CT_QUEUE_INTERNAL_H
#define CT_QUEUE_INTERNAL_H

#include "core/internal.h"
#include "cthreading/queue.h"
#include "thread/thread_internal.h"

/* A bounded queue up to this many slots gets its whole ring at init; a
 * larger bound, or none, starts small and doubles on demand. */
#define CT__QUEUE_PREALLOC_MAX 65536
/* The smallest ring or heap a growable queue has once it holds an item. */
#define CT__QUEUE_MIN_CAP 16

/* The checks a blocking get makes at the API boundary, Queue's and
 * SimpleQueue's: the queue and where the item goes must not be NULL; the
 * timeout becomes *deadline (puts use ct__object_deadline() alone). */
static inline int ct__queue_get_args(const void *q, void **item, double timeout, int64_t *deadline)
{
	int rc = ct__object_deadline(q, timeout, deadline);
	return rc < 0 ? rc : item ? 0 : CT_EINVAL;
}

/* What a ct_queue_t does with its storage: one table per kind of storage,
 * chosen at init (ct__storage indexes them, see queue.c): the lock-free
 * ring of a bounded FIFO queue (ct__qring_ops, queue_ring.c) or the locked
 * store of every other queue (queue.c). The public functions check their
 * arguments and turn timeouts into deadlines, then call through it. */
struct ct__queue_ops {
	int (*put)(ct_queue_t *q, void *item, int64_t deadline);
	int (*get)(ct_queue_t *q, void **item, int64_t deadline);
	size_t (*qsize)(const ct_queue_t *q);
	bool (*is_shut)(const ct_queue_t *q);
	int (*task_done)(ct_queue_t *q);
	int (*join)(ct_queue_t *q, int64_t deadline);
	void (*shutdown)(ct_queue_t *q, bool immediate);
	/* Frees the storage (CT_EBUSY while threads wait); queue.c then marks
	 * the queue destroyed. */
	int (*destroy)(ct_queue_t *q);
	/* Threads waiting in the queue: see ct__queue_waiters(). */
	unsigned (*waiters)(ct_queue_t *q);
};

/* ct__storage: which table a queue uses. 0 for the locked store, so that a
 * queue made by CT_QUEUE_INIT (all zero) and a destroyed one use it. */
enum { CT__QUEUE_LOCKED = 0, CT__QUEUE_RING = 1 };

extern const struct ct__queue_ops ct__qring_ops;

static inline size_t ct__queue_count(const ct_queue_t *q)
{
	/* Relaxed: stored under the queue's lock and read under it, or as qsize()'s snapshot,
	 * which orders nothing. */
	return atomic_load_explicit(&q->ct__count, memory_order_relaxed);
}

/* Allocates the storage a bounded queue gets at init (none otherwise). */
int ct__qstore_init(ct_queue_t *q);

/* Adds an item; the queue must not be full. CT_ENOMEM (queue unchanged)
 * when it had to grow and could not. */
int ct__qstore_push(ct_queue_t *q, void *item);

/* Removes the next item in the queue's order; the queue must not be empty. */
void *ct__qstore_pop(ct_queue_t *q);

/* Moves every item of @p q into @p to (a zeroed ct_queue_t), leaving @p q
 * empty and without storage: used to drop items without holding the lock. */
void ct__qstore_detach(ct_queue_t *q, ct_queue_t *to);

/* Pops every item of a detached store in order, calls @p fn (may be NULL)
 * on each, and frees the storage. */
void ct__qstore_drop_all(ct_queue_t *store, void (*fn)(void *item));

/* Threads waiting in @p q (getters, putters and joiners together), for
 * tests that must know a thread is parked before they act. */
unsigned ct__queue_waiters(ct_queue_t *q);

#endif /* CT_QUEUE_INTERNAL_H */
