"""Synchronisation workloads on Python's threading: the same shapes as
bench_lock.c and bench_pingpong.c."""
import threading
import time


def _uncontended(lock, ops):
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter_ns()
    for _ in range(ops):
        acquire()
        release()
    return time.perf_counter_ns() - t0


def lock_uncontended(ops):
    return _uncontended(threading.Lock(), ops)


def rlock_uncontended(ops):
    return _uncontended(threading.RLock(), ops)


def _contended(ops, n):
    lock = threading.Lock()
    counter = [0]
    go = threading.Event()
    longest = [0]

    def worker(count):
        go.wait()
        acquire, release, now = lock.acquire, lock.release, time.perf_counter_ns
        local_longest = 0
        for _ in range(count):
            if not acquire(False):
                t0 = now()
                acquire()
                wait = now() - t0
                if wait > local_longest:
                    local_longest = wait
            counter[0] += 1
            release()
        with lock:
            longest[0] = max(longest[0], local_longest)

    threads = [threading.Thread(target=worker, args=(ops // n,)) for _ in range(n)]
    for t in threads:
        t.start()
    t0 = time.perf_counter_ns()
    go.set()
    for t in threads:
        t.join()
    return time.perf_counter_ns() - t0, "longest wait %.0f us" % (longest[0] / 1e3)


def lock_contended_2t(ops):
    return _contended(ops, 2)


def lock_contended_4t(ops):
    return _contended(ops, 4)


def lock_contended_8t(ops):
    return _contended(ops, 8)


def _pingpong(ops, make, give, take):
    ping, pong = make(), make()

    def partner():
        for _ in range(ops):
            take(ping)
            give(pong)

    t = threading.Thread(target=partner)
    t.start()
    t0 = time.perf_counter_ns()
    for _ in range(ops):
        give(ping)
        take(pong)
    elapsed = time.perf_counter_ns() - t0
    t.join()
    return elapsed


def _event_take(e):
    e.wait()
    e.clear()


def event_pingpong(ops):
    return _pingpong(ops, threading.Event, threading.Event.set, _event_take)


def semaphore_pingpong(ops):
    return _pingpong(ops, lambda: threading.Semaphore(0), threading.Semaphore.release,
                     threading.Semaphore.acquire)


def condition_pingpong(ops):
    cond = threading.Condition()  # Python's default: over an RLock
    turn = [0]

    def partner():
        with cond:
            for _ in range(ops):
                while turn[0] != 1:
                    cond.wait()
                turn[0] = 0
                cond.notify()

    t = threading.Thread(target=partner)
    t.start()
    t0 = time.perf_counter_ns()
    with cond:
        for _ in range(ops):
            turn[0] = 1
            cond.notify()
            while turn[0] != 0:
                cond.wait()
    elapsed = time.perf_counter_ns() - t0
    t.join()
    return elapsed
