"""Thread workloads on Python's threading."""
import threading
import time


def thread_start_join(ops):
    def empty():
        pass
    t0 = time.perf_counter_ns()
    for _ in range(ops):
        t = threading.Thread(target=empty)
        t.start()
        t.join()
    return time.perf_counter_ns() - t0
