/* Semaphore and BoundedSemaphore: Python's semantics, misuse, timeouts,
 * stop requests, the scoped form and a stress with no lost unit. */
#include <limits.h>

#include "sync_helpers.h"

static int init_negative(void)
{
	ct_semaphore_t s;
	return ct_semaphore_init(&s, -1);
}

static int bounded_init_negative(void)
{
	ct_bounded_semaphore_t s;
	return ct_bounded_semaphore_init(&s, -5);
}

static int init_too_large(void)
{
	ct_semaphore_t s;
#if LONG_MAX > CT_SEMAPHORE_VALUE_MAX
	return ct_semaphore_init(&s, (long)CT_SEMAPHORE_VALUE_MAX + 1);
#else
	(void)s;
	ht_skip("a 32-bit long holds nothing above CT_SEMAPHORE_VALUE_MAX: the case cannot arise");
#endif
}

static int over_release(void)
{
	ct_bounded_semaphore_t s = CT_BOUNDED_SEMAPHORE_INIT(2);
	CHECK_OK(ct_semaphore_acquire(&s, CT_FOREVER));
	CHECK_OK(ct_semaphore_release(&s, 1));
	int rc = ct_semaphore_release(&s, 1);
	CHECK_EQ(ct_semaphore_value(&s), 2); /* unchanged by the failed release */
	return rc;
}

static int over_release_n(void)
{
	ct_bounded_semaphore_t s = CT_BOUNDED_SEMAPHORE_INIT(3);
	CHECK(ct_semaphore_try_acquire(&s));
	CHECK(ct_semaphore_try_acquire(&s));
	return ct_bounded_semaphore_release(&s, 3); /* 1 + 3 > 3 */
}

static int unbounded_overflow(void)
{
	ct_semaphore_t s = CT_SEMAPHORE_INIT(CT_SEMAPHORE_VALUE_MAX);
	return ct_semaphore_release(&s, 1);
}

static int release_zero(void)
{
	ct_semaphore_t s = CT_SEMAPHORE_INIT(0);
	return ct_semaphore_release(&s, 0);
}

static int timeout_nan(void)
{
	ct_semaphore_t s = CT_SEMAPHORE_INIT(0);
	return ct_semaphore_acquire(&s, 0.0 / 0.0);
}

static int timeout_too_large(void)
{
	ct_semaphore_t s = CT_SEMAPHORE_INIT(1);
	return ct_semaphore_acquire(&s, CT_TIMEOUT_MAX * 2);
}

MISUSE(init_negative, CT_ENEGATIVE, "initial value must be >= 0", init_negative())
MISUSE(bounded_init_negative, CT_ENEGATIVE, "initial value must be >= 0", bounded_init_negative())
MISUSE(init_too_large, CT_EINVAL, "invalid argument", init_too_large())
MISUSE(over_release, CT_EOVERRELEASE, "semaphore released too many times", over_release())
MISUSE(over_release_n, CT_EOVERRELEASE, "semaphore released too many times", over_release_n())
MISUSE(unbounded_overflow, CT_EOVERRELEASE, "semaphore released too many times",
       unbounded_overflow())
MISUSE(release_zero, CT_EINVAL, "invalid argument", release_zero())
MISUSE(timeout_nan, CT_EINVAL, "invalid argument", timeout_nan())
MISUSE(timeout_too_large, CT_ETOOLARGE, "timeout value is too large", timeout_too_large())

TEST(counts_like_python)
{
	static ct_semaphore_t s = CT_SEMAPHORE_INIT(2);
	CHECK(sizeof(ct_semaphore_t) <= 8);
	CHECK_EQ(ct_semaphore_value(&s), 2);
	CHECK_OK(ct_semaphore_acquire(&s, CT_FOREVER));
	CHECK(ct_semaphore_try_acquire(&s));
	CHECK(!ct_semaphore_try_acquire(&s));
	CHECK_RC(ct_semaphore_acquire(&s, 0), CT_ETIMEDOUT);
	CHECK_EQ(ct_semaphore_value(&s), 0);
	/* An unbounded semaphore may go above its initial value. */
	CHECK_OK(ct_semaphore_release(&s, 5));
	CHECK_EQ(ct_semaphore_value(&s), 5);

	ct_semaphore_t d;
	CHECK_OK(ct_semaphore_init(&d, 0));
	CHECK_RC(ct_semaphore_acquire(&d, 0), CT_ETIMEDOUT);
	CHECK_OK(ct_semaphore_release(&d, 1));
	CHECK_OK(ct_semaphore_acquire(&d, 0));
	ct_semaphore_destroy(&d);
}

TEST(bounded_up_to_initial_value)
{
	ct_bounded_semaphore_t s;
	CHECK_OK(ct_bounded_semaphore_init(&s, 3));
	CHECK_OK(ct_bounded_semaphore_acquire(&s, 0));
	CHECK_OK(ct_bounded_semaphore_acquire(&s, 0));
	CHECK_OK(ct_semaphore_release(&s, 2));
	CHECK_EQ(ct_semaphore_value(&s), 3);
	CHECK_RC(ct_semaphore_release(&s, 1), CT_EOVERRELEASE);
	CHECK(ct_bounded_semaphore_try_acquire(&s));
	CHECK_OK(ct_bounded_semaphore_release(&s, 1));
	ct_bounded_semaphore_destroy(&s);
	/* BoundedSemaphore(0): any release is one too many. */
	ct_bounded_semaphore_t z = CT_BOUNDED_SEMAPHORE_INIT(0);
	CHECK_RC(ct_semaphore_release(&z, 1), CT_EOVERRELEASE);
}

TEST(timeout_not_early)
{
	ct_semaphore_t s = CT_SEMAPHORE_INIT(0);
	double timeouts[] = {0.001, 0.02, 0.1};
	for (int i = 0; i < 3; i++) {
		double t0 = ht_now();
		CHECK_RC(ct_semaphore_acquire(&s, timeouts[i]), CT_ETIMEDOUT);
		SH_CHECK_NOT_EARLY(t0, timeouts[i]);
	}
	/* The waiter that left cleared the parked bit: the word is 0. */
	CHECK_EQ(atomic_load(&s.ct__state), 0);
}

struct acq {
	ct_semaphore_t *sem;
	double timeout;
	atomic_int rc;
	atomic_int done;
};

static int acquirer(void *arg)
{
	struct acq *a = arg;
	atomic_store(&a->rc, ct_semaphore_acquire(a->sem, a->timeout));
	atomic_store(&a->done, 1);
	return 0;
}

TEST(release_wakes_waiter)
{
	ct_semaphore_t s = CT_SEMAPHORE_INIT(0);
	struct acq a = {.sem = &s, .timeout = 30};
	ct_thread_t *t = sh_start(acquirer, &a);
	ht_wait_parked(t);
	CHECK_OK(ct_semaphore_release(&s, 1));
	sh_join(t);
	CHECK_OK(atomic_load(&a.rc));
	CHECK_EQ(atomic_load(&s.ct__state), 0);
}

/* release(n) wakes n of m parked waiters: exactly n get a unit, the others
 * stay blocked until the next release. */
TEST(release_n_wakes_n)
{
	enum { M = 5, N = 3 };
	ct_semaphore_t s = CT_SEMAPHORE_INIT(0);
	struct acq a[M];
	ct_thread_t *t[M];
	for (int i = 0; i < M; i++) {
		a[i] = (struct acq){.sem = &s, .timeout = CT_FOREVER};
		t[i] = sh_start(acquirer, &a[i]);
	}
	for (int i = 0; i < M; i++)
		ht_wait_parked(t[i]);
	CHECK_OK(ct_semaphore_release(&s, N));
	int finished = 0;
	while (finished < N) {
		finished = 0;
		for (int i = 0; i < M; i++)
			finished += atomic_load(&a[i].done);
		sched_yield();
	}
	/* Each of the N took a unit; none is left for the others. */
	CHECK_EQ(ct_semaphore_value(&s), 0);
	finished = 0;
	for (int i = 0; i < M; i++)
		finished += atomic_load(&a[i].done);
	CHECK_EQ(finished, N);
	CHECK_OK(ct_semaphore_release(&s, M - N));
	for (int i = 0; i < M; i++) {
		sh_join(t[i]);
		CHECK_OK(atomic_load(&a[i].rc));
	}
	CHECK_EQ(atomic_load(&s.ct__state), 0);
}

TEST(stop_interrupts_acquire)
{
	ct_semaphore_t s = CT_SEMAPHORE_INIT(0);
	struct acq a = {.sem = &s, .timeout = CT_FOREVER};
	ct_thread_release(ht_stop_when_parked(acquirer, &a));
	CHECK_RC(atomic_load(&a.rc), CT_ESTOPPED);
	/* No unit was taken, nothing is left parked. */
	CHECK_EQ(atomic_load(&s.ct__state), 0);
	CHECK_OK(ct_semaphore_release(&s, 1));
	CHECK_EQ(ct_semaphore_value(&s), 1);
}

struct scoped {
	ct_semaphore_t sem;
	atomic_int ran, stopped;
};

static int scoped_worker(void *arg)
{
	struct scoped *sc = arg;
	CT_WITH_SEMAPHORE(&sc->sem)
	{
		atomic_store(&sc->ran, 1);
	}
	atomic_store(&sc->stopped, ct_stop_requested());
	return 0;
}

static int with_return(ct_semaphore_t *s)
{
	CT_WITH_SEMAPHORE(s)
	{
		return (int)ct_semaphore_value(s);
	}
	return -1;
}

TEST(scoped_form)
{
	ct_semaphore_t s = CT_SEMAPHORE_INIT(2);
	CT_WITH_SEMAPHORE(&s)
	{
		CHECK_EQ(ct_semaphore_value(&s), 1);
		CT_WITH_SEMAPHORE(&s)
		{
			CHECK_EQ(ct_semaphore_value(&s), 0);
		}
		CHECK_EQ(ct_semaphore_value(&s), 1);
	}
	CHECK_EQ(ct_semaphore_value(&s), 2);
	CHECK_EQ(with_return(&s), 1);
	CHECK_EQ(ct_semaphore_value(&s), 2);

	/* A stop request while the scoped form waits skips its block. */
	struct scoped sc = {.sem = CT_SEMAPHORE_INIT(0)};
	ct_thread_release(ht_stop_when_parked(scoped_worker, &sc));
	CHECK(!atomic_load(&sc.ran));
	CHECK(atomic_load(&sc.stopped));
	CHECK_EQ(ct_semaphore_value(&sc.sem), 0);
}

/* ---- stress ------------------------------------------------------------- */

/* A semaphore of 2 guards a pool of 2 slots: never more than 2 holders at
 * once, every acquire matched by a release, and all units back at the end.
 * Some acquires use short timeouts to exercise waiters leaving the queue. */
struct pool {
	ct_semaphore_t sem;
	atomic_int inside;
	atomic_int max_inside;
	atomic_long taken;
	long per_thread;
};

static int pool_worker(void *arg)
{
	struct pool *p = arg;
	for (long i = 0; i < p->per_thread; i++) {
		if (i % 5 == 4) {
			if (ct_semaphore_acquire(&p->sem, 0.00002) != 0)
				continue;
		} else {
			CHECK_OK(ct_semaphore_acquire(&p->sem, CT_FOREVER));
		}
		int in = atomic_fetch_add(&p->inside, 1) + 1;
		int max = atomic_load(&p->max_inside);
		while (in > max && !atomic_compare_exchange_weak(&p->max_inside, &max, in))
			;
		atomic_fetch_add(&p->taken, 1);
		atomic_fetch_sub(&p->inside, 1);
		CHECK_OK(ct_semaphore_release(&p->sem, 1));
	}
	return 0;
}

TEST(stress_pool_of_two)
{
	enum { THREADS = 4 };
	struct pool p = {.sem = CT_BOUNDED_SEMAPHORE_INIT(2),
			 .per_thread = ht_slowed() ? 20000 : 200000};
	ct_thread_t *t[THREADS];
	for (int i = 0; i < THREADS; i++)
		t[i] = sh_start(pool_worker, &p);
	for (int i = 0; i < THREADS; i++)
		sh_join(t[i]);
	CHECK(atomic_load(&p.max_inside) <= 2);
	CHECK(atomic_load(&p.taken) >= THREADS * p.per_thread * 4 / 5);
	CHECK_EQ(ct_semaphore_value(&p.sem), 2);
	CHECK_EQ(atomic_load(&p.sem.ct__state), 2 * CT__SEM_UNIT);
}

/* Producers release, consumers acquire: every unit released is taken
 * exactly once (the counts match and nothing is left over). */
struct flow {
	ct_semaphore_t sem;
	long per_thread;
	atomic_long consumed;
};

static int producer(void *arg)
{
	struct flow *f = arg;
	for (long i = 0; i < f->per_thread; i++)
		CHECK_OK(ct_semaphore_release(&f->sem, 1 + (unsigned)(i % 3 == 0)));
	return 0;
}

static int consumer(void *arg)
{
	struct flow *f = arg;
	long want = f->per_thread + (f->per_thread + 2) / 3;
	for (long i = 0; i < want; i++) {
		CHECK_OK(ct_semaphore_acquire(&f->sem, CT_FOREVER));
		atomic_fetch_add(&f->consumed, 1);
	}
	return 0;
}

TEST(stress_producers_consumers)
{
	enum { PAIRS = 2 };
	struct flow f = {.sem = CT_SEMAPHORE_INIT(0), .per_thread = ht_slowed() ? 20000 : 200000};
	ct_thread_t *t[2 * PAIRS];
	for (int i = 0; i < PAIRS; i++) {
		t[2 * i] = sh_start(consumer, &f);
		t[2 * i + 1] = sh_start(producer, &f);
	}
	for (int i = 0; i < 2 * PAIRS; i++)
		sh_join(t[i]);
	CHECK_EQ(atomic_load(&f.consumed), PAIRS * (f.per_thread + (f.per_thread + 2) / 3));
	CHECK_EQ(atomic_load(&f.sem.ct__state), 0);
}
