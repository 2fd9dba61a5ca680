#include "core/fault.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

/* Per kind: operations still allowed to succeed, then failures to report.
 * `armed` and the thread's own flag keep the hot path to two loads when
 * nothing is injected. */
static struct {
	atomic_bool armed;
	atomic_long skip;
	atomic_long fail;
} faults[CT__FAULT_KINDS];

/* The calling thread's own faults (ct__fault_set_here()): only it reads
 * or writes them. */
static _Thread_local bool failing_here[CT__FAULT_KINDS] CT__TLS_MODEL;

void ct__fault_set(enum ct__fault_kind kind, long skip, long count)
{
	atomic_store(&faults[kind].skip, skip);
	atomic_store(&faults[kind].fail, count);
	atomic_store(&faults[kind].armed, count > 0);
}

void ct__fault_set_here(enum ct__fault_kind kind, bool on)
{
	failing_here[kind] = on;
}

bool ct__fault_hit(enum ct__fault_kind kind)
{
	if (CT__UNLIKELY(failing_here[kind]))
		return true;
	/* Relaxed: tests arm a fault before starting the threads that hit it (thread start
	 * orders it); the counters below are seq_cst RMWs. */
	if (CT__LIKELY(!atomic_load_explicit(&faults[kind].armed, memory_order_relaxed)))
		return false;
	if (atomic_fetch_sub(&faults[kind].skip, 1) > 0)
		return false;
	if (atomic_fetch_sub(&faults[kind].fail, 1) > 0)
		return true;
	atomic_store(&faults[kind].armed, false);
	return false;
}

#ifdef CT__FAULT_ASAN
static const struct ct__alloc_guard *_Atomic alloc_guard;

void ct__fault_set_alloc_guard(const struct ct__alloc_guard *guard)
{
	atomic_store(&alloc_guard, guard);
}

/* Runs @p call inside the guard (fault.h), once one is plugged in. */
#define ALLOCATING(call)                                                      \
	do {                                                                  \
		const struct ct__alloc_guard *g_ = atomic_load(&alloc_guard); \
		bool in_ = g_ && g_->enter();                                 \
		call;                                                         \
		if (in_)                                                      \
			g_->exit();                                           \
	} while (0)
#else
#define ALLOCATING(call) call
#endif

void *ct__malloc(size_t size)
{
	void *p = NULL;
	if (!ct__fault_hit(CT__FAULT_ALLOC))
		ALLOCATING(p = malloc(size));
	return p;
}

void *ct__calloc(size_t n, size_t size)
{
	void *p = NULL;
	if (!ct__fault_hit(CT__FAULT_ALLOC))
		ALLOCATING(p = calloc(n, size));
	return p;
}

void *ct__realloc(void *p, size_t size)
{
	void *q = NULL;
	if (!ct__fault_hit(CT__FAULT_ALLOC))
		ALLOCATING(q = realloc(p, size));
	return q;
}

void *ct__aligned_alloc(size_t align, size_t size)
{
	void *p = NULL;
	int rc = ENOMEM;
	if (!ct__fault_hit(CT__FAULT_ALLOC))
		ALLOCATING(rc = posix_memalign(&p, align, size));
	return rc == 0 ? p : NULL;
}

void ct__free(void *p)
{
	ALLOCATING(free(p));
}

char *ct__strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *copy = ct__malloc(n);
	if (copy)
		memcpy(copy, s, n);
	return copy;
}
