/* The spinning policy: how long a waiter may spin before it parks.
 *
 * One limit for every spin loop of the library, calibrated once at load:
 * none on a single CPU, where the thread being waited for cannot run while
 * we spin; elsewhere about as long as a futex wake-up takes to arrive on a
 * virtual machine (CT__SPIN_NS), so that a wait that ends within it costs
 * no system call on either side. The loop count comes from timing the
 * CPU's own pause instruction, so the policy follows the machine it runs
 * on rather than the one it was tuned on. Under it, each thread's own
 * budget adapts to how long its waits last (park/waiter.h,
 * ct__spin_budget).
 *
 * A second measure, taken while the program runs: how long a sleeping
 * thread takes to run again once woken (ct__wake.ns). On one 2-CPU VM it
 * ranged from about 1 us to beyond 50 us from one run to the next,
 * depending on where the threads ran.
 * A thread with nothing else to do that waits for something it cannot
 * see coming (an idle worker of a pool waiting for the next task, a map's
 * caller waiting for its items) may spin up to twice as long as a wake-up
 * takes there, within 5 to 50 us (ct__spin_wake_ns): a wait that ends
 * within that costs no more than its own length, and a longer one at most
 * three wake-ups. The classic bound for spin-then-block (spin one
 * wake-up, then sleep) pays two wake-ups for every wait between one and
 * two, which is what these waits often are: a wait for a map of 1000
 * trivial items (35 us on a 2-CPU Intel VM whose wake-ups took 25-35 us)
 * slept at every map, and its worker, waiting for the next map, as
 * often: 45-55 ns an item where two wake-ups' spin gave 33-35. That
 * bound counts the waiter's time, not the CPU's: each thread's long spin
 * is a budget that shrinks, down to the short spin, while its waits
 * outlast it (park/waiter.h, ct__spin_wake_until), so a thread whose
 * waits are long burns no more than it did with the short spin.
 *
 * "CPUs" are the ones the process may run on (its affinity mask, as
 * taskset sets it), not the machine's: a process held to one CPU never
 * spins, since the thread it waits for cannot run meanwhile.
 */
#include <sched.h>
#include <stdalign.h>
#include <unistd.h>

#include "core/internal.h"

unsigned ct__spin_limit;
unsigned ct__cpus = 1;
struct ct__wake_avg ct__wake;

long ct__usable_cpus(void)
{
#ifdef CPU_COUNT
	cpu_set_t set;
	/* GCOVR_EXCL_BR_START: a kernel that refuses sched_getaffinity() on the calling process, or
	 * a machine with more CPUs than a cpu_set_t holds */
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		/* GCOVR_EXCL_BR_STOP */
		return CPU_COUNT(&set);
#endif
	/* GCOVR_EXCL_START: as above */
	return sysconf(_SC_NPROCESSORS_ONLN);
	/* GCOVR_EXCL_STOP */
}

static unsigned calibrate_spin(void)
{
	long cpus = ct__usable_cpus();
	ct__cpus = cpus > 1 ? (unsigned)cpus : 1;
	if (cpus <= 1)
		return 0;
	enum { PROBE = 256 };
	int64_t t0 = ct__now_ns();
	for (int i = 0; i < PROBE; i++)
		ct__cpu_relax();
	int64_t dt = ct__now_ns() - t0;
	/* GCOVR_EXCL_BR_START: 256 pauses never take 0 ns on a monotonic clock */
	if (dt <= 0)
		dt = 1;
	/* GCOVR_EXCL_BR_STOP */
	int64_t iters = (int64_t)CT__SPIN_NS * PROBE / dt;
	/* GCOVR_EXCL_BR_START: a calibration above the cap needs a pause hundreds of times faster
	 * than any CPU's */
	return (unsigned)(iters < 64 ? 64 : iters > 100000 ? 100000 : iters);
	/* GCOVR_EXCL_BR_STOP */
}

/* Until this has run the limit is 0: no spinning, which is always safe. */
__attribute__((constructor)) static void spin_load(void)
{
	ct__spin_limit = calibrate_spin();
}

void ct__wake_seen(int64_t ns)
{
	/* A thread that waited for a CPU after its wake-up (more threads
	 * than CPUs) reports that wait too: capped, it moves the average
	 * only so far, and the spins it sets are capped the same way. */
	if (ns < 0)
		return;
	if (ns > CT__SPIN_MAX_NS)
		ns = CT__SPIN_MAX_NS;
	/* Relaxed, and racy on purpose: a running average over 8 wake-ups;
	 * two threads updating it at once lose one sample, which an
	 * average can afford. */
	int64_t avg = atomic_load_explicit(&ct__wake.ns, memory_order_relaxed);
	int64_t next = avg + (ns - avg) / 8;
	if (next != avg)
		/* Relaxed: as the load; the value is a hint nothing else depends on. */
		atomic_store_explicit(&ct__wake.ns, next, memory_order_relaxed);
}

int64_t ct__spin_wake_ns(void)
{
	/* Relaxed: a hint, read whole. */
	int64_t ns = 2 * atomic_load_explicit(&ct__wake.ns, memory_order_relaxed);
	return ns < CT__SPIN_NS ? CT__SPIN_NS : ns > CT__SPIN_MAX_NS ? CT__SPIN_MAX_NS : ns;
}

unsigned ct__spin_wake_rounds(void)
{
	return (unsigned)((uint64_t)ct__spin_limit * (uint64_t)ct__spin_wake_ns() / CT__SPIN_NS);
}
