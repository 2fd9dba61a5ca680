/* once: exactly one run, the others wait for it, failures retry, and a
 * recursive call is reported. */
#include "sync_helpers.h"

static atomic_int runs;

static int count_run(void *arg)
{
	(void)arg;
	atomic_fetch_add(&runs, 1);
	return 0;
}

TEST(runs_once)
{
	static ct_once_t once = CT_ONCE_INIT;
	CHECK(!ct_once_done(&once));
	CHECK_OK(ct_once(&once, count_run, NULL));
	CHECK_OK(ct_once(&once, count_run, NULL));
	CHECK(ct_once_done(&once));
	CHECK_EQ(atomic_load(&runs), 1);

	ct_once_t dyn;
	ct_once_init(&dyn);
	CHECK_OK(ct_once(&dyn, count_run, NULL));
	CHECK_EQ(atomic_load(&runs), 2);
}

static int attempts;

static int fail_twice(void *arg)
{
	(void)arg;
	return ++attempts <= 2 ? -42 : 0;
}

TEST(failure_leaves_it_undone)
{
	ct_once_t once = CT_ONCE_INIT;
	CHECK_EQ(ct_once(&once, fail_twice, NULL), -42);
	CHECK(!ct_once_done(&once));
	CHECK_EQ(ct_once(&once, fail_twice, NULL), -42);
	CHECK_OK(ct_once(&once, fail_twice, NULL));
	CHECK(ct_once_done(&once));
	CHECK_OK(ct_once(&once, fail_twice, NULL));
	CHECK_EQ(attempts, 3);
}

static ct_once_t recursive_once = CT_ONCE_INIT;
static int inner_rc = 1;

static int recurse(void *arg)
{
	(void)arg;
	inner_rc = ct_once(&recursive_once, recurse, NULL);
	return 0;
}

static int call_recursive(void)
{
	CHECK_OK(ct_once(&recursive_once, recurse, NULL));
	CHECK(ct_once_done(&recursive_once));
	return inner_rc;
}

MISUSE(recursive_call, CT_EDEADLK, "the call would deadlock", call_recursive())

/* Many threads race for the same once; the function is slow enough that
 * the others park. Each must see its effects once ct_once returns. */
struct race {
	ct_once_t once;
	atomic_int go;
	atomic_int entered;
	int value; /* written by the function only, read after ct_once */
	atomic_int runs;
	atomic_int bad;
};

static int slow_init(void *arg)
{
	struct race *r = arg;
	atomic_fetch_add(&r->runs, 1);
	/* Let the others arrive and park behind us. */
	while (atomic_load(&r->entered) < 4)
		sched_yield();
	r->value = 1234;
	return 0;
}

static int racer(void *arg)
{
	struct race *r = arg;
	while (!atomic_load(&r->go))
		sched_yield();
	atomic_fetch_add(&r->entered, 1);
	CHECK_OK(ct_once(&r->once, slow_init, r));
	if (r->value != 1234)
		atomic_store(&r->bad, 1);
	return 0;
}

TEST(racing_threads_wait_for_the_run)
{
	int rounds = ht_slowed() ? 50 : 300;
	for (int k = 0; k < rounds; k++) {
		struct race r = {.once = CT_ONCE_INIT};
		ct_thread_t *t[4];
		for (int i = 0; i < 4; i++)
			t[i] = sh_start(racer, &r);
		atomic_store(&r.go, 1);
		for (int i = 0; i < 4; i++)
			sh_join(t[i]);
		CHECK_EQ(atomic_load(&r.runs), 1);
		CHECK(!atomic_load(&r.bad));
		CHECK_EQ(atomic_load(&r.once.ct__state), CT__ONCE_DONE);
	}
}

/* After a failed run, the threads that waited for it try again: exactly
 * one of them succeeds and the rest see it done. */
struct retry {
	ct_once_t once;
	atomic_int calls;
	atomic_int entered;
	atomic_int ok;
};

static int fail_first(void *arg)
{
	struct retry *r = arg;
	if (atomic_fetch_add(&r->calls, 1) == 0) {
		while (atomic_load(&r->entered) < 3)
			sched_yield();
		return -1;
	}
	return 0;
}

static int retrier(void *arg)
{
	struct retry *r = arg;
	atomic_fetch_add(&r->entered, 1);
	int rc = ct_once(&r->once, fail_first, r);
	CHECK(rc == 0 || rc == -1);
	if (rc == 0)
		atomic_fetch_add(&r->ok, 1);
	return 0;
}

TEST(waiters_retry_after_failure)
{
	struct retry r = {.once = CT_ONCE_INIT};
	ct_thread_t *t[3];
	for (int i = 0; i < 3; i++)
		t[i] = sh_start(retrier, &r);
	for (int i = 0; i < 3; i++)
		sh_join(t[i]);
	CHECK_EQ(atomic_load(&r.calls), 2);
	CHECK_EQ(atomic_load(&r.ok), 2);
	CHECK(ct_once_done(&r.once));
}
