/* Prints the spin policy the library chose when it was loaded: the CPUs
 * it counted (the process's affinity mask) and its spin limit in rounds
 * (0: it never spins); then the default pool's size, from the same mask.
 * Usage: spin_policy (start it held to some CPUs). */
#include <stdio.h>

#include <cthreading.h>

/* The library's own (src/core/internal.h); this program links the static
 * library, which keeps them visible. */
extern unsigned ct__cpus, ct__spin_limit;

int main(void)
{
	ct_executor_t ex;
	if (ct_executor_init(&ex, NULL) != 0)
		return 1;
	printf("cpus %u, spin limit %u, default pool %d\n", ct__cpus, ct__spin_limit,
	       ct_executor_max_workers(&ex));
	ct_executor_destroy(&ex);
	return 0;
}
