/* Helpers shared by the fork tests: running a check in a child process
 * with a bounded wait, and the checks' own CHECK, which returns instead of
 * ending the process (a child reports through its exit status).
 *
 * Include once per test program: it defines ThreadSanitizer's options.
 */
#ifndef CT_TEST_FORK_HELPERS_H
#define CT_TEST_FORK_HELPERS_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#if defined(__SANITIZE_THREAD__)
#define FH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FH_TSAN 1
#endif
#endif
#ifdef FH_TSAN
/* The children start threads of their own, which ThreadSanitizer refuses
 * after a fork of a threaded process unless told otherwise. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "die_after_fork=0";
}
#endif

#if defined(__SANITIZE_ADDRESS__)
#define FH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FH_ASAN 1
#endif
#endif
#ifdef FH_ASAN
/* AddressSanitizer's allocator (GCC 12's, LLVM's before 17) takes no lock
 * around fork(): a child whose parent had a thread inside it can hang in
 * its next malloc or free. Without the quarantine, a free takes none of
 * its locks but to give back a whole cache, which makes that rare. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
}
#endif

/* The status fh_in_child() reports for a child it had to kill: it hung. */
#define FH_HUNG HT_HUNG

/* In a child: on failure, say where and return 1 (the child's status). */
#define CK(cond)                                                                              \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "child %d: %s:%d: CK(%s)\n", (int)getpid(), __FILE__, \
				__LINE__, #cond);                                             \
			return 1;                                                             \
		}                                                                             \
	} while (0)

/* How long a child may take before it counts as hung. (FH_CHILD_LIMIT
 * shortens it for a run that expects many hung children, such as one
 * against a library without the fork support.) */
static inline double fh_child_limit(void)
{
#ifdef FH_CHILD_LIMIT
	return FH_CHILD_LIMIT;
#else
	return ht_sanitized() ? 60.0 : 20.0;
#endif
}

/* Forks; the child runs fn(arg) and exits with what it returns. Returns
 * the child's status (0: it passed), FH_HUNG, or -1 if fork() failed. */
static inline int fh_in_child(int (*fn)(void *arg), void *arg)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0)
		HT_CHILD_EXIT(fn(arg));
	return pid < 0 ? -1 : ht_reap(pid, fh_child_limit());
}

/* Runs fn(arg) in a child and fails the case unless it passed. */
#define FH_CHECK_CHILD(fn, arg) CHECK_EQ(fh_in_child((fn), (arg)), 0)

#endif /* CT_TEST_FORK_HELPERS_H */
