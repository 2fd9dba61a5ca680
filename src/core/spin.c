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
 */
#include <unistd.h>

#include "core/internal.h"

unsigned ct__spin_limit;

static unsigned calibrate_spin(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	/* GCOVR_EXCL_BR_START: one CPU only: the spin policy of a single-CPU machine (the test
	 * machines have two or more) */
	if (cpus == 1)
		return 0;
	/* GCOVR_EXCL_BR_STOP */
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
