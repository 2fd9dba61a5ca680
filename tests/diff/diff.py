#!/usr/bin/env python3
"""Differential test: random, seeded operation sequences run on cthreading
(tests/diff/diff_runner.c) and on CPython's own threading, queue and
concurrent.futures, every result, error and final state compared.

    diff.py RUNNER [--seed S] [--count N] [--length L]

A difference prints the seed, the object, and the shortest sequence that
still differs (operations dropped one at a time while the difference
stays), with both results side by side. Exit status 0, 1 on a difference.

Known, documented differences are adapted, each with its reason:
  - Barrier.wait that times out: cthreading returns CT_ETIMEDOUT to that
    caller (barrier.h) and CT_EBROKEN to the others; CPython raises
    BrokenBarrierError to all. diff_runner.c reports both as the latter.
  - Future.set_result/set_exception on a PENDING future: CPython takes it;
    cthreading requires set_running_or_notify_cancel() first (future.h:
    "unlike Python ... so that no cancel can race with the result") and
    raises InvalidStateError. The CPython side raises it too.
"""
import concurrent.futures as cf
import logging
import queue
import random
import subprocess
import sys
import threading

HAS_SHUTDOWN = hasattr(queue.Queue, "shutdown")  # Python 3.13
# set_running_or_notify_cancel() logs before it raises; the raise is compared.
logging.getLogger("concurrent.futures").setLevel(logging.CRITICAL + 1)


def gen_sequence(rng, length):
    kind = rng.choice(["queue", "lifo", "prio", "simple", "sem", "bsem", "event",
                       "barrier", "cond", "future"])
    if kind in ("queue", "lifo", "prio"):
        arg = rng.choice([0, 1, 2, 3])
        ops = ["put", "put", "put", "get", "get", "qsize", "empty", "full", "task_done"]
        if HAS_SHUTDOWN:
            ops.append("shutdown")
    elif kind == "simple":
        arg, ops = 0, ["put", "put", "get", "get", "qsize", "empty"]
    elif kind in ("sem", "bsem"):
        arg, ops = rng.choice([0, 1, 2, 3]), ["acquire", "acquire", "release", "value"]
    elif kind == "event":
        arg, ops = 0, ["set", "clear", "is_set", "wait0"]
    elif kind == "barrier":
        arg = rng.choice([1, 1, 2, 3])
        ops = ["wait0", "wait0", "abort", "reset", "broken", "n_waiting", "parties"]
    elif kind == "cond":
        arg, ops = 0, ["acquire0", "release", "notify", "notify_all"]
    else:
        arg = 0
        ops = ["cancel", "set_running", "set_result", "set_exception", "done", "cancelled",
               "running", "result0"]
    seq = []
    for _ in range(length):
        op = rng.choice(ops)
        if op in ("put", "set_result"):
            seq.append((op, rng.randint(1, 9)))
        elif op in ("release", "notify"):
            seq.append((op, rng.randint(1, 3)))
        elif op == "shutdown":
            seq.append((op, rng.randint(0, 1)))
        else:
            seq.append((op, None))
    return kind, arg, seq


def exc_name(e):
    if isinstance(e, queue.Full):
        return "Full"
    if isinstance(e, queue.Empty):
        return "Empty"
    if HAS_SHUTDOWN and isinstance(e, queue.ShutDown):
        return "ShutDown"
    if isinstance(e, cf.CancelledError):
        return "CancelledError"
    if isinstance(e, (cf.TimeoutError, TimeoutError)):
        return "TimeoutError"
    if isinstance(e, cf.InvalidStateError):
        return "InvalidStateError"
    return type(e).__name__


def b(x):
    return "1" if x else "0"


def run_python(kind, arg, seq):
    if kind in ("queue", "lifo", "prio"):
        obj = {"queue": queue.Queue, "lifo": queue.LifoQueue,
               "prio": queue.PriorityQueue}[kind](arg)
    elif kind == "simple":
        obj = queue.SimpleQueue()
    elif kind == "sem":
        obj = threading.Semaphore(arg)
    elif kind == "bsem":
        obj = threading.BoundedSemaphore(arg)
    elif kind == "event":
        obj = threading.Event()
    elif kind == "barrier":
        obj = threading.Barrier(arg)
    elif kind == "cond":
        obj = threading.Condition(threading.Lock())
    else:
        obj = cf.Future()
    out = []
    for op, v in seq:
        try:
            out.append(py_op(kind, obj, op, v))
        except Exception as e:  # every error is a result to compare
            out.append(exc_name(e))
    return out


def py_op(kind, obj, op, v):
    if kind in ("queue", "lifo", "prio", "simple"):
        if op == "put":
            obj.put_nowait(v)
            return "ok"
        if op == "get":
            return str(obj.get_nowait())
        if op == "qsize":
            return str(obj.qsize())
        if op == "empty":
            return b(obj.empty())
        if op == "full":
            return b(obj.full())
        if op == "task_done":
            obj.task_done()
            return "ok"
        if op == "shutdown":
            obj.shutdown(immediate=bool(v))
            return "ok"
    if kind in ("sem", "bsem"):
        if op == "acquire":
            return b(obj.acquire(timeout=0))
        if op == "release":
            obj.release(v)
            return "ok"
        if op == "value":
            return str(obj._value)
    if kind == "event":
        if op in ("set", "clear"):
            getattr(obj, op)()
            return "ok"
        if op == "is_set":
            return b(obj.is_set())
        if op == "wait0":
            return b(obj.wait(0))
    if kind == "barrier":
        if op == "wait0":
            return str(obj.wait(0))
        if op in ("abort", "reset"):
            getattr(obj, op)()
            return "ok"
        if op == "broken":
            return b(obj.broken)
        if op == "n_waiting":
            return str(obj.n_waiting)
        if op == "parties":
            return str(obj.parties)
    if kind == "cond":
        if op == "acquire0":
            return b(obj.acquire(True, 0))
        if op == "release":
            obj.release()
            return "ok"
        if op == "notify":
            obj.notify(v)
            return "ok"
        if op == "notify_all":
            obj.notify_all()
            return "ok"
    if kind == "future":
        if op == "cancel":
            return b(obj.cancel())
        if op == "set_running":
            return b(obj.set_running_or_notify_cancel())
        if op in ("set_result", "set_exception"):
            if not obj.running() and not obj.done():
                # The documented difference (see the top of this file).
                raise cf.InvalidStateError()
            if op == "set_result":
                obj.set_result(v)
            else:
                obj.set_exception(ValueError())
            return "ok"
        if op in ("done", "cancelled", "running"):
            return b(getattr(obj, op)())
        if op == "result0":
            try:
                return str(obj.result(timeout=0))
            except (cf.CancelledError, cf.TimeoutError, TimeoutError):
                raise
            except Exception:
                return "Exception"
    raise AssertionError("unknown operation %s on %s" % (op, kind))


def final_ops(kind):
    """What is read after every sequence: the final state."""
    return {"queue": ["qsize", "empty", "full"], "lifo": ["qsize", "empty", "full"],
            "prio": ["qsize", "empty", "full"], "simple": ["qsize", "empty"],
            "sem": ["value"], "bsem": ["value"], "event": ["is_set"],
            "barrier": ["broken", "n_waiting", "parties"], "cond": [],
            "future": ["done", "cancelled", "running", "result0"]}[kind]


def with_final(kind, seq):
    return list(seq) + [(op, None) for op in final_ops(kind)]


def encode(batch):
    lines = []
    for kind, arg, seq in batch:
        lines.append("obj %s %d" % (kind, arg))
        for op, v in with_final(kind, seq):
            lines.append(op if v is None else "%s %d" % (op, v))
        lines.append("---")
    return "\n".join(lines) + "\n"


def run_c(runner, batch):
    p = subprocess.run([runner], input=encode(batch), capture_output=True, text=True,
                       timeout=600)
    if p.returncode != 0:
        sys.exit("diff: %s failed (%d): %s" % (runner, p.returncode, p.stderr))
    results, cur = [], []
    for line in p.stdout.splitlines():
        if line == "---":
            results.append(cur)
            cur = []
        else:
            cur.append(line)
    return results


def differs(runner, kind, arg, seq):
    c = run_c(runner, [(kind, arg, seq)])[0]
    py = run_python(kind, arg, with_final(kind, seq))
    return c != py


def shrink(runner, kind, arg, seq):
    changed = True
    while changed:
        changed = False
        for i in range(len(seq)):
            cand = seq[:i] + seq[i + 1:]
            if differs(runner, kind, arg, cand):
                seq, changed = cand, True
                break
    return seq


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    runner = args[0]
    opts = dict(zip(args[1::2], args[2::2]))
    seed = int(opts.get("--seed", random.randrange(1 << 32)))
    count = int(opts.get("--count", 3000))
    length = int(opts.get("--length", 16))
    rng = random.Random(seed)
    batch = [gen_sequence(rng, rng.randint(1, length)) for _ in range(count)]
    c_results = run_c(runner, batch)
    ops = 0
    for n, ((kind, arg, seq), c) in enumerate(zip(batch, c_results)):
        py = run_python(kind, arg, with_final(kind, seq))
        ops += len(py)
        if c != py:
            small = shrink(runner, kind, arg, seq)
            full = with_final(kind, small)
            c = run_c(runner, [(kind, arg, small)])[0]
            py = run_python(kind, arg, full)
            print("diff: seed %d, sequence %d differs: %s(%d)" % (seed, n, kind, arg))
            print("  the shortest sequence that still differs (the last %d lines read the "
                  "final state):" % len(final_ops(kind)))
            print("  %-22s %-20s %s" % ("operation", "cthreading", "CPython"))
            for (op, v), x, y in zip(full, c, py):
                mark = "" if x == y else "   <-- differs"
                print("  %-22s %-20s %s%s" % (op if v is None else "%s %d" % (op, v), x, y,
                                              mark))
            print("reproduce: %s %s %s --seed %d --count %d --length %d"
                  % (sys.executable, sys.argv[0], runner, seed, count, length))
            return 1
    print("diff: seed %d: %d sequences, %d operations: cthreading and CPython %s agree"
          % (seed, count, ops, sys.version.split()[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
