"""GIL workloads on CPython's own GIL (the python3 running this file)."""
import threading
import time

_SLEEP_NS = 100_000


def gil_io_latency(ops):
    """ops sleeps of 100 us next to a thread spinning in a while loop: the
    sum of what each took beyond 100 us."""
    stop = False

    def cpu_bound():
        while not stop:
            pass

    t = threading.Thread(target=cpu_bound)
    t.start()
    extra = worst = 0
    for _ in range(ops):
        t0 = time.perf_counter_ns()
        time.sleep(_SLEEP_NS / 1e9)
        e = time.perf_counter_ns() - t0 - _SLEEP_NS
        extra += e
        worst = max(worst, e)
    stop = True
    t.join()
    return extra, f"worst {worst / 1e3:.0f} µs"


def gil_cpu_fairness(ops):
    """4 counting threads for ops milliseconds: ns per unit of work, and
    the shares (as the C side reports them)."""

    def run(nthreads):
        stop = False
        counts = [0] * nthreads

        def count(i):
            n = 0
            while not stop:
                n += 1
            counts[i] = n

        ts = [threading.Thread(target=count, args=(i,)) for i in range(nthreads)]
        for t in ts:
            t.start()
        time.sleep(ops / 1e3)
        stop = True
        for t in ts:
            t.join()
        return counts

    counts = run(4)
    alone = run(1)[0]
    total = sum(counts)
    share = min(counts) / max(counts)
    note = f"min/max share {share:.2f}, total/alone {total / alone:.2f}"
    return ops * 1e6 * ops / total, note


def gil_handoff(ops):
    """Two threads passing the GIL with time.sleep(0). CPython takes
    milliseconds per pass at times, so at most 500 round trips are run and
    the time scaled to ops."""
    rounds = min(ops, 500)
    turn = [0]

    def player(me):
        for _ in range(rounds):
            while turn[0] != me:
                time.sleep(0)
            turn[0] = 1 - me

    ts = [threading.Thread(target=player, args=(i,)) for i in range(2)]
    t0 = time.perf_counter_ns()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return (time.perf_counter_ns() - t0) * ops / rounds, "time.sleep(0) ping-pong"


def gil_resume_bound(ops):
    """A thread calling time.sleep(0) (which releases the GIL and takes it
    back) in a loop next to a counting thread: both counts are sampled over
    ops milliseconds once under way. Returns ns per turn of the loop, and
    what the counting thread keeps."""

    def sample(with_loop):
        stop = False
        counts = [0, 0]

        def count():
            n = 0
            while not stop:
                n += 1
                counts[0] = n

        def loop():
            n = 0
            while not stop:
                time.sleep(0)
                n += 1
                counts[1] = n

        ts = [threading.Thread(target=count)]
        if with_loop:
            ts.append(threading.Thread(target=loop))
        for t in ts:
            t.start()
        time.sleep(0.02)
        c0, l0 = counts
        time.sleep(ops / 1e3)
        c1, l1 = counts
        stop = True
        for t in ts:
            t.join()
        return c1 - c0, l1 - l0

    alone, _ = sample(False)
    counted, turns = sample(True)
    turns = max(turns, 1)
    note = f"the CPU-bound thread keeps {counted / alone:.2f}; {turns * 1e3 / ops:.0f} turns/s"
    return ops * 1e6 * ops / turns, note
