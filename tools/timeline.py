#!/usr/bin/env python3
"""Turns a cthreading trace (CTHREADING=trace=FILE, Chrome's Trace Event
Format) into a timeline picture: one row per thread, a box for each span in
which the thread held the GIL, waited for the GIL, waited on a queue or on
anything else, and a thin band above the boxes while it ran an executor's
task. Lock holds and the queue depth counters are left out of the picture
(Perfetto shows them).

    tools/timeline.py TRACE.json -o OUT.png [--only gil|queue] [--cluster N]
                      [--gap MS] [--title TEXT] [--emit FILE]

Below the rows, a panel shows each queue's depth (its counter events) over
the same time. A row is a thread with at least one event (one that only put to or got from
a queue without waiting has an empty row). --only gil keeps the threads
that held or waited for the GIL (--only queue: that waited on a queue).
--cluster N keeps the N-th group of those threads (1 is the earliest): a
thread joins a group when its first event comes less than --gap ms (10)
after the group's last, so that one part of a program fills the picture. --emit FILE writes gnuplot's input there instead
of running gnuplot. Without gnuplot on the PATH, the picture is skipped
with a message (exit status 0). Only python3's standard library is used.
"""
import argparse
import json
import shutil
import subprocess
import sys

# (category, legend, colour, low, high): the box's height within its row.
# Drawn in this order: a wait for the GIL inside another wait (a thread
# woken takes the GIL back before its wait ends) shows on top of it.
CATEGORIES = [
    ("other_wait", "waits on something else", "#9e9e9e", -0.3, 0.3),
    ("queue_wait", "waits on a queue", "#fb8c00", -0.3, 0.3),
    ("gil_wait", "waits for the GIL", "#e53935", -0.3, 0.3),
    ("gil_hold", "holds the GIL", "#2e7d32", -0.3, 0.3),
    ("task", "runs a task", "#1e88e5", 0.32, 0.42),
]


def category(event):
    """The picture's category of a trace event, or None to leave it out."""
    if event.get("ph") != "X":
        return None
    cat = event.get("cat")
    kind = event.get("args", {}).get("kind")
    if cat == "task":
        return "task"
    if cat == "hold":
        return "gil_hold" if kind == "gil" else None
    if cat == "wait":
        if kind == "gil":
            return "gil_wait"
        if kind == "queue":
            return "queue_wait"
        return "other_wait"
    return None


def counters_of(trace, t0, t1):
    """{counter name: [(ts us, value)]} of the events between t0 and t1."""
    out = {}
    for e in trace.get("traceEvents", []):
        if e.get("ph") == "C" and t0 <= float(e["ts"]) <= t1:
            for value in e.get("args", {}).values():
                out.setdefault(e["name"], []).append((float(e["ts"]), float(value)))
    for points in out.values():
        points.sort()
    return out


def rows_of(trace, only, cluster, gap_us):
    """[(thread name, [(category, start us, end us)])], earliest first."""
    names = {}
    spans = {}
    for e in trace.get("traceEvents", []):
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[e["tid"]] = e.get("args", {}).get("name", str(e["tid"]))
            continue
        if "ts" not in e:
            continue
        start = float(e["ts"])
        # (None, t, t): an event that draws nothing, for the row's extent.
        spans.setdefault(e["tid"], []).append((category(e), start, start + float(e.get("dur", 0))))
    wanted = {"gil": ("gil_hold", "gil_wait"), "queue": ("queue_wait",)}.get(only)
    threads = []
    for tid, s in spans.items():
        if wanted and not any(c in wanted for c, _, _ in s):
            continue
        s.sort(key=lambda x: (x[1], x[2], x[0] or ""))
        threads.append((min(x[1] for x in s), max(x[2] for x in s), tid, s))
    threads.sort(key=lambda t: (t[0], t[2]))
    if cluster:
        groups = []
        for t in threads:
            if groups and t[0] <= groups[-1][0] + gap_us:
                groups[-1][0] = max(groups[-1][0], t[1])
                groups[-1][1].append(t)
            else:
                groups.append([t[1], [t]])
        if cluster > len(groups):
            sys.exit("timeline: no group %d (the trace has %d)" % (cluster, len(groups)))
        threads = groups[cluster - 1][1]
    return [(names.get(tid, str(tid)), s) for _, _, tid, s in threads]


def quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gnuplot_input(rows, counters, t0, t1, output, title):
    """gnuplot's script and data, as one text."""
    n = len(rows)
    height = 120 + 34 * n
    panel = 160 if counters else 0
    out = [
        'set terminal pngcairo size 1000,%d font "sans,10"' % (height + panel),
        "set output %s" % quote(output),
        "set termoption noenhanced",
        "set multiplot",
        "set lmargin 20",
        "set rmargin 3",
        "set size 1,%.4f" % (height / (height + panel)),
        "set origin 0,%.4f" % (panel / (height + panel)),
        "set title %s" % quote(title),
        'set xlabel "time (ms)"',
        "set xrange [0:%.3f]" % ((t1 - t0) / 1e3),
        "set yrange [%d.5:-0.5]" % (n - 1),
        "set ytics (%s)" % ", ".join("%s %d" % (quote(name), i) for i, (name, _) in enumerate(rows)),
        "set grid xtics",
        "set style fill solid 1.0 noborder",
        "set key outside below horizontal",
    ]
    plots = []
    for cat, legend, colour, low, high in CATEGORIES:
        lines = []
        for i, (_, spans) in enumerate(rows):
            for c, start, end in spans:
                if c != cat:
                    continue
                a, b = (start - t0) / 1e3, (end - t0) / 1e3
                # x y xlow xhigh ylow yhigh; y grows downwards, the band above.
                lines.append("%.3f %d %.3f %.3f %.2f %.2f" % ((a + b) / 2, i, a, b, i - high, i - low))
        if not lines:
            continue
        out.append("$%s << EOD" % cat)
        out.extend(lines)
        out.append("EOD")
        plots.append('$%s using 1:2:3:4:5:6 with boxxyerror lc rgb "%s" title %s' % (cat, colour, quote(legend)))
    out.append("plot " + ", \\\n     ".join(plots))
    if counters:
        out += [
            "set size 1,%.4f" % (panel / (height + panel)),
            "set origin 0,0",
            "unset title",
            "unset xlabel",
            "set autoscale y",
            "set yrange [0:*]",
            "set offsets 0, 0, graph 0.3, 0",
            "set ytics auto",
            'set ylabel "depth"',
            "set key inside top right",
        ]
        plots = []
        for k, name in enumerate(sorted(counters)):
            out.append("$depth%d << EOD" % k)
            out.extend("%.3f %g" % ((ts - t0) / 1e3, v) for ts, v in counters[name])
            out.append("EOD")
            plots.append("$depth%d using 1:2 with steps lw 2 title %s" % (k, quote(name)))
        out.append("plot " + ", \\\n     ".join(plots))
    out.append("unset multiplot")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description="A timeline picture of a cthreading trace.")
    p.add_argument("trace")
    p.add_argument("-o", "--output", default="timeline.png")
    p.add_argument("--only", choices=["gil", "queue"])
    p.add_argument("--cluster", type=int, default=0)
    p.add_argument("--gap", type=float, default=10.0)
    p.add_argument("--title", default=None)
    p.add_argument("--emit", help="write gnuplot's input to this file instead of running gnuplot")
    a = p.parse_args()
    with open(a.trace, encoding="utf-8") as f:
        trace = json.load(f)
    rows = rows_of(trace, a.only, a.cluster, a.gap * 1e3)
    if not rows:
        sys.exit("timeline: nothing to draw in %s" % a.trace)
    t0 = min(s[1] for _, spans in rows for s in spans)
    t1 = max(s[2] for _, spans in rows for s in spans)
    counters = counters_of(trace, t0, t1)
    text = gnuplot_input(rows, counters, t0, t1, a.output, a.title if a.title is not None else a.trace)
    if a.emit:
        with open(a.emit, "w", encoding="utf-8") as f:
            f.write(text)
        return 0
    if not shutil.which("gnuplot"):
        print("timeline: gnuplot is not installed: %s not drawn" % a.output)
        return 0
    subprocess.run(["gnuplot"], input=text, text=True, check=True)
    print("timeline: %s" % a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
