/* Helpers shared by the debugging tests (test_debug*.c): temporary files,
 * reading what a report wrote, and waiting for a thread dump to show a
 * wait. */
#ifndef CT_TEST_DEBUG_HELPERS_H
#define CT_TEST_DEBUG_HELPERS_H

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cthreading/debug.h"
#include "cthreading/thread.h"
#include "harness.h"

#define CHECK_HAS(text, needle)                                                                    \
	do {                                                                                       \
		if (!strstr((text), (needle)))                                                     \
			ht_fail(__FILE__, __LINE__, "\"%s\" not found in:\n%s", (needle), (text)); \
	} while (0)

/* A fresh temporary file's path (the caller frees it). */
static inline char *temp_path(const char *suffix)
{
	char *path = malloc(256);
	CHECK(path);
	snprintf(path, 256, "/tmp/ct_debug_%ld_%s", (long)getpid(), suffix);
	unlink(path);
	return path;
}

/* What the file at @p path holds ("" if it cannot be read), to free. */
static inline char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	size_t cap = 1 << 16, n = 0, got;
	char *s = malloc(cap);
	CHECK(s);
	while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			cap *= 2;
			s = realloc(s, cap);
			CHECK(s);
		}
	}
	s[n] = 0;
	fclose(f);
	return s;
}

/* Applies @p settings with "log=" a fresh file; returns its path. */
static inline char *configure_logged(const char *settings, const char *name)
{
	char *log = temp_path(name);
	char s[512];
	snprintf(s, sizeof s, "%s,log=%s", settings, log);
	CHECK_OK(ct_debug_configure(s));
	return log;
}

/* What went to @p log; reports go back to stderr, and the file is gone. */
static inline char *logged(char *log)
{
	char *text = read_file(log);
	CHECK_OK(ct_debug_configure("log=-"));
	unlink(log);
	free(log);
	return text;
}

/* Runs @p scenario in a forked child with @p settings followed by the log's
 * path; returns the log and the child's wait status. */
static inline char *in_child(const char *settings, void (*scenario)(void), int *status)
{
	char *log = temp_path("child.log");
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char s[512];
		snprintf(s, sizeof s, "%s%s", settings, log);
		if (ct_debug_configure(s) != 0)
			_exit(3);
		scenario();
		HT_CHILD_EXIT(0);
	}
	CHECK(waitpid(pid, status, 0) == pid);
	char *text = read_file(log);
	unlink(log);
	free(log);
	return text;
}

/* Polls ct_dump() until it shows @p needle (the thread gets to its wait
 * on its own time); fails after 30 s with the last dump. Yields between
 * dumps, never sleeps: a sleep would give up a GIL the caller holds. */
static inline void dump_until(const char *needle)
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
