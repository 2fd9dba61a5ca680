/* Abseil's side of the benchmark (libabsl-dev): absl::Mutex for the locks;
 * for the ping-pongs absl::CondVar (the condition row), a flag waited for
 * with Mutex::Await and absl::Notification (the event row: a Notification
 * is one-shot, so each turn has a fresh one), and a count under a Mutex
 * with a CondVar (the semaphore row). */
#include <absl/synchronization/mutex.h>
#include <absl/synchronization/notification.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <new>
#include <pthread.h>
#include <sched.h>

#include "bench_contend.h"
#include "bench_peers.h"

namespace
{

/* ---- locks ----------------------------------------------------------------
 */

struct alignas(64) guarded {
	long counter;
	absl::Mutex mutex;
};
guarded lock_guarded;

void *lock_worker(void *arg)
{
	auto *c = static_cast<bench_contender *>(arg);
	auto *m = static_cast<absl::Mutex *>(c->lock);
	BENCH_CONTEND_LOOP(c, m->TryLock(), m->Lock(), m->Unlock());
	return nullptr;
}

/* ---- ping-pongs ------------------------------------------------------------
 */

/* Two threads, started together as bench_start.h does for the C rows: the
 * partner runs partner(i) for each turn i from 1, the caller main(i); the
 * ball carries each turn's number (i: given, -i: answered), so that a wait
 * that returns early shows. Returns the ns the main side took, or -1. */
template <class Main, class Partner>
double pingpong(long rounds, char *note, Main main_turn, Partner partner_turn)
{
	std::atomic<int> arrived{0};
	std::atomic<long> ball{0};
	std::atomic<bool> wrong{false};
	struct args {
		std::atomic<int> *arrived;
		std::atomic<long> *ball;
		std::atomic<bool> *wrong;
		long rounds;
		Partner *turn;
	} a{&arrived, &ball, &wrong, rounds, &partner_turn};
	auto together = [](std::atomic<int> *n) {
		n->fetch_add(1);
		while (n->load() < 2)
			sched_yield();
	};
	pthread_t t;
	auto run = [](void *p) -> void * {
		auto *b = static_cast<args *>(p);
		b->arrived->fetch_add(1);
		while (b->arrived->load() < 2)
			sched_yield();
		for (long i = 1; i <= b->rounds; i++) {
			(*b->turn)(i, [&] {
				if (b->ball->load(std::memory_order_relaxed) != i)
					b->wrong->store(true);
				b->ball->store(-i, std::memory_order_relaxed);
			});
		}
		return nullptr;
	};
	if (pthread_create(&t, nullptr, run, &a) != 0)
		return -1;
	together(&arrived);
	bool ok = true;
	int64_t t0 = bench_now();
	for (long i = 1; i <= rounds; i++) {
		ball.store(i, std::memory_order_relaxed);
		main_turn(i);
		ok &= ball.load(std::memory_order_relaxed) == -i;
	}
	double dt = (double)(bench_now() - t0);
	pthread_join(t, nullptr);
	if (!ok || wrong.load()) {
		snprintf(note, 120, "WRONG ORDER: a turn seen before it was given");
		return -1;
	}
	return dt;
}

/* An event as Abseil would write one: a flag under a Mutex, awaited. */
struct flag_event {
	absl::Mutex mu;
	bool flag = false;
	void set()
	{
		absl::MutexLock l(&mu);
		flag = true;
	}
	void take()
	{
		mu.LockWhen(absl::Condition(&flag));
		flag = false;
		mu.Unlock();
	}
};

/* A semaphore: a count under a Mutex, with a CondVar. */
struct count_sem {
	absl::Mutex mu;
	absl::CondVar cv;
	long value = 0;
	void release()
	{
		absl::MutexLock l(&mu);
		value++;
		cv.Signal();
	}
	void acquire()
	{
		absl::MutexLock l(&mu);
		while (value == 0)
			cv.Wait(&mu);
		value--;
	}
};

} // namespace

extern "C" {

double bench_absl_lock_uncontended(long ops, char *note)
{
	static absl::Mutex m;
	(void)note;
	int64_t t0 = bench_now();
	for (long i = 0; i < ops; i++) {
		m.Lock();
		m.Unlock();
	}
	return (double)(bench_now() - t0);
}

double bench_absl_lock_contended(int threads, long ops, char *note)
{
	return bench_contend(threads, ops, &lock_guarded.mutex, &lock_guarded.counter, lock_worker,
			     note);
}

double bench_absl_event_pingpong(long ops, char *note)
{
	flag_event ping, pong;
	return pingpong(
		ops, note,
		[&](long) {
			ping.set();
			pong.take();
		},
		[&](long, auto answer) {
			ping.take();
			answer();
			pong.set();
		});
}

double bench_absl_notification_pingpong(long ops, char *note)
{
	/* Notifications cannot be reset: one per turn and direction, made
	 * before the clock starts. */
	std::unique_ptr<absl::Notification[]> ping(new (std::nothrow) absl::Notification[ops + 1]);
	std::unique_ptr<absl::Notification[]> pong(new (std::nothrow) absl::Notification[ops + 1]);
	if (!ping || !pong)
		return -1;
	snprintf(note, 120, "a fresh Notification per turn");
	return pingpong(
		ops, note,
		[&](long i) {
			ping[i].Notify();
			pong[i].WaitForNotification();
		},
		[&](long i, auto answer) {
			ping[i].WaitForNotification();
			answer();
			pong[i].Notify();
		});
}

double bench_absl_semaphore_pingpong(long ops, char *note)
{
	count_sem ping, pong;
	return pingpong(
		ops, note,
		[&](long) {
			ping.release();
			pong.acquire();
		},
		[&](long, auto answer) {
			ping.acquire();
			answer();
			pong.release();
		});
}

double bench_absl_condition_pingpong(long ops, char *note)
{
	/* As bench_condition.c: each side holds the Mutex throughout and
	 * waits on the one CondVar for its turn. */
	absl::Mutex mu;
	absl::CondVar cv;
	int turn = 0;
	std::atomic<int> arrived{0};
	struct args {
		absl::Mutex *mu;
		absl::CondVar *cv;
		int *turn;
		long rounds;
		std::atomic<int> *arrived;
	} a{&mu, &cv, &turn, ops, &arrived};
	pthread_t t;
	auto partner = [](void *p) -> void * {
		auto *b = static_cast<args *>(p);
		b->arrived->fetch_add(1);
		while (b->arrived->load() < 2)
			sched_yield();
		b->mu->Lock();
		for (long i = 0; i < b->rounds; i++) {
			while (*b->turn != 1)
				b->cv->Wait(b->mu);
			*b->turn = 0;
			b->cv->Signal();
		}
		b->mu->Unlock();
		return nullptr;
	};
	(void)note;
	if (pthread_create(&t, nullptr, partner, &a) != 0)
		return -1;
	arrived.fetch_add(1);
	while (arrived.load() < 2)
		sched_yield();
	int64_t t0 = bench_now();
	mu.Lock();
	for (long i = 0; i < ops; i++) {
		turn = 1;
		cv.Signal();
		while (turn != 0)
			cv.Wait(&mu);
	}
	mu.Unlock();
	double dt = (double)(bench_now() - t0);
	pthread_join(t, nullptr);
	return dt;
}

} /* extern "C" */
