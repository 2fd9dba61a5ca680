"""Executor workloads on concurrent.futures.ThreadPoolExecutor (default
max_workers, as the C side, or the curve's count): a trivial task, in
batches of 1000, every result collected and summed."""
import concurrent.futures
import time

_BATCH = 1000


def _inc(x):
    return x + 1


def _expected(batches):
    return batches * _BATCH * (_BATCH + 1) // 2


def executor_tiny_tasks(ops):
    batches = max(1, ops // _BATCH)
    with concurrent.futures.ThreadPoolExecutor() as ex:
        [f.result() for f in [ex.submit(_inc, i) for i in range(_BATCH)]]  # warm-up
        total = 0
        t0 = time.perf_counter_ns()
        for _ in range(batches):
            fs = [ex.submit(_inc, i) for i in range(_BATCH)]
            total += sum(f.result() for f in fs)
        t = time.perf_counter_ns() - t0
    assert total == _expected(batches)
    return t * ops // (batches * _BATCH)


def executor_map(ops, workers=None):
    batches = max(1, ops // _BATCH)
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        list(ex.map(_inc, range(_BATCH)))  # warm-up
        total = 0
        t0 = time.perf_counter_ns()
        for _ in range(batches):
            total += sum(ex.map(_inc, range(_BATCH)))
        t = time.perf_counter_ns() - t0
    assert total == _expected(batches)
    return t * ops // (batches * _BATCH)


def _map_workload(n):
    def workload(ops):
        return executor_map(ops, n)
    return workload


_WORKLOADS = {"executor_map_%dw" % n: _map_workload(n) for n in range(1, 9)}
