/* Fault injection, for the tests: make allocations or thread creations fail.
 *
 * Compiled into every build (a thread-local and a relaxed load per
 * allocation is all it costs) so that the sanitizer and fallback builds
 * test the same error paths as the normal one. Only the tests call
 * ct__fault_set() and ct__fault_set_here().
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

/* While @p on, every operation of @p kind by the calling thread fails,
 * whatever ct__fault_set() says (a test reaches one pool worker's
 * allocations from a task it runs there). */
void ct__fault_set_here(enum ct__fault_kind kind, bool on);

/* Consumes one operation of @p kind; true when it must fail. */
bool ct__fault_hit(enum ct__fault_kind kind);

#if defined(__SANITIZE_ADDRESS__)
#define CT__FAULT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CT__FAULT_ASAN 1
#endif
#endif

#ifdef CT__FAULT_ASAN
/* AddressSanitizer's allocator (GCC 12's, LLVM's before 17) takes no lock
 * around fork(), as glibc's malloc does: a fork while another thread is
 * inside it can leave the child's next malloc or free waiting forever.
 * In those builds the library allocates and frees inside fork's gate: the
 * parking core, which owns the gate, plugs it in here at load. enter()
 * says whether it entered (it cannot before the thread has a record). */
struct ct__alloc_guard {
	bool (*enter)(void);
	void (*exit)(void);
};
void ct__fault_set_alloc_guard(const struct ct__alloc_guard *guard);
#endif

#endif /* CT_FAULT_H */
