"""Queue workloads on Python's queue module: P producer threads move N items
to C consumer threads, as bench_queue.c does (the timer starts once every
thread is ready and stops at the last join)."""
import queue
import threading
import time


def _mpmc(make_queue, producers, consumers, ops):
    q = make_queue()
    per_producer, per_consumer = ops // producers, ops // consumers
    ready = threading.Barrier(producers + consumers + 1)
    sums = []

    def produce(first):
        ready.wait()
        put = q.put
        for i in range(first, first + per_producer):
            put(i)

    def consume():
        ready.wait()
        get = q.get
        total = 0
        for _ in range(per_consumer):
            total += get()
        sums.append(total)

    threads = [threading.Thread(target=produce, args=(1 + i * per_producer,))
               for i in range(producers)]
    threads += [threading.Thread(target=consume) for _ in range(consumers)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter_ns()
    for t in threads:
        t.join()
    elapsed = time.perf_counter_ns() - t0
    n = per_producer * producers
    if sum(sums) != n * (n + 1) // 2:
        raise RuntimeError("items lost or duplicated")
    return elapsed


def _workload(make_queue, n):
    def workload(ops):
        return _mpmc(make_queue, n, n, ops)
    return workload


_WORKLOADS = {"queue_%dp%dc" % (n, n): _workload(lambda: queue.Queue(1024), n)
              for n in (1, 2, 4, 8, 16)}
_WORKLOADS.update({"simplequeue_%dp%dc" % (n, n): _workload(queue.SimpleQueue, n)
                   for n in (1, 2, 4)})
