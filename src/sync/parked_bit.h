/* Parking on a word that has a PARKED bit: the one protocol the event, the
 * semaphore, the latch and the rwlock's readers share.
 *
 * A waiter sets PARKED in the word, then parks on the object while the
 * word still shows what it parked on, checked under the bucket lock that
 * wakers take too (so a waker that clears the state before it wakes cannot
 * be missed). A waiter that leaves by deadline or stop as the last one
 * queued clears PARKED, so that later wakers skip the parking core. Only
 * a waiter leaving last or a waker holding the bucket lock clears it.
 */
#ifndef CT_SYNC_PARKED_BIT_H
#define CT_SYNC_PARKED_BIT_H

#include <stdatomic.h>
#include <stdint.h>

#include "park/park.h"

struct ct__parked_wait {
	_Atomic uint32_t *word;
	uint32_t mask, want; /* park while (*word & mask) == want */
	uint32_t parked;     /* the PARKED bit */
};

/* Parks on @p key as the header says; ct__park()'s results. */
int ct__park_parked(const void *key, struct ct__parked_wait *w, int64_t deadline, unsigned flags,
		    uintptr_t *token);

/* The departure half alone, for a waiter whose condition is not a masked
 * compare (the latch's): a park_ops timed_out taking a ct__parked_wait. */
void ct__parked_wait_left(void *ctx, const void *key, bool was_last);

#endif /* CT_SYNC_PARKED_BIT_H */
