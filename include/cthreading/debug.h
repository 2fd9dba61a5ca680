/** @file
 * cthreading: when a program hangs or crawls — object names, thread dumps,
 * deadlock detection, a contention profile and a timeline trace.
 */
#ifndef CTHREADING_DEBUG_H
#define CTHREADING_DEBUG_H

#include <stdio.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup debug Debugging: dumps, deadlocks, profile, trace
 *
 * One switch for all of it, read from the environment when the library is
 * loaded (as Go's `GODEBUG` and the sanitizers' `*_OPTIONS`):
 *
 *     CTHREADING=deadlock,dump=SIGQUIT,trace=out.json,profile=prof.txt ./app
 *
 * or the same string from C with ct_debug_configure(). Settings, any subset,
 * separated by commas:
 *
 * - `deadlock`: lock-order inversions (two locks taken in opposite orders
 *   by any threads, even when no deadlock happened) are reported once per
 *   pair, with both orders, the threads, the objects and where each lock
 *   was taken; a blocking acquire of a Lock, RLock or RWLock (write side),
 *   or a join, that would close a cycle of waits is reported at once with
 *   the whole cycle: a timed call then returns CT_EDEADLK, a plain one
 *   aborts the process; a thread acquiring a Lock it already holds is the
 *   cycle of one. A thread notified on a Condition waits to take its lock
 *   back, and a cycle may run through that wait. Every lock a thread holds
 *   is followed, however many (a hold with no memory left to record it is
 *   not, and that is reported once). A cycle in which another thread's
 *   wait has a deadline (a timed acquire or join) is not a certain
 *   deadlock, since that wait will end: a plain acquire closing it reports
 *   it once, naming that wait, and keeps waiting; a timed one still
 *   returns CT_EDEADLK (a notified Condition's waiter takes its lock back
 *   whatever its timeout: that wait has no deadline). A wait or hold
 *   recorded before the recording was last switched off is not followed
 *   (it may have ended unseen). `deadlock=report` reports and keeps
 *   waiting instead.
 * - `dump=SIGQUIT` (any signal name of POSIX and Linux, with or without
 *   `SIG`; `RTMIN`, `RTMIN+n`, `RTMAX`, `RTMAX-n`; or a number; SIGKILL and
 *   SIGSTOP are refused, as they cannot be caught): a thread dump
 *   (ct_dump()) on that signal. The handler only wakes a dumper thread;
 *   the dump is written there. A fork child dumps itself on the signal,
 *   with a dumper thread of its own, never its parent. `off`, or `dump=`
 *   on another signal, gives the signal back the handler it had before
 *   (unless the program has set one of its own since). It turns on the
 *   recording of waits and holds (at `deadlock`'s cost on the lock fast
 *   paths).
 * - `trace=FILE`: a timeline in Chrome's Trace Event Format (chrome://tracing,
 *   https://ui.perfetto.dev): one track per thread with its name, a span for
 *   every wait (object, outcome), for every lock held 10 µs or more, for
 *   every time a thread held or waited for a GIL, and for every executor
 *   task a worker ran (named by its future's name, else its function, with
 *   its queueing delay) and every run of a map's items by a worker ("map"
 *   and the function); a counter ("ph":"C") of each queue's depth after
 *   every successful put and get (a SimpleQueue's put, lock-free and
 *   reentrant, records it only on a thread that has a trace buffer
 *   already, as it may not allocate one). Written at exit and by
 *   ct_trace_write(); tools/timeline.py draws it as a picture. A future's
 *   name counts if it was given before its task ended; an object destroyed
 *   before the trace is written is named by the name it had then.
 * - `profile=FILE` (`profile` alone: stderr): per object, acquisitions,
 *   contended acquisitions (every wait for the lock, with its time, also
 *   one that gave up: how many timed out and how many were stopped), total
 *   and longest wait, total hold time (an RWLock writer's from when its
 *   readers are gone), and waits on every other object (conditions,
 *   events...): a queue's split into gets waiting on empty and puts
 *   waiting on full, an RWLock's into readers' waits and a writer's waits
 *   for readers to leave, the GIL's with its hold time, a join's under the
 *   joined thread's name at its last join (a thread that renames itself
 *   keeps one entry); per executor, its tasks' count, run time (total,
 *   longest) and queueing delay from submit to start (total, longest).
 *   Sorted by total wait. Written at exit and by ct_profile_report(). An
 *   object destroyed before then is named by the name it had; a named
 *   object's counts end with it (an object at its address later has an
 *   entry of its own) and are added to those of the destroyed objects of
 *   its kind and name, one line for them all ("(N destroyed)" after the
 *   name when more than one); they never take a live object's room.
 * - `log=FILE`: where reports and signal dumps go: a file (appended to),
 *   `stdout`, or `-` for stderr (the default).
 * - `off`: everything off again (the dump signal's handler too).
 *
 * An unknown setting is reported once on stderr, never ignored silently.
 * While everything is off, each fast path pays one load and a branch not
 * taken. With `deadlock`, `trace` or `profile` on, every acquire and release
 * of a Lock, RLock and RWLock's write side goes out of line (the read side
 * is not followed). The static library is one object: a static link keeps
 * this layer however the program is linked.
 * @{
 */

/** Applies @p settings (the syntax of `CTHREADING` above) on top of the
 *  current ones. Returns 0, CT_EINVAL for NULL or when a setting was not
 *  understood or was refused (`dump=SIGKILL`; reported on stderr, with
 *  the reason; the others still apply), CT_ENOMEM, or
 *  the negated errno of a setting understood but not applied, such as a
 *  `log=` file that cannot be opened (-ENOENT; reported on stderr too). */
CT_API int ct_debug_configure(const char *settings);

/** Names any cthreading object (lock, rlock, condition, semaphore, event,
 *  barrier, latch, rwlock, queue, executor, GIL, thread handle...) for every
 *  report, dump and trace, without making it bigger: the name is copied
 *  into a side table keyed by the address and dropped when the object is
 *  destroyed (a trace or profile written later keeps a copy for what it
 *  recorded of the object). NULL @p name forgets it. Errors: CT_EINVAL (NULL object),
 *  CT_ENOMEM. */
CT_API int ct_object_set_name(const void *object, const char *name);

/** Copies the name given to @p object into @p buf (at most @p size bytes,
 *  terminated) and returns its length, or 0 if it has none (or @p object is
 *  NULL). */
CT_API size_t ct_object_get_name(const void *object, char *buf, size_t size);

/** Writes a thread dump to @p out: every thread known to cthreading, with
 *  its name, ident, native id ("not yet known" for a thread started a
 *  moment ago that has not stored it), daemon flag, state (running,
 *  waiting, sleeping), what it waits on and for how long, what it holds
 *  (Lock, RLock and its depth, RWLock's write side, each with where the
 *  program took it: its call of the acquire, the try, or the Condition
 *  wait that took it back; the GIL), who holds what it waits for (a
 *  Lock's, RLock's, RWLock writer's or GIL's holder, the thread joined; an
 *  RWLock held for reading: how many readers, not which threads, as the
 *  read side's inline fast path is not followed); then a deadlock section
 *  for each cycle of waits. The state, the object a waiting thread is
 *  parked on and the GIL each thread holds are always known; what it
 *  waits for by kind and name, for how long, the rest of what each thread
 *  holds and the deadlock section are recorded while `dump`, `deadlock`,
 *  `trace` or `profile` is on. A dump made while none is says so and
 *  shows nothing recorded: a wait or hold may have ended unseen since.
 *  Once one is on again, only what began since is shown: a thread whose
 *  wait began before shows where it is parked, and a lock taken before is
 *  not shown as held (its waiters see "holder not known").
 *  Returns 0, CT_EINVAL (NULL) or CT_ENOMEM (no memory for the report's
 *  tables: nothing is written). */
CT_API int ct_dump(FILE *out);

/** Writes the contention profile gathered so far to @p out (see
 *  `profile`). Returns 0 or CT_EINVAL (NULL). */
CT_API int ct_profile_report(FILE *out);

/** Writes the trace gathered so far (see `trace`) to the file @p path.
 *  Returns 0, CT_EINVAL (NULL), or -errno if the file could not be
 *  written. */
CT_API int ct_trace_write(const char *path);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_DEBUG_H */
