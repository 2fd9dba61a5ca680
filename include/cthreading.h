/** @file
 * cthreading: Python's threading, queue and concurrent.futures for C.
 *
 * The one header users include. Each module also has its own header under
 * cthreading/.
 */

/** @mainpage cthreading API reference
 *
 * Python's `threading`, `queue` and `concurrent.futures` (the thread half),
 * written in C for C programs, plus a GIL runtime. One include gives it
 * all: `#include <cthreading.h>`. The headers compile as C++ too (C++11
 * and later, GCC or Clang; see @ref common).
 *
 * The modules, each under its Python name: @ref common (errors, timeouts,
 * version, the `with` block), @ref thread, @ref lock, @ref rlock,
 * @ref condition, @ref semaphore, @ref event, @ref barrier, @ref timer,
 * @ref local, @ref queue, @ref simplequeue, @ref executor, @ref future,
 * @ref gil; beyond Python, @ref once, @ref rwlock and @ref latch.
 *
 * Every entry says what it does, its errors, its Python counterpart,
 * whether a stop request interrupts it and whether it releases the
 * caller's GIL. The tutorial (docs/tutorial.md, docs/tutorial.zh-CN.md)
 * and the Python-to-C table (docs/python-to-c.md) live beside the sources.
 *
 * **fork().** The child of a fork() can use, and destroy, every object it
 * inherited, whatever the parent's other threads were doing in it at the
 * instant of the fork: blocked in it (a get, a put, a join, a wait, a
 * barrier, a write acquire, a once) or in the middle of an operation. Only
 * the forking thread exists in the child; the objects forget the others.
 * The exception, as in Python: a Lock, RLock, read share or write lock of
 * a reader-writer lock, or semaphore unit held by a thread that is gone
 * stays held. What the executor does is in @ref executor; a once whose
 * function was running in a gone thread runs it again. fork() itself may
 * wait a few microseconds, for threads inside the library's short critical
 * sections (a priority queue's comparison function runs in one: it must
 * not block, start threads nor fork).
 */
#ifndef CTHREADING_H
#define CTHREADING_H

#include "cthreading/barrier.h"
#include "cthreading/common.h"
#include "cthreading/condition.h"
#include "cthreading/debug.h"
#include "cthreading/event.h"
#include "cthreading/executor.h"
#include "cthreading/future.h"
#include "cthreading/gil.h"
#include "cthreading/latch.h"
#include "cthreading/local.h"
#include "cthreading/lock.h"
#include "cthreading/once.h"
#include "cthreading/queue.h"
#include "cthreading/rlock.h"
#include "cthreading/rwlock.h"
#include "cthreading/semaphore.h"
#include "cthreading/thread.h"
#include "cthreading/timer.h"

#endif /* CTHREADING_H */
