/* What differs between the platforms the library runs on (docs/
 * architecture.md, "Platforms"): a 32-bit time_t and long, 64-bit values
 * that need two words, x87's double precision, the CPUs a process may use
 * (its affinity mask). Every case runs in every
 * build; on x86-64 they pin down what the 32-bit builds must also do. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>

#include "core/internal.h"
#include "ht_internal.h"
#include "sync_helpers.h"

/* Deadlines the parkers turn into an absolute timespec: exact whenever
 * time_t can hold them, refused (wait with no time limit) only beyond it,
 * never wrapped. */
TEST(deadline_timespec_is_exact_or_refused)
{
	int64_t max_deadline;
	CHECK_OK(ct__deadline(CT_TIMEOUT_MAX, &max_deadline));
	int64_t now = ct__now_ns();
	const int64_t deadlines[] = {
		0,
		1,
		999999999,
		1000000000,
		now,
		now + 1000000000,
		(int64_t)INT32_MAX * 1000000000, /* the last second a 32-bit time_t holds */
		(int64_t)INT32_MAX * 1000000000 + 999999999,
		((int64_t)INT32_MAX + 1) * 1000000000,	       /* the first it does not */
		((int64_t)INT32_MAX * 2 + 1) * 1000000000 + 5, /* wraps to -1 s in 32 bits */
		(int64_t)3e18,				       /* wraps to a negative tv_sec */
		max_deadline,
		CT__NO_DEADLINE - 1,
	};
	for (size_t i = 0; i < sizeof deadlines / sizeof deadlines[0]; i++) {
		int64_t d = deadlines[i];
		struct timespec ts;
		bool fits = sizeof(time_t) >= sizeof(int64_t) || d / 1000000000 <= INT32_MAX;
		CHECK_EQ(ct__deadline_timespec(d, &ts), fits);
		if (fits) {
			CHECK(ts.tv_sec >= 0);
			CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
			CHECK_EQ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, d);
		}
	}
	struct timespec ts;
	CHECK(!ct__deadline_timespec(CT__NO_DEADLINE, &ts));
}

/* The largest timeout is accepted and saturates instead of overflowing
 * (UBSan would report a signed overflow); the next double up is refused,
 * the same with x87's long double arithmetic as with SSE's. */
TEST(timeout_max_accepted_next_refused)
{
	int64_t d, before = ct__now_ns();
	CHECK_OK(ct__deadline(CT_TIMEOUT_MAX, &d));
	CHECK(d > before && d < CT__NO_DEADLINE);
	CHECK_RC(ct__deadline(nextafter(CT_TIMEOUT_MAX, INFINITY), &d), CT_ETOOLARGE);
	CHECK_OK(ct__deadline(3e9, &d)); /* beyond a 32-bit time_t from now */
	CHECK(d - before >= (int64_t)3e9 * 1000000000);
	ct_event_t e = CT_EVENT_INIT;
	CHECK_RC(ct_event_wait(&e, nextafter(CT_TIMEOUT_MAX, INFINITY)), CT_ETOOLARGE);
	CHECK_RC(ct_event_wait(&e, DBL_MAX), CT_ETOOLARGE);
}

/* A thread waiting with a timeout far beyond a 32-bit time_t sleeps until
 * woken, like one waiting forever, in the event, the semaphore and the
 * condition; and a stop request reaches it. */
struct long_wait {
	ct_event_t *e;
	ct_semaphore_t *sem;
	ct_lock_t *lock;
	ct_condition_t *cond;
	double timeout;
	_Atomic int rc;
	_Atomic int flag;
};

static int wait_event(void *arg)
{
	struct long_wait *w = arg;
	atomic_store(&w->rc, ct_event_wait(w->e, w->timeout));
	return 0;
}

static int wait_semaphore(void *arg)
{
	struct long_wait *w = arg;
	atomic_store(&w->rc, ct_semaphore_acquire(w->sem, w->timeout));
	return 0;
}

static int wait_condition(void *arg)
{
	struct long_wait *w = arg;
	ct_lock_acquire(w->lock);
	int rc = 0;
	while (rc == 0 && !atomic_load(&w->flag))
		rc = ct_condition_wait(w->cond, w->timeout);
	ct_lock_release(w->lock);
	atomic_store(&w->rc, rc);
	return 0;
}

TEST(long_timeouts_sleep_until_woken)
{
	const double timeouts[] = {3e9, 5e9, CT_TIMEOUT_MAX};
	for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
		ct_event_t e = CT_EVENT_INIT;
		ct_semaphore_t sem = CT_SEMAPHORE_INIT(0);
		ct_lock_t lock = CT_LOCK_INIT;
		ct_condition_t cond = CT_CONDITION_INIT_LOCK(&lock);
		struct long_wait w = {
			.e = &e, .sem = &sem, .lock = &lock, .cond = &cond, .timeout = timeouts[i]};

		atomic_store(&w.rc, 1);
		ct_thread_t *t = sh_start(wait_event, &w);
		ht_wait_parked(t);
		ct_event_set(&e);
		sh_join(t);
		CHECK_OK(atomic_load(&w.rc));

		atomic_store(&w.rc, 1);
		t = sh_start(wait_semaphore, &w);
		ht_wait_parked(t);
		CHECK_OK(ct_semaphore_release(&sem, 1));
		sh_join(t);
		CHECK_OK(atomic_load(&w.rc));

		atomic_store(&w.rc, 1);
		t = sh_start(wait_condition, &w);
		ht_wait_parked(t);
		ct_lock_acquire(&lock);
		atomic_store(&w.flag, 1);
		CHECK(ct_condition_notify(&cond, 1) >= 0);
		ct_lock_release(&lock);
		sh_join(t);
		CHECK_OK(atomic_load(&w.rc));

		ct_event_t e2 = CT_EVENT_INIT;
		struct long_wait s = {.e = &e2, .timeout = timeouts[i], .rc = 1};
		ct_thread_release(ht_stop_when_parked(wait_event, &s));
		CHECK_RC(atomic_load(&s.rc), CT_ESTOPPED);
	}
}

/* Counts at their limits, where a 32-bit long has no room left above
 * them: the largest initial values are accepted and count exactly. */
TEST(counts_at_their_limits)
{
	ct_latch_t l;
	CHECK_OK(ct_latch_init(&l, (long)CT_LATCH_COUNT_MAX));
	CHECK_EQ(ct_latch_count(&l), CT_LATCH_COUNT_MAX);
	CHECK_OK(ct_latch_count_down(&l, CT_LATCH_COUNT_MAX - 1));
	CHECK_EQ(ct_latch_count(&l), 1);
	CHECK(!ct_latch_try_wait(&l));
	CHECK_OK(ct_latch_count_down(&l, 1));
	CHECK(ct_latch_try_wait(&l));

	ct_semaphore_t s;
	CHECK_OK(ct_semaphore_init(&s, (long)CT_SEMAPHORE_VALUE_MAX));
	CHECK(ct_semaphore_try_acquire(&s));
	CHECK_OK(ct_semaphore_release(&s, 1));
	CHECK_RC(ct_semaphore_release(&s, 1), CT_EOVERRELEASE);
	CHECK(ct_semaphore_try_acquire(&s));
	CHECK_RC(ct_semaphore_init(&s, LONG_MIN), CT_ENEGATIVE);
}

/* The GIL's switch interval and statistics are 64-bit atomics: two words
 * on i386 and armhf. The largest interval and one above 2^32 ns come back
 * whole; the acquisition count from two threads adds up exactly. */
static ct_gil_t gil = CT_GIL_INIT;

static int take_it(void *arg)
{
	for (int i = 0; i < 1000; i++) {
		CHECK_OK(ct_gil_acquire(&gil));
		CHECK(ct_gil_yield(&gil) >= 0);
		CHECK_OK(ct_gil_release(&gil));
	}
	return (int)(intptr_t)arg;
}

TEST(gil_64bit_values)
{
	CHECK_OK(ct_gil_set_switch_interval(&gil, CT_TIMEOUT_MAX));
	CHECK(ct_gil_get_switch_interval(&gil) == (double)CT_TIMEOUT_MAX);
	CHECK_OK(ct_gil_set_switch_interval(&gil, 4.5)); /* 4.5e9 ns: above 2^32 */
	CHECK(ct_gil_get_switch_interval(&gil) == (double)4.5);

	ct_thread_t *a = sh_start(take_it, NULL);
	ct_thread_t *b = sh_start(take_it, NULL);
	sh_join(a);
	sh_join(b);
	ct_gil_stats_t st;
	CHECK_OK(ct_gil_stats(&gil, &st));
	CHECK(st.acquisitions >= 2000); /* a yield that hands over counts again */
	CHECK(st.switches <= st.acquisitions);
	CHECK(st.longest_wait_ns <= st.total_wait_ns);
}

/* A process held to one CPU (its affinity mask) never spins: the thread
 * it waits for cannot run meanwhile. The library reads the mask when it
 * is loaded: a program started held to one CPU says what it found. Its
 * default pool counts that CPU only, as Python 3.13's: min(32, 1 + 4). */
TEST(a_process_held_to_one_cpu_never_spins)
{
	cpu_set_t all, one;
	CHECK_EQ(sched_getaffinity(0, sizeof all, &all), 0);
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &all)) {
			CPU_SET(c, &one);
			break;
		}
	CHECK_EQ(sched_setaffinity(0, sizeof one, &one), 0);
	char *out = ht_run_program(CT_TEST_PROGRAMS, "spin_policy");
	CHECK_EQ(sched_setaffinity(0, sizeof all, &all), 0);
	CHECK_STR(out, "cpus 1, spin limit 0, default pool 5\n");
	free(out);
}
