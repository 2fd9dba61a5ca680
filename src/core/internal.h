/* Internal helpers shared by every module: time, spinning, allocation.
 *
 * Nothing here is exported from the shared library (-fvisibility=hidden);
 * tests reach it by linking the static library.
 */
#ifndef CT_INTERNAL_H
#define CT_INTERNAL_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cthreading/common.h"

/* A deadline that never comes. */
#define CT__NO_DEADLINE INT64_MAX

/* The library's thread-local variables live in the initial TLS block:
 * reached without a call into the dynamic loader, even from the shared
 * library (which is meant to be linked, not dlopen()ed late). */
#if defined(__GNUC__)
#define CT__TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define CT__TLS_MODEL
#endif

/* Nanoseconds on CLOCK_MONOTONIC: the only clock any wait looks at, so that
 * setting the wall clock never shortens or stretches a timeout. */
static inline int64_t ct__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The absolute CLOCK_MONOTONIC time of a finite deadline, for the kernel
 * and pthreads. False for CT__NO_DEADLINE, and for a deadline beyond what
 * time_t holds (a 32-bit time_t: CLOCK_MONOTONIC counts from boot, so that
 * is over 68 years away): the caller then sleeps with no time limit rather
 * than pass a wrapped, perhaps negative, tv_sec. */
static inline bool ct__deadline_timespec(int64_t deadline, struct timespec *ts)
{
	int64_t sec = deadline / 1000000000;
	if (deadline == CT__NO_DEADLINE || (sizeof(time_t) < sizeof(int64_t) && sec > INT32_MAX))
		return false;
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = (long)(deadline % 1000000000);
	return true;
}

/* Converts a relative timeout in seconds (the API's unit) into an absolute
 * deadline, once, at the API boundary. CT_FOREVER means none; 0 gives a
 * deadline already in the past (try once). Any other negative value and
 * NaN are CT_EINVAL, anything beyond CT_TIMEOUT_MAX is CT_ETOOLARGE; the
 * sum saturates instead of overflowing. */
int ct__deadline(double timeout, int64_t *deadline);

/* The prologue of every timed call on an object: CT_EINVAL for a NULL
 * object, else ct__deadline(). */
static inline int ct__object_deadline(const void *object, double timeout, int64_t *deadline)
{
	return CT__UNLIKELY(object == NULL) ? CT_EINVAL : ct__deadline(timeout, deadline);
}

/* True for the codes ct_strerror() knows, other than 0. */
bool ct__is_error_code(int code);

/* True once the deadline has passed. Reads the clock only for a finite one. */
static inline int ct__expired(int64_t deadline)
{
	return deadline != CT__NO_DEADLINE && ct__now_ns() >= deadline;
}

/* One polite spin iteration: tells the CPU we are busy-waiting. */
static inline void ct__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	/* Seq_cst on purpose, though only a compiler barrier: the spin's next load of the
	 * watched word may not be hoisted out of the loop. */
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* How many relax iterations a waiter may spin before it parks: 0 where
 * the process may run on one CPU only, as the thread it waits for cannot
 * run meanwhile. */
extern unsigned ct__spin_limit;

/* The time that limit is calibrated to at load: about as long as a futex
 * wake-up takes to arrive on a virtual machine, so a wait that ends within
 * it costs no syscall on either side. */
#define CT__SPIN_NS 5000

/* The CPUs the process may run on (its affinity mask, else the CPUs
 * online), as the library found them when it was loaded. */
extern unsigned ct__cpus;
/* The same, now (Python 3.13's os.process_cpu_count()); 0 or less if the
 * system cannot tell. */
long ct__usable_cpus(void);

/* The longest a wake-up counts for, and the longest long spin
 * (core/spin.c): 50 us. */
#define CT__SPIN_MAX_NS 50000

/* The running average of how long a woken thread took to run again
 * (core/spin.c), fed by the parkers; 0 until one slept. On a cache line
 * of its own: every wake-up from a sleep may write it, and the globals
 * beside it (the spin limit, fork's gate) are read on every wait. */
struct ct__wake_avg {
	alignas(64) _Atomic int64_t ns;
	char pad[64 - sizeof(int64_t)];
};
extern struct ct__wake_avg ct__wake;
void ct__wake_seen(int64_t ns);

/* The rounds of a spin as long as two wake-ups take on this machine, at
 * least ct__spin_limit and at most CT__SPIN_MAX_NS worth (0 on one CPU):
 * for a thread with nothing else to do, waiting for what it cannot see
 * coming (core/spin.c says why two). */
unsigned ct__spin_wake_rounds(void);
/* The same spin in nanoseconds: twice the average, within CT__SPIN_NS and
 * CT__SPIN_MAX_NS. */
int64_t ct__spin_wake_ns(void);

/* Allocation. Every allocation of the library goes through these, so that
 * tests can make the n-th one fail (see fault.h). */
void *ct__malloc(size_t size);
void *ct__calloc(size_t n, size_t size);
void *ct__realloc(void *p, size_t size);
/* @p size bytes at a multiple of @p align (a power of two, at least
 * sizeof(void *)); freed with ct__free. */
void *ct__aligned_alloc(size_t align, size_t size);
void ct__free(void *p);
char *ct__strdup(const char *s);

#if defined(__GNUC__)
#define CT__NOINLINE __attribute__((noinline))
#define CT__COLD __attribute__((cold))
#else
#define CT__NOINLINE
#define CT__COLD
#endif

#endif /* CT_INTERNAL_H */
