/* Thread-local values: one per thread, destructors at thread exit (the
 * main thread's at process exit), destroy, slot reuse, many locals, and
 * allocation failure. */
#include <stdlib.h>

#include "core/fault.h"
#include "sync_helpers.h"

static int set_null_local(void)
{
	return ct_local_set(NULL, "x");
}

static int set_without_memory(void)
{
	ct_local_t l = CT_LOCAL_INIT(NULL);
	/* A fresh thread has no table yet: its first set must allocate. */
	ct__fault_set(CT__FAULT_ALLOC, 0, 1);
	int rc = ct_local_set(&l, "x");
	ct__fault_set(CT__FAULT_ALLOC, 0, 0);
	/* Nothing was stored, and the local still works. */
	CHECK(ct_local_get(&l) == NULL);
	CHECK_OK(ct_local_set(&l, "y"));
	CHECK_STR(ct_local_get(&l), "y");
	ct_local_destroy(&l);
	return rc;
}

MISUSE(set_null_local, CT_EINVAL, "invalid argument", set_null_local())
MISUSE(set_without_memory, CT_ENOMEM, "out of memory", set_without_memory())

static atomic_int destroyed;
static atomic_long destroyed_sum;

static void count_dtor(void *value)
{
	atomic_fetch_add(&destroyed, 1);
	atomic_fetch_add(&destroyed_sum, (long)(intptr_t)value);
}

static ct_local_t counted = CT_LOCAL_INIT(count_dtor);

TEST(get_set_in_one_thread)
{
	CHECK(ct_local_get(&counted) == NULL);
	CHECK_OK(ct_local_set(&counted, (void *)(intptr_t)5));
	CHECK(ct_local_get(&counted) == (void *)(intptr_t)5);
	/* Replacing a value does not destroy the old one (documented). */
	CHECK_OK(ct_local_set(&counted, (void *)(intptr_t)6));
	CHECK_EQ(atomic_load(&destroyed), 0);
	CHECK(ct_local_get(&counted) == (void *)(intptr_t)6);
}

struct per_thread {
	int id;
	atomic_int seen_other;
	ct_event_t *go;
};

static int set_own(void *arg)
{
	struct per_thread *p = arg;
	if (ct_local_get(&counted) != NULL)
		atomic_store(&p->seen_other, 1);
	CHECK_OK(ct_local_set(&counted, (void *)(intptr_t)p->id));
	/* Wait until every thread has set its own, then check ours. */
	CHECK_OK(ct_event_wait(p->go, CT_FOREVER));
	if (ct_local_get(&counted) != (void *)(intptr_t)p->id)
		atomic_store(&p->seen_other, 1);
	return 0;
}

TEST(one_value_per_thread_destroyed_at_exit)
{
	enum { N = 4 };
	ct_event_t go = CT_EVENT_INIT;
	struct per_thread p[N];
	ct_thread_t *t[N];
	CHECK_OK(ct_local_set(&counted, (void *)(intptr_t)1000));
	for (int i = 0; i < N; i++) {
		p[i] = (struct per_thread){.id = i + 1, .go = &go};
		t[i] = sh_start(set_own, &p[i]);
	}
	ct_event_set(&go);
	for (int i = 0; i < N; i++) {
		sh_join(t[i]); /* destructors have run when join returns */
		CHECK(!atomic_load(&p[i].seen_other));
	}
	CHECK_EQ(atomic_load(&destroyed), N);
	CHECK_EQ(atomic_load(&destroyed_sum), 1 + 2 + 3 + 4);
	CHECK(ct_local_get(&counted) == (void *)(intptr_t)1000);
}

TEST(destroy_runs_callers_destructor)
{
	ct_local_t l;
	ct_local_init(&l, count_dtor);
	CHECK_OK(ct_local_set(&l, (void *)(intptr_t)7));
	ct_local_destroy(&l);
	CHECK_EQ(atomic_load(&destroyed), 1);
	CHECK_EQ(atomic_load(&destroyed_sum), 7);
	/* Usable again after init. */
	ct_local_init(&l, NULL);
	CHECK(ct_local_get(&l) == NULL);
	CHECK_OK(ct_local_set(&l, "again"));
	CHECK_STR(ct_local_get(&l), "again");
	ct_local_destroy(&l);
	/* No destructor for NULL values. */
	ct_local_init(&l, count_dtor);
	CHECK_OK(ct_local_set(&l, NULL));
	ct_local_destroy(&l);
	CHECK_EQ(atomic_load(&destroyed), 1);
}

struct holder {
	ct_local_t *local;
	ct_event_t set, leave;
};

static int hold_value(void *arg)
{
	struct holder *h = arg;
	CHECK_OK(ct_local_set(h->local, (void *)(intptr_t)40));
	ct_event_set(&h->set);
	CHECK_OK(ct_event_wait(&h->leave, CT_FOREVER));
	/* The local was destroyed (and its slot maybe reused) meanwhile: our
	 * old value is stale and reads as NULL. */
	CHECK(ct_local_get(h->local) == NULL);
	return 0;
}

/* Destroying a local does not reach into other threads: their values are
 * destroyed when they end, and they read NULL meanwhile, even when a new
 * local took the same slot. */
TEST(destroy_leaves_others_until_they_end)
{
	ct_local_t l = CT_LOCAL_INIT(count_dtor);
	struct holder h = {.local = &l, .set = CT_EVENT_INIT, .leave = CT_EVENT_INIT};
	ct_thread_t *t = sh_start(hold_value, &h);
	CHECK_OK(ct_event_wait(&h.set, CT_FOREVER));
	ct_local_destroy(&l);
	CHECK_EQ(atomic_load(&destroyed), 0);
	ct_local_init(&l, NULL);
	CHECK_OK(ct_local_set(&l, "new")); /* likely the same slot */
	ct_event_set(&h.leave);
	sh_join(t);
	CHECK_EQ(atomic_load(&destroyed), 1);
	CHECK_EQ(atomic_load(&destroyed_sum), 40);
	ct_local_destroy(&l);
}

TEST(many_locals)
{
	enum { N = 100 };
	static ct_local_t ls[N];
	for (int i = 0; i < N; i++)
		ct_local_init(&ls[i], NULL);
	for (int i = 0; i < N; i++)
		CHECK_OK(ct_local_set(&ls[i], (void *)(intptr_t)(i + 1)));
	for (int i = 0; i < N; i++)
		CHECK(ct_local_get(&ls[i]) == (void *)(intptr_t)(i + 1));
	for (int i = 0; i < N; i++)
		ct_local_destroy(&ls[i]);
}

/* A destructor may set another local; that one is destroyed too. */
static ct_local_t second = CT_LOCAL_INIT(count_dtor);

static void sets_another(void *value)
{
	count_dtor(value);
	ct_local_set(&second, (void *)(intptr_t)100);
}

static ct_local_t first = CT_LOCAL_INIT(sets_another);

static int set_first(void *arg)
{
	(void)arg;
	return ct_local_set(&first, (void *)(intptr_t)1);
}

TEST(destructor_setting_another_local)
{
	sh_join(sh_start(set_first, NULL));
	CHECK_EQ(atomic_load(&destroyed), 2);
	CHECK_EQ(atomic_load(&destroyed_sum), 101);
}

TEST(main_thread_values_destroyed_at_exit)
{
	char *out;
	const char *argv[] = {CT_TEST_PROGRAMS "/local_main_exit", "thread", NULL};
	CHECK_EQ(ht_run(argv, &out, NULL), 0);
	CHECK_STR(out, "destroyed worker\nmain returns\ndestroyed main\n");
	free(out);
	/* The same without any other thread ever started. */
	const char *argv_alone[] = {CT_TEST_PROGRAMS "/local_main_exit", NULL};
	CHECK_EQ(ht_run(argv_alone, &out, NULL), 0);
	CHECK_STR(out, "main returns\ndestroyed main\n");
	free(out);
	/* Another thread, one the library never met, ends the process: the
	 * main thread did not end, its values stay. */
	const char *argv_foreign[] = {CT_TEST_PROGRAMS "/local_main_exit", "thread", "foreign",
				      NULL};
	CHECK_EQ(ht_run(argv_foreign, &out, NULL), 0);
	CHECK_STR(out, "destroyed worker\nforeign exits\n");
	free(out);
	/* The same before any thread was started (no exit rule yet). */
	const char *argv_foreign_alone[] = {CT_TEST_PROGRAMS "/local_main_exit", "foreign", NULL};
	CHECK_EQ(ht_run(argv_foreign_alone, &out, NULL), 0);
	CHECK_STR(out, "foreign exits\n");
	free(out);
}

/* Every slot taken: a set fails with CT_ENOMEM and stores nothing; a
 * destroyed local gives its slot back. */
TEST(slots_run_out)
{
	enum { MAX = 5000 };
	static ct_local_t ls[MAX];
	int n = 0;
	int rc = 0;
	for (; n < MAX; n++) {
		ct_local_init(&ls[n], NULL);
		rc = ct_local_set(&ls[n], &ls[n]);
		if (rc != 0)
			break;
	}
	CHECK_RC(rc, CT_ENOMEM);
	/* 4096 slots, a few perhaps taken by the library itself. */
	CHECK(n > 4000);
	CHECK(n <= 4096);
	CHECK(ct_local_get(&ls[n]) == NULL);
	ct_local_destroy(&ls[n]);
	ct_local_destroy(&ls[0]);
	CHECK_OK(ct_local_set(&ls[n], "again"));
	CHECK_STR(ct_local_get(&ls[n]), "again");
	for (int i = 1; i <= n; i++)
		ct_local_destroy(&ls[i]);
}

/* Destroying a local no thread ever set does nothing. */
TEST(destroy_unused_local)
{
	ct_local_t l = CT_LOCAL_INIT(count_dtor);
	ct_local_destroy(&l);
	CHECK_EQ(atomic_load(&destroyed), 0);
	CHECK_OK(ct_local_set(&l, (void *)(intptr_t)7));
	ct_local_destroy(&l);
	CHECK_EQ(atomic_load(&destroyed), 1);
	CHECK_EQ(atomic_load(&destroyed_sum), 7);
}

/* A destructor that sets its own local again: POSIX's bound, four
 * rounds, then the thread's table is dropped. */
static ct_local_t forever;
static atomic_int forever_rounds;

static void sets_itself(void *value)
{
	atomic_fetch_add(&forever_rounds, 1);
	ct_local_set(&forever, value);
}

static int set_forever(void *arg)
{
	(void)arg;
	return ct_local_set(&forever, "again");
}

TEST(destructor_setting_itself_runs_four_rounds)
{
	ct_local_init(&forever, sets_itself);
	sh_join(sh_start(set_forever, NULL));
	CHECK_EQ(atomic_load(&forever_rounds), 4);
}

/* A local destroyed while another thread still holds a value for it:
 * the next local in that slot finds the stale value when that thread
 * sets it, and destroys it then with the old destructor; the destroying
 * thread's own stale entry is left alone. */
static ct_local_t old_local = CT_LOCAL_INIT(count_dtor);
static ct_local_t new_local = CT_LOCAL_INIT(count_dtor);
static ct_event_t old_set, may_set_new;

static int keep_old_value(void *arg)
{
	(void)arg;
	CHECK_OK(ct_local_set(&old_local, (void *)(intptr_t)2));
	ct_event_set(&old_set);
	CHECK_OK(ct_event_wait(&may_set_new, CT_FOREVER));
	CHECK(ct_local_get(&new_local) == NULL);
	return ct_local_set(&new_local, (void *)(intptr_t)30);
}

TEST(stale_value_destroyed_when_its_slot_is_reused)
{
	ct_event_init(&old_set);
	ct_event_init(&may_set_new);
	CHECK_OK(ct_local_set(&old_local, (void *)(intptr_t)1));
	uint32_t slot = atomic_load(&old_local.ct__slot);
	ct_thread_t *t = sh_start(keep_old_value, NULL);
	CHECK_OK(ct_event_wait(&old_set, CT_FOREVER));
	ct_local_destroy(&old_local); /* ours only: 1 */
	CHECK_EQ(atomic_load(&destroyed), 1);
	ct_event_set(&may_set_new);
	sh_join(t); /* its stale 2 when it set the new local, its 30 at exit */
	CHECK_EQ(atomic_load(&new_local.ct__slot), slot);
	CHECK_EQ(atomic_load(&destroyed), 3);
	CHECK_EQ(atomic_load(&destroyed_sum), 33);
	/* Our entry in the slot is the old local's: not the new one's. */
	CHECK(ct_local_get(&new_local) == NULL);
	ct_local_destroy(&new_local);
	CHECK_EQ(atomic_load(&destroyed), 3);
}

/* The same with a local that has no destructor: its stale value is
 * dropped silently when the slot's next local is set. */
static ct_local_t plain_old = CT_LOCAL_INIT(NULL);
static ct_local_t plain_new = CT_LOCAL_INIT(count_dtor);
static ct_event_t plain_set, may_set_plain;

static int keep_plain_value(void *arg)
{
	(void)arg;
	CHECK_OK(ct_local_set(&plain_old, "stale"));
	ct_event_set(&plain_set);
	CHECK_OK(ct_event_wait(&may_set_plain, CT_FOREVER));
	CHECK_OK(ct_local_set(&plain_new, (void *)(intptr_t)5));
	CHECK(ct_local_get(&plain_new) == (void *)(intptr_t)5);
	return 0;
}

TEST(stale_value_without_destructor_dropped)
{
	ct_event_init(&plain_set);
	ct_event_init(&may_set_plain);
	ct_thread_t *t = sh_start(keep_plain_value, NULL);
	CHECK_OK(ct_event_wait(&plain_set, CT_FOREVER));
	uint32_t slot = atomic_load(&plain_old.ct__slot);
	ct_local_destroy(&plain_old);
	ct_event_set(&may_set_plain);
	sh_join(t); /* only its 5, at exit */
	CHECK_EQ(atomic_load(&plain_new.ct__slot), slot);
	CHECK_EQ(atomic_load(&destroyed), 1);
	CHECK_EQ(atomic_load(&destroyed_sum), 5);
	ct_local_destroy(&plain_new);
}
