/* Fault injection, for the tests: make allocations or thread creations fail.
 *
 * Compiled into every build (a relaxed load per allocation is all it costs)
 * so that the sanitizer and fallback builds test the same error paths as the
 * normal one. Only the tests call ct__fault_set().
 */
#ifndef CT_FAULT_H
#define CT_FAULT_H

#include <stdbool.h>

enum ct__fault_kind {
	CT__FAULT_ALLOC,	 /* ct__malloc / ct__calloc / ct__realloc return NULL */
	CT__FAULT_THREAD_CREATE, /* pthread_create reports EAGAIN */
	CT__FAULT_KINDS
};

/* After @p skip successful operations of @p kind, the next @p count fail.
 * count 0 disarms. Counts are process-wide. */
void ct__fault_set(enum ct__fault_kind kind, long skip, long count);

/* Consumes one operation of @p kind; true when it must fail. */
bool ct__fault_hit(enum ct__fault_kind kind);

#endif /* CT_FAULT_H */
