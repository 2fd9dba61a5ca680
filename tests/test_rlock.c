/* RLock: reentrance, ownership, misuse, timeouts, stop requests, the
 * scoped form and a lost-update stress with nested acquisitions. */
#include "sync_helpers.h"

static int release_free(void)
{
	ct_rlock_t r = CT_RLOCK_INIT;
	return ct_rlock_release(&r);
}

static int release_too_often(void)
{
	ct_rlock_t r = CT_RLOCK_INIT;
	ct_rlock_acquire(&r);
	ct_rlock_acquire(&r);
	CHECK_OK(ct_rlock_release(&r));
	CHECK_OK(ct_rlock_release(&r));
	return ct_rlock_release(&r);
}

struct other {
	ct_rlock_t *r;
	atomic_int rc;
	double timeout;
};

static int release_foreign(void *arg)
{
	struct other *o = arg;
	atomic_store(&o->rc, ct_rlock_release(o->r));
	return 0;
}

static int release_by_non_owner(void)
{
	ct_rlock_t r = CT_RLOCK_INIT;
	ct_rlock_acquire(&r);
	struct other o = {.r = &r};
	sh_join(sh_start(release_foreign, &o));
	CHECK(ct_rlock_is_owned(&r)); /* still ours */
	CHECK_OK(ct_rlock_release(&r));
	return atomic_load(&o.rc);
}

static int timeout_nan_when_owned(void)
{
	ct_rlock_t r = CT_RLOCK_INIT;
	ct_rlock_acquire(&r);
	return ct_rlock_acquire_timeout(&r, 0.0 / 0.0);
}

static int timeout_too_large(void)
{
	ct_rlock_t r = CT_RLOCK_INIT;
	return ct_rlock_acquire_timeout(&r, CT_TIMEOUT_MAX * 2);
}

MISUSE(release_free, CT_ENOTOWNER, "cannot release un-acquired lock", release_free())
MISUSE(release_too_often, CT_ENOTOWNER, "cannot release un-acquired lock", release_too_often())
MISUSE(release_by_non_owner, CT_ENOTOWNER, "cannot release un-acquired lock",
       release_by_non_owner())
MISUSE(timeout_nan_when_owned, CT_EINVAL, "invalid argument", timeout_nan_when_owned())
MISUSE(timeout_too_large, CT_ETOOLARGE, "timeout value is too large", timeout_too_large())

TEST(reentrant_depth)
{
	static ct_rlock_t r = CT_RLOCK_INIT;
	CHECK(!ct_rlock_locked(&r));
	CHECK(!ct_rlock_is_owned(&r));
	ct_rlock_acquire(&r);
	CHECK(ct_rlock_try_acquire(&r));
	CHECK_OK(ct_rlock_acquire_timeout(&r, 0));
	CHECK(ct_rlock_locked(&r) && ct_rlock_is_owned(&r));
	CHECK_OK(ct_rlock_release(&r));
	CHECK_OK(ct_rlock_release(&r));
	CHECK(ct_rlock_locked(&r));
	CHECK_OK(ct_rlock_release(&r));
	CHECK(!ct_rlock_locked(&r));

	ct_rlock_t d;
	ct_rlock_init(&d);
	CHECK(ct_rlock_try_acquire(&d));
	CHECK_OK(ct_rlock_release(&d));
	ct_rlock_destroy(&d);
}

static int try_other(void *arg)
{
	struct other *o = arg;
	if (ct_rlock_try_acquire(o->r)) {
		atomic_store(&o->rc, 1);
		ct_rlock_release(o->r);
		return 0;
	}
	double t0 = ht_now();
	int rc = ct_rlock_acquire_timeout(o->r, o->timeout);
	if (rc == CT_ETIMEDOUT)
		SH_CHECK_NOT_EARLY(t0, o->timeout);
	if (rc == 0)
		ct_rlock_release(o->r);
	atomic_store(&o->rc, rc);
	return 0;
}

TEST(others_wait_until_fully_released)
{
	ct_rlock_t r = CT_RLOCK_INIT;
	ct_rlock_acquire(&r);
	ct_rlock_acquire(&r);
	struct other o = {.r = &r, .timeout = 0.05};
	sh_join(sh_start(try_other, &o));
	CHECK_RC(atomic_load(&o.rc), CT_ETIMEDOUT);
	CHECK_OK(ct_rlock_release(&r));
	/* One level still held. */
	o.timeout = 0.01;
	sh_join(sh_start(try_other, &o));
	CHECK_RC(atomic_load(&o.rc), CT_ETIMEDOUT);
	CHECK_OK(ct_rlock_release(&r));
	sh_join(sh_start(try_other, &o));
	CHECK_EQ(atomic_load(&o.rc), 1);
}

static int timed_acquire(void *arg)
{
	struct other *o = arg;
	int rc = ct_rlock_acquire_timeout(o->r, o->timeout);
	if (rc == 0)
		CHECK_OK(ct_rlock_release(o->r));
	atomic_store(&o->rc, rc);
	return 0;
}

TEST(stop_interrupts_timed_acquire)
{
	ct_rlock_t r = CT_RLOCK_INIT;
	ct_rlock_acquire(&r);
	struct other o = {.r = &r, .timeout = CT_FOREVER, .rc = 1};
	ct_thread_release(ht_stop_when_parked(timed_acquire, &o));
	CHECK_RC(atomic_load(&o.rc), CT_ESTOPPED);
	CHECK(ct_rlock_is_owned(&r));
	CHECK_OK(ct_rlock_release(&r));
	CHECK_EQ(atomic_load(&r.ct__lock.ct__state), 0);
}

static int nested_with(ct_rlock_t *r)
{
	CT_WITH_RLOCK(r)
	{
		CT_WITH_RLOCK(r)
		{
			return 5;
		}
	}
	return 0;
}

TEST(scoped_form)
{
	ct_rlock_t r = CT_RLOCK_INIT;
	CT_WITH_RLOCK(&r)
	{
		CT_WITH_RLOCK(&r)
		{
			CHECK(ct_rlock_is_owned(&r));
		}
		CHECK(ct_rlock_is_owned(&r));
	}
	CHECK(!ct_rlock_locked(&r));
	CHECK_EQ(nested_with(&r), 5);
	CHECK(!ct_rlock_locked(&r));
}

struct counter {
	ct_rlock_t r;
	long value;
	long per_thread;
};

static int nested_increment(void *arg)
{
	struct counter *c = arg;
	for (long i = 0; i < c->per_thread; i++) {
		ct_rlock_acquire(&c->r);
		if (i & 1) {
			ct_rlock_acquire(&c->r); /* depth 2 */
			c->value++;
			CHECK_OK(ct_rlock_release(&c->r));
		} else {
			c->value++;
		}
		CHECK_OK(ct_rlock_release(&c->r));
	}
	return 0;
}

TEST(stress_no_lost_update)
{
	struct counter c = {.r = CT_RLOCK_INIT, .per_thread = ht_slowed() ? 100000 : 1000000};
	ct_thread_t *t[4];
	for (int i = 0; i < 4; i++)
		t[i] = sh_start(nested_increment, &c);
	for (int i = 0; i < 4; i++)
		sh_join(t[i]);
	CHECK_EQ(c.value, 4 * c.per_thread);
	CHECK(!ct_rlock_locked(&c.r));
	CHECK_EQ(atomic_load(&c.r.ct__lock.ct__state), 0);
}
