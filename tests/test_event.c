/* Event: Python's semantics, misuse, timeouts, stop requests, wake-all, no
 * system call when nobody waits, and a ping-pong stress. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "core/linux_abi.h"
#include "park/park.h"
#include "sync_helpers.h"

static int timeout_nan(void)
{
	ct_event_t e = CT_EVENT_INIT;
	return ct_event_wait(&e, 0.0 / 0.0);
}

static int timeout_too_large(void)
{
	ct_event_t e = CT_EVENT_INIT;
	return ct_event_wait(&e, CT_TIMEOUT_MAX * 2);
}

MISUSE(timeout_nan, CT_EINVAL, "invalid argument", timeout_nan())
MISUSE(timeout_too_large, CT_ETOOLARGE, "timeout value is too large", timeout_too_large())

TEST(set_clear_is_set)
{
	static ct_event_t e = CT_EVENT_INIT;
	CHECK(sizeof(ct_event_t) == 4);
	CHECK(!ct_event_is_set(&e));
	CHECK_RC(ct_event_wait(&e, 0), CT_ETIMEDOUT);
	ct_event_set(&e);
	CHECK(ct_event_is_set(&e));
	ct_event_set(&e); /* idempotent */
	CHECK_OK(ct_event_wait(&e, 0));
	CHECK_OK(ct_event_wait(&e, CT_FOREVER));
	ct_event_clear(&e);
	CHECK(!ct_event_is_set(&e));
	ct_event_clear(&e);
	CHECK_RC(ct_event_wait(&e, 0), CT_ETIMEDOUT);

	ct_event_t d;
	ct_event_init(&d);
	CHECK(!ct_event_is_set(&d));
	ct_event_destroy(&d);
}

TEST(timeout_not_early)
{
	ct_event_t e = CT_EVENT_INIT;
	double timeouts[] = {0.001, 0.02, 0.1};
	for (int i = 0; i < 3; i++) {
		double t0 = ht_now();
		CHECK_RC(ct_event_wait(&e, timeouts[i]), CT_ETIMEDOUT);
		SH_CHECK_NOT_EARLY(t0, timeouts[i]);
	}
	CHECK_EQ(atomic_load(&e.ct__state), 0); /* no stale parked bit */
}

struct waiter {
	ct_event_t *e;
	double timeout;
	atomic_int rc;
};

static int waiter(void *arg)
{
	struct waiter *w = arg;
	atomic_store(&w->rc, ct_event_wait(w->e, w->timeout));
	return 0;
}

TEST(set_wakes_every_waiter)
{
	enum { N = 5 };
	ct_event_t e = CT_EVENT_INIT;
	struct waiter w[N];
	ct_thread_t *t[N];
	for (int i = 0; i < N; i++) {
		w[i] = (struct waiter){.e = &e, .timeout = i % 2 ? CT_FOREVER : 60, .rc = 1};
		t[i] = sh_start(waiter, &w[i]);
	}
	for (int i = 0; i < N; i++)
		ht_wait_parked(t[i]);
	ct_event_set(&e);
	for (int i = 0; i < N; i++) {
		sh_join(t[i]);
		CHECK_OK(atomic_load(&w[i].rc));
	}
	CHECK_EQ(atomic_load(&e.ct__state) & 3u, CT__EVENT_SET); /* set, no stale parked bit */
}

/* A pulse (set, then clear at once): every thread waiting when set() ran
 * returns true (CPython's lock_tests EventTests.test_set_and_clear). A
 * waiter that re-checked the flag after waking would find it clear and
 * park again, forever for the CT_FOREVER ones. */
TEST(pulse_wakes_every_waiter)
{
	enum { N = 5, ROUNDS = 50 };
	for (int round = 0; round < ROUNDS; round++) {
		ct_event_t e = CT_EVENT_INIT;
		struct waiter w[N];
		ct_thread_t *t[N];
		for (int i = 0; i < N; i++) {
			w[i] = (struct waiter){
				.e = &e, .timeout = i % 2 ? CT_FOREVER : 60, .rc = 1};
			t[i] = sh_start(waiter, &w[i]);
		}
		/* Queued on the event itself: a thread could be parked
		 * elsewhere first (a lock inside its start), and one that begins
		 * waiting after the pulse rightly misses it. */
		while (ct__park_queued(&e) != N)
			sched_yield();
		ct_event_set(&e);
		ct_event_clear(&e);
		for (int i = 0; i < N; i++) {
			sh_join(t[i]);
			CHECK_OK(atomic_load(&w[i].rc));
		}
		CHECK(!ct_event_is_set(&e));
	}
}

TEST(stop_interrupts_wait)
{
	ct_event_t e = CT_EVENT_INIT;
	struct waiter w = {.e = &e, .timeout = CT_FOREVER, .rc = 1};
	ct_thread_release(ht_stop_when_parked(waiter, &w));
	CHECK_RC(atomic_load(&w.rc), CT_ESTOPPED);
	CHECK_EQ(atomic_load(&e.ct__state), 0);
}

/* "set() makes no system call when nobody waits": checked for real, in a
 * child whose futex calls trap (seccomp). Release-type calls of the other
 * word-based primitives with nobody waiting are checked alongside. */
static volatile sig_atomic_t futex_calls;

static void on_sigsys(int sig)
{
	(void)sig;
	futex_calls++;
}

/* The kernel's seccomp and classic-BPF ABI (include/uapi/linux/filter.h,
 * bpf_common.h and seccomp.h), declared here: musl's toolchain does not see
 * the kernel's headers, and this is all the test needs of them. */
struct trap_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct trap_prog {
	unsigned short len;
	struct trap_insn *filter;
};
#define TRAP_LD_W_ABS 0x20	   /* BPF_LD | BPF_W | BPF_ABS: load a word of seccomp_data */
#define TRAP_JEQ_K 0x15		   /* BPF_JMP | BPF_JEQ | BPF_K */
#define TRAP_RET_K 0x06		   /* BPF_RET | BPF_K */
#define TRAP_NR_OFFSET 0	   /* offsetof(struct seccomp_data, nr) */
#define TRAP_MODE_FILTER 2	   /* SECCOMP_MODE_FILTER */
#define TRAP_RET_TRAP 0x00030000u  /* SECCOMP_RET_TRAP: raise SIGSYS */
#define TRAP_RET_ALLOW 0x7fff0000u /* SECCOMP_RET_ALLOW */
#define TRAP_UNAVAILABLE 3

/* Makes every futex call of this process (the one the library makes)
 * raise SIGSYS, counted by on_sigsys instead. Exits TRAP_UNAVAILABLE where
 * seccomp filters are refused with EINVAL: a kernel without them, or
 * qemu-user, which never installs one (it would filter QEMU's own calls). */
static void trap_futex(void)
{
	struct trap_insn filter[] = {
		{TRAP_LD_W_ABS, 0, 0, TRAP_NR_OFFSET},
		{TRAP_JEQ_K, 0, 1, (uint32_t)CT__SYS_FUTEX},
		{TRAP_RET_K, 0, 0, TRAP_RET_TRAP},
		{TRAP_RET_K, 0, 0, TRAP_RET_ALLOW},
	};
	struct trap_prog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
	signal(SIGSYS, on_sigsys);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		_exit(4);
	if (prctl(PR_SET_SECCOMP, TRAP_MODE_FILTER, &prog) != 0)
		_exit(errno == EINVAL ? TRAP_UNAVAILABLE : 4);
}

TEST(no_syscall_without_waiters)
{
	ct_event_t e = CT_EVENT_INIT;
	ct_lock_t lock = CT_LOCK_INIT;
	ct_semaphore_t sem = CT_SEMAPHORE_INIT(0);
	ct_latch_t latch = CT_LATCH_INIT(1);
	/* A waiter that timed out leaves nothing behind that would make the
	 * next set() wake anyone. */
	CHECK_RC(ct_event_wait(&e, 0.001), CT_ETIMEDOUT);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		trap_futex();
		ct_event_set(&e);
		ct_event_clear(&e);
		ct_event_set(&e);
		ct_lock_acquire(&lock);
		ct_lock_release(&lock);
		ct_semaphore_release(&sem, 3);
		ct_semaphore_acquire(&sem, CT_FOREVER);
		ct_latch_count_down(&latch, 1);
		_exit(futex_calls == 0 ? 0 : 1);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	if (WEXITSTATUS(status) == TRAP_UNAVAILABLE)
		ht_skip("seccomp filters are refused here (EINVAL: qemu-user, or a kernel "
			"without them), so futex calls cannot be counted");
	CHECK_EQ(WEXITSTATUS(status), 0);
}

/* Two threads hand a turn back and forth through two events: no wake-up
 * may be lost (a lost one hangs the test, which the time limit reports). */
struct pingpong {
	ct_event_t ping, pong;
	long rounds;
};

static int ponger(void *arg)
{
	struct pingpong *p = arg;
	for (long i = 0; i < p->rounds; i++) {
		CHECK_OK(ct_event_wait(&p->ping, CT_FOREVER));
		ct_event_clear(&p->ping);
		ct_event_set(&p->pong);
	}
	return 0;
}

TEST(stress_pingpong)
{
	struct pingpong p = {.ping = CT_EVENT_INIT,
			     .pong = CT_EVENT_INIT,
			     .rounds = ht_slowed() ? 20000 : 200000};
	ct_thread_t *t = sh_start(ponger, &p);
	for (long i = 0; i < p.rounds; i++) {
		ct_event_set(&p.ping);
		CHECK_OK(ct_event_wait(&p.pong, CT_FOREVER));
		ct_event_clear(&p.pong);
	}
	sh_join(t);
	CHECK(!ct_event_is_set(&p.ping) && !ct_event_is_set(&p.pong));
}
