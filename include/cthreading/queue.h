/** @file
 * cthreading: Queue, LifoQueue, PriorityQueue and SimpleQueue (Python's queue).
 */
#ifndef CTHREADING_QUEUE_H
#define CTHREADING_QUEUE_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"
#include "lock.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup queue Queue, LifoQueue, PriorityQueue
 *
 * Python's `queue.Queue`, `queue.LifoQueue` and `queue.PriorityQueue`, with
 * Python 3.13's shutdown. Items are `void *`; the queue never looks at what
 * they point to, except through the comparison of a priority queue and the
 * optional `free_item` for the items it drops.
 *
 * @code
 * ct_queue_t q;                                   // q = queue.Queue(maxsize=64)
 * ct_queue_init(&q, &(ct_queue_opts){.maxsize = 64});
 * ct_queue_put(&q, item, CT_FOREVER);             // q.put(item)
 * void *got;
 * if (ct_queue_get(&q, &got, 1.0) == CT_EEMPTY)   // q.get(timeout=1.0)
 *     ...;                                        // except queue.Empty
 * ct_queue_task_done(&q);                         // q.task_done()
 * ct_queue_join(&q, CT_FOREVER);                  // q.join()
 * ct_queue_shutdown(&q, false);                   // q.shutdown()
 * ct_queue_destroy(&q);
 * @endcode
 *
 * How it is built: a bounded FIFO queue is a lock-free ring sized at init
 * (no allocation per item, no lock: producers and consumers share only the
 * slots they hand over); while one thread puts and one thread gets, it
 * makes no atomic read-modify-write at all, and a second producer or
 * consumer switches it for good to the rules for many. The other kinds keep their items under one
 * Lock: an unbounded queue in a ring that doubles when full, a priority queue in a binary heap.
 * Either way a thread that must wait ("not empty", "not full", "all tasks done") parks through the
 * parking core and marks what it waits for, so a put or get makes a wake-up call only when a thread
 * waits; and a getter that finds the queue empty (or a putter that finds
 * it full) first spins briefly, so that a busy queue seldom puts anyone to
 * sleep at all.
 *
 * Timeouts are relative seconds: CT_FOREVER waits without a limit, 0 tries
 * once, any other negative value is CT_EINVAL. A put that cannot complete in time
 * reports CT_EFULL and a get CT_EEMPTY, as Python raises `Full` and `Empty`
 * for both the timed-out and the non-blocking forms.
 * @{
 */

/** @cond internal */
struct ct__qring;
/** @endcond */

/** Which order items come out in. */
typedef enum ct_queue_kind {
	CT_QUEUE_FIFO = 0,     /**< `queue.Queue`: first in, first out */
	CT_QUEUE_LIFO = 1,     /**< `queue.LifoQueue`: last in, first out */
	CT_QUEUE_PRIORITY = 2, /**< `queue.PriorityQueue`: lowest first (see compare) */
} ct_queue_kind;

/** The order of a priority queue: negative when item @p a comes out before
 *  @p b ("a < b", lowest first, as Python's heapq), positive when after, 0
 *  for equal priorities, which come out in the order they were put. It is
 *  called with the queue's lock held, and a fork() waits for it: it must
 *  not block. */
typedef int (*ct_queue_compare_fn)(const void *a, const void *b);

/** Options of a queue; all zero is Python's `Queue()`: unbounded FIFO. */
typedef struct ct_queue_opts {
	/** Python's `maxsize`: at most this many items; <= 0 for no limit. */
	long maxsize;
	/** FIFO (the default), LIFO or PRIORITY. */
	ct_queue_kind kind;
	/** The order of a PRIORITY queue (required there; ignored otherwise). */
	ct_queue_compare_fn compare;
	/** Called for every item the queue drops: the items an immediate
	 *  shutdown discards and those still queued at ct_queue_destroy().
	 *  NULL: dropped items are simply forgotten. It runs without the
	 *  queue's lock held and may call `free`, or anything else. */
	void (*free_item)(void *item);
} ct_queue_opts;

/** A queue. Treat the members as private. */
typedef struct ct_queue {
	/** @cond internal */
	/* A bounded FIFO queue (the most common kind) is a lock-free ring and
	 * uses nothing else here but ct__storage, ct__maxsize and
	 * ct__free_item. */
	struct ct__qring *ct__ring;
	ct_lock_t ct__lock;	       /* the other kinds: guards everything below */
	CT__ATOMIC(uint32_t) ct__shut; /* 0, or shut down: puts fail from now on */
	uint8_t ct__kind;	       /* ct_queue_kind */
	uint8_t ct__storage;	       /* the ring or the locked store, set at init */
	CT__ATOMIC(size_t) ct__count;  /* items queued; readable without the lock */
	size_t ct__maxsize;	       /* 0: unbounded */
	void *ct__buf;		       /* the ring (void *) or the heap (entries) */
	size_t ct__cap;		       /* slots in ct__buf */
	size_t ct__head;	       /* ring: index of the oldest item */
	uint64_t ct__seq;	       /* priority: insertion counter for ties */
	size_t ct__unfinished;	       /* put and not yet task_done */
	/* Threads parked on "not empty", "not full" and "all tasks done";
	 * the fields' addresses are the parking keys. */
	uint32_t ct__getters, ct__putters, ct__joiners;
	ct_queue_compare_fn ct__compare;
	void (*ct__free_item)(void *item);
	/** @endcond */
} ct_queue_t;

/** @cond internal */
/* C++ before C++20 has no designated initializers: every member, in
 * order. */
#define CT__QUEUE_INIT_CXX(kind, compare)                                                          \
	{                                                                                          \
		NULL, CT_LOCK_INIT, 0, (kind), 0, 0, 0, NULL, 0, 0, 0, 0, 0, 0, 0, (compare), NULL \
	}
/** @endcond */

/** Static initializer of an unbounded FIFO queue, Python's module-level
 *  `q = queue.Queue()`: `static ct_queue_t q = CT_QUEUE_INIT;`. Its ring is
 *  allocated by the first put. */
#ifdef __cplusplus
#define CT_QUEUE_INIT \
	{             \
	}
#else
#define CT_QUEUE_INIT         \
	{                     \
		.ct__kind = 0 \
	}
#endif

/** Static initializer of an unbounded LIFO queue (`queue.LifoQueue()`). */
#ifdef __cplusplus
#define CT_LIFOQUEUE_INIT CT__QUEUE_INIT_CXX(CT_QUEUE_LIFO, NULL)
#else
#define CT_LIFOQUEUE_INIT                 \
	{                                 \
		.ct__kind = CT_QUEUE_LIFO \
	}
#endif

/** Static initializer of an unbounded priority queue ordered by @p compare
 *  (`queue.PriorityQueue()`). */
#ifdef __cplusplus
#define CT_PRIORITYQUEUE_INIT(compare) CT__QUEUE_INIT_CXX(CT_QUEUE_PRIORITY, (compare))
#else
#define CT_PRIORITYQUEUE_INIT(compare)                                  \
	{                                                               \
		.ct__kind = CT_QUEUE_PRIORITY, .ct__compare = (compare) \
	}
#endif

/** Initialises a queue: `Queue(maxsize)`, `LifoQueue(maxsize)` or
 *  `PriorityQueue(maxsize)`. @p opts may be NULL (unbounded FIFO).
 *
 * A bounded queue of up to 65536 items gets its whole storage here, so its
 * puts never allocate; a larger bound grows on demand up to maxsize, as an
 * unbounded queue does.
 * Errors: CT_EINVAL (q NULL, unknown kind, PRIORITY without compare),
 * CT_ENOMEM. After a failure the queue reads as destroyed, whatever its
 * memory held (ct_queue_destroy() does nothing, put and get report
 * CT_EINVAL). */
CT_API int ct_queue_init(ct_queue_t *q, const ct_queue_opts *opts);

/** Releases a queue: calls `free_item` for every item still queued, then
 *  frees the storage. The queue may be initialised again afterwards; until
 *  then put, get, task_done and join report CT_EINVAL, the queries read it
 *  as empty and shut down, and a second destroy does nothing. In the child
 *  of a fork(), the parent's threads that waited in it are gone and do not
 *  count.
 *
 * Errors: CT_EBUSY (and nothing is done) if threads are still waiting in
 * it; CT_EINVAL (q NULL). */
CT_API int ct_queue_destroy(ct_queue_t *q);

/** `Queue.put(item, timeout=timeout)`: adds @p item, waiting up to @p
 *  timeout seconds for a free slot if the queue is bounded and full.
 *
 * Returns 0, or CT_EFULL if still full at the timeout (0: at once),
 * CT_ESHUTDOWN if the queue is shut down (also for putters blocked when it
 * happens), CT_ENOMEM if a queue that grows (unbounded, or bounded above
 * 65536 items) could not grow (the item is not added; the queue is
 * unchanged and usable), CT_EINVAL (NaN), CT_ETOOLARGE.
 * Interruptible: CT_ESTOPPED. Releases the caller's GIL while it waits. */
CT_API int ct_queue_put(ct_queue_t *q, void *item, double timeout);

/** `Queue.put_nowait(item)`: ct_queue_put() with timeout 0 (CT_EFULL when
 *  full). */
CT_API int ct_queue_put_nowait(ct_queue_t *q, void *item);

/** `Queue.get(timeout=timeout)`: removes the next item into *@p item,
 *  waiting up to @p timeout seconds for one.
 *
 * Returns 0, or CT_EEMPTY if still empty at the timeout (0: at once),
 * CT_ESHUTDOWN if the queue is shut down and empty (a non-immediate
 * shutdown lets getters drain what is left first), CT_EINVAL (NaN, NULL),
 * CT_ETOOLARGE. Interruptible: CT_ESTOPPED (an item already there is still
 * returned). Releases the caller's GIL while it waits. */
CT_API int ct_queue_get(ct_queue_t *q, void **item, double timeout);

/** `Queue.get_nowait()`: ct_queue_get() with timeout 0 (CT_EEMPTY when
 *  empty). */
CT_API int ct_queue_get_nowait(ct_queue_t *q, void **item);

/** `Queue.qsize()`: the number of items, approximate while other threads
 *  put and get (as in Python). Takes no lock. */
CT_API size_t ct_queue_qsize(const ct_queue_t *q);

/** `Queue.empty()`, with qsize()'s caveat. */
CT_API bool ct_queue_empty(const ct_queue_t *q);

/** `Queue.full()`: bounded and holding maxsize items, with qsize()'s
 *  caveat. */
CT_API bool ct_queue_full(const ct_queue_t *q);

/** `Queue.maxsize`: the bound given at init, 0 for unbounded. */
CT_API long ct_queue_maxsize(const ct_queue_t *q);

/** `Queue.is_shutdown`. */
CT_API bool ct_queue_is_shutdown(const ct_queue_t *q);

/** `Queue.task_done()`: one item formerly got is fully processed; when
 *  every item put has been, ct_queue_join() returns.
 *
 * Errors: CT_ETASKDONE ("task_done() called too many times"), CT_EINVAL
 * (q NULL). */
CT_API int ct_queue_task_done(ct_queue_t *q);

/** `Queue.join()`, with a timeout beyond Python: waits until every item put
 *  has been marked done by ct_queue_task_done() (or dropped by an immediate
 *  shutdown).
 *
 * Returns 0, or CT_ETIMEDOUT if tasks are still unfinished at the timeout,
 * CT_EINVAL (NaN, q NULL), CT_ETOOLARGE. Interruptible: CT_ESTOPPED. Releases the
 * caller's GIL while it waits. */
CT_API int ct_queue_join(ct_queue_t *q, double timeout);

/** `Queue.shutdown(immediate)`, Python 3.13: from now on puts fail with
 *  CT_ESHUTDOWN, and blocked putters wake with it; gets return what is
 *  left, then fail with CT_ESHUTDOWN, and blocked getters wake to do so.
 *  With @p immediate, the items left are dropped at once (`free_item` is
 *  called for each, in queue order), each counts as done for
 *  ct_queue_join(), and gets fail at once. Shutting down twice is allowed
 *  (a later immediate one still drops what is left). */
CT_API void ct_queue_shutdown(ct_queue_t *q, bool immediate);

/** @} */

/** @defgroup simplequeue SimpleQueue
 *
 * Python's `queue.SimpleQueue`: an unbounded FIFO queue without task
 * tracking, whose put never blocks and is reentrant. Here put is lock-free:
 * it can be called from a destructor, a done-callback, or while the caller
 * holds other locks, and fails only when memory for a new segment cannot
 * be had (CT_ENOMEM). Items live in a linked list of fixed-size segments,
 * allocated one per 127 items (not per item) and recycled; getters take
 * turns through a Lock and park on the slot they wait for, so a put wakes
 * exactly the getter that waits for its item, and only if one does.
 *
 * (Strictly, a put that finds a segment full while another put is linking
 * the next one spins for those few instructions; it never waits for a
 * getter, a lock, or memory.)
 * @{
 */

/** @cond internal */
#define CT__SQ_SEGMENT 127
struct ct__sq_segment;
/** @endcond */

/** A SimpleQueue. Treat the members as private. */
typedef struct ct_simplequeue {
	/** @cond internal */
	/* Producers' side: the position of the next put and its segment. */
	CT__ATOMIC(uint64_t) ct__tail;
	CT__ATOMIC(struct ct__sq_segment *) ct__tail_seg;
	char ct__pad1[64 - sizeof(uint64_t) - sizeof(void *)];
	/* Getters' side, under ct__get_lock. */
	ct_lock_t ct__get_lock;
	CT__ATOMIC(uint64_t) ct__head;
	CT__ATOMIC(struct ct__sq_segment *) ct__head_seg;
	/* One segment kept for reuse. */
	CT__ATOMIC(struct ct__sq_segment *) ct__spare;
	/** @endcond */
} ct_simplequeue_t;

/** Static initializer: `static ct_simplequeue_t q = CT_SIMPLEQUEUE_INIT;`.
 *  The first segment is allocated by the first put. */
#ifdef __cplusplus
#define CT_SIMPLEQUEUE_INIT \
	{                   \
	}
#else
#define CT_SIMPLEQUEUE_INIT   \
	{                     \
		.ct__tail = 0 \
	}
#endif

/** Initialises a SimpleQueue (empty; no allocation yet). Cannot fail. */
CT_API void ct_simplequeue_init(ct_simplequeue_t *q);

/** Releases a SimpleQueue's memory. Items still queued are forgotten (drain
 *  them with ct_simplequeue_get_nowait() first if they own memory). The
 *  queue may be initialised again afterwards; until then put and get report
 *  CT_EINVAL, the queries read it as empty, and a second destroy does
 *  nothing.
 *
 * Errors: CT_EBUSY (and nothing is done) if a getter is inside the queue;
 * CT_EINVAL (q NULL). */
CT_API int ct_simplequeue_destroy(ct_simplequeue_t *q);

/** `SimpleQueue.put(item)`: adds @p item; never blocks (see above), safe
 *  from destructors and callbacks.
 *
 * Errors: CT_ENOMEM (a new segment could not be allocated; nothing was
 * added and the queue is unchanged), CT_EINVAL (q NULL or destroyed). */
CT_API int ct_simplequeue_put(ct_simplequeue_t *q, void *item);

/** `SimpleQueue.put_nowait(item)`: the same as ct_simplequeue_put(). */
CT_API int ct_simplequeue_put_nowait(ct_simplequeue_t *q, void *item);

/** `SimpleQueue.get(timeout=timeout)`: removes the oldest item into
 *  *@p item, waiting up to @p timeout seconds for one.
 *
 * Returns 0, or CT_EEMPTY if still empty at the timeout (0: at once),
 * CT_EINVAL (NaN, NULL, a destroyed queue), CT_ETOOLARGE. Interruptible: CT_ESTOPPED.
 * Releases the caller's GIL while it waits. */
CT_API int ct_simplequeue_get(ct_simplequeue_t *q, void **item, double timeout);

/** `SimpleQueue.get_nowait()`: ct_simplequeue_get() with timeout 0. */
CT_API int ct_simplequeue_get_nowait(ct_simplequeue_t *q, void **item);

/** `SimpleQueue.qsize()`: approximate while others put and get. */
CT_API size_t ct_simplequeue_qsize(const ct_simplequeue_t *q);

/** `SimpleQueue.empty()`, with qsize()'s caveat. */
CT_API bool ct_simplequeue_empty(const ct_simplequeue_t *q);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_QUEUE_H */
