/* Reader-writer lock: shares, exclusion, writer preference without reader
 * starvation, timeouts, stop requests and a consistency stress. */
#include "sync_helpers.h"

static int read_release_unlocked(void)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	return ct_rwlock_read_release(&rw);
}

static int write_release_unlocked(void)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	return ct_rwlock_write_release(&rw);
}

static int write_release_while_reading(void)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_rwlock_read_acquire(&rw);
	return ct_rwlock_write_release(&rw);
}

static int read_release_while_writing(void)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_rwlock_write_acquire(&rw);
	return ct_rwlock_read_release(&rw);
}

static int timeout_nan(void)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	return ct_rwlock_read_acquire_timeout(&rw, 0.0 / 0.0);
}

static int timeout_too_large(void)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	return ct_rwlock_write_acquire_timeout(&rw, CT_TIMEOUT_MAX * 2);
}

MISUSE(read_release_unlocked, CT_EUNLOCKED, "release unlocked lock", read_release_unlocked())
MISUSE(write_release_unlocked, CT_EUNLOCKED, "release unlocked lock", write_release_unlocked())
MISUSE(write_release_while_reading, CT_EUNLOCKED, "release unlocked lock",
       write_release_while_reading())
MISUSE(read_release_while_writing, CT_EUNLOCKED, "release unlocked lock",
       read_release_while_writing())
MISUSE(timeout_nan, CT_EINVAL, "invalid argument", timeout_nan())
MISUSE(timeout_too_large, CT_ETOOLARGE, "timeout value is too large", timeout_too_large())

TEST(shares_and_exclusion)
{
	static ct_rwlock_t rw = CT_RWLOCK_INIT;
	CHECK(sizeof(ct_rwlock_t) == 8);
	ct_rwlock_read_acquire(&rw);
	CHECK(ct_rwlock_read_try_acquire(&rw));
	CHECK_EQ(ct_rwlock_readers(&rw), 2);
	CHECK(!ct_rwlock_write_try_acquire(&rw));
	CHECK_RC(ct_rwlock_write_acquire_timeout(&rw, 0), CT_ETIMEDOUT);
	CHECK_OK(ct_rwlock_read_release(&rw));
	CHECK_OK(ct_rwlock_read_release(&rw));
	CHECK(ct_rwlock_write_try_acquire(&rw));
	CHECK(ct_rwlock_write_locked(&rw));
	CHECK(!ct_rwlock_read_try_acquire(&rw));
	CHECK(!ct_rwlock_write_try_acquire(&rw));
	CHECK_RC(ct_rwlock_read_acquire_timeout(&rw, 0), CT_ETIMEDOUT);
	CHECK_OK(ct_rwlock_write_release(&rw));
	CHECK_OK(ct_rwlock_write_acquire_timeout(&rw, 0));
	CHECK_OK(ct_rwlock_write_release(&rw));
	CHECK_OK(ct_rwlock_read_acquire_timeout(&rw, 0));
	CHECK_OK(ct_rwlock_read_release(&rw));
	CHECK_EQ(atomic_load(&rw.ct__state), 0);

	ct_rwlock_t dyn;
	ct_rwlock_init(&dyn);
	CT_WITH_READ_LOCK(&dyn)
	{
		CHECK_EQ(ct_rwlock_readers(&dyn), 1);
	}
	CT_WITH_WRITE_LOCK(&dyn)
	{
		CHECK(ct_rwlock_write_locked(&dyn));
	}
	CHECK_EQ(atomic_load(&dyn.ct__state), 0);
	ct_rwlock_destroy(&dyn);
}

TEST(timeouts_not_early)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_rwlock_read_acquire(&rw);
	double t0 = ht_now();
	CHECK_RC(ct_rwlock_write_acquire_timeout(&rw, 0.05), CT_ETIMEDOUT);
	SH_CHECK_NOT_EARLY(t0, 0.05);
	/* The writer that gave up let readers in again. */
	CHECK(ct_rwlock_read_try_acquire(&rw));
	CHECK_OK(ct_rwlock_read_release(&rw));
	CHECK_OK(ct_rwlock_read_release(&rw));

	ct_rwlock_write_acquire(&rw);
	t0 = ht_now();
	CHECK_RC(ct_rwlock_read_acquire_timeout(&rw, 0.05), CT_ETIMEDOUT);
	SH_CHECK_NOT_EARLY(t0, 0.05);
	CHECK_OK(ct_rwlock_write_release(&rw));
	CHECK_EQ(atomic_load(&rw.ct__state), 0);
}

struct job {
	ct_rwlock_t *rw;
	double timeout;
	bool write;
	atomic_int rc;
	atomic_int done;
};

static int job(void *arg)
{
	struct job *j = arg;
	int rc = j->write ? ct_rwlock_write_acquire_timeout(j->rw, j->timeout)
			  : ct_rwlock_read_acquire_timeout(j->rw, j->timeout);
	atomic_store(&j->rc, rc);
	atomic_store(&j->done, 1);
	if (rc == 0)
		CHECK_OK(j->write ? ct_rwlock_write_release(j->rw) : ct_rwlock_read_release(j->rw));
	return 0;
}

/* A waiting writer stops new readers; the writer gets in once the readers
 * inside have left. */
TEST(writer_not_starved_by_readers)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_rwlock_read_acquire(&rw);
	struct job w = {.rw = &rw, .timeout = CT_FOREVER, .write = true};
	ct_thread_t *tw = sh_start(job, &w);
	ht_wait_parked(tw); /* parked waiting for our read share */
	CHECK(ct_rwlock_write_locked(&rw));
	CHECK(!ct_rwlock_read_try_acquire(&rw));
	struct job r = {.rw = &rw, .timeout = CT_FOREVER};
	ct_thread_t *tr = sh_start(job, &r);
	ht_wait_parked(tr);
	CHECK(!atomic_load(&w.done) && !atomic_load(&r.done));
	CHECK_OK(ct_rwlock_read_release(&rw));
	sh_join(tw);
	sh_join(tr);
	CHECK_OK(atomic_load(&w.rc));
	CHECK_OK(atomic_load(&r.rc));
	CHECK_EQ(atomic_load(&rw.ct__state), 0);
}

/* A writer's release admits every parked reader before the next writer. */
TEST(readers_not_starved_by_writers)
{
	enum { READERS = 3 };
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_rwlock_write_acquire(&rw);
	struct job r[READERS];
	ct_thread_t *tr[READERS];
	for (int i = 0; i < READERS; i++) {
		r[i] = (struct job){.rw = &rw, .timeout = CT_FOREVER};
		tr[i] = sh_start(job, &r[i]);
		ht_wait_parked(tr[i]);
	}
	struct job w = {.rw = &rw, .timeout = CT_FOREVER, .write = true};
	ct_thread_t *tw = sh_start(job, &w);
	ht_wait_parked(tw); /* queued on the writers' Lock behind us */
	/* Our release hands the lock to the three readers at once: the
	 * queued writer must wait for them. */
	CHECK_OK(ct_rwlock_write_release(&rw));
	for (int i = 0; i < READERS; i++) {
		sh_join(tr[i]);
		CHECK_OK(atomic_load(&r[i].rc));
	}
	sh_join(tw);
	CHECK_OK(atomic_load(&w.rc));
	CHECK_EQ(atomic_load(&rw.ct__state), 0);
}

/* A handed-over share is counted before any writer can get in: check it
 * directly, with the readers holding on until we look. */
struct holder {
	ct_rwlock_t *rw;
	ct_latch_t *in;
	ct_event_t *leave;
};

static int hold_read(void *arg)
{
	struct holder *h = arg;
	ct_rwlock_read_acquire(h->rw);
	CHECK_OK(ct_latch_count_down(h->in, 1));
	CHECK_OK(ct_event_wait(h->leave, CT_FOREVER));
	CHECK_OK(ct_rwlock_read_release(h->rw));
	return 0;
}

TEST(release_admits_all_parked_readers)
{
	enum { READERS = 3 };
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_latch_t in = CT_LATCH_INIT(READERS);
	ct_event_t leave = CT_EVENT_INIT;
	struct holder h = {&rw, &in, &leave};
	ct_rwlock_write_acquire(&rw);
	ct_thread_t *t[READERS];
	for (int i = 0; i < READERS; i++) {
		t[i] = sh_start(hold_read, &h);
		ht_wait_parked(t[i]);
	}
	CHECK_OK(ct_rwlock_write_release(&rw));
	CHECK_OK(ct_latch_wait(&in, CT_FOREVER));
	CHECK_EQ(ct_rwlock_readers(&rw), READERS);
	CHECK(!ct_rwlock_write_try_acquire(&rw));
	ct_event_set(&leave);
	for (int i = 0; i < READERS; i++)
		sh_join(t[i]);
	CHECK_EQ(atomic_load(&rw.ct__state), 0);
}

TEST(stop_interrupts_waits)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_rwlock_write_acquire(&rw);
	struct job r = {.rw = &rw, .timeout = CT_FOREVER};
	ct_thread_release(ht_stop_when_parked(job, &r));
	CHECK_RC(atomic_load(&r.rc), CT_ESTOPPED);
	CHECK_OK(ct_rwlock_write_release(&rw));
	CHECK_EQ(atomic_load(&rw.ct__state), 0);

	/* A writer stopped while waiting for readers leaves the lock open to
	 * readers again. */
	ct_rwlock_read_acquire(&rw);
	struct job w = {.rw = &rw, .timeout = CT_FOREVER, .write = true};
	ct_thread_t *tw = sh_start(job, &w);
	ht_wait_parked(tw);
	CHECK(!ct_rwlock_read_try_acquire(&rw));
	CHECK_OK(ct_thread_request_stop(tw));
	sh_join(tw);
	CHECK_RC(atomic_load(&w.rc), CT_ESTOPPED);
	CHECK(ct_rwlock_read_try_acquire(&rw));
	CHECK_OK(ct_rwlock_read_release(&rw));
	CHECK_OK(ct_rwlock_read_release(&rw));
	CHECK_EQ(atomic_load(&rw.ct__state), 0);
}

/* Readers parked behind a writer that gives up waiting for the readers
 * inside are let in. */
TEST(writer_timeout_admits_parked_readers)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_rwlock_read_acquire(&rw);
	struct job w = {.rw = &rw, .timeout = 0.2, .write = true};
	ct_thread_t *tw = sh_start(job, &w);
	/* The writer waits for our share; on a slow machine its 0.2 s may
	 * be over before we look (then the reader below simply gets in). */
	while (!ct_rwlock_write_locked(&rw) && !atomic_load(&w.done))
		sched_yield();
	struct job r = {.rw = &rw, .timeout = CT_FOREVER};
	ct_thread_t *tr = sh_start(job, &r);
	while (!ht_is_parked(tr) && !atomic_load(&r.done))
		sched_yield();
	sh_join(tw);
	CHECK_RC(atomic_load(&w.rc), CT_ETIMEDOUT);
	sh_join(tr);
	CHECK_OK(atomic_load(&r.rc));
	CHECK_OK(ct_rwlock_read_release(&rw));
	CHECK_EQ(atomic_load(&rw.ct__state), 0);
}

/* ---- stress ------------------------------------------------------------- */

/* Writers keep two counters equal (a then b); readers check they are equal
 * whenever they hold a share. Any overlap of a writer with anyone shows. */
struct table {
	ct_rwlock_t rw;
	long a, b;
	atomic_int readers_inside;
	atomic_int bad;
	long per_thread;
};

static int table_writer(void *arg)
{
	struct table *t = arg;
	for (long i = 0; i < t->per_thread; i++) {
		if (i % 7 == 3) {
			if (ct_rwlock_write_acquire_timeout(&t->rw, 0.00005) != 0)
				continue;
		} else {
			ct_rwlock_write_acquire(&t->rw);
		}
		if (atomic_load(&t->readers_inside) != 0)
			atomic_store(&t->bad, 1);
		t->a++;
		t->b++;
		CHECK_OK(ct_rwlock_write_release(&t->rw));
	}
	return 0;
}

static int table_reader(void *arg)
{
	struct table *t = arg;
	for (long i = 0; i < t->per_thread; i++) {
		if (i % 5 == 2) {
			if (ct_rwlock_read_acquire_timeout(&t->rw, 0.00005) != 0)
				continue;
		} else {
			ct_rwlock_read_acquire(&t->rw);
		}
		atomic_fetch_add(&t->readers_inside, 1);
		if (t->a != t->b)
			atomic_store(&t->bad, 1);
		atomic_fetch_sub(&t->readers_inside, 1);
		CHECK_OK(ct_rwlock_read_release(&t->rw));
	}
	return 0;
}

TEST(stress_readers_and_writers)
{
	struct table t = {.rw = CT_RWLOCK_INIT, .per_thread = ht_slowed() ? 20000 : 200000};
	ct_thread_t *th[4];
	th[0] = sh_start(table_writer, &t);
	th[1] = sh_start(table_reader, &t);
	th[2] = sh_start(table_writer, &t);
	th[3] = sh_start(table_reader, &t);
	for (int i = 0; i < 4; i++)
		sh_join(th[i]);
	CHECK(!atomic_load(&t.bad));
	CHECK_EQ(t.a, t.b);
	CHECK(t.a >= 2 * t.per_thread * 6 / 7);
	CHECK_EQ(atomic_load(&t.rw.ct__state), 0);
}

/* A writer waiting for the readers to leave has set WRITER, but does not
 * hold the lock: a write release meanwhile is a release of an unlocked
 * lock, and leaves the writer waiting. */
static int write_then_release(void *arg)
{
	ct_rwlock_t *rw = arg;
	ct_rwlock_write_acquire(rw);
	return ct_rwlock_write_release(rw);
}

TEST(write_release_while_a_writer_waits_for_readers)
{
	ct_rwlock_t rw = CT_RWLOCK_INIT;
	ct_rwlock_read_acquire(&rw);
	ct_thread_t *t = sh_start(write_then_release, &rw);
	while (!(atomic_load(&rw.ct__state) & CT__RW_WRITER))
		CHECK_OK(ct_sleep(0));
	CHECK_RC(ct_rwlock_write_release(&rw), CT_EUNLOCKED);
	CHECK(atomic_load(&rw.ct__state) & CT__RW_WRITER);
	CHECK_OK(ct_rwlock_read_release(&rw));
	sh_join(t);
	CHECK_EQ(atomic_load(&rw.ct__state), 0);
}
