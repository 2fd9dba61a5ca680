/* The cthreading half of the differential test (tests/diff/diff.py): reads
 * operation sequences on stdin and prints, for each operation, what it
 * returned, in the words the CPython half prints for the same operation
 * (an exception's class name for an error). One object per sequence; the
 * sequences are separated by "---" lines, in the input and in the output.
 *
 *   obj queue|lifo|prio|simple MAXSIZE   put V, get, qsize, empty, full,
 *                                         task_done, shutdown I
 *   obj sem|bsem VALUE                    acquire, release N, value
 *   obj event 0                           set, clear, is_set, wait0
 *   obj barrier PARTIES                   wait0, abort, reset, broken,
 *                                         n_waiting, parties
 *   obj cond 0                            acquire0, release, notify N,
 *                                         notify_all
 *   obj future 0                          cancel, set_running, set_result V,
 *                                         set_exception, done, cancelled,
 *                                         running, result0
 *
 * Every operation is one that cannot block (nowait forms, timeouts of 0).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cthreading.h>

static int by_value(const void *a, const void *b)
{
	intptr_t x = (intptr_t)a, y = (intptr_t)b;
	return (x > y) - (x < y);
}

enum kind { NONE, QUEUE, SIMPLE, SEM, BSEM, EVENT, BARRIER, COND, FUTURE };

static struct {
	enum kind kind;
	ct_queue_t q;
	ct_simplequeue_t sq;
	ct_semaphore_t sem;
	ct_event_t ev;
	ct_barrier_t bar;
	ct_lock_t lock;
	ct_condition_t cond;
	ct_future_t *fut;
} o;

/* What Python raises for an error code of this operation. */
static const char *exc(int rc)
{
	switch (rc) {
	case CT_EFULL:
		return "Full";
	case CT_EEMPTY:
		return "Empty";
	case CT_ESHUTDOWN:
		return "ShutDown";
	case CT_EOVERRELEASE:
	case CT_ETASKDONE:
		return "ValueError";
	case CT_EUNLOCKED:
	case CT_ENOTIFYUNOWNED:
		return "RuntimeError";
	case CT_EBROKEN:
		return "BrokenBarrierError";
	case CT_ECANCELLED:
		return "CancelledError";
	case CT_ETIMEDOUT:
		return "TimeoutError";
	default:
		return ct_err_name(rc);
	}
}

static void print_rc(int rc)
{
	if (rc < 0)
		printf("%s\n", exc(rc));
	else
		printf("ok\n");
}

static void open_object(const char *kind, long arg)
{
	int rc = 0;
	memset(&o, 0, sizeof o);
	if (!strcmp(kind, "queue") || !strcmp(kind, "lifo") || !strcmp(kind, "prio")) {
		o.kind = QUEUE;
		ct_queue_opts opts = {.maxsize = arg};
		opts.kind = kind[0] == 'q'   ? CT_QUEUE_FIFO
			    : kind[0] == 'l' ? CT_QUEUE_LIFO
					     : CT_QUEUE_PRIORITY;
		opts.compare = by_value;
		rc = ct_queue_init(&o.q, &opts);
	} else if (!strcmp(kind, "simple")) {
		o.kind = SIMPLE;
		ct_simplequeue_init(&o.sq);
	} else if (!strcmp(kind, "sem")) {
		o.kind = SEM;
		rc = ct_semaphore_init(&o.sem, arg);
	} else if (!strcmp(kind, "bsem")) {
		o.kind = BSEM;
		rc = ct_bounded_semaphore_init(&o.sem, arg);
	} else if (!strcmp(kind, "event")) {
		o.kind = EVENT;
		ct_event_init(&o.ev);
	} else if (!strcmp(kind, "barrier")) {
		o.kind = BARRIER;
		rc = ct_barrier_init(&o.bar, (unsigned)arg, NULL, NULL, CT_FOREVER);
	} else if (!strcmp(kind, "cond")) {
		o.kind = COND;
		ct_lock_init(&o.lock);
		ct_condition_init(&o.cond, &o.lock);
	} else if (!strcmp(kind, "future")) {
		o.kind = FUTURE;
		rc = ct_future_new(&o.fut);
	}
	if (o.kind == NONE || rc < 0) {
		fprintf(stderr, "diff_runner: cannot make %s %ld: %s\n", kind, arg,
			ct_strerror(rc));
		exit(2);
	}
}

static void close_object(void)
{
	switch (o.kind) {
	case QUEUE:
		ct_queue_destroy(&o.q);
		break;
	case SIMPLE:
		ct_simplequeue_destroy(&o.sq);
		break;
	case COND:
		if (ct_lock_locked(&o.lock))
			ct_lock_release(&o.lock);
		ct_condition_destroy(&o.cond);
		break;
	case FUTURE:
		ct_future_release(o.fut);
		break;
	default:
		break;
	}
	o.kind = NONE;
}

static void print_item(int rc, void *item)
{
	if (rc < 0)
		printf("%s\n", exc(rc));
	else
		printf("%ld\n", (long)(intptr_t)item);
}

static bool queue_op(const char *op, long v)
{
	void *item = NULL;
	int rc;
	if (!strcmp(op, "put"))
		print_rc(ct_queue_put_nowait(&o.q, (void *)(intptr_t)v));
	else if (!strcmp(op, "get"))
		rc = ct_queue_get_nowait(&o.q, &item), print_item(rc, item);
	else if (!strcmp(op, "qsize"))
		printf("%zu\n", ct_queue_qsize(&o.q));
	else if (!strcmp(op, "empty"))
		printf("%d\n", ct_queue_empty(&o.q));
	else if (!strcmp(op, "full"))
		printf("%d\n", ct_queue_full(&o.q));
	else if (!strcmp(op, "task_done"))
		print_rc(ct_queue_task_done(&o.q));
	else if (!strcmp(op, "shutdown"))
		ct_queue_shutdown(&o.q, v != 0), printf("ok\n");
	else
		return false;
	return true;
}

static bool simple_op(const char *op, long v)
{
	void *item = NULL;
	int rc;
	if (!strcmp(op, "put"))
		print_rc(ct_simplequeue_put_nowait(&o.sq, (void *)(intptr_t)v));
	else if (!strcmp(op, "get"))
		rc = ct_simplequeue_get_nowait(&o.sq, &item), print_item(rc, item);
	else if (!strcmp(op, "qsize"))
		printf("%zu\n", ct_simplequeue_qsize(&o.sq));
	else if (!strcmp(op, "empty"))
		printf("%d\n", ct_simplequeue_empty(&o.sq));
	else
		return false;
	return true;
}

static bool sem_op(const char *op, long v)
{
	if (!strcmp(op, "acquire"))
		printf("%d\n", ct_semaphore_acquire(&o.sem, 0) == 0);
	else if (!strcmp(op, "release"))
		print_rc(o.kind == BSEM ? ct_bounded_semaphore_release(&o.sem, (unsigned)v)
					: ct_semaphore_release(&o.sem, (unsigned)v));
	else if (!strcmp(op, "value"))
		printf("%u\n", ct_semaphore_value(&o.sem));
	else
		return false;
	return true;
}

static bool event_op(const char *op)
{
	if (!strcmp(op, "set"))
		ct_event_set(&o.ev), printf("ok\n");
	else if (!strcmp(op, "clear"))
		ct_event_clear(&o.ev), printf("ok\n");
	else if (!strcmp(op, "is_set"))
		printf("%d\n", ct_event_is_set(&o.ev));
	else if (!strcmp(op, "wait0"))
		printf("%d\n", ct_event_wait(&o.ev, 0) == 0);
	else
		return false;
	return true;
}

static bool barrier_op(const char *op)
{
	if (!strcmp(op, "wait0")) {
		int rc = ct_barrier_wait(&o.bar, 0);
		/* The one wait that timed out says so (barrier.h); Python raises
		 * BrokenBarrierError for it as for the others. */
		if (rc == CT_ETIMEDOUT)
			rc = CT_EBROKEN;
		if (rc < 0)
			printf("%s\n", exc(rc));
		else
			printf("%d\n", rc);
	} else if (!strcmp(op, "abort"))
		ct_barrier_abort(&o.bar), printf("ok\n");
	else if (!strcmp(op, "reset"))
		ct_barrier_reset(&o.bar), printf("ok\n");
	else if (!strcmp(op, "broken"))
		printf("%d\n", ct_barrier_broken(&o.bar));
	else if (!strcmp(op, "n_waiting"))
		printf("%u\n", ct_barrier_n_waiting(&o.bar));
	else if (!strcmp(op, "parties"))
		printf("%u\n", ct_barrier_parties(&o.bar));
	else
		return false;
	return true;
}

static bool cond_op(const char *op, long v)
{
	if (!strcmp(op, "acquire0"))
		printf("%d\n", ct_condition_acquire_timeout(&o.cond, 0) == 0);
	else if (!strcmp(op, "release"))
		print_rc(ct_condition_release(&o.cond));
	else if (!strcmp(op, "notify"))
		print_rc(ct_condition_notify(&o.cond, (unsigned)v));
	else if (!strcmp(op, "notify_all"))
		print_rc(ct_condition_notify_all(&o.cond));
	else
		return false;
	return true;
}

static bool future_op(const char *op, long v)
{
	if (!strcmp(op, "cancel"))
		printf("%d\n", ct_future_cancel(o.fut));
	else if (!strcmp(op, "set_running")) {
		int rc = ct_future_set_running_or_notify_cancel(o.fut);
		if (rc == CT_EFUTURESTATE)
			printf("RuntimeError\n");
		else
			printf("%d\n", rc);
	} else if (!strcmp(op, "set_result") || !strcmp(op, "set_exception")) {
		int rc = op[4] == 'r' ? ct_future_set_result(o.fut, (void *)(intptr_t)v)
				      : ct_future_set_exception(o.fut, CT_EAGAIN);
		printf("%s\n", rc == CT_EFUTURESTATE ? "InvalidStateError"
			       : rc < 0		     ? exc(rc)
						     : "ok");
	} else if (!strcmp(op, "done"))
		printf("%d\n", ct_future_done(o.fut));
	else if (!strcmp(op, "cancelled"))
		printf("%d\n", ct_future_cancelled(o.fut));
	else if (!strcmp(op, "running"))
		printf("%d\n", ct_future_running(o.fut));
	else if (!strcmp(op, "result0")) {
		void *res = NULL;
		int rc = ct_future_result(o.fut, 0, &res);
		if (rc == 0)
			printf("%ld\n", (long)(intptr_t)res);
		else if (rc == CT_ECANCELLED || rc == CT_ETIMEDOUT)
			printf("%s\n", exc(rc));
		else
			printf("Exception\n");
	} else
		return false;
	return true;
}

int main(void)
{
	char line[256];
	while (fgets(line, sizeof line, stdin)) {
		char a[32] = "", b[32] = "";
		long v = 0;
		int n = sscanf(line, "%31s %31s %ld", a, b, &v);
		if (n < 1)
			continue;
		if (!strcmp(a, "---")) {
			close_object();
			printf("---\n");
			continue;
		}
		if (!strcmp(a, "obj")) {
			open_object(b, v);
			continue;
		}
		v = strtol(b, NULL, 10);
		bool known = false;
		switch (o.kind) {
		case QUEUE:
			known = queue_op(a, v);
			break;
		case SIMPLE:
			known = simple_op(a, v);
			break;
		case SEM:
		case BSEM:
			known = sem_op(a, v);
			break;
		case EVENT:
			known = event_op(a);
			break;
		case BARRIER:
			known = barrier_op(a);
			break;
		case COND:
			known = cond_op(a, v);
			break;
		case FUTURE:
			known = future_op(a, v);
			break;
		case NONE:
			break;
		}
		if (!known) {
			fprintf(stderr, "diff_runner: unknown operation: %s", line);
			return 2;
		}
		fflush(stdout);
	}
	close_object();
	return 0;
}
