/* Prints the spin policy the library chose when it was loaded: the CPUs
 * it counted (the process's affinity mask) and its spin limit in rounds
 * (0: it never spins). Usage: spin_policy (start it held to some CPUs). */
#include <stdio.h>

#include <cthreading.h>

/* The library's own (src/core/internal.h); this program links the static
 * library, which keeps them visible. */
extern unsigned ct__cpus, ct__spin_limit;

int main(void)
{
	printf("cpus %u, spin limit %u\n", ct__cpus, ct__spin_limit);
	return 0;
}
