#!/bin/sh
# Runs the examples in the seed's order, each under a heading.
# Usage: run_demo.sh BINDIR
set -e
bin=${1:?usage: run_demo.sh BINDIR}
run() {
	printf '\n== %s: %s ==\n' "$1" "$2"
	"$bin/$1"
}
run ex1_thread_function "多线程实现 (1) — threads in function style"
run ex2_thread_subclass "多线程实现 (2) — threads in subclass style"
run ex3_stop_flag       "停止线程 (1) — stopping with a flag (takes up to 1 s)"
run ex3b_stop_request   "停止线程 (2) — stopping with a stop request"
run ex4_join_daemon     "join, is_alive and daemon threads"
run ex5_communication   "线程间通信 (1) — a shared counter, ordered by join"
run ex5b_event          "线程间通信 (2) — the same, ordered by an Event"
run ex5c_condition      "线程间通信 (3) — producer and consumer at once, through a Condition"
run ex5d_queue          "线程间通信 (4) — producers and consumers through a Queue"
run ex6_flash_sale      "线程锁 — ten buyers, three items, one Lock"
run ex6b_executor       "线程锁 (2) — the flash sale on a thread pool, futures by as_completed"
run ex6c_with_break     "线程锁 (3) — leaving a loop from inside a with-block"
run ex7_gil             "GIL 机制 — the GIL, measured"
run ex8_hang            "When your program hangs — a lock-order report, a thread dump, a deadlock report"
