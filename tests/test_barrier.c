/* Barrier: Python's semantics (indices, the action once per round in the
 * last arrival, breaking by timeout, failing action, abort and reset), the
 * misuse table, stop requests and 1,000 reusable rounds. */
#include "sync_helpers.h"

static int init_zero_parties(void)
{
	ct_barrier_t b;
	return ct_barrier_init(&b, 0, NULL, NULL, CT_FOREVER);
}

static int init_nan_timeout(void)
{
	ct_barrier_t b;
	return ct_barrier_init(&b, 2, NULL, NULL, 0.0 / 0.0);
}

static int init_timeout_too_large(void)
{
	ct_barrier_t b;
	return ct_barrier_init(&b, 2, NULL, NULL, CT_TIMEOUT_MAX * 2);
}

static int wait_static_zero_parties(void)
{
	ct_barrier_t b = CT_BARRIER_INIT(0);
	return ct_barrier_wait(&b, 0);
}

static int wait_nan(void)
{
	ct_barrier_t b = CT_BARRIER_INIT(2);
	return ct_barrier_wait(&b, 0.0 / 0.0);
}

static int wait_broken(void)
{
	ct_barrier_t b = CT_BARRIER_INIT(2);
	ct_barrier_abort(&b);
	return ct_barrier_wait(&b, CT_FOREVER);
}

MISUSE(init_zero_parties, CT_EINVAL, "invalid argument", init_zero_parties())
MISUSE(init_nan_timeout, CT_EINVAL, "invalid argument", init_nan_timeout())
MISUSE(init_timeout_too_large, CT_ETOOLARGE, "timeout value is too large", init_timeout_too_large())
MISUSE(wait_static_zero_parties, CT_EINVAL, "invalid argument", wait_static_zero_parties())
MISUSE(wait_nan, CT_EINVAL, "invalid argument", wait_nan())
MISUSE(wait_broken, CT_EBROKEN,
       "broken: a barrier was reset, aborted or timed out, or a pool initializer failed",
       wait_broken())

struct party {
	ct_barrier_t *b;
	double timeout;
	atomic_int rc;
};

static int party(void *arg)
{
	struct party *p = arg;
	atomic_store(&p->rc, ct_barrier_wait(p->b, p->timeout));
	return 0;
}

/* Starts n parties waiting forever and returns once all are inside. */
static void start_parties(ct_barrier_t *b, struct party *p, ct_thread_t **t, int n)
{
	for (int i = 0; i < n; i++) {
		p[i] = (struct party){.b = b, .timeout = CT_FOREVER, .rc = -100};
		t[i] = sh_start(party, &p[i]);
	}
	while (ct_barrier_n_waiting(b) != (unsigned)n)
		sched_yield();
}

static ct_thread_t *action_thread;
static atomic_int action_runs;

static int record_action(void *arg)
{
	(void)arg;
	action_thread = ct_current_thread();
	atomic_fetch_add(&action_runs, 1);
	return 0;
}

static int party_record(void *arg)
{
	struct party *p = arg;
	int rc = ct_barrier_wait(p->b, p->timeout);
	atomic_store(&p->rc, rc);
	if (rc == 2)
		CHECK(action_thread == ct_current_thread());
	return 0;
}

TEST(indices_and_action_in_last_arrival)
{
	ct_barrier_t b;
	CHECK_OK(ct_barrier_init(&b, 3, record_action, NULL, CT_FOREVER));
	CHECK_EQ(ct_barrier_parties(&b), 3);
	CHECK_EQ(ct_barrier_n_waiting(&b), 0);
	CHECK(!ct_barrier_broken(&b));
	struct party p[2];
	ct_thread_t *t[2];
	for (int i = 0; i < 2; i++) {
		p[i] = (struct party){.b = &b, .timeout = CT_FOREVER, .rc = -100};
		t[i] = sh_start(party_record, &p[i]);
		while (ct_barrier_n_waiting(&b) != (unsigned)i + 1)
			sched_yield();
	}
	CHECK_EQ(atomic_load(&action_runs), 0);
	/* Arrivals 0 and 1 are in; we are the last: we run the action. */
	CHECK_EQ(ct_barrier_wait(&b, CT_FOREVER), 2);
	CHECK(action_thread == ct_current_thread());
	CHECK_EQ(atomic_load(&action_runs), 1);
	for (int i = 0; i < 2; i++)
		sh_join(t[i]);
	CHECK_EQ(atomic_load(&p[0].rc), 0);
	CHECK_EQ(atomic_load(&p[1].rc), 1);
	CHECK_EQ(ct_barrier_n_waiting(&b), 0);
	ct_barrier_destroy(&b);
}

TEST(one_party_passes_at_once)
{
	static ct_barrier_t b = CT_BARRIER_INIT(1);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(ct_barrier_wait(&b, 0), 0);
}

TEST(timeout_breaks_it_and_reset_repairs_it)
{
	ct_barrier_t b = CT_BARRIER_INIT(2);
	double t0 = ht_now();
	CHECK_RC(ct_barrier_wait(&b, 0.05), CT_ETIMEDOUT);
	SH_CHECK_NOT_EARLY(t0, 0.05);
	CHECK(ct_barrier_broken(&b));
	CHECK_EQ(ct_barrier_n_waiting(&b), 0);
	CHECK_RC(ct_barrier_wait(&b, 0), CT_EBROKEN);
	ct_barrier_reset(&b);
	CHECK(!ct_barrier_broken(&b));
	/* Usable again: a full round goes through. */
	struct party p = {.b = &b, .timeout = CT_FOREVER, .rc = -100};
	ct_thread_t *t = sh_start(party, &p);
	int mine = ct_barrier_wait(&b, CT_FOREVER);
	sh_join(t);
	CHECK_EQ(mine + atomic_load(&p.rc), 1);
}

TEST(default_timeout_applies)
{
	ct_barrier_t b = CT_BARRIER_INIT_ACTION(2, NULL, NULL, 0.03);
	double t0 = ht_now();
	CHECK_RC(ct_barrier_wait(&b, CT_BARRIER_DEFAULT), CT_ETIMEDOUT);
	SH_CHECK_NOT_EARLY(t0, 0.03);
	CHECK(ct_barrier_broken(&b));
}

TEST(timeout_zero_breaks_unless_last)
{
	ct_barrier_t b = CT_BARRIER_INIT(2);
	CHECK_RC(ct_barrier_wait(&b, 0), CT_ETIMEDOUT);
	CHECK(ct_barrier_broken(&b));
}

/* The others waiting when a party times out get CT_EBROKEN. */
TEST(others_see_it_broken_by_a_timeout)
{
	ct_barrier_t b = CT_BARRIER_INIT(3);
	struct party p;
	ct_thread_t *t;
	start_parties(&b, &p, &t, 1);
	CHECK_RC(ct_barrier_wait(&b, 0.01), CT_ETIMEDOUT);
	sh_join(t);
	CHECK_RC(atomic_load(&p.rc), CT_EBROKEN);
}

static int failing_action(void *arg)
{
	(void)arg;
	return -1;
}

TEST(failing_action_breaks_it)
{
	ct_barrier_t b;
	CHECK_OK(ct_barrier_init(&b, 2, failing_action, NULL, CT_FOREVER));
	struct party p;
	ct_thread_t *t;
	start_parties(&b, &p, &t, 1);
	CHECK_RC(ct_barrier_wait(&b, CT_FOREVER), CT_EBROKEN);
	sh_join(t);
	CHECK_RC(atomic_load(&p.rc), CT_EBROKEN);
	CHECK(ct_barrier_broken(&b));
}

TEST(abort_breaks_waiters)
{
	ct_barrier_t b = CT_BARRIER_INIT(3);
	struct party p[2];
	ct_thread_t *t[2];
	start_parties(&b, p, t, 2);
	ct_barrier_abort(&b);
	for (int i = 0; i < 2; i++) {
		sh_join(t[i]);
		CHECK_RC(atomic_load(&p[i].rc), CT_EBROKEN);
	}
	CHECK(ct_barrier_broken(&b));
	CHECK_RC(ct_barrier_wait(&b, CT_FOREVER), CT_EBROKEN);
}

/* Python: a reset while threads wait breaks their round with
 * BrokenBarrierError; once they have left, the barrier works again. */
TEST(reset_while_waiting)
{
	ct_barrier_t b = CT_BARRIER_INIT(3);
	struct party p[2];
	ct_thread_t *t[2];
	start_parties(&b, p, t, 2);
	ct_barrier_reset(&b);
	for (int i = 0; i < 2; i++) {
		sh_join(t[i]);
		CHECK_RC(atomic_load(&p[i].rc), CT_EBROKEN);
	}
	CHECK(!ct_barrier_broken(&b));
	CHECK_EQ(ct_barrier_n_waiting(&b), 0);
	start_parties(&b, p, t, 2);
	int mine = ct_barrier_wait(&b, CT_FOREVER);
	for (int i = 0; i < 2; i++)
		sh_join(t[i]);
	CHECK_EQ(mine + atomic_load(&p[0].rc) + atomic_load(&p[1].rc), 0 + 1 + 2);
}

TEST(stop_interrupts_and_breaks)
{
	ct_barrier_t b = CT_BARRIER_INIT(2);
	struct party p;
	ct_thread_t *t;
	start_parties(&b, &p, &t, 1);
	ht_wait_parked(t);
	CHECK_OK(ct_thread_request_stop(t));
	sh_join(t);
	CHECK_RC(atomic_load(&p.rc), CT_ESTOPPED);
	CHECK(ct_barrier_broken(&b));
}

/* ---- many rounds -------------------------------------------------------- */

struct rounds {
	ct_barrier_t b;
	int rounds;
	atomic_int action_runs;
	atomic_int bad;
	atomic_long index_sum;
};

static int count_round(void *arg)
{
	struct rounds *r = arg;
	atomic_fetch_add(&r->action_runs, 1);
	return 0;
}

static int rounds_party(void *arg)
{
	struct rounds *r = arg;
	for (int k = 0; k < r->rounds; k++) {
		int idx = ct_barrier_wait(&r->b, CT_FOREVER);
		if (idx < 0 || idx >= 4) {
			atomic_store(&r->bad, 1);
			return 0;
		}
		/* The action of round k ran before anyone left round k. */
		if (atomic_load(&r->action_runs) < k + 1)
			atomic_store(&r->bad, 1);
		atomic_fetch_add(&r->index_sum, idx);
	}
	return 0;
}

TEST(action_once_per_round_for_1000_rounds)
{
	enum { PARTIES = 4 };
	struct rounds r = {.rounds = 1000};
	CHECK_OK(ct_barrier_init(&r.b, PARTIES, count_round, &r, CT_FOREVER));
	ct_thread_t *t[PARTIES];
	for (int i = 0; i < PARTIES; i++)
		t[i] = sh_start(rounds_party, &r);
	for (int i = 0; i < PARTIES; i++)
		sh_join(t[i]);
	CHECK(!atomic_load(&r.bad));
	CHECK_EQ(atomic_load(&r.action_runs), r.rounds);
	/* Each round hands out the indices 0..3 exactly once. */
	CHECK_EQ(atomic_load(&r.index_sum), (long)r.rounds * (0 + 1 + 2 + 3));
	CHECK(!ct_barrier_broken(&r.b));
	CHECK_EQ(ct_barrier_n_waiting(&r.b), 0);
}
