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
    """n threads share ops increments of one counter under one Lock, as
    bench_contend.h: each counts its own, so that the fairness (smallest
    count over largest) shows beside the time; an acquire that had to
    block is timed, for the longest single wait."""
    lock = threading.Lock()
    counter = [0]
    go = threading.Event()
    counts = []
    longest = [0]

    def worker():
        go.wait()
        acquire, release, now = lock.acquire, lock.release, time.perf_counter_ns
        mine = local_longest = 0
        while True:
            if not acquire(False):
                t0 = now()
                acquire()
                wait = now() - t0
                if wait > local_longest:
                    local_longest = wait
            more = counter[0] < ops
            if more:
                counter[0] += 1
            release()
            if not more:
                break
            mine += 1
        with lock:
            counts.append(mine)
            longest[0] = max(longest[0], local_longest)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    t0 = time.perf_counter_ns()
    go.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter_ns() - t0
    if counter[0] != ops or sum(counts) != ops:
        raise RuntimeError("lost or doubled increments")
    return elapsed, "", min(counts) / max(counts), longest[0]


def _contended_workload(n):
    def workload(ops):
        return _contended(ops, n)
    return workload


_WORKLOADS = {"lock_contended_%dt" % n: _contended_workload(n) for n in (1, 2, 4, 8, 16)}


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
