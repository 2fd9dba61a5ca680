/* The test harness: each TEST(name) in tests/test_<module>.c is registered
 * by CMake as its own CTest test "<module>.<name>", run in its own process
 * (`test_<module> <name>`) with a time limit, so a deadlock is a named
 * failure and no case can disturb another.
 *
 * Checks print where and what failed and end the process at once with
 * _exit(1): a failing case must not then wait in the exit rule for threads
 * it left behind.
 */
#ifndef CT_TEST_HARNESS_H
#define CT_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cthreading.h>

typedef void (*ht_test_fn)(void);
void ht_register(const char *name, ht_test_fn fn);

#define TEST(name)                                                   \
	static void test_##name(void);                               \
	__attribute__((constructor)) static void ht_reg_##name(void) \
	{                                                            \
		ht_register(#name, test_##name);                     \
	}                                                            \
	static void test_##name(void)

/* One row of a module's misuse table, run as its own CTest test
 * "<module>.misuse_<name>": @p expr must return @p code, and
 * ct_strerror(code) must read @p message (Python's wording where Python
 * has one). Write each MISUSE(...) at the start of a line. */
#define MISUSE(name, code, message, expr)                \
	TEST(misuse_##name)                              \
	{                                                \
		CHECK_RC((expr), (code));                \
		CHECK_STR(ct_strerror(code), (message)); \
	}

_Noreturn void ht_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                      \
	do {                                                             \
		if (!(cond))                                             \
			ht_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_EQ(a, b)                                                                        \
	do {                                                                                  \
		long long ht_a_ = (long long)(a), ht_b_ = (long long)(b);                     \
		if (ht_a_ != ht_b_)                                                           \
			ht_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %lld != %lld", #a, #b, \
				ht_a_, ht_b_);                                                \
	} while (0)

/* Checks a cthreading return code, naming both codes on failure. */
#define CHECK_RC(expr, code)                                                                 \
	do {                                                                                 \
		int ht_rc_ = (expr), ht_want_ = (code);                                      \
		if (ht_rc_ != ht_want_)                                                      \
			ht_fail(__FILE__, __LINE__, "%s returned %d (%s), expected %d (%s)", \
				#expr, ht_rc_, ct_strerror(ht_rc_), ht_want_,                \
				ct_strerror(ht_want_));                                      \
	} while (0)

#define CHECK_OK(expr) CHECK_RC(expr, 0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *ht_a_ = (a), *ht_b_ = (b);                                             \
		if (!ht_a_ || !ht_b_ || strcmp(ht_a_, ht_b_) != 0)                                 \
			ht_fail(__FILE__, __LINE__, "CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, #b, \
				ht_a_ ? ht_a_ : "(null)", ht_b_ ? ht_b_ : "(null)");               \
	} while (0)

/* Ends the case as skipped (CTest's SKIP_RETURN_CODE), saying why: only
 * for a case whose tool is missing (python3 for the docs' originals). */
#define HT_SKIP_STATUS 77

/* How a fork child of a test ends: _exit(), which runs none of the
 * parent's exit handlers a second time. Under `make coverage`
 * (CT_TEST_GCOV_DUMP), it first writes the child's coverage counts, which
 * _exit() would drop: the code only a fork child runs is counted too. */
#ifdef CT_TEST_GCOV_DUMP
void __gcov_dump(void);
/* A function, not a comma expression: @p status (the child's checks) is
 * computed before the counts are written. */
static inline _Noreturn void ht_child_exit(int status)
{
	__gcov_dump();
	_exit(status);
}
#define HT_CHILD_EXIT(status) ht_child_exit(status)
#else
#define HT_CHILD_EXIT(status) _exit(status)
#endif
_Noreturn void ht_skip(const char *why);

/* Monotonic seconds, for checks that a wait did not end before its
 * timeout (the only kind of time assertion the suite makes). */
double ht_now(void);

/* The status ht_reap() reports for a child it had to kill: it hung. */
#define HT_HUNG 200

/* The exit status of child @p pid (128 + the signal if one ended it), or
 * HT_HUNG if it has not ended within @p limit seconds (then it is
 * killed), or -1 if waitpid() failed. Polls: the child is another
 * process, with nothing of ours to wait on but waitpid(). */
int ht_reap(pid_t pid, double limit);

/* True when built with a sanitizer. */
bool ht_sanitized(void);

/* True when built with a sanitizer or run under an emulator (qemu-user, for
 * the cross builds), where every operation, and above all every thread
 * start, costs many times more, or when the build asks for short stress
 * (CT_TEST_SHORT_STRESS: CT_TEST_SHORT in the environment): stress cases
 * scale their rounds down. */
bool ht_slowed(void);

/* Runs a program, collecting its standard output (and, if err is not NULL,
 * its standard error) as NUL-terminated strings the caller frees. Returns
 * its exit status, or 128 + signal, or -1 if it could not run. */
int ht_run(const char *const argv[], char **out, char **err);

/* What @p report (ct_profile_report, ct_dump...) writes, as a
 * NUL-terminated string the caller frees; the case fails if it fails. */
char *ht_report_text(int (*report)(FILE *out));

/* Skips the case (with the reason) where a child forked from a process
 * with threads cannot start threads of its own. Everywhere the library
 * runs it can; qemu-user 7.2 (Debian 12's, which runs the ARM builds'
 * tests) aborts such a child in its own code. Probed once per process,
 * only under an emulator (CT_TEST_EMULATOR): a later QEMU runs the case. */
void ht_need_threads_after_fork(void);

/* Runs the program @p name in @p dir; fails the case unless it exits 0
 * with nothing on stderr (no sanitizer report either). Returns its stdout,
 * to free. */
char *ht_run_program(const char *dir, const char *name);

/* How many times @p needle occurs in @p s (not overlapping). */
int ht_count(const char *s, const char *needle);

/* Sorts the lines of s in place (for output whose line order is free). */
void ht_sort_lines(char *s);

#ifdef CT_EXAMPLES_DIR /* test programs only, not the harness itself */
/* An example built by examples/CMakeLists.txt, by name. */
#define ht_run_example(name) ht_run_program(CT_EXAMPLES_DIR, (name))

/* Runs an example and checks its stdout is @p want (its lines in any
 * order if @p any_order). */
static inline void ht_check_example(const char *name, bool any_order, const char *want)
{
	char *out = ht_run_example(name);
	if (any_order)
		ht_sort_lines(out);
	CHECK_STR(out, want);
	free(out);
}
#endif

#endif /* CT_TEST_HARNESS_H */
