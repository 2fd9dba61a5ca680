/* The debugging layer's hooks (debug_hooks.h): the only part of debugging
 * that lives below src/debug/, so that every layer can reach it. */
#include "core/debug_hooks.h"

_Atomic(uint32_t) ct__debug_flags;
const struct ct__debug_hooks *_Atomic ct__debug_hooks_ptr;

void ct__debug_install(const struct ct__debug_hooks *hooks, uint32_t flags)
{
	const struct ct__debug_hooks *none = NULL;
	atomic_compare_exchange_strong_explicit(&ct__debug_hooks_ptr, &none, hooks,
						memory_order_release, memory_order_relaxed);
	atomic_store_explicit(&ct__debug_flags, flags, memory_order_release);
}

void ct__debug_destroyed(const void *object)
{
	const struct ct__debug_hooks *h = ct__debug();
	if (object && h)
		h->destroyed(object);
}
