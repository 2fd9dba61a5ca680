/* A NULL object given to the inline functions of the headers: those that
 * return an error code return CT_EINVAL, those that return a bool or a
 * count return false or 0, and those that return nothing do nothing (the
 * case would crash otherwise). One case per function, TEST(null_<name
 * without ct_>), as in test_null.c for the out-of-line ones;
 * check_null_table.cmake fails when a public function has no case. */
#include "harness.h"

/* The argument is "a pointer the compiler cannot see is NULL", as it is in
 * a real mistake: the checks must not depend on constant folding. */
static void *volatile null_object;
#define NUL ((void *)null_object)

/* ---- Lock ---- */
TEST(null_lock_init)
{
	ct_lock_init(NUL);
}

TEST(null_lock_destroy)
{
	ct_lock_destroy(NUL);
}

TEST(null_lock_acquire)
{
	ct_lock_acquire(NUL);
}

TEST(null_lock_try_acquire)
{
	CHECK(!ct_lock_try_acquire(NUL));
}

TEST(null_lock_release)
{
	CHECK_RC(ct_lock_release(NUL), CT_EINVAL);
}

TEST(null_lock_locked)
{
	CHECK(!ct_lock_locked(NUL));
}

/* ---- RLock ---- */
TEST(null_rlock_locked)
{
	CHECK(!ct_rlock_locked(NUL));
}

/* ---- Event ---- */
TEST(null_event_init)
{
	ct_event_init(NUL);
}

TEST(null_event_destroy)
{
	ct_event_destroy(NUL);
}

TEST(null_event_is_set)
{
	CHECK(!ct_event_is_set(NUL));
}

/* ---- once ---- */
static int ran;
static int set_ran(void *arg)
{
	(void)arg;
	ran = 1;
	return 0;
}

TEST(null_once_init)
{
	ct_once_init(NUL);
}

TEST(null_once)
{
	CHECK_RC(ct_once(NUL, set_ran, NULL), CT_EINVAL);
	CHECK_EQ(ran, 0);
}

TEST(null_once_done)
{
	CHECK(!ct_once_done(NUL));
}

/* ---- Barrier ---- */
TEST(null_barrier_destroy)
{
	ct_barrier_destroy(NUL);
}

TEST(null_barrier_broken)
{
	CHECK(!ct_barrier_broken(NUL));
}

TEST(null_barrier_n_waiting)
{
	CHECK_EQ(ct_barrier_n_waiting(NUL), 0);
}

TEST(null_barrier_parties)
{
	CHECK_EQ(ct_barrier_parties(NUL), 0);
}

/* ---- Latch ---- */
TEST(null_latch_destroy)
{
	ct_latch_destroy(NUL);
}

TEST(null_latch_try_wait)
{
	CHECK(!ct_latch_try_wait(NUL));
}

TEST(null_latch_count)
{
	CHECK_EQ(ct_latch_count(NUL), 0);
}

/* ---- RWLock ---- */
TEST(null_rwlock_init)
{
	ct_rwlock_init(NUL);
}

TEST(null_rwlock_destroy)
{
	ct_rwlock_destroy(NUL);
}

TEST(null_rwlock_read_try_acquire)
{
	CHECK(!ct_rwlock_read_try_acquire(NUL));
}

TEST(null_rwlock_read_acquire)
{
	ct_rwlock_read_acquire(NUL);
}

TEST(null_rwlock_read_release)
{
	CHECK_RC(ct_rwlock_read_release(NUL), CT_EINVAL);
}

TEST(null_rwlock_write_locked)
{
	CHECK(!ct_rwlock_write_locked(NUL));
}

TEST(null_rwlock_readers)
{
	CHECK_EQ(ct_rwlock_readers(NUL), 0);
}

/* ---- Semaphore and BoundedSemaphore ---- */
TEST(null_semaphore_destroy)
{
	ct_semaphore_destroy(NUL);
}

TEST(null_semaphore_try_acquire)
{
	CHECK(!ct_semaphore_try_acquire(NUL));
}

TEST(null_semaphore_acquire)
{
	CHECK_RC(ct_semaphore_acquire(NUL, CT_FOREVER), CT_EINVAL);
	CHECK_RC(ct_semaphore_acquire(NUL, 0), CT_EINVAL);
}

TEST(null_semaphore_value)
{
	CHECK_EQ(ct_semaphore_value(NUL), 0);
}

TEST(null_bounded_semaphore_acquire)
{
	CHECK_RC(ct_bounded_semaphore_acquire(NUL, CT_FOREVER), CT_EINVAL);
}

TEST(null_bounded_semaphore_release)
{
	CHECK_RC(ct_bounded_semaphore_release(NUL, 1), CT_EINVAL);
}

TEST(null_bounded_semaphore_try_acquire)
{
	CHECK(!ct_bounded_semaphore_try_acquire(NUL));
}

TEST(null_bounded_semaphore_destroy)
{
	ct_bounded_semaphore_destroy(NUL);
}

/* ---- GIL ---- */
TEST(null_gil_checkpoint)
{
	/* Holding no GIL, the thread's breaker is 0: a NULL must not pass
	 * for "holds this GIL". Nor while it holds one. */
	CHECK_RC(ct_gil_checkpoint(NUL), CT_EINVAL);
	CHECK_OK(ct_gil_acquire(ct_gil_default()));
	CHECK_RC(ct_gil_checkpoint(NUL), CT_EINVAL);
	CHECK_OK(ct_gil_release(ct_gil_default()));
}

TEST(null_gil_held)
{
	CHECK(!ct_gil_held(NUL));
	CHECK_OK(ct_gil_acquire(ct_gil_default()));
	CHECK(!ct_gil_held(NUL));
	CHECK_OK(ct_gil_release(ct_gil_default()));
}

/* ---- the scoped forms whose acquire is inline: the block is skipped ---- */
TEST(null_with_lock_skips_the_block)
{
	int entered = 0;
	CT_WITH_LOCK((ct_lock_t *)NUL)
	{
		entered = 1;
	}
	CHECK_EQ(entered, 0);
}

TEST(null_with_semaphore_skips_the_block)
{
	int entered = 0;
	CT_WITH_SEMAPHORE((ct_semaphore_t *)NUL)
	{
		entered = 1;
	}
	CHECK_EQ(entered, 0);
}

TEST(null_with_read_lock_skips_the_block)
{
	int entered = 0;
	CT_WITH_READ_LOCK((ct_rwlock_t *)NUL)
	{
		entered = 1;
	}
	CHECK_EQ(entered, 0);
}
