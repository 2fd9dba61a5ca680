/* What the Condition needs from the RLock: CPython's _release_save and
 * _acquire_restore. */
#ifndef CT_RLOCK_INTERNAL_H
#define CT_RLOCK_INTERNAL_H

#include <stdint.h>

#include "cthreading/rlock.h"

/* Releases an RLock the caller owns, whatever its depth; returns the depth. */
uint32_t ct__rlock_release_save(ct_rlock_t *rlock);

/* Makes the caller the owner at @p depth, once it holds the inner lock. */
void ct__rlock_restore(ct_rlock_t *rlock, uint32_t depth);

#endif /* CT_RLOCK_INTERNAL_H */
