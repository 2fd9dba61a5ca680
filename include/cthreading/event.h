/** @file
 * cthreading: Event (Python's threading.Event).
 */
#ifndef CTHREADING_EVENT_H
#define CTHREADING_EVENT_H

#ifndef __cplusplus
#include <stdatomic.h>
#endif

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup event Event
 *
 * Python's `threading.Event`: a flag that threads wait for. One 32-bit word;
 * `set` makes no system call (and takes no lock) when nobody waits.
 * @{
 */

/** An event. Treat the member as private. */
typedef struct ct_event {
	CT__ATOMIC(uint32_t) ct__state; /**< private: SET and PARKED bits */
} ct_event_t;

/** @cond internal */
#define CT__EVENT_SET 1u
#define CT__EVENT_PARKED 2u
/** @endcond */

/** Static initializer (the flag is clear). */
#define CT_EVENT_INIT \
	{             \
		0     \
	}

/** Initialises an event, flag clear. Cannot fail; NULL does nothing. */
static inline void ct_event_init(ct_event_t *event)
{
	if (CT__UNLIKELY(event == NULL))
		return;
	CT__ATOMIC_INIT(&event->ct__state, 0);
}

/** Releases an event's resources (it has none; for symmetry). NULL does
 *  nothing. */
static inline void ct_event_destroy(ct_event_t *event)
{
	CT__DEBUG_DESTROYED(event);
}

/** `Event.is_set()`; false for NULL. */
static inline bool ct_event_is_set(const ct_event_t *event)
{
	if (CT__UNLIKELY(event == NULL))
		return false;
	/* Acquire: pairs with set()'s release, so a caller that sees true
	 * also sees what the setter wrote before set(). */
	return CT__ATOMIC_LOAD(&event->ct__state, acquire) & CT__EVENT_SET;
}

/** `Event.set()`: sets the flag and wakes every waiter. */
CT_API void ct_event_set(ct_event_t *event);

/** `Event.clear()`. */
CT_API void ct_event_clear(ct_event_t *event);

/** `Event.wait(timeout)`: 0 once the flag is set (at once if it is),
 *  CT_ETIMEDOUT if still clear at the timeout (CT_FOREVER: no limit).
 *
 * Errors: CT_EINVAL (NaN), CT_ETOOLARGE. Interruptible: CT_ESTOPPED.
 * Releases the caller's GIL while it sleeps. */
CT_API int ct_event_wait(ct_event_t *event, double timeout);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CTHREADING_EVENT_H */
