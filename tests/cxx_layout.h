/* The layout of every public struct, as C sees it and as C++ sees it.
 *
 * cxx_layout.c is compiled twice: as C (ct_layout_c) and, through
 * cxx_layout.cpp, as C++ (ct_layout_cxx). Each reports, for every public
 * struct, its size and alignment and, for every member (the private ones
 * first of all: that is where C has _Atomic and C++ a plain type), its
 * offset, size and alignment; ct_layout_mismatches() compares the two
 * lists. A difference means the two languages disagree about the ABI. */
#ifndef CT_TEST_CXX_LAYOUT_H
#define CT_TEST_CXX_LAYOUT_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* STRUCT(type) and MEMBER(type, member) for all of them. */
#define CT_LAYOUT_TABLE(STRUCT, MEMBER)              \
	STRUCT(ct_lock_t)                            \
	MEMBER(ct_lock_t, ct__state)                 \
	STRUCT(ct_rlock_t)                           \
	MEMBER(ct_rlock_t, ct__lock)                 \
	MEMBER(ct_rlock_t, ct__depth)                \
	MEMBER(ct_rlock_t, ct__owner)                \
	STRUCT(ct_condition_t)                       \
	MEMBER(ct_condition_t, ct__waiters)          \
	MEMBER(ct_condition_t, ct__kind)             \
	MEMBER(ct_condition_t, ct__lock)             \
	MEMBER(ct_condition_t, ct__own)              \
	STRUCT(ct_semaphore_t)                       \
	MEMBER(ct_semaphore_t, ct__state)            \
	MEMBER(ct_semaphore_t, ct__bound)            \
	STRUCT(ct_event_t)                           \
	MEMBER(ct_event_t, ct__state)                \
	STRUCT(ct_barrier_t)                         \
	MEMBER(ct_barrier_t, ct__lock)               \
	MEMBER(ct_barrier_t, ct__epoch)              \
	MEMBER(ct_barrier_t, ct__state)              \
	MEMBER(ct_barrier_t, ct__count)              \
	MEMBER(ct_barrier_t, ct__parties)            \
	MEMBER(ct_barrier_t, ct__action)             \
	MEMBER(ct_barrier_t, ct__arg)                \
	MEMBER(ct_barrier_t, ct__timeout)            \
	STRUCT(ct_latch_t)                           \
	MEMBER(ct_latch_t, ct__state)                \
	STRUCT(ct_rwlock_t)                          \
	MEMBER(ct_rwlock_t, ct__writers)             \
	MEMBER(ct_rwlock_t, ct__state)               \
	STRUCT(ct_once_t)                            \
	MEMBER(ct_once_t, ct__state)                 \
	MEMBER(ct_once_t, ct__runner)                \
	STRUCT(ct_local_t)                           \
	MEMBER(ct_local_t, ct__slot)                 \
	MEMBER(ct_local_t, ct__dtor)                 \
	STRUCT(ct_gil_t)                             \
	MEMBER(ct_gil_t, ct__state)                  \
	MEMBER(ct_gil_t, ct__drop)                   \
	MEMBER(ct_gil_t, ct__holder)                 \
	MEMBER(ct_gil_t, ct__waiters)                \
	MEMBER(ct_gil_t, ct__next)                   \
	MEMBER(ct_gil_t, ct__interval_ns)            \
	MEMBER(ct_gil_t, ct__slice_start)            \
	MEMBER(ct_gil_t, ct__last_holder)            \
	MEMBER(ct_gil_t, ct__stats)                  \
	STRUCT(ct_gil_stats_t)                       \
	MEMBER(ct_gil_stats_t, acquisitions)         \
	MEMBER(ct_gil_stats_t, switches)             \
	MEMBER(ct_gil_stats_t, forced_drops)         \
	MEMBER(ct_gil_stats_t, drop_requests)        \
	MEMBER(ct_gil_stats_t, priority_requests)    \
	MEMBER(ct_gil_stats_t, yields)               \
	MEMBER(ct_gil_stats_t, total_wait_ns)        \
	MEMBER(ct_gil_stats_t, longest_wait_ns)      \
	STRUCT(ct_queue_opts)                        \
	MEMBER(ct_queue_opts, maxsize)               \
	MEMBER(ct_queue_opts, kind)                  \
	MEMBER(ct_queue_opts, compare)               \
	MEMBER(ct_queue_opts, free_item)             \
	STRUCT(ct_queue_t)                           \
	MEMBER(ct_queue_t, ct__ring)                 \
	MEMBER(ct_queue_t, ct__lock)                 \
	MEMBER(ct_queue_t, ct__shut)                 \
	MEMBER(ct_queue_t, ct__kind)                 \
	MEMBER(ct_queue_t, ct__storage)              \
	MEMBER(ct_queue_t, ct__count)                \
	MEMBER(ct_queue_t, ct__maxsize)              \
	MEMBER(ct_queue_t, ct__buf)                  \
	MEMBER(ct_queue_t, ct__cap)                  \
	MEMBER(ct_queue_t, ct__head)                 \
	MEMBER(ct_queue_t, ct__seq)                  \
	MEMBER(ct_queue_t, ct__unfinished)           \
	MEMBER(ct_queue_t, ct__getters)              \
	MEMBER(ct_queue_t, ct__putters)              \
	MEMBER(ct_queue_t, ct__joiners)              \
	MEMBER(ct_queue_t, ct__compare)              \
	MEMBER(ct_queue_t, ct__free_item)            \
	STRUCT(ct_simplequeue_t)                     \
	MEMBER(ct_simplequeue_t, ct__tail)           \
	MEMBER(ct_simplequeue_t, ct__tail_seg)       \
	MEMBER(ct_simplequeue_t, ct__pad1)           \
	MEMBER(ct_simplequeue_t, ct__get_lock)       \
	MEMBER(ct_simplequeue_t, ct__head)           \
	MEMBER(ct_simplequeue_t, ct__head_seg)       \
	MEMBER(ct_simplequeue_t, ct__spare)          \
	STRUCT(ct_thread_t)                          \
	MEMBER(ct_thread_t, ct__impl)                \
	STRUCT(ct_thread_opts)                       \
	MEMBER(ct_thread_opts, name)                 \
	MEMBER(ct_thread_opts, daemon)               \
	MEMBER(ct_thread_opts, stack_size)           \
	MEMBER(ct_thread_opts, run)                  \
	MEMBER(ct_thread_opts, gil)                  \
	STRUCT(ct_excepthook_args)                   \
	MEMBER(ct_excepthook_args, thread)           \
	MEMBER(ct_excepthook_args, status)           \
	STRUCT(ct_timer_t)                           \
	MEMBER(ct_timer_t, thread)                   \
	MEMBER(ct_timer_t, ct__finished)             \
	MEMBER(ct_timer_t, ct__interval)             \
	MEMBER(ct_timer_t, ct__function)             \
	MEMBER(ct_timer_t, ct__arg)                  \
	STRUCT(ct_executor_t)                        \
	MEMBER(ct_executor_t, ct__impl)              \
	STRUCT(ct_executor_opts)                     \
	MEMBER(ct_executor_opts, max_workers)        \
	MEMBER(ct_executor_opts, thread_name_prefix) \
	MEMBER(ct_executor_opts, initializer)        \
	MEMBER(ct_executor_opts, initarg)            \
	STRUCT(ct_as_completed_t)                    \
	MEMBER(ct_as_completed_t, ct__impl)          \
	STRUCT(enum ct_error)                        \
	STRUCT(ct_queue_kind)                        \
	STRUCT(enum ct_return_when)

/* One number of the layout: "ct_lock_t.ct__state offset" and its value. */
struct ct_layout_row {
	const char *what;
	size_t value;
};

/* The rows as the C compiler sees them, and as the C++ compiler does;
 * each returns how many. */
size_t ct_layout_c(const struct ct_layout_row **rows);
size_t ct_layout_cxx(const struct ct_layout_row **rows);

/* Prints every difference between the two to @p out; returns their
 * number (a different row count is one more). */
int ct_layout_mismatches(FILE *out);

#ifdef __cplusplus
}
#endif

#endif /* CT_TEST_CXX_LAYOUT_H */
