/* Every static initializer, scoped form and inline function of the public
 * headers, in the common subset of C11 and C++11: cxx_headers.sh compiles
 * this file as C and as every C++ standard, with -pedantic, so that what
 * only a use of a macro or an inline function reveals (an initializer
 * C++ rejects, a conversion C++ does not make) is found there too. */
#include <cthreading.h>

static int action(void *arg)
{
	(void)arg;
	return 0;
}

static int compare(const void *a, const void *b)
{
	return a == b ? 0 : 1;
}

static ct_lock_t lock = CT_LOCK_INIT;
static ct_rlock_t rlock = CT_RLOCK_INIT;
static ct_condition_t cond = CT_CONDITION_INIT;
static ct_condition_t cond_lock = CT_CONDITION_INIT_LOCK(&lock);
static ct_condition_t cond_rlock = CT_CONDITION_INIT_RLOCK(&rlock);
static ct_semaphore_t sem = CT_SEMAPHORE_INIT(3);
static ct_bounded_semaphore_t bsem = CT_BOUNDED_SEMAPHORE_INIT(3);
static ct_event_t event = CT_EVENT_INIT;
static ct_barrier_t barrier = CT_BARRIER_INIT(4);
static ct_barrier_t barrier_action = CT_BARRIER_INIT_ACTION(4, action, NULL, 1.0);
static ct_local_t local = CT_LOCAL_INIT(NULL);
static ct_queue_t fifo = CT_QUEUE_INIT;
static ct_queue_t lifo = CT_LIFOQUEUE_INIT;
static ct_queue_t prio = CT_PRIORITYQUEUE_INIT(compare);
static ct_simplequeue_t sq = CT_SIMPLEQUEUE_INIT;
static ct_gil_t gil = CT_GIL_INIT;
static ct_once_t once = CT_ONCE_INIT;
static ct_latch_t latch = CT_LATCH_INIT(2);
static ct_rwlock_t rw = CT_RWLOCK_INIT;

int cxx_headers_use(void);

int cxx_headers_use(void)
{
	int n = 0;
	CT_WITH_LOCK(&lock)
	{
		n++;
	}
	CT_WITH_RLOCK(&rlock)
	{
		n++;
	}
	CT_WITH_CONDITION(&cond)
	{
		n++;
	}
	CT_WITH_SEMAPHORE(&sem)
	{
		n++;
	}
	CT_WITH_READ_LOCK(&rw)
	{
		n++;
	}
	CT_WITH_WRITE_LOCK(&rw)
	{
		n++;
	}
	CT_GIL_ALLOW_THREADS
	{
		n++;
	}
	ct_lock_init(&lock);
	ct_lock_acquire(&lock);
	n += ct_lock_try_acquire(&lock) + ct_lock_locked(&lock) + ct_lock_release(&lock);
	ct_lock_destroy(&lock);
	n += ct_rlock_locked(&rlock);
	n += ct_semaphore_try_acquire(&sem) + ct_semaphore_acquire(&sem, 0) +
	     (int)ct_semaphore_value(&sem);
	n += ct_bounded_semaphore_acquire(&bsem, 0) + ct_bounded_semaphore_release(&bsem, 1) +
	     ct_bounded_semaphore_try_acquire(&bsem);
	ct_semaphore_destroy(&sem);
	ct_bounded_semaphore_destroy(&bsem);
	ct_event_init(&event);
	n += ct_event_is_set(&event);
	ct_event_destroy(&event);
	n += ct_barrier_broken(&barrier) + (int)ct_barrier_n_waiting(&barrier) +
	     (int)ct_barrier_parties(&barrier_action);
	ct_barrier_destroy(&barrier);
	ct_once_init(&once);
	n += ct_once(&once, action, NULL) + ct_once_done(&once);
	n += ct_latch_try_wait(&latch) + (int)ct_latch_count(&latch);
	ct_latch_destroy(&latch);
	ct_rwlock_init(&rw);
	ct_rwlock_read_acquire(&rw);
	n += ct_rwlock_read_try_acquire(&rw) + ct_rwlock_read_release(&rw) +
	     ct_rwlock_write_locked(&rw) + (int)ct_rwlock_readers(&rw);
	ct_rwlock_destroy(&rw);
	n += ct_gil_checkpoint(&gil) + ct_gil_held(&gil);
	n += ct_local_get(&local) != NULL;
	n += (int)ct_queue_qsize(&fifo) + (int)ct_queue_qsize(&lifo) + (int)ct_queue_qsize(&prio);
	n += (int)ct_simplequeue_qsize(&sq);
	n += ct_condition_notify(&cond_lock, 1) + ct_condition_notify(&cond_rlock, 1);
	return n;
}
