/* The debugging layer's hooks (debug_hooks.h): the only part of debugging
 * that lives below src/debug/, so that every layer can reach it. */
#include "core/debug_hooks.h"

_Atomic(uint32_t) ct__debug_flags;
const struct ct__debug_hooks *_Atomic ct__debug_hooks_ptr;

void ct__debug_install(const struct ct__debug_hooks *hooks, uint32_t flags)
{
	const struct ct__debug_hooks *none = NULL;
	/* Release: pairs with ct__debug()'s acquire, so whoever finds the hooks sees them fully
	 * built; a lost race keeps the first hooks (relaxed: nothing read). */
	atomic_compare_exchange_strong_explicit(&ct__debug_hooks_ptr, &none, hooks,
						memory_order_release, memory_order_relaxed);
	/* Release: a thread that sees the flag and then loads the hooks (acquire) finds them
	 * installed; the flag itself is read relaxed (CT__DEBUG_ON). */
	atomic_store_explicit(&ct__debug_flags, flags, memory_order_release);
}

void ct__debug_destroyed(const void *object)
{
	const struct ct__debug_hooks *h = ct__debug();
	/* GCOVR_EXCL_BR_START: callers pass their object; the hooks are NULL only for a thread that
	 * sees the flag before the hooks' pointer, a race at the instant debugging is turned on */
	if (object && h)
		h->destroyed(object);
	/* GCOVR_EXCL_BR_STOP */
}
