// hello.c's flash sale from C++: the same library and headers, the lock
// held for a scope by std::lock_guard.
#include <cstdint>
#include <cstdio>
#include <cthreading.h>
#include <mutex>

// A ct_lock_t is a C struct, with no lock() and unlock() of its own. This
// adaptor gives it the ones std::lock_guard, std::unique_lock and
// std::scoped_lock call (BasicLockable, and Lockable with try_lock).
struct ct_lockable {
	ct_lock_t *target;
	void lock()
	{
		ct_lock_acquire(target);
	}
	bool try_lock()
	{
		return ct_lock_try_acquire(target);
	}
	void unlock()
	{
		(void)ct_lock_release(target);
	}
};

static ct_lock_t lock = CT_LOCK_INIT; // lock = Lock()
static ct_lockable sale_lock{&lock};
static int num = 3;

static int buy(void *i) // def buy(i):
{
	std::lock_guard<ct_lockable> hold(sale_lock); // with lock:
	std::printf("子线程%d%s\n", (int)(intptr_t)i, num > 0 ? "抢购成功" : "抢购失败");
	if (num > 0)
		num--;
	return 0; // the guard releases the lock here, and on an exception too
}

int main()
{
	for (intptr_t i = 0; i < 10; i++) // Thread(target=buy, args=(i,)).start()
		if (ct_thread_spawn(buy, (void *)i, nullptr) < 0)
			return 1;
	return 0; // as in Python, the process now waits for its threads
}
