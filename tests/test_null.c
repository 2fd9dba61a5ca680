/* NULL never crashes: every public function given a NULL object (or a NULL
 * out-pointer or callback it needs) returns CT_EINVAL; one that returns
 * nothing does nothing; a query returns its neutral answer (false, 0, NULL,
 * NaN). One case per function, so a crash names the function. The inline
 * fast paths have their own table (test_null_inline.c).
 *
 * tests/check_null_table.cmake fails the suite when a public function of
 * the headers has no case here. */
#include <math.h>
#include <string.h>

#include "harness.h"

static bool always(void *arg)
{
	(void)arg;
	return true;
}

static int task(void *arg, void **result)
{
	(void)arg;
	(void)result;
	return 0;
}

static int task0(void *arg)
{
	(void)arg;
	return 0;
}

static void callback(ct_future_t *f, void *arg)
{
	(void)f;
	(void)arg;
}

static int once_fn(void *arg)
{
	(void)arg;
	return 0;
}

static int wait_for_null_predicate(void)
{
	static ct_condition_t c = CT_CONDITION_INIT;
	ct_condition_acquire(&c);
	int rc = ct_condition_wait_for(&c, NULL, NULL, 0);
	ct_condition_release(&c);
	return rc;
}

static int map_null_args(void)
{
	ct_executor_t ex;
	void *results[2];
	CHECK_OK(ct_executor_init(&ex, NULL));
	int rc = ct_executor_map(&ex, task, NULL, 2, 0, results, NULL);
	ct_executor_destroy(&ex);
	return rc;
}

static int add_null_callback(void)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	int rc = ct_future_add_done_callback(f, NULL, NULL);
	ct_future_release(f);
	return rc;
}

static int as_completed_null_out(void)
{
	ct_future_t *f;
	CHECK_OK(ct_future_new(&f));
	ct_as_completed_t it;
	CHECK_OK(ct_as_completed_init(&it, &f, 1, 0));
	int rc = ct_as_completed_next(&it, NULL);
	ct_as_completed_destroy(&it);
	ct_future_release(f);
	return rc;
}

static int gil_stats_null_out(void)
{
	static ct_gil_t gil = CT_GIL_INIT;
	return ct_gil_stats(&gil, NULL);
}

static int once_null_fn(void)
{
	static ct_once_t once = CT_ONCE_INIT;
	return ct__once_slow(&once, NULL, NULL);
}

static int queue_get_null_out(void)
{
	ct_queue_t q;
	CHECK_OK(ct_queue_init(&q, NULL));
	CHECK_OK(ct_queue_put(&q, &q, 0));
	int rc = ct_queue_get(&q, NULL, 0);
	CHECK_EQ(ct_queue_qsize(&q), 1); /* nothing taken */
	void *item;
	CHECK_OK(ct_queue_get(&q, &item, 0));
	CHECK_OK(ct_queue_destroy(&q));
	return rc;
}

static int simplequeue_get_null_out(void)
{
	ct_simplequeue_t q;
	ct_simplequeue_init(&q);
	CHECK_OK(ct_simplequeue_put(&q, &q));
	int rc = ct_simplequeue_get(&q, NULL, 0);
	CHECK_EQ(ct_simplequeue_qsize(&q), 1); /* nothing taken */
	void *item;
	CHECK_OK(ct_simplequeue_get(&q, &item, 0));
	CHECK_OK(ct_simplequeue_destroy(&q));
	return rc;
}

static ct_thread_t *sh_started(void)
{
	ct_thread_t *t;
	CHECK_OK(ct_thread_new(&t, task0, NULL, NULL));
	CHECK_OK(ct_thread_start(t));
	return t;
}

static int timer_null_function(void)
{
	ct_timer_t t;
	return ct_timer_init(&t, 0, NULL, NULL, NULL);
}

TEST(null_barrier_init)
{
	CHECK_RC(ct_barrier_init(NULL, 2, NULL, NULL, CT_FOREVER), CT_EINVAL);
}

TEST(null_barrier_wait)
{
	CHECK_RC(ct_barrier_wait(NULL, 0), CT_EINVAL);
}

TEST(null_barrier_reset)
{
	ct_barrier_reset(NULL);
}

TEST(null_barrier_abort)
{
	ct_barrier_abort(NULL);
}

TEST(null_condition_init)
{
	ct_condition_init(NULL, NULL);
}

TEST(null_condition_init_rlock)
{
	ct_condition_init_rlock(NULL, NULL);
}

TEST(null_condition_destroy)
{
	ct_condition_destroy(NULL);
}

TEST(null_condition_acquire)
{
	ct_condition_acquire(NULL);
}

TEST(null_condition_acquire_timeout)
{
	CHECK_RC(ct_condition_acquire_timeout(NULL, 0), CT_EINVAL);
}

TEST(null_condition_release)
{
	CHECK_RC(ct_condition_release(NULL), CT_EINVAL);
}

TEST(null_condition_wait)
{
	CHECK_RC(ct_condition_wait(NULL, 0), CT_EINVAL);
}

TEST(null_condition_wait_for)
{
	CHECK_RC(ct_condition_wait_for(NULL, always, NULL, 0), CT_EINVAL);
}

TEST(null_condition_wait_for_predicate)
{
	CHECK_RC(wait_for_null_predicate(), CT_EINVAL);
}

TEST(null_condition_notify)
{
	CHECK_RC(ct_condition_notify(NULL, 1), CT_EINVAL);
}

TEST(null_condition_notify_all)
{
	CHECK_RC(ct_condition_notify_all(NULL), CT_EINVAL);
}

TEST(null_event_set)
{
	ct_event_set(NULL);
}

TEST(null_event_clear)
{
	ct_event_clear(NULL);
}

TEST(null_event_wait)
{
	CHECK_RC(ct_event_wait(NULL, 0), CT_EINVAL);
}

TEST(null_executor_init)
{
	CHECK_RC(ct_executor_init(NULL, NULL), CT_EINVAL);
}

TEST(null_executor_submit)
{
	CHECK_RC(ct_executor_submit(NULL, task, NULL, NULL), CT_EINVAL);
}

TEST(null_executor_map)
{
	CHECK_RC(ct_executor_map(NULL, task, NULL, 0, 0, NULL, NULL), CT_EINVAL);
}

TEST(null_executor_map_args)
{
	CHECK_RC(map_null_args(), CT_EINVAL);
}

TEST(null_executor_shutdown)
{
	CHECK_RC(ct_executor_shutdown(NULL, true, false), CT_EINVAL);
}

TEST(null_executor_shutdown_timeout)
{
	CHECK_RC(ct_executor_shutdown_timeout(NULL, false, 0), CT_EINVAL);
}

TEST(null_executor_destroy)
{
	ct_executor_destroy(NULL);
}

TEST(null_executor_max_workers)
{
	CHECK_RC(ct_executor_max_workers(NULL), CT_EINVAL);
}

TEST(null_executor_workers)
{
	CHECK_RC(ct_executor_workers(NULL), CT_EINVAL);
}

TEST(null_future_result)
{
	CHECK_RC(ct_future_result(NULL, 0, NULL), CT_EINVAL);
}

TEST(null_future_exception)
{
	CHECK_RC(ct_future_exception(NULL, 0, NULL), CT_EINVAL);
}

TEST(null_future_cancel)
{
	CHECK(ct_future_cancel(NULL) == false);
}

TEST(null_future_cancelled)
{
	CHECK(ct_future_cancelled(NULL) == false);
}

TEST(null_future_running)
{
	CHECK(ct_future_running(NULL) == false);
}

TEST(null_future_done)
{
	CHECK(ct_future_done(NULL) == false);
}

TEST(null_future_add_done_callback)
{
	CHECK_RC(ct_future_add_done_callback(NULL, callback, NULL), CT_EINVAL);
}

TEST(null_future_add_done_callback_fn)
{
	CHECK_RC(add_null_callback(), CT_EINVAL);
}

TEST(null_future_new)
{
	CHECK_RC(ct_future_new(NULL), CT_EINVAL);
}

TEST(null_future_set_running_or_notify_cancel)
{
	CHECK_RC(ct_future_set_running_or_notify_cancel(NULL), CT_EINVAL);
}

TEST(null_future_set_result)
{
	CHECK_RC(ct_future_set_result(NULL, NULL), CT_EINVAL);
}

TEST(null_future_set_exception)
{
	CHECK_RC(ct_future_set_exception(NULL, -1), CT_EINVAL);
}

TEST(null_future_ref)
{
	CHECK(ct_future_ref(NULL) == NULL);
}

TEST(null_future_release)
{
	ct_future_release(NULL);
}

TEST(null_wait)
{
	CHECK_RC(ct_wait(NULL, 1, 0, CT_ALL_COMPLETED, NULL), CT_EINVAL);
}

TEST(null_as_completed_init)
{
	CHECK_RC(ct_as_completed_init(NULL, NULL, 0, 0), CT_EINVAL);
}

TEST(null_as_completed_next)
{
	CHECK_RC(ct_as_completed_next(NULL, NULL), CT_EINVAL);
}

TEST(null_as_completed_next_out)
{
	CHECK_RC(as_completed_null_out(), CT_EINVAL);
}

TEST(null_as_completed_remaining)
{
	CHECK(ct_as_completed_remaining(NULL) == 0);
}

TEST(null_as_completed_destroy)
{
	ct_as_completed_destroy(NULL);
}

TEST(null_gil_init)
{
	ct_gil_init(NULL);
}

TEST(null_gil_destroy)
{
	CHECK_RC(ct_gil_destroy(NULL), CT_EINVAL);
}

TEST(null_gil_acquire)
{
	CHECK_RC(ct_gil_acquire(NULL), CT_EINVAL);
}

TEST(null_gil_release)
{
	CHECK_RC(ct_gil_release(NULL), CT_EINVAL);
}

TEST(null_gil_checkpoint_slow)
{
	CHECK_RC(ct__gil_checkpoint_slow(NULL), CT_EINVAL);
}

TEST(null_gil_yield)
{
	CHECK_RC(ct_gil_yield(NULL), CT_EINVAL);
}

TEST(null_gil_set_switch_interval)
{
	CHECK_RC(ct_gil_set_switch_interval(NULL, 0.01), CT_EINVAL);
}

TEST(null_gil_get_switch_interval)
{
	CHECK(isnan(ct_gil_get_switch_interval(NULL)));
}

TEST(null_gil_stats)
{
	CHECK_RC(ct_gil_stats(NULL, NULL), CT_EINVAL);
}

TEST(null_gil_stats_out)
{
	CHECK_RC(gil_stats_null_out(), CT_EINVAL);
}

TEST(null_gil_restore)
{
	CHECK_RC(ct_gil_restore(NULL), 0);
}

TEST(null_gil_state_ensure)
{
	CHECK_RC(ct_gil_state_ensure(NULL), CT_EINVAL);
}

TEST(null_gil_state_release)
{
	CHECK_RC(ct_gil_state_release(NULL, 0), CT_EINVAL);
}

TEST(null_latch_init)
{
	CHECK_RC(ct_latch_init(NULL, 1), CT_EINVAL);
}

TEST(null_latch_count_down)
{
	CHECK_RC(ct_latch_count_down(NULL, 1), CT_EINVAL);
}

TEST(null_latch_wait)
{
	CHECK_RC(ct_latch_wait(NULL, 0), CT_EINVAL);
}

TEST(null_latch_arrive_and_wait)
{
	CHECK_RC(ct_latch_arrive_and_wait(NULL, 1, 0), CT_EINVAL);
}

TEST(null_local_init)
{
	ct_local_init(NULL, NULL);
}

TEST(null_local_get)
{
	CHECK(ct_local_get(NULL) == NULL);
}

TEST(null_local_set)
{
	CHECK_RC(ct_local_set(NULL, NULL), CT_EINVAL);
}

TEST(null_local_destroy)
{
	ct_local_destroy(NULL);
}

TEST(null_lock_acquire_slow)
{
	ct__lock_acquire_slow(NULL);
}

TEST(null_lock_try_acquire_slow)
{
	CHECK(!ct__lock_try_acquire_slow(NULL));
}

TEST(null_lock_release_slow)
{
	CHECK_RC(ct__lock_release_slow(NULL), CT_EINVAL);
}

TEST(null_lock_acquire_timeout)
{
	CHECK_RC(ct_lock_acquire_timeout(NULL, 0), CT_EINVAL);
}

TEST(null_once_slow)
{
	CHECK_RC(ct__once_slow(NULL, once_fn, NULL), CT_EINVAL);
}

TEST(null_once_slow_fn)
{
	CHECK_RC(once_null_fn(), CT_EINVAL);
}

TEST(null_queue_init)
{
	CHECK_RC(ct_queue_init(NULL, NULL), CT_EINVAL);
}

TEST(null_queue_destroy)
{
	CHECK_RC(ct_queue_destroy(NULL), CT_EINVAL);
}

TEST(null_queue_put)
{
	CHECK_RC(ct_queue_put(NULL, NULL, 0), CT_EINVAL);
}

TEST(null_queue_put_nowait)
{
	CHECK_RC(ct_queue_put_nowait(NULL, NULL), CT_EINVAL);
}

TEST(null_queue_get)
{
	CHECK_RC(ct_queue_get(NULL, NULL, 0), CT_EINVAL);
}

TEST(null_queue_get_out)
{
	CHECK_RC(queue_get_null_out(), CT_EINVAL);
}

TEST(null_queue_get_nowait)
{
	CHECK_RC(ct_queue_get_nowait(NULL, NULL), CT_EINVAL);
}

TEST(null_queue_qsize)
{
	CHECK(ct_queue_qsize(NULL) == 0);
}

TEST(null_queue_empty)
{
	CHECK(ct_queue_empty(NULL) == true);
}

TEST(null_queue_full)
{
	CHECK(ct_queue_full(NULL) == false);
}

TEST(null_queue_maxsize)
{
	CHECK(ct_queue_maxsize(NULL) == 0);
}

TEST(null_queue_is_shutdown)
{
	CHECK(ct_queue_is_shutdown(NULL) == false);
}

TEST(null_queue_task_done)
{
	CHECK_RC(ct_queue_task_done(NULL), CT_EINVAL);
}

TEST(null_queue_join)
{
	CHECK_RC(ct_queue_join(NULL, 0), CT_EINVAL);
}

TEST(null_queue_shutdown)
{
	ct_queue_shutdown(NULL, false);
}

TEST(null_simplequeue_init)
{
	ct_simplequeue_init(NULL);
}

TEST(null_simplequeue_destroy)
{
	CHECK_RC(ct_simplequeue_destroy(NULL), CT_EINVAL);
}

TEST(null_simplequeue_put)
{
	CHECK_RC(ct_simplequeue_put(NULL, NULL), CT_EINVAL);
}

TEST(null_simplequeue_put_nowait)
{
	CHECK_RC(ct_simplequeue_put_nowait(NULL, NULL), CT_EINVAL);
}

TEST(null_simplequeue_get)
{
	CHECK_RC(ct_simplequeue_get(NULL, NULL, 0), CT_EINVAL);
}

TEST(null_simplequeue_get_out)
{
	CHECK_RC(simplequeue_get_null_out(), CT_EINVAL);
}

TEST(null_simplequeue_get_nowait)
{
	CHECK_RC(ct_simplequeue_get_nowait(NULL, NULL), CT_EINVAL);
}

TEST(null_simplequeue_qsize)
{
	CHECK(ct_simplequeue_qsize(NULL) == 0);
}

TEST(null_simplequeue_empty)
{
	CHECK(ct_simplequeue_empty(NULL) == true);
}

TEST(null_rlock_init)
{
	ct_rlock_init(NULL);
}

TEST(null_rlock_destroy)
{
	ct_rlock_destroy(NULL);
}

TEST(null_rlock_acquire)
{
	ct_rlock_acquire(NULL);
}

TEST(null_rlock_try_acquire)
{
	CHECK(ct_rlock_try_acquire(NULL) == false);
}

TEST(null_rlock_acquire_timeout)
{
	CHECK_RC(ct_rlock_acquire_timeout(NULL, 0), CT_EINVAL);
}

TEST(null_rlock_release)
{
	CHECK_RC(ct_rlock_release(NULL), CT_EINVAL);
}

TEST(null_rlock_is_owned)
{
	CHECK(ct_rlock_is_owned(NULL) == false);
}

TEST(null_rwlock_read_acquire_slow)
{
	ct__rwlock_read_acquire_slow(NULL);
}

TEST(null_rwlock_read_acquire_timeout)
{
	CHECK_RC(ct_rwlock_read_acquire_timeout(NULL, 0), CT_EINVAL);
}

TEST(null_rwlock_read_release_slow)
{
	CHECK_RC(ct__rwlock_read_release_slow(NULL), CT_EINVAL);
}

TEST(null_rwlock_write_acquire)
{
	ct_rwlock_write_acquire(NULL);
}

TEST(null_rwlock_write_try_acquire)
{
	CHECK(ct_rwlock_write_try_acquire(NULL) == false);
}

TEST(null_rwlock_write_acquire_timeout)
{
	CHECK_RC(ct_rwlock_write_acquire_timeout(NULL, 0), CT_EINVAL);
}

TEST(null_rwlock_write_release)
{
	CHECK_RC(ct_rwlock_write_release(NULL), CT_EINVAL);
}

TEST(null_semaphore_init)
{
	CHECK_RC(ct_semaphore_init(NULL, 1), CT_EINVAL);
}

TEST(null_bounded_semaphore_init)
{
	CHECK_RC(ct_bounded_semaphore_init(NULL, 1), CT_EINVAL);
}

TEST(null_semaphore_acquire_slow)
{
	CHECK_RC(ct__semaphore_acquire_slow(NULL, 0), CT_EINVAL);
}

TEST(null_semaphore_release)
{
	CHECK_RC(ct_semaphore_release(NULL, 1), CT_EINVAL);
}

TEST(null_thread_init_named)
{
	CHECK_RC(ct_thread_init_named(NULL, task0, "task0", NULL, NULL), CT_EINVAL);
}

TEST(null_thread_new_named)
{
	CHECK_RC(ct_thread_new_named(NULL, task0, "task0", NULL, NULL), CT_EINVAL);
}

TEST(null_thread_start)
{
	CHECK_RC(ct_thread_start(NULL), CT_EINVAL);
}

TEST(null_thread_join)
{
	CHECK_RC(ct_thread_join(NULL, 0), CT_EINVAL);
}

TEST(null_thread_destroy)
{
	ct_thread_destroy(NULL);
}

TEST(null_thread_is_alive)
{
	CHECK(ct_thread_is_alive(NULL) == false);
}

TEST(null_thread_name)
{
	CHECK_STR(ct_thread_name(NULL), "");
}

TEST(null_thread_set_name)
{
	CHECK_RC(ct_thread_set_name(NULL, "x"), CT_EINVAL);
}

TEST(null_thread_set_name_name)
{
	CHECK_RC(ct_thread_set_name(ct_current_thread(), NULL), CT_EINVAL);
}

TEST(null_thread_daemon)
{
	CHECK(ct_thread_daemon(NULL) == false);
}

TEST(null_thread_set_daemon)
{
	CHECK_RC(ct_thread_set_daemon(NULL, true), CT_EINVAL);
}

TEST(null_thread_ident)
{
	CHECK(ct_thread_ident(NULL) == 0);
}

TEST(null_thread_native_id)
{
	CHECK(ct_thread_native_id(NULL) == 0);
}

TEST(null_thread_request_stop)
{
	CHECK_RC(ct_thread_request_stop(NULL), CT_EINVAL);
}

TEST(null_enumerate)
{
	CHECK(ct_enumerate(NULL, NULL) == ct_active_count());
}

TEST(null_excepthook_default)
{
	ct_excepthook_default(NULL);
}

TEST(null_timer_init)
{
	CHECK_RC(ct_timer_init(NULL, 0, task0, NULL, NULL), CT_EINVAL);
}

TEST(null_timer_init_function)
{
	CHECK_RC(timer_null_function(), CT_EINVAL);
}

TEST(null_timer_start)
{
	CHECK_RC(ct_timer_start(NULL), CT_EINVAL);
}

TEST(null_timer_cancel)
{
	ct_timer_cancel(NULL);
}

TEST(null_timer_join)
{
	CHECK_RC(ct_timer_join(NULL, 0), CT_EINVAL);
}

TEST(null_timer_destroy)
{
	ct_timer_destroy(NULL);
}

/* No target: Python's Thread() runs nothing; no options: the defaults. */
TEST(null_thread_spawn_named)
{
	CHECK_OK(ct_thread_spawn_named(NULL, NULL, NULL, NULL));
}

/* NULL hooks: none. */
TEST(null_set_thread_hooks)
{
	ct_set_thread_hooks(NULL, NULL, NULL);
	ct_thread_t *t = sh_started();
	CHECK_OK(ct_thread_join(t, CT_FOREVER));
	ct_thread_release(t);
}

TEST(null_thread_ref)
{
	CHECK(ct_thread_ref(NULL) == NULL);
}

TEST(null_thread_release)
{
	ct_thread_release(NULL);
}

TEST(null_debug_configure)
{
	CHECK_RC(ct_debug_configure(NULL), CT_EINVAL);
}

TEST(null_object_set_name)
{
	CHECK_RC(ct_object_set_name(NULL, "x"), CT_EINVAL);
	static ct_lock_t lock = CT_LOCK_INIT;
	CHECK_OK(ct_object_set_name(&lock, NULL)); /* no name: forgets it */
}

TEST(null_object_get_name)
{
	char buf[8] = "x";
	CHECK_EQ(ct_object_get_name(NULL, buf, sizeof buf), 0);
	static ct_lock_t lock = CT_LOCK_INIT;
	CHECK_OK(ct_object_set_name(&lock, "abc"));
	CHECK_EQ(ct_object_get_name(&lock, NULL, 0), 3);
}

TEST(null_dump)
{
	CHECK_RC(ct_dump(NULL), CT_EINVAL);
}

TEST(null_profile_report)
{
	CHECK_RC(ct_profile_report(NULL), CT_EINVAL);
}

TEST(null_trace_write)
{
	CHECK_RC(ct_trace_write(NULL), CT_EINVAL);
}
