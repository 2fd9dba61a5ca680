/** @file
 * cthreading: thread-local values (Python's threading.local).
 */
#ifndef CTHREADING_LOCAL_H
#define CTHREADING_LOCAL_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup local Thread-local values
 *
 * Python's `threading.local()`: one value per thread (typically a pointer to
 * the thread's own structure), with a destructor that runs in each thread
 * that set a value, when that thread ends (before a join of it returns).
 *
 * @code
 * static ct_local_t buffer = CT_LOCAL_INIT(free);
 * char *b = ct_local_get(&buffer);
 * if (!b) ct_local_set(&buffer, b = malloc(64));
 * @endcode
 * @{
 */

/** A thread-local variable. Treat the members as private. */
typedef struct ct_local {
	CT__ATOMIC(uint32_t) ct__slot; /**< private: 0 until first used */
	void (*ct__dtor)(void *);      /**< private */
} ct_local_t;

/** Static initializer with a destructor (or NULL). */
#define CT_LOCAL_INIT(dtor) \
	{                   \
		0, (dtor)   \
	}

/** Initialises a thread-local with a destructor for non-NULL values (or
 *  NULL). Cannot fail: the slot is taken on first use. */
CT_API void ct_local_init(ct_local_t *local, void (*dtor)(void *));

/** The calling thread's value; NULL if it has set none. */
CT_API void *ct_local_get(ct_local_t *local);

/** Sets the calling thread's value (the previous one is not destroyed).
 *  Errors: CT_ENOMEM (no memory for the thread's table, or all 4096
 *  slots in use), CT_EINVAL. */
CT_API int ct_local_set(ct_local_t *local, void *value);

/** Destroys the thread-local: runs the destructor on the calling thread's
 *  value now; other threads' values are destroyed when those threads end.
 *  The object may be initialised again afterwards. */
CT_API void ct_local_destroy(ct_local_t *local);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_LOCAL_H */
