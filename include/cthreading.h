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
 */
#ifndef CTHREADING_H
#define CTHREADING_H

#include "cthreading/barrier.h"
#include "cthreading/common.h"
#include "cthreading/condition.h"
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
