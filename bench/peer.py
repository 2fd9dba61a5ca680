"""Python's side of the benchmark: the same workloads on threading, queue and
concurrent.futures, run by the python3 on PATH.

    python3 peer.py WORKLOAD OPS REPS

prints "ns_per_op X" (the median over REPS runs) and, optionally, lines
"note ..." for the table. Workloads live in peer_<area>.py files next to
this one: every function there whose name does not start with "_" is a
workload taking OPS and returning the nanoseconds it took (or a tuple
(nanoseconds, note)).
"""
import glob
import importlib.util
import os
import statistics
import sys


def _workloads():
    found = {}
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "peer_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for attr in dir(module):
            fn = getattr(module, attr)
            if not attr.startswith("_") and callable(fn) and fn.__module__ == name:
                found[attr] = fn
    return found


def main():
    name, ops, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fn = _workloads()[name]
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
