/* The with-blocks (CT_WITH_LOCK and its kin) and the ways out of them.
 *
 * Each form is a for loop run once (see CT__WITH in common.h), so `break`
 * and `continue` inside the block act on the block itself, not on a loop
 * around it as they would in Python:
 *
 *     for i in range(5):
 *         with lock:
 *             if i == 2:
 *                 break        # Python: leaves the for loop
 *
 * In C the same `break` leaves the with-block only (releasing the object),
 * and the for loop goes on with i == 3. These cases show that, for every
 * form: the object is held inside the block and released by every way
 * out (its end, break, continue, and with GCC and Clang return and goto);
 * break and continue do not reach the enclosing loop; and the two idioms
 * that do leave it (a flag tested after the block, or goto past the loop)
 * work and release. The portable form used by other compilers (no cleanup
 * attribute) is checked for break and continue too. */
#include "harness.h"

static ct_lock_t lock = CT_LOCK_INIT;
static ct_rlock_t rlock = CT_RLOCK_INIT;
static ct_lock_t cond_lock = CT_LOCK_INIT;
static ct_condition_t cond = CT_CONDITION_INIT_LOCK(&cond_lock);
static ct_semaphore_t sem = CT_SEMAPHORE_INIT(1);
static ct_rwlock_t rw = CT_RWLOCK_INIT;
static ct_gil_t gil = CT_GIL_INIT;

/* The with-forms of the suite, as (form, "in effect") pairs: a macro
 * applies @p CASE to each. For the GIL, what is in effect inside
 * CT_GIL_ALLOW_THREADS is that the GIL is not held (the caller takes it
 * before and holds it again after). */
#define EVERY_FORM(CASE)                                              \
	CASE(CT_WITH_LOCK(&lock), ct_lock_locked(&lock));             \
	CASE(CT_WITH_RLOCK(&rlock), ct_rlock_locked(&rlock));         \
	CASE(CT_WITH_CONDITION(&cond), ct_lock_locked(&cond_lock));   \
	CASE(CT_WITH_SEMAPHORE(&sem), ct_semaphore_value(&sem) == 0); \
	CASE(CT_WITH_READ_LOCK(&rw), ct_rwlock_readers(&rw) == 1);    \
	CASE(CT_WITH_WRITE_LOCK(&rw), ct_rwlock_write_locked(&rw));   \
	CHECK_OK(ct_gil_acquire(&gil));                               \
	CASE(CT_GIL_ALLOW_THREADS, !ct_gil_held(&gil));               \
	CHECK_OK(ct_gil_release(&gil))

/* Five turns of a loop whose block breaks in turn 2: the loop still runs
 * all five, and what follows the block in the loop runs in every turn. */
#define BREAK_CASE(WITH, HELD)                                   \
	do {                                                     \
		int turns = 0, after_break = 0, after_block = 0; \
		for (int i = 0; i < 5; i++) {                    \
			turns++;                                 \
			WITH                                     \
			{                                        \
				CHECK(HELD);                     \
				if (i == 2)                      \
					break;                   \
				after_break++;                   \
			}                                        \
			CHECK(!(HELD));                          \
			after_block++;                           \
		}                                                \
		CHECK_EQ(turns, 5);                              \
		CHECK_EQ(after_break, 4);                        \
		CHECK_EQ(after_block, 5);                        \
	} while (0)

TEST(break_leaves_the_block_not_the_loop)
{
	EVERY_FORM(BREAK_CASE);
}

/* The same with continue: it skips the rest of the block only; the rest
 * of the loop's body still runs in that turn (in Python it would not). */
#define CONTINUE_CASE(WITH, HELD)                        \
	do {                                             \
		int after_continue = 0, after_block = 0; \
		for (int i = 0; i < 5; i++) {            \
			WITH                             \
			{                                \
				CHECK(HELD);             \
				if (i % 2 == 0)          \
					continue;        \
				after_continue++;        \
			}                                \
			CHECK(!(HELD));                  \
			after_block++;                   \
		}                                        \
		CHECK_EQ(after_continue, 2);             \
		CHECK_EQ(after_block, 5);                \
	} while (0)

TEST(continue_leaves_the_block_not_the_turn)
{
	EVERY_FORM(CONTINUE_CASE);
}

#define END_CASE(WITH, HELD)         \
	do {                         \
		int ran = 0;         \
		WITH                 \
		{                    \
			CHECK(HELD); \
			ran++;       \
		}                    \
		CHECK(!(HELD));      \
		CHECK_EQ(ran, 1);    \
	} while (0)

TEST(end_of_block_releases)
{
	EVERY_FORM(END_CASE);
}

/* Idiom 1, portable: a flag set in the block, and a break after it. */
#define FLAG_CASE(WITH, HELD)                        \
	do {                                         \
		int turns = 0;                       \
		for (int i = 0; i < 5; i++) {        \
			bool stop = false;           \
			turns++;                     \
			WITH                         \
			{                            \
				if (i == 2) {        \
					stop = true; \
					break;       \
				}                    \
			}                            \
			CHECK(!(HELD));              \
			if (stop)                    \
				break;               \
		}                                    \
		CHECK_EQ(turns, 3);                  \
		CHECK(!(HELD));                      \
	} while (0)

TEST(a_flag_leaves_the_loop)
{
	EVERY_FORM(FLAG_CASE);
}

#if defined(__GNUC__)
/* Idiom 2, GCC and Clang: goto past the loop. Leaving the block's scope
 * runs its cleanup, which releases. (__label__ gives each expansion its
 * own label.) */
#define GOTO_CASE(WITH, HELD)                                           \
	do {                                                            \
		__label__ past_the_loop;                                \
		int turns = 0;                                          \
		for (int i = 0; i < 5; i++) {                           \
			turns++;                                        \
			WITH                                            \
			{                                               \
				if (i == 2)                             \
					goto past_the_loop;             \
			}                                               \
			CHECK(!(HELD));                                 \
		}                                                       \
		ht_fail(__FILE__, __LINE__, "the loop ran to its end"); \
	past_the_loop:                                                  \
		CHECK_EQ(turns, 3);                                     \
		CHECK(!(HELD));                                         \
	} while (0)

TEST(goto_past_the_loop_leaves_it_and_releases)
{
	EVERY_FORM(GOTO_CASE);
}

/* return from inside the block: one function per form. */
#define RETURN_FN(name, WITH, HELD)  \
	static int name(void)        \
	{                            \
		WITH                 \
		{                    \
			CHECK(HELD); \
			return 7;    \
		}                    \
		return 0;            \
	}
RETURN_FN(return_lock, CT_WITH_LOCK(&lock), ct_lock_locked(&lock))
RETURN_FN(return_rlock, CT_WITH_RLOCK(&rlock), ct_rlock_locked(&rlock))
RETURN_FN(return_cond, CT_WITH_CONDITION(&cond), ct_lock_locked(&cond_lock))
RETURN_FN(return_sem, CT_WITH_SEMAPHORE(&sem), ct_semaphore_value(&sem) == 0)
RETURN_FN(return_read, CT_WITH_READ_LOCK(&rw), ct_rwlock_readers(&rw) == 1)
RETURN_FN(return_write, CT_WITH_WRITE_LOCK(&rw), ct_rwlock_write_locked(&rw))
RETURN_FN(return_gil, CT_GIL_ALLOW_THREADS, !ct_gil_held(&gil))

TEST(return_releases)
{
	CHECK_EQ(return_lock(), 7);
	CHECK(!ct_lock_locked(&lock));
	CHECK_EQ(return_rlock(), 7);
	CHECK(!ct_rlock_locked(&rlock));
	CHECK_EQ(return_cond(), 7);
	CHECK(!ct_lock_locked(&cond_lock));
	CHECK_EQ(return_sem(), 7);
	CHECK_EQ(ct_semaphore_value(&sem), 1);
	CHECK_EQ(return_read(), 7);
	CHECK_EQ(ct_rwlock_readers(&rw), 0);
	CHECK_EQ(return_write(), 7);
	CHECK(!ct_rwlock_write_locked(&rw));
	CHECK_OK(ct_gil_acquire(&gil));
	CHECK_EQ(return_gil(), 7);
	CHECK(ct_gil_held(&gil));
	CHECK_OK(ct_gil_release(&gil));
}
#endif

/* The form other compilers get (no cleanup attribute): a second loop
 * inside, so that break and continue still reach the release. Checked
 * here with GCC or Clang too, through the same internal macro. */
#define CT_WITH_LOCK_PORTABLE(l) \
	CT__WITH_PORTABLE(ct_lock_t *, ct__lock_guard_release, (ct_lock_acquire(l), (l)))

TEST(portable_form_releases_on_break_and_continue)
{
	int turns = 0, after_break = 0;
	for (int i = 0; i < 5; i++) {
		turns++;
		CT_WITH_LOCK_PORTABLE(&lock)
		{
			CHECK(ct_lock_locked(&lock));
			if (i == 1)
				continue;
			if (i == 3)
				break;
			after_break++;
		}
		CHECK(!ct_lock_locked(&lock));
	}
	CHECK_EQ(turns, 5);
	CHECK_EQ(after_break, 3);
	CT_WITH_LOCK_PORTABLE(&lock)
	{
		CHECK(ct_lock_locked(&lock));
	}
	CHECK(!ct_lock_locked(&lock));
}

/* The example the docs show: two buyers leave their loops, one by a flag,
 * one by goto, and the lock is free at the end. */
TEST(example_ex6c_with_break)
{
	for (int i = 0; i < 5; i++)
		ht_check_example("ex6c_with_break", false, "卖出 1000 件, 剩余 0 件, 锁已释放\n");
}
