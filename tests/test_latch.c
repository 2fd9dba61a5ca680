/* Latch: counts down once, wakes every waiter at zero, stays open. */
#include <limits.h>

#include "sync_helpers.h"

static int init_negative(void)
{
	ct_latch_t l;
	return ct_latch_init(&l, -1);
}

static int init_too_large(void)
{
	ct_latch_t l;
#if LONG_MAX > CT_LATCH_COUNT_MAX
	return ct_latch_init(&l, (long)CT_LATCH_COUNT_MAX + 1);
#else
	(void)l;
	ht_skip("a 32-bit long holds nothing above CT_LATCH_COUNT_MAX: the case cannot arise");
#endif
}

static int count_below_zero(void)
{
	ct_latch_t l = CT_LATCH_INIT(2);
	int rc = ct_latch_count_down(&l, 3);
	CHECK_EQ(ct_latch_count(&l), 2); /* unchanged */
	return rc;
}

static int count_down_zero(void)
{
	ct_latch_t l = CT_LATCH_INIT(2);
	return ct_latch_count_down(&l, 0);
}

static int open_latch_count_down(void)
{
	ct_latch_t l = CT_LATCH_INIT(0);
	return ct_latch_count_down(&l, 1);
}

static int timeout_nan(void)
{
	ct_latch_t l = CT_LATCH_INIT(1);
	return ct_latch_wait(&l, 0.0 / 0.0);
}

static int timeout_too_large(void)
{
	ct_latch_t l = CT_LATCH_INIT(1);
	return ct_latch_arrive_and_wait(&l, 1, CT_TIMEOUT_MAX * 2);
}

MISUSE(init_negative, CT_ENEGATIVE, "initial value must be >= 0", init_negative())
MISUSE(init_too_large, CT_EINVAL, "invalid argument", init_too_large())
MISUSE(count_below_zero, CT_EINVAL, "invalid argument", count_below_zero())
MISUSE(count_down_zero, CT_EINVAL, "invalid argument", count_down_zero())
MISUSE(open_latch_count_down, CT_EINVAL, "invalid argument", open_latch_count_down())
MISUSE(timeout_nan, CT_EINVAL, "invalid argument", timeout_nan())
MISUSE(timeout_too_large, CT_ETOOLARGE, "timeout value is too large", timeout_too_large())

TEST(counts_down_and_stays_open)
{
	static ct_latch_t l = CT_LATCH_INIT(3);
	CHECK(sizeof(ct_latch_t) == 4);
	CHECK(!ct_latch_try_wait(&l));
	CHECK_RC(ct_latch_wait(&l, 0), CT_ETIMEDOUT);
	CHECK_OK(ct_latch_count_down(&l, 2));
	CHECK_EQ(ct_latch_count(&l), 1);
	CHECK(!ct_latch_try_wait(&l));
	CHECK_OK(ct_latch_arrive_and_wait(&l, 1, 0));
	CHECK(ct_latch_try_wait(&l));
	CHECK_OK(ct_latch_wait(&l, 0));
	CHECK_OK(ct_latch_wait(&l, CT_FOREVER));

	ct_latch_t z;
	CHECK_OK(ct_latch_init(&z, 0));
	CHECK(ct_latch_try_wait(&z));
	CHECK_OK(ct_latch_wait(&z, CT_FOREVER));
	ct_latch_destroy(&z);
}

TEST(timeout_not_early)
{
	ct_latch_t l = CT_LATCH_INIT(1);
	double timeouts[] = {0.001, 0.02, 0.1};
	for (int i = 0; i < 3; i++) {
		double t0 = ht_now();
		CHECK_RC(ct_latch_wait(&l, timeouts[i]), CT_ETIMEDOUT);
		SH_CHECK_NOT_EARLY(t0, timeouts[i]);
	}
	CHECK_EQ(atomic_load(&l.ct__state), CT__LATCH_ONE);
}

struct waiter {
	ct_latch_t *latch;
	atomic_int rc;
};

static int waiter(void *arg)
{
	struct waiter *w = arg;
	atomic_store(&w->rc, ct_latch_wait(w->latch, CT_FOREVER));
	return 0;
}

TEST(zero_wakes_every_waiter)
{
	enum { N = 4 };
	ct_latch_t l = CT_LATCH_INIT(2);
	struct waiter w[N];
	ct_thread_t *t[N];
	for (int i = 0; i < N; i++) {
		w[i] = (struct waiter){.latch = &l, .rc = 1};
		t[i] = sh_start(waiter, &w[i]);
	}
	for (int i = 0; i < N; i++)
		ht_wait_parked(t[i]);
	CHECK_OK(ct_latch_count_down(&l, 1));
	/* Not yet: every waiter is still parked. */
	for (int i = 0; i < N; i++)
		CHECK_EQ(atomic_load(&w[i].rc), 1);
	CHECK_OK(ct_latch_count_down(&l, 1));
	for (int i = 0; i < N; i++) {
		sh_join(t[i]);
		CHECK_OK(atomic_load(&w[i].rc));
	}
	CHECK_EQ(atomic_load(&l.ct__state), 0);
}

TEST(stop_interrupts_wait)
{
	ct_latch_t l = CT_LATCH_INIT(1);
	struct waiter w = {.latch = &l, .rc = 1};
	ct_thread_release(ht_stop_when_parked(waiter, &w));
	CHECK_RC(atomic_load(&w.rc), CT_ESTOPPED);
	CHECK_EQ(atomic_load(&l.ct__state), CT__LATCH_ONE);
}

/* Workers check in with arrive_and_wait: none passes before the last
 * arrives, and each sees every other's set-up done. */
struct start_line {
	ct_latch_t latch;
	atomic_int ready;
	atomic_int bad;
	int n;
};

static int runner(void *arg)
{
	struct start_line *s = arg;
	atomic_fetch_add(&s->ready, 1);
	CHECK_OK(ct_latch_arrive_and_wait(&s->latch, 1, CT_FOREVER));
	if (atomic_load(&s->ready) != s->n)
		atomic_store(&s->bad, 1);
	return 0;
}

TEST(arrive_and_wait_many_rounds)
{
	enum { N = 4 };
	int rounds = ht_slowed() ? 200 : 2000;
	for (int r = 0; r < rounds; r++) {
		struct start_line s = {.latch = CT_LATCH_INIT(N), .n = N};
		ct_thread_t *t[N];
		for (int i = 0; i < N; i++)
			t[i] = sh_start(runner, &s);
		for (int i = 0; i < N; i++)
			sh_join(t[i]);
		CHECK(!atomic_load(&s.bad));
		CHECK_EQ(atomic_load(&s.latch.ct__state), 0);
	}
}
