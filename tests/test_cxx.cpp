// The headers from C++: the struct layouts agree with C's, the static
// initializers compile, and the inline fast paths (compiled here by the C++
// compiler, on plain members with the __atomic builtins) work across
// threads against the C library's out-of-line halves (compiled by the C
// compiler, on _Atomic members).
//
// Each TEST is its own CTest case "cxx.<name>", as for the C tests.
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#define _Noreturn [[noreturn]] // harness.h is C11
extern "C" {
#include "cxx_layout.h"
#include "harness.h"
}

namespace
{

// The loops are shorter under the sanitizers.
long rounds(long n)
{
	return ht_sanitized() ? n / 10 : n;
}

// Runs fn(i) in n std::threads and joins them.
template <class Fn> void in_threads(int n, Fn fn)
{
	std::vector<std::thread> ts;
	for (int i = 0; i < n; i++)
		ts.emplace_back(fn, i);
	for (auto &t : ts)
		t.join();
}

// The adaptor that makes a ct_lock_t BasicLockable (std::lock_guard) and
// Lockable (std::unique_lock's try_to_lock, std::lock).
struct lock_ref {
	ct_lock_t *l;
	void lock()
	{
		ct_lock_acquire(l);
	}
	bool try_lock()
	{
		return ct_lock_try_acquire(l);
	}
	void unlock()
	{
		CHECK_OK(ct_lock_release(l));
	}
};

} // namespace

TEST(layout)
{
	const ct_layout_row *c, *cxx;
	CHECK(ct_layout_c(&c) > 100);
	CHECK_EQ(ct_layout_c(&c), ct_layout_cxx(&cxx));
	CHECK_EQ(ct_layout_mismatches(stderr), 0);
	// What C++ code and the C library must agree on, spelt out.
	static_assert(sizeof(ct_lock_t) == 4 && alignof(ct_lock_t) == 4, "lock");
}

// Every static initializer, in C++, and the objects it makes work.
static int cmp_int(const void *a, const void *b)
{
	return (int)((intptr_t)a - (intptr_t)b);
}
static int set_flag(void *arg)
{
	*(int *)arg = 1;
	return 0;
}

TEST(static_initializers)
{
	static ct_lock_t lock = CT_LOCK_INIT;
	static ct_rlock_t rlock = CT_RLOCK_INIT;
	static ct_condition_t c_own = CT_CONDITION_INIT;
	static ct_condition_t c_lock = CT_CONDITION_INIT_LOCK(&lock);
	static ct_condition_t c_rlock = CT_CONDITION_INIT_RLOCK(&rlock);
	static ct_semaphore_t sem = CT_SEMAPHORE_INIT(2);
	static ct_bounded_semaphore_t bsem = CT_BOUNDED_SEMAPHORE_INIT(1);
	static ct_event_t ev = CT_EVENT_INIT;
	static ct_barrier_t bar = CT_BARRIER_INIT(1);
	static int ran = 0;
	static ct_barrier_t bar_action = CT_BARRIER_INIT_ACTION(1, set_flag, &ran, CT_FOREVER);
	static ct_local_t local = CT_LOCAL_INIT(NULL);
	static ct_queue_t fifo = CT_QUEUE_INIT;
	static ct_queue_t lifo = CT_LIFOQUEUE_INIT;
	static ct_queue_t prio = CT_PRIORITYQUEUE_INIT(cmp_int);
	static ct_simplequeue_t sq = CT_SIMPLEQUEUE_INIT;
	static ct_gil_t gil = CT_GIL_INIT;
	static ct_once_t once = CT_ONCE_INIT;
	static ct_latch_t latch = CT_LATCH_INIT(2);
	static ct_rwlock_t rw = CT_RWLOCK_INIT;

	CHECK(!ct_lock_locked(&lock) && !ct_rlock_locked(&rlock));
	ct_condition_t *conds[] = {&c_own, &c_lock, &c_rlock};
	for (ct_condition_t *c : conds) {
		ct_condition_acquire(c);
		CHECK_RC(ct_condition_wait(c, 0), CT_ETIMEDOUT);
		CHECK_OK(ct_condition_notify_all(c));
		CHECK_OK(ct_condition_release(c));
	}
	CHECK_EQ(ct_semaphore_value(&sem), 2);
	CHECK_EQ(ct_semaphore_value(&bsem), 1);
	CHECK_RC(ct_bounded_semaphore_release(&bsem, 1), CT_EOVERRELEASE);
	CHECK(!ct_event_is_set(&ev));
	CHECK_EQ(ct_barrier_wait(&bar, CT_FOREVER), 0);
	CHECK_EQ(ct_barrier_wait(&bar_action, CT_FOREVER), 0);
	CHECK_EQ(ran, 1);
	CHECK(ct_local_get(&local) == NULL);

	void *item;
	for (intptr_t i = 1; i <= 3; i++) {
		CHECK_OK(ct_queue_put(&fifo, (void *)i, 0));
		CHECK_OK(ct_queue_put(&lifo, (void *)i, 0));
		CHECK_OK(ct_queue_put(&prio, (void *)(4 - i), 0));
		CHECK_OK(ct_simplequeue_put(&sq, (void *)i));
	}
	for (intptr_t i = 1; i <= 3; i++) {
		CHECK_OK(ct_queue_get(&fifo, &item, 0));
		CHECK_EQ((intptr_t)item, i);
		CHECK_OK(ct_queue_get(&lifo, &item, 0));
		CHECK_EQ((intptr_t)item, 4 - i);
		CHECK_OK(ct_queue_get(&prio, &item, 0));
		CHECK_EQ((intptr_t)item, i);
		CHECK_OK(ct_simplequeue_get(&sq, &item, 0));
		CHECK_EQ((intptr_t)item, i);
	}
	CHECK_OK(ct_queue_destroy(&fifo));
	CHECK_OK(ct_queue_destroy(&lifo));
	CHECK_OK(ct_queue_destroy(&prio));
	CHECK_OK(ct_simplequeue_destroy(&sq));

	CHECK_OK(ct_gil_acquire(&gil));
	CHECK(ct_gil_held(&gil));
	CHECK_EQ(ct_gil_checkpoint(&gil), 0);
	CHECK_OK(ct_gil_release(&gil));
	CHECK(!ct_gil_held(&gil));
	CHECK_OK(ct_gil_destroy(&gil));

	int flag = 0;
	CHECK(!ct_once_done(&once));
	CHECK_OK(ct_once(&once, set_flag, &flag));
	CHECK(ct_once_done(&once) && flag == 1);
	CHECK_EQ(ct_latch_count(&latch), 2);
	CHECK(!ct_latch_try_wait(&latch));
	CHECK(!ct_rwlock_write_locked(&rw) && ct_rwlock_readers(&rw) == 0);
}

// Lost updates would show a broken acquire or release: four threads, each
// adding under the lock, with the blocking and the trying acquire.
TEST(lock_across_threads)
{
	static ct_lock_t lock = CT_LOCK_INIT;
	static long counter = 0;
	const long n = rounds(200000);
	in_threads(4, [n](int i) {
		for (long k = 0; k < n; k++) {
			if (i % 2 == 0) {
				ct_lock_acquire(&lock);
			} else {
				while (!ct_lock_try_acquire(&lock))
					std::this_thread::yield();
			}
			CHECK(ct_lock_locked(&lock));
			counter++;
			CHECK_OK(ct_lock_release(&lock));
		}
	});
	CHECK_EQ(counter, 4 * n);
	CHECK(!ct_lock_locked(&lock));
	CHECK_RC(ct_lock_release(&lock), CT_EUNLOCKED);
}

// The lock held for a C++ scope, through std::lock_guard and
// std::unique_lock over an adaptor; released by an exception too.
TEST(lock_guard_and_exceptions)
{
	static ct_lock_t lock = CT_LOCK_INIT;
	static long counter = 0;
	lock_ref ref{&lock};
	const long n = rounds(100000);
	in_threads(2, [&ref, n](int) {
		for (long k = 0; k < n; k++) {
			std::lock_guard<lock_ref> hold(ref);
			counter++;
		}
	});
	CHECK_EQ(counter, 2 * n);
	{
		std::unique_lock<lock_ref> hold(ref, std::try_to_lock);
		CHECK(hold.owns_lock() && ct_lock_locked(&lock));
		std::unique_lock<lock_ref> again(ref, std::try_to_lock);
		CHECK(!again.owns_lock());
	}
	CHECK(!ct_lock_locked(&lock));
	try {
		std::lock_guard<lock_ref> hold(ref);
		throw std::runtime_error("leaves the scope");
	} catch (const std::runtime_error &) {
		CHECK(!ct_lock_locked(&lock));
	}
	// CT_WITH_LOCK's cleanup runs during unwinding too (GCC and Clang).
	try {
		CT_WITH_LOCK(&lock)
		{
			throw std::runtime_error("leaves the block");
		}
	} catch (const std::runtime_error &) {
		CHECK(!ct_lock_locked(&lock));
	}
}

TEST(rlock_locked_across_threads)
{
	static ct_rlock_t rlock = CT_RLOCK_INIT;
	static ct_event_t held = CT_EVENT_INIT, done = CT_EVENT_INIT;
	std::thread owner([] {
		ct_rlock_acquire(&rlock);
		ct_rlock_acquire(&rlock);
		ct_event_set(&held);
		CHECK_OK(ct_event_wait(&done, CT_FOREVER));
		CHECK_OK(ct_rlock_release(&rlock));
		CHECK(ct_rlock_locked(&rlock));
		CHECK_OK(ct_rlock_release(&rlock));
	});
	CHECK_OK(ct_event_wait(&held, CT_FOREVER));
	CHECK(ct_rlock_locked(&rlock));
	CHECK(!ct_rlock_try_acquire(&rlock));
	ct_event_set(&done);
	owner.join();
	CHECK(!ct_rlock_locked(&rlock));
}

// is_set() is an acquire load: what the setter wrote before set() is seen
// by a thread that sees the flag.
TEST(event_is_set_across_threads)
{
	static ct_event_t ev = CT_EVENT_INIT;
	static long payload = 0;
	std::thread setter([] {
		payload = 42;
		ct_event_set(&ev);
	});
	while (!ct_event_is_set(&ev))
		std::this_thread::yield();
	CHECK_EQ(payload, 42);
	setter.join();
	ct_event_clear(&ev);
	CHECK(!ct_event_is_set(&ev));
}

// Eight threads released at once by a latch race into ct_once: the
// function runs once, and every caller sees what it wrote.
static std::atomic<int> once_runs{0};
static long once_value = 0;
static int init_value(void *arg)
{
	once_runs++;
	once_value = *(long *)arg;
	return 0;
}

TEST(once_across_threads)
{
	static ct_once_t once = CT_ONCE_INIT;
	static ct_latch_t start = CT_LATCH_INIT(8);
	static long seven = 7;
	in_threads(8, [](int) {
		CHECK_OK(ct_latch_arrive_and_wait(&start, 1, CT_FOREVER));
		CHECK_OK(ct_once(&once, init_value, &seven));
		CHECK(ct_once_done(&once));
		CHECK_EQ(once_value, 7);
	});
	CHECK_EQ(once_runs.load(), 1);
	CHECK_OK(ct_once(&once, init_value, &seven));
	CHECK_EQ(once_runs.load(), 1);
}

// Two cthreading threads under one GIL, started from C++, add to a plain
// counter with a checkpoint per step and a 100 us switch interval: the
// GIL alone keeps the count exact, while the checkpoints hand it over.
static ct_gil_t gil = CT_GIL_INIT;
static long gil_counter = 0;
static std::atomic<long> gil_handovers{0};

static int gil_worker(void *arg)
{
	long n = *(long *)arg;
	CHECK(ct_gil_held(&gil));
	for (long k = 0; k < n; k++) {
		gil_counter++;
		int rc = ct_gil_checkpoint(&gil);
		CHECK(rc == 0 || rc == 1);
		gil_handovers += rc;
	}
	CHECK(ct_gil_held(&gil));
	return 0;
}

TEST(gil_checkpoint_across_threads)
{
	long n = rounds(300000);
	CHECK_OK(ct_gil_set_switch_interval(&gil, 0.0001));
	ct_thread_opts opts = ct_thread_opts();
	opts.gil = &gil;
	ct_thread_t *t[2];
	for (auto &ti : t) {
		CHECK_OK(ct_thread_new(&ti, gil_worker, &n, &opts));
		CHECK_OK(ct_thread_start(ti));
	}
	CHECK(!ct_gil_held(&gil));
	CHECK_RC(ct_gil_checkpoint(&gil), CT_EGILNOTHELD);
	for (auto ti : t) {
		CHECK_OK(ct_thread_join(ti, CT_FOREVER));
		ct_thread_destroy(ti);
	}
	CHECK_EQ(gil_counter, 2 * n);
	ct_gil_stats_t st;
	CHECK_OK(ct_gil_stats(&gil, &st));
	CHECK_EQ(st.forced_drops, gil_handovers.load());
}

TEST(barrier_queries_across_threads)
{
	static ct_barrier_t bar = CT_BARRIER_INIT(3);
	CHECK_EQ(ct_barrier_parties(&bar), 3);
	std::thread a([] { CHECK(ct_barrier_wait(&bar, CT_FOREVER) >= 0); });
	std::thread b([] { CHECK(ct_barrier_wait(&bar, CT_FOREVER) >= 0); });
	while (ct_barrier_n_waiting(&bar) != 2)
		std::this_thread::yield();
	CHECK(!ct_barrier_broken(&bar));
	CHECK_EQ(ct_barrier_wait(&bar, CT_FOREVER), 2);
	a.join();
	b.join();
	ct_barrier_abort(&bar);
	CHECK(ct_barrier_broken(&bar));
	CHECK_EQ(ct_barrier_n_waiting(&bar), 0);
}

TEST(latch_across_threads)
{
	static ct_latch_t done = CT_LATCH_INIT(4);
	static std::atomic<int> work{0};
	CHECK_EQ(ct_latch_count(&done), 4);
	std::vector<std::thread> ts;
	for (int i = 0; i < 4; i++)
		ts.emplace_back([] {
			work++;
			CHECK_OK(ct_latch_count_down(&done, 1));
		});
	CHECK_OK(ct_latch_wait(&done, CT_FOREVER));
	CHECK(ct_latch_try_wait(&done));
	CHECK_EQ(ct_latch_count(&done), 0);
	CHECK_EQ(work.load(), 4);
	for (auto &t : ts)
		t.join();
}

// Readers take shares inline; a writer waits for them and keeps new ones
// out; counts seen from other threads.
TEST(rwlock_across_threads)
{
	static ct_rwlock_t rw = CT_RWLOCK_INIT;
	static ct_latch_t reading = CT_LATCH_INIT(3);
	static ct_event_t leave = CT_EVENT_INIT;
	std::vector<std::thread> readers;
	for (int i = 0; i < 3; i++)
		readers.emplace_back([] {
			ct_rwlock_read_acquire(&rw);
			CHECK_OK(ct_latch_count_down(&reading, 1));
			CHECK_OK(ct_event_wait(&leave, CT_FOREVER));
			CHECK_OK(ct_rwlock_read_release(&rw));
		});
	CHECK_OK(ct_latch_wait(&reading, CT_FOREVER));
	CHECK_EQ(ct_rwlock_readers(&rw), 3);
	CHECK(!ct_rwlock_write_locked(&rw));
	CHECK(!ct_rwlock_write_try_acquire(&rw));
	ct_event_set(&leave);
	for (auto &t : readers)
		t.join();
	CHECK_EQ(ct_rwlock_readers(&rw), 0);

	static long shared = 0;
	const long n = rounds(50000);
	in_threads(4, [n](int i) {
		for (long k = 0; k < n; k++) {
			if (i == 0) {
				ct_rwlock_write_acquire(&rw);
				CHECK(ct_rwlock_write_locked(&rw));
				shared++;
				CHECK_OK(ct_rwlock_write_release(&rw));
			} else {
				ct_rwlock_read_acquire(&rw);
				CHECK(shared >= 0 && ct_rwlock_readers(&rw) >= 1);
				CHECK_OK(ct_rwlock_read_release(&rw));
			}
		}
	});
	CHECK_EQ(shared, n);
	CHECK(ct_rwlock_read_try_acquire(&rw));
	CHECK_OK(ct_rwlock_read_release(&rw));
	CHECK_RC(ct_rwlock_read_release(&rw), CT_EUNLOCKED);
}

// At most two threads at once inside a Semaphore(2), taken inline.
TEST(semaphore_across_threads)
{
	static ct_semaphore_t sem = CT_SEMAPHORE_INIT(2);
	static std::atomic<int> inside{0}, most{0};
	const long n = rounds(20000);
	in_threads(4, [n](int i) {
		for (long k = 0; k < n; k++) {
			if (i % 2 == 0) {
				CHECK_OK(ct_semaphore_acquire(&sem, CT_FOREVER));
			} else {
				while (!ct_semaphore_try_acquire(&sem))
					std::this_thread::yield();
			}
			int now = ++inside;
			CHECK(now <= 2);
			int m = most.load();
			while (now > m && !most.compare_exchange_weak(m, now)) {
			}
			--inside;
			CHECK_OK(ct_semaphore_release(&sem, 1));
		}
	});
	CHECK_EQ(ct_semaphore_value(&sem), 2);
	CHECK(most.load() >= 1 && most.load() <= 2);
}

// The functions a with-block's cleanup or a guard's destructor calls, and
// that only release, are noexcept in C++: no landing pad is needed around
// them, so the scoped forms cost what they cost in C.
TEST(release_functions_are_noexcept)
{
	static_assert(noexcept(ct__lock_release_slow(nullptr)), "lock");
	static_assert(noexcept(ct_rlock_release(nullptr)), "rlock");
	static_assert(noexcept(ct_condition_release(nullptr)), "condition");
	static_assert(noexcept(ct_semaphore_release(nullptr, 1)), "semaphore");
	static_assert(noexcept(ct__rwlock_read_release_slow(nullptr)), "read");
	static_assert(noexcept(ct_rwlock_write_release(nullptr)), "write");
	// They still report misuse by their return value.
	ct_lock_t lock = CT_LOCK_INIT;
	CHECK_RC(ct_lock_release(&lock), CT_EUNLOCKED);
}
