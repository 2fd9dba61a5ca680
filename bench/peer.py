"""Python's side of the benchmark: the same workloads on threading, queue and
concurrent.futures, run by the python3 on PATH.

    python3 peer.py WORKLOAD OPS REPS

prints one line "sample NS_PER_OP FAIRNESS LONGEST_WAIT_NS" per run ("nan"
where the workload has no such figure; the runner takes the median, the
smallest and the largest) and, optionally, lines "note ..." for the table.
Workloads live in peer_<area>.py files next to this one: every function
there whose name does not start with "_" is a workload taking OPS and
returning the nanoseconds it took, or a tuple (nanoseconds, note), or
(nanoseconds, note, fairness, longest_wait_ns). A module may also define
_WORKLOADS, a dict of further workloads by name (the curves' points).
"""
import glob
import importlib.util
import os
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
        found.update(getattr(module, "_WORKLOADS", {}))
    return found


def main():
    name, ops, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fn = _workloads()[name]
    for _ in range(reps):
        result = fn(ops)
        fairness = wait = float("nan")
        if isinstance(result, tuple):
            total, note = result[0], result[1]
            if len(result) == 4:
                fairness, wait = result[2], result[3]
            if note:
                print("note", note)
        else:
            total = result
        print("sample", total / ops, fairness, wait, flush=True)


if __name__ == "__main__":
    main()
