#include "core/fault.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

/* Per kind: operations still allowed to succeed, then failures to report.
 * `armed` keeps the hot path to one relaxed load when nothing is injected. */
static struct {
	atomic_bool armed;
	atomic_long skip;
	atomic_long fail;
} faults[CT__FAULT_KINDS];

void ct__fault_set(enum ct__fault_kind kind, long skip, long count)
{
	atomic_store(&faults[kind].skip, skip);
	atomic_store(&faults[kind].fail, count);
	atomic_store(&faults[kind].armed, count > 0);
}

bool ct__fault_hit(enum ct__fault_kind kind)
{
	if (CT__LIKELY(!atomic_load_explicit(&faults[kind].armed, memory_order_relaxed)))
		return false;
	if (atomic_fetch_sub(&faults[kind].skip, 1) > 0)
		return false;
	if (atomic_fetch_sub(&faults[kind].fail, 1) > 0)
		return true;
	atomic_store(&faults[kind].armed, false);
	return false;
}

void *ct__malloc(size_t size)
{
	return ct__fault_hit(CT__FAULT_ALLOC) ? NULL : malloc(size);
}

void *ct__calloc(size_t n, size_t size)
{
	return ct__fault_hit(CT__FAULT_ALLOC) ? NULL : calloc(n, size);
}

void *ct__realloc(void *p, size_t size)
{
	return ct__fault_hit(CT__FAULT_ALLOC) ? NULL : realloc(p, size);
}

void ct__free(void *p)
{
	free(p);
}

char *ct__strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *copy = ct__malloc(n);
	if (copy)
		memcpy(copy, s, n);
	return copy;
}
