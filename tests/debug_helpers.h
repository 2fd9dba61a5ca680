/* Helpers shared by the debugging tests. */
#ifndef CT_TEST_DEBUG_HELPERS_H
#define CT_TEST_DEBUG_HELPERS_H

#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cthreading/debug.h"
#include "harness.h"

/* Polls ct_dump() until it shows @p needle (a thread gets to its wait on
 * its own time); fails after 30 s with the last dump. Yields between
 * dumps, never sleeps: a sleep would give up a GIL the caller holds. */
static inline void dh_dump_until(const char *needle)
{
	double limit = ht_now() + 30;
	for (;;) {
		char *buf = ht_report_text(ct_dump);
		bool found = strstr(buf, needle) != NULL;
		if (!found && ht_now() > limit)
			ht_fail(__FILE__, __LINE__, "the dump never showed \"%s\":\n%s", needle,
				buf);
		free(buf);
		if (found)
			return;
		sched_yield();
	}
}

#endif /* CT_TEST_DEBUG_HELPERS_H */
