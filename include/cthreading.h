/** @file
 * cthreading: Python's threading, queue and concurrent.futures for C.
 *
 * The one header users include. Each module also has its own header under
 * cthreading/.
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
