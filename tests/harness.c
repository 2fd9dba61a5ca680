#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_TESTS 512

#ifdef CT_TEST_GCOV_DUMP
/* Under `make coverage`, a fork child starts its counts from zero, so that
 * the ones it writes (HT_CHILD_EXIT) are only what it ran itself. Else it
 * would write the parent's too, as they were at the fork, with threads
 * halfway through a block: counts that contradict each other, from which
 * gcov derives negative branch counts. Registered before the library's
 * handlers (which register in constructors of the default priority), so
 * that their work in the child counts. */
void __gcov_reset(void);
static void gcov_reset_child(void)
{
	__gcov_reset();
}
__attribute__((constructor(101))) static void gcov_reset_in_fork_children(void)
{
	pthread_atfork(NULL, NULL, gcov_reset_child);
}
#endif

static struct {
	const char *name;
	ht_test_fn fn;
} tests[MAX_TESTS];
static int ntests;

void ht_register(const char *name, ht_test_fn fn)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "too many tests in one file\n");
		_exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void ht_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s:%d: FAILED: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

double ht_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool ht_sanitized(void)
{
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
	return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

bool ht_slowed(void)
{
	return ht_sanitized() || getenv("CT_TEST_EMULATOR") != NULL ||
	       getenv("CT_TEST_SHORT") != NULL;
}

struct sink {
	char *buf;
	size_t len, cap;
};

static void sink_add(struct sink *s, const char *data, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->buf = realloc(s->buf, s->cap);
		if (!s->buf)
			abort();
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

_Noreturn void ht_skip(const char *why)
{
	printf("skipped: %s\n", why);
	fflush(stdout);
	_exit(HT_SKIP_STATUS);
}

/* A cross build's tests run under an emulator (qemu-user): so must the
 * programs they start that the kernel cannot run alone (execv fails with
 * ENOEXEC), while the host's own (python3) run as they are. The
 * emulator's command line comes from CT_TEST_EMULATOR (tests/CMakeLists.txt
 * sets it from CMAKE_CROSSCOMPILING_EMULATOR), words separated by spaces.
 * Called in the child, after fork(): replaces the process or returns. */
static void exec_emulated(const char *const argv[])
{
	static char line[1024];
	const char *emu = getenv("CT_TEST_EMULATOR");
	const char *args[64];
	size_t n = 0;
	if (emu == NULL || *emu == '\0' || strlen(emu) >= sizeof line)
		return;
	strcpy(line, emu);
	for (char *w = strtok(line, " "); w != NULL && n < 32; w = strtok(NULL, " "))
		args[n++] = w;
	for (size_t i = 0; argv[i] != NULL && n < 63; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execvp(args[0], (char *const *)args);
}

static void *blocked_thread(void *fd)
{
	char c;
	return (void *)(intptr_t)read(*(int *)fd, &c, 1);
}

static void *no_op_thread(void *arg)
{
	return arg;
}

int ht_reap(pid_t pid, double limit)
{
	double deadline = ht_now() + limit;
	const struct timespec look_again = {0, 200000}; /* 0.2 ms */
	for (;;) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0 && errno != EINTR)
			return -1;
		if (ht_now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return HT_HUNG;
		}
		nanosleep(&look_again, NULL);
	}
}

/* The probe itself: a thread that stays blocked across a fork, and in the
 * fork's child a thread started and joined. 0 when that worked. */
static int probe_threads_after_fork(void)
{
	int fds[2];
	pthread_t blocked;
	if (pipe(fds) != 0 || pthread_create(&blocked, NULL, blocked_thread, &fds[0]) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		_exit(pthread_create(&t, NULL, no_op_thread, NULL) == 0 &&
				      pthread_join(t, NULL) == 0
			      ? 0
			      : 1);
	}
	int status = pid > 0 ? ht_reap(pid, 30.0) : -1;
	close(fds[1]);
	pthread_join(blocked, NULL);
	close(fds[0]);
	return status == 0 ? 0 : 1;
}

/* The probe runs in a child of its own, behind a deadline: qemu-user 7.2
 * aborts a thread's start in a child forked from a process with threads,
 * and on a loaded machine it once hung there instead (a test then timed
 * out at 300 s). Whatever hangs, the probe's answer is then "cannot". */
void ht_need_threads_after_fork(void)
{
	const char *emu = getenv("CT_TEST_EMULATOR");
	if (emu == NULL || *emu == '\0')
		return;
	pid_t pid = fork();
	if (pid == 0)
		_exit(probe_threads_after_fork());
	if (pid < 0 || ht_reap(pid, 30.0) != 0)
		ht_skip("a child forked from a process with threads cannot start threads under "
			"this emulator (qemu-user 7.2 aborts it)");
}

char *ht_report_text(int (*report)(FILE *out))
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (!f)
		ht_fail(__FILE__, __LINE__, "open_memstream failed");
	int rc = report(f);
	fclose(f);
	if (rc != 0)
		ht_fail(__FILE__, __LINE__, "the report failed: %s", ct_strerror(rc));
	return text;
}

int ht_run(const char *const argv[], char **out, char **err)
{
	int po[2], pe[2];
	if (pipe(po) < 0 || pipe(pe) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		execv(argv[0], (char *const *)argv);
		if (errno == ENOEXEC)
			exec_emulated(argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	struct sink so = {0}, se = {0};
	sink_add(&so, "", 0);
	sink_add(&se, "", 0);
	struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
	int open_fds = 2;
	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[4096];
			ssize_t n = read(fds[i].fd, buf, sizeof buf);
			if (n > 0) {
				sink_add(i == 0 ? &so : &se, buf, (size_t)n);
			} else {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out)
		*out = so.buf;
	else
		free(so.buf);
	if (err)
		*err = se.buf;
	else
		free(se.buf);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

char *ht_run_program(const char *dir, const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	const char *argv[] = {path, NULL};
	char *out, *err;
	int status = ht_run(argv, &out, &err);
	if (status != 0 || err[0] != '\0')
		ht_fail(__FILE__, __LINE__, "%s: status %d\nstdout:\n%s\nstderr:\n%s", name, status,
			out, err);
	free(err);
	return out;
}

int ht_count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ht_sort_lines(char *s)
{
	size_t n = 0, len = strlen(s);
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	char **lines = calloc(n + 1, sizeof *lines);
	char *copy = strdup(s);
	if (!lines || !copy)
		abort();
	size_t k = 0;
	for (char *save, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		lines[k++] = l;
	qsort(lines, k, sizeof *lines, cmp_lines);
	char *p = s;
	for (size_t i = 0; i < k; i++) {
		size_t m = strlen(lines[i]);
		memcpy(p, lines[i], m);
		p += m;
		*p++ = '\n';
	}
	*p = '\0';
	free(copy);
	free(lines);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		for (int i = 0; i < ntests; i++)
			printf("%s\n", tests[i].name);
		return argc == 1 ? 0 : 2;
	}
	for (int i = 0; i < ntests; i++) {
		if (strcmp(tests[i].name, argv[1]) == 0) {
			/* Line-buffered output interleaves sanely with the
			 * threads' when a case fails. */
			setvbuf(stdout, NULL, _IOLBF, 0);
			tests[i].fn();
			return 0;
		}
	}
	fprintf(stderr, "no test named %s\n", argv[1]);
	return 2;
}
