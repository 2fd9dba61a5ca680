/* A NULL object given to the inline functions of the headers: those that
 * return an error code return CT_EINVAL, those that return a bool or a
 * count return false or 0, and those that return nothing do nothing (the
 * case would crash otherwise). One case per function, named after it
 * without "ct_"; the last case checks that every public inline function
 * of the headers has its case here. */
#include <ctype.h>

#include "harness.h"

/* The argument is "a pointer the compiler cannot see is NULL", as it is in
 * a real mistake: the checks must not depend on constant folding. */
static void *volatile null_object;
#define NUL ((void *)null_object)

/* ---- Lock ---- */
TEST(lock_init)
{
	ct_lock_init(NUL);
}
TEST(lock_destroy)
{
	ct_lock_destroy(NUL);
}
TEST(lock_acquire)
{
	ct_lock_acquire(NUL);
}
TEST(lock_try_acquire)
{
	CHECK(!ct_lock_try_acquire(NUL));
}
TEST(lock_release)
{
	CHECK_RC(ct_lock_release(NUL), CT_EINVAL);
}
TEST(lock_locked)
{
	CHECK(!ct_lock_locked(NUL));
}

/* ---- RLock ---- */
TEST(rlock_locked)
{
	CHECK(!ct_rlock_locked(NUL));
}

/* ---- Event ---- */
TEST(event_init)
{
	ct_event_init(NUL);
}
TEST(event_destroy)
{
	ct_event_destroy(NUL);
}
TEST(event_is_set)
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
TEST(once_init)
{
	ct_once_init(NUL);
}
TEST(once)
{
	CHECK_RC(ct_once(NUL, set_ran, NULL), CT_EINVAL);
	CHECK_EQ(ran, 0);
}
TEST(once_done)
{
	CHECK(!ct_once_done(NUL));
}

/* ---- Barrier ---- */
TEST(barrier_destroy)
{
	ct_barrier_destroy(NUL);
}
TEST(barrier_broken)
{
	CHECK(!ct_barrier_broken(NUL));
}
TEST(barrier_n_waiting)
{
	CHECK_EQ(ct_barrier_n_waiting(NUL), 0);
}
TEST(barrier_parties)
{
	CHECK_EQ(ct_barrier_parties(NUL), 0);
}

/* ---- Latch ---- */
TEST(latch_destroy)
{
	ct_latch_destroy(NUL);
}
TEST(latch_try_wait)
{
	CHECK(!ct_latch_try_wait(NUL));
}
TEST(latch_count)
{
	CHECK_EQ(ct_latch_count(NUL), 0);
}

/* ---- RWLock ---- */
TEST(rwlock_init)
{
	ct_rwlock_init(NUL);
}
TEST(rwlock_destroy)
{
	ct_rwlock_destroy(NUL);
}
TEST(rwlock_read_try_acquire)
{
	CHECK(!ct_rwlock_read_try_acquire(NUL));
}
TEST(rwlock_read_acquire)
{
	ct_rwlock_read_acquire(NUL);
}
TEST(rwlock_read_release)
{
	CHECK_RC(ct_rwlock_read_release(NUL), CT_EINVAL);
}
TEST(rwlock_write_locked)
{
	CHECK(!ct_rwlock_write_locked(NUL));
}
TEST(rwlock_readers)
{
	CHECK_EQ(ct_rwlock_readers(NUL), 0);
}

/* ---- Semaphore and BoundedSemaphore ---- */
TEST(semaphore_destroy)
{
	ct_semaphore_destroy(NUL);
}
TEST(semaphore_try_acquire)
{
	CHECK(!ct_semaphore_try_acquire(NUL));
}
TEST(semaphore_acquire)
{
	CHECK_RC(ct_semaphore_acquire(NUL, CT_FOREVER), CT_EINVAL);
	CHECK_RC(ct_semaphore_acquire(NUL, 0), CT_EINVAL);
}
TEST(semaphore_value)
{
	CHECK_EQ(ct_semaphore_value(NUL), 0);
}
TEST(bounded_semaphore_acquire)
{
	CHECK_RC(ct_bounded_semaphore_acquire(NUL, CT_FOREVER), CT_EINVAL);
}
TEST(bounded_semaphore_release)
{
	CHECK_RC(ct_bounded_semaphore_release(NUL, 1), CT_EINVAL);
}
TEST(bounded_semaphore_try_acquire)
{
	CHECK(!ct_bounded_semaphore_try_acquire(NUL));
}
TEST(bounded_semaphore_destroy)
{
	ct_bounded_semaphore_destroy(NUL);
}

/* ---- GIL ---- */
TEST(gil_checkpoint)
{
	/* Holding no GIL, the thread's breaker is 0: a NULL must not pass
	 * for "holds this GIL". Nor while it holds one. */
	CHECK_RC(ct_gil_checkpoint(NUL), CT_EINVAL);
	CHECK_OK(ct_gil_acquire(ct_gil_default()));
	CHECK_RC(ct_gil_checkpoint(NUL), CT_EINVAL);
	CHECK_OK(ct_gil_release(ct_gil_default()));
}
TEST(gil_held)
{
	CHECK(!ct_gil_held(NUL));
	CHECK_OK(ct_gil_acquire(ct_gil_default()));
	CHECK(!ct_gil_held(NUL));
	CHECK_OK(ct_gil_release(ct_gil_default()));
}

/* ---- the scoped forms whose acquire is inline: the block is skipped ---- */
TEST(with_lock_skips_the_block)
{
	int entered = 0;
	CT_WITH_LOCK((ct_lock_t *)NUL)
	{
		entered = 1;
	}
	CHECK_EQ(entered, 0);
}
TEST(with_semaphore_skips_the_block)
{
	int entered = 0;
	CT_WITH_SEMAPHORE((ct_semaphore_t *)NUL)
	{
		entered = 1;
	}
	CHECK_EQ(entered, 0);
}
TEST(with_read_lock_skips_the_block)
{
	int entered = 0;
	CT_WITH_READ_LOCK((ct_rwlock_t *)NUL)
	{
		entered = 1;
	}
	CHECK_EQ(entered, 0);
}

/* ---- every public inline function of the headers has its case ---- */
static char *slurp(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", CT_SOURCE_DIR, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		ht_fail(__FILE__, __LINE__, "cannot open %s", path);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	CHECK(n < sizeof buf - 1);
	buf[n] = '\0';
	return strdup(buf);
}

TEST(every_inline_function_has_its_case)
{
	static const char *const headers[] = {
		"barrier.h", "common.h", "condition.h", "event.h",  "executor.h", "future.h",
		"gil.h",     "latch.h",	 "local.h",	"lock.h",   "once.h",	  "queue.h",
		"rlock.h",   "rwlock.h", "semaphore.h", "thread.h", "timer.h"};
	char *self = slurp("tests/test_null_inline.c");
	int found = 0;
	for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "include/cthreading/%s", headers[i]);
		char *text = slurp(rel);
		for (char *p = strstr(text, "static inline "); p;
		     p = strstr(p + 1, "static inline ")) {
			/* the name: the identifier before the first '(' */
			char *paren = strchr(p, '(');
			char *start = paren;
			while (start > p && (isalnum((unsigned char)start[-1]) || start[-1] == '_'))
				start--;
			if (strncmp(start, "ct_", 3) != 0 || strncmp(start, "ct__", 4) == 0)
				continue; /* internal */
			char want[128];
			snprintf(want, sizeof want, "\nTEST(%.*s)\n", (int)(paren - start - 3),
				 start + 3);
			if (!strstr(self, want))
				ht_fail(__FILE__, __LINE__, "%s: %.*s has no case here", rel,
					(int)(paren - start), start);
			found++;
		}
		free(text);
	}
	free(self);
	CHECK(found >= 37);
}
