"""Python's side of the benchmark: the same workloads on threading, queue and
concurrent.futures, run by the python3 on PATH.

    python3 peer.py WORKLOAD OPS REPS

prints "ns_per_op X" (the median over REPS runs) and optionally "note ...".
"""
import statistics
import sys
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


WORKLOADS = {
    "thread_start_join": thread_start_join,
}


def main():
    name, ops, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fn = WORKLOADS[name]
    samples = []
    for _ in range(reps):
        result = fn(ops)
        if isinstance(result, tuple):
            total, note = result
            print("note", note)
        else:
            total = result
        samples.append(total / ops)
    print("ns_per_op", statistics.median(samples))


if __name__ == "__main__":
    main()
