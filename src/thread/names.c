/* Names: Python's (Thread-N, Dummy-N, renames) and the OS's (the first 15
 * bytes, set by the thread itself when it starts and by a rename while it
 * runs). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "thread/thread_private.h"

/* Linux keeps 15 bytes of a thread's name (16 with the NUL). */
#define OS_NAME_MAX 15

/* Renames against the library's own readers of a name: a new thread
 * copying its name for the OS, and a rename reaching a running thread's OS
 * name. Under this lock the old name is never freed while one of those
 * reads it, and another thread's OS name is set only while its `os_named`
 * says it runs (so its pthread id is valid). */
static ct_lock_t names_lock = CT_LOCK_INIT;
static atomic_uint name_counter; /* Python's _counter: Thread-N and Dummy-N */

/* Copies a name for the OS, cut at a character boundary so that a UTF-8
 * name (the seed's are Chinese) never ends in half a character. */
static void os_name(char dst[OS_NAME_MAX + 1], const char *src)
{
	size_t n = strlen(src);
	if (n > OS_NAME_MAX) {
		n = OS_NAME_MAX;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void apply_os_name(struct ct__thread *rec, bool from_self)
{
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__)
	char buf[OS_NAME_MAX + 1];
	os_name(buf, atomic_load(&rec->name));
	pthread_t pt = from_self ? pthread_self() : (pthread_t)atomic_load(&rec->ident);
	pthread_setname_np(pt, buf);
#elif defined(__APPLE__)
	if (from_self) {
		char buf[OS_NAME_MAX + 1];
		os_name(buf, atomic_load(&rec->name));
		pthread_setname_np(buf);
	}
#else
	(void)rec;
	(void)from_self;
#endif
}

/* The default name, Python's _newname(): "Thread-N" or "Thread-N (target)".
 * The target's name comes from the macro's #target text; keep its trailing
 * identifier, so that "(ct_target_fn)foo" or "&foo" name it "foo". */
char *ct__default_name(const char *prefix, ct_target_fn target, const char *target_name)
{
	unsigned n = atomic_fetch_add(&name_counter, 1) + 1;
	const char *id = "";
	size_t len = 0;
	if (target && target_name) {
		const char *end = target_name + strlen(target_name);
		const char *p = end;
		while (p > target_name && (p[-1] == '_' || (p[-1] >= '0' && p[-1] <= '9') ||
					   ((p[-1] | 0x20) >= 'a' && (p[-1] | 0x20) <= 'z')))
			p--;
		id = p;
		len = (size_t)(end - p);
	}
	char buf[64];
	int k = len ? snprintf(buf, sizeof buf, "%s-%u (%.*s)", prefix, n, (int)len, id)
		    : snprintf(buf, sizeof buf, "%s-%u", prefix, n);
	/* GCOVR_EXCL_BR_START: snprintf() fails only for output over INT_MAX bytes (EOVERFLOW), a
	 * prefix no memory holds */
	if (k < 0 ||
	    /* GCOVR_EXCL_BR_STOP */
	    (size_t)k >= sizeof buf) {
		/* A target name longer than the buffer: allocate exactly. */
		char *s = ct__malloc((size_t)k + 1);
		if (s)
			snprintf(s, (size_t)k + 1, "%s-%u (%.*s)", prefix, n, (int)len, id);
		return s;
	}
	return ct__strdup(buf);
}

const char *ct_thread_name(const ct_thread_t *t)
{
	struct ct__thread *rec = ct__rec_of(t);
	const char *name = rec ? atomic_load(&rec->name) : NULL;
	return name ? name : "";
}

void ct__thread_name_copy(const ct_thread_t *t, char *buf, size_t size)
{
	ct__lock_acquire_nonnull(&names_lock);
	snprintf(buf, size, "%s", ct_thread_name(t));
	ct_lock_release(&names_lock);
}

int ct_thread_set_name(ct_thread_t *t, const char *name)
{
	struct ct__thread *rec = ct__rec_of(t);
	if (!rec || !name)
		return CT_EINVAL;
	char *copy = ct__strdup(name);
	if (!copy)
		return CT_ENOMEM;
	bool from_self = rec == ct__self_peek();
	ct__lock_acquire_nonnull(&names_lock);
	char *old = atomic_exchange(&rec->name, copy);
	/* A new thread that has yet to name itself in the OS will do it with
	 * the new name. A thread renaming itself is running by definition: the
	 * main thread and threads cthreading did not start, which never name
	 * themselves, take the name here (Python's name setter does the same
	 * for the current thread). */
	if (rec->os_named || from_self)
		apply_os_name(rec, from_self);
	ct_lock_release(&names_lock);
	ct__free(old);
	return 0;
}

void ct__os_name_own(struct ct__thread *rec, bool named)
{
	ct__lock_acquire_nonnull(&names_lock);
	if (named)
		apply_os_name(rec, true);
	rec->os_named = named;
	ct_lock_release(&names_lock);
}

void ct__names_after_fork_child(void)
{
	ct_lock_init(&names_lock);
}
