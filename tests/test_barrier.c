/* Barrier: Python's semantics (indices, the action once per round in the
 * last arrival, breaking by timeout, failing action, abort and reset), the
 * misuse table, stop requests and 1,000 reusable rounds. */
#include <pthread.h>
#include <sys/wait.h>

#include "cthreading/gil.h"
#include "cthreading/once.h"
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

/* ---- a round that cannot drain ------------------------------------------ */

/* A party woken by the last arrival needs its GIL back before it can
 * leave, and another thread holds that GIL without ever giving it up: the
 * round stays DRAINING for as long as the test wants. */
static ct_gil_t drain_gil = CT_GIL_INIT;
static ct_event_t gil_taken;
static atomic_int may_give_gil;

static int hold_gil(void *arg)
{
	(void)arg;
	ct_event_set(&gil_taken);
	while (!atomic_load(&may_give_gil)) /* never a checkpoint */
		sched_yield();
	return 0;
}

static int stopped_party(void *arg)
{
	struct party *p = arg;
	CHECK_OK(ct_thread_request_stop(ct_current_thread()));
	atomic_store(&p->rc, ct_barrier_wait(p->b, p->timeout));
	return 0;
}

static pid_t broken_child;

static void *fork_broken(void *arg)
{
	ct_barrier_t *b = arg;
	broken_child = fork();
	if (broken_child == 0)
		HT_CHILD_EXIT(ct_barrier_broken(b) && atomic_load(&b->ct__count) == 0 ? 0 : 1);
	return NULL;
}

TEST(stop_reset_abort_and_fork_while_the_round_drains)
{
	ct_barrier_t b = CT_BARRIER_INIT(2);
	ct_event_init(&gil_taken);
	struct party w = {.b = &b, .timeout = CT_FOREVER, .rc = -100};
	ct_thread_t *tw, *th;
	CHECK_OK(ct_thread_new(&tw, party, &w, &(ct_thread_opts){.gil = &drain_gil}));
	CHECK_OK(ct_thread_start(tw));
	while (ct_barrier_n_waiting(&b) != 1)
		sched_yield();
	CHECK_OK(ct_thread_new(&th, hold_gil, NULL, &(ct_thread_opts){.gil = &drain_gil}));
	CHECK_OK(ct_thread_start(th));
	CHECK_OK(ct_event_wait(&gil_taken, CT_FOREVER));
	CHECK_EQ(ct_barrier_wait(&b, CT_FOREVER), 1); /* the last arrival; w cannot leave */
	CHECK_EQ(atomic_load(&b.ct__state), 1);	      /* DRAINING */

	/* A stopped thread waiting for the round to drain gives up. */
	struct party s = {.b = &b, .timeout = CT_FOREVER, .rc = -100};
	sh_join(sh_start(stopped_party, &s));
	CHECK_RC(atomic_load(&s.rc), CT_ESTOPPED);
	/* A reset while it drains leaves it draining. */
	ct_barrier_reset(&b);
	CHECK_EQ(atomic_load(&b.ct__state), 1);
	CHECK(!ct_barrier_broken(&b));
	/* Broken, then reset with a party still inside: resetting until it
	 * has left. */
	ct_barrier_abort(&b);
	CHECK(ct_barrier_broken(&b));
	/* A fork child, where the party inside is gone: still broken, and
	 * nobody inside. Forked by a thread the library never met. */
	int status;
	pthread_t pt;
	CHECK_EQ(pthread_create(&pt, NULL, fork_broken, &b), 0);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	CHECK(broken_child > 0);
	CHECK_EQ(waitpid(broken_child, &status, 0), broken_child);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	ct_barrier_reset(&b);
	CHECK(!ct_barrier_broken(&b));
	CHECK_EQ(atomic_load(&b.ct__state), -1); /* RESETTING */
	/* A stopped thread waiting for the reset to complete gives up too. */
	s.rc = -100;
	sh_join(sh_start(stopped_party, &s));
	CHECK_RC(atomic_load(&s.rc), CT_ESTOPPED);

	atomic_store(&may_give_gil, 1);
	sh_join(th);
	sh_join(tw);
	CHECK_RC(atomic_load(&w.rc), CT_EBROKEN); /* its round was reset */
	CHECK_EQ(atomic_load(&b.ct__state), 0);	  /* FILLING */
	CHECK_EQ(atomic_load(&b.ct__count), 0);
}

/* ---- fork from the action ------------------------------------------------ */

/* The last arrival's action forks: in the child the forking thread is the
 * only party left in the round, and its wait completes it there. */
static pid_t action_child;

static int fork_in_action(void *arg)
{
	(void)arg;
	action_child = fork();
	return action_child < 0 ? 1 : 0;
}

/* The wait runs inside a ct_once() call, whose note the fork handlers
 * see beside the barrier's. */
struct once_wait {
	ct_barrier_t *b;
	int rc;
};

static int wait_once(void *arg)
{
	struct once_wait *w = arg;
	w->rc = ct_barrier_wait(w->b, CT_FOREVER);
	return 0;
}

static int not_again(void *arg)
{
	(void)arg;
	return 1;
}

TEST(fork_from_the_action)
{
	ct_barrier_t b;
	CHECK_OK(ct_barrier_init(&b, 2, fork_in_action, NULL, CT_FOREVER));
	/* Another barrier with a party inside: in the child, where that
	 * party is gone, it starts afresh. */
	ct_barrier_t other = CT_BARRIER_INIT(2);
	struct party p, q;
	ct_thread_t *t, *u;
	start_parties(&other, &q, &u, 1);
	start_parties(&b, &p, &t, 1);
	ct_once_t once = CT_ONCE_INIT;
	struct once_wait w = {.b = &b, .rc = -100};
	CHECK_OK(ct_once(&once, wait_once, &w));
	int rc = w.rc;
	if (action_child == 0) {
		bool ok = rc == 1 && ct_once(&once, not_again, NULL) == 0 &&
			  atomic_load(&b.ct__state) == 0 && atomic_load(&b.ct__count) == 0 &&
			  !ct_barrier_broken(&b) && ct_barrier_n_waiting(&other) == 0 &&
			  !ct_barrier_broken(&other);
		HT_CHILD_EXIT(ok ? 0 : 1);
	}
	CHECK_EQ(rc, 1);
	sh_join(t);
	CHECK_OK(atomic_load(&p.rc));
	CHECK_EQ(ct_barrier_wait(&other, CT_FOREVER), 1);
	sh_join(u);
	CHECK_OK(atomic_load(&q.rc));
	int status;
	CHECK_EQ(waitpid(action_child, &status, 0), action_child);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
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
