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

    def run(nthreads, ms):
        """The threads' counts, and the seconds from the first start to
        the last join: under the GIL, starting and stopping threads takes
        whole switch intervals, during which the threads count too."""
        stop = False
        counts = [0] * nthreads

        def count(i):
            n = 0
            while not stop:
                n += 1
            counts[i] = n

        ts = [threading.Thread(target=count, args=(i,)) for i in range(nthreads)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        time.sleep(ms / 1e3)
        stop = True
        for t in ts:
            t.join()
        return counts, time.perf_counter() - t0

    # Four turns each, as the C side takes them, so that drift in the
    # machine's speed hits both sides of total/alone alike.
    counts, alone = [0] * 4, 0
    together_s = alone_s = 0.0
    for _ in range(4):
        c, secs = run(4, ops / 4)
        counts = [a + b for a, b in zip(counts, c)]
        together_s += secs
        c, secs = run(1, ops / 4)
        alone += c[0]
        alone_s += secs
    total = sum(counts)
    share = min(counts) / max(counts)
    ratio = (total / together_s) / (alone / alone_s)
    note = f"min/max share {share:.2f}, total/alone {ratio:.2f} (work per second)"
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
